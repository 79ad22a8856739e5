"""The fused dense backend: C-contiguous X, one pass of the compiled row-block kernels per call.

The loss modules' ``Dense`` classes launch their kernels on ``n_threads``
Numba threads; where BLAS does the work (the Hessians) it runs under
``blas_limits(n_threads)`` (see ``_threads``).
"""

from __future__ import annotations

import numpy as np

from .._threads import launch
from .._validation import as_features, check_finite
from .base import ArrayBackend


class DenseBackend(ArrayBackend):
    """Dense float32/float64 X, copied to C order once if it is not already.

    Building one reads X once with ``kernels.dense.column_statistics``: that
    pass checks X for NaN and infinity (a NumPy check then names the first
    one) and measures the weighted column sums and sums of squares that the
    convergence test and the solvers' scaling ask for later, so they cost no
    pass of their own.
    """

    kind = "dense"

    @staticmethod
    def as_features(X):
        # a NumPy array is checked by the statistics pass of ``build``; other inputs (a DataFrame, whose
        # column names the error quotes) here
        return as_features(X, contiguous=True, finite=not isinstance(X, np.ndarray))

    @classmethod
    def build(cls, X, y, sample_weight, **options):
        backend = super().build(X, y, sample_weight, **options)
        if not np.isfinite(backend._statistics()[2]).all():
            check_finite("X", backend.X)
        return backend

    def subsample(self, step):
        from ..kernels import dense

        rows = np.empty(((self.X.shape[0] + step - 1) // step, self.X.shape[1]), dtype=self.X.dtype)
        launch(dense.every_kth_row, self.n_threads, self.X, step, rows)
        return self._build_like(rows, step)

    def _statistics(self):
        """``column_statistics`` of X under the current weights (made once per weight vector)."""
        cached = getattr(self, "_cached_statistics", None)
        if cached is None or cached[0] is not self.sample_weight:
            from ..kernels import dense

            cached = (self.sample_weight, launch(dense.column_statistics, self.n_threads, self.X, self.sample_weight))
            self._cached_statistics = cached
        return cached[1]

    @property
    def column_statistics_passes(self):
        """0 while the statistics of the current weights are kept (from ``build``), 1 after new weights."""
        cached = getattr(self, "_cached_statistics", None)
        return 0 if cached is not None and cached[0] is self.sample_weight else 1

    def column_sums(self):
        return self._statistics()[0].copy()

    def column_sum_squares(self):
        return self._statistics()[1].copy()
