"""Fitting: ``fit`` minimises the objective J of ``objective.LogisticLoss``.

Every solver is a plain function ``solver(objective, coef0, options) ->
SolverOutput`` that touches the data only through the objective's public
methods (``loss``, ``gradient``, ``loss_gradient``, ``hessp``, ``hessian``),
so any input that ``LogisticLoss`` accepts can be fitted.

Convergence means max_j |∂J/∂coef_j| ≤ tol (the largest gradient entry,
intercept included).  A solver that stops short of it returns its last finite
iterate with ``converged=False`` and ``fit`` emits a ``ConvergenceWarning``.
"""

from __future__ import annotations

import dataclasses
import numbers
import time
import warnings

import numpy as np
import scipy.linalg
import scipy.optimize

from .objective import BACKENDS, LogisticLoss
from ._validation import check_choice, check_max_iter, check_tol

SOLVERS = ("auto", "newton", "lbfgs", "newton-cg", "gd")

#: ``max_iter=None`` means this many iterations of the chosen solver.
DEFAULT_MAX_ITER = {"newton": 100, "newton-cg": 200, "lbfgs": 1000, "gd": 100_000}

#: "auto" uses Newton (a dense (d+1)² Hessian, Cholesky in O(d³)) up to this
#: many coefficients, L-BFGS above it.
AUTO_NEWTON_MAX_COEF = 1000

#: Newton reuses its Hessian factor after a full step that cut max|∇J| by
#: at least this factor (the Hessian then barely changes between iterates).
NEWTON_REUSE_RATIO = 0.25

#: On at least this many rows, Newton's first Hessian is taken from a strided
#: subsample of about ``NEWTON_SUBSAMPLE_ROWS`` rows (see ``newton``).
NEWTON_SUBSAMPLE_MIN_ROWS = 200_000
NEWTON_SUBSAMPLE_ROWS = 100_000

#: Newton-CG stops its inner CG after this many Hessian-vector products; the
#: partial solution is still a descent direction.
NEWTON_CG_MAX_INNER = 200

#: L-BFGS-B restarts allowed after it stops on J's rounding short of tol.
LBFGS_RESTARTS = 5

#: Armijo sufficient-decrease constant c₁ in J(x + t p) ≤ J(x) + c₁ t ∇J·p.
ARMIJO_C1 = 1e-4
#: Backtracking halves the step at most this many times.
MAX_BACKTRACKS = 60
#: Shifted Cholesky: at most this many shifts τ (1e-10, ×10 each) are tried.
MAX_SHIFTS = 20

#: Separation test: a Newton step from the returned point that would still
#: move some margin x̃_i·p by more than this, although ∇J is already ≤ tol.
SEPARATION_MARGIN_STEP = 0.5


class ConvergenceWarning(UserWarning):
    """A solver stopped before max|∇J| ≤ tol (iteration limit or stalled)."""


class SeparationWarning(ConvergenceWarning):
    """Without penalty the data are (quasi-)separable: no finite MLE exists."""


@dataclasses.dataclass
class FitResult:
    """Result of ``fit``.

    Attributes
    ----------
    coef : ndarray (n_features,)
    intercept : float (0.0 without intercept)
    n_iter : int, iterations the solver ran
    converged : bool, whether max|∇J| ≤ tol was reached
    loss : float, J at the solution
    grad_max : float, max|∇J| at the solution
    history : ndarray (n_iter + 1,), J at the start and after each iteration
    solver : str, the solver that ran ("auto" resolved)
    stderr : ndarray (n_coef,), standard errors of [coef..., intercept]
    cov : ndarray (n_coef, n_coef), their covariance, inverse of the Hessian of
        the summed negative log-likelihood Σ s_i ℓ_i (the usual MLE covariance,
        as statsmodels and Stata report it).  Only defined for l2 = 0: NaN when
        l2 > 0 (a penalised fit has no such sampling interpretation), when the
        Hessian is singular, or when separation was detected.  Evaluated at
        the returned coef (also when ``converged`` is False).
    """

    coef: np.ndarray
    intercept: float
    n_iter: int
    converged: bool
    loss: float
    grad_max: float
    history: np.ndarray
    solver: str
    stderr: np.ndarray
    cov: np.ndarray


@dataclasses.dataclass
class SolverOptions:
    tol: float
    max_iter: int
    callback: object = None
    verbose: bool = False
    learning_rate: float | None = None


