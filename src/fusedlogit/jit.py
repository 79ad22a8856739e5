"""Numba-callable kernels: logistic regression inside your own compiled code.

Every function here is a serial Numba function (``nogil``, cached on disk,
compiled on first use): call it from your own ``@numba.njit`` code, also
inside ``prange`` (each call touches only the arrays passed to it).  Plain
Python can call them too.  Shapes are checked (``ValueError``), but an
exception raised inside a caller's ``prange`` loop cannot leave it (Numba
loses it or turns it into ``SystemError``): check shapes before such a loop
(the README shows the pattern).  They write into arrays you pass and allocate
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

from ._config import jit
from .kernels import ordinal as _ordinal
from .kernels.pointwise import sigmoid
from .kernels.softmax import dense_row_margins, softmax_probabilities
from .kernels.transposed import intercept_of, row_block_sums, symmetrise, transpose_rows
from .solvers.compiled import (  # noqa: F401  (newton_solve's status codes, public here)
    CONVERGED,
    MAX_ITER,
    NO_WEIGHT,
    SEPARATED,
    STALLED,
    newton_transposed,
)


# -- helpers ----------------------------------------------------------------------


@jit
def _unweighted(sample_weight):
    """True for None or an empty array; the kernels below then get None."""
    if sample_weight is None:
        return True
    return sample_weight.shape[0] == 0


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
        return row_block_sums(coef, X, y, None, grad_out, np.empty((0, 0)))
    return row_block_sums(coef, X, y, sample_weight, grad_out, np.empty((0, 0)))


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
        row_block_sums(coef, X, None, None, np.empty(0), hess_out)
    else:
        row_block_sums(coef, X, None, sample_weight, np.empty(0), hess_out)
    symmetrise(hess_out)


@jit
def predict_proba(coef, X, out):
    """out_i = σ(x_i·w + b), P(y = 1 | x_i); returns ``out`` ((n,) float64)."""
    _check_shapes(coef, X, None, None)
    n, d = X.shape
    if out.shape[0] != n:
        raise ValueError("out must have one entry per row of X")
    b = intercept_of(coef, d)
    for i in range(n):
        z = b
        for j in range(d):
            z += X[i, j] * coef[j]
        out[i] = sigmoid(z)
    return out


@jit
def multinomial_loss_gradient(coef, X, y, sample_weight, grad_out):
    """Softmax L = Σ s_i ℓ_i (returned) and ∇L written into ``grad_out``, in one pass.

    coef : (K, d) or (K, d + 1) float64, row k = [w_k..., b_k] (intercept last)
    X : (n, d); y : (n,) integer labels 0..K−1, int or float array
    sample_weight : (n,), None or empty (= ones)
    grad_out : coef's shape, float64, overwritten with Σ_i s_i (p_ik − Y_ik) x̃_i

    ℓ_i = logsumexp_k(z_ik) − z_{i,y_i}, max-shifted (exact for any margin).
    Equals ``MultinomialLoss(X, y, reduction="sum", l2=0, ...).loss_gradient``
    in the (K, width) layout.  A label outside 0..K−1 raises ValueError.
    """
    n, d = X.shape
    K = coef.shape[0]
    if coef.shape[1] != d and coef.shape[1] != d + 1:
        raise ValueError("coef must have shape (K, n_features) or (K, n_features + 1) (intercept last)")
    if grad_out.shape[0] != K or grad_out.shape[1] != coef.shape[1]:
        raise ValueError("grad_out must have the shape of coef")
    _check_shapes(coef[0], X, y, sample_weight)
    grad_out[:, :] = 0.0
    if _unweighted(sample_weight):
        return _multinomial_sums(coef, X, y, None, grad_out)
    return _multinomial_sums(coef, X, y, sample_weight, grad_out)


@jit
def _multinomial_sums(coef, X, y, sample_weight, grad_out):
    """``multinomial_loss_gradient`` after its checks (sample_weight None or (n,))."""
    n, d = X.shape
    K = coef.shape[0]
    fit_b = coef.shape[1] == d + 1
    W = coef[:, :d]
    b = coef[:, d].copy() if fit_b else np.zeros(K)
    z = np.empty(K)
    loss = 0.0
    for i in range(n):
        label = int(y[i])
        if label < 0 or label >= K or label != y[i]:
            raise ValueError("y must hold integer labels 0..K-1")
        x = X[i]
        dense_row_margins(x, W, b, z)
        s = 1.0 if sample_weight is None else sample_weight[i]
        label_margin = z[label]
        loss += s * (softmax_probabilities(z) - label_margin)
        z[label] -= 1.0
        for k in range(K):
            r = s * z[k]
            for j in range(d):
                grad_out[k, j] += r * x[j]
            if fit_b:
                grad_out[k, d] += r
    return loss


@jit
def ordinal_loss_gradient(coef, X, y, sample_weight, grad_out):
    """Proportional-odds L = Σ s_i ℓ_i (returned) and ∇L written into ``grad_out``, in one pass.

    coef : (d + K − 1,) float64, [w_1..w_d, θ_0..θ_{K−2}], the thresholds strictly increasing
    X : (n, d); y : (n,) integer levels 0..K−1, int or float array
    sample_weight : (n,), None or empty (= ones)
    grad_out : (d + K − 1,) float64, overwritten with ∇L

    P(y ≤ k | x) = σ(θ_k − x·w), ℓ_i = −log P(y_i | x_i) (``kernels.ordinal``).
    Equals ``OrdinalLoss(X, y, reduction="sum", l2=0, ...).loss_gradient``.
    Thresholds that do not increase give L = inf and a NaN gradient; a
    level outside 0..K−1 raises ValueError.
    """
    n, d = X.shape
    if coef.shape[0] < d + 1:
        raise ValueError("coef must have n_features + K - 1 entries (w, then the K - 1 thresholds)")
    if grad_out.shape[0] != coef.shape[0]:
        raise ValueError("grad_out must have the shape of coef")
    _check_shapes(coef[: d + 1], X, y, sample_weight)
    if _unweighted(sample_weight):
        return _ordinal_sums(coef, X, y, None, grad_out)
    return _ordinal_sums(coef, X, y, sample_weight, grad_out)


@jit
def _ordinal_sums(coef, X, y, sample_weight, grad_out):
    """``ordinal_loss_gradient`` after its checks (sample_weight None or (n,)): blocks of rows through the
    fused kernels' own per-row formulas (``kernels.ordinal.block_level_residuals``)."""
    n, d = X.shape
    w = coef[:d]
    theta = coef[d:]
    last = theta.shape[0]
    for t in range(1, last):
        if not theta[t] > theta[t - 1]:
            grad_out[:] = np.nan
            return np.inf
    table = _ordinal.level_table(theta, np.empty(0))
    grad_out[:] = 0.0
    levels = np.zeros(last + 2)
    block = 256
    margins = np.empty(block)
    codes = np.empty(block, np.int64)
    scratch = np.empty((6, block))
    loss = 0.0
    for start in range(0, n, block):
        m = min(n, start + block) - start
        for i in range(m):
            k = int(y[start + i])
            if k < 0 or k > last or k != y[start + i]:
                raise ValueError("y must hold integer levels 0..K-1")
            codes[i] = k
            eta = 0.0
            for j in range(d):
                eta += X[start + i, j] * w[j]
            margins[i] = eta
        sb = None if sample_weight is None else sample_weight[start : start + m]
        loss += _ordinal.block_level_residuals(margins[:m], codes[:m], sb, None, table, True, scratch, levels)
        for i in range(m):
            r = margins[i]
            for j in range(d):
                grad_out[j] += r * X[start + i, j]
    grad_out[d:] = levels[1 : last + 1]
    return loss


