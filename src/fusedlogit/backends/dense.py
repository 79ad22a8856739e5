"""The fused dense backend: C-contiguous X, one pass of the compiled row-block kernels per call.

The loss modules' ``Dense`` classes launch their kernels on ``n_threads``
Numba threads; where BLAS does the work (the Hessians) it runs under
``blas_limits(n_threads)`` (see ``_threads``).
"""

from __future__ import annotations

from .._threads import launch
from .._validation import as_features
from .base import ArrayBackend


class DenseBackend(ArrayBackend):
    """Dense float32/float64 X, copied to C order once if it is not already."""

    kind = "dense"

    @staticmethod
    def as_features(X):
        return as_features(X, contiguous=True)

    def column_sum_squares(self):
        from ..kernels import dense

        return launch(dense.column_sum_squares, self.n_threads, self.X, self.sample_weight)