@dataclasses.dataclass
class SolverOutput:
    coef: np.ndarray
    n_iter: int
    history: list
    loss: float  # J(coef)
    grad: np.ndarray  # ∇J(coef)


# -- shared pieces ---------------------------------------------------------------


class _Progress:
    """Per-iteration bookkeeping: history, verbose line, user callback."""

    def __init__(self, name, options, coef0, loss0, grad0):
        self.name, self.options = name, options
        self.history = [loss0]
        self._t0 = time.perf_counter()
        if options.verbose:
            print(f"[{name}] iter    0  loss {loss0:.12e}  max|grad| {np.max(np.abs(grad0)):.3e}")

    def __call__(self, k, coef, loss, grad, step):
        self.history.append(loss)
        if self.options.verbose:
            print(
                f"[{self.name}] iter {k:4d}  loss {loss:.12e}  max|grad| {np.max(np.abs(grad)):.3e}"
                f"  step {step:.3e}  ({time.perf_counter() - self._t0:.2f} s)"
            )
        if self.options.callback is not None:
            self.options.callback(coef.copy())


def _converged(grad, tol):
    return float(np.max(np.abs(grad))) <= tol


def _armijo(objective, coef, loss, grad, direction, step=1.0):
    """Backtracking line search (Nocedal & Wright, Algorithm 3.1).

    Halves t from ``step`` until J(x + t p) ≤ J(x) + c₁ t ∇J·p.  Near the
    optimum the decrease can fall below the rounding of J; a step that keeps J
    within a few ulps and shrinks max|∇J| is then accepted too, since the
    gradient, not J, decides convergence.  Returns (t, coef, loss, grad), or
    None when no step decreases J (the caller stops with its last iterate).
    """
    slope = float(grad @ direction)
    if not slope < 0:
        return None
    rounding = 64 * np.finfo(float).eps * max(1.0, abs(loss))
    grad_max = np.max(np.abs(grad))
    t = step
    for _ in range(MAX_BACKTRACKS):
        trial = coef + t * direction
        trial_loss, trial_grad = objective.loss_gradient(trial)
        if np.isfinite(trial_loss):
            if trial_loss <= loss + ARMIJO_C1 * t * slope:
                return t, trial, trial_loss, trial_grad
            if trial_loss <= loss + rounding and np.max(np.abs(trial_grad)) < grad_max:
                return t, trial, trial_loss, trial_grad
        t *= 0.5
    return None


# -- solvers -----------------------------------------------------------------------


def newton(objective, coef0, options):
    """Damped Newton's method with a Cholesky solve (Nocedal & Wright, §3.3-3.4).

    p_k = −H_k⁻¹ ∇J_k, solved by Cholesky of the diagonally equilibrated
    D^{-1/2} H D^{-1/2} (D = diag H), which removes the column-scale part of the
    conditioning of unscaled data; if that is not numerically positive definite
    a shift τ·I (τ from 1e-10, ×10 per failure) is added (Nocedal & Wright,
    Algorithm 3.3).  x_{k+1} = x_k + t_k p_k with t_k from Armijo backtracking
    starting at 1.  Converges quadratically near the optimum, so tol = 1e-8 is
    reached even when cond(H) ~ 1e12 where first-order methods stall.

    The Hessian (a blocked syrk, ~d/2 times the cost of a gradient pass) is
    the expensive part, so near the optimum its factor is reused (the
    Shamanskii / chord variant, Kelley 1995, §5.4): after a full step that cut
    max|∇J| at least ``NEWTON_REUSE_RATIO``-fold, the next step solves with the
    same factor; any weaker step refreshes it.  On large data the factors come
    from the Hessian of every k-th row only, about ``NEWTON_SUBSAMPLE_ROWS``
    rows (sub-sampled Newton, Roosta-Khorasani & Mahoney 2019): its relative
    error, ~sqrt(d/m), bounds the linear rate of the iteration, so it serves
    as long as a step from a fresh subsample factor still cuts max|∇J|
    fourfold; after the first one that does not, every factor is exact.  The
    line search keeps every step a descent step, and the gradient is always
    exact, so the solution is the same.  Each iteration
    costs one fused loss+gradient pass, plus one Hessian when the factor is
    refreshed.
    """
    coef = np.array(coef0, dtype=np.float64)
    loss, grad = objective.loss_gradient(coef)
    progress = _Progress("newton", options, coef, loss, grad)
    sample = _row_subsample(objective, NEWTON_SUBSAMPLE_ROWS)
    k = 0
    factor = None
    while k < options.max_iter and not _converged(grad, options.tol):
        fresh = factor is None
        if fresh:
            factor = _EquilibratedCholesky((sample or objective).hessian(coef))
        direction = factor.solve(-grad)
        found = _armijo(objective, coef, loss, grad, direction)
        if found is None:
            if fresh and sample is None:
                break
            if fresh:
                sample = None  # the subsample's curvature gave no descent: exact from now on
            factor = None
            continue
        t, coef, loss, new_grad = found
        reduction = np.max(np.abs(new_grad)) / np.max(np.abs(grad))
        if not (t == 1.0 and reduction <= NEWTON_REUSE_RATIO):
            if fresh:
                sample = None  # even a fresh subsample factor is not good enough here
            factor = None
        grad = new_grad
        k += 1
        progress(k, coef, loss, grad, t * float(np.max(np.abs(direction))))
    return SolverOutput(coef, k, progress.history, loss, grad)


