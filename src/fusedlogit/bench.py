"""Command-line benchmark: kernel throughput against the memory roofline, fits, cold start.

    python -m fusedlogit.bench --quick --output results.json --plot gbs.png

Three sections (``--sections``, default all):

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

cold
    Fresh processes sharing a new, empty ``NUMBA_CACHE_DIR``: the first one
    compiles (empty cache), the second loads the machine code from it (warm
    cache).  Each reports ``import fusedlogit`` time, the Numba import, and the
    first and second call of ``loss_gradient`` and of ``hessp``.

The JSON output (``--output``) holds the machine (CPU model, cores, versions,
threading layer), the configuration and every row; ``benchmarks/
make_readme_table.py`` turns it into the README's markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import prange

from . import __version__
from ._config import max_threads, pjit
from ._kernels import partition
from .datasets import make_problem
from .objective import LogisticLoss

DEFAULT_D = (2, 8, 32, 100, 1000, 10000)
QUICK_D = (2, 32, 1000)
QUICK_N = (10_000, 100_000, 1_000_000)
DEFAULT_MEMORY_BUDGET = 2e9
QUICK_MEMORY_BUDGET = 128e6
DEFAULT_FIT_SHAPES = ((10_000, 20), (100_000, 100), (1_000_000, 20))
QUICK_FIT_SHAPES = ((10_000, 20),)
#: statsmodels builds dense n × d temporaries in Python: only small problems.
STATSMODELS_MAX_ELEMENTS = 2_000_000
KERNEL_OPS = ("loss_gradient", "gradient", "hessp")
SECTIONS = ("kernels", "fits", "cold")


# --------------------------------------------------------------------------- roofline


@pjit
def read_sum(X):
    """Σ_ij X_ij: one plain pass over a C-contiguous X, the read roofline.

    Rows are split with the kernels' own ``partition(n)``; each chunk is one
    contiguous slice of memory summed by ``ndarray.sum``, which LLVM
    vectorises with several independent accumulators, so the pass is limited
    by memory bandwidth.  (A hand-written scalar loop here ran at ~5 GB/s
    against ~34 GB/s for this on a 2-core EPYC VM: latency-bound, not a roofline.)
    The sum is accumulated in X's dtype: its value is never used, only the read.
    """
    n, d = X.shape
    flat = X.reshape(n * d)
    n_chunks, chunk = partition(n)
    partial = np.zeros(n_chunks)
    for c in prange(n_chunks):
        partial[c] = flat[c * chunk * d : min(n, (c + 1) * chunk) * d].sum()
    return partial.sum()


# --------------------------------------------------------------------------- problems and methods


@dataclass
class KernelProblem:
    """Data for timing one call: X (n, d), labels y, coef = [w, b] and direction v."""

    X: np.ndarray
    y: np.ndarray
    coef: np.ndarray
    v: np.ndarray

    @property
    def key(self):
        n, d = self.X.shape
        return n, d, self.X.dtype.name


def kernel_problem(n, d, dtype=np.float64, seed=0):
    """Standard-normal X drawn directly in ``dtype`` (no float64 copy: X may be GBs)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.dtype(dtype).type)
    coef = np.append(rng.standard_normal(d) / np.sqrt(d), 0.1)
    y = (rng.random(n) < 0.5).astype(dtype)
    v = rng.standard_normal(d + 1)
    return KernelProblem(X, y, coef, v)


def _fused(op, backend):
    def make(p, n_threads):
        obj = LogisticLoss(p.X, p.y, backend=backend, n_threads=n_threads)
        if op == "hessp":
            return lambda: obj.hessp(p.coef, p.v)
        method = getattr(obj, op)
        return lambda: method(p.coef)

    return make


