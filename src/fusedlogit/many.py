"""Many small fits at once: one logistic regression per group of rows.

``fit_many`` orders the rows by group once (a stable sort of the labels),
then, in one compiled call and in parallel over groups, gathers each group's
rows into a transposed (d, m) array and fits it with the serial compiled
Newton solver that ``fusedlogit.jit.newton_fit`` runs (``solvers.compiled``):
no Python overhead per group.  Importing this module does not import Numba.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from ._validation import (
    as_features,
    as_groups,
    as_labels,
    as_offset,
    as_sample_weight,
    check_bool,
    check_finite,
    check_l2,
    check_max_iter,
    check_n_threads,
    check_tol,
)
from .exceptions import ConvergenceWarning

#: ``max_iter=None`` means this many Newton iterations (as ``fit``'s newton).
DEFAULT_MAX_ITER = 100


@dataclasses.dataclass
class ManyFitResult:
    """Result of ``fit_many``; row g of every array belongs to ``groups[g]``.

    Attributes
    ----------
    groups : ndarray (G,), the distinct group labels, sorted
    coef : ndarray (G, n_features)
    intercept : ndarray (G,), zeros without intercept
    n_iter : ndarray (G,) int, Newton iterations per group
    converged : ndarray (G,) bool, fit's convergence test held (and, for l2 = 0,
        a finite minimiser exists)
    separated : ndarray (G,) bool, no finite minimiser: l2 = 0 and the group
        is (quasi-)separable (use l2 > 0), or, with an intercept and whatever
        l2, its rows of positive weight have one class only (where ``fit``
        raises; here the other groups are still fitted); coef finite but
        arbitrary in the separating direction
    loss : ndarray (G,), J of each group at its coef (NaN for a group whose
        weights sum to zero, which is left at coef = 0)
    """

    groups: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    separated: np.ndarray
    loss: np.ndarray


def fit_many(
    X,
    y,
    groups,
    *,
    l2=0.0,
    fit_intercept=True,
    sample_weight=None,
    offset=None,
    tol=1e-8,
    max_iter=None,
    n_threads=None,
):
    """Fit one model per distinct value of ``groups``, in parallel over groups.

    Group g's coefficients minimise, over its rows only, the objective of
    ``fusedlogit.fit``: J_g = (1/S_g) Σ_{i∈g} s_i ℓ_i + (l2/2)||w||², by
    damped Newton with Cholesky (``fusedlogit.jit.newton_fit``) from fit's
    start, to fit's convergence test; each equals ``fit`` on that group's rows to
    the tolerance.

    Parameters
    ----------
    X : array (n_samples, n_features); y : array (n_samples,) in [0, 1]
    groups : array (n_samples,)
        Group label of each row: any sortable values (ints, strings, ...), in
        any order.
    l2, fit_intercept, sample_weight, offset
        As for ``fit``, the same for every group (the per-row arrays are taken
        for each group's rows).
    tol : float, default 1e-8
        Per group, as ``fit``'s tol: max |∂J_g/∂coef_j| ≤ tol, stricter on columns of small scale.
    max_iter : int, optional
        Newton iterations per group; default 100.
    n_threads : int, optional
        Threads, each fitting whole groups; default all cores.

    Returns
    -------
    ManyFitResult

    Warns
    -----
    ConvergenceWarning
        Once, naming how many groups did not converge (iteration limit, one
        class only with an intercept, separable with l2 = 0, zero total weight).  Those groups
        are marked in ``converged`` (and ``separated``); the others are
        unaffected.

    Notes
    -----
    Each group's rows are gathered, in their original order (a stable sort,
    so the result does not depend on how groups are interleaved), into a
    transposed (d, m) array of X's dtype inside its thread: X itself is
    never copied as a whole, and checked for NaN/inf on the way.  Integer
    labels spanning at most n + 2^16 values are sorted in linear time.
    """
    X = as_features(X, contiguous=False, finite=False)  # fit_groups checks as it gathers
    n, d = X.shape
    y = as_labels(y, n, X.dtype)
    sample_weight = as_sample_weight(sample_weight, n, X.dtype)
    offset = as_offset(offset, n)
    l2 = check_l2(l2)
    fit_intercept = check_bool("fit_intercept", fit_intercept)
    tol = check_tol(tol)
    max_iter = check_max_iter(max_iter, DEFAULT_MAX_ITER)
    groups = as_groups(groups, n)
    from . import _config, _threads
    from .solvers.compiled import CONVERGED, NOT_FINITE, SEPARATED, fit_groups

    n_threads = check_n_threads(n_threads, _config.max_threads())

    try:
        labels, bounds, order = _group_slices(groups)
    except TypeError as exc:  # e.g. str beside int in an object array
        raise ValueError(f"groups must hold values of one comparable type ({exc})") from None

    n_groups = len(labels)
    coef = np.zeros((n_groups, d + 1 if fit_intercept else d))
    n_iter = np.zeros(n_groups, dtype=np.int64)
    status = np.zeros(n_groups, dtype=np.int64)
    loss = np.empty(n_groups)
    with _threads.fit_threads():
        args = (X, order, y, sample_weight, offset, bounds, l2, tol, max_iter, coef, n_iter, status, loss)
        _threads.launch(fit_groups, n_threads, *args)
    if np.any(status == NOT_FINITE):
        check_finite("X", X)  # a second read, only to name the first bad row and column
        raise ValueError("X contains NaN or infinity")

    converged = status == CONVERGED
    separated = status == SEPARATED
    failed = int(n_groups - converged.sum())
    if failed:
        warnings.warn(
            f"{failed} of {n_groups} groups did not converge ({int(separated.sum())} of them separable, which "
            f"needs l2 > 0, or with one class only); see the converged and separated fields",
            ConvergenceWarning,
            stacklevel=2,
        )
    return ManyFitResult(
        groups=labels,
        coef=coef[:, :d].copy() if fit_intercept else coef,
        intercept=coef[:, d].copy() if fit_intercept else np.zeros(n_groups),
        n_iter=n_iter,
        converged=converged,
        separated=separated,
        loss=loss,
    )


def _group_slices(groups):
    """(sorted labels, bounds (G + 1,), row order or None if already sorted).

    Group g is rows order[bounds[g]:bounds[g + 1]].  No sort when the
    labels are already non-decreasing (a cheap O(n) check).  Integer labels
    spanning at most n + 2^16 values are ordered by a compiled counting sort
    (linear time: 1.0 ms for 500,000 shuffled labels, where sorting them
    took 7–11 ms); others by one stable NumPy sort.
    """
    n = groups.shape[0]
    if n > 1 and bool(np.all(groups[1:] >= groups[:-1])):
        return _labels_bounds(groups) + (None,)
    if groups.dtype.kind in "iu" and n > 0:
        low = int(groups.min())
        span = int(groups.max()) - low + 1
        if span <= n + 2**16:
            from .jit import counting_order

            order = np.empty(n, dtype=np.int64)
            wide = np.uint64 if groups.dtype.kind == "u" else np.int64  # holds every label: no overflow
            counts = counting_order(groups, wide(low), span, order)
            sizes = counts[counts > 0]
            bounds = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
            return groups[order[bounds[:-1]]], bounds, order
    order = np.argsort(groups, kind="stable")
    return _labels_bounds(groups[order]) + (order,)


def _labels_bounds(ordered):
    """(distinct labels, bounds) of non-decreasing labels."""
    starts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    bounds = np.concatenate(([0], starts, [len(ordered)])).astype(np.int64)
    return ordered[bounds[:-1]], bounds
