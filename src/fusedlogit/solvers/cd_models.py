"""The penalised quadratic model of proximal Newton (``penalised``) over a working set, and its minimisation.

At an iterate c with smooth gradient g and Hessian H, the step δ minimises::

    q(δ) = g·δ + ½ δᵀ H δ + Σ_j λ_j |c_j + δ_j|          (λ_j = l1 π_j)

by coordinate descent (``cd_core``), with a Newton step on the active face
where it crawls (``model_step``).  Two models hold H: ``HessianModel`` forms
it, (m + 1)² for m features; ``ColumnModel`` keeps it as X̃_Wᵀ diag(D) X̃_W
for a binary model on sparse X, where a sweep costs the working set's
nonzeros instead (``by_columns`` chooses).
"""

from __future__ import annotations

import numpy as np

#: Coordinate descent's sweeps: at most this many in all, ...
CD_MAX_SWEEPS = 1000
#: ... with a Newton step on the active face after every this many sweeps that did not converge.
CD_ROUND_SWEEPS = 20

#: On sparse X, a binary model's working set of more than this many coefficients may be modelled column by
#: column (``ColumnModel``: a sweep costs twice the set's nonzeros), not with its Hessian formed (k² a sweep).
COLUMN_MODEL_MIN_COEF = 500
#: ... when a sweep by columns would cost less than 1/this of a sweep on H (``by_columns``).
COLUMN_MODEL_ADVANTAGE = 8
#: ``ColumnModel``'s conjugate gradients on the active face stop at this fraction of the first residual, or
#: after this many iterations: coordinate descent goes on from where they stop.
CG_RTOL = 1e-3
CG_MAX_ITER = 30


def by_columns(objective, working):
    """Whether ``ColumnModel`` models the working set of m coefficients (X sparse).

    For a binary model of more than ``COLUMN_MODEL_MIN_COEF`` coefficients
    whose columns (with the intercept's n) hold N nonzeros, where a sweep
    costs 2N by columns against m² on H, and H costs more besides (its
    formation, and a factor of the active face, m³/3, where CD crawls):
    columns when 2N < m² / ``COLUMN_MODEL_ADVANTAGE``.
    """
    m = working.index.size
    if working.n_rows != 1 or m <= COLUMN_MODEL_MIN_COEF:
        return False
    budget = m * m / COLUMN_MODEL_ADVANTAGE
    intercept = objective.n_samples if objective.fit_intercept else 0
    if 2 * intercept >= budget:  # decided before counting the columns' nonzeros
        return False
    counts = objective.sparse_column_counts()
    nonzeros = int(counts.sum() if working.features is None else counts[working.features].sum())
    return 2 * (nonzeros + intercept) < budget