def _sklearn_loss_gradient(p, n_threads):
    """scikit-learn's internal J and ∇J (HalfBinomialLoss: ℓ = log(1+e^z) − yz, mean)."""
    try:
        from sklearn._loss.loss import HalfBinomialLoss
        from sklearn.linear_model._linear_loss import LinearModelLoss
    except ImportError:
        return None
    model = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
    # Its Cython loops need y, coef and X @ coef in one dtype, as LogisticRegression passes them.
    coef = p.coef.astype(p.X.dtype)
    y = p.y.astype(p.X.dtype)
    return lambda: model.loss_gradient(coef, p.X, y, sample_weight=None, l2_reg_strength=0.0, n_threads=n_threads)


def _read(p, n_threads):
    return lambda: read_sum(p.X)


#: (method, op) -> factory(problem, n_threads) returning a zero-argument call, or
#: None when the implementation is not installed.  The benchmark suite reuses it.
KERNEL_METHODS = {
    ("read", "read"): _read,
    **{("fused", op): _fused(op, "numba") for op in KERNEL_OPS},
    **{("reference", op): _fused(op, "numpy") for op in KERNEL_OPS},
    ("sklearn", "loss_gradient"): _sklearn_loss_gradient,
}


@contextlib.contextmanager
def pinned_threads(n_threads):
    """Numba, BLAS and OpenMP pools all limited to ``n_threads`` inside the block."""
    import numba
    from threadpoolctl import threadpool_limits

    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        numba.set_num_threads(previous)


# --------------------------------------------------------------------------- timing


def time_call(fn, *, repeats=5, min_sample_s=0.05):
    """Per-call seconds: ``repeats`` samples, each of ``number`` back-to-back calls.

    One untimed call first (compilation, first touch of pages), then ``number``
    is chosen so that one sample lasts at least ``min_sample_s``, which keeps
    the clock's resolution out of microsecond calls.  Returns (samples, number).
    """
    fn()
    t = time.perf_counter()
    fn()
    once = time.perf_counter() - t
    number = max(1, math.ceil(min_sample_s / max(once, 1e-9)))
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t) / number)
    return samples, number


