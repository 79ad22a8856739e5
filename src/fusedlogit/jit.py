"""Numba-callable kernels: logistic regression inside your own compiled code.

Every function here is a serial Numba function (``nogil``, cached on disk,
compiled on first use): call it from your own ``@numba.njit`` code, also
inside ``prange`` (each call touches only the arrays passed to it).  Plain
Python can call them too.  They write into arrays you pass and allocate
nothing inside their loops: ``loss_gradient``/``hessian`` use O(d·512)
scratch per call; ``newton_fit`` makes one transposed copy of X (d × n,
X's dtype) plus O(d² + n) workspace per call, so that every sweep over the
samples is a contiguous, vectorised loop.

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
from ._kernels import (
    block_residuals,
    curvature_from_tail,
    gather,
    loss_from_tail,
    sample_curvature,
    sigmoid,
    sigmoid_from_tail,
    tail_factor,
    transpose_rows,
    transposed_accumulate,
    transposed_margins,
)

# The line search, the shifted Cholesky and the separation test use the constants of ``solvers.fit``.
from .solvers import ARMIJO_C1, MAX_BACKTRACKS, MAX_SHIFTS, SEPARATION_MARGIN_STEP

#: Samples per block: the block's margins, then residuals, are kept in a
#: small scratch array (512 covers a typical small fit in one block).
BLOCK_ROWS = 512

# newton_solve status codes
CONVERGED = 0
MAX_ITER = 1  # iteration limit reached
STALLED = 2  # no step decreases J (rounding floor above tol)
SEPARATED = 3  # l2 = 0 and (quasi-)separable or one class: no finite minimiser
NO_WEIGHT = 4  # Σ s_i = 0: J is undefined
NOT_FINITE = 5  # fit_groups only: the group's rows of X hold NaN or inf (not fitted)


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
def _data_sums(coef, T, m, y, sample_weight, grad, curvature, buf):
    """Add ∇L into ``grad``, write h_i = s_i p_i (1 − p_i) into ``curvature``; return L.

    The data are the first m columns of T = X^T, shape (d, ≥ m), C-contiguous,
    so that every sweep below is a contiguous, vectorised loop over samples.
    L = Σ s_i ℓ_i and ∇L = X̃^T r with r_i = s_i (p_i − y_i).
    ``curvature=None`` skips h; ``sample_weight`` is None or (≥ m,);
    ``buf`` is scratch of at least BLOCK_ROWS entries.  Per block of
    samples: margins z, then r and h from one e^{−|z|}, then X_b^T r.
    """
    d = T.shape[0]
    k = grad.shape[0]
    loss = 0.0
    for start in range(0, m, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, m)
        zb = buf[: stop - start]
        sb = None if sample_weight is None else sample_weight[start:stop]
        transposed_margins(T, start, stop, coef, _intercept(coef, d), zb)
        hb = None if curvature is None else curvature[start:stop]
        block_loss, r_sum = block_residuals(zb, y[start:stop], sb, True, hb)  # z → r in place
        loss += block_loss
        transposed_accumulate(T, start, zb, grad)
        if k > d:
            grad[d] += r_sum
    return loss


@jit
def _curvatures(coef, T, m, sample_weight, curvature, buf):
    """curvature[i] = h_i = s_i p_i (1 − p_i) for the first m columns of T = X^T."""
    d = T.shape[0]
    for start in range(0, m, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, m)
        transposed_margins(T, start, stop, coef, _intercept(coef, d), buf)
        for i in range(stop - start):
            curvature[start + i] = _weight(sample_weight, start + i) * sample_curvature(buf[i])


@jit
def _add_hessian(T, m, curvature, hess):
    """Add the upper triangle of X̃^T diag(h) X̃ into ``hess`` (k, k), h = ``curvature``.

    k = d + 1 (intercept) or d.  Per block of samples: the weighted Gram
    matrix Σ_i h_i x_i x_i^T of the features, then with an intercept its
    column X_b^T h and corner Σ_i h_i.
    """
    d = T.shape[0]
    k = hess.shape[0]
    for start in range(0, m, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, m)
        hb = curvature[start:stop]
        _add_weighted_gram(T, start, hb, hess)
        if k > d:
            transposed_accumulate(T, start, hb, hess[:d, d])
            total = 0.0
            for i in range(hb.shape[0]):
                total += hb[i]
            hess[d, d] += total


@jit
def _row_block_sums(coef, X, y, sample_weight, grad, hess):
    """``_data_sums`` (y given) or ``_add_hessian`` (y None) over X (n, d) in row blocks.

    Each block of rows of X is transposed into scratch first.
    """
    n, d = X.shape
    buf = np.empty(BLOCK_ROWS)
    T = np.empty((d, BLOCK_ROWS), X.dtype)
    curvature = np.empty(BLOCK_ROWS)
    loss = 0.0
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        sb = None if sample_weight is None else sample_weight[start:stop]
        transpose_rows(X, None, start, stop - start, T)
        if y is None:
            _curvatures(coef, T, stop - start, sb, curvature, buf)
            _add_hessian(T, stop - start, curvature, hess)
        else:
            loss += _data_sums(coef, T, stop - start, y[start:stop], sb, grad, None, buf)
    return loss


@jit
def _add_weighted_gram(T, start, h, out):
    """out[j, c] += Σ_i h_i T[j, start + i] T[c, start + i] for j ≤ c < d, i < len(h).

    The upper triangle of X_b^T diag(h) X_b, T = X^T (d, ≥ start + len(h)).
    Register tiles of two rows j, j + 1 by four columns: eight independent
    vectorised dot products that share each load, with h_i applied once to
    each of the two rows.  A tile may also add to out[j + 1, j], below the
    diagonal, which the callers overwrite (``_symmetrise``).
    """
    d = T.shape[0]
    stop = start + h.shape[0]
    for j in range(0, d, 2):
        a0 = T[j, start:stop]
        a1 = T[min(j + 1, d - 1), start:stop]  # odd d: the last row is paired with itself
        col = j
        while col < d:
            width = min(4, d - col)
            c0 = T[col, start:stop]
            c1 = T[col + min(1, width - 1), start:stop]  # narrow last tile: repeat a column
            c2 = T[col + min(2, width - 1), start:stop]
            c3 = T[col + min(3, width - 1), start:stop]
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            t0 = 0.0
            t1 = 0.0
            t2 = 0.0
            t3 = 0.0
            for i in range(h.shape[0]):
                x = h[i] * a0[i]
                u = h[i] * a1[i]
                s0 += x * c0[i]
                s1 += x * c1[i]
                s2 += x * c2[i]
                s3 += x * c3[i]
                t0 += u * c0[i]
                t1 += u * c1[i]
                t2 += u * c2[i]
                t3 += u * c3[i]
            sums = (s0, s1, s2, s3)
            pair = (t0, t1, t2, t3)
            for c in range(width):
                out[j, col + c] += sums[c]
                if j + 1 < d:
                    out[j + 1, col + c] += pair[c]
            col += 4


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
    if _unweighted(sample_weight):
        return _row_block_sums(coef, X, y, None, grad_out, np.empty((0, 0)))
    return _row_block_sums(coef, X, y, sample_weight, grad_out, np.empty((0, 0)))


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
    if _unweighted(sample_weight):
        _row_block_sums(coef, X, None, None, np.empty(0), hess_out)
    else:
        _row_block_sums(coef, X, None, sample_weight, np.empty(0), hess_out)
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
def _objective(coef, T, y, sample_weight, l2, inv_s, grad, curvature, buf):
    """J = L/S + (l2/2)||w||² and ∇J at coef, T = X^T; grad overwritten, h into curvature."""
    d, n = T.shape
    grad[:] = 0.0
    loss = _data_sums(coef, T, n, y, sample_weight, grad, curvature, buf)
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
            s = _weight(sample_weight, start + i)
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
    _add_hessian(T, n, curvature, hess)
    for j in range(hess.shape[0]):
        for col in range(j, hess.shape[0]):
            hess[j, col] *= inv_s
        if j < d:
            hess[j, j] += l2
    _symmetrise(hess)


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
def _max_margin_move(T, sample_weight, step, buf):
    """max_i |x̃_i·step| over the samples (columns of T = X^T) with positive weight."""
    n = T.shape[1]
    largest = 0.0
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        transposed_margins(T, start, stop, step, _intercept(step, T.shape[0]), buf)
        for i in range(stop - start):
            if _weight(sample_weight, start + i) > 0.0:
                largest = max(largest, abs(buf[i]))
    return largest


@jit
def newton_solve(X, y, sample_weight, l2, coef_out, tol, max_iter):
    """Minimise J; returns (n_iter, status, J at coef_out). See ``newton_fit``.

    status: CONVERGED, MAX_ITER, STALLED, SEPARATED or NO_WEIGHT (module
    constants).  ``coef_out`` always ends finite (zeros for NO_WEIGHT).
    """
    _check_shapes(coef_out, X, y, sample_weight)
    n, d = X.shape
    T = np.empty((d, n), X.dtype)
    transpose_rows(X, None, 0, n, T)
    if _unweighted(sample_weight):
        return _newton(T, y, None, l2, coef_out, tol, max_iter)
    return _newton(T, y, sample_weight, l2, coef_out, tol, max_iter)


@jit
def _newton(T, y, sample_weight, l2, coef_out, tol, max_iter):
    """``newton_solve`` on T = X^T (d, n), C-contiguous; sample_weight None or (n,)."""
    d, n = T.shape
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
    curvature = np.empty(n)
    trial_curvature = np.empty(n)
    direction = np.empty(k)
    factor = np.empty((k, k))
    scale = np.empty(k)
    buf = np.empty(BLOCK_ROWS)
    eps = np.finfo(np.float64).eps

    # The Hessian is formed only for a Newton direction, from the h_i the
    # accepted point's objective stored: never for line-search trials or at
    # the converged point.
    loss = _start_objective(_intercept(coef_out, d), T, y, sample_weight, mean, inv_s, grad, curvature, buf)
    n_iter = 0
    status = MAX_ITER
    while True:
        grad_max = _max_abs(grad)
        if grad_max <= tol:
            status = CONVERGED
            break
        if n_iter >= max_iter:
            break
        _objective_hessian(T, curvature, l2, inv_s, hess)
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
            trial_loss = _objective(trial, T, y, sample_weight, l2, inv_s, trial_grad, trial_curvature, buf)
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
        curvature, trial_curvature = trial_curvature, curvature
        loss = trial_loss
        n_iter += 1

    if status == CONVERGED and l2 == 0.0:
        # At a true minimiser the Newton step is O(tol); a step that would
        # still move a margin by O(1) means J falls towards an infimum at
        # infinity (separable classes, or one class only).
        _objective_hessian(T, curvature, l2, inv_s, hess)
        _newton_direction(hess, grad, factor, scale, direction)
        if _max_margin_move(T, sample_weight, direction, buf) > SEPARATION_MARGIN_STEP:
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


@jit
def counting_order(labels, low, n_keys, order):
    """Stable counting sort: fills ``order`` (n,) with the i sorted by labels[i]; returns counts.

    labels : (n,) integers with key labels[i] − low in [0, n_keys) (``low`` of
    a type that holds every label: int64, or uint64 for unsigned labels);
    counts : (n_keys,) int64, how many labels have each key.  Linear time;
    ``fit_many`` uses it for labels of small span.
    """
    counts = np.zeros(n_keys, np.int64)
    for i in range(labels.shape[0]):
        counts[labels[i] - low] += 1
    next_slot = np.empty(n_keys, np.int64)
    total = 0
    for key in range(n_keys):
        next_slot[key] = total
        total += counts[key]
    for i in range(labels.shape[0]):
        key = labels[i] - low
        order[next_slot[key]] = i
        next_slot[key] += 1
    return counts


@jit
def _all_finite(T):
    """True if no entry of T is NaN or ±inf (x·0 is NaN exactly for those)."""
    total = 0.0
    for j in range(T.shape[0]):
        row = T[j]
        for i in range(row.shape[0]):
            total += row[i] * 0.0
    return total == 0.0


@pjit
def fit_groups(X, rows, y, sample_weight, offsets, l2, tol, max_iter, coef, n_iter, status, loss):
    """``fit_many``'s kernel: group g is X[rows[offsets[g]:offsets[g+1]]], fitted into coef[g].

    ``rows=None`` means rows in order (group g is X[offsets[g]:offsets[g+1]]).
    One group per parallel task: its rows are gathered once, transposed, into
    a (d, m) array in the task's cache, checked for NaN/inf (status
    NOT_FINITE, not fitted, coef left as given) and fitted by the serial
    ``_newton``; writes n_iter[g], status[g] and loss[g].  sample_weight is
    None or (n,).
    """
    d = X.shape[1]
    for g in prange(offsets.shape[0] - 1):
        a = offsets[g]
        m = offsets[g + 1] - a
        T = np.empty((d, m), X.dtype)
        transpose_rows(X, rows, a, m, T)
        if not _all_finite(T):
            n_iter[g], status[g], loss[g] = 0, NOT_FINITE, np.nan
        else:
            yg = np.empty(m, y.dtype)
            gather(y, rows, a, m, yg)
            sg = None if sample_weight is None else np.empty(m, sample_weight.dtype)
            if sg is not None:
                gather(sample_weight, rows, a, m, sg)
            n_iter[g], status[g], loss[g] = _newton(T, yg, sg, l2, coef[g], tol, max_iter)
