"""Multinomial (softmax) logistic regression: the issue's configurations, fusedlogit beside its peers.

Three parts (``--parts``, default all), every one pinned to ``--threads``
(Numba's threads, BLAS and OpenMP pools through threadpoolctl):

loss+gradient
    One call of J and ∇J at n = 10⁶, d = 100, K = 10 and n = 2·10⁶, d = 20,
    K = 3 (float64): fusedlogit's fused pass (``MultinomialLoss``, Numba), its
    NumPy reference backend, and scikit-learn's internal
    ``LinearModelLoss(HalfMultinomialLoss(K)).loss_gradient`` (the same mean
    loss; coef handed over in its F-order layout).  The pass costs ~4·d·K
    flops per row, so its limit is max(read time of X, arithmetic time): the
    read is ``read_sum`` on the same X and threads, the arithmetic time is
    4·n·d·K flops at the float64 GEMM rate measured first (2m³ / fastest
    float64 m × m ``A @ B``, m = 2048).  "% of bound" = max(read, arith) / time.

fits
    n = 5·10⁵, d = 50, K = 5, on standardised columns and on the same columns
    unscaled (factors 1e-3..1e3, shifted): ``fusedlogit.fit`` with newton,
    lbfgs and newton-cg (skipped, with a note, while it does not fit
    multiclass y) against scikit-learn's LogisticRegression(C=1) with lbfgs
    and newton-cholesky, all with tol = 1e-8 and at most 1000 iterations.
    C = 1 is l2 = 1/(C·n) in fusedlogit's mean objective; every solution's J
    and max|∇J| are re-evaluated with ``MultinomialLoss``.  "x fastest" is
    the time over that of the fastest fit reaching max|∇J| ≤ 10·tol.

dtypes
    Rows per second of the fused loss+gradient for float32 and float64 X at
    d ≥ 100 (n = 10⁶, d = 100, K = 10 and n = 2·10⁵, d = 1000, K = 10), with
    the read of X for each: f32/f64 near 2 where the pass is read-bound,
    near 1 where it is arithmetic-bound (the arithmetic is float64 for both).

``--small`` runs every part at about 1/50 of the size, as a quick check of
the script (the numbers then mean little).  The full run needs ~3.5 GB of
memory (the peers' n × K temporaries at n = 2·10⁶) and several minutes.

    python benchmarks/multinomial_bench.py [--small] [--parts loss+gradient,fits,dtypes]
                                           [--threads 2] [--repeats 5] [--output multinomial.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np

from fusedlogit._config import max_threads
from fusedlogit.bench.machine import machine_info, machine_line
from fusedlogit.bench.multinomial import (
    PEAK_GEMM_N,
    QUICK_PEAK_GEMM_N,
    measure_peak_flops,
    multinomial_kernel_problem,
    time_problem,
)
from fusedlogit.bench.multinomial_fits import run_multinomial_fits
from fusedlogit.bench.report import _format

PARTS = ("loss+gradient", "fits", "dtypes")

#: (n, d, K) of each part, full size and ``--small``.
LOSS_GRADIENT = {"full": ((1_000_000, 100, 10), (2_000_000, 20, 3)), "small": ((20_000, 100, 10), (40_000, 20, 3))}
FITS = {"full": ((500_000, 50, 5),), "small": ((10_000, 50, 5),)}
DTYPES = {"full": ((1_000_000, 100, 10), (200_000, 1000, 10)), "small": ((20_000, 100, 10), (4_000, 1000, 10))}
FIT_KINDS = ("standardised", "unscaled")
TOL = 1e-8
MAX_ITER = 1000


def _n(n):
    return f"{n:.0e}".replace("e+0", "e")


def loss_gradient_part(configs, threads, peak, repeats, min_sample_s):
    rows = []
    for n, d, K in configs:
        problem = multinomial_kernel_problem(n, d, K, np.float64)
        _, timed = time_problem(problem, threads, peak_flop_s=peak, repeats=repeats, min_sample_s=min_sample_s)
        rows += timed
        del problem
    header = ["n", "d", "K", "read ms", "arith ms", "bound", "fused ms", "fused GB/s", "fused % of bound",
              "reference ms", "sklearn ms", "reference/fused", "sklearn/fused"]
    lines = []
    for n, d, K in configs:
        cell = {r["method"]: r for r in rows if (r["n"], r["d"], r["n_classes"]) == (n, d, K)}
        fused = cell["fused"]
        ref, sk = cell.get("reference"), cell.get("sklearn")
        lines.append([_n(n), str(d), str(K), f"{fused['read_s'] * 1e3:.2f}", f"{fused['arith_s'] * 1e3:.2f}",
                      fused["bound"], f"{fused['median_s'] * 1e3:.2f}", f"{fused['gb_s']:.2f}",
                      f"{fused['bound_fraction']:.0%}",
                      f"{ref['median_s'] * 1e3:.2f}" if ref else "-", f"{sk['median_s'] * 1e3:.2f}" if sk else "-",
                      f"{ref['median_s'] / fused['median_s']:.2f}x" if ref else "-",
                      f"{sk['median_s'] / fused['median_s']:.2f}x" if sk else "-"])
    return rows, _format(header, lines, markdown=False)


def fits_part(shapes, threads, repeats):
    rows, notes = run_multinomial_fits(shapes, FIT_KINDS, dtype=np.float64, n_threads=threads, tol=TOL,
                                       max_iter=MAX_ITER, repeats=repeats)
    header = ["problem", "n", "d", "K", "method", "solver", "seconds", "x fastest", "iter", "says converged",
              "max|grad J|", "J"]
    lines = []
    for (n, d, K) in shapes:
        for kind in FIT_KINDS:
            group = [r for r in rows if (r["n"], r["d"], r["n_classes"], r["problem"]) == (n, d, K, kind)]
            reached = [r["median_s"] for r in group if r["error"] is None and r["grad_max"] <= 10 * TOL]
            fastest = min(reached) if reached else None
            for r in group:
                head = [kind, _n(n), str(d), str(K), r["method"], r["solver"]]
                if r["error"]:
                    lines.append(head + ["failed", "-", "-", "-", "-", r["error"][:40]])
                    continue
                lines.append(head + [f"{r['median_s']:.3f}",
                                     f"{r['median_s'] / fastest:.2f}x" if fastest else "-",
                                     str(r["n_iter"]), "yes" if r["converged"] else "no", f"{r['grad_max']:.1e}",
                                     f"{r['loss']:.10f}"])
    return rows, notes, _format(header, lines, markdown=False)


def dtypes_part(configs, threads, peak, repeats, min_sample_s):
    rows = []
    methods = [("read", "read"), ("fused", "loss_gradient")]
    for n, d, K in configs:
        for dtype in ("float64", "float32"):
            problem = multinomial_kernel_problem(n, d, K, dtype)
            _, timed = time_problem(problem, threads, peak_flop_s=peak, repeats=repeats, min_sample_s=min_sample_s,
                                    methods=methods)
            rows += [dict(r, n_classes=K) for r in timed]
            del problem
    header = ["n", "d", "K", "float64 rows/s", "float32 rows/s", "f32/f64 rows/s", "f32/f64 read", "bound f64",
              "bound f32", "% of bound f64", "% of bound f32"]
    lines = []
    for n, d, K in configs:
        get = {(r["method"], r["dtype"]): r for r in rows if (r["n"], r["d"], r["n_classes"]) == (n, d, K)}
        f64, f32 = get["fused", "float64"], get["fused", "float32"]
        r64, r32 = get["read", "float64"], get["read", "float32"]
        lines.append([_n(n), str(d), str(K), f"{f64['rows_s']:.3g}", f"{f32['rows_s']:.3g}",
                      f"{f32['rows_s'] / f64['rows_s']:.2f}x", f"{r32['rows_s'] / r64['rows_s']:.2f}x",
                      f64["bound"], f32["bound"], f"{f64['bound_fraction']:.0%}", f"{f32['bound_fraction']:.0%}"])
    return rows, _format(header, lines, markdown=False)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="every part at ~1/50 of the size: a check of the script")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {','.join(PARTS)}")
    p.add_argument("--threads", type=int, default=max_threads(), help="threads for everything (default all)")
    p.add_argument("--repeats", type=int, help="timed samples per kernel measurement (default 5, small 2)")
    p.add_argument("--fit-repeats", type=int, help="timed fits per solver (default 1; the peers take minutes)")
    p.add_argument("--output", type=Path, help="write every row as JSON to this file")
    args = p.parse_args(argv)
    parts = [s.strip() for s in args.parts.split(",") if s.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        p.error(f"--parts: unknown {sorted(unknown)}; choose from {', '.join(PARTS)}")
    if not 1 <= args.threads <= max_threads():
        p.error(f"--threads: between 1 and {max_threads()}")
    size = "small" if args.small else "full"
    repeats = args.repeats or (2 if args.small else 5)
    min_sample_s = 0.01 if args.small else 0.1
    fit_repeats = args.fit_repeats or 1
    machine = machine_info()
    print(f"Machine: {machine_line(machine)}; {args.threads} threads; {size} size", flush=True)

    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine, "size": size, "threads": args.threads, "command": sys.argv if argv is None else argv}
    if {"loss+gradient", "dtypes"} & set(parts):
        peak = measure_peak_flops(args.threads, QUICK_PEAK_GEMM_N if args.small else PEAK_GEMM_N,
                                  repeats=repeats, min_sample_s=min_sample_s)
        results["peak_flops"] = [peak]
        print(f"\nPeak: {peak['gflop_s']:.1f} GFLOP/s ({peak['how']}); arithmetic time = 4·n·d·K flops at it",
              flush=True)
        peak_flop_s = peak["gflop_s"] * 1e9
    if "loss+gradient" in parts:
        rows, table = loss_gradient_part(LOSS_GRADIENT[size], args.threads, peak_flop_s, repeats, min_sample_s)
        results["loss_gradient"] = rows
        print("\n== loss+gradient, float64: ms per call; bound = max(read of X, arithmetic) ==", table, sep="\n",
              flush=True)
    if "fits" in parts:
        rows, notes, table = fits_part(FITS[size], args.threads, fit_repeats)
        results["fits"], results["notes"] = rows, notes
        print(f"\n== fits, C=1 (l2=1/n), tol={TOL:g}, max_iter={MAX_ITER}; max|grad J| by fusedlogit ==", table,
              sep="\n", flush=True)
        for note in notes:
            print(f"Rows skipped: {note}")
    if "dtypes" in parts:
        rows, table = dtypes_part(DTYPES[size], args.threads, peak_flop_s, repeats, min_sample_s)
        results["dtypes"] = rows
        print("\n== fused loss+gradient, float32 against float64 X ==", table, sep="\n", flush=True)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=1))
        print(f"\nresults written to {args.output.resolve()}")
    return results


if __name__ == "__main__":
    main()