def _row_subsample(objective, rows):
    """The same objective on every k-th row (about ``rows`` of them), or None.

    None when the data have fewer than ``NEWTON_SUBSAMPLE_MIN_ROWS`` rows or
    the subsample would carry no weight.  Dense, sparse and dask X all take a
    strided row slice.
    """
    if objective.n_samples < NEWTON_SUBSAMPLE_MIN_ROWS or objective.reduction != "mean":
        return None
    step = objective.n_samples // rows
    weight = None if objective.sample_weight is None else objective.sample_weight[::step]
    if weight is not None and not float(weight.sum()) > 0:
        return None
    return LogisticLoss(
        objective.X[::step],
        objective.y[::step],
        sample_weight=weight,
        fit_intercept=objective.fit_intercept,
        l2=objective.l2,
        backend=objective.backend,
        n_threads=objective.n_threads,
    )


class _EquilibratedCholesky:
    """Cholesky of D^{-1/2} H D^{-1/2} (+ τI if needed), D = diag H; solves H x = r."""

    def __init__(self, H):
        diag = np.diag(H).copy()
        diag[diag <= 0] = 1.0
        self.scale = 1.0 / np.sqrt(diag)
        A = H * self.scale[:, None] * self.scale[None, :]
        shift = 0.0
        self.factor = None
        for _ in range(MAX_SHIFTS):
            try:
                self.factor = scipy.linalg.cho_factor(A + shift * np.eye(len(A)), check_finite=False)
                break
            except np.linalg.LinAlgError:
                shift = max(1e-10, 10 * shift)

    def solve(self, r):
        if self.factor is None:  # never seen for finite H; a gradient step keeps the search valid
            return r
        return scipy.linalg.cho_solve(self.factor, r * self.scale, check_finite=False) * self.scale


def newton_cg(objective, coef0, options):
    """Line-search Newton-CG, a truncated Newton method (Nocedal & Wright, Algorithm 7.1).

    The Newton system H p = −g is solved approximately by conjugate gradients
    using only Hessian-vector products (one fused ``hessp`` pass each), to the
    forcing tolerance ||r|| ≤ η ||g||, η = min(0.5, sqrt||g||) (superlinear
    convergence); CG stops at negative curvature, falling back to −g on the
    first inner iteration.  The step length comes from Armijo backtracking.
    No d × d matrix is formed, so it suits large d.
    """
    coef = np.array(coef0, dtype=np.float64)
    loss, grad = objective.loss_gradient(coef)
    progress = _Progress("newton-cg", options, coef, loss, grad)
    k = 0
    while k < options.max_iter and not _converged(grad, options.tol):
        direction = _cg_direction(objective, coef, grad)
        found = _armijo(objective, coef, loss, grad, direction)
        if found is None:
            break
        t, coef, loss, grad = found
        k += 1
        progress(k, coef, loss, grad, t * float(np.max(np.abs(direction))))
    return SolverOutput(coef, k, progress.history, loss, grad)


def _cg_direction(objective, coef, grad):
    """Approximate solution of H p = −g by CG (Nocedal & Wright, Algorithm 7.1 inner loop)."""
    g_norm = float(np.linalg.norm(grad))
    eta = min(0.5, np.sqrt(g_norm))
    p = np.zeros_like(grad)
    r = grad.copy()  # residual of H p + g
    d = -r
    rr = float(r @ r)
    for j in range(min(NEWTON_CG_MAX_INNER, 10 * len(grad))):
        Hd = objective.hessp(coef, d)
        curvature = float(d @ Hd)
        if curvature <= 0:
            return -grad if j == 0 else p
        alpha = rr / curvature
        p = p + alpha * d
        r = r + alpha * Hd
        rr_new = float(r @ r)
        if np.sqrt(rr_new) <= eta * g_norm:
            break
        d = -r + (rr_new / rr) * d
        rr = rr_new
    return p


