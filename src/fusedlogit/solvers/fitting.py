"""``fit``: minimise the objective J of ``objective.LogisticLoss``, then its inference.

Every solver is a plain function ``solver(objective, coef0, options) ->
SolverOutput`` (``solvers.common``) that touches the data only through the
objective's methods, so any input that ``LogisticLoss`` accepts can be
fitted.  ``SOLVER_FUNCTIONS`` is the registry: a new solver is a module in
this package and one entry there.

Convergence means max_j |∂J/∂coef_j| ≤ tol (the largest gradient entry,
intercept included).  A solver that stops short of it returns its last finite
iterate and why (``SolverOutput.status``); a run of lbfgs or newton-cg that
stalls on J's rounding is finished by a more robust solver
(``finish_stalled``); what is left short of tol gets ``converged=False``, a
``FitResult.status`` and ``message``, and a ``ConvergenceWarning`` with that
message.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import numpy as np

from .._threads import blas_limits, fit_threads
from .._validation import (
    check_bool,
    check_choice,
    check_max_iter,
    check_l2,
    check_penalty,
    check_penalty_weights,
    check_positive,
    check_tol,
)
from ..backends import BACKENDS
from ..exceptions import ConvergenceWarning, SeparationWarning
from ..multinomial import MultinomialLoss, ReferenceClassLoss
from ..model import build_objective, centred, start_point
from .common import SolverOptions, SolverOutput
from .gd import gradient_descent
from .inference import COV_TYPES, group_codes, sandwich
from .lbfgs import lbfgs
from .newton import HessianFactor, newton
from .newton_cg import newton_cg
from .penalised import Penalty, coefficient_weights, proximal_newton

SOLVERS = ("auto", "newton", "lbfgs", "newton-cg", "gd", "cd")

#: ``max_iter=None`` means this many iterations of the chosen solver.
DEFAULT_MAX_ITER = {"newton": 100, "newton-cg": 200, "lbfgs": 1000, "gd": 100_000, "cd": 500}

#: Standard errors need the dense n_coef × n_coef Hessian and its inverse
#: (about 3 · 8 · n_coef² bytes of working memory, 0.6 GB here): above this many
#: coefficients ``fit`` computes neither, nor the separation test.
INFERENCE_MAX_COEF = 5000

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


@dataclasses.dataclass(repr=False)
class FitResult:
    """Result of ``fit``.

    Attributes
    ----------
    coef : ndarray (n_features,); for the multinomial model (n_classes, n_features),
        also with n_classes = 2 (y given as an (n, 2) matrix of soft labels)
    intercept : float (0.0 without intercept); multinomial: ndarray (n_classes,)
    n_iter : int, iterations the solver ran
    converged : bool, whether the convergence test (see ``fit``'s tol) holds
    loss : float, J at the solution (with the penalties)
    grad_max : float, max|∇J| at the solution (the minimum-norm subgradient with l1 > 0)
    n_nonzero : int, the number of nonzero entries of coef (a property)
    l1 : float, the L1 strength of the fit (then ``df_model`` counts the nonzero ``params``)
    history : ndarray (n_iter + 1,), J at the start and after each iteration
    solver : str, the solver that ran ("auto" resolved)
    status : str, why it stopped: "converged", "max_iter", "rounding" (J no
        longer decreases in floating point), "line_search", "diverged" (gd's
        fixed learning_rate), "separation" or "non_finite" (``STATUS_REASONS``)
    message : str, that reason as a sentence, with what to do where it is not
        "converged" (the text of the ConvergenceWarning)
    stderr : ndarray (n_coef,), standard errors of ``params`` = [coef..., intercept]
    cov : ndarray (n_coef, n_coef), their covariance of type ``cov_type``
        (``solvers.inference``); "nonrobust" is the inverse of the Hessian of
        the summed negative log-likelihood Σ s_i ℓ_i (the usual MLE covariance,
        as statsmodels and Stata report it).  Only defined for l1 = l2 = 0: NaN when
        penalised (a penalised fit has no such sampling interpretation; ``fit``
        refuses the robust types there), when the
        Hessian is singular, when separation was detected, or above
        ``INFERENCE_MAX_COEF`` coefficients.  Evaluated at the returned coef
        (also when ``converged`` is False).  Where it is undefined, ``fit``
        does not build it: the NaN matrix is made on first access.
    cov_type : str, "nonrobust", "HC0", "HC1" or "cluster"
    n_obs : int, rows of positive weight
    loglike, llnull : float, Σ s_i log P(y_i | x_i) at the solution and for the
        intercept-only model (both without the penalty)
    feature_names : sequence of str, names of the columns of X: a tuple of the
        given names or a DataFrame's columns, else "x0", "x1", ... (a
        sequence that equals the tuple of those names)

    ``params``, ``zvalues``, ``pvalues``, ``conf_int(alpha)``, ``pseudo_r2``,
    ``llr``, ``llr_pvalue``, ``df_model``, ``aic``, ``bic`` and ``summary()``
    are computed from those (as statsmodels defines them; the log-likelihoods
    omit the penalty, so they describe the fitted coefficients, not the
    penalised objective).
    """

    coef: np.ndarray
    intercept: float
    n_iter: int
    converged: bool
    loss: float
    grad_max: float
    history: np.ndarray
    solver: str
    status: str
    message: str
    stderr: np.ndarray
    cov_type: str = "nonrobust"
    n_obs: int = 0
    loglike: float = np.nan
    llnull: float = np.nan
    feature_names: Sequence = ()
    n_classes: int = 2
    l1: float = 0.0
    _cov: np.ndarray | None = dataclasses.field(default=None, repr=False)

    def __repr__(self):
        """One line: what ran and where it stopped (the arrays are attributes)."""
        shape = (
            f"n_features={self.coef.shape[0]}, intercept={self.intercept:.6g}"
            if self._binary
            else f"n_classes={self.n_classes}, n_features={self.coef.shape[1]}"
        )
        return (
            f"FitResult(solver={self.solver!r}, status={self.status!r}, converged={self.converged}, "
            f"n_iter={self.n_iter}, loss={self.loss:.10g}, grad_max={self.grad_max:.3g}, {shape})"
        )

    @property
    def _binary(self):
        """Whether this is the binary model (coef a vector), not the multinomial one (also with 2 classes)."""
        return np.ndim(self.coef) == 1

    @property
    def n_nonzero(self):
        """The number of nonzero coefficients (intercepts not counted)."""
        return int(np.count_nonzero(self.coef))

    @property
    def cov(self):
        """The covariance of ``params`` flattened (see the class docstring)."""
        if self._cov is None:
            self._cov = np.full((self.stderr.size,) * 2, np.nan)
        return self._cov

    @property
    def params(self):
        """The parameters of ``stderr`` and ``cov``.

        Binary: [coef..., intercept] (without intercept: coef).  Multinomial:
        the reference-class parametrisation, row k − 1 = [coef[k] − coef[0],
        intercept[k] − intercept[0]] for k = 1..K−1, shape (K − 1, width).
        """
        if self._binary:
            return self.coef.copy() if self.stderr.shape[0] == self.coef.shape[0] else np.append(self.coef, self.intercept)
        rows = self.coef if self.stderr.shape[1] == self.coef.shape[1] else np.column_stack([self.coef, self.intercept])
        return rows[1:] - rows[0]

    @property
    def zvalues(self):
        """params / stderr (Wald z statistics)."""
        return self.params / self.stderr

    @property
    def pvalues(self):
        """Two-sided P(|Z| > |z|) for Z standard normal."""
        from scipy import stats

        return 2.0 * stats.norm.sf(np.abs(self.zvalues))

    def conf_int(self, alpha=0.05):
        """Wald confidence intervals params ± z_{1−α/2}·stderr, shape params.shape + (2,)."""
        from scipy import stats

        alpha = float(alpha)
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        half = stats.norm.isf(alpha / 2) * self.stderr
        return np.stack([self.params - half, self.params + half], axis=-1)

    @property
    def pseudo_r2(self):
        """McFadden's pseudo-R², 1 − loglike / llnull."""
        return 1.0 - self.loglike / self.llnull if self.llnull != 0 else np.nan

    @property
    def df_model(self):
        """The number of parameters besides the intercepts (those the likelihood-ratio test drops).

        With l1 > 0 only the nonzero ones count (as statsmodels' ``fit_regularized``).
        """
        if self.l1 > 0:
            return int(np.count_nonzero(self.params[..., : len(self.feature_names)]))
        return self.stderr.size - self._n_intercepts

    @property
    def _n_intercepts(self):
        """The intercepts among ``params``: 1, K − 1, or 0 without intercept."""
        has_intercept = self.stderr.shape[-1] > len(self.feature_names)
        return self.stderr.size // self.stderr.shape[-1] if has_intercept else 0

    @property
    def llr(self):
        """The likelihood-ratio statistic against the intercept-only model, 2 (loglike − llnull)."""
        return 2.0 * (self.loglike - self.llnull)

    @property
    def llr_pvalue(self):
        """P(χ²_{df_model} > llr)."""
        from scipy import stats

        return float(stats.chi2.sf(self.llr, self.df_model))

    @property
    def aic(self):
        """Akaike's criterion −2 loglike + 2k, k = df_model + the intercepts (the number of ``params`` for l1 = 0)."""
        return -2.0 * self.loglike + 2.0 * (self.df_model + self._n_intercepts)

    @property
    def bic(self):
        """Schwarz's criterion −2 loglike + k log n_obs."""
        return -2.0 * self.loglike + (self.df_model + self._n_intercepts) * np.log(self.n_obs)

    def summary(self, alpha=0.05):
        """The coefficient table and the fit's statistics, as a string to print."""
        from .inference import coefficient_table, format_table

        names = list(self.feature_names) + (["intercept"] if self.stderr.shape[-1] > len(self.feature_names) else [])
        if not self._binary:  # one block of rows per class against class 0
            names = [f"{name} [{k} vs 0]" for k in range(1, self.n_classes) for name in names]
        level = f"{100 * (1 - alpha):g}%"
        header = ("", "coef", "std err", "z", "P>|z|", f"[{level}", "interval]")
        facts = [
            f"Logistic regression     solver: {self.solver}   converged: {self.converged}   iterations: {self.n_iter}",
            f"observations: {self.n_obs}   log-likelihood: {self.loglike:.6g}   null: {self.llnull:.6g}   "
            f"pseudo-R²: {self.pseudo_r2:.4f}   LLR p-value: {self.llr_pvalue:.4g}",
            f"covariance: {self.cov_type}",
        ]
        columns = (self.params, self.stderr, self.zvalues, self.pvalues)
        rows = coefficient_table(names, *(c.ravel() for c in columns), self.conf_int(alpha).reshape(-1, 2))
        table = format_table(header, rows)
        return "\n".join(facts + [""] + table)


