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

import contextlib
import ctypes
import ctypes.util
import functools
import hashlib
import os
import re
import sys
import threading
from pathlib import Path

import numba
import numba.core.event
from numba.core.caching import FunctionCache

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

def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to a true value.

    Unset, empty, ``0``, ``false``, ``no`` and ``off`` (any case, spaces
    ignored) are false; any other value is true.
    """
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


#: Use Numba's on-disk cache (set ``FUSEDLOGIT_NO_CACHE=1`` to disable).
CACHE = not env_flag("FUSEDLOGIT_NO_CACHE")


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


def _new_launch_lock_in_child():
    """A forked child gets a fresh lock: one held by another thread at the fork would never be released."""
    global _launch_lock
    _launch_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_launch_lock_in_child)


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


class CacheWarning(UserWarning):
    """Numba's on-disk cache could not be used; kernels are compiled in memory instead."""


_cache_warned = False


def _warn_cache(problem, path):
    """One warning per process that the cache is bypassed, with what to do about it."""
    global _cache_warned
    if _cache_warned:
        return
    _cache_warned = True
    import warnings

    warnings.warn(
        f"fusedlogit: Numba's on-disk cache at {path} is not usable ({problem}); kernels are compiled in memory "
        "(slower first calls in every process). Set NUMBA_CACHE_DIR to a writable folder to cache them, or "
        "FUSEDLOGIT_NO_CACHE=1 to skip the cache (and this warning).",
        CacheWarning,
        stacklevel=4,
    )


#: The modules that define compiled functions: a kernel has the compiled functions it calls
#: from these inlined into its machine code, so its cache entry depends on all of them.
#: Pure-Python modules (the solvers' drivers, the API) are not here: editing them must
#: not recompile anything.  ``tests/test_first_use.py`` checks the list against the sources.
COMPILED_SOURCES = (
    "_config.py",
    "kernels/*.py",
    "solvers/compiled.py",
    "solvers/cd_core.py",
    "solvers/newton_core.py",
)


