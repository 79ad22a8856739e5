"""Property tests over shapes, dtypes and extreme values."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fusedlogit import LogisticLoss

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw):
    n = draw(st.integers(1, 60))
    d = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    X = draw(arrays(dtype, (n, d), elements=st.floats(-1e3, 1e3, width=32)))
    y = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0, 0.25])))
    sw = draw(st.none() | arrays(np.float64, n, elements=st.floats(0.0, 10.0)))
    if sw is not None and sw.sum() == 0:
        sw = None
    fit_intercept = draw(st.booleans())
    coef = draw(arrays(np.float64, d + fit_intercept, elements=st.floats(-10, 10)))
    return X, y, sw, fit_intercept, coef


@settings(max_examples=150, deadline=None)
@given(problems())
def test_fused_matches_reference_and_stays_finite(problem):
    X, y, sw, fit_intercept, coef = problem
    fast = LogisticLoss(X, y, sample_weight=sw, fit_intercept=fit_intercept, reduction="sum")
    ref = LogisticLoss(X, y, sample_weight=sw, fit_intercept=fit_intercept, reduction="sum", backend="numpy")
    (lf, gf), (lr, gr) = fast.loss_gradient(coef), ref.loss_gradient(coef)
    Hf = fast.hessian(coef)
    assert np.isfinite(lf) and np.isfinite(gf).all() and np.isfinite(Hf).all()
    assert lf >= 0  # every per-sample loss is non-negative
    # float32 margins are rounded differently by BLAS and by the fused sum: compare at the scale of |z|
    scale = np.abs(X).sum(axis=1).max() * np.abs(coef).max() + 1.0
    tol = (1e-12 if X.dtype == np.float64 else 1e-5) * scale
    weight = len(y) if sw is None else sw.sum() + 1
    assert abs(lf - lr) <= tol * weight
    assert np.abs(gf - gr).max() <= tol * weight * (np.abs(X).max() + 1)
    assert (np.linalg.eigvalsh(Hf) >= -1e-9 * (np.abs(Hf).max() + 1)).all()  # convex


@settings(max_examples=100, deadline=None)
@given(z=finite, y=st.sampled_from([0.0, 1.0]))
def test_single_sample_closed_form(z, y):
    obj = LogisticLoss(np.array([[z]]), np.array([y]), fit_intercept=False)
    loss, grad = obj.loss_gradient(np.array([1.0]))
    expected = np.logaddexp(0.0, z) - y * z
    assert abs(loss - expected) <= 1e-15 * max(1.0, abs(z))
    p = 0.5 * (1 + np.tanh(z / 2))  # an independent way to write σ
    assert abs(grad[0] - (p - y) * z) <= 1e-14 * max(1.0, abs(z))
