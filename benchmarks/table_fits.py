"""Fits on a table with categorical columns: ``fit(df)`` (codes, never one-hot) against fusedlogit's own fit on
the one-hot CSR matrix built by hand, glum on the same DataFrame and scikit-learn's newton-cholesky on the CSR.

    python benchmarks/table_fits.py [--rows 300000,1000000] [--levels 3000,300,30,5] [--peers glum,sklearn]
                                    [--peer-timeout 600]

The table: 12 standard normal columns and 4 categoricals whose levels have Zipf(1.1) frequencies (the first
level most common), labels from a logistic model with an effect per level; l2 = 1e-4 (mean loss: C = 1/(l2·n)
for scikit-learn, alpha = l2 for glum, every level kept), tol = 1e-8.  Every fit runs in a child process of its
own (as a user runs it: every pool at its default) that builds the data, fits once to compile or warm up on a
slice, then fits once, timed; memory is the peak resident set during the timed fit above the set before it
(sampled every 2 ms); for the CSR fits that includes building the one-hot matrix from the table, as a user must
(its seconds are printed apart, not in the fit's).  Each peer reports the final J and max|∇J| (fusedlogit's gradient at its coefficients), so
"same J" is checked, not assumed.  Also the loss+gradient pass of ``fit(df)`` against the read roofline of the
table's bytes (numerics + codes + labels), the roofline being ``bench.roofline.read_sum``'s rate over 512 MB.
"""

import argparse
import json
import multiprocessing as mp
import os
import threading
import time

import numpy as np

L2 = 1e-4
TOL = 1e-8


def make_table(n, levels, numeric=12, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns = {f"x{j}": rng.standard_normal(n) for j in range(numeric)}
    margin = sum(0.15 * (-1) ** j * columns[f"x{j}"] for j in range(numeric))
    for j, count in enumerate(levels):
        share = 1.0 / np.arange(1, count + 1) ** 1.1
        codes = rng.choice(count, size=n, p=share / share.sum()).astype(np.int32)
        columns[f"c{j}"] = pd.Categorical.from_codes(codes, categories=[f"v{k}" for k in range(count)])
        margin = margin + rng.normal(scale=0.5, size=count)[codes]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-margin))).astype(np.float64)
    return pd.DataFrame(columns), y


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """The peak resident set above the one at entry, sampled every 2 ms on a thread."""

    def __enter__(self):
        self.base = self.peak = resident_bytes()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, resident_bytes())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, resident_bytes())

    @property
    def used(self):
        return self.peak - self.base


def check(table, y, coef, intercept):
    """(J, max|∇J|) of the coefficients in the design's order (fusedlogit's gradient on the one-hot matrix)."""
    from fusedlogit import LogisticLoss
    from fusedlogit.tables import Coding

    X = Coding.learn(table, drop_first=False).encode(table).to_csr()
    loss = LogisticLoss(X, y, l2=L2)
    J, g = loss.loss_gradient(np.append(coef, intercept))
    return float(J), float(np.abs(g).max())


def run(which, n, levels, queue):
    import fusedlogit
    from fusedlogit.tables import Coding

    table, y = make_table(n, levels)
    warm = slice(0, 20000)
    out = {"which": which}
    if which == "fusedlogit table":
        fusedlogit.fit(table.iloc[warm], y[warm], l2=L2, cov_type=None)
        with PeakMemory() as memory:
            start = time.perf_counter()
            result = fusedlogit.fit(table, y, l2=L2, tol=TOL, cov_type=None)
            out["seconds"] = time.perf_counter() - start
        coef, intercept = result.coef, result.intercept
        out.update(n_iter=result.n_iter, passes=result.n_passes, solver=result.solver)
        out.update(pass_roofline(table, y))
    elif which == "fusedlogit one-hot CSR":
        small = Coding.learn(table, drop_first=False).encode(table.iloc[warm]).to_csr()
        fusedlogit.fit(small, y[warm], l2=L2, cov_type=None)
        with PeakMemory() as memory:
            X, out["build_seconds"] = one_hot_csr(table)
            start = time.perf_counter()
            result = fusedlogit.fit(X, y, l2=L2, tol=TOL, cov_type=None)
            out["seconds"] = time.perf_counter() - start
        coef, intercept = result.coef, result.intercept
        out.update(n_iter=result.n_iter, solver=result.solver)
    elif which == "glum DataFrame":
        from glum import GeneralizedLinearRegressor

        def model():
            return GeneralizedLinearRegressor(family="binomial", alpha=L2, l1_ratio=0.0, gradient_tol=TOL,
                                              drop_first=False)

        model().fit(table.iloc[warm], y[warm])
        with PeakMemory() as memory:
            start = time.perf_counter()
            fitted = model().fit(table, y)
            out["seconds"] = time.perf_counter() - start
        # glum orders its coefficients as its design: numeric columns and categoricals in the table's order
        names = list(fitted.feature_names_)
        ours = Coding.learn(table, drop_first=False).feature_names
        by_name = dict(zip(names, fitted.coef_))
        coef = np.array([by_name[name] if name in by_name else by_name[_glum_name(name)] for name in ours])
        intercept = float(fitted.intercept_)
        out["n_iter"] = int(fitted.n_iter_)
    else:  # scikit-learn newton-cholesky on the CSR matrix
        from sklearn.linear_model import LogisticRegression

        small = Coding.learn(table, drop_first=False).encode(table.iloc[warm]).to_csr()
        C = 1.0 / (L2 * n)
        LogisticRegression(C=C, solver="newton-cholesky", tol=TOL).fit(small, y[warm])
        with PeakMemory() as memory:
            X, out["build_seconds"] = one_hot_csr(table)
            start = time.perf_counter()
            fitted = LogisticRegression(C=C, solver="newton-cholesky", tol=TOL, max_iter=100).fit(X, y)
            out["seconds"] = time.perf_counter() - start
        coef, intercept = fitted.coef_[0], float(fitted.intercept_[0])
        out["n_iter"] = int(fitted.n_iter_[0])
    out["memory_mb"] = memory.used / 1e6
    out["J"], out["grad_max"] = check(table, y, coef, intercept)
    queue.put(out)


