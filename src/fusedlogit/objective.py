"""The objectives: what every model shares (``Objective``), and the binary model defined once.

For rows x_i, labels y_i ∈ [0, 1], sample weights s_i ≥ 0 and coefficients
``coef = [w_1..w_d, b]`` (intercept last; ``[w_1..w_d]`` without intercept)::

    z_i = x_i·w + b + o_i,   ℓ_i = softplus(z_i) − y_i z_i,   p_i = σ(z_i)
    J(coef) = (1/S) Σ s_i ℓ_i + (l2/2)·||w||²
    ∇_w J   = (1/S) X^T (s ⊙ (p − y)) + l2·w,    ∂J/∂b = (1/S) Σ s_i (p_i − y_i)
    H       = (1/S) X̃^T diag(s ⊙ p(1−p)) X̃ + l2·I_w

with S = Σ s_i for ``reduction="mean"`` and S = 1 for ``"sum"``; o_i is a
known offset (0 by default); X̃ is X with a column of ones when there is an
intercept, which is never penalised.  A
backend (``fusedlogit.backends``: fused dense or CSR kernels, the NumPy
reference, dask chunks) computes the sums over samples; the scaling and the
penalty are applied in ``Objective``, once, for every model and backend.

A model is a subclass of ``Objective`` beside ``LogisticLoss`` (e.g.
``multinomial.MultinomialLoss``, ``ordinal.OrdinalLoss``): its loss name in
``backends.LOSSES``, its coefficient ``Layout``, how a coefficient vector
splits into the backend's (W, b), its start point and its null model.  The
base and the binary model share this module (about 520 lines): the binary
model is the base's plainest instance, and its ``predict_proba`` is the
public one that dispatches to the others.
"""

from __future__ import annotations

import numpy as np

from ._threads import interruptible
from ._validation import (
    as_coef,
    as_offset,
    check_bool,
    check_choice,
    check_finite,
    check_l2,
    check_n_threads,
    check_positive,
    check_weight_sum,
    prediction_features,
)
from .backends import BACKENDS, make_backend
from .backends.reference import expit
from .layout import Layout

REDUCTIONS = ("mean", "sum")


