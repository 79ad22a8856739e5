"""Dask arrays: chunk-wise sums through dask equal the in-memory objective and fits."""

import logging
import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import minimize

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

import fusedlogit  # noqa: E402
from conftest import assert_same_objective  # noqa: E402
from fusedlogit import LogisticLoss  # noqa: E402

N, D = 3000, 6


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N, D))
    y = (rng.random(N) < 1 / (1 + np.exp(-X @ rng.standard_normal(D)))).astype(np.float64)
    sw = rng.uniform(0.2, 2.0, N)
    return X, y, sw


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes on this machine."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(params=["threads", "distributed"])
def scheduler(request):
    """Run the test under the threaded scheduler, then under the LocalCluster client."""
    if request.param == "threads":
        with dask.config.set(scheduler="threads"):
            yield None
    else:
        c = request.getfixturevalue("client")
        with dask.config.set(scheduler=c.get):
            yield c


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("fit_intercept,weights,l2,reduction", [(True, True, 0.1, "mean"), (False, False, 0.0, "sum")])
def test_objective_equals_in_memory(problem, scheduler, backend, fit_intercept, weights, l2, reduction):
    X, y, sw = problem
    sw = sw if weights else None
    kwargs = dict(fit_intercept=fit_intercept, l2=l2, reduction=reduction, backend=backend)
    mem = LogisticLoss(X, y, sample_weight=sw, **kwargs)
    dsw = None if sw is None else da.from_array(sw, chunks=500)  # other chunks than X: rechunked
    obj = LogisticLoss(da.from_array(X, chunks=(700, D)), da.from_array(y, chunks=1000), sample_weight=dsw, **kwargs)
    assert isinstance(obj.X, da.Array) and obj.n_samples == N and obj.n_features == D
    assert obj.sum_weights == pytest.approx(mem.sum_weights, rel=1e-14)
    rng = np.random.default_rng(0)
    coef = rng.standard_normal(obj.n_coef) / 2
    assert_same_objective(obj, mem, coef, rng.standard_normal(obj.n_coef), rtol=1e-12)


def test_chunks_stay_on_the_workers(problem, client):
    """X is persisted on the workers (both hold chunks) and only O(d) sums come back."""
    X, y, _ = problem
    with dask.config.set(scheduler=client.get):
        obj = LogisticLoss(da.from_array(X, chunks=(500, D)), y)
        holders = client.who_has(obj.X)
        assert len(holders) == obj.X.numblocks[0]
        assert all(holders.values())
        assert len({w for ws in holders.values() for w in ws}) == 2
        loss, grad = obj.loss_gradient(np.zeros(D + 1))
    assert loss == pytest.approx(np.log(2.0), rel=1e-14)  # J(0) = log 2
    assert grad.shape == (D + 1,)


def test_repeated_calls_bitwise_equal(problem, scheduler):
    X, y, sw = problem
    obj = LogisticLoss(da.from_array(X, chunks=(400, D)), y, sample_weight=sw)
    coef = np.linspace(-0.5, 0.5, D + 1)
    (l0, g0), (l1, g1) = obj.loss_gradient(coef), obj.loss_gradient(coef)
    assert l0 == l1
    np.testing.assert_array_equal(g0, g1)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_dtypes_and_column_chunks(problem, dtype):
    """float32 is kept, integers become float64, column chunks are merged into one."""
    X, y, _ = problem
    Xt = (X * 3).astype(dtype)
    obj = LogisticLoss(da.from_array(Xt, chunks=(1000, 2)), y)
    assert obj.X.dtype == (np.float32 if dtype == np.float32 else np.float64)
    assert obj.X.numblocks[1] == 1
    coef = np.linspace(-0.1, 0.1, D + 1)
    assert_same_objective(obj, LogisticLoss(Xt, y), coef, coef, rtol=1e-12)


