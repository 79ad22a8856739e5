"""The result tables, as aligned text or markdown, and the whole report."""

from __future__ import annotations

from .machine import machine_line
from .methods import KERNEL_METHODS


#: The columns kept by ``compact=True`` (the README's table).
COMPACT_COLUMNS = (("fused", "loss_gradient"), ("fused", "hessp"), ("reference", "loss_gradient"),
                   ("sklearn", "loss_gradient"))


def kernel_table(rows, markdown=False, compact=False):
    """One line per (n, d, dtype, n_threads): read GB/s, then each method's GB/s and % of read."""
    columns = [(m, op) for m, op in KERNEL_METHODS if m != "read" and (not compact or (m, op) in COMPACT_COLUMNS)]
    columns = [c for c in columns if any((r["method"], r["op"]) == c for r in rows)]
    names = {"loss_gradient": "loss+grad", "gradient": "grad", "hessp": "hessp"}
    header = ["n", "d", "dtype", "threads", "read GB/s"] + [f"{m} {names[op]}" for m, op in columns]
    if any(r["method"] == "reference" and r["op"] == "loss_gradient" for r in rows):
        header.append("fused/ref loss+grad")
    by_config = {}
    for r in rows:
        by_config.setdefault((r["dtype"], r["d"], r["n"], r["n_threads"]), {})[r["method"], r["op"]] = r
    lines = []
    for (dtype, d, n, k), cell in sorted(by_config.items()):
        read = cell.get(("read", "read"))
        line = [f"{n:.0e}".replace("e+0", "e"), str(d), dtype, str(k), f"{read['gb_s']:.2f}" if read else "-"]
        for c in columns:
            r = cell.get(c)
            if r is None:
                line.append("-")
            elif r.get("roofline_fraction") is not None:
                line.append(f"{r['gb_s']:.2f} ({r['roofline_fraction']:.0%})")
            else:
                line.append(f"{r['gb_s']:.2f}")
        if "fused/ref loss+grad" in header:
            fused, ref = cell.get(("fused", "loss_gradient")), cell.get(("reference", "loss_gradient"))
            line.append(f"{ref['median_s'] / fused['median_s']:.1f}x" if fused and ref else "-")
        lines.append(line)
    return _format(header, lines, markdown)


def fit_table(rows, markdown=False):
    """One line per fit: its time, and in passes (time / one fused loss+gradient pass on the same data)."""
    header = ["problem", "n", "d", "method", "solver", "seconds", "passes", "iter", "says converged", "max|grad J|",
              "J"]
    lines = []
    for r in rows:
        if r["error"]:
            lines.append([r["problem"], str(r["n"]), str(r["d"]), r["method"], r["solver"], "failed", "-", "-", "-",
                          "-", r["error"][:40]])
            continue
        passes = f"{r['passes']:.1f}" if r.get("passes") is not None else "-"
        lines.append([r["problem"], str(r["n"]), str(r["d"]), r["method"], r["solver"], f"{r['median_s']:.3f}",
                      passes, str(r["n_iter"]), "yes" if r["converged"] else "no", f"{r['grad_max']:.1e}",
                      f"{r['loss']:.10f}"])
    return _format(header, lines, markdown)


MULTINOMIAL_COLUMNS = ("fused", "reference", "sklearn")


def multinomial_table(rows, markdown=False, compact=False):
    """One line per (n, d, K, dtype, n_threads): the read and arithmetic times, then each method.

    A method's cell is ms per loss+gradient call with the fraction of max(read, arithmetic)
    reached, then (unless ``compact``) its GB/s of X read; the last columns are speed-ups of fused.
    """
    methods = [m for m in MULTINOMIAL_COLUMNS if any(r["method"] == m for r in rows)]
    methods += sorted({r["method"] for r in rows} - set(methods) - {"read"})
    header = ["n", "d", "K", "dtype", "threads", "read ms", "arith ms", "bound"]
    for m in methods:
        header.append(f"{m} ms (% of bound)")
        if not compact:
            header.append(f"{m} GB/s")
    ratios = [m for m in methods if m != "fused"] if "fused" in methods else []
    header += [f"{m}/fused" for m in ratios]
    by_config = {}
    for r in rows:
        if r["method"] != "read":
            by_config.setdefault((r["dtype"], r["d"], r["n"], r["n_classes"], r["n_threads"]), {})[r["method"]] = r
    lines = []
    for (dtype, d, n, K, k), cell in sorted(by_config.items()):
        first = next(iter(cell.values()))
        line = [f"{n:.0e}".replace("e+0", "e"), str(d), str(K), dtype, str(k), f"{first['read_s'] * 1e3:.3f}",
                f"{first['arith_s'] * 1e3:.3f}", first["bound"]]
        for m in methods:
            r = cell.get(m)
            line.append(f"{r['median_s'] * 1e3:.3f} ({r['bound_fraction']:.0%})" if r else "-")
            if not compact:
                line.append(f"{r['gb_s']:.2f}" if r else "-")
        fused = cell.get("fused")
        for m in ratios:
            r = cell.get(m)
            line.append(f"{r['median_s'] / fused['median_s']:.1f}x" if r and fused else "-")
        lines.append(line)
    return _format(header, lines, markdown)


