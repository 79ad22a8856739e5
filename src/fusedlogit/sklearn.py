"""scikit-learn estimators around ``fusedlogit.fit`` and ``fusedlogit.path`` (need scikit-learn ≥ 1.6).

This is the only module that imports scikit-learn; the rest of the package
works without it.  It holds the three estimators (about 700 lines) because
the scikit-learn conventions they translate (class encoding and weights, C
and l1_ratio into l1 and l2, warm starts, scorers) are shared by them.
"""

from __future__ import annotations

import inspect
import numbers
import warnings

import numpy as np
from scipy.special import log_softmax, softmax

from ._extras import needs_extra

with needs_extra("fusedlogit.sklearn", "scikit-learn", "sklearn"):
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
    from sklearn.linear_model._base import LinearClassifierMixin
    from sklearn.metrics import get_scorer, make_scorer
    from sklearn.model_selection import check_cv
    from sklearn.utils.class_weight import compute_class_weight
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .backends.reference import expit
from .exceptions import ConvergenceWarning
from ._validation import as_offset
from .model import build_objective, start_point
from .model import design as build_design
from .tables import CategoricalMatrix, has_categorical
from .ordinal import level_probabilities
from .solvers import SOLVERS, fit

PENALTIES = ("l2", "l1", "elasticnet", None)


class _LogisticClassifier(LinearClassifierMixin, BaseEstimator):
    """Predictions from ``classes_``, ``coef_`` and ``intercept_``, shared by both estimators."""

    def decision_function(self, X, offset=None):
        """The margins x·coef_ + intercept_ (+ offset): (n_samples,) for two classes, else (n_samples, K).

        A model fitted on a table with categorical columns takes such a table
        (coded as in training: ``coding_``).
        """
        if getattr(self, "coding_", None) is not None or isinstance(X, CategoricalMatrix):
            check_is_fitted(self)
            if not isinstance(X, CategoricalMatrix):
                validate_data(self, X, reset=False, skip_check_array=True)  # the feature names
                X = self.coding_.encode(X, allow_empty=True)
            z = X @ self.coef_.T.astype(np.float64) + self.intercept_
            z = z.ravel() if z.shape[1] == 1 else z
        else:
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


