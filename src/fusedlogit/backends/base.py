"""What every backend shares: the data it owns and the reductions that are not the hot sums.

A backend holds validated arrays X (n, d), labels y, sample_weight ((n,) or
None: all ones) and offset ((n,) float64 or None: none) for one loss, and
computes the loss's *unscaled sums over samples* (no 1/S, no penalty)::

    loss_gradient_sums(W, b, want_loss, want_grad) -> (Σ s_i ℓ_i, gradient sums)
    hessp_sums(W, b, V, vb)                         -> Hessian sums times (V, vb)
    hessian_sums(W, b, cols=None)                   -> Hessian sums over the columns cols and the intercepts

Two axes meet here: the loss (a module such as ``backends.binary`` with its
formulas on each kind of data, in ``KINDS``) and the kind of data (the
subclass: dense, CSR, reference, dask chunks), which supplies the array
operations the loss modules use.  The rest is written once with ``X @ w``
and slicing, which NumPy, scipy.sparse and dask arrays all provide.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from .._threads import blas_limits
from .._validation import as_offset, as_sample_weight


def expit(z):
    """σ(z) = 1 / (1 + e^{−z}), evaluated without overflow."""
    t = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + t), t / (1.0 + t))


def curvature(z):
    """σ(z)(1 − σ(z)) = e^{−|z|} / (1 + e^{−|z|})², exact in both tails."""
    t = np.exp(-np.abs(z))
    return t / (1.0 + t) ** 2


class _ColumnCache:
    """A sparse X's CSC copy and column counts, made at most once per X and shared by every backend on it
    (``cv``'s folds build one each on the same X) for as long as any of them lives."""

    def __init__(self):
        self.lock = threading.Lock()
        self.csc = None
        self.counts = None


#: X's arrays (by address: CSR wrappers made of views of one X's arrays are that X) -> its cache, while a
#: backend holds that cache; the backend holds X, so the memory cannot be reused meanwhile.
_COLUMN_CACHES = weakref.WeakValueDictionary()
_COLUMN_CACHES_LOCK = threading.Lock()


def _column_cache(X):
    arrays = (X.data, X.indices, X.indptr)
    key = tuple((a.__array_interface__["data"][0], a.dtype.str, a.size, a.strides) for a in arrays) + (X.shape,)
    with _COLUMN_CACHES_LOCK:
        cache = _COLUMN_CACHES.get(key)
        if cache is None:
            cache = _COLUMN_CACHES[key] = _ColumnCache()
        return cache


class ArrayBackend:
    """Data X, labels, sample_weight and offset, and the reductions over them that the solvers need.

    ``model`` is the loss's module (``backends.binary``, ``backends.multinomial``: its ``labels``,
    its sums on each kind of data ``KINDS`` and its kind-free reductions); the class is the kind
    of data, named by ``kind``.  ``n_classes``: K for class labels, None for binary labels.
    """

    #: which entry of a loss module's ``KINDS`` computes the sums on this kind of data
    kind = None
    #: the entry used where a loss has none for ``kind`` (a table's models without kernels of their own: CSR)
    fallback_kind = None
    #: passes over X that ``column_sums`` or ``column_sum_squares`` make (0 where they are kept from ``build``)
    column_statistics_passes = 1

    def __init__(self, X, y, sample_weight, n_threads, offset=None, *, model, n_classes=None):
        self.X, self.y, self.sample_weight, self.offset = X, y, sample_weight, offset
        self.n_threads = n_threads
        self.model, self.n_classes = model, n_classes
        self.sums = model.KINDS.get(self.kind) or model.KINDS[self.fallback_kind]

    @staticmethod
    def as_features(X):
        """X validated and converted (once) to the form this backend computes on."""
        raise NotImplementedError

    @classmethod
    def build(cls, X, y, sample_weight, *, model, n_threads, offset=None, n_classes=None):
        """Validate and convert raw inputs (once) into a backend of this class for the loss ``model``."""
        X = cls.as_features(X)
        n = X.shape[0]
        labels, K = model.labels(y, n, X.dtype, n_classes)
        weights = as_sample_weight(sample_weight, n, X.dtype)
        return cls(X, labels, weights, n_threads, as_offset(offset, n), model=model, n_classes=K)

    # -- the loss's sums (unscaled, no penalty; see the loss's module) ----------------------------
    def loss_gradient_sums(self, W, b, want_loss=True, want_grad=True):
        """(Σ s_i ℓ_i, the gradient's sums) at coefficients W and intercepts b."""
        return self.sums.loss_gradient(self, W, b, want_loss, want_grad)

    def hessp_sums(self, W, b, V, vb):
        """The Hessian's sums times the direction (V, vb)."""
        return self.sums.hessp(self, W, b, V, vb)

    def hessian_sums(self, W, b, cols=None):
        """The Hessian's sums over the coefficients of columns ``cols`` (all by default) and the intercepts."""
        return self.sums.hessian(self, W, b, cols)

    @property
    def has_level_hessian(self):
        """Whether the loss has its Hessian in blocks on this kind of data (``level_hessian_sums``)."""
        return hasattr(self.sums, "level_hessian")

    def level_hessian_sums(self, W, b):
        """The Hessian's sums as a ``categorical.LevelHessian`` (needs ``has_level_hessian``)."""
        return self.sums.level_hessian(self, W, b)

    def newton_size(self, n_coef):
        """The side of the dense matrix a Newton step factors for n_coef coefficients (``level_hessian_sums``)."""
        return n_coef

    @property
    def fuses_hessian(self):
        """Whether ``loss_gradient_hessian_sums`` is one pass (a binary model on dense X), not a pass and a Hessian."""
        return hasattr(self.sums, "loss_gradient_hessian")

    def loss_gradient_hessian_sums(self, W, b, cols):
        """(Σ s_i ℓ_i, the gradient's sums, the Hessian's sums over the columns ``cols`` and the intercepts)."""
        if self.fuses_hessian:
            return self.sums.loss_gradient_hessian(self, W, b, np.asarray(cols, dtype=np.int64))[:3]
        return (*self.loss_gradient_sums(W, b), self.hessian_sums(W, b, cols))

    def probabilities(self, W, b):
        """The model's probabilities for every row, float64."""
        return self.model.probabilities(self, W, b)

    def all_saturated(self, W, b):
        """Every positive-weight row's label predicted with probability > 1 − σ(−SATURATED_MARGIN)."""
        return self.model.all_saturated(self, W, b)

    @property
    def shape(self):
        return self.X.shape

    @property
    def sparse(self):
        """Whether X is a scipy.sparse matrix (or dask array of them)."""
        from .._validation import is_sparse

        return is_sparse(self.X)

    @property
    def dtype(self):
        return self.X.dtype

    def weight_sum(self):
        """Σ s_i as a float (n without weights)."""
        if self.sample_weight is None:
            return float(self.shape[0])
        with np.errstate(over="ignore"):  # an overflow is reported by the caller (check_weight_sum)
            return float(self.sample_weight.sum(dtype=np.float64))

    def class_shares(self):
        """π_k = Σ_i s_i Y_ik / Σ_i s_i, shape (K,)."""
        s = None if self.sample_weight is None else np.asarray(self.sample_weight, dtype=np.float64)
        y = np.asarray(self.y)
        if y.ndim == 1:
            totals = np.bincount(y, weights=s, minlength=self.n_classes)
        else:
            totals = y.sum(axis=0, dtype=np.float64) if s is None else s @ y.astype(np.float64)
        return totals / self.weight_sum()

    def label_range(self):
        """(min, max) of the labels over the rows of positive weight, as floats (a dask y: computed here)."""
        y, weights = self.y, self.sample_weight
        if weights is not None:
            y = y[weights > 0]
        return float(y.min()), float(y.max())

    def largest_weight(self):
        """max_i s_i as a float, None without weights (a dask vector: computed here)."""
        if self.sample_weight is None:
            return None
        top = self.sample_weight.max()
        return float(top.compute() if hasattr(top, "compute") else top)

    def weights_divided(self, c):
        """A shallow copy of this backend with weights s_i / c (X, y and the caller's weights shared, not
        touched; exact for c a power of two)."""
        import copy

        data = copy.copy(self)
        data.sample_weight = self.sample_weight / np.asarray(c, dtype=self.sample_weight.dtype)
        return data

    def positive_weight_count(self):
        """The number of rows with s_i > 0 (n without weights)."""
        if self.sample_weight is None:
            return int(self.shape[0])
        return int((self.sample_weight > 0).sum())

    def label_mean(self):
        """The weighted mean of y, Σ s_i y_i / Σ s_i."""
        if self.sample_weight is None:
            return float(self.y.mean(dtype=np.float64))
        return float(self.sample_weight @ self.y) / self.weight_sum()

    def column_sum_squares(self):
        """Σ_i s_i x_ij² for every column j, shape (d,), read in row blocks."""
        X, s = self.X, self.sample_weight
        n, d = X.shape
        total = np.zeros(d)
        rows = max(1, (1 << 20) // max(1, d))
        for start in range(0, n, rows):
            Xb = X[start : start + rows]
            squares = self._squares(Xb)
            weights = np.ones(Xb.shape[0]) if s is None else s[start : start + rows].astype(np.float64)
            total += np.asarray(squares.T @ weights, dtype=np.float64).ravel()
        return total

    def column_sums(self):
        """Σ_i s_i x_ij for every column j, shape (d,), float64 (one BLAS or sparse pass)."""
        X, s = self.X, self.sample_weight
        total = X.sum(axis=0, dtype=np.float64) if s is None else X.T @ s.astype(X.dtype)
        return np.asarray(total, dtype=np.float64).ravel()

    # -- the sandwich covariance's middle terms (once per fit, so written for clarity) --------
    def scores(self, w, b):
        """u_i = s_i (p_i − y_i), float64 (n,): row i's score is u_i x̃_i."""
        z = np.asarray(self.margins(w, b), dtype=np.float64)
        u = expit(z) - np.asarray(self.y, dtype=np.float64)
        return u if self.sample_weight is None else u * np.asarray(self.sample_weight, dtype=np.float64)

    def score_gram_sums(self, w, b):
        """Σ_i u_i² x̃_i x̃_iᵀ, shape (d + 1, d + 1), in row blocks of ~4 MB (float64)."""
        from scipy import sparse

        u = self.scores(w, b)
        d = self.X.shape[1]
        total = np.zeros((d + 1, d + 1))
        with blas_limits(self.n_threads):
            for start, Xb in self.row_blocks():
                A = self.augmented_rows(Xb, np.abs(u[start : start + Xb.shape[0]]))
                gram = A.T @ A
                total += gram.toarray() if sparse.issparse(gram) else gram
        return total

    def score_group_sums(self, w, b, n_groups, groups):
        """C[g] = Σ_{i: groups_i = g} u_i x̃_i, shape (n_groups, d + 1); groups are codes 0..n_groups−1."""
        from scipy import sparse

        u = self.scores(w, b)
        d = self.X.shape[1]
        total = np.zeros((n_groups, d + 1))
        for start, Xb in self.row_blocks():
            m = Xb.shape[0]
            rows = slice(start, start + m)
            indicator = sparse.csr_matrix((u[rows], (groups[rows], np.arange(m))), shape=(n_groups, m))
            sums = indicator @ Xb.astype(np.float64)
            total[:, :d] += sums.toarray() if sparse.issparse(sums) else sums
            total[:, d] += np.bincount(groups[rows], u[rows], minlength=n_groups)
        return total

    def row_blocks(self, copies=1):
        """(start, X[start:start + m]) for row blocks of about 4 MB of float64 (per copy)."""
        n, d = self.X.shape
        rows = max(1, (4 << 20) // (8 * (d + 1) * copies))
        for start in range(0, n, rows):
            yield start, self.X[start : start + rows]

    @staticmethod
    def augmented_rows(Xb, scale):
        """diag(scale)·[X_b, 1] in float64 (sparse backends return a sparse matrix)."""
        A = np.empty((Xb.shape[0], Xb.shape[1] + 1))
        np.multiply(Xb, scale[:, None], out=A[:, :-1])
        A[:, -1] = scale
        return A

    @staticmethod
    def _squares(Xb):
        """Elementwise x², float64, of a block of rows of X (sparse backends override it)."""
        return np.square(Xb, dtype=np.float64)

    def subsample(self, step):
        """The same kind of backend on every ``step``-th row (a fresh, validated one)."""
        return self._build_like(self.X[::step], step)

    def _build_like(self, rows, step):
        """A backend like this one on X's rows ``rows`` = X[::step] (labels, weights and offset taken alike)."""
        weight = None if self.sample_weight is None else self.sample_weight[::step]
        offset = None if self.offset is None else self.offset[::step]
        return self.build(rows, self.y[::step], weight, model=self.model, offset=offset,
                          n_classes=self.n_classes, **self._build_options())

    def _build_options(self):
        """The keyword arguments of ``build`` that make another backend like this one."""
        return {"n_threads": self.n_threads}

    @property
    def features(self):
        """X as this backend was built from it (another backend can be built on it without a copy)."""
        return self.X

    def row_products(self, rows, coef):
        """X[rows] @ coefᵀ in float64, (len(rows), k), for k rows of feature coefficients (k, n_features)."""
        z = self.X[rows] @ coef.T
        return np.asarray(z.compute() if hasattr(z, "compute") else z, dtype=np.float64)

    def products(self, w, b):
        """X w + b, the product in X's precision (as BLAS does it); for directions too."""
        return self.X @ w.astype(self.X.dtype) + b

    def margins(self, w, b):
        """z = X w + b + offset."""
        z = self.products(w, b)
        return z if self.offset is None else z + self.offset

    def curvatures(self, w, b):
        """s_i p_i (1 − p_i) for every row, float64, p_i = σ(x_i·w + b + o_i): the binary Hessian's row weights."""
        z = self.X @ np.asarray(w, dtype=np.float64) + b
        c = curvature(z if self.offset is None else z + self.offset)
        return c if self.sample_weight is None else c * self.sample_weight

    # -- sparse X's columns, for solvers that walk them (one copy per X, shared) -------------------
    def _column_cache(self):
        if getattr(self, "_columns", None) is None:
            self._columns = _column_cache(self.X)  # held here: it lives while a backend on this X does
        return self._columns

    def columns(self):
        """Sparse X in canonical CSC form, made once for this X (as many bytes again as X)."""
        cache = self._column_cache()
        with cache.lock:
            if cache.csc is None:
                csc = self.X.tocsc()
                csc.sort_indices()
                cache.csc = csc
            return cache.csc

    def column_counts(self):
        """The stored entries of every column of sparse X, (n_features,), counted once for this X."""
        cache = self._column_cache()
        with cache.lock:
            if cache.counts is None:
                cache.counts = np.bincount(self.X.indices, minlength=self.X.shape[1])
            return cache.counts

    def null_log_likelihood(self):
        """Σ s_i log P(y_i) of the intercept-only model (with the offset) at its maximum.

        Without offset b = logit(ȳ) in closed form; with one, Newton's method
        on the concave one-dimensional log-likelihood of b (n-vectors only).
        """
        from scipy.special import xlogy

        if self.offset is None:
            mean = self.label_mean()
            return self.weight_sum() * float(xlogy(mean, mean) + xlogy(1.0 - mean, 1.0 - mean))
        b = 0.0
        for _ in range(100):
            score, curvature, _ = self.intercept_sums(b)
            step = score / max(curvature, 1e-300)
            b += float(np.clip(step, -5.0, 5.0))
            if abs(step) < 1e-12 * max(1.0, abs(b)):
                break
        return -self.intercept_sums(b)[2]

    def intercept_sums(self, b):
        """(Σ s_i (y_i − p_i), Σ s_i p_i (1 − p_i), Σ s_i ℓ_i) at margins o_i + b: the null model's Newton step
        and loss (n-vectors only)."""
        y = np.asarray(self.y, dtype=np.float64)
        s = np.ones_like(y) if self.sample_weight is None else np.asarray(self.sample_weight, dtype=np.float64)
        z = np.asarray(self.offset) + b
        p = expit(z)
        return float(s @ (y - p)), float(s @ (p * (1.0 - p))), float(s @ (np.logaddexp(0.0, z) - y * z))

    def positive_weight(self):
        """Mask of the rows that count (weight > 0); None when all do."""
        return None if self.sample_weight is None else self.sample_weight > 0

    def max_abs_margin(self, w, b):
        """max_i |x_i·w + b| over the rows of positive weight (no offset: (w, b) is a step)."""
        u = np.abs(self.products(w, b))
        keep = self.positive_weight()
        if keep is not None:
            u = u * keep  # a mask, not indexing: dask arrays keep known chunk sizes
        return float(u.max())

    def __repr__(self):
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype}, n_threads={self.n_threads})"


def add_partials(a, b):
    """Sum of two partial results: arrays, floats, or tuples of them."""
    if isinstance(a, tuple):
        return tuple(x + y for x, y in zip(a, b))
    return a + b


def pairwise_sum(parts, add=add_partials):
    """Σ of partial results in a fixed pairwise tree, by ``add`` (reproducible for the same list)."""
    while len(parts) > 1:
        paired = [add(parts[k], parts[k + 1]) for k in range(0, len(parts) - 1, 2)]
        parts = paired + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


def as_ndarray(a):
    """A product's result as an ndarray (scipy.sparse products are sparse)."""
    return a.toarray() if hasattr(a, "toarray") else np.asarray(a)


def symmetric_from_upper(H):
    """The symmetric matrix whose upper triangle (diagonal included) is that of H."""
    upper = np.triu(H)
    return upper + np.triu(upper, 1).T


def sparse_augmented_rows(Xb, scale):
    """diag(scale)·[X_b, 1] as a float64 CSR matrix."""
    from scipy import sparse

    column = sparse.csr_matrix(np.ones((Xb.shape[0], 1)))
    return sparse.diags(scale) @ sparse.hstack([Xb.astype(np.float64), column], format="csr")


def sparse_squares(Xb):
    """Elementwise x² of a block of rows of a sparse X (still sparse)."""
    return Xb.multiply(Xb)
