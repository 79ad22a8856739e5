"""Time of single L1 fits on wide one-hot data with rare levels (2,000 rows by default).

    python benchmarks/wide_sparse_l1.py --columns 5 --levels 20000 --l1 1e-4 1e-3

Each of ``--columns`` categorical columns has ``--levels`` Zipf-distributed levels (exponent 1.1), one-hot
encoded into a CSR matrix; labels come from a sparse random coefficient vector.  Prints, per l1, the seconds,
status, iterations and nonzero count of ``fusedlogit.fit(X, y, l1=...)``.
"""

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp

import fusedlogit


def one_hot_problem(n, columns, levels, seed=0):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, levels + 1) ** 1.1
    p /= p.sum()
    codes = np.concatenate([c * levels + rng.choice(levels, size=n, p=p) for c in range(columns)])
    rows = np.tile(np.arange(n), columns)
    X = sp.csr_matrix((np.ones(n * columns), (rows, codes)), shape=(n, columns * levels))
    beta = rng.normal(size=X.shape[1]) * (rng.random(X.shape[1]) < 0.01)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(float)
    return X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=5)
    parser.add_argument("--levels", type=int, default=20000)
    parser.add_argument("--l1", type=float, nargs="+", default=[1e-3, 1e-4])
    args = parser.parse_args()
    X, y = one_hot_problem(args.rows, args.columns, args.levels)
    print(f"{X.shape[0]} x {X.shape[1]} CSR, {int((X.getnnz(axis=0) > 0).sum())} non-empty columns")
    fusedlogit.fit(X[:200], y[:200], l1=1e-2)  # compiled before the clock starts
    for l1 in args.l1:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fusedlogit.fit(X, y, l1=l1)
        print(f"l1={l1:g}: {time.perf_counter() - start:.2f} s, status {res.status}, {res.n_iter} iterations, "
              f"{res.n_nonzero} nonzero")


if __name__ == "__main__":
    main()
