"""Fused loss+gradient against the read roofline, timed in alternation.

The memory bandwidth of a shared machine drifts from second to second, so a
roofline fraction taken from two separately timed loops can land anywhere
(even above 100%).  Here every round times one plain read of X
(``bench.read_sum``) and one fused ``loss_gradient`` back to back, and the
fraction is the median over the rounds of read time / fused time.

    python benchmarks/roofline_pairs.py [--rounds 15] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from fusedlogit import LogisticLoss
from fusedlogit.bench import kernel_problem, read_sum

#: (n, d) pairs, each with about 0.8 GB of float64 X (0.4 GB of float32).
SHAPES = ((10_000_000, 2), (10_000_000, 8), (3_000_000, 32), (1_000_000, 100), (100_000, 1000))


def seconds(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def alternating_pairs(problem, rounds, threads):
    """(rounds, 2) array of seconds: one read of X, then one fused loss+gradient, per round."""
    loss = LogisticLoss(problem.X, problem.y, n_threads=threads)
    read_sum(problem.X)
    loss.loss_gradient(problem.coef)
    return np.array([(seconds(read_sum, problem.X), seconds(loss.loss_gradient, problem.coef)) for _ in range(rounds)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    numba.set_num_threads(args.threads)
    print(f"{args.threads} threads, median of {args.rounds} alternating rounds")
    print(f"{'n':>10} {'d':>5} {'dtype':>8} {'read GB/s':>10} {'fused GB/s':>11} {'fused/read':>11} {'rows/s':>10}")
    for dtype in (np.float64, np.float32):
        for n, d in SHAPES:
            problem = kernel_problem(n, d, dtype)
            pairs = alternating_pairs(problem, args.rounds, args.threads)
            gb = problem.X.nbytes / 1e9
            read_s, fused_s = np.median(pairs, axis=0)
            ratio = np.median(pairs[:, 0] / pairs[:, 1])
            print(
                f"{n:>10.0e} {d:>5} {np.dtype(dtype).name:>8} {gb / read_s:>10.1f} "
                f"{gb / fused_s:>11.1f} {ratio:>11.0%} {n / fused_s:>10.3g}"
            )

if __name__ == "__main__":
    main()
