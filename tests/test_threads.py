"""Threads, processes and the on-disk cache."""

import multiprocessing
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from conftest import random_problem
from fusedlogit import LogisticLoss


def _all_outputs(obj, coef, v):
    loss, grad = obj.loss_gradient(coef)
    return loss, grad, obj.hessp(coef, v), obj.hessian(coef)


def _assert_bitwise_equal(a, b):
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.fixture
def problem(rng):
    X, y, sw = random_problem(rng, n=50_000, d=12, weights=True)
    coef = rng.standard_normal(13) / 3
    v = rng.standard_normal(13)
    return X, y, sw, coef, v


def test_results_do_not_depend_on_thread_count(problem):
    import numba

    X, y, sw, coef, v = problem
    outputs = [
        _all_outputs(LogisticLoss(X, y, sample_weight=sw, n_threads=k), coef, v)
        for k in range(1, numba.config.NUMBA_NUM_THREADS + 1)
    ]
    for out in outputs[1:]:
        _assert_bitwise_equal(outputs[0][:3], out[:3])  # the fused kernels: bitwise
        np.testing.assert_allclose(outputs[0][3], out[3], rtol=1e-13)  # hessian goes through BLAS


def test_many_python_threads_at_once(problem):
    X, y, sw, coef, v = problem
    objs = [LogisticLoss(X, y, sample_weight=sw, n_threads=k) for k in (1, 2, None)]
    expected = _all_outputs(objs[0], coef, v)

    def work(i):
        return _all_outputs(objs[i % len(objs)], coef, v)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(48)))
    for out in results:
        _assert_bitwise_equal(expected[:3], out[:3])


def _child(conn, X, y, coef):
    conn.send(LogisticLoss(X, y).loss_gradient(coef))
    conn.close()


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_forked_child_can_call_kernels(problem):
    X, y, _, coef, _ = problem
    parent = LogisticLoss(X, y).loss_gradient(coef)  # the kernels have run in this process
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, X, y, coef))
    proc.start()
    assert recv.poll(120), "forked child did not answer"
    child = recv.recv()
    proc.join(30)
    assert proc.exitcode == 0
    assert child[0] == parent[0]
    np.testing.assert_array_equal(child[1], parent[1])


def test_threading_layer_is_thread_and_fork_safe(problem):
    import numba

    X, y, _, coef, _ = problem
    LogisticLoss(X, y).loss(coef)
    layer = numba.threading_layer()
    from fusedlogit._config import needs_launch_lock

    # tbb is safe by itself; the workqueue fallback is made safe by a lock
    assert layer == "tbb" or needs_launch_lock()


def _run_python(code, env):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_import_is_lazy_and_cache_serves_a_second_process(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    code = """
        import sys, numpy as np
        import fusedlogit
        lazy = "numba" not in sys.modules
        from fusedlogit import LogisticLoss
        from fusedlogit.kernels import dense
        rng = np.random.default_rng(0)
        X = rng.standard_normal((1000, 4)); y = (rng.random(1000) < 0.5) * 1.0
        loss = LogisticLoss(X, y).loss(np.full(5, 0.1))
        stats = dense.loss_gradient_sums.stats
        print(lazy, stats.cache_hits.total(), stats.cache_misses.total(), repr(loss))
    """
    first = _run_python(code, env).split()
    second = _run_python(code, env).split()
    assert first[0] == "True"  # importing fusedlogit does not import numba
    assert first[1] == "0" and int(first[2]) >= 1  # cold: compiled
    assert int(second[1]) >= 1 and second[2] == "0"  # warm: loaded from the cache
    assert first[3] == second[3]


def test_fit_runs_blas_on_one_thread_and_restores_the_callers_limits(problem):
    """Inside a fit BLAS pools have one thread (they would fight Numba's); the caller's limits come back after."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from fusedlogit import fit, fit_many

    if not any(p["user_api"] == "blas" for p in threadpool_info()):
        pytest.skip("no BLAS library that threadpoolctl can see")
    X, y = problem[0], problem[1]

    def blas_threads():
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    seen = []
    with threadpool_limits(limits=2, user_api="blas"):
        fit(X, y, l2=1e-3, callback=lambda coef: seen.append(blas_threads()))
        assert seen and all(s == {1} for s in seen)
        assert blas_threads() == {2}
        fit_many(X, y, np.arange(len(y)) % 3, l2=1e-3)
        assert blas_threads() == {2}


def test_fits_overlapping_in_threads_restore_the_callers_blas_limits(problem):
    """Fit A (this thread) enters, fit B (another thread) enters, A leaves, B leaves: each restoring what it found
    on entry would leave A's one thread in force for the rest of the process."""
    import threading

    from threadpoolctl import threadpool_info

    from fusedlogit import fit

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    if not before or max(before) < 2:
        pytest.skip("no multi-threaded BLAS library that threadpoolctl can see")
    X, y = problem[0], problem[1]
    b_inside, a_done = threading.Event(), threading.Event()

    def fit_b():
        fit(X, y, l2=1e-3, callback=lambda coef: b_inside.set() or a_done.wait(60))

    b = threading.Thread(target=fit_b)

    def start_b_once(coef):
        if not b.is_alive() and not b_inside.is_set():
            b.start()
            assert b_inside.wait(60)

    fit(X, y, l2=1e-3, callback=start_b_once)
    a_done.set()
    b.join(120)
    assert b_inside.is_set() and not b.is_alive()
    assert blas_threads() == before
