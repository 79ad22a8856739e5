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
import os
import threading

_controller = None

# The BLAS/OpenMP limits are global to the process, but fits run from several Python threads at
# once.  Nested ``limit`` contexts restore what they found on entry, so two that interleave (A
# enters, B enters, A leaves, B leaves) would leave B's view of "the caller's limits", A's limit
# of 1, in force for the rest of the process.  So every active request is kept here: the first
# one saves the caller's limits, each change applies the smallest limit requested (no pool
# oversubscribes while any fit wants fewer threads), and the last one out restores the caller's.
_requests_lock = threading.Lock()
_requests = []
_callers_limits = None


def _new_requests_lock_in_child():
    """A forked child gets a fresh lock: one held by another thread at the fork would never be released."""
    global _requests_lock
    _requests_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_requests_lock_in_child)


def _get_controller():
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def _set_limits(apply):
    """``apply()`` (a limit or a restore) with every pool, whichever thread calls it.

    threadpoolctl ≥ 3.6 lets one thread at a time "control" OpenBLAS and ignores
    the others' calls; here the first request and the last one out may be
    different threads, so control is handed to the caller for the call, then
    released so that the user's own limits in other threads work as before.
    """
    from threadpoolctl import OpenBLASController

    release = getattr(OpenBLASController, "clear_controlling_thread", None)
    if release is not None:
        release(force=True)
    try:
        return apply()
    finally:
        if release is not None:
            release(force=True)


@contextlib.contextmanager
def _limited(n_threads):
    global _callers_limits
    request = [n_threads]  # a list of its own: removed by identity, not by value
    with _requests_lock:
        _requests.append(request)
        limiter = _set_limits(lambda: _get_controller().limit(limits=min(r[0] for r in _requests)))
        if _callers_limits is None:
            _callers_limits = limiter
    try:
        yield
    finally:
        with _requests_lock:
            _requests.remove(request)
            if _requests:
                _set_limits(lambda: _get_controller().limit(limits=min(r[0] for r in _requests)))
            else:
                _set_limits(_callers_limits.restore_original_limits)
                _callers_limits = None


def blas_limits(n_threads):
    """Context limiting BLAS/OpenMP pools to ``n_threads`` (no-op for None).

    Safe from several Python threads at once: while contexts overlap the
    smallest limit asked for holds, and the caller's limits come back when
    the last one ends.  One ``ThreadpoolController`` is made on first use
    and reused: building one scans every loaded shared library
    (milliseconds), limiting with it does not.
    """
    if n_threads is None:
        return contextlib.nullcontext()
    return _limited(n_threads)


@contextlib.contextmanager
def fit_threads():
    """BLAS/OpenMP pools at one thread for the duration of a fit (see the module docstring), and Ctrl-C
    raised as ``KeyboardInterrupt`` (``keyboard_interrupts``)."""
    with keyboard_interrupts(), blas_limits(1):
        yield


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


def _interrupt_behind(exc):
    """The KeyboardInterrupt that a kernel's ``SystemError`` carries as its cause, or None."""
    return exc.__cause__ if isinstance(exc.__cause__, KeyboardInterrupt) else None


@contextlib.contextmanager
def keyboard_interrupts():
    """Ctrl-C inside the block raised as ``KeyboardInterrupt``, never as a ``SystemError``.

    A SIGINT that arrives while a compiled kernel runs (with the GIL released)
    can leave Python's KeyboardInterrupt set when the kernel returns its
    result; CPython then raises ``SystemError: ... returned a result with an
    exception set`` with the KeyboardInterrupt as its cause.  This re-raises
    that cause, so that a user's ``except KeyboardInterrupt`` works.  A block,
    not a wrapper, around the entry points that warn (``fit``, ``path``,
    ``cv``, ``fit_many``, through ``fit_threads``): a wrapper's frame would
    shift their warnings' ``stacklevel`` off the user's line.
    """
    try:
        yield
    except SystemError as exc:
        interrupt = _interrupt_behind(exc)
        if interrupt is None:
            raise
        raise interrupt from None


def interruptible(func):
    """``func`` with ``keyboard_interrupts``' conversion, for entry points that do not warn (the objectives'
    methods).  A plain ``try`` rather than the context manager: these run once per solver iteration, and the
    generator-based block costs about 1 µs a call, the ``try`` nothing."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SystemError as exc:
            interrupt = _interrupt_behind(exc)
            if interrupt is None:
                raise
            raise interrupt from None

    return wrapper
