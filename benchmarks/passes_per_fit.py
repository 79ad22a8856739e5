"""Fits in passes: fit time / one fused loss+gradient pass on the same data, for fusedlogit with and without the
start from a row subsample's solution (``solvers.newton.presolve``, alternating in one process) and for the peers.

    python benchmarks/passes_per_fit.py [--n 1000000] [--repeats 2] [--peers sklearn,sklearnex]

Problems (``fusedlogit.datasets``, l2 = 1/n, tol = 1e-8): standardised d = 100, the same X with 1% positives,
the ill-conditioned one (cond ~1e12), one-hot beside money-scale columns, standardised d = 20 and d = 200; two
problems the solvers were not tuned on (AR(0.9)-correlated columns; Student-t columns over four decades of scale
beside rare 0/1 columns); and multinomial models on n/2 rows, d = 50 (``bench.multinomial_fits``): K = 5 and 10
standardised, K = 5 unscaled.
Prints, per problem, the pass time and for each variant the best time, that time in passes, ``n_passes`` (the
reads of X the fit counted) and iterations; for scikit-learn's and scikit-learn-intelex's solvers (where
installed, C = 1: the same objective, max_iter 1000, run once, in a child process stopped after
``--peer-timeout`` seconds) the time, in passes, and max|∇J| of what they return.  Then an L1 fit
(labels from 8 of 100 columns) with and without its subsample start, and a 50-α path, in passes.
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
    yield "held out: AR(0.9)-correlated d=80", *correlated(n, 80)
    yield "held out: heavy tails + 0/1 columns d=60, 1.5n rows", *heavy_tailed(n * 3 // 2, 60)
    for K, kind in ((5, "standardised"), (10, "standardised"), (5, "unscaled")):
        X, y = multinomial_fit_problem(n // 2, 50, K, kind=kind)
        yield f"multinomial K={K}, {kind} d=50, n/2 rows", X, y


def correlated(n, d, rho=0.9, seed=11):
    """Columns of an AR(1) process along the features (corr ρ^|j−k|), labels from a smooth coefficient profile:
    a problem the solvers' constants were not tuned on."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, d))
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, d):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
    beta = np.sin(np.linspace(0, 3 * np.pi, d)) * 0.3
    return X, (rng.random(n) < 1 / (1 + np.exp(-(X @ beta - 0.5)))).astype(float)


