"""Edge cases of fusedlogit.cv and of L1 fits (issue 24, items 6 and 11).

cv: soft labels are scored as fit fits them (row i counts as label k with weight s_i Y_ik), boolean masks
in ``folds`` are masks, and a NaN mean score never wins.  The expected scores are recomputed here from
``fusedlogit.path`` on the training rows and plain NumPy / scikit-learn formulas.

L1: a sparse one-hot fit with many rare levels converges, under the convergence test of fit.
"""

import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit
from test_l1 import make_binary, make_multinomial, sigmoid

pytestmark = pytest.mark.filterwarnings("error::fusedlogit.ConvergenceWarning")

ALPHAS = np.array([0.05, 0.01, 0.002])


@pytest.fixture(scope="module")
def binary():
    return make_binary(seed=31, n=240, d=6)


@pytest.fixture(scope="module")
def soft(binary):
    """Soft binary labels: most strictly inside (0, 1), a few hard 0 and 1."""
    X, y, s = binary
    rng = np.random.default_rng(5)
    t = np.clip(0.6 * y + 0.2 + rng.uniform(-0.15, 0.15, y.size), 0.0, 1.0)
    t[:10], t[10:20] = 0.0, 1.0
    return X, t, s


def _folds(n, k=3, seed=7):
    fold_of = np.random.default_rng(seed).permutation(n) % k
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]


def _fold_fits(X, y, s, folds, alphas, n_classes=None):
    """For every fold: the path on its training rows (the other rows weigh 0), as cv defines it."""
    fits = []
    for train, _ in folds:
        w = np.zeros(len(X))
        w[train] = s[train]
        fits.append(fusedlogit.path(X, y, alphas=alphas, sample_weight=w, n_classes=n_classes))
    return fits


@pytest.mark.parametrize("scoring", ["log_loss", "accuracy", "roc_auc"])
def test_cv_scores_soft_binary_labels_as_they_are(soft, scoring):
    from sklearn.metrics import roc_auc_score

    X, t, s = soft
    folds = _folds(len(t))
    cvr = fusedlogit.cv(X, t, folds=folds, alphas=ALPHAS, scoring=scoring, sample_weight=s)
    expected = np.empty((len(ALPHAS), len(folds)))
    for f, ((_, test), pr) in enumerate(zip(folds, _fold_fits(X, t, s, folds, ALPHAS))):
        tt, w = t[test], s[test]
        for a in range(len(ALPHAS)):
            p = sigmoid(X[test] @ pr.coef[a] + pr.intercept[a])
            if scoring == "log_loss":  # cross-entropy against the soft target
                expected[a, f] = -np.sum(w * (tt * np.log(p) + (1 - tt) * np.log1p(-p))) / w.sum()
            elif scoring == "accuracy":  # expected accuracy against a label drawn from t
                expected[a, f] = np.sum(w * np.where(p > 0.5, tt, 1 - tt)) / w.sum()
            else:  # every row twice: label 1 with weight s t, label 0 with weight s (1 − t)
                yy = np.r_[np.ones(tt.size), np.zeros(tt.size)]
                expected[a, f] = roc_auc_score(yy, np.r_[p, p], sample_weight=np.r_[w * tt, w * (1 - tt)])
    np.testing.assert_allclose(cvr.scores[0], expected, rtol=1e-6, atol=1e-9)


def test_cv_soft_labels_differ_from_their_rounding(soft):
    """Scoring soft labels must not be scoring their rounded or truncated version."""
    X, t, s = soft
    folds = _folds(len(t))
    a = fusedlogit.cv(X, t, folds=folds, alphas=ALPHAS, sample_weight=s, refit=False)
    b = fusedlogit.cv(X, (t > 0.5).astype(float), folds=folds, alphas=ALPHAS, sample_weight=s, refit=False)
    assert np.all(np.abs(a.scores - b.scores) > 1e-3)


def test_cv_soft_binary_labels_are_stratified_by_their_nearest_label(soft):
    X, t, _ = soft
    cvr = fusedlogit.cv(X, t, folds=4, alphas=ALPHAS, refit=False)
    nearest = t > 0.5
    for _, test in cvr.folds:
        assert abs(nearest[test].sum() - nearest.sum() / 4) <= 1


def test_cv_integer_folds_stratify_every_class_of_a_multinomial_model():
    X, labels, _ = make_multinomial(seed=33, n=240, d=5, K=3)
    cvr = fusedlogit.cv(X, labels, folds=4, alphas=ALPHAS, refit=False)
    for k in range(3):
        for _, test in cvr.folds:
            assert abs(np.sum(labels[test] == k) - np.sum(labels == k) / 4) <= 1, k


