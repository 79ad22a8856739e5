"""The fits section: fusedlogit's solvers and the peers (scikit-learn, scikit-learn-intelex, glum, statsmodels) to
one tolerance.  scikit-learn-intelex (``sklearnex``, oneDAL) is optional: its rows are skipped where it is not
installed (``pip install scikit-learn-intelex``)."""

from __future__ import annotations

import statistics
import time

import numpy as np

from .._config import max_threads
from .._threads import pinned
from ..datasets import make_problem
from ..objective import LogisticLoss
from .timing import progress, time_call

DEFAULT_FIT_SHAPES = ((10_000, 20), (100_000, 100), (1_000_000, 20))
QUICK_FIT_SHAPES = ((10_000, 20),)
#: statsmodels builds dense n × d temporaries in Python: only small problems.
STATSMODELS_MAX_ELEMENTS = 2_000_000


def _load_fit():
    """``fusedlogit.fit`` and its solver names (every one but "auto")."""
    from ..solvers import SOLVERS, fit

    return fit, [s for s in SOLVERS if s != "auto"]


def _fit_fusedlogit(fit, solver):
    def run(X, y, tol, max_iter, n_threads):
        # n_threads=None is fit's default, all cores: what a user runs.  The
        # peers are pinned to the same count by ``pinned``.
        if n_threads == max_threads():
            n_threads = None
        res = fit(X, y, solver=solver, tol=tol, max_iter=max_iter, n_threads=n_threads)
        coef = np.append(np.asarray(res.coef, dtype=np.float64), float(res.intercept))
        return coef, int(res.n_iter), bool(res.converged)

    return run


def _fit_sklearn(solver, package="sklearn"):
    """scikit-learn's LogisticRegression, or scikit-learn-intelex's (``package="sklearnex"``, the same API)."""

    def run(X, y, tol, max_iter, n_threads):
        import importlib
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        LogisticRegression = importlib.import_module(f"{package}.linear_model").LogisticRegression

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = LogisticRegression(C=np.inf, solver=solver, tol=tol, max_iter=max_iter).fit(X, y)
        n_iter = int(np.max(model.n_iter_))
        failed = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        return np.append(model.coef_.ravel(), model.intercept_[0]), n_iter, n_iter < max_iter and not failed

    return run


def _fit_glum(X, y, tol, max_iter, n_threads):
    from glum import GeneralizedLinearRegressor

    model = GeneralizedLinearRegressor(family="binomial", alpha=0, gradient_tol=tol, max_iter=max_iter).fit(X, y)
    n_iter = int(model.n_iter_)
    return np.append(model.coef_, model.intercept_), n_iter, n_iter < max_iter


def _fit_statsmodels(X, y, tol, max_iter, n_threads):
    import statsmodels.api as sm

    X1 = np.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))])  # intercept last, like coef
    res = sm.Logit(y, X1).fit(method="newton", tol=tol, maxiter=max_iter, disp=0)
    return np.asarray(res.params), int(res.mle_retvals["iterations"]), bool(res.mle_retvals["converged"])


