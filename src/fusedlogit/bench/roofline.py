"""The read roofline: ``read_sum``, one plain pass over X, and the data every kernel is timed on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import prange

from .._config import pjit
from ..kernels.chunks import partition


@pjit
def read_sum(X):
    """Σ_ij X_ij: one plain pass over a C-contiguous X, the read roofline.

    Rows are split with the kernels' own ``partition(n)``; each chunk is one
    contiguous slice of memory summed by ``ndarray.sum``, which LLVM
    vectorises with several independent accumulators, so the pass is limited
    by memory bandwidth.  (A hand-written scalar loop here ran at ~5 GB/s
    against ~34 GB/s for this on a 2-core EPYC VM: latency-bound, not a roofline.)
    The sum is accumulated in X's dtype: its value is never used, only the read.
    """
    n, d = X.shape
    flat = X.reshape(n * d)
    n_chunks, chunk = partition(n)
    partial = np.zeros(n_chunks)
    for c in prange(n_chunks):
        partial[c] = flat[c * chunk * d : min(n, (c + 1) * chunk) * d].sum()
    return partial.sum()


# --------------------------------------------------------------------------- problems and methods


@dataclass
class KernelProblem:
    """Data for timing one call: X (n, d), labels y, coef = [w, b] and direction v."""

    X: np.ndarray
    y: np.ndarray
    coef: np.ndarray
    v: np.ndarray

    @property
    def key(self):
        n, d = self.X.shape
        return n, d, self.X.dtype.name


def kernel_problem(n, d, dtype=np.float64, seed=0):
    """Standard-normal X drawn directly in ``dtype`` (no float64 copy: X may be GBs)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.dtype(dtype).type)
    coef = np.append(rng.standard_normal(d) / np.sqrt(d), 0.1)
    y = (rng.random(n) < 0.5).astype(dtype)
    v = rng.standard_normal(d + 1)
    return KernelProblem(X, y, coef, v)

