"""scipy.sparse X: the CSR kernels and the reference path give the dense results."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize

import fusedlogit
from conftest import assert_same_objective
from fusedlogit import LogisticLoss, predict_proba
from fusedlogit.kernels.csr import PARTIALS_BYTES, sparse_partition

BACKENDS = ["numba", "numpy"]


def sparse_problem(rng, n=400, d=12, density=0.2, dtype=np.float64, weights=False, soft=False):
    """Dense X with about ``density`` nonzeros, some empty rows and an empty column."""
    X = rng.standard_normal((n, d)) * (rng.random((n, d)) < density)
    X[::17] = 0.0
    X[:, d // 2] = 0.0
    y = rng.random(n) if soft else (rng.random(n) < 0.4).astype(np.float64)
    sw = rng.uniform(0, 3, n) if weights else None
    return X.astype(dtype), y, sw


OPTIONS = list(
    itertools.product(
        [np.float64, np.float32],  # dtype
        [True, False],  # fit_intercept
        [False, True],  # sample weights (with soft labels)
        [0.0, 0.3],  # l2
    )
)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype,fit_intercept,weights,l2", OPTIONS)
def test_sparse_equals_dense(rng, backend, dtype, fit_intercept, weights, l2):
    X, y, sw = sparse_problem(rng, dtype=dtype, weights=weights, soft=weights)
    kwargs = dict(sample_weight=sw, fit_intercept=fit_intercept, l2=l2, backend=backend)
    dense = LogisticLoss(X, y, **kwargs)
    sparse = LogisticLoss(sp.csr_matrix(X), y, **kwargs)
    assert sp.issparse(sparse.X) and sparse.X.dtype == dtype
    coef = rng.standard_normal(dense.n_coef)
    v = rng.standard_normal(dense.n_coef)
    # Both paths multiply in float64 (numba) or in X's precision (numpy); only the summation order differs.
    rtol = 1e-12 if dtype == np.float64 or backend == "numba" else 2e-6
    assert_same_objective(sparse, dense, coef, v, rtol)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_sparse_kernels_equal_reference(rng, reduction):
    """The CSR kernels against the sparse reference path, across chunk boundaries (n > 2048)."""
    X, y, sw = sparse_problem(rng, n=6000, d=30, density=0.1, weights=True, soft=True)
    Xs = sp.csr_matrix(X)
    fast = LogisticLoss(Xs, y, sample_weight=sw, l2=0.01, reduction=reduction)
    ref = LogisticLoss(Xs, y, sample_weight=sw, l2=0.01, reduction=reduction, backend="numpy")
    coef = rng.standard_normal(31) / 3
    assert_same_objective(fast, ref, coef, rng.standard_normal(31), 1e-11)


@pytest.mark.parametrize(
    "convert",
    [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array, sp.lil_matrix],
    ids=lambda f: f.__name__,
)
def test_formats_converted_once(rng, convert):
    X, y, _ = sparse_problem(rng)
    obj = LogisticLoss(convert(X), y)
    assert obj.X.format == "csr" and obj.X.has_canonical_format
    dense = LogisticLoss(X, y)
    coef = rng.standard_normal(obj.n_coef)
    assert_same_objective(obj, dense, coef, rng.standard_normal(obj.n_coef), 1e-12)


def test_canonical_csr_not_copied(rng):
    X, y, _ = sparse_problem(rng)
    for dtype, kind in itertools.product((np.float64, np.float32), (sp.csr_matrix, sp.csr_array)):
        Xs = kind(X.astype(dtype))
        obj = LogisticLoss(Xs, y)
        assert np.shares_memory(obj.X.data, Xs.data) and np.shares_memory(obj.X.indices, Xs.indices)


def test_duplicates_and_unsorted_indices_summed_without_touching_input(rng):
    """Non-canonical CSR (duplicate entries, unsorted columns) means the sum of duplicates."""
    data = np.array([1.0, 2.0, -1.0, 0.5, 3.0, 1.5])
    indices = np.array([2, 0, 2, 1, 0, 1])  # row 0: cols 2, 0, 2 (dup), row 1: cols 1, 0, 1 (dup)
    indptr = np.array([0, 3, 6])
    Xs = sp.csr_matrix((data, indices, indptr), shape=(2, 3))
    saved = (Xs.data.copy(), Xs.indices.copy())
    dense = np.array([[2.0, 0.0, 0.0], [3.0, 2.0, 0.0]])
    y = np.array([1.0, 0.0])
    coef = np.array([0.3, -0.2, 0.5, 0.1])
    for backend in BACKENDS:
        obj = LogisticLoss(Xs, y, backend=backend)
        assert_same_objective(obj, LogisticLoss(dense, y), coef, coef[::-1].copy(), 1e-12)
    np.testing.assert_array_equal(Xs.data, saved[0])
    np.testing.assert_array_equal(Xs.indices, saved[1])


def test_integer_and_boolean_sparse_become_float64(rng):
    X = (rng.random((100, 6)) < 0.3).astype(np.int64)
    y = (rng.random(100) < 0.5).astype(float)
    for Xs in (sp.csr_matrix(X), sp.csr_matrix(X.astype(bool))):
        obj = LogisticLoss(Xs, y)
        assert obj.X.dtype == np.float64
        coef = rng.standard_normal(7)
        assert_same_objective(obj, LogisticLoss(X, y), coef, coef, 1e-12)


def test_bitwise_identical_for_any_thread_count(rng):
    import numba

    X, y, sw = sparse_problem(rng, n=9000, d=20, density=0.1, weights=True)
    Xs = sp.csr_matrix(X)
    coef = rng.standard_normal(21)
    results = []
    for n_threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
        obj = LogisticLoss(Xs, y, sample_weight=sw, n_threads=n_threads)
        results.append((obj.loss_gradient(coef), obj.hessp(coef, coef), obj.hessian(coef)))
    (l0, g0), h0, H0 = results[0]
    for (l1, g1), h1, H1 in results[1:]:
        assert l0 == l1
        np.testing.assert_array_equal(g0, g1)
        np.testing.assert_array_equal(h0, h1)
        np.testing.assert_array_equal(H0, H1)


def test_partials_memory_bounded_for_wide_data():
    """Many columns: fewer chunks so the per-chunk partial sums stay within PARTIALS_BYTES."""
    nnz = 50_000_000
    n_chunks, chunk = sparse_partition(1_000_000, 2_000_002, nnz)
    assert 1 <= n_chunks and n_chunks * 2_000_002 * 8 <= max(PARTIALS_BYTES, 2_000_002 * 8)
    assert n_chunks * 2_000_002 <= max(nnz // 4, 2_000_002)  # zeroing/adding partials ≤ 1/4 of the pass
    assert n_chunks * chunk >= 1_000_000
    assert sparse_partition(1_000_000, 12, nnz) == fusedlogit.kernels.chunks.partition(1_000_000)


def test_wide_sparse_matches_reference(rng):
    n, d = 3000, 200_000
    nnz_per_row = 40
    indptr = np.arange(0, n * nnz_per_row + 1, nnz_per_row)
    indices = rng.integers(0, d, n * nnz_per_row)  # duplicates and unsorted columns included
    Xs = sp.csr_matrix((rng.standard_normal(n * nnz_per_row), indices, indptr), shape=(n, d))
    y = (rng.random(n) < 0.5).astype(float)
    coef = rng.standard_normal(d + 1)
    v = rng.standard_normal(d + 1)
    fast = LogisticLoss(Xs, y, l2=0.1)
    ref = LogisticLoss(Xs, y, l2=0.1, backend="numpy")
    (lf, gf), (lr, gr) = fast.loss_gradient(coef), ref.loss_gradient(coef)
    assert lf == pytest.approx(lr, rel=1e-12)
    np.testing.assert_allclose(gf, gr, rtol=1e-12, atol=1e-12 * np.abs(gr).max())
    np.testing.assert_allclose(fast.hessp(coef, v), ref.hessp(coef, v), rtol=1e-11, atol=1e-12)


def test_extreme_margins_finite(rng):
    X, y, _ = sparse_problem(rng, n=50, d=4, density=0.8)
    coef = np.r_[np.full(4, 1e4), 0.0]
    for backend in BACKENDS:
        sparse = LogisticLoss(sp.csr_matrix(X), y, backend=backend)
        dense = LogisticLoss(X, y, backend=backend)
        loss, grad = sparse.loss_gradient(coef)
        assert np.isfinite(loss) and np.all(np.isfinite(grad))
        assert_same_objective(sparse, dense, coef, np.ones(5), 1e-12)


def test_predict_proba_sparse(rng):
    X, _, _ = sparse_problem(rng, n=60, d=5)
    coef = rng.standard_normal(5)
    np.testing.assert_allclose(predict_proba(sp.csc_matrix(X), coef, 0.3), predict_proba(X, coef, 0.3), rtol=1e-14)


# -- validation: the dense errors --------------------------------------------------


def _nan_in_data(X, y, sw):
    X = X.copy()
    X[np.nonzero(X)[0][3], np.nonzero(X)[1][3]] = np.nan
    return X, y, sw


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "change",
    [
        _nan_in_data,
        lambda X, y, sw: (np.where(X != 0, np.inf, X), y, sw),
        lambda X, y, sw: (X, np.r_[y[:-1], 2.0], sw),
        lambda X, y, sw: (X, np.r_[y[:-1], np.nan], sw),
        lambda X, y, sw: (X, y[:-1], sw),
        lambda X, y, sw: (X, y, np.r_[sw[:-1], -1.0]),
        lambda X, y, sw: (X, y, sw[:-2]),
        lambda X, y, sw: (X[:0], y[:0], None),
        lambda X, y, sw: (X.astype(complex), y, sw),
    ],
)
def test_sparse_errors_match_dense(rng, backend, change):
    X, y, sw = change(*sparse_problem(rng, n=50, d=4, weights=True))
    with pytest.raises(ValueError) as dense_error:
        LogisticLoss(X, y, sample_weight=sw, backend=backend)
    with pytest.raises(ValueError) as sparse_error:
        LogisticLoss(sp.csr_matrix(X), y, sample_weight=sw, backend=backend)
    assert str(sparse_error.value) == str(dense_error.value)


# -- minimisation ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minimise_sparse_equals_dense(rng, dtype):
    """trust-ncg with hessp, and Newton's method with the full Hessian, on sparse and dense X."""
    X, _, sw = sparse_problem(rng, n=800, d=10, density=0.3, dtype=dtype, weights=True)
    w_true = rng.standard_normal(10)
    y = (rng.random(800) < 1 / (1 + np.exp(-(X @ w_true)))).astype(float)
    solutions = []
    for Xi in (X, sp.csr_matrix(X)):
        obj = LogisticLoss(Xi, y, sample_weight=sw, l2=1e-3)
        res = minimize(
            obj.loss_gradient, np.zeros(11), jac=True, hessp=obj.hessp, method="trust-ncg", options={"gtol": 1e-8}
        )
        assert res.success and np.abs(obj.gradient(res.x)).max() < 1e-8
        coef = np.zeros(11)
        for _ in range(30):  # Newton: coef ← coef − H⁻¹ ∇J
            step = np.linalg.solve(obj.hessian(coef), obj.gradient(coef))
            coef -= step
            if np.abs(step).max() < 1e-12:
                break
        assert np.abs(obj.gradient(coef)).max() < 1e-10
        np.testing.assert_allclose(res.x, coef, atol=1e-6)
        solutions.append(coef)
    np.testing.assert_allclose(solutions[1], solutions[0], atol=1e-10)


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "newton-cg"])
def test_fit_sparse_equals_dense(rng, solver):
    X, _, sw = sparse_problem(rng, n=600, d=8, density=0.4, weights=True)
    y = (rng.random(600) < 1 / (1 + np.exp(-X @ rng.standard_normal(8)))).astype(float)
    dense = fusedlogit.fit(X, y, sample_weight=sw, solver=solver)
    sparse = fusedlogit.fit(sp.csc_matrix(X), y, sample_weight=sw, solver=solver)
    assert sparse.converged
    np.testing.assert_allclose(sparse.coef, dense.coef, atol=1e-8)
    assert sparse.intercept == pytest.approx(dense.intercept, abs=1e-8)
    np.testing.assert_allclose(sparse.stderr, dense.stderr, rtol=1e-6)


