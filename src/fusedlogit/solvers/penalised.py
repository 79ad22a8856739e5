"""``fit(solver="cd")``: L1 / elastic-net penalties by proximal Newton with coordinate descent.

The objective is the smooth mean loss F of ``LogisticLoss`` or
``MultinomialLoss`` (built with l2 = 0) plus the penalty of ``Penalty``::

    J(c) = F(c) + l1 Σ_j π_j |c_j| + (l2/2) Σ_j π_j c_j²          (π_j = 0 for intercepts)

Each outer iteration is one fused loss+gradient pass over all of X and,
when needed, a Hessian (from a row subsample on large data, as Newton's, and
reused while steps converge fast); coordinate descent (``cd_models``)
minimises the penalised quadratic model for the step δ, and a backtracking
line search on J with Tseng and Yun's decrease
Δ = ∇S·δ + l1 Σ π_j (|c_j + δ_j| − |c_j|) takes it (Lee, Sun & Saunders
2014; glmnet's and glum's IRLS-CD are the same scheme).  S = F + (l2/2)Σπc²
is the smooth part.

The model moves only the coefficients of a working set of features
(``WorkingSet``), so the Hessian is that of those columns alone
(``hessian(coef, features)``, computed from X in place, never a copy of its
columns): all features up to ``FULL_MODEL_MAX_COEF`` coefficients, else (or
when a path hands over its strong set) the support, the unpenalised features
and the worst violators of the optimality conditions.  Since every pass
gives the whole gradient, the KKT conditions of every feature are checked at
every iteration, and a feature outside that violates them more than those
inside joins the set (glmnet's KKT check, Blitz and celer's working sets).

On sparse X, a binary model's large working set of columns with few
nonzeros is modelled column by column (``cd_models.ColumnModel``, chosen by
``cd_models.by_columns``): H = X̃_Wᵀ diag(D) X̃_W is kept as its factors, so
coordinate descent costs the set's nonzeros a sweep (glmnet's covariance
updates) rather than the square of its size, and the active face's Newton
step is solved by conjugate gradients rather than a dense factor; a one-hot
design whose support nears the number of rows fits in seconds, not minutes.
Any other working set of more than ``MAX_HESSIAN_COEF`` coefficients (a wide
dense or multinomial model far down a path) would need a Hessian too large
to hold; the fit then goes on by orthant-wise L-BFGS
(``orthant_wise_lbfgs``), which needs only the fused loss and gradient.

Convergence is the minimum-norm subgradient (the KKT conditions)::

    ∂_j = g_j + l1 π_j sign(c_j)         (c_j ≠ 0, π_j > 0)
          sign(g_j) max(|g_j| − l1 π_j, 0) (c_j = 0, π_j > 0)
          g_j                             (π_j = 0),        g = ∇S(c)

held to ``objective.converged(∂, tol)``: max_j |∂_j| · max(1, 1/ρ_j) ≤ tol,
ρ_j the root-mean-square of column j.  The working set ranks violations in
those same units: a rare column (a one-hot level in a fraction f of the rows,
ρ = √f) can fail the test with |∂_j| far below tol, and ranked by |∂_j| it
never joined the set, so the fit stalled ("rounding") with it outside.
"""

from __future__ import annotations

import numpy as np

from .cd_models import ColumnModel, HessianModel, by_columns, model_step
from .common import Progress, SolverOutput, backtrack

#: Up to this many coefficients the whole model's Hessian is used; above, working sets.
FULL_MODEL_MAX_COEF = 1000

#: The Hessian of the last iteration is reused after a full step that cut max|∂| at least this much.
REUSE_RATIO = 0.1

#: Coordinate descent stops when the largest coordinate change, in gradient units, is at most
#: this fraction of the current max|∂| (inexact proximal Newton: loose far away, tight near the end).
CD_FRACTION = 1e-3

#: On dense X (binary model), a working set of at most this many coefficients gets its exact Hessian from
#: each loss+gradient pass (``objective.loss_gradient_hessian``: (m + 1)(m + 2)/2 multiply-adds a row).
FUSED_HESSIAN_MAX_COEF = 24

#: A working set's Hessian ((m + 1)² floats, 128 MB here) is built up to this many coefficients;
#: beyond, ``orthant_wise_lbfgs`` finishes the fit with loss+gradient passes alone (``ColumnModel`` needs no H).
MAX_HESSIAN_COEF = 4000
#: Pairs (s, y) that orthant-wise L-BFGS keeps.
LBFGS_MEMORY = 10

#: A working set grows by at least this many violating columns (or as many as it holds nonzeros).
MIN_NEW_COLUMNS = 10
#: ... and starts from at most this many columns of a strong set (the strongest), besides the support.
MAX_START_COLUMNS = 1000


