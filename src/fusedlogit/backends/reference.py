"""The NumPy reference backend: the formulas written out with whole-array operations.

This is the "two BLAS passes plus n-sized temporaries" computation that the
fused kernels are tested against; it favours clarity over speed.  The loss
modules' ``Reference`` classes hold the formulas and run under
``blas_limits(n_threads)`` (see ``_threads``); this class supplies the
array operations they share.  ``SparseReferenceBackend`` is the same with a
scipy.sparse CSR X: only building X̃ and scaling its rows differ.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_features, as_sparse_features
from .base import ArrayBackend, curvature, expit, sparse_augmented_rows, sparse_squares

__all__ = ["ReferenceBackend", "SparseReferenceBackend", "curvature", "expit"]


class ReferenceBackend(ArrayBackend):
    """Dense X (any layout), NumPy and BLAS."""

    kind = "reference"

    @staticmethod
    def as_features(X):
        return as_features(X, contiguous=False)

    def weights64(self):
        """s as float64, (n,) (ones without weights)."""
        return np.ones(self.X.shape[0]) if self.sample_weight is None else self.sample_weight.astype(np.float64)

    def products64(self, w, b):
        """X w + b in float64, the product in X's precision (as BLAS would do it)."""
        return (self.X @ w.astype(self.X.dtype)).astype(np.float64) + b

    def margins64(self, w, b):
        """z = X w + b + offset in float64."""
        z = self.products64(w, b)
        return z if self.offset is None else z + self.offset

    def transposed_times(self, R):
        """X̃ᵀ r for r (n,) → (d + 1,); Rᵀ X̃ for R (n, K) → (K, d + 1); the product in X's precision."""
        X = self.X
        if R.ndim == 1:
            out = np.empty(X.shape[1] + 1)
            out[:-1] = X.T @ R.astype(X.dtype)
            out[-1] = R.sum()
            return out
        out = np.empty((R.shape[1], X.shape[1] + 1))
        out[:, :-1] = (X.T @ R.astype(X.dtype)).T
        out[:, -1] = R.sum(axis=0)
        return out

    def gram(self, cols, h):
        """X̃ᵀ diag(h) X̃ over X̃ = [X[:, cols], 1] (all columns for None), float64."""
        Xt = self._augmented(cols)
        return Xt.T @ (h[:, None] * Xt)

    def _augmented(self, cols=None):
        X = self.X if cols is None else self.X[:, cols]
        return np.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))])


class SparseReferenceBackend(ReferenceBackend):
    """scipy.sparse X, kept as canonical CSR; the same formulas with sparse products."""

    as_features = staticmethod(as_sparse_features)
    _squares = staticmethod(sparse_squares)
    augmented_rows = staticmethod(sparse_augmented_rows)

    def _augmented(self, cols=None):
        from scipy import sparse

        X = self.X if cols is None else self.X[:, cols]
        return sparse.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))], format="csr")

    def gram(self, cols, h):
        Xt = self._augmented(cols)
        return (Xt.T @ Xt.multiply(h[:, None])).toarray()  # ``*`` would be a matrix product here
