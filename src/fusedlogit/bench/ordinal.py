"""The ordinal (proportional-odds) model: its fused pass against the memory roofline and the NumPy reference,
and a fit against statsmodels' ``OrderedModel``.

Parts:

kernel
    ``OrdinalLoss.loss_gradient`` at n = 10⁶, d = 100, K = 5 (float64, 800 MB):
    the fused pass, the NumPy reference path (``backend="numpy"``) and the
    read roofline (``roofline.read_sum``, one plain pass over the same X, same
    threads), fastest of ``--repeats`` calls each; GB/s of X read, the fused
    pass's share of the roofline and its speed-up over the reference.

fit
    ``fusedlogit.fit(model="ordinal")`` at n = 10⁶, d = 50, K = 5 (tol 1e-8,
    standard Gaussian columns, true coefficients of sd 2/√d, thresholds at the
    quintiles of the latent margins) against ``OrderedModel(distr="logit")``
    with method "bfgs" and "newton", each in a child process (``peers.Peers``)
    killed after ``--peer-timeout`` seconds (default 600: a capped run is
    reported as "> cap" and the ratio as "≥").  Every solution is re-scored with
    fusedlogit's max|∇J| on the same objective.

``--small`` runs both at 1/20 of n (a check of the script).  Threads are
pinned to ``--threads`` (Numba, BLAS and OpenMP).

    python -m fusedlogit.bench.ordinal [--small] [--parts kernel,fit] [--threads 2] [--repeats 3]
                                       [--peer-timeout 600] [--output ordinal.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import numpy as np

from .peers import Peers, run_worker
from .timing import progress, time_call

PARTS = ("kernel", "fit")
N_LEVELS = 5
TOL = 1e-8
KERNEL_SIZE = {"full": (1_000_000, 100), "small": (50_000, 100)}
FIT_SIZE = {"full": (1_000_000, 50), "small": (50_000, 50)}
PEER_SOLVERS = ("bfgs", "newton")


def ordinal_problem(n, d, n_levels=N_LEVELS, seed=0):
    """(X, levels): standard Gaussian X (n, d), margins x·w + logistic noise cut at their quantiles."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) * (2.0 / np.sqrt(d))
    latent = X @ w + rng.logistic(size=n)
    cuts = np.quantile(latent, np.linspace(0, 1, n_levels + 1)[1:-1])
    return X, np.searchsorted(cuts, latent)


def _best(call, repeats):
    """The fastest of ``repeats`` timed calls, one call each, after an untimed one (``timing.time_call``)."""
    return min(time_call(call, repeats=repeats, min_sample_s=0.0)[0])


def kernel_part(size, threads, repeats):
    from .._threads import pinned
    from ..ordinal import OrdinalLoss
    from .roofline import read_sum

    n, d = KERNEL_SIZE[size]
    X, y = ordinal_problem(n, d)
    with pinned(threads):
        fused, reference = OrdinalLoss(X, y, n_threads=threads), OrdinalLoss(X, y, backend="numpy", n_threads=threads)
        coef = fused.initial_coef()
        coef[:d] = 0.01
        read = _best(lambda: read_sum(X), repeats)
        ours = _best(lambda: fused.loss_gradient(coef), repeats)
        numpy = _best(lambda: reference.loss_gradient(coef), repeats)
    gb = X.nbytes / 1e9
    row = {"n": n, "d": d, "levels": N_LEVELS, "read_s": read, "fused_s": ours, "reference_s": numpy,
           "read_gb_s": gb / read, "fused_gb_s": gb / ours, "roofline_share": read / ours, "vs_reference": numpy / ours}
    table = (f"| n | d | K | read GB/s | fused loss+grad GB/s (% roofline) | NumPy reference GB/s | × reference |\n"
             f"|---:|---:|---:|---:|---:|---:|---:|\n"
             f"| {n:.0e} | {d} | {N_LEVELS} | {gb / read:.1f} | {gb / ours:.1f} ({100 * read / ours:.0f}%) | "
             f"{gb / numpy:.1f} | {numpy / ours:.1f}× |")
    return row, table


