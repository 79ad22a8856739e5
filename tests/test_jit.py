"""fusedlogit.jit: Numba-callable kernels against LogisticLoss and fit, and from users' compiled code."""

import numba
import numpy as np
import pytest
import scipy.optimize
from conftest import random_problem

import fusedlogit
from fusedlogit import LogisticLoss
from fusedlogit import jit as fj


def weights_cases(rng, n):
    """(argument for the jit kernel, the same weights for LogisticLoss)."""
    sw = rng.uniform(0, 3, n)
    return [(None, None), (np.empty(0), None), (sw, sw)]


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_gradient_and_hessian_equal_logistic_loss_sum(rng, fit_intercept, dtype):
    # n = 203 is not a multiple of the block size: the last block is partial.
    X, y, _ = random_problem(rng, n=203, d=6, dtype=dtype, soft=True)
    k = 7 if fit_intercept else 6
    coef = rng.standard_normal(k)
    for sw_jit, sw_ref in weights_cases(rng, len(y)):
        ref = LogisticLoss(X, y, sample_weight=sw_ref, fit_intercept=fit_intercept, reduction="sum")
        if sw_jit is not None and sw_jit.size:
            sw_jit = sw_jit.astype(dtype)
        grad = np.full(k, np.nan)
        loss = fj.loss_gradient(coef, X, y.astype(dtype), sw_jit, grad)
        ref_loss, ref_grad = ref.loss_gradient(coef)
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-10 * np.abs(ref_grad).max())
        hess = np.full((k, k), np.nan)
        fj.hessian(coef, X, sw_jit, hess)
        ref_hess = ref.hessian(coef)
        np.testing.assert_allclose(hess, ref_hess, rtol=1e-10, atol=1e-12 * np.abs(ref_hess).max())
        np.testing.assert_array_equal(hess, hess.T)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 9])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_hessian_at_every_tile_shape(rng, d, fit_intercept):
    # The Gram matrix goes in 2 × 4 tiles: odd d pairs the last row with
    # itself and d mod 4 ≠ 0 leaves narrow last tiles; n = 1100 spans three blocks.
    X, y, sw = random_problem(rng, n=1100, d=d, weights=True)
    coef = rng.standard_normal(d + fit_intercept)
    ref = LogisticLoss(X, y, sample_weight=sw, fit_intercept=fit_intercept, reduction="sum").hessian(coef)
    hess = np.full((len(coef), len(coef)), np.nan)
    fj.hessian(coef, X, sw, hess)
    np.testing.assert_allclose(hess, ref, rtol=1e-11, atol=1e-13 * np.abs(ref).max())
    np.testing.assert_array_equal(hess, hess.T)


def test_predict_proba_matches_package_and_is_stable_in_tails(rng):
    X, _, _ = random_problem(rng, n=50, d=4)
    coef = rng.standard_normal(5)
    out = np.empty(50)
    assert fj.predict_proba(coef, X, out) is out
    np.testing.assert_allclose(out, fusedlogit.predict_proba(X, coef[:4], coef[4]), rtol=1e-14)
    extreme = fj.predict_proba(np.array([1000.0, 0.0]), np.array([[1.0], [-1.0], [0.0]]), np.empty(3))
    np.testing.assert_array_equal(extreme, [1.0, 0.0, 0.5])


def test_shape_mismatch_raises():
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match="coef"):
        fj.loss_gradient(np.zeros(5), X, np.zeros(5), None, np.empty(5))
    with pytest.raises(ValueError, match="grad_out"):
        fj.loss_gradient(np.zeros(4), X, np.zeros(5), None, np.empty(3))
    with pytest.raises(ValueError, match="sample_weight"):
        fj.hessian(np.zeros(3), X, np.ones(4), np.empty((3, 3)))


def scipy_minimiser(X, y, sw, l2, fit_intercept):
    """Independent reference: LogisticLoss (mean) minimised by scipy's trust-exact.

    trust-exact stops when J no longer decreases in floating point, which can
    leave max|∇J| ~ 1e-8 on unscaled data; three undamped Newton steps
    (np.linalg.solve) from there polish it to rounding level.
    """
    obj = LogisticLoss(X, y, sample_weight=sw, fit_intercept=fit_intercept, l2=l2)
    x = scipy.optimize.minimize(
        obj.loss, np.zeros(obj.n_coef), jac=obj.gradient, hess=obj.hessian, method="trust-exact", options={"gtol": 1e-12}
    ).x
    for _ in range(3):
        x = x - np.linalg.solve(obj.hessian(x), obj.gradient(x))
    assert np.abs(obj.gradient(x)).max() <= 1e-11
    return obj, x


