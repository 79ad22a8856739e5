"""The ordinal (proportional-odds, cumulative logit) objective, defined once.

Rows x_i with levels k_i ∈ 0..K−1 (ordered), weights s_i, an optional
offset o_i, coefficients w (d,) and thresholds θ_0 < … < θ_{K−2}::

    P(y ≤ k | x) = σ(θ_k − η),   η_i = x_i·w + o_i,   θ_{−1} = −∞, θ_{K−1} = +∞
    ℓ_i = −log(σ(θ_{k_i} − η_i) − σ(θ_{k_i − 1} − η_i))
    J(w, θ) = (1/S) Σ s_i ℓ_i + (l2/2)·||w||²

with S = Σ s_i ("mean") or 1 ("sum").  ``coef`` = [w_1..w_d, θ_0..θ_{K−2}];
the thresholds hold the intercept (a constant added to every η shifts every
θ) and are never penalised.  J is convex in (w, θ) and +∞ unless θ is strictly
increasing (a level of positive weight would get probability ≤ 0), so every
solver's line search keeps θ ordered: J is evaluated as +∞ there, before any
pass over X.  A backend (``backends.ordinal``: the fused ``kernels.ordinal``
or the NumPy reference) computes the sums over samples; the scaling and the
penalty are ``Objective``'s.
"""

from __future__ import annotations

import numpy as np

from ._threads import interruptible
from ._validation import as_coef, as_offset, check_finite, prediction_features
from .backends.ordinal import level_probabilities
from .layout import Layout
from .objective import Objective


__all__ = ["OrdinalLoss", "level_probabilities", "predict_proba"]


class OrdinalLoss(Objective):
    """Loss, gradient, Hessian-vector product and Hessian of the proportional-odds J on fixed data.

    Parameters
    ----------
    X : array, scipy.sparse matrix or dask array (n_samples, n_features)
        As for ``LogisticLoss`` (float32/float64 kept, never upcast).
    y : array (n_samples,)
        Integer levels 0..K−1 in their order (integer-valued floats accepted).
    n_classes : int, optional
        K, the number of levels; default max(y) + 1.
    sample_weight, offset, l2, reduction, backend, n_threads
        As for ``LogisticLoss``; l2 penalises w only.

    Attributes
    ----------
    n_classes : int, K
    n_coef : int, n_features + K − 1
    """

    loss_name = "ordinal"

    @interruptible
    def __init__(
        self,
        X,
        y,
        *,
        n_classes=None,
        sample_weight=None,
        offset=None,
        l2=0.0,
        reduction="mean",
        backend="numba",
        n_threads=None,
    ):
        self._build(X, y, sample_weight, True, l2, reduction, backend, n_threads, offset=offset, n_classes=n_classes)

    def _setup(self, data, fit_intercept, l2, reduction, backend):
        self.n_classes = data.n_classes
        self._sum_constants = data.n_classes - 1  # the thresholds follow w in the backend's sums
        super()._setup(data, fit_intercept, l2, reduction, backend)

    def _make_layout(self, data):
        return Layout(1, data.shape[1], True, n_intercepts=data.n_classes - 1, intercept_sign=-1)

    def _label_options(self):
        return {"offset": self._data.offset, "n_classes": self.n_classes}

    def _split(self, coef, name="coef"):
        """(w (d,), θ (K − 1,)) from coef."""
        a = np.asarray(coef, dtype=np.float64)
        if a.shape != (self.n_coef,):
            raise ValueError(f"{name} must have shape ({self.n_coef},) = (n_features + n_classes - 1,), got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or infinity")
        d = self.n_features
        return np.ascontiguousarray(a[:d]), np.ascontiguousarray(a[d:])

    def _data_terms(self, coef, want_loss, want_grad):
        w, theta = self._split(coef)
        if not np.all(np.diff(theta) > 0):  # outside J's domain: +∞ there, without a pass over X
            return w, np.inf, np.full(self.n_coef, np.nan)
        self._count_passes()
        loss, grad = self._data.loss_gradient_sums(w, theta, want_loss, want_grad)
        return w, loss, grad

    def thresholds(self, coef):
        """θ of a coefficient vector, (K − 1,)."""
        return self._split(coef)[1]

    def class_shares(self):
        """π_k = Σ_i s_i [k_i = k] / Σ_i s_i, shape (K,)."""
        return self._data.class_shares()

    def initial_coef(self):
        """w = 0 and θ_k = logit(π_0 + … + π_k): the maximum-likelihood thresholds of the model without features
        (without offset), strictly increasing when every level has weight."""
        coef = np.zeros(self.n_coef)
        cumulative = np.cumsum(self.class_shares())[:-1]
        inside = np.clip(cumulative, 1e-12, 1.0 - 1e-12)
        theta = np.log(inside) - np.log1p(-inside)
        if not np.all(np.diff(theta) > 0):  # an empty level (refused by fit): spread the thresholds
            theta = np.arange(theta.shape[0], dtype=np.float64) - 0.5 * (theta.shape[0] - 1)
        coef[self.n_features :] = theta
        return coef

    def max_margin_move(self, step):
        """A bound on max_{i,k} |δθ_k − x_i·δw| over the rows of positive weight: max|x_i·δw| + max|δθ|."""
        w, theta = self._split(step, "step")
        self._count_passes()
        return self._data.max_abs_margin(w, 0.0) + float(np.max(np.abs(theta), initial=0.0))

    def null_log_likelihood(self):
        """Σ s_i log P(k_i) of the model with thresholds only (and the offset) at its maximum.

        Without offset Σ_k S π_k log π_k in closed form; with one, Newton's
        method on the thresholds, from ``initial_coef``.
        """
        from scipy.special import xlogy

        shares = self._data.class_shares()
        if self._data.offset is None:
            return self._data.weight_sum() * float(np.sum(xlogy(shares, shares)))
        return -_thresholds_only_loss(self, self.initial_coef()[self.n_features :])


