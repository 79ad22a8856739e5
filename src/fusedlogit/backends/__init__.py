"""Backends: where the data live and how the sums over samples are computed.

The objectives (``fusedlogit.objective``, ``fusedlogit.multinomial``) see
only this protocol; they never ask which kind of data they have::

    backend.loss_gradient_sums(W, b, want_loss, want_grad) -> (float, gradient sums)
    backend.hessp_sums(W, b, V, vb), backend.hessian_sums(W, b, cols=None)
    backend.probabilities(W, b), backend.all_saturated(W, b)
    backend.weight_sum(), backend.label_mean(), backend.class_shares(), backend.column_sum_squares()
    backend.max_abs_margin(w, b), backend.subsample(step)
    backend.X, .y, .sample_weight, .offset, .n_classes, .shape, .dtype, .n_threads

(unscaled sums, no penalty, intercept last; see ``base``).  Two registries
say where a loss and a kind of data go.  ``LOSSES``: a loss is a module
(``binary``, ``multinomial``, ``ordinal``) with its label check ``labels``, its sums on
each kind of data ``KINDS`` and its kind-free reductions.  ``BACKENDS``: a
kind of data is an ``ArrayBackend`` subclass:

=====================  ===========================================================
``DenseBackend``       fused compiled kernels over C-contiguous X (``dense``)
``CsrBackend``         fused compiled kernels over canonical CSR X (``csr``)
``ReferenceBackend``   NumPy/BLAS formulas, dense or sparse X (``reference``)
``ChunkedBackend``     dask arrays: any in-memory backend per row chunk (``chunked``)
``CategoricalBackend`` a table's numeric columns and categorical codes (``categorical``)
``SparkBackend``       a Spark DataFrame's partitions held by long-lived tasks (``spark``)
=====================  ===========================================================

``_backend_class`` is the one place that looks at the kind of input.
"""

from __future__ import annotations

from .._validation import check_choice, is_dask_array, is_sparse
from ..tables import CategoricalMatrix
from . import binary, multinomial, ordinal
from .base import ArrayBackend
from .csr import CsrBackend
from .dense import DenseBackend
from .reference import ReferenceBackend, SparseReferenceBackend

#: backend name → (class for dense X, class for scipy.sparse X)
BACKENDS = {
    "numba": (DenseBackend, CsrBackend),
    "numpy": (ReferenceBackend, SparseReferenceBackend),
}

#: loss name → the module of its sums
LOSSES = {
    "binary": binary,
    "multinomial": multinomial,
    "ordinal": ordinal,
}

__all__ = ["ArrayBackend", "BACKENDS", "CsrBackend", "DenseBackend", "LOSSES", "ReferenceBackend", "make_backend"]


def _backend_class(X, backend, n_threads):
    """(class, its build options) for this input: the one place that looks at the kind of X.

    backend: "numba" (fused kernels) or "numpy" (reference).  Dask X is split
    by rows, each chunk computed by that backend's dense class; scipy.sparse X
    goes to its sparse class; a Spark DataFrame's ``spark.SparkSource`` to partitions summed by that backend's
    classes on the executors; anything else is a dense array.
    """
    check_choice("backend", backend, BACKENDS)
    dense, sparse = BACKENDS[backend]
    if isinstance(X, CategoricalMatrix):
        from .categorical import CategoricalBackend

        return (CategoricalBackend if backend == "numba" else sparse), {"n_threads": n_threads}
    if type(X).__name__ == "SparkSource":
        from .spark import SparkBackend, SparkSource

        if isinstance(X, SparkSource):
            return SparkBackend, {"n_threads": n_threads, "inner": backend}
    if is_dask_array(X):
        from .chunked import ChunkedBackend

        return ChunkedBackend, {"n_threads": n_threads, "inner": dense}
    return (sparse if is_sparse(X) else dense), {"n_threads": n_threads}


def make_backend(X, y, sample_weight, *, loss="binary", offset=None, n_classes=None, backend="numba",
                 n_threads=None):
    """The backend of loss ``loss`` (a key of ``LOSSES``) for this input, validated and converted once, here.

    ``n_classes``: K for the losses of class labels (None: inferred from y).
    """
    check_choice("loss", loss, LOSSES)
    cls, options = _backend_class(X, backend, n_threads)
    if isinstance(X, CategoricalMatrix) and cls.kind != "categorical":
        X = X.to_csr()  # the reference formulas on the indicator columns
    return cls.build(X, y, sample_weight, model=LOSSES[loss], offset=offset, n_classes=n_classes, **options)
