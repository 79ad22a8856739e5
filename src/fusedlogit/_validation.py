"""Argument checks and one-time conversions shared by every public entry point.

Errors are ``ValueError`` naming the offending argument.  Inputs are never
modified: conversions make new arrays, and arrays already in the right form are
used as they are (no copy).
"""

from __future__ import annotations

import numbers
import sys

import numpy as np

#: Rows checked at a time for NaN/inf, so the check makes no n × d temporary.
_FINITE_CHECK_ELEMENTS = 1 << 20


def check_finite(name, a, columns=None, first_row=0):
    """Raise if ``a`` has a NaN or an infinity, naming the first one's row (and column); reads ``a`` in row blocks.

    ``columns`` are the column names to quote (a DataFrame's), ``first_row``
    the number of ``a``'s first row in the whole data (a chunk's offset).
    """
    if a.ndim == 1 or a.size <= _FINITE_CHECK_ELEMENTS:
        if not np.isfinite(a).all():
            _refuse_not_finite(name, a, columns, first_row)
        return
    rows = max(1, _FINITE_CHECK_ELEMENTS // max(1, a.shape[1]))
    for start in range(0, a.shape[0], rows):
        if not np.isfinite(a[start : start + rows]).all():
            _refuse_not_finite(name, a[start : start + rows], columns, first_row + start)


def _refuse_not_finite(name, a, columns, first_row):
    where = np.argwhere(~np.isfinite(a))[0]
    row = first_row + int(where[0])
    if a.ndim == 1:
        raise ValueError(f"{name} contains NaN or infinity (first at row {row}: {a[where[0]]})")
    column = int(where[1])
    raise ValueError(
        f"{name} contains NaN or infinity (first at row {row}, {_column_label(column, columns)}: {a[where[0], column]})"
    )


def _column_label(column, columns):
    return f"column {column}" if columns is None else f"column {column} ({columns[column]!r})"


def check_finite_csr(name, X, columns=None, first_row=0):
    """``check_finite`` for a CSR matrix: reads only the stored values, names the first bad one's row and column
    (``first_row``: the number of X's first row in the whole data)."""
    bad = ~np.isfinite(X.data)
    if bad.any():
        k = int(np.argmax(bad))
        row = first_row + int(np.searchsorted(X.indptr, k, side="right")) - 1
        column = int(X.indices[k])
        raise ValueError(
            f"{name} contains NaN or infinity (first at row {row}, {_column_label(column, columns)}: {X.data[k]})"
        )


def float_dtype(a):
    """float32 stays float32, float64 stays float64, anything else becomes float64."""
    return a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def is_real_dtype(dtype):
    return (np.issubdtype(dtype, np.number) or dtype == np.bool_) and not np.issubdtype(dtype, np.complexfloating)


def check_features_form(X, allow_empty=False):
    """Shape and dtype checks of X that need no pass over its values (any array type)."""
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got {X.ndim} dimension(s)")
    if X.shape[0] == 0 and not allow_empty:
        raise ValueError("X has no rows")
    if not is_real_dtype(X.dtype):
        raise ValueError(f"X must hold real numbers, got dtype {X.dtype}")


def check_vector_form(name, a, n):
    """Shape and dtype checks of a per-sample vector (any array type)."""
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got {a.ndim} dimension(s)")
    if a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} entries but X has {n} rows")
    if not is_real_dtype(a.dtype):
        raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")


def as_features(X, *, contiguous, finite=True, allow_empty=False):
    """X as a 2-D float32/float64 array (C-contiguous if asked), checked finite.

    ``finite=False`` leaves the NaN/inf check to a caller that reads every
    value anyway (``fit_many`` checks each group as it gathers it).  A
    pandas DataFrame of numeric and boolean columns (nullable ones too: NA
    becomes NaN, refused as such) is accepted.
    """
    if is_sparse(X):
        raise ValueError("X is a scipy.sparse matrix, which this function does not take; pass X.toarray()")
    columns = column_names(X)
    X = as_numeric_array("X", X)
    check_features_form(X, allow_empty)
    dtype = float_dtype(X)
    X = np.ascontiguousarray(X, dtype=dtype) if contiguous else X.astype(dtype, copy=False)
    if finite:
        check_finite("X", X, columns)
    return X