def _progress(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- grid


def n_grid(d, itemsize, budget_bytes, n_values=None):
    """n = 10^4, 10^5, ... (or the given values) while X = n·d·itemsize fits the budget."""
    if n_values is None:
        n_values = [10**k for k in range(4, 13)]
    return [n for n in n_values if n * d * itemsize <= budget_bytes]


def thread_grid(max_threads, quick=False):
    """1, 2, 4, ... and always the maximum; only 1 and the maximum with ``quick``."""
    if quick:
        counts = {1, max_threads}
    else:
        counts = {2**k for k in range(max_threads.bit_length()) if 2**k <= max_threads} | {max_threads}
    return sorted(counts)


# --------------------------------------------------------------------------- kernels section


def run_kernels(ns, ds, dtypes, threads, *, budget_bytes, repeats, min_sample_s, methods=None):
    """Time every method of ``KERNEL_METHODS`` on the grid; one dict per measurement."""
    methods = methods or list(KERNEL_METHODS)
    rows = []
    for dtype in dtypes:
        itemsize = np.dtype(dtype).itemsize
        for d in ds:
            for n in n_grid(d, itemsize, budget_bytes, ns):
                problem = kernel_problem(n, d, dtype)
                for k in threads:
                    rows.extend(_time_configuration(problem, k, methods, repeats, min_sample_s))
                del problem
    return rows


def _time_configuration(problem, n_threads, methods, repeats, min_sample_s):
    n, d, dtype = problem.key
    nbytes = problem.X.nbytes
    rows = []
    read_gb_s = None
    with pinned_threads(n_threads):
        for method, op in sorted(methods, key=lambda m: m != ("read", "read")):  # the roofline first
            call = KERNEL_METHODS[method, op](problem, n_threads)
            if call is None:
                continue
            samples, number = time_call(call, repeats=repeats, min_sample_s=min_sample_s)
            median = statistics.median(samples)
            gb_s = nbytes / median / 1e9
            if method == "read":
                read_gb_s = gb_s
            row = {
                "method": method,
                "op": op,
                "n": n,
                "d": d,
                "dtype": dtype,
                "n_threads": n_threads,
                "median_s": median,
                "min_s": min(samples),
                "repeats": repeats,
                "number": number,
                "rows_s": n / median,
                "gb_s": gb_s,
                "x_bytes": nbytes,
                "roofline_fraction": gb_s / read_gb_s if read_gb_s else None,
            }
            rows.append(row)
            _progress(
                f"kernels n={n:<9} d={d:<5} {dtype:<7} threads={n_threads:<2} {method:>9} {op:<13} "
                f"{median * 1e3:10.4f} ms  {gb_s:7.2f} GB/s"
                + (f"  {row['roofline_fraction']:5.0%} of read" if read_gb_s else "")
            )
    return rows


# --------------------------------------------------------------------------- fits section


def _load_fit():
    """``fusedlogit.fit`` and its solver names, or (None, reason)."""
    try:
        from . import fit
    except ImportError as exc:
        return None, f"fusedlogit.fit is not importable ({exc})"
    fit = getattr(fit, "fit", fit)  # the function, also if only its module is there
    module = sys.modules.get(getattr(fit, "__module__", ""), None)
    names = getattr(sys.modules[__package__], "SOLVERS", None) or getattr(module, "SOLVERS", None)
    solvers = [s for s in (names or ("auto",)) if s != "auto"] or ["auto"]
    return fit, solvers


def _fit_fusedlogit(fit, solver):
    def run(X, y, tol, max_iter, n_threads):
        # n_threads=None is fit's default, all cores: what a user runs.  The
        # peers are pinned to the same count by ``pinned_threads``.
        if n_threads == max_threads():
            n_threads = None
        res = fit(X, y, solver=solver, tol=tol, max_iter=max_iter, n_threads=n_threads)
        coef = np.append(np.asarray(res.coef, dtype=np.float64), float(res.intercept))
        return coef, int(res.n_iter), bool(res.converged)

    return run


def _fit_sklearn(solver):
    def run(X, y, tol, max_iter, n_threads):
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = LogisticRegression(C=np.inf, solver=solver, tol=tol, max_iter=max_iter).fit(X, y)
        n_iter = int(np.max(model.n_iter_))
        failed = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        return np.append(model.coef_.ravel(), model.intercept_[0]), n_iter, n_iter < max_iter and not failed

    return run


def _fit_glum(X, y, tol, max_iter, n_threads):
    from glum import GeneralizedLinearRegressor

    model = GeneralizedLinearRegressor(family="binomial", alpha=0, gradient_tol=tol, max_iter=max_iter).fit(X, y)
    n_iter = int(model.n_iter_)
    return np.append(model.coef_, model.intercept_), n_iter, n_iter < max_iter


def _fit_statsmodels(X, y, tol, max_iter, n_threads):
    import statsmodels.api as sm

    X1 = np.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))])  # intercept last, like coef
    res = sm.Logit(y, X1).fit(method="newton", tol=tol, maxiter=max_iter, disp=0)
    return np.asarray(res.params), int(res.mle_retvals["iterations"]), bool(res.mle_retvals["converged"])


