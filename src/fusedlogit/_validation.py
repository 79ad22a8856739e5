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


def check_finite(name, a):
    """Raise if ``a`` has a NaN or an infinity; reads ``a`` in row blocks."""
    if a.ndim == 1 or a.size <= _FINITE_CHECK_ELEMENTS:
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or infinity")
        return
    rows = max(1, _FINITE_CHECK_ELEMENTS // max(1, a.shape[1]))
    for start in range(0, a.shape[0], rows):
        if not np.isfinite(a[start : start + rows]).all():
            raise ValueError(f"{name} contains NaN or infinity")


def float_dtype(a):
    """float32 stays float32, float64 stays float64, anything else becomes float64."""
    return a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def is_real_dtype(dtype):
    return (np.issubdtype(dtype, np.number) or dtype == np.bool_) and not np.issubdtype(dtype, np.complexfloating)


def check_features_form(X):
    """Shape and dtype checks of X that need no pass over its values (any array type)."""
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got {X.ndim} dimension(s)")
    if X.shape[0] == 0:
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


def as_features(X, *, contiguous, finite=True):
    """X as a 2-D float32/float64 array (C-contiguous if asked), checked finite.

    ``finite=False`` leaves the NaN/inf check to a caller that reads every
    value anyway (``fit_many`` checks each group as it gathers it).
    """
    X = np.asarray(X)
    check_features_form(X)
    dtype = float_dtype(X)
    X = np.ascontiguousarray(X, dtype=dtype) if contiguous else X.astype(dtype, copy=False)
    if finite:
        check_finite("X", X)
    return X


def is_sparse(X):
    """True for a scipy.sparse matrix or array (without importing scipy.sparse)."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def is_dask_array(X):
    """True for a dask array (without importing dask)."""
    array = sys.modules.get("dask.array")
    return array is not None and isinstance(X, array.Array)


def as_sparse_features(X):
    """X as a canonical CSR matrix (sorted indices, no duplicates) of float32/float64.

    CSC, COO and the other formats are converted once, here.  A CSR X of the
    right dtype and canonical form is used without copy; otherwise the copy
    is made before sorting, so the caller's matrix is never modified.  Only
    the stored values (``X.data``) are checked for NaN/inf: the implicit
    zeros are finite.
    """
    from scipy import sparse

    check_features_form(X)
    dtype = float_dtype(X)
    converted = X.format != "csr" or X.dtype != dtype
    X = sparse.csr_matrix(X, dtype=dtype)  # no copy for a CSR matrix of that dtype
    if not X.has_canonical_format:
        if not converted:
            X = X.copy()
        X.sum_duplicates()  # also sorts the indices of every row
    check_finite("X", X.data)
    return X


def as_vector(name, a, n, dtype):
    a = np.asarray(a)
    check_vector_form(name, a, n)
    a = np.ascontiguousarray(a, dtype=dtype)
    check_finite(name, a)
    return a


def as_labels(y, n, dtype):
    """y as a contiguous vector of X's dtype with every value in [0, 1]."""
    y = as_vector("y", y, n, dtype)
    if y.min() < 0 or y.max() > 1:
        raise ValueError("y must lie in [0, 1] (0/1 labels, booleans or soft labels)")
    return y


def as_sample_weight(sample_weight, n, dtype):
    """Non-negative weights as a contiguous vector; None stays None ('all ones')."""
    if sample_weight is None:
        return None
    sw = as_vector("sample_weight", sample_weight, n, dtype)
    if sw.min() < 0:
        raise ValueError("sample_weight must be non-negative")
    return sw


def as_coef(coef, n_coef, fit_intercept, name="coef"):
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim != 1 or coef.shape[0] != n_coef:
        what = "n_features + 1 (intercept last)" if fit_intercept else "n_features"
        raise ValueError(f"{name} must have shape ({n_coef},) = {what}, got {coef.shape}")
    return coef


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def check_l2(l2):
    if not isinstance(l2, numbers.Real) or not np.isfinite(l2) or l2 < 0:
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return float(l2)


def check_tol(tol):
    if not isinstance(tol, numbers.Real) or not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"tol must be a finite number > 0, got {tol!r}")
    return float(tol)


def check_max_iter(max_iter, default):
    """A positive int, or ``default`` for None."""
    if max_iter is None:
        return default
    if isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer or None, got {max_iter!r}")
    return int(max_iter)


def check_n_threads(n_threads, limit=None):
    """None, or a positive int not above ``limit`` (Numba's thread count)."""
    if n_threads is None:
        return None
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, numbers.Integral) or n_threads < 1:
        raise ValueError(f"n_threads must be a positive integer or None, got {n_threads!r}")
    if limit is not None and n_threads > limit:
        raise ValueError(f"n_threads={n_threads} exceeds the {limit} threads Numba was started with")
    return int(n_threads)
