"""What ``fit`` returns: ``FitResult`` with its statistics and summary, and the feature names it carries."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from .._validation import column_names


@dataclasses.dataclass(repr=False)
class FitResult:
    """Result of ``fit``.

    Attributes
    ----------
    coef : ndarray (n_features,); for the multinomial model (n_classes, n_features),
        also with n_classes = 2 (y given as an (n, 2) matrix of soft labels)
    intercept : float (0.0 without intercept and for the ordinal model); multinomial: ndarray (n_classes,)
    thresholds : ndarray (n_classes − 1,), the ordinal model's thresholds (strictly
        increasing: P(y ≤ k | x) = σ(thresholds[k] − x·coef)); None for the others
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
        (ordinal: [coef..., thresholds...]); labelled where X was a table (below)
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
    n_passes : float, the passes over X the fit made, from checking X to the
        covariance (``LogisticLoss.n_passes``: a pass over a row subsample
        counts its share of the rows; a Hessian counts as one read of X,
        though it costs ~d/2 times a gradient pass's arithmetic)

    coding : how a table or formula X became the design (``tables.Coding``,
        ``formulas.FormulaCoding``), or None; ``predict_proba`` applies it to
        new tables.  With it, ``params``, ``stderr``, ``zvalues`` and ``pvalues``
        are pandas Series indexed by the parameters' names (the design's
        columns, then the intercept: "intercept", or "Intercept" from a
        formula; the ordinal thresholds "threshold k|k+1"), and
        ``conf_int()`` a DataFrame with columns 0 and 1 (lower, upper).  The
        multinomial model's are DataFrames with a row per class k = 1..K−1
        (against class 0) and a column per name; its ``conf_int()`` has rows
        (k, name).  Without it they are arrays.

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
    _stderr: np.ndarray
    cov_type: str = "nonrobust"
    n_obs: int = 0
    loglike: float = np.nan
    llnull: float = np.nan
    feature_names: Sequence = ()
    n_classes: int = 2
    thresholds: np.ndarray | None = None
    l1: float = 0.0
    n_passes: float = np.nan
    coding: object = dataclasses.field(default=None, repr=False)
    _cov: np.ndarray | None = dataclasses.field(default=None, repr=False)

    def __repr__(self):
        """One line: what ran and where it stopped (the arrays are attributes)."""
        if self.thresholds is not None:
            shape = f"n_levels={self.n_classes}, n_features={self.coef.shape[0]}"
        elif self._binary:
            shape = f"n_features={self.coef.shape[0]}, intercept={self.intercept:.6g}"
        else:
            shape = f"n_classes={self.n_classes}, n_features={self.coef.shape[1]}"
        return (
            f"FitResult(solver={self.solver!r}, status={self.status!r}, converged={self.converged}, "
            f"n_iter={self.n_iter}, loss={self.loss:.10g}, grad_max={self.grad_max:.3g}, {shape})"
        )

    def predict_proba(self, X, offset=None, unseen="error"):
        """The fitted model's probabilities for the rows of X: (n_samples,) P(y = 1 | x) for the binary model,
        (n_samples, K) for the multinomial and ordinal ones (``fusedlogit.predict_proba``).

        A model fitted on a table or formula takes a table with the same
        columns, coded alike (``coding``); a level unseen in training raises
        ValueError naming the column and the level, unless ``unseen="zero"``
        gives it no contribution.
        """
        if self.coding is not None:
            X = self.coding.encode(X, unseen=unseen, allow_empty=True)
        if self.thresholds is not None:
            from ..ordinal import predict_proba

            return predict_proba(X, self.coef, self.thresholds, offset)
        from ..objective import predict_proba

        if not self._binary and offset is not None:
            raise ValueError("offset is not supported for multinomial models")
        return predict_proba(X, self.coef, self.intercept, offset)

    @property
    def _binary(self):
        """Whether coef is a vector (the binary or ordinal model), not the multinomial one's matrix (also K = 2)."""
        return np.ndim(self.coef) == 1

    @property
    def n_nonzero(self):
        """The number of nonzero coefficients (intercepts not counted)."""
        return int(np.count_nonzero(self.coef))

    @property
    def cov(self):
        """The covariance of ``params`` flattened (see the class docstring)."""
        if self._cov is None:
            self._cov = np.full((self._stderr.size,) * 2, np.nan)
        return self._cov

    @property
    def params(self):
        """The parameters of ``stderr`` and ``cov`` (labelled where X was a table: see ``coding``).

        Binary: [coef..., intercept] (without intercept: coef).  Multinomial:
        the reference-class parametrisation, row k − 1 = [coef[k] − coef[0],
        intercept[k] − intercept[0]] for k = 1..K−1, shape (K − 1, width).
        Ordinal: [coef..., thresholds...].
        """
        return self._labelled(self._params)

    @property
    def _params(self):
        if self.thresholds is not None:
            return np.concatenate([self.coef, self.thresholds])
        if self._binary:
            return self.coef.copy() if self._stderr.shape[0] == self.coef.shape[0] else np.append(self.coef, self.intercept)
        rows = self.coef if self._stderr.shape[1] == self.coef.shape[1] else np.column_stack([self.coef, self.intercept])
        return rows[1:] - rows[0]

    @property
    def stderr(self):
        """Standard errors of ``params`` (see the class docstring)."""
        return self._labelled(self._stderr)

    @property
    def zvalues(self):
        """params / stderr (Wald z statistics)."""
        return self._labelled(self._params / self._stderr)

    @property
    def pvalues(self):
        """Two-sided P(|Z| > |z|) for Z standard normal."""
        from scipy import stats

        return self._labelled(2.0 * stats.norm.sf(np.abs(self._params / self._stderr)))

    def conf_int(self, alpha=0.05):
        """Wald confidence intervals params ± z_{1−α/2}·stderr, shape params.shape + (2,) (a DataFrame where X
        was a table: see ``coding``)."""
        from scipy import stats

        alpha = float(alpha)
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        half = stats.norm.isf(alpha / 2) * self._stderr
        bounds = np.stack([self._params - half, self._params + half], axis=-1)
        if self.coding is None:
            return bounds
        import pandas as pd

        names = self.param_names
        if self._binary:
            return pd.DataFrame(bounds, index=pd.Index(names), columns=[0, 1])
        index = pd.MultiIndex.from_product([range(1, self.n_classes), names])
        return pd.DataFrame(bounds.reshape(-1, 2), index=index, columns=[0, 1])

    @property
    def param_names(self):
        """The names of ``params``' entries (of each row of the multinomial model's): the features', then the
        intercept's (``coding``'s name for it, else "intercept") or the ordinal thresholds'."""
        if self.thresholds is not None:
            return list(self.feature_names) + [f"threshold {k}|{k + 1}" for k in range(self.thresholds.size)]
        intercept = "intercept" if self.coding is None else self.coding.intercept_name
        return list(self.feature_names) + ([intercept] if self._stderr.shape[-1] > len(self.feature_names) else [])

    def _labelled(self, values):
        """``values`` shaped like params, as a Series (a DataFrame for the multinomial model) where X was a table."""
        if self.coding is None:
            return values
        import pandas as pd

        if values.ndim == 1:
            return pd.Series(values, index=pd.Index(self.param_names))
        return pd.DataFrame(values, index=pd.Index(range(1, self.n_classes)), columns=pd.Index(self.param_names))

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
            return int(np.count_nonzero(self._params[..., : len(self.feature_names)]))
        return self._stderr.size - self._n_intercepts

    @property
    def _n_intercepts(self):
        """The intercepts among ``params``: 1, K − 1 (multinomial rows; ordinal thresholds), or 0 without intercept."""
        if self.thresholds is not None:
            return self.thresholds.size
        has_intercept = self._stderr.shape[-1] > len(self.feature_names)
        return self._stderr.size // self._stderr.shape[-1] if has_intercept else 0

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
        from scipy import stats

        from .inference import coefficient_table, format_table

        self.conf_int(alpha)  # checks alpha
        names = self.param_names
        if not self._binary:  # one block of rows per class against class 0
            names = [f"{name} [{k} vs 0]" for k in range(1, self.n_classes) for name in names]
        level = f"{100 * (1 - alpha):g}%"
        header = ("", "coef", "std err", "z", "P>|z|", f"[{level}", "interval]")
        title = "Ordinal logistic regression" if self.thresholds is not None else "Logistic regression"
        facts = [
            f"{title}     solver: {self.solver}   converged: {self.converged}   iterations: {self.n_iter}",
            f"observations: {self.n_obs}   log-likelihood: {self.loglike:.6g}   null: {self.llnull:.6g}   "
            f"pseudo-R²: {self.pseudo_r2:.4f}   LLR p-value: {self.llr_pvalue:.4g}",
            f"covariance: {self.cov_type}",
        ]
        columns = (self._params, self._stderr, self._params / self._stderr)
        pvalues = 2.0 * stats.norm.sf(np.abs(columns[2]))
        half = stats.norm.isf(float(alpha) / 2) * self._stderr
        bounds = np.stack([self._params - half, self._params + half], axis=-1)
        rows = coefficient_table(names, *(c.ravel() for c in (*columns, pvalues)), bounds.reshape(-1, 2))
        table = format_table(header, rows)
        return "\n".join(facts + [""] + table)


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


def feature_names_of(names, X, d, coding=None):
    """The caller's names, the design's (``coding``: a table's or formula's), a DataFrame's column names, or
    x0..x{d-1} (``DefaultNames``): d strings."""
    if names is None and coding is not None:
        names = coding.feature_names
    if names is None:
        names = column_names(X)
        if names is None:
            return DefaultNames(d)
    names = tuple(str(name) for name in names) if not isinstance(names, str) else (names,)
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} names but X has {d} columns")
    return names
