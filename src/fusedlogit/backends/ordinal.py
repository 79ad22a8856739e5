"""The ordinal (proportional-odds) model's sums over samples on each kind of data.

Levels k_i ∈ 0..K−1, margins η_i = x_i·w + o_i, thresholds θ (K − 1,)
increasing, P(y ≤ k) = σ(θ_k − η) (the formulas: ``kernels.ordinal``)::

    loss_gradient(data, w, θ)        -> (Σ s_i ℓ_i, [Xᵀ r, threshold sums])              (d + K − 1,)
    hessp(data, w, θ, v, φ)          -> the Hessian's sums times (v, φ)                   (d + K − 1,)
    hessian(data, w, θ, cols)        -> over [w_cols, θ]                                  (m + K − 1)²

(unscaled, no penalty).  ``KINDS`` maps a backend's ``kind`` to the class that
computes them there: the fused kernels of ``kernels.ordinal`` on dense and CSR
X, or the NumPy formulas (``level_terms``, ``level_curvatures``, written here
over whole arrays); the Hessian is formed the same way on every kind.
"""

from __future__ import annotations

import numpy as np

from .._threads import blas_limits, launch
from .._validation import as_class_labels
from .base import as_ndarray, expit

#: The labels are level codes 0..K−1, with the level count K.
CLASS_LABELS = True


def labels(y, n, dtype, n_classes=None):
    """(level codes (n,) int64, K): integer levels 0..K−1 (soft labels are refused)."""
    codes, soft, K = as_class_labels(y, n, dtype, n_classes)
    if soft.shape[0]:
        raise ValueError("y: the ordinal model takes integer levels 0..K-1 (one column), not soft labels")
    return codes, K


# -- the per-row formulas over whole arrays (float64) -----------------------------------------------


def _bounds(eta, codes, theta):
    """(u, l, has_u, has_l): u = θ_k − η, l = θ_{k−1} − η per row (0 where the bound does not exist)."""
    last = theta.shape[0]
    has_u, has_l = codes < last, codes > 0
    padded = np.concatenate([[0.0], theta, [0.0]])  # padded[k + 1] = θ_k
    u = np.where(has_u, padded[codes + 1] - eta, 0.0)
    l = np.where(has_l, padded[codes] - eta, 0.0)
    return u, l, has_u, has_l


def _gap_terms(codes, theta):
    """(1 − e^{−δ}, e^{−δ}) per row, δ = θ_k − θ_{k−1}; (1, 0) for the first and last levels (one bound)."""
    inner = (codes > 0) & (codes < theta.shape[0])
    gaps = np.diff(theta)[codes[inner] - 1]  # θ_k − θ_{k−1}
    rest, small = np.ones(codes.shape[0]), np.zeros(codes.shape[0])
    rest[inner], small[inner] = -np.expm1(-gaps), np.exp(-gaps)
    return rest, small


def level_terms(eta, codes, theta, want_loss=True):
    """(ℓ, a, c) per row: the loss and its derivatives in u and l (0 for a missing bound)."""
    u, l, has_u, has_l = _bounds(eta, codes, theta)
    rest, small = _gap_terms(codes, theta)
    ratio = small / rest
    a = np.where(has_u, -expit(-u), 0.0) - ratio
    c = np.where(has_l, expit(l), 0.0) + ratio
    loss = None
    if want_loss:
        loss = np.where(has_u, np.logaddexp(0.0, -u), 0.0) + np.where(has_l, np.logaddexp(0.0, l), 0.0) - np.log(rest)
    return loss, a, c


def level_curvatures(eta, codes, theta):
    """(∂²ℓ/∂u², ∂²ℓ/∂l², ∂²ℓ/∂u∂l) per row (0 for a missing bound)."""
    u, l, has_u, has_l = _bounds(eta, codes, theta)
    rest, small = _gap_terms(codes, theta)
    q = small / (rest * rest)
    huu = np.where(has_u, expit(u) * expit(-u), 0.0) + q
    hll = np.where(has_l, expit(l) * expit(-l), 0.0) + q
    return huu, hll, -q


def _threshold_sums(codes, upper, lower, T):
    """Σ_{k_i = t} upper_i + Σ_{k_i = t + 1} lower_i for t = 0..T−1 (upper at the last level and lower at the
    first are 0)."""
    return (np.bincount(codes, upper, minlength=T + 1)[:T] + np.bincount(codes, lower, minlength=T + 1)[1:])


def level_probabilities(eta, theta):
    """P (n, K): P(y = k) = σ(u) σ(−l) (1 − e^{−δ}) at margins η (float64), each level's share without
    cancellation (the first and last levels: σ(θ_0 − η) and σ(η − θ_{K−2}))."""
    K = theta.shape[0] + 1
    P = np.empty((eta.shape[0], K))
    for k in range(K):
        p = expit(theta[k] - eta) if k < K - 1 else np.ones_like(eta)
        if k > 0:
            p = p * expit(eta - theta[k - 1])
            if k < K - 1:
                p = p * -np.expm1(-(theta[k] - theta[k - 1]))
        P[:, k] = p
    return P


def probabilities(data, w, theta):
    """P (n, K) for the rows held (``level_probabilities``)."""
    return level_probabilities(np.asarray(data.margins(w, 0.0), dtype=np.float64), theta)


def all_saturated(data, w, theta):
    """Every positive-weight row's level predicted with probability > 1 − σ(−SATURATED_MARGIN)."""
    from ..kernels.pointwise import SATURATED_MARGIN

    codes = np.asarray(data.y)
    P = probabilities(data, w, theta)
    correct = P[np.arange(len(codes)), codes] > 1.0 - expit(-SATURATED_MARGIN)
    keep = data.positive_weight()
    return bool(np.all(correct if keep is None else correct[np.asarray(keep)]))


