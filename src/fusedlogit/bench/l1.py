"""L1 / elastic-net logistic regression: ``fusedlogit.path``, ``fit`` and ``cv`` beside glum and scikit-learn.

Every configuration is float64 and pinned to ``--threads`` (Numba's threads,
BLAS and OpenMP pools through threadpoolctl; the peers' processes also get
OMP/OPENBLAS/MKL_NUM_THREADS), at one tolerance, ``TOL`` = 1e-8, handed to
every solver under its own stopping rule.  The objective is fusedlogit's::

    J(w, b) = (1/n) Σ ℓ_i + l1 ‖w‖₁ + (l2/2) ‖w‖²,      l1 = α·r, l2 = α·(1 − r)   (r = l1_ratio)

glum minimises (1/(2 Σs)) · deviance + α r ‖w‖₁ + (α (1 − r)/2) ‖w‖² with
its sample weights normalised to sum 1, and the binomial deviance is
2 Σ s_i ℓ_i, so its α and l1_ratio mean the same problem (checked at the
start of every run: glum's single-α solution against ``fusedlogit.fit`` on a
small problem, r = 1 and 0.5).  scikit-learn's LogisticRegression(l1_ratio=1)
minimises ‖w‖₁ + C Σ ℓ_i, the same J divided by C·n for C = 1/(l1·n).

Every solution, ours and the peers', is re-scored with fusedlogit's KKT
measure: max_j |∂_j|, the minimum-norm subgradient of J at that coefficient
vector (``LogisticLoss(X, y).gradient`` plus l2·w, and the formula of
``solvers.penalised.Penalty.subgradient``), on the intercept too.  Each
solver stops by its own rule: fusedlogit at max|∂| ≤ tol (stricter on
columns of rms < 1, none here); glum at Σ_j |∂_j| ≤ gradient_tol (the L1
norm, so glum's is the stricter test at the same number); liblinear at
‖∂‖₁ ≤ tol·‖∂(0)‖₁ (relative); saga at max|Δw| ≤ tol·max|w| per epoch.

Parts (``--parts``, default all):

path
    n = 10⁶, d = 100 standardised Gaussian columns (mean 0, sd 1 exactly),
    a true coefficient vector with d/10 nonzeros (margins of sd ≈ 2) and
    Bernoulli labels.  100 α from α_max (the smallest α with every w_j = 0)
    down to 10⁻⁴ α_max, geometrically, for l1_ratio 1 and 0.5:
    ``fusedlogit.path(alphas=grid)`` against glum's
    GeneralizedLinearRegressor(family="binomial", alpha=grid,
    alpha_search=True, l1_ratio=r, gradient_tol=TOL) (X handed over in
    Fortran order, its preferred layout; the copy is not timed).  The table
    gives each one's seconds, glum/fusedlogit, and the KKT violation over the
    whole path and at α number 1, 25, 50, 75 and 100.

sparse
    One fit on a wide CSR matrix: n = 2·10⁵, d = 5·10⁴, ~50 nonzeros a row
    on uniformly random columns (N(0, 1) values, then every column scaled to
    rms 1, as StandardScaler(with_mean=False) would), a true coefficient
    vector on 2% of the columns, at the α (l1_ratio = 1) that gives about 1%
    nonzero coefficients (found first by bisection on α/α_max with
    ``fusedlogit.fit`` at tol = 1e-4; not timed).  ``fusedlogit.fit`` against
    glum (single α, X as CSC), scikit-learn liblinear and saga
    (LogisticRegression(C = 1/(l1·n), l1_ratio=1), X as CSR;
    liblinear penalises the intercept as a feature of value
    ``LIBLINEAR_INTERCEPT_SCALING``, so its solution is of a slightly other
    problem: see the intercept's share in the KKT columns).  "x fastest peer"
    is each time over the fastest peer's.

cv
    5-fold cross-validation over 50 α (l1_ratio 1; the grid from α_max on
    all rows down to 10⁻⁴ α_max) at n = 2·10⁵, d = 50 (the ``path`` data
    generator): ``fusedlogit.cv(folds=pairs, alphas=grid)`` against glum's
    GeneralizedLinearRegressorCV(alphas=grid, cv=pairs, n_jobs=1), the same
    (train, test) pairs (stratified, seed 0), both refitting all rows at
    their best α.  The KKT column is that of the refit.

The peers run in child processes (``--worker``), which load the data from a
temporary file, warm up on a slice of it (imports), and time the fit alone;
a fit still running ``--peer-timeout`` seconds after it started is killed
and reported as "> cap".  fusedlogit runs in this process after an untimed
warm-up fit on a slice (Numba's cache load).  ``--repeats`` timed fits each
(default 1; the peers once).  The times are single samples, so every one is
printed with "others' cores": the CPU that other processes took while it
ran, (machine busy time from /proc/stat − this process's and its children's
CPU time) / wall time.  Anything above ~0.1 on a 2-core machine spoils the
number, glum's above all: its OpenMP threads spin at every barrier, and
with 2 threads beside a busy process a path took ~10× its 1-thread time on
the development VM.  ``--quiet-wait S`` waits, before each timed fit, up to
S seconds for a 2-second sample in which others use < 0.25 cores, and
``--busy-retries N`` reruns a fit during which they used > 0.15 cores (up
to N times; the fastest undisturbed run is kept, else the least disturbed).

``--small`` runs every part at 1/20 of n (and of d for ``sparse``), as a
quick check of the script (the numbers then mean little).  The full run
needs ~4 GB of memory and, on 2 cores, about half an hour (glum's path and
saga dominate).

    python -m fusedlogit.bench.l1 [--small] [--parts path,sparse,cv] [--threads 2]
                                  [--peers glum,liblinear,saga] [--peer-timeout 600]
                                  [--glum-alphas 100] [--quiet-wait 0] [--busy-retries 0] [--repeats 1]
                                  [--output l1.json] [--profile]

or as the ``l1`` section of ``python -m fusedlogit.bench`` (``--quick`` there is ``--small`` here).

At about 700 lines this module is the L1 section whole: its problems, the
peers' fits (run in child processes by ``peers.Peers``, the other processes'
load watched by ``machine.CpuWatch``), fusedlogit's timed runs and the three
parts' reports, which share the problems and the KKT re-scoring.  Its α_max,
grid and folds are fusedlogit's own (``solvers.paths``, ``solvers.cv``).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from .machine import BUSY_CORES, QUIET, QUIET_CORES, CpuWatch, pick_quiet, wait_quiet
from .peers import Peers, run_worker
from .timing import progress

PARTS = ("path", "sparse", "cv")
PEERS = ("glum", "liblinear", "saga")
TOL = 1e-8
#: glum / saga / liblinear iteration limits: high, so that the tolerance (or the cap) decides.
PEER_MAX_ITER = {"glum": 1000, "liblinear": 10_000, "saga": 1_000_000}
LIBLINEAR_INTERCEPT_SCALING = 1e3

#: (n, d) of each part, full and ``--small`` (1/20 of n).
PATH_SIZE = {"full": (1_000_000, 100), "small": (50_000, 100)}
PATH_RATIOS = (1.0, 0.5)
PATH_N_ALPHAS = 100
PATH_MIN_RATIO = 1e-4
PATH_SHOWN = (0, 24, 49, 74, 99)  # α numbers 1, 25, 50, 75, 100
#: (n, d, nonzeros a row) of the sparse fit.
SPARSE_SIZE = {"full": (200_000, 50_000, 50), "small": (10_000, 2_500, 50)}
SPARSE_TARGET = 0.01  # fraction of nonzero coefficients
CV_SIZE = {"full": (200_000, 50), "small": (10_000, 50)}
CV_FOLDS = 5
CV_N_ALPHAS = 50


# -- data --------------------------------------------------------------------------------------


def true_labels(rng, X, k):
    """(y, w_true): k true nonzero coefficients (margins of sd ≈ 2 on columns of rms 1), Bernoulli labels."""
    n, d = X.shape
    w = np.zeros(d)
    support = rng.choice(d, k, replace=False)
    w[support] = rng.uniform(0.5, 1.5, k) * rng.choice([-1.0, 1.0], k) * (2.0 / np.sqrt(1.08 * k))
    z = X @ w - 0.5
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(np.float64)
    return y, w


def dense_problem(n, d, seed=1):
    """(X, y, w_true): standardised Gaussian X (C order), d/10 true nonzeros, margins of sd ≈ 2."""
    rng = np.random.default_rng([seed, n, d])
    X = rng.standard_normal((n, d))
    X -= X.mean(axis=0)
    X /= X.std(axis=0)
    k = max(1, d // 10)
    return (X, *true_labels(rng, X, k))


def sparse_problem(n, d, per_row, seed=3):
    """(X CSR, y, w_true): ~per_row nonzeros a row on random columns, columns at rms 1, 2% true nonzeros."""
    from scipy import sparse

    rng = np.random.default_rng([seed, n, d, per_row])
    cols = np.sort(rng.integers(0, d, size=(n, per_row)), axis=1)
    vals = rng.standard_normal((n, per_row))
    X = sparse.csr_matrix((vals.ravel(), cols.ravel(), np.arange(0, n * per_row + 1, per_row)), shape=(n, d))
    X.sum_duplicates()
    rms = np.sqrt(np.asarray(X.multiply(X).mean(axis=0)).ravel())
    rms[rms == 0] = 1.0
    X = sparse.csr_matrix(X @ sparse.diags(1.0 / rms))
    X.sort_indices()
    k = max(1, d // 50)
    return (X, *true_labels(rng, X, k))


# -- fusedlogit's measure of a solution ------------------------------------------------------------


def penalty_for(d, l1, l2):
    from fusedlogit.layout import Layout
    from fusedlogit.solvers.penalised import Penalty, coefficient_weights

    return Penalty(l1, l2, coefficient_weights(np.ones(d), Layout(1, d, True)))


def kkt(loss, coef, intercept, l1, l2):
    """(max|∂| over w and b, max|∂| over w alone, J) of fusedlogit's J at (coef, intercept)."""
    d = loss.n_features
    c = np.append(np.asarray(coef, dtype=np.float64).ravel(), float(np.ravel(intercept)[0]))
    penalty = penalty_for(d, l1, l2)
    g = loss.gradient(c) + penalty.smooth_gradient(c)
    sub = penalty.subgradient(c, g)
    return float(np.abs(sub).max()), float(np.abs(sub[:d]).max()), loss.loss(c) + penalty.value(c)


