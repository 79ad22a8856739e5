"""The table backend: numeric columns beside categorical codes (``tables.CategoricalMatrix``), never one-hot.

The binary and multinomial models' sums run on the codes (``binary.Categorical``,
``multinomial.Categorical``: the kernels of ``kernels.categorical``, a
gather for the margins, a scatter for the levels' gradient, in the pass that
reads the numeric columns), and the binary Hessian comes in blocks
(``LevelHessian``).  Everything else (the ordinal model, the multinomial
Hessian, column walks of the L1 solvers, the robust covariances) reads the
design as a CSR matrix of indicator columns, made on first use (``X``): the
loss's ``csr`` sums, the kind a loss falls back to when it has no
``categorical`` one.
"""

from __future__ import annotations

import numpy as np

from .._threads import launch
from ..tables import CategoricalMatrix
from .base import ArrayBackend
from .csr import CsrBackend


class CategoricalBackend(CsrBackend):
    """A ``CategoricalMatrix``; ``X`` is its CSR design, made when something first reads it."""

    kind = "categorical"
    fallback_kind = "csr"
    sparse = True

    def __init__(self, X, *args, **kwargs):
        self._csr = None
        super().__init__(X, *args, **kwargs)

    @staticmethod
    def as_features(X):
        if not isinstance(X, CategoricalMatrix):
            raise TypeError(f"the table backend takes a CategoricalMatrix, got {type(X).__name__}")
        return X

    @property
    def X(self):
        if self._csr is None:
            self._csr = self.table.to_csr()
        return self._csr

    @X.setter
    def X(self, value):
        self.table = value
        self._csr = None

    features = property(lambda self: self.table)
    shape = property(lambda self: self.table.shape)
    dtype = property(lambda self: self.table.dtype)

    def split(self, W):
        """(numeric weights, slot weights θ) from the design's feature weights: for w (d,), (p,) and (n_slots,);
        for the multinomial W (K, d), (K, p) and θ flat (n_slots·K,), a slot's K weights together."""
        W = np.asarray(W, dtype=np.float64)
        p = self.table.n_numeric
        return np.ascontiguousarray(W[..., :p]), self.table.slot_weights(W.T).ravel()

    def design_sums(self, numeric, slots):
        """A kernel's sums in the design's order: [numeric, levels, intercept] from its numeric-and-intercept sums
        ((p + 1,), or K rows flat) and slot sums ((n_slots,), or K per slot flat); (d + 1,) or (K, d + 1)."""
        t = self.table
        p = t.n_numeric
        rows = numeric.reshape(-1, p + 1)
        levels = slots.reshape(t.n_slots, -1)[t.feature_slots()].T
        out = np.concatenate([rows[:, :p], levels, rows[:, p:]], axis=1)
        return out[0] if rows.shape[0] == 1 else out  # the binary model's one row; K ≥ 2 rows multinomial

    def level_totals(self, values):
        """Σ_i values_i over each kept level's rows, in design order (L,); values None: the row counts."""
        t = self.table
        return np.concatenate([
            np.bincount(t.codes[:, j], weights=values, minlength=int(t.n_levels[j]) + 1)[: t.n_levels[j]]
            for j in range(t.codes.shape[1])
        ]).astype(np.float64)

    def _statistics(self):
        """(Σ_i s_i x_ij, Σ_i s_i x_ij²) for every design column, measured once per weight vector: the numeric
        columns by ``kernels.dense.column_statistics``, the levels by counting (an indicator's square is itself)."""
        cached = getattr(self, "_cached_statistics", None)
        if cached is None or cached[0] is not self.sample_weight:
            from ..kernels import dense

            numeric = launch(dense.column_statistics, self.n_threads, self.table.numeric, self.sample_weight)
            levels = self.level_totals(self.sample_weight)
            sums = np.concatenate([numeric[0], levels]), np.concatenate([numeric[1], levels])
            self._cached_statistics = (self.sample_weight, sums)
        return self._cached_statistics[1]

    def column_sums(self):
        return self._statistics()[0].copy()

    def column_sum_squares(self):
        return self._statistics()[1].copy()

    def row_products(self, rows, coef):
        return self.table.rows(rows) @ np.asarray(coef, dtype=np.float64).T

    def products(self, w, b):
        from ..kernels import categorical

        t = self.table
        out = np.empty(t.shape[0])
        launch(categorical.margins, self.n_threads, t.numeric, t.codes, t.starts, *self.split(w), float(b), out)
        return out

    def curvatures(self, w, b):
        from ..kernels import categorical

        t = self.table
        out = np.empty(t.shape[0])
        args = (t.numeric, t.codes, t.starts, self.sample_weight, self.offset, *self.split(w), float(b), out)
        launch(categorical.curvatures, self.n_threads, *args)
        return out

    def newton_size(self, n_coef):
        if not self.has_level_hessian:
            return n_coef
        return n_coef - int(self.table.n_levels.max())  # the largest categorical's levels are the diagonal block

    def subsample(self, step):
        return self._build_like(self.table.rows(slice(None, None, step)), step)


