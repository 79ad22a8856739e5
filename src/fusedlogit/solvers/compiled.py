"""The serial compiled Newton solver on transposed samples (``jit.newton_solve``, ``fit_many``).

It minimises the objective of ``fusedlogit.fit``, J = (1/S) Σ s_i ℓ_i +
(l2/2)||w||², S = Σ s_i, on T = X^T (d, n), so that every sweep over the
samples is a contiguous, vectorised loop (``kernels.transposed``).  One call
fits one problem in one thread, allocating O(k² + n) workspace;
``fit_groups``, ``fit_many``'s kernel, runs one per group inside ``prange``.  Its direction, line search and
separation test are ``newton_core``'s, as for ``fit(solver="newton")``.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._config import jit, pjit
from ..kernels.pointwise import curvature_from_tail, loss_from_tail, sigmoid_from_tail, tail_factor
from ..kernels.transposed import (
    BLOCK_ROWS,
    add_hessian,
    all_finite,
    all_saturated,
    data_sums,
    gather,
    gradient_weights,
    intercept_of,
    max_margin_move,
    symmetrise,
    transpose_rows,
    transposed_accumulate,
    weight_at,
)
from .newton_core import (
    MAX_BACKTRACKS,
    MAX_MARGIN_STEP,
    MAX_SHIFTS,
    armijo_accepts,
    factor_hessian,
    is_separated,
    max_abs,
    newton_step,
    rounding_slack,
    weighted_max_abs,
)

# status codes of ``newton_transposed``
CONVERGED = 0
MAX_ITER = 1  # iteration limit reached
STALLED = 2  # no step decreases J (rounding floor above tol)
SEPARATED = 3  # l2 = 0 and (quasi-)separable, or one class with an intercept (any l2): no finite minimiser
NO_WEIGHT = 4  # Σ s_i = 0 (or too small to divide by): J is undefined
NOT_FINITE = 5  # fit_many only: the group's rows of X hold NaN or inf (not fitted)


@jit
def _objective(coef, T, y, sample_weight, offset, l2, inv_s, grad, curvature, buf):
    """J = L/S + (l2/2)||w||² and ∇J at coef, T = X^T; grad overwritten, h into curvature."""
    d, n = T.shape
    grad[:] = 0.0
    loss = data_sums(coef, T, n, y, sample_weight, offset, grad, curvature, buf)
    penalty = 0.0
    for j in range(coef.shape[0]):
        grad[j] *= inv_s
        if j < d:
            penalty += coef[j] * coef[j]
            grad[j] += l2 * coef[j]
    return loss * inv_s + 0.5 * l2 * penalty


@jit
def _start_objective(b, T, y, sample_weight, mean, inv_s, grad, curvature, buf):
    """``_objective`` at the start w = 0, intercept b (0 without one): every z_i = b.

    With p = σ(b) the same for all samples and ȳ = ``mean`` (the weighted mean
    of y), J = softplus(b) − b·ȳ, ∂J/∂b = p − ȳ and h_i = s_i p(1 − p) need no
    pass over the data; ∇_w J = X^T r / S, r_i = s_i (p − y_i), takes one,
    without transcendentals.
    """
    d, n = T.shape
    tail = tail_factor(b)
    inv = 1.0 / (1.0 + tail)
    p = sigmoid_from_tail(b, tail, inv)
    p_curvature = curvature_from_tail(tail, inv)
    grad[:] = 0.0
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        for i in range(stop - start):
            s = weight_at(sample_weight, start + i)
            buf[i] = s * (p - y[start + i])  # r_i
            curvature[start + i] = s * p_curvature
        transposed_accumulate(T, start, buf[: stop - start], grad)
    for j in range(d):
        grad[j] *= inv_s
    if grad.shape[0] > d:
        grad[d] = p - mean
    return loss_from_tail(b, mean, tail, inv)


@jit
def _objective_hessian(T, curvature, l2, inv_s, hess):
    """∇²J = X̃^T diag(h) X̃ / S + l2·I (not on the intercept) into hess, full."""
    d, n = T.shape
    hess[:, :] = 0.0
    add_hessian(T, n, curvature, hess)
    for j in range(hess.shape[0]):
        for col in range(j, hess.shape[0]):
            hess[j, col] *= inv_s
        if j < d:
            hess[j, j] += l2
    symmetrise(hess)


@jit
def newton_transposed(T, y, sample_weight, offset, l2, coef_out, tol, max_iter):
    """Minimise J on T = X^T (d, n), C-contiguous; returns (n_iter, status, J at coef_out).

    sample_weight and offset are None or (n,).  Starts where ``fit`` starts (w = 0, b =
    logit of the weighted mean of y); Newton directions, Armijo steps and the
    separation test (l2 = 0) come from ``newton_core``.  status: CONVERGED,
    MAX_ITER, STALLED, SEPARATED or NO_WEIGHT; ``coef_out`` always ends finite
    (zeros for NO_WEIGHT).
    """
    d, n = T.shape
    k = coef_out.shape[0]
    coef_out[:] = 0.0
    total = 0.0
    weighted_y = 0.0
    for i in range(n):
        s = weight_at(sample_weight, i)
        total += s
        weighted_y += s * y[i]
    if not (total > 0.0 and np.isfinite(1.0 / total)):
        return 0, NO_WEIGHT, np.nan
    # The start of fit (``LogisticLoss.initial_coef``): w = 0 and b = logit(mean y), the intercept-only MLE.
    mean = weighted_y / total
    if k > d and 0.0 < mean < 1.0:
        coef_out[d] = np.log(mean / (1.0 - mean))
    inv_s = 1.0 / total

    grad = np.empty(k)
    hess = np.empty((k, k))
    trial = np.empty(k)
    trial_grad = np.empty(k)
    curvature = np.empty(n)
    trial_curvature = np.empty(n)
    direction = np.empty(k)
    factor = np.empty((k, k))
    scale = np.empty(k)
    buf = np.empty(BLOCK_ROWS)
    weights = np.empty(k)
    gradient_weights(T, sample_weight, inv_s, weights)

    # The Hessian is formed only for a Newton direction, from the h_i the
    # accepted point's objective stored: never for line-search trials or at
    # the converged point.
    if offset is None:
        loss = _start_objective(intercept_of(coef_out, d), T, y, sample_weight, mean, inv_s, grad, curvature, buf)
    else:  # the margins differ from row to row: a full pass
        loss = _objective(coef_out, T, y, sample_weight, offset, l2, inv_s, grad, curvature, buf)
    n_iter = 0
    status = MAX_ITER
    while True:
        grad_max = max_abs(grad)
        if grad_max <= tol and weighted_max_abs(grad, weights) <= tol:  # as LogisticLoss.converged
            status = CONVERGED
            break
        if n_iter >= max_iter:
            break
        _objective_hessian(T, curvature, l2, inv_s, hess)
        factored = factor_hessian(hess, factor, scale, MAX_SHIFTS)
        newton_step(factor, scale, factored, grad, direction)
        slope = 0.0
        for j in range(k):
            slope += grad[j] * direction[j]
        if not slope < 0.0:
            status = STALLED
            break
        slack = rounding_slack(loss)
        t = 1.0
        last = t
        accepted = False
        restarted = False
        trial_loss = loss
        while True:
            for _ in range(MAX_BACKTRACKS):
                for j in range(k):
                    trial[j] = coef_out[j] + t * direction[j]
                trial_loss = _objective(trial, T, y, sample_weight, offset, l2, inv_s, trial_grad, trial_curvature, buf)
                if armijo_accepts(trial_loss, max_abs(trial_grad), loss, grad_max, t, slope, slack):
                    accepted = True
                    break
                last = t
                t *= 0.5
            if accepted or restarted or not np.isfinite(trial_loss):
                break
            # ``common.armijo``'s restart (``MAX_MARGIN_STEP``): saturated rows make the direction huge
            move = max_margin_move(T, sample_weight, direction, buf)
            if not (np.isfinite(move) and last * move > MAX_MARGIN_STEP):
                break
            t = MAX_MARGIN_STEP / move
            restarted = True
        if not accepted:
            status = STALLED
            break
        coef_out[:] = trial
        grad[:] = trial_grad
        curvature, trial_curvature = trial_curvature, curvature
        loss = trial_loss
        n_iter += 1

    if k > d and not (0.0 < mean < 1.0):
        # Labels all 0 (or all 1): the unpenalised intercept has no finite optimum, whatever l2.
        return n_iter, SEPARATED, loss
    if l2 == 0.0 and status != NO_WEIGHT:
        # The separation test of ``newton_core``, as ``fit`` runs it.
        converged = status == CONVERGED
        move = 0.0
        if converged:
            _objective_hessian(T, curvature, l2, inv_s, hess)
            factored = factor_hessian(hess, factor, scale, MAX_SHIFTS)
            newton_step(factor, scale, factored, grad, direction)
            move = max_margin_move(T, sample_weight, direction, buf)
        saturated = not converged and all_saturated(T, y, sample_weight, offset, coef_out, buf)
        if is_separated(converged, move, saturated):
            status = SEPARATED
    return n_iter, status, loss


@pjit
def fit_groups(X, rows, y, sample_weight, offset, bounds, l2, tol, max_iter, coef, n_iter, status, loss):
    """``fit_many``'s kernel: group g is X[rows[bounds[g]:bounds[g+1]]], fitted into coef[g].

    ``rows=None`` means rows in order (group g is X[bounds[g]:bounds[g+1]]).
    One group per parallel task: its rows are gathered once, transposed, into
    a (d, m) array in the task's cache, checked for NaN/inf (status
    NOT_FINITE, not fitted, coef left as given) and fitted by the serial
    ``newton_transposed``; writes n_iter[g], status[g] and loss[g].  sample_weight and
    offset are None or (n,).
    """
    d = X.shape[1]
    for g in prange(bounds.shape[0] - 1):
        a = bounds[g]
        m = bounds[g + 1] - a
        T = np.empty((d, m), X.dtype)
        transpose_rows(X, rows, a, m, T)
        if not all_finite(T):
            n_iter[g], status[g], loss[g] = 0, NOT_FINITE, np.nan
        else:
            yg = np.empty(m, y.dtype)
            gather(y, rows, a, m, yg)
            sg = None if sample_weight is None else np.empty(m, sample_weight.dtype)
            if sg is not None:
                gather(sample_weight, rows, a, m, sg)
            og = None if offset is None else np.empty(m, offset.dtype)
            if og is not None:
                gather(offset, rows, a, m, og)
            n_iter[g], status[g], loss[g] = newton_transposed(T, yg, sg, og, l2, coef[g], tol, max_iter)
