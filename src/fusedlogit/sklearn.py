"""A scikit-learn estimator around ``fusedlogit.fit`` (needs scikit-learn ≥ 1.6).

This is the only module that imports scikit-learn; the rest of the package
works without it.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, validate_data

from .backends.reference import expit
from .exceptions import ConvergenceWarning
from .solvers import SOLVERS, fit


class LogisticRegression(LinearClassifierMixin, BaseEstimator):
    """Binary logistic regression fitted by ``fusedlogit.fit``.

    Minimises the same objective as ``sklearn.linear_model.LogisticRegression``
    with the same C: with sample weights s_i (all ones by default)::

        C Σ s_i ℓ_i + ½||w||²   ⇔   J = (1/S) Σ s_i ℓ_i + (l2/2)||w||²,  l2 = 1/(C·S),  S = Σ s_i

    (the intercept is not penalised).  ``penalty=None`` fits the unpenalised MLE.

    Parameters
    ----------
    C : float > 0, default 1.0
        Inverse regularisation strength.
    penalty : {"l2", None}, default "l2"
    fit_intercept : bool, default True
    solver : {"auto", "newton", "lbfgs", "newton-cg", "gd"}, default "auto"
        See ``fusedlogit.fit``.
    tol : float, default 1e-8
        Stop when max|∇J| ≤ tol.
    max_iter : int, optional
        Iteration limit; None is the solver's default (see ``fusedlogit.fit``).
    n_threads : int, optional
        Threads for the kernels and BLAS; default all cores.

    Attributes
    ----------
    classes_ : ndarray (2,), the labels; ``classes_[1]`` is the positive class.
    coef_ : ndarray (1, n_features)
    intercept_ : ndarray (1,)
    n_iter_ : ndarray (1,)
    n_features_in_, feature_names_in_ : as usual in scikit-learn.

    Warnings from the solver (no convergence, separation) are re-emitted as
    ``sklearn.exceptions.ConvergenceWarning``.  More than two classes raise
    ``ValueError``.
    """

    def __init__(self, C=1.0, penalty="l2", fit_intercept=True, solver="auto", tol=1e-8, max_iter=None, n_threads=None):
        self.C = C
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_threads = n_threads

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and two-class y; returns self."""
        if self.penalty not in ("l2", None):
            raise ValueError(f"penalty must be 'l2' or None, got {self.penalty!r}")
        if not isinstance(self.C, numbers.Real) or not np.isfinite(self.C) or self.C <= 0:
            raise ValueError(f"C must be a finite number > 0, got {self.C!r}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {list(SOLVERS)}, got {self.solver!r}")
        X, y = validate_data(
            self, X, y, accept_sparse=("csr", "csc", "coo"), dtype=[np.float64, np.float32], order="C"
        )
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type}; "
                "multinomial logistic regression is not available yet."
            )
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(
                f"This solver needs samples of 2 classes in the data, but the data contain only one class: "
                f"{self.classes_[0]!r}"
            )
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        total = float(sample_weight.sum(dtype=np.float64))
        if total <= 0:
            raise ValueError("sample_weight sums to zero")
        l2 = 0.0 if self.penalty is None else 1.0 / (self.C * total)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            result = fit(
                X,
                (y == self.classes_[1]).astype(X.dtype),
                l2=l2,
                fit_intercept=self.fit_intercept,
                sample_weight=sample_weight,
                solver=self.solver,
                tol=self.tol,
                max_iter=self.max_iter,
                n_threads=self.n_threads,
            )
        for w in caught:  # the solver's own warning class becomes scikit-learn's
            category = SklearnConvergenceWarning if issubclass(w.category, ConvergenceWarning) else w.category
            warnings.warn(str(w.message), category, stacklevel=2)

        self.coef_ = result.coef.reshape(1, -1)
        self.intercept_ = np.array([result.intercept])
        self.n_iter_ = np.array([result.n_iter])
        return self

    def predict_proba(self, X):
        """Columns [P(classes_[0]), P(classes_[1])], shape (n_samples, 2)."""
        z = self.decision_function(X)
        return np.column_stack([expit(-z), expit(z)])  # 1 − σ(z) = σ(−z), exact in the tail

    def predict_log_proba(self, X):
        """log of ``predict_proba``, shape (n_samples, 2)."""
        z = self.decision_function(X)
        # log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z): exact in both tails
        return np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = True
        return tags
