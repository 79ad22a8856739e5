"""``precompile()``: build the common kernels ahead of their first use."""

from __future__ import annotations

import time
import warnings

import numpy as np


def precompile(*, sparse=True, many=True):
    """Compile (or load from the on-disk cache) the kernels that common calls use; returns seconds taken.

    Covers ``LogisticLoss`` (loss, gradient, hessp, hessian) and ``fit`` with
    every solver on float64 and float32 dense X, with and without sample
    weights and intercept; with ``sparse``, the same on CSR X; with ``many``,
    ``fit_many``.  Each is run once on a tiny problem, so the first call on
    real data pays no compile.  Useful before timing, and in a process that
    forks workers.
    """
    from . import fit, fit_many
    from .objective import LogisticLoss

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    X64 = rng.standard_normal((64, 3))
    y = (rng.random(64) < 0.5).astype(np.float64)
    weights = rng.uniform(0.5, 1.5, 64)
    inputs = [X64, X64.astype(np.float32)]
    if sparse:
        import scipy.sparse as sp

        inputs += [sp.csr_matrix(X, dtype=X.dtype) for X in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for X in inputs:
            for sample_weight in (None, weights):
                for fit_intercept in (True, False):
                    objective = LogisticLoss(X, y, sample_weight=sample_weight, fit_intercept=fit_intercept)
                    coef = np.zeros(objective.n_coef)
                    objective.loss_gradient(coef)
                    objective.gradient(coef)
                    objective.hessp(coef, coef)
                    objective.hessian(coef)
                    for solver in ("newton", "newton-cg", "lbfgs"):
                        fit(X, y, sample_weight=sample_weight, fit_intercept=fit_intercept, solver=solver)
            if many and not hasattr(X, "tocsr"):
                for sample_weight in (None, weights):
                    fit_many(X, y, np.arange(64) % 2, sample_weight=sample_weight, l2=1e-3)
    return time.perf_counter() - start