class Penalty:
    """l1 Σ_j π_j |c_j| + (l2/2) Σ_j π_j c_j² over a flat coefficient vector; π (n_coef,) ≥ 0."""

    def __init__(self, l1, l2, weights):
        self.l1, self.l2 = float(l1), float(l2)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.lam = self.l1 * self.weights  # l1 π: coordinate descent's thresholds

    def value(self, coef):
        return float(self.l1 * (self.weights @ np.abs(coef)) + 0.5 * self.l2 * (self.weights @ (coef * coef)))

    def smooth_gradient(self, coef):
        """∇ of the ridge part, l2 π c."""
        return self.l2 * self.weights * coef

    def subgradient(self, coef, g):
        """The minimum-norm subgradient ∂ (module docstring) from g = ∇S(c)."""
        lam = self.lam
        shrunk = np.sign(g) * np.maximum(np.abs(g) - lam, 0.0)
        return np.where(coef != 0.0, g + lam * np.sign(coef), np.where(lam > 0.0, shrunk, g))


def coefficient_weights(penalty_weights, layout):
    """π per flat coefficient: the per-feature weights in every row of ``layout``, 0 at its constants."""
    return layout.penalty_weights(penalty_weights)


def _penalised(penalty, coef, unpenalised):
    """(J, g = ∇S) at coef from (F, ∇F) there."""
    loss, grad = unpenalised
    return loss + penalty.value(coef), grad + penalty.smooth_gradient(coef)


def presolve(objective, penalty, coef0, options):
    """The solution of ``proximal_newton`` on Newton's row subsample of ``objective`` from coef0 (to max|∂| ≤
    ``newton.PRESOLVE_TOL`` there, with Hessians from a quarter of the rows that Newton's would take), or coef0
    where there is none (small or sparse data) or it fails: ``newton.presolve``'s start, for J."""
    import dataclasses

    from .common import all_finite
    from .newton import PRESOLVE_HESSIAN_STEP, PRESOLVE_TOL, hessian_rows_step, hessian_sample, row_subsample

    sample = None if objective.sparse else row_subsample(objective)
    if sample is None:
        return coef0
    quiet = dataclasses.replace(options, tol=max(options.tol, PRESOLVE_TOL), verbose=False, callback=None,
                                presolve=False)
    inner = hessian_sample(sample, PRESOLVE_HESSIAN_STEP * hessian_rows_step(objective, sample))
    out = proximal_newton(sample, penalty, coef0, quiet, curvature=inner)
    return out.coef if np.isfinite(out.loss) and all_finite(out.coef) else coef0


