"""Edge cases of the solvers (issue 24): one class, separation by lbfgs, saturating offsets, huge columns."""

import warnings

import numpy as np
import pytest
import scipy.optimize

from fusedlogit import fit, fit_many
from fusedlogit.exceptions import ConvergenceWarning, SeparationWarning

SOLVERS = ["newton", "newton-cg", "lbfgs", "gd"]


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(24)
    X = rng.normal(size=(300, 3))
    y = (rng.random(300) < 1 / (1 + np.exp(-(X @ [1.2, -0.5, 0.3] + 0.2)))).astype(float)
    return X, y


def caught_warnings(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    return result, [w for w in caught if issubclass(w.category, Warning)]


def scipy_minimum(X, y, offset):
    """The unpenalised J with an intercept and offset, minimised by scipy's BFGS from J's own formula."""
    Xt = np.column_stack([X, np.ones(len(y))])

    def fun(coef):
        z = Xt @ coef + offset
        return np.mean(np.logaddexp(0.0, z) - y * z), Xt.T @ (np.exp(-np.logaddexp(0.0, -z)) - y) / len(y)

    res = scipy.optimize.minimize(fun, np.zeros(Xt.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-11})
    return res.x, res.fun


# -- 4. one class ------------------------------------------------------------------------


@pytest.mark.parametrize("label", [0.0, 1.0])
@pytest.mark.parametrize("penalty", [{}, {"l2": 0.1}, {"l1": 0.01}, {"l1": 0.01, "l2": 0.1}])
def test_one_class_is_refused_naming_y(problem, label, penalty):
    X, _ = problem
    y = np.full(len(X), label)
    with pytest.raises(ValueError, match=r"^y: every sample .* has label " + str(int(label))):
        fit(X, y, **penalty)


def test_one_class_of_positive_weight_is_refused(problem):
    X, y = problem
    weight = (y == 1).astype(float)  # the rows of label 0 carry no weight
    y_before, weight_before = y.copy(), weight.copy()
    with pytest.raises(ValueError, match=r"^y: .*positive weight"):
        fit(X, y, sample_weight=weight, l2=0.1)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(weight, weight_before)


def test_one_class_without_intercept_has_a_penalised_optimum(problem):
    X, _ = problem
    y = np.ones(len(X))
    result = fit(X, y, l2=0.1, fit_intercept=False)
    assert result.converged and result.status == "converged"
    z = X @ result.coef
    grad = X.T @ (1 / (1 + np.exp(-z)) - y) / len(y) + 0.1 * result.coef  # ∇J = 0 at the optimum
    np.testing.assert_allclose(grad, 0.0, atol=1e-8)


@pytest.mark.parametrize("l2", [0.0, 0.1])
def test_fit_many_reports_a_one_class_group_and_fits_the_others(problem, l2):
    X, y = problem
    groups = np.arange(len(y)) % 3
    y = y.copy()
    y[groups == 1] = 1.0
    with pytest.warns(ConvergenceWarning, match="1 of 3 groups"):
        many = fit_many(X, y, groups, l2=l2)
    np.testing.assert_array_equal(many.separated, [False, True, False])
    np.testing.assert_array_equal(many.converged, [True, False, True])
    assert np.all(np.isfinite(many.coef)) and np.all(np.isfinite(many.intercept))
    for g in (0, 2):
        alone = fit(X[groups == g], y[groups == g], l2=l2, cov_type="nonrobust")
        np.testing.assert_allclose(many.coef[g], alone.coef, atol=1e-7)
        assert many.intercept[g] == pytest.approx(alone.intercept, abs=1e-7)


# -- 5. separation found by lbfgs ---------------------------------------------------------


def test_default_multinomial_fit_flags_separation_on_iris():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_iris(return_X_y=True)  # setosa is linearly separable from the others
    for solver in ("auto", "lbfgs", "newton", "newton-cg"):
        result, caught = caught_warnings(lambda: fit(X, y, solver=solver))
        assert result.status == "separation", solver
        assert any(issubclass(w.category, SeparationWarning) for w in caught), solver
        assert np.all(np.isnan(result.stderr)), solver


def test_lbfgs_flags_binary_separation(problem):
    X, _ = problem
    y = (X[:, 0] > 0).astype(float)  # separated by column 0
    result, caught = caught_warnings(lambda: fit(X, y, solver="lbfgs"))
    assert result.status == "separation"
    assert any(issubclass(w.category, SeparationWarning) for w in caught)


def test_lbfgs_does_not_flag_a_collinear_overlapping_problem(problem):
    X, y = problem
    X = np.column_stack([X[:, 0], X])  # a duplicated column: H is singular everywhere, but the MLE exists
    for solver in ("lbfgs", "newton"):
        result, caught = caught_warnings(lambda: fit(X, y, solver=solver))
        assert result.converged and result.status == "converged", solver
        assert not any(issubclass(w.category, ConvergenceWarning) for w in caught), solver
        assert result.coef[0] + result.coef[1] == pytest.approx(fit(X[:, 1:], y).coef[0], abs=1e-6)


def test_lbfgs_multinomial_without_separation_converges_with_stderr():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 3))
    logits = X @ rng.normal(size=(3, 3)).T
    y = np.array([rng.choice(3, p=np.exp(z) / np.exp(z).sum()) for z in logits])
    result, caught = caught_warnings(lambda: fit(X, y, solver="lbfgs"))
    assert result.status == "converged" and not caught
    assert np.all(np.isfinite(result.stderr))