class Objective:
    """What every model's objective shares: the data (a backend), the 1/S scaling, the l2 penalty on
    the feature coefficients, the public derivatives, the convergence test and its column weights, and
    what the solvers may read of the data.

    A model subclass sets ``loss_name`` (its key in ``backends.LOSSES``) and ``_make_layout``, and
    splits a coefficient vector into the backend's arguments (``_split``: (W, b)); the backend's sums
    come back shaped like [W | b] (one row per row of the layout), and are scaled and penalised here.
    """

    #: the model's key in ``backends.LOSSES``
    loss_name = None
    #: how a table or formula became X (``tables.Coding``, ``formulas.FormulaCoding``): set by ``model.build_objective``
    coding = None
    #: entries after the features in each row of the backend's sums: the intercept's, present also
    #: without one (then dropped here); the ordinal model's thresholds
    _sum_constants = 1

    def _build(self, X, y, sample_weight, fit_intercept, l2, reduction, backend, n_threads, **labels):
        """Check the options, build the backend (``labels``: ``offset``, or ``n_classes``) and set up."""
        check_choice("backend", backend, BACKENDS)
        check_choice("reduction", reduction, REDUCTIONS)
        l2 = check_l2(l2)
        if backend == "numba":
            from . import _config

            n_threads = check_n_threads(n_threads, _config.max_threads())
        else:
            n_threads = check_n_threads(n_threads)
        data = make_backend(X, y, sample_weight, loss=self.loss_name, backend=backend, n_threads=n_threads, **labels)
        self._setup(data, check_bool("fit_intercept", fit_intercept), l2, reduction, backend)
        self._requested_threads = n_threads  # as given: None lets the NumPy backend follow the caller's limits

    def _setup(self, data, fit_intercept, l2, reduction, backend):
        self._data = data
        self.l2 = l2
        self.fit_intercept = bool(fit_intercept)
        self.reduction = reduction
        self.backend = backend
        self.n_threads = data.n_threads
        n, d = data.shape
        self.n_samples, self.n_features = n, d
        self.layout = self._make_layout(data)
        self.n_coef = self.layout.n_coef
        if reduction == "sum":
            self.sum_weights = 1.0
        else:
            total = data.weight_sum()
            check_weight_sum(total)  # dask: the chunks' sums were checked one by one
            if total <= 0:
                raise ValueError("sample_weight sums to zero: the mean loss is undefined")
            self.sum_weights = total
        self._scale = 1.0 / self.sum_weights
        self._gradient_weights = None
        self._column_rms = None
        self._subsample = None
        # reading X to build the backend (checking it, or copying it) is one pass; a dense backend built by
        # ``fit`` leaves it to the first pass over X, and counts it here if something else reads X first
        pending = getattr(data, "check_pending", False)
        self._passes = [0.0 if pending else 1.0]
        self._pass_share = 1.0  # what one pass over these rows counts (a row subsample: its share of X)
        if pending:
            data.on_check = self._count_passes

    def _count_passes(self, passes=1):
        self._passes[0] += passes * self._pass_share

    @property
    def n_passes(self):
        """Passes over X made through this objective so far: its construction and every call that reads X
        (loss, gradient, hessp, hessian, probabilities, column statistics, …), a pass over a row subsample
        counted as its share of the rows.  A Hessian is one read of X, though at d features it costs about
        d/2 times the arithmetic of a gradient pass."""
        return self._passes[0]

    # the validated data, as the backend holds them (never copies made per call)
    X = property(lambda self: self._data.X, doc="X as used: float32/float64, C order, CSR or dask.")
    y = property(lambda self: self._data.y, doc="y as used, in X's dtype.")
    sample_weight = property(lambda self: self._data.sample_weight, doc="Weights as used, or None (all ones).")
    offset = property(lambda self: self._data.offset, doc="The offset as used (float64), or None.")

    def _make_layout(self, data):
        """The coefficient ``Layout`` of this model on these data."""
        raise NotImplementedError

    def _split(self, coef, name="coef"):
        """The backend's (W, b) from a coefficient vector (b = 0 without intercept)."""
        raise NotImplementedError

    def _finish_loss(self, W, loss_sum):
        return float(self._scale * loss_sum + 0.5 * self.l2 * np.vdot(W, W))

    def _finish_sums(self, sums, V, like):
        """Scale the data term's sums [V-shaped | intercepts], add l2·V, drop the intercepts if unused;
        flat unless ``like`` (the caller's coefficients) was 2-D."""
        out = self._scale * sums
        out[..., : V.shape[-1]] += self.l2 * V
        if not self.fit_intercept:
            out = out[..., :-1]
        return np.ascontiguousarray(out) if np.ndim(like) == 2 else out.ravel()

    def _data_terms(self, coef, want_loss, want_grad):
        W, b = self._split(coef)
        self._count_passes()
        loss, grad = self._data.loss_gradient_sums(W, b, want_loss, want_grad)
        return W, loss, grad

    # -- public API ---------------------------------------------------------------
    @interruptible
    def loss(self, coef):
        """J(coef) as a float."""
        W, loss, _ = self._data_terms(coef, True, False)
        return self._finish_loss(W, loss)

    @interruptible
    def gradient(self, coef):
        """∇J(coef), in coef's shape."""
        W, _, grad = self._data_terms(coef, False, True)
        return self._finish_sums(grad, W, coef)

    @interruptible
    def loss_gradient(self, coef):
        """(J(coef), ∇J(coef)) from one pass over X."""
        W, loss, grad = self._data_terms(coef, True, True)
        return self._finish_loss(W, loss), self._finish_sums(grad, W, coef)

    @interruptible
    def hessp(self, coef, v):
        """H(coef) @ v, in v's shape, from one pass over X."""
        W, b = self._split(coef)
        V, vb = self._split(v, "v")
        self._count_passes()
        return self._finish_sums(self._data.hessp_sums(W, b, V, vb), V, v)

    @interruptible
    def hessian(self, coef, features=None):
        """H(coef), shape (n_coef, n_coef), rows and columns in the flat order of coef.

        With ``features`` (m sorted column indices) only those of the
        coefficients of those columns and of the intercepts: (R(m + 1), R(m + 1))
        for R rows of coefficients (R·m without intercept).
        """
        W, b = self._split(coef)
        self._count_passes()
        return self._finish_hessian(self._data.hessian_sums(W, b, features))

    @interruptible
    def level_hessian(self, coef):
        """H(coef) as a ``backends.categorical.LevelHessian`` (scaled, l2 added, the intercept's row kept only if
        fitted), where the data are a table and the model has its Hessian in blocks; else None."""
        if not self._data.has_level_hessian:
            return None
        W, b = self._split(coef)
        blocks = self._data.level_hessian_sums(W, b)
        self._count_passes()
        H = blocks.finished(self._scale, self.l2, self.n_features)
        return H if self.fit_intercept else H.without(self.n_features)

    @property
    def newton_size(self):
        """The side of the dense matrix Newton factors: n_coef, or the rest of a ``level_hessian``'s blocks."""
        return self._data.newton_size(self.n_coef)

    @interruptible
    def loss_gradient_hessian(self, coef, features):
        """(J, ∇J, H over ``features``) at coef: ``loss_gradient`` and ``hessian(coef, features)`` together.

        One pass over X where the backend fuses them (``fuses_hessian``: a
        binary model on dense X, where a row adds (m + 1)(m + 2)/2
        multiply-adds for m features; for few features), else a pass and a
        Hessian.
        """
        W, b = self._split(coef)
        features = np.arange(self.n_features) if features is None else np.asarray(features, dtype=np.int64)
        self._count_passes(1 if self._data.fuses_hessian else 2)
        loss, grad, H = self._data.loss_gradient_hessian_sums(W, b, features)
        return self._finish_loss(W, loss), self._finish_sums(grad, W, coef), self._finish_hessian(H)

    @property
    def fuses_hessian(self):
        """Whether ``loss_gradient_hessian`` reads X once."""
        return self._data.fuses_hessian

    def _finish_hessian(self, sums):
        """The Hessian from its sums: scaled, l2 on the features' diagonal, the intercepts' rows kept if fitted."""
        H = self._scale * sums
        index = np.arange(H.shape[0]).reshape(self.layout.n_rows, -1)
        weights = index[:, : index.shape[1] - self._sum_constants].ravel()  # the features' places in each row
        H[weights, weights] += self.l2
        return H if self.fit_intercept else H[np.ix_(weights, weights)]

    def predict_proba(self, coef):
        """The model's probabilities for the data held, float64."""
        self._count_passes()
        return self._data.probabilities(*self._split(coef))

    # -- the data, as the solvers may see them ----------------------------------------
    @property
    def sparse(self):
        """Whether X is a scipy.sparse matrix (then ``sparse_columns`` and ``sparse_column_counts`` exist)."""
        return self._data.sparse

    def labels(self):
        """The labels as a NumPy array, as the model reads them (a dask y is computed)."""
        return np.asarray(self._data.y)

    def weights(self):
        """The sample weights s_i as a float64 NumPy array (n_samples,), ones without weights."""
        given = self._data.sample_weight
        return np.ones(self.n_samples) if given is None else np.asarray(given, dtype=np.float64)

    def label_range(self):
        """(min, max) of the labels over the rows of positive weight, as floats (a dask y: computed here)."""
        return self._data.label_range()

    def row_products(self, rows, coef):
        """X[rows] @ coefᵀ in float64, (len(rows), k), for k rows of feature coefficients (k, n_features).

        A gather of those rows only (dense, CSR or dask): callers bound ``rows``.
        """
        return self._data.row_products(rows, coef)

    def largest_weight(self):
        """max_i s_i as a float, None without weights (a dask vector: computed here)."""
        return self._data.largest_weight()

    def weights_divided(self, c):
        """This objective (which has weights) with sample weights s_i / c; X, y and the caller's weights are
        shared, not touched.

        The backends form their sums from their own weight vector, so the copy
        gets a shallow copy of the data with a new, scaled vector (exact for c
        a power of two).
        """
        import copy

        other = copy.copy(self)
        other._data = self._data.weights_divided(c)
        return other

    def sparse_columns(self):
        """Sparse X in CSC form, made once and kept (as large as X): for solvers that walk its columns."""
        return self._data.columns()

    def sparse_column_counts(self):
        """The stored entries of every column of sparse X, (n_features,), counted once."""
        return self._data.column_counts()

    def reweighted(self, sample_weight):
        """The same model on the same X and labels (shared, not copied) with these sample weights."""
        other = object.__new__(type(self))
        other._build(self._data.features, self._data.y, sample_weight, self.fit_intercept, self.l2, self.reduction,
                     self.backend, getattr(self, "_requested_threads", self.n_threads), **self._label_options())
        return other

    def _label_options(self):
        """What ``_build`` needs besides X, y and the weights to make this model again."""
        return {"offset": self._data.offset}

    # -- what the solvers need beyond J and its derivatives ----------------------
    def converged(self, grad, tol):
        """The convergence test of ``fit``: max_j |∂J/∂coef_j| · max(1, 1/ρ_j) ≤ tol.

        ρ_j is the root-mean-square of column j, sqrt(Σ s_i x_ij² / Σ s_i) (1
        for the intercept and for all-zero columns).  On a column of scale
        1e-8 a gradient entry below tol can still hide a coefficient that is
        off by tol/1e-8 in margin units, so such columns are held to a
        stricter test; on columns of scale 1 or more it is max|∇J| ≤ tol.
        ρ takes one pass over X, made once, when max|∇J| ≤ tol first holds.

        For ρ_j < 1, |∂J/∂coef_j| / ρ_j is the gradient in the coordinate
        θ_j = ρ_j coef_j of the standardised column x_j/ρ_j, where J's
        curvature is h̄_j = Σ s_i p_i(1−p_i) x_ij² / Σ s_i x_ij² ≤ 1/4 for every
        column, rare or common; so the test asks the same precision of J,
        a decrease of about tol²/(2 h̄_j), of every column.  It is reachable
        on a rare one-hot column (ρ = √f, f its share of the rows) as on a
        common one; solvers that move only some columns must rank the others
        in these units too (``penalised.WorkingSet``).
        """
        g = np.abs(np.asarray(grad, dtype=np.float64))
        if not float(g.max(initial=0.0)) <= tol:  # also False for NaN
            return False
        return float((g * self.gradient_weights()).max(initial=0.0)) <= tol

    def gradient_weights(self):
        """max(1, 1/ρ_j) for every coefficient, as ``converged`` applies them (see there).

        The weights of one row [w..., constants] of coefficients (1 at the
        intercepts or thresholds), repeated for every row of the layout.
        """
        if self._gradient_weights is None:
            row = np.ones(self.layout.width)
            rms = self._rms()
            small = (rms > 0) & (rms < 1)
            row[: self.n_features][small] = 1.0 / rms[small]
            self._gradient_weights = np.tile(row, self.layout.n_rows)
        return self._gradient_weights

    def _rms(self):
        """ρ_j = sqrt(Σ s_i x_ij² / Σ s_i), (n_features,): one pass over X, made once."""
        if self._column_rms is None:
            self._count_passes(self._data.column_statistics_passes)
            self._column_rms = np.sqrt(self._data.column_sum_squares() / self._data.weight_sum())
        return self._column_rms

    def column_moments(self):
        """(μ, ρ): weighted column means Σ s_i x_ij / Σ s_i and root-mean-squares, each (n_features,).

        Two passes over X (ρ is cached with ``gradient_weights``); for
        preconditioners and column-scale diagnostics.  X is never copied.
        """
        self._count_passes(self._data.column_statistics_passes)
        return self._data.column_sums() / self._data.weight_sum(), self._rms()

    def row_subsample(self, step):
        """The same objective (mean reduction) on every ``step``-th row; None if those rows carry no weight.

        The last one made is kept: a path of fits asks for the same subsample at every penalty.
        """
        if self._subsample is None or self._subsample[0] != step:
            data = self._data.subsample(step)
            sub = None
            if data.weight_sum() > 0:
                sub = object.__new__(type(self))
                sub._setup(data, self.fit_intercept, self.l2, "mean", self.backend)
                sub._passes, sub._pass_share = self._passes, self._pass_share * data.shape[0] / self.n_samples
                sub._count_passes()  # gathering and checking its rows
            self._subsample = (step, sub)
        return self._subsample[1]

    def max_margin_move(self, step):
        """max over positive-weight rows i and coefficient rows k of |x̃_i·step_k| (step shaped like coef)."""
        W, b = self._split(step, "step")
        W, b = np.atleast_2d(W), np.atleast_1d(b)
        self._count_passes(W.shape[0])
        return max(self._data.max_abs_margin(W[k], float(b[k])) for k in range(W.shape[0]))

    def saturated(self, coef):
        """Every positive-weight row's label predicted with probability > 1 − σ(−SATURATED_MARGIN)
        (hard labels only; ``kernels.pointwise``)."""
        self._count_passes()
        return self._data.all_saturated(*self._split(coef))

    def n_observations(self):
        """The number of rows of positive weight."""
        return self._data.positive_weight_count()

    def log_likelihood(self, coef, loss=None):
        """Σ s_i log P(y_i | x_i) = −Σ s_i ℓ_i at coef; ``loss`` = J(coef), if known, saves the pass."""
        W, _ = self._split(coef)
        loss = self.loss(coef) if loss is None else loss
        return -self.sum_weights * (loss - 0.5 * self.l2 * float(np.vdot(W, W)))

    def __repr__(self):
        classes = f"n_classes={self.n_classes}, " if getattr(self, "n_classes", None) else ""
        return (
            f"{type(self).__name__}(n_samples={self.n_samples}, n_features={self.n_features}, {classes}"
            f"dtype={self.X.dtype}, fit_intercept={self.fit_intercept}, l2={self.l2}, "
            f"reduction={self.reduction!r}, backend={self.backend!r}, n_threads={self.n_threads})"
        )


