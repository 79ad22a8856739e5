"""Peak extra memory of one loss+gradient / hessp call, fused kernels vs the NumPy reference.

Each measurement runs in a fresh process: X is built, the kernels are warmed up
on a small slice, the resident-set high-water mark (VmHWM) is reset to the
current RSS, one call is made on the full X, and the growth of VmHWM is the
call's peak extra memory.

    python benchmarks/peak_memory.py --n 10000000 --d 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, sys
import numpy as np
import fusedlogit

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

n, d, backend, method = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d)); y = (rng.random(n) < 0.5).astype(np.float64)
coef = np.full(d + 1, 0.01)
small = fusedlogit.LogisticLoss(X[:5000], y[:5000], backend=backend)
getattr(small, method)(*([coef] if method != "hessp" else [coef, coef]))  # compile / warm up
obj = fusedlogit.LogisticLoss(X, y, backend=backend)
reset_peak()
before = status("VmRSS")
getattr(obj, method)(*([coef] if method != "hessp" else [coef, coef]))
print(json.dumps({"n": n, "d": d, "backend": backend, "method": method,
                  "x_bytes": X.nbytes, "extra_bytes": status("VmHWM") - before}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--d", type=int, default=10)
    args = parser.parse_args(argv)
    rows = []
    for backend in ("numba", "numpy"):
        for method in ("loss_gradient", "hessp"):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.n), str(args.d), backend, method],
                capture_output=True, text=True, check=True,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{backend:6s} {method:14s} n={row['n']:>10,} d={row['d']:>4}  X {row['x_bytes'] / 2**20:8.1f} MiB"
                f"  peak extra {row['extra_bytes'] / 2**20:8.2f} MiB",
                flush=True,
            )
    return rows


if __name__ == "__main__":
    main()
