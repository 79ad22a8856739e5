"""Tables as data: categorical columns kept as their integer codes beside the numeric columns.

A pandas DataFrame, a pyarrow Table or a polars DataFrame whose columns are
numbers, booleans or categories (pandas ``category``, polars
``Categorical``/``Enum``, Arrow dictionary) becomes a ``CategoricalMatrix``:
the numeric columns as one dense C-contiguous block (float32 if they all are,
else float64) and each categorical column as the codes of its levels, never
as one-hot floats.  The design it stands for is

    X = [numeric columns | one indicator column per kept level of each categorical]

so its features are the numeric columns first (in the table's order), then
each categorical's kept levels (named ``column[level]``).  ``Coding`` is the
map from a table to that design: made once by ``Coding.learn`` on the
training table, it encodes new tables the same way (``encode``) for
prediction.

Codes index *slots*: categorical j owns the slots ``starts[j]`` ..
``starts[j + 1] − 1``, one per kept level and a last one that carries no
coefficient (its weight is held at 0): a dropped first level and, at
prediction with ``unseen="zero"``, an unseen one point there.  The kernels
then gather and scatter by code with no branch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: how a missing value of a categorical column is treated
MISSING = ("error", "level")
#: how a level unseen in training is treated at prediction
UNSEEN = ("error", "zero")
#: the name of the level that ``missing="level"`` adds
MISSING_LEVEL = "<missing>"


def resolve_drop_first(drop_first, penalised, fit_intercept):
    """(drop_first, keep_first_column) for ``Coding.learn``.

    None: an unpenalised fit drops each categorical's first level (the
    treatment coding that makes it identifiable, as statsmodels' formulas
    do) except, without intercept, the first categorical's; a penalised fit
    keeps every level (the penalty identifies them, and no level is singled
    out).  True and False apply to every categorical.
    """
    from ._validation import check_bool

    if drop_first is None:
        return not penalised, not fit_intercept
    return check_bool("drop_first", drop_first), False


def is_table(X):
    """A pandas DataFrame, pyarrow Table or polars DataFrame (without importing any of them)."""
    module = type(X).__module__.split(".")[0]
    return module in ("pandas", "pyarrow", "polars") and hasattr(X, "columns") and getattr(X, "ndim", 2) == 2


def table_columns(X):
    """[(name, pandas Series)] of a table's columns: a polars DataFrame through Arrow, an Arrow
    dictionary column as a pandas categorical.  A polars ``Categorical`` (not ``Enum``) column's levels are
    sorted: polars keeps them in the order the strings were first seen, which depends on the data's history."""
    module = type(X).__module__.split(".")[0]
    if module == "polars":
        import polars as pl

        unordered = {name for name, dtype in X.schema.items() if dtype == pl.Categorical}
        columns = [(str(name), X[name].to_arrow().to_pandas()) for name in X.columns]
        return [(name, series.cat.reorder_categories(sorted(series.cat.categories)) if name in unordered else series)
                for name, series in columns]
    if module == "pyarrow":
        return [(str(name), X.column(name).to_pandas()) for name in X.column_names]
    return [(str(name), X[name]) for name in X.columns] if X.columns.is_unique else _refuse_duplicated(X)


def _refuse_duplicated(frame):
    names = [str(name) for name in frame.columns]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    raise ValueError(f"X has duplicated column names {duplicated}: each column needs a name of its own")


def has_categorical(X):
    """Whether X is a table with at least one categorical column."""
    if not is_table(X):
        return False
    return any(_is_categorical(series) for _, series in table_columns(X))


def _is_categorical(series):
    import pandas as pd

    return isinstance(series.dtype, pd.CategoricalDtype)


@dataclasses.dataclass(frozen=True)
class CategoricalColumn:
    """One categorical column's coding: its name, every level it had in training (``categories``) and how many
    of them lead (``dropped``: 0 or 1, the first level without coefficient) ; ``missing_level``: whether a
    last level holds the missing values."""

    name: str
    categories: tuple
    dropped: int
    missing_level: bool

    @property
    def levels(self):
        """The levels with a coefficient, in coefficient order."""
        labels = self.categories[self.dropped :]
        return labels + ((MISSING_LEVEL,) if self.missing_level else ())

    @property
    def n_levels(self):
        return len(self.levels)


