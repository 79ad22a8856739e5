"""NumPy reference path: the formulas written out with whole-array operations.

Same contract as ``_kernels``: unscaled sums over samples, no L2, gradient of
length d + 1 with the intercept last, ``sample_weight=None`` meaning ones.
This is the "two BLAS passes plus n-sized temporaries" computation that the
fused kernels are tested against; it favours clarity over speed.  X may also
be a scipy.sparse CSR matrix: ``X @ w`` and ``X.T @ r`` are then sparse
products, and only ``hessian_sums`` needs its own line.
"""

from __future__ import annotations

import numpy as np

from ._validation import is_sparse


def _weights(sample_weight, n):
    return np.ones(n) if sample_weight is None else sample_weight.astype(np.float64)


def _margins(X, w, b):
    """z = X w + b, with the product in X's precision (as BLAS would do it)."""
    return (X @ w.astype(X.dtype)).astype(np.float64) + b


def expit(z):
    """σ(z) = 1 / (1 + e^{−z}), evaluated without overflow."""
    t = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + t), t / (1.0 + t))


def curvature(z):
    """σ(z)(1 − σ(z)) = e^{−|z|} / (1 + e^{−|z|})², exact in both tails."""
    t = np.exp(-np.abs(z))
    return t / (1.0 + t) ** 2


def loss_gradient_sums(X, y, sample_weight, w, b, want_loss=True, want_grad=True):
    n = X.shape[0]
    s = _weights(sample_weight, n)
    y = y.astype(np.float64)
    z = _margins(X, w, b)
    # ℓ = softplus(z) − y z, arranged as max(z,0) − y z + log1p(e^{−|z|}) to avoid cancellation
    loss = float(s @ (np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z))))) if want_loss else 0.0
    r = s * (expit(z) - y)
    grad = np.empty(X.shape[1] + 1)
    grad[:-1] = X.T @ r.astype(X.dtype) if want_grad else 0.0
    grad[-1] = r.sum()
    return loss, grad


def hessp_sums(X, sample_weight, w, b, v, vb):
    s = _weights(sample_weight, X.shape[0])
    q = s * curvature(_margins(X, w, b)) * _margins(X, v, vb)
    out = np.empty(X.shape[1] + 1)
    out[:-1] = X.T @ q.astype(X.dtype)
    out[-1] = q.sum()
    return out


def hessian_sums(X, sample_weight, w, b):
    s = _weights(sample_weight, X.shape[0])
    h = s * curvature(_margins(X, w, b))
    if is_sparse(X):  # the same product with a sparse X̃; ``*`` would be a matrix product there
        from scipy import sparse

        Xt = sparse.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))], format="csr")
        return (Xt.T @ Xt.multiply(h[:, None])).toarray()
    Xt = np.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))])
    return Xt.T @ (h[:, None] * Xt)
