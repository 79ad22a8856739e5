"""What every solver of ``fit`` shares: options, output, progress lines, the Armijo line search.

A solver is a plain function ``solver(objective, coef0, options) ->
SolverOutput`` that touches the data only through the objective's methods
(``loss_gradient``, ``hessp``, ``hessian``, ...), so any input the objective
accepts can be fitted.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np


@dataclasses.dataclass
class SolverOptions:
    tol: float
    max_iter: int
    callback: object = None
    verbose: bool = False
    learning_rate: float | None = None
    reuse_hessian: bool = True  # newton: False makes each step a function of its start point alone
    presolve: bool = False  # newton: on large data, start from the solution on a row subsample (a cold start)
    penalty: object = None  # cd: the ``penalised.Penalty`` added to the objective


#: Why a solver stopped (``SolverOutput.status``; ``fit`` adds "separation" and "non_finite"):
#: "converged": the test of ``LogisticLoss.converged`` holds;
#: "max_iter": the iteration limit was reached first;
#: "rounding": J no longer decreases in floating point (no trial step of the line
#: search along a descent direction lowers it beyond its rounding, or ``Progress.stalled``);
#: "line_search": the line search failed for another reason (no descent direction,
#: J not finite along it, or scipy's Wolfe search gave up while J still fell);
#: "diverged": a fixed step (gd's learning_rate) made J or ∇J non-finite.
STATUSES = ("converged", "max_iter", "rounding", "line_search", "diverged")


@dataclasses.dataclass
class SolverOutput:
    coef: np.ndarray
    n_iter: int
    history: list
    loss: float  # J(coef)
    grad: np.ndarray  # ∇J(coef)
    status: str  # one of STATUSES
    unpenalised: tuple | None = None  # "cd": (F, ∇F) at coef, the objective without the penalty


#: ``Progress.stalled``: this many iterations in a row that kept J within its
#: rounding of the lowest J so far and did not lower the smallest max|∇J| so
#: far.  Near the optimum a step may leave J unchanged in floating point while
#: it shrinks ∇J; when ∇J stops shrinking too, rounding noise, not the
#: optimum, drives the iterates, and more iterations cannot meet tol.
STALL_ITERATIONS = 5


class Progress:
    """Per-iteration bookkeeping: history, verbose line, user callback, stall count (``stalled``)."""

    def __init__(self, name, options, coef0, loss0, grad0):
        self.name, self.options = name, options
        self.history = [loss0]
        self._t0 = time.perf_counter()
        self._best_loss, self._best_grad, self._flat = loss0, float(np.max(np.abs(grad0))), 0
        if options.verbose:
            print(f"[{name}] iter    0  loss {loss0:.12e}  max|grad| {np.max(np.abs(grad0)):.3e}")

    def __call__(self, k, coef, loss, grad, step):
        from .newton_core import rounding_slack

        self.history.append(loss)
        grad_max = float(np.max(np.abs(grad)))
        flat = abs(loss - self._best_loss) <= rounding_slack(self._best_loss) and not grad_max < self._best_grad
        self._flat = self._flat + 1 if flat else 0
        self._best_loss, self._best_grad = min(self._best_loss, loss), min(self._best_grad, grad_max)
        if self.options.verbose:
            print(
                f"[{self.name}] iter {k:4d}  loss {loss:.12e}  max|grad| {np.max(np.abs(grad)):.3e}"
                f"  step {step:.3e}  ({time.perf_counter() - self._t0:.2f} s)"
            )
        if self.options.callback is not None:
            self.options.callback(coef.copy())

    @property
    def stalled(self):
        """Whether the last ``STALL_ITERATIONS`` iterations were all flat (J and max|∇J| as described there)."""
        return self._flat >= STALL_ITERATIONS


def stop_reason(objective, grad, k, options, progress):
    """Why an iterative solver stops before iteration k + 1: "converged", "max_iter", "rounding", or None (go on)."""
    if objective.converged(grad, options.tol):
        return "converged"
    if k == options.max_iter:
        return "max_iter"
    if progress.stalled:
        return "rounding"
    return None


def all_finite(a):
    """Whether every entry of the vector ``a`` is finite.

    a·a is finite exactly when every entry is, unless it overflows (|a| above
    ~1e154), and then the entries are tested one by one.  One dot product,
    where ``np.isfinite(a).all()`` costs three calls: this runs at every trial
    point of a line search, and on small fits those calls add up to several %.
    """
    return math.isfinite(float(a @ a)) or bool(np.all(np.isfinite(a)))


def armijo(objective, coef, loss, grad, direction, step=1.0):
    """Backtracking line search: t from ``step``, halved until ``newton_core.armijo_accepts``.

    Returns (t, coef, loss, grad) at the accepted point.  If every trial
    moved some margin by more than ``newton_core.MAX_MARGIN_STEP`` it halves on from the
    step that moves none by more (one more pass over X, on that failure
    only).  When no step is accepted (the caller stops with its last iterate)
    it returns why, as a status: "rounding" if p is a descent direction and J
    was finite at the trial points (J is smooth, so in exact arithmetic a
    small enough step would decrease it: only rounding hides the decrease),
    else "line_search".  Trial points that are not finite (a direction that
    overflowed) are never evaluated: they count as J = ∞.
    """
    from .newton_core import armijo_accepts, rounding_slack

    slope = float(grad @ direction)
    if not (slope < 0 and math.isfinite(slope)):  # a direction with inf or NaN gives a slope of ±inf or NaN
        return "line_search"
    slack = rounding_slack(loss)
    grad_max = float(np.max(np.abs(grad)))

    def attempt(t):
        trial = coef + t * direction
        if not all_finite(trial):
            return None, False
        trial_loss, trial_grad = objective.loss_gradient(trial)
        trial_grad_max = float(np.max(np.abs(trial_grad)))  # NaN where any entry is NaN
        if math.isfinite(trial_grad_max) and armijo_accepts(trial_loss, trial_grad_max, loss, grad_max, t, slope, slack):
            return (trial, trial_loss, trial_grad), True
        return None, bool(np.isfinite(trial_loss))

    t, accepted, finite = backtrack(objective, direction, attempt, step)
    if accepted is None:
        return "rounding" if finite else "line_search"
    return (t, *accepted)


def backtrack(objective, direction, attempt, step=1.0):
    """Halve t from ``step`` until ``attempt(t)`` accepts the trial point at t along ``direction``.

    ``attempt(t)`` returns (what to keep, or None, and whether J was finite
    there).  After ``newton_core.MAX_BACKTRACKS`` failures, the last at a
    finite J, it goes on once from ``margin_restart``'s step: rows saturated
    by an offset have curvature p(1 − p) near 0, so a Newton step can be ~1e20
    long and the halvings never reach the scale of the margins.  Returns (t,
    accepted, True), or (None, None, whether J was finite at the last trial)
    when nothing was accepted: the last, shortest trial decides.
    """
    from .newton_core import MAX_BACKTRACKS

    t, restarted = step, False
    while True:
        finite = True
        for _ in range(MAX_BACKTRACKS):
            accepted, finite = attempt(t)
            if accepted is not None:
                return t, accepted, True
            last, t = t, 0.5 * t
        t = None if restarted or not finite else margin_restart(objective, direction, last)
        if t is None:
            return None, None, finite
        restarted = True


def margin_restart(objective, direction, last):
    """Where backtracking along ``direction`` should go on after its shortest trial step ``last`` failed, or None.

    None when that step moved no margin by more than
    ``newton_core.MAX_MARGIN_STEP`` (the trials were already short on the
    scale of the margins); else the step that moves none by more.  One pass
    over X (``max_margin_move``; an objective without that method gets None).
    """
    from .newton_core import MAX_MARGIN_STEP

    if not hasattr(objective, "max_margin_move"):
        return None
    move = float(objective.max_margin_move(direction))
    if not (np.isfinite(move) and last * move > MAX_MARGIN_STEP):
        return None
    return MAX_MARGIN_STEP / move
