"""``path`` and ``cv``: the L1 / elastic-net fit over a grid of penalties, and its cross-validation.

With α the strength and r = l1_ratio, the penalty at each grid point is
l1 = α·r and l2 = α·(1 − r) (``solvers.penalised``).  The grid falls
geometrically from α_max, the smallest α at which every penalised
coefficient is zero::

    α_max = max_j |∂F/∂w_j (c₀)| / (r π_j)    over the penalised features (π_j > 0; every class)

where c₀ is the fit with every penalised coefficient zero (the intercepts and
the π_j = 0 features fitted), and the KKT conditions at c₀ hold exactly for
α ≥ α_max.  Each fit starts from the previous one (warm start); its first
working set is the previous support plus the sequential strong set of
Tibshirani et al. (2012), {j : |g_j(previous)| ≥ π_j (2 l1 − l1_previous)},
and the full KKT test at the end keeps the solution exact where the rule is
wrong.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._threads import fit_threads
from .._validation import check_choice, check_max_iter, check_penalty, check_penalty_weights, check_tol
from ..backends import BACKENDS
from ..exceptions import ConvergenceWarning
from ..model import build_objective
from .common import SolverOptions
from .penalised import Penalty, coefficient_weights, proximal_newton

#: Default α_min / α_max: glmnet's choice, deeper when there are more rows than features.
ALPHA_MIN_RATIO_TALL = 1e-4
ALPHA_MIN_RATIO_WIDE = 1e-2

SCORINGS = ("log_loss", "accuracy", "roc_auc")

#: Held-out rows are scored this many at a time.
SCORE_ROWS = 8192


@dataclasses.dataclass(repr=False)
class PathResult:
    """The fits of ``path``, one per α (first axis).

    Attributes
    ----------
    alphas : (n_alphas,), decreasing
    l1_ratio : float
    coef : (n_alphas, n_features), or (n_alphas, K, n_features) for K classes
    intercept : (n_alphas,) or (n_alphas, K)
    n_iter, converged, loss, grad_max, n_nonzero : (n_alphas,) each: iterations,
        whether the KKT test holds, J, max |minimum-norm subgradient|, and the
        number of nonzero coefficients
    """

    alphas: np.ndarray
    l1_ratio: float
    coef: np.ndarray
    intercept: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    loss: np.ndarray
    grad_max: np.ndarray
    n_nonzero: np.ndarray

    def __repr__(self):
        return (
            f"PathResult(n_alphas={self.alphas.size}, l1_ratio={self.l1_ratio}, alphas=[{self.alphas[0]:.4g} .. "
            f"{self.alphas[-1]:.4g}], n_nonzero=[{self.n_nonzero[0]} .. {self.n_nonzero[-1]}], "
            f"converged={bool(self.converged.all())})"
        )


@dataclasses.dataclass(repr=False)
class CVResult:
    """The result of ``cv``.

    Attributes
    ----------
    l1_ratios : (n_l1,)
    alphas : (n_l1, n_alphas), each l1_ratio's grid
    scores : (n_l1, n_alphas, n_folds), the held-out score of each fit
    mean_score : (n_l1, n_alphas)
    scoring : str, and whether larger is better (``greater_is_better``)
    best_index : (i_l1, i_alpha) of the best mean score
    best_l1_ratio, best_alpha : float
    fit : FitResult on all rows at the best (None with refit=False)
    folds : list of (train, test) row indices
    """

    l1_ratios: np.ndarray
    alphas: np.ndarray
    scores: np.ndarray
    mean_score: np.ndarray
    scoring: str
    greater_is_better: bool
    best_index: tuple
    best_l1_ratio: float
    best_alpha: float
    fit: object
    folds: list

    def __repr__(self):
        return (
            f"CVResult(scoring={self.scoring!r}, n_folds={len(self.folds)}, best_l1_ratio={self.best_l1_ratio}, "
            f"best_alpha={self.best_alpha:.6g}, best_mean_score={self.mean_score[self.best_index]:.6g})"
        )


# -- the objective and the grid -----------------------------------------------------


def _objective(X, y, n_classes, sample_weight, fit_intercept, backend, n_threads):
    """The smooth (l2 = 0) objective that ``fit`` would build for these data; every fit here is penalised."""
    return build_objective(X, y, n_classes=n_classes, sample_weight=sample_weight, fit_intercept=fit_intercept,
                           backend=backend, n_threads=n_threads, penalised=True)


def check_l1_ratio(l1_ratio, allow_zero):
    value = check_penalty("l1_ratio", l1_ratio)
    if value > 1 or (value == 0 and not allow_zero):
        bounds = "[0, 1]" if allow_zero else "(0, 1] (l1_ratio = 0 needs explicit alphas)"
        raise ValueError(f"l1_ratio must be in {bounds}, got {l1_ratio!r}")
    return value


def check_alphas(alphas):
    try:
        grid = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("alphas must be a 1-D array of numbers >= 0") from None
    if grid.ndim != 1 or grid.size == 0 or not (np.isfinite(grid).all() and (grid >= 0).all()):
        raise ValueError(f"alphas must be a non-empty 1-D array of finite numbers >= 0, got {alphas!r}")
    return np.sort(grid)[::-1].copy()


def _null_fit(objective, weights, options):
    """c₀: the fit with every penalised coefficient held at zero (thresholds too large to pass)."""
    start = objective.initial_coef()
    if not (weights == 0).any():
        return start  # intercept-only: initial_coef is its exact maximum-likelihood point
    penalty = Penalty(1.0, 0.0, weights)
    penalty.lam = np.where(weights > 0, 1e300, 0.0)
    return proximal_newton(objective, penalty, start, options).coef


def alpha_max(objective, weights, l1_ratio, options):
    """(α_max, c₀): see the module docstring; α_max = 0 when no feature is penalised."""
    coef0 = _null_fit(objective, weights, options)
    _, g = objective.loss_gradient(coef0)
    penalised = weights > 0
    if not penalised.any():
        return 0.0, coef0
    return float(np.max(np.abs(g[penalised]) / weights[penalised]) / l1_ratio), coef0


def alpha_grid(top, n_alphas, alpha_min_ratio):
    if n_alphas == 1:
        return np.array([top])
    return top * np.logspace(0.0, np.log10(alpha_min_ratio), n_alphas)


# -- the path on one objective --------------------------------------------------------------


def run_path(objective, weights, l1_ratio, alphas, coef0, options, label="path"):
    """Fits at each α of the decreasing ``alphas`` with warm starts and strong sets; a PathResult."""
    layout = objective.layout
    rows = layout.n_rows
    n = alphas.size
    coefs = np.zeros((n, objective.n_coef))
    n_iter, converged = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    loss, grad_max = np.zeros(n), np.zeros(n)
    coef = np.array(coef0, dtype=np.float64)
    previous_l1, unpenalised = None, None
    feature_weights = layout.features(weights)[0]
    quiet = dataclasses.replace(options, verbose=False)  # one line per α, not per iteration
    start = time.perf_counter()
    for i, alpha in enumerate(alphas):
        l1 = alpha * l1_ratio
        penalty = Penalty(l1, alpha * (1.0 - l1_ratio), weights)
        columns = None
        if previous_l1 is not None:  # the sequential strong set, from ∇S at the previous solution
            g = unpenalised[1] + penalty.smooth_gradient(coef)
            largest = layout.largest_by_feature(g)
            columns = np.flatnonzero(largest >= feature_weights * (2.0 * l1 - previous_l1))
        out = proximal_newton(objective, penalty, coef, quiet, columns, unpenalised)
        coef, unpenalised = out.coef, out.unpenalised
        coefs[i], n_iter[i], loss[i] = coef, out.n_iter, out.loss
        converged[i] = objective.converged(out.grad, options.tol) and bool(np.isfinite(out.loss))
        grad_max[i] = float(np.max(np.abs(out.grad)))
        previous_l1 = l1
        if options.verbose:
            nonzero = int(np.count_nonzero(layout.features(coef)))
            print(
                f"[{label}] {i + 1:3d}/{n}  alpha {alpha:.4e}  nonzero {nonzero:6d}  iterations {out.n_iter:3d}  "
                f"loss {out.loss:.10e}  max|subgrad| {grad_max[i]:.2e}  ({time.perf_counter() - start:.2f} s)",
                flush=True,
            )
    full = layout.rows(coefs)  # (n, rows, width): a view, centred in place
    if rows > 1:  # multinomial: the unpenalised columns are determined up to a shift shared by the classes
        free = layout.rows(weights)[0] == 0
        full[:, :, free] -= full[:, :, free].mean(axis=1, keepdims=True)
    w, b = layout.features(coefs), layout.intercepts(coefs)
    if rows == 1:
        w, b = w[:, 0, :], b[:, 0]
    return PathResult(
        alphas=alphas.copy(),
        l1_ratio=float(l1_ratio),
        coef=np.ascontiguousarray(w),
        intercept=np.ascontiguousarray(b),
        n_iter=n_iter,
        converged=converged,
        loss=loss,
        grad_max=grad_max,
        n_nonzero=np.count_nonzero(w.reshape(n, -1), axis=1),
    )


def _options(tol, max_iter, verbose):
    from .fitting import DEFAULT_MAX_ITER

    max_iter = check_max_iter(max_iter, None)
    max_iter = DEFAULT_MAX_ITER["cd"] if max_iter is None else max_iter
    return SolverOptions(tol=check_tol(tol), max_iter=max_iter, verbose=bool(verbose))


def _grid(objective, weights, l1_ratio, alphas, n_alphas, alpha_min_ratio, options):
    """(decreasing α grid, start point) for one l1_ratio."""
    if alphas is not None:
        return alphas, objective.initial_coef()
    top, coef0 = alpha_max(objective, weights, l1_ratio, options)
    if not top > 0:
        raise ValueError("no feature is penalised (penalty_weights all 0): give alphas explicitly")
    return alpha_grid(top, n_alphas, alpha_min_ratio), coef0


def _check_grid_options(alphas, n_alphas, alpha_min_ratio, n_samples, n_features):
    alphas = None if alphas is None else check_alphas(alphas)
    if isinstance(n_alphas, bool) or not isinstance(n_alphas, (int, np.integer)) or n_alphas < 1:
        raise ValueError(f"n_alphas must be an integer >= 1, got {n_alphas!r}")
    if alpha_min_ratio is None:
        alpha_min_ratio = ALPHA_MIN_RATIO_TALL if n_samples > n_features else ALPHA_MIN_RATIO_WIDE
    elif isinstance(alpha_min_ratio, bool) or not (0 < float(alpha_min_ratio) < 1):
        raise ValueError(f"alpha_min_ratio must be in (0, 1), got {alpha_min_ratio!r}")
    return alphas, int(n_alphas), float(alpha_min_ratio)


def _warn_unconverged(result, what):
    if not result.converged.all():
        bad = np.flatnonzero(~result.converged)
        warnings.warn(
            f"{what}: the fits at {bad.size} of {result.alphas.size} alphas did not meet tol "
            f"(first alpha {result.alphas[bad[0]]:.4g}, max|subgrad| {result.grad_max[bad[0]]:.3g}); "
            "increase max_iter or tol",
            ConvergenceWarning,
            stacklevel=3,
        )


def path(
    X,
    y,
    *,
    l1_ratio=1.0,
    alphas=None,
    n_alphas=100,
    alpha_min_ratio=None,
    penalty_weights=None,
    sample_weight=None,
    fit_intercept=True,
    n_classes=None,
    tol=1e-8,
    max_iter=None,
    n_threads=None,
    backend="numba",
    verbose=False,
):
    """Fit the L1 / elastic-net model along a decreasing grid of α (the module docstring).

    J_α(c) = (1/S) Σ s_i ℓ_i + α r Σ_j π_j |w_j| + (α (1 − r)/2) Σ_j π_j w_j²,
    r = ``l1_ratio`` in (0, 1] (0 allowed with explicit ``alphas``).

    Parameters
    ----------
    alphas : array, optional
        The grid (sorted decreasing); default ``n_alphas`` values from α_max
        down to α_max · ``alpha_min_ratio`` (default 1e-4 when n_samples >
        n_features, else 1e-2), geometrically.
    penalty_weights : (n_features,) array ≥ 0, optional
        π_j, default 1; 0 leaves feature j unpenalised.
    X, y, sample_weight, fit_intercept, n_classes, tol, max_iter, n_threads, backend
        As for ``fusedlogit.fit`` (solver "cd"); max_iter is per α.
    verbose : bool
        One line per α: its index, α, nonzeros, iterations, J, max|∂J|, time.

    Returns
    -------
    PathResult

    Warns ``ConvergenceWarning`` when a fit of the grid does not meet tol.
    """
    check_choice("backend", backend, BACKENDS)
    options = _options(tol, max_iter, verbose)
    with fit_threads():
        objective = _objective(X, y, n_classes, sample_weight, fit_intercept, backend, n_threads)
        alphas, n_alphas, alpha_min_ratio = _check_grid_options(
            alphas, n_alphas, alpha_min_ratio, objective.n_samples, objective.n_features
        )
        l1_ratio = check_l1_ratio(l1_ratio, allow_zero=alphas is not None)
        weights = coefficient_weights(
            check_penalty_weights(penalty_weights, objective.n_features), objective.n_coef, objective.fit_intercept
        )
        quiet = dataclasses.replace(options, verbose=False)
        grid, coef0 = _grid(objective, weights, l1_ratio, alphas, n_alphas, alpha_min_ratio, quiet)
        result = run_path(objective, weights, l1_ratio, grid, coef0, options)
    _warn_unconverged(result, "path")
    return result


# -- cross-validation -----------------------------------------------------------------


def make_folds(folds, n_samples, seed, classes):
    """[(train, test), ...] of row indices: an int k gives k shuffled folds, stratified by ``classes`` (labels
    0..K−1); given pairs may hold row indices or boolean masks of length ``n_samples``."""
    if isinstance(folds, bool):
        raise ValueError(f"folds must be an integer >= 2 or a sequence of (train, test) pairs, got {folds!r}")
    if isinstance(folds, (int, np.integer)):
        k = int(folds)
        if not 2 <= k <= n_samples:
            raise ValueError(f"folds must be between 2 and n_samples = {n_samples}, got {folds!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        rng = np.random.default_rng(seed)
        fold_of = np.empty(n_samples, dtype=np.int64)
        labels = classes if classes is not None else np.zeros(n_samples, dtype=np.int64)
        offset = 0
        for label in np.unique(labels):  # each class dealt round the folds in a shuffled order
            rows = rng.permutation(np.flatnonzero(labels == label))
            fold_of[rows] = (offset + np.arange(rows.size)) % k
            offset += rows.size
        return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]
    try:
        pairs = [(_fold_rows(train, n_samples), _fold_rows(test, n_samples)) for train, test in folds]
    except (TypeError, ValueError) as error:
        if str(error).startswith("folds"):
            raise
        raise ValueError("folds must be an integer >= 2 or a sequence of (train, test) index pairs") from None
    if len(pairs) < 2:
        raise ValueError(f"folds must give at least 2 (train, test) pairs, got {len(pairs)}")
    for train, test in pairs:
        if train.size == 0 or test.size == 0 or min(train.min(), test.min()) < 0 or max(train.max(), test.max()) >= n_samples:
            raise ValueError("folds: every train and test set must be non-empty row indices 0..n_samples-1")
    return pairs


def _fold_rows(rows, n_samples):
    """Row indices (int64) of one train or test set given as indices or as a boolean mask of length n_samples."""
    rows = np.asarray(rows)
    if rows.dtype == bool:  # a mask: as indices, True/False would silently mean rows 1/0
        if rows.shape != (n_samples,):
            raise ValueError(f"folds: a boolean mask must have shape (n_samples,) = ({n_samples},), got {rows.shape}")
        return np.flatnonzero(rows)
    if rows.dtype.kind == "f" and not np.array_equal(rows, np.round(rows)):
        raise ValueError("folds: row indices must be integers")
    return rows.astype(np.int64)


def _held_out_targets(y, multinomial, n_classes):
    """(row, label, share) of the held-out rows' targets ``y``: each row split over the labels it gives mass to.

    A hard label is one entry (share 1); a soft binary label t is two, label 1
    with share t and label 0 with share 1 − t (only those > 0), and a soft
    multinomial row Y_i one per class with Y_ik > 0.  So the split rows, of
    weight s_i · share, have exactly the log loss Σ_k −Y_ik log p_ik that
    ``fit`` minimises, and every score treats soft labels the same way.
    """
    y = np.asarray(y)
    if y.ndim == 2:
        targets = y.astype(np.float64)
    elif multinomial:
        targets = np.zeros((y.size, n_classes))
        targets[np.arange(y.size), y.astype(np.int64)] = 1.0
    else:
        t = y.astype(np.float64)
        targets = np.stack([1.0 - t, t], axis=1)
    row, label = np.nonzero(targets > 0)  # row-major: a row's entries stay together, in label order
    return row, label, targets[row, label]


def _held_out_scores(objective, result, test, targets, test_weight, scoring):
    """The score of every α's fit on the rows ``test`` (chunks of rows, never all of X at once).

    ``targets`` = ``_held_out_targets`` of those rows: every score is that of
    the split rows (their labels, weights s_i · share).
    """
    from scipy.special import log_softmax

    n_alphas = result.alphas.size
    multinomial = result.coef.ndim == 3
    coef = result.coef.reshape(-1, objective.n_features)  # (n_alphas · classes, d)
    intercept = result.intercept.reshape(1, n_alphas, -1)
    margins = []
    for lo in range(0, test.size, SCORE_ROWS):
        z = objective.row_products(test[lo : lo + SCORE_ROWS], coef)  # a bounded gather of held-out rows
        margins.append(z.reshape(z.shape[0], n_alphas, -1) + intercept)
    row, labels, share = targets
    z = np.concatenate(margins)[row]  # (split rows, n_alphas, classes)
    test_weight = test_weight[row] * share
    if multinomial:
        log_p = log_softmax(z, axis=2)
    else:
        m = z[:, :, 0]
        log_p = np.stack([-np.logaddexp(0.0, m), -np.logaddexp(0.0, -m)], axis=2)  # log P(0), log P(1)
    weight = test_weight / test_weight.sum()
    if scoring == "log_loss":
        picked = np.take_along_axis(log_p, labels[:, None, None], axis=2)[:, :, 0]
        return -(weight @ picked)
    if scoring == "accuracy":
        return weight @ (np.argmax(log_p, axis=2) == labels[:, None])
    proba = np.exp(log_p)
    if scoring == "roc_auc":
        from sklearn.metrics import roc_auc_score

        if multinomial:
            return np.array([roc_auc_score(labels, proba[:, a], sample_weight=test_weight, multi_class="ovr")
                             for a in range(n_alphas)])
        return np.array([roc_auc_score(labels, proba[:, a, 1], sample_weight=test_weight) for a in range(n_alphas)])
    return np.array([float(scoring(labels, proba[:, a] if multinomial else proba[:, a, 1], test_weight))
                     for a in range(n_alphas)])


def _best_index(mean, greater, scoring):
    """The flat index of the best mean score; NaN means (a score undefined on some fold) never win."""
    defined = ~np.isnan(mean)
    if not defined.any():
        raise ValueError(f"cv: every mean score is NaN (scoring={scoring!r} is undefined on some fold of every fit)")
    if not defined.all():
        warnings.warn(
            f"cv: {int((~defined).sum())} of {mean.size} mean scores are NaN (scoring={scoring!r} undefined on a "
            "fold); they are left out of the choice",
            RuntimeWarning,
            stacklevel=3,
        )
    return int(np.nanargmax(mean) if greater else np.nanargmin(mean))


class _Cancelled(Exception):
    """Raised in a fold's thread to end its path once ``cv`` has stopped waiting for it."""


