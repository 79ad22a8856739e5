"""``fit(solver="newton")``: damped Newton with a reused, sub-sampled Cholesky factor."""

from __future__ import annotations

import numpy as np

from .common import Progress, SolverOutput, armijo, stop_reason

#: Newton reuses its Hessian factor after a full step that cut max|∇J| by
#: at least this factor (the Hessian then barely changes between iterates).
NEWTON_REUSE_RATIO = 0.25

#: On at least this many rows, Newton's first Hessian is taken from a strided
#: subsample of about ``NEWTON_SUBSAMPLE_ROWS`` rows (see ``newton``).
NEWTON_SUBSAMPLE_MIN_ROWS = 200_000
NEWTON_SUBSAMPLE_ROWS = 100_000


class HessianFactor:
    """``newton_core.factor_hessian``'s equilibrated Cholesky of H (k, k), kept for reuse.

    ``max_shifts=1`` allows no shift τ: then ``factored`` says whether H
    itself is numerically positive definite.
    """

    def __init__(self, H, max_shifts):
        from .newton_core import factor_hessian

        k = H.shape[0]
        self.factor = np.zeros((k, k))
        self.scale = np.empty(k)
        self.factored = bool(factor_hessian(np.ascontiguousarray(H), self.factor, self.scale, max_shifts))

    def newton_step(self, grad):
        """−H⁻¹ ∇J (−∇J if the factorisation failed), as the compiled solver computes it."""
        from .newton_core import newton_step

        out = np.empty(grad.shape[0])
        newton_step(self.factor, self.scale, self.factored, np.ascontiguousarray(grad, dtype=np.float64), out)
        return out

    def inverse(self):
        """H⁻¹ = D^{-1/2} (L L^T)⁻¹ D^{-1/2} (needs ``factored``)."""
        import scipy.linalg

        inv = scipy.linalg.cho_solve((self.factor, True), np.eye(len(self.scale)), check_finite=False)
        return inv * self.scale[:, None] * self.scale[None, :]


def newton(objective, coef0, options):
    """Damped Newton's method with a Cholesky solve (Nocedal & Wright, §3.3-3.4).

    p_k = −H_k⁻¹ ∇J_k and x_{k+1} = x_k + t_k p_k with t_k from Armijo
    backtracking starting at 1; the direction (equilibrated, shifted if
    needed, Cholesky) and the step acceptance are ``newton_core``'s, shared
    with the compiled solver of ``fusedlogit.jit`` and ``fit_many``.
    Converges quadratically near the optimum, so tol = 1e-8 is reached even
    when cond(H) ~ 1e12 where first-order methods stall.

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
    exact, so the solution is the same.  Each iteration costs one fused
    loss+gradient pass, plus one Hessian when the factor is refreshed.
    """
    from .newton_core import MAX_SHIFTS

    coef = np.array(coef0, dtype=np.float64)
    loss, grad = objective.loss_gradient(coef)
    progress = Progress("newton", options, coef, loss, grad)
    sample = row_subsample(objective)
    k = 0
    factor = None
    while True:
        status = stop_reason(objective, grad, k, options, progress)
        if status is not None:
            break
        fresh = factor is None
        if fresh:
            factor = HessianFactor((sample or objective).hessian(coef), MAX_SHIFTS)
        direction = factor.newton_step(grad)
        found = armijo(objective, coef, loss, grad, direction)
        if isinstance(found, str):  # no step accepted: found says why
            if fresh and sample is None:
                status = found
                break
            if fresh:
                sample = None  # the subsample's curvature gave no descent: exact from now on
            factor = None
            continue
        t, coef, loss, new_grad = found
        reduction = np.max(np.abs(new_grad)) / np.max(np.abs(grad))
        if not (options.reuse_hessian and t == 1.0 and reduction <= NEWTON_REUSE_RATIO):
            if fresh:
                sample = None  # even a fresh subsample factor is not good enough here
            factor = None
        grad = new_grad
        k += 1
        progress(k, coef, loss, grad, t * float(np.max(np.abs(direction))))
    return SolverOutput(coef, k, progress.history, loss, grad, status)


def row_subsample(objective):
    """The objective on every k-th row (about ``NEWTON_SUBSAMPLE_ROWS``), or None.

    None when the data have fewer than ``NEWTON_SUBSAMPLE_MIN_ROWS`` rows, the
    loss is not a mean (the subsample's Hessian would be on another scale) or
    the subsample would carry no weight.
    """
    if objective.n_samples < NEWTON_SUBSAMPLE_MIN_ROWS or objective.reduction != "mean":
        return None
    return objective.row_subsample(objective.n_samples // NEWTON_SUBSAMPLE_ROWS)
