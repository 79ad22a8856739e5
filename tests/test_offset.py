"""offset: a known per-row term of the margin, z_i = x_i·w + b + o_i, in every entry point."""

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit
from fusedlogit import LogisticLoss, check_gradient


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    n, d = 1500, 4
    X = rng.normal(size=(n, d))
    offset = rng.normal(scale=1.5, size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [0.7, -0.4, 0.2, 0.0] + offset - 0.5)))).astype(float)
    weight = rng.uniform(0.1, 2.0, n)
    return X, y, offset, weight


def formula(X, y, offset, weight, coef, l2):
    """J and ∇J with the intercept last, written out in NumPy."""
    Xt = np.column_stack([X, np.ones(len(y))])
    z = Xt @ coef + offset
    S = weight.sum()
    loss = weight @ (np.logaddexp(0, z) - y * z) / S + 0.5 * l2 * coef[:-1] @ coef[:-1]
    grad = Xt.T @ (weight * (1 / (1 + np.exp(-z)) - y)) / S
    grad[:-1] += l2 * coef[:-1]
    return loss, grad


def kinds(X):
    yield "dense64", X, "numba"
    yield "dense32", X.astype(np.float32), "numba"
    yield "reference", X, "numpy"
    yield "csr", sp.csr_matrix(X), "numba"
    yield "csr-reference", sp.csr_matrix(X), "numpy"
    da = pytest.importorskip("dask.array")
    yield "dask", da.from_array(X, chunks=(400, 4)), "numba"


def test_objective_with_offset_matches_the_formula(data):
    X, y, offset, weight = data
    coef = np.array([0.3, -0.2, 0.1, 0.05, -0.4])
    expected_loss, expected_grad = formula(X, y, offset, weight, coef, 0.01)
    for name, Xk, backend in kinds(X):
        obj = LogisticLoss(Xk, y, sample_weight=weight, offset=offset, l2=0.01, backend=backend)
        loss, grad = obj.loss_gradient(coef)
        rtol = 1e-5 if name == "dense32" else 1e-12
        assert loss == pytest.approx(expected_loss, rel=rtol), name
        np.testing.assert_allclose(grad, expected_grad, rtol=rtol * 10, atol=rtol * 1e-2, err_msg=name)
        v = np.linspace(-1, 1, 5)
        np.testing.assert_allclose(obj.hessp(coef, v), obj.hessian(coef) @ v, rtol=1e-9, atol=1e-12, err_msg=name)
        if name == "dense64":
            assert check_gradient(obj.loss, obj.gradient, coef) < 1e-6


def test_fit_with_offset_matches_statsmodels(data):
    sm = pytest.importorskip("statsmodels.api")
    X, y, offset, _ = data
    theirs = sm.Logit(y, sm.add_constant(X, prepend=False), offset=offset).fit(disp=0, tol=1e-12, method="newton")
    for solver in ("newton", "lbfgs", "newton-cg"):
        ours = fusedlogit.fit(X, y, offset=offset, solver=solver)
        np.testing.assert_allclose(ours.params, theirs.params, rtol=1e-6, atol=1e-7, err_msg=solver)
        assert ours.loglike == pytest.approx(theirs.llf, rel=1e-10)
    ours = fusedlogit.fit(X, y, offset=offset)
    np.testing.assert_allclose(ours.stderr, theirs.bse, rtol=1e-6)
    assert ours.llnull == pytest.approx(theirs.llnull, rel=1e-7)


def test_a_constant_offset_moves_only_the_intercept(data):
    X, y, _, _ = data
    plain = fusedlogit.fit(X, y)
    shifted = fusedlogit.fit(X, y, offset=np.full(len(y), 2.5))
    np.testing.assert_allclose(shifted.coef, plain.coef, rtol=1e-6, atol=1e-8)
    assert shifted.intercept == pytest.approx(plain.intercept - 2.5, abs=1e-7)


def test_offset_equals_a_column_with_known_coefficient(data):
    """Fitting with offset c·x_k gives what the full fit gives when its k-th coefficient is c."""
    X, y, _, weight = data
    full = fusedlogit.fit(X, y, sample_weight=weight)
    k = 1
    rest = np.delete(X, k, axis=1)
    fixed = fusedlogit.fit(rest, y, sample_weight=weight, offset=full.coef[k] * X[:, k])
    np.testing.assert_allclose(fixed.coef, np.delete(full.coef, k), rtol=1e-6, atol=1e-8)
    assert fixed.intercept == pytest.approx(full.intercept, abs=1e-7)


def test_fit_many_with_offset_equals_fit_per_group(data):
    X, y, offset, weight = data
    groups = np.arange(len(y)) % 3
    many = fusedlogit.fit_many(X, y, groups, sample_weight=weight, offset=offset)
    for g in range(3):
        rows = groups == g
        one = fusedlogit.fit(X[rows], y[rows], sample_weight=weight[rows], offset=offset[rows])
        np.testing.assert_allclose(many.coef[g], one.coef, rtol=1e-6, atol=1e-7)
        assert many.intercept[g] == pytest.approx(one.intercept, abs=1e-7)
    assert many.converged.all()


def test_estimator_fit_and_predict_with_offset(data):
    pytest.importorskip("sklearn")
    from fusedlogit.sklearn import LogisticRegression

    X, y, offset, _ = data
    model = LogisticRegression(C=np.inf).fit(X, y, offset=offset)
    direct = fusedlogit.fit(X, y, offset=offset, reuse_hessian=False)  # the estimator's Newton steps
    np.testing.assert_allclose(model.coef_[0], direct.coef, rtol=1e-10)
    proba = model.predict_proba(X, offset=offset)[:, 1]
    np.testing.assert_allclose(proba, fusedlogit.predict_proba(X, direct.coef, direct.intercept, offset=offset))
    np.testing.assert_array_equal(model.predict(X, offset=offset), (proba > 0.5).astype(int))
    assert not np.allclose(model.predict_proba(X)[:, 1], proba)  # without it, other margins


@pytest.mark.parametrize("bad", [np.r_[np.nan, np.zeros(1499)], np.zeros(1499), np.zeros((1500, 2)), np.r_[np.inf, np.zeros(1499)]])
def test_bad_offset_is_named(data, bad):
    X, y, _, _ = data
    with pytest.raises(ValueError, match="offset"):
        fusedlogit.fit(X, y, offset=bad)
    with pytest.raises(ValueError, match="offset"):
        fusedlogit.fit_many(X, y, np.zeros(len(y)), offset=bad)


def test_offset_is_not_modified(data):
    X, y, offset, _ = data
    kept = offset.copy()
    fusedlogit.fit(X.astype(np.float32), y, offset=offset)
    fusedlogit.fit_many(X, y, np.arange(len(y)) % 2, offset=offset)
    np.testing.assert_array_equal(offset, kept)