SOLVER_FUNCTIONS = {"newton": newton, "newton-cg": newton_cg, "lbfgs": lbfgs, "gd": gradient_descent}


def resolve_solver(solver, n_coef, multinomial=False):
    """"auto" → "newton" when n_coef ≤ AUTO_NEWTON_MAX_COEF (binary), else "lbfgs".

    Newton's Hessian costs ~n·n_coef²/2 per refresh and its factor n_coef³/3,
    so above 1000 coefficients L-BFGS (n·n_coef per pass) is cheaper.  L-BFGS
    runs on implicitly standardised columns (``scaling``), so unscaled data
    (money beside one-hot columns) no longer stall it, and where J's rounding
    does, ``finish_stalled`` takes over: on 50,000 × 1,500 such columns it
    converges in 2.5 s where Newton's iterations take 5.9 s (and the fit
    before it stopped at 1000 iterations, max|∇J| ≈ 900; 2 threads,
    benchmarks/results/unscaled_fits-2026-11-25.txt).

    Multinomial models get "lbfgs" always: their Hessian has K² blocks of
    the binary one's cost.  At 5·10⁵ × 50, K = 5, lbfgs took 0.85 s
    (standardised) and 2.9 s (unscaled) against Newton's 1.7 s and 5.6 s
    (benchmarks/results/multinomial_fits-2026-11-25.txt).
    """
    if solver != "auto":
        return solver
    if multinomial:
        return "lbfgs"
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
        if left <= 0 or (name == "newton" and objective.n_coef > NEWTON_FINISH_MAX_COEF):
            break
        more = SOLVER_FUNCTIONS[name](objective, out.coef, dataclasses.replace(options, max_iter=left))
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


