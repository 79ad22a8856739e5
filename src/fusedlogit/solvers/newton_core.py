"""The pieces of Newton's method every Newton fit shares, written once as compiled functions.

``fit(solver="newton")`` (which drives the objective from Python) and the
serial compiled solver of ``fusedlogit.jit`` and ``fit_many``
(``solvers.compiled``) take their steps, accept them and test for separation
with these functions, so the two cannot drift apart:

- the direction p = −H⁻¹ ∇J by Cholesky of the diagonally equilibrated
  Hessian D^{-1/2} H D^{-1/2} (D = diag H), shifted by τ·I (τ from 1e-10, ×10
  per failure) if it is not numerically positive definite (Nocedal & Wright,
  Algorithm 3.3); equilibration removes the column-scale part of the
  conditioning of unscaled data;
- Armijo's sufficient decrease J(x + t p) ≤ J(x) + c₁ t ∇J·p (Nocedal &
  Wright, Algorithm 3.1), halving t; near the optimum the decrease can fall
  below the rounding of J, so a step that keeps J within a few ulps and
  shrinks max|∇J| is accepted too (the gradient, not J, decides convergence);
- the separation test for l2 = 0 (``is_separated``).
"""

from __future__ import annotations

import numpy as np

from .._config import jit

#: Armijo sufficient-decrease constant c₁ in J(x + t p) ≤ J(x) + c₁ t ∇J·p.
ARMIJO_C1 = 1e-4
#: Backtracking halves the step at most this many times.
MAX_BACKTRACKS = 60
#: Shifted Cholesky: at most this many shifts τ (0, then 1e-10, ×10 each) are tried.
MAX_SHIFTS = 20

#: Separation test: a Newton step from the returned point that would still
#: move some margin x̃_i·p by more than this, although ∇J is already ≤ tol.
SEPARATION_MARGIN_STEP = 0.5

#: The line search's restart: when every halving of t still moved some margin
#: x̃_i·p by more than this, backtracking goes on from the t that moves none by
#: more.  Where every row is saturated (an offset of 50, say) p(1−p)
#: underflows, the Newton direction is ~1e20 long, and ``MAX_BACKTRACKS``
#: halvings never reach steps on the scale of the margins, where J decreases.
MAX_MARGIN_STEP = 32.0


@jit
def max_abs(a):
    """max_j |a_j| (0 for an empty vector)."""
    largest = 0.0
    for j in range(a.shape[0]):
        largest = max(largest, abs(a[j]))
    return largest


@jit
def weighted_max_abs(a, weights):
    """max_j |a_j| · weights_j: the scale-aware convergence measure (``LogisticLoss.converged``)."""
    largest = 0.0
    for j in range(a.shape[0]):
        largest = max(largest, abs(a[j]) * weights[j])
    return largest


@jit
def _cholesky(hess, scale, shift, factor):
    """Lower Cholesky factor of D^{-1/2} H D^{-1/2} + τI into ``factor``; False if not PD."""
    k = hess.shape[0]
    for j in range(k):
        diag = scale[j] * hess[j, j] * scale[j] + shift
        for p in range(j):
            diag -= factor[j, p] * factor[j, p]
        if not diag > 0.0:  # also catches NaN
            return False
        root = np.sqrt(diag)
        factor[j, j] = root
        for i in range(j + 1, k):
            value = scale[i] * hess[i, j] * scale[j]
            for p in range(j):
                value -= factor[i, p] * factor[j, p]
            factor[i, j] = value / root
    return True


@jit
def factor_hessian(hess, factor, scale, max_shifts):
    """Equilibrated Cholesky of H (k, k): L L^T = D^{-1/2} H D^{-1/2} + τI; True on success.

    Writes D^{-1/2} into ``scale`` (k,) and L into the lower triangle of
    ``factor`` (k, k; the upper triangle is left as it was).  τ = 0 first,
    then 1e-10, ×10 per failure, ``max_shifts`` tries in all (1: no shift).
    """
    k = hess.shape[0]
    for j in range(k):
        scale[j] = 1.0 / np.sqrt(hess[j, j]) if hess[j, j] > 0.0 else 1.0
    shift = 0.0
    for _ in range(max_shifts):
        if _cholesky(hess, scale, shift, factor):
            return True
        shift = max(1e-10, 10.0 * shift)
    return False


@jit
def newton_step(factor, scale, factored, grad, out):
    """out = −H⁻¹ ∇J from ``factor_hessian``'s factor; out = −∇J if it failed.

    (H⁻¹ = D^{-1/2} L^{-T} L^{-1} D^{-1/2}; the fallback, never seen for a
    finite H, keeps the line search valid.)
    """
    k = grad.shape[0]
    if not factored:
        for i in range(k):
            out[i] = -grad[i]
        return
    for i in range(k):  # L x = −D^{-1/2} g
        value = -scale[i] * grad[i]
        for p in range(i):
            value -= factor[i, p] * out[p]
        out[i] = value / factor[i, i]
    for i in range(k - 1, -1, -1):  # L^T x' = x
        value = out[i]
        for p in range(i + 1, k):
            value -= factor[p, i] * out[p]
        out[i] = value / factor[i, i]
    for i in range(k):
        out[i] *= scale[i]


@jit
def rounding_slack(loss):
    """How far J may rise, from rounding alone, for a step near the optimum."""
    return 64.0 * np.finfo(np.float64).eps * max(1.0, abs(loss))


@jit
def armijo_accepts(trial_loss, trial_grad_max, loss, grad_max, t, slope, slack):
    """Whether the step t (slope = ∇J·p < 0) is accepted; see the module docstring."""
    if not np.isfinite(trial_loss):
        return False
    if trial_loss <= loss + ARMIJO_C1 * t * slope:
        return True
    return trial_loss <= loss + slack and trial_grad_max < grad_max


@jit
def is_separated(converged, margin_move, saturated):
    """The separation test of every unpenalised (l2 = 0) Newton fit.

    At a converged point: the Newton step p = −H⁻¹ ∇J (by ``factor_hessian``,
    shifted if H is singular, as when a duplicated column hides the
    separating direction) would still move some margin x̃_i·p of a
    positive-weight row by ``margin_move`` > SEPARATION_MARGIN_STEP although
    ∇J ≤ tol, so J falls towards an infimum at infinity (at a true minimiser
    p is O(tol)).  Otherwise (not converged): ``saturated``, every
    positive-weight row predicted with |margin| >
    ``kernels.pointwise.SATURATED_MARGIN`` on the side of its label.  A
    heuristic; statsmodels and Stata use similar ones.
    """
    if converged:
        return margin_move > SEPARATION_MARGIN_STEP
    return saturated
