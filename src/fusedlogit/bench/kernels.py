"""The kernels section: every method of ``KERNEL_METHODS`` timed on the grid, GB/s against the read."""

from __future__ import annotations

import statistics

import numpy as np

from .._threads import pinned
from .grid import n_grid
from .methods import KERNEL_METHODS
from .roofline import kernel_problem
from .timing import progress, time_call


def run_kernels(ns, ds, dtypes, threads, *, budget_bytes, repeats, min_sample_s, methods=None):
    """Time every method of ``KERNEL_METHODS`` on the grid; one dict per measurement."""
    methods = methods or list(KERNEL_METHODS)
    rows = []
    for dtype in dtypes:
        itemsize = np.dtype(dtype).itemsize
        for d in ds:
            for n in n_grid(d, itemsize, budget_bytes, ns):
                problem = kernel_problem(n, d, dtype)
                for k in threads:
                    rows.extend(_time_configuration(problem, k, methods, repeats, min_sample_s))
                del problem
    return rows


def _time_configuration(problem, n_threads, methods, repeats, min_sample_s):
    n, d, dtype = problem.key
    nbytes = problem.X.nbytes
    rows = []
    read_gb_s = None
    with pinned(n_threads):
        for method, op in sorted(methods, key=lambda m: m != ("read", "read")):  # the roofline first
            call = KERNEL_METHODS[method, op](problem, n_threads)
            if call is None:
                continue
            samples, number = time_call(call, repeats=repeats, min_sample_s=min_sample_s)
            median = statistics.median(samples)
            gb_s = nbytes / median / 1e9
            if method == "read":
                read_gb_s = gb_s
            row = {
                "method": method,
                "op": op,
                "n": n,
                "d": d,
                "dtype": dtype,
                "n_threads": n_threads,
                "median_s": median,
                "min_s": min(samples),
                "repeats": repeats,
                "number": number,
                "rows_s": n / median,
                "gb_s": gb_s,
                "x_bytes": nbytes,
                "roofline_fraction": gb_s / read_gb_s if read_gb_s else None,
            }
            rows.append(row)
            progress(
                f"kernels n={n:<9} d={d:<5} {dtype:<7} threads={n_threads:<2} {method:>9} {op:<13} "
                f"{median * 1e3:10.4f} ms  {gb_s:7.2f} GB/s"
                + (f"  {row['roofline_fraction']:5.0%} of read" if read_gb_s else "")
            )
    return rows
