"""What every solver of ``fit`` shares: options, output, progress lines, the Armijo line search.

A solver is a plain function ``solver(objective, coef0, options) ->
SolverOutput`` that touches the data only through the objective's methods
(``loss_gradient``, ``hessp``, ``hessian``, ...), so any input the objective
accepts can be fitted.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np


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


class Progress:
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


def armijo(objective, coef, loss, grad, direction, step=1.0):
    """Backtracking line search: t from ``step``, halved until ``newton_core.armijo_accepts``.

    Returns (t, coef, loss, grad) at the accepted point, or None when no
    step is accepted (the caller stops with its last iterate).
    """
    from .newton_core import MAX_BACKTRACKS, armijo_accepts, rounding_slack

    slope = float(grad @ direction)
    if not slope < 0:
        return None
    slack = rounding_slack(loss)
    grad_max = float(np.max(np.abs(grad)))
    t = step
    for _ in range(MAX_BACKTRACKS):
        trial = coef + t * direction
        trial_loss, trial_grad = objective.loss_gradient(trial)
        if armijo_accepts(trial_loss, float(np.max(np.abs(trial_grad))), loss, grad_max, t, slope, slack):
            return t, trial, trial_loss, trial_grad
        t *= 0.5
    return None