def model_step(model, g, coef, lam, tol):
    """δ minimising the penalised quadratic model q (``cd_core``) to ``tol``.

    Coordinate descent alone crawls along directions of small curvature (a
    nearly separable problem, or the shift shared by the classes of a
    multinomial model, held only by a small penalty).  So after every
    ``CD_ROUND_SWEEPS`` sweeps that have not converged, a Newton step on the
    active coordinates with their signs fixed (``_active_newton``) jumps to
    the model's minimiser on that face, and the sweeps resume from there.
    """
    step = np.zeros(coef.size)
    for _ in range(CD_MAX_SWEEPS // CD_ROUND_SWEEPS):
        if model.descend(g, coef, lam, step, tol, CD_ROUND_SWEEPS) < CD_ROUND_SWEEPS:
            break
        _active_newton(model, g, coef, lam, step, tol)
    return step


def _active_newton(model, g, coef, lam, step, tol):
    """In place: step moves towards the minimiser of q on the active face, stopping where a sign would change.

    On the active coordinates A (unpenalised, or c_j + δ_j ≠ 0, with sign s_j)
    q is the smooth quadratic g_A·δ_A + ½ δᵀHδ + Σ_A λ_j s_j (c_j + δ_j), whose
    minimiser is δ_A − H_AA⁻¹ r_A, r = g + Hδ + λ s; along that segment q is
    convex and falls until its end, so stopping early at the first zero
    crossing still lowers q (as it does along the way to any of CG's iterates).
    """
    x = coef + step
    active = np.flatnonzero((lam == 0.0) | (x != 0.0))
    if active.size == 0:
        return
    sign = np.sign(x[active])
    residual = g[active] + model.products(step, active) + lam[active] * sign
    direction = model.face_step(active, residual, tol)
    crossing = (lam[active] > 0.0) & (sign * direction < 0.0)
    reach = -x[active][crossing] / direction[crossing]  # where each of those coordinates would reach 0
    t = min(1.0, float(reach.min())) if reach.size else 1.0
    step[active] += t * direction
    step[active[crossing][reach <= t]] = -coef[active[crossing][reach <= t]]  # exactly 0 where it stopped


class HessianModel:
    """q with the working set's Hessian H formed, (m + 1)² (from a row subsample on large dense data)."""

    def __init__(self, objective, penalty, coef, working, hessian=None):
        """``hessian``: the smooth loss's Hessian over the working set at coef, if known (else computed)."""
        H = np.array(objective.hessian(coef, working.features) if hessian is None else hessian, order="C")
        H[np.diag_indices_from(H)] += penalty.l2 * penalty.weights[working.index]
        self.H = H

    def descend(self, g, coef, lam, step, tol, max_sweeps):
        """Coordinate descent on q from ``step`` (in place); the sweeps made."""
        from .cd_core import quadratic_step

        return quadratic_step(self.H, g, coef, lam, step, tol, max_sweeps)

    def products(self, v, rows):
        """(H v)[rows]."""
        return self.H[rows] @ v

    def face_step(self, rows, residual, tol):
        """−H_AA⁻¹ r for the rows A (equilibrated Cholesky, shifted where H_AA is singular; ``tol`` unused)."""
        from .newton import HessianFactor
        from .newton_core import MAX_SHIFTS

        return HessianFactor(self.H[np.ix_(rows, rows)], MAX_SHIFTS).newton_step(residual)


class ColumnModel:
    """q of a binary model on sparse X without H: H = X̃_Wᵀ diag(D) X̃_W + diag(l2 π) kept as its factors.

    X̃_W is the working set's columns of X (from ``sparse_columns``, a CSC
    copy of X made once per X and shared) with the intercept's column of ones,
    D the rows' curvatures at the model's point.  Coordinate descent costs the
    set's nonzeros a sweep (``cd_core.column_step``); the active face's Newton
    step is solved by conjugate gradients preconditioned by H's diagonal.
    """

    def __init__(self, objective, penalty, coef, working):
        from .cd_core import column_diagonal

        X = objective.sparse_columns()
        if working.features is not None:
            X = X[:, working.features]
        data, indices, indptr = X.data, X.indices, X.indptr
        if objective.fit_intercept:
            n = X.shape[0]
            data = np.concatenate([data, np.ones(n, dtype=data.dtype)])
            indices = np.concatenate([indices, np.arange(n, dtype=indices.dtype)])
            indptr = np.append(indptr, indptr[-1] + n).astype(indptr.dtype)
        self.columns = data, indices, indptr
        self.curvature = objective.row_curvatures(coef)
        self.ridge = penalty.l2 * penalty.weights[working.index]
        self.diagonal = column_diagonal(data, indices, indptr, self.curvature, self.ridge)

    def descend(self, g, coef, lam, step, tol, max_sweeps):
        """Coordinate descent on q from ``step`` (in place); the sweeps made."""
        from .cd_core import column_step

        return column_step(*self.columns, self.curvature, self.ridge, self.diagonal, g, coef, lam, step, tol,
                           max_sweeps)

    def products(self, v, rows):
        """(H v)[rows] (one pass over the nonzeros of the columns where v ≠ 0 and of ``rows``)."""
        from .cd_core import column_products

        out = np.empty(rows.size)
        column_products(*self.columns, self.curvature, self.ridge, np.ascontiguousarray(v), rows, out)
        return out

    def face_step(self, rows, residual, tol):
        """≈ −H_AA⁻¹ r for the rows A: conjugate gradients preconditioned by diag(H_AA), from 0.

        Stops where the residual H_AA x + r is at most max(``tol``, ``CG_RTOL``
        times its start) in every coordinate (``tol`` is coordinate descent's
        own), after min(|A|, ``CG_MAX_ITER``) iterations, or at a search
        direction along which H_AA has (next to) no curvature (a rank-deficient
        H, as duplicated one-hot columns make it), returning the last iterate:
        each lowers the face's quadratic, and the sweeps that follow go on from
        it, so an inexact solve costs sweeps, not correctness.
        """
        diagonal = self.diagonal[rows]
        inverse = np.where(diagonal > 0.0, 1.0 / np.maximum(diagonal, 1e-300), 0.0)
        x = np.zeros(rows.size)
        r = -np.asarray(residual, dtype=np.float64)
        z = inverse * r
        p = z.copy()
        rz = float(r @ z)
        padded = np.zeros(self.diagonal.size)
        target = max(tol, CG_RTOL * float(np.max(np.abs(r))))
        for _ in range(min(rows.size, CG_MAX_ITER)):
            if not float(np.max(np.abs(r))) > target:
                break
            padded[rows] = p
            Hp = self.products(padded, rows)
            curvature = float(p @ Hp)
            if not curvature > 1e-12 * float(p @ (diagonal * p)):
                break
            alpha = rz / curvature
            x += alpha * p
            r -= alpha * Hp
            z = inverse * r
            rz, previous = float(r @ z), rz
            p = z + (rz / previous) * p
        return x