def fit(
    X,
    y,
    *,
    l1=0.0,
    l2=0.0,
    penalty_weights=None,
    fit_intercept=True,
    sample_weight=None,
    offset=None,
    n_classes=None,
    solver="auto",
    tol=1e-8,
    max_iter=None,
    n_threads=None,
    backend="numba",
    callback=None,
    verbose=False,
    learning_rate=None,
    coef0=None,
    intercept0=None,
    cov_type="nonrobust",
    groups=None,
    feature_names=None,
    reuse_hessian=True,
):
    """Minimise J(coef) = (1/S) Σ s_i ℓ_i + l1 Σ_j π_j |w_j| + (l2/2) Σ_j π_j w_j² (see ``LogisticLoss``).

    Parameters
    ----------
    X, y, sample_weight, offset, fit_intercept, l2, backend, n_threads
        As for ``LogisticLoss`` (mean reduction, S = Σ s_i).
    l1 : float ≥ 0, default 0
        The L1 (lasso) strength; with l2 > 0 too, the elastic net.  The
        intercept is never penalised; multinomial models are penalised
        elementwise on coef (K, n_features).
    penalty_weights : (n_features,) array ≥ 0, optional
        π_j, the weight of feature j in both penalties (default 1; 0 leaves
        it unpenalised).
    n_classes : int, optional
        Fit the multinomial (softmax) model of ``MultinomialLoss`` when
        n_classes ≥ 3 is given, y is an (n, K) matrix of soft labels, or y's
        labels (integers 0..K−1) go beyond 1; otherwise the binary model.
        Then ``coef`` is (K, n_features) and ``intercept`` (K,); with l2 = 0
        the model is not identified and the centred solution is returned
        (Σ_k coef[k] = 0, Σ_k intercept[k] = 0), fitted in the
        reference-class parametrisation (``params``), whose ``stderr`` (K − 1,
        width) and ``cov`` statsmodels' MNLogit reports.  Every class needs
        samples of positive weight unless l1 or l2 > 0 (then a class without
        them gets intercept → −∞, stopped where the gradient is below tol).
        No ``offset``; ``cov_type`` "nonrobust" (or None) only.
    solver : {"auto", "newton", "lbfgs", "newton-cg", "gd", "cd"}
        "cd" is proximal Newton with coordinate descent on the penalised
        quadratic model (``solvers.penalised``), on working sets of features
        for wide X (beyond 4000 coefficients in the set, orthant-wise L-BFGS
        from loss+gradient passes alone); "auto" picks it when l1 > 0 or penalty_weights is given,
        and only it fits those.  Otherwise "auto" is "newton" for at most
        ``AUTO_NEWTON_MAX_COEF`` = 1000
        coefficients (intercept included), else "lbfgs"; "lbfgs" for
        multinomial models (``resolve_solver``).
        "lbfgs" and "newton-cg" work on implicitly standardised columns
        (``solvers.scaling``; X is neither copied nor changed); a run of
        either that stalls on J's rounding short of tol is finished by
        newton-cg (after lbfgs), then Newton (up to 5000 coefficients), and
        ``message`` says so.
    tol : float, default 1e-8
        Stop when max_j |∂J/∂coef_j| · max(1, 1/ρ_j) ≤ tol (with l1 > 0, ∂J
        is the minimum-norm subgradient, so this is the KKT test: for w_j ≠ 0,
        |g_j + l1 π_j sign w_j|, for w_j = 0, max(|g_j| − l1 π_j, 0), g the
        gradient of the smooth part), ρ_j the
        root-mean-square of column j (1 for the intercept): max|∇J| ≤ tol,
        held stricter on columns of small scale, where a small gradient
        entry can hide a coefficient far from its optimum
        (``LogisticLoss.converged``).
    max_iter : int, optional
        Iteration limit; None means 100 (newton), 200 (newton-cg),
        1000 (lbfgs), 100000 (gd), 500 (cd).
    callback : callable, optional
        Called as ``callback(coef)`` after every iteration with a copy of the
        iterate [w..., b].
    verbose : bool
        Print one line per iteration: iteration, J, max|∇J|, step size.
    learning_rate : float, optional
        Fixed step α for solver="gd" (default: backtracking); else ignored.
    coef0 : array (n_features,), optional
        Start from these coefficients (a warm start) instead of w = 0.
    intercept0 : float, optional
        Start from this intercept instead of logit of the weighted mean of y
        (needs ``fit_intercept=True``).
    cov_type : {"nonrobust", "HC0", "HC1", "cluster", None}, default "nonrobust"
        The covariance behind ``stderr`` (l1 = l2 = 0 only): model-based, the
        sandwich (HC0), HC0·n/(n − k), or cluster-robust by ``groups``; see
        ``fusedlogit.solvers.inference`` for the formulas.  A penalised fit
        has NaN ``stderr``, and refuses the robust types (ValueError).  None:
        no covariance at all (NaN ``stderr``), so no Hessian, no separation
        test and no warning about either: for fits that only want ``coef``.
    groups : array (n_samples,), optional
        Cluster labels (any hashable values, e.g. ints beside strings) for
        ``cov_type="cluster"``; rows of zero weight belong to no cluster.
    feature_names : sequence of n_features str, optional
        Names for the summary; default the columns of a DataFrame X, else
        "x0", "x1", ...
    reuse_hessian : bool, default True
        Let solver="newton" reuse a Hessian factor for the next step near the
        optimum (see ``solvers.newton``).  False refactors at every
        iteration, so that each one depends on its start point alone:
        ``max_iter=2`` is then one iteration warm-started from another.

    Returns
    -------
    FitResult

    Warns
    -----
    ConvergenceWarning
        The convergence test did not hold; the last finite iterate is returned.
        The text is ``FitResult.message``: the reason (``status`` "max_iter",
        "rounding", "line_search", "diverged" or "non_finite") and the advice
        that fits it.
    SeparationWarning
        With l2 = 0, the data look (quasi-)separable: after convergence, a
        Newton step from the returned point would still move some margin
        x̃_i·p by more than 0.5 although ∇J ≤ tol (J keeps falling towards
        an infimum at infinity; a singular H is factored with a shift for
        this); or, converged where H is numerically singular, H is flat along
        a direction that moves margins (``_flat_separating_direction``: where
        lbfgs stops far out along a separating direction); or, when not
        converged, every row is predicted with
        |margin| > 15 on the side of its label (``newton_core.is_separated``).
        A heuristic (statsmodels and Stata use similar ones).  The returned
        coefficients are finite but arbitrary in that direction; use l2 > 0.
        stderr and cov are then NaN; ``status`` is "separation" (and no
        other ConvergenceWarning is emitted).  A subclass of
        ConvergenceWarning.

    Raises
    ------
    ValueError
        For invalid arguments, naming the argument; also for binary labels
        that are all 0 or all 1 (among rows of positive weight) with
        ``fit_intercept=True``: the unpenalised intercept has no finite optimum.

    Notes
    -----
    Which solver: "newton" is robust on unscaled, correlated data (its cost
    per Hessian is ~d/2 gradient passes, reused near the optimum); "newton-cg"
    and "lbfgs" need only gradient and Hessian-vector passes, on columns they
    standardise implicitly, so column scales and offsets do not slow them (strong
    correlation still does); "gd" is the teaching path, the seeds' update on the
    original columns, and needs many iterations unless the data are well scaled.
    """
    check_choice("solver", solver, SOLVERS)
    if cov_type is not None:  # None: no covariance (see the docstring)
        check_choice("cov_type", cov_type, COV_TYPES)
    l1, l2 = check_penalty("l1", l1), check_l2(l2)
    penalised = l1 > 0 or penalty_weights is not None or solver == "cd"
    if penalised and solver not in ("auto", "cd"):
        raise ValueError(f"solver={solver!r} cannot fit l1 > 0 or penalty_weights; use solver='cd' or 'auto'")
    if cov_type not in (None, "nonrobust") and (penalised or l2 > 0):
        # No covariance is computed for a penalised fit (see FitResult.cov): a robust one asked for
        # would come back as NaN without a word.
        raise ValueError(
            f"cov_type={cov_type!r} needs an unpenalised fit (l1 = l2 = 0, no penalty_weights, solver other "
            "than 'cd'): a penalised estimate is biased towards 0, so Wald standard errors around it are not "
            "reported; use cov_type='nonrobust' (stderr is then NaN) or refit with l1 = l2 = 0"
        )
    check_choice("backend", backend, BACKENDS)
    tol = check_tol(tol)
    max_iter = check_max_iter(max_iter, None)  # None: the chosen solver's default, below
    learning_rate = None if learning_rate is None else check_positive("learning_rate", learning_rate)
    if callback is not None and not callable(callback):
        raise ValueError("callback must be callable or None")

    objective = build_objective(
        X, y, n_classes=n_classes, sample_weight=sample_weight, offset=offset, fit_intercept=fit_intercept,
        l2=0.0 if penalised else l2, backend=backend, n_threads=n_threads, penalised=l1 > 0 or l2 > 0,
    )  # penalised (solver "cd"): the Penalty carries l2
    multinomial = isinstance(objective, MultinomialLoss)
    problem = objective
    if multinomial:
        if cov_type not in (None, "nonrobust"):
            raise ValueError(f"cov_type must be 'nonrobust' for multinomial models, got {cov_type!r}")
        if l2 == 0.0 and not penalised:  # fit θ_k = coef_k − coef_0: identified there, its Hessian non-singular
            problem = ReferenceClassLoss(objective)
    if objective.n_coef == 0:
        raise ValueError("X has no columns and fit_intercept=False: there is no coefficient to fit")
    if (cov_type == "cluster") != (groups is not None):
        raise ValueError("groups is needed for cov_type='cluster', and only there")
    clusters = group_codes(groups, objective.n_samples, objective.weights()) if cov_type == "cluster" else None
    names = _feature_names(feature_names, X, objective.n_features)
    name = "cd" if penalised else resolve_solver(solver, problem.n_coef, multinomial)
    if penalised:
        weights = check_penalty_weights(penalty_weights, objective.n_features)
        penalty = Penalty(l1, l2, coefficient_weights(weights, objective.n_coef, objective.fit_intercept))
    options = SolverOptions(
        tol=tol,
        max_iter=DEFAULT_MAX_ITER[name] if max_iter is None else max_iter,
        callback=callback,
        verbose=bool(verbose),
        learning_rate=learning_rate,
        reuse_hessian=check_bool("reuse_hessian", reuse_hessian),
    )
    with fit_threads():  # BLAS at one thread, but where the caller gave n_threads (see _threads)
        start = start_point(objective, coef0, intercept0)
        if problem is not objective:
            start = problem.reduce(start)
        # Overflow in J, ∇J or H (columns of scale ~1e200) is handled where it matters: the solvers keep
        # the last finite iterate and the status and message say why, so NumPy's warnings only add noise.
        with np.errstate(over="ignore", invalid="ignore"):
            if penalised:
                out = proximal_newton(objective, penalty, start, options)
                stages = [(name, out)]
            else:
                out, stages = finish_stalled(name, problem, SOLVER_FUNCTIONS[name](problem, start, options), options)

        coef, loss, grad = out.coef, out.loss, out.grad
        grad_max = float(np.max(np.abs(grad)))
        converged = problem.converged(grad, options.tol) and bool(np.isfinite(loss))  # a NaN loss never converged
        cov, separated = None, False
        inference = l2 == 0.0 and not penalised and cov_type is not None
        if inference and problem.n_coef > INFERENCE_MAX_COEF:
            warnings.warn(
                f"stderr and cov are not computed for {problem.n_coef} > INFERENCE_MAX_COEF = {INFERENCE_MAX_COEF} "
                f"coefficients (their Hessian alone would take {8 * problem.n_coef**2 / 1e9:.1f} GB); "
                "nor is the test for separation",
                UserWarning,
                stacklevel=2,
            )
        elif inference:
            with np.errstate(over="ignore", invalid="ignore"):  # an overflowed H does not factor: NaN stderr
                cov, separated = _mle_covariance(problem, coef, grad, converged)
            if converged and cov is None and not separated and _flat_separating_direction(problem, coef):
                warnings.warn(SINGULAR_SEPARATION_MESSAGE, SeparationWarning, stacklevel=2)
                separated = True
            if cov is not None:
                cov = sandwich(problem, coef, cov, cov_type, clusters)
        if separated:
            status = "separation"  # the SeparationWarning has said so
        elif not np.isfinite(loss):
            status = "non_finite"
        else:
            status = "converged" if converged else out.status
        message = stop_message(status, stages, problem, out, options.tol)
        if status not in ("converged", "separation"):
            warnings.warn(message, ConvergenceWarning, stacklevel=2)
        stderr = np.full(problem.n_coef, np.nan) if cov is None else np.sqrt(np.diag(cov))
        if multinomial:
            full = centred(problem, coef, penalty.weights if penalised else None)
            d = objective.n_features
            w, b = full[:, :d].copy(), (full[:, d].copy() if objective.fit_intercept else np.zeros(full.shape[0]))
            stderr = stderr.reshape(-1, full.shape[1]) if problem is not objective else np.full(
                (full.shape[0] - 1, full.shape[1]), np.nan)
            coef = full.ravel()
        else:
            w, b = (coef[:-1].copy(), float(coef[-1])) if objective.fit_intercept else (coef.copy(), 0.0)
        return FitResult(
            coef=w,
            intercept=b,
            n_iter=out.n_iter,
            converged=converged,
            loss=loss,
            grad_max=grad_max,
            history=np.asarray(out.history, dtype=np.float64),
            solver=name,
            status=status,
            message=message,
            stderr=stderr,
            cov_type=cov_type,
            n_obs=objective.n_observations(),
            loglike=objective.log_likelihood(coef, loss - penalty.value(coef) if penalised else loss),
            llnull=objective.null_log_likelihood(),
            feature_names=names,
            n_classes=getattr(objective, "n_classes", 2),
            l1=l1,
            _cov=cov,
        )