class LogisticRegression(_LogisticClassifier):
    """Binary and multinomial logistic regression fitted by ``fusedlogit.fit``.

    Minimises the same objective as ``sklearn.linear_model.LogisticRegression``
    with the same C and l1_ratio r: with sample weights s_i (all ones by default)::

        C Σ s_i ℓ_i + r ||w||₁ + ((1 − r)/2) ||w||²
            ⇔   J = (1/S) Σ s_i ℓ_i + l1 ||w||₁ + (l2/2) ||w||²,
                l1 = r/(C·S),  l2 = (1 − r)/(C·S),  S = Σ s_i

    with r = ``l1_ratio`` (the intercept is not penalised).  With more than two classes
    ℓ_i is the softmax (multinomial) loss and the norms are elementwise on W
    (||W||² the squared Frobenius norm), as in scikit-learn's multinomial model.
    ``C=np.inf`` fits the unpenalised MLE.  With ``class_weight``, s_i is
    sample_weight_i times the weight of y_i's class, as in scikit-learn; a
    class of zero total weight is fitted as scikit-learn does when penalised
    (its intercept falls until its gradient is below tol), and refused without
    a penalty (no finite solution).  The parameters are scikit-learn ≥ 1.8's.

    Parameters
    ----------
    C : float > 0 or np.inf, default 1.0
        Inverse regularisation strength; ``np.inf`` means no penalty.
    l1_ratio : float in [0, 1], default 0.0
        The l1 share r: 0 is the l2 penalty, 1 the l1 penalty (lasso).
    penalty : {"l2", "l1", "elasticnet", None}, deprecated
        Deprecated as in scikit-learn 1.8 (FutureWarning): "l2" is r = 0,
        "l1" r = 1, "elasticnet" r = ``l1_ratio`` and None no penalty, with
        scikit-learn's warnings where ``l1_ratio`` disagrees.
    fit_intercept : bool, default True
    solver : {"auto", "newton", "lbfgs", "newton-cg", "gd", "cd"}, default "auto"
        See ``fusedlogit.fit``; an l1 part (r > 0) needs "cd", which "auto" picks.
    tol : float, default 1e-8
        Stop when max|∇J| ≤ tol (the minimum-norm subgradient with an l1 part).
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
    drop_first : bool or None, default None
        For a table X with categorical columns (pandas ``category``, polars
        ``Categorical``/``Enum``, Arrow dictionary), taken without one-hot
        encoding (``fusedlogit.tables``): whether each categorical's first
        level has no coefficient.  None: dropped without a penalty (C = inf)
        and an intercept, kept otherwise (as ``OneHotEncoder`` keeps them).
        ``coef_`` then has a column per numeric column and kept level
        (``coding_.feature_names`` names them); the predict methods take
        such tables.

    Attributes
    ----------
    classes_ : ndarray (K,), the labels; with two, ``classes_[1]`` is the positive class.
    coef_ : ndarray (1, n_features) for two classes, (K, n_features) for more;
        X's dtype (float32 for float32 X)
    intercept_ : ndarray (1,) or (K,), X's dtype
    n_iter_ : ndarray (1,)
    n_features_in_, feature_names_in_ : as usual in scikit-learn.
    coding_ : ``fusedlogit.tables.Coding`` of a table X with categorical columns (None for other X).

    Warnings from the solver (no convergence, separation) are re-emitted as
    ``sklearn.exceptions.ConvergenceWarning``.  Without a penalty the
    multinomial coefficients are returned centred (Σ_k coef_[k] = 0, and so
    the intercepts), the one solution of the unidentified model.
    """

    def __init__(
        self,
        C=1.0,
        penalty="deprecated",
        l1_ratio=0.0,
        fit_intercept=True,
        solver="auto",
        tol=1e-8,
        max_iter=None,
        n_threads=None,
        class_weight=None,
        warm_start=False,
        drop_first=None,
    ):
        self.C = C
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_threads = n_threads
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.drop_first = drop_first

    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit on X (n_samples, n_features) and labels y; returns self.

        ``offset`` (n_samples,), optional: a known term added to every margin
        (see ``fusedlogit.LogisticLoss``; two classes only); pass the new
        rows' offset to the predict methods too.
        """
        _check_C(self.C)
        ratio = _l1_share(self.penalty, self.l1_ratio)
        if self.penalty is None and self.C != 1.0:
            warnings.warn("Setting penalty=None will ignore the C and l1_ratio parameters", UserWarning,
                          stacklevel=2)
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {list(SOLVERS)}, got {self.solver!r}")
        penalised = ratio is not None and not np.isinf(self.C)
        if penalised and ratio > 0 and self.solver not in ("auto", "cd"):
            raise ValueError(
                f"solver={self.solver!r} cannot fit an l1 part (l1_ratio={ratio}); use solver='cd' or 'auto'"
            )
        X, y, self.coding_ = _features(self, X, y, penalised, self.fit_intercept, self.drop_first,
                                       accept_sparse=("csr", "csc", "coo"), dtype=[np.float64, np.float32], order="C")
        check_classification_targets(y)
        self.classes_ = _classes(y)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        if self.class_weight is not None:
            weights = _class_weights(self.class_weight, self.classes_, y, sample_weight)
            sample_weight = sample_weight * weights[np.searchsorted(self.classes_, y)].astype(X.dtype)
        total = float(sample_weight.sum(dtype=np.float64))
        if total <= 0:
            raise ValueError("sample_weight sums to zero")
        l1 = ratio / (self.C * total) if penalised else 0.0
        l2 = (1.0 - ratio) / (self.C * total) if penalised else 0.0
        K = len(self.classes_)
        rows = 1 if K == 2 else K
        coef0 = intercept0 = None
        if self.warm_start and getattr(self, "coef_", None) is not None and self.coef_.shape == (rows, X.shape[1]):
            coef0 = self.coef_[0] if K == 2 else self.coef_
            if self.fit_intercept:
                intercept0 = float(self.intercept_[0]) if K == 2 else self.intercept_
        labels = _encode(y, self.classes_, X.dtype)
        if K > 2 and offset is not None:
            raise ValueError("offset is not supported for more than two classes")
        if K > 2 and not penalised:  # a penalty keeps such a class finite (see model.check_every_class_present)
            empty = np.flatnonzero(np.bincount(labels, weights=sample_weight, minlength=K) == 0)
            if empty.size:
                raise ValueError(
                    f"class {self.classes_.tolist()[empty[0]]!r} has zero total weight (class_weight or "
                    "sample_weight): without a penalty its coefficients have no finite value; use a finite C"
                )
        if self.max_iter == 0:  # scikit-learn's meaning: no iteration, keep the start point
            objective = build_objective(X, labels, n_classes=None if K == 2 else K, sample_weight=sample_weight,
                                        offset=offset, fit_intercept=self.fit_intercept, penalised=True)
            start = start_point(objective, coef0, intercept0)
            warnings.warn("max_iter=0: no iteration was run; coef_ is the start point", SklearnConvergenceWarning,
                          stacklevel=2)
            self.coef_ = objective.layout.features(start).astype(X.dtype)
            self.intercept_ = objective.layout.intercepts(start).astype(X.dtype)
            self.n_iter_ = np.array([0])
            return self
        with _sklearn_warnings():
            result = fit(
                X,
                labels,
                l1=l1,
                l2=l2,
                fit_intercept=self.fit_intercept,
                sample_weight=sample_weight,
                offset=offset,
                n_classes=None if K == 2 else K,
                solver=self.solver,
                tol=self.tol,
                max_iter=self.max_iter,
                n_threads=self.n_threads,
                coef0=coef0,
                intercept0=intercept0,
                cov_type=None,  # coef_ only: no Hessian, inverse or stderr warnings for penalty=None
                reuse_hessian=False,  # an iteration, as scikit-learn's warm start needs, depends on its start alone
            )
        self.coef_ = result.coef.reshape(rows, -1).astype(X.dtype)  # float32 X: float32 coef_, as scikit-learn
        self.intercept_ = np.atleast_1d(result.intercept).astype(X.dtype)
        self.n_iter_ = np.array([result.n_iter])
        return self


class LogisticRegressionCV(_LogisticClassifier):
    """``LogisticRegression`` with C (and l1_ratio) chosen by cross-validation, like scikit-learn's.

    For every fold, l1_ratio r and C of the grid, the estimator fits
    ``LogisticRegression(C, l1_ratio=r)``'s objective on the fold's
    training rows, exactly as scikit-learn does: one ``fusedlogit.path`` per
    fold and r (warm-started, decreasing α; for r = 0 warm-started
    ``fusedlogit.fit`` runs with the l2 solvers of ``LogisticRegression``) with::

        α = 1/(C·S_train),  l1 = r·α,  l2 = (1 − r)·α,   S_train = Σ_{i ∈ train} s_i

    The held-out rows enter with weight 0, so X is not copied.  S_train is
    each fold's own, so the minimiser is scikit-learn's for the same C even
    with unequal folds or weights (``fusedlogit.cv`` shares one α grid among
    the folds, which is that only when every fold has the same training
    weight, and scores without scikit-learn's scorers).  The score of each
    fit on its held-out rows is ``scoring``; the (C, r) of the largest score
    summed over folds wins (the first in Cs, then l1_ratios order on ties, as
    scikit-learn), and with ``refit`` the model is fitted on all rows with it
    (α = 1/(C·S)).

    Parameters
    ----------
    Cs : int or array of floats > 0, default 10
        The grid of C; an int n means ``np.logspace(-4, 4, n)``.
    l1_ratios : array of floats in [0, 1], default (0.0,)
        The grid of r (scikit-learn 1.10's default; None is (0,), deprecated).
    cv : int, cross-validation splitter or iterable of (train, test), default 5
        As scikit-learn's ``check_cv`` for classifiers: an int is
        ``StratifiedKFold(cv)`` (unshuffled).
    scoring : None, str or callable, default None
        None is accuracy (``score``); a scikit-learn scorer name
        ("neg_log_loss", "roc_auc", ...) or a scorer(estimator, X, y).  With
        ``sample_weight``, it is passed to the scorer for the held-out rows
        (without the class weights), as scikit-learn does.
    refit : bool, default True
        Refit on all rows at the best (C, r); else ``coef_`` and
        ``intercept_`` are the mean over folds of each fold's best fit, ``C_``
        and ``l1_ratio_`` the mean of the folds' best values.
    penalty : {"l2", "l1", "elasticnet"}, deprecated
        As for ``LogisticRegression``: "l2" and "l1" ignore ``l1_ratios``
        (grid [0.] or [1.]), "elasticnet" uses it.
    fit_intercept, tol, max_iter, n_threads, class_weight
        As for ``LogisticRegression``; "balanced" class weights are computed
        once on all rows, as scikit-learn does.
    random_state : ignored
        For scikit-learn's signature: the fits are deterministic, and an int
        ``cv`` does not shuffle (pass a splitter that does).
    verbose : bool, default False
        Print ``fusedlogit.path``'s line per α (``fit``'s per iteration for r = 0).
    drop_first : bool or None, default None
        As for ``LogisticRegression`` (None keeps every level: the grid is penalised).

    Attributes
    ----------
    Cs_ : ndarray (n_cs,); l1_ratios_ : ndarray (n_l1_ratios,) ([1.] for penalty="l1", [0.] for "l2")
    scores_ : ndarray (n_folds, n_l1_ratios, n_cs), higher is better
    n_iter_ : ndarray (n_folds, n_l1_ratios, n_cs), the fits' iterations (at least 1)
    coefs_paths_ : ndarray (n_folds, n_l1_ratios, n_cs, 1 or K, n_features [+ 1 intercept])
    C_, l1_ratio_ : float, the chosen values
    classes_, coef_, intercept_, n_features_in_, feature_names_in_ : as for ``LogisticRegression``.

    The attributes have the shapes of scikit-learn's with
    ``use_legacy_attributes=False`` (its default from 1.10).
    """

    def __init__(
        self,
        Cs=10,
        l1_ratios=(0.0,),
        cv=5,
        scoring=None,
        refit=True,
        penalty="deprecated",
        fit_intercept=True,
        tol=1e-8,
        max_iter=None,
        n_threads=None,
        class_weight=None,
        random_state=None,
        verbose=False,
        drop_first=None,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.n_threads = n_threads
        self.class_weight = class_weight
        self.random_state = random_state
        self.verbose = verbose
        self.drop_first = drop_first

    def fit(self, X, y, sample_weight=None):
        """Cross-validate the grid on X (n_samples, n_features) and labels y, then refit; returns self."""
        if self.penalty not in ("deprecated", "l2", "l1", "elasticnet"):
            raise ValueError(f"penalty must be one of 'l2', 'l1' or 'elasticnet', got {self.penalty!r}")
        Cs = _check_Cs(self.Cs)
        ratios = _check_l1_ratios(self.penalty, self.l1_ratios)
        scorer = _check_scoring(self.scoring)
        X, y, self.coding_ = _features(self, X, y, True, self.fit_intercept, self.drop_first,
                                       accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32], order="C")
        check_classification_targets(y)
        self.classes_ = classes = _classes(y)
        K, d = len(classes), X.shape[1]
        rows = 1 if K == 2 else K
        score_weight = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float64)
        weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if self.class_weight is not None:
            weight = weight * _class_weights(self.class_weight, classes, y, weight)[np.searchsorted(classes, y)]
        labels = _encode(y, classes, X.dtype)
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y))
        scorer = _with_labels(scorer, classes)

        n_folds, n_l1, n_cs = len(folds), len(ratios), len(Cs)
        paths = np.zeros((n_folds, n_l1, n_cs, rows, d + bool(self.fit_intercept)))
        scores = np.empty((n_folds, n_l1, n_cs))
        n_iter = np.zeros((n_folds, n_l1, n_cs), dtype=int)
        shell = LogisticRegression()  # carries each fit's coefficients to the scorer
        shell.classes_, shell.n_features_in_ = classes, d
        for f, (train, test) in enumerate(folds):
            fold_weight = np.zeros_like(weight)
            fold_weight[train] = weight[train]
            total = float(fold_weight.sum())
            if total <= 0:
                raise ValueError(f"the training rows of fold {f} have sample weights summing to zero")
            alphas = 1.0 / (Cs * total)  # C = inf: 0
            order = np.argsort(-alphas, kind="stable")  # the path runs from the largest α down
            X_test, y_test = X[test], y[test]
            kwargs = {} if score_weight is None else {"sample_weight": score_weight[test]}
            fold_weight = fold_weight.astype(X.dtype)
            for i, ratio in enumerate(ratios):
                coef, intercept, iterations = self._path(X, labels, K, ratio, alphas[order], fold_weight)
                paths[f, i, order, :, :d] = coef
                if self.fit_intercept:
                    paths[f, i, order, :, d] = intercept
                n_iter[f, i, order] = np.maximum(iterations, 1)  # ≥ 1 as scikit-learn's checks want: a start
                # that is already optimal (every α ≥ α_max) still took its one pass of the optimality test
                for j in range(n_cs):
                    shell.coef_, shell.intercept_ = _coef_intercept(paths[f, i, j], d)
                    scores[f, i, j] = scorer(shell, X_test, y_test, **kwargs)

        self.Cs_, self.l1_ratios_ = Cs, np.asarray(ratios, dtype=np.float64)
        self.scores_, self.n_iter_, self.coefs_paths_ = scores, n_iter, paths
        if self.refit:
            # the largest score summed over folds, the first in (C, then l1_ratio) order on ties, as scikit-learn
            j, i = np.unravel_index(np.argmax(scores.sum(axis=0).T), (n_cs, n_l1))
            self.C_, self.l1_ratio_ = float(Cs[j]), float(ratios[i])
            start = paths[:, i, j].mean(axis=0)  # warm start: the folds' mean, as scikit-learn
            estimator = LogisticRegression(
                C=self.C_,
                l1_ratio=self.l1_ratio_,
                fit_intercept=self.fit_intercept,
                tol=self.tol,
                max_iter=self.max_iter,
                n_threads=self.n_threads,
                warm_start=True,
            )
            estimator.coef_, estimator.intercept_ = _coef_intercept(start, d)
            estimator.fit(X, y, sample_weight=weight)  # weight: class weights included
            self.coef_, self.intercept_ = estimator.coef_, estimator.intercept_
        else:
            best = [np.unravel_index(np.argmax(scores[f].T), (n_cs, n_l1)) for f in range(n_folds)]
            mean = np.mean([paths[f, i, j] for f, (j, i) in enumerate(best)], axis=0)
            self.C_ = float(np.mean([Cs[j] for j, _ in best]))
            self.l1_ratio_ = float(np.mean([ratios[i] for _, i in best]))
            coef, intercept = _coef_intercept(mean, d)
            self.coef_, self.intercept_ = coef.astype(X.dtype), intercept.astype(X.dtype)
        return self

    def _path(self, X, labels, n_classes, ratio, alphas, sample_weight):
        """(coef (n_alphas, 1 or K, d), intercept (n_alphas, 1 or K), n_iter) along the decreasing ``alphas``.

        ``fusedlogit.path`` with an l1 part (r > 0); a pure ridge grid (r = 0)
        is a sequence of warm-started ``fusedlogit.fit`` runs with the solver
        that ``LogisticRegression(penalty="l2")`` uses.
        """
        from . import path  # the package's function

        rows, d = (1 if n_classes == 2 else n_classes), X.shape[1]
        common = {"sample_weight": sample_weight, "fit_intercept": self.fit_intercept, "tol": self.tol,
                  "max_iter": self.max_iter, "n_threads": self.n_threads,
                  "n_classes": None if n_classes == 2 else n_classes}
        if ratio > 0:
            with _sklearn_warnings(stacklevel=2):  # the caller of LogisticRegressionCV.fit
                result = path(X, labels, l1_ratio=ratio, alphas=alphas, verbose=self.verbose, **common)
            coef, intercept, n_iter = result.coef, result.intercept, result.n_iter
        else:
            coef, intercept, n_iter = np.zeros((alphas.size, rows, d)), np.zeros((alphas.size, rows)), []
            coef0 = intercept0 = None
            for a, alpha in enumerate(alphas):
                with _sklearn_warnings(stacklevel=2):
                    result = fit(X, labels, l2=alpha, coef0=coef0, intercept0=intercept0, verbose=self.verbose,
                                 cov_type=None, **common)
                coef[a], intercept[a] = result.coef.reshape(rows, d), result.intercept
                n_iter.append(result.n_iter)
                coef0, intercept0 = result.coef, result.intercept if self.fit_intercept else None
        return (np.asarray(coef, dtype=np.float64).reshape(alphas.size, rows, d),
                np.asarray(intercept, dtype=np.float64).reshape(alphas.size, rows), np.asarray(n_iter))


class OrdinalLogisticRegression(ClassifierMixin, BaseEstimator):
    """Ordinal (proportional-odds) logistic regression fitted by ``fusedlogit.fit(model="ordinal")``.

    For ordered classes c_0 < … < c_{K−1}, P(y ≤ c_k | x) = σ(θ_k − x·w)
    with increasing thresholds θ; minimises, with C and l1_ratio r as in
    ``LogisticRegression``::

        C Σ s_i ℓ_i + r ||w||₁ + ((1 − r)/2) ||w||²      (the thresholds are not penalised)

    ``C=np.inf`` fits the unpenalised maximum-likelihood model (statsmodels'
    ``OrderedModel(distr="logit")``, R's ``MASS::polr``).  The classes are
    ordered as ``np.unique`` sorts them, or in the order of a pandas ordered
    ``Categorical`` y's categories; every class needs samples of positive weight.

    Parameters
    ----------
    C : float > 0 or np.inf, default 1.0
    l1_ratio : float in [0, 1], default 0.0
    solver : {"auto", "newton", "lbfgs", "newton-cg", "gd", "cd"}, default "auto"
    tol : float, default 1e-8
    max_iter : int, optional
    n_threads : int, optional
        As for ``LogisticRegression``.

    Attributes
    ----------
    classes_ : ndarray (K,), the classes in their order
    coef_ : ndarray (n_features,), w (X's dtype)
    thresholds_ : ndarray (K − 1,), θ, strictly increasing (X's dtype)
    n_iter_ : ndarray (1,)
    n_features_in_, feature_names_in_ : as usual in scikit-learn.
    """

    def __init__(self, C=1.0, l1_ratio=0.0, solver="auto", tol=1e-8, max_iter=None, n_threads=None):
        self.C = C
        self.l1_ratio = l1_ratio
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_threads = n_threads

    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit on X (n_samples, n_features) and ordered classes y; returns self.

        ``offset`` (n_samples,), optional: a known term added to every margin
        x·w; pass the new rows' offset to the predict methods too.
        """
        _check_C(self.C)
        ratio = _l1_share("deprecated", self.l1_ratio)
        order = _ordered_categories(y)
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc", "coo"), dtype=[np.float64, np.float32],
                             order="C")
        check_classification_targets(y)
        self.classes_ = _classes(y) if order is None else np.asarray([c for c in order if np.any(y == c)])
        if len(self.classes_) < 2:
            raise ValueError(f"This solver needs samples of 2 classes in the data, but the data contain only one "
                             f"class: {self.classes_[0]!r}")
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        total = float(sample_weight.sum(dtype=np.float64))
        if total <= 0:
            raise ValueError("sample_weight sums to zero")
        penalised = not np.isinf(self.C)
        levels = _level_codes(y, self.classes_)
        with _sklearn_warnings():
            result = fit(
                X, levels, model="ordinal", n_classes=len(self.classes_), sample_weight=sample_weight, offset=offset,
                l1=ratio / (self.C * total) if penalised else 0.0,
                l2=(1.0 - ratio) / (self.C * total) if penalised else 0.0,
                solver=self.solver, tol=self.tol, max_iter=self.max_iter, n_threads=self.n_threads, cov_type=None,
            )
        self.coef_ = result.coef.astype(X.dtype)
        self.thresholds_ = result.thresholds.astype(X.dtype)
        self.n_iter_ = np.array([result.n_iter])
        return self

    def _margins(self, X, offset):
        X = validate_data(self, X, reset=False, accept_sparse=("csr", "csc", "coo"), dtype=[np.float64, np.float32])
        z = np.asarray(X @ self.coef_, dtype=np.float64)
        return z if offset is None else z + as_offset(offset, z.shape[0])

    def predict_proba(self, X, offset=None):
        """P(classes_[k] | x), shape (n_samples, K), each level's share without cancellation."""
        check_is_fitted(self, "coef_")
        return level_probabilities(self._margins(X, offset), self.thresholds_.astype(np.float64))

    def predict_log_proba(self, X, offset=None):
        """log of ``predict_proba``, shape (n_samples, K)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, offset))

    def predict(self, X, offset=None):
        """The most probable class, shape (n_samples,)."""
        check_is_fitted(self, "coef_")
        return self.classes_[np.argmax(self.predict_proba(X, offset), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.poor_score = True  # the checks' blobs lie in no order: one margin cannot split them
        tags.input_tags.sparse = True
        return tags


def _features(estimator, X, y, penalised, fit_intercept, drop_first, **check):
    """(X as ``fit`` takes it, y, the coding or None): a table with categorical columns (or a
    ``CategoricalMatrix``) becomes its design (``model.design``), keeping ``feature_names_in_``; anything else
    goes through scikit-learn's ``validate_data``."""
    from sklearn.utils.validation import column_or_1d

    if has_categorical(X) or isinstance(X, CategoricalMatrix):
        validate_data(estimator, X, reset=True, skip_check_array=True)
        y = column_or_1d(y, warn=True)
        if len(y) != X.shape[0]:
            raise ValueError(f"y has {len(y)} entries but X has {X.shape[0]} rows")
        design, _, _, coding = build_design(X, y, drop_first=drop_first, penalised=penalised,
                                            fit_intercept=fit_intercept)
        return design, y, coding
    X, y = validate_data(estimator, X, y, **check)
    return X, y, None


def _check_C(C):
    if isinstance(C, (bool, np.bool_)) or not isinstance(C, numbers.Real) or not C > 0:
        raise ValueError(f"C must be a number > 0 (np.inf: no penalty), got {C!r}")


def _ordered_categories(y):
    """The categories of a pandas ordered Categorical (or Series of one), else None."""
    categorical = getattr(y, "cat", y)
    if getattr(categorical, "ordered", False):
        return np.asarray(categorical.categories)
    return None


def _level_codes(y, classes):
    """Each label's position in ``classes`` (the classes in their order), int64."""
    codes = np.full(len(y), -1, dtype=np.int64)
    for k, c in enumerate(classes):
        codes[y == c] = k
    return codes


def _l1_share(penalty, l1_ratio):
    """The l1 share r of the penalty, None for ``penalty=None``; checks both arguments.

    As scikit-learn ≥ 1.8 reads them: by default ``penalty`` is unset and r is
    ``l1_ratio`` (C = np.inf is no penalty, for the caller to test); an
    explicit ``penalty`` keeps its old meaning, with scikit-learn's warnings.
    """
    if penalty != "deprecated" and penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of 'l2', 'l1', 'elasticnet' or None, got {penalty!r}")
    if l1_ratio is not None and (
        isinstance(l1_ratio, (bool, np.bool_)) or not isinstance(l1_ratio, numbers.Real) or not 0 <= l1_ratio <= 1
    ):
        raise ValueError(f"l1_ratio must be a number in [0, 1], got {l1_ratio!r}")
    if penalty == "deprecated":
        if l1_ratio is None:
            warnings.warn("l1_ratio=None is deprecated, as in scikit-learn 1.8: use a number in [0, 1] "
                          "(0, the l2 penalty, is what None means)", FutureWarning, stacklevel=3)
            return 0.0
        return float(l1_ratio)
    warnings.warn(_PENALTY_DEPRECATED.format(ratio="l1_ratio=", zero="0", one="1", none="C=np.inf"), FutureWarning,
                  stacklevel=3)
    if penalty != "elasticnet" and l1_ratio is not None and 0 < l1_ratio < 1:
        warnings.warn(f"l1_ratio is only used when penalty is 'elasticnet'; ignored with penalty={penalty!r}",
                      UserWarning, stacklevel=3)
    if (penalty == "l2" and l1_ratio != 0) or (penalty == "l1" and l1_ratio != 1):
        warnings.warn(f"Inconsistent values: penalty={penalty!r} with l1_ratio={l1_ratio!r}; penalty is "
                      "deprecated, use l1_ratio alone", UserWarning, stacklevel=3)
    if penalty == "elasticnet":
        if l1_ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is 'elasticnet'")
        return float(l1_ratio)
    return None if penalty is None else {"l2": 0.0, "l1": 1.0}[penalty]


_PENALTY_DEPRECATED = (
    "penalty is deprecated, as in scikit-learn 1.8 (which removes it in 1.10): leave it unset and use "
    "{ratio}{zero} for 'l2', {ratio}{one} for 'l1', values between 0 and 1 for 'elasticnet' and {none} for None"
)


def _check_Cs(Cs):
    """The grid of C: an int n ≥ 1 is np.logspace(-4, 4, n), as scikit-learn's; else numbers > 0."""
    if isinstance(Cs, numbers.Integral) and not isinstance(Cs, (bool, np.bool_)):
        if Cs < 1:
            raise ValueError(f"Cs must be an int >= 1 or an array of numbers > 0, got {Cs!r}")
        return np.logspace(-4, 4, int(Cs))
    try:
        grid = np.asarray(Cs, dtype=np.float64)
    except (TypeError, ValueError):
        grid = None
    if grid is None or grid.ndim != 1 or grid.size == 0 or np.isnan(grid).any() or (grid <= 0).any():
        raise ValueError(f"Cs must be an int >= 1 or an array of numbers > 0, got {Cs!r}")
    return grid


def _check_l1_ratios(penalty, l1_ratios):
    """The grid of l1_ratio, as scikit-learn ≥ 1.8 reads it: ``l1_ratios`` itself (None: [0.], deprecated);
    an explicit ``penalty`` (deprecated) keeps its old meaning: the grid for "elasticnet", else [1.] or [0.]."""
    if penalty == "deprecated" and l1_ratios is None:
        warnings.warn("l1_ratios=None is deprecated, as in scikit-learn 1.8: use an array of numbers in [0, 1] "
                      "((0,), the l2 penalty, is what None means)", FutureWarning, stacklevel=3)
        return np.array([0.0])
    if penalty != "deprecated":
        warnings.warn(_PENALTY_DEPRECATED.format(ratio="l1_ratios=", zero="(0,)", one="(1,)", none="Cs=(np.inf,)"),
                      FutureWarning, stacklevel=3)
    if penalty in ("l1", "l2"):
        # the default (0,) cannot be told from a caller's, and scikit-learn's default (None) does not warn
        if l1_ratios is not None and not (isinstance(l1_ratios, tuple) and l1_ratios == (0.0,)):
            warnings.warn(f"l1_ratios is only used when penalty is 'elasticnet'; ignored with penalty={penalty!r}",
                          UserWarning, stacklevel=3)
        return np.array([1.0 if penalty == "l1" else 0.0])
    bad = l1_ratios is None or isinstance(l1_ratios, str) or np.ndim(l1_ratios) != 1 or len(l1_ratios) == 0
    if not bad:
        bad = any(
            isinstance(r, (bool, np.bool_)) or not isinstance(r, numbers.Real) or not 0 <= r <= 1 for r in l1_ratios
        )
    if bad:
        raise ValueError(f"l1_ratios must be an array of numbers in [0, 1], got {l1_ratios!r}")
    return np.asarray(l1_ratios, dtype=np.float64)


def _check_scoring(scoring):
    """A scorer(estimator, X, y, **kwargs): None is the estimator's ``score`` (accuracy)."""
    if scoring is None:
        return lambda estimator, X, y, **kwargs: estimator.score(X, y, **kwargs)
    if callable(scoring):
        return scoring
    try:
        return get_scorer(scoring)
    except (TypeError, ValueError):
        raise ValueError(
            f"scoring must be None, a scikit-learn scorer name or a callable scorer(estimator, X, y), got {scoring!r}"
        ) from None


def _with_labels(scorer, classes):
    """A scorer whose metric takes ``labels`` (log loss, ...) gets all of ``classes``, as scikit-learn does:
    a held-out fold may lack a class."""
    func = getattr(scorer, "_score_func", None)
    if func is None or "labels" not in inspect.signature(func).parameters:
        return scorer
    extra = dict(getattr(scorer, "_kwargs", {}))
    extra["labels"] = classes
    if len(classes) == 2 and "pos_label" in inspect.signature(func).parameters:
        extra.setdefault("pos_label", classes[-1])
    return make_scorer(func, greater_is_better=scorer._sign == 1, response_method=scorer._response_method, **extra)


def _coef_intercept(w, d):
    """(coef, intercept) from rows [coef..., intercept] of width d + 1, or d (then intercept 0)."""
    return w[..., :d], (w[..., d] if w.shape[-1] > d else np.zeros(w.shape[:-1]))


def _classes(y):
    """The sorted labels; at least two."""
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"This solver needs samples of 2 classes in the data, but the data contain only one class: "
            f"{classes[0]!r}"
        )
    return classes


def _encode(y, classes, dtype):
    """fit's labels: y == classes[1] as X's dtype for two classes, else the class index."""
    return (y == classes[1]).astype(dtype) if len(classes) == 2 else np.searchsorted(classes, y)


class _sklearn_warnings:
    """Re-emits the solvers' ConvergenceWarning (and SeparationWarning) as scikit-learn's, others as they are,
    ``stacklevel`` frames above the function of the ``with`` block (1: its caller)."""

    def __init__(self, stacklevel=1):
        self.stacklevel = stacklevel

    def __enter__(self):
        self._context = warnings.catch_warnings(record=True)
        self._caught = self._context.__enter__()
        warnings.simplefilter("always", ConvergenceWarning)
        return self

    def __exit__(self, *exc):
        self._context.__exit__(*exc)
        for w in self._caught:
            category = SklearnConvergenceWarning if issubclass(w.category, ConvergenceWarning) else w.category
            warnings.warn(str(w.message), category, stacklevel=2 + self.stacklevel)
        return False


def _class_weights(class_weight, classes, y, sample_weight):
    """scikit-learn's weights of ``classes`` (weighted counts for "balanced" where it supports them)."""
    try:
        return compute_class_weight(class_weight, classes=classes, y=y, sample_weight=sample_weight)
    except TypeError:  # scikit-learn without sample_weight in compute_class_weight
        return compute_class_weight(class_weight, classes=classes, y=y)
