"""Fit time to one tolerance: fusedlogit's solvers against scikit-learn, glum, statsmodels.

``extra_info`` holds each solution's iterations and max|∇J| re-evaluated by
``LogisticLoss``, so that a fast peer that stopped early is visible.
"""

import warnings

import numpy as np
import pytest
from conftest import fit_problem, full_grid, max_threads

from fusedlogit import LogisticLoss, bench

TOL = 1e-8
MAX_ITER = 1000


def fit_cases(config):
    shapes = bench.DEFAULT_FIT_SHAPES if full_grid(config) else bench.QUICK_FIT_SHAPES
    fit, _ = bench._load_fit()
    methods = [(m, s) for m, s, _ in bench.fit_methods()]
    if fit is None:
        methods.insert(0, ("fusedlogit", "unavailable"))
    cases = []
    for n, d in shapes:
        for kind in ("well", "ill"):
            for method, solver in methods:
                if method == "statsmodels" and n * d > bench.STATSMODELS_MAX_ELEMENTS:
                    continue
                cases.append(pytest.param(n, d, kind, method, solver, id=f"{kind}-n{n}-d{d}-{method}-{solver}"))
    return cases


def pytest_generate_tests(metafunc):
    if metafunc.function.__name__ == "test_fit":
        metafunc.parametrize("n, d, kind, method, solver", fit_cases(metafunc.config))


def test_fit(benchmark, n, d, kind, method, solver):
    runs = {(m, s): run for m, s, run in bench.fit_methods()}
    if (method, solver) not in runs:
        pytest.skip(f"{method} {solver}: {bench._load_fit()[1]}")
    run = runs[method, solver]
    X, y, X_warm, y_warm = fit_problem(n, d, kind)
    k = max_threads()
    benchmark.group = f"fit {kind} n={n} d={d}"
    with bench.pinned_threads(k), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(X_warm, y_warm, TOL, MAX_ITER, k)  # compile / import outside the timing
        coef, n_iter, converged = benchmark.pedantic(run, args=(X, y, TOL, MAX_ITER, k), rounds=2, iterations=1)
    loss, grad = LogisticLoss(X, y).loss_gradient(coef)
    benchmark.extra_info.update(n_iter=n_iter, converged=converged, loss=loss, grad_max=float(np.max(np.abs(grad))))
    assert np.isfinite(loss)