# -- Newton's method ------------------------------------------------------------


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
        return newton_transposed(T, y, None, None, l2, coef_out, tol, max_iter)
    return newton_transposed(T, y, sample_weight, None, l2, coef_out, tol, max_iter)


@jit
def newton_fit(X, y, sample_weight, l2, coef_out, tol, max_iter):
    """Fit by damped Newton; returns (n_iter, converged).

    Minimises J(coef) = (1/S) Σ s_i ℓ_i + (l2/2)||w||², S = Σ s_i, the
    objective of ``fusedlogit.fit``, from fit's start (w = 0, b = logit of
    the weighted mean of y): Newton steps p = −H⁻¹∇J by an equilibrated
    Cholesky of the (k, k) Hessian, Armijo backtracking, until
    fit's convergence test holds (max|∇J| ≤ tol, stricter on columns of small
    scale; ``LogisticLoss.converged``).  The result agrees with ``fusedlogit.fit`` to the
    tolerance.

    X : (n, d); y : (n,); sample_weight : (n,), None or empty (= ones)
    l2 : float ≥ 0, ridge strength on w (not the intercept)
    coef_out : (k,) float64, k = d or d + 1 (fit an intercept, last); its
        content on entry is ignored; on return the solution (always finite)
    tol : float > 0; max_iter : int, Newton iterations allowed

    ``converged`` is False when the iteration limit was reached, when no step
    decreased J, when Σ s_i = 0 (coef_out is then zeros), when l2 = 0 and
    the classes are (quasi-)separable, and when an intercept is fitted and
    only one class is present, whatever l2 (the intercept is not penalised)
    (no finite minimiser: the returned coef is finite but arbitrary in the
    separating direction).  ``newton_solve`` tells these cases apart.
    """
    n_iter, status, _ = newton_solve(X, y, sample_weight, l2, coef_out, tol, max_iter)
    return n_iter, status == CONVERGED


@jit
def counting_order(labels, low, n_keys, order):
    """Stable counting sort: fills ``order`` (n,) with the i sorted by labels[i]; returns counts.

    labels : (n,) integers with key labels[i] − low in [0, n_keys) (``low`` of
    a type that holds every label: int64, or uint64 for unsigned labels);
    order : (n,) int64, overwritten; counts : (n_keys,) int64, how many labels
    have each key.  Linear time; ``fit_many`` uses it for labels of small
    span.  Raises ValueError if ``order`` is not (n,), ``n_keys`` < 0 or a
    label lies outside [low, low + n_keys) (nothing is written then).
    """
    n = labels.shape[0]
    if order.shape[0] != n:
        raise ValueError("order must have one entry per label")
    if n_keys < 0:
        raise ValueError("n_keys must be >= 0")
    counts = np.zeros(n_keys, np.int64)
    for i in range(n):
        if labels[i] < low or labels[i] - low >= n_keys:
            raise ValueError("every label must lie in [low, low + n_keys)")
        counts[labels[i] - low] += 1
    next_slot = np.empty(n_keys, np.int64)
    total = 0
    for key in range(n_keys):
        next_slot[key] = total
        total += counts[key]
    for i in range(n):
        key = labels[i] - low
        order[next_slot[key]] = i
        next_slot[key] += 1
    return counts
