"""A scikit-learn estimator around ``fusedlogit.fit`` (needs scikit-learn ≥ 1.6).

This is the only module that imports scikit-learn; the rest of the package
works without it.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from .backends.reference import expit
from .exceptions import ConvergenceWarning
from ._validation import as_offset
from .multinomial import MultinomialLoss
from .objective import LogisticLoss
from .solvers import SOLVERS, fit
from .solvers.fitting import start_point


class LogisticRegression(LinearClassifierMixin, BaseEstimator):
    """Binary and multinomial logistic regression fitted by ``fusedlogit.fit``.

    Minimises the same objective as ``sklearn.linear_model.LogisticRegression``
    with the same C: with sample weights s_i (all ones by default)::

        C Σ s_i ℓ_i + ½||w||²   ⇔   J = (1/S) Σ s_i ℓ_i + (l2/2)||w||²,  l2 = 1/(C·S),  S = Σ s_i

    (the intercept is not penalised).  With more than two classes ℓ_i is the
    softmax (multinomial) loss and ||W||² the squared Frobenius norm, as in
    scikit-learn's multinomial model.  ``penalty=None`` or ``C=np.inf`` fits the
    unpenalised MLE.  With ``class_weight``, s_i is sample_weight_i times the
    weight of y_i's class, as in scikit-learn.

    Parameters
    ----------
    C : float > 0 or np.inf, default 1.0
        Inverse regularisation strength; ``np.inf`` means no penalty.
    penalty : {"l2", None}, default "l2"
    fit_intercept : bool, default True
    solver : {"auto", "newton", "lbfgs", "newton-cg", "gd"}, default "auto"
        See ``fusedlogit.fit``.
    tol : float, default 1e-8
        Stop when max|∇J| ≤ tol.
    max_iter : int, optional
        Iteration limit; None is the solver's default (see ``fusedlogit.fit``);
        0 keeps the start point.
    n_threads : int, optional
        Threads for the kernels and BLAS; default all cores.
    class_weight : dict, "balanced" or None, default None
        Weights of the classes, {label: weight}; "balanced" gives class c the
        weight S / (2 · S_c), with S the total and S_c class c's share of the
        sample weights, as scikit-learn computes it.
    warm_start : bool, default False
        Start from the previous fit's ``coef_`` and ``intercept_`` when their
        shapes still fit.

    Attributes
    ----------
    classes_ : ndarray (K,), the labels; with two, ``classes_[1]`` is the positive class.
    coef_ : ndarray (1, n_features) for two classes, (K, n_features) for more;
        X's dtype (float32 for float32 X)
    intercept_ : ndarray (1,) or (K,), X's dtype
    n_iter_ : ndarray (1,)
    n_features_in_, feature_names_in_ : as usual in scikit-learn.

    Warnings from the solver (no convergence, separation) are re-emitted as
    ``sklearn.exceptions.ConvergenceWarning``.  Without a penalty the
    multinomial coefficients are returned centred (Σ_k coef_[k] = 0, and so
    the intercepts), the one solution of the unidentified model.
    """

    def __init__(
        self,
        C=1.0,
        penalty="l2",
        fit_intercept=True,
        solver="auto",
        tol=1e-8,
        max_iter=None,
        n_threads=None,
        class_weight=None,
        warm_start=False,
    ):
        self.C = C
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_threads = n_threads
        self.class_weight = class_weight
        self.warm_start = warm_start

    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit on X (n_samples, n_features) and two-class y; returns self.

        ``offset`` (n_samples,), optional: a known term added to every margin
        (see ``fusedlogit.LogisticLoss``); pass the new rows' offset to the
        predict methods too.
        """
        if self.penalty not in ("l2", None):
            raise ValueError(f"penalty must be 'l2' or None, got {self.penalty!r}")
        if isinstance(self.C, (bool, np.bool_)) or not isinstance(self.C, numbers.Real) or not self.C > 0:
            raise ValueError(f"C must be a number > 0 (np.inf: no penalty), got {self.C!r}")
        if self.penalty is None and self.C != 1.0:
            warnings.warn("Setting penalty=None will ignore the C parameter", UserWarning, stacklevel=2)
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {list(SOLVERS)}, got {self.solver!r}")
        X, y = validate_data(
            self, X, y, accept_sparse=("csr", "csc", "coo"), dtype=[np.float64, np.float32], order="C"
        )
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"This solver needs samples of 2 classes in the data, but the data contain only one class: "
                f"{self.classes_[0]!r}"
            )
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        if self.class_weight is not None:
            weights = _class_weights(self.class_weight, self.classes_, y, sample_weight)
            sample_weight = sample_weight * weights[np.searchsorted(self.classes_, y)].astype(X.dtype)
        total = float(sample_weight.sum(dtype=np.float64))
        if total <= 0:
            raise ValueError("sample_weight sums to zero")
        l2 = 0.0 if self.penalty is None or np.isinf(self.C) else 1.0 / (self.C * total)
        K = len(self.classes_)
        rows = 1 if K == 2 else K
        coef0 = intercept0 = None
        if self.warm_start and getattr(self, "coef_", None) is not None and self.coef_.shape == (rows, X.shape[1]):
            coef0 = self.coef_[0] if K == 2 else self.coef_
            if self.fit_intercept:
                intercept0 = float(self.intercept_[0]) if K == 2 else self.intercept_
        if K == 2:
            labels = (y == self.classes_[1]).astype(X.dtype)
        else:
            if offset is not None:
                raise ValueError("offset is not supported for more than two classes")
            labels = np.searchsorted(self.classes_, y)
        if self.max_iter == 0:  # scikit-learn's meaning: no iteration, keep the start point
            if K == 2:
                objective = LogisticLoss(
                    X, labels, sample_weight=sample_weight, offset=offset, fit_intercept=self.fit_intercept
                )
            else:
                objective = MultinomialLoss(
                    X, labels, n_classes=K, sample_weight=sample_weight, fit_intercept=self.fit_intercept
                )
            start = start_point(objective, coef0, intercept0).reshape(rows, -1)
            warnings.warn("max_iter=0: no iteration was run; coef_ is the start point", SklearnConvergenceWarning,
                          stacklevel=2)
            d = X.shape[1]
            self.coef_ = start[:, :d].astype(X.dtype)
            self.intercept_ = (start[:, d] if self.fit_intercept else np.zeros(rows)).astype(X.dtype)
            self.n_iter_ = np.array([0])
            return self
        result = self._fit(X, labels, K, l2, sample_weight, offset, coef0, intercept0)
        self.coef_ = result.coef.reshape(rows, -1).astype(X.dtype)  # float32 X: float32 coef_, as scikit-learn
        self.intercept_ = np.atleast_1d(result.intercept).astype(X.dtype)
        self.n_iter_ = np.array([result.n_iter])
        return self

    def _fit(self, X, labels, n_classes, l2, sample_weight, offset, coef0, intercept0):
        """``fusedlogit.fit``, its warnings re-emitted as scikit-learn's ConvergenceWarning."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            result = fit(
                X,
                labels,
                l2=l2,
                fit_intercept=self.fit_intercept,
                sample_weight=sample_weight,
                offset=offset,
                n_classes=None if n_classes == 2 else n_classes,
                solver=self.solver,
                tol=self.tol,
                max_iter=self.max_iter,
                n_threads=self.n_threads,
                coef0=coef0,
                intercept0=intercept0,
            )
        for w in caught:  # the solver's own warning class becomes scikit-learn's
            category = SklearnConvergenceWarning if issubclass(w.category, ConvergenceWarning) else w.category
            warnings.warn(str(w.message), category, stacklevel=3)
        return result

    def decision_function(self, X, offset=None):
        """The margins x·coef_ + intercept_ (+ offset): (n_samples,) for two classes, else (n_samples, K)."""
        z = super().decision_function(X)
        if offset is None:
            return z
        if z.ndim == 2:
            raise ValueError("offset is not supported for more than two classes")
        return z + as_offset(offset, z.shape[0])

    def predict(self, X, offset=None):
        """The class of largest probability, shape (n_samples,)."""
        z = self.decision_function(X, offset)  # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(z, axis=1) if z.ndim == 2 else (z > 0).astype(int)]

    def predict_proba(self, X, offset=None):
        """P(classes_[k] | x), shape (n_samples, K): σ(∓z) for two classes, softmax(z) for more."""
        z = self.decision_function(X, offset)
        if z.ndim == 2:
            return softmax(z, axis=1)  # max-shifted: exact for any margin
        return np.column_stack([expit(-z), expit(z)])  # 1 − σ(z) = σ(−z), exact in the tail

    def predict_log_proba(self, X, offset=None):
        """log of ``predict_proba``, shape (n_samples, K)."""
        z = self.decision_function(X, offset)
        if z.ndim == 2:
            return log_softmax(z, axis=1)
        # log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z): exact in both tails
        return np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.input_tags.sparse = True
        return tags


def _class_weights(class_weight, classes, y, sample_weight):
    """scikit-learn's weights of ``classes`` (weighted counts for "balanced" where it supports them)."""
    try:
        return compute_class_weight(class_weight, classes=classes, y=y, sample_weight=sample_weight)
    except TypeError:  # scikit-learn without sample_weight in compute_class_weight
        return compute_class_weight(class_weight, classes=classes, y=y)