def test_estimator_accepts_sparse(rng):
    pytest.importorskip("sklearn")
    from fusedlogit.sklearn import LogisticRegression

    X, _, _ = sparse_problem(rng, n=500, d=6, density=0.5)
    y = (rng.random(500) < 1 / (1 + np.exp(-X @ rng.standard_normal(6)))).astype(int)
    dense = LogisticRegression(C=0.5).fit(X, y)
    for Xs in (sp.csr_matrix(X), sp.csc_matrix(X), sp.coo_matrix(X)):
        est = LogisticRegression(C=0.5).fit(Xs, y)
        np.testing.assert_allclose(est.coef_, dense.coef_, atol=1e-9)
        np.testing.assert_allclose(est.predict_proba(Xs), dense.predict_proba(X), atol=1e-9)


def test_rows_longer_than_a_block(rng):
    """Rows with more nonzeros than BLOCK_NNZ, between short ones: blocks of one long row."""
    from fusedlogit.kernels.csr import BLOCK_NNZ

    d = BLOCK_NNZ + 500
    X = sp.random(40, d, density=0.01, format="lil", random_state=3)
    X[5, :] = rng.standard_normal(d)
    X[6, :] = rng.standard_normal(d)
    X[39, : BLOCK_NNZ + 1] = rng.standard_normal(BLOCK_NNZ + 1)
    Xs = X.tocsr()
    y = (rng.random(40) < 0.5).astype(float)
    sw = rng.uniform(0, 2, 40)
    fast = LogisticLoss(Xs, y, sample_weight=sw)
    ref = LogisticLoss(Xs, y, sample_weight=sw, backend="numpy")
    coef = rng.standard_normal(d + 1) / 100
    (lf, gf), (lr, gr) = fast.loss_gradient(coef), ref.loss_gradient(coef)
    assert lf == pytest.approx(lr, rel=1e-12)
    np.testing.assert_allclose(gf, gr, rtol=1e-12, atol=1e-12 * np.abs(gr).max())
    hr = ref.hessp(coef, coef)
    np.testing.assert_allclose(fast.hessp(coef, coef), hr, rtol=1e-12, atol=1e-12 * np.abs(hr).max())
