"""fusedlogit.fit: agreement with statsmodels/Stata and scikit-learn, solvers, warnings, inputs."""

import warnings

import numpy as np
import pytest

import fusedlogit
from fusedlogit import ConvergenceWarning, SeparationWarning, fit, predict_proba
from fusedlogit.datasets import make_problem
from fusedlogit.solvers import AUTO_NEWTON_MAX_COEF, resolve_solver

sm = pytest.importorskip("statsmodels.api")

ALL_SOLVERS = ["newton", "newton-cg", "lbfgs", "gd"]


def spector():
    data = sm.datasets.spector.load_pandas().data
    return data[["GPA", "TUCE", "PSI"]].to_numpy(), data["GRADE"].to_numpy()


def fair():
    """statsmodels' 'fair' affairs data as a binary problem: had any affair."""
    data = sm.datasets.fair.load_pandas().data
    cols = ["rate_marriage", "age", "yrs_married", "children", "religious", "educ"]
    return data[cols].to_numpy(), (data["affairs"] > 0).to_numpy(dtype=float)


def statsmodels_logit(X, y):
    res = sm.Logit(y, sm.add_constant(X, prepend=False)).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    return res


@pytest.mark.parametrize("load", [spector, fair])
def test_matches_statsmodels_logit(load):
    X, y = load()
    ref = statsmodels_logit(X, y)
    r = fit(X, y)
    assert r.converged and r.solver == "newton"
    np.testing.assert_allclose(np.r_[r.coef, r.intercept], ref.params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(r.stderr, ref.bse, rtol=1e-6)
    np.testing.assert_allclose(r.cov, ref.cov_params(), rtol=1e-6, atol=1e-12)
    # J is the mean negative log-likelihood: llf = −n·J
    np.testing.assert_allclose(-len(y) * r.loss, ref.llf, rtol=1e-10)


def test_spector_matches_published_stata_output():
    # Stata `glm grade gpa tuce psi, family(binomial)` (the logit MLE, OIM
    # standard errors) on Spector & Mazzeo (1980), full precision as shipped in
    # statsmodels/discrete/tests/results/results_glm_logit_constrained.py.
    X, y = spector()
    r = fit(X, y)
    np.testing.assert_allclose(r.coef, [2.8261124216999, 0.09515765001172, 2.3786875040587], rtol=1e-6)
    np.testing.assert_allclose(r.intercept, -13.021345912635, rtol=1e-6)
    np.testing.assert_allclose(r.stderr, [1.2629410221647, 0.141554201358, 1.0645642078703, 4.931323890811], rtol=1e-6)
    np.testing.assert_allclose(-len(y) * r.loss, -12.88963422213144, rtol=1e-10)


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs"])
def test_solvers_reach_statsmodels_optimum(solver):
    X, y = fair()
    ref = statsmodels_logit(X, y)
    # on these unscaled columns too (L-BFGS-B used to stop at max|grad| ~ 4e-8 here, before solvers.scaling)
    r = fit(X, y, solver=solver)
    params = np.r_[r.coef, r.intercept]
    assert r.converged and r.status == "converged"
    np.testing.assert_allclose(params, ref.params, rtol=1e-6, atol=1e-7)


def test_breast_cancer_matches_sklearn():
    datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for C in (0.1, 1.0):
        ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
        r = fit(X, y, l2=1.0 / (C * len(y)))
        assert r.converged
        np.testing.assert_allclose(r.coef, ref.coef_.ravel(), atol=1e-6)
        np.testing.assert_allclose(r.intercept, ref.intercept_[0], atol=1e-6)
        assert np.all(np.isnan(r.stderr))  # documented: no MLE standard errors with a penalty


@pytest.mark.parametrize("l2", [0.0, 1e-2])
def test_every_solver_reaches_the_same_optimum(l2):
    X, y, _, _ = make_problem(2000, 5, seed=3)
    results = {s: fit(X, y, l2=l2, solver=s) for s in ALL_SOLVERS}
    ref = results["newton"]
    for name, r in results.items():
        assert r.converged and r.grad_max <= 1e-8, name
        np.testing.assert_allclose(r.coef, ref.coef, atol=1e-7, err_msg=name)
        np.testing.assert_allclose(r.intercept, ref.intercept, atol=1e-7, err_msg=name)
        np.testing.assert_allclose(r.loss, ref.loss, rtol=1e-12, err_msg=name)
    fixed = fit(X, y, l2=l2, solver="gd", learning_rate=2.0)
    assert fixed.converged
    np.testing.assert_allclose(fixed.coef, ref.coef, atol=1e-7)


def test_newton_converges_on_ill_conditioned_data():
    X, y, _, _ = make_problem(20000, 20, kind="ill", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither a convergence nor a (false) separation warning
        newton = fit(X, y, solver="newton")
    assert newton.converged and newton.grad_max <= 1e-8 and newton.n_iter < 20
    assert np.all(np.isfinite(newton.stderr))
    cg = fit(X, y, solver="newton-cg")
    assert cg.converged
    # compare in standardised units: columns have scales from 1e-3 to 1e3
    sd = X.std(axis=0)
    np.testing.assert_allclose(cg.coef * sd, newton.coef * sd, atol=1e-6)
    # L-BFGS runs on implicitly standardised columns (solvers.scaling): it converges there too
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lb = fit(X, y, solver="lbfgs")
    assert lb.converged and lb.status == "converged"
    np.testing.assert_allclose(lb.coef * sd, newton.coef * sd, atol=1e-6)
    # stopped short, it says why
    with pytest.warns(ConvergenceWarning, match="max\\|grad\\|.*increase max_iter"):
        short = fit(X, y, solver="lbfgs", max_iter=5)
    assert not short.converged and short.status == "max_iter" and np.all(np.isfinite(short.coef))


def test_calibration_at_the_mle():
    X, y = fair()
    r = fit(X, y)
    p = predict_proba(X, r.coef, r.intercept)
    # ∂J/∂b = mean(p − y) ≤ tol at convergence
    assert abs(p.sum() - y.sum()) <= 1e-8 * len(y) * 1.01
    assert abs(p.sum() - y.sum()) / y.sum() < 1e-9


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs"])
def test_separation_warns_and_returns_finite_coef(solver):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    with pytest.warns(SeparationWarning, match="separation"):
        r = fit(X, y, solver=solver)
    assert np.all(np.isfinite(r.coef)) and np.isfinite(r.intercept)
    assert np.all(np.isnan(r.stderr))
    # quasi-complete: add tied rows of both classes on the boundary
    Xq = np.vstack([X, np.zeros((4, 3))])
    yq = np.r_[y, [0.0, 1.0, 0.0, 1.0]]
    with pytest.warns(SeparationWarning, match="separation"):
        rq = fit(Xq, yq, solver=solver)
    assert np.all(np.isfinite(rq.coef))
    # a penalty makes the minimiser finite: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit(X, y, l2=1e-2, solver=solver).converged


def test_no_separation_warning_on_overlapping_classes():
    X, y, _, _ = make_problem(500, 3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = fit(X, y)
    assert np.all(np.isfinite(r.stderr))


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_convergence_warning_when_max_iter_too_small(solver):
    X, y, _, _ = make_problem(2000, 5, kind="ill", seed=2)
    with pytest.warns(ConvergenceWarning, match="stopped after 1 iterations"):
        r = fit(X, y, solver=solver, max_iter=1)
    assert not r.converged and r.n_iter == 1 and r.grad_max > 1e-8
    assert np.all(np.isfinite(r.coef)) and len(r.history) == 2


def test_float32_input_reaches_the_float64_optimum_of_the_same_data():
    X, y, _, _ = make_problem(3000, 6, dtype=np.float32, seed=4)
    r32 = fit(X, y)
    r64 = fit(X.astype(np.float64), y)
    assert r32.converged
    np.testing.assert_allclose(r32.coef, r64.coef, atol=1e-6)
    np.testing.assert_allclose(r32.stderr, r64.stderr, rtol=1e-4)


def test_integer_sample_weights_equal_repeated_rows():
    X, y = spector()
    counts = np.random.default_rng(0).integers(0, 4, len(y))
    weighted = fit(X, y, sample_weight=counts)
    repeated = fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef, repeated.coef, rtol=1e-7)
    np.testing.assert_allclose(weighted.stderr, repeated.stderr, rtol=1e-6)
    np.testing.assert_allclose(weighted.loss, repeated.loss, rtol=1e-10)


def test_numpy_backend_and_no_intercept():
    X, y = fair()
    a = fit(X, y, fit_intercept=False)
    b = fit(X, y, fit_intercept=False, backend="numpy")
    assert a.intercept == 0.0 and a.stderr.shape == (X.shape[1],) and a.cov.shape == (6, 6)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8)
    ref = sm.Logit(y, X).fit(method="newton", tol=1e-12, disp=0)
    np.testing.assert_allclose(a.coef, ref.params, rtol=1e-6)
    np.testing.assert_allclose(a.stderr, ref.bse, rtol=1e-6)


def test_callback_verbose_and_history(capsys):
    X, y = fair()
    seen = []
    r = fit(X, y, callback=seen.append, verbose=True)
    assert len(seen) == r.n_iter and len(r.history) == r.n_iter + 1
    np.testing.assert_allclose(seen[-1], np.r_[r.coef, r.intercept])
    # the line search never increases J beyond its rounding (the rule documented in _armijo)
    assert np.all(np.diff(r.history) <= 64 * np.finfo(float).eps * max(1.0, r.history[0]))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == r.n_iter + 1 and "max|grad|" in lines[-1] and "step" in lines[-1]


def test_auto_rule():
    assert resolve_solver("auto", AUTO_NEWTON_MAX_COEF) == "newton"
    assert resolve_solver("auto", AUTO_NEWTON_MAX_COEF + 1) == "lbfgs"
    assert resolve_solver("newton", AUTO_NEWTON_MAX_COEF + 1) == "newton"
    X, y = spector()
    assert fit(X, y).solver == "newton"
    assert fusedlogit.FitResult is type(fit(X, y, solver="lbfgs"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"solver": "sgd"}, "solver"),
        ({"tol": 0.0}, "tol"),
        ({"tol": np.nan}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"callback": 3}, "callback"),
        ({"l2": -1.0}, "l2"),
        ({"backend": "torch"}, "backend"),
        ({"sample_weight": -np.ones(32)}, "sample_weight"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    X, y = spector()
    with pytest.raises(ValueError, match=match):
        fit(X, y, **kwargs)


def test_bad_data_raise():
    X, y = spector()
    with pytest.raises(ValueError, match="X"):
        fit(np.where(X == X[0, 0], np.nan, X), y)
    with pytest.raises(ValueError, match="y"):
        fit(X, 2 * y)
    with pytest.raises(ValueError, match="rows"):
        fit(X, y[:-1])


def test_repr_is_one_short_line():
    X, y, _, _ = make_problem(2000, 300, seed=0)
    text = repr(fit(X, y, l2=1e-2))
    assert "\n" not in text and len(text) < 200
    assert "converged=True" in text and "n_features=300" in text