def heavy_tailed(n, d, seed=12):
    """Half the columns Student-t with 3 degrees of freedom times scales from 0.01 to 100, half 0/1 with
    frequencies from 0.5% to 50%: another problem the constants were not tuned on."""
    rng = np.random.default_rng(seed)
    half = d // 2
    X = np.empty((n, d))
    X[:, :half] = rng.standard_t(3, size=(n, half)) * np.logspace(-2, 2, half)
    X[:, half:] = rng.random((n, d - half)) < np.logspace(np.log10(0.005), np.log10(0.5), d - half)
    beta = rng.standard_normal(d) * 0.5 / np.r_[np.logspace(-2, 2, half), np.ones(d - half)]
    return X, (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(float)


def sparse_truth(n, d=100, support=8, seed=0):
    """Standard-normal X whose labels depend on ``support`` of its d columns (an L1 fit's support ≤ 10% of d)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    beta = np.zeros(d)
    beta[:support] = rng.standard_normal(support)
    return X, (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(float)


def peer_runs(packages):
    """(label, run(X, y, C)) for scikit-learn's and scikit-learn-intelex's solvers that are installed."""
    import importlib
    import importlib.util

    solvers = {"sklearn": ("lbfgs", "newton-cholesky"), "sklearnex": ("lbfgs", "newton-cg")}
    for package in packages:
        if importlib.util.find_spec(package) is None:
            print(f"({package} is not installed: its rows are skipped)")
            continue
        estimator = importlib.import_module(f"{package}.linear_model").LogisticRegression
        for solver in solvers[package]:
            def run(X, y, C, estimator=estimator, solver=solver):
                model = estimator(C=C, solver=solver, tol=1e-8, max_iter=1000).fit(X, y)
                return np.column_stack([np.atleast_2d(model.coef_), model.intercept_]).ravel()

            yield f"{package} {solver}", run


def timed_in_child(run, timeout):
    """(seconds, result) of ``run()`` in a forked process (the data shared, not copied), or None past ``timeout``."""
    import multiprocessing
    import warnings

    def child(pipe):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.send(best_of(1, run))

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=child, args=(sender,))
    process.start()
    found = receiver.recv() if receiver.poll(timeout) else None
    process.kill()
    process.join()
    return found


def best_of(repeats, run):
    best = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = run()
        t = time.perf_counter() - t
        if best is None or t < best[0]:
            best = (t, out)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--peers", default="sklearn,sklearnex", help="comma list of sklearn, sklearnex (or none)")
    parser.add_argument("--peer-timeout", type=float, default=120.0, help="seconds a peer's fit may take")
    args = parser.parse_args()
    peers = list(peer_runs([p for p in args.peers.split(",") if p and p != "none"]))
    presolve = newton_module.presolve
    variants = {"without": lambda sample, coef0, *options: coef0, "with": presolve}
    print(f"n = {args.n}, {max_threads()} threads, tol = 1e-8, l2 = 1/n (C = 1 for the peers)")
    print("| problem | pass ms | fusedlogit: s (passes, n_passes, iter) | without the subsample start | "
          + " | ".join(f"{label}: s (passes, max abs grad)" for label, _ in peers) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(peers))
    for name, X, y in problems(args.n):
        l2 = 1.0 / X.shape[0]
        model = fusedlogit.MultinomialLoss if name.startswith("multinomial") else fusedlogit.LogisticLoss
        objective = model(X, y, l2=l2)
        unit = pass_seconds(objective, max_threads(), 5)
        best = {}
        for _ in range(args.repeats):
            for label, function in variants.items():
                newton_module.presolve = function
                t, r = best_of(1, lambda: fusedlogit.fit(X, y, l2=l2, tol=1e-8))
                assert r.converged, (name, label, r.message)
                if label not in best or t < best[label][0]:
                    best[label] = (t, r)
        newton_module.presolve = presolve
        cells = [f"{t:.3f} ({t / unit:.1f}, {r.n_passes:.1f}, {r.n_iter})" for t, r in (best["with"], best["without"])]
        for label, run in peers:
            found = timed_in_child(lambda: run(X, y, 1.0), args.peer_timeout)  # once: seconds to minutes
            if found is None:
                cells.append(f"> {args.peer_timeout:g} (> {args.peer_timeout / unit:.0f}, stopped)")
                continue
            t, coef = found
            grad = np.abs(objective.gradient(coef)).max()
            cells.append(f"{t:.3f} ({t / unit:.1f}, {grad:.0e})")
        print(f"| {name} | {unit * 1e3:.1f} | " + " | ".join(cells) + " |", flush=True)
    l1_fits(args)


def l1_fits(args):
    """A single L1 fit (support ≤ 10% of d) with and without the subsample start, and a 50-α path, in passes."""
    import fusedlogit.solvers.penalised as penalised_module
    import fusedlogit.solvers.registry as registry

    X, y = sparse_truth(args.n)
    objective = fusedlogit.LogisticLoss(X, y)
    unit = pass_seconds(objective, max_threads(), 5)
    presolve = registry.presolve_penalised
    print(f"\nL1, {args.n} x 100, labels from 8 columns, tol 1e-8; pass {unit * 1e3:.1f} ms")
    for l1 in (1e-3, 1e-2):
        for label, function in (("with", presolve), ("without", lambda objective, penalty, coef0, options: coef0)):
            registry.presolve_penalised = function
            t, r = best_of(args.repeats, lambda: fusedlogit.fit(X, y, l1=l1, tol=1e-8))
            assert r.converged, r.message
            print(f"fit l1={l1:g} {label} the subsample start: {t:.3f} s = {t / unit:.1f} passes "
                  f"(n_passes {r.n_passes:.1f}, {r.n_iter} iterations, {np.count_nonzero(r.coef)} nonzero)")
        registry.presolve_penalised = presolve
    t, p = best_of(1, lambda: fusedlogit.path(X, y, n_alphas=50, tol=1e-8))
    assert p.converged.all()
    print(f"path of 50 alphas (down to 1e-4 alpha_max): {t:.3f} s = {t / unit:.1f} passes, "
          f"{t / unit / 50:.2f} per alpha ({penalised_module.__name__})")


if __name__ == "__main__":
    main()
