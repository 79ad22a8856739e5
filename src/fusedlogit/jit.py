"""Numba-callable kernels: logistic regression inside your own compiled code.

Every function here is a serial Numba function (``nogil``, cached on disk,
compiled on first use): call it from your own ``@numba.njit`` code, also
inside ``prange`` (each call touches only the arrays passed to it).  Plain
Python can call them too.  They write into arrays you pass and allocate
nothing per row: ``loss_gradient``/``hessian`` use one (d + 3) × 64 scratch
block per call, ``newton_fit`` O(d²) workspace once per call.

Conventions, those of ``LogisticLoss``:

- ``X``: (n, d) float32 or float64, best C-contiguous; ``y``: (n,) in [0, 1].
- ``coef``: [w_1..w_d] or [w_1..w_d, b].  The intercept is used (and fitted)
  exactly when ``len(coef) == d + 1``; it is last and never penalised.
- ``sample_weight``: (n,) non-negative, or ``None``, or an empty array
  (``np.empty(0)``); both of the last two mean all ones.  The empty array
  lets compiled code keep one array type whether or not it has weights.

With z_i = x_i·w + b, ℓ_i = softplus(z_i) − y_i z_i, p_i = σ(z_i), the data
term and its derivatives are the *sums* (``reduction="sum"``, no penalty)::

    L(coef) = Σ s_i ℓ_i,   ∇L = X̃^T (s ⊙ (p − y)),   ∇²L = X̃^T diag(s ⊙ p(1−p)) X̃

where X̃ is X with a column of ones when there is an intercept.
``newton_fit`` minimises the objective of ``fusedlogit.fit`` instead,
J = L / Σ s_i + (l2/2)||w||², so the two give the same answer.

Only shapes are checked (``ValueError``); values are trusted: X and coef
finite, y in [0, 1], weights ≥ 0 (``fit_many`` validates for you).
"""

from __future__ import annotations

import numpy as np

from numba import prange

from ._config import jit, pjit
from ._kernels import block_accumulate, block_margins, block_residuals, sample_curvature, sigmoid
# The line search and the separation test use the same constants as ``solvers.fit``.
from .solvers import ARMIJO_C1, MAX_BACKTRACKS, SEPARATION_MARGIN_STEP

#: Rows per block: margins, residuals and weighted rows of a block are kept
#: in a small scratch array so each sweep is a vectorisable loop.
BLOCK_ROWS = 128

#: Shifted Cholesky: at most this many shifts τ (1e-10, ×10 each) are tried.
MAX_SHIFTS = 20

# newton_solve status codes
CONVERGED = 0
MAX_ITER = 1  # iteration limit reached
STALLED = 2  # no step decreases J (rounding floor above tol)
SEPARATED = 3  # l2 = 0 and (quasi-)separable or one class: no finite minimiser
NO_WEIGHT = 4  # Σ s_i = 0: J is undefined


# -- helpers ----------------------------------------------------------------------


@jit
def _unweighted(sample_weight):
    """True for None or an empty array; the kernels below then get None."""
    if sample_weight is None:
        return True
    return sample_weight.shape[0] == 0


@jit
def _weight(sample_weight, i):
    return 1.0 if sample_weight is None else float(sample_weight[i])


@jit
def _check_shapes(coef, X, y, sample_weight):
    n, d = X.shape
    if coef.shape[0] != d and coef.shape[0] != d + 1:
        raise ValueError("coef must have n_features or n_features + 1 (intercept last) entries")
    if y is not None:  # separate ifs: Numba prunes `x is None` tests only alone
        if y.shape[0] != n:
            raise ValueError("y must have one entry per row of X")
    if sample_weight is not None:
        if sample_weight.shape[0] != 0 and sample_weight.shape[0] != n:
            raise ValueError("sample_weight must be empty or have one entry per row of X")


@jit
def _intercept(coef, d):
    return coef[d] if coef.shape[0] > d else 0.0


