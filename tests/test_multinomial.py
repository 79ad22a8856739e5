"""The multinomial objective against an independent NumPy formula, finite differences and itself across data kinds."""

import numpy as np
import pytest
import scipy.sparse as sp

from fusedlogit import check_gradient
from fusedlogit.multinomial import MultinomialLoss, ReferenceClassLoss

K = 4


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(21)
    n, d = 900, 5
    X = rng.normal(size=(n, d)) * np.array([1.0, 3.0, 0.2, 1.0, 5.0])
    y = rng.integers(0, K, n)
    weight = rng.uniform(0.0, 2.0, n)
    return X, y, weight


def formula(X, Y, weight, coef, fit_intercept, l2, reduction):
    """J and ∇J (K, width) written out: logsumexp by hand, max-shifted."""
    d = X.shape[1]
    C = coef.reshape(K, -1)
    W, b = (C[:, :d], C[:, d]) if fit_intercept else (C, np.zeros(K))
    Z = X @ W.T + b
    m = Z.max(axis=1, keepdims=True)
    E = np.exp(Z - m)
    lse = m[:, 0] + np.log(E.sum(axis=1))
    P = E / E.sum(axis=1, keepdims=True)
    s = np.ones(len(X)) if weight is None else weight
    S = s.sum() if reduction == "mean" else 1.0
    loss = s @ (lse - np.sum(Y * Z, axis=1)) / S + 0.5 * l2 * np.sum(W * W)
    R = s[:, None] * (P - Y) / S
    grad = R.T @ X + l2 * W
    if fit_intercept:
        grad = np.column_stack([grad, R.sum(axis=0)])
    return loss, grad