def lbfgs(objective, coef0, options):
    """L-BFGS (Nocedal & Wright, Algorithm 7.5) as scipy's L-BFGS-B without bounds.

    Each function evaluation is one fused ``loss_gradient`` pass.  scipy's
    ``gtol`` is exactly max|∇J| ≤ tol; ``ftol=0`` so that it never stops on a
    small relative decrease of J before the gradient test holds.  When it
    still stops short of tol because J stops decreasing in floating point, it
    is restarted from there (up to ``LBFGS_RESTARTS`` times, while max|∇J|
    keeps falling).  ``n_iter`` counts the iterations of all runs.
    """
    state = {}

    def fun(x):
        loss, grad = objective.loss_gradient(x)
        state["x"], state["loss"], state["grad"] = x.copy(), loss, grad
        return loss, grad

    coef = np.array(coef0, dtype=np.float64)
    loss0, grad0 = fun(coef)
    progress = _Progress("lbfgs", options, coef, loss0, grad0)
    previous = [coef]

    def callback(intermediate_result):
        x = intermediate_result.x
        if "x" in state and np.array_equal(state["x"], x):
            loss, grad = state["loss"], state["grad"]
        else:  # not the last evaluated point (never seen in practice): evaluate
            loss, grad = objective.loss_gradient(x)
        step = float(np.max(np.abs(x - previous[0])))
        previous[0] = x.copy()
        progress(len(progress.history), x, loss, grad, step)

    loss, grad, n_iter = loss0, grad0, 0
    # L-BFGS-B also stops when J no longer decreases in floating point, which
    # on unscaled data can happen while max|∇J| is still above tol; a restart
    # (fresh curvature memory) often gets further, so allow a few.
    for _ in range(LBFGS_RESTARTS + 1):
        if _converged(grad, options.tol) or n_iter >= options.max_iter:
            break
        grad_max = float(np.max(np.abs(grad)))
        res = scipy.optimize.minimize(
            fun,
            coef,
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options={
                "maxiter": options.max_iter - n_iter,
                "maxfun": 10 * (options.max_iter - n_iter) + 20,
                "gtol": options.tol,
                "ftol": 0.0,
                "maxcor": 20,
                "maxls": 50,
            },
        )
        n_iter += int(res.nit)
        if not np.all(np.isfinite(res.x)):
            break
        coef = np.array(res.x, dtype=np.float64)
        if np.array_equal(state["x"], coef):
            loss, grad = state["loss"], state["grad"]
        else:
            loss, grad = objective.loss_gradient(coef)
        if not np.max(np.abs(grad)) < grad_max:  # the restart made no progress
            break
    return SolverOutput(coef, n_iter, progress.history, loss, grad)


def gradient_descent(objective, coef0, options):
    """Gradient descent, the seeds' update w ← w − α ∇J (Nocedal & Wright, §3.1).

    With ``learning_rate`` α the step is fixed.  Without it, α_k comes from
    Armijo backtracking started at 2·α_{k−1} (so it can grow back after a
    short step); this converges for any convex smooth J, linearly at a rate
    set by cond(H), so it needs many iterations on badly scaled data.
    """
    coef = np.array(coef0, dtype=np.float64)
    loss, grad = objective.loss_gradient(coef)
    progress = _Progress("gd", options, coef, loss, grad)
    fixed = options.learning_rate
    alpha = fixed if fixed is not None else 1.0
    k = 0
    while k < options.max_iter and not _converged(grad, options.tol):
        if fixed is not None:
            trial = coef - fixed * grad
            trial_loss, trial_grad = objective.loss_gradient(trial)
            if not (np.isfinite(trial_loss) and np.all(np.isfinite(trial_grad))):
                break  # diverged: keep the last finite iterate
            coef, loss, grad = trial, trial_loss, trial_grad
            step = fixed
        else:
            found = _armijo(objective, coef, loss, grad, -grad, step=2 * alpha)
            if found is None:
                break
            alpha, coef, loss, grad = found
            step = alpha
        k += 1
        progress(k, coef, loss, grad, step * float(np.max(np.abs(grad))))
    return SolverOutput(coef, k, progress.history, loss, grad)