@jit
def _data_sums(coef, X, y, sample_weight, grad, hess, work):
    """Add the sums ∇L into ``grad`` and the upper triangle of ∇²L into ``hess``.

    Returns L = Σ s_i ℓ_i.  ``y=None`` skips L and ∇L (Hessian only); an
    empty ``grad`` or (0, 0) ``hess`` skips that term; ``sample_weight`` is
    None or (n,).  ``work`` is scratch of shape (k + 2, BLOCK_ROWS) with
    k = len(coef) (2 rows suffice without Hessian).  Per block of rows:
    margins z, then h_i = s_i p_i (1 − p_i) and r_i = s_i (p_i − y_i), then
    X_b^T r, then the rows scaled by √h_i, stored transposed so that each
    Hessian entry is one contiguous dot product.  Every sweep works on views
    of the block indexed from 0, which LLVM vectorises (absolute row
    indices would make it emit wraparound checks instead).
    """
    n, d = X.shape
    k = coef.shape[0]
    w = coef[:d]
    b = _intercept(coef, d)
    want_hess = hess.shape[0] > 0
    zbuf = work[work.shape[0] - 2]
    hbuf = work[work.shape[0] - 1]
    loss = 0.0
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        m = stop - start
        Xb = X[start:stop]
        sb = None if sample_weight is None else sample_weight[start:stop]
        block_margins(Xb, w, b, zbuf)
        if want_hess:
            for i in range(m):
                s = 1.0 if sb is None else sb[i]
                hbuf[i] = s * sample_curvature(zbuf[i])
        if y is not None:
            block_loss, r_sum = block_residuals(zbuf, y[start:stop], sb, True)  # z → r in place
            loss += block_loss
            if grad.shape[0] > 0:
                block_accumulate(Xb, zbuf, grad)
                if k > d:
                    grad[d] += r_sum
        if want_hess:
            for i in range(m):
                root = np.sqrt(hbuf[i])
                for j in range(d):
                    work[j, i] = root * Xb[i, j]
                if k > d:
                    work[d, i] = root
            _add_gram(work, k, m, hess)
    return loss


@jit
def _add_gram(A, k, m, out):
    """out[j, c] += Σ_i A[j, i] A[c, i] for j ≤ c < k, i < m (upper triangle).

    Four columns c at a time share each load of A[j, i]: four independent
    vectorised dot products, about 3× faster than one at a time.
    """
    for j in range(k):
        aj = A[j, :m]
        col = j
        while col + 4 <= k:
            a0 = A[col, :m]
            a1 = A[col + 1, :m]
            a2 = A[col + 2, :m]
            a3 = A[col + 3, :m]
            t0 = 0.0
            t1 = 0.0
            t2 = 0.0
            t3 = 0.0
            for i in range(m):
                x = aj[i]
                t0 += x * a0[i]
                t1 += x * a1[i]
                t2 += x * a2[i]
                t3 += x * a3[i]
            out[j, col] += t0
            out[j, col + 1] += t1
            out[j, col + 2] += t2
            out[j, col + 3] += t3
            col += 4
        for c in range(col, k):
            ac = A[c, :m]
            total = 0.0
            for i in range(m):
                total += aj[i] * ac[i]
            out[j, c] += total


@jit
def _symmetrise(hess):
    k = hess.shape[0]
    for j in range(k):
        for col in range(j + 1, k):
            hess[col, j] = hess[j, col]


# -- the public kernels ---------------------------------------------------------


@jit
def loss_gradient(coef, X, y, sample_weight, grad_out):
    """L = Σ s_i ℓ_i (returned) and ∇L written into ``grad_out``, in one pass.

    coef : (k,) float64, k = d (no intercept) or d + 1 (intercept last)
    X : (n, d); y : (n,); sample_weight : (n,), None or empty (= ones)
    grad_out : (k,) float64, overwritten with X̃^T (s ⊙ (p − y))

    Equals ``LogisticLoss(X, y, reduction="sum", l2=0, ...).loss_gradient``.
    """
    _check_shapes(coef, X, y, sample_weight)
    if grad_out.shape[0] != coef.shape[0]:
        raise ValueError("grad_out must have the length of coef")
    grad_out[:] = 0.0
    work = np.empty((2, BLOCK_ROWS))
    if _unweighted(sample_weight):
        return _data_sums(coef, X, y, None, grad_out, np.empty((0, 0)), work)
    return _data_sums(coef, X, y, sample_weight, grad_out, np.empty((0, 0)), work)


@jit
def hessian(coef, X, sample_weight, hess_out):
    """∇²L = X̃^T diag(s ⊙ p(1−p)) X̃ written into ``hess_out`` (k, k), symmetric.

    coef : (k,) float64, k = d or d + 1 (intercept last)
    X : (n, d); sample_weight : (n,), None or empty (= ones)
    hess_out : (k, k) float64, overwritten

    The Hessian does not depend on y, hence no y argument.  Equals
    ``LogisticLoss(X, y, reduction="sum", l2=0, ...).hessian``.
    """
    _check_shapes(coef, X, None, sample_weight)
    k = coef.shape[0]
    if hess_out.shape[0] != k or hess_out.shape[1] != k:
        raise ValueError("hess_out must have shape (len(coef), len(coef))")
    hess_out[:, :] = 0.0
    work = np.empty((k + 2, BLOCK_ROWS))
    if _unweighted(sample_weight):
        _data_sums(coef, X, None, None, np.empty(0), hess_out, work)
    else:
        _data_sums(coef, X, None, sample_weight, np.empty(0), hess_out, work)
    _symmetrise(hess_out)


