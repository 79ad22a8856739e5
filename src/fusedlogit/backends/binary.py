"""The binary model's sums over samples on each kind of data.

Labels y_i ∈ [0, 1], margins z_i = x_i·w + b + o_i, p_i = σ(z_i)::

    loss_gradient(data, w, b)  -> (Σ s_i ℓ_i, X̃ᵀ (s ⊙ (p − y))),   ℓ_i = softplus(z_i) − y_i z_i
    hessp(data, w, b, v, vb)   -> X̃ᵀ (s ⊙ p(1−p) ⊙ X̃ṽ)
    hessian(data, w, b, cols)  -> X̃ᵀ diag(s ⊙ p(1−p)) X̃,  X̃ = [X[:, cols], 1]

(unscaled, no penalty, (d + 1,) with the intercept last).  ``KINDS`` maps a
backend's ``kind`` to the class that computes them there: the fused kernels
of ``kernels.dense`` and ``kernels.csr``, or the NumPy formulas.
"""

from __future__ import annotations

import numpy as np

from .._threads import blas_limits, launch
from .._validation import as_labels
from .base import curvature, expit, symmetric_from_upper

#: The labels are values in [0, 1], not class codes.
CLASS_LABELS = False


def labels(y, n, dtype, n_classes=None):
    """(y as X's dtype with values in [0, 1], None): the labels a backend holds and the class count."""
    if n_classes not in (None, 2):
        raise ValueError(f"the binary model has 2 classes, got n_classes={n_classes!r}")
    return as_labels(y, n, dtype), None


def all_saturated(data, w, b):
    """Every positive-weight row predicted with |margin| > SATURATED_MARGIN on its 0/1 label's side.

    The array form of ``kernels.pointwise.saturated_on_label``.
    """
    from ..kernels.pointwise import SATURATED_MARGIN

    z = data.margins(w, b)
    y = data.y
    keep = data.positive_weight()
    if keep is None:
        keep = np.ones(len(y), bool)
    correct = ((y == 1) & (z > SATURATED_MARGIN)) | ((y == 0) & (z < -SATURATED_MARGIN))
    return bool(np.all(correct[keep]))


def probabilities(data, w, b):
    """p_i = σ(z_i), (n,) float64."""
    return expit(np.asarray(data.margins(w, b), dtype=np.float64))


class Dense:
    """C-contiguous X: the fused kernels of ``kernels.dense``; the Hessian by BLAS syrk on row blocks."""

    @staticmethod
    def loss_gradient(data, w, b, want_loss, want_grad):
        from ..kernels import dense

        args = (data.X, data.y, data.sample_weight, data.offset, w, b, want_loss, want_grad)
        return launch(dense.loss_gradient_sums, data.n_threads, *args)

    @staticmethod
    def hessp(data, w, b, v, vb):
        from ..kernels import dense

        return launch(dense.hessp_sums, data.n_threads, data.X, data.sample_weight, data.offset, w, b, v, vb)

    @staticmethod
    def loss_gradient_hessian(data, w, b, cols, statistics=False):
        """(Σ s_i ℓ_i, gradient sums, Hessian sums over ``cols`` and the intercept, column statistics) in one
        pass (``kernels.dense.loss_gradient_hessian_sums``); X as ``data.unchecked_X`` gives it."""
        from ..kernels import dense

        args = (data.unchecked_X, data.y, data.sample_weight, data.offset, w, b, cols, statistics)
        return launch(dense.loss_gradient_hessian_sums, data.n_threads, *args)

    @staticmethod
    def hessian(data, w, b, cols=None):
        """Each block of rows is written once, scaled by sqrt(h) and with the intercept column appended,
        into a reused float64 buffer of ~4 MB (so float32 data is accumulated in float64 too), and dsyrk
        adds its Gram matrix to the upper triangle of the total: never an n × d temporary."""
        with blas_limits(data.n_threads):
            return launch(_blocked_hessian, data.n_threads, data, w, b, cols)


