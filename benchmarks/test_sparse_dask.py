"""Sparse and dask rows: loss+gradient on CSR X and on a row-chunked dask array.

    pytest benchmarks/test_sparse_dask.py --benchmark-only

sparse group (same n, d, nnz): the CSR kernels, the sparse reference path
(scipy.sparse products) and the fused dense kernels on the same data stored
densely.  ``extra_info["nnz_gb_s"]`` = bytes of (data, indices) / median / 1e9.

dask group (same X): the in-memory fused kernels, and the same kernels run
per chunk through dask (one task per chunk plus a pairwise sum of the partial
results): the threaded scheduler, and a ``LocalCluster`` of two one-thread
worker processes holding the persisted chunks.  The difference to in-memory is
dask's overhead (on one machine there is nothing to gain).
"""

import numpy as np
import pytest
import scipy.sparse as sp

from fusedlogit import LogisticLoss

SPARSE_CASES = [(100_000, 1_000, 0.01), (200_000, 100_000, 2e-4)]


def sparse_problem(n, d, density, seed=0):
    rng = np.random.default_rng(seed)
    nnz_row = max(1, round(density * d))
    indices = np.sort(rng.integers(0, d, (n, nnz_row)), axis=1).ravel()
    X = sp.csr_matrix((rng.standard_normal(n * nnz_row), indices, np.arange(0, n * nnz_row + 1, nnz_row)), (n, d))
    X.sum_duplicates()
    y = (rng.random(n) < 0.5).astype(np.float64)
    return X, y


@pytest.mark.parametrize("n,d,density", SPARSE_CASES)
@pytest.mark.parametrize("method", ["csr-numba", "csr-numpy", "dense-numba"])
def test_sparse(benchmark, n, d, density, method):
    X, y = sparse_problem(n, d, density)
    if method == "dense-numba":
        if n * d * 8 > 2e9:
            pytest.skip("dense copy over 2 GB")
        X = X.toarray()
    obj = LogisticLoss(X, y, backend="numpy" if method == "csr-numpy" else "numba")
    coef = np.full(obj.n_coef, 0.01)
    obj.loss_gradient(coef)  # compile outside the timing
    benchmark.group = f"sparse n={n} d={d} density={density}"
    benchmark(obj.loss_gradient, coef)
    if benchmark.stats is not None:
        nnz_bytes = n * d * density * (8 + 4)
        benchmark.extra_info["nnz_gb_s"] = nnz_bytes / benchmark.stats.stats.median / 1e9


@pytest.fixture(scope="module")
def local_cluster():
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.mark.parametrize(
    "scheduler,chunk_rows",
    [("in-memory", None), ("threads", 250_000), ("threads", 62_500), ("distributed", 250_000)],
)
def test_dask(benchmark, request, scheduler, chunk_rows):
    da = pytest.importorskip("dask.array")
    import dask

    n, d = 1_000_000, 32
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 0.5).astype(np.float64)
    get = request.getfixturevalue("local_cluster").get if scheduler == "distributed" else "threads"
    with dask.config.set(scheduler=get):
        if chunk_rows is None:
            obj = LogisticLoss(X, y)
        else:
            obj = LogisticLoss(da.from_array(X, chunks=(chunk_rows, d)), da.from_array(y, chunks=chunk_rows))
        coef = np.full(d + 1, 0.01)
        obj.loss_gradient(coef)
        benchmark.group = f"dask n={n} d={d}"
        benchmark(obj.loss_gradient, coef)
    if benchmark.stats is not None:
        benchmark.extra_info["gb_s"] = X.nbytes / benchmark.stats.stats.median / 1e9
