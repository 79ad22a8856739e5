"""The multinomial model's sums over samples on each kind of data.

Labels Y (n, K) (one-hot of integer codes, or soft rows summing to 1),
margins Z = X Wᵀ + b, P = softmax(Z) by rows, R = s ⊙ (P − Y)::

    loss_gradient(data, W, b)    -> (Σ s_i (logsumexp(z_i) − Σ_k Y_ik z_ik), Rᵀ X̃)       (K, d + 1)
    hessp(data, W, b, V, vb)     -> Qᵀ X̃,  Q = s ⊙ P ⊙ (U − rowsum(P ⊙ U)),  U = X̃ Ṽᵀ     (K, d + 1)
    hessian(data, W, b, cols)    -> Σ_i s_i (diag(p_i) − p_i p_iᵀ) ⊗ x̃_i x̃_iᵀ, class-major

(unscaled, no penalty, intercept last in each class's row).  ``KINDS`` maps
a backend's ``kind`` to the class computing the sums there: the fused
kernels of ``kernels.softmax`` on dense and CSR X, or the NumPy formulas; the
Hessian is formed the same way on every kind (``hessian``), from the
probabilities of row blocks.
"""

from __future__ import annotations

import numpy as np

from .._threads import blas_limits, launch
from .._validation import as_class_labels
from .base import as_ndarray, expit

#: The labels are class codes (n,) or soft labels (n, K), with the class count K.
CLASS_LABELS = True


def labels(y, n, dtype, n_classes=None):
    """(codes (n,) or soft labels (n, K), K), validated (``_validation.as_class_labels``)."""
    codes, soft, K = as_class_labels(y, n, dtype, n_classes)
    return (soft if soft.shape[0] else codes), K


def class_labels(data):
    """(codes, soft) as the softmax kernels take them: one of them empty (Numba prunes only on None)."""
    if data.y.ndim == 1:
        return data.y, np.empty((0, data.n_classes), data.dtype)
    return np.empty(0, np.int64), data.y


def probabilities(data, W, b):
    """P (n, K) = softmax(X Wᵀ + b) by rows, float64."""
    return data.sums.probabilities_of(data, data.X, W, b)


def all_saturated(data, W, b):
    """Every positive-weight row's (hard) label predicted with p > 1 − σ(−SATURATED_MARGIN); False for soft labels."""
    from ..kernels.pointwise import SATURATED_MARGIN

    y = np.asarray(data.y)
    if y.ndim != 1:
        return False
    P = probabilities(data, W, b)
    correct = P[np.arange(len(y)), y] > 1.0 - expit(-SATURATED_MARGIN)
    keep = data.positive_weight()
    return bool(np.all(correct if keep is None else correct[np.asarray(keep)]))


def hessian(data, W, b, cols=None):
    """Block (k, l) is X̃ᵀ diag(s p_k) X̃ δ_kl − A_kᵀ A_l with A_k = diag(sqrt(s) p_k) X̃, formed in row
    blocks by BLAS (float64) from the blocks' probabilities; X̃ = [X[:, cols], 1] (m columns, all by
    default), shape (K(m + 1), K(m + 1)).

    Every A_kᵀ A_l of a block comes from one Gram matrix of [A_0 … A_{K−2}]
    (``gram``), a product large enough for BLAS to run near its peak.  The
    last class's blocks are not formed: each row of diag(p) − p pᵀ sums to
    0 (Σ_k p_k = 1), so H_{k,K−1} = −Σ_{l<K−1} H_{kl} and
    H_{K−1,K−1} = −Σ_{k<K−1} H_{k,K−1}, which saves 1 − (K−1)²/K² of the work.
    """
    K, d = W.shape
    width = (d if cols is None else len(cols)) + 1
    H = np.zeros((K * width, K * width))
    known = slice(0, (K - 1) * width)
    with blas_limits(data.n_threads):
        for start, Xb in data.row_blocks(2 * K):
            m = Xb.shape[0]
            P = data.sums.probabilities_of(data, Xb, W, b)[:, : K - 1]
            if cols is not None:
                Xb = Xb[:, cols]
            s = np.ones(m) if data.sample_weight is None else np.asarray(data.sample_weight[start : start + m], np.float64)
            H[known, known] -= gram(class_rows(data, Xb, np.sqrt(s)[:, None] * P))
            diagonal = class_rows(data, Xb, np.sqrt(s[:, None] * P))
            for k in range(K - 1):
                rows = slice(k * width, (k + 1) * width)
                H[rows, rows] += gram(diagonal[:, rows])
    last = slice((K - 1) * width, K * width)
    H[known, last] = -H[known, known].reshape((K - 1) * width, K - 1, width).sum(axis=1)
    H[last, known] = H[known, last].T
    H[last, last] = -H[known, last].reshape(K - 1, width, width).sum(axis=0)
    return H


def class_rows(data, Xb, scales):
    """[diag(scales[:, 0]) X̃_b, …, diag(scales[:, K−1]) X̃_b], (m, K·width) float64, dense or sparse like X_b."""
    if not isinstance(Xb, np.ndarray):
        from scipy import sparse

        return sparse.hstack([data.augmented_rows(Xb, scales[:, k]) for k in range(scales.shape[1])], format="csc")
    m, K = scales.shape
    out = np.empty((m, K, Xb.shape[1] + 1))
    np.multiply(scales[:, :, None], Xb[:, None, :], out=out[:, :, :-1])
    out[:, :, -1] = scales
    return out.reshape(m, -1)