class LogisticLoss(Objective):
    """Loss, gradient, Hessian-vector product and Hessian of J on fixed data.

    Parameters
    ----------
    X : array, scipy.sparse matrix or dask array of shape (n_samples, n_features)
        Real (float, int or bool) matrix without NaN or inf.  float32 and
        float64 are kept as they are; other dtypes become float64.  For
        ``backend="numba"``, X that is not C-contiguous (Fortran order, a
        strided view) is copied to C order once, here, never per call; a
        C-contiguous float32/float64 X (a memory map too) is used without copy.
        Sparse X is converted once to canonical CSR (no copy if it already
        is) and computed by CSR kernels.  A dask array is split in row
        chunks; see ``fusedlogit.backends.chunked``.
    y : array of shape (n_samples,)
        Labels in [0, 1]: 0/1, booleans, or soft labels.  With a dask X, y
        and sample_weight may be NumPy or dask arrays.
    sample_weight : array of shape (n_samples,), optional
        Non-negative weights s_i; default (None) all ones.
    offset : array of shape (n_samples,), optional
        A known term o_i added to every margin (e.g. a log exposure or an
        earlier model's logit), kept in float64; default (None) none.
    fit_intercept : bool, default True
        If True, ``coef`` has n_features + 1 entries, the intercept last.
    l2 : float, default 0.0
        Ridge strength on w (never on the intercept).
    reduction : {"mean", "sum"}, default "mean"
        Scale the data term by 1/Σs_i ("mean") or not ("sum").
    backend : {"numba", "numpy"}, default "numba"
        "numba": fused one-pass compiled kernels.  "numpy": the reference path.
    n_threads : int, optional
        Threads for the kernels (numba) and for BLAS (both backends); default
        all cores.  With the NumPy backend and ``n_threads=None`` any
        threadpoolctl limit set by the caller applies.

    Notes
    -----
    Results are float64 whatever X's dtype; float32 X is never upcast in
    memory (the kernels accumulate in float64).  The numba backend gives
    bitwise identical results for any thread count.  The object keeps a
    reference to X: do not modify X while using it.
    """

    loss_name = "binary"

    @interruptible
    def __init__(
        self,
        X,
        y,
        *,
        sample_weight=None,
        offset=None,
        fit_intercept=True,
        l2=0.0,
        reduction="mean",
        backend="numba",
        n_threads=None,
    ):
        self._build(X, y, sample_weight, fit_intercept, l2, reduction, backend, n_threads, offset=offset)

    def _make_layout(self, data):
        return Layout(1, data.shape[1], self.fit_intercept)  # one row [w, b]

    def _split(self, coef, name="coef"):
        """(w, b) from a vector of length n_coef (b = 0 without intercept)."""
        coef = as_coef(coef, self.n_coef, self.fit_intercept, name)
        if self.fit_intercept:
            return np.ascontiguousarray(coef[:-1]), float(coef[-1])
        return np.ascontiguousarray(coef), 0.0

    def row_curvatures(self, coef):
        """D_i = s_i p_i(1 − p_i) / Σs (mean reduction), (n_samples,): H = X̃ᵀ diag(D) X̃ + l2 on w."""
        w, b = self._split(coef)
        self._count_passes()
        return self._scale * self._data.curvatures(w, b)

    def initial_coef(self):
        """Zeros, with the intercept at logit(weighted mean of y) when there is one.

        That start is the exact MLE of the intercept-only model, so the first
        step only has to fit w.
        """
        coef = np.zeros(self.n_coef)
        if self.fit_intercept:
            mean = self._data.label_mean()
            if 0.0 < mean < 1.0:
                coef[-1] = np.log(mean / (1.0 - mean))
        return coef

    # -- what inference needs (``solvers.inference``) -----------------------------------
    def score_gram(self, coef):
        """Σ_i g_i g_iᵀ, shape (n_coef, n_coef), the scores g_i = s_i (p_i − y_i) x̃_i unscaled (one pass)."""
        self._count_passes()
        full = self._data.score_gram_sums(*self._split(coef))
        return full if self.fit_intercept else full[:-1, :-1]

    def score_group_sums(self, coef, n_groups, codes):
        """Σ_{i: codes_i = g} g_i for g = 0..n_groups−1, shape (n_groups, n_coef) (one pass)."""
        self._count_passes()
        full = self._data.score_group_sums(*self._split(coef), n_groups, codes)
        return full if self.fit_intercept else full[:, :-1]

    def null_log_likelihood(self):
        """The log-likelihood of the intercept-only model (with the offset, if any) at its MLE."""
        return self._data.null_log_likelihood()