SOLVER_FUNCTIONS = {"newton": newton, "newton-cg": newton_cg, "lbfgs": lbfgs, "gd": gradient_descent}


def resolve_solver(solver, n_coef):
    """"auto" → "newton" when n_coef ≤ AUTO_NEWTON_MAX_COEF, else "lbfgs"."""
    if solver != "auto":
        return solver
    return "newton" if n_coef <= AUTO_NEWTON_MAX_COEF else "lbfgs"


# -- public entry point --------------------------------------------------------------


def fit(
    X,
    y,
    *,
    l2=0.0,
    fit_intercept=True,
    sample_weight=None,
    solver="auto",
    tol=1e-8,
    max_iter=None,
    n_threads=None,
    backend="numba",
    callback=None,
    verbose=False,
    learning_rate=None,
):
    """Minimise J(coef) = (1/S) Σ s_i ℓ_i + (l2/2)||w||² (see ``LogisticLoss``).

    Parameters
    ----------
    X, y, sample_weight, fit_intercept, l2, backend, n_threads
        As for ``LogisticLoss`` (mean reduction, S = Σ s_i).
    solver : {"auto", "newton", "lbfgs", "newton-cg", "gd"}
        "auto" is "newton" for at most ``AUTO_NEWTON_MAX_COEF`` = 1000
        coefficients (intercept included), else "lbfgs".
    tol : float, default 1e-8
        Stop when max_j |∂J/∂coef_j| ≤ tol.
    max_iter : int, optional
        Iteration limit; None means 100 (newton), 200 (newton-cg),
        1000 (lbfgs), 100000 (gd).
    callback : callable, optional
        Called as ``callback(coef)`` after every iteration with a copy of the
        iterate [w..., b].
    verbose : bool
        Print one line per iteration: iteration, J, max|∇J|, step size.
    learning_rate : float, optional
        Fixed step α for solver="gd" (default: backtracking); else ignored.

    Returns
    -------
    FitResult

    Warns
    -----
    ConvergenceWarning
        max|∇J| ≤ tol not reached; the last finite iterate is returned.
    SeparationWarning
        With l2 = 0, the data look (quasi-)separable: after convergence, a
        Newton step from the returned point would still move some margin
        x̃_i·p by more than 0.5 although ∇J ≤ tol (J keeps falling towards
        an infimum at infinity); or, when not converged or H is singular,
        every row is predicted with |margin| > 15 on the side of its label.
        A heuristic (statsmodels and Stata use similar ones).  The returned
        coefficients are finite but arbitrary in that direction; use l2 > 0.
        stderr and cov are then NaN.  A subclass of ConvergenceWarning.

    Notes
    -----
    Which solver: "newton" is robust on unscaled, correlated data (its cost
    per Hessian is ~d/2 gradient passes, reused near the optimum); on
    well-conditioned (e.g. standardised) data "newton-cg" and "lbfgs" need
    only gradient and Hessian-vector passes and are often faster; "gd" is the
    teaching path and needs many iterations unless the data are well scaled.
    """
    check_choice("solver", solver, SOLVERS)
    check_choice("backend", backend, BACKENDS)
    tol = check_tol(tol)
    max_iter = check_max_iter(max_iter, None)  # None: the chosen solver's default, below
    if learning_rate is not None and (
        not isinstance(learning_rate, numbers.Real) or not np.isfinite(learning_rate) or learning_rate <= 0
    ):
        raise ValueError(f"learning_rate must be a finite number > 0 or None, got {learning_rate!r}")
    if callback is not None and not callable(callback):
        raise ValueError("callback must be callable or None")

    objective = LogisticLoss(
        X, y, sample_weight=sample_weight, fit_intercept=fit_intercept, l2=l2, backend=backend, n_threads=n_threads
    )
    name = resolve_solver(solver, objective.n_coef)
    options = SolverOptions(
        tol=tol,
        max_iter=DEFAULT_MAX_ITER[name] if max_iter is None else max_iter,
        callback=callback,
        verbose=bool(verbose),
        learning_rate=None if learning_rate is None else float(learning_rate),
    )
    out = SOLVER_FUNCTIONS[name](objective, _initial_coef(objective), options)

    coef, loss, grad = out.coef, out.loss, out.grad
    grad_max = float(np.max(np.abs(grad)))
    converged = grad_max <= options.tol
    if not converged:
        warnings.warn(
            f"solver {name!r} stopped after {out.n_iter} iterations with max|grad| = {grad_max:.3e} > tol = "
            f"{options.tol:g}; increase max_iter, use solver='newton', or scale X",
            ConvergenceWarning,
            stacklevel=2,
        )
    cov = np.full((objective.n_coef, objective.n_coef), np.nan)
    if objective.l2 == 0.0:
        cov = _mle_covariance(objective, coef, grad, converged)
    stderr = np.sqrt(np.diag(cov))
    w, b = (coef[:-1], float(coef[-1])) if objective.fit_intercept else (coef, 0.0)
    return FitResult(
        coef=w.copy(),
        intercept=b,
        n_iter=out.n_iter,
        converged=converged,
        loss=loss,
        grad_max=grad_max,
        history=np.asarray(out.history, dtype=np.float64),
        solver=name,
        stderr=stderr,
        cov=cov,
    )