@dataclasses.dataclass(frozen=True)
class Coding:
    """How a table becomes the design: its numeric columns and its categorical columns' codings."""

    columns: tuple  # every column's name, in the table's order
    numeric: tuple  # the numeric columns' names
    categorical: tuple  # CategoricalColumn for each categorical column
    missing: str = "error"
    treatment_names: bool = False  # a dropped-level column's levels named column[T.level], as formulas name them
    intercept_name: str = "intercept"

    @classmethod
    def learn(cls, X, drop_first, missing="error", keep_first_column=False, treatment_names=False):
        """The coding of table X: ``drop_first`` True drops every categorical's first level, except the first
        categorical's with ``keep_first_column`` (its indicators then stand for a missing intercept); False
        keeps every level (``resolve_drop_first`` decides for None)."""
        from ._validation import check_choice

        check_choice("missing", missing, MISSING)
        columns = table_columns(X)
        numeric, categorical = [], []
        for name, series in columns:
            if not _is_categorical(series):
                numeric.append(name)
                continue
            categories = tuple(series.cat.categories)
            has_missing = bool((series.cat.codes.to_numpy() < 0).any())
            if has_missing and missing == "error":
                row = int(np.argmax(series.cat.codes.to_numpy() < 0))
                raise ValueError(
                    f"X column {name!r} has a missing value (first at row {row}); fill it, or pass "
                    "missing='level' to make missing values a level of their own"
                )
            drop = int(bool(drop_first) and not (keep_first_column and not categorical))
            if not categories and not has_missing:
                raise ValueError(f"X column {name!r} is categorical with no levels")
            categorical.append(CategoricalColumn(name, categories, min(drop, len(categories)), has_missing))
        return cls(tuple(name for name, _ in columns), tuple(numeric), tuple(categorical), missing,
                   bool(treatment_names), "Intercept" if treatment_names else "intercept")

    @property
    def feature_names(self):
        """The design's column names: the numeric columns, then ``column[level]`` for every kept level."""
        def prefix(c):
            return "T." if self.treatment_names and c.dropped else ""

        return self.numeric + tuple(f"{c.name}[{prefix(c)}{level}]" for c in self.categorical for level in c.levels)

    @property
    def n_features(self):
        return len(self.numeric) + sum(c.n_levels for c in self.categorical)

    def design_weights(self, weights):
        """Penalty weights of the design's columns from weights given per table column or by name.

        A mapping (dict, pandas Series) from names: a table column's name
        weighs all its design columns (every level of a categorical), a
        design column's name (``column[level]``) that one; the others weigh
        1.  A sequence with one weight per table column (in its order) is
        spread over the design alike.  Anything else is returned as it is
        (one weight per design column, checked by the caller).
        """
        if weights is None:
            return None
        spans = {}  # table column → its design columns
        start = 0
        for name in self.numeric:
            spans[name] = [start]
            start += 1
        for column in self.categorical:
            spans[column.name] = list(range(start, start + column.n_levels))
            start += column.n_levels
        if hasattr(weights, "items") and hasattr(weights, "keys"):
            out = np.ones(self.n_features)
            position = {name: j for j, name in enumerate(self.feature_names)}
            for name, weight in weights.items():
                if name in spans:
                    out[spans[name]] = weight
                elif name in position:
                    out[position[name]] = weight
                else:
                    raise ValueError(f"penalty_weights names {name!r}, which is neither a column of X nor of its "
                                     f"design (the columns: {list(self.columns)})")
            return out
        if np.ndim(weights) == 1 and len(weights) == len(self.columns) != self.n_features:
            out = np.empty(self.n_features)
            for name, weight in zip(self.columns, np.asarray(weights, dtype=np.float64)):
                out[spans[name]] = weight
            return out
        return weights

    def encode(self, X, unseen="error", allow_empty=False):
        """Table X as a ``CategoricalMatrix`` (as an array without categorical columns) of this coding (the training table's, or a new one to predict on).

        A level not in the training table raises ValueError naming the column
        and the level, unless ``unseen="zero"`` gives it a zero contribution;
        so does a missing value when the training table had none (with
        ``missing="level"``).
        """
        from ._validation import check_choice

        check_choice("unseen", unseen, UNSEEN)
        if not is_table(X):
            raise ValueError(
                f"X must be a table (a pandas or polars DataFrame, a pyarrow Table) with the columns {list(self.columns)}, "
                f"got {type(X).__name__}"
            )
        columns = dict(table_columns(X))
        absent = [name for name in self.columns if name not in columns]
        if absent:
            raise ValueError(f"X lacks the column(s) {absent} of the table the model was fitted on")
        n = len(next(iter(columns.values()))) if columns else 0
        if n == 0 and not allow_empty:
            raise ValueError("X has no rows")
        numeric = self._numeric_block([columns[name] for name in self.numeric], n)
        if not self.categorical:
            return numeric
        codes = [self._codes(c, columns[c.name], unseen) for c in self.categorical]
        return CategoricalMatrix.from_codes(numeric, codes, [c.n_levels for c in self.categorical])

    def _numeric_block(self, series, n):
        """The numeric columns as one C-contiguous block, filled column by column (no other copy of the table):
        float32 where every column is float32, else float64; checked finite (naming the column)."""
        from ._validation import as_numeric_array, check_finite

        values = []
        for name, column in zip(self.numeric, series):
            if _is_categorical(column):
                raise ValueError(f"X column {name!r} is categorical, but it was numeric in the fitted table")
            values.append(column)
        dtype = np.float32 if values and all(v.dtype == np.float32 for v in values) else np.float64
        block = np.empty((n, len(values)), dtype=dtype)
        arrays = [as_numeric_array("X", column) for column in values]  # views where the table holds NumPy columns
        rows = max(1, (1 << 19) // max(1, len(values) * block.itemsize))  # fill cache-sized row blocks
        for start in range(0, n, rows):
            for j, array in enumerate(arrays):
                block[start : start + rows, j] = array[start : start + rows]
        check_finite("X", block, list(self.numeric))
        return block

    def _codes(self, column, series, unseen):
        """The slot codes of one categorical column of a table: kept level k → k, a dropped or (``unseen="zero"``)
        unseen level → the column's last slot, n_levels."""
        if not _is_categorical(series):
            import pandas as pd

            series = pd.Series(series).astype("category")  # a new table may hold the labels as plain values
        raw = series.cat.codes.to_numpy().astype(np.int64)
        given = tuple(series.cat.categories)
        position = {label: k for k, label in enumerate(column.categories)}
        kept = column.n_levels
        lookup = np.empty(len(given) + 1, dtype=np.int64)  # the given level's slot, −1 where unseen; last: missing
        for k, label in enumerate(given):
            at = position.get(label, -1)
            lookup[k] = -1 if at < 0 else kept if at < column.dropped else at - column.dropped
        lookup[-1] = kept - 1 if column.missing_level else -1
        slots = lookup[raw]  # raw −1 (missing) reads the last entry
        bad = slots < 0
        if bad.any():
            if unseen == "zero":
                slots[bad] = kept
            else:
                row = int(np.argmax(bad))
                if raw[row] < 0:
                    raise ValueError(
                        f"X column {column.name!r} has a missing value (row {row}), which the fitted table did not "
                        "have; pass unseen='zero' to give it no contribution"
                    )
                raise ValueError(
                    f"X column {column.name!r} has the level {given[raw[row]]!r} (row {row}), unseen in the fitted "
                    "table; pass unseen='zero' to give it no contribution"
                )
        return slots


class CategoricalMatrix:
    """A table as numeric columns (n, p) beside categorical codes (n, c): the design X of n × (p + L).

    ``numeric``: C-contiguous float32/float64; ``codes``: C-contiguous,
    the smallest unsigned type that holds every slot; ``starts`` (c + 1,):
    categorical j's slots are starts[j] .. starts[j + 1] − 1, its kept levels
    and, last, a slot without coefficient.  ``n_levels`` (c,): kept levels.
    """

    def __init__(self, numeric, codes, starts, n_levels):
        self.numeric, self.codes, self.starts, self.n_levels = numeric, codes, starts, n_levels
        n, p = numeric.shape
        self.shape = (n, p + int(n_levels.sum()))
        self.dtype = numeric.dtype

    @classmethod
    def from_codes(cls, numeric, codes, n_levels):
        """From the numeric block and each categorical's slot codes (0..n_levels[j], the last the empty slot)."""
        n_levels = np.asarray(n_levels, dtype=np.int64)
        starts = np.zeros(n_levels.size + 1, dtype=np.int64)
        np.cumsum(n_levels + 1, out=starts[1:])
        top = int(n_levels.max(initial=0))
        kind = np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.uint32
        stacked = np.empty((numeric.shape[0], n_levels.size), dtype=kind)
        for j, column in enumerate(codes):
            stacked[:, j] = column
        return cls(numeric, stacked, starts, n_levels)

    @property
    def n_numeric(self):
        return self.numeric.shape[1]

    @property
    def n_slots(self):
        return int(self.starts[-1])

    def slot_features(self):
        """For every slot, the design column it stands for (−1 for the slots without coefficient), (n_slots,)."""
        out = np.full(self.n_slots, -1, dtype=np.int64)
        column = self.n_numeric
        for j, count in enumerate(self.n_levels):
            out[self.starts[j] : self.starts[j] + count] = np.arange(column, column + count)
            column += count
        return out

    def feature_slots(self):
        """For every categorical design column (in order), its slot, (L,)."""
        features = self.slot_features()
        return np.flatnonzero(features >= 0)

    def slot_weights(self, W):
        """The slots' weights from the design's coefficients W (d,) or (d, k): W's rows of the kept levels, 0 in
        the empty slots; (n_slots,) or (n_slots, k), float64."""
        W = np.asarray(W, dtype=np.float64)
        out = np.zeros((self.n_slots,) + W.shape[1:])
        out[self.feature_slots()] = W[self.n_numeric :]
        return out

    def __matmul__(self, W):
        """X W for W (d,) or (d, k), float64: the numeric part by BLAS, each categorical's part gathered by code."""
        W = np.asarray(W, dtype=np.float64)
        p = self.n_numeric
        out = self.numeric.astype(np.float64, copy=False) @ W[:p]
        slots = self.slot_weights(W)
        for j in range(self.codes.shape[1]):
            out += slots[self.starts[j] + self.codes[:, j].astype(np.int64)]
        return out

    def __getitem__(self, index):
        """X[rows]: the matrix of those rows (a slice, an integer or boolean array)."""
        return self.rows(index)

    def __len__(self):
        return self.shape[0]

    def rows(self, index):
        """The matrix of the rows ``index`` (a slice or an integer array)."""
        numeric = np.ascontiguousarray(self.numeric[index])
        return CategoricalMatrix(numeric, np.ascontiguousarray(self.codes[index]), self.starts, self.n_levels)

    def to_csr(self):
        """The design as a CSR matrix of X's dtype: numeric columns, then the indicators of the kept levels."""
        from scipy import sparse

        n, p = self.numeric.shape
        features = self.slot_features()
        rows, columns = [], []
        for j in range(self.codes.shape[1]):
            column = features[self.starts[j] + self.codes[:, j].astype(np.int64)]
            keep = column >= 0
            rows.append(np.flatnonzero(keep))
            columns.append(column[keep] - p)
        rows, columns = np.concatenate(rows), np.concatenate(columns)
        indicators = sparse.csr_matrix((np.ones(rows.size, dtype=self.dtype), (rows, columns)),
                                       shape=(n, self.shape[1] - p))
        parts = ([sparse.csr_matrix(self.numeric)] if p else []) + [indicators]
        X = parts[0] if len(parts) == 1 else sparse.hstack(parts, format="csr")
        X = sparse.csr_matrix(X, dtype=self.dtype)
        X.sum_duplicates()
        return X

    def __repr__(self):
        return (
            f"CategoricalMatrix(shape={self.shape}, n_numeric={self.n_numeric}, "
            f"levels={self.n_levels.tolist()}, dtype={self.dtype})"
        )


def design_weights(coding, weights):
    """``weights`` for the design of ``coding`` (``Coding.design_weights``), as they are without one."""
    return weights if coding is None else coding.design_weights(weights)


def prepare(X, *, drop_first=None, missing="error", penalised=False, fit_intercept=True):
    """(X as the backends take it, its ``Coding`` or None) for ``model.build_objective``.

    A table becomes its design (``Coding.learn``, ``resolve_drop_first``): a
    ``CategoricalMatrix`` if it has categorical columns, else its numeric
    columns as an array; its ``Coding`` then names the design's columns and
    encodes new tables alike.  Anything else is returned as it is, with None.
    """
    if not is_table(X):
        return X, None
    drop, keep_first = resolve_drop_first(drop_first, penalised, fit_intercept)
    coding = Coding.learn(X, drop, missing, keep_first)
    return coding.encode(X), coding
