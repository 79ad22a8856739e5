import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def random_problem(rng, n=300, d=5, dtype=np.float64, weights=False, soft=False):
    X = rng.standard_normal((n, d)).astype(dtype)
    y = rng.random(n) if soft else (rng.random(n) < 0.4).astype(np.float64)
    sw = rng.uniform(0, 3, n) if weights else None
    return X, y, sw


def assert_same_objective(a, b, coef, v, rtol):
    """Two LogisticLoss objects agree on every method at ``coef`` (and direction ``v``)."""
    la, ga = a.loss_gradient(coef)
    lb, gb = b.loss_gradient(coef)
    assert la == pytest.approx(lb, rel=rtol)
    assert a.loss(coef) == pytest.approx(lb, rel=rtol)
    np.testing.assert_allclose(ga, gb, rtol=rtol, atol=rtol * np.abs(gb).max())
    np.testing.assert_allclose(a.gradient(coef), gb, rtol=rtol, atol=rtol * np.abs(gb).max())
    hb = b.hessp(coef, v)
    np.testing.assert_allclose(a.hessp(coef, v), hb, rtol=rtol, atol=rtol * np.abs(hb).max())
    Hb = b.hessian(coef)
    np.testing.assert_allclose(a.hessian(coef), Hb, rtol=rtol, atol=rtol * np.abs(Hb).max())
