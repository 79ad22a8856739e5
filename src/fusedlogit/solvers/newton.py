"""``fit(solver="newton")``: damped Newton with a reused, sub-sampled Cholesky factor."""

from __future__ import annotations

import dataclasses

import numpy as np

from .common import Progress, SolverOutput, all_finite, armijo, stop_reason

#: Newton reuses its Hessian factor after a full step that cut max|∇J| by
#: at least this factor (the Hessian then barely changes between iterates).
NEWTON_REUSE_RATIO = 0.25

#: A factor of the subsample's Hessian is kept (and corrected by the secant
#: pairs of its steps) after a full step that cut max|∇J| at least this much:
#: its relative error, not the distance to the optimum, limits its steps.
SUBSAMPLE_REUSE_RATIO = 0.5

#: A reused factor is corrected by the secant pairs of its last this many steps.
SECANT_PAIRS = 5

#: On at least this many rows, Newton's first Hessian is taken from a strided
#: subsample of about ``NEWTON_SUBSAMPLE_ROWS`` rows (see ``newton``).
NEWTON_SUBSAMPLE_MIN_ROWS = 200_000
NEWTON_SUBSAMPLE_ROWS = 100_000

#: From a cold start on that many rows, Newton first solves on the subsample
#: (to max|∇J| ≤ ``PRESOLVE_TOL``, or tol if larger), its Hessians from every
#: ``PRESOLVE_HESSIAN_STEP``-th row of it, and starts from that solution.
PRESOLVE_TOL = 1e-6
PRESOLVE_HESSIAN_STEP = 4

#: The factors of the steps on all rows come from every k-th row of the
#: subsample, k the smallest power of 2 that keeps the Hessian's arithmetic
#: (m·K²/2 for m rows and K coefficients) within this many times a pass's
#: (n·K): all of it for a binary model of d = 100 on 10⁶ rows, a quarter for
#: a multinomial one of 5 classes and 50 features on 5·10⁵.
HESSIAN_ARITHMETIC_PER_PASS = 8


class HessianFactor:
    """``newton_core.factor_hessian``'s equilibrated Cholesky of H (k, k), kept for reuse.

    ``max_shifts=1`` allows no shift τ: then ``factored`` says whether H
    itself is numerically positive definite.  A reused factor can learn
    from the steps taken with it (``remember``): its inverse is then
    corrected by their secant pairs.
    """

    def __init__(self, H, max_shifts):
        from .newton_core import factor_hessian

        k = H.shape[0]
        self.factor = np.zeros((k, k))
        self.scale = np.empty(k)
        self.factored = bool(factor_hessian(np.ascontiguousarray(H), self.factor, self.scale, max_shifts))
        self.pairs = []

    def _solve(self, grad):
        from .newton_core import newton_step

        out = np.empty(grad.shape[0])
        newton_step(self.factor, self.scale, self.factored, np.ascontiguousarray(grad, dtype=np.float64), out)
        return out

    def remember(self, step, grad_change):
        """Keep the secant pair s = step, y = ∇J(x + s) − ∇J(x) (the last ``SECANT_PAIRS``, those with s·y > 0)."""
        if self.factored and float(step @ grad_change) > 0.0:
            self.pairs = self.pairs[1 - SECANT_PAIRS :] + [(step, grad_change)]

    def newton_step(self, grad):
        """−H⁻¹ ∇J (−∇J if the factorisation failed), as the compiled solver computes it; after ``remember``,
        −B⁻¹ ∇J with B the factor's H updated by BFGS with the secant pairs (the L-BFGS two-loop recursion,
        Nocedal & Wright Algorithm 7.4, with H₀⁻¹ from the factor)."""
        if not self.pairs:
            return self._solve(grad)
        q = np.array(grad, dtype=np.float64)
        alphas = []
        for s, y in reversed(self.pairs):
            alpha = (s @ q) / (y @ s)
            q -= alpha * y
            alphas.append(alpha)
        r = -self._solve(q)
        for (s, y), alpha in zip(self.pairs, reversed(alphas)):
            r += (alpha - (y @ r) / (y @ s)) * s
        return -r

    def inverse(self):
        """H⁻¹ = D^{-1/2} (L L^T)⁻¹ D^{-1/2} (needs ``factored``)."""
        import scipy.linalg

        inv = scipy.linalg.cho_solve((self.factor, True), np.eye(len(self.scale)), check_finite=False)
        return inv * self.scale[:, None] * self.scale[None, :]


class LevelFactor(HessianFactor):
    """A ``LevelHessian``'s factor: H = [[D, Cᵀ], [C, A]] over (big, rest), D diagonal, solved by the Schur
    complement S = A − C D⁻¹ Cᵀ (m, m) on the rest (Golub & Van Loan §4.2 / a block Gaussian elimination):

        x_rest = S⁻¹ (g_rest − C D⁻¹ g_big),   x_big = D⁻¹ (g_big − Cᵀ x_rest)

    S is factored as ``HessianFactor`` factors a dense H (equilibrated,
    shifted if needed).  A level without curvature (D = 0: no rows in a
    subsample and no l2) gets D at 10⁻¹² of the largest: the line search
    then rejects a wild step and Newton turns to exact Hessians.
    """

    def __init__(self, H, max_shifts):
        from scipy import sparse

        self.H = H
        floor = 1e-12 * max(float(H.diagonal.max(initial=0.0)), 1e-300)
        self.D = np.maximum(H.diagonal, floor)
        self.coupling_over_D = H.coupling @ sparse.diags(1.0 / self.D)
        schur = H.block - (self.coupling_over_D @ H.coupling.T).toarray()
        self.inner = HessianFactor(schur, max_shifts)
        self.factored = self.inner.factored
        self.pairs = []

    def _solve(self, grad):
        H = self.H
        g_big, g_rest = grad[H.big], grad[H.rest]
        x_rest = -self.inner._solve(g_rest - self.coupling_over_D @ g_big)
        x = np.empty(grad.shape[0])
        x[H.rest] = x_rest
        x[H.big] = (g_big - H.coupling.T @ x_rest) / self.D
        return -x

    def inverse(self):
        return np.linalg.inv(self.H.toarray())