def cv(
    X,
    y,
    *,
    folds=5,
    l1_ratio=1.0,
    alphas=None,
    n_alphas=100,
    alpha_min_ratio=None,
    scoring="log_loss",
    seed=0,
    penalty_weights=None,
    sample_weight=None,
    fit_intercept=True,
    n_classes=None,
    tol=1e-8,
    max_iter=None,
    n_threads=None,
    backend="numba",
    refit=True,
    verbose=False,
):
    """Choose α (and l1_ratio) by k-fold cross-validation of ``path``.

    Every fold's path is fitted on all of X with the weight of every row
    outside its training set set to 0 (X is never copied; the loss is the
    mean over the training rows) and
    scored on the held-out rows; the folds run in parallel threads and give
    the same results for any ``n_threads``.  The grid of each l1_ratio is
    ``path``'s on all rows (or ``alphas``), shared by the folds.

    Parameters
    ----------
    folds : int or sequence of (train, test) pairs, default 5
        k folds, shuffled by ``seed`` and stratified by class (a soft label by
        its most probable class), or the caller's split (e.g.
        ``list(KFold(5).split(X))``): each train and test set an array of row
        indices or a boolean mask of length n_samples.
    l1_ratio : float or sequence of floats in (0, 1]
    scoring : {"log_loss", "accuracy", "roc_auc"} or callable
        The held-out weighted mean log loss (lower is better), accuracy or
        ROC AUC (higher is better), or ``scoring(y_true, proba,
        sample_weight) -> float``, higher is better (y_true integer labels,
        proba (n_test,) binary, (n_test, K) multinomial).  The best is the
        best mean over the folds; a NaN mean (a score undefined on a fold) is
        left out, with a RuntimeWarning, and all NaN is a ValueError.
    refit : bool, default True
        Fit all rows at the best (α, l1_ratio) with ``fusedlogit.fit``.
    Other parameters as for ``path``.  Soft labels (binary y in [0, 1], or an
    (n, K) matrix) are scored as ``fit`` fits them: row i counts as a row of
    label k with weight s_i Y_ik for every k (t and 1 − t for binary t), so
    the log loss is −Σ_i s_i Σ_k Y_ik log p_ik / Σ_i s_i, the accuracy the
    expected accuracy against labels drawn from Y_i, the ROC AUC that of the
    split rows, and a callable gets the split rows.

    Returns
    -------
    CVResult
    """
    from .fitting import fit

    check_choice("backend", backend, BACKENDS)
    if not callable(scoring):
        check_choice("scoring", scoring, SCORINGS)
    ratios = np.atleast_1d(np.asarray(l1_ratio, dtype=np.float64) if not isinstance(l1_ratio, bool) else l1_ratio)
    if ratios.ndim != 1 or ratios.size == 0:
        raise ValueError(f"l1_ratio must be a number or a 1-D sequence of numbers in (0, 1], got {l1_ratio!r}")
    options = _options(tol, max_iter, verbose)
    quiet = dataclasses.replace(options, verbose=False)
    with fit_threads():
        objective = _objective(X, y, n_classes, sample_weight, fit_intercept, backend, n_threads)
        alphas, n_alphas, alpha_min_ratio = _check_grid_options(
            alphas, n_alphas, alpha_min_ratio, objective.n_samples, objective.n_features
        )
        ratios = np.array([check_l1_ratio(r, allow_zero=alphas is not None) for r in ratios])
        weights = coefficient_weights(
            check_penalty_weights(penalty_weights, objective.n_features), objective.n_coef, objective.fit_intercept
        )
        targets = objective.labels()
        n_classes_fit = getattr(objective, "n_classes", None)  # None: the binary model
        multinomial = n_classes_fit is not None
        # stratified by the most probable label: a soft binary label by t > 1/2, a soft row by its argmax
        if targets.ndim == 2:
            nearest = targets.argmax(axis=1)
        else:
            nearest = (targets if multinomial else targets > 0.5).astype(np.int64)
        pairs = make_folds(folds, objective.n_samples, seed, nearest)
        grids = [_grid(objective, weights, r, alphas, n_alphas, alpha_min_ratio, quiet)[0] for r in ratios]
        base = objective.weights()

        for f, (train, test) in enumerate(pairs):
            for name, rows in (("training", train), ("held-out", test)):
                if not base[rows].sum() > 0:
                    raise ValueError(f"folds: the {name} rows of fold {f + 1} have no sample weight")

        # Ctrl-C (or an error) in this thread must not wait for every fold's path to finish: the folds' solvers
        # call this at each iteration, and it ends a fold's thread once the main thread has given up.
        cancelled = threading.Event()

        def stop_if_cancelled(coef):
            if cancelled.is_set():
                raise _Cancelled

        options = dataclasses.replace(options, callback=stop_if_cancelled)
        quiet = dataclasses.replace(quiet, callback=stop_if_cancelled)

        def one_fold(f):
            train, test = pairs[f]
            keep = np.zeros(objective.n_samples)  # every row outside ``train`` weighs 0 in this fold's fits
            keep[train] = base[train]
            fold_objective = objective.reweighted(keep)
            scores = []
            held_out = _held_out_targets(targets[test], multinomial, n_classes_fit)
            for r, grid in zip(ratios, grids):
                start = alpha_max(fold_objective, weights, r, quiet)[1] if r > 0 else fold_objective.initial_coef()
                result = run_path(fold_objective, weights, r, grid, start, options, label=f"fold {f + 1}")
                scores.append(_held_out_scores(fold_objective, result, test, held_out, base[test], scoring))
            return scores

        pool = ThreadPoolExecutor(max_workers=len(pairs))
        try:
            per_fold = list(pool.map(one_fold, range(len(pairs))))
        except BaseException:
            cancelled.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    scores = np.stack([np.stack(fold) for fold in per_fold], axis=-1)  # (n_l1, n_alphas, n_folds)
    mean = scores.mean(axis=2)
    greater = scoring != "log_loss"
    best = np.unravel_index(_best_index(mean, greater, scoring), mean.shape)
    best_ratio, best_alpha = float(ratios[best[0]]), float(grids[best[0]][best[1]])
    refitted = None
    if refit:
        refitted = fit(
            X, y, l1=best_alpha * best_ratio, l2=best_alpha * (1.0 - best_ratio), penalty_weights=penalty_weights,
            sample_weight=sample_weight, fit_intercept=fit_intercept, n_classes=n_classes, solver="cd",
            tol=options.tol, max_iter=options.max_iter, n_threads=n_threads, backend=backend,
        )
    return CVResult(
        l1_ratios=ratios,
        alphas=np.stack(grids),
        scores=scores,
        mean_score=mean,
        scoring=scoring if isinstance(scoring, str) else getattr(scoring, "__name__", "callable"),
        greater_is_better=greater,
        best_index=(int(best[0]), int(best[1])),
        best_l1_ratio=best_ratio,
        best_alpha=best_alpha,
        fit=refitted,
        folds=pairs,
    )
