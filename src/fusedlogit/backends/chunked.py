"""Dask arrays: the sums over row chunks, each chunk computed where it lives.

J and its derivatives are sums over samples, so for X split in row chunks
X_1..X_m (with y and s split alike)::

    Σ_i s_i ℓ_i = Σ_c Σ_{i ∈ c} s_i ℓ_i,   X^T r = Σ_c X_c^T r_c,   X̃^T D X̃ = Σ_c X̃_c^T D_c X̃_c

Each chunk's partial sum is one call of an in-memory backend (the fused dense
one, or the reference) in a task that runs where the chunk is stored; the
partial sums, of size O(d) (O(d²) for the Hessian), are added pairwise in a
fixed tree by Dask tasks, and only the total comes back to the caller, where
the optimizer runs.  The scheduler is Dask's current one: ``dask.distributed``
when a ``Client`` is active, the threaded scheduler otherwise.

The backend factory imports this module only for dask-array X, so dask is an
optional dependency (``pip install fusedlogit[dask]``).  Chunks hold dense
NumPy arrays (scipy.sparse chunks are refused).
"""

from __future__ import annotations

import numpy as np

from .._extras import needs_extra

with needs_extra("Dask data", "dask", "dask"):
    import dask
    import dask.array as da

from .._validation import (
    as_labels,
    as_offset,
    as_sample_weight,
    check_features_form,
    check_finite,
    check_vector_form,
    float_dtype,
    is_sparse,
)
from .base import ArrayBackend, add_partials, pairwise_sum


def as_dask_data(X, y, sample_weight, offset=None):
    """(X, y, sample_weight, offset) validated, chunked alike by rows and persisted.

    X gets one chunk across its columns and a float32/float64 dtype; y and
    sample_weight (dask or NumPy) get X's row chunks and dtype, the offset
    X's row chunks and float64.  The arrays
    are persisted (in the workers' memory under ``dask.distributed``) because
    every evaluation reads them again.  The value checks (NaN/inf, y in
    [0, 1], weights ≥ 0) run chunk by chunk on the workers with the same
    functions, and so the same errors, as for in-memory arrays.
    """
    if np.isnan(X.shape[0]):
        X = X.compute_chunk_sizes()
    check_features_form(X)
    if is_sparse(X._meta):
        raise ValueError("X: dask arrays with scipy.sparse chunks are not supported; use dense chunks")
    dtype = float_dtype(X)
    X = X.astype(dtype)
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    y = _rows_like(X, "y", y, dtype)
    sample_weight = None if sample_weight is None else _rows_like(X, "sample_weight", sample_weight, dtype)
    offset = None if offset is None else _rows_like(X, "offset", offset, np.float64)
    data = dask.persist(X, y, sample_weight, offset)
    m = X.numblocks[0]
    first_rows = np.concatenate([[0], np.cumsum(data[0].chunks[0][:-1])]).astype(int).tolist()
    dask.compute([_check_chunk(first, *blocks) for first, *blocks in zip(first_rows, *(_blocks(a, m) for a in data))])
    return data


def _rows_like(X, name, a, dtype):
    """Vector ``a`` as a dask array with X's row chunks and the given dtype."""
    if not isinstance(a, da.Array):
        a = np.asarray(a)
    elif np.isnan(a.shape[0]):
        a = a.compute_chunk_sizes()
    check_vector_form(name, a, X.shape[0])
    if isinstance(a, da.Array):
        return a.astype(dtype).rechunk((X.chunks[0],))
    return da.from_array(a.astype(dtype, copy=False), chunks=(X.chunks[0],))


def _blocks(a, n_blocks):
    """The chunks of a 1-D or row-chunked 2-D dask array as Delayed objects (None: n_blocks Nones)."""
    if a is None:
        return [None] * n_blocks
    return list(a.to_delayed().ravel())


def _as_dask_classes(X, y, sample_weight, n_classes, model):
    """(X, codes or soft labels, sample_weight, K) for a model of class labels, chunked alike; the labels
    checked per chunk by ``model.labels``."""
    X, _, sample_weight, _ = as_dask_data(X, np.zeros(X.shape[0], np.int8), sample_weight)
    y = y if isinstance(y, da.Array) else np.asarray(y)
    if y.ndim == 2:
        labels = y.astype(X.dtype).rechunk((X.chunks[0], -1)) if isinstance(y, da.Array) else da.from_array(
            np.asarray(y, dtype=X.dtype), chunks=(X.chunks[0], -1)
        )
        if labels.shape[0] != X.shape[0]:
            raise ValueError(f"y has {labels.shape[0]} rows but X has {X.shape[0]}")
        K = labels.shape[1] if n_classes is None else n_classes
    else:
        labels = _rows_like(X, "y", y, np.float64)
        K = n_classes if n_classes is not None else max(2, int(labels.max().compute()) + 1)
    m = X.numblocks[0]
    dask.compute([_check_labels(yb, K, model) for yb in _blocks(labels, m)])
    if labels.ndim == 1:
        labels = labels.astype(np.int64)
    (labels,) = dask.persist(labels)
    return X, labels, sample_weight, K