def _importable(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


#: The peers the fits section compares with, by the module each needs.
PEERS = ("sklearn", "sklearnex", "glum", "statsmodels")
#: scikit-learn-intelex's solvers (oneDAL runs both on dense X).
SKLEARNEX_SOLVERS = ("lbfgs", "newton-cg")


def missing_peers():
    """The peers that are not installed (their rows are skipped)."""
    return [name for name in PEERS if not _importable(name)]


def fit_methods(solvers=None):
    """[(method, solver, run)] for every fitter installed; ``run`` returns (coef, n_iter, converged)."""
    methods = []
    fit, found = _load_fit()
    if fit is None:
        progress(f"fits: {found}; fusedlogit rows skipped, peers still run")
    else:
        methods += [("fusedlogit", s, _fit_fusedlogit(fit, s)) for s in (solvers or found)]
    if _importable("sklearn"):
        methods += [("sklearn", s, _fit_sklearn(s)) for s in ("lbfgs", "newton-cholesky")]
    if _importable("sklearnex"):
        methods += [("sklearnex", s, _fit_sklearn(s, "sklearnex")) for s in SKLEARNEX_SOLVERS]
    if _importable("glum"):
        methods.append(("glum", "irls", _fit_glum))
    if _importable("statsmodels"):
        methods.append(("statsmodels", "newton", _fit_statsmodels))
    return methods


def time_fit(objective, warm, timed, *, repeats, n_threads, label):
    """A fit row's measured fields: ``warm()`` once untimed (compile, import), then ``timed()`` ``repeats`` times.

    ``timed`` returns (coef, n_iter, converged); J and max|∇J| at coef are
    re-evaluated by ``objective``.  Every pool is pinned to ``n_threads``.  A
    fitter that raises gives its error instead: a failing peer is a result,
    not a crash.  Prints a progress line that starts with ``label``.
    """
    fields = _measure_fit(objective, warm, timed, repeats, n_threads)
    if fields["error"] is None:
        progress(f"{label} {fields['median_s']:8.3f} s  iter={fields['n_iter']:<5} "
                 f"max|grad|={fields['grad_max']:.1e}  J={fields['loss']:.10g}")
    else:
        progress(f"{label} failed: {fields['error']}")
    return fields


def _measure_fit(objective, warm, timed, repeats, n_threads):
    import warnings

    try:
        with pinned(n_threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warm()
            samples = []
            for _ in range(repeats):
                t = time.perf_counter()
                coef, n_iter, converged = timed()
                samples.append(time.perf_counter() - t)
        loss, grad = objective.loss_gradient(coef)
        return {"median_s": statistics.median(samples), "min_s": min(samples), "repeats": repeats, "n_iter": n_iter,
                "converged": converged, "loss": loss, "grad_max": float(np.max(np.abs(grad))), "error": None}
    except Exception as exc:
        return {"median_s": None, "min_s": None, "repeats": 0, "n_iter": None, "converged": False, "loss": None,
                "grad_max": None, "error": f"{type(exc).__name__}: {exc}"}


def pass_seconds(objective, n_threads, repeats):
    """The fastest of ``max(3, repeats)`` fused loss+gradient passes over the objective's data, the unit in which
    a fit's time is also reported (its passes: time / this; for a peer, the passes of fusedlogit's it costs)."""
    coef = objective.initial_coef()
    with pinned(n_threads):
        samples, _ = time_call(lambda: objective.loss_gradient(coef), repeats=max(3, repeats))
    return min(samples)


def run_fits(shapes, kinds, *, dtype, n_threads, tol, max_iter, repeats, solvers=None):
    """Time every fitter on each problem, also in passes of the fused loss+gradient (``pass_seconds``); J and
    max|∇J| re-evaluated by ``LogisticLoss``."""
    methods = fit_methods(solvers)
    rows = []
    for n, d in shapes:
        for kind in kinds:
            X, y, _, _ = make_problem(n, d, kind=kind, dtype=dtype, seed=1)
            X_warm, y_warm, _, _ = make_problem(200, d, kind=kind, dtype=dtype, seed=2)
            objective = LogisticLoss(X, y, n_threads=n_threads)
            pass_s = pass_seconds(objective, n_threads, repeats)
            for method, solver, run in methods:
                if method == "statsmodels" and n * d > STATSMODELS_MAX_ELEMENTS:
                    continue
                row = {"method": method, "solver": solver, "problem": kind, "n": n, "d": d,
                       "dtype": np.dtype(dtype).name, "n_threads": n_threads, "tol": tol, "max_iter": max_iter}
                row.update(time_fit(
                    objective,
                    lambda: run(X_warm, y_warm, tol, max_iter, n_threads),
                    lambda: run(X, y, tol, max_iter, n_threads),
                    repeats=repeats,
                    n_threads=n_threads,
                    label=f"fits    {kind:<4} n={n:<8} d={d:<4} {method:>11} {solver:<15}",
                ))
                row["pass_s"] = pass_s
                row["passes"] = None if row["median_s"] is None else row["median_s"] / pass_s
                rows.append(row)
    return rows
