"""Regression tests for hostile inputs: nothing crashes, hangs, mutates the caller's data or reports a lie.

Where the failure was a crash or a hang, the test runs the reproducer in a
subprocess with a timeout.
"""

import os
import re
import subprocess
import sys
import textwrap
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit
from fusedlogit import ConvergenceWarning, LogisticLoss, SeparationWarning, check_gradient, fit, fit_many, predict_proba
from fusedlogit import jit as fj


def _run(code, timeout=180, **env):
    """Run ``code`` in a fresh interpreter; returns (returncode, stdout + stderr)."""
    environment = dict(os.environ, **env)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, env=environment
    )
    return done.returncode, done.stdout + done.stderr


def _problem(n=400, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    return X, y


# -- 1. no dense covariance where it is undefined or too large ---------------------


def test_wide_sparse_fit_never_builds_a_dense_covariance():
    rng = np.random.default_rng(0)
    n, d, k = 20_000, 100_000, 5
    X = sp.csr_matrix((np.ones(n * k), rng.integers(0, d, n * k), np.arange(0, n * k + 1, k)), shape=(n, d))
    y = (rng.random(n) < 0.3).astype(float)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = fit(X, y, l2=1e-4, max_iter=50)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200e6  # the dense (d + 1)² covariance alone would be 80 GB
    assert result.stderr.shape == (d + 1,) and np.isnan(result.stderr).all()
    assert result._cov is None  # built only if someone asks for result.cov


def test_covariance_is_skipped_with_a_warning_above_the_limit(monkeypatch):
    from fusedlogit.solvers import fitting

    X, y = _problem()
    monkeypatch.setattr(fitting, "INFERENCE_MAX_COEF", 3)
    with pytest.warns(UserWarning, match="INFERENCE_MAX_COEF"):
        result = fit(X, y)
    assert result.converged and np.isnan(result.stderr).all() and np.isnan(result.cov).all()
    assert result.cov.shape == (4, 4)


# -- 2. fork while another thread is inside a kernel, on the fallback layer ----------


def test_fork_during_a_kernel_does_not_hang_the_child_on_the_fallback_layer():
    code = """
        import os, threading, time
        import numpy as np
        import numba
        from fusedlogit import LogisticLoss
        rng = np.random.default_rng(0)
        X = rng.standard_normal((100_000, 20)); y = (rng.random(100_000) < 0.5) * 1.0
        obj = LogisticLoss(X, y)
        obj.loss(np.zeros(21))
        assert numba.threading_layer() == "workqueue"
        stop = False
        def spin():
            while not stop:
                obj.loss_gradient(np.zeros(21))
        worker = threading.Thread(target=spin); worker.start()
        hung = 0
        for _ in range(5):
            time.sleep(0.01)
            pid = os.fork()
            if pid == 0:
                obj.loss(np.zeros(21))
                os._exit(0)
            deadline = time.time() + 20
            while time.time() < deadline and os.waitpid(pid, os.WNOHANG)[0] == 0:
                time.sleep(0.02)
            if time.time() >= deadline:
                hung += 1
                os.kill(pid, 9); os.waitpid(pid, 0)
        stop = True; worker.join()
        print("hung", hung)
    """
    rc, out = _run(code, NUMBA_THREADING_LAYER="workqueue")  # the layer used when TBB cannot be loaded
    assert rc == 0, out
    assert "hung 0" in out, out


# -- 3. counting_order checks its arguments ------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "fj.counting_order(np.array([0, 1, 2, 5]), 0, 3, np.empty(4, np.int64))",  # label >= low + n_keys
        "fj.counting_order(np.array([0, 1, 2]), 0, 3, np.empty(2, np.int64))",  # order too short
        "fj.counting_order(np.array([3, 4, 5]), np.int64(4), 3, np.empty(3, np.int64))",  # label below low
        "fj.counting_order(np.array([3, 4, 5], np.uint8), np.uint64(4), 3, np.empty(3, np.int64))",
    ],
)
def test_counting_order_raises_instead_of_crashing(call):
    rc, out = _run(
        f"""
        import numpy as np
        from fusedlogit import jit as fj
        try:
            {call}
        except ValueError as exc:
            print("ValueError:", exc)
        """
    )
    assert rc == 0, out  # a segfault gives rc -11
    assert "ValueError:" in out


def test_counting_order_still_sorts():
    order = np.empty(5, np.int64)
    counts = fj.counting_order(np.array([7, 5, 6, 5, 7]), np.int64(5), 3, order)
    assert counts.tolist() == [2, 1, 2] and order.tolist() == [1, 3, 2, 0, 4]


