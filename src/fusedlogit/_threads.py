"""The thread policy, in one place: Numba's kernel threads and the BLAS/OpenMP pools.

Every call that runs on threads goes through one of these:

- ``launch(kernel, n_threads, *args)``: a compiled parallel kernel on
  ``n_threads`` Numba threads (None: all), serialised by a lock only on a
  threading layer that cannot run concurrent launches (see ``_config``);
- ``blas_limits(n_threads)``: BLAS/OpenMP pools limited to ``n_threads``
  (None: left as they are), around the calls where BLAS does the work (the
  blocked Hessian's ``dsyrk``, the reference backend, the covariance);
- ``fit_threads()``: the policy of every fit (``fit``, ``fit_many``, the
  estimator): BLAS/OpenMP pools at one thread for the whole fit, the
  caller's limits restored afterwards.  The fused kernels run on Numba's
  threads; the rest is scipy's L-BFGS-B, small vector products and the
  blocked Hessian.  Beside busy processes a multi-threaded BLAS pool fights
  Numba's threads and the other processes for the cores: three Hessians of
  400,000 × 51 took 38 s on 2 BLAS threads against 0.34 s on one, on the
  2-core development machine with two busy processes; idle, one thread was
  as fast at d = 100 and 10–30% slower at d = 500.  So inside a fit BLAS
  gets more than one thread only where the caller asks for it with an
  explicit ``n_threads`` (``blas_limits(n_threads)`` above);
- ``pinned(n_threads)``: Numba and BLAS at once, as the benchmarks pin every pool.

Importing this module imports neither Numba nor threadpoolctl.
"""

from __future__ import annotations

import contextlib

_controller = None


def _get_controller():
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def blas_limits(n_threads):
    """Context limiting BLAS/OpenMP pools to ``n_threads`` (no-op for None).

    One ``ThreadpoolController`` is made on first use and reused: building one
    scans every loaded shared library (milliseconds), limiting with it does not.
    """
    if n_threads is None:
        return contextlib.nullcontext()
    return _get_controller().limit(limits=n_threads)


def fit_threads():
    """BLAS/OpenMP pools at one thread for the duration of a fit (see the module docstring)."""
    return blas_limits(1)


@contextlib.contextmanager
def numba_threads(n_threads):
    """Numba's thread count set to ``n_threads`` (None: all) inside the block, then restored.

    The count is per calling thread, so concurrent callers with different
    counts do not interfere.
    """
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads or numba.config.NUMBA_NUM_THREADS)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def launch(kernel, n_threads, *args):
    """``kernel(*args)`` on ``n_threads`` Numba threads (None: all).

    The launch lock is taken only on a layer that would crash on concurrent
    launches (``_config.needs_launch_lock``).
    """
    from . import _config

    with numba_threads(n_threads):
        with _config.launch_lock() if _config.needs_launch_lock() else contextlib.nullcontext():
            return kernel(*args)


@contextlib.contextmanager
def pinned(n_threads):
    """Numba, BLAS and OpenMP pools all limited to ``n_threads`` inside the block."""
    with numba_threads(n_threads), blas_limits(n_threads):
        yield
