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


def make_mixed_scale_problem(n_samples, n_features, *, n_numeric=10, levels=51, seed=0):
    """Draw (X, y) like business data: one-hot categories beside money-scale columns.

    The first n_features − n_numeric columns are 0/1 indicators of
    categoricals with ``levels`` levels each (the first level dropped, so the
    model stays identifiable; the last categorical may have fewer levels);
    the other ``n_numeric`` cycle through incomes (log-normal, medians 1e4 to
    1e6), ages (uniform 20–80), calendar years (2000–2025) and balances
    (normal, mean 5e5, sd 2e4).  Column scales then span six decades and
    several columns have |mean| ≫ sd, the case where first-order solvers
    stall without preconditioning.  y is Bernoulli(σ(margin)), the effects
    drawn so that the categories and the numeric columns each add margins of
    sd ~1 (the classes overlap, so the MLE exists even for n ~ 5 n_features).
    """
    rng = np.random.default_rng(seed)
    n_onehot = n_features - n_numeric
    if n_onehot < 0:
        raise ValueError(f"n_numeric = {n_numeric} > n_features = {n_features}")
    X = np.zeros((n_samples, n_features))
    margin = np.full(n_samples, -0.3)
    rows = np.arange(n_samples)
    n_categorical = -(-n_onehot // (levels - 1))
    for start in range(0, n_onehot, levels - 1):
        width = min(levels - 1, n_onehot - start)
        level = rng.integers(0, width + 1, n_samples)  # level 0 is the dropped reference
        hit = level > 0
        X[rows[hit], start + level[hit] - 1] = 1.0
        margin += np.r_[0.0, rng.standard_normal(width) / np.sqrt(n_categorical)][level]
    for k in range(n_numeric):
        kind = k % 4
        if kind == 0:
            column = np.exp(rng.normal(np.log(10.0 ** (4 + 2 * (k // 4) % 3)), 0.5, n_samples))
        elif kind == 1:
            column = rng.uniform(20.0, 80.0, n_samples)
        elif kind == 2:
            column = rng.integers(2000, 2026, n_samples).astype(np.float64)
        else:
            column = rng.normal(5e5, 2e4, n_samples)
        X[:, n_onehot + k] = column
        margin += rng.standard_normal() / np.sqrt(n_numeric) * (column - column.mean()) / column.std()
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-margin))).astype(np.float64)
    return X, y
