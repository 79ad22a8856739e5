"""The machine a result was measured on (CPU, cores, memory from /proc, versions, threading layer), and
how busy other processes keep it while a timed call runs (``CpuWatch``, ``wait_quiet``)."""

from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path

import numpy as np

from .. import __version__
from .roofline import read_sum
from .timing import progress


def machine_info():
    """What is needed to never mix results of two machines or two installs."""
    import numba
    import scipy

    info = {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "memory_gb": _memory_gb(),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "fusedlogit": __version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "scipy": scipy.__version__,
    }
    for name in ("sklearn", "glum", "statsmodels", "threadpoolctl"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = None
    read_sum(np.ones((8, 2)))  # a parallel launch, so that the layer is known
    info["threading_layer"] = numba.threading_layer()
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = sorted({f"{p['internal_api']} {p.get('version')}" for p in threadpool_info() if p["user_api"] == "blas"})
    except Exception:
        info["blas"] = None
    return info


def _cpu_model():
    try:
        text = Path("/proc/cpuinfo").read_text()
        match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        if match:
            return match.group(1).strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb():
    try:
        match = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        return round(int(match.group(1)) / 1e6, 1) if match else None
    except OSError:
        return None


def machine_line(machine):
    return (f"{machine['cpu_model']}, {machine['usable_cores']} cores, numba {machine['numba']} "
            f"({machine['threading_layer']}), numpy {machine['numpy']}, {', '.join(machine['blas'] or [])}")


# -- other processes' load while a timed call runs ------------------------------------------------


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _cpu_busy_seconds():
    """(busy CPU seconds of the whole machine, this process's and its reaped children's CPU seconds)."""
    import resource

    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle, iowait
    except (OSError, ValueError, IndexError):
        busy = float("nan")
    ours = sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))
    return busy, ours


class CpuWatch:
    """The cores other processes kept busy while the block ran: (machine busy − ours) CPU seconds / wall."""

    def __enter__(self):
        self.t, (self.busy, self.ours) = time.perf_counter(), _cpu_busy_seconds()
        return self

    def __exit__(self, *exc):
        busy, ours = _cpu_busy_seconds()
        wall = max(time.perf_counter() - self.t, 1e-9)
        self.others = max(0.0, ((busy - self.busy) - (ours - self.ours)) / wall)
        return False


#: Set by ``--quiet-wait``: before each timed fit, wait (up to this many seconds) until other processes
#: keep fewer than ``QUIET_CORES`` cores busy over a 2-second sample.
QUIET = {"wait": 0.0, "retries": 0}
QUIET_CORES = 0.25
#: A timed fit during which others used more than this many cores is rerun (``--busy-retries`` times at most).
BUSY_CORES = 0.15


def pick_quiet(samples):
    """Of [(seconds, others, ...)], the fastest taken while others were quiet, else the least disturbed one."""
    quiet = [s for s in samples if s[1] <= BUSY_CORES]
    return min(quiet, key=lambda s: s[0]) if quiet else min(samples, key=lambda s: s[1])


def wait_quiet():
    """Seconds waited for a quiet machine (see ``QUIET``); the last sample's cores used by others."""
    start = time.perf_counter()
    while True:
        with CpuWatch() as watch:
            time.sleep(2.0)
        waited = time.perf_counter() - start
        if watch.others < QUIET_CORES or waited >= QUIET["wait"]:
            if waited > 3:
                progress(f"        waited {waited:.0f} s for a quiet machine (others now {watch.others:.2f} cores)")
            return waited, watch.others
