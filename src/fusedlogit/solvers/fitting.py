"""``fit``: minimise the objective J of the model y asks for (``model.build_objective``), then its inference.

The solver is "auto"'s choice or the caller's (``registry``); "cd" when l1 > 0
or ``penalty_weights`` is given.  Convergence means max_j |∂J/∂coef_j| ≤ tol
(the largest gradient entry, intercept included), in the column-scaled form of
``objective.converged``.  A solver that stops short of it returns its last
finite iterate and why (``SolverOutput.status``); a run of lbfgs or newton-cg
that stalls on J's rounding is finished by a more robust solver
(``registry.finish_stalled``); what is left short of tol gets
``converged=False``, a ``FitResult.status`` and ``message``, and a
``ConvergenceWarning`` with that message.  Standard errors and the separation
tests come from ``inference``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._threads import fit_threads
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
from ..tables import design_weights
from ..backends.dense import first_pass_checks
from ..exceptions import ConvergenceWarning, SeparationWarning
from ..multinomial import MultinomialLoss, ReferenceClassLoss
from ..ordinal import OrdinalLoss
from ..model import build_objective, centred, start_point
from .common import SolverOptions
from .inference import (
    COV_TYPES,
    INFERENCE_MAX_COEF,
    SINGULAR_SEPARATION_MESSAGE,
    flat_separating_direction,
    group_codes,
    mle_covariance,
    sandwich,
)
from .penalised import Penalty, coefficient_weights
from .registry import DEFAULT_MAX_ITER, SOLVER_FUNCTIONS, SOLVERS, finish_stalled, resolve_solver, stop_message
from .results import FitResult, feature_names_of

def fit(
    X,
    y=None,
    *,
    data=None,
    drop_first=None,
    missing="error",
    l1=0.0,
    l2=0.0,
    penalty_weights=None,
    fit_intercept=True,
    sample_weight=None,
    offset=None,
    model="auto",
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
        As for ``LogisticLoss`` (mean reduction, S = Σ s_i).  X may also be a
        table (pandas or polars DataFrame, pyarrow Table) whose categorical
        columns (pandas ``category``, polars ``Categorical``/``Enum``, Arrow
        dictionary) are kept as their codes, never one-hot encoded
        (``fusedlogit.tables``): the features are its numeric columns, then
        one per kept level, named ``column[level]``; or a formula such as
        ``"y ~ age + C(occupation)"`` on the table ``data`` (needs the
        ``formulaic`` library; ``fusedlogit.formulas``), its left-hand side
        then y.  The result is labelled then (``FitResult.coding``).
    data : table, optional
        The table a formula X is evaluated on.
    drop_first : bool or None, default None
        Whether each categorical column's first level has no coefficient.
        None: dropped when the fit is unpenalised (l1 = l2 = 0) with an
        intercept (the treatment coding that identifies the model, as
        statsmodels' formulas do; without intercept the first categorical
        keeps all its levels), kept when penalised (as glum and
        ``OneHotEncoder`` do).
    missing : {"error", "level"}, default "error"
        A missing value in a categorical column raises ValueError naming the
        column, unless "level" makes it a level of its own (``column[<missing>]``).
    l1 : float ≥ 0, default 0
        The L1 (lasso) strength; with l2 > 0 too, the elastic net.  The
        intercept is never penalised; multinomial models are penalised
        elementwise on coef (K, n_features).
    penalty_weights : (n_features,) array ≥ 0, optional
        π_j, the weight of feature j in both penalties (default 1; 0 leaves
        it unpenalised).  For a table X also one weight per column of the
        table (a categorical's for each of its levels), or a mapping from
        column names or design names (``column[level]``) to weights, the
        others 1 (``tables.Coding.design_weights``).
    model : {"auto", "binary", "multinomial", "ordinal"}, default "auto"
        The model (``fusedlogit.model``).  "auto" is "multinomial" or "binary"
        as described under ``n_classes``.  "ordinal" is the proportional-odds
        model of ``OrdinalLoss`` for ordered levels y = 0..K−1 (every level
        needs samples of positive weight): ``coef`` (n_features,) and
        ``thresholds`` (K − 1,), strictly increasing, with P(y ≤ k | x) =
        σ(thresholds[k] − x·coef − offset); ``intercept`` is 0.0 (the
        thresholds hold it; ``fit_intercept=False`` is refused), ``params``,
        ``stderr`` and ``cov`` cover [coef..., thresholds...], and the
        penalties apply to coef only.  ``cov_type`` "nonrobust" (or None) only.
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
        coefficients (intercept included), else "lbfgs", for every model
        (``resolve_solver``).
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
        ``max_iter=2`` is then one iteration warm-started from another (nor
        does Newton then start from a row subsample's solution).

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
        a direction that moves margins (``inference.flat_separating_direction``: where
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

    with first_pass_checks():  # X is checked by the first pass that reads it (the binary model's saves a pass)
        objective = build_objective(
            X, y, model=model, n_classes=n_classes, sample_weight=sample_weight, offset=offset,
            fit_intercept=fit_intercept, l2=0.0 if penalised else l2, backend=backend, n_threads=n_threads,
            penalised=l1 > 0 or l2 > 0, data=data, drop_first=drop_first,
            missing=missing,
        )  # penalised (solver "cd"): the Penalty carries l2
    multinomial = isinstance(objective, MultinomialLoss)
    ordinal = isinstance(objective, OrdinalLoss)
    problem = objective
    if (multinomial or ordinal) and cov_type not in (None, "nonrobust"):
        raise ValueError(f"cov_type must be 'nonrobust' for {objective.loss_name} models, got {cov_type!r}")
    if multinomial:
        if l2 == 0.0 and not penalised:  # fit θ_k = coef_k − coef_0: identified there, its Hessian non-singular
            problem = ReferenceClassLoss(objective)
    if objective.n_coef == 0:
        raise ValueError("X has no columns and fit_intercept=False: there is no coefficient to fit")
    if (cov_type == "cluster") != (groups is not None):
        raise ValueError("groups is needed for cov_type='cluster', and only there")
    clusters = group_codes(groups, objective.n_samples, objective.weights()) if cov_type == "cluster" else None
    coding = objective.coding
    names = feature_names_of(feature_names, X, objective.n_features, coding)
    name = "cd" if penalised else resolve_solver(solver, problem.newton_size)
    penalty = None
    if penalised:
        weights = check_penalty_weights(design_weights(coding, penalty_weights), objective.n_features)
        penalty = Penalty(l1, l2, coefficient_weights(weights, objective.layout))
    options = SolverOptions(
        tol=tol,
        max_iter=DEFAULT_MAX_ITER[name] if max_iter is None else max_iter,
        callback=callback,
        verbose=bool(verbose),
        learning_rate=learning_rate,
        reuse_hessian=check_bool("reuse_hessian", reuse_hessian),
        penalty=penalty,
        presolve=coef0 is None and intercept0 is None and reuse_hessian,
    )
    with fit_threads():  # BLAS at one thread, but where the caller gave n_threads (see _threads)
        start = start_point(objective, coef0, intercept0)
        if problem is not objective:
            start = problem.reduce(start)
        # Overflow in J, ∇J or H (columns of scale ~1e200) is handled where it matters: the solvers keep
        # the last finite iterate and the status and message say why, so NumPy's warnings only add noise.
        with np.errstate(over="ignore", invalid="ignore"):
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
                cov, separated = mle_covariance(problem, coef, grad, converged)
            if converged and cov is None and not separated and flat_separating_direction(problem, coef):
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
        elif ordinal:
            w, b = coef[: objective.n_features].copy(), 0.0
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
            _stderr=stderr,
            cov_type=cov_type,
            n_obs=objective.n_observations(),
            loglike=objective.log_likelihood(coef, loss - penalty.value(coef) if penalised else loss),
            llnull=objective.null_log_likelihood(),
            feature_names=names,
            n_classes=getattr(objective, "n_classes", 2),
            thresholds=objective.thresholds(coef).copy() if ordinal else None,
            l1=l1,
            n_passes=objective.n_passes,
            coding=coding,
            _cov=cov,
        )