def _importable(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


def fit_methods(solvers=None):
    """[(method, solver, run)] for every fitter installed; ``run`` returns (coef, n_iter, converged)."""
    methods = []
    fit, found = _load_fit()
    if fit is None:
        _progress(f"fits: {found}; fusedlogit rows skipped, peers still run")
    else:
        methods += [("fusedlogit", s, _fit_fusedlogit(fit, s)) for s in (solvers or found)]
    if _importable("sklearn"):
        methods += [("sklearn", s, _fit_sklearn(s)) for s in ("lbfgs", "newton-cholesky")]
    if _importable("glum"):
        methods.append(("glum", "irls", _fit_glum))
    if _importable("statsmodels"):
        methods.append(("statsmodels", "newton", _fit_statsmodels))
    return methods


def run_fits(shapes, kinds, *, dtype, n_threads, tol, max_iter, repeats, solvers=None):
    """Time every fitter on each problem; J and max|∇J| re-evaluated by ``LogisticLoss``."""
    import warnings

    methods = fit_methods(solvers)
    rows = []
    for n, d in shapes:
        for kind in kinds:
            X, y, _, _ = make_problem(n, d, kind=kind, dtype=dtype, seed=1)
            X_warm, y_warm, _, _ = make_problem(200, d, kind=kind, dtype=dtype, seed=2)
            objective = LogisticLoss(X, y, n_threads=n_threads)
            for method, solver, run in methods:
                if method == "statsmodels" and n * d > STATSMODELS_MAX_ELEMENTS:
                    continue
                row = {"method": method, "solver": solver, "problem": kind, "n": n, "d": d,
                       "dtype": np.dtype(dtype).name, "n_threads": n_threads, "tol": tol, "max_iter": max_iter}
                try:
                    with pinned_threads(n_threads), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        run(X_warm, y_warm, tol, max_iter, n_threads)  # compile / import, untimed
                        samples = []
                        for _ in range(repeats):
                            t = time.perf_counter()
                            coef, n_iter, converged = run(X, y, tol, max_iter, n_threads)
                            samples.append(time.perf_counter() - t)
                    loss, grad = objective.loss_gradient(coef)
                    row.update(median_s=statistics.median(samples), min_s=min(samples), repeats=repeats,
                               n_iter=n_iter, converged=converged, loss=loss,
                               grad_max=float(np.max(np.abs(grad))), error=None)
                    _progress(
                        f"fits    {kind:<4} n={n:<8} d={d:<4} {method:>11} {solver:<15} {row['median_s']:8.3f} s  "
                        f"iter={n_iter:<5} max|grad|={row['grad_max']:.1e}  J={loss:.10g}"
                    )
                except Exception as exc:  # a peer failing is a result, not a crash
                    row.update(median_s=None, min_s=None, repeats=0, n_iter=None, converged=False, loss=None,
                               grad_max=None, error=f"{type(exc).__name__}: {exc}")
                    _progress(f"fits    {kind:<4} n={n:<8} d={d:<4} {method:>11} {solver:<15} failed: {row['error']}")
                rows.append(row)
    return rows


# --------------------------------------------------------------------------- cold start

_COLD_CHILD = r"""
import json, time
t0 = time.perf_counter()
import fusedlogit
t1 = time.perf_counter()
import fusedlogit._config
t2 = time.perf_counter()
import numpy as np
rng = np.random.default_rng(0)
X = rng.standard_normal((1000, 10)).astype(np.{dtype})
y = (rng.random(1000) < 0.5).astype(np.float64)
coef = np.zeros(11)
obj = fusedlogit.LogisticLoss(X, y)
laps = []
for call in (lambda: obj.loss_gradient(coef), lambda: obj.loss_gradient(coef),
             lambda: obj.hessp(coef, coef + 1.0), lambda: obj.hessp(coef, coef + 1.0)):
    t = time.perf_counter()
    call()
    laps.append(time.perf_counter() - t)
print(json.dumps({{"import_s": t1 - t0, "numba_import_s": t2 - t1,
                  "first_loss_gradient_s": laps[0], "second_loss_gradient_s": laps[1],
                  "first_hessp_s": laps[2], "second_hessp_s": laps[3]}}))
"""


def run_cold_start(dtype="float64"):
    """Two fresh processes on one new NUMBA_CACHE_DIR: empty cache, then warm cache."""
    package_root = str(Path(__file__).resolve().parent.parent)
    env = {k: v for k, v in os.environ.items() if k != "FUSEDLOGIT_NO_CACHE"}
    env["PYTHONPATH"] = os.pathsep.join([package_root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fusedlogit-cold-") as cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
        for cache in ("empty", "warm"):
            t = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", _COLD_CHILD.format(dtype=dtype)],
                env=env, capture_output=True, text=True, check=True,
            )
            wall = time.perf_counter() - t
            row = {"cache": cache, "dtype": dtype, "process_wall_s": wall, **json.loads(out.stdout.strip().splitlines()[-1])}
            rows.append(row)
            _progress(
                f"cold    cache={cache:<5} import {row['import_s']:.3f} s  numba import {row['numba_import_s']:.3f} s  "
                f"first loss_gradient {row['first_loss_gradient_s']:.3f} s  first hessp {row['first_hessp_s']:.3f} s  "
                f"process {wall:.2f} s"
            )
    return rows


# --------------------------------------------------------------------------- machine


def machine_info():
    """What is needed to never mix results of two machines or two installs."""
    import numba
    import scipy

    info = {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "memory_gb": _memory_gb(),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "fusedlogit": __version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "scipy": scipy.__version__,
    }
    for name in ("sklearn", "glum", "statsmodels", "threadpoolctl"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = None
    read_sum(np.ones((8, 2)))  # a parallel launch, so that the layer is known
    info["threading_layer"] = numba.threading_layer()
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = sorted({f"{p['internal_api']} {p.get('version')}" for p in threadpool_info() if p["user_api"] == "blas"})
    except Exception:
        info["blas"] = None
    return info


def _cpu_model():
    try:
        text = Path("/proc/cpuinfo").read_text()
        match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        if match:
            return match.group(1).strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb():
    try:
        match = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        return round(int(match.group(1)) / 1e6, 1) if match else None
    except OSError:
        return None


# --------------------------------------------------------------------------- report


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
    header = ["problem", "n", "d", "method", "solver", "seconds", "iter", "says converged", "max|grad J|", "J"]
    lines = []
    for r in rows:
        if r["error"]:
            lines.append([r["problem"], str(r["n"]), str(r["d"]), r["method"], r["solver"], "failed", "-", "-", "-",
                          r["error"][:40]])
            continue
        lines.append([r["problem"], str(r["n"]), str(r["d"]), r["method"], r["solver"], f"{r['median_s']:.3f}",
                      str(r["n_iter"]), "yes" if r["converged"] else "no", f"{r['grad_max']:.1e}", f"{r['loss']:.10f}"])
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


def machine_line(machine):
    return (f"{machine['cpu_model']}, {machine['usable_cores']} cores, numba {machine['numba']} "
            f"({machine['threading_layer']}), numpy {machine['numpy']}, {', '.join(machine['blas'] or [])}")


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
    if results.get("cold_start"):
        parts += [heading("Cold start (fresh processes)"), cold_table(results["cold_start"], markdown)]
    return "\n".join(parts)


def plot(results, path):
    """GB/s of fused loss+gradient against d, one line per n, the read roofline dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["kernels"]
    k = max(r["n_threads"] for r in rows)
    dtypes = sorted({r["dtype"] for r in rows})
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6 * len(dtypes), 4.5), squeeze=False, sharey=True)
    for ax, dtype in zip(axes[0], dtypes):
        ns = sorted({r["n"] for r in rows if r["dtype"] == dtype})
        for i, n in enumerate(ns):
            color = f"C{i}"
            for method, style, label in (("fused", "o-", f"fused n={n:.0e}"), ("read", "--", f"read n={n:.0e}")):
                pts = sorted((r["d"], r["gb_s"]) for r in rows if r["dtype"] == dtype and r["n"] == n
                             and r["n_threads"] == k and r["method"] == method and r["op"] in ("loss_gradient", "read"))
                if pts:
                    ax.plot(*zip(*pts), style, color=color, label=label)
        ax.set_xscale("log")
        ax.set_xlabel("d (features)")
        ax.set_title(f"loss+gradient, {dtype}, {k} threads")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("GB/s of X read")
    fig.suptitle(machine_line(results["machine"]), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------- command line


def _size(text):
    """'2GB', '512MB', '1e9' -> bytes."""
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([KMGT]?B?)\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 2GB, 512MB)")
    unit = match.group(2).upper().rstrip("B")
    return float(match.group(1)) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[unit]


def _ints(text):
    return [int(float(v)) for v in text.split(",") if v.strip()]


def _names(text):
    return [v.strip() for v in text.split(",") if v.strip()]


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m fusedlogit.bench",
        description="Throughput of fusedlogit's kernels against a plain read of X and against the peers; "
        "fits to a tolerance; cold-start times.",
    )
    p.add_argument("--quick", action="store_true", help="a small grid that runs in under 2 minutes on 2 cores")
    p.add_argument("--sections", type=_names, default=list(SECTIONS), help="comma list of kernels,fits,cold")
    p.add_argument("--n", type=_ints, help="comma list of n (default 1e4, 1e5, ... within the memory budget)")
    p.add_argument("--d", type=_ints, help=f"comma list of d (default {','.join(map(str, DEFAULT_D))})")
    p.add_argument("--dtypes", type=_names, default=["float64", "float32"], help="comma list (default float64,float32)")
    p.add_argument("--threads", type=_ints, help="comma list of thread counts (default 1, 2, 4, ..., all)")
    p.add_argument("--memory-budget", type=_size, help="largest X in bytes, e.g. 2GB (default 2GB, quick 128MB)")
    p.add_argument("--repeats", type=int, help="timed samples per measurement (default 5, quick 3)")
    p.add_argument("--min-time", type=float, help="seconds per timed sample, at least (default 0.1, quick 0.03)")
    p.add_argument("--methods", type=_names, help="comma list of method:op, e.g. fused:hessp,read:read (default all)")
    p.add_argument("--fit-shapes", type=_names, help="comma list of NxD fit problems, e.g. 10000x20,100000x100")
    p.add_argument("--fit-kinds", type=_names, default=["well", "ill"], help="comma list of well,ill")
    p.add_argument("--fit-tol", type=float, default=1e-8, help="tolerance given to every solver (default 1e-8)")
    p.add_argument("--fit-max-iter", type=int, default=1000, help="iteration cap for every solver (default 1000)")
    p.add_argument("--fit-repeats", type=int, help="timed fits per solver (default 3, quick 1)")
    p.add_argument("--solvers", type=_names, help="fusedlogit solvers to fit with (default all it lists)")
    p.add_argument("--output", type=Path, help="write the results as JSON to this file")
    p.add_argument("--plot", type=Path, help="write GB/s against d as a PNG (needs matplotlib)")
    return p


def main(argv=None):
    """Entry point of ``python -m fusedlogit.bench`` and of the ``fusedlogit-bench`` script."""
    run(argv)
    return 0


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
        "fit_shapes": [tuple(_ints(s.replace("x", ","))) for s in args.fit_shapes]
        if args.fit_shapes else list(QUICK_FIT_SHAPES if quick else DEFAULT_FIT_SHAPES),
        "fit_kinds": args.fit_kinds,
        "fit_tol": args.fit_tol,
        "fit_max_iter": args.fit_max_iter,
        "fit_repeats": args.fit_repeats or (1 if quick else 3),
        "command": sys.argv if argv is None else ["fusedlogit.bench", *argv],
    }
    for m in config["methods"]:
        if m not in KERNEL_METHODS:
            raise SystemExit(f"--methods: unknown {':'.join(m)}; choose from "
                             f"{', '.join(':'.join(k) for k in KERNEL_METHODS)}")
    if max(config["threads"]) > all_threads:
        raise SystemExit(f"--threads: at most {all_threads} (NUMBA_NUM_THREADS)")

    started = time.perf_counter()
    results = {
        "schema": 1,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": config,
        "kernels": [],
        "fits": [],
        "cold_start": [],
    }
    _progress(f"fusedlogit.bench on {machine_line(results['machine'])}")
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
    if "cold" in config["sections"]:
        results["cold_start"] = run_cold_start()
    results["elapsed_s"] = time.perf_counter() - started

    print(report(results))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=1))
        _progress(f"wrote {args.output}")
    if args.plot:
        if not results["kernels"]:
            _progress("--plot: no kernel rows to plot")
        else:
            try:
                plot(results, args.plot)
                _progress(f"wrote {args.plot}")
            except ImportError:
                _progress("--plot needs matplotlib (pip install matplotlib); no plot written")
    return results


if __name__ == "__main__":
    sys.exit(main())