def prediction_features(X):
    """X to predict on: a table's design (``tables.CategoricalMatrix``) as it is, a sparse matrix as CSR, else a
    dense array (no rows allowed)."""
    from .tables import CategoricalMatrix

    if isinstance(X, CategoricalMatrix):
        return X
    return as_sparse_features(X, allow_empty=True) if is_sparse(X) else as_features(X, contiguous=False, allow_empty=True)


def column_names(X):
    """A table's column names as a list (a pandas or polars DataFrame's ``columns``, a pyarrow Table's
    ``column_names``: its ``columns`` are the columns themselves), or None for an array."""
    names = getattr(X, "column_names", None)
    if names is None:
        names = getattr(X, "columns", None)
    return None if names is None else list(names)


def is_sparse(X):
    """True for a scipy.sparse matrix or array (without importing scipy.sparse)."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def is_dask_array(X):
    """True for a dask array (without importing dask)."""
    array = sys.modules.get("dask.array")
    return array is not None and isinstance(X, array.Array)


def as_numeric_array(name, a):
    """``np.asarray(a)``, except that a pandas object whose columns are all numbers or booleans
    (NumPy or nullable dtypes, mixed) becomes float64, with NA as NaN.

    NumPy makes such a frame an object array; a column of another kind
    (strings, categories, dates) is named in the error.
    """
    array = np.asarray(a)
    if array.dtype != object or not hasattr(a, "to_numpy"):
        return array
    dtypes = a.dtypes
    columns = dtypes.items() if hasattr(dtypes, "items") else [(getattr(a, "name", None), dtypes)]
    for column, dtype in columns:
        if getattr(dtype, "kind", "O") not in "biuf":
            label = name if column is None else f"{name} column {column!r}"
            if str(dtype) == "category":
                raise ValueError(
                    f"{label} is categorical, which fusedlogit.fit, path, cv and the estimators take (as codes) but "
                    "this function does not; pass the table's design, fusedlogit.tables.Coding.learn(X, "
                    "drop_first=...).encode(X)"
                )
            raise ValueError(
                f"{label} has dtype {dtype}: it must hold numbers or booleans (or categories, where the table is X: "
                f"make it one with .astype('category'))"
            )
    return a.to_numpy(dtype=np.float64, na_value=np.nan)


def as_sparse_features(X, allow_empty=False):
    """X as a canonical CSR matrix (sorted indices, no duplicates) of float32/float64.

    CSC, COO and the other formats are converted once, here.  A CSR X of the
    right dtype and canonical form is used without copy.  Otherwise the
    caller's matrix is never modified: a converted matrix may still share
    its index arrays with the caller's (a dtype change copies only the
    values), so a non-canonical one is copied whole before its duplicates
    are summed and its indices sorted.  Only the stored values (``X.data``)
    are checked for NaN/inf: the implicit zeros are finite.  Column indices
    outside 0..d−1 (a matrix whose arrays were edited by hand) raise
    ValueError: the kernels index with them unchecked.
    """
    from scipy import sparse

    check_features_form(X, allow_empty)
    dtype = float_dtype(X)
    X = sparse.csr_matrix(X, dtype=dtype)  # no copy for a CSR matrix of that dtype
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()  # also sorts the indices of every row
    if X.nnz and (X.indices.min() < 0 or X.indices.max() >= X.shape[1]):  # the kernels trust them
        raise ValueError(f"X has column indices outside 0..{X.shape[1] - 1}: a corrupt sparse matrix")
    check_finite_csr("X", X)
    return X


def as_vector(name, a, n, dtype):
    """A per-sample vector as a contiguous array of ``dtype`` (X's), checked finite before and after the cast."""
    a = as_numeric_array(name, a)
    check_vector_form(name, a, n)
    check_finite(name, a)
    narrowing = np.dtype(dtype).itemsize < a.dtype.itemsize and a.dtype.kind == "f"
    with np.errstate(over="ignore"):  # reported below, in words
        a = np.ascontiguousarray(a, dtype=dtype)
    if narrowing and not np.isfinite(a).all():  # finite before the cast: the cast to float32 overflowed
        raise ValueError(
            f"{name} has values beyond the range of X's dtype {np.dtype(dtype).name} "
            f"(largest {np.finfo(dtype).max:.3g}); rescale them"
        )
    return a


def as_labels(y, n, dtype):
    """y as a contiguous vector of X's dtype with every value in [0, 1]."""
    y = as_vector("y", y, n, dtype)
    if y.min() < 0 or y.max() > 1:
        raise ValueError("y must lie in [0, 1] (0/1 labels, booleans or soft labels)")
    return y


def check_n_classes(n_classes):
    """An integer ≥ 2, as int."""
    if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    return int(n_classes)


def as_class_labels(y, n, dtype, n_classes=None):
    """Multinomial labels as (codes, soft, K): integer codes (n,) int64 with soft (0, K) empty, or the reverse.

    y is integer labels 0..K−1 (integer-valued floats and booleans too) or an
    (n, K) matrix of soft labels Y_ik ≥ 0 with Σ_k Y_ik = 1 (kept in X's
    ``dtype``).  ``n_classes`` defaults to max(y) + 1, or Y's width.
    """
    y = as_numeric_array("y", y)
    n_classes = None if n_classes is None else check_n_classes(n_classes)
    if y.ndim == 2:
        if not is_real_dtype(y.dtype):
            raise ValueError(f"y must hold real numbers, got dtype {y.dtype}")
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows but X has {n}")
        if n_classes is not None and y.shape[1] != n_classes:
            raise ValueError(f"y has {y.shape[1]} columns (soft labels) but n_classes={n_classes}")
        if y.shape[1] < 2:
            raise ValueError("y: soft labels need at least 2 columns (classes)")
        check_finite("y", y)
        soft = np.ascontiguousarray(y, dtype=dtype)
        if n and soft.min() < 0:
            raise ValueError("y: soft labels must be non-negative")
        sums = soft.sum(axis=1, dtype=np.float64)
        if n and np.max(np.abs(sums - 1.0)) > 1e-6 * max(1, y.shape[1]):
            raise ValueError("y: every row of soft labels must sum to 1")
        return np.empty(0, np.int64), soft, y.shape[1]
    check_vector_form("y", y, n)
    check_finite("y", y)
    if y.dtype.kind not in "biu" and n and not np.all(y == np.round(y)):
        raise ValueError("y: class labels must be integers 0..n_classes-1 (or pass an (n, K) matrix of soft labels)")
    if n and y.min() < 0:
        raise ValueError(f"y: class labels must be >= 0, got {y.min()}")
    top = int(y.max()) + 1 if n else 0
    if n_classes is None:
        n_classes = max(top, 2)
    elif top > n_classes:
        raise ValueError(f"y has the label {top - 1}, which is >= n_classes={n_classes}")
    return np.ascontiguousarray(y, dtype=np.int64), np.empty((0, n_classes), dtype), n_classes


def as_sample_weight(sample_weight, n, dtype):
    """Non-negative weights as a contiguous vector; None stays None ('all ones')."""
    if sample_weight is None:
        return None
    sw = as_vector("sample_weight", sample_weight, n, dtype)
    if sw.min() < 0:
        raise ValueError("sample_weight must be non-negative")
    with np.errstate(over="ignore"):  # an overflow is reported by check_weight_sum, in words
        total = float(sw.sum(dtype=np.float64))
    check_weight_sum(total)
    return sw


def as_offset(offset, n):
    """A known per-sample term of the margin as a contiguous float64 vector; None stays None (no offset)."""
    return None if offset is None else as_vector("offset", offset, n, np.float64)


def check_weight_sum(total):
    """Σ s_i must be a float64 whose reciprocal is finite too (0 is left to the caller)."""
    if not np.isfinite(total):
        raise ValueError(
            "sample_weight sums to infinity in float64; divide the weights by a constant "
            "(the mean loss and its minimiser depend only on their ratios)"
        )
    if total > 0 and not np.isfinite(1.0 / total):
        raise ValueError(
            f"sample_weight sums to {total:.3g}, too small to divide by; multiply the weights by a constant "
            "(the mean loss and its minimiser depend only on their ratios)"
        )


def as_groups(groups, n):
    """Group labels as a 1-D array of n values, none of them missing.

    NaN, NaT, None and pandas' NA are refused: a missing label names no group
    (NaN ≠ NaN would make every such row a group of its own).
    """
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be a 1-D array, got {groups.ndim} dimension(s)")
    if groups.shape[0] != n:
        raise ValueError(f"groups has {groups.shape[0]} entries but X has {n} rows")
    kind = groups.dtype.kind
    if kind in "fc":
        missing = np.isnan(groups).any()
    elif kind in "mM":
        missing = np.isnat(groups).any()
    elif kind == "O":
        missing = any(_is_missing(value) for value in groups)
    else:
        missing = False
    if missing:
        raise ValueError(
            "groups contains NaN or another missing label (NaT, None, pandas' NA); drop those rows or label them"
        )
    return groups


def _is_missing(value):
    """None, or a value that is not equal to itself (NaN, NaT) or cannot say (pandas' NA)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return True


def as_coef(coef, n_coef, fit_intercept, name="coef"):
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim != 1 or coef.shape[0] != n_coef:
        what = "n_features + 1 (intercept last)" if fit_intercept else "n_features"
        raise ValueError(f"{name} must have shape ({n_coef},) = {what}, got {coef.shape}")
    return coef


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def check_bool(name, value):
    """A bool (Python or NumPy); anything else, "False" and 0 included, is refused."""
    if not _is_bool(value):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_penalty(name, value):
    """A penalty strength (l1, l2, alpha): a finite real number ≥ 0, not a bool."""
    if _is_bool(value) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_l2(l2):
    return check_penalty("l2", l2)


def check_penalty_weights(penalty_weights, n_features):
    """π: n_features finite numbers ≥ 0 (None: all ones), float64."""
    if penalty_weights is None:
        return np.ones(n_features)
    try:
        weights = np.asarray(penalty_weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("penalty_weights must be an array of n_features numbers >= 0") from None
    if weights.shape != (n_features,):
        raise ValueError(f"penalty_weights must have shape ({n_features},) = (n_features,), got {weights.shape}")
    if not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise ValueError("penalty_weights must be finite and >= 0")
    return weights


def check_positive(name, value):
    """A finite real number > 0 (not a bool)."""
    if _is_bool(value) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_tol(tol):
    return check_positive("tol", tol)


def check_max_iter(max_iter, default):
    """A positive int, or ``default`` for None."""
    if max_iter is None:
        return default
    if _is_bool(max_iter) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer or None, got {max_iter!r}")
    return int(max_iter)


def check_n_threads(n_threads, limit=None):
    """None, or a positive int not above ``limit`` (Numba's thread count)."""
    if n_threads is None:
        return None
    if _is_bool(n_threads) or not isinstance(n_threads, numbers.Integral) or n_threads < 1:
        raise ValueError(f"n_threads must be a positive integer or None, got {n_threads!r}")
    if limit is not None and n_threads > limit:
        raise ValueError(f"n_threads={n_threads} exceeds the {limit} threads Numba was started with")
    return int(n_threads)
