"""Fit a large logistic regression with fusedlogit and its peers, side by side.

Problems: ``fusedlogit.datasets.make_problem(n, d, kind)`` for kind "well"
(standard-normal features) and "ill" (unscaled, correlated, cond(H) ~ 1e12).
Every fitter gets the same penalty (l2 = 1/(C·n), scikit-learn's C; C=inf
for none), the same tolerance on max|∇J| of the mean objective, and the same
thread count: BLAS/OpenMP pools are pinned with threadpoolctl and Numba's
with ``n_threads``.  Peers: scikit-learn LogisticRegression (lbfgs,
newton-cholesky) and glum GeneralizedLinearRegressor (binomial, its default
IRLS solver).  Times are the best of ``--repeat`` rounds (each round runs every fitter once;
fits over 30 s run once); the machine may be shared, so compare ratios
within one run.

Agreement is measured against fusedlogit's Newton solution in a scale-free
way: max_j |Δcoef_j|·sd(X_j) (coefficient difference in standardised units)
and max |Δmargin| over 20,000 rows.

    python benchmarks/fit_large.py [--n 1000000] [--d 100] [--threads 2] [--C 1.0]
"""

from __future__ import annotations

import argparse
import functools
import platform
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import fusedlogit
from fusedlogit.datasets import make_problem


#: Fits slower than this run only once (the slow peers take minutes).
REPEAT_BELOW_SECONDS = 30.0


def timed(fn):
    """(result, wall time, names of the warnings raised)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, time.perf_counter() - t0, sorted({w.category.__name__ for w in caught})


def run_fusedlogit(X, y, l2, tol, threads, solver):
    r = fusedlogit.fit(X, y, l2=l2, tol=tol, solver=solver, n_threads=threads)
    return r.coef, r.intercept, r.n_iter


def run_sklearn(X, y, C, tol, solver, max_iter):
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=C, solver=solver, tol=tol, max_iter=max_iter)  # C=inf: no penalty
    m.fit(X, y)
    return m.coef_.ravel(), float(m.intercept_[0]), int(m.n_iter_[0])


def run_glum(X, y, l2, tol, max_iter):
    from glum import GeneralizedLinearRegressor

    # glum minimises (1/(2S))·deviance + (alpha/2)||w||² = J with alpha = l2.
    m = GeneralizedLinearRegressor(
        family="binomial", alpha=l2, l1_ratio=0.0, gradient_tol=tol, max_iter=max_iter, copy_X=False
    )
    m.fit(X, y)
    return np.asarray(m.coef_).ravel(), float(m.intercept_), int(m.n_iter_)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--C", type=float, default=1.0, help="scikit-learn's C; inf for no penalty")
    parser.add_argument("--tol", type=float, default=1e-8)
    parser.add_argument("--kinds", nargs="+", default=["well", "ill"])
    parser.add_argument("--lbfgs-max-iter", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many rounds")
    parser.add_argument("--skip", nargs="*", default=[], help="fitters to skip, e.g. 'sklearn-lbfgs'")
    args = parser.parse_args()

    import numba

    print(
        f"# {platform.machine()}, {numba.config.NUMBA_NUM_THREADS} cores visible, threads pinned to {args.threads}; "
        f"n={args.n}, d={args.d}, C={args.C}, tol={args.tol}, best of {args.repeat}"
    )
    # Compile the kernels outside the timings (they are cached on disk anyway).
    Xs, ys, _, _ = make_problem(5000, args.d, seed=1)
    fusedlogit.fit(Xs, ys, l2=1e-3, n_threads=args.threads)
    fusedlogit.fit(Xs, ys, l2=1e-3, solver="newton-cg", n_threads=args.threads)

    l2 = 0.0 if np.isinf(args.C) else 1.0 / (args.C * args.n)
    fitters = {
        "fusedlogit-newton": lambda X, y: run_fusedlogit(X, y, l2, args.tol, args.threads, "newton"),
        "fusedlogit-newton-cg": lambda X, y: run_fusedlogit(X, y, l2, args.tol, args.threads, "newton-cg"),
        "fusedlogit-lbfgs": lambda X, y: run_fusedlogit(X, y, l2, args.tol, args.threads, "lbfgs"),
        "sklearn-newton-cholesky": lambda X, y: run_sklearn(X, y, args.C, args.tol, "newton-cholesky", 100),
        "sklearn-lbfgs": lambda X, y: run_sklearn(X, y, args.C, args.tol, "lbfgs", args.lbfgs_max_iter),
        "glum-irls": lambda X, y: run_glum(X, y, l2, args.tol, 100),
    }
    for kind in args.kinds:
        X, y, _, _ = make_problem(args.n, args.d, kind=kind, seed=0)
        sd = X[:20000].std(axis=0)
        print(f"\n## kind={kind}")
        print(f"{'fitter':26s} {'time s':>8s} {'iters':>6s} {'max|Δcoef|·sd':>14s} {'max|Δmargin|':>13s}  warnings")
        names = [name for name in fitters if name not in args.skip]
        best, results = {}, {}
        with threadpool_limits(limits=args.threads):
            # Round-robin repeats, so a change in the machine's load hits every fitter alike.
            for round_ in range(args.repeat):
                for name in names:
                    if round_ > 0 and best[name] > REPEAT_BELOW_SECONDS:
                        continue
                    results[name], seconds, warned = timed(functools.partial(fitters[name], X, y))
                    best[name] = min(best.get(name, np.inf), seconds)
                    results[name] += (warned,)
        ref_coef, ref_intercept = results[names[0]][:2]
        for name in names:
            coef, intercept, n_iter, warned = results[name]
            dcoef = float(np.max(np.abs(coef - ref_coef) * sd))
            dmargin = float(np.max(np.abs(X[:20000] @ (coef - ref_coef) + (intercept - ref_intercept))))
            print(f"{name:26s} {best[name]:8.2f} {n_iter:6d} {dcoef:14.2e} {dmargin:13.2e}  {','.join(warned)}")
        ours = {name: t for name, t in best.items() if name.startswith("fusedlogit")}
        peers = {name: t for name, t in best.items() if not name.startswith("fusedlogit")}
        if ours and peers:
            fastest = min(peers, key=peers.get)
            for name, seconds in ours.items():
                print(f"{name}: {peers[fastest] / seconds:.2f}x faster than the fastest peer ({fastest})")
        del X, y


if __name__ == "__main__":
    main()
