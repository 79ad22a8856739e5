"""Smoke tests of the benchmark CLI (tiny grid) and of the methods it times.

Nothing here checks speed: only that the numbers are consistent with each
other and that every timed method computes the same objective.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from fusedlogit import LogisticLoss, bench
from fusedlogit.bench.plot import label as plot_label, plot as plot_png, series as plot_series

KERNEL_FIELDS = {
    "method": str, "op": str, "n": int, "d": int, "dtype": str, "n_threads": int, "median_s": float,
    "min_s": float, "repeats": int, "number": int, "rows_s": float, "gb_s": float, "x_bytes": int,
    "roofline_fraction": float,
}
FIT_FIELDS = {
    "method": str, "solver": str, "problem": str, "n": int, "d": int, "n_threads": int, "tol": float,
    "median_s": float, "n_iter": int, "converged": bool, "loss": float, "grad_max": float,
}
MACHINE_FIELDS = ("cpu_model", "logical_cores", "usable_cores", "numba", "numpy", "threading_layer", "blas")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    threads = sorted({1, numba.config.NUMBA_NUM_THREADS})
    argv = ["--n", "3000,20000", "--d", "3", "--dtypes", "float64", "--threads", ",".join(map(str, threads)),
            "--repeats", "2", "--min-time", "0.001", "--memory-budget", "200kB", "--sections", "kernels,fits",
            "--fit-shapes", "600x3", "--fit-kinds", "well", "--fit-max-iter", "300", "--fit-repeats", "1",
            "--output", str(out / "r.json")]
    if _has_matplotlib():
        argv += ["--plot", str(out / "r.png")]
    results = bench.run(argv)
    return results, out, threads


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_json_matches_returned_results_and_names_the_machine(tiny_run):
    results, out, _ = tiny_run
    saved = json.loads((out / "r.json").read_text())
    assert saved["kernels"] == results["kernels"]
    for field in MACHINE_FIELDS:
        assert saved["machine"][field] not in (None, "", [])
    assert saved["machine"]["numba"] == numba.__version__
    assert saved["machine"]["threading_layer"] == numba.threading_layer()
    assert saved["config"]["memory_budget_bytes"] == 200e3


def test_kernel_rows_cover_the_grid_with_consistent_fields(tiny_run):
    results, _, threads = tiny_run
    rows = results["kernels"]
    # 3000 x 3 float64 = 72 kB fits the 200 kB budget, 20000 x 3 = 480 kB does not
    assert {r["n"] for r in rows} == {3000}
    expected = {m for m in bench.KERNEL_METHODS if bench.KERNEL_METHODS[m](bench.kernel_problem(10, 3), 1)}
    for k in threads:
        assert {(r["method"], r["op"]) for r in rows if r["n_threads"] == k} == expected
    for r in rows:
        for field, kind in KERNEL_FIELDS.items():
            assert isinstance(r[field], kind), (field, r)
        assert 0 < r["min_s"] <= r["median_s"]
        assert r["x_bytes"] == r["n"] * r["d"] * 8
        assert math.isclose(r["gb_s"], r["x_bytes"] / r["median_s"] / 1e9)
        assert math.isclose(r["rows_s"], r["n"] / r["median_s"])
        read = next(q for q in rows if q["method"] == "read" and q["n_threads"] == r["n_threads"])
        assert math.isclose(r["roofline_fraction"], r["gb_s"] / read["gb_s"])


def test_fit_rows_are_solutions_of_the_same_objective(tiny_run):
    results, _, _ = tiny_run
    rows = results["fits"]
    assert {r["method"] for r in rows} >= {"sklearn"}
    losses = []
    for r in rows:
        assert r["error"] is None, r
        for field, kind in FIT_FIELDS.items():
            assert isinstance(r[field], kind), (field, r)
        # every solver was asked for tol=1e-8 on a well-conditioned problem: all reach the optimum
        assert r["grad_max"] < 1e-5, r
        losses.append(r["loss"])
    assert max(losses) - min(losses) < 1e-9


def test_tables_and_readme_markdown(tiny_run):
    results, out, threads = tiny_run
    text = bench.report(results)
    assert "read GB/s" in text and results["machine"]["cpu_model"] in text
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from make_readme_table import readme_markdown
    finally:
        sys.path.pop(0)
    md = readme_markdown(results)
    kernel_lines = [line for line in md.splitlines() if line.startswith("| 3e3 ")]
    assert len(kernel_lines) == len(threads)  # one line per (n, d, dtype, threads)
    header = next(line for line in md.splitlines() if line.startswith("| n | d |"))
    assert all(line.count("|") == header.count("|") for line in kernel_lines)
    fit_header = next(line for line in md.splitlines() if line.startswith("| problem |"))
    assert fit_header.replace("\\|", "").count("|") == 12  # 11 columns; "max|grad J|" escaped
    # each fit's time in passes of the fused loss+gradient on its data
    for r in results["fits"]:
        assert r["error"] is not None or r["passes"] == pytest.approx(r["median_s"] / r["pass_s"])
    assert all(r["pass_s"] > 0 for r in results["fits"])


def test_plot_written(tiny_run):
    _, out, _ = tiny_run
    if not _has_matplotlib():
        pytest.skip("matplotlib not installed")
    assert (out / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _plotted(results, path):
    """Write the PNG (checking its magic bytes); returns the legend labels ``plot`` drew, per dtype."""
    if not _has_matplotlib():
        pytest.skip("matplotlib not installed")
    labels = plot_png(results, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return labels


def test_plot_names_every_measured_loss_gradient_series(tiny_run, tmp_path):
    results, _, threads = tiny_run
    labels = _plotted(results, tmp_path / "p.png")
    measured = {(r["method"], r["n"]) for r in results["kernels"]
                if r["op"] in ("loss_gradient", "read") and r["n_threads"] == max(threads)}
    assert {("read", 3000), ("fused", 3000), ("reference", 3000)} <= measured
    assert labels == {"float64": [plot_label(m, n) for m, n in sorted(measured, key=_method_order)]}
    assert "reference (NumPy) n=3e3" in labels["float64"] and len(set(labels["float64"])) == len(measured)


def _method_order(series):
    known = ["read", "fused", "reference", "sklearn"]
    return known.index(series[0]) if series[0] in known else len(known), series


def test_plot_series_other_peers_present_missing_absent(tmp_path):
    def row(method, n, d, dtype="float64", k=2, op="loss_gradient"):
        return {"method": method, "op": "read" if method == "read" else op, "n": n, "d": d, "dtype": dtype,
                "n_threads": k, "gb_s": 1.0 + d / n}

    rows = [row(m, n, d, dt, k) for m in ("read", "fused", "reference", "glum") for n in (10**4, 10**5)
            for d in (2, 32) for dt in ("float64", "float32") for k in (1, 2)]
    rows += [row("fused", 10**4, 2, op="hessp"), row("sklearn", 10**6, 2, k=1)]  # not loss+grad; not max threads
    panels = plot_series(rows)
    order = [(m, n) for m in ("read", "fused", "reference", "glum") for n in (10**4, 10**5)]
    assert {dt: [(m, n) for m, n, _ in curves] for dt, curves in panels.items()} == {"float32": order, "float64": order}
    assert panels["float64"][0][2] == [(2, 1.0 + 2e-4), (32, 1.0 + 32e-4)]  # (d, GB/s), d ascending
    machine = {"cpu_model": "cpu", "usable_cores": 2, "numba": "0", "threading_layer": "tbb", "numpy": "2", "blas": []}
    labels = _plotted({"kernels": rows, "machine": machine}, tmp_path / "p.png")
    assert labels["float32"] == labels["float64"] == [plot_label(m, n) for m, n in order]
    assert "glum n=1e5" in labels["float64"] and not any("scikit-learn" in t for t in labels["float64"])


def test_every_timed_method_computes_the_same_objective():
    p = bench.kernel_problem(2500, 4, np.float64, seed=3)
    reference = LogisticLoss(p.X, p.y, backend="numpy")
    loss, grad = reference.loss_gradient(p.coef)
    for (method, op), make in bench.KERNEL_METHODS.items():
        call = make(p, 1)
        if call is None:
            continue
        with bench.pinned_threads(1):
            got = call()
        if op == "read":
            np.testing.assert_allclose(got, p.X.sum(), rtol=1e-12, atol=1e-9)
        elif op == "loss_gradient":  # scikit-learn's HalfBinomialLoss is the same mean loss
            np.testing.assert_allclose(got[0], loss, rtol=1e-12)
            np.testing.assert_allclose(got[1], grad, rtol=1e-9, atol=1e-14)
        elif op == "gradient":
            np.testing.assert_allclose(got, grad, rtol=1e-9, atol=1e-14)
        else:
            np.testing.assert_allclose(got, reference.hessp(p.coef, p.v), rtol=1e-9, atol=1e-14)


def test_read_kernel_float32_and_uneven_chunks():
    X = np.random.default_rng(0).standard_normal((4099, 5)).astype(np.float32)  # 3 uneven chunks
    assert math.isclose(bench.read_sum(X), float(X.sum(dtype=np.float64)), rel_tol=1e-4, abs_tol=1e-2)


def test_grids_and_sizes():
    assert bench.n_grid(100, 8, 2e9) == [10_000, 100_000, 1_000_000]  # 1e7 x 100 x 8 B = 8 GB
    assert bench.n_grid(2, 4, 1e6, [10, 10**6]) == [10]
    assert bench.thread_grid(6) == [1, 2, 4, 6]
    assert bench.thread_grid(6, quick=True) == [1, 6]
    assert bench._size("2GB") == 2e9 and bench._size("512MB") == 512e6 and bench._size("1e4") == 1e4


def test_bad_arguments_exit():
    with pytest.raises(SystemExit):
        bench.run(["--sections", "kernels,nonsense"])
    with pytest.raises(SystemExit):
        bench.run(["--methods", "fused:nonsense", "--sections", "kernels"])


def test_cold_start_through_the_module_entry_point(tmp_path):
    out = tmp_path / "cold.json"
    src = str(Path(bench.__file__).resolve().parents[2])
    proc = subprocess.run(
        [sys.executable, "-m", "fusedlogit.bench", "--sections", "cold", "--output", str(out)],
        capture_output=True, text=True, env={**__import__("os").environ, "PYTHONPATH": src}, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "cache=empty" in proc.stderr and "Cold start" in proc.stdout
    rows = json.loads(out.read_text())["cold_start"]
    assert [r["cache"] for r in rows] == ["empty", "warm"]
    for r in rows:
        parts = [r[k] for k in ("import_s", "numba_import_s", "first_loss_gradient_s", "second_loss_gradient_s",
                                "first_hessp_s", "second_hessp_s")]
        assert all(0 < t < r["process_wall_s"] for t in parts)
        assert sum(parts) < r["process_wall_s"]  # the parts are laps of one process


def test_run_says_where_results_went(tmp_path, capsys):
    tiny = ["--sections", "kernels", "--n", "1000", "--d", "2", "--dtypes", "float64", "--threads", "1",
            "--repeats", "1", "--min-time", "0.001", "--methods", "fused:loss_gradient"]
    bench.run(tiny)
    assert "results not saved: add --output" in capsys.readouterr().err
    out = tmp_path / "r.json"
    bench.run(tiny + ["--output", str(out)])
    assert f"results written to {out.resolve()}" in capsys.readouterr().err and out.exists()


# --------------------------------------------------------------------------- multinomial

from fusedlogit import MultinomialLoss  # noqa: E402
from fusedlogit.bench import multinomial_fits as mfits  # noqa: E402

MULTINOMIAL_FIELDS = {
    **KERNEL_FIELDS, "n_classes": int, "flops": int, "gflop_s": float, "read_s": float, "arith_s": float,
    "peak_gflop_s": float, "bound": str, "bound_s": float, "bound_fraction": float,
}
MULTINOMIAL_FIT_FIELDS = {**FIT_FIELDS, "n_classes": int, "l2": float, "C": float}


def _has_sklearn():
    import importlib.util

    return importlib.util.find_spec("sklearn") is not None


@pytest.fixture(scope="module")
def multinomial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-multinomial")
    threads = sorted({1, numba.config.NUMBA_NUM_THREADS})
    # 3000 x 3 float64 X (72 kB) with 4 float64 3000 x K temporaries: K = 3 (288 kB) fits 500 kB, K = 10 does not
    argv = ["--sections", "multinomial,multinomial-fits", "--n", "3000,20000", "--d", "3", "--classes", "3,10",
            "--dtypes", "float64,float32", "--threads", ",".join(map(str, threads)), "--repeats", "2",
            "--min-time", "0.001", "--memory-budget", "500kB", "--gemm-m", "64",
            "--multinomial-fit-shapes", "900x3x3", "--fit-max-iter", "300", "--fit-repeats", "1",
            "--output", str(out / "m.json")]
    return bench.run(argv), out, threads


def test_multinomial_rows_have_the_bound_fields(multinomial_run):
    results, out, threads = multinomial_run
    assert json.loads((out / "m.json").read_text())["multinomial"] == results["multinomial"]
    assert results["kernels"] == [] and results["fits"] == []
    rows = results["multinomial"]
    expected = {"fused", "reference"} | ({"sklearn"} if _has_sklearn() else set())
    peaks = {p["n_threads"]: p for p in results["peak_flops"]}
    assert sorted(peaks) == threads
    for p in peaks.values():
        assert p["m"] == 64 and p["dtype"] == "float64" and p["flops"] == 2 * 64**3
        assert math.isclose(p["gflop_s"], p["flops"] / p["min_s"] / 1e9)
    reads = {(r["n"], r["d"], r["dtype"], r["n_threads"]): r for r in rows if r["method"] == "read"}
    assert set(reads) == {(3000, 3, dt, k) for dt in ("float64", "float32") for k in threads}
    timed = [r for r in rows if r["method"] != "read"]
    assert {(r["n"], r["n_classes"]) for r in timed} == {(3000, 3)}  # 20000 and K = 10 over the budget
    for dtype in ("float64", "float32"):
        for k in threads:
            assert {r["method"] for r in timed if r["dtype"] == dtype and r["n_threads"] == k} == expected
    for r in timed:
        for field, kind in MULTINOMIAL_FIELDS.items():
            assert isinstance(r[field], kind), (field, r)
        assert r["op"] == "loss_gradient" and 0 < r["min_s"] <= r["median_s"]
        assert r["x_bytes"] == r["n"] * r["d"] * np.dtype(r["dtype"]).itemsize
        assert math.isclose(r["gb_s"], r["x_bytes"] / r["median_s"] / 1e9)
        assert r["flops"] == 4 * r["n"] * r["d"] * r["n_classes"]
        assert r["flops"] == r["n"] * bench.flops_per_row(r["d"], r["n_classes"])
        assert math.isclose(r["gflop_s"], r["flops"] / r["median_s"] / 1e9)
        assert r["peak_gflop_s"] == peaks[r["n_threads"]]["gflop_s"]
        assert math.isclose(r["arith_s"], r["flops"] / (r["peak_gflop_s"] * 1e9))
        read = reads[r["n"], r["d"], r["dtype"], r["n_threads"]]
        assert r["read_s"] == read["median_s"]
        assert r["bound_s"] == max(r["read_s"], r["arith_s"])
        assert r["bound"] == ("read" if r["read_s"] >= r["arith_s"] else "arithmetic")
        assert math.isclose(r["bound_fraction"], r["bound_s"] / r["median_s"])
        assert math.isclose(r["roofline_fraction"], r["gb_s"] / read["gb_s"])


def test_multinomial_fit_rows_reach_the_same_optimum(multinomial_run):
    results, _, _ = multinomial_run
    rows = results["multinomial_fits"]
    fit, why = bench.multiclass_fit()
    if fit is None:
        assert any("fusedlogit.fit" in note for note in results["multinomial_notes"]), why
        assert not any(r["method"] == "fusedlogit" for r in rows)
    else:
        assert {r["solver"] for r in rows if r["method"] == "fusedlogit"} == set(mfits.DEFAULT_SOLVERS)
    if not _has_sklearn():
        assert any("scikit-learn" in note for note in results["multinomial_notes"])
        return
    assert {r["solver"] for r in rows if r["method"] == "sklearn"} == {"lbfgs", "newton-cholesky"}
    losses = []
    for r in rows:
        assert r["error"] is None, r
        for field, kind in MULTINOMIAL_FIT_FIELDS.items():
            assert isinstance(r[field], kind), (field, r)
        assert (r["n"], r["d"], r["n_classes"], r["problem"]) == (900, 3, 3, "standardised")
        assert r["C"] == 1.0 and math.isclose(r["l2"], 1 / 900)
        # C = 1 is l2 = 1/n: at every peer's solution fusedlogit's gradient of the same J vanishes
        assert r["grad_max"] < 1e-5, r
        losses.append(r["loss"])
    assert max(losses) - min(losses) < 1e-9


def test_multinomial_report_and_readme_markdown(multinomial_run):
    results, _, threads = multinomial_run
    text = bench.report(results)
    assert "Multinomial loss+gradient" in text and "Arithmetic time = 4·n·d·K flops" in text
    assert "m = 64" in text
    if _has_sklearn():
        assert "Multinomial fits, C=1" in text and "sklearn/fused" in text
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from make_readme_table import readme_markdown
    finally:
        sys.path.pop(0)
    md = readme_markdown(results)
    header = next(line for line in md.splitlines() if line.startswith("| n | d | K |"))
    lines = [line for line in md.splitlines() if line.startswith("| 3e3 | 3 | 3 |")]
    assert len(lines) == 2 * len(threads)  # one line per (n, d, K, dtype, threads)
    assert all(line.count("|") == header.count("|") for line in lines)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("n_classes", [2, 3, 7])
def test_sklearn_multinomial_peer_computes_fusedlogits_loss(dtype, rtol, n_classes):
    if not _has_sklearn():
        pytest.skip("scikit-learn not installed")
    p = bench.multinomial_kernel_problem(700, 5, n_classes, dtype, seed=4)
    l2 = 0.03
    ours = MultinomialLoss(p.X, p.y, n_classes=n_classes, l2=l2, backend="numpy")
    loss, grad = ours.loss_gradient(p.coef)
    with bench.pinned_threads(1):
        sk_loss, sk_grad = bench.sklearn_multinomial_loss_gradient(p, 1, l2=l2)()
    np.testing.assert_allclose(sk_loss, loss, rtol=rtol)
    np.testing.assert_allclose(bench.from_sklearn_coef(sk_grad, n_classes), grad, rtol=100 * rtol, atol=10 * rtol)
    # the layouts: scikit-learn's flat coef is the (K, d + 1) matrix in F order, intercepts last
    W = p.coef.reshape(n_classes, 6)
    sk = bench.to_sklearn_coef(p.coef, n_classes)
    np.testing.assert_array_equal(sk[-n_classes:], W[:, -1])
    np.testing.assert_array_equal(bench.from_sklearn_coef(sk, n_classes), p.coef)


def test_every_multinomial_method_computes_the_same_objective():
    p = bench.multinomial_kernel_problem(2500, 4, 5, np.float64, seed=3)
    loss, grad = MultinomialLoss(p.X, p.y, n_classes=5, backend="numpy").loss_gradient(p.coef)
    for (method, op), make in bench.MULTINOMIAL_METHODS.items():
        call = make(p, 1)
        if call is None:
            continue
        with bench.pinned_threads(1):
            got = call()
        if op == "read":
            np.testing.assert_allclose(got, p.X.sum(), rtol=1e-12, atol=1e-9)
            continue
        got_grad = bench.from_sklearn_coef(got[1], 5) if method == "sklearn" else got[1]
        np.testing.assert_allclose(got[0], loss, rtol=1e-12)
        np.testing.assert_allclose(got_grad, grad, rtol=1e-9, atol=1e-14)


def test_multinomial_grid_counts_the_peers_temporaries():
    # X 1e5 x 20 float64 = 16 MB; four 1e5 x 50 float64 temporaries = 160 MB
    assert bench.multinomial_n_grid(20, 3, 8, 128e6, [10**5]) == [10**5]
    assert bench.multinomial_n_grid(20, 50, 8, 128e6, [10**5]) == []
    assert bench.multinomial_n_grid(20, 50, 8, 2e9, [10**4, 10**5, 10**6, 10**7]) == [10**4, 10**5, 10**6]


def test_multinomial_fit_problem_and_coef_layouts():
    X, y = bench.multinomial_fit_problem(3000, 4, 5, kind="unscaled")
    assert X.shape == (3000, 4) and X.dtype == np.float64 and set(np.unique(y)) == set(range(5))
    assert X.std(axis=0).max() / X.std(axis=0).min() > 1e3  # unscaled columns
    W, b = np.arange(15.0).reshape(5, 3), np.arange(5.0)
    assert np.array_equal(bench.full_coef(W, b, 5, 3), np.column_stack([W, b]).ravel())
    reference = bench.full_coef(W[1:], b[1:], 5, 3).reshape(5, 4)  # class 0 as reference: its row zero
    assert np.array_equal(reference[0], np.zeros(4)) and np.array_equal(reference[1:], np.column_stack([W, b])[1:])
    with pytest.raises(ValueError):
        bench.full_coef(W[:3], b[:3], 5, 3)


def test_multiclass_fit_probe(monkeypatch):
    import fusedlogit.solvers as solvers

    def refuses(X, y, **kwargs):
        raise ValueError("y must lie in [0, 1]")

    monkeypatch.setattr(solvers, "fit", refuses)
    fit, why = bench.multiclass_fit()
    assert fit is None and "does not fit multiclass y yet (ValueError: y must lie in [0, 1]" in why
    methods, notes = mfits.multinomial_fit_methods()
    assert not any(m == "fusedlogit" for m, _, _ in methods) and any("fusedlogit.fit" in n for n in notes)

    class Result:  # what a multiclass fit may return: W (K, d), b (K,)
        coef, intercept, n_iter, converged = np.zeros((3, 2)), np.zeros(3), 1, True

    monkeypatch.setattr(solvers, "fit", lambda X, y, **kwargs: Result())
    fit, why = bench.multiclass_fit()
    assert why is None
    methods, _ = mfits.multinomial_fit_methods(["lbfgs"])
    assert [(m, s) for m, s, _ in methods if m == "fusedlogit"] == [("fusedlogit", "lbfgs")]


def test_multinomial_arguments():
    assert "multinomial" in bench.cli.SECTIONS and "multinomial-fits" in bench.cli.SECTIONS
    for bad in (["--classes", "1,3"], ["--multinomial-fit-shapes", "100x3"], ["--multinomial-fit-shapes", "100x3x2"],
                ["--multinomial-fit-kinds", "nonsense"], ["--gemm-m", "0"]):
        with pytest.raises(SystemExit):
            bench.run(["--sections", "multinomial", *bad])


def test_multinomial_defaults_full_and_quick(monkeypatch):
    calls = {}

    def fake_kernels(ns, ds, classes, dtypes, threads, **kwargs):
        calls["kernels"] = dict(ns=ns, ds=ds, classes=classes, dtypes=dtypes, threads=threads, **kwargs)
        return [], []

    def fake_fits(shapes, kinds, **kwargs):
        calls["fits"] = dict(shapes=shapes, kinds=kinds, **kwargs)
        return [], []

    monkeypatch.setattr(bench.cli, "run_multinomial", fake_kernels)
    monkeypatch.setattr(bench.cli, "run_multinomial_fits", fake_fits)
    bench.run(["--sections", "multinomial,multinomial-fits", "--threads", "1"])
    assert calls["kernels"]["ns"] is None and calls["kernels"]["ds"] == list(bench.DEFAULT_D)
    assert calls["kernels"]["classes"] == [3, 10, 50] and calls["kernels"]["gemm_m"] == 2048
    assert calls["fits"]["shapes"] == [(500_000, 50, 5)] and calls["fits"]["kinds"] == ["standardised"]
    bench.run(["--quick", "--sections", "multinomial,multinomial-fits", "--threads", "1"])
    assert calls["kernels"]["ns"] == [100_000] and calls["kernels"]["ds"] == [20, 100]
    assert calls["kernels"]["classes"] == [3, 10] and calls["kernels"]["gemm_m"] == 1024
    assert calls["fits"]["shapes"] == [(20_000, 20, 3)]
    default = bench.cli.build_parser().parse_args([]).sections
    assert {"multinomial", "multinomial-fits"} <= set(default) == set(bench.cli.DEFAULT_SECTIONS)  # default run


# -- the l1 section ----------------------------------------------------------------------------


def test_l1_section_is_asked_for_and_its_parts_checked(capsys):
    from fusedlogit.bench import cli, l1

    assert cli.build_parser().parse_args(["--sections", "l1"]).l1_parts == list(l1.PARTS)
    assert "l1" in cli.SECTIONS and "l1" not in cli.DEFAULT_SECTIONS
    assert cli.build_parser().parse_args([]).sections == list(cli.DEFAULT_SECTIONS)
    with pytest.raises(SystemExit):
        bench.run(["--sections", "l1", "--l1-parts", "path,nonsense"])
    assert "--l1-parts" in capsys.readouterr().err


def test_l1_cv_part_refits_a_kkt_solution(capsys):
    """The small cv part without peers: a fusedlogit row whose refit meets the KKT test the table reports."""
    from fusedlogit.bench.l1 import TOL, run_l1

    results = run_l1(["cv"], small=True, threads=1, peers=[])
    ours, glum = results["cv"]
    assert ours["method"] == "fusedlogit" and ours["status"] == "ok" and ours["seconds"] > 0
    assert ours["kkt"] <= TOL and 0 < ours["nonzero"] <= ours["d"]
    assert glum["method"] == "glum" and glum["status"] == "skipped"
    assert "== cv: 5 folds x 50 alphas" in capsys.readouterr().out


# -- bad output paths and interrupted runs ------------------------------------------------------


def test_an_unwritable_output_is_refused_before_any_benchmark(monkeypatch, tmp_path):
    def never(*args, **kwargs):
        raise AssertionError("a benchmark ran although its output could not be written")

    monkeypatch.setattr(bench.cli, "run_kernels", never)
    regular = tmp_path / "a-file"
    regular.write_text("")
    for option, path in (("--output", regular / "results.json"), ("--output", tmp_path),
                         ("--plot", regular / "gbs.png")):
        with pytest.raises(SystemExit, match=option):
            bench.run(["--sections", "kernels", "--threads", "1", option, str(path)])
    fresh = tmp_path / "new" / "results.json"
    monkeypatch.setattr(bench.cli, "run_kernels", lambda *a, **k: [])
    bench.run(["--sections", "kernels", "--threads", "1", "--output", str(fresh)])
    assert json.loads(fresh.read_text())["kernels"] == []


def test_an_interrupted_run_saves_the_sections_that_finished(monkeypatch, tmp_path):
    row = {"method": "fake", "n": 1}

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench.cli, "run_kernels", lambda *a, **k: [row])
    monkeypatch.setattr(bench.cli, "run_fits", interrupt)
    monkeypatch.setattr(bench.cli, "report", lambda results: "a table")
    out = tmp_path / "partial.json"
    argv = ["--sections", "kernels,fits", "--threads", "1", "--output", str(out)]
    with pytest.raises(KeyboardInterrupt):
        bench.run(argv)
    saved = json.loads(out.read_text())
    assert saved["kernels"] == [row] and saved["fits"] == [] and saved["interrupted"] is True
    out.unlink()
    assert bench.cli.main(argv) == 130 and json.loads(out.read_text())["interrupted"] is True


def test_scikit_learn_intelex_rows_appear_where_it_is_installed(monkeypatch):
    from fusedlogit.bench import fits

    monkeypatch.setattr(fits, "_importable", lambda name: name != "sklearnex")
    assert not any(m == "sklearnex" for m, _, _ in fits.fit_methods(["newton"]))
    assert "sklearnex" in fits.missing_peers()
    monkeypatch.setattr(fits, "_importable", lambda name: True)
    rows = [(m, s) for m, s, _ in fits.fit_methods(["newton"]) if m == "sklearnex"]
    assert rows == [("sklearnex", s) for s in fits.SKLEARNEX_SOLVERS]
