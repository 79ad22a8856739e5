"""fusedlogit.path and fusedlogit.cv: the L1 / elastic-net regularisation path and its cross-validation.

At every α of a path l1 = α·l1_ratio and l2 = α·(1 − l1_ratio).  Solutions are checked by the KKT
formulas of test_l1.py (plain NumPy from the definition of J) and against cold fits; the default grid's
α_max and the fold scores are recomputed here from their definitions.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit
from fusedlogit import ConvergenceWarning
from test_l1 import (
    assert_close_to,
    assert_kkt,
    binary_parts,
    centre_free,
    make_binary,
    make_multinomial,
    multinomial_parts,
    reference_fit,
    sigmoid,
)

pytestmark = pytest.mark.filterwarnings("error::fusedlogit.ConvergenceWarning")

N_ALPHAS = 12


@pytest.fixture(scope="module")
def binary():
    return make_binary(seed=21, n=300, d=8)


@pytest.fixture(scope="module")
def multi():
    return make_multinomial(seed=22, n=300, d=5, K=3)


PI = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0, 1.0, 1.0])  # feature 1 unpenalised


def alpha_max_ref(X, y, *, l1_ratio, pi=None, s=None, fit_intercept=True, n_classes=None):
    """The smallest α at which every penalised coefficient is 0: fit the unpenalised part (intercept and
    features with π_j = 0) alone, then max_j |∂F/∂w_j| / (l1_ratio π_j) over π_j > 0."""
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    pi = np.ones(d) if pi is None else np.asarray(pi, dtype=np.float64)
    free = np.flatnonzero(pi == 0)
    K = n_classes
    if K is None:
        w = np.zeros(d)
        b = 0.0
        if fit_intercept or len(free):
            wf, b = reference_fit(X[:, free], y, l1=0.0, l2=0.0, s=s, fit_intercept=fit_intercept)
            w[free] = wf
        _, g, _ = binary_parts(X, y, s, w, b, 0.0, 0.0, pi)
        g = np.abs(g)
    else:
        W = np.zeros((K, d))
        b = np.zeros(K)
        if fit_intercept or len(free):
            Wf, b = reference_fit(X[:, free], y, l1=0.0, l2=0.0, s=s, fit_intercept=fit_intercept, n_classes=K)
            W[:, free] = Wf
        _, G, _ = multinomial_parts(X, y, s, W, b, 0.0, 0.0, pi)
        g = np.abs(G).max(axis=0)
    pen = pi > 0
    return np.max(g[pen] / (l1_ratio * pi[pen]))


def check_path(pr, X, y, *, l1_ratio, pi=None, s=None, fit_intercept=True, tol=1e-8, n_classes=None, cold=True,
               cold_rel=1e-6):
    """Every α: KKT, the documented fields, and (cold=True) the cold fit at that α."""
    n_alphas = len(pr.alphas)
    d = X.shape[1]
    shape = (n_alphas, d) if n_classes is None else (n_alphas, n_classes, d)
    assert pr.coef.shape == shape
    assert np.shape(pr.intercept) == ((n_alphas,) if n_classes is None else (n_alphas, n_classes))
    for name in ("n_iter", "converged", "loss", "n_nonzero", "grad_max"):
        assert np.shape(getattr(pr, name)) == (n_alphas,), name
    assert np.issubdtype(np.asarray(pr.n_iter).dtype, np.integer)
    assert np.issubdtype(np.asarray(pr.n_nonzero).dtype, np.integer)
    assert np.asarray(pr.converged).dtype == np.bool_
    assert np.all(np.diff(pr.alphas) < 0), "alphas must be strictly decreasing"
    assert pr.l1_ratio == l1_ratio
    for i, alpha in enumerate(pr.alphas):
        l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
        what = f"α[{i}] = {alpha:.4g}"
        assert pr.converged[i], what
        icpt = pr.intercept[i] if fit_intercept else None
        J, sub, _ = assert_kkt(X, y, pr.coef[i], icpt, l1=l1, l2=l2, pi=pi, s=s, fit_intercept=fit_intercept,
                               tol=tol, what=what)
        assert pr.loss[i] == pytest.approx(J, rel=1e-10, abs=1e-14), f"{what}: loss is not J"
        assert pr.n_nonzero[i] == np.count_nonzero(pr.coef[i]), what
        assert pr.grad_max[i] <= tol * (1 + 1e-9), what
        if n_classes is not None and fit_intercept:
            assert abs(np.sum(pr.intercept[i])) <= 1e-10, what
        if cold:
            ref = fusedlogit.fit(X, y, l1=l1, l2=l2, penalty_weights=pi, sample_weight=s, fit_intercept=fit_intercept,
                                 tol=tol, n_classes=n_classes)
            scale = max(np.abs(ref.coef).max(), 1e-3)
            ours, theirs = pr.coef[i], ref.coef
            if n_classes is not None:
                ours, theirs = centre_free(ours, pi), centre_free(theirs, pi)
            assert np.abs(ours - theirs).max() <= cold_rel * scale, (
                f"{what}: path coef differs from a cold fit by {np.abs(ours - theirs).max():.3e}"
            )
            if fit_intercept:
                assert np.abs(pr.intercept[i] - ref.intercept).max() <= cold_rel * max(scale, 1.0), what


# --------------------------------------------------------------------------------------------------
# path
# --------------------------------------------------------------------------------------------------

PATH_CASES = [
    dict(l1_ratio=1.0),
    dict(l1_ratio=0.5),
    dict(l1_ratio=1.0, weights=True, pi=PI),
    dict(l1_ratio=0.3, weights=True),
    dict(l1_ratio=1.0, fit_intercept=False),
    dict(l1_ratio=0.5, fit_intercept=False, pi=PI, weights=True),
]


def _case_id(c):
    return "-".join(f"{k}={'π' if k == 'pi' else v}" for k, v in c.items())


def _case(c, sw):
    return dict(l1_ratio=c["l1_ratio"], pi=c.get("pi"), s=sw if c.get("weights") else None,
                fit_intercept=c.get("fit_intercept", True))


@pytest.mark.parametrize("case", PATH_CASES, ids=_case_id)
def test_path_solutions_are_optimal_and_equal_cold_fits(binary, case):
    X, y, sw = binary
    c = _case(case, sw)
    pr = fusedlogit.path(X, y, l1_ratio=c["l1_ratio"], n_alphas=N_ALPHAS, penalty_weights=c["pi"], sample_weight=c["s"],
                         fit_intercept=c["fit_intercept"], tol=1e-10)
    assert len(pr.alphas) == N_ALPHAS
    check_path(pr, X, y, tol=1e-10, **c)


@pytest.mark.parametrize("case", PATH_CASES, ids=_case_id)
def test_default_grid(binary, case):
    X, y, sw = binary
    c = _case(case, sw)
    pr = fusedlogit.path(X, y, l1_ratio=c["l1_ratio"], n_alphas=N_ALPHAS, penalty_weights=c["pi"],
                         sample_weight=c["s"], fit_intercept=c["fit_intercept"])
    amax = alpha_max_ref(X, y, l1_ratio=c["l1_ratio"], pi=c["pi"], s=c["s"], fit_intercept=c["fit_intercept"])
    assert pr.alphas[0] == pytest.approx(amax, rel=1e-6)
    steps = np.diff(np.log(pr.alphas))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-8)  # geometric
    assert pr.alphas[-1] / pr.alphas[0] == pytest.approx(1e-4, rel=1e-8)  # n > d
    pen = np.ones(X.shape[1], bool) if c["pi"] is None else c["pi"] > 0
    assert np.all(pr.coef[0][pen] == 0), "all penalised coefficients are 0 at the first α"
    assert np.any(pr.coef[1][pen] != 0), "some penalised coefficient is nonzero at the second α"


def test_alpha_max_is_the_boundary(binary):
    """Just above α_max everything penalised is 0; just below, something is not (whatever the grid code does)."""
    X, y, sw = binary
    for l1_ratio, pi in ((1.0, None), (0.5, PI)):
        amax = alpha_max_ref(X, y, l1_ratio=l1_ratio, pi=pi, s=sw)
        pr = fusedlogit.path(X, y, l1_ratio=l1_ratio, alphas=[amax * (1 + 1e-6), amax * (1 - 1e-3)],
                             penalty_weights=pi, sample_weight=sw)
        pen = np.ones(X.shape[1], bool) if pi is None else pi > 0
        assert np.all(pr.coef[0][pen] == 0)
        assert np.any(pr.coef[1][pen] != 0)
        check_path(pr, X, y, l1_ratio=l1_ratio, pi=pi, s=sw, cold=False)


def test_default_grid_ratio_for_wide_data():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((25, 30))
    y = (rng.random(25) < 0.5).astype(float)
    y[:2] = [0.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # this test is about the grid only
        pr = fusedlogit.path(X, y, n_alphas=5)
    assert pr.alphas[-1] / pr.alphas[0] == pytest.approx(1e-2, rel=1e-8)  # n ≤ d
    assert pr.alphas[0] == pytest.approx(alpha_max_ref(X, y, l1_ratio=1.0), rel=1e-6)


def test_alpha_min_ratio_and_n_alphas(binary):
    X, y, _ = binary
    pr = fusedlogit.path(X, y, n_alphas=7, alpha_min_ratio=0.05)
    assert len(pr.alphas) == 7
    assert pr.alphas[-1] / pr.alphas[0] == pytest.approx(0.05, rel=1e-8)


def test_given_alphas_are_sorted_decreasing(binary):
    X, y, _ = binary
    given = [0.004, 0.05, 0.01, 0.02]
    pr = fusedlogit.path(X, y, alphas=given, l1_ratio=0.7)
    np.testing.assert_array_equal(pr.alphas, sorted(given, reverse=True))
    check_path(pr, X, y, l1_ratio=0.7)  # each row belongs to its α


def test_ridge_path_with_explicit_alphas(binary):
    X, y, _ = binary
    pr = fusedlogit.path(X, y, l1_ratio=0.0, alphas=[0.1, 0.01, 0.001])
    check_path(pr, X, y, l1_ratio=0.0)


@pytest.mark.parametrize("weights", [False, True])
def test_multinomial_path(multi, weights):
    X, y, sw = multi
    s = sw if weights else None
    pr = fusedlogit.path(X, y, n_alphas=8, l1_ratio=0.8, sample_weight=s, tol=1e-10)
    assert pr.alphas[0] == pytest.approx(alpha_max_ref(X, y, l1_ratio=0.8, s=s, n_classes=3), rel=1e-6)
    assert np.all(pr.coef[0] == 0) and np.any(pr.coef[1] != 0)
    check_path(pr, X, y, l1_ratio=0.8, s=s, tol=1e-10, n_classes=3)


def test_multinomial_path_with_penalty_weights(multi):
    X, y, _ = multi
    pi = np.array([1.0, 0.0, 2.0, 1.0, 0.5])
    pr = fusedlogit.path(X, y, n_alphas=6, penalty_weights=pi, tol=1e-10)
    assert pr.alphas[0] == pytest.approx(alpha_max_ref(X, y, l1_ratio=1.0, pi=pi, n_classes=3), rel=1e-6)
    assert np.all(pr.coef[0][:, pi > 0] == 0)
    check_path(pr, X, y, l1_ratio=1.0, pi=pi, tol=1e-10, n_classes=3)


def test_verbose_prints_one_line_per_alpha(binary, capsys):
    X, y, _ = binary
    capsys.readouterr()
    fusedlogit.path(X, y, n_alphas=6, verbose=True)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 6, out
    quiet = fusedlogit.path(X, y, n_alphas=6)
    assert capsys.readouterr().out == ""
    assert quiet is not None


@pytest.mark.parametrize("form", ["csr", "F", "float32"])
def test_path_on_other_data_forms(binary, form):
    X, y, sw = binary
    Xs = X * (np.random.default_rng(0).random(X.shape) < 0.5)
    Xf = {"csr": sp.csr_matrix, "F": np.asfortranarray, "float32": lambda a: a.astype(np.float32)}[form](Xs)
    X64 = Xs.astype(np.float32).astype(np.float64) if form == "float32" else Xs
    ref = fusedlogit.path(X64, y, n_alphas=8, l1_ratio=0.5, sample_weight=sw)
    pr = fusedlogit.path(Xf, y, n_alphas=8, l1_ratio=0.5, sample_weight=sw)
    rel = 1e-4 if form == "float32" else 1e-6
    np.testing.assert_allclose(pr.alphas, ref.alphas, rtol=rel)
    assert_close_to(pr.coef, ref.coef, rel, form)


def test_path_on_dask(binary):
    da = pytest.importorskip("dask.array")
    import dask

    X, y, sw = binary
    ref = fusedlogit.path(X, y, n_alphas=6, sample_weight=sw)
    with dask.config.set(scheduler="threads"):
        pr = fusedlogit.path(da.from_array(X, chunks=(100, X.shape[1])), y, n_alphas=6, sample_weight=sw)
    np.testing.assert_allclose(pr.alphas, ref.alphas, rtol=1e-8)
    assert_close_to(pr.coef, ref.coef, 1e-6, "dask path")


# hostile


def test_path_zero_column_stays_zero(binary):
    X, y, _ = binary
    X = X.copy()
    X[:, 3] = 0.0
    pr = fusedlogit.path(X, y, n_alphas=8)
    assert np.all(pr.coef[:, 3] == 0)
    check_path(pr, X, y, l1_ratio=1.0, cold=False)


def test_path_duplicated_columns(binary):
    X, y, _ = binary
    Xd = np.column_stack([X, X[:, 0], X[:, 0]])
    pr = fusedlogit.path(Xd, y, n_alphas=8)
    check_path(pr, Xd, y, l1_ratio=1.0, cold=False)
    once = fusedlogit.path(X, y, alphas=pr.alphas)
    assert_close_to(pr.coef[:, [0, -2, -1]].sum(axis=1), once.coef[:, 0], 1e-6, "duplicated columns' total")


def test_huge_alphas_give_zero(binary):
    X, y, sw = binary
    pr = fusedlogit.path(X, y, alphas=[1e6, 1e3], sample_weight=sw)
    assert np.all(pr.coef == 0) and np.all(pr.n_nonzero == 0)
    pbar = np.average(y, weights=sw)
    np.testing.assert_allclose(pr.intercept, np.log(pbar / (1 - pbar)), atol=1e-7)


def test_path_on_separable_data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 4))
    y = (X[:, 0] - X[:, 2] > 0).astype(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pr = fusedlogit.path(X, y, n_alphas=10, alpha_min_ratio=1e-6)
    assert np.all(np.isfinite(pr.coef)) and np.all(np.isfinite(pr.intercept)) and np.all(np.isfinite(pr.loss))
    for i, alpha in enumerate(pr.alphas):
        if pr.converged[i]:
            assert_kkt(X, y, pr.coef[i], pr.intercept[i], l1=alpha, l2=0.0, what=f"α[{i}]")
    if not np.all(pr.converged):
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


# --------------------------------------------------------------------------------------------------
# cv
# --------------------------------------------------------------------------------------------------


def _proba(X, coef, intercept, multinomial):
    X = np.asarray(X, dtype=np.float64)
    if not multinomial:
        return sigmoid(X @ coef + intercept)
    Z = X @ coef.T + intercept
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    return P / P.sum(axis=1, keepdims=True)


def _score(name, y, p, w, multinomial):
    if name == "log_loss":
        if multinomial:
            ll = -np.log(p[np.arange(len(y)), y.astype(int)])
        else:
            ll = -(y * np.log(p) + (1 - y) * np.log1p(-p))
        return np.sum(w * ll) / np.sum(w)
    if name == "accuracy":
        pred = np.argmax(p, axis=1) if multinomial else (p > 0.5).astype(float)
        return np.sum(w * (pred == y)) / np.sum(w)
    if name == "roc_auc":
        from sklearn.metrics import roc_auc_score

        return roc_auc_score(y, p, sample_weight=w)
    raise AssertionError(name)


def expected_scores(cvr, X, y, *, scoring, s=None, pi=None, fit_intercept=True, n_classes=None):
    """Each fold: the path on all rows with the held-out weights set to 0, scored on the held-out rows."""
    n = len(y)
    s = np.ones(n) if s is None else s
    out = np.empty(np.shape(cvr.scores))
    for i, r in enumerate(cvr.l1_ratios):
        for f, (train, test) in enumerate(cvr.folds):
            w = np.zeros(n)
            w[train] = s[train]
            pr = fusedlogit.path(X, y, l1_ratio=r, alphas=cvr.alphas[i], sample_weight=w, penalty_weights=pi,
                                 fit_intercept=fit_intercept, n_classes=n_classes)
            for a in range(len(pr.alphas)):
                icpt = pr.intercept[a] if fit_intercept else 0.0
                p = _proba(X[test], pr.coef[a], icpt, n_classes is not None)
                out[i, a, f] = _score(scoring, y[test], p, s[test], n_classes is not None)
    return out


def check_best(cvr, lower_is_better):
    ms = np.asarray(cvr.mean_score)
    np.testing.assert_allclose(ms, np.mean(cvr.scores, axis=2), rtol=1e-12)
    i, a = cvr.best_index
    best = ms.min() if lower_is_better else ms.max()
    assert ms[i, a] == best
    assert cvr.best_alpha == cvr.alphas[i, a]
    assert cvr.best_l1_ratio == cvr.l1_ratios[i]


def check_refit(cvr, X, y, *, s=None, pi=None, n_classes=None):
    r, alpha = cvr.best_l1_ratio, cvr.best_alpha
    l1, l2 = alpha * r, alpha * (1 - r)
    ref = fusedlogit.fit(X, y, l1=l1, l2=l2, sample_weight=s, penalty_weights=pi, n_classes=n_classes)
    assert cvr.fit is not None and cvr.fit.converged
    assert_kkt(X, y, cvr.fit.coef, cvr.fit.intercept, l1=l1, l2=l2, pi=pi, s=s, what="refit")
    assert_close_to(cvr.fit.coef, ref.coef, 1e-6, "refit vs fit at the best α")
    np.testing.assert_allclose(cvr.fit.intercept, ref.intercept, atol=1e-6 * max(1.0, np.abs(ref.coef).max()))


def check_folds_partition(folds, n):
    tests = np.concatenate([np.asarray(t) for _, t in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n))
    for train, test in folds:
        np.testing.assert_array_equal(np.sort(train), np.setdiff1d(np.arange(n), test))


@pytest.mark.parametrize("scoring", ["log_loss", "accuracy", "roc_auc"])
def test_cv_scores_best_and_refit(binary, scoring):
    X, y, sw = binary
    cvr = fusedlogit.cv(X, y, folds=4, n_alphas=8, scoring=scoring, sample_weight=sw)
    assert cvr.scoring == scoring
    assert np.shape(cvr.scores) == (1, 8, 4) and np.shape(cvr.alphas) == (1, 8) and np.shape(cvr.mean_score) == (1, 8)
    np.testing.assert_array_equal(cvr.l1_ratios, [1.0])
    check_folds_partition(cvr.folds, len(y))
    exp = expected_scores(cvr, X, y, scoring=scoring, s=sw)
    np.testing.assert_allclose(cvr.scores, exp, rtol=1e-6, atol=1e-9)
    check_best(cvr, lower_is_better=scoring == "log_loss")
    check_refit(cvr, X, y, s=sw)


def test_cv_log_loss_picks_the_argmin(binary):
    X, y, _ = binary
    cvr = fusedlogit.cv(X, y, folds=3, n_alphas=10)
    ms = np.asarray(cvr.mean_score)
    assert tuple(cvr.best_index) == np.unravel_index(np.argmin(ms), ms.shape)
    # the grid runs from everything-zero (α_max) down; the mean loss is not minimal at the all-zero end here
    assert cvr.best_index[1] > 0


def test_cv_callable_scoring_equals_accuracy(binary):
    X, y, sw = binary

    def weighted_accuracy(y_true, proba, sample_weight):
        proba = np.asarray(proba)
        p1 = proba[:, -1] if proba.ndim == 2 else proba
        w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight)
        return np.sum(w * ((p1 > 0.5) == (np.asarray(y_true) > 0.5))) / np.sum(w)

    a = fusedlogit.cv(X, y, folds=3, n_alphas=6, scoring=weighted_accuracy, sample_weight=sw)
    b = fusedlogit.cv(X, y, folds=3, n_alphas=6, scoring="accuracy", sample_weight=sw)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-12)
    check_best(a, lower_is_better=False)


def test_cv_threads_give_identical_results(binary):
    X, y, sw = binary
    a = fusedlogit.cv(X, y, folds=4, n_alphas=8, l1_ratio=[1.0, 0.5], sample_weight=sw, n_threads=1)
    b = fusedlogit.cv(X, y, folds=4, n_alphas=8, l1_ratio=[1.0, 0.5], sample_weight=sw, n_threads=2)
    for name in ("alphas", "scores", "mean_score", "l1_ratios"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert tuple(a.best_index) == tuple(b.best_index) and a.best_alpha == b.best_alpha
    np.testing.assert_array_equal(a.fit.coef, b.fit.coef)
    np.testing.assert_array_equal(a.fit.intercept, b.fit.intercept)
    for (tra, tea), (trb, teb) in zip(a.folds, b.folds):
        np.testing.assert_array_equal(tra, trb)
        np.testing.assert_array_equal(tea, teb)


def test_cv_integer_folds_are_seeded_and_stratified(binary):
    X, y, _ = binary
    a = fusedlogit.cv(X, y, folds=5, n_alphas=5, seed=7)
    b = fusedlogit.cv(X, y, folds=5, n_alphas=5, seed=7)
    c = fusedlogit.cv(X, y, folds=5, n_alphas=5, seed=8)
    assert len(a.folds) == 5
    for (tra, tea), (trb, teb) in zip(a.folds, b.folds):
        np.testing.assert_array_equal(tea, teb)
        np.testing.assert_array_equal(tra, trb)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert any(not np.array_equal(np.sort(ta), np.sort(tc)) for (_, ta), (_, tc) in zip(a.folds, c.folds))
    check_folds_partition(a.folds, len(y))
    check_folds_partition(c.folds, len(y))
    # shuffled: the test folds are not the contiguous blocks of KFold without shuffling
    assert not all(np.array_equal(np.sort(t), np.arange(t.min(), t.max() + 1)) for _, t in a.folds)
    # stratified: each class is spread over the folds within one row of n_class / 5
    for label in (0.0, 1.0):
        n_c = np.sum(y == label)
        for _, test in a.folds:
            assert abs(np.sum(y[test] == label) - n_c / 5) <= 1, (label, [np.sum(y[t] == label) for _, t in a.folds])


def test_cv_given_folds(binary):
    from sklearn.model_selection import KFold

    X, y, sw = binary
    folds = list(KFold(4, shuffle=True, random_state=3).split(X))
    cvr = fusedlogit.cv(X, y, folds=folds, n_alphas=6, sample_weight=sw)
    assert len(cvr.folds) == 4 and np.shape(cvr.scores) == (1, 6, 4)
    for (tr, te), (tr2, te2) in zip(folds, cvr.folds):
        np.testing.assert_array_equal(np.sort(tr), np.sort(tr2))
        np.testing.assert_array_equal(np.sort(te), np.sort(te2))
    np.testing.assert_allclose(cvr.scores, expected_scores(cvr, X, y, scoring="log_loss", s=sw), rtol=1e-6)


def test_cv_accepts_a_splitters_split_output(binary):
    """The spec: folds may be "an sklearn splitter's split() output", which is a generator."""
    from sklearn.model_selection import StratifiedKFold

    X, y, _ = binary
    splitter = StratifiedKFold(3, shuffle=True, random_state=0)
    cvr = fusedlogit.cv(X, y, folds=splitter.split(X, y), n_alphas=4)
    expected = list(splitter.split(X, y))
    assert len(cvr.folds) == 3
    for (_, te), (_, te2) in zip(expected, cvr.folds):
        np.testing.assert_array_equal(np.sort(te), np.sort(te2))


def test_cv_l1_ratio_sequence(binary):
    X, y, _ = binary
    ratios = [1.0, 0.5, 0.2]
    cvr = fusedlogit.cv(X, y, folds=3, n_alphas=5, l1_ratio=ratios)
    assert np.shape(cvr.scores) == (3, 5, 3)
    assert np.shape(cvr.alphas) == (3, 5) and np.shape(cvr.mean_score) == (3, 5)
    np.testing.assert_allclose(cvr.l1_ratios, ratios)
    assert np.all(np.diff(cvr.alphas, axis=1) < 0)
    np.testing.assert_allclose(cvr.scores, expected_scores(cvr, X, y, scoring="log_loss"), rtol=1e-6)
    check_best(cvr, lower_is_better=True)
    check_refit(cvr, X, y)


def test_cv_given_alphas_and_penalty_weights(binary):
    X, y, sw = binary
    cvr = fusedlogit.cv(X, y, folds=3, alphas=[0.001, 0.03, 0.01], l1_ratio=[1.0, 0.5], penalty_weights=PI,
                        sample_weight=sw)
    np.testing.assert_array_equal(cvr.alphas, [[0.03, 0.01, 0.001]] * 2)
    np.testing.assert_allclose(cvr.scores, expected_scores(cvr, X, y, scoring="log_loss", s=sw, pi=PI), rtol=1e-6)
    check_refit(cvr, X, y, s=sw, pi=PI)


def test_cv_refit_false(binary):
    X, y, _ = binary
    cvr = fusedlogit.cv(X, y, folds=3, n_alphas=4, refit=False)
    assert cvr.fit is None
    check_best(cvr, lower_is_better=True)


@pytest.mark.parametrize("scoring", ["log_loss", "accuracy"])
def test_cv_multinomial(multi, scoring):
    X, y, sw = multi
    cvr = fusedlogit.cv(X, y, folds=3, n_alphas=5, l1_ratio=[1.0, 0.5], scoring=scoring, sample_weight=sw)
    assert np.shape(cvr.scores) == (2, 5, 3)
    assert cvr.fit.coef.shape == (3, X.shape[1]) and cvr.fit.intercept.shape == (3,)
    exp = expected_scores(cvr, X, y, scoring=scoring, s=sw, n_classes=3)
    np.testing.assert_allclose(cvr.scores, exp, rtol=1e-6, atol=1e-9)
    check_best(cvr, lower_is_better=scoring == "log_loss")
    check_refit(cvr, X, y, s=sw, n_classes=3)


def test_cv_on_csr_equals_dense(binary):
    X, y, _ = binary
    Xs = X * (np.random.default_rng(1).random(X.shape) < 0.5)
    a = fusedlogit.cv(Xs, y, folds=3, n_alphas=5)
    b = fusedlogit.cv(sp.csr_matrix(Xs), y, folds=3, n_alphas=5)
    np.testing.assert_allclose(b.alphas, a.alphas, rtol=1e-10)
    np.testing.assert_allclose(b.scores, a.scores, rtol=1e-7)
    assert tuple(a.best_index) == tuple(b.best_index)


# --------------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------------

BAD_OPTIONS = [
    ({"l1_ratio": -0.1}, "l1_ratio"),
    ({"l1_ratio": 1.1}, "l1_ratio"),
    ({"l1_ratio": np.nan}, "l1_ratio"),
    ({"alphas": [0.1, -0.01]}, "alphas"),
    ({"alphas": []}, "alphas"),
    ({"alphas": [0.1, np.nan]}, "alphas"),
    ({"alphas": [[0.1, 0.01]]}, "alphas"),
    ({"penalty_weights": np.ones(7)}, "penalty_weights"),
    ({"penalty_weights": np.ones(9)}, "penalty_weights"),
    ({"penalty_weights": np.r_[-1.0, np.ones(7)]}, "penalty_weights"),
    ({"penalty_weights": np.r_[np.nan, np.ones(7)]}, "penalty_weights"),
    ({"n_alphas": 0}, "n_alphas"),
    ({"n_alphas": -3}, "n_alphas"),
    ({"l1_ratio": 0.0}, "l1_ratio|alphas"),  # the default grid needs l1_ratio > 0
]


@pytest.mark.parametrize("func", ["path", "cv"])
@pytest.mark.parametrize("kwargs,match", BAD_OPTIONS, ids=[f"{next(iter(k))}={v!r}" for k, _ in BAD_OPTIONS
                                                      for v in [next(iter(k.values()))]])
def test_bad_options(binary, func, kwargs, match):
    X, y, _ = binary
    with pytest.raises(ValueError, match=match):
        getattr(fusedlogit, func)(X, y, **kwargs)


@pytest.mark.parametrize("l1_ratio", [[1.0, 1.5], [0.5, np.nan], [-0.2]])
def test_cv_bad_l1_ratio_sequence(binary, l1_ratio):
    X, y, _ = binary
    with pytest.raises(ValueError, match="l1_ratio"):
        fusedlogit.cv(X, y, l1_ratio=l1_ratio)


@pytest.mark.parametrize("folds", [0, 1, 301, 10_000])
def test_cv_bad_folds(binary, folds):
    X, y, _ = binary
    with pytest.raises(ValueError, match="folds"):
        fusedlogit.cv(X, y, folds=folds)


def test_cv_bad_scoring(binary):
    X, y, _ = binary
    with pytest.raises(ValueError, match="scoring"):
        fusedlogit.cv(X, y, scoring="r2")


# --------------------------------------------------------------------------------------------------
# inputs are not changed
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["C", "F", "csr"])
def test_path_and_cv_do_not_mutate_inputs(binary, form):
    X, y, sw = binary
    X = {"C": np.ascontiguousarray, "F": np.asfortranarray, "csr": sp.csr_matrix}[form](X.copy())
    pi = PI.copy()
    alphas = np.array([0.001, 0.05, 0.01])
    folds = [(np.arange(100, 300), np.arange(100)), (np.arange(100), np.arange(100, 300))]
    before = [X.copy(), y.copy(), sw.copy(), pi.copy(), alphas.copy(), [(a.copy(), b.copy()) for a, b in folds]]
    fusedlogit.path(X, y, alphas=alphas, penalty_weights=pi, sample_weight=sw)
    fusedlogit.path(X, y, n_alphas=4, penalty_weights=pi, sample_weight=sw)
    fusedlogit.cv(X, y, folds=folds, alphas=alphas, penalty_weights=pi, sample_weight=sw)
    fusedlogit.cv(X, y, folds=3, n_alphas=4, sample_weight=sw)
    for b, a in zip(before[:5], [X, y, sw, pi, alphas]):
        if sp.issparse(b):
            assert (b != a).nnz == 0
        else:
            np.testing.assert_array_equal(b, a)
    for (tr0, te0), (tr1, te1) in zip(before[5], folds):
        np.testing.assert_array_equal(tr0, tr1)
        np.testing.assert_array_equal(te0, te1)


def test_default_grid_needs_a_penalised_feature(binary):
    """α_max is a max over π_j > 0: with every π_j = 0 there is no default grid."""
    X, y, _ = binary
    with pytest.raises(ValueError, match="penalty_weights|alphas"):
        fusedlogit.path(X, y, penalty_weights=np.zeros(X.shape[1]))
    pr = fusedlogit.path(X, y, penalty_weights=np.zeros(X.shape[1]), alphas=[0.1, 0.01])
    ref = fusedlogit.fit(X, y, solver="newton", tol=1e-10)  # nothing penalised: the MLE at every α
    assert_close_to(pr.coef[0], ref.coef, 1e-6, "unpenalised path")
    assert_close_to(pr.coef[1], ref.coef, 1e-6, "unpenalised path")