def kinds(X):
    yield "dense64", X, "numba"
    yield "dense32", X.astype(np.float32), "numba"
    yield "reference", X, "numpy"
    yield "csr", sp.csr_matrix(X), "numba"
    yield "csr-reference", sp.csr_matrix(X), "numpy"


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_and_gradient_match_the_formula(data, fit_intercept, weighted, reduction):
    X, y, weight = data
    weight = weight if weighted else None
    Y = np.eye(K)[y]
    width = X.shape[1] + fit_intercept
    coef = np.random.default_rng(1).normal(scale=0.3, size=K * width)
    expected_loss, expected_grad = formula(X, Y, weight, coef, fit_intercept, 0.05, reduction)
    for name, Xk, backend in kinds(X):
        obj = MultinomialLoss(Xk, y, sample_weight=weight, fit_intercept=fit_intercept, l2=0.05,
                              reduction=reduction, backend=backend)
        assert obj.n_classes == K and obj.n_coef == K * width
        loss, grad = obj.loss_gradient(coef)
        rtol = 1e-5 if name == "dense32" else 1e-11
        assert loss == pytest.approx(expected_loss, rel=rtol), name
        np.testing.assert_allclose(grad, expected_grad.ravel(), rtol=rtol * 10, atol=rtol * 1e-2 * np.abs(expected_grad).max(), err_msg=name)
        assert obj.loss(coef) == pytest.approx(loss, rel=1e-14)
        np.testing.assert_allclose(obj.gradient(coef), grad, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_derivatives_against_finite_differences(data, backend):
    X, y, weight = data
    obj = MultinomialLoss(X, y, sample_weight=weight, l2=0.01, backend=backend)
    rng = np.random.default_rng(2)
    coef = rng.normal(scale=0.2, size=obj.n_coef)
    # eps 1e-5: the loss is summed in another order than the differences assume (rounding ~1e-15 of J)
    assert check_gradient(obj.loss, obj.gradient, coef, eps=1e-5) < 1e-6
    v = rng.normal(size=obj.n_coef)
    assert check_gradient(lambda c: obj.gradient(c) @ v, lambda c: obj.hessp(c, v), coef, eps=1e-5) < 1e-6
    H = obj.hessian(coef)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    np.testing.assert_allclose(H @ v, obj.hessp(coef, v), rtol=1e-10, atol=1e-13)


def test_hessian_without_intercept_and_two_dimensional_coef(data):
    X, y, weight = data
    obj = MultinomialLoss(X, y, sample_weight=weight, fit_intercept=False, l2=0.1)
    rng = np.random.default_rng(3)
    coef = rng.normal(scale=0.2, size=(K, X.shape[1]))
    v = rng.normal(size=(K, X.shape[1]))
    hv = obj.hessp(coef, v)
    assert hv.shape == (K, X.shape[1]) and obj.gradient(coef).shape == (K, X.shape[1])
    np.testing.assert_allclose(obj.hessian(coef) @ v.ravel(), hv.ravel(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(obj.gradient(coef).ravel(), obj.gradient(coef.ravel()))


def test_soft_one_hot_labels_equal_integer_labels(data):
    X, y, weight = data
    coef = np.random.default_rng(4).normal(scale=0.3, size=K * (X.shape[1] + 1))
    for backend in ("numba", "numpy"):
        hard = MultinomialLoss(X, y, sample_weight=weight, backend=backend)
        soft = MultinomialLoss(X, np.eye(K)[y], sample_weight=weight, backend=backend)
        assert soft.loss(coef) == pytest.approx(hard.loss(coef), rel=1e-13)
        np.testing.assert_allclose(soft.gradient(coef), hard.gradient(coef), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(soft.hessian(coef), hard.hessian(coef), rtol=1e-12, atol=1e-15)


def test_soft_labels_match_the_formula(data):
    X, _, weight = data
    rng = np.random.default_rng(5)
    Y = rng.dirichlet(np.ones(K), size=len(X))
    coef = rng.normal(scale=0.3, size=K * (X.shape[1] + 1))
    expected_loss, expected_grad = formula(X, Y, weight, coef, True, 0.0, "mean")
    for backend in ("numba", "numpy"):
        obj = MultinomialLoss(X, Y, sample_weight=weight, backend=backend)
        loss, grad = obj.loss_gradient(coef)
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        np.testing.assert_allclose(grad, expected_grad.ravel(), rtol=1e-10, atol=1e-14)


def test_extreme_margins_are_exact():
    X = np.array([[1.0], [-1.0], [0.5]])
    y = np.array([0, 1, 2])
    obj = MultinomialLoss(X, y, fit_intercept=False)
    coef = np.array([[1000.0], [-1000.0], [0.0]])  # row 0: margins (1000, −1000, 0) → ℓ = 0
    loss, grad = obj.loss_gradient(coef)
    # row 1 (x = −1): margins (−1000, 1000, 0), label 1 → ℓ = 0; row 2: (500, −500, 0), label 2 → ℓ = 500
    assert loss == pytest.approx(500.0 / 3, rel=1e-15)
    assert np.isfinite(grad).all()
    ref = MultinomialLoss(X, y, fit_intercept=False, backend="numpy")
    assert ref.loss(coef) == pytest.approx(loss, rel=1e-15)


def test_results_do_not_depend_on_the_thread_count(data):
    X, y, weight = data
    X = np.repeat(X, 30, axis=0)  # enough rows for several chunks
    y, weight = np.repeat(y, 30), np.repeat(weight, 30)
    coef = np.random.default_rng(6).normal(scale=0.3, size=K * (X.shape[1] + 1))
    results = [MultinomialLoss(X, y, sample_weight=weight, n_threads=t).loss_gradient(coef) for t in (1, 2)]
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_inputs_are_not_modified_and_float32_is_kept(data):
    X, y, weight = data
    X32 = X.astype(np.float32)
    kept = (X32.copy(), y.copy(), weight.copy())
    obj = MultinomialLoss(X32, y, sample_weight=weight)
    obj.hessian(np.zeros(obj.n_coef))
    assert obj.X.dtype == np.float32 and np.shares_memory(obj.X, X32)
    for a, b in zip((X32, y, weight), kept):
        np.testing.assert_array_equal(a, b)


def test_reference_class_parametrisation(data):
    """θ_k = coef_k − coef_0: same J; gradient and Hessian are the full ones without class 0."""
    X, y, weight = data
    full = MultinomialLoss(X, y, sample_weight=weight)
    reduced = ReferenceClassLoss(full)
    width = X.shape[1] + 1
    theta = np.random.default_rng(7).normal(scale=0.3, size=(K - 1) * width)
    coef = np.concatenate([np.zeros(width), theta])
    shifted = coef.reshape(K, width) + np.linspace(-1, 1, width)  # the same J: one vector added to every class
    assert reduced.loss(theta) == pytest.approx(full.loss(shifted), rel=1e-12)
    np.testing.assert_allclose(reduced.gradient(theta), full.gradient(coef)[width:])
    np.testing.assert_allclose(reduced.hessian(theta), full.hessian(coef)[width:, width:])
    assert np.linalg.eigvalsh(reduced.hessian(theta)).min() > 0
    assert np.linalg.eigvalsh(full.hessian(coef)).min() < 1e-12  # the full one is singular


@pytest.mark.parametrize(
    ("y", "kwargs", "match"),
    [
        (np.r_[-1, np.zeros(899, int)], {}, "y"),
        (np.r_[0.5, np.zeros(899)], {}, "y"),
        (np.r_[4, np.zeros(899, int)], {"n_classes": 4}, "n_classes"),
        (np.full((900, 3), 0.5), {}, "sum to 1"),
        (np.column_stack([np.full(900, 1.5), np.full(900, -0.5)]), {}, "non-negative"),
        (np.zeros(900, int), {"n_classes": 1}, "n_classes"),
        (np.zeros((900, 3)) + [1, 0, 0], {"n_classes": 4}, "n_classes"),
        (np.r_[np.nan, np.zeros(899)], {}, "y"),
        (np.zeros(899, int), {}, "y"),
    ],
)
def test_bad_labels_are_named(data, y, kwargs, match):
    X, _, _ = data
    with pytest.raises(ValueError, match=match):
        MultinomialLoss(X, y, **kwargs)


@pytest.mark.parametrize("labels", ["codes", "dask codes", "soft"])
def test_dask_equals_dense(data, labels):
    da = pytest.importorskip("dask.array")
    X, y, weight = data
    Y = {"codes": y, "dask codes": da.from_array(y, chunks=250), "soft": np.eye(K)[y]}[labels]
    dense = MultinomialLoss(X, y, sample_weight=weight, l2=0.1)
    chunked = MultinomialLoss(da.from_array(X, chunks=(250, 5)), Y, sample_weight=weight, l2=0.1)
    rng = np.random.default_rng(8)
    coef, v = rng.normal(scale=0.3, size=(2, dense.n_coef))
    assert chunked.loss(coef) == pytest.approx(dense.loss(coef), rel=1e-13)
    np.testing.assert_allclose(chunked.gradient(coef), dense.gradient(coef), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(chunked.hessp(coef, v), dense.hessp(coef, v), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(chunked.hessian(coef), dense.hessian(coef), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(chunked.initial_coef(), dense.initial_coef(), rtol=1e-13)


def test_predict_proba_with_two_dimensional_coef(data):
    import fusedlogit

    X, y, _ = data
    rng = np.random.default_rng(9)
    coef, intercept = rng.normal(size=(K, X.shape[1])), rng.normal(size=K)
    P = fusedlogit.predict_proba(X, coef, intercept)
    Z = X @ coef.T + intercept
    np.testing.assert_allclose(P, np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True), rtol=1e-12)
    obj = MultinomialLoss(X, y)
    np.testing.assert_allclose(obj.predict_proba(np.column_stack([coef, intercept])), P, rtol=1e-12)
    with pytest.raises(ValueError, match="intercept"):
        fusedlogit.predict_proba(X, coef, intercept[:-1])


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_jit_multinomial_loss_gradient(data, fit_intercept):
    import numba

    from fusedlogit import jit as fjit

    X, y, weight = data
    coef = np.random.default_rng(10).normal(size=(K, X.shape[1] + fit_intercept))
    grad = np.empty_like(coef)
    for w, label in ((weight, y.astype(float)), (None, y), (np.empty(0), y)):
        obj = MultinomialLoss(X, y, sample_weight=None if w is None or not w.size else w,
                              fit_intercept=fit_intercept, reduction="sum")
        loss = fjit.multinomial_loss_gradient(coef, X, label, w, grad)
        expected_loss, expected_grad = obj.loss_gradient(coef)
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-11, atol=1e-12)

    @numba.njit
    def inside_user_code(coef, X, y, grad):
        return fjit.multinomial_loss_gradient(coef, X, y, None, grad)

    assert inside_user_code(coef, X, y, grad) == pytest.approx(fjit.multinomial_loss_gradient(coef, X, y, None, grad))
    with pytest.raises(ValueError, match="labels"):
        fjit.multinomial_loss_gradient(coef, X, np.r_[y[:-1], K], None, grad)
    with pytest.raises(ValueError, match="grad_out"):
        fjit.multinomial_loss_gradient(coef, X, y, None, grad[:, :-1])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_hessian_and_hessp_equal_dense(data, backend, fit_intercept):
    X, y, weight = data
    X = np.where(np.abs(X) > 0.8, X, 0.0)
    dense = MultinomialLoss(X, y, sample_weight=weight, fit_intercept=fit_intercept)
    sparse = MultinomialLoss(sp.csr_matrix(X), y, sample_weight=weight, fit_intercept=fit_intercept, backend=backend)
    rng = np.random.default_rng(11)
    coef, v = rng.normal(scale=0.3, size=(2, dense.n_coef))
    np.testing.assert_allclose(sparse.hessian(coef), dense.hessian(coef), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sparse.hessp(coef, v), dense.hessp(coef, v), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "n_classes, d, n",
    [(2, 3, 70), (4, 6, 300), (3, 20, 203), (5, 9, 131), (3, 30, 97), (8, 37, 129), (11, 101, 77), (3, 600, 45)],
)
def test_fused_kernels_equal_the_reference_for_any_shape(n_classes, d, n, dtype):
    """The dense kernels hold blocks in three layouts: transposed at d ≤ 28 (blocks of 128 rows at d ≤ 8, else
    64; features four at a time), rows of X (rows four at a time for the margins, eight for the scatter, classes
    two at a time) and, for float64 at 32 ≤ d ≤ 512, rows copied and padded to a multiple of 4: odd and even K,
    d in each layout and not a multiple of 4, and row counts that leave partial blocks."""
    rng = np.random.default_rng(n_classes * 1000 + d)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = rng.integers(0, n_classes, n)
    weight = rng.uniform(0.0, 2.0, n).astype(dtype)  # weights are taken in X's dtype
    fused = MultinomialLoss(X, y, n_classes=n_classes, sample_weight=weight)
    # the same values in float64: the fused kernels compute float32 X in float64 (the reference would not)
    reference = MultinomialLoss(X.astype(np.float64), y, n_classes=n_classes, sample_weight=weight, backend="numpy")
    coef, v = rng.normal(scale=0.3, size=(2, fused.n_coef))
    loss, grad = fused.loss_gradient(coef)
    expected_loss, expected_grad = reference.loss_gradient(coef)
    assert loss == pytest.approx(expected_loss, rel=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(fused.hessp(coef, v), reference.hessp(coef, v), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_working_sets_hessian_is_the_full_hessians_block(data, backend):
    """The last class's blocks come from the others' (each row of diag(p) − p pᵀ sums to 0): also on a subset."""
    X, y, weight = data
    obj = MultinomialLoss(X, y, sample_weight=weight, l2=0.05, backend=backend)
    coef = np.random.default_rng(4).normal(scale=0.3, size=obj.n_coef)
    features = np.array([0, 2, X.shape[1] - 1])
    width = X.shape[1] + 1
    index = (np.arange(K)[:, None] * width + np.append(features, width - 1)[None, :]).ravel()
    np.testing.assert_allclose(obj.hessian(coef, features), obj.hessian(coef)[np.ix_(index, index)],
                               rtol=1e-12, atol=1e-15)
