"""fusedlogit.sklearn.LogisticRegression: scikit-learn API, checks and agreement."""

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn import linear_model  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fusedlogit  # noqa: E402
from fusedlogit.sklearn import LogisticRegression  # noqa: E402


@parametrize_with_checks([LogisticRegression()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("C", [0.05, 1.0, 100.0])
def test_same_minimiser_as_sklearn(cancer, C):
    X, y = cancer
    # C=100 is nearly unpenalised on nearly separable data: cond(H) is large,
    # so both sides solve to a tolerance well below the 1e-6 compared.
    ours = LogisticRegression(C=C, tol=1e-11).fit(X, y)
    ref = linear_model.LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    assert ours.score(X, y) == ref.score(X, y)


def test_same_minimiser_as_sklearn_with_sample_weight(cancer):
    X, y = cancer
    sw = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    ours = LogisticRegression(C=0.5).fit(X, y, sample_weight=sw)
    ref = linear_model.LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    ref.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_penalty_none_is_the_mle_of_fit(cancer):
    X, y = cancer
    X = X[:, :5]
    with pytest.warns(FutureWarning, match="penalty is deprecated"):  # as in scikit-learn >= 1.8
        est = LogisticRegression(penalty=None).fit(X, y)
    r = fusedlogit.fit(X, y, cov_type=None, reuse_hessian=False)  # the estimator's options
    np.testing.assert_allclose(est.coef_.ravel(), r.coef, rtol=1e-12)
    assert est.n_iter_.shape == (1,) and est.n_iter_[0] == r.n_iter


def test_any_two_labels_and_output_shapes(cancer):
    X, y = cancer
    labels = np.array(["malignant", "benign"])[y]
    est = LogisticRegression().fit(X, labels)
    assert list(est.classes_) == ["benign", "malignant"]
    assert est.coef_.shape == (1, X.shape[1]) and est.intercept_.shape == (1,)
    proba = est.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    z = est.decision_function(X)
    assert z.shape == (len(y),)
    np.testing.assert_array_equal(est.predict(X), est.classes_[(z > 0).astype(int)])
    np.testing.assert_allclose(np.exp(est.predict_log_proba(X)), proba, rtol=1e-12)
    # the positive class is classes_[1] = "malignant" = y == 0 in sklearn's encoding
    np.testing.assert_allclose(proba[:, 1], LogisticRegression().fit(X, 1 - y).predict_proba(X)[:, 1], atol=1e-12)


@pytest.mark.parametrize("loader", ["iris", "wine", "digits"])
def test_multiclass_matches_sklearn_multinomial(loader):
    """scikit-learn's multinomial LogisticRegression (C = 1) on its own data: the same minimiser."""
    from sklearn import datasets
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(datasets, f"load_{loader}")(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    labels = np.array(["setosa", "versicolor", "virginica", "d3", "d4", "d5", "d6", "d7", "d8", "d9"])[y]
    ours = LogisticRegression(C=1.0, tol=1e-10).fit(X, labels)  # tight, as theirs: the same minimiser
    theirs = SkLogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X, labels)
    K = len(np.unique(y))
    assert ours.coef_.shape == (K, X.shape[1]) and ours.intercept_.shape == (K,)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=2e-5 * max(1.0, np.abs(theirs.coef_).max()))
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    assert np.mean(ours.predict(X) == theirs.predict(X)) > 0.99
    np.testing.assert_allclose(np.exp(ours.predict_log_proba(X)), ours.predict_proba(X), rtol=1e-10)
    assert ours.decision_function(X).shape == (len(y), K)


def test_multiclass_without_penalty_is_centred_and_offset_is_refused():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = np.argmax(X @ rng.standard_normal((3, 4)) + rng.gumbel(size=(300, 4)), axis=1)
    est = LogisticRegression(penalty=None).fit(X, y)
    np.testing.assert_allclose(est.coef_.sum(axis=0), 0.0, atol=1e-12)
    assert abs(est.intercept_.sum()) < 1e-12
    with pytest.raises(ValueError, match="offset"):
        LogisticRegression().fit(X, y, offset=np.zeros(300))


@pytest.mark.parametrize(
    "params, match",
    [({"C": 0.0}, "C"), ({"C": -1}, "C"), ({"penalty": "l3"}, "penalty"), ({"solver": "sag"}, "solver")],
)
def test_bad_parameters_raise(params, match):
    X = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**params).fit(X, np.arange(30) % 2)


def test_solver_warnings_become_sklearn_convergence_warnings(cancer):
    X, y = cancer
    with pytest.warns(ConvergenceWarning, match="stopped after 1 iterations"):
        LogisticRegression(max_iter=1).fit(X, y)


def test_pipeline_and_grid_search():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        search = GridSearchCV(pipe, {"logisticregression__C": [0.01, 1.0]}, cv=3).fit(X, y)
    assert search.best_params_["logisticregression__C"] in (0.01, 1.0)
    assert search.score(X, y) > 0.95
    assert search.predict_proba(X).shape == (len(y), 2)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 1: 0.5}])
def test_class_weight_same_minimiser_as_sklearn(cancer, class_weight):
    X, y = cancer
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    ours = LogisticRegression(C=0.5, class_weight=class_weight).fit(X, y, sample_weight=sw)
    ref = linear_model.LogisticRegression(
        C=0.5, class_weight=class_weight, solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_infinite_c_is_no_penalty(cancer):
    X, y = cancer
    X = X[:, :5]
    np.testing.assert_array_equal(
        LogisticRegression(C=np.inf).fit(X, y).coef_, LogisticRegression(penalty=None).fit(X, y).coef_
    )


def test_penalty_none_with_c_warns_like_sklearn(cancer):
    X, y = cancer
    with pytest.warns(UserWarning, match="Setting penalty=None will ignore the C"):
        LogisticRegression(penalty=None, C=2.0).fit(X[:, :5], y)


def test_max_iter_zero_keeps_the_start(cancer):
    X, y = cancer
    with pytest.warns(ConvergenceWarning):
        est = LogisticRegression(max_iter=0).fit(X, y)
    assert est.n_iter_[0] == 0 and np.all(est.coef_ == 0)


def test_float32_x_gives_float32_coefficients(cancer):
    X, y = cancer
    est = LogisticRegression().fit(X.astype(np.float32), y)
    ref = LogisticRegression().fit(X, y)
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-4, atol=1e-5)


def test_warm_start_starts_from_the_previous_fit(cancer):
    X, y = cancer
    est = LogisticRegression(C=1.0, warm_start=True).fit(X, y)
    assert est.fit(X, y).n_iter_[0] == 0  # already at the optimum
    est.set_params(C=0.5)
    warm = est.fit(X, y).coef_.copy()
    np.testing.assert_allclose(warm, LogisticRegression(C=0.5).fit(X, y).coef_, atol=1e-7)


def test_fit_warm_start_arguments(cancer):
    X, y = cancer
    X = X[:, :4]
    first = fusedlogit.fit(X, y)
    again = fusedlogit.fit(X, y, coef0=first.coef, intercept0=first.intercept)
    assert again.n_iter == 0 and np.array_equal(again.coef, first.coef)
    with pytest.raises(ValueError, match="coef0 must have shape"):
        fusedlogit.fit(X, y, coef0=np.zeros(3))
    with pytest.raises(ValueError, match="intercept0 needs fit_intercept=True"):
        fusedlogit.fit(X, y, fit_intercept=False, intercept0=0.0)
