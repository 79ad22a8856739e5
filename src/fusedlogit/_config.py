"""Compilation settings shared by every compiled kernel, kept in one place.

Importing this module imports Numba and chooses its threading layer; nothing is
compiled here. ``jit`` and ``pjit`` compile lazily, on the first call for each
dtype, and keep the machine code in Numba's on-disk cache so that a second
process does not pay the compile.

Threading layer
---------------
Numba's default ``workqueue`` layer aborts the process when two Python threads
launch parallel kernels at once, and the GNU OpenMP layer kills a child forked
after the kernels ran.  Intel TBB is safe on both counts, but the ``tbb`` wheel
puts ``libtbb.so.12`` in ``<prefix>/lib``, which a virtual environment's loader
does not search.  We therefore load that library ourselves (``RTLD_GLOBAL``)
and select ``tbb`` before the first parallel launch.  If the user set
``NUMBA_THREADING_LAYER`` we leave the choice to them.  If TBB cannot be loaded
we fall back to ``workqueue`` and serialise our parallel calls with a lock, so
the library stays thread- and fork-safe, only without concurrent kernels.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from pathlib import Path

import numba

#: Floating-point relaxations allowed in kernels.  ``reassoc`` lets LLVM
#: vectorise the dot-product reductions; ``nnan``/``ninf`` are left out so that
#: NaN and inf propagate and ``np.isnan`` keeps working.
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

#: For the elementary functions in ``kernels.vecmath``: fused multiply-add only, so
#: LLVM may not reassociate their carefully ordered sums.
FASTMATH_EXACT = {"contract"}

#: NumPy semantics for division by zero (inf/nan, no exception).  Python's
#: model puts a zero test and a raise behind every ``/``, which stops LLVM from
#: vectorising any loop that divides.
ERROR_MODEL = "numpy"

#: Use Numba's on-disk cache (set ``FUSEDLOGIT_NO_CACHE=1`` to disable).
CACHE = os.environ.get("FUSEDLOGIT_NO_CACHE", "") in ("", "0")


def _tbb_library_candidates():
    """Places where the ``tbb`` wheel (or the system) may keep libtbb.so.12."""
    try:
        from importlib import metadata

        for f in metadata.files("tbb") or ():
            if f.name.startswith("libtbb.so.12") or f.name == "tbb12.dll":
                yield Path(f.locate())
    except Exception:  # tbb not installed as a wheel
        pass
    for prefix in {sys.prefix, sys.base_prefix}:
        yield Path(prefix) / "lib" / "libtbb.so.12"
    found = ctypes.util.find_library("tbb")
    if found:
        yield Path(found)


def _load_tbb() -> bool:
    for path in _tbb_library_candidates():
        try:
            ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            return True
        except OSError:
            continue
    return False


def _choose_threading_layer() -> str:
    if os.environ.get("NUMBA_THREADING_LAYER"):
        return numba.config.THREADING_LAYER
    layer = "tbb" if _load_tbb() else "workqueue"
    numba.config.THREADING_LAYER = layer
    return layer


THREADING_LAYER_REQUESTED = _choose_threading_layer()

# Held around every parallel launch when the active layer is not thread-safe.
_launch_lock = threading.Lock()


def needs_launch_lock() -> bool:
    """True when the active layer would crash on concurrent launches."""
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        layer = THREADING_LAYER_REQUESTED
    return layer == "workqueue"


def max_threads() -> int:
    return numba.config.NUMBA_NUM_THREADS


def launch_lock():
    """The lock held around parallel launches on a layer that is not thread-safe."""
    return _launch_lock


def jit(func):
    """Serial kernel: lazily compiled, cached, with the shared fastmath set."""
    return numba.njit(cache=CACHE, fastmath=FASTMATH, error_model=ERROR_MODEL, nogil=True)(func)


def jit_exact(func):
    """Serial function whose floating-point order must be kept (``kernels.vecmath``)."""
    return numba.njit(cache=CACHE, fastmath=FASTMATH_EXACT, error_model=ERROR_MODEL, nogil=True)(func)


def pjit(func):
    """Parallel kernel (``prange``): lazily compiled, cached, shared fastmath."""
    return numba.njit(cache=CACHE, fastmath=FASTMATH, error_model=ERROR_MODEL, nogil=True, parallel=True)(func)
