"""The benchmark harness: ``python -m fusedlogit.bench`` (see ``cli`` for the sections and JSON).

- ``cli``: arguments, ``run`` and ``main``;
- ``roofline``: the plain read of X (``read_sum``) and the timed problem;
- ``methods``: the table of timed kernel methods; ``grid``: n, d and thread grids;
- ``timing``: ``time_call``; ``kernels``, ``fits``, ``multinomial`` (also the
  measured peak flop rate), ``multinomial_fits``, ``cold``: the five default
  sections; ``l1``: L1 fits against glum and scikit-learn (asked for by name;
  also ``python -m fusedlogit.bench.l1``); ``ordinal``: the ordinal model's
  pass and a fit against statsmodels (``python -m fusedlogit.bench.ordinal``);
- ``machine``: what the results were measured on, and other processes' load
  meanwhile; ``peers``: peers timed in child processes; ``report``, ``plot``:
  the output.

The harness stays in the installed package so that ``python -m
fusedlogit.bench`` measures a user's own install on their own machine, with
no clone; ``benchmarks/`` holds the one-off scripts and the recorded results.

The names below are the ones the tests and ``benchmarks/`` use.
"""

from .._threads import pinned as pinned_threads
from .cli import _size, main, run
from .fits import DEFAULT_FIT_SHAPES, QUICK_FIT_SHAPES, STATSMODELS_MAX_ELEMENTS, _load_fit, fit_methods
from .grid import DEFAULT_D, DEFAULT_MEMORY_BUDGET, n_grid, thread_grid
from .methods import KERNEL_METHODS
from .multinomial import (
    CLASSES,
    MULTINOMIAL_METHODS,
    flops_per_row,
    from_sklearn_coef,
    measure_peak_flops,
    multinomial_kernel_problem,
    multinomial_n_grid,
    multinomial_problem,
    run_multinomial,
    sklearn_multinomial_loss_gradient,
    time_problem,
    to_sklearn_coef,
)
from .multinomial_fits import full_coef, multiclass_fit, multinomial_fit_problem, run_multinomial_fits
from .report import report
from .roofline import kernel_problem, read_sum

__all__ = [
    "CLASSES",
    "DEFAULT_D",
    "DEFAULT_FIT_SHAPES",
    "DEFAULT_MEMORY_BUDGET",
    "KERNEL_METHODS",
    "MULTINOMIAL_METHODS",
    "QUICK_FIT_SHAPES",
    "STATSMODELS_MAX_ELEMENTS",
    "fit_methods",
    "flops_per_row",
    "from_sklearn_coef",
    "full_coef",
    "kernel_problem",
    "main",
    "measure_peak_flops",
    "multiclass_fit",
    "multinomial_fit_problem",
    "multinomial_kernel_problem",
    "multinomial_n_grid",
    "multinomial_problem",
    "n_grid",
    "pinned_threads",
    "read_sum",
    "report",
    "run",
    "run_multinomial",
    "run_multinomial_fits",
    "sklearn_multinomial_loss_gradient",
    "thread_grid",
    "time_problem",
    "to_sklearn_coef",
]