# -- 4. the caller's sparse matrix is never modified ----------------------------------


def _noncanonical(kind, dtype):
    if kind == "unsorted":  # [[7, 0, 5], [0, 3, 0]] with the first row's indices reversed
        data, indices, indptr = [5, 7, 3], [2, 0, 1], [0, 2, 3]
    else:  # a duplicate entry in the first row
        data, indices, indptr = [1, 1, 3], [0, 0, 1], [0, 2, 3]
    return np.array(data * 4, dtype=dtype), np.array(indices * 4), np.r_[0, np.cumsum(np.diff(indptr).tolist() * 4)]


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16, bool, np.float32, np.float64])
@pytest.mark.parametrize("kind", ["unsorted", "duplicates"])
def test_sparse_input_is_never_modified(dtype, kind):
    data, indices, indptr = _noncanonical(kind, dtype)
    y = np.array([0.0, 1.0] * 4)
    for make in (sp.csr_matrix, sp.csr_array):
        base = make((data, indices, indptr), shape=(8, 3))
        for fmt in ("csr", "csc", "coo", "bsr", "lil", "dok", "dia"):
            X = base if fmt == "csr" else base.asformat(fmt)
            arrays = {k: v.copy() for k, v in vars(X).items() if isinstance(v, np.ndarray)}
            dense = X.toarray()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for call in (lambda: LogisticLoss(X, y), lambda: fit(X, y, l2=1.0), lambda: predict_proba(X, np.ones(3))):
                    call()
                    for name, before in arrays.items():
                        np.testing.assert_array_equal(getattr(X, name), before, err_msg=f"{fmt} {name}")
                    np.testing.assert_array_equal(X.toarray(), dense)


@pytest.mark.parametrize("bad", [-1, 3, 2**31 - 1])
def test_sparse_column_indices_out_of_range_are_refused(bad):
    """The kernels index with the column indices unchecked, so a hand-edited matrix must not reach them."""
    X = sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]] * 4))
    X.indices[-1] = bad  # still sorted within its row (one entry), so scipy sees a canonical matrix
    y = np.array([0.0, 1.0] * 4)
    calls = {
        "LogisticLoss": lambda: LogisticLoss(X, y),
        "fit": lambda: fit(X, y),
        "fit l1": lambda: fit(X, y, l1=0.01),
        "MultinomialLoss": lambda: fusedlogit.MultinomialLoss(X, np.arange(8) % 3),
        "predict_proba": lambda: predict_proba(X, np.ones(3)),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match="X has column indices outside 0..2"):
            call()


# -- 5. missing group labels -----------------------------------------------------------


@pytest.mark.parametrize(
    "groups",
    [
        np.array([1.0, "a", np.nan, 2.0] * 100, dtype=object),
        np.array([0.0, 1.0, np.nan, 2.0] * 100),
        np.array(["2020-01-01", "NaT", "2021-01-01", "2020-01-01"] * 100, dtype="datetime64[D]"),
        np.array(["a", None, "b", "a"] * 100, dtype=object),
    ],
    ids=["object NaN", "float NaN", "NaT", "None"],
)
def test_missing_group_labels_are_refused(groups):
    X, y = _problem()
    with pytest.raises(ValueError, match="groups contains NaN or another missing label"):
        fit_many(X, y, groups, l2=1.0)


def test_pandas_na_group_labels_are_refused():
    pd = pytest.importorskip("pandas")
    X, y = _problem()
    with pytest.raises(ValueError, match="groups contains NaN or another missing label"):
        fit_many(X, y, pd.array(["a", pd.NA] * 200, dtype="string"), l2=1.0)


def test_group_labels_of_mixed_types_name_groups():
    X, y = _problem()
    with pytest.raises(ValueError, match="groups must hold values of one comparable type"):
        fit_many(X, y, np.array(["a", 1] * 200, dtype=object), l2=1.0)


# -- 6. weights whose sum overflows or underflows --------------------------------------


@pytest.mark.parametrize("value, match", [(1e306, "sums to infinity"), (1e307, "sums to infinity"), (1e-320, "too small")])
def test_extreme_weight_sums_are_refused_everywhere(value, match):
    X, y = _problem(n=1000)
    w = np.full(1000, value)
    with pytest.raises(ValueError, match=match):
        fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match=match):
        LogisticLoss(X, y, sample_weight=w, reduction="sum")
    with pytest.raises(ValueError, match=match):
        fit_many(X, y, np.arange(1000) % 4, sample_weight=w)


