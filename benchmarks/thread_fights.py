"""Fits beside busy processes: the default environment against OPENBLAS_NUM_THREADS=1.

With default settings OpenBLAS keeps a pool of its own threads beside Numba's.
When other processes keep every core busy, idle pool threads that wait for
work can cost more than the work itself.  fusedlogit's thread policy limits
the BLAS pools to one thread during a fit, except in the calls where BLAS does
the heavy work; so a fit should take about as long in the default environment
as with ``OPENBLAS_NUM_THREADS=1``.  This script measures that: it starts
``--busy`` processes that spin on a core each, then, in ``--rounds``
alternating rounds, runs each problem in a fresh process per environment and
times one warm ``fusedlogit.fit``.

Problems: the README's sparse example (100,000 × 10,000, five one-hot
features a row, l2 = 1e-4) and an L-BFGS fit on dense unscaled data
(400,000 × 50, kind="ill", 300 iterations).

    python benchmarks/thread_fights.py [--busy 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap

CHILD = {
    "sparse (README)": """
        import numpy as np, scipy.sparse as sp
        rng = np.random.default_rng(0)
        n, d = 100_000, 10_000
        cols = rng.integers(0, d, size=(n, 5))
        X = sp.csr_matrix((np.ones(5 * n), cols.ravel(), np.arange(0, 5 * n + 1, 5)), shape=(n, d))
        y = (rng.random(n) < 0.3).astype(np.float64)
        kwargs = dict(l2=1e-4)
    """,
    "dense unscaled lbfgs": """
        from fusedlogit.datasets import make_problem
        X, y, _, _ = make_problem(400_000, 50, kind="ill", seed=0)
        kwargs = dict(solver="lbfgs", max_iter=300)
    """,
}

TIMED = """
    import time, warnings
    import fusedlogit
    warnings.simplefilter("ignore")
    fusedlogit.fit(X[:2000], y[:2000], **kwargs)  # compile or load the kernels outside the timing
    start = time.perf_counter()
    fusedlogit.fit(X, y, **kwargs)
    print(time.perf_counter() - start)
"""


def timed_fit(problem, env):
    code = textwrap.dedent(CHILD[problem]) + textwrap.dedent(TIMED)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=2, help="background processes spinning on a core each")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    environments = {
        "default": {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"},
        "OPENBLAS_NUM_THREADS=1": dict(os.environ, OPENBLAS_NUM_THREADS="1"),
    }
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    times = {(p, e): [] for p in CHILD for e in environments}
    try:
        for _ in range(args.rounds):
            for problem in CHILD:
                for name, env in environments.items():
                    times[problem, name].append(timed_fit(problem, env))
    finally:
        for process in busy:
            process.kill()
    print(f"# {args.busy} busy processes, {os.cpu_count()} cores, {args.rounds} rounds; seconds per fit")
    print(f"{'problem':24s} {'environment':24s} {'mean':>7s} {'min':>7s} {'max':>7s}")
    for problem in CHILD:
        means = {}
        for name in environments:
            t = times[problem, name]
            means[name] = statistics.mean(t)
            print(f"{problem:24s} {name:24s} {means[name]:7.2f} {min(t):7.2f} {max(t):7.2f}")
        ratio = means["default"] / means["OPENBLAS_NUM_THREADS=1"]
        print(f"{problem:24s} default / OPENBLAS_NUM_THREADS=1 = {ratio:.2f}")


if __name__ == "__main__":
    main()