@interruptible
def predict_proba(X, coef=None, intercept=0.0, offset=None, unseen="error"):
    """P(y = 1 | x) = σ(x·coef + intercept + offset) for every row of X, shape (n_samples,).

    Stable for any margin: σ is evaluated from e^{−|z|}, so ±1000 give exactly
    1 and 0 (and tiny margins in the tails stay positive, never 0/0).  X with
    no rows gives an empty array.  A 2-D coef (K, n_features) with intercept
    (K,) (or 0) gives the multinomial probabilities softmax(X coefᵀ +
    intercept), shape (n_samples, K), max-shifted (exact for any margin).

    ``predict_proba(result, X, offset=None)`` with a ``FitResult`` of any
    model gives its probabilities (``FitResult.predict_proba``): (n_samples,)
    for the binary model, (n_samples, K) for the multinomial and ordinal ones; a result of a fit on a table
    or formula takes a table, and ``unseen`` says what an unseen level gives (``FitResult.predict_proba``).
    """
    if callable(getattr(type(X), "predict_proba", None)):  # a FitResult (a class with the method) first
        return X.predict_proba(coef, offset=offset, unseen=unseen)
    if coef is None:
        raise ValueError("coef is required: predict_proba(X, coef, intercept=0.0, offset=None)")
    X = prediction_features(X)
    if np.ndim(coef) == 2:
        if offset is not None:
            raise ValueError("offset is not supported for multinomial models")
        return _softmax_probabilities(X, coef, intercept)
    coef = as_coef(coef, X.shape[1], False)
    intercept = float(intercept)
    if not np.isfinite(intercept):
        raise ValueError("intercept must be finite")
    check_finite("coef", coef)
    z = X @ coef.astype(X.dtype) + intercept
    return expit(z if offset is None else z + as_offset(offset, X.shape[0]))