def _blocked_hessian(data, w, b, cols):
    from scipy.linalg import blas

    from ..kernels.dense import weighted_rows

    X, sample_weight, offset = data.X, data.sample_weight, data.offset
    n, d = X.shape
    cols = np.arange(d) if cols is None else np.asarray(cols, dtype=np.int64)
    k = cols.size
    rows = min(n, max(256, (4 << 20) // ((k + 1) * 8)))
    buffer = np.empty((rows, k + 1))
    H = np.zeros((k + 1, k + 1), order="F")
    for start in range(0, n, rows):
        Xb = X[start : start + rows]
        A = buffer[: Xb.shape[0]]
        sb = None if sample_weight is None else sample_weight[start : start + rows]
        ob = None if offset is None else offset[start : start + rows]
        weighted_rows(Xb, sb, ob, w, b, cols, A)
        # A is C-ordered (m, d + 1), so A.T is Fortran-ordered and syrk adds A^T A in place.
        H = blas.dsyrk(1.0, A.T, beta=1.0, c=H, trans=0, lower=0, overwrite_c=1)
    return symmetric_from_upper(H)


class Csr:
    """Canonical CSR X: the fused kernels of ``kernels.csr`` over the nonzeros."""

    @staticmethod
    def loss_gradient(data, w, b, want_loss, want_grad):
        from ..kernels import csr

        args = data.csr_arrays() + (data.y, data.sample_weight, data.offset, w, b, want_loss, want_grad)
        return launch(csr.csr_loss_gradient_sums, data.n_threads, *args)

    @staticmethod
    def hessp(data, w, b, v, vb):
        from ..kernels import csr

        args = data.csr_arrays() + (data.sample_weight, data.offset, w, b, v, vb)
        return launch(csr.csr_hessp_sums, data.n_threads, *args)

    @staticmethod
    def hessian(data, w, b, cols=None):
        from ..kernels import csr

        d = data.X.shape[1]
        position = np.full(d, -1, dtype=np.int32)
        cols = np.arange(d) if cols is None else np.asarray(cols, dtype=np.int64)
        position[cols] = np.arange(cols.size)
        array, indices, indptr, _ = data.csr_arrays()
        upper = launch(
            csr.csr_hessian_sums, data.n_threads, array, indices, indptr, data.sample_weight, data.offset, w, b,
            position, cols.size,
        )
        return symmetric_from_upper(upper)


class Categorical:
    """A table (``backends.categorical``): the kernels of ``kernels.categorical`` gather the levels' weights by
    code and scatter their sums; the Hessian in blocks (``level_hessian``), whole as CSR's."""

    @staticmethod
    def loss_gradient(data, w, b, want_loss, want_grad):
        from ..kernels import categorical

        t = data.table
        args = (t.numeric, t.codes, t.starts, data.y, data.sample_weight, data.offset, *data.split(w), float(b),
                want_loss, want_grad)
        loss, numeric, slots = launch(categorical.loss_gradient_sums, data.n_threads, *args)
        return loss, data.design_sums(numeric, slots)

    @staticmethod
    def hessp(data, w, b, v, vb):
        from ..kernels import categorical

        t = data.table
        args = (t.numeric, t.codes, t.starts, data.sample_weight, data.offset, *data.split(w), float(b),
                *data.split(v), float(vb))
        numeric, slots = launch(categorical.hessp_sums, data.n_threads, *args)
        return data.design_sums(numeric, slots)

    hessian = staticmethod(Csr.hessian)

    @staticmethod
    def level_hessian(data, w, b):
        from .categorical import level_hessian

        return level_hessian(data, w, b)


class Reference:
    """The formulas with whole-array NumPy operations (dense or sparse X), under ``blas_limits``."""

    @staticmethod
    def loss_gradient(data, w, b, want_loss, want_grad):
        with blas_limits(data.n_threads):
            s = data.weights64()
            y = data.y.astype(np.float64)
            z = data.margins64(w, b)
            # ℓ = softplus(z) − y z, arranged as max(z,0) − y z + log1p(e^{−|z|}) to avoid cancellation
            loss = float(s @ (np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z))))) if want_loss else 0.0
            r = s * (expit(z) - y)
            if want_grad:
                return loss, data.transposed_times(r)
            grad = np.zeros(data.X.shape[1] + 1)
            grad[-1] = r.sum()
            return loss, grad

    @staticmethod
    def hessp(data, w, b, v, vb):
        with blas_limits(data.n_threads):
            q = data.weights64() * curvature(data.margins64(w, b)) * data.products64(v, vb)
            return data.transposed_times(q)

    @staticmethod
    def hessian(data, w, b, cols=None):
        with blas_limits(data.n_threads):
            h = data.weights64() * curvature(data.margins64(w, b))
            return data.gram(cols, h)


#: backend kind -> the class that computes the sums there
KINDS = {"dense": Dense, "csr": Csr, "categorical": Categorical, "reference": Reference}