class DefaultNames(Sequence):
    """The names x0..x{d-1}, made when asked for: a 50,000-column fit need not build 50,000 strings."""

    def __init__(self, d):
        self._d = d

    def __len__(self):
        return self._d

    def __getitem__(self, j):
        if isinstance(j, slice):
            return tuple(f"x{k}" for k in range(self._d)[j])
        return f"x{range(self._d)[j]}"

    def __eq__(self, other):
        return isinstance(other, Sequence) and not isinstance(other, str) and tuple(self) == tuple(other)

    def __hash__(self):
        return hash(tuple(self))

    def __repr__(self):
        return repr(tuple(self))


def _feature_names(names, X, d):
    """The caller's names, a DataFrame's column names, or x0..x{d-1} (``DefaultNames``): d strings."""
    if names is None:
        columns = getattr(X, "columns", None)
        if columns is None:
            return DefaultNames(d)
        names = list(columns)
    names = tuple(str(name) for name in names) if not isinstance(names, str) else (names,)
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} names but X has {d} columns")
    return names


#: ``_flat_separating_direction``: a direction whose curvature at the solution is at most this
#: fraction of its curvature at the start (every row it moves has p(1−p) ≲ 1e-10 there) is flat.
FLAT_CURVATURE_RATIO = 1e-10
#: ... among the directions whose curvature at the start is above this fraction of the largest
#: (below it, columns that are (nearly) collinear in X̃, which flatten H wherever it is taken).
START_RANGE_RATIO = 1e-10

