"""Shared grid and data for the pytest-benchmark suite.

    pytest benchmarks/ --benchmark-only                 # small grid, about a minute
    pytest benchmarks/ --benchmark-only --bench-full    # the CLI's full grid (or FUSEDLOGIT_BENCH_FULL=1)

Benchmarks are grouped by configuration, (n, d, dtype, threads) for kernels and
(problem, n, d) for fits, so each group's table compares the fused kernels, the
NumPy reference, scikit-learn and the plain read of X side by side.
"""

import functools
import os


from fusedlogit import bench


def pytest_addoption(parser):
    parser.addoption(
        "--bench-full",
        action="store_true",
        default=os.environ.get("FUSEDLOGIT_BENCH_FULL", "") not in ("", "0"),
        help="benchmark the full grid of `python -m fusedlogit.bench` (slow, up to 2 GB of X)",
    )


def full_grid(config):
    return config.getoption("--bench-full")


@functools.lru_cache(maxsize=1)  # one problem at a time: in the full grid X is up to 2 GB
def kernel_problem(n, d, dtype):
    return bench.kernel_problem(n, d, dtype)


@functools.lru_cache(maxsize=1)
def fit_problem(n, d, kind):
    from fusedlogit.datasets import make_problem

    X, y, _, _ = make_problem(n, d, kind=kind, seed=1)
    X_warm, y_warm, _, _ = make_problem(200, d, kind=kind, seed=2)
    return X, y, X_warm, y_warm


def max_threads():
    import numba

    return numba.config.NUMBA_NUM_THREADS