def alpha_max(loss, l1_ratio):
    """The smallest α with every w_j = 0 (``fusedlogit.path``'s own α_max, from its null fit)."""
    from fusedlogit.solvers.paths import alpha_max as path_alpha_max, path_options
    from fusedlogit.solvers.penalised import coefficient_weights

    weights = coefficient_weights(np.ones(loss.n_features), loss.layout)
    return path_alpha_max(loss, weights, l1_ratio, path_options(TOL, None, False))[0]


def stratified_folds(y, k, seed=0):
    """[(train, test)] * k, as ``fusedlogit.cv`` makes them (each label's rows dealt round the folds)."""
    from fusedlogit.solvers.cv import make_folds

    return make_folds(k, y.size, seed, np.asarray(y, dtype=np.int64))


def geometric_grid(top, n_alphas, min_ratio):
    """``fusedlogit.path``'s grid: n_alphas from top down to top · min_ratio, geometrically."""
    from fusedlogit.solvers.paths import alpha_grid

    return alpha_grid(top, n_alphas, min_ratio)


# -- running fusedlogit and the peers ------------------------------------------------------------------


def _fusedlogit_threads(threads):
    from fusedlogit._config import max_threads

    return None if threads == max_threads() else threads  # None: all cores, what a user runs


def time_fusedlogit(call, warm, threads, repeats, profile=None):
    """(seconds of the fastest of ``repeats`` calls, other processes' cores then, last result); ``warm()`` first."""
    from fusedlogit._threads import pinned

    with pinned(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm()
        samples, retries = [], QUIET["retries"]
        while len(samples) < repeats:
            if QUIET["wait"]:
                wait_quiet()
            with CpuWatch() as watch:
                t = time.perf_counter()
                out = call()
                seconds = time.perf_counter() - t
            samples.append((seconds, watch.others, out))
            if watch.others > BUSY_CORES and retries > 0:
                progress(f"        fusedlogit: {seconds:.2f} s with others at {watch.others:.2f} cores: again")
                retries -= 1
                repeats += 1
        if profile is not None:
            import cProfile
            import io
            import pstats

            prof = cProfile.Profile()
            prof.runcall(call)
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(14)
            profile.append(text.getvalue())
    return pick_quiet(samples)


# -- the child process -----------------------------------------------------------------------------


def worker(spec_path):
    """The child process of ``Peers``: one peer's fit (``peers.run_worker``)."""
    run_worker(spec_path, fit_peer, prepare)


def prepare(peer, X):
    """Each peer's preferred layout (not timed): glum Fortran order / CSC, scikit-learn C order / CSR."""
    from scipy import sparse

    if peer == "glum":
        return X.tocsc() if sparse.issparse(X) else np.asfortranarray(X)
    return X.tocsr() if sparse.issparse(X) else np.ascontiguousarray(X)


def fit_peer(peer, solver, X, y, params, extra):
    tol, warm = params["tol"], params.get("warm", False)
    if peer == "glum" and solver == "path":
        from glum import GeneralizedLinearRegressor

        alphas = params["alphas"][:3] if warm else params["alphas"]
        model = GeneralizedLinearRegressor(family="binomial", alpha=list(alphas), alpha_search=True,
                                           l1_ratio=params["l1_ratio"], gradient_tol=tol,
                                           max_iter=PEER_MAX_ITER["glum"]).fit(X, y)
        return {"coef": np.asarray(model.coef_path_), "intercept": np.ravel(model.intercept_path_),
                "n_iter": np.asarray(model.n_iter_)}
    if peer == "glum" and solver == "fit":
        from glum import GeneralizedLinearRegressor

        model = GeneralizedLinearRegressor(family="binomial", alpha=params["alpha"], l1_ratio=params["l1_ratio"],
                                           gradient_tol=tol, max_iter=PEER_MAX_ITER["glum"]).fit(X, y)
        return {"coef": np.asarray(model.coef_), "intercept": np.asarray(model.intercept_),
                "n_iter": np.asarray(model.n_iter_)}
    if peer == "glum" and solver == "cv":
        from glum import GeneralizedLinearRegressorCV

        if warm:
            from sklearn.model_selection import KFold

            folds = list(KFold(2).split(X))
            alphas = params["alphas"][:3]
        else:
            folds = [(extra[f"train{f}"], extra[f"test{f}"]) for f in range(params["n_folds"])]
            alphas = params["alphas"]
        model = GeneralizedLinearRegressorCV(family="binomial", l1_ratio=params["l1_ratio"], alphas=np.asarray(alphas),
                                             cv=folds, gradient_tol=tol, max_iter=PEER_MAX_ITER["glum"],
                                             n_jobs=1).fit(X, y)
        return {"coef": np.asarray(model.coef_), "intercept": np.asarray(model.intercept_),
                "alpha": np.asarray(model.alpha_), "deviance_path": np.asarray(model.deviance_path_)}
    if peer in ("liblinear", "saga"):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        extra_args = {"intercept_scaling": LIBLINEAR_INTERCEPT_SCALING} if peer == "liblinear" else {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = LogisticRegression(C=1.0 / (params["l1"] * X.shape[0]), l1_ratio=1.0, solver=peer, tol=tol,
                                       max_iter=5 if warm else PEER_MAX_ITER[peer], **extra_args).fit(X, y)
        failed = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        return {"coef": model.coef_.ravel(), "intercept": np.asarray(model.intercept_),
                "n_iter": np.asarray(model.n_iter_), "warned": np.asarray(failed)}
    raise ValueError(f"unknown peer {peer} {solver}")


# -- the parts ---------------------------------------------------------------------------------------


def _format(header, lines):
    from fusedlogit.bench.report import _format as fmt

    return fmt(header, lines, markdown=False)


def _n(n):
    return f"{n:.0e}".replace("e+0", "e")


def _s(row):
    if row["status"] == "ok":
        return f"{row['seconds']:.2f}"
    if row["status"] == "timeout":
        return f"> {row['cap']:g}"
    if row["status"] == "oom":
        return "out of memory"
    return row["status"]


def check_scaling(peers, threads):
    """glum's single-α solution against ``fusedlogit.fit`` on a small problem: the same problem?"""
    import fusedlogit

    X, y, _ = dense_problem(20_000, 20, seed=7)
    loss = fusedlogit.LogisticLoss(X, y)
    data = peers.save_dense("scaling", X, y)
    lines, rows = [], []
    for r in PATH_RATIOS:
        alpha = 0.1 * alpha_max(loss, r)
        ours = fusedlogit.fit(X, y, l1=alpha * r, l2=alpha * (1 - r), tol=1e-10)
        glum = peers.run("glum", "fit", data, {"alpha": alpha, "l1_ratio": r, "tol": 1e-10}, f"scaling glum r={r}")
        if glum["status"] != "ok":
            lines.append(f"  r={r}: glum {glum['status']}")
            continue
        diff = float(np.max(np.abs(np.append(glum["coef"] - ours.coef, glum["intercept"] - ours.intercept))))
        kkt_glum = kkt(loss, glum["coef"], glum["intercept"], alpha * r, alpha * (1 - r))[0]
        rows.append({"l1_ratio": r, "alpha": alpha, "max_coef_diff": diff, "glum_kkt": kkt_glum,
                     "fusedlogit_kkt": ours.grad_max})
        lines.append(f"  l1_ratio={r}: alpha={alpha:.4g}, nonzero {ours.n_nonzero} (glum "
                     f"{int(np.count_nonzero(glum['coef']))}), max|coef_glum - coef_fusedlogit| = {diff:.1e}, "
                     f"KKT of glum's solution in fusedlogit's J = {kkt_glum:.1e} (fusedlogit {ours.grad_max:.1e})")
    return rows, "\n".join(lines)


def path_part(size, peers, threads, repeats, profile, glum_alphas):
    import fusedlogit

    n, d = PATH_SIZE[size]
    X, y, _ = dense_problem(n, d)
    nt = _fusedlogit_threads(threads)
    loss = fusedlogit.LogisticLoss(X, y, n_threads=nt)
    data = peers.save_dense("path", X, y)
    X_warm, y_warm = X[:2000], y[:2000]
    rows, summary, detail = [], [], []
    for r in PATH_RATIOS:
        grid = geometric_grid(alpha_max(loss, r), PATH_N_ALPHAS, PATH_MIN_RATIO)
        label = f"path    n={_n(n)} d={d} r={r}"

        def run_ours(alphas, prof=None):
            seconds, others, res = time_fusedlogit(
                lambda: fusedlogit.path(X, y, l1_ratio=r, alphas=alphas, tol=TOL, n_threads=nt),
                lambda: fusedlogit.path(X_warm, y_warm, l1_ratio=r, alphas=alphas[:3], tol=TOL, n_threads=nt),
                threads, repeats, prof)
            progress(f"{label + f' fusedlogit ({alphas.size} alphas)':<56} {seconds:9.2f} s  "
                      f"(others {others:.2f} cores)")
            return {"method": "fusedlogit", "status": "ok", "seconds": seconds, "others": others, "coef": res.coef,
                    "intercept": res.intercept, "n_iter": res.n_iter, "n_alphas": alphas.size}

        ours = run_ours(grid, profile)
        methods = [ours]
        glum_grid = grid[:glum_alphas]
        if glum_alphas < grid.size:  # fusedlogit on glum's shorter grid too: the ratio is on the same alphas
            methods.append(run_ours(glum_grid))
        glum = peers.run("glum", "path", data, {"alphas": glum_grid.tolist(), "l1_ratio": r, "tol": TOL},
                         label + f" glum ({glum_grid.size} alphas)")
        glum.update(method="glum", n_alphas=glum_grid.size)
        methods.append(glum)
        for method in methods:
            if method["status"] != "ok":
                continue
            k = method["coef"].shape[0]
            scored = [kkt(loss, method["coef"][i], method["intercept"][i], a * r, a * (1 - r))
                      for i, a in enumerate(grid[:k])]
            method["kkt"] = np.array([s[0] for s in scored])
            method["J"] = np.array([s[2] for s in scored])
            method["nonzero"] = np.count_nonzero(method["coef"], axis=1)
        same = methods[-2]  # fusedlogit's run on glum's alphas
        for method in methods:
            row = {"l1_ratio": r, "n": n, "d": d, "n_alphas": method["n_alphas"], "method": method["method"],
                   "status": method["status"], "seconds": method.get("seconds"), "others": method.get("others")}
            if method["status"] == "ok":
                k = method["n_alphas"]
                J_best = ours["J"][:k] if glum["status"] != "ok" else np.minimum(ours["J"][:k], glum["J"][:k])
                row.update(kkt=method["kkt"].tolist(), J=method["J"].tolist(), nonzero=method["nonzero"].tolist(),
                           J_excess_max=float(np.max(method["J"][:k] - J_best[:k])),
                           n_iter=int(np.sum(method["n_iter"])))
            rows.append(row)
            head = [str(r), _n(n), str(d), method["method"], str(method["n_alphas"]), _s(method)]
            if method["status"] != "ok":
                summary.append(head + ["-"] * 6)
                continue
            ratio = method["seconds"] / same["seconds"] if method["n_alphas"] == same["n_alphas"] else None
            summary.append(head + [f"{ratio:.2f}x" if ratio else "-", str(row["n_iter"]),
                                   f"{method['kkt'].max():.1e}", f"{int((method['kkt'] > 10 * TOL).sum())}",
                                   f"{row['J_excess_max']:.1e}", f"{method['others']:.2f}"])
        k = glum["coef"].shape[0] if glum["status"] == "ok" else 0
        for i in PATH_SHOWN:
            line = [str(r), str(i + 1), f"{grid[i]:.4g}", str(ours["nonzero"][i]), f"{ours['kkt'][i]:.1e}"]
            if i < k:
                line += [str(glum["nonzero"][i]), f"{glum['kkt'][i]:.1e}",
                         f"{np.max(np.abs(glum['coef'][i] - ours['coef'][i])):.1e}"]
            else:
                line += ["-", "-", "-"]
            detail.append(line)
    table = _format(["l1_ratio", "n", "d", "method", "alphas", "seconds", "x fusedlogit (same alphas)",
                     "iters (glum: last alpha)",
                     "max KKT on path", "alphas KKT > 10 tol", "max J - best J", "others' cores"], summary)
    table2 = _format(["l1_ratio", "alpha #", "alpha", "nnz fusedlogit", "KKT fusedlogit", "nnz glum", "KKT glum",
                      "max|coef diff|"], detail)
    return rows, table + "\n\nKKT (max|min-norm subgradient| of fusedlogit's J) at some alphas:\n" + table2


def choose_sparse_alpha(X, y, loss, threads):
    """l1 with a fraction of nonzeros near SPARSE_TARGET: bisection on log(α/α_max), fits at tol 1e-4."""
    import fusedlogit

    d = X.shape[1]
    top = alpha_max(loss, 1.0)
    lo, hi = np.log(0.05), np.log(1.0)  # nonzeros fall as the ratio rises
    best = None
    nt = _fusedlogit_threads(threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(12):
            mid = 0.5 * (lo + hi)
            res = fusedlogit.fit(X, y, l1=top * np.exp(mid), tol=1e-4, n_threads=nt)
            frac = res.n_nonzero / d
            progress(f"sparse  alpha/alpha_max={np.exp(mid):.4f}: {res.n_nonzero} nonzero ({frac:.2%})")
            if best is None or abs(np.log(frac / SPARSE_TARGET)) < abs(np.log(best[1] / SPARSE_TARGET)):
                best = (np.exp(mid), frac)
            if 0.9 * SPARSE_TARGET <= frac <= 1.1 * SPARSE_TARGET:
                break
            lo, hi = (mid, hi) if frac > SPARSE_TARGET else (lo, mid)
    return top * best[0], best[0]


def sparse_part(size, peers, threads, repeats, profile):
    import fusedlogit

    n, d, per_row = SPARSE_SIZE[size]
    X, y, _ = sparse_problem(n, d, per_row)
    nt = _fusedlogit_threads(threads)
    loss = fusedlogit.LogisticLoss(X, y, n_threads=nt)
    l1, ratio = choose_sparse_alpha(X, y, loss, threads)
    data = peers.save_sparse("sparse", X, y)
    label = f"sparse  n={n} d={d}"
    seconds, others, res = time_fusedlogit(lambda: fusedlogit.fit(X, y, l1=l1, tol=TOL, n_threads=nt),
                                           lambda: fusedlogit.fit(X[:2000], y[:2000], l1=l1, tol=TOL, n_threads=nt),
                                           threads, repeats, profile)
    progress(f"{label + ' fusedlogit':<56} {seconds:9.2f} s  (others {others:.2f} cores)")
    results = [dict(method="fusedlogit", solver="cd", status="ok", seconds=seconds, coef=res.coef,
                    intercept=res.intercept, n_iter=res.n_iter, others=others)]
    params = {"alpha": l1, "l1_ratio": 1.0, "l1": l1, "tol": TOL}
    for peer, solver in (("glum", "fit"), ("liblinear", "liblinear"), ("saga", "saga")):
        out = peers.run(peer, solver, data, params, f"{label} {peer}")
        out["method"] = "glum" if peer == "glum" else "sklearn"
        out["solver"] = "irls-cd" if peer == "glum" else solver
        results.append(out)
    peer_times = [r["seconds"] for r in results[1:] if r["status"] == "ok"]
    fastest = min(peer_times) if peer_times else None
    rows, lines = [], []
    for r in results:
        row = {"method": r["method"], "solver": r["solver"], "status": r["status"], "n": n, "d": d,
               "nnz_X": int(X.nnz), "l1": l1, "alpha_over_alpha_max": ratio, "seconds": r.get("seconds"),
               "others": r.get("others")}
        if r["status"] == "ok":
            all_kkt, w_kkt, J = kkt(loss, r["coef"], r["intercept"], l1, 0.0)
            row.update(kkt=all_kkt, kkt_w=w_kkt, J=J, nonzero=int(np.count_nonzero(r["coef"])),
                       n_iter=int(np.max(r["n_iter"])), intercept=float(np.ravel(r["intercept"])[0]))
            lines.append([r["method"], r["solver"], _s(r), f"{r['seconds'] / fastest:.2f}x" if fastest else "-",
                          str(row["n_iter"]), str(row["nonzero"]), f"{all_kkt:.1e}", f"{w_kkt:.1e}", f"{J:.12f}",
                          f"{r['others']:.2f}"])
        else:
            lines.append([r["method"], r["solver"], _s(r), "-", "-", "-", "-", "-", r.get("error", "")[:40],
                          f"{r['others']:.2f}" if r.get("others") is not None else "-"])
        rows.append(row)
    head = (f"n={n}, d={d}, nnz(X)={X.nnz} ({X.nnz / n:.1f} a row), l1 = {l1:.5g} = {ratio:.4f} alpha_max, "
            f"C = 1/(l1 n) = {1 / (l1 * n):.5g}")
    table = _format(["method", "solver", "seconds", "x fastest peer", "iter", "nonzero", "max KKT (w, b)",
                     "max KKT (w)", "J", "others' cores"], lines)
    return rows, head + "\n" + table


def cv_part(size, peers, threads, repeats, profile):
    import fusedlogit

    n, d = CV_SIZE[size]
    X, y, _ = dense_problem(n, d, seed=5)
    nt = _fusedlogit_threads(threads)
    loss = fusedlogit.LogisticLoss(X, y, n_threads=nt)
    grid = geometric_grid(alpha_max(loss, 1.0), CV_N_ALPHAS, PATH_MIN_RATIO)
    pairs = stratified_folds(y, CV_FOLDS, seed=0)
    folds = {f"train{f}": tr for f, (tr, _) in enumerate(pairs)} | {f"test{f}": te for f, (_, te) in enumerate(pairs)}
    data = peers.save_dense("cv", X, y, **folds)
    label = f"cv      n={_n(n)} d={d} {CV_FOLDS} folds"
    warm_pairs = stratified_folds(y[:2000], 2, seed=0)
    seconds, others, res = time_fusedlogit(
        lambda: fusedlogit.cv(X, y, folds=pairs, alphas=grid, tol=TOL, n_threads=nt),
        lambda: fusedlogit.cv(X[:2000], y[:2000], folds=warm_pairs, alphas=grid[:3], tol=TOL, n_threads=nt),
        threads, repeats)  # no --profile: the folds run in threads that cProfile does not see
    progress(f"{label + ' fusedlogit':<56} {seconds:9.2f} s  (others {others:.2f} cores)")
    glum = peers.run("glum", "cv", data, {"alphas": grid.tolist(), "l1_ratio": 1.0, "tol": TOL, "n_folds": CV_FOLDS},
                     label + " glum")
    rows, lines = [], []
    ours = {"method": "fusedlogit", "status": "ok", "seconds": seconds, "others": others, "alpha": res.best_alpha,
            "coef": res.fit.coef, "intercept": res.fit.intercept, "score": float(res.mean_score[res.best_index])}
    glum["method"] = "glum"
    if glum["status"] == "ok":
        glum["alpha"] = float(glum["alpha"])
        # glum's deviance_path_ (folds, l1_ratios, alphas) is the held-out mean deviance, 2 × the mean log loss
        glum["score"] = float(glum["deviance_path"].mean(axis=0).ravel().min() / 2)
    for r in (ours, glum):
        row = {"method": r["method"], "status": r["status"], "n": n, "d": d, "folds": CV_FOLDS,
               "n_alphas": CV_N_ALPHAS, "seconds": r.get("seconds"), "others": r.get("others")}
        if r["status"] == "ok":
            all_kkt, _, J = kkt(loss, r["coef"], r["intercept"], r["alpha"], 0.0)
            index = int(np.argmin(np.abs(np.log(grid / r["alpha"]))))
            row.update(best_alpha=r["alpha"], best_index=index, score=r["score"], kkt=all_kkt, J=J,
                       nonzero=int(np.count_nonzero(r["coef"])))
            lines.append([r["method"], _s(r), f"{r['seconds'] / seconds:.2f}x", f"{r['alpha']:.5g}", str(index + 1),
                          f"{r['score']:.8f}", str(row["nonzero"]), f"{all_kkt:.1e}", f"{r['others']:.2f}"])
        else:
            lines.append([r["method"], _s(r), "-", "-", "-", "-", "-", "-",
                          f"{r['others']:.2f}" if r.get("others") is not None else "-"])
        rows.append(row)
    table = _format(["method", "seconds", "x fusedlogit", "best alpha", "alpha #", "held-out log loss", "nonzero",
                     "refit max KKT", "others' cores"], lines)
    return rows, table


def source_fingerprint():
    """sha256 (12 hex) of the solver files, since src/ changes while this runs."""
    root = Path(__file__).resolve().parent.parent / "solvers"
    out = {}
    for name in ("penalised.py", "paths.py", "cv.py", "cd_core.py", "fitting.py", "registry.py"):
        p = root / name
        if p.exists():
            out[name] = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="1/20 of the sizes: a check of the script")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {','.join(PARTS)}")
    p.add_argument("--threads", type=int, default=2, help="threads for everything (default 2)")
    p.add_argument("--peers", default=",".join(PEERS), help=f"comma list of {','.join(PEERS)} (or none)")
    p.add_argument("--peer-timeout", type=float, default=600.0, help="seconds a peer's fit may run (default 600)")
    p.add_argument("--glum-alphas", type=int, default=PATH_N_ALPHAS,
                   help="glum's path runs the first this many alphas of the grid (default all)")
    p.add_argument("--quiet-wait", type=float, default=0.0,
                   help="before each timed fit, wait up to this many seconds for other processes to use < "
                        f"{QUIET_CORES} cores (default 0: no wait)")
    p.add_argument("--busy-retries", type=int, default=0,
                   help=f"rerun a timed fit during which others used > {BUSY_CORES} cores, at most this many times")
    p.add_argument("--repeats", type=int, default=1, help="timed fusedlogit calls (fastest kept; default 1)")
    p.add_argument("--profile", action="store_true",
                   help="an extra cProfile'd fusedlogit call in path and sparse, printed (not timed)")
    p.add_argument("--output", type=Path, help="write every row as JSON to this file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    from fusedlogit._config import max_threads

    parts = [s.strip() for s in args.parts.split(",") if s.strip()]
    peers = [s.strip() for s in args.peers.split(",") if s.strip() and s.strip() != "none"]
    if set(parts) - set(PARTS):
        p.error(f"--parts: unknown {sorted(set(parts) - set(PARTS))}; choose from {', '.join(PARTS)}")
    if set(peers) - set(PEERS):
        p.error(f"--peers: unknown {sorted(set(peers) - set(PEERS))}; choose from {', '.join(PEERS)}")
    if not 1 <= args.threads <= max_threads():
        p.error(f"--threads: between 1 and {max_threads()}")
    if not 1 <= args.glum_alphas <= PATH_N_ALPHAS:
        p.error(f"--glum-alphas: between 1 and {PATH_N_ALPHAS}")
    QUIET["wait"], QUIET["retries"] = args.quiet_wait, args.busy_retries
    return run_l1(parts, small=args.small, threads=args.threads, peers=peers, peer_timeout=args.peer_timeout,
                  glum_alphas=args.glum_alphas, repeats=args.repeats, profile=args.profile, output=args.output,
                  command=sys.argv if argv is None else argv)


def run_l1(parts=PARTS, *, small=False, threads=2, peers=PEERS, peer_timeout=600.0, glum_alphas=PATH_N_ALPHAS,
           repeats=1, profile=False, output=None, command=None):
    """Run ``parts`` (module docstring), print their tables; the results dict (also written to ``output``)."""
    from fusedlogit.bench.fits import _importable
    from fusedlogit.bench.machine import machine_info, machine_line

    missing = [p for p in peers if not _importable("glum" if p == "glum" else "sklearn")]
    if missing:
        progress(f"l1: not installed, so skipped: {', '.join(missing)} (pip install \"fusedlogit[bench]\")")
    peers = [p for p in peers if p not in missing]
    size = "small" if small else "full"
    machine = machine_info()
    print(f"Machine: {machine_line(machine)}; {threads} threads; {size} size", flush=True)
    print(f"fusedlogit {machine['fusedlogit']}, glum {machine['glum']}, scikit-learn {machine['sklearn']}, "
          f"scipy {machine['scipy']}; solver sources {source_fingerprint()}", flush=True)
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine, "size": size, "threads": threads, "tol": TOL, "peers": peers,
               "peer_timeout": peer_timeout, "sources": source_fingerprint(),
               "command": command}
    profiles = [] if profile else None
    runner = Peers(threads, peer_timeout, peers, worker="fusedlogit.bench.l1")

    def done(part):
        """Print the profile the part just made; save what is known so far."""
        if profiles:
            results.setdefault("profiles", {})[part] = profiles[-1]
            print(f"\n== cProfile of one more fusedlogit call ({part}; untimed) ==\n" + profiles.pop(), flush=True)
        if output:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(json.dumps(results, indent=1, default=float))

    try:
        if "glum" in peers:
            rows, text = check_scaling(runner, threads)
            results["scaling_check"] = rows
            print("\n== the same problem? glum's single-alpha fit against fusedlogit.fit (n=2e4, d=20, "
                  "alpha = 0.1 alpha_max, tol 1e-10) ==", text, sep="\n", flush=True)
        if "path" in parts:
            rows, table = path_part(size, runner, threads, repeats, profiles, glum_alphas)
            results["path"] = rows
            cut = "" if glum_alphas == PATH_N_ALPHAS else (
                f"; glum runs only the first {glum_alphas} alphas (its ratio is per alpha)")
            print(f"\n== path: {PATH_N_ALPHAS} alphas, alpha_max .. {PATH_MIN_RATIO:g} alpha_max, tol={TOL:g}{cut} ==",
                  table, sep="\n", flush=True)
            done("path")
        if "sparse" in parts:
            rows, table = sparse_part(size, runner, threads, repeats, profiles)
            results["sparse"] = rows
            print(f"\n== sparse: one L1 fit on CSR X, ~{SPARSE_TARGET:.0%} nonzero, tol={TOL:g}, "
                  f"peer cap {peer_timeout:g} s ==", table, sep="\n", flush=True)
            done("sparse")
        if "cv" in parts:
            rows, table = cv_part(size, runner, threads, repeats, profiles)
            results["cv"] = rows
            print(f"\n== cv: {CV_FOLDS} folds x {CV_N_ALPHAS} alphas (l1_ratio 1) and the refit, tol={TOL:g} ==",
                  table, sep="\n", flush=True)
            done("cv")
    finally:
        runner.close()
    if output:
        print(f"\nresults written to {output.resolve()}")
    return results


if __name__ == "__main__":
    main()
