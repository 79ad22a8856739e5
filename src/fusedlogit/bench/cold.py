"""The cold-start section: fresh processes on a new Numba cache, empty then warm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .timing import progress

_COLD_CHILD = r"""
import json, time
t0 = time.perf_counter()
import fusedlogit
t1 = time.perf_counter()
import fusedlogit._config
t2 = time.perf_counter()
import numpy as np
rng = np.random.default_rng(0)
X = rng.standard_normal((1000, 10)).astype(np.{dtype})
y = (rng.random(1000) < 0.5).astype(np.float64)
coef = np.zeros(11)
obj = fusedlogit.LogisticLoss(X, y)
laps = []
for call in (lambda: obj.loss_gradient(coef), lambda: obj.loss_gradient(coef),
             lambda: obj.hessp(coef, coef + 1.0), lambda: obj.hessp(coef, coef + 1.0)):
    t = time.perf_counter()
    call()
    laps.append(time.perf_counter() - t)
print(json.dumps({{"import_s": t1 - t0, "numba_import_s": t2 - t1,
                  "first_loss_gradient_s": laps[0], "second_loss_gradient_s": laps[1],
                  "first_hessp_s": laps[2], "second_hessp_s": laps[3]}}))
"""


def run_cold_start(dtype="float64"):
    """Two fresh processes on one new NUMBA_CACHE_DIR: empty cache, then warm cache."""
    package_root = str(Path(__file__).resolve().parents[2])  # src/, above fusedlogit/bench/
    env = {k: v for k, v in os.environ.items() if k != "FUSEDLOGIT_NO_CACHE"}
    env["PYTHONPATH"] = os.pathsep.join([package_root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fusedlogit-cold-") as cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
        for cache in ("empty", "warm"):
            t = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", _COLD_CHILD.format(dtype=dtype)],
                env=env, capture_output=True, text=True, check=True,
            )
            wall = time.perf_counter() - t
            row = {"cache": cache, "dtype": dtype, "process_wall_s": wall, **json.loads(out.stdout.strip().splitlines()[-1])}
            rows.append(row)
            progress(
                f"cold    cache={cache:<5} import {row['import_s']:.3f} s  numba import {row['numba_import_s']:.3f} s  "
                f"first loss_gradient {row['first_loss_gradient_s']:.3f} s  first hessp {row['first_hessp_s']:.3f} s  "
                f"process {wall:.2f} s"
            )
    return rows
