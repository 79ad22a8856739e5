"""Many small fits: ``fit_many`` against Python loops of scikit-learn and ``fusedlogit.fit``.

Problem: G groups (default 1000) of m rows (500) × d features (10), standard
normal X, each group with its own true coefficients; labels drawn from the
model.  Every fitter solves the same penalised problem per group, l2 = 1/(C·m)
with C = 1 (scikit-learn's C; liblinear also penalises the intercept, a
slightly different problem), to tol = 1e-8 on the gradient.  scikit-learn and
BLAS run single-threaded (threadpoolctl): a Python loop of small fits cannot
use more.  ``fit_many`` runs with 1 and with 2 Numba threads.  Times are the
best of ``--repeat`` rounds for the fast fitters, one round for the loops; the
machine may be shared, so compare ratios within one run.

    python benchmarks/fit_many_bench.py [--groups 1000] [--rows 500] [--features 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import fusedlogit
from fusedlogit import fit_many

SKLEARN_SOLVERS = ("lbfgs", "newton-cholesky", "liblinear")


def make_groups(n_groups, rows, features, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_groups * rows, features))
    beta = 0.5 * rng.standard_normal((n_groups, features))
    groups = np.repeat(np.arange(n_groups), rows)
    margin = (X * beta[groups]).sum(1) + 0.3
    y = (rng.random(len(groups)) < 1.0 / (1.0 + np.exp(-margin))).astype(np.float64)
    return X, y, groups


def sklearn_loop(X, y, slices, C, solver, tol):
    from sklearn.linear_model import LogisticRegression

    out = []
    for a, b in slices:
        model = LogisticRegression(C=C, solver=solver, tol=tol, max_iter=1000).fit(X[a:b], y[a:b])
        out.append(np.r_[model.coef_[0], model.intercept_])
    return np.array(out)


def fusedlogit_loop(X, y, slices, l2, tol):
    out = []
    for a, b in slices:
        r = fusedlogit.fit(X[a:b], y[a:b], l2=l2, tol=tol, n_threads=1)
        out.append(np.r_[r.coef, r.intercept])
    return np.array(out)


def best_time(fn, repeat):
    best, result = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--tol", type=float, default=1e-8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    X, y, groups = make_groups(args.groups, args.rows, args.features)
    l2 = 1.0 / (args.C * args.rows)
    slices = [(g * args.rows, (g + 1) * args.rows) for g in range(args.groups)]
    shuffled = np.random.default_rng(1).permutation(len(y))

    fit_many(X[:2000], y[:2000], groups[:2000], l2=l2)  # compile (or load from cache) outside the timings
    fusedlogit.fit(X[:500], y[:500], l2=l2)

    rows = []
    with threadpool_limits(limits=1):
        for threads in (1, 2):
            t, r = best_time(lambda: fit_many(X, y, groups, l2=l2, tol=args.tol, n_threads=threads), args.repeat)
            reference = np.c_[r.coef, r.intercept]
            rows.append((f"fit_many, {threads} thread(s), rows grouped", t, 0.0, bool(r.converged.all())))
        Xs, ys, gs = X[shuffled], y[shuffled], groups[shuffled]
        t, r = best_time(lambda: fit_many(Xs, ys, gs, l2=l2, tol=args.tol, n_threads=2), args.repeat)
        rows.append(("fit_many, 2 threads, rows shuffled (incl. sort)", t, 0.0, bool(r.converged.all())))
        t, coef = best_time(lambda: fusedlogit_loop(X, y, slices, l2, args.tol), 1)
        rows.append(("loop of fusedlogit.fit (1 thread)", t, np.abs(coef - reference).max(), True))
        for solver in SKLEARN_SOLVERS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t, coef = best_time(lambda: sklearn_loop(X, y, slices, args.C, solver, args.tol), 1)
            rows.append((f"loop of sklearn LogisticRegression({solver})", t, np.abs(coef - reference).max(), True))

    fastest_sklearn = min(t for name, t, *_ in rows if "sklearn" in name)
    many_2 = rows[1][1]
    print(
        f"{args.groups} groups x {args.rows} rows x {args.features} features, l2 = {l2:g} (C = {args.C:g}), "
        f"tol = {args.tol:g}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    print(f"{'fitter':52s} {'total':>9s} {'per group':>10s} {'vs fit_many(2)':>15s} {'max|Δcoef|':>11s}")
    for name, t, diff, ok in rows:
        print(
            f"{name:52s} {t:8.3f}s {t / args.groups * 1e6:8.0f}µs {t / many_2:14.1f}x {diff:11.1e}"
            + ("" if ok else "  (some groups not converged)")
        )
    print(f"fit_many (2 threads) is {fastest_sklearn / many_2:.0f}x faster than the fastest scikit-learn loop")


if __name__ == "__main__":
    main()
