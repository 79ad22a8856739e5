"""Synthetic logistic-regression problems for tests, examples and benchmarks."""

from __future__ import annotations

import numpy as np

KINDS = ("well", "ill")


def make_problem(n_samples, n_features, *, kind="well", dtype=np.float64, seed=0):
    """Draw (X, y, coef_true, intercept_true) from a logistic model.

    kind="well": independent standard-normal features, margins of scale ~2.
    kind="ill":  the same signal seen through unscaled, correlated features:
    each column is an AR(1) mix of its neighbours (correlation 0.9), scaled by
    a factor spread log-uniformly over 1e-3..1e3 and shifted by an offset, so
    the Hessian's condition number is ~1e12 (where plain L-BFGS stalls).
    y is drawn from Bernoulli(σ(x·coef_true + intercept_true)).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    d = n_features
    Z = rng.standard_normal((n_samples, d))
    beta = rng.standard_normal(d) * (2.0 / np.sqrt(d))
    intercept = 0.25
    if kind == "well":
        X = Z
        coef = beta
    else:
        rho = 0.9
        for j in range(1, d):  # AR(1) across columns, unit variance
            Z[:, j] = rho * Z[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
        scale = np.logspace(-3, 3, d)
        rng.shuffle(scale)
        offset = rng.uniform(-2, 2, d) * scale
        X = Z * scale + offset
        coef = beta / scale  # same margins as the standardised problem
        intercept = intercept - offset @ coef
    margin = Z @ beta + 0.25
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-margin))).astype(np.float64)
    return np.ascontiguousarray(X, dtype=dtype), y, coef, float(intercept)