SINGULAR_SEPARATION_MESSAGE = (
    "separation: with l2=0 the classes are (quasi-)perfectly separable, so the maximum-likelihood estimate "
    "does not exist: the Hessian at the returned coefficients is singular along a direction that moves the "
    "margins of rows predicted with certainty (the loss keeps decreasing along it); the finite coefficients "
    "returned are arbitrary in that direction and stderr is NaN; use l2 > 0"
)


def _flat_separating_direction(problem, coef):
    """Whether H(coef), singular at a converged l2 = 0 point, is flat where H at the start is not.

    Newton's separation test (``newton_core.is_separated``) needs a Newton
    step, and where H is numerically singular its shifted factor caps that
    step below the test's threshold: a first-order solver (lbfgs) that runs
    far along a separating direction before ∇J ≤ tol stops there unflagged.
    Such a direction v moves margins (vᵀH₀v > 0 at the start, where no row
    is saturated) yet has vᵀHv ≈ 0, because every row it moves is predicted
    with certainty; a direction of collinear columns is flat in H₀ too.  So:
    the smallest generalised eigenvalue of (H, H₀) on the range of H₀, both
    equilibrated by diag H₀, is at most ``FLAT_CURVATURE_RATIO``.  Costs two
    Hessians and an eigendecomposition, and runs only where H did not factor.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # huge columns: H overflows, and is not judged
        H0 = problem.hessian(problem.initial_coef())
        H = problem.hessian(coef)
        scale = np.sqrt(np.diag(H0))
        scale[~(scale > 0)] = 1.0
        H0 = H0 / scale[:, None] / scale[None, :]
        H = H / scale[:, None] / scale[None, :]
    if not (np.all(np.isfinite(H0)) and np.all(np.isfinite(H))):
        return False
    with blas_limits(problem.n_threads):
        lam, vectors = np.linalg.eigh(H0)
        keep = lam > START_RANGE_RATIO * lam[-1]
        basis = vectors[:, keep] / np.sqrt(lam[keep])  # H₀-orthonormal directions
        return bool(np.linalg.eigvalsh(basis.T @ H @ basis)[0] <= FLAT_CURVATURE_RATIO)


def _mle_covariance(objective, coef, grad, converged):
    """(cov, separated): cov = (S · H_J)⁻¹, the inverse Hessian of Σ s_i ℓ_i (l2 = 0), or None.

    None when H is singular or the separation test fires (then ``separated``).

    H_J is factored by ``newton_core.factor_hessian`` without a shift
    (equilibrated Cholesky: accurate even for cond(H) ~ 1e12 from column
    scales), and the separation test is ``newton_core.is_separated``, the
    same as for ``fit_many`` and ``fusedlogit.jit``.
    """
    from .newton_core import MAX_SHIFTS, is_separated

    H = objective.hessian(coef)
    exact = HessianFactor(H, max_shifts=1)
    move = 0.0
    if converged:
        factor = exact if exact.factored else HessianFactor(H, MAX_SHIFTS)
        move = objective.max_margin_move(factor.newton_step(grad))
    saturated = not converged and objective.saturated(coef)
    if is_separated(converged, move, saturated):
        warnings.warn(
            "separation: with l2=0 the classes are (quasi-)perfectly separable, so the maximum-likelihood "
            "estimate does not exist (the loss keeps decreasing as |coef| grows); the finite coefficients "
            "returned are arbitrary in that direction and stderr is NaN; use l2 > 0",
            SeparationWarning,
            stacklevel=3,
        )
        return None, True
    if not exact.factored:
        return None, False
    with blas_limits(objective.n_threads):  # O(n_coef³): BLAS does the work here
        return exact.inverse() / objective.sum_weights, False
