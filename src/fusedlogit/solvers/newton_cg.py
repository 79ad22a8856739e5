"""``fit(solver="newton-cg")``: truncated Newton on fused Hessian-vector products."""

from __future__ import annotations

import numpy as np

from .common import Progress, SolverOutput, armijo, stop_reason
from .scaling import StandardisedObjective

#: Newton-CG stops its inner CG after this many Hessian-vector products; the
#: partial solution is still a descent direction.
NEWTON_CG_MAX_INNER = 200


def newton_cg(objective, coef0, options):
    """Line-search Newton-CG, a truncated Newton method (Nocedal & Wright, Algorithm 7.1).

    The Newton system H p = −g is solved approximately by conjugate gradients
    using only Hessian-vector products (one fused ``hessp`` pass each), to the
    forcing tolerance ||r|| ≤ η ||g||, η = min(0.5, sqrt||g||) (superlinear
    convergence); CG stops at negative curvature, falling back to −g on the
    first inner iteration.  The step length comes from Armijo backtracking.
    No d × d matrix is formed, so it suits large d.

    It runs in standardised coordinates θ (``scaling``): CG needs about
    sqrt(cond(H)) products per solve, and standardising the columns takes
    cond(H) from ~1e12 on unscaled data to that of standardised data.
    Convergence is tested on ∇J in the original coefficients.
    """
    problem = StandardisedObjective(objective)
    theta = problem.theta(coef0)
    loss, grad = problem.loss_gradient(theta)
    coef = problem.coef(theta)
    progress = Progress("newton-cg", options, coef, loss, problem.original_gradient(grad))
    k = 0
    while True:
        status = stop_reason(problem, grad, k, options, progress)
        if status is not None:
            break
        direction = _cg_direction(problem, theta, grad)
        found = armijo(problem, theta, loss, grad, direction)
        if isinstance(found, str):  # no step accepted: found says why
            status = found
            break
        _, theta, loss, grad = found
        previous, coef = coef, problem.coef(theta)
        k += 1
        progress(k, coef, loss, problem.original_gradient(grad), float(np.max(np.abs(coef - previous))))
    return SolverOutput(coef, k, progress.history, loss, problem.original_gradient(grad), status)


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
        if not (curvature > 0 and np.isfinite(curvature)):  # also an overflowed H·d (huge columns)
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
