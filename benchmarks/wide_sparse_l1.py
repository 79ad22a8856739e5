"""Time of single L1 fits on wide one-hot data with rare levels (2,000 rows by default), beside peers.

    python benchmarks/wide_sparse_l1.py --columns 5 --levels 20000 --l1 1e-4 1e-3 [--tol 1e-8] [--peers skglm,saga]

Each of ``--columns`` categorical columns has ``--levels`` Zipf-distributed levels (exponent 1.1), one-hot
encoded into a CSR matrix; labels come from a sparse random coefficient vector.  Prints, per l1, the seconds,
status, iterations and nonzero count of ``fusedlogit.fit(X, y, l1=..., tol=...)`` and the objective
J = mean log-loss + l1 ‖w‖₁ (intercept free) that it reached; with ``--peers``, the same objective as fitted by
skglm's ``SparseLogisticRegression(alpha=l1, tol=tol)`` and scikit-learn's saga (C = 1 / (n l1), tol=tol), each
compiled or warmed up before its clock starts.  The peers are not dependencies: install them to compare.
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


def objective(X, y, l1, coef, intercept):
    z = X @ coef + intercept
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + l1 * np.abs(coef).sum())


def fit_fusedlogit(X, y, l1, tol):
    res = fusedlogit.fit(X, y, l1=l1, tol=tol)
    return res.coef, res.intercept, f"{res.status}, {res.n_iter} iterations"


def fit_skglm(X, y, l1, tol):
    from skglm import SparseLogisticRegression

    model = SparseLogisticRegression(alpha=l1, tol=tol, max_iter=1000).fit(X, 2 * y - 1)
    return model.coef_.ravel(), float(np.ravel(model.intercept_)[0]), f"{model.n_iter_} iterations"


def fit_saga(X, y, l1, tol):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(l1_ratio=1.0, C=1.0 / (X.shape[0] * l1), solver="saga", tol=tol, max_iter=10_000)
    model.fit(X, y)
    return model.coef_.ravel(), float(model.intercept_[0]), f"{int(np.max(model.n_iter_))} epochs"


FITS = {"fusedlogit": fit_fusedlogit, "skglm": fit_skglm, "saga": fit_saga}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=5)
    parser.add_argument("--levels", type=int, default=20000)
    parser.add_argument("--l1", type=float, nargs="+", default=[1e-3, 1e-4])
    parser.add_argument("--tol", type=float, default=1e-8)
    parser.add_argument("--peers", default="", help="comma list of skglm,saga (default none)")
    args = parser.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    unknown = sorted(set(peers) - set(FITS) - {"fusedlogit"})
    if unknown:
        parser.error(f"--peers: unknown {unknown}; choose from skglm, saga")
    X, y = one_hot_problem(args.rows, args.columns, args.levels)
    print(f"{X.shape[0]} x {X.shape[1]} CSR, {int((X.getnnz(axis=0) > 0).sum())} non-empty columns, tol={args.tol:g}")
    for name in ["fusedlogit"] + peers:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            FITS[name](X[:200], y[:200], 1e-2, 1e-4)  # compiled before the clock starts
        for l1 in args.l1:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                coef, intercept, how = FITS[name](X, y, l1, args.tol)
            seconds = time.perf_counter() - start
            print(f"{name:>10} l1={l1:g}: {seconds:7.2f} s, {how}, {int(np.count_nonzero(coef))} nonzero, "
                  f"J = {objective(X, y, l1, coef, intercept):.12f}", flush=True)


if __name__ == "__main__":
    main()