def test_cv_soft_multinomial_labels():
    X, labels, s = make_multinomial(seed=32, n=240, d=5, K=3)
    rng = np.random.default_rng(6)
    Y = 0.7 * np.eye(3)[labels] + 0.3 * rng.dirichlet(np.ones(3), labels.size)
    folds = _folds(len(labels))
    cvr = fusedlogit.cv(X, Y, folds=folds, alphas=ALPHAS, sample_weight=s, refit=False)
    for f, ((_, test), pr) in enumerate(zip(folds, _fold_fits(X, Y, s, folds, ALPHAS))):
        for a in range(len(ALPHAS)):
            Z = X[test] @ pr.coef[a].T + pr.intercept[a]
            log_p = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
            expected = -np.sum(s[test] * np.sum(Y[test] * log_p, axis=1)) / s[test].sum()
            assert cvr.scores[0, a, f] == pytest.approx(expected, rel=1e-6)


def test_cv_callable_gets_the_split_rows(soft):
    """A callable sees integer labels; a soft row appears once per label with weight s · share."""
    X, t, s = soft
    seen = []

    def record(y_true, proba, sample_weight):
        seen.append((np.asarray(y_true), np.asarray(sample_weight)))
        return 0.0

    folds = _folds(len(t))
    fusedlogit.cv(X, t, folds=folds, alphas=ALPHAS[:1], scoring=record, sample_weight=s, refit=False)
    assert len(seen) == len(folds)  # the folds run in threads: compare the calls' rows pooled over the folds
    y_true = np.concatenate([y for y, _ in seen])
    weight = np.concatenate([w for _, w in seen])
    assert set(np.unique(y_true)) == {0, 1}
    for label, share in ((1, t), (0, 1 - t)):
        np.testing.assert_allclose(np.sort(weight[y_true == label]), np.sort((s * share)[share > 0]), rtol=1e-15)


def test_cv_folds_as_boolean_masks(binary):
    X, y, s = binary
    rng = np.random.default_rng(8)
    mask = rng.random(len(y)) < 0.5
    masks = [(mask, ~mask), (~mask, mask)]
    indices = [(np.flatnonzero(a), np.flatnonzero(b)) for a, b in masks]
    by_mask = fusedlogit.cv(X, y, folds=masks, alphas=ALPHAS, sample_weight=s, refit=False)
    by_index = fusedlogit.cv(X, y, folds=indices, alphas=ALPHAS, sample_weight=s, refit=False)
    np.testing.assert_array_equal(by_mask.scores, by_index.scores)
    for (tr, te), (tr2, te2) in zip(by_mask.folds, indices):
        np.testing.assert_array_equal(tr, tr2)
        np.testing.assert_array_equal(te, te2)


@pytest.mark.parametrize("bad", ["short_mask", "long_mask", "2d_mask", "fractional_index"])
def test_cv_bad_fold_arrays_name_folds(binary, bad):
    X, y, _ = binary
    n = len(y)
    mask = np.arange(n) % 2 == 0
    train = {"short_mask": mask[:-1], "long_mask": np.r_[mask, True], "2d_mask": mask[None, :],
             "fractional_index": np.arange(0, n, 2) + 0.5}[bad]
    with pytest.raises(ValueError, match="folds"):
        fusedlogit.cv(X, y, folds=[(train, ~mask), (~mask, mask)], alphas=ALPHAS)


def _nan_when_constant(y_true, proba, sample_weight):
    """Minus the weighted log loss, but NaN where the model predicts one probability for every row (all w = 0)."""
    proba = np.asarray(proba)
    if np.ptp(proba) == 0:
        return np.nan
    y_true = np.asarray(y_true)
    return float(np.sum(sample_weight * (y_true * np.log(proba) + (1 - y_true) * np.log1p(-proba)))
                 / np.sum(sample_weight))


def test_cv_nan_scores_never_win(binary):
    X, y, _ = binary
    alphas = np.array([1e3, 0.02, 0.005])  # 1e3: every coefficient 0 in every fold, so the score is NaN
    with pytest.warns(RuntimeWarning, match="NaN"):
        cvr = fusedlogit.cv(X, y, folds=3, alphas=alphas, scoring=_nan_when_constant, refit=False)
    assert np.isnan(cvr.mean_score[0, 0]) and not np.isnan(cvr.mean_score[0, 1:]).any()
    assert cvr.best_index == (0, 1 + int(np.argmax(cvr.mean_score[0, 1:])))
    assert cvr.best_alpha == alphas[cvr.best_index[1]]


def test_cv_all_nan_scores_raise(binary):
    X, y, _ = binary
    with pytest.raises(ValueError, match="scoring"):
        fusedlogit.cv(X, y, folds=3, alphas=ALPHAS, scoring=lambda *args: np.nan, refit=False)


# --------------------------------------------------------------------------------------------------
# item 11: rare one-hot columns and the convergence test
# --------------------------------------------------------------------------------------------------


