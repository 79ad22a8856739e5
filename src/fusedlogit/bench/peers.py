"""Peers timed in child processes: each fit in its own interpreter, with its thread pools set by the
environment, a time cap, and the cores other processes used meanwhile (``machine.CpuWatch``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .machine import BUSY_CORES, QUIET, CpuWatch, load_average, pick_quiet, wait_quiet
from .timing import progress


class Peers:
    """Runs peers in child processes (``python -m <worker> --worker spec.json``) on data saved once in a
    temporary folder; ``cap`` seconds per fit, then the child is killed."""

    def __init__(self, threads, cap, allowed, worker):
        self.threads, self.cap, self.allowed, self.worker = threads, cap, set(allowed), worker
        self.dir = Path(tempfile.mkdtemp(prefix="l1_bench_"))
        self.count = 0

    def save_dense(self, name, X, y, **extra):
        path = self.dir / f"{name}.npz"
        np.savez(path, X=X, y=y, **extra)
        return str(path)

    def save_sparse(self, name, X, y):
        from scipy import sparse

        sparse.save_npz(self.dir / f"{name}_X.npz", X, compressed=False)
        np.save(self.dir / f"{name}_y.npy", y)
        return str(self.dir / name)

    def run(self, peer, solver, data, params, label):
        """The child's result dict; status "ok", "timeout" (> cap), "error" or "skipped".

        A run disturbed by other processes (> ``BUSY_CORES``) is repeated up to ``QUIET["retries"]`` times;
        the fastest quiet run is kept, else the least disturbed one.
        """
        if peer not in self.allowed:
            return {"status": "skipped", "peer": peer, "solver": solver}
        runs = []
        for attempt in range(1 + QUIET["retries"]):
            row = self._run_once(peer, solver, data, params, label)
            runs.append(row)
            if row["status"] in ("error", "oom") or row["others"] <= BUSY_CORES or (
                    row["status"] == "timeout" and row["others"] <= 0.5):  # far past the cap anyway
                break
            if attempt < QUIET["retries"]:
                progress(f"        {peer}: others at {row['others']:.2f} cores: again")
        done = [r for r in runs if r["status"] == "ok"]
        if not done:
            return runs[-1] if runs[-1]["status"] in ("error", "oom") else min(runs, key=lambda r: r["others"])
        return pick_quiet([(r["seconds"], r["others"], r) for r in done])[2]

    def _run_once(self, peer, solver, data, params, label):
        self.count += 1
        spec = self.dir / f"spec{self.count}.json"
        out = self.dir / f"out{self.count}.npz"
        started = self.dir / f"started{self.count}"
        log = self.dir / f"log{self.count}.txt"
        spec.write_text(json.dumps({"peer": peer, "solver": solver, "data": data, "params": params,
                                    "threads": self.threads, "out": str(out), "started": str(started)}))
        env = dict(os.environ, OMP_NUM_THREADS=str(self.threads), OPENBLAS_NUM_THREADS=str(self.threads),
                   MKL_NUM_THREADS=str(self.threads), FUSEDLOGIT_QUIET="1")
        if QUIET["wait"]:
            wait_quiet()
        load = load_average()
        watch = CpuWatch().__enter__()
        with open(log, "w") as logfile:
            proc = subprocess.Popen([sys.executable, "-m", self.worker, "--worker", str(spec)], env=env,
                                    stdout=logfile, stderr=subprocess.STDOUT)
            status, launched = None, time.time()
            while proc.poll() is None:
                time.sleep(0.5)
                begun = float(started.read_text() or "nan") if started.exists() else None
                if (begun is not None and time.time() - begun > self.cap) or (
                        begun is None and time.time() - launched > self.cap + 300):  # stuck before the fit
                    proc.kill()  # the child we started, by its handle
                    proc.wait()
                    status = "timeout"
                    break
        watch.__exit__(None, None, None)
        row = {"peer": peer, "solver": solver, "load_before": load, "load_after": load_average(), "cap": self.cap,
               "others": watch.others}
        if status == "timeout":
            progress(f"{label:<56} > {self.cap:g} s (killed)")
            return dict(row, status="timeout")
        if proc.returncode == -9:  # SIGKILL, not ours: the kernel's OOM killer
            progress(f"{label:<56} killed by SIGKILL (out of memory)")
            return dict(row, status="oom", error="killed by SIGKILL: out of memory")
        if proc.returncode != 0 or not out.exists():
            tail = log.read_text()[-600:]
            progress(f"{label:<56} failed (rc {proc.returncode}): {tail}")
            return dict(row, status="error", error=tail.strip().splitlines()[-1] if tail.strip() else "?")
        with np.load(out, allow_pickle=False) as f:
            result = {k: f[k] for k in f.files}
        row.update(status="ok", seconds=float(result.pop("seconds")), **result)
        progress(f"{label:<56} {row['seconds']:9.2f} s  (others {watch.others:.2f} cores)")
        return row

    def close(self):
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def run_worker(spec_path, fit_peer, prepare=None):
    """In the child: load the spec's data, warm the peer up on a slice of it (imports, first compiles), then
    time ``fit_peer(peer, solver, X, y, params, extra)`` alone and save its result dict with the seconds."""
    import warnings

    from .._threads import pinned

    spec = json.loads(Path(spec_path).read_text())
    peer, solver, params, data = spec["peer"], spec["solver"], spec["params"], spec["data"]
    if data.endswith(".npz"):
        with np.load(data) as f:
            X, y = f["X"], f["y"]
            extra = {k: f[k] for k in f.files if k not in ("X", "y")}
    else:
        from scipy import sparse

        X, y, extra = sparse.load_npz(data + "_X.npz"), np.load(data + "_y.npy"), {}
    if prepare is not None:
        X = prepare(peer, X)
    warm_rows = min(X.shape[0], 2000)
    with pinned(spec["threads"]), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_peer(peer, solver, X[:warm_rows], y[:warm_rows], dict(params, warm=True), extra)
        Path(spec["started"]).write_text(repr(time.time()))
        t = time.perf_counter()
        result = fit_peer(peer, solver, X, y, params, extra)
        seconds = time.perf_counter() - t
    np.savez(spec["out"], seconds=seconds, **result)