@dask.delayed(pure=True)
def _check_labels(yb, n_classes, model):
    model.labels(yb, yb.shape[0], yb.dtype, n_classes)


@dask.delayed(pure=True)
def _check_chunk(first_row, Xb, yb, sb, ob):
    """The in-memory checks on one chunk, whose first row is ``first_row`` of X (they raise the in-memory errors)."""
    check_finite("X", Xb, first_row=first_row)
    as_labels(yb, yb.shape[0], yb.dtype)
    as_sample_weight(sb, yb.shape[0], yb.dtype)
    as_offset(ob, yb.shape[0])


def _chunk_sums(inner, sums, n_threads, model, n_classes, Xb, yb, sb, ob, *args):
    """One chunk's partial sum: ``sums`` (an ``inner`` backend method) on the chunk's data."""
    data = inner(np.ascontiguousarray(Xb), yb, sb, n_threads, ob, model=model, n_classes=n_classes)
    return sums(data, *args)


def _tree_sum(parts):
    """Pairwise sum of Delayed partial results in a fixed order (reproducible)."""
    return pairwise_sum(parts, dask.delayed(add_partials, pure=False))


class ChunkedBackend(ArrayBackend):
    """Dask X, y, sample_weight chunked alike by rows; each chunk summed by an ``inner`` backend class."""

    #: the sums run chunk by chunk on ``inner`` backends; the loss module's reference formulas serve the
    #: rest (probabilities, by dask's products)
    kind = "reference"

    def __init__(self, X, y, sample_weight, n_threads, offset, inner, *, model, n_classes=None):
        super().__init__(X, y, sample_weight, n_threads, offset, model=model, n_classes=n_classes)
        self.inner = inner

    @classmethod
    def build(cls, X, y, sample_weight, *, model, n_threads, inner, offset=None, n_classes=None):
        if model.CLASS_LABELS:
            X, y, sample_weight, K = _as_dask_classes(X, y, sample_weight, n_classes, model)
            offset = None
        else:
            X, y, sample_weight, offset = as_dask_data(X, y, sample_weight, offset)
            K = None
        return cls(X, y, sample_weight, n_threads, offset, inner, model=model, n_classes=K)

    def _build_options(self):
        return {"n_threads": self.n_threads, "inner": self.inner}

    def column_sum_squares(self):
        squares = self.X * self.X
        total = squares.sum(axis=0) if self.sample_weight is None else squares.T @ self.sample_weight
        return np.asarray(total.compute(), dtype=np.float64)

    def _run_chunks(self, sums, *args, rows=None):
        """Σ over chunks of ``sums(inner backend on chunk c, *args[, rows[c]])``, added in a fixed tree by dask.

        ``rows`` (optional, a NumPy vector of length n) is split like X's rows.
        """
        n_blocks = self.X.numblocks[0]
        data = zip(*(_blocks(a, n_blocks) for a in (self.X, self.y, self.sample_weight, self.offset)))
        # one graph key for each coefficient vector, not a copy in every task
        shared = [dask.delayed(a, pure=True) if isinstance(a, np.ndarray) else a for a in args]
        ends = np.cumsum(self.X.chunks[0])
        own = [()] * n_blocks if rows is None else [(rows[end - m : end],) for end, m in zip(ends, self.X.chunks[0])]
        chunk = dask.delayed(_chunk_sums, pure=False)  # fresh keys: every call computes
        parts = [
            chunk(self.inner, sums, self.n_threads, self.model, self.n_classes, *blocks, *shared, *extra)
            for blocks, extra in zip(data, own)
        ]
        (total,) = dask.compute(_tree_sum(parts))
        return total

    def loss_gradient_sums(self, w, b, want_loss=True, want_grad=True):
        return self._run_chunks(self.inner.loss_gradient_sums, w, b, want_loss, want_grad)

    def hessp_sums(self, w, b, v, vb):
        return self._run_chunks(self.inner.hessp_sums, w, b, v, vb)

    def hessian_sums(self, w, b, cols=None):
        return self._run_chunks(self.inner.hessian_sums, w, b, cols)

    def score_gram_sums(self, w, b):
        return self._run_chunks(self.inner.score_gram_sums, w, b)

    def score_group_sums(self, w, b, n_groups, groups):
        return self._run_chunks(self.inner.score_group_sums, w, b, n_groups, rows=groups)

    def __repr__(self):
        return f"ChunkedBackend(inner={self.inner.__name__}, shape={self.shape}, n_threads={self.n_threads})"