@jit
def predict_proba(coef, X, out):
    """out_i = σ(x_i·w + b), P(y = 1 | x_i); returns ``out`` ((n,) float64)."""
    _check_shapes(coef, X, None, None)
    n, d = X.shape
    if out.shape[0] != n:
        raise ValueError("out must have one entry per row of X")
    b = _intercept(coef, d)
    for i in range(n):
        z = b
        for j in range(d):
            z += X[i, j] * coef[j]
        out[i] = sigmoid(z)
    return out


# -- Newton's method ------------------------------------------------------------


@jit
def _objective(coef, X, y, sample_weight, l2, inv_s, grad, hess, work):
    """J = L/S + (l2/2)||w||², ∇J and ∇²J (full) at coef; grad and hess overwritten."""
    d = X.shape[1]
    k = coef.shape[0]
    grad[:] = 0.0
    hess[:, :] = 0.0
    loss = _data_sums(coef, X, y, sample_weight, grad, hess, work)
    for j in range(k):
        grad[j] *= inv_s
        for col in range(j, k):
            hess[j, col] *= inv_s
    _symmetrise(hess)
    penalty = 0.0
    for j in range(d):
        penalty += coef[j] * coef[j]
        grad[j] += l2 * coef[j]
        hess[j, j] += l2
    return loss * inv_s + 0.5 * l2 * penalty


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
def _newton_direction(hess, grad, factor, scale, out):
    """out = −H⁻¹ ∇J by Cholesky of the equilibrated H (D = diag H), shifted if needed.

    Equilibration removes the column-scale part of the conditioning of
    unscaled data; if the result is not numerically positive definite a shift
    τ·I (τ from 1e-10, ×10 per failure) is added (Nocedal & Wright, Alg. 3.3).
    If even that fails (never seen for finite H) out = −∇J.
    """
    k = grad.shape[0]
    for j in range(k):
        scale[j] = 1.0 / np.sqrt(hess[j, j]) if hess[j, j] > 0.0 else 1.0
    shift = 0.0
    for _ in range(MAX_SHIFTS):
        if _cholesky(hess, scale, shift, factor):
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
            return
        shift = max(1e-10, 10.0 * shift)
    for i in range(k):
        out[i] = -grad[i]


@jit
def _max_abs(a):
    largest = 0.0
    for j in range(a.shape[0]):
        largest = max(largest, abs(a[j]))
    return largest


@jit
def _max_margin_move(X, sample_weight, step):
    """max_i |x̃_i·step| over the rows with positive weight."""
    n, d = X.shape
    b = _intercept(step, d)
    largest = 0.0
    for i in range(n):
        if _weight(sample_weight, i) > 0.0:
            u = b
            for j in range(d):
                u += X[i, j] * step[j]
            largest = max(largest, abs(u))
    return largest


@jit
def newton_solve(X, y, sample_weight, l2, coef_out, tol, max_iter):
    """Minimise J; returns (n_iter, status, J at coef_out). See ``newton_fit``.

    status: CONVERGED, MAX_ITER, STALLED, SEPARATED or NO_WEIGHT (module
    constants).  ``coef_out`` always ends finite (zeros for NO_WEIGHT).
    """
    _check_shapes(coef_out, X, y, sample_weight)
    if _unweighted(sample_weight):
        return _newton(X, y, None, l2, coef_out, tol, max_iter)
    return _newton(X, y, sample_weight, l2, coef_out, tol, max_iter)