def _thresholds_only_loss(objective, theta):
    """min over θ of Σ s_i ℓ_i with w = 0 (η = the offset), by damped Newton on the K − 1 thresholds."""
    from .backends.ordinal import level_curvatures, level_terms

    codes = np.asarray(objective.labels())
    s = objective.weights()
    eta = np.asarray(objective.offset, dtype=np.float64)
    T = theta.shape[0]

    def value(t):
        if not np.all(np.diff(t) > 0):
            return np.inf
        return float(s @ level_terms(eta, codes, t)[0])

    def sums(upper, lower):
        return np.bincount(codes, upper, minlength=T + 1)[:T] + np.bincount(codes, lower, minlength=T + 1)[1:]

    current = value(theta)
    for _ in range(100):
        _, a, c = level_terms(eta, codes, theta, want_loss=False)
        g = sums(s * a, s * c)
        huu, hll, hul = level_curvatures(eta, codes, theta)
        H = np.diag(sums(s * huu, s * hll))
        inner = (codes > 0) & (codes < T)
        off = np.bincount(codes[inner] - 1, s[inner] * hul[inner], minlength=T)[: T - 1]
        H[np.arange(1, T), np.arange(T - 1)] += off
        H[np.arange(T - 1), np.arange(1, T)] += off
        step = np.linalg.solve(H, g)
        t = 1.0
        while t > 1e-10:
            trial = theta - t * step
            trial_value = value(trial)
            if trial_value <= current:
                break
            t *= 0.5
        if not trial_value <= current:
            break
        theta, done = trial, current - trial_value <= 1e-15 * max(1.0, abs(current))
        current = trial_value
        if done and np.max(np.abs(g)) <= 1e-10 * max(1.0, float(s.sum())):
            break
    return current


@interruptible
def predict_proba(X, coef, thresholds, offset=None):
    """P(y = k | x) = σ(θ_k − η) − σ(θ_{k−1} − η), η = x·coef + offset, for every row of X and level k:
    shape (n_samples, K), each level's share computed without cancellation (``level_probabilities``)."""
    X = prediction_features(X)
    coef = as_coef(coef, X.shape[1], False)
    check_finite("coef", coef)
    theta = np.asarray(thresholds, dtype=np.float64)
    if theta.ndim != 1 or theta.size < 1 or not np.isfinite(theta).all() or not np.all(np.diff(theta) > 0):
        raise ValueError(f"thresholds must be 1 or more finite numbers, strictly increasing, got {thresholds!r}")
    eta = np.asarray(X @ coef.astype(X.dtype), dtype=np.float64)
    if offset is not None:
        eta = eta + as_offset(offset, X.shape[0])
    return level_probabilities(eta, theta)
