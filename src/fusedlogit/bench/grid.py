"""The default grid: d values, n values within a memory budget, thread counts."""

from __future__ import annotations

DEFAULT_D = (2, 8, 32, 100, 1000, 10000)
QUICK_D = (2, 32, 1000)
QUICK_N = (10_000, 100_000, 1_000_000)
DEFAULT_MEMORY_BUDGET = 2e9
QUICK_MEMORY_BUDGET = 128e6


def n_grid(d, itemsize, budget_bytes, n_values=None):
    """n = 10^4, 10^5, ... (or the given values) while X = n·d·itemsize fits the budget."""
    if n_values is None:
        n_values = [10**k for k in range(4, 13)]
    return [n for n in n_values if n * d * itemsize <= budget_bytes]


def thread_grid(max_threads, quick=False):
    """1, 2, 4, ... and always the maximum; only 1 and the maximum with ``quick``."""
    if quick:
        counts = {1, max_threads}
    else:
        counts = {2**k for k in range(max_threads.bit_length()) if 2**k <= max_threads} | {max_threads}
    return sorted(counts)