def gram(A):
    """AᵀA (float64) of a dense or sparse block of rows."""
    return as_ndarray(A.T @ A)


class Dense:
    """C-contiguous X: the fused dense kernels of ``kernels.softmax``."""

    hessian = staticmethod(hessian)

    @staticmethod
    def loss_gradient(data, W, b, want_loss, want_grad):
        from ..kernels import softmax

        args = (data.X, *class_labels(data), data.sample_weight, W, b, want_loss, want_grad)
        loss, grad = launch(softmax.multinomial_loss_gradient_sums, data.n_threads, *args)
        return loss, grad.reshape(W.shape[0], -1)

    @staticmethod
    def hessp(data, W, b, V, vb):
        from ..kernels import softmax

        out = launch(softmax.multinomial_hessp_sums, data.n_threads, data.X, data.sample_weight, W, b, V, vb)
        return out.reshape(W.shape[0], -1)

    @staticmethod
    def probabilities_of(data, Xb, W, b):
        from ..kernels import softmax

        out = np.empty((Xb.shape[0], W.shape[0]))
        launch(softmax.multinomial_probabilities, data.n_threads, Xb, W, b, out)
        return out


class Csr:
    """Canonical CSR X: the fused CSR kernels of ``kernels.softmax``."""

    hessian = staticmethod(hessian)

    @staticmethod
    def loss_gradient(data, W, b, want_loss, want_grad):
        from ..kernels import softmax

        args = data.csr_arrays() + (*class_labels(data), data.sample_weight, W, b, want_loss, want_grad)
        loss, grad = launch(softmax.csr_multinomial_loss_gradient_sums, data.n_threads, *args)
        return loss, grad.reshape(W.shape[0], -1)

    @staticmethod
    def hessp(data, W, b, V, vb):
        from ..kernels import softmax

        args = data.csr_arrays() + (data.sample_weight, W, b, V, vb)
        return launch(softmax.csr_multinomial_hessp_sums, data.n_threads, *args).reshape(W.shape[0], -1)

    @staticmethod
    def probabilities_of(data, Xb, W, b):
        from ..kernels import softmax

        out = np.empty((Xb.shape[0], W.shape[0]))
        launch(softmax.csr_multinomial_probabilities, data.n_threads, Xb.data, Xb.indices, Xb.indptr, W, b, out)
        return out


class Categorical:
    """A table (``backends.categorical``): the row kernels of ``kernels.categorical`` gather each level's K weights
    by code and scatter its K sums; the Hessian, and the probabilities of row blocks, on the CSR design."""

    hessian = staticmethod(hessian)
    probabilities_of = staticmethod(Csr.probabilities_of)

    @staticmethod
    def loss_gradient(data, W, b, want_loss, want_grad):
        from ..kernels import categorical

        t = data.table
        args = (t.numeric, t.codes, t.starts, *class_labels(data), data.sample_weight, *data.split(W), b,
                want_loss, want_grad)
        loss, numeric, slots = launch(categorical.multinomial_loss_gradient_sums, data.n_threads, *args)
        return loss, data.design_sums(numeric, slots)

    @staticmethod
    def hessp(data, W, b, V, vb):
        from ..kernels import categorical

        t = data.table
        args = (t.numeric, t.codes, t.starts, data.sample_weight, *data.split(W), b, *data.split(V), vb)
        numeric, slots = launch(categorical.multinomial_hessp_sums, data.n_threads, *args)
        return data.design_sums(numeric, slots)


class Reference:
    """The formulas with whole-array NumPy operations (dense or sparse X), under ``blas_limits``."""

    hessian = staticmethod(hessian)

    @staticmethod
    def _one_hot(data):
        """Y (n, K) float64 from the codes or the soft labels."""
        if data.y.ndim == 2:
            return data.y.astype(np.float64)
        return np.eye(data.n_classes)[data.y]

    @staticmethod
    def _margins(data, W, b):
        return (data.X @ W.T.astype(data.X.dtype)).astype(np.float64) + b

    @staticmethod
    def loss_gradient(data, W, b, want_loss, want_grad):
        from scipy.special import logsumexp, softmax

        with blas_limits(data.n_threads):
            Z = Reference._margins(data, W, b)
            Y = Reference._one_hot(data)
            s = data.weights64()
            loss = float(s @ (logsumexp(Z, axis=1) - np.sum(Y * Z, axis=1))) if want_loss else 0.0
            R = s[:, None] * (softmax(Z, axis=1) - Y)
            return loss, data.transposed_times(R)

    @staticmethod
    def hessp(data, W, b, V, vb):
        from scipy.special import softmax

        with blas_limits(data.n_threads):
            P = softmax(Reference._margins(data, W, b), axis=1)
            U = Reference._margins(data, V, vb)
            Q = data.weights64()[:, None] * P * (U - np.sum(P * U, axis=1, keepdims=True))
            return data.transposed_times(Q)

    @staticmethod
    def probabilities_of(data, Xb, W, b):
        """softmax(Xb Wᵀ + b) for rows Xb of X, by a BLAS product."""
        from scipy.special import softmax

        Z = np.asarray(Xb @ W.T.astype(Xb.dtype), dtype=np.float64) + b
        return softmax(Z, axis=1)


#: backend kind -> the class that computes the sums there
KINDS = {"dense": Dense, "csr": Csr, "categorical": Categorical, "reference": Reference}
