"""Kernel throughput: fused vs NumPy reference vs scikit-learn vs a plain read of X.

Every benchmark of one group shares (n, d, dtype, threads); ``extra_info``
holds ``gb_s`` = X.nbytes / median / 1e9, the figure the CLI reports.
"""

import numpy as np
import pytest
from conftest import full_grid, kernel_problem, max_threads

from fusedlogit import bench

SMALL_GRID = {"n": (10_000, 100_000), "d": (2, 32), "dtypes": ("float64",)}


def kernel_cases(config):
    if full_grid(config):
        ns, ds, dtypes = None, bench.DEFAULT_D, ("float64", "float32")
        threads = bench.thread_grid(max_threads())
    else:
        ns, ds, dtypes = SMALL_GRID["n"], SMALL_GRID["d"], SMALL_GRID["dtypes"]
        threads = [max_threads()]
    cases = []
    for dtype in dtypes:  # problem outermost, so the one-problem cache is reused
        for d in ds:
            for n in bench.n_grid(d, np.dtype(dtype).itemsize, bench.DEFAULT_MEMORY_BUDGET, ns):
                for k in threads:
                    for method, op in bench.KERNEL_METHODS:
                        cases.append(pytest.param(n, d, dtype, k, method, op, id=f"n{n}-d{d}-{dtype}-t{k}-{method}-{op}"))
    return cases


def pytest_generate_tests(metafunc):
    if metafunc.function.__name__ == "test_kernel":
        metafunc.parametrize("n, d, dtype, n_threads, method, op", kernel_cases(metafunc.config))


def test_kernel(benchmark, n, d, dtype, n_threads, method, op):
    problem = kernel_problem(n, d, dtype)
    call = bench.KERNEL_METHODS[method, op](problem, n_threads)
    if call is None:
        pytest.skip(f"{method} is not installed")
    benchmark.group = f"kernels n={n} d={d} {dtype} threads={n_threads}"
    benchmark.extra_info.update(x_bytes=problem.X.nbytes, method=method, op=op)
    with bench.pinned_threads(n_threads):
        call()  # compile outside the timing
        result = benchmark(call)
    assert result is not None
    if benchmark.stats is not None:
        benchmark.extra_info["gb_s"] = problem.X.nbytes / benchmark.stats.stats.median / 1e9
