"""Every solver of ``fusedlogit.fit`` on unscaled and on standardised data, before and after a change, interleaved.

Problems (``fusedlogit.datasets``):

- ``mixed-500k-60``: ``make_mixed_scale_problem(500_000, 60)``, one-hot
  indicators of a 51-level categorical beside 10 money/age/year columns, l2 = 0;
- ``mixed-50k-1500``: ``make_mixed_scale_problem(50_000, 1500, n_numeric=30)``,
  1501 coefficients ("auto" is not Newton there), l2 = 0;
- ``well-1M-100``: ``make_problem(1_000_000, 100)``, standard-normal columns,
  l2 = 1/n (as ``fit_large.py``'s C = 1).

Each (problem, version) runs in a fresh subprocess that imports that
version's ``fusedlogit`` (``--before-rev``: a ``git archive`` of that revision's
``src``, extracted to a temporary folder; "after": this working tree), loads
the saved problem and fits it with newton, lbfgs, newton-cg and auto (auto
is not refitted where it resolves to a solver already timed).  Rounds
alternate the versions, so a change in the machine's load hits both alike;
times are the best of ``--repeat`` rounds, and fits over 30 s run once.  A fit
still running after ``--limit`` seconds is stopped by its callback and shown
as ">limit".  "total" is the whole ``fit`` call (with l2 = 0 it includes the
covariance: a Hessian and its inverse); "solver" is the time to its last
iteration.  Agreement with that version's Newton fit: relative ΔJ and
max_j |Δcoef_j|·sd_j.  Threads: Numba's ``n_threads`` and every BLAS/OpenMP
pool (threadpoolctl) pinned to ``--threads``.

    python benchmarks/unscaled_fits.py [--before-rev HEAD] [--threads 2] [--repeat 2] [--limit 150]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
SOLVERS = ("newton", "lbfgs", "newton-cg", "auto")
REPEAT_BELOW_SECONDS = 30.0


class TimeLimit(Exception):
    pass


def make_problems(folder, names):
    """Save each problem as X.npy, y.npy (and its l2) under folder/name."""
    from fusedlogit.datasets import make_mixed_scale_problem, make_problem

    for name in names:
        path = os.path.join(folder, name)
        os.makedirs(path)
        if name == "mixed-500k-60":
            X, y = make_mixed_scale_problem(500_000, 60, seed=0)
            l2 = 0.0
        elif name == "mixed-50k-1500":
            X, y = make_mixed_scale_problem(50_000, 1500, n_numeric=30, seed=0)
            l2 = 0.0
        elif name == "well-1M-100":
            X, y, _, _ = make_problem(1_000_000, 100, seed=0)
            l2 = 1e-6
        else:
            raise ValueError(name)
        np.save(os.path.join(path, "X.npy"), X)
        np.save(os.path.join(path, "y.npy"), y)
        with open(os.path.join(path, "l2.json"), "w") as f:
            json.dump(l2, f)


def worker(path, threads, limit, skip):
    """Fit the problem at path with every solver; one JSON line per fit."""
    from threadpoolctl import threadpool_limits

    import fusedlogit
    from fusedlogit.solvers import resolve_solver

    X, y = np.load(os.path.join(path, "X.npy")), np.load(os.path.join(path, "y.npy"))
    with open(os.path.join(path, "l2.json")) as f:
        l2 = json.load(f)
    # Compile outside the timings: every solver with and without l2 (the inference and separation
    # paths), and Newton's row-subsample path (n ≥ 200,000).  A version extracted to a temporary
    # folder may find no usable on-disk cache, so this must cover every kernel the timed fits use.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for warm_l2 in {l2, 1e-3}:
            for solver in ("newton", "lbfgs", "newton-cg"):
                fusedlogit.fit(X[:5000], y[:5000], l2=warm_l2, solver=solver, n_threads=threads, max_iter=20)
        if len(y) >= 200_000:
            fusedlogit.fit(X[:200_000], y[:200_000], l2=l2, solver="newton", n_threads=threads, max_iter=3)
    sd = X[:20000].std(axis=0)
    done, ref = {}, None
    with threadpool_limits(limits=threads):
        for solver in SOLVERS:
            resolved = resolve_solver(solver, X.shape[1] + 1)
            if solver == "auto" and resolved in done:
                print(json.dumps({**done[resolved], "solver": "auto", "same_as": resolved}), flush=True)
                continue
            if solver in skip or resolved in skip:
                continue
            last = [time.perf_counter()]
            t0 = time.perf_counter()

            def callback(coef, t0=t0, last=last):
                last[0] = time.perf_counter()
                if last[0] - t0 > limit:
                    raise TimeLimit

            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    r = fusedlogit.fit(X, y, l2=l2, solver=solver, n_threads=threads, callback=callback)
                except TimeLimit:
                    r = None
            total = time.perf_counter() - t0
            if r is None:
                row = {"solver": solver, "total": None, "solver_s": last[0] - t0, "limit": limit}
            else:
                coef = np.r_[r.coef, r.intercept]
                if ref is None:
                    ref = (coef, r.loss)
                row = {
                    "solver": solver,
                    "total": total,
                    "solver_s": last[0] - t0,
                    "n_iter": r.n_iter,
                    "status": getattr(r, "status", "converged" if r.converged else "not converged"),
                    "grad_max": r.grad_max,
                    "dloss": (r.loss - ref[1]) / ref[1],
                    "dcoef_sd": float(np.max(np.abs(coef[:-1] - ref[0][:-1]) * sd)),
                    "warnings": sorted({w.category.__name__ for w in caught if "INFERENCE_MAX" not in str(w.message)}),
                }
            done[solver] = row
            print(json.dumps(row), flush=True)


def run_worker(src, path, args, skip):
    env = dict(os.environ, PYTHONPATH=src, FUSEDLOGIT_QUIET="1")
    cmd = [sys.executable, __file__, "--worker", path, "--threads", str(args.threads), "--limit", str(args.limit)]
    cmd += ["--skip", *skip] if skip else []
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def fmt_time(row):
    if row is None:
        return "-"
    return f">{row['limit']:.0f}" if row["total"] is None else f"{row['total']:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before-rev", default=None, help="git revision to compare against, e.g. HEAD")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--limit", type=float, default=150.0, help="stop a fit after this many seconds")
    parser.add_argument("--problems", nargs="+", default=["mixed-500k-60", "mixed-50k-1500", "well-1M-100"])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--skip", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.threads, args.limit, args.skip)

    with tempfile.TemporaryDirectory() as tmp:
        versions = {"after": SRC}
        if args.before_rev:
            before = os.path.join(tmp, "before")
            os.makedirs(before)
            git = ["git", "-C", os.path.dirname(HERE), "archive", args.before_rev, "src/fusedlogit"]
            archive = subprocess.run(git, capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", before], input=archive, check=True)
            versions = {f"before ({args.before_rev})": os.path.join(before, "src"), **versions}
        sys.path.insert(0, SRC)
        make_problems(tmp, args.problems)
        print(
            f"# {platform.machine()}, {os.cpu_count()} cores, threads pinned to {args.threads}; best of {args.repeat} "
            f"(fits over {REPEAT_BELOW_SECONDS:.0f} s once), limit {args.limit:.0f} s"
        )
        best = {}  # (problem, version, solver) -> row with the smallest time
        for round_ in range(args.repeat):
            for problem in args.problems:
                for version, src in versions.items():
                    seconds = {s: _seconds(best.get((problem, version, s))) for s in SOLVERS}
                    slow = [s for s in SOLVERS if round_ > 0 and seconds[s] > REPEAT_BELOW_SECONDS]
                    for row in run_worker(src, os.path.join(tmp, problem), args, slow):
                        key = (problem, version, row["solver"])
                        if _seconds(row) < _seconds(best.get(key)):
                            best[key] = row
        for problem in args.problems:
            print(f"\n## {problem}")
            print(
                f"{'version':16s} {'solver':10s} {'total s':>8s} {'solver s':>8s} {'iters':>6s} {'status':12s} "
                f"{'max|grad|':>9s} {'ΔJ/J':>9s} {'Δcoef·sd':>9s}  warnings"
            )
            for version in versions:
                for solver in SOLVERS:
                    row = best.get((problem, version, solver))
                    if row is None:
                        continue
                    if row["total"] is None:
                        print(f"{version:16s} {solver:10s} {fmt_time(row):>8s}   stopped by the time limit")
                        continue
                    same = f"  (= {row['same_as']})" if "same_as" in row else ""
                    print(
                        f"{version:16s} {solver:10s} {row['total']:8.2f} {row['solver_s']:8.2f} {row['n_iter']:6d} "
                        f"{row['status']:12s} {row['grad_max']:9.2e} {row['dloss']:9.1e} {row['dcoef_sd']:9.1e}  "
                        f"{','.join(row['warnings'])}{same}"
                    )


def _seconds(row):
    if row is None:
        return np.inf
    return row["limit"] if row["total"] is None else row["total"]


if __name__ == "__main__":
    main()
