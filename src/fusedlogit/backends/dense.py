"""The fused dense backend: C-contiguous X, one pass of the compiled row-block kernels per call.

``loss_gradient_sums`` and ``hessp_sums`` launch ``kernels.dense`` on
``n_threads`` Numba threads (BLAS is not involved).  ``hessian_sums`` is the
one place where BLAS does the work (``dsyrk`` on row blocks), so it runs
under ``blas_limits(n_threads)`` as well (see ``_threads``).
"""

from __future__ import annotations

import numpy as np

from .._threads import blas_limits, launch
from .._validation import as_features
from .base import ArrayBackend


def symmetric_from_upper(H):
    """The symmetric matrix whose upper triangle (diagonal included) is that of H."""
    upper = np.triu(H)
    return upper + np.triu(upper, 1).T


class DenseBackend(ArrayBackend):
    """Dense float32/float64 X, copied to C order once if it is not already."""

    @staticmethod
    def as_features(X):
        return as_features(X, contiguous=True)

    def loss_gradient_sums(self, w, b, want_loss=True, want_grad=True):
        from ..kernels import dense

        args = (self.X, self.y, self.sample_weight, self.offset, w, b, want_loss, want_grad)
        return launch(dense.loss_gradient_sums, self.n_threads, *args)

    def hessp_sums(self, w, b, v, vb):
        from ..kernels import dense

        return launch(dense.hessp_sums, self.n_threads, self.X, self.sample_weight, self.offset, w, b, v, vb)

    def multinomial_loss_gradient_sums(self, W, b, want_loss=True, want_grad=True):
        from ..kernels import softmax

        codes, soft = self.class_labels()
        args = (self.X, codes, soft, self.sample_weight, W, b, want_loss, want_grad)
        loss, grad = launch(softmax.multinomial_loss_gradient_sums, self.n_threads, *args)
        return loss, grad.reshape(W.shape[0], -1)

    def multinomial_hessp_sums(self, W, b, V, vb):
        from ..kernels import softmax

        out = launch(softmax.multinomial_hessp_sums, self.n_threads, self.X, self.sample_weight, W, b, V, vb)
        return out.reshape(W.shape[0], -1)

    def probabilities_of(self, Xb, W, b):
        from ..kernels import softmax

        out = np.empty((Xb.shape[0], W.shape[0]))
        launch(softmax.multinomial_probabilities, self.n_threads, Xb, W, b, out)
        return out

    def column_sum_squares(self):
        from ..kernels import dense

        return launch(dense.column_sum_squares, self.n_threads, self.X, self.sample_weight)

    def hessian_sums(self, w, b, cols=None):
        """X̃^T diag(s ⊙ p(1−p)) X̃ over ``cols`` (default all) and the intercept, by BLAS syrk on row blocks.

        Each block of rows is written once, scaled by sqrt(h) and with the
        intercept column appended, into a reused float64 buffer (so float32
        data is accumulated in float64 too), and dsyrk adds its Gram matrix to
        the upper triangle of the total.  The buffer is the only temporary,
        never an n × d array.
        """
        with blas_limits(self.n_threads):
            return launch(self._blocked_hessian, self.n_threads, w, b, cols)

    def _blocked_hessian(self, w, b, cols):
        from scipy.linalg import blas

        from ..kernels.dense import weighted_rows

        X, sample_weight, offset = self.X, self.sample_weight, self.offset
        n, d = X.shape
        cols = np.arange(d) if cols is None else np.asarray(cols, dtype=np.int64)
        k = cols.size
        rows = min(n, max(256, (4 << 20) // ((k + 1) * 8)))  # ~4 MB buffer
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