def test_extreme_weight_sum_of_dask_chunks_is_refused():
    da = pytest.importorskip("dask.array")
    X, y = _problem(n=1000)
    w = np.full(1000, 1e306)  # each 100-row chunk sums to 1e308, finite; the total is not
    with pytest.raises(ValueError, match="sums to infinity"):
        LogisticLoss(da.from_array(X, chunks=(100, 3)), y, sample_weight=w)


def test_weights_beyond_float32_name_the_cast():
    X, y = _problem()
    with pytest.raises(ValueError, match="beyond the range of X's dtype float32"):
        fit(X.astype(np.float32), y, sample_weight=np.full(len(y), 1e39))


# -- 7. convergence on columns of very different scales ----------------------------------


def test_newton_cg_does_not_stop_early_on_a_column_of_tiny_scale():
    rng = np.random.default_rng(0)
    n = 5000
    Z = rng.standard_normal((n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-(Z @ np.array([1.0, -1.0, 0.5]) + 0.2)))).astype(float)
    scale = np.array([1e-8, 1e8, 1.0])
    X = Z * scale
    newton = fit(X, y, solver="newton")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cg = fit(X, y, solver="newton-cg")
    assert not any(issubclass(w.category, SeparationWarning) for w in caught)
    assert newton.converged and cg.converged
    np.testing.assert_allclose(cg.coef * scale, newton.coef * scale, atol=1e-6)  # unit-scale coefficients
    assert abs(newton.coef[0] * scale[0] - 1.08) < 0.01  # not the 0 it stopped at before
    objective = LogisticLoss(X, y)
    grad = objective.gradient(np.r_[cg.coef, cg.intercept])
    rms = np.sqrt((X**2).mean(axis=0))
    assert np.max(np.abs(grad[:3]) * np.maximum(1, 1 / rms)) <= 1e-8  # the scale-aware KKT test, recomputed
    # L-BFGS runs on implicitly standardised columns (solvers.scaling): the scales no longer stall it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lbfgs = fit(X, y, solver="lbfgs", max_iter=50)
    assert lbfgs.converged and lbfgs.status == "converged"
    np.testing.assert_allclose(lbfgs.coef * scale, newton.coef * scale, atol=1e-6)


# -- 8. separation hidden by a singular Hessian ------------------------------------------


def _separation_data(case):
    rng = np.random.default_rng(0)
    n = 200
    x = rng.standard_normal((n, 2))
    y = (x[:, 0] > 0).astype(float)
    x[:10, 0] = 0.0
    y[:10] = rng.random(10) < 0.5  # ties on the boundary: quasi-separation
    if case == "duplicated column, quasi-separated":
        return np.column_stack([x[:, 0], x[:, 0], x[:, 1]]), y
    if case == "duplicated column, overlapping":
        y = (rng.random(n) < 1 / (1 + np.exp(-x[:, 0]))).astype(float)
        return np.column_stack([x[:, 0], x[:, 0], x[:, 1]]), y
    # one-hot categories beside the intercept (singular X̃), 11 categories of one class only
    n, d = 3000, 40
    cat = rng.integers(0, d, n)
    X = sp.csr_matrix((np.ones(n), cat, np.arange(n + 1)), shape=(n, d))
    y = (rng.random(n) < 1 / (1 + np.exp(-rng.standard_normal(d)[cat]))).astype(float)
    if case == "one-hot, single-class categories":
        for j in range(11):
            y[cat == j] = j % 2
    return X, y


@pytest.mark.parametrize(
    "case, separated",
    [
        ("duplicated column, quasi-separated", True),
        ("duplicated column, overlapping", False),
        ("one-hot, single-class categories", True),
        ("one-hot, overlapping", False),
    ],
)
def test_separation_is_found_when_the_hessian_is_singular(case, separated):
    X, y = _separation_data(case)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(X, y)
    assert any(issubclass(w.category, SeparationWarning) for w in caught) == separated
    dense = X.toarray() if sp.issparse(X) else X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert bool(fit_many(dense, y, np.zeros(len(y), int)).separated[0]) == separated


# -- 9. the on-disk compile cache ---------------------------------------------------------

_FIT_IN_CHILD = """
    import warnings
    warnings.simplefilter("always")
    import numpy as np
    from fusedlogit import fit
    from fusedlogit.kernels import dense
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 4)); y = (rng.random(3000) < 0.5) * 1.0
    result = fit(X, y)
    stats = dense.loss_gradient_sums.stats
    print("RESULT", repr(float(result.coef[0])), stats.cache_hits.total())
"""


def _result_line(out):
    return next(line for line in out.splitlines() if line.startswith("RESULT")).split()