def _softmax_probabilities(X, coef, intercept):
    from scipy.special import softmax

    coef = np.asarray(coef, dtype=np.float64)
    K, d = coef.shape
    if d != X.shape[1]:
        raise ValueError(f"coef must have shape (n_classes, {X.shape[1]}) = (n_classes, n_features), got {coef.shape}")
    intercept = np.asarray(intercept, dtype=np.float64)
    if intercept.shape not in ((), (K,)):
        raise ValueError(f"intercept must be a number or have shape ({K},) = (n_classes,), got {intercept.shape}")
    check_finite("coef", coef)
    check_finite("intercept", intercept)
    Z = np.asarray(X @ coef.T.astype(X.dtype), dtype=np.float64) + intercept
    return softmax(Z, axis=1)


def check_gradient(fun, grad, x0, eps=1e-6):
    """Largest relative error of ``grad`` against central differences of ``fun``.

    fd_i = (fun(x0 + eps·e_i) − fun(x0 − eps·e_i)) / (2·eps), and the error of
    component i is |grad_i − fd_i| / max(|grad_i|, |fd_i|, floor) with
    floor = 1e-6·max(1, max_i |fd_i|), so components near zero are compared
    absolutely.  A correct gradient gives ~1e-7 or less; a gradient wrong by 1%
    in any component that is not negligible gives ≈ 1e-2.
    """
    eps = check_positive("eps", eps)
    x0 = np.array(x0, dtype=np.float64).ravel()
    g = np.asarray(grad(x0.copy()), dtype=np.float64).ravel()
    if g.shape != x0.shape:
        raise ValueError(f"grad returned shape {g.shape}, expected {x0.shape}")
    fd = np.empty_like(x0)
    for i in range(x0.size):
        step = np.zeros_like(x0)
        step[i] = eps
        fd[i] = (float(fun(x0 + step)) - float(fun(x0 - step))) / (2 * eps)
    floor = 1e-6 * max(1.0, float(np.max(np.abs(fd), initial=0.0)))
    denom = np.maximum(np.maximum(np.abs(g), np.abs(fd)), floor)
    return float(np.max(np.abs(g - fd) / denom, initial=0.0))
