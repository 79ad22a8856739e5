"""fusedlogit.sklearn: penalty="l1" / "elasticnet" and LogisticRegressionCV against scikit-learn."""

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from scipy.special import expit  # noqa: E402
from sklearn import linear_model  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_classification  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fusedlogit.sklearn import LogisticRegression, LogisticRegressionCV  # noqa: E402

# most tests here pass penalty=, deprecated since scikit-learn 1.8 but still accepted with its meaning
# (tests/test_sklearn_conventions.py tests the l1_ratio API and these warnings)
pytestmark = pytest.mark.filterwarnings("ignore:penalty is deprecated:FutureWarning")


def saga(**params):
    """scikit-learn's reference for l1 / elastic net, solved tightly (penalty= is deprecated there since 1.8)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return linear_model.LogisticRegression(solver="saga", tol=1e-10, max_iter=100_000, **params)


def fit_quietly(estimator, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # scikit-learn's deprecations of penalty, l1_ratios=None
        warnings.simplefilter("ignore", UserWarning)  # ... and its "Inconsistent values: penalty=l1 ..."
        return estimator.fit(X, y, **kwargs)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def sparse_problem():
    """Three informative features of 20, standardised: the cross-validated C is clearly 0.1."""
    X, y = make_classification(n_samples=250, n_features=20, n_informative=3, n_redundant=0, random_state=0)
    return StandardScaler().fit_transform(X), y


# -- LogisticRegression(penalty="l1" / "elasticnet") ---------------------------------------


@parametrize_with_checks([LogisticRegression(l1_ratio=1.0), LogisticRegressionCV(Cs=3, cv=3)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.slow
# tol=1e-10: check_sample_weight_equivalence compares the weighted and the repeated rows' fits to rtol 1e-7, and
# on its 45 nearly separable rows at C = 1e4 the default tol=1e-8 leaves the coefficients only that close
# (6e-8 apart, on this AVX-512 machine and with the code before 2026-12-06 alike; 3e-10 at tol=1e-10)
@parametrize_with_checks([LogisticRegressionCV(Cs=3, cv=3, l1_ratios=(1.0,), tol=1e-10)])
def test_sklearn_estimator_checks_l1_cv(estimator, check):
    check(estimator)


@pytest.mark.parametrize("penalty, l1_ratio, C", [("l1", None, 0.1), ("elasticnet", 0.5, 0.1), ("elasticnet", 0.5, 1.0)])
def test_binary_penalties_match_saga(cancer, penalty, l1_ratio, C):
    X, y = cancer
    ours = LogisticRegression(penalty=penalty, l1_ratio=l1_ratio, C=C).fit(X, y)
    ref = fit_quietly(saga(penalty=penalty, l1_ratio=l1_ratio, C=C), X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    np.testing.assert_array_equal(ours.coef_ != 0, ref.coef_ != 0)  # the same support
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_binary_l1_at_c_1_meets_the_optimality_conditions(cancer):
    """C = 1: saga stops short after 100000 epochs here (~30 s), so the test is the KKT conditions of
    C Σ ℓ_i + ||w||₁, computed here in NumPy: ∇_j ∈ −sign(w_j) where w_j ≠ 0, |∇_j| ≤ 1 where w_j = 0."""
    X, y = cancer
    est = LogisticRegression(penalty="l1", C=1.0, tol=1e-12).fit(X, y)
    w, b = est.coef_[0], est.intercept_[0]
    residual = expit(X @ w + b) - y
    grad = X.T @ residual  # of C Σ ℓ_i, over C
    assert abs(residual.sum()) < 1e-9
    nonzero = w != 0
    np.testing.assert_allclose(grad[nonzero], -np.sign(w[nonzero]), atol=1e-9)
    assert np.all(np.abs(grad[~nonzero]) <= 1 + 1e-9)
    assert 0 < nonzero.sum() < X.shape[1]


@pytest.mark.parametrize("loader", [load_iris, load_wine])
@pytest.mark.parametrize("penalty, l1_ratio", [("l1", None), ("elasticnet", 0.5)])
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_multiclass_penalties_match_saga_multinomial(loader, penalty, l1_ratio, C):
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = LogisticRegression(penalty=penalty, l1_ratio=l1_ratio, C=C).fit(X, y)
    ref = fit_quietly(saga(penalty=penalty, l1_ratio=l1_ratio, C=C), X, y)
    assert ours.coef_.shape == ref.coef_.shape and ours.intercept_.shape == ref.intercept_.shape
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)  # both sum to 0
    np.testing.assert_array_equal(ours.coef_ != 0, ref.coef_ != 0)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_l2_is_unchanged_and_elasticnet_spans_l2_to_l1(cancer):
    X, y = cancer
    l2 = LogisticRegression(C=0.5).fit(X, y)
    ref = linear_model.LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(l2.coef_, ref.coef_, atol=1e-6, rtol=1e-6)
    np.testing.assert_array_equal(
        LogisticRegression(C=0.5, penalty="elasticnet", l1_ratio=0.0).fit(X, y).coef_, l2.coef_
    )  # r = 0: the same l2 fit, the same solver
    l1 = LogisticRegression(C=0.5, penalty="l1").fit(X, y)
    np.testing.assert_allclose(
        LogisticRegression(C=0.5, penalty="elasticnet", l1_ratio=1.0).fit(X, y).coef_, l1.coef_, atol=1e-9
    )
    assert np.count_nonzero(l1.coef_) < X.shape[1] == np.count_nonzero(l2.coef_)


def test_l1_with_sample_and_class_weights_matches_saga(cancer):
    X, y = cancer
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    ours = LogisticRegression(penalty="l1", C=0.1, class_weight="balanced").fit(X, y, sample_weight=sw)
    ref = fit_quietly(saga(penalty="l1", C=0.1, class_weight="balanced"), X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * np.abs(ref.coef_).max())


def test_infinite_c_and_no_penalty_fit_the_mle(cancer):
    X, y = cancer
    X = X[:, :5]
    mle = LogisticRegression(penalty=None).fit(X, y).coef_
    np.testing.assert_allclose(LogisticRegression(penalty="l1", C=np.inf).fit(X, y).coef_, mle, rtol=1e-8)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"penalty": "l3"}, "penalty"),
        ({"penalty": "elasticnet", "l1_ratio": None}, "l1_ratio"),  # required there, as in scikit-learn
        ({"penalty": "elasticnet", "l1_ratio": 1.5}, "l1_ratio"),
        ({"penalty": "elasticnet", "l1_ratio": -0.1}, "l1_ratio"),
        ({"penalty": "elasticnet", "l1_ratio": "half"}, "l1_ratio"),
        ({"penalty": "elasticnet", "l1_ratio": True}, "l1_ratio"),
        ({"penalty": "l1", "solver": "newton"}, "solver"),
        ({"penalty": "elasticnet", "l1_ratio": 0.5, "solver": "lbfgs"}, "solver"),
    ],
)
def test_bad_penalty_arguments_raise(params, match):
    X = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**params).fit(X, np.arange(30) % 2)


def test_l1_ratio_is_ignored_with_a_warning_outside_elasticnet(cancer):
    X, y = cancer
    with pytest.warns(UserWarning, match="l1_ratio is only used when penalty is 'elasticnet'"):
        est = LogisticRegression(penalty="l1", l1_ratio=0.3).fit(X, y)
    np.testing.assert_array_equal(est.coef_, LogisticRegression(penalty="l1").fit(X, y).coef_)
    # the l2 fits keep their solver: "newton" and "cd" both fit penalty="l2"
    np.testing.assert_allclose(
        LogisticRegression(solver="cd", tol=1e-11).fit(X, y).coef_,
        LogisticRegression(solver="newton", tol=1e-11).fit(X, y).coef_,
        atol=1e-7,
    )


# -- LogisticRegressionCV -------------------------------------------------------------


@pytest.mark.parametrize("scoring", ["neg_log_loss", None])
def test_cv_picks_sklearns_c_with_sklearns_shapes(sparse_problem, scoring):
    X, y = sparse_problem
    Cs = np.logspace(-2, 2, 9)
    folds = KFold(5, shuffle=True, random_state=0)
    ours = LogisticRegressionCV(Cs=Cs, penalty="l1", cv=folds, scoring=scoring).fit(X, y)
    ref = fit_quietly(
        linear_model.LogisticRegressionCV(
            Cs=Cs, penalty="l1", solver="saga", cv=folds, scoring=scoring, tol=1e-10, max_iter=100_000,
            use_legacy_attributes=False,
        ),
        X,
        y,
    )
    assert ours.C_ == ref.C_ == 0.1 and ours.l1_ratio_ == ref.l1_ratio_ == 1.0
    for name in ["Cs_", "l1_ratios_", "scores_", "n_iter_", "coefs_paths_", "coef_", "intercept_", "classes_"]:
        assert np.shape(getattr(ours, name)) == np.shape(getattr(ref, name)), name
    np.testing.assert_array_equal(ours.Cs_, ref.Cs_)
    # each fold's fit is scikit-learn's minimiser (its own S_train): the scores agree, but at C = 0.01, where every
    # coefficient is 0 and saga stops after 3 epochs with an intercept that is still off
    np.testing.assert_allclose(ours.scores_[..., 1:], ref.scores_[..., 1:], atol=1e-6)
    np.testing.assert_allclose(ours.coefs_paths_[:, :, 1:], ref.coefs_paths_[:, :, 1:], atol=1e-5)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert np.all(ours.n_iter_ >= 1)


def test_cv_unequal_folds_weights_and_class_weights_give_sklearns_scores(sparse_problem):
    """n = 250 in 3 stratified folds (an int cv, as scikit-learn's), random sample weights and balanced classes:
    each fold has its own S_train, and the held-out scores are weighted by sample_weight only."""
    X, y = sparse_problem
    X, y = X[:200], y[:200]
    y = np.where(np.arange(200) < 40, 1, y)  # unbalanced classes
    sw = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    Cs = [0.01, 0.03, 0.1, 0.2]  # saga does not converge in 100000 epochs on a fold at C ≥ 0.3
    kwargs = {"Cs": Cs, "cv": 3, "penalty": "elasticnet", "l1_ratios": [0.5, 1.0], "scoring": "neg_log_loss",
              "class_weight": "balanced"}
    ours = LogisticRegressionCV(**kwargs).fit(X, y, sample_weight=sw)
    ref = fit_quietly(
        linear_model.LogisticRegressionCV(solver="saga", tol=1e-10, max_iter=100_000, use_legacy_attributes=False,
                                          **kwargs),
        X,
        y,
        sample_weight=sw,
    )
    assert ours.scores_.shape == ref.scores_.shape == (3, 2, 4)
    np.testing.assert_allclose(ours.scores_[..., 1:], ref.scores_[..., 1:], atol=1e-6)  # saga: see above at C = 0.01
    assert (ours.C_, ours.l1_ratio_) == (ref.C_, ref.l1_ratio_) == (0.1, 1.0)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


def test_cv_multiclass_elasticnet_shapes_and_choice_match_sklearn():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    folds = StratifiedKFold(3, shuffle=True, random_state=1)
    kwargs = {"Cs": [0.1, 1.0, 10.0], "penalty": "elasticnet", "l1_ratios": [0.2, 0.8], "cv": folds,
              "scoring": "neg_log_loss"}
    ours = LogisticRegressionCV(**kwargs).fit(X, y)
    ref = fit_quietly(
        linear_model.LogisticRegressionCV(solver="saga", tol=1e-10, max_iter=100_000, use_legacy_attributes=False,
                                          **kwargs),
        X,
        y,
    )
    for name in ["Cs_", "l1_ratios_", "scores_", "n_iter_", "coefs_paths_", "coef_", "intercept_", "classes_"]:
        assert np.shape(getattr(ours, name)) == np.shape(getattr(ref, name)), name
    np.testing.assert_allclose(ours.scores_, ref.scores_, atol=1e-5)
    assert (ours.C_, ours.l1_ratio_) == (ref.C_, ref.l1_ratio_)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)


def test_cv_without_refit_averages_the_folds_best_fits(sparse_problem):
    X, y = sparse_problem
    est = LogisticRegressionCV(Cs=[0.03, 0.1, 1.0], penalty="l1", scoring="neg_log_loss", refit=False).fit(X, y)
    best = [np.argmax(fold[0]) for fold in est.scores_]
    expected = np.mean([est.coefs_paths_[f, 0, j, 0] for f, j in enumerate(best)], axis=0)
    np.testing.assert_allclose(est.coef_[0], expected[:-1])
    np.testing.assert_allclose(est.intercept_[0], expected[-1])
    assert est.C_ == pytest.approx(np.mean(est.Cs_[best]))


def test_cv_scoring_callable_and_splits_as_pairs(sparse_problem):
    from sklearn.metrics import roc_auc_score

    X, y = sparse_problem
    pairs = list(KFold(4).split(X))

    def brier(estimator, X, y):
        return -np.mean((estimator.predict_proba(X)[:, 1] - y) ** 2)

    for scoring, score in [(brier, lambda t, p: -np.mean((p - t) ** 2)), ("roc_auc", roc_auc_score)]:
        est = LogisticRegressionCV(Cs=[0.01, 0.1, 10.0], cv=pairs, scoring=scoring, penalty="l1").fit(X, y)
        assert est.scores_.shape == (4, 1, 3)
        for f, (_, test) in enumerate(pairs):  # each score is that of the fold's fit on its held-out rows
            for j in range(3):
                w = est.coefs_paths_[f, 0, j, 0]
                assert est.scores_[f, 0, j] == pytest.approx(score(y[test], expit(X[test] @ w[:-1] + w[-1])))
    assert np.array_equal(LogisticRegressionCV(Cs=4).fit(X, y).Cs_, np.logspace(-4, 4, 4))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"penalty": None}, "penalty"),
        ({"penalty": "l3"}, "penalty"),
        ({"penalty": "elasticnet", "l1_ratios": None}, "l1_ratios"),
        ({"penalty": "elasticnet", "l1_ratios": [0.5, 1.2]}, "l1_ratios"),
        ({"Cs": 0}, "Cs"),
        ({"Cs": [1.0, -1.0]}, "Cs"),
        ({"scoring": "no_such_score"}, "scoring"),
    ],
)
def test_cv_bad_arguments_raise(params, match):
    X = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.raises(ValueError, match=match):
        LogisticRegressionCV(**params).fit(X, np.arange(30) % 2)


def test_cv_l1_ratios_outside_elasticnet_warn():
    X = np.random.default_rng(0).standard_normal((60, 2))
    with pytest.warns(UserWarning, match="l1_ratios is only used when penalty is 'elasticnet'"):
        est = LogisticRegressionCV(Cs=2, penalty="l1", l1_ratios=[0.5]).fit(X, np.arange(60) % 2)
    assert est.l1_ratios_.tolist() == [1.0] and est.l1_ratio_ == 1.0