def hessian_factor(objective, coef, max_shifts):
    """The factor of H(coef): in blocks where the objective has them (``level_hessian``), else dense."""
    blocks = objective.level_hessian(coef)
    if blocks is not None:
        return LevelFactor(blocks, max_shifts)
    return HessianFactor(objective.hessian(coef), max_shifts)


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
    same factor; any weaker step refreshes it.  A factor from a subsample
    (below) is also corrected by the secant pairs of the steps taken with it
    (``HessianFactor.remember``: BFGS's update of its inverse, as L-BFGS
    makes it, Nocedal & Wright §7.2, from this H₀).
    On large data the factors come from the Hessian of a strided row
    subsample of about ``NEWTON_SUBSAMPLE_ROWS`` rows, or of every k-th of
    them where its arithmetic would exceed a few passes
    (``hessian_rows_step``: a multinomial model's K² blocks); sub-sampled
    Newton, Roosta-Khorasani & Mahoney 2019.  Its relative error, ~sqrt(K/m)
    for K coefficients and m rows, bounds the linear rate of the iteration,
    which the secant pairs then improve; such a factor is kept while its
    steps cut max|∇J| twofold (``SUBSAMPLE_REUSE_RATIO``: refreshing it would
    not remove that error) and refreshed from the subsample otherwise; after
    a fresh one fails that test or any makes max|∇J| grow, every factor is
    exact.  The line
    search keeps every step a descent step, and the gradient is always exact,
    so the solution is the same.  Each iteration costs one fused
    loss+gradient pass, plus one Hessian when the factor is refreshed.

    From a cold start (``options.presolve``) on such data the far steps are
    taken on the subsample (``presolve``): the full passes then start where
    the subsample's solution is, at the distance of its sampling error.
    """
    coef = np.array(coef0, dtype=np.float64)
    sample = row_subsample(objective)
    if sample is None:
        return _iterate(objective, coef, options, None, "newton")
    step = hessian_rows_step(objective, sample)
    if options.presolve:
        coef = presolve(sample, coef, options, PRESOLVE_HESSIAN_STEP * step)
    return _iterate(objective, coef, options, hessian_sample(sample, step), "newton")


def hessian_sample(sample, step):
    """Every ``step``-th row of the row subsample ``sample`` (``sample`` itself for 1, or where they weigh nothing)."""
    return (sample.row_subsample(step) if step > 1 else None) or sample


def hessian_rows_step(objective, sample):
    """Every how many of the subsample's rows the factors come from (``HESSIAN_ARITHMETIC_PER_PASS``; never
    fewer rows than coefficients).  The arithmetic per row is that of the dense part (``newton_size``: a table's
    levels of its largest categorical add one entry each, not a row and a column)."""
    ratio = sample.n_samples * objective.newton_size / (2.0 * objective.n_samples)
    step = 1
    while ratio / step > HESSIAN_ARITHMETIC_PER_PASS and sample.n_samples >= 2 * step * objective.n_coef:
        step *= 2
    return step


def presolve(sample, coef0, options, hessian_step=PRESOLVE_HESSIAN_STEP):
    """The solution of Newton's method on the row subsample ``sample`` from coef0, or coef0 if that fails.

    It stops at max|∇J_sample| ≤ max(tol, ``PRESOLVE_TOL``): the full data's
    gradient there is of the order of the subsample's sampling error, which
    no more precision on the subsample can reduce.  Its Hessians come from
    every ``hessian_step``-th of its rows (they need only bring it to that
    error), and it prints and calls back nothing: its iterations are not
    iterations on the data.
    """
    quiet = dataclasses.replace(options, tol=max(options.tol, PRESOLVE_TOL), verbose=False, callback=None,
                                presolve=False)
    inner = sample.row_subsample(hessian_step)
    out = _iterate(sample, coef0, quiet, inner, "newton presolve")
    return out.coef if np.isfinite(out.loss) and all_finite(out.coef) else coef0


def _iterate(objective, coef, options, sample, name):
    """Newton's iterations from coef, the first factors from the Hessian of ``sample`` (if not None)."""
    from .newton_core import MAX_SHIFTS

    loss, grad = objective.loss_gradient(coef)
    progress = Progress(name, options, coef, loss, grad)
    k = 0
    factor = None
    while True:
        status = stop_reason(objective, grad, k, options, progress)
        if status is not None:
            break
        fresh = factor is None
        if fresh:
            factor = hessian_factor(sample or objective, coef, MAX_SHIFTS)
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
        t, new_coef, loss, new_grad = found
        reduction = np.max(np.abs(new_grad)) / np.max(np.abs(grad))
        reuse_ratio = SUBSAMPLE_REUSE_RATIO if sample is not None else NEWTON_REUSE_RATIO
        if options.reuse_hessian and t == 1.0 and reduction <= reuse_ratio:
            if sample is not None:  # an exact factor is refreshed soon enough: its chord steps stay as they were
                factor.remember(new_coef - coef, new_grad - grad)
        else:
            if fresh or reduction > 1.0:
                # even a fresh subsample factor is not good enough here, or a reused one made ∇J grow:
                # the subsample misjudges the curvature in some direction (rare columns, few rows)
                sample = None
            factor = None
        coef = new_coef
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
