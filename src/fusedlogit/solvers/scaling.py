"""Implicit standardisation of the columns: the coordinates θ in which ``lbfgs`` and ``newton-cg`` work.

First-order and CG methods converge at a rate set by cond(H), and unscaled
columns (money beside 0/1 indicators, ages with mean ≫ sd) make it ~1e12.
Instead of standardising X (a copy), the solvers run on J(Tθ), the same
objective in the affine coordinates ::

    w_j = θ_j / σ_j,        b = θ_b − Σ_j μ_j θ_j / σ_j

with μ_j, σ_j the weighted mean and standard deviation of column j
(``LogisticLoss.column_moments``).  x·w + b = Σ_j θ_j (x_j − μ_j)/σ_j + θ_b,
so in θ every column looks centred and of unit variance, and H_θ = Tᵀ H T
has the conditioning of standardised data.  Without an intercept there is
nothing to centre against: μ = 0 and σ_j = ρ_j, the root-mean-square.  A
constant column is scaled by its rms but not centred (centred, it would be
zero), an all-zero one not at all.  For a multinomial objective the same map
applies to each class's row [w_k, b_k] of coef; for the ordinal model's
thresholds θ_t, from which the margin is subtracted (``Layout.intercept_sign``
s = −1), each threshold takes the shift: θ_t = θ'_t − s Σ_j μ_j θ_j / σ_j.
It costs O(n_coef) per call::

    ∇_θ J = Tᵀ ∇J:   (∇_θ J)_j = (g_j − s μ_j Σ_t g_t)/σ_j,   (∇_θ J)_t = g_t   (t: the row's constants)
    H_θ v = Tᵀ H (T v)

Only the path to the optimum changes: J(Tθ) is the objective itself, and
convergence is still tested on ∇J in the original coefficients
(``LogisticLoss.converged``).  On large data μ and σ come from the ~1e5 rows
of Newton's subsample (``newton.row_subsample``) instead of two passes over
X: a preconditioner need not be exact.
"""

from __future__ import annotations

import numpy as np

#: A column whose sd is below this fraction of its rms counts as constant
#: (σ² = ρ² − μ² loses all its digits to cancellation there).
CONSTANT_COLUMN_RATIO = 1e-6


class StandardisedObjective:
    """The objective in standardised coordinates θ (see the module docstring).

    Exposes what ``lbfgs`` and ``newton-cg`` call, ``loss_gradient``,
    ``hessp`` and ``converged``, with θ and ∇_θ J in place of coef and ∇J,
    plus the maps between the two.
    """

    def __init__(self, objective):
        from .newton import row_subsample

        self.objective = objective
        layout = objective.layout
        self.fit_intercept = layout.n_intercepts > 0
        self._width = layout.width  # one row's [w, constants]
        self._sign = layout.intercept_sign
        mean, rms = (row_subsample(objective) or objective).column_moments()
        scale = rms.copy()
        if self.fit_intercept:
            sd = np.sqrt(np.maximum(rms**2 - mean**2, 0.0))
            varies = sd > CONSTANT_COLUMN_RATIO * rms
            scale[varies] = sd[varies]
            self.mean = np.where(varies, mean, 0.0)
        else:
            self.mean = np.zeros_like(mean)
        huge = ~np.isfinite(scale)  # Σ s_i x_ij² overflows (|x_ij| ≳ 1e154): θ = σ·coef would be NaN
        if huge.any():
            self.mean[huge] = 0.0  # their mean may overflow too; a preconditioner need not centre
            scale[huge] = [self._column_max(objective, j) for j in np.flatnonzero(huge)]
        scale[~(scale > 0)] = 1.0  # all-zero columns (and NaN, which validation already excludes)
        self.scale = scale

    def _column_max(self, objective, j):
        """max_i |x_ij| over the rows of positive weight (finite where ρ_j overflows), by one pass."""
        unit = np.zeros(objective.n_coef)
        unit[j] = 1.0  # column j of the first (or only) class
        return float(objective.max_margin_move(unit))

    # -- the maps between coef = [w, b] and θ (row by row for several classes) -------------
    def _rows(self, a):
        """A float64 copy of a as rows of one class's [w, b], and a's shape."""
        a = np.array(a, dtype=np.float64)
        return a.reshape(-1, self._width), a.shape

    def coef(self, theta):
        """coef = T θ (T is linear: this also maps a direction in θ to one in coef)."""
        rows, shape = self._rows(theta)
        d = self.scale.shape[0]
        rows[:, :d] /= self.scale
        if self.fit_intercept:
            rows[:, d:] -= self._sign * (rows[:, :d] @ self.mean)[:, None]
        return rows.reshape(shape)

    def theta(self, coef):
        """θ = T⁻¹ coef."""
        rows, shape = self._rows(coef)
        d = self.scale.shape[0]
        if self.fit_intercept:
            rows[:, d:] += self._sign * (rows[:, :d] @ self.mean)[:, None]
        rows[:, :d] *= self.scale
        return rows.reshape(shape)

    def gradient_in_theta(self, grad):
        """∇_θ J = Tᵀ ∇J (also Tᵀ applied to H T v)."""
        rows, shape = self._rows(grad)
        d = self.scale.shape[0]
        if self.fit_intercept:
            rows[:, :d] -= self._sign * rows[:, d:].sum(axis=1, keepdims=True) * self.mean
        rows[:, :d] /= self.scale
        return rows.reshape(shape)

    def original_gradient(self, grad_theta):
        """∇J = T⁻ᵀ ∇_θ J."""
        rows, shape = self._rows(grad_theta)
        d = self.scale.shape[0]
        rows[:, :d] *= self.scale
        if self.fit_intercept:
            rows[:, :d] += self._sign * rows[:, d:].sum(axis=1, keepdims=True) * self.mean
        return rows.reshape(shape)

    # -- what the solvers call ---------------------------------------------------------
    def loss_gradient(self, theta):
        """(J(Tθ), ∇_θ J) from one pass over X."""
        loss, grad = self.objective.loss_gradient(self.coef(theta))
        return loss, self.gradient_in_theta(grad)

    def hessp(self, theta, v):
        """Tᵀ H(Tθ) T v from one pass over X."""
        return self.gradient_in_theta(self.objective.hessp(self.coef(theta), self.coef(v)))

    def converged(self, grad_theta, tol):
        """``LogisticLoss.converged`` on ∇J in the original coefficients."""
        return self.objective.converged(self.original_gradient(grad_theta), tol)

    def max_margin_move(self, step_theta):
        """``LogisticLoss.max_margin_move`` of the step T·step_theta in the original coefficients."""
        return self.objective.max_margin_move(self.coef(step_theta))
