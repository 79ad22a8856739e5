"""The fused CSR backend: canonical CSR X, one pass of the compiled CSR kernels over the nonzeros.

The loss modules' ``Csr`` classes launch their kernels on ``n_threads``
Numba threads; BLAS is not involved.
"""

from __future__ import annotations

from .._threads import launch
from .._validation import as_sparse_features
from .base import ArrayBackend, sparse_augmented_rows, sparse_squares


class CsrBackend(ArrayBackend):
    """scipy.sparse X of any format, converted once to canonical CSR (no copy if it already is)."""

    kind = "csr"
    as_features = staticmethod(as_sparse_features)
    _squares = staticmethod(sparse_squares)
    augmented_rows = staticmethod(sparse_augmented_rows)

    def csr_arrays(self):
        """(data, indices, indptr, n_features), as the CSR kernels take X."""
        X = self.X
        return X.data, X.indices, X.indptr, X.shape[1]

    def column_sum_squares(self):
        from ..kernels import csr

        return launch(csr.csr_column_power_sums, self.n_threads, *self.csr_arrays(), self.sample_weight, 2)

    def column_sums(self):
        from ..kernels import csr

        return launch(csr.csr_column_power_sums, self.n_threads, *self.csr_arrays(), self.sample_weight, 1)
