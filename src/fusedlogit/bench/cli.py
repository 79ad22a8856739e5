"""Command-line benchmark: kernel throughput against the memory roofline, fits, cold start.

    python -m fusedlogit.bench --quick --output results.json --plot gbs.png

Six sections (``--sections``, default all but ``l1``):

kernels
    For every (n, d, dtype, n_threads) of the grid, the median and min time of
    one call of: the fused Numba kernels through ``LogisticLoss`` (loss+gradient,
    gradient, hessp), the NumPy reference path (same three), scikit-learn's
    internal ``LinearModelLoss.loss_gradient`` (when installed; the same
    HalfBinomial loss, also mean-scaled) and ``read``: a plain one-pass sum of
    every element of the same X with the same threads and the same row-chunk
    partition as the kernels.  ``read`` is the roofline::

        gb_s              = X.nbytes / median_s / 1e9
        rows_s            = n / median_s
        roofline_fraction = gb_s / gb_s(read, same n, d, dtype, n_threads)

    Threads are pinned per configuration: Numba's pool by
    ``numba.set_num_threads`` (and ``LogisticLoss(n_threads=k)``), BLAS and
    OpenMP pools by threadpoolctl.  Calls are timed as the public API is used,
    so per-call Python overhead counts.

fits
    Seconds to the same tolerance on ``make_problem`` "well" and "ill" data
    (no penalty, with intercept): ``fusedlogit.fit`` with each solver, then
    scikit-learn's lbfgs and newton-cholesky, glum's IRLS and, for small
    problems, statsmodels' Newton.  Every solution's J and max|∇J| are
    re-evaluated with fusedlogit's ``LogisticLoss`` (mean loss), so that the
    peers' own stopping rules can be compared on one scale.

multinomial
    The softmax objective's one fused pass, ``MultinomialLoss.loss_gradient``,
    for K = 3, 10, 50 classes (``--classes``) on the kernels' (n, d) grid
    (where X and the peers' n × K temporaries fit the memory budget; quick:
    n = 1e5, d = 20, 100, K = 3, 10): fused (Numba), reference (NumPy) and
    scikit-learn's ``LinearModelLoss(HalfMultinomialLoss(K)).loss_gradient``
    (same mean loss), beside the plain read of X.  The pass does ~4·d·K flops
    per row, so its limit is max(read time of X, arithmetic time)::

        read_s         = median time of ``read`` on the same X and threads
        arith_s        = 4·n·d·K / peak,  peak = float64 GEMM flop rate, same threads
        bound_fraction = max(read_s, arith_s) / median_s

    The peak is measured once per thread count at the start of the section
    (2m³ / fastest sample of NumPy's float64 m × m matrix product) and kept in
    the results as ``peak_flops`` (see ``bench.multinomial``).

multinomial-fits
    Seconds to ``--fit-tol`` for K classes (``--multinomial-fit-shapes``,
    default 500000x50x5, quick 20000x20x3), C = 1: ``fusedlogit.fit`` (only
    once it fits multiclass y: until then its rows are skipped with a note)
    and scikit-learn's ``LogisticRegression(C=1)`` lbfgs and newton-cholesky,
    every solution's J and max|∇J| re-evaluated with ``MultinomialLoss`` at
    l2 = 1/(C·n), the same objective in fusedlogit's mean scaling.

cold
    Fresh processes sharing a new, empty ``NUMBA_CACHE_DIR``: the first one
    compiles (empty cache), the second loads the machine code from it (warm
    cache).  Each reports ``import fusedlogit`` time, the Numba import, and the
    first and second call of ``loss_gradient`` and of ``hessp``.

l1
    L1 / elastic-net fits against glum and scikit-learn (``bench.l1``, which
    documents the problems): a dense path of 100 α, one fit on a wide sparse X
    and 5-fold cross-validation over 50 α, every solution re-scored by
    fusedlogit's KKT measure.  The peers run in child processes, killed after
    ``--l1-peer-timeout`` seconds.  Full size needs ~4 GB and about half an
    hour on 2 cores; ``--quick`` runs it at 1/20 of n.  Its own tables and
    rows are printed as it goes and kept in the results under ``l1``.

The JSON output (``--output``) holds the machine (CPU model, cores, versions,
threading layer), the configuration and every row; ``benchmarks/
make_readme_table.py`` turns it into the README's markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from .._config import max_threads
from ..datasets import KINDS
from ..solvers import SOLVERS
from .cold import run_cold_start
from .fits import DEFAULT_FIT_SHAPES, QUICK_FIT_SHAPES, _importable, missing_peers, run_fits
from .grid import DEFAULT_D, DEFAULT_MEMORY_BUDGET, QUICK_D, QUICK_MEMORY_BUDGET, QUICK_N, thread_grid
from .kernels import run_kernels
from .machine import machine_info, machine_line
from .methods import KERNEL_METHODS
from .multinomial import CLASSES, PEAK_GEMM_N, QUICK_CLASSES, QUICK_PEAK_GEMM_N, run_multinomial
from .multinomial import QUICK_D as MULTINOMIAL_QUICK_D
from .multinomial import QUICK_N as MULTINOMIAL_QUICK_N
from .multinomial_fits import (
    DEFAULT_MULTINOMIAL_FIT_SHAPES,
    MULTINOMIAL_KINDS,
    QUICK_MULTINOMIAL_FIT_SHAPES,
    run_multinomial_fits,
)
from .plot import plot
from .report import report
from .timing import progress

SECTIONS = ("kernels", "fits", "multinomial", "multinomial-fits", "cold", "l1")
#: ``l1`` takes half an hour and needs the peers: only when asked for.
DEFAULT_SECTIONS = SECTIONS[:-1]


def _size(text):
    """'2GB', '512MB', '1e9' -> bytes."""
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([KMGT]?B?)\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 2GB, 512MB)")
    unit = match.group(2).upper().rstrip("B")
    return float(match.group(1)) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[unit]


def _ints(text):
    return [int(float(v)) for v in text.split(",") if v.strip()]


def _positive_ints(text):
    """'1e5,1e6' -> [100000, 1000000]; every value an integer ≥ 1."""
    try:
        values = _ints(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma list of integers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"every value must be an integer >= 1, got {text!r}")
    return values


def _positive_int(text):
    values = _positive_ints(text)
    if len(values) != 1:
        raise argparse.ArgumentTypeError(f"not one integer: {text!r}")
    return values[0]


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def _choices(*allowed):
    """Type of a comma list whose every entry is one of ``allowed``."""

    def parse(text):
        names = _names(text)
        unknown = [v for v in names if v not in allowed]
        if not names or unknown:
            raise argparse.ArgumentTypeError(f"unknown {unknown or text!r}; choose from {', '.join(allowed)}")
        return names

    return parse


def _shapes(text):
    """'10000x20,100000x100' -> [(10000, 20), (100000, 100)]."""
    shapes = []
    for item in _names(text):
        parts = item.lower().split("x")
        shape = _positive_ints(",".join(parts)) if len(parts) == 2 else None
        if shape is None or len(shape) != 2:
            raise argparse.ArgumentTypeError(f"not an NxD shape: {item!r} (e.g. 10000x20)")
        shapes.append(tuple(shape))
    return shapes


def _class_shapes(text):
    """'500000x50x5' -> [(500000, 50, 5)]: n, d and K ≥ 3 (fit takes K = 2 as binary logistic regression)."""
    shapes = []
    for item in _names(text):
        parts = item.lower().split("x")
        try:
            shape = _positive_ints(",".join(parts)) if len(parts) == 3 else None
        except argparse.ArgumentTypeError:
            shape = None
        if shape is None or len(shape) != 3 or shape[2] < 3:
            raise argparse.ArgumentTypeError(f"not an NxDxK shape with K >= 3: {item!r} (e.g. 500000x50x5)")
        shapes.append(tuple(shape))
    return shapes


def _classes(text):
    values = _positive_ints(text)
    if min(values) < 2:
        raise argparse.ArgumentTypeError(f"every K must be >= 2, got {text!r}")
    return values


def _names(text):
    return [v.strip() for v in text.split(",") if v.strip()]


def build_parser():
    # bench.l1 is imported here, not with this module: ``python -m fusedlogit.bench.l1`` runs it as __main__
    from .l1 import PARTS as L1_PARTS

    p = argparse.ArgumentParser(
        prog="python -m fusedlogit.bench",
        description="Throughput of fusedlogit's kernels against a plain read of X and against the peers; "
        "multinomial loss+gradient against max(read, arithmetic); fits to a tolerance; cold-start times.",
    )
    p.add_argument("--quick", action="store_true", help="a small grid that runs in under 2 minutes on 2 cores")
    p.add_argument("--sections", type=_names, default=list(DEFAULT_SECTIONS),
                   help=f"comma list of {','.join(SECTIONS)} (default all but l1)")
    p.add_argument("--n", type=_positive_ints, help="comma list of n (default 1e4, 1e5, ... within the memory budget; "
                   "quick 1e4,1e5,1e6, multinomial 1e5)")
    p.add_argument("--d", type=_positive_ints, help=f"comma list of d (default {','.join(map(str, DEFAULT_D))}; "
                   f"quick {','.join(map(str, QUICK_D))}, multinomial {','.join(map(str, MULTINOMIAL_QUICK_D))})")
    p.add_argument(
        "--dtypes", type=_choices("float64", "float32"), default=["float64", "float32"],
        help="comma list (default float64,float32)",
    )
    p.add_argument("--threads", type=_positive_ints, help="comma list of thread counts (default 1, 2, 4, ..., all)")
    p.add_argument("--memory-budget", type=_size, help="largest X in bytes, e.g. 2GB (default 2GB, quick 128MB)")
    p.add_argument("--repeats", type=_positive_int, help="timed samples per measurement (default 5, quick 3)")
    p.add_argument("--min-time", type=_positive_float, help="seconds per timed sample, at least (default 0.1, quick 0.03)")
    p.add_argument("--methods", type=_names, help="comma list of method:op, e.g. fused:hessp,read:read (default all)")
    p.add_argument(
        "--classes", type=_classes,
        help=f"multinomial: comma list of K (default {','.join(map(str, CLASSES))}, "
        f"quick {','.join(map(str, QUICK_CLASSES))})",
    )
    p.add_argument(
        "--gemm-m", type=_positive_int,
        help=f"multinomial: m of the float64 m x m GEMM that measures the peak flop rate "
        f"(default {PEAK_GEMM_N}, quick {QUICK_PEAK_GEMM_N})",
    )
    p.add_argument("--fit-shapes", type=_shapes, help="comma list of NxD fit problems, e.g. 10000x20,100000x100")
    p.add_argument("--fit-kinds", type=_choices(*KINDS), default=["well", "ill"], help="comma list of well,ill")
    p.add_argument(
        "--multinomial-fit-shapes", type=_class_shapes,
        help="comma list of NxDxK multinomial fit problems (default 500000x50x5, quick 20000x20x3)",
    )
    p.add_argument(
        "--multinomial-fit-kinds", type=_choices(*MULTINOMIAL_KINDS), default=["standardised"],
        help="comma list of standardised,unscaled (default standardised)",
    )
    p.add_argument("--fit-tol", type=_positive_float, default=1e-8, help="tolerance given to every solver (default 1e-8)")
    p.add_argument("--fit-max-iter", type=_positive_int, default=1000, help="iteration cap for every solver (default 1000)")
    p.add_argument("--fit-repeats", type=_positive_int, help="timed fits per solver (default 3, quick 1)")
    p.add_argument(
        "--solvers", type=_choices(*(s for s in SOLVERS if s != "auto")),
        help="fusedlogit solvers to fit with (default all it lists; multinomial fits: newton,lbfgs,newton-cg)",
    )
    p.add_argument("--l1-parts", type=_choices(*L1_PARTS), default=list(L1_PARTS),
                   help=f"l1: comma list of {','.join(L1_PARTS)} (default all)")
    p.add_argument("--l1-peer-timeout", type=_positive_float, default=600.0,
                   help="l1: seconds a peer's fit may run before it is killed (default 600)")
    p.add_argument("--output", type=Path, help="write the results as JSON to this file")
    p.add_argument("--plot", type=Path, help="write GB/s against d as a PNG (needs matplotlib)")
    return p


def main(argv=None):
    """Entry point of ``python -m fusedlogit.bench`` and of the ``fusedlogit-bench`` script."""
    try:
        run(argv)
    except KeyboardInterrupt:  # the finished sections are written already (see run)
        return 130
    return 0


def _check_writable(option, path):
    """Refuse, before minutes of benchmarking, an ``--output``/``--plot`` path that cannot be written."""
    if path is None:
        return
    existed = path.exists()
    try:
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a"):
            pass
    except OSError as exc:
        raise SystemExit(f"{option}: cannot write {path} ({exc.strerror or exc})") from None
    if not existed:
        path.unlink()  # only a probe: nothing is left behind if the run fails


def run(argv=None):
    """Parse ``argv``, run the chosen sections, print the tables; returns the results dict."""
    args = build_parser().parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"--sections: unknown {sorted(unknown)}; choose from {SECTIONS}")
    quick = args.quick
    all_threads = max_threads()
    config = {
        "quick": quick,
        "sections": args.sections,
        "d": args.d or list(QUICK_D if quick else DEFAULT_D),
        "n": args.n or (list(QUICK_N) if quick else None),
        "dtypes": args.dtypes,
        "threads": args.threads or thread_grid(all_threads, quick),
        "memory_budget_bytes": args.memory_budget or (QUICK_MEMORY_BUDGET if quick else DEFAULT_MEMORY_BUDGET),
        "repeats": args.repeats or (3 if quick else 5),
        "min_sample_s": args.min_time if args.min_time is not None else (0.03 if quick else 0.1),
        "methods": [tuple(m.split(":")) for m in args.methods] if args.methods else list(KERNEL_METHODS),
        "fit_shapes": args.fit_shapes or list(QUICK_FIT_SHAPES if quick else DEFAULT_FIT_SHAPES),
        "fit_kinds": args.fit_kinds,
        "fit_tol": args.fit_tol,
        "fit_max_iter": args.fit_max_iter,
        "fit_repeats": args.fit_repeats or (1 if quick else 3),
        "classes": args.classes or list(QUICK_CLASSES if quick else CLASSES),
        "multinomial_n": args.n or (list(MULTINOMIAL_QUICK_N) if quick else None),
        "multinomial_d": args.d or list(MULTINOMIAL_QUICK_D if quick else DEFAULT_D),
        "peak_gemm_m": args.gemm_m or (QUICK_PEAK_GEMM_N if quick else PEAK_GEMM_N),
        "multinomial_fit_shapes": args.multinomial_fit_shapes or list(
            QUICK_MULTINOMIAL_FIT_SHAPES if quick else DEFAULT_MULTINOMIAL_FIT_SHAPES),
        "multinomial_fit_kinds": args.multinomial_fit_kinds,
        "l1_parts": args.l1_parts,
        "l1_peer_timeout_s": args.l1_peer_timeout,
        "command": sys.argv if argv is None else ["fusedlogit.bench", *argv],
    }
    for m in config["methods"]:
        if m not in KERNEL_METHODS:
            raise SystemExit(f"--methods: unknown {':'.join(m)}; choose from "
                             f"{', '.join(':'.join(k) for k in KERNEL_METHODS)}")
    if max(config["threads"]) > all_threads:
        raise SystemExit(f"--threads: at most {all_threads} (NUMBA_NUM_THREADS)")
    _check_writable("--output", args.output)
    _check_writable("--plot", args.plot)

    started = time.perf_counter()
    results = {
        "schema": 1,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": config,
        "kernels": [],
        "fits": [],
        "multinomial": [],
        "peak_flops": [],
        "multinomial_fits": [],
        "multinomial_notes": [],
        "cold_start": [],
        "l1": {},
    }
    progress(f"fusedlogit.bench on {machine_line(results['machine'])}")
    interrupted = False
    try:
        if "kernels" in config["sections"]:
            results["kernels"] = run_kernels(
                config["n"], config["d"], config["dtypes"], config["threads"],
                budget_bytes=config["memory_budget_bytes"], repeats=config["repeats"],
                min_sample_s=config["min_sample_s"], methods=config["methods"],
            )
        if "fits" in config["sections"]:
            results["fits"] = run_fits(
                config["fit_shapes"], config["fit_kinds"], dtype=np.float64, n_threads=max(config["threads"]),
                tol=config["fit_tol"], max_iter=config["fit_max_iter"], repeats=config["fit_repeats"],
                solvers=args.solvers,
            )
        if "multinomial" in config["sections"]:
            results["multinomial"], results["peak_flops"] = run_multinomial(
                config["multinomial_n"], config["multinomial_d"], config["classes"], config["dtypes"],
                config["threads"], budget_bytes=config["memory_budget_bytes"], repeats=config["repeats"],
                min_sample_s=config["min_sample_s"], gemm_m=config["peak_gemm_m"],
            )
            if not _importable("sklearn"):
                results["multinomial_notes"].append("scikit-learn loss+gradient: not installed")
        if "multinomial-fits" in config["sections"]:
            results["multinomial_fits"], notes = run_multinomial_fits(
                config["multinomial_fit_shapes"], config["multinomial_fit_kinds"], dtype=np.float64,
                n_threads=max(config["threads"]), tol=config["fit_tol"], max_iter=config["fit_max_iter"],
                repeats=config["fit_repeats"], solvers=args.solvers,
            )
            results["multinomial_notes"] += notes
        if "cold" in config["sections"]:
            results["cold_start"] = run_cold_start()
        if "l1" in config["sections"]:
            from .l1 import run_l1  # not at import: see build_parser

            results["l1"] = run_l1(config["l1_parts"], small=quick, threads=max(config["threads"]),
                                   peer_timeout=config["l1_peer_timeout_s"])
    except KeyboardInterrupt:
        interrupted = True
        results["interrupted"] = True
        progress("interrupted: reporting and saving the sections that finished")
    results["elapsed_s"] = time.perf_counter() - started

    print(report(results))
    missing = missing_peers()
    if missing and set(config["sections"]) & {"kernels", "fits", "multinomial", "multinomial-fits"}:
        progress(f"not installed, so skipped: {', '.join(missing)} (pip install \"fusedlogit[bench]\" adds all but "
                 "sklearnex: pip install scikit-learn-intelex)")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=1))
        progress(f"results written to {args.output.resolve()}")
    else:
        progress("results not saved: add --output results.json (and --plot gbs.png) to keep them")
    if args.plot:
        if not results["kernels"]:
            progress("--plot: no kernel rows to plot")
        else:
            try:
                plot(results, args.plot)
                progress(f"wrote {args.plot}")
            except ImportError:
                progress("--plot needs matplotlib (pip install matplotlib); no plot written")
    if interrupted:
        raise KeyboardInterrupt
    return results
