"""The fused CSR backend: canonical CSR X, one pass of the compiled CSR kernels over the nonzeros.

Every call launches ``kernels.csr`` on ``n_threads`` Numba threads; BLAS is
not involved.
"""

from __future__ import annotations

import numpy as np

from .._threads import launch
from .._validation import as_sparse_features
from .base import ArrayBackend, sparse_augmented_rows, sparse_squares
from .dense import symmetric_from_upper


class CsrBackend(ArrayBackend):
    """scipy.sparse X of any format, converted once to canonical CSR (no copy if it already is)."""

    as_features = staticmethod(as_sparse_features)
    _squares = staticmethod(sparse_squares)
    _augmented_rows = staticmethod(sparse_augmented_rows)

    def _csr(self):
        X = self.X
        return X.data, X.indices, X.indptr, X.shape[1]

    def loss_gradient_sums(self, w, b, want_loss=True, want_grad=True):
        from ..kernels import csr

        args = self._csr() + (self.y, self.sample_weight, self.offset, w, b, want_loss, want_grad)
        return launch(csr.csr_loss_gradient_sums, self.n_threads, *args)

    def hessp_sums(self, w, b, v, vb):
        from ..kernels import csr

        return launch(csr.csr_hessp_sums, self.n_threads, *self._csr(), self.sample_weight, self.offset, w, b, v, vb)

    def multinomial_loss_gradient_sums(self, W, b, want_loss=True, want_grad=True):
        from ..kernels import softmax

        codes, soft = self.class_labels()
        args = self._csr() + (codes, soft, self.sample_weight, W, b, want_loss, want_grad)
        loss, grad = launch(softmax.csr_multinomial_loss_gradient_sums, self.n_threads, *args)
        return loss, grad.reshape(W.shape[0], -1)

    def multinomial_hessp_sums(self, W, b, V, vb):
        from ..kernels import softmax

        args = self._csr() + (self.sample_weight, W, b, V, vb)
        return launch(softmax.csr_multinomial_hessp_sums, self.n_threads, *args).reshape(W.shape[0], -1)

    def probabilities_of(self, Xb, W, b):
        from ..kernels import softmax

        out = np.empty((Xb.shape[0], W.shape[0]))
        launch(softmax.csr_multinomial_probabilities, self.n_threads, Xb.data, Xb.indices, Xb.indptr, W, b, out)
        return out

    def column_sum_squares(self):
        from ..kernels import csr

        return launch(csr.csr_column_power_sums, self.n_threads, *self._csr(), self.sample_weight, 2)

    def column_sums(self):
        from ..kernels import csr

        return launch(csr.csr_column_power_sums, self.n_threads, *self._csr(), self.sample_weight, 1)

    def hessian_sums(self, w, b, cols=None):
        from ..kernels import csr

        d = self.X.shape[1]
        position = np.full(d, -1, dtype=np.int32)
        cols = np.arange(d) if cols is None else np.asarray(cols, dtype=np.int64)
        position[cols] = np.arange(cols.size)
        data, indices, indptr, _ = self._csr()
        upper = launch(
            csr.csr_hessian_sums, self.n_threads, data, indices, indptr, self.sample_weight, self.offset, w, b,
            position, cols.size,
        )
        return symmetric_from_upper(upper)