def peak_line(peaks):
    """'Peak float64 GEMM (m = 2048): 1 thread 40.1 GFLOP/s, 2 threads 79.0 GFLOP/s'."""
    if not peaks:
        return ""
    parts = [f"{p['n_threads']} thread{'s' if p['n_threads'] > 1 else ''} {p['gflop_s']:.1f} GFLOP/s" for p in peaks]
    return (f"Arithmetic time = 4·n·d·K flops at the peak, measured as 2m³ / fastest float64 A @ B "
            f"(NumPy, m = {peaks[0]['m']}): " + ", ".join(parts))


def multinomial_fit_table(rows, markdown=False):
    header = ["problem", "n", "d", "K", "method", "solver", "seconds", "iter", "says converged", "max|grad J|", "J"]
    lines = []
    for r in rows:
        head = [r["problem"], str(r["n"]), str(r["d"]), str(r["n_classes"]), r["method"], r["solver"]]
        if r["error"]:
            lines.append(head + ["failed", "-", "-", "-", r["error"][:40]])
            continue
        lines.append(head + [f"{r['median_s']:.3f}", str(r["n_iter"]), "yes" if r["converged"] else "no",
                             f"{r['grad_max']:.1e}", f"{r['loss']:.10f}"])
    return _format(header, lines, markdown)


def cold_table(rows, markdown=False):
    header = ["cache", "import fusedlogit s", "import numba s", "1st loss_gradient s", "2nd loss_gradient s",
              "1st hessp s", "process s"]
    lines = [[r["cache"], f"{r['import_s']:.3f}", f"{r['numba_import_s']:.3f}", f"{r['first_loss_gradient_s']:.3f}",
              f"{r['second_loss_gradient_s']:.5f}", f"{r['first_hessp_s']:.3f}", f"{r['process_wall_s']:.2f}"]
             for r in rows]
    return _format(header, lines, markdown)


def _format(header, lines, markdown):
    if markdown:
        esc = lambda cells: [c.replace("|", "\\|") for c in cells]  # noqa: E731  ("max|grad J|")
        header, lines = esc(header), [esc(line) for line in lines]
        out = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    fmt = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(line) for line in lines])


def report(results, markdown=False, compact=False):
    """All sections of a result as text (or markdown), with the machine named."""
    parts = ["Machine: " + machine_line(results["machine"])]
    heading = (lambda s: f"\n### {s}\n") if markdown else (lambda s: f"\n== {s} ==")
    if results.get("kernels"):
        parts += [heading("Kernels: GB/s of X read (% of the plain-read roofline, same threads)"),
                  kernel_table(results["kernels"], markdown, compact)]
    if results.get("fits"):
        parts += [heading(f"Fits to tol={results['fits'][0]['tol']:g} (max|grad J| re-evaluated by fusedlogit)"),
                  fit_table(results["fits"], markdown)]
    if results.get("multinomial"):
        parts += [heading("Multinomial loss+gradient: ms per call (% of max(read of X, arithmetic) reached)"),
                  multinomial_table(results["multinomial"], markdown, compact)]
        if results.get("peak_flops"):
            parts.append(("\n" if markdown else "") + peak_line(results["peak_flops"]))
    if results.get("multinomial_fits"):
        first = results["multinomial_fits"][0]
        parts += [heading(f"Multinomial fits, C={first['C']:g} (l2=1/(C·n)), tol={first['tol']:g} "
                          "(max|grad J| re-evaluated by fusedlogit)"),
                  multinomial_fit_table(results["multinomial_fits"], markdown)]
    if results.get("multinomial_notes"):
        parts += [("\n" if markdown else "") + "Multinomial rows skipped: " + "; ".join(results["multinomial_notes"])]
    if results.get("cold_start"):
        parts += [heading("Cold start (fresh processes)"), cold_table(results["cold_start"], markdown)]
    return "\n".join(parts)
