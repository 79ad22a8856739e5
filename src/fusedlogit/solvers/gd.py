"""``fit(solver="gd")``: gradient descent, the seeds' update, for teaching."""

from __future__ import annotations

import numpy as np

from .common import Progress, SolverOutput, armijo, stop_reason


def gradient_descent(objective, coef0, options):
    """Gradient descent, the seeds' update w ← w − α ∇J (Nocedal & Wright, §3.1).

    With ``learning_rate`` α the step is fixed.  Without it, α_k comes from
    Armijo backtracking started at 2·α_{k−1} (so it can grow back after a
    short step); this converges for any convex smooth J, linearly at a rate
    set by cond(H), so it needs many iterations on badly scaled data: unlike
    lbfgs and newton-cg it runs on the original columns, as the seeds' update
    (and ``learning_rate``) are written for them.
    """
    coef = np.array(coef0, dtype=np.float64)
    loss, grad = objective.loss_gradient(coef)
    progress = Progress("gd", options, coef, loss, grad)
    fixed = options.learning_rate
    alpha = fixed if fixed is not None else 1.0
    k = 0
    while True:
        status = stop_reason(objective, grad, k, options, progress)
        if status is not None:
            break
        if fixed is not None:
            trial = coef - fixed * grad
            trial_loss, trial_grad = objective.loss_gradient(trial)
            if not (np.isfinite(trial_loss) and np.all(np.isfinite(trial_grad))):
                status = "diverged"  # keep the last finite iterate
                break
            coef, loss, grad = trial, trial_loss, trial_grad
            step = fixed
        else:
            found = armijo(objective, coef, loss, grad, -grad, step=2 * alpha)
            if isinstance(found, str):  # no step accepted: found says why
                status = found
                break
            alpha, coef, loss, grad = found
            step = alpha
        k += 1
        progress(k, coef, loss, grad, step * float(np.max(np.abs(grad))))
    return SolverOutput(coef, k, progress.history, loss, grad, status)