def one_hot_csr(table):
    """(the table's one-hot CSR design with every level, seconds to build it) as a user builds it by hand."""
    from fusedlogit.tables import Coding

    start = time.perf_counter()
    X = Coding.learn(table, drop_first=False).encode(table).to_csr()
    return X, time.perf_counter() - start


def _glum_name(name):
    """glum's name of a design column: ``column__level`` for a level (glum's default format)."""
    if "[" in name:
        column, level = name[:-1].split("[", 1)
        return f"{column}__{level}"
    return name


def pass_roofline(table, y):
    """The loss+gradient pass of ``fit(df)``'s design: seconds, GB/s of the table's bytes, share of the read
    roofline."""
    from fusedlogit import LogisticLoss
    from fusedlogit._threads import launch
    from fusedlogit.bench.roofline import read_sum
    from fusedlogit.tables import Coding

    X = Coding.learn(table, drop_first=False).encode(table)
    loss = LogisticLoss(X, y, l2=L2)
    coef = np.zeros(loss.n_coef)
    loss.loss_gradient(coef)
    best = np.inf
    for _ in range(7):
        start = time.perf_counter()
        loss.loss_gradient(coef)
        best = min(best, time.perf_counter() - start)
    size = X.numeric.nbytes + X.codes.nbytes + y.nbytes
    # the plain read rate of memory: at least 512 MB (a VM's last-level cache can hold a 10⁸-byte table) of
    # written values (untouched zero pages would read for free)
    flat = np.ones((max(size, 1 << 29) // 128, 16))
    launch(read_sum, None, flat)
    read = min(_timed(lambda: launch(read_sum, None, flat)) for _ in range(7))
    bandwidth = flat.nbytes / read
    return {"pass_seconds": best, "pass_gbs": size / best / 1e9, "read_gbs": bandwidth / 1e9,
            "roofline_share": size / best / bandwidth}


def _timed(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="300000,1000000")
    parser.add_argument("--levels", default="3000,300,30,5")
    parser.add_argument("--peers", default="glum,sklearn")
    parser.add_argument("--peer-timeout", type=float, default=600)
    args = parser.parse_args()
    levels = [int(k) for k in args.levels.split(",")]
    runs = ["fusedlogit table", "fusedlogit one-hot CSR"]
    peers = [p for p in args.peers.split(",") if p]
    runs += [name for key, name in (("glum", "glum DataFrame"), ("sklearn", "scikit-learn newton-cholesky CSR"))
             if key in peers]
    context = mp.get_context("spawn")
    print(f"levels {levels}, 12 numeric columns, l2 = {L2}, tol = {TOL}, {os.cpu_count()} CPUs")
    for n in (int(float(r)) for r in args.rows.split(",")):
        rows = []
        for which in runs:
            queue = context.Queue()
            child = context.Process(target=run, args=(which, n, levels, queue))
            child.start()
            child.join(args.peer_timeout)
            if child.is_alive():
                child.terminate()
                rows.append({"which": which, "seconds": float("nan"), "note": f"stopped after {args.peer_timeout} s"})
                continue
            rows.append(queue.get() if not queue.empty() else {"which": which, "seconds": float("nan"),
                                                               "note": f"exit code {child.exitcode}"})
        base = rows[0]["seconds"]
        print(f"\nrows {n}")
        for row in rows:
            ratio = row["seconds"] / base
            extra = {k: v for k, v in row.items() if k not in ("which", "seconds", "memory_mb", "J", "grad_max")}
            print(f"  {row['which']:<34} {row['seconds']:8.2f} s  {ratio:6.1f}x  "
                  f"mem {row.get('memory_mb', float('nan')):8.0f} MB  J {row.get('J', float('nan')):.12f}  "
                  f"max|∇J| {row.get('grad_max', float('nan')):.1e}  {json.dumps(extra, default=float)}")


if __name__ == "__main__":
    main()