def test_a_corrupted_cache_is_recompiled_once_then_used(tmp_path):
    rc, first = _run(_FIT_IN_CHILD, NUMBA_CACHE_DIR=str(tmp_path))
    assert rc == 0, first
    files = [p for p in tmp_path.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert files
    for path in files:  # truncate every index and data file
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    rc, second = _run(_FIT_IN_CHILD, NUMBA_CACHE_DIR=str(tmp_path))
    assert rc == 0, second
    assert "CacheWarning" in second and "FUSEDLOGIT_NO_CACHE" in second and str(tmp_path) in second
    rc, third = _run(_FIT_IN_CHILD, NUMBA_CACHE_DIR=str(tmp_path))
    assert rc == 0 and "CacheWarning" not in third, third
    assert _result_line(first)[1] == _result_line(second)[1] == _result_line(third)[1]
    assert int(_result_line(third)[2]) >= 1  # loaded from the repaired cache


def test_no_usable_cache_folder_compiles_in_memory():
    no_locator = """
        import numba.core.caching as caching
        def no_locator(self, py_func):
            raise RuntimeError(f"cannot cache function {py_func.__name__!r}: no locator available for file")
        caching.FunctionCache.__init__ = no_locator  # what a read-only install with a read-only home gives
    """
    rc, out = _run(textwrap.dedent(no_locator) + textwrap.dedent(_FIT_IN_CHILD))
    assert rc == 0, out
    assert "CacheWarning" in out and "no locator available" in out and "FUSEDLOGIT_NO_CACHE" in out
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")  # the cache folder it would have used: the user's, or in the tree
    assert (cache_dir in out) if cache_dir else re.search(r"fusedlogit/\w+/__pycache__", out)
    assert out.count("CacheWarning:") == 1


# -- 11. smaller ones ------------------------------------------------------------------------


def test_fit_without_columns_or_intercept_says_so():
    X, y = _problem()
    with pytest.raises(ValueError, match="no columns and fit_intercept=False"):
        fit(X[:, :0], y, fit_intercept=False)


def test_fit_many_names_a_sparse_x():
    X, y = _problem()
    with pytest.raises(ValueError, match="X is a scipy.sparse matrix"):
        fit_many(sp.csr_matrix(X), y, np.zeros(len(y), int))


@pytest.mark.parametrize("eps", [0, -1e-6, np.nan, np.inf, True])
def test_check_gradient_rejects_a_bad_eps(eps):
    with pytest.raises(ValueError, match="eps"):
        check_gradient(lambda x: float(x @ x), lambda x: 2 * x, np.ones(3), eps=eps)


def test_predict_proba_of_no_rows_is_empty():
    for X in (np.empty((0, 3)), sp.csr_matrix((0, 3))):
        p = predict_proba(X, np.ones(3))
        assert p.shape == (0,)


@pytest.mark.parametrize("value", ["False", "True", 0, 1, None])
def test_fit_intercept_must_be_a_bool(value):
    X, y = _problem()
    with pytest.raises(ValueError, match="fit_intercept must be True or False"):
        fit(X, y, fit_intercept=value)
    with pytest.raises(ValueError, match="fit_intercept must be True or False"):
        fit_many(X, y, np.zeros(len(y), int), fit_intercept=value)


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_l2_must_not_be_a_bool(value):
    X, y = _problem()
    with pytest.raises(ValueError, match="l2 must be a finite number"):
        fit(X, y, l2=value)


def test_pandas_nullable_and_mixed_columns():
    pd = pytest.importorskip("pandas")
    X, y = _problem()
    frame = pd.DataFrame({"a": pd.array(X[:, 0], dtype="Float64"), "b": X[:, 1], "c": X[:, 2] > 0})
    expected = fit(np.column_stack([X[:, 0], X[:, 1], X[:, 2] > 0]).astype(float), y)
    got = fit(frame, pd.Series(y, dtype="Float64"))
    np.testing.assert_array_equal(got.coef, expected.coef)
    frame.loc[3, "a"] = pd.NA
    with pytest.raises(ValueError, match="X contains NaN"):
        fit(frame, y)
    with pytest.raises(ValueError, match="X column 'name' has dtype"):
        fit(pd.DataFrame({"x": X[:, 0], "name": ["u"] * len(y)}), y)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threads", "0"], "--threads"),
        (["--dtypes", "float16"], "--dtypes"),
        (["--n", "0"], "--n"),
        (["--solvers", "foo"], "--solvers"),
        (["--fit-shapes", "10x"], "--fit-shapes"),
    ],
)
def test_bench_cli_validates_before_running(args, message, capsys):
    from fusedlogit.bench import cli

    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(args)
    assert exc.value.code == 2
    assert f"argument {message}" in capsys.readouterr().err
