"""The multinomial (softmax) objective, defined once.

Rows x_i, classes k = 0..K−1, labels Y_ik (one-hot of an integer label, or
soft labels with Σ_k Y_ik = 1), weights s_i::

    z_ik = x_i·w_k + b_k,   ℓ_i = logsumexp_k(z_ik) − Σ_k Y_ik z_ik,   p_i = softmax(z_i)
    J(W, b) = (1/S) Σ s_i ℓ_i + (l2/2)·||W||²_F
    ∇_{w_k} J = (1/S) Σ s_i (p_ik − Y_ik) x_i + l2·w_k,   ∂J/∂b_k = (1/S) Σ s_i (p_ik − Y_ik)
    H V       = (1/S) Σ_i s_i x̃_i [p_ik (u_ik − Σ_l p_il u_il)]_k + l2·V_W,   u_ik = x̃_i·ṽ_k

with S = Σ s_i ("mean") or 1 ("sum"); b is never penalised.  ``coef`` is the
flat C-order vector of the (K, d + 1) matrix [W | b] (intercept last in
each row; (K, d) without intercept), or that matrix itself.  A backend
(``fusedlogit.backends``: the fused ``kernels.softmax`` or the NumPy
reference) computes the sums over samples; scaling and penalty are applied
here.
"""

from __future__ import annotations

import numpy as np

from ._threads import interruptible
from .layout import Layout
from .objective import Objective


class MultinomialLoss(Objective):
    """Loss, gradient, Hessian-vector product and Hessian of the softmax objective J on fixed data.

    Parameters
    ----------
    X : array, scipy.sparse matrix or dask array (n_samples, n_features)
        As for ``LogisticLoss`` (float32/float64 kept, never upcast).
    y : array (n_samples,) or (n_samples, K)
        Integer labels 0..K−1 (integer-valued floats accepted), or soft
        labels: rows of non-negative numbers summing to 1.
    n_classes : int, optional
        K; default max(y) + 1, or Y's width.
    sample_weight, fit_intercept, l2, reduction, backend, n_threads
        As for ``LogisticLoss``; l2 penalises every entry of W.

    Attributes
    ----------
    n_classes : int, K
    n_coef : int, K·(n_features + 1) with an intercept, else K·n_features
    """

    loss_name = "multinomial"

    @interruptible
    def __init__(
        self,
        X,
        y,
        *,
        n_classes=None,
        sample_weight=None,
        fit_intercept=True,
        l2=0.0,
        reduction="mean",
        backend="numba",
        n_threads=None,
    ):
        self._build(X, y, sample_weight, fit_intercept, l2, reduction, backend, n_threads, n_classes=n_classes)

    def _setup(self, data, fit_intercept, l2, reduction, backend):
        super()._setup(data, fit_intercept, l2, reduction, backend)
        self.n_classes = data.n_classes

    def _make_layout(self, data):
        return Layout(data.n_classes, data.shape[1], self.fit_intercept)  # K rows [w_k, b_k]

    def _label_options(self):
        return {"n_classes": self.n_classes}

    # -- coefficients: flat (n_coef,) or (K, width) -------------------------------------
    def _split(self, coef, name="coef"):
        """(W (K, d), b (K,)) from coef; b = 0 without intercept."""
        a = np.asarray(coef, dtype=np.float64)
        K, width, d = self.n_classes, self.layout.width, self.n_features
        if a.shape not in ((self.n_coef,), (K, width)):
            raise ValueError(f"{name} must have shape ({self.n_coef},) or ({K}, {width}), got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or infinity")
        a = a.reshape(K, width)
        b = a[:, d].copy() if self.fit_intercept else np.zeros(K)
        return np.ascontiguousarray(a[:, :d]), b

    def class_shares(self):
        """π_k = Σ_i s_i Y_ik / Σ_i s_i, shape (K,)."""
        return self._data.class_shares()

    # -- what the solvers need (``gradient_weights`` and ``converged`` are Objective's) -----
    def initial_coef(self):
        """W = 0 and, with an intercept, b_k = log π_k − mean_l log π_l (π the weighted class shares).

        That is the (centred) maximum-likelihood intercept of the model without
        features, when every class occurs.
        """
        coef = np.zeros((self.n_classes, self.layout.width))
        if self.fit_intercept:
            shares = self.class_shares()
            if np.all(shares > 0):
                logs = np.log(shares)
                coef[:, -1] = logs - logs.mean()
        return coef.ravel()

    def null_log_likelihood(self):
        """Σ s_i Σ_k Y_ik log π_k, the model with intercepts only at its maximum."""
        from scipy.special import xlogy

        shares = self._data.class_shares()
        return self._data.weight_sum() * float(np.sum(xlogy(shares, shares)))


class ReferenceClassLoss:
    """The unpenalised multinomial J in the reference-class parametrisation θ_k = coef_k − coef_0, k = 1..K−1.

    With l2 = 0, J(W + 1cᵀ, b + 1c₀) = J(W, b): the K-class model is not
    identified and its Hessian is singular.  Fixing class 0 at zero removes
    exactly that direction (statsmodels' MNLogit does the same), so the
    solvers see a strictly convex problem with a non-singular Hessian, the
    (K−1)·width submatrix of the full one.  ``embed`` maps θ back.
    """

    def __init__(self, objective):
        self.objective = objective
        full = objective.layout
        self.layout = Layout(full.n_rows - 1, full.n_features, full.fit_intercept)  # classes 1..K−1
        self.n_coef = self.layout.n_coef
        self._width = full.width

    @property
    def newton_size(self):
        return self.n_coef

    def __getattr__(self, name):  # n_features, l2, fit_intercept, n_threads, sum_weights, ...
        return getattr(self.objective, name)

    def embed(self, theta):
        """The full flat coef with class 0's row zero."""
        return np.concatenate([np.zeros(self._width), np.asarray(theta, dtype=np.float64).ravel()])

    def _reduce(self, full):
        return np.asarray(full).reshape(-1, self._width)[1:].ravel()

    def reduce(self, coef):
        """θ of a full coef: every class's row minus class 0's."""
        rows = np.asarray(coef, dtype=np.float64).reshape(-1, self._width)
        return (rows[1:] - rows[0]).ravel()

    def loss(self, theta):
        return self.objective.loss(self.embed(theta))

    def gradient(self, theta):
        return self._reduce(self.objective.gradient(self.embed(theta)))

    def loss_gradient(self, theta):
        loss, grad = self.objective.loss_gradient(self.embed(theta))
        return loss, self._reduce(grad)

    def hessp(self, theta, v):
        return self._reduce(self.objective.hessp(self.embed(theta), self.embed(v)))

    def hessian(self, theta):
        return self.objective.hessian(self.embed(theta))[self._width :, self._width :]

    def gradient_weights(self):
        return self.objective.gradient_weights()[self._width :]

    converged = Objective.converged  # the same test, on the reduced gradient and its weights

    def initial_coef(self):
        return self.reduce(self.objective.initial_coef())

    def row_subsample(self, step):
        sub = self.objective.row_subsample(step)
        return None if sub is None else ReferenceClassLoss(sub)

    def max_margin_move(self, step):
        return self.objective.max_margin_move(self.embed(step))

    def saturated(self, theta):
        return self.objective.saturated(self.embed(theta))

    def log_likelihood(self, theta, loss=None):
        return self.objective.log_likelihood(self.embed(theta), loss)
