"""A fit on a memory-mapped X larger than a page-cache budget: throughput and bounded memory.

    python benchmarks/bench_memmap.py --size-gb 3 --d 50 --dir /tmp

Writes X (float64, ``--size-gb`` GB, d columns) and y to a temporary ``.npy``
in ``--dir`` block by block (the script never holds X in memory), opens it with
``np.load(mmap_mode="r")``, builds ``LogisticLoss`` on the map (no copy) and
runs scipy's L-BFGS-B for ``--maxiter`` iterations.  With ``--cache cold``
(default) the file's pages are dropped from the page cache before every
evaluation (``posix_fadvise(DONTNEED)``), so each pass streams X from disk,
as it would if X were larger than the page cache; ``--cache warm`` leaves the
cache alone (a file that fits is then read from memory after the first pass).
The file is deleted at the end.

Reported: GB/s streamed (X bytes × passes / time in the evaluations), the
process's peak resident memory (VmHWM) and the peak of its anonymous memory
(RssAnon, sampled every 5 ms): the mapped file's pages are page cache the
kernel can drop at any time, and the anonymous memory (what the process
itself allocates) stays O(d + n), not O(n d).
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import tempfile
import threading
import time

import numpy as np
from scipy.optimize import minimize

from fusedlogit import LogisticLoss


def proc_status(key):
    """A /proc/self/status field in bytes (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


class AnonPeak:
    """Peak RssAnon, sampled by a background thread."""

    def __init__(self, interval=0.005):
        self.interval, self.peak, self._stop = interval, proc_status("RssAnon"), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, proc_status("RssAnon"))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def drop_from_page_cache(path, mapping=None):
    """Evict the file from the page cache; its pages mapped by ``mapping`` are unmapped first
    (the kernel keeps pages that a process maps)."""
    if mapping is not None:
        mapping.madvise(mmap.MADV_DONTNEED)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def write_problem(path, n, d, seed=0, block_rows=100_000):
    """X (n, d) float64 written in row blocks to ``path``; returns y (n,)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d) / np.sqrt(d)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, d))
    y = np.empty(n)
    for start in range(0, n, block_rows):
        block = rng.standard_normal((min(block_rows, n - start), d))
        X[start : start + len(block)] = block
        y[start : start + len(block)] = rng.random(len(block)) < 1 / (1 + np.exp(-(block @ w)))
    X.flush()
    del X
    return y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=3.0, help="size of X on disk (default 3)")
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--maxiter", type=int, default=15, help="L-BFGS iterations (default 15)")
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where to write X (default: the temp dir)")
    parser.add_argument("--n-threads", type=int, default=None)
    args = parser.parse_args(argv)

    n = int(args.size_gb * 1e9 / (8 * args.d))
    fd, path = tempfile.mkstemp(suffix=".npy", dir=args.dir)
    os.close(fd)
    try:
        t0 = time.perf_counter()
        y = write_problem(path, n, args.d)
        write_s = time.perf_counter() - t0
        drop_from_page_cache(path)

        X = np.load(path, mmap_mode="r")
        LogisticLoss(X[:1000], y[:1000]).loss_gradient(np.zeros(args.d + 1))  # compile outside the timing
        with AnonPeak() as anon:
            t0 = time.perf_counter()
            obj = LogisticLoss(X, y, l2=1e-6, n_threads=args.n_threads)  # one finite-check pass over X
            build_s = time.perf_counter() - t0
            assert np.shares_memory(obj.X, X)
            passes, eval_s = 0, 0.0

            def fun(coef):
                nonlocal passes, eval_s
                if args.cache == "cold":
                    drop_from_page_cache(path, X._mmap)
                t = time.perf_counter()
                out = obj.loss_gradient(coef)
                eval_s += time.perf_counter() - t
                passes += 1
                return out

            t0 = time.perf_counter()
            res = minimize(fun, np.zeros(obj.n_coef), jac=True, method="L-BFGS-B", options={"maxiter": args.maxiter})
            fit_s = time.perf_counter() - t0
        row = {
            "n": n,
            "d": args.d,
            "x_gb": X.nbytes / 1e9,
            "cache": args.cache,
            "write_s": round(write_s, 2),
            "construct_s": round(build_s, 2),
            "construct_gb_s": round(X.nbytes / build_s / 1e9, 3),
            "fit_s": round(fit_s, 2),
            "passes": passes,
            "iterations": int(res.nit),
            "eval_gb_s": round(X.nbytes * passes / eval_s / 1e9, 3),
            "final_grad_max": float(np.abs(res.jac).max()),
            "peak_rss_gb": round(proc_status("VmHWM") / 1e9, 3),
            "peak_anon_gb": round(anon.peak / 1e9, 3),
            "y_gb": y.nbytes / 1e9,
        }
        print(json.dumps(row, indent=1))
    finally:
        os.remove(path)


if __name__ == "__main__":
    main()