class LevelHessian:
    """A Hessian (F, F) in blocks: the coefficients ``big`` (one categorical's levels: a diagonal block
    ``diagonal``), the others ``rest`` (a dense block ``block`` (m, m)), and ``coupling`` = H[rest, big] (m, L),
    a scipy.sparse CSR matrix.

    One categorical's levels never share a row, so its block is diagonal; the
    largest one is put there, and a Newton step solves with the Schur
    complement on the rest (``solvers.newton.LevelFactor``): m³/3 for the
    factor instead of (m + L)³/3, and no (m + L)² matrix.
    """

    def __init__(self, big, rest, diagonal, coupling, block):
        self.big, self.rest = big, rest
        self.diagonal, self.coupling, self.block = diagonal, coupling, block

    @property
    def size(self):
        return self.big.size + self.rest.size

    def finished(self, scale, l2, features):
        """scale·H + l2 on the diagonal of the coefficients ``features`` (positions < ``features``: the design's
        columns), the intercept's row and column (position ``features``) dropped unless kept in rest."""
        diagonal = scale * self.diagonal + l2 * (self.big < features)
        block = scale * self.block
        block[np.diag_indices_from(block)] += l2 * (self.rest < features)
        return LevelHessian(self.big, self.rest, diagonal, scale * self.coupling, block)

    def without(self, position):
        """The Hessian without the coefficient at ``position`` (one of ``rest``), later positions moved down."""
        keep = self.rest != position
        rest = self.rest[keep]
        shift = lambda index: index - (index > position)  # noqa: E731
        return LevelHessian(shift(self.big), shift(rest), self.diagonal, self.coupling[keep],
                            self.block[np.ix_(keep, keep)])

    def toarray(self):
        """The whole matrix (F, F)."""
        H = np.zeros((self.size, self.size))
        H[self.big, self.big] = self.diagonal
        H[np.ix_(self.rest, self.rest)] = self.block
        coupling = self.coupling.toarray()
        H[np.ix_(self.rest, self.big)] = coupling
        H[np.ix_(self.big, self.rest)] = coupling.T
        return H


def level_hessian(data, w, b):
    """The binary Hessian's sums X̃ᵀ diag(s p(1−p)) X̃ on a table, as a ``LevelHessian`` over the positions
    [numeric (p), levels (L), intercept] = 0..d.

    The row weights h in one pass (``kernels.categorical.curvatures``); then
    the numeric block's Gram matrix by BLAS in row blocks, each level's sums
    of h·[x, 1] (``level_sums``) and the cross-tabulations of h between
    categoricals (``cross_sums``; the coupling with the largest one is kept sparse).
    """
    from scipy import sparse

    from ..kernels import categorical

    t = data.table
    n, p = t.numeric.shape
    d = t.shape[1]
    h = data.curvatures(w, b)
    sums = np.zeros((t.n_slots, p + 1))
    launch(categorical.level_sums, data.n_threads, t.numeric, t.codes, t.starts, h, sums)
    starts = [p + int(k) for k in np.concatenate([[0], np.cumsum(t.n_levels)])]  # each categorical's first position
    slots = [np.arange(t.starts[j], t.starts[j] + t.n_levels[j]) for j in range(t.n_levels.size)]
    largest = int(np.argmax(t.n_levels))
    big = np.arange(starts[largest], starts[largest + 1])
    rest = np.concatenate([np.arange(p)] + [np.arange(starts[j], starts[j + 1]) for j in range(t.n_levels.size)
                                             if j != largest] + [[d]]).astype(np.int64)
    where = np.full(d + 1, -1)
    where[rest] = np.arange(rest.size)
    numeric_and_one = np.append(where[:p], where[d])  # rest positions of [x, 1]
    block = np.zeros((rest.size, rest.size))
    block[np.ix_(numeric_and_one, numeric_and_one)] = _numeric_gram(t.numeric, h, data.n_threads)
    coupling = np.zeros((rest.size, big.size))  # H[rest, big]
    coupling[numeric_and_one] = sums[slots[largest]].T
    for j in range(t.n_levels.size):
        if j == largest:
            continue
        mine = where[starts[j] : starts[j + 1]]
        level = sums[slots[j]]  # (L_j, p + 1)
        block[np.ix_(mine, numeric_and_one)] = level
        block[np.ix_(numeric_and_one, mine)] = level.T
        block[mine, mine] = level[:, p]
        for k in range(t.n_levels.size):
            if k == j:
                continue
            cross = np.zeros((t.n_levels[j] + 1, t.n_levels[k] + 1))
            categorical.cross_sums(t.codes, j, k, h, cross)
            if k == largest:
                coupling[mine] = cross[:-1, :-1]
            else:
                block[np.ix_(mine, where[starts[k] : starts[k + 1]])] = cross[:-1, :-1]
    coupling = sparse.csr_matrix(coupling)  # few levels of two categoricals meet: mostly zeros
    return LevelHessian(big, rest, sums[slots[largest], p].copy(), coupling, block)


def _numeric_gram(X, h, n_threads):
    """[X, 1]ᵀ diag(h) [X, 1], (p + 1, p + 1): Gram matrices of diag(√h)·[X_b, 1] (``augmented_rows``) by BLAS in
    row blocks of ~4 MB."""
    from .._threads import blas_limits

    n, p = X.shape
    G = np.zeros((p + 1, p + 1))
    rows = max(1, (4 << 20) // (8 * (p + 1)))
    with blas_limits(n_threads):
        for start in range(0, n, rows):
            A = ArrayBackend.augmented_rows(X[start : start + rows], np.sqrt(h[start : start + rows]))
            G += A.T @ A
    return G
