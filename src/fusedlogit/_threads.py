"""The thread policy, in one place: Numba's kernel threads and the BLAS/OpenMP pools.

Every call that runs on threads goes through one of these:

- ``launch(kernel, n_threads, *args)``: a compiled parallel kernel on
  ``n_threads`` Numba threads (None: all), serialised by a lock only on a
  threading layer that cannot run concurrent launches (see ``_config``);
- ``blas_limits(n_threads)``: BLAS/OpenMP pools limited to ``n_threads``
  (None: left as the caller set them), for the calls where BLAS does the work;
- ``pinned(n_threads)``: both at once, as the benchmarks pin every pool.

Importing this module imports neither Numba nor threadpoolctl.
"""

from __future__ import annotations

import contextlib

_controller = None


def blas_limits(n_threads):
    """Context limiting BLAS/OpenMP pools to ``n_threads`` (no-op for None).

    One ``ThreadpoolController`` is made on first use and reused: building one
    scans every loaded shared library (milliseconds), limiting with it does not.
    """
    global _controller
    if n_threads is None:
        return contextlib.nullcontext()
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=n_threads)


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