def hessian(data, w, theta, cols=None):
    """[[Xᵀ diag(s h_ηη) X, Xᵀ M], [Mᵀ X, H_θθ]] over the columns ``cols`` (all by default) and θ, in row blocks
    (float64): h_ηη = σ'(u) + σ'(l), M[i, k_i] = −s_i σ'(u_i), M[i, k_i − 1] = −s_i σ'(l_i), H_θθ tridiagonal."""
    d = w.shape[0]
    cols = np.arange(d) if cols is None else np.asarray(cols, dtype=np.int64)
    m, T = cols.size, theta.shape[0]
    H = np.zeros((m + T, m + T))
    with blas_limits(data.n_threads):
        for start, Xb in data.row_blocks():
            rows = slice(start, start + Xb.shape[0])
            codes = np.asarray(data.y[rows])
            s = np.ones(codes.shape[0])
            if data.sample_weight is not None:
                s = np.asarray(data.sample_weight[rows], np.float64)
            eta = np.asarray(Xb @ w.astype(Xb.dtype), dtype=np.float64)
            if data.offset is not None:
                eta = eta + data.offset[rows]
            huu, hll, hul = level_curvatures(eta, codes, theta)
            Xc = Xb[:, cols]
            A = data.augmented_rows(Xc, np.sqrt(s * (huu + hll + 2.0 * hul)))
            H[:m, :m] += as_ndarray(A.T @ A)[:m, :m]
            last = codes < T
            M = np.zeros((codes.shape[0], T))
            M[np.flatnonzero(last), codes[last]] = -s[last] * (huu[last] + hul[last])
            first = codes > 0
            M[np.flatnonzero(first), codes[first] - 1] += -s[first] * (hll[first] + hul[first])
            cross = as_ndarray(Xc.T @ M)
            H[:m, m:] += cross
            H[m:, :m] += cross.T
            H[m + np.arange(T), m + np.arange(T)] += _threshold_sums(codes, s * huu, s * hll, T)
            inner = first & last
            off = np.bincount(codes[inner] - 1, s[inner] * hul[inner], minlength=T)[: T - 1]  # (t + 1, t)
            H[m + np.arange(1, T), m + np.arange(T - 1)] += off
            H[m + np.arange(T - 1), m + np.arange(1, T)] += off
    return H


class Dense:
    """C-contiguous X: the fused dense kernels of ``kernels.ordinal``."""

    hessian = staticmethod(hessian)

    @staticmethod
    def loss_gradient(data, w, theta, want_loss, want_grad):
        from ..kernels import ordinal

        args = (data.X, data.y, data.sample_weight, data.offset, w, theta, want_loss, want_grad)
        return launch(ordinal.ordinal_loss_gradient_sums, data.n_threads, *args)

    @staticmethod
    def hessp(data, w, theta, v, phi):
        from ..kernels import ordinal

        args = (data.X, data.y, data.sample_weight, data.offset, w, theta, v, phi)
        return launch(ordinal.ordinal_hessp_sums, data.n_threads, *args)


class Csr:
    """Canonical CSR X: the fused CSR kernels of ``kernels.ordinal``."""

    hessian = staticmethod(hessian)

    @staticmethod
    def loss_gradient(data, w, theta, want_loss, want_grad):
        from ..kernels import ordinal

        args = data.csr_arrays() + (data.y, data.sample_weight, data.offset, w, theta, want_loss, want_grad)
        return launch(ordinal.csr_ordinal_loss_gradient_sums, data.n_threads, *args)

    @staticmethod
    def hessp(data, w, theta, v, phi):
        from ..kernels import ordinal

        args = data.csr_arrays() + (data.y, data.sample_weight, data.offset, w, theta, v, phi)
        return launch(ordinal.csr_ordinal_hessp_sums, data.n_threads, *args)


class Reference:
    """The formulas with whole-array NumPy operations (dense or sparse X), under ``blas_limits``."""

    hessian = staticmethod(hessian)

    @staticmethod
    def loss_gradient(data, w, theta, want_loss, want_grad):
        with blas_limits(data.n_threads):
            s = data.weights64()
            codes = data.y
            loss, a, c = level_terms(data.margins64(w, 0.0), codes, theta, want_loss)
            grad = np.zeros(w.shape[0] + theta.shape[0])
            if want_grad:
                grad[: w.shape[0]] = data.transposed_times(-s * (a + c))[:-1]
            grad[w.shape[0] :] = _threshold_sums(codes, s * a, s * c, theta.shape[0])
            return (float(s @ loss) if want_loss else 0.0), grad

    @staticmethod
    def hessp(data, w, theta, v, phi):
        with blas_limits(data.n_threads):
            s = data.weights64()
            codes = data.y
            huu, hll, hul = level_curvatures(data.margins64(w, 0.0), codes, theta)
            move = data.products64(v, 0.0)
            padded = np.concatenate([[0.0], phi, [0.0]])
            du = padded[codes + 1] - move  # φ_k − x·v (φ_{K−1} = 0: its curvature is 0 anyway)
            dl = padded[codes] - move
            gu, gl = huu * du + hul * dl, hul * du + hll * dl
            out = np.empty(w.shape[0] + theta.shape[0])
            out[: w.shape[0]] = data.transposed_times(-s * (gu + gl))[:-1]
            out[w.shape[0] :] = _threshold_sums(codes, s * gu, s * gl, theta.shape[0])
            return out


#: backend kind -> the class that computes the sums there
KINDS = {"dense": Dense, "csr": Csr, "reference": Reference}
