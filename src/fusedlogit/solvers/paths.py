"""``path`` and ``cv``: the L1 / elastic-net fit over a grid of penalties, and its cross-validation.

With α the strength and r = l1_ratio, the penalty at each grid point is
l1 = α·r and l2 = α·(1 − r) (``solvers.penalised``).  The grid falls
geometrically from α_max, the smallest α at which every penalised
coefficient is zero::

    α_max = max_j |∂F/∂w_j (c₀)| / (r π_j)    over the penalised features (π_j > 0; every class)

where c₀ is the fit with every penalised coefficient zero (the intercepts and
the π_j = 0 features fitted), and the KKT conditions at c₀ hold exactly for
α ≥ α_max.  Each fit starts from the previous one (warm start); its first
working set is the previous support plus the sequential strong set of
Tibshirani et al. (2012), {j : |g_j(previous)| ≥ π_j (2 l1 − l1_previous)},
and the full KKT test at the end keeps the solution exact where the rule is
wrong.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np

from .._threads import fit_threads
from .._validation import check_choice, check_max_iter, check_penalty, check_penalty_weights, check_tol
from ..backends import BACKENDS
from ..tables import design_weights
from ..exceptions import ConvergenceWarning
from ..model import build_objective
from .common import SolverOptions
from .penalised import Penalty, coefficient_weights, proximal_newton

#: Default α_min / α_max: glmnet's choice, deeper when there are more rows than features.
ALPHA_MIN_RATIO_TALL = 1e-4
ALPHA_MIN_RATIO_WIDE = 1e-2


@dataclasses.dataclass(repr=False)
class PathResult:
    """The fits of ``path``, one per α (first axis).

    Attributes
    ----------
    alphas : (n_alphas,), decreasing
    l1_ratio : float
    coef : (n_alphas, n_features), or (n_alphas, K, n_features) for K classes
    intercept : (n_alphas,) or (n_alphas, K) (zeros for the ordinal model)
    thresholds : (n_alphas, K − 1), the ordinal model's thresholds; None for the others
    n_iter, converged, loss, grad_max, n_nonzero : (n_alphas,) each: iterations,
        whether the KKT test holds, J, max |minimum-norm subgradient|, and the
        number of nonzero coefficients
    feature_names : the names of coef's columns where X was a table or a formula (``tables``), else ()
    """

    alphas: np.ndarray
    l1_ratio: float
    coef: np.ndarray
    intercept: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    loss: np.ndarray
    grad_max: np.ndarray
    n_nonzero: np.ndarray
    thresholds: np.ndarray | None = None
    feature_names: tuple = ()

    def __repr__(self):
        return (
            f"PathResult(n_alphas={self.alphas.size}, l1_ratio={self.l1_ratio}, alphas=[{self.alphas[0]:.4g} .. "
            f"{self.alphas[-1]:.4g}], n_nonzero=[{self.n_nonzero[0]} .. {self.n_nonzero[-1]}], "
            f"converged={bool(self.converged.all())})"
        )


# -- the objective and the grid -----------------------------------------------------


def penalised_objective(X, y, model, n_classes, sample_weight, fit_intercept, backend, n_threads, table=None):
    """The smooth (l2 = 0) objective that ``fit`` would build for these data; every fit here is penalised.

    ``table``: ``model.build_objective``'s ``data``, ``drop_first`` and ``missing`` for a table or formula X.
    """
    return build_objective(X, y, model=model, n_classes=n_classes, sample_weight=sample_weight,
                           fit_intercept=fit_intercept, backend=backend, n_threads=n_threads, penalised=True,
                           **(table or {}))


def check_l1_ratio(l1_ratio, allow_zero):
    value = check_penalty("l1_ratio", l1_ratio)
    if value > 1 or (value == 0 and not allow_zero):
        bounds = "[0, 1]" if allow_zero else "(0, 1] (l1_ratio = 0 needs explicit alphas)"
        raise ValueError(f"l1_ratio must be in {bounds}, got {l1_ratio!r}")
    return value


def check_alphas(alphas):
    try:
        grid = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("alphas must be a 1-D array of numbers >= 0") from None
    if grid.ndim != 1 or grid.size == 0 or not (np.isfinite(grid).all() and (grid >= 0).all()):
        raise ValueError(f"alphas must be a non-empty 1-D array of finite numbers >= 0, got {alphas!r}")
    return np.sort(grid)[::-1].copy()


def _null_fit(objective, weights, options):
    """c₀: the fit with every penalised coefficient held at zero (thresholds too large to pass)."""
    start = objective.initial_coef()
    if not (weights == 0).any():
        return start  # intercept-only: initial_coef is its exact maximum-likelihood point
    penalty = Penalty(1.0, 0.0, weights)
    penalty.lam = np.where(weights > 0, 1e300, 0.0)
    return proximal_newton(objective, penalty, start, options).coef


def alpha_max(objective, weights, l1_ratio, options):
    """(α_max, c₀): see the module docstring; α_max = 0 when no feature is penalised."""
    coef0 = _null_fit(objective, weights, options)
    _, g = objective.loss_gradient(coef0)
    penalised = weights > 0
    if not penalised.any():
        return 0.0, coef0
    return float(np.max(np.abs(g[penalised]) / weights[penalised]) / l1_ratio), coef0


def alpha_grid(top, n_alphas, alpha_min_ratio):
    if n_alphas == 1:
        return np.array([top])
    return top * np.logspace(0.0, np.log10(alpha_min_ratio), n_alphas)


# -- the path on one objective --------------------------------------------------------------


def run_path(objective, weights, l1_ratio, alphas, coef0, options, label="path"):
    """Fits at each α of the decreasing ``alphas`` with warm starts and strong sets; a PathResult."""
    layout = objective.layout
    rows = layout.n_rows
    n = alphas.size
    coefs = np.zeros((n, objective.n_coef))
    n_iter, converged = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    loss, grad_max = np.zeros(n), np.zeros(n)
    coef = np.array(coef0, dtype=np.float64)
    previous_l1, unpenalised = None, None
    feature_weights = layout.features(weights)[0]
    quiet = dataclasses.replace(options, verbose=False)  # one line per α, not per iteration
    start = time.perf_counter()
    for i, alpha in enumerate(alphas):
        l1 = alpha * l1_ratio
        penalty = Penalty(l1, alpha * (1.0 - l1_ratio), weights)
        columns = None
        if previous_l1 is not None:  # the sequential strong set, from ∇S at the previous solution
            g = unpenalised[1] + penalty.smooth_gradient(coef)
            largest = layout.largest_by_feature(g)
            columns = np.flatnonzero(largest >= feature_weights * (2.0 * l1 - previous_l1))
        out = proximal_newton(objective, penalty, coef, quiet, columns, unpenalised)
        coef, unpenalised = out.coef, out.unpenalised
        coefs[i], n_iter[i], loss[i] = coef, out.n_iter, out.loss
        converged[i] = objective.converged(out.grad, options.tol) and bool(np.isfinite(out.loss))
        grad_max[i] = float(np.max(np.abs(out.grad)))
        previous_l1 = l1
        if options.verbose:
            nonzero = int(np.count_nonzero(layout.features(coef)))
            print(
                f"[{label}] {i + 1:3d}/{n}  alpha {alpha:.4e}  nonzero {nonzero:6d}  iterations {out.n_iter:3d}  "
                f"loss {out.loss:.10e}  max|subgrad| {grad_max[i]:.2e}  ({time.perf_counter() - start:.2f} s)",
                flush=True,
            )
    full = layout.rows(coefs)  # (n, rows, width): a view, centred in place
    if rows > 1:  # multinomial: the unpenalised columns are determined up to a shift shared by the classes
        free = layout.rows(weights)[0] == 0
        full[:, :, free] -= full[:, :, free].mean(axis=1, keepdims=True)
    w, b = layout.features(coefs), layout.intercepts(coefs)
    thresholds = None
    if rows == 1:
        w, b = w[:, 0, :], b[:, 0]
    if layout.intercept_sign < 0:  # the ordinal model's constants are its thresholds
        thresholds, b = np.ascontiguousarray(b), np.zeros(n)
    return PathResult(
        alphas=alphas.copy(),
        l1_ratio=float(l1_ratio),
        coef=np.ascontiguousarray(w),
        intercept=np.ascontiguousarray(b),
        n_iter=n_iter,
        converged=converged,
        loss=loss,
        grad_max=grad_max,
        n_nonzero=np.count_nonzero(w.reshape(n, -1), axis=1),
        thresholds=thresholds,
    )


def path_options(tol, max_iter, verbose):
    from .registry import DEFAULT_MAX_ITER

    max_iter = check_max_iter(max_iter, None)
    max_iter = DEFAULT_MAX_ITER["cd"] if max_iter is None else max_iter
    return SolverOptions(tol=check_tol(tol), max_iter=max_iter, verbose=bool(verbose))


def grid_and_start(objective, weights, l1_ratio, alphas, n_alphas, alpha_min_ratio, options):
    """(decreasing α grid, start point) for one l1_ratio."""
    if alphas is not None:
        return alphas, objective.initial_coef()
    top, coef0 = alpha_max(objective, weights, l1_ratio, options)
    if not top > 0:
        raise ValueError("no feature is penalised (penalty_weights all 0): give alphas explicitly")
    return alpha_grid(top, n_alphas, alpha_min_ratio), coef0


def check_grid_options(alphas, n_alphas, alpha_min_ratio, n_samples, n_features):
    alphas = None if alphas is None else check_alphas(alphas)
    if isinstance(n_alphas, bool) or not isinstance(n_alphas, (int, np.integer)) or n_alphas < 1:
        raise ValueError(f"n_alphas must be an integer >= 1, got {n_alphas!r}")
    if alpha_min_ratio is None:
        alpha_min_ratio = ALPHA_MIN_RATIO_TALL if n_samples > n_features else ALPHA_MIN_RATIO_WIDE
    elif isinstance(alpha_min_ratio, bool) or not (0 < float(alpha_min_ratio) < 1):
        raise ValueError(f"alpha_min_ratio must be in (0, 1), got {alpha_min_ratio!r}")
    return alphas, int(n_alphas), float(alpha_min_ratio)


def _warn_unconverged(result, what):
    if not result.converged.all():
        bad = np.flatnonzero(~result.converged)
        warnings.warn(
            f"{what}: the fits at {bad.size} of {result.alphas.size} alphas did not meet tol "
            f"(first alpha {result.alphas[bad[0]]:.4g}, max|subgrad| {result.grad_max[bad[0]]:.3g}); "
            "increase max_iter or tol",
            ConvergenceWarning,
            stacklevel=3,
        )


def path(
    X,
    y=None,
    *,
    data=None,
    drop_first=None,
    missing="error",
    l1_ratio=1.0,
    alphas=None,
    n_alphas=100,
    alpha_min_ratio=None,
    penalty_weights=None,
    sample_weight=None,
    fit_intercept=True,
    model="auto",
    n_classes=None,
    tol=1e-8,
    max_iter=None,
    n_threads=None,
    backend="numba",
    verbose=False,
):
    """Fit the L1 / elastic-net model along a decreasing grid of α (the module docstring).

    J_α(c) = (1/S) Σ s_i ℓ_i + α r Σ_j π_j |w_j| + (α (1 − r)/2) Σ_j π_j w_j²,
    r = ``l1_ratio`` in (0, 1] (0 allowed with explicit ``alphas``).

    Parameters
    ----------
    alphas : array, optional
        The grid (sorted decreasing); default ``n_alphas`` values from α_max
        down to α_max · ``alpha_min_ratio`` (default 1e-4 when n_samples >
        n_features, else 1e-2), geometrically.
    penalty_weights : (n_features,) array ≥ 0, optional
        π_j, default 1; 0 leaves feature j unpenalised.
    X, y, sample_weight, fit_intercept, model, n_classes, tol, max_iter, n_threads, backend
        As for ``fusedlogit.fit`` (solver "cd"); max_iter is per α.
    data, drop_first, missing
        As for ``fusedlogit.fit``: a table X (categorical columns kept as
        codes) or a formula X on the table ``data``; drop_first=None keeps
        every level (the fits are penalised).
    verbose : bool
        One line per α: its index, α, nonzeros, iterations, J, max|∂J|, time.

    Returns
    -------
    PathResult

    Warns ``ConvergenceWarning`` when a fit of the grid does not meet tol.
    """
    check_choice("backend", backend, BACKENDS)
    options = path_options(tol, max_iter, verbose)
    with fit_threads():
        table = {"data": data, "drop_first": drop_first, "missing": missing}
        objective = penalised_objective(X, y, model, n_classes, sample_weight, fit_intercept, backend, n_threads,
                                        table)
        alphas, n_alphas, alpha_min_ratio = check_grid_options(
            alphas, n_alphas, alpha_min_ratio, objective.n_samples, objective.n_features
        )
        l1_ratio = check_l1_ratio(l1_ratio, allow_zero=alphas is not None)
        penalty_weights = design_weights(objective.coding, penalty_weights)
        weights = coefficient_weights(check_penalty_weights(penalty_weights, objective.n_features), objective.layout)
        quiet = dataclasses.replace(options, verbose=False)
        grid, coef0 = grid_and_start(objective, weights, l1_ratio, alphas, n_alphas, alpha_min_ratio, quiet)
        result = run_path(objective, weights, l1_ratio, grid, coef0, options)
    if objective.coding is not None:
        result.feature_names = tuple(objective.coding.feature_names)
    _warn_unconverged(result, "path")
    return result
