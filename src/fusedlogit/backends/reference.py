"""The NumPy reference backend: the formulas written out with whole-array operations.

This is the "two BLAS passes plus n-sized temporaries" computation that the
fused kernels are tested against; it favours clarity over speed.  Every call
runs under ``blas_limits(n_threads)`` (see ``_threads``).  ``SparseReferenceBackend`` is the
same with a scipy.sparse CSR X: only building X̃ and scaling its rows differ.
"""

from __future__ import annotations

import numpy as np

from .._threads import blas_limits
from .._validation import as_features, as_sparse_features
from .base import ArrayBackend, curvature, expit, sparse_augmented_rows, sparse_squares


class ReferenceBackend(ArrayBackend):
    """Dense X (any layout), NumPy and BLAS."""

    @staticmethod
    def as_features(X):
        return as_features(X, contiguous=False)

    def _weights(self):
        return np.ones(self.X.shape[0]) if self.sample_weight is None else self.sample_weight.astype(np.float64)

    def _products64(self, w, b):
        """X w + b in float64, the product in X's precision (as BLAS would do it)."""
        return (self.X @ w.astype(self.X.dtype)).astype(np.float64) + b

    def _margins64(self, w, b):
        """z = X w + b + offset in float64."""
        z = self._products64(w, b)
        return z if self.offset is None else z + self.offset

    def loss_gradient_sums(self, w, b, want_loss=True, want_grad=True):
        with blas_limits(self.n_threads):
            X = self.X
            s = self._weights()
            y = self.y.astype(np.float64)
            z = self._margins64(w, b)
            # ℓ = softplus(z) − y z, arranged as max(z,0) − y z + log1p(e^{−|z|}) to avoid cancellation
            loss = float(s @ (np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z))))) if want_loss else 0.0
            r = s * (expit(z) - y)
            grad = np.empty(X.shape[1] + 1)
            grad[:-1] = X.T @ r.astype(X.dtype) if want_grad else 0.0
            grad[-1] = r.sum()
            return loss, grad

    def hessp_sums(self, w, b, v, vb):
        with blas_limits(self.n_threads):
            X = self.X
            q = self._weights() * curvature(self._margins64(w, b)) * self._products64(v, vb)
            out = np.empty(X.shape[1] + 1)
            out[:-1] = X.T @ q.astype(X.dtype)
            out[-1] = q.sum()
            return out

    def hessian_sums(self, w, b, cols=None):
        with blas_limits(self.n_threads):
            h = self._weights() * curvature(self._margins64(w, b))
            return self._gram(self._augmented(cols), h)

    # -- multinomial: Z = X Wᵀ + b (n, K), P = softmax(Z), R = s ⊙ (P − Y) ------------------
    def _one_hot(self):
        """Y (n, K) float64 from the codes or the soft labels."""
        if self.y.ndim == 2:
            return self.y.astype(np.float64)
        return np.eye(self.n_classes)[self.y]

    def _multinomial_margins(self, W, b):
        return (self.X @ W.T.astype(self.X.dtype)).astype(np.float64) + b

    def _rows_times_augmented(self, R):
        """Rᵀ X̃, shape (K, d + 1)."""
        out = np.empty((R.shape[1], self.X.shape[1] + 1))
        out[:, :-1] = (self.X.T @ R.astype(self.X.dtype)).T
        out[:, -1] = R.sum(axis=0)
        return out

    def multinomial_loss_gradient_sums(self, W, b, want_loss=True, want_grad=True):
        from scipy.special import logsumexp, softmax

        with blas_limits(self.n_threads):
            Z = self._multinomial_margins(W, b)
            Y = self._one_hot()
            s = self._weights()
            loss = float(s @ (logsumexp(Z, axis=1) - np.sum(Y * Z, axis=1))) if want_loss else 0.0
            R = s[:, None] * (softmax(Z, axis=1) - Y)
            return loss, self._rows_times_augmented(R)

    def multinomial_hessp_sums(self, W, b, V, vb):
        from scipy.special import softmax

        with blas_limits(self.n_threads):
            P = softmax(self._multinomial_margins(W, b), axis=1)
            U = (self.X @ V.T.astype(self.X.dtype)).astype(np.float64) + vb
            Q = self._weights()[:, None] * P * (U - np.sum(P * U, axis=1, keepdims=True))
            return self._rows_times_augmented(Q)

    def _augmented(self, cols=None):
        """X̃ = [X[:, cols], 1] in float64 (all columns for None)."""
        X = self.X if cols is None else self.X[:, cols]
        return np.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))])

    @staticmethod
    def _gram(Xt, h):
        """X̃^T diag(h) X̃."""
        return Xt.T @ (h[:, None] * Xt)


class SparseReferenceBackend(ReferenceBackend):
    """scipy.sparse X, kept as canonical CSR; the same formulas with sparse products."""

    as_features = staticmethod(as_sparse_features)
    _squares = staticmethod(sparse_squares)
    _augmented_rows = staticmethod(sparse_augmented_rows)

    def _augmented(self, cols=None):
        from scipy import sparse

        X = self.X if cols is None else self.X[:, cols]
        return sparse.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))], format="csr")

    @staticmethod
    def _gram(Xt, h):
        """X̃^T diag(h) X̃ with sparse X̃ (``*`` would be a matrix product there)."""
        return (Xt.T @ Xt.multiply(h[:, None])).toarray()