# -- 8. an offset that saturates every row ------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_constant_saturating_offset_is_absorbed_by_the_intercept(problem, solver):
    X, y = problem
    plain = fit(X, y, solver="newton")
    offset = np.full(len(y), 50.0)  # p(1 − p) ≈ 2e-22 for every row at the start
    result, caught = caught_warnings(lambda: fit(X, y, offset=offset, solver=solver))
    assert result.converged and result.status == "converged" and not caught
    assert result.intercept == pytest.approx(plain.intercept - 50.0, abs=1e-6)
    np.testing.assert_allclose(result.coef, plain.coef, atol=1e-6)


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs"])
def test_confident_earlier_logits_as_offset_reach_scipys_optimum(problem, solver):
    X, y = problem
    rng = np.random.default_rng(60)
    offset = 60.0 * np.sign(X[:, 0] + 0.5 * rng.normal(size=len(y)))  # confident, often wrong
    expected, expected_loss = scipy_minimum(X / 10.0, y, offset)
    expected[:-1] /= 10.0  # scipy ran on X / 10 (better conditioned); undo it
    result = fit(X, y, offset=offset, solver=solver)
    assert result.converged and result.status == "converged"
    assert result.loss <= expected_loss + 1e-12
    np.testing.assert_allclose(np.append(result.coef, result.intercept), expected, rtol=1e-5, atol=1e-5)


def test_fit_many_and_estimator_with_a_saturating_offset(problem):
    X, y = problem
    groups = np.arange(len(y)) % 2
    offset = np.full(len(y), 50.0)
    plain = fit_many(X, y, groups)
    shifted = fit_many(X, y, groups, offset=offset)
    assert shifted.converged.all() and not shifted.separated.any()
    np.testing.assert_allclose(shifted.intercept, plain.intercept - 50.0, atol=1e-6)
    np.testing.assert_allclose(shifted.coef, plain.coef, atol=1e-6)
    sklearn = pytest.importorskip("fusedlogit.sklearn")
    est = sklearn.LogisticRegression(C=np.inf).fit(X, y, offset=offset)
    reference = fit(X, y)
    assert est.intercept_[0] == pytest.approx(reference.intercept - 50.0, abs=1e-6)


def test_cd_with_a_saturating_offset(problem):
    X, y = problem
    offset = np.full(len(y), 50.0)
    plain = fit(X, y, l1=0.01)
    result = fit(X, y, l1=0.01, offset=offset)
    assert result.converged
    assert result.intercept == pytest.approx(plain.intercept - 50.0, abs=1e-6)


# -- 9. a column of huge scale ------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_huge_column_returns_a_finite_iterate_and_says_why(problem, solver):
    X, y = problem
    X = X.copy()
    X[:, 1] *= 1e200
    X_before = X.copy()
    result, caught = caught_warnings(lambda: fit(X, y, solver=solver))
    np.testing.assert_array_equal(X, X_before)
    assert np.all(np.isfinite(result.coef)) and np.isfinite(result.intercept) and np.isfinite(result.loss)
    assert not any(w.category is RuntimeWarning for w in caught)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    if result.converged:  # ∂J/∂w_1 ~ 1e200 × the margins' error rounded to 0: then it is the optimum
        assert result.status == "converged" and not messages
    else:
        assert result.status not in ("converged", "non_finite")
        assert len(messages) == 1 and "column(s) 1 of X" in messages[0] and messages[0] == result.message
    if solver in ("lbfgs", "newton-cg"):  # standardised coordinates: the optimum, as far as J can tell
        plain = fit(problem[0], y)
        np.testing.assert_allclose(result.coef * [1, 1e200, 1], plain.coef, rtol=1e-6)
        assert result.loss == pytest.approx(plain.loss, rel=1e-12)
    else:  # H overflows (newton), the raw gradient step overflows the margins (gd): no step is taken
        assert not result.converged and result.n_iter == 0


@pytest.mark.parametrize("solver", ["auto", "newton", "newton-cg"])
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_huge_column_multinomial_does_not_raise(solver, l2):
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_iris(return_X_y=True)
    X[:, 0] *= 1e300
    result, caught = caught_warnings(lambda: fit(X, y, solver=solver, l2=l2))
    assert np.all(np.isfinite(result.coef)) and np.all(np.isfinite(result.intercept))
    assert not result.converged
    assert any("column(s) 0 of X" in str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning))