#: ``from .x import a, b`` / ``from ..kernels import dense`` anywhere in a module (also inside functions)
_RELATIVE_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.+)([\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([^\n]*))", re.MULTILINE)


@functools.cache
def _compiled_files():
    root = Path(__file__).parent
    return frozenset(f for pattern in COMPILED_SOURCES for f in root.glob(pattern))


@functools.cache
def _compiled_imports(path):
    """The files of ``COMPILED_SOURCES`` that the module at ``path`` imports from directly."""
    found = set()
    for dots, name, grouped, names in _RELATIVE_IMPORT.findall(path.read_text()):
        base = path.parent
        for _ in range(len(dots) - 1):
            base = base.parent
        target = base.joinpath(*name.split(".")) if name else base
        candidates = [target.with_suffix(".py"), target / "__init__.py"]
        items = (grouped or names).split("#")[0].replace("\n", " ").split(",")
        candidates += [target / f"{item.split()[0]}.py" for item in items if item.strip()]
        found.update(c for c in candidates if c in _compiled_files())
    return frozenset(found)


@functools.cache
def compiled_sources_stamp(module_file):
    """(path, SHA-256 of the contents) of the compiled sources that the module ``module_file`` depends on:
    those it imports from, and theirs in turn (``COMPILED_SOURCES`` only), read once per process.

    Contents, not modification times: a fresh checkout or a ``touch`` of an
    unchanged file keeps the cache valid, and only a real edit of a module a
    kernel depends on invalidates it (a new kernel module invalidates nothing).
    """
    root = Path(__file__).parent
    start = Path(module_file).resolve()
    seen, todo = set(), [start]
    while todo:
        for imported in _compiled_imports(todo.pop()):
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
    seen.add(Path(__file__).resolve())  # the compile options themselves
    return tuple((f.relative_to(root).as_posix(), hashlib.sha256(f.read_bytes()).hexdigest()) for f in sorted(seen))


class RecoveringCache(FunctionCache):
    """Numba's cache of one function, made safe for concurrent processes, for bad entries and for edited callees.

    - Numba saves an entry by reading the function's index, picking the first
      free data-file number, writing the index, then the data.  Two processes
      compiling at once (Dask workers, a process pool) can pick the same
      number, so that one signature's index entry ends up naming another's
      machine code (seen as a wrong-size reshape in the exact-d sweeps, which
      share one index).  Saves are therefore serialised by an exclusive lock
      on a file beside the index.  Reading needs no lock: both files are
      replaced atomically.
    - A truncated or corrupted index or data file (EOFError, UnpicklingError,
      an LLVM bitcode error...) would otherwise fail every later process; the
      function's index is removed so that the fresh compile is saved over it.
    - Numba stamps an entry with its own source file only, but a kernel has
      the functions it calls from other modules compiled into it: after an
      edit of ``vecmath.py`` the cached softmax kernels would still run the
      old exp.  The stamp also covers every file of ``COMPILED_SOURCES`` that
      the function's module depends on (``compiled_sources_stamp``).
    """

    def __init__(self, py_func):
        super().__init__(py_func)
        cache_file = self._cache_file
        cache_file._source_stamp = (cache_file._source_stamp, compiled_sources_stamp(py_func.__code__.co_filename))

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as exc:
            with contextlib.suppress(OSError):
                os.unlink(self._cache_file._index_path)
            _warn_cache(f"a bad entry was dropped: {type(exc).__name__}: {exc}", self._cache_path)
            return None

    def save_overload(self, sig, data):
        try:
            with _exclusive(self._cache_file._index_path + ".lock"):
                super().save_overload(sig, data)
        except Exception as exc:
            _warn_cache(f"{type(exc).__name__}: {exc}", self._cache_path)


@contextlib.contextmanager
def _exclusive(path):
    """An exclusive ``flock`` on ``path`` for the block (no lock where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


#: Set ``FUSEDLOGIT_QUIET=1`` to silence the one-line notice of the first compile.
QUIET = env_flag("FUSEDLOGIT_QUIET")


def _is_ours(event) -> bool:
    """Whether a "numba:compile" event is for one of fusedlogit's functions (never raises)."""
    try:
        module = getattr(event.data["dispatcher"].py_func, "__module__", None)
        return isinstance(module, str) and module.startswith("fusedlogit.")
    except Exception:  # another library's dispatcher of an unexpected shape: not ours
        return False


class _FirstCompileNotice(numba.core.event.Listener):
    """Says once per process, on stderr, that fusedlogit's kernels are being compiled.

    Numba raises the "numba:compile" event only for a real compile, not for a
    load from the on-disk cache, so a process that finds its kernels cached
    says nothing.  The listener is global to Numba and so sees every other
    library's compiles too: it looks only at fusedlogit's own and never
    raises.  (It stays registered once it has spoken: Numba iterates over its
    listeners while it notifies them, so removing one there would skip the
    next one, another library's.)
    """

    said = False

    def on_start(self, event):
        if self.said or not _is_ours(event):
            return
        type(self).said = True
        where = "kept in Numba's on-disk cache for later processes" if CACHE else "not cached (FUSEDLOGIT_NO_CACHE)"
        with contextlib.suppress(Exception):  # a closed or missing stderr must not stop a compile
            print(
                f"fusedlogit: compiling kernels for their first use (seconds; {where}); "
                "fusedlogit.precompile() does it ahead, FUSEDLOGIT_QUIET=1 silences this",
                file=sys.stderr,
                flush=True,
            )

    def on_end(self, event):
        pass


if not QUIET:
    numba.core.event.register("numba:compile", _FirstCompileNotice())


def _compile(func, **options):
    """``numba.njit`` with the shared settings; the on-disk cache when it can be used.

    The cache is Numba's own, installed as ``RecoveringCache`` so that a bad
    entry costs a recompile, not a crash.  Where no cache folder is usable
    (a read-only install with a read-only home: "no locator available") the
    function is compiled in memory, with one ``CacheWarning``.
    """
    dispatcher = numba.njit(cache=False, error_model=ERROR_MODEL, nogil=True, **options)(func)
    if CACHE:
        try:
            dispatcher._cache = RecoveringCache(func)
        except Exception as exc:
            in_tree = os.path.join(os.path.dirname(func.__code__.co_filename), "__pycache__")
            _warn_cache(str(exc), os.environ.get("NUMBA_CACHE_DIR") or in_tree)
    return dispatcher


def jit(func):
    """Serial kernel: lazily compiled, cached, with the shared fastmath set."""
    return _compile(func, fastmath=FASTMATH)


def jit_exact(func):
    """Serial function whose floating-point order must be kept (``kernels.vecmath``)."""
    return _compile(func, fastmath=FASTMATH_EXACT)


def pjit(func):
    """Parallel kernel (``prange``): lazily compiled, cached, shared fastmath."""
    return _compile(func, fastmath=FASTMATH, parallel=True)
