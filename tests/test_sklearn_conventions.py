"""fusedlogit.sklearn follows scikit-learn's conventions (issue 24, findings 13-16): penalties given by
l1_ratio and C alone, classes of zero weight, warm starts step by step, and no covariance for penalty=None."""

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn import linear_model  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import fusedlogit  # noqa: E402
from fusedlogit.solvers import fitting  # noqa: E402
from fusedlogit.sklearn import LogisticRegression, LogisticRegressionCV  # noqa: E402


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def quietly(fit, *args, **kwargs):
    """fit(...) with every warning raised as an error: the calls below must not warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fit(*args, **kwargs)


def warning_kinds(make, X, y):
    """(FutureWarnings, other UserWarnings) that make().fit(X, y) emits, ConvergenceWarnings aside."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make().fit(X, y)
    kinds = [w.category for w in caught if not issubclass(w.category, ConvergenceWarning)]
    return (sum(issubclass(k, FutureWarning) for k in kinds),
            sum(issubclass(k, UserWarning) and not issubclass(k, FutureWarning) for k in kinds))


# -- 13: l1_ratio and C set the penalty, as in scikit-learn >= 1.8 ------------------------------


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
def test_l1_ratio_alone_gives_sklearns_penalty(cancer, l1_ratio):
    X, y = cancer
    ours = quietly(LogisticRegression(l1_ratio=l1_ratio, C=0.1, tol=1e-10).fit, X, y)
    ref = quietly(linear_model.LogisticRegression(l1_ratio=l1_ratio, C=0.1, solver="saga", tol=1e-10,
                                                  max_iter=100_000).fit, X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    np.testing.assert_array_equal(ours.coef_ != 0, ref.coef_ != 0)  # l1_ratio > 0: the same sparse support
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_infinite_c_without_penalty_is_the_mle(cancer):
    X, y = cancer
    X = X[:, :5]
    est = quietly(LogisticRegression(C=np.inf, l1_ratio=1.0, tol=1e-12).fit, X, y)  # sklearn: no penalty, any r
    np.testing.assert_allclose(est.coef_[0], fusedlogit.fit(X, y, tol=1e-12).coef, rtol=1e-9)


@pytest.mark.parametrize(
    "params",
    [
        {"penalty": "l2"},
        {"penalty": "l1"},  # l1_ratio keeps its default 0: "inconsistent"
        {"penalty": "l1", "l1_ratio": 1.0},
        {"penalty": "l2", "l1_ratio": 0.5},  # ignored, and inconsistent
        {"penalty": "elasticnet", "l1_ratio": 0.5},
        {"penalty": None, "C": 2.0},
        {"penalty": None},
        {"l1_ratio": None},
        {"l1_ratio": 0.5},
        {},
    ],
)
def test_penalty_is_deprecated_with_sklearns_warnings(params):
    X = np.random.default_rng(0).standard_normal((80, 3))
    y = (X[:, 0] + np.random.default_rng(1).standard_normal(80) > 0).astype(int)
    theirs = warning_kinds(lambda: linear_model.LogisticRegression(solver="saga", max_iter=20, **params), X, y)
    ours = warning_kinds(lambda: LogisticRegression(**params), X, y)
    assert ours == theirs


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", 1.0), ("elasticnet", 0.5), ("l2", 0.0)])
def test_penalty_keeps_its_meaning(cancer, penalty, l1_ratio):
    X, y = cancer
    with pytest.warns(FutureWarning, match="penalty is deprecated"):
        old = LogisticRegression(penalty=penalty, l1_ratio=l1_ratio, C=0.1).fit(X, y)
    new = quietly(LogisticRegression(l1_ratio=l1_ratio, C=0.1).fit, X, y)
    np.testing.assert_array_equal(old.coef_, new.coef_)
    with pytest.warns(FutureWarning, match="penalty is deprecated"), pytest.warns(UserWarning, match="Inconsistent"):
        lasso = LogisticRegression(penalty="l1", C=0.1).fit(X, y)  # l1_ratio's default 0 does not matter
    np.testing.assert_array_equal(
        lasso.coef_, quietly(LogisticRegression(l1_ratio=1.0, C=0.1).fit, X, y).coef_
    )


def test_cv_l1_ratios_alone_set_the_penalty(cancer):
    X, y = cancer
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    kwargs = {"Cs": [0.03, 0.3], "cv": folds, "scoring": "neg_log_loss"}
    lasso = quietly(LogisticRegressionCV(l1_ratios=(1.0,), **kwargs).fit, X, y)
    assert np.count_nonzero(lasso.coef_) < X.shape[1]  # an l1 fit, not the l2 one
    with pytest.warns(FutureWarning, match="penalty is deprecated"):
        old = LogisticRegressionCV(penalty="l1", **kwargs).fit(X, y)
    np.testing.assert_array_equal(lasso.scores_, old.scores_)
    assert lasso.l1_ratios_.tolist() == old.l1_ratios_.tolist() == [1.0]
    grid = quietly(LogisticRegressionCV(l1_ratios=(0.0, 0.5, 1.0), **kwargs).fit, X, y)
    np.testing.assert_allclose(grid.scores_[:, 2], lasso.scores_[:, 0], atol=1e-12)
    ridge = quietly(LogisticRegressionCV(**kwargs).fit, X, y)  # the default (0,): l2, without a warning
    np.testing.assert_allclose(grid.scores_[:, 0], ridge.scores_[:, 0], atol=1e-12)
    ref = quietly(linear_model.LogisticRegressionCV(l1_ratios=(0.0,), solver="newton-cholesky", tol=1e-12,
                                                    use_legacy_attributes=False, **kwargs).fit, X, y)
    np.testing.assert_allclose(ridge.scores_, ref.scores_, atol=1e-7)
    assert ridge.C_ == ref.C_
    with pytest.warns(FutureWarning, match="l1_ratios=None"):
        assert LogisticRegressionCV(l1_ratios=None, **kwargs).fit(X, y).l1_ratios_.tolist() == [0.0]


# -- 14: classes of zero weight ------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("C", [1.0, 0.1])
def test_class_of_zero_weight_fits_like_sklearn(iris, fit_intercept, C):
    X, y = iris
    weights = {0: 1.0, 1: 0.0, 2: 2.0}
    ours = quietly(LogisticRegression(C=C, class_weight=weights, fit_intercept=fit_intercept).fit, X, y)
    ref = quietly(linear_model.LogisticRegression(C=C, class_weight=weights, fit_intercept=fit_intercept, tol=1e-10,
                                                  max_iter=10_000).fit, X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    # the weighted classes' coefficients are the penalised minimiser's; class 1's are ~0 with an intercept
    # (its intercept falls towards -inf, to where its gradient is below tol)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    if fit_intercept:
        assert ours.intercept_[1] < -10 and ours.predict_proba(X)[:, 1].max() < 1e-6


def test_class_of_zero_weight_without_penalty_raises(iris):
    X, y = iris
    with pytest.raises(ValueError, match="class 1 has zero total weight"):
        LogisticRegression(C=np.inf, class_weight={0: 1.0, 1: 0.0, 2: 1.0}).fit(X, y)


def test_cv_with_a_class_missing_from_a_training_fold_fits_like_sklearn(iris):
    X, y = iris
    X, y = np.vstack([X, X[:1] + 0.5]), np.append(y, 3)  # one row of class 3: absent from one training fold
    kwargs = {"Cs": [0.1, 1.0, 10.0], "cv": StratifiedKFold(3), "scoring": "accuracy"}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)  # StratifiedKFold's
        ours = LogisticRegressionCV(**kwargs).fit(X, y)
        ref = linear_model.LogisticRegressionCV(l1_ratios=(0.0,), tol=1e-10, max_iter=10_000,
                                                use_legacy_attributes=False, **kwargs).fit(X, y)
    np.testing.assert_array_equal(ours.scores_, ref.scores_)
    assert ours.C_ == ref.C_
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


# -- 15: an iteration depends on its start alone (sklearn's test_warm_start_newton_solver) ------


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("solver", ["newton", "newton-cg"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("C", [1.0, np.inf])
def test_two_iterations_are_one_warm_started_from_another(binary, solver, fit_intercept, C):
    X, y = load_iris(return_X_y=True)  # unscaled, as scikit-learn's test
    if binary:
        y = (y == 1).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        both = LogisticRegression(solver=solver, max_iter=2, fit_intercept=fit_intercept, C=C).fit(X, y)
        steps = LogisticRegression(solver=solver, max_iter=1, fit_intercept=fit_intercept, C=C, warm_start=True)
        steps.fit(X, y)
        steps.fit(X, y)
    np.testing.assert_allclose(steps.coef_, both.coef_, rtol=1e-7)
    np.testing.assert_allclose(steps.intercept_, both.intercept_, rtol=1e-7, atol=1e-12)


# -- 16: penalty=None builds no covariance ---------------------------------------------------------


def _refuse(*args, **kwargs):
    raise AssertionError("the covariance was computed")


@pytest.mark.parametrize("params", [{"C": np.inf}, {"penalty": None}])
def test_no_penalty_builds_no_covariance_and_does_not_warn(cancer, monkeypatch, params):
    X, y = cancer
    X = X[:, :5]
    expected = fusedlogit.fit(X, y, tol=1e-12).coef
    monkeypatch.setattr(fitting, "mle_covariance", _refuse)
    monkeypatch.setattr(fitting, "sandwich", _refuse)
    monkeypatch.setattr(fitting, "INFERENCE_MAX_COEF", 2)  # the "stderr are not computed" warning's threshold
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "penalty is deprecated", FutureWarning)
        est = LogisticRegression(tol=1e-12, **params).fit(X, y)
    np.testing.assert_allclose(est.coef_[0], expected, rtol=1e-9)
    labels = np.digitize(X[:, 0], [-0.5, 0.5])  # three classes
    quietly(LogisticRegression(C=np.inf).fit, X, labels)


def test_fit_without_covariance(cancer, monkeypatch):
    X, y = cancer
    X = X[:, :5]
    full = fusedlogit.fit(X, y)
    monkeypatch.setattr(fitting, "mle_covariance", _refuse)
    bare = fusedlogit.fit(X, y, cov_type=None)
    np.testing.assert_array_equal(bare.coef, full.coef)
    assert bare.cov_type is None and np.isnan(bare.stderr).all() and np.all(np.isfinite(full.stderr))
    with pytest.raises(ValueError, match="cov_type"):
        fusedlogit.fit(X, y, cov_type="robust")
