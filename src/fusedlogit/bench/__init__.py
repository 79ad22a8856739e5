"""The benchmark harness: ``python -m fusedlogit.bench`` (see ``cli`` for the sections and JSON).

- ``cli``: arguments, ``run`` and ``main``;
- ``roofline``: the plain read of X (``read_sum``) and the timed problem;
- ``methods``: the table of timed kernel methods; ``grid``: n, d and thread grids;
- ``timing``: ``time_call``; ``kernels``, ``fits``, ``cold``: the three sections;
- ``machine``: what the results were measured on; ``report``, ``plot``: the output.

The names below are the ones the tests and ``benchmarks/`` use.
"""

from .._threads import pinned as pinned_threads
from .cli import _size, main, run
from .fits import DEFAULT_FIT_SHAPES, QUICK_FIT_SHAPES, STATSMODELS_MAX_ELEMENTS, _load_fit, fit_methods
from .grid import DEFAULT_D, DEFAULT_MEMORY_BUDGET, n_grid, thread_grid
from .methods import KERNEL_METHODS
from .report import report
from .roofline import kernel_problem, read_sum

__all__ = [
    "DEFAULT_D",
    "DEFAULT_FIT_SHAPES",
    "DEFAULT_MEMORY_BUDGET",
    "KERNEL_METHODS",
    "QUICK_FIT_SHAPES",
    "STATSMODELS_MAX_ELEMENTS",
    "fit_methods",
    "kernel_problem",
    "main",
    "n_grid",
    "pinned_threads",
    "read_sum",
    "report",
    "run",
    "thread_grid",
]
