"""The machine a result was measured on: CPU, cores, memory (from /proc), versions, threading layer."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import numpy as np

from .. import __version__
from .roofline import read_sum


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

