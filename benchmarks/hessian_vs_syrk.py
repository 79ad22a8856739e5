"""The blocked Hessian against a bare BLAS syrk over the same weighted rows.

``LogisticLoss.hessian`` computes h_i = s_i p_i (1 − p_i), scales each row by
sqrt(h_i) into a reused block buffer (intercept column included) and calls
dsyrk per block.  The baseline is one dsyrk over the already weighted n × d
matrix, i.e. the Gram matrix alone with the weighting done for free.

    python benchmarks/hessian_vs_syrk.py --n 1000000 --d 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.linalg import blas

import fusedlogit


def best_of(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.d))
    y = (rng.random(args.n) < 0.5).astype(np.float64)
    coef = rng.standard_normal(args.d + 1) / np.sqrt(args.d)
    obj = fusedlogit.LogisticLoss(X, y)
    weighted = X * np.sqrt(np.full(args.n, 0.2))[:, None]  # any weights: syrk's cost does not depend on them
    t_hessian = best_of(lambda: obj.hessian(coef), args.repeats)
    t_syrk = best_of(lambda: blas.dsyrk(1.0, weighted.T, trans=0), args.repeats)
    t_grad = best_of(lambda: obj.loss_gradient(coef), args.repeats)
    print(f"n={args.n} d={args.d} float64")
    print(f"  LogisticLoss.hessian          {t_hessian:8.4f} s")
    print(f"  dsyrk on pre-weighted rows    {t_syrk:8.4f} s   (hessian / syrk = {t_hessian / t_syrk:.2f})")
    print(f"  LogisticLoss.loss_gradient    {t_grad:8.4f} s   (hessian = {t_hessian / t_grad:.1f} gradient passes)")


if __name__ == "__main__":
    main()