def fit_part(size, threads, repeats, peer_timeout):
    import fusedlogit

    from .._threads import pinned

    n, d = FIT_SIZE[size]
    X, y = ordinal_problem(n, d, seed=1)
    objective = fusedlogit.OrdinalLoss(X, y, n_threads=threads)
    with pinned(threads):
        fusedlogit.fit(X[:2000], y[:2000], model="ordinal", n_threads=threads)  # the cache's load, untimed
        results = []
        seconds = _best(lambda: results.append(fusedlogit.fit(X, y, model="ordinal", tol=TOL, n_threads=threads)),
                        repeats)
    ours = results[-1]
    rows = [{"method": "fusedlogit", "status": "ok", "seconds": seconds, "n_iter": ours.n_iter,
             "grad_max": ours.grad_max, "loss": ours.loss}]
    progress(f"ordinal fit n={n} d={d}: fusedlogit {seconds:.2f} s ({ours.n_iter} iterations)")
    runner = Peers(threads, peer_timeout, ["statsmodels"], worker="fusedlogit.bench.ordinal")
    try:
        data = runner.save_dense("ordinal", X, y)
        for solver in PEER_SOLVERS:
            row = runner.run("statsmodels", solver, data, {"tol": TOL}, f"ordinal fit statsmodels {solver}")
            row["method"] = f"statsmodels {solver}"
            if row["status"] == "ok":
                coef = np.concatenate([row["coef"], row["thresholds"]])
                loss, grad = objective.loss_gradient(coef)
                row.update(loss=loss, grad_max=float(np.max(np.abs(grad))), seconds=float(row["seconds"]))
            rows.append(row)
    finally:
        runner.close()
    lines = []
    for row in rows:
        if row["status"] == "ok":
            time_text = f"{row['seconds']:.2f}"
            ratio = f"{row['seconds'] / seconds:.0f}×"
            quality = f"{row['grad_max']:.1e}"
        else:
            time_text = f"> {peer_timeout:g}" if row["status"] == "timeout" else row["status"]
            ratio = f"≥ {peer_timeout / seconds:.0f}×" if row["status"] == "timeout" else "-"
            quality = "-"
        lines.append(f"| {row['method']} | {time_text} | {ratio if row['method'] != 'fusedlogit' else '1×'} | "
                     f"{quality} |")
    table = ("| method | seconds | × fusedlogit's time | max\\|∇J\\| at its solution |\n|---|---:|---:|---:|\n"
             + "\n".join(lines))
    return [{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items()} for r in rows], table


# -- the child process -------------------------------------------------------------------------------


def fit_peer(peer, solver, X, y, params, extra):
    """statsmodels' OrderedModel(distr="logit") fitted by ``solver``: its coefficients and thresholds."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    model = OrderedModel(y, X, distr="logit")
    maxiter = 5 if params.get("warm") else 10_000
    fitted = model.fit(method=solver, disp=False, maxiter=maxiter, gtol=params["tol"])
    d = X.shape[1]
    thresholds = model.transform_threshold_params(fitted.params)[1:-1]
    return {"coef": np.asarray(fitted.params[:d]), "thresholds": np.asarray(thresholds)}


def worker(spec_path):
    run_worker(spec_path, fit_peer)


def run_ordinal(parts=PARTS, *, small=False, threads=2, repeats=3, peer_timeout=600.0, output=None):
    """Run ``parts`` (module docstring), print their tables; the results dict (also written to ``output``)."""
    from .machine import machine_info, machine_line

    size = "small" if small else "full"
    machine = machine_info()
    print(f"Machine: {machine_line(machine)}; {threads} threads; {size} size", flush=True)
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine, "size": size, "threads": threads, "tol": TOL}
    if "kernel" in parts:
        results["kernel"], table = kernel_part(size, threads, repeats)
        print("\n== ordinal loss+gradient, K = 5, float64 ==", table, sep="\n", flush=True)
    if "fit" in parts:
        results["fit"], table = fit_part(size, threads, repeats, peer_timeout)
        print(f"\n== ordinal fit, K = 5, tol={TOL:g}, peer cap {peer_timeout:g} s ==", table, sep="\n", flush=True)
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(json.dumps(results, indent=1, default=float))
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="1/20 of n: a check of the script")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {','.join(PARTS)}")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="timed fusedlogit calls, the fastest kept (default 3)")
    p.add_argument("--peer-timeout", type=float, default=600.0, help="seconds a statsmodels fit may run")
    p.add_argument("--output", type=Path, help="write the results as JSON to this file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    parts = [s.strip() for s in args.parts.split(",") if s.strip()]
    if set(parts) - set(PARTS):
        p.error(f"--parts: unknown {sorted(set(parts) - set(PARTS))}; choose from {', '.join(PARTS)}")
    return run_ordinal(parts, small=args.small, threads=args.threads, repeats=args.repeats,
                       peer_timeout=args.peer_timeout, output=args.output)


if __name__ == "__main__":
    main()