def assert_same_minimiser(obj, a, b):
    """a and b minimise the strictly convex J within what their gradients allow.

    Near the minimiser x*, ||x − x*|| ≤ ||∇J(x)|| / λ_min(H) (to first order),
    so ||a − b|| is bounded by the two gradients; a factor 2 covers the
    second-order term.  Both gradients are ≤ 1e-8, so this is tight.
    """
    lam_min = np.linalg.eigvalsh(obj.hessian(a)).min()
    bound = 2.0 * (np.linalg.norm(obj.gradient(a)) + np.linalg.norm(obj.gradient(b))) / lam_min
    assert np.linalg.norm(a - b) <= bound + 1e-14, (np.linalg.norm(a - b), bound)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_newton_fit_equals_scipy_and_fit(rng, fit_intercept, weighted, l2):
    X, y, sw = random_problem(rng, n=300, d=5, weights=weighted)
    X[:, 0] *= 100.0  # unscaled column: Newton's equilibration must handle it
    k = 6 if fit_intercept else 5
    coef = np.full(k, np.nan)
    n_iter, converged = fj.newton_fit(X, y, sw, l2, coef, 1e-10, 100)
    assert converged and 1 <= n_iter < 20
    obj, ref = scipy_minimiser(X, y, sw, l2, fit_intercept)
    assert np.abs(obj.gradient(coef)).max() <= 1e-10
    assert_same_minimiser(obj, coef, ref)
    r = fusedlogit.fit(X, y, sample_weight=sw, l2=l2, fit_intercept=fit_intercept, tol=1e-10)
    fit_coef = np.r_[r.coef, r.intercept] if fit_intercept else r.coef
    assert_same_minimiser(obj, coef, fit_coef)
    np.testing.assert_allclose(coef, fit_coef, rtol=1e-6, atol=1e-8)


def test_newton_fit_float32_matches_float64(rng):
    X, y, _ = random_problem(rng, n=200, d=4)
    X32 = X.astype(np.float32)
    c32, c64 = np.empty(5), np.empty(5)
    assert fj.newton_fit(X32, y.astype(np.float32), None, 0.0, c32, 1e-9, 50)[1]
    assert fj.newton_fit(X32.astype(np.float64), y, None, 0.0, c64, 1e-9, 50)[1]
    np.testing.assert_allclose(c32, c64, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "case",
    ["one class", "separable", "zero weights"],
)
def test_newton_fit_failures_are_reported_with_finite_coef(rng, case):
    X, y, _ = random_problem(rng, n=80, d=3)
    sw = None
    if case == "one class":
        y[:] = 1.0
    elif case == "separable":
        y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    else:
        sw = np.zeros(80)
    coef = np.full(4, np.nan)
    n_iter, status, loss = fj.newton_solve(X, y, sw, 0.0, coef, 1e-8, 100)
    expected = {"one class": fj.SEPARATED, "separable": fj.SEPARATED, "zero weights": fj.NO_WEIGHT}[case]
    assert status == expected
    assert np.isfinite(coef).all()
    assert fj.newton_fit(X, y, sw, 0.0, coef, 1e-8, 100)[1] is False
    # A penalty makes the minimiser finite: then it converges; not for one class (the intercept is free).
    if case == "separable":
        assert fj.newton_fit(X, y, sw, 0.1, coef, 1e-8, 100)[1] is True
    if case == "one class":
        assert fj.newton_solve(X, y, sw, 0.1, coef, 1e-8, 100)[1] == fj.SEPARATED
        assert fj.newton_fit(X, y, sw, 0.1, np.zeros(3), 1e-8, 100)[1] is True  # no intercept: finite


def test_newton_fit_iteration_limit(rng):
    X, y, _ = random_problem(rng, n=100, d=3)
    coef = np.empty(4)
    n_iter, status, _ = fj.newton_solve(X, y, None, 0.0, coef, 1e-14, 1)
    assert (n_iter, status) == (1, fj.MAX_ITER)


# -- called from users' compiled code --------------------------------------------


@numba.njit(parallel=True)
def user_bootstrap(X, y, counts):
    """A user's bootstrap: replicate b's resampled rows enter as integer weights counts[b]."""
    n_boot = counts.shape[0]
    out = np.empty((n_boot, X.shape[1] + 1))
    ok = np.empty(n_boot, dtype=np.bool_)
    for b in numba.prange(n_boot):
        _, ok[b] = fj.newton_fit(X, y, counts[b], 0.0, out[b], 1e-9, 50)
    return out, ok


@numba.njit
def user_gradient_descent(X, y, steps, rate):
    """A user's own solver on the sum loss, through loss_gradient."""
    coef = np.zeros(X.shape[1] + 1)
    grad = np.empty_like(coef)
    loss = 0.0
    for _ in range(steps):
        loss = fj.loss_gradient(coef, X, y, np.empty(0), grad)
        coef -= rate * grad
    return coef, loss


def test_callable_in_user_prange_bootstrap(rng):
    X, y, _ = random_problem(rng, n=120, d=3)
    n_boot, n = 6, len(y)
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)]).astype(float)
    coefs, ok = user_bootstrap(X, y, counts)
    assert ok.all()
    for b in range(n_boot):
        r = fusedlogit.fit(X, y, sample_weight=counts[b], tol=1e-9)
        np.testing.assert_allclose(coefs[b], np.r_[r.coef, r.intercept], rtol=1e-6, atol=1e-8)
    assert np.abs(coefs[0] - coefs[1]).max() > 1e-3  # the replicates really differ


def test_callable_in_user_njit_solver(rng):
    X, y, _ = random_problem(rng, n=150, d=3)
    coef, loss = user_gradient_descent(X, y, 3000, 2.0 / len(y))
    r = fusedlogit.fit(X, y)
    np.testing.assert_allclose(coef, np.r_[r.coef, r.intercept], atol=1e-6)
    np.testing.assert_allclose(loss / len(y), r.loss, rtol=1e-10)
