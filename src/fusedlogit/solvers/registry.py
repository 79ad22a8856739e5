"""The solvers ``fit`` can run, how "auto" chooses among them, and how a stalled run is finished and explained.

Every solver is a plain function ``solver(objective, coef0, options) ->
SolverOutput`` (``solvers.common``) that touches the data only through the
objective's methods.  ``SOLVER_FUNCTIONS`` is the registry: a new solver is a
module in this package and one entry there.  Solver "cd" (L1 / elastic net,
``penalised.proximal_newton``) finds its penalty in ``options.penalty``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .common import SolverOutput
from .gd import gradient_descent
from .inference import INFERENCE_MAX_COEF
from .lbfgs import lbfgs
from .newton import newton
from .newton_cg import newton_cg
from .penalised import presolve as presolve_penalised
from .penalised import proximal_newton

SOLVERS = ("auto", "newton", "lbfgs", "newton-cg", "gd", "cd")

#: ``max_iter=None`` means this many iterations of the chosen solver.
DEFAULT_MAX_ITER = {"newton": 100, "newton-cg": 200, "lbfgs": 1000, "gd": 100_000, "cd": 500}

#: "auto" uses Newton (a dense (d+1)² Hessian, Cholesky in O(d³)) up to this
#: many coefficients, L-BFGS above it (which, on implicitly standardised
#: columns and finished by ``finish_stalled`` where it stalls, converges on
#: unscaled data too).
AUTO_NEWTON_MAX_COEF = 1000

#: A run that stops short of tol on J's rounding or a failed line search is
#: continued from its last iterate by the next, more robust solver of this
#: ladder: L-BFGS's Wolfe line search needs J to decrease visibly, Newton-CG's
#: Armijo search also accepts steps that only shrink ∇J within J's rounding,
#: and dense Newton adds exact curvature (``finish_stalled``).
FINISHING_SOLVER = {"lbfgs": "newton-cg", "newton-cg": "newton"}

#: ... dense Newton only up to this many coefficients (its Hessian is n_coef²).
NEWTON_FINISH_MAX_COEF = INFERENCE_MAX_COEF

#: Why ``fit`` stopped (``FitResult.status``): the solvers' ``common.STATUSES``
#: and "separation" (l2 = 0 and the classes look separable: no MLE) and
#: "non_finite" (J is not finite at the returned point).
STATUS_REASONS = {
    "converged": "the convergence test holds",
    "max_iter": "the iteration limit max_iter was reached",
    "rounding": "J no longer decreases in floating point (its rounding hides any further decrease)",
    "line_search": "the line search found no acceptable step",
    "diverged": "the fixed learning_rate step made J or its gradient non-finite",
    "separation": "the classes are (quasi-)separable, so with l2=0 the maximum-likelihood estimate does not exist",
    "non_finite": "J is not finite at the returned point",
}


def coordinate_descent(objective, coef0, options):
    """Solver "cd": proximal Newton with coordinate descent on J + ``options.penalty`` (``penalised``); from a
    cold start on large dense data, from the solution on a row subsample (``penalised.presolve``)."""
    if options.presolve:
        coef0 = presolve_penalised(objective, options.penalty, coef0, options)
    return proximal_newton(objective, options.penalty, coef0, options)


SOLVER_FUNCTIONS = {
    "newton": newton, "newton-cg": newton_cg, "lbfgs": lbfgs, "gd": gradient_descent, "cd": coordinate_descent,
}


def resolve_solver(solver, n_coef):
    """"auto" → "newton" when n_coef ≤ AUTO_NEWTON_MAX_COEF, else "lbfgs" (any model).

    ``fit`` passes the side of the dense matrix Newton would factor
    (``objective.newton_size``): n_coef, but on a table only the columns
    besides its largest categorical's levels (``solvers.newton.LevelFactor``).

    Newton's Hessian costs ~n·n_coef²/2 per refresh and its factor n_coef³/3,
    so above 1000 coefficients L-BFGS (n·n_coef per pass) is cheaper.  L-BFGS
    runs on implicitly standardised columns (``scaling``), so unscaled data
    (money beside one-hot columns) no longer stall it, and where J's rounding
    does, ``finish_stalled`` takes over: on 50,000 × 1,500 such columns it
    converges in 2.5 s where Newton's iterations take 5.9 s (and the fit
    before it stopped at 1000 iterations, max|∇J| ≈ 900; 2 threads,
    benchmarks/results/unscaled_fits-2026-11-25.txt).

    Multinomial models too: on many rows Newton's factors come from a
    subsample small enough for their K² blocks (``solvers.newton``), and at
    5·10⁵ × 50, K = 5, Newton took 13–14 passes of the loss+gradient pass
    against L-BFGS's 27 (K = 10: 13 against 27; unscaled columns: 19 against
    90; 2026-12-06, 2 threads, tol 1e-8).  On small data Newton is not slowed
    by badly conditioned columns: scikit-learn's digits (1797 × 64, K = 10,
    C = 1) take L-BFGS over 1000 iterations to max|∇J| 1.3e-5, Newton 14
    iterations to 1e-8.
    """
    if solver != "auto":
        return solver
    return "newton" if n_coef <= AUTO_NEWTON_MAX_COEF else "lbfgs"


def finish_stalled(name, objective, out, options):
    """Continue a run that stopped on J's rounding or its line search down ``FINISHING_SOLVER``'s ladder.

    Each next solver starts from the last iterate with the iterations left
    (dense Newton only up to ``NEWTON_FINISH_MAX_COEF`` coefficients).
    Returns the combined output (the iterations and history of every run, the
    last run's point and status) and the runs, [(solver, output), ...].
    """
    stages = [(name, out)]
    while out.status in ("rounding", "line_search") and name in FINISHING_SOLVER:
        name = FINISHING_SOLVER[name]
        left = options.max_iter - out.n_iter
        if left <= 0 or (name == "newton" and objective.newton_size > NEWTON_FINISH_MAX_COEF):
            break
        more = SOLVER_FUNCTIONS[name](objective, out.coef, dataclasses.replace(options, max_iter=left, presolve=False))
        stages.append((name, more))
        history = out.history + more.history[1:]  # more.history[0] is J at out.coef again
        out = SolverOutput(more.coef, out.n_iter + more.n_iter, history, more.loss, more.grad, more.status)
    return out, stages


def stop_message(status, stages, objective, out, tol):
    """``FitResult.message``: why the fit stopped, with the advice that fits that reason."""
    name = stages[0][0]
    ran = {solver for solver, _ in stages}
    grad_max = float(np.max(np.abs(out.grad)))
    if status == "non_finite":
        return (
            f"solver {name!r} stopped after {out.n_iter} iterations at a point where J is not finite ({out.loss}); "
            "check X, y and sample_weight for extreme values"
        )
    if status in ("converged", "separation"):
        text = f"solver {name!r} {'converged' if status == 'converged' else 'stopped'} after {out.n_iter} iterations"
    else:
        scaled = float(np.max(np.abs(out.grad) * objective.gradient_weights()))
        text = (
            f"solver {name!r} stopped after {out.n_iter} iterations with max|grad| = {grad_max:.3e} "
            f"({scaled:.3e} on the scale of the columns) > tol = {tol:g}"
        )
    if len(stages) > 1:
        why = {"rounding": "on J's rounding", "line_search": "on a failed line search"}
        steps = ", ".join(f"{solver} stopped {why[run.status]} after {run.n_iter}" for solver, run in stages[:-1])
        text += f" ({steps}; {stages[-1][0]} ran {stages[-1][1].n_iter} more)"
    text += f": {STATUS_REASONS[status]}"
    newton = [] if ran & {"newton", "cd"} else ["use solver='newton'"]
    advice = {
        "converged": [],
        "separation": ["use l2 > 0 (the coefficients are finite but arbitrary in the separating direction)"],
        "max_iter": ["increase max_iter"] + (["scale X"] if name == "gd" else []) + newton,
        "rounding": [
            "accept a larger tol (the point is as close to the optimum as J's rounding lets a line search get)",
            *newton,
            "give columns of large scale larger units (∂J/∂coef_j grows with the scale of column j)",
        ],
        "line_search": ["check X, y and sample_weight for extreme values", *newton],
        "diverged": ["use a smaller learning_rate, or none (backtracking)"],
    }[status]
    huge = [] if status in ("converged", "separation") else _huge_columns(objective)
    if huge:  # no solver can help there: say so first, and instead of trying another solver
        shown = ", ".join(str(j) for j in huge[:5]) + (", ..." if len(huge) > 5 else "")
        text += (
            f"; column(s) {shown} of X have a root-mean-square above {HUGE_COLUMN_RMS:g}, where squares (the "
            "Hessian) overflow float64 and ∂J/∂coef_j, which grows with the column's scale, cannot meet tol"
        )
        advice = ["divide those columns by a large constant (their coefficients grow by it)"]
    if advice:
        text += "; " + (", ".join(advice[:-1]) + " or " if len(advice) > 1 else "") + advice[-1]
    return text


#: ``stop_message``: columns of X with a root-mean-square above this get their own explanation
#: (x² overflows float64 beyond ~1.3e154; ∂J/∂w_j of such columns is ~1e150 times any error in the margins).
HUGE_COLUMN_RMS = 1e150


def _huge_columns(objective):
    """The indices of the columns of X whose root-mean-square exceeds ``HUGE_COLUMN_RMS`` (or overflows)."""
    rms = np.asarray(objective.column_moments()[1])
    return [int(j) for j in np.flatnonzero(~(rms <= HUGE_COLUMN_RMS))]


# -- public entry point --------------------------------------------------------------