def proximal_newton(objective, penalty, coef0, options, columns=None, unpenalised=None, curvature=None):
    """Minimise J = F + penalty from coef0; a ``SolverOutput`` whose ``loss`` is J and ``grad`` is ∂.

    ``columns``: features to start the working set from (a path's strong
    set); None starts from all of them up to ``FULL_MODEL_MAX_COEF``
    coefficients, else from the support and the worst violators.
    ``unpenalised``: (F, ∇F) at coef0 if known (saves a pass); the output's
    ``unpenalised`` is that pair at its coef.  ``curvature``: the objective
    whose Hessians model J until one fails (default: Newton's row subsample
    on large dense data, else ``objective`` itself).
    """
    from .newton import hessian_rows_step, hessian_sample, row_subsample
    from .newton_core import armijo_accepts, rounding_slack

    coef = np.array(coef0, dtype=np.float64)
    unpenalised = objective.loss_gradient(coef) if unpenalised is None else unpenalised
    loss, g = _penalised(penalty, coef, unpenalised)
    sub = penalty.subgradient(coef, g)
    progress = Progress("cd", options, coef, loss, sub)
    working = WorkingSet(objective, penalty, coef, g, columns)
    # a subsample's Hessian: accurate for dense rows (Newton's), too noisy over sparse columns, whose
    # Hessian over the working set is cheap anyway (only the set's nonzeros of each row are multiplied)
    sparse = objective.sparse
    sample = curvature
    if sample is None and not sparse:
        sample = row_subsample(objective)
        if sample is not None:  # as many of its rows as Newton's factors take
            sample = hessian_sample(sample, hessian_rows_step(objective, sample))
    fused = objective.fuses_hessian
    model, k, status = None, 0, None
    while True:
        if objective.converged(sub, options.tol):
            status = "converged"
            break
        if k == options.max_iter:
            status = "max_iter"
            break
        if progress.stalled:
            status = "rounding"
            break
        if working.grow(coef, sub, options.tol):
            model = None
        columnwise = sparse and by_columns(objective, working)
        if working.index.size > MAX_HESSIAN_COEF and not columnwise:
            coef, loss, sub, unpenalised, k, status = orthant_wise_lbfgs(
                objective, penalty, coef, (loss, g, sub, unpenalised), options, progress, k
            )
            break
        fresh = model is None
        index = working.index
        if fresh:
            model = (ColumnModel if columnwise else HessianModel)(sample or objective, penalty, coef, working)
        exact = fused and index.size <= FUSED_HESSIAN_MAX_COEF  # each trial pass brings the set's Hessian
        sub_max = float(np.max(np.abs(sub)))
        step = model_step(model, g[index], coef[index], penalty.lam[index], CD_FRACTION * sub_max)
        delta = np.zeros_like(coef)
        delta[index] = step
        decrease = directional_decrease(g, coef, delta, penalty.lam)
        slack = rounding_slack(loss)
        t, accepted = 1.0, None
        if decrease < 0:

            def attempt(t):
                trial = coef + t * delta
                if exact:
                    *trial_unpenalised, trial_hessian = objective.loss_gradient_hessian(trial, working.features)
                else:
                    trial_unpenalised, trial_hessian = objective.loss_gradient(trial), None
                trial_loss, trial_g = _penalised(penalty, trial, trial_unpenalised)
                trial_sub = penalty.subgradient(trial, trial_g)
                if armijo_accepts(trial_loss, float(np.max(np.abs(trial_sub))), loss, sub_max, t, decrease, slack):
                    return (trial, trial_loss, trial_g, trial_sub, tuple(trial_unpenalised), trial_hessian), True
                return None, bool(np.isfinite(trial_loss))

            t, accepted, _ = backtrack(objective, delta, attempt)  # with common.armijo's restart on saturated rows
        if accepted is None:
            if fresh and sample is None:  # the exact model's step lowers J only within its rounding
                status = "rounding" if np.isfinite(decrease) else "line_search"
                break
            sample, model = None, None  # retry with the exact Hessian
            continue
        coef, loss, g, new_sub, unpenalised, hessian = accepted
        reduction = float(np.max(np.abs(new_sub))) / sub_max
        if hessian is not None:  # the exact model at the new point, for free
            model = HessianModel(objective, penalty, coef, working, hessian)
        elif not (t == 1.0 and reduction <= REUSE_RATIO):
            model = None
        sub = new_sub
        k += 1
        progress(k, coef, loss, sub, t * float(np.max(np.abs(delta))))
    return SolverOutput(coef, k, progress.history, loss, sub, status, unpenalised)


def orthant_wise_lbfgs(objective, penalty, coef, state, options, progress, k):
    """Minimise J from coef by OWL-QN (Andrew & Gao 2007): L-BFGS on the smooth part, kept in an orthant.

    ``state`` is (J, g = ∇S, ∂, (F, ∇F)) at coef.  The direction is the
    L-BFGS product −B∂ with the minimum-norm subgradient ∂ in place of the
    gradient, zeroed where a penalised coordinate would move against −∂; each
    trial point is projected onto the orthant of coef (of −∂ where coef is
    0), so a coordinate that would cross zero stops at zero, and it is taken
    when J falls by 10⁻⁴ of ∂·(trial − coef).  Each trial is one fused
    loss+gradient pass; no Hessian is formed.  Returns (coef, J, ∂, (F, ∇F),
    iterations, status).
    """
    from .common import stop_reason
    from .newton_core import MAX_BACKTRACKS, rounding_slack

    loss, g, sub, unpenalised = state
    penalised = penalty.lam > 0
    pairs = []
    while True:
        status = stop_reason(objective, sub, k, options, progress)
        if status is not None:
            break
        direction = -_lbfgs_product(sub, pairs)
        direction[penalised & (direction * sub >= 0.0)] = 0.0
        if not float(sub @ direction) < 0.0:  # the memory misleads: steepest descent on ∂ instead
            pairs, direction = [], -sub
        orthant = np.where(coef != 0.0, np.sign(coef), -np.sign(sub))
        t = 1.0 if pairs else min(1.0, 1.0 / float(np.sum(np.abs(sub))))
        slack, accepted, trial_loss = rounding_slack(loss), None, loss
        for _ in range(MAX_BACKTRACKS):
            trial = coef + t * direction
            trial[penalised & (np.sign(trial) != orthant)] = 0.0
            trial_unpenalised = objective.loss_gradient(trial)
            trial_loss, trial_g = _penalised(penalty, trial, trial_unpenalised)
            if trial_loss <= loss + 1e-4 * float(sub @ (trial - coef)) + slack:
                accepted = trial, trial_loss, trial_g, trial_unpenalised
                break
            t *= 0.5
        if accepted is None:
            status = "rounding" if np.isfinite(trial_loss) else "line_search"  # J not finite along it
            break
        trial, trial_loss, trial_g, trial_unpenalised = accepted
        step, change = trial - coef, trial_g - g
        curvature = float(step @ change)
        if curvature > 1e-12 * float(change @ change):
            pairs = (pairs + [(step, change, 1.0 / curvature)])[-LBFGS_MEMORY:]
        coef, loss, g, unpenalised = trial, trial_loss, trial_g, trial_unpenalised
        sub = penalty.subgradient(coef, g)
        k += 1
        progress(k, coef, loss, sub, float(np.max(np.abs(step))))
    return coef, loss, sub, unpenalised, k, status