def _one_hot(n, rare_levels, seed, common_share=0.5, n_common=4):
    """One categorical as CSR: n_common common levels (columns 0..n_common−1), the rest mostly seen once."""
    rng = np.random.default_rng(seed)
    common = rng.random(n) < common_share
    level = np.where(common, rng.integers(0, n_common, n), n_common + rng.integers(0, rare_levels, n))
    X = sp.csr_matrix((np.ones(n), level, np.arange(n + 1)), shape=(n, n_common + rare_levels))
    y = (rng.random(n) < sigmoid(rng.normal(0.0, 1.0, X.shape[1])[level])).astype(np.float64)
    return X, y


def _rare_test_weights(X):
    """max(1, 1/ρ_j), ρ_j the column's root-mean-square: the weights of fit's convergence test (README)."""
    rms = np.sqrt(np.asarray(X.multiply(X).mean(axis=0)).ravel())
    return np.where((rms > 0) & (rms < 1), 1.0 / np.where(rms > 0, rms, 1.0), 1.0)


def test_a_rare_column_that_fails_only_the_scaled_test_joins_the_working_set():
    """A zero rare column that violates the KKT conditions by less than tol, but by more than tol ρ_j,
    fails fit's (column-scaled) test, so the working set must take it in: it used to stay outside, and
    the fit stopped with "rounding" (the 2,000 × 10⁵ one-hot fit of issue 24)."""
    from fusedlogit.objective import LogisticLoss
    from fusedlogit.solvers.common import SolverOptions
    from fusedlogit.solvers.penalised import Penalty, coefficient_weights, proximal_newton

    n, tol = 400, 1e-8
    X, y = _one_hot(n, 600, seed=3)
    count = np.asarray((X != 0).sum(axis=0)).ravel()
    scale = _rare_test_weights(X)
    used = np.flatnonzero(count > 0)
    once = used[count[used] == 1]  # columns seen once: ρ_j = n^(−1/2), so their test is 20× stricter
    rows = X.tocsc()[:, once].indices  # the row of each (one entry per column, in column order)
    minority = float(y[rows].mean() < 0.5)  # only a row of the rarer label among them can enter the support
    j = once[y[rows] == minority][0]
    others = used[used != j]
    i = X[:, j].nonzero()[0][0]  # its row
    # l1 just above the point where column j enters the support: fitted without it, its violation
    # |g_j| − l1 = |σ(z_i) − y_i| / n − l1 sits between tol / scale_j and tol (z_i = the intercept alone)
    from scipy.optimize import brentq

    def violation(l1):
        fit = fusedlogit.fit(X[:, others], y, l1=l1, solver="cd", tol=1e-13)
        return abs(sigmoid(fit.intercept) - y[i]) / n - l1

    target = 3.0 * tol / scale[j]
    grid = np.geomspace(1e-5, 1.0 / n, 12)
    above = np.array([violation(l1) > target for l1 in grid])
    k = np.flatnonzero(above[:-1] & ~above[1:])[-1]  # column j enters the support between grid[k + 1] and grid[k]
    l1 = brentq(lambda l1: violation(l1) - target, grid[k], grid[k + 1], xtol=1e-14)
    violation = violation(l1)
    assert tol / scale[j] < violation < tol  # the raw KKT test holds at column j, the scaled one fails

    objective = LogisticLoss(X, y)
    penalty = Penalty(l1, 0.0, coefficient_weights(np.ones(X.shape[1]), objective.layout))
    out = proximal_newton(objective, penalty, objective.initial_coef(), SolverOptions(tol=tol, max_iter=50),
                          columns=others)  # column j starts outside the working set, as after a strong-set rule
    assert out.status == "converged", out.status
    coef, b = out.coef[:-1], out.coef[-1]
    p = sigmoid(X @ coef + b)
    g = X.T @ (p - y) / n
    sub = np.where(coef != 0, np.abs(g + l1 * np.sign(coef)), np.maximum(np.abs(g) - l1, 0.0))
    assert np.max(sub * scale) <= tol * (1 + 1e-6) and abs(np.mean(p - y)) <= tol
    assert coef[j] != 0  # it is in the support at the optimum


def test_wide_rare_one_hot_l1_fit_converges():
    """fit on 2,000 rows × 20,000 one-hot columns (4 common levels, the rest mostly seen once) converges
    under its scaled test, in a few iterations."""
    X, y = _one_hot(2000, 20_000, seed=4, common_share=0.2)
    res = fusedlogit.fit(X, y, l1=1e-4, solver="cd")
    assert res.converged and res.status == "converged" and res.n_iter <= 20
    p = sigmoid(X @ res.coef + res.intercept)
    g = X.T @ (p - y) / X.shape[0]
    c = res.coef
    sub = np.where(c != 0, np.abs(g + 1e-4 * np.sign(c)), np.maximum(np.abs(g) - 1e-4, 0.0))
    assert np.max(sub * _rare_test_weights(X)) <= 1e-8 * (1 + 1e-6)
