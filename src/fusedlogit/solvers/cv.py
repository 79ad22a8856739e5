"""``cv``: K-fold cross-validation of ``path`` over a grid of penalties, and the refit at the best one.

Each fold is the full objective ``reweighted`` with the held-out rows at
weight 0 (X is never copied), its path fitted in a thread of its own; the
held-out rows are scored in bounded chunks, and the grid point with the best
mean score is refitted on all rows.
"""

from __future__ import annotations

import dataclasses
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._threads import fit_threads
from .._validation import check_choice, check_penalty_weights
from ..backends import BACKENDS
from ..tables import design_weights
from ..ordinal import level_probabilities
from .paths import (
    alpha_max,
    check_grid_options,
    check_l1_ratio,
    grid_and_start,
    path_options,
    penalised_objective,
    run_path,
)
from .penalised import coefficient_weights

SCORINGS = ("log_loss", "accuracy", "roc_auc")

#: Held-out rows are scored this many at a time.
SCORE_ROWS = 8192


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
    ordinal = result.thresholds is not None
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
    elif ordinal:
        with np.errstate(divide="ignore"):
            log_p = np.log(np.stack([level_probabilities(z[:, a, 0], result.thresholds[a]) for a in range(n_alphas)],
                                    axis=1))
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

        if multinomial or ordinal:
            return np.array([roc_auc_score(labels, proba[:, a], sample_weight=test_weight, multi_class="ovr")
                             for a in range(n_alphas)])
        return np.array([roc_auc_score(labels, proba[:, a, 1], sample_weight=test_weight) for a in range(n_alphas)])
    return np.array([float(scoring(labels, proba[:, a] if multinomial or ordinal else proba[:, a, 1], test_weight))
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
    y=None,
    *,
    data=None,
    drop_first=None,
    missing="error",
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
    model="auto",
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
    X, y, data, drop_first, missing
        As for ``path``: an array, a table (categorical columns kept as
        codes), or a formula on the table ``data``.
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
        proba (n_test,) binary, (n_test, K) multinomial or ordinal).  The best is the
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
    options = path_options(tol, max_iter, verbose)
    quiet = dataclasses.replace(options, verbose=False)
    with fit_threads():
        table = {"data": data, "drop_first": drop_first, "missing": missing}
        objective = penalised_objective(X, y, model, n_classes, sample_weight, fit_intercept, backend, n_threads,
                                        table)
        alphas, n_alphas, alpha_min_ratio = check_grid_options(
            alphas, n_alphas, alpha_min_ratio, objective.n_samples, objective.n_features
        )
        ratios = np.array([check_l1_ratio(r, allow_zero=alphas is not None) for r in ratios])
        penalty_weights = design_weights(objective.coding, penalty_weights)
        weights = coefficient_weights(check_penalty_weights(penalty_weights, objective.n_features), objective.layout)
        targets = objective.labels()
        n_classes_fit = getattr(objective, "n_classes", None)  # None: the binary model; K classes or levels
        multinomial = n_classes_fit is not None
        # stratified by the most probable label: a soft binary label by t > 1/2, a soft row by its argmax
        if targets.ndim == 2:
            nearest = targets.argmax(axis=1)
        else:
            nearest = (targets if multinomial else targets > 0.5).astype(np.int64)
        pairs = make_folds(folds, objective.n_samples, seed, nearest)
        grids = [grid_and_start(objective, weights, r, alphas, n_alphas, alpha_min_ratio, quiet)[0] for r in ratios]
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
            X, y, data=data, drop_first=drop_first, missing=missing,
            l1=best_alpha * best_ratio, l2=best_alpha * (1.0 - best_ratio), penalty_weights=penalty_weights,
            sample_weight=sample_weight, fit_intercept=fit_intercept, model=model, n_classes=n_classes, solver="cd",
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
