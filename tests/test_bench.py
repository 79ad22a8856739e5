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
    assert fit_header.replace("\\|", "").count("|") == 11  # 10 columns; "max|grad J|" escaped


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