@jit
def _newton(X, y, sample_weight, l2, coef_out, tol, max_iter):
    """``newton_solve`` for checked shapes and sample_weight None or (n,)."""
    n, d = X.shape
    k = coef_out.shape[0]
    coef_out[:] = 0.0
    total = 0.0
    weighted_y = 0.0
    for i in range(n):
        s = _weight(sample_weight, i)
        total += s
        weighted_y += s * y[i]
    if not total > 0.0:
        return 0, NO_WEIGHT, np.nan
    # Start of solvers.fit: w = 0 and b = logit(mean y), the intercept-only MLE.
    mean = weighted_y / total
    if k > d and 0.0 < mean < 1.0:
        coef_out[d] = np.log(mean / (1.0 - mean))
    inv_s = 1.0 / total

    grad = np.empty(k)
    hess = np.empty((k, k))
    trial = np.empty(k)
    trial_grad = np.empty(k)
    trial_hess = np.empty((k, k))
    direction = np.empty(k)
    factor = np.empty((k, k))
    scale = np.empty(k)
    work = np.empty((k + 2, BLOCK_ROWS))
    eps = np.finfo(np.float64).eps

    loss = _objective(coef_out, X, y, sample_weight, l2, inv_s, grad, hess, work)
    n_iter = 0
    status = MAX_ITER
    while True:
        grad_max = _max_abs(grad)
        if grad_max <= tol:
            status = CONVERGED
            break
        if n_iter >= max_iter:
            break
        _newton_direction(hess, grad, factor, scale, direction)
        slope = 0.0
        for j in range(k):
            slope += grad[j] * direction[j]
        if not slope < 0.0:
            status = STALLED
            break
        # Armijo backtracking (Nocedal & Wright, Alg. 3.1).  Near the optimum
        # the decrease can fall below J's rounding; a step that keeps J within
        # a few ulps and shrinks max|∇J| is accepted too (as solvers._armijo).
        rounding = 64.0 * eps * max(1.0, abs(loss))
        t = 1.0
        accepted = False
        trial_loss = loss
        for _ in range(MAX_BACKTRACKS):
            for j in range(k):
                trial[j] = coef_out[j] + t * direction[j]
            trial_loss = _objective(trial, X, y, sample_weight, l2, inv_s, trial_grad, trial_hess, work)
            if np.isfinite(trial_loss):
                if trial_loss <= loss + ARMIJO_C1 * t * slope:
                    accepted = True
                    break
                if trial_loss <= loss + rounding and _max_abs(trial_grad) < grad_max:
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            status = STALLED
            break
        coef_out[:] = trial
        grad[:] = trial_grad
        hess[:, :] = trial_hess
        loss = trial_loss
        n_iter += 1

    if status == CONVERGED and l2 == 0.0:
        # At a true minimiser the Newton step is O(tol); a step that would
        # still move a margin by O(1) means J falls towards an infimum at
        # infinity (separable classes, or one class only).
        _newton_direction(hess, grad, factor, scale, direction)
        if _max_margin_move(X, sample_weight, direction) > SEPARATION_MARGIN_STEP:
            status = SEPARATED
    return n_iter, status, loss


@jit
def newton_fit(X, y, sample_weight, l2, coef_out, tol, max_iter):
    """Fit by damped Newton; returns (n_iter, converged).

    Minimises J(coef) = (1/S) Σ s_i ℓ_i + (l2/2)||w||², S = Σ s_i, the
    objective of ``fusedlogit.fit``, from fit's start (w = 0, b = logit of
    the weighted mean of y): Newton steps p = −H⁻¹∇J by an equilibrated
    Cholesky of the (k, k) Hessian, Armijo backtracking, until
    max|∇J| ≤ tol.  The result agrees with ``fusedlogit.fit`` to the
    tolerance.

    X : (n, d); y : (n,); sample_weight : (n,), None or empty (= ones)
    l2 : float ≥ 0, ridge strength on w (not the intercept)
    coef_out : (k,) float64, k = d or d + 1 (fit an intercept, last); its
        content on entry is ignored; on return the solution (always finite)
    tol : float > 0; max_iter : int, Newton iterations allowed

    ``converged`` is False when the iteration limit was reached, when no step
    decreased J, when Σ s_i = 0 (coef_out is then zeros), and when l2 = 0
    and the classes are (quasi-)separable or only one class is present (no
    finite minimiser: the returned coef is finite but arbitrary in the
    separating direction).  ``newton_solve`` tells these cases apart.
    """
    n_iter, status, _ = newton_solve(X, y, sample_weight, l2, coef_out, tol, max_iter)
    return n_iter, status == CONVERGED


@pjit
def fit_groups(X, y, sample_weight, offsets, l2, tol, max_iter, coef, n_iter, status, loss):
    """``fit_many``'s kernel: group g is rows offsets[g]:offsets[g+1], fitted into coef[g].

    One group per parallel task, each by the serial ``_newton``; writes
    n_iter[g], status[g] and loss[g].  sample_weight is None or (n,).
    """
    for g in prange(offsets.shape[0] - 1):
        a = offsets[g]
        b = offsets[g + 1]
        sw = None if sample_weight is None else sample_weight[a:b]
        n_iter[g], status[g], loss[g] = _newton(X[a:b], y[a:b], sw, l2, coef[g], tol, max_iter)
