"""Newton fits in passes: fit time / one fused loss+gradient pass on the same data, with and without the start
from a row subsample's solution (``solvers.newton.presolve``), alternating in one process.

    python benchmarks/passes_per_fit.py [--n 1000000] [--repeats 2]

Problems (``fusedlogit.datasets``, l2 = 1/n, tol = 1e-8): standardised d = 100, the same X with 1% positives,
the ill-conditioned one (cond ~1e12), one-hot beside money-scale columns, standardised d = 20 and d = 200; and
multinomial models on n/2 rows, d = 50 (``bench.multinomial_fits``): K = 5 and 10 standardised, K = 5 unscaled.
Prints, per problem, the pass time and for each variant the best time, that time in passes, ``n_passes`` (the
reads of X the fit counted), iterations and max|∇J|.
"""

import argparse
import time

import numpy as np

import fusedlogit
import fusedlogit.solvers.newton as newton_module
from fusedlogit._config import max_threads
from fusedlogit.bench.fits import pass_seconds
from fusedlogit import datasets


def problems(n):
    from fusedlogit.bench.multinomial_fits import multinomial_fit_problem

    X, y, *_ = datasets.make_problem(n, 100, kind="well")
    yield "standardised d=100", X, y
    rng = np.random.default_rng(1)
    margin = X @ (rng.standard_normal(100) * 0.2) - 5.3
    yield "1% positives", X, (rng.random(n) < 1 / (1 + np.exp(-margin))).astype(float)
    X, y, *_ = datasets.make_problem(n, 100, kind="ill")
    yield "ill-conditioned", X, y
    X, y = datasets.make_mixed_scale_problem(n, 100)
    yield "one-hot + money", X, y
    X, y, *_ = datasets.make_problem(n, 20, kind="well", seed=3)
    yield "standardised d=20", X, y
    X, y, *_ = datasets.make_problem(n, 200, kind="well", seed=4)
    yield "standardised d=200", X, y
    for K, kind in ((5, "standardised"), (10, "standardised"), (5, "unscaled")):
        X, y = multinomial_fit_problem(n // 2, 50, K, kind=kind)
        yield f"multinomial K={K}, {kind} d=50, n/2 rows", X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    presolve = newton_module.presolve
    variants = {"without": lambda sample, coef0, *options: coef0, "with": presolve}
    print(f"n = {args.n}, {max_threads()} threads, tol = 1e-8, l2 = 1/n")
    print("| problem | pass ms | without: s (passes, n_passes, iter) | with: s (passes, n_passes, iter) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for name, X, y in problems(args.n):
        l2 = 1.0 / X.shape[0]
        model = fusedlogit.MultinomialLoss if name.startswith("multinomial") else fusedlogit.LogisticLoss
        unit = pass_seconds(model(X, y, l2=l2), max_threads(), 5)
        best = {}
        for _ in range(args.repeats):
            for label, function in variants.items():
                newton_module.presolve = function
                t = time.perf_counter()
                r = fusedlogit.fit(X, y, l2=l2, tol=1e-8, solver="newton")
                t = time.perf_counter() - t
                assert r.converged, (name, label, r.message)
                if label not in best or t < best[label][0]:
                    best[label] = (t, r)
        newton_module.presolve = presolve
        cells = [f"{t:.3f} ({t / unit:.1f}, {r.n_passes:.1f}, {r.n_iter})" for t, r in best.values()]
        print(f"| {name} | {unit * 1e3:.1f} | {cells[0]} | {cells[1]} | "
              f"{best['without'][0] / best['with'][0]:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