def test_unknown_chunk_sizes(problem):
    X, y, _ = problem
    keep = np.ones(N, bool)
    keep[::3] = False
    dX = da.from_array(X, chunks=(600, D))[da.from_array(keep, chunks=600)]
    assert np.isnan(dX.shape[0])
    obj = LogisticLoss(dX, y[keep])
    coef = np.linspace(-0.2, 0.2, D + 1)
    assert_same_objective(obj, LogisticLoss(X[keep], y[keep]), coef, coef, rtol=1e-12)


@pytest.mark.parametrize("method", ["trust-ncg", "L-BFGS-B"])
def test_minimise_equals_in_memory(problem, scheduler, method):
    X, y, sw = problem
    solutions = []
    for Xi, yi, si in ((X, y, sw), (da.from_array(X, chunks=(800, D)), da.from_array(y, chunks=800), sw)):
        obj = LogisticLoss(Xi, yi, sample_weight=si, l2=1e-3)
        extra = {"hessp": obj.hessp, "options": {"gtol": 1e-9}} if method == "trust-ncg" else {
            "options": {"gtol": 1e-9, "ftol": 0}
        }
        res = minimize(obj.loss_gradient, np.zeros(D + 1), jac=True, method=method, **extra)
        assert np.abs(obj.gradient(res.x)).max() < 1e-8
        solutions.append(res.x)
    np.testing.assert_allclose(solutions[1], solutions[0], atol=1e-7)


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "newton-cg"])
def test_fit_equals_in_memory(problem, scheduler, solver):
    X, y, sw = problem
    mem = fusedlogit.fit(X, y, sample_weight=sw, solver=solver)
    dist = fusedlogit.fit(da.from_array(X, chunks=(1000, D)), da.from_array(y, chunks=1000), sample_weight=sw,
                          solver=solver)
    assert dist.converged
    np.testing.assert_allclose(dist.coef, mem.coef, atol=1e-7)
    assert dist.intercept == pytest.approx(mem.intercept, abs=1e-7)
    np.testing.assert_allclose(dist.stderr, mem.stderr, rtol=1e-7)


# -- validation: the dense errors --------------------------------------------------


def _set(a, index, value):
    a = np.array(a, dtype=np.float64)
    a[index] = value
    return a


CHANGES = [
    lambda X, y, sw: (_set(X, (2500, 3), np.nan), y, sw),  # in the last chunk
    lambda X, y, sw: (_set(X, (10, 0), np.inf), y, sw),
    lambda X, y, sw: (X, _set(y, 1234, 1.5), sw),
    lambda X, y, sw: (X, _set(y, 0, np.nan), sw),
    lambda X, y, sw: (X, y, _set(sw, 2999, -1.0)),
    lambda X, y, sw: (X, y, np.zeros_like(sw)),
    lambda X, y, sw: (X, y[:-1], sw),
    lambda X, y, sw: (X, y, sw[:10]),
    lambda X, y, sw: (X, y[:, None], sw),
    lambda X, y, sw: (X[:, 0], y, sw),
    lambda X, y, sw: (X[:0], y[:0], None),
    lambda X, y, sw: (X.astype(complex), y, sw),
]


@pytest.mark.parametrize("change", CHANGES)
def test_errors_match_dense(problem, scheduler, change):
    X, y, sw = change(*problem)
    with pytest.raises(ValueError) as dense_error:
        LogisticLoss(X, y, sample_weight=sw)
    chunks = 1000 if X.ndim == 1 else (1000, X.shape[1])
    dy = da.from_array(y, chunks=1000 if y.ndim == 1 else (1000, 1))
    with pytest.raises(ValueError) as dask_error:
        LogisticLoss(da.from_array(X, chunks=chunks), dy, sample_weight=sw)
    assert str(dask_error.value) == str(dense_error.value)


def test_import_does_not_import_dask():
    code = "import sys, fusedlogit; assert not any(m == 'dask' or m.startswith('dask.') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sparse_chunks_refused(problem):
    sp = pytest.importorskip("scipy.sparse")
    X, y, _ = problem
    dX = da.from_array(X, chunks=(1000, D)).map_blocks(sp.csr_matrix)
    with pytest.raises(ValueError, match="scipy.sparse chunks are not supported"):
        LogisticLoss(dX, y)
