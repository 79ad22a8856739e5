"""``fit(solver="lbfgs")``: scipy's L-BFGS-B on the fused loss and gradient."""

from __future__ import annotations

import numpy as np
import scipy.optimize

from .common import Progress, SolverOutput

#: L-BFGS-B restarts allowed after it stops on J's rounding short of tol.
LBFGS_RESTARTS = 5


def lbfgs(objective, coef0, options):
    """L-BFGS (Nocedal & Wright, Algorithm 7.5) as scipy's L-BFGS-B without bounds.

    Each function evaluation is one fused ``loss_gradient`` pass.  scipy's
    ``gtol`` is max|∇J| ≤ tol, made stricter (tol / max_j max(1, 1/ρ_j)) on a
    restart where only the test of ``LogisticLoss.converged`` on columns of
    small scale is left; ``ftol=0`` so that it never stops on a small
    relative decrease of J before the gradient test holds.  When it
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
    progress = Progress("lbfgs", options, coef, loss0, grad0)
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
    gtol = options.tol
    # L-BFGS-B also stops when J no longer decreases in floating point, which
    # on unscaled data can happen while max|∇J| is still above tol; a restart
    # (fresh curvature memory) often gets further, so allow a few.
    for _ in range(LBFGS_RESTARTS + 1):
        if objective.converged(grad, options.tol) or n_iter >= options.max_iter:
            break
        grad_max = float(np.max(np.abs(grad)))
        if grad_max <= gtol:  # max|∇J| ≤ tol holds but not the test on small columns: ask scipy for more
            gtol = options.tol / float(objective.gradient_weights().max())
        res = scipy.optimize.minimize(
            fun,
            coef,
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options={
                "maxiter": options.max_iter - n_iter,
                "maxfun": 10 * (options.max_iter - n_iter) + 20,
                "gtol": gtol,
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
