"""Solvers on unscaled data (implicit standardisation) and FitResult.status / message: why a fit stopped."""

import warnings

import numpy as np
import pytest

from fusedlogit import ConvergenceWarning, LogisticLoss, SeparationWarning, fit
from fusedlogit.datasets import make_mixed_scale_problem, make_problem
from fusedlogit.solvers.common import armijo
from fusedlogit.solvers.scaling import StandardisedObjective


def fit_quietly(X, y, **kwargs):
    """fit, failing on any warning (convergence, separation or other)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fit(X, y, **kwargs)


def assert_same_optimum(r, ref, X):
    """Same J (to rounding) and the same coefficients in margin units (columns span 1 to 1e6 in scale)."""
    assert r.loss == pytest.approx(ref.loss, rel=1e-12)
    sd = X.std(axis=0)
    assert np.max(np.abs(r.coef - ref.coef) * sd) < 1e-6
    margins = X @ (r.coef - ref.coef) + (r.intercept - ref.intercept)
    assert np.max(np.abs(margins)) < 1e-6


# -- held-out unscaled problems: one-hot indicators beside money-scale columns ------------


@pytest.fixture(scope="module")
def mixed_60():
    X, y = make_mixed_scale_problem(20_000, 60, seed=1)
    return X, y, fit_quietly(X, y, solver="newton")


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_quasi_newton_solvers_reach_newtons_optimum_on_unscaled_columns(mixed_60, solver):
    X, y, ref = mixed_60
    assert np.ptp(np.log10(X.std(axis=0))) > 4  # the point of the problem: scales over 4+ decades
    r = fit_quietly(X, y, solver=solver)
    assert r.converged and r.status == "converged" and r.solver == solver
    assert r.message.startswith(f"solver {solver!r} converged")
    assert_same_optimum(r, ref, X)
    np.testing.assert_allclose(r.stderr, ref.stderr, rtol=1e-5)


@pytest.fixture(scope="module")
def mixed_1100():
    # > 1000 coefficients ("auto" is not Newton), small n; 11-level categoricals keep the MLE finite
    X, y = make_mixed_scale_problem(6000, 1100, levels=11, seed=1)
    return X, y, fit_quietly(X, y, solver="newton")


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "auto"])
def test_more_than_1000_unscaled_coefficients(mixed_1100, solver):
    X, y, ref = mixed_1100
    r = fit_quietly(X, y, solver=solver)
    assert r.converged and r.status == "converged"
    assert r.solver == ("lbfgs" if solver == "auto" else solver)
    assert_same_optimum(r, ref, X)


def test_a_stalled_lbfgs_run_is_finished_and_the_message_says_so(mixed_60):
    X, y, ref = mixed_60
    r = fit_quietly(X, y, solver="lbfgs")
    # On these columns L-BFGS gets J to its rounding before the gradient test holds
    # (∂J/∂w_j on a column of scale 1e6 must reach 1e-8); newton-cg finishes.
    assert "lbfgs stopped on J's rounding" in r.message and "newton-cg ran" in r.message
    assert len(r.history) == r.n_iter + 1


def test_star98_binomial_counts_converge_with_every_solver():
    # R's and statsmodels' star98: 20 unscaled columns (percentages, their products, counts of
    # thousands), successes out of trials as soft labels with the trials as weights
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.star98.load_pandas()
    counts, X = data.endog.to_numpy(), data.exog.to_numpy()
    trials = counts.sum(axis=1)
    ref = sm.GLM(counts, sm.add_constant(X, prepend=False), family=sm.families.Binomial()).fit(tol=1e-12)
    for solver in ("lbfgs", "newton-cg", "newton"):
        r = fit_quietly(X, counts[:, 0] / trials, sample_weight=trials, solver=solver)
        assert r.status == "converged", solver
        np.testing.assert_allclose(np.r_[r.coef, r.intercept], ref.params, rtol=1e-8, err_msg=solver)


# -- status and message ---------------------------------------------------------------------


def spector():
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.spector.load_pandas().data
    return data[["GPA", "TUCE", "PSI"]].to_numpy(), data["GRADE"].to_numpy()


def test_spector_lbfgs_at_tol_1e_10_converges_or_says_why():
    X, y = spector()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = fit(X, y, solver="lbfgs", tol=1e-10, max_iter=10_000)
    if r.converged:
        assert r.status == "converged" and not caught
        ref = fit(X, y, solver="newton", tol=1e-10)
        np.testing.assert_allclose(r.coef, ref.coef, rtol=1e-8)
    else:  # the case: it stopped at 1.48e-10 after 39 iterations and advised "increase max_iter"
        assert r.status == "rounding" and r.n_iter < 10_000
        assert all("increase max_iter" not in str(w.message) for w in caught)


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "newton-cg", "gd"])
def test_max_iter_status_and_advice(solver):
    X, y, _, _ = make_problem(2000, 5, kind="ill", seed=2)
    with pytest.warns(ConvergenceWarning) as caught:
        r = fit(X, y, solver=solver, max_iter=1)
    assert r.status == "max_iter" and not r.converged and r.n_iter == 1
    text = str(caught[0].message)
    assert text == r.message
    assert "stopped after 1 iterations" in text and "increase max_iter" in text
    assert ("use solver='newton'" in text) == (solver != "newton")


def test_rounding_status_when_tol_is_below_what_floating_point_resolves():
    X, y, _, _ = make_problem(2000, 5, seed=3)
    with pytest.warns(ConvergenceWarning) as caught:
        r = fit(X, y, solver="newton", tol=1e-18)
    assert r.status == "rounding" and r.n_iter < 100  # stopped early, not at max_iter
    text = str(caught[0].message)
    assert "increase max_iter" not in text and "use solver='newton'" not in text
    assert "floating point" in text and "larger tol" in text
    # lbfgs: finished by newton-cg, then Newton, which stall too; Newton was tried, so it is not advised
    with pytest.warns(ConvergenceWarning) as caught:
        r = fit(X, y, solver="lbfgs", tol=1e-18)
    assert r.status == "rounding" and r.solver == "lbfgs"
    assert "newton-cg stopped on J's rounding" in r.message and "use solver='newton'" not in r.message


def test_separation_status():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    for solver in ("newton", "lbfgs"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = fit(X, y, solver=solver)
        assert r.status == "separation" and "separable" in r.message and "l2 > 0" in r.message
        # the SeparationWarning says it all: no second, generic ConvergenceWarning
        assert [w.category for w in caught] == [SeparationWarning]


def test_diverged_status_for_a_fixed_step_that_overflows():
    X, y = make_mixed_scale_problem(2000, 12, n_numeric=2, seed=0)
    with pytest.warns(ConvergenceWarning, match="smaller learning_rate"), np.errstate(over="ignore", invalid="ignore"):
        r = fit(X, y, solver="gd", learning_rate=1e300)
    assert r.status == "diverged" and np.all(np.isfinite(r.coef))


def test_converged_message_and_repr():
    X, y, _, _ = make_problem(2000, 5, seed=0)
    r = fit_quietly(X, y)
    assert r.status == "converged" and r.message.startswith("solver 'newton' converged after")
    assert r.message.endswith("the convergence test holds")
    text = repr(r)
    assert "\n" not in text and len(text) < 200 and "status='converged'" in text


def test_armijo_says_why_it_found_no_step():
    class Flat:
        """J a few ulps above J(x) at every trial point, ∇J unchanged: a decrease hidden by rounding."""

        def __init__(self, trial_loss):
            self.trial_loss = trial_loss

        def loss_gradient(self, x):
            return self.trial_loss, np.array([1.0, -2.0])

    x, g = np.zeros(2), np.array([1.0, -2.0])
    assert armijo(Flat(1.0 + 1e-15), x, 1.0, g, -g) == "rounding"
    assert armijo(Flat(np.nan), x, 1.0, g, -g) == "line_search"  # J not finite along p
    assert armijo(Flat(1.0 + 1e-15), x, 1.0, g, g) == "line_search"  # not a descent direction
    t, x_new, loss, _ = armijo(Flat(0.5), x, 1.0, g, -g)
    assert t == 1.0 and loss == 0.5


# -- the standardised coordinates -----------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_standardised_objective_is_the_objective_in_affine_coordinates(fit_intercept):
    rng = np.random.default_rng(0)
    n = 500
    X = np.column_stack(
        [
            rng.lognormal(11, 0.5, n),  # money
            rng.uniform(20, 80, n),  # age: mean ≫ 0
            (rng.random(n) < 0.1).astype(float),  # indicator
            np.full(n, 7.0),  # constant: scaled by its rms, not centred
            np.zeros(n),  # all-zero: left alone
        ]
    )
    y = (rng.random(n) < 0.4).astype(float)
    s = rng.uniform(0.5, 2.0, n)
    objective = LogisticLoss(X, y, sample_weight=s, fit_intercept=fit_intercept, l2=1e-3)
    problem = StandardisedObjective(objective)
    mean = (s @ X) / s.sum()
    rms = np.sqrt((s @ X**2) / s.sum())
    if fit_intercept:
        np.testing.assert_allclose(problem.mean[:3], mean[:3], rtol=1e-12)
        np.testing.assert_allclose(problem.scale[:3], np.sqrt(rms[:3] ** 2 - mean[:3] ** 2), rtol=1e-9)
    else:
        np.testing.assert_allclose(problem.scale[:3], rms[:3], rtol=1e-12)
    assert problem.mean[3] == 0.0 and problem.scale[3] == pytest.approx(7.0)
    assert problem.mean[4] == 0.0 and problem.scale[4] == 1.0

    # T as a matrix: coef = T θ
    d, k = X.shape[1], objective.n_coef
    T = np.zeros((k, k))
    T[np.arange(d), np.arange(d)] = 1.0 / problem.scale
    if fit_intercept:
        T[d, :d] = -problem.mean / problem.scale
        T[d, d] = 1.0
    theta = rng.standard_normal(k)
    v = rng.standard_normal(k)
    coef = T @ theta
    np.testing.assert_allclose(problem.coef(theta), coef, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(problem.theta(coef), theta, rtol=1e-9, atol=1e-12)
    loss, grad_theta = problem.loss_gradient(theta)
    ref_loss, ref_grad = objective.loss_gradient(coef)
    # The objective itself, not a rescaled one: bitwise J at problem.coef(θ) (the same compiled
    # kernel on the same coefficients).  T @ θ is another computation (× 1/σ, not ÷ σ, and BLAS
    # sums the intercept row in a CPU-dependent order): a point an ulp or so away, J equal to rounding.
    assert loss == objective.loss_gradient(problem.coef(theta))[0]
    assert loss == pytest.approx(ref_loss, rel=1e-14)
    np.testing.assert_allclose(grad_theta, T.T @ ref_grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(problem.original_gradient(grad_theta), ref_grad, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(problem.hessp(theta, v), T.T @ objective.hessian(coef) @ T @ v, rtol=1e-8, atol=1e-12)
    assert problem.converged(grad_theta, 1e-8) == objective.converged(ref_grad, 1e-8)
