"""``fit(solver="lbfgs")``: scipy's L-BFGS-B on the fused loss and gradient, in standardised coordinates."""

from __future__ import annotations

import numpy as np
import scipy.optimize

from .common import Progress, SolverOutput, all_finite
from .scaling import StandardisedObjective

#: L-BFGS stops (status "rounding") after this many iterations in a row that
#: each lowered J by no more than its rounding: from there its Wolfe line
#: search, which needs J to decrease, only wastes evaluations.
FLAT_ITERATIONS = 2


def lbfgs(objective, coef0, options):
    """L-BFGS (Nocedal & Wright, Algorithm 7.5) as scipy's L-BFGS-B without bounds.

    It runs in standardised coordinates θ (``scaling``), where unscaled
    columns no longer make the problem ill-conditioned.  Each function
    evaluation is one fused ``loss_gradient`` pass.  scipy's own stopping
    tests are switched off (``gtol=0``, ``ftol=0``); after every iteration the
    callback tests ``LogisticLoss.converged`` on ∇J in the original
    coefficients, and halts the run when it holds ("converged") or when J has
    stopped decreasing in floating point (``FLAT_ITERATIONS``, "rounding").
    Otherwise scipy stops at the iteration limit ("max_iter") or when its line
    search fails: "rounding" if no trial point of that search lowered J by
    more than its rounding, else "line_search".  ``fit`` finishes a run that
    stops on rounding or its line search with Newton-CG (``FINISHING_SOLVER``).
    """
    from .newton_core import rounding_slack

    problem = StandardisedObjective(objective)
    state = {"trial_losses": [], "flat": 0, "status": None}

    def fun(theta):
        if all_finite(theta):
            loss, grad = problem.loss_gradient(theta)
        else:  # a step that overflowed (huge columns): J = ∞ there, never evaluated
            loss, grad = np.inf, np.full_like(theta, np.nan)
        state["theta"], state["loss"], state["grad"] = theta.copy(), loss, grad
        state["trial_losses"].append(loss)
        return loss, grad

    theta = problem.theta(coef0)
    loss, grad = fun(theta)
    coef = problem.coef(theta)
    progress = Progress("lbfgs", options, coef, loss, problem.original_gradient(grad))
    last = {"coef": coef, "loss": loss, "theta": theta, "grad": grad}  # the last iterate

    def callback(intermediate_result):
        x = intermediate_result.x
        if np.array_equal(state["theta"], x):
            loss, grad = state["loss"], state["grad"]
        else:  # not the last evaluated point (never seen in practice): evaluate
            loss, grad = fun(x)
        coef = problem.coef(x)
        step = float(np.max(np.abs(coef - last["coef"])))
        progress(len(progress.history), coef, loss, problem.original_gradient(grad), step)
        state["flat"] = state["flat"] + 1 if loss >= last["loss"] - rounding_slack(last["loss"]) else 0
        if np.isfinite(loss) and all_finite(grad):
            last.update(coef=coef, loss=loss, theta=x.copy(), grad=grad)
        state["trial_losses"] = []
        if problem.converged(grad, options.tol):
            state["status"] = "converged"
        elif state["flat"] >= FLAT_ITERATIONS:
            state["status"] = "rounding"
        if state["status"] is not None:
            raise StopIteration

    if problem.converged(grad, options.tol):
        return SolverOutput(coef, 0, progress.history, loss, problem.original_gradient(grad), "converged")
    res = scipy.optimize.minimize(
        fun,
        theta,
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={
            "maxiter": options.max_iter,
            "maxfun": 10 * options.max_iter + 20,
            "gtol": 0.0,
            "ftol": 0.0,
            "maxcor": 20,
            "maxls": 50,
        },
    )
    theta = np.array(res.x, dtype=np.float64)
    if np.array_equal(state["theta"], theta):
        loss, grad = state["loss"], state["grad"]
    else:
        loss, grad = fun(theta)
    overflowed = not (np.isfinite(loss) and all_finite(grad))
    if overflowed:  # never return a point where J or ∇J overflowed: the last iterate instead
        theta, loss, grad = last["theta"], last["loss"], last["grad"]
    status = state["status"] or ("line_search" if overflowed else None)
    if status is None and int(res.nit) >= options.max_iter:
        status = "max_iter"
    elif status is None:  # scipy gave up: its line search failed or the evaluations ran out
        fell = min(state["trial_losses"], default=np.inf) < loss - rounding_slack(loss)
        status = "line_search" if fell or not np.isfinite(loss) else "rounding"
    coef, grad = problem.coef(theta), problem.original_gradient(grad)
    return SolverOutput(coef, int(res.nit), progress.history, loss, grad, status)