def _initial_coef(objective):
    """Zeros, with the intercept at logit(weighted mean of y) when there is one.

    That start is the exact MLE of the intercept-only model, so the first
    step only has to fit w.
    """
    coef = np.zeros(objective.n_coef)
    if objective.fit_intercept:
        s = objective.sample_weight
        y = objective.y
        mean = float(y.mean(dtype=np.float64)) if s is None else float(s @ y) / float(s.sum(dtype=np.float64))
        if 0.0 < mean < 1.0:
            coef[-1] = np.log(mean / (1.0 - mean))
    return coef


def _mle_covariance(objective, coef, grad, converged):
    """Inverse Hessian of Σ s_i ℓ_i, i.e. (S · H_J)⁻¹ at l2 = 0; NaN if singular.

    Also runs the separation test (see ``fit``).  At a converged point: the
    Newton step p = −H⁻¹ ∇J; if some margin x̃_i·p would still move by more
    than ``SEPARATION_MARGIN_STEP`` the loss has no finite minimiser (at a
    true MLE p is O(tol)).  Otherwise, or when H is singular: every row
    predicted with a saturated margin on the side of its label.
    """
    n_coef = objective.n_coef
    nan = np.full((n_coef, n_coef), np.nan)
    H_sum = objective.hessian(coef) * objective.sum_weights
    diag = np.diag(H_sum).copy()
    separated = False
    cov = nan
    if np.all(diag > 0):
        scale = 1.0 / np.sqrt(diag)
        try:  # equilibrated Cholesky: accurate even for cond(H) ~ 1e12 from column scales
            factor = scipy.linalg.cho_factor(H_sum * scale[:, None] * scale[None, :], check_finite=False)
            inv = scipy.linalg.cho_solve(factor, np.eye(n_coef), check_finite=False)
            cov = inv * scale[:, None] * scale[None, :]
            step = -scipy.linalg.cho_solve(factor, grad * objective.sum_weights * scale, check_finite=False) * scale
            separated = converged and _margin_step(objective, step) > SEPARATION_MARGIN_STEP
        except np.linalg.LinAlgError:
            pass
    if not separated and not (converged and np.all(np.isfinite(cov))):
        separated = _saturated(objective, coef)
    if separated:
        warnings.warn(
            "separation: with l2=0 the classes are (quasi-)perfectly separable, so the maximum-likelihood "
            "estimate does not exist (the loss keeps decreasing as |coef| grows); the finite coefficients "
            "returned are arbitrary in that direction and stderr is NaN; use l2 > 0",
            SeparationWarning,
            stacklevel=3,
        )
        return nan
    return cov


def _margin_step(objective, step):
    """max_i |x̃_i · step| over rows with positive weight.

    Uses only ``X @ v``, which dense, sparse and dask arrays all provide.
    """
    w, b = (step[:-1], step[-1]) if objective.fit_intercept else (step, 0.0)
    u = np.abs(objective.X @ w.astype(objective.X.dtype) + b)
    if objective.sample_weight is not None:
        u = u * (objective.sample_weight > 0)  # a mask, not indexing: dask arrays keep known chunk sizes
    return float(u.max())


def _saturated(objective, coef):
    """Every positive-weight row predicted with |margin| > 15 on the side of its 0/1 label."""
    w, b = (coef[:-1], coef[-1]) if objective.fit_intercept else (coef, 0.0)
    z = objective.X @ w.astype(objective.X.dtype) + b
    y = objective.y
    keep = np.ones(len(y), bool) if objective.sample_weight is None else objective.sample_weight > 0
    correct = ((y == 1) & (z > 15)) | ((y == 0) & (z < -15))
    return bool(np.all(correct[keep]))
