"""Backends: where the data live and how the sums over samples are computed.

The objectives (``fusedlogit.objective``) see only this protocol; they never
ask which kind of data they have::

    backend.loss_gradient_sums(w, b, want_loss, want_grad) -> (float, (d + 1,))
    backend.hessp_sums(w, b, v, vb)                         -> (d + 1,)
    backend.hessian_sums(w, b, cols=None)                   -> (m + 1, m + 1) over columns cols (m; all: d)
    backend.weight_sum(), backend.label_mean(), backend.column_sum_squares()
    backend.max_abs_margin(w, b), backend.all_saturated(w, b), backend.subsample(step)
    backend.X, .y, .sample_weight, .offset, .shape, .dtype, .n_threads

(unscaled sums, no penalty, intercept last; see ``base``).  The backends:

=====================  ===========================================================
``DenseBackend``       fused compiled kernels over C-contiguous X (``dense``)
``CsrBackend``         fused compiled kernels over canonical CSR X (``csr``)
``ReferenceBackend``   NumPy/BLAS formulas, dense or sparse X (``reference``)
``ChunkedBackend``     dask arrays: any in-memory backend per row chunk (``chunked``)
=====================  ===========================================================

``_backend_class`` is the one place that looks at the kind of input (for
``make_backend`` and ``make_multinomial_backend``).  A new data kind is a new
``ArrayBackend`` subclass and one line there.
"""

from __future__ import annotations

from .._validation import check_choice, is_dask_array, is_sparse
from .base import ArrayBackend
from .csr import CsrBackend
from .dense import DenseBackend
from .reference import ReferenceBackend, SparseReferenceBackend

#: backend name → (class for dense X, class for scipy.sparse X)
BACKENDS = {
    "numba": (DenseBackend, CsrBackend),
    "numpy": (ReferenceBackend, SparseReferenceBackend),
}

__all__ = [
    "ArrayBackend", "BACKENDS", "CsrBackend", "DenseBackend", "ReferenceBackend", "make_backend",
    "make_multinomial_backend",
]


def _backend_class(X, backend, n_threads):
    """(class, its build options) for this input: the one place that looks at the kind of X.

    backend: "numba" (fused kernels) or "numpy" (reference).  Dask X is split
    by rows, each chunk computed by that backend's dense class; scipy.sparse X
    goes to its sparse class; anything else is a dense array.
    """
    check_choice("backend", backend, BACKENDS)
    dense, sparse = BACKENDS[backend]
    if is_dask_array(X):
        from .chunked import ChunkedBackend

        return ChunkedBackend, {"n_threads": n_threads, "inner": dense}
    return (sparse if is_sparse(X) else dense), {"n_threads": n_threads}


def make_backend(X, y, sample_weight, *, offset=None, backend="numba", n_threads=None):
    """The binary model's backend for this input (labels y in [0, 1]): validated and converted once, here."""
    cls, options = _backend_class(X, backend, n_threads)
    return cls.build(X, y, sample_weight, offset=offset, **options)


def make_multinomial_backend(X, y, sample_weight, *, n_classes=None, backend="numba", n_threads=None):
    """The multinomial model's backend (``build_multinomial``): K = ``n_classes``, or inferred from y if None."""
    cls, options = _backend_class(X, backend, n_threads)
    return cls.build_multinomial(X, y, sample_weight, n_classes=n_classes, **options)
