"""The multinomial fits section: ``fusedlogit.fit`` and scikit-learn's LogisticRegression(C=1) on K classes (and
scikit-learn-intelex's, where it is installed).

scikit-learn's LogisticRegression minimises C·Σ ℓ_i + ½||W||² (multinomial
for K > 2 in recent versions, intercepts unpenalised), which is, divided by
C·n, fusedlogit's mean objective with ``l2 = 1/(C·n)``.  Every solution's J
and max|∇J| are re-evaluated with ``MultinomialLoss(X, y, l2=1/(C·n))``
(the mean loss), so the stopping rules of the peers are compared on one
scale; J and ∇J do not depend on a common shift of the intercepts.

``fusedlogit.fit`` is probed first on a tiny 3-class problem
(``multiclass_fit``): while it raises for labels ≥ 2 its rows are skipped
with a note, and the peers still run.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._config import max_threads
from ..multinomial import MultinomialLoss
from .fits import SKLEARNEX_SOLVERS, time_fit
from .timing import progress

DEFAULT_MULTINOMIAL_FIT_SHAPES = ((500_000, 50, 5),)
QUICK_MULTINOMIAL_FIT_SHAPES = ((20_000, 20, 3),)
#: "standardised": independent standard-normal columns; "unscaled": the same
#: columns scaled by factors spread log-uniformly over 1e-3..1e3 and shifted.
MULTINOMIAL_KINDS = ("standardised", "unscaled")
#: fusedlogit solvers fitted by default ("gd" only when asked for: at tol=1e-8 it is not a contender).
DEFAULT_SOLVERS = ("newton", "lbfgs", "newton-cg")
SKLEARN_SOLVERS = ("lbfgs", "newton-cholesky")
C = 1.0


def multinomial_fit_problem(n, d, n_classes, *, kind="standardised", dtype=np.float64, seed=1):
    """(X, y): y drawn from softmax(Z W_trueᵀ + b_true) with margins of scale ~1.5; X = Z or Z unscaled."""
    if kind not in MULTINOMIAL_KINDS:
        raise ValueError(f"kind must be one of {MULTINOMIAL_KINDS}, got {kind!r}")
    rng = np.random.default_rng([seed, n, d, n_classes])
    Z = rng.standard_normal((n, d))
    W = rng.standard_normal((n_classes, d)) * (1.5 / np.sqrt(d))
    b = rng.uniform(-0.5, 0.5, n_classes)
    logits = Z @ W.T + b
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (rng.random((n, 1)) > np.cumsum(P, axis=1)).sum(axis=1)  # inverse-CDF draw of each row's class
    y = np.minimum(y, n_classes - 1)
    if kind == "unscaled":
        scale = np.logspace(-3, 3, d)
        rng.shuffle(scale)
        Z = Z * scale + rng.uniform(-2, 2, d) * scale
    return np.ascontiguousarray(Z, dtype=dtype), y


def full_coef(coef, intercept, n_classes, d):
    """A fit's (coef, intercept) as the flat C-order (K, d + 1) matrix [W | b] of ``MultinomialLoss``.

    Accepts W of K rows (symmetric) or K − 1 rows (class 0 as reference, its row zero).
    """
    W = np.asarray(coef, dtype=np.float64).reshape(-1, d)
    b = np.asarray(intercept, dtype=np.float64).reshape(-1)
    if b.size == 1 and W.shape[0] > 1:
        b = np.full(W.shape[0], float(b[0]))
    if W.shape[0] == n_classes - 1:
        W, b = np.vstack([np.zeros(d), W]), np.concatenate([[0.0], b])
    if W.shape != (n_classes, d) or b.shape != (n_classes,):
        raise ValueError(f"cannot read a ({n_classes}, {d}) coefficient matrix from coef {np.shape(coef)}, "
                         f"intercept {np.shape(intercept)}")
    return np.column_stack([W, b]).ravel()


def multiclass_fit():
    """(``fusedlogit.fit``, None) if it fits 3-class labels, else (None, why not)."""
    from ..solvers import fit

    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 2))
    y = np.arange(90) % 3
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fit(X, y, l2=1.0 / 90, max_iter=50)
        full_coef(res.coef, res.intercept, 3, 2)
    except Exception as exc:
        return None, f"it does not fit multiclass y yet ({type(exc).__name__}: {str(exc)[:120]})"
    return fit, None


def _fit_fusedlogit(fit, solver):
    def run(X, y, n_classes, l2, tol, max_iter, n_threads):
        if n_threads == max_threads():
            n_threads = None  # fit's default, all cores: what a user runs
        res = fit(X, y, l2=l2, solver=solver, tol=tol, max_iter=max_iter, n_threads=n_threads)
        return full_coef(res.coef, res.intercept, n_classes, X.shape[1]), int(res.n_iter), bool(res.converged)

    return run


def _fit_sklearn(solver, package="sklearn"):
    """scikit-learn's LogisticRegression, or scikit-learn-intelex's (``package="sklearnex"``, the same API)."""

    def run(X, y, n_classes, l2, tol, max_iter, n_threads):
        import importlib

        from sklearn.exceptions import ConvergenceWarning

        LogisticRegression = importlib.import_module(f"{package}.linear_model").LogisticRegression

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = LogisticRegression(C=C, solver=solver, tol=tol, max_iter=max_iter).fit(X, y)
        n_iter = int(np.max(model.n_iter_))
        failed = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        coef = full_coef(model.coef_, model.intercept_, n_classes, X.shape[1])
        return coef, n_iter, n_iter < max_iter and not failed

    return run


def multinomial_fit_methods(solvers=None):
    """([(method, solver, run)], notes): the fitters available, and why any are skipped."""
    import importlib.util

    methods, notes = [], []
    fit, why = multiclass_fit()
    if fit is None:
        notes.append(f"fusedlogit.fit: {why}")
    else:
        methods += [("fusedlogit", s, _fit_fusedlogit(fit, s)) for s in (solvers or DEFAULT_SOLVERS)]
    if importlib.util.find_spec("sklearn") is not None:
        methods += [("sklearn", s, _fit_sklearn(s)) for s in SKLEARN_SOLVERS]
    else:
        notes.append("scikit-learn fits: not installed")
    if importlib.util.find_spec("sklearnex") is not None:
        methods += [("sklearnex", s, _fit_sklearn(s, "sklearnex")) for s in SKLEARNEX_SOLVERS]
    else:
        notes.append("scikit-learn-intelex fits: not installed (pip install scikit-learn-intelex)")
    return methods, notes


def run_multinomial_fits(shapes, kinds=("standardised",), *, dtype=np.float64, n_threads, tol, max_iter, repeats,
                         solvers=None):
    """Time every fitter on each (n, d, K) problem; returns (rows, notes)."""
    methods, notes = multinomial_fit_methods(solvers)
    for note in notes:
        progress(f"mfits   {note}")
    rows = []
    for n, d, K in shapes:
        for kind in kinds:
            X, y = multinomial_fit_problem(n, d, K, kind=kind, dtype=dtype, seed=1)
            X_warm, y_warm = multinomial_fit_problem(max(200, 10 * K), d, K, kind=kind, dtype=dtype, seed=2)
            l2 = 1.0 / (C * n)
            objective = MultinomialLoss(X, y, n_classes=K, l2=l2, n_threads=n_threads)
            for method, solver, run in methods:
                row = {"method": method, "solver": solver, "problem": kind, "n": n, "d": d, "n_classes": K,
                       "dtype": np.dtype(dtype).name, "n_threads": n_threads, "tol": tol, "max_iter": max_iter,
                       "C": C, "l2": l2}
                row.update(time_fit(
                    objective,
                    lambda: run(X_warm, y_warm, K, 1.0 / (C * X_warm.shape[0]), tol, max_iter, n_threads),
                    lambda: run(X, y, K, l2, tol, max_iter, n_threads),
                    repeats=repeats,
                    n_threads=n_threads,
                    label=f"mfits   {kind:<12} n={n:<8} d={d:<4} K={K:<3} {method:>10} {solver:<15}",
                ))
                rows.append(row)
    return rows, notes