def _lbfgs_product(v, pairs):
    """The L-BFGS inverse-Hessian approximation times v (two-loop recursion; v itself without pairs)."""
    q = v.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * float(s @ q)
        q -= a * y
        alphas.append(a)
    if pairs:
        s, y, _ = pairs[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        q += (a - rho * float(y @ q)) * s
    return q


def directional_decrease(g, coef, delta, lam):
    """g·δ + Σ_j λ_j (|c_j + δ_j| − |c_j|): J's first-order change along δ (< 0 for a descent step).

    Where c_j ≠ 0 keeps its sign, the penalty's share is λ_j sign(c_j) δ_j and
    is added to g_j δ_j before the sum: near the optimum g_j ≈ −λ_j sign(c_j),
    and the two terms summed apart would cancel down to their rounding, which
    can then outweigh the true decrease (∂_j δ_j, both tiny) and hide it.
    """
    moved = coef + delta
    keeps_sign = (coef != 0) & (np.sign(moved) == np.sign(coef))
    per_coordinate = np.where(
        keeps_sign, (g + lam * np.sign(coef)) * delta, g * delta + lam * (np.abs(moved) - np.abs(coef))
    )
    return float(np.sum(per_coordinate))


class WorkingSet:
    """The features whose coefficients the quadratic model moves (module docstring).

    It always holds the support and the unpenalised features; ``grow`` adds
    the features that violate the optimality conditions most whenever they
    violate them more than the features inside do and more than tol, each
    violation measured as the convergence test does (|∂_j| · max(1, 1/ρ_j)),
    so no feature that fails the test stays outside.  A fit that starts with
    ``columns=None`` on a wide model starts from the strong set against
    l1_max, the smallest l1 at which the start's penalised coefficients would
    all stay zero: {j : |g_j| ≥ π_j (2 l1 − l1_max)} (Tibshirani et al. 2012).
    """

    def __init__(self, objective, penalty, coef, g, columns):
        layout = self.layout = objective.layout
        d = layout.n_features
        self.n_rows = layout.n_rows  # classes (1 for the binary model)
        feature_weights = layout.largest_by_feature(penalty.weights)
        self.chosen = feature_weights == 0  # the unpenalised features
        self.chosen |= (layout.features(coef) != 0.0).any(axis=0)  # and the support
        if columns is None and objective.n_coef <= FULL_MODEL_MAX_COEF:
            self.chosen[:] = True
        else:
            largest = layout.largest_by_feature(g)
            start = np.zeros(d, dtype=bool)
            if columns is not None:
                start[np.asarray(columns, dtype=np.int64)] = True
            elif penalty.l1 > 0 and not self.chosen.all():
                l1_max = float(np.max(largest[~self.chosen] / feature_weights[~self.chosen]))
                start = largest >= feature_weights * (2.0 * penalty.l1 - l1_max)
            start &= ~self.chosen
            if start.sum() > MAX_START_COLUMNS:  # the strongest of them: a Hessian of the set must fit
                candidates = np.flatnonzero(start)
                strength = largest[candidates] / feature_weights[candidates]
                start[:] = False
                start[candidates[np.argsort(-strength, kind="stable")[:MAX_START_COLUMNS]]] = True
            self.chosen |= start
        self._set_index()
        # the test's column weights, for ``grow``; only a partial set needs them (one pass over X, cached)
        self.scale = None if self.features is None else objective.gradient_weights()

    def _set_index(self):
        self.features = None if self.chosen.all() else np.flatnonzero(self.chosen)
        self.index = self.layout.flat_index(self.features)

    def grow(self, coef, sub, tol):
        """Add the support and the worst violators outside; whether the set changed."""
        if self.features is None:
            return False
        before = int(self.chosen.sum())
        self.chosen |= (self.layout.features(coef) != 0.0).any(axis=0)
        scaled = np.abs(sub) * self.scale  # |∂_j| max(1, 1/ρ_j), as objective.converged measures it
        violation = self.layout.largest_by_feature(scaled)
        inside = float(np.max(scaled[self.index], initial=0.0))
        outside = np.flatnonzero(~self.chosen & (violation > max(inside, tol)))
        if outside.size:
            grow = max(MIN_NEW_COLUMNS, before)
            self.chosen[outside[np.argsort(-violation[outside], kind="stable")[:grow]]] = True
        if int(self.chosen.sum()) == before:
            return False
        self._set_index()
        return True
