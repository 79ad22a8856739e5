"""LogisticLoss: both backends against each other and against independent formulas."""

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from conftest import random_problem
from fusedlogit import LogisticLoss, check_gradient, predict_proba

BACKENDS = ["numba", "numpy"]


def independent(X, y, sw, coef, fit_intercept, l2, reduction):
    """J, ∇J, H written with scipy.special and an explicit design matrix."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, dtype=np.float64)
    Xt = np.hstack([X, np.ones((n, 1))]) if fit_intercept else X
    z = Xt @ coef
    # −log σ(z) for y = 1 and −log σ(−z) for y = 0, mixed for soft labels
    nll = -(y * log_expit(z) + (1 - y) * log_expit(-z))
    S = s.sum() if reduction == "mean" else 1.0
    w = coef[:d]
    loss = (s @ nll) / S + 0.5 * l2 * w @ w
    pen = np.r_[np.full(d, l2), np.zeros(len(coef) - d)]
    grad = Xt.T @ (s * (expit(z) - y)) / S + pen * coef
    h = s * expit(z) * expit(-z)
    hess = Xt.T @ (h[:, None] * Xt) / S + np.diag(pen)
    return loss, grad, hess


OPTIONS = list(
    itertools.product(
        [np.float64, np.float32],  # dtype
        [True, False],  # fit_intercept
        [False, True],  # sample weights
        [0.0, 0.3],  # l2
        ["mean", "sum"],  # reduction
    )
)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype,fit_intercept,weights,l2,reduction", OPTIONS)
def test_matches_independent_formulas(rng, backend, dtype, fit_intercept, weights, l2, reduction):
    X, y, sw = random_problem(rng, n=257, d=6, dtype=dtype, weights=weights, soft=weights)
    obj = LogisticLoss(X, y, sample_weight=sw, fit_intercept=fit_intercept, l2=l2, reduction=reduction, backend=backend)
    coef = rng.standard_normal(obj.n_coef)
    v = rng.standard_normal(obj.n_coef)
    loss, grad, hess = independent(X, y, sw, coef, fit_intercept, l2, reduction)
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    got_loss, got_grad = obj.loss_gradient(coef)
    assert got_loss == pytest.approx(loss, rel=rtol)
    assert obj.loss(coef) == pytest.approx(loss, rel=rtol)
    scale = np.abs(grad).max()
    np.testing.assert_allclose(got_grad, grad, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(obj.gradient(coef), grad, rtol=rtol, atol=rtol * scale)
    hv = hess @ v
    np.testing.assert_allclose(obj.hessp(coef, v), hv, rtol=rtol, atol=rtol * np.abs(hv).max())
    np.testing.assert_allclose(obj.hessian(coef), hess, rtol=rtol, atol=rtol * np.abs(hess).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "n,d", [(1, 1), (7, 3), (5000, 2), (9001, 1), (10_000, 3), (8193, 4), (6000, 5), (3000, 40), (200, 700)]
)
def test_fused_equals_reference(rng, dtype, n, d):
    """Shapes that cross the chunk and block boundaries of the kernels, and every exact-d sweep (d ≤ 4)."""
    X, y, sw = random_problem(rng, n=n, d=d, dtype=dtype, weights=True)
    fast = LogisticLoss(X, y, sample_weight=sw, l2=0.01)
    ref = LogisticLoss(X, y, sample_weight=sw, l2=0.01, backend="numpy")
    coef = rng.standard_normal(d + 1) / np.sqrt(d)
    v = rng.standard_normal(d + 1)
    rtol = 1e-11 if dtype == np.float64 else 1e-5
    (lf, gf), (lr, gr) = fast.loss_gradient(coef), ref.loss_gradient(coef)
    assert lf == pytest.approx(lr, rel=rtol)
    np.testing.assert_allclose(gf, gr, rtol=rtol, atol=rtol * np.abs(gr).max())
    hf, hr = fast.hessp(coef, v), ref.hessp(coef, v)
    np.testing.assert_allclose(hf, hr, rtol=rtol, atol=rtol * np.abs(hr).max())
    Hf, Hr = fast.hessian(coef), ref.hessian(coef)
    np.testing.assert_allclose(Hf, Hr, rtol=rtol, atol=rtol * np.abs(Hr).max())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_finite_differences(rng, backend, fit_intercept):
    X, y, sw = random_problem(rng, n=400, d=4, weights=True, soft=True)
    obj = LogisticLoss(X, y, sample_weight=sw, fit_intercept=fit_intercept, l2=0.05, backend=backend)
    coef = rng.standard_normal(obj.n_coef)
    assert check_gradient(obj.loss, obj.gradient, coef) < 1e-6
    H = obj.hessian(coef)
    for i in range(obj.n_coef):  # each Hessian column is a derivative of the gradient
        assert check_gradient(lambda c: obj.gradient(c)[i], lambda c: obj.hessian(c)[i], coef) < 1e-6
        e = np.zeros(obj.n_coef)
        e[i] = 1.0
        np.testing.assert_allclose(obj.hessp(coef, e), H[:, i], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-15)


def test_check_gradient_flags_one_percent_error(rng):
    X, y, _ = random_problem(rng)
    obj = LogisticLoss(X, y)
    coef = rng.standard_normal(obj.n_coef)
    assert check_gradient(obj.loss, obj.gradient, coef) < 1e-6
    assert check_gradient(obj.loss, lambda c: 1.01 * obj.gradient(c), coef) > 5e-3
    for i in range(obj.n_coef):  # a 1% error in any single component is seen too

        def wrong(c, i=i):
            g = obj.gradient(c)
            g[i] *= 1.01
            return g

        assert check_gradient(obj.loss, wrong, coef) > 5e-3


def test_float32_agrees_with_float64_on_same_data(rng):
    X, y, sw = random_problem(rng, n=20000, d=30, dtype=np.float32, weights=True)
    coef = rng.standard_normal(31) / 5
    l32 = LogisticLoss(X, y, sample_weight=sw).loss(coef)
    l64 = LogisticLoss(X.astype(np.float64), y, sample_weight=sw).loss(coef)
    assert l32 == pytest.approx(l64, rel=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_extreme_margins_are_exact(backend):
    # rows with margins z = ±1000 and labels that agree or disagree with them
    X = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0], [40.0], [-40.0]])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    obj = LogisticLoss(X, y, fit_intercept=False, reduction="sum", backend=backend)
    coef = np.array([1.0])
    loss, grad = obj.loss_gradient(coef)
    # ℓ = 0, 0, 1000, 1000, log1p(e^-40), 40 + log1p(e^-40)
    tail = np.log1p(np.exp(-40.0))
    assert loss == pytest.approx(2000.0 + 40.0 + 2 * tail, rel=1e-15)
    # r = p − y = 0, 0, 1, −1, −σ(−40), −σ(40)
    expected_grad = 1000 * 1 + (-1000) * (-1) + 40 * (-expit(-40.0)) + (-40) * (-expit(40.0))
    assert grad[0] == pytest.approx(expected_grad, rel=1e-14)
    H = obj.hessian(coef)
    # p(1 − p) vanishes at ±1000 but is tiny and positive (not zero) at ±40
    assert H[0, 0] == pytest.approx(2 * 1600 * expit(40.0) * expit(-40.0), rel=1e-12)
    assert H[0, 0] > 0
    assert np.isfinite(obj.hessp(coef, np.array([1.0]))).all()


LAYOUTS = {
    "fortran": np.asfortranarray,
    "every_other_row": lambda a: np.repeat(a, 2, axis=0)[::2],
    "reversed_columns": lambda a: a[:, ::-1].copy()[:, ::-1],
    "transposed_view": lambda a: a.T.copy().T,
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts_give_the_same_answer(rng, backend, layout):
    X, y, sw = random_problem(rng, n=600, d=5, weights=True)
    Xl = LAYOUTS[layout](X)
    assert not Xl.flags.c_contiguous and np.array_equal(Xl, X)
    coef = rng.standard_normal(6)
    a = LogisticLoss(Xl, y, sample_weight=sw, backend=backend).loss_gradient(coef)
    b = LogisticLoss(X, y, sample_weight=sw, backend=backend).loss_gradient(coef)
    assert a[0] == pytest.approx(b[0], rel=1e-14)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-13, atol=1e-15)


def test_integer_and_boolean_inputs(rng):
    Xi = rng.integers(-3, 4, size=(200, 3))
    yb = rng.random(200) < 0.5
    coef = rng.standard_normal(4)
    a = LogisticLoss(Xi, yb).loss_gradient(coef)
    b = LogisticLoss(Xi.astype(float), yb.astype(float)).loss_gradient(coef)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])
    assert LogisticLoss(Xi > 0, yb.astype(int)).X.dtype == np.float64


@pytest.mark.parametrize("backend", BACKENDS)
def test_inputs_are_not_modified(rng, backend):
    X, y, sw = random_problem(rng, weights=True)
    Xf = np.asfortranarray(X)
    copies = [a.copy() for a in (X, Xf, y, sw)]
    obj = LogisticLoss(Xf, y, sample_weight=sw, l2=0.1, backend=backend)
    coef = rng.standard_normal(obj.n_coef)
    v = rng.standard_normal(obj.n_coef)
    coef_copy, v_copy = coef.copy(), v.copy()
    obj.loss_gradient(coef), obj.gradient(coef), obj.hessp(coef, v), obj.hessian(coef)
    for a, c in zip((X, Xf, y, sw), copies):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(coef, coef_copy)
    np.testing.assert_array_equal(v, v_copy)


def test_no_copy_of_contiguous_float_data(rng):
    X, y, _ = random_problem(rng, dtype=np.float32)
    assert np.shares_memory(LogisticLoss(X, y).X, X)
    X.setflags(write=False)  # read-only (as from a memory map) is used as is too
    obj = LogisticLoss(X, y)
    assert np.shares_memory(obj.X, X)
    assert np.isfinite(obj.loss(np.zeros(obj.n_coef)))


def test_plugs_into_scipy_trust_ncg(rng):
    X, y, sw = random_problem(rng, n=2000, d=8, weights=True)
    obj = LogisticLoss(X, y, sample_weight=sw, l2=1e-3)
    res = minimize(obj.loss_gradient, np.zeros(obj.n_coef), jac=True, hessp=obj.hessp, method="trust-ncg", options={"gtol": 1e-8})
    assert res.success
    assert np.abs(obj.gradient(res.x)).max() <= 1e-8
    ref = minimize(obj.loss_gradient, np.zeros(obj.n_coef), jac=True, method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)


def test_predict_proba_is_stable(rng):
    X = np.array([[1000.0], [-1000.0], [0.0], [-40.0]])
    p = predict_proba(X, np.array([1.0]))
    np.testing.assert_array_equal(p[:3], [1.0, 0.0, 0.5])
    assert p[3] == pytest.approx(expit(-40.0), rel=1e-14) and p[3] > 0
    X, _, _ = random_problem(rng)
    coef = rng.standard_normal(X.shape[1])
    np.testing.assert_allclose(predict_proba(X, coef, 0.3), expit(X @ coef + 0.3), rtol=1e-14)
    with pytest.raises(ValueError, match="coef"):
        predict_proba(X, coef[:-1])
    with pytest.raises(ValueError, match="X"):
        predict_proba(X[0], coef)


def test_gradient_weights_are_the_same_for_every_kind_of_data():
    """max(1, 1/ρ_j) with ρ_j the weighted root-mean-square of column j, from every backend."""
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    n = 3000
    X = rng.standard_normal((n, 4)) * np.array([1e-6, 0.5, 3.0, 1.0])
    X[rng.random((n, 4)) < 0.5] = 0.0
    X[:, 3] = 0.0  # an all-zero column keeps weight 1
    y = (rng.random(n) < 0.5).astype(float)
    s = rng.uniform(0.5, 2.0, n)
    rms = np.sqrt((s[:, None] * X**2).sum(axis=0) / s.sum())
    expected = np.r_[np.where((rms > 0) & (rms < 1), 1 / np.where(rms > 0, rms, 1), 1.0), 1.0]
    inputs = [X, sp.csr_matrix(X), X.astype(np.float32)]
    try:
        import dask.array as da

        inputs.append(da.from_array(X, chunks=(1000, 4)))
    except ImportError:
        pass
    for data in inputs:
        for backend in ("numba", "numpy"):
            got = LogisticLoss(data, y, sample_weight=s, backend=backend).gradient_weights()
            rtol = 1e-5 if getattr(data, "dtype", None) == np.float32 else 1e-12
            np.testing.assert_allclose(got, expected, rtol=rtol, err_msg=f"{type(data).__name__} {backend}")


def test_column_moments_are_the_same_for_dense_and_sparse_data():
    """(μ, ρ) of ``column_moments``: the weighted means and RMS, from the compiled CSR sums and dense X alike."""
    import scipy.sparse as sp

    rng = np.random.default_rng(4)
    X = rng.standard_normal((2000, 6)) * np.array([1e-3, 1.0, 50.0, 1.0, 2.0, 1.0])
    X[rng.random(X.shape) < 0.7] = 0.0
    y = (rng.random(2000) < 0.5).astype(float)
    s = rng.uniform(0.0, 2.0, 2000)
    mean = (s[:, None] * X).sum(axis=0) / s.sum()
    rms = np.sqrt((s[:, None] * X**2).sum(axis=0) / s.sum())
    for data, rtol in [(X, 1e-12), (sp.csr_matrix(X), 1e-12), (sp.csr_matrix(X.astype(np.float32)), 1e-6)]:
        got_mean, got_rms = LogisticLoss(data, y, sample_weight=s).column_moments()
        np.testing.assert_allclose(got_mean, mean, rtol=rtol, atol=1e-15)
        np.testing.assert_allclose(got_rms, rms, rtol=rtol)
