"""The model of a fit, built and checked in one place for ``fit``, ``path``, ``cv`` and the estimators;
its start point and, for the multinomial model, its centring.

``model`` names it: "binary" (``LogisticLoss``), "multinomial"
(``MultinomialLoss``), "ordinal" (``OrdinalLoss``, ordered levels), or
"auto": labels of one column with values above 1, an (n, K) matrix of soft
labels, or ``n_classes`` ≥ 3 ask for the multinomial model, else y are
binary.  ``n_classes`` is the one spelling of the class count: None infers
it from the labels, K ≥ 2 fixes it.  ``MODELS`` is the registry: a new model
is its objective class and one entry there.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_numeric_array, check_choice, check_n_classes, is_dask_array
from .multinomial import MultinomialLoss, ReferenceClassLoss
from .objective import LogisticLoss
from .ordinal import OrdinalLoss

#: model name → its objective class ("auto" chooses between the first two)
MODELS = {"binary": LogisticLoss, "multinomial": MultinomialLoss, "ordinal": OrdinalLoss}


def resolve_model(model, y, n_classes):
    """The model's name: ``model`` itself, or for "auto" "multinomial" or "binary" (``is_multiclass``)."""
    check_choice("model", model, ("auto", *MODELS))
    if model != "auto":
        return model
    return "multinomial" if is_multiclass(y, n_classes) else "binary"


def design(X, y, *, data=None, drop_first=None, missing="error", penalised=False, fit_intercept=True):
    """(X as the backends take it, y, fit_intercept, its coding or None): the one place a table or formula
    becomes a design (``tables.prepare``, ``formulas.formula_design``)."""
    from .tables import prepare

    if isinstance(X, str):
        from .formulas import formula_design

        return formula_design(X, data, y, drop_first=drop_first, missing=missing, penalised=penalised,
                              fit_intercept=fit_intercept)
    if data is not None:
        raise ValueError("data= goes with a formula X (a string such as 'y ~ a + C(b)'); X is the table itself")
    if y is None:
        raise ValueError("y is needed (or X a formula with a left-hand side, and data=)")
    X, coding = prepare(X, drop_first=drop_first, missing=missing, penalised=penalised, fit_intercept=fit_intercept)
    return X, y, fit_intercept, coding


def build_objective(X, y=None, *, model="auto", n_classes=None, sample_weight=None, offset=None, fit_intercept=True,
                    l2=0.0, backend="numba", n_threads=None, penalised=False, data=None, drop_first=None,
                    missing="error"):
    """The objective of the model ``model`` (``resolve_model``), with its labels checked.

    X a table (categorical columns kept as codes) or a formula on ``data``:
    ``design``; its coding is the objective's ``coding`` (None for arrays).

    Binary with an intercept: labels of both kinds among the rows of
    positive weight (``check_both_labels``).  Multinomial: no offset, and
    unless ``penalised`` (l1 or l2 > 0) every class present
    (``check_every_class_present``); a penalty keeps an empty class finite.
    Ordinal: every level present, penalised or not (its thresholds are not
    penalised), and no ``fit_intercept=False`` (the thresholds hold the
    intercept).
    """
    X, y, fit_intercept, coding = design(X, y, data=data, drop_first=drop_first, missing=missing,
                                         penalised=penalised, fit_intercept=fit_intercept)
    objective = _model_objective(X, y, model, n_classes, sample_weight, offset, fit_intercept, l2, backend,
                                 n_threads, penalised)
    objective.coding = coding
    return objective


def _model_objective(X, y, model, n_classes, sample_weight, offset, fit_intercept, l2, backend, n_threads,
                     penalised):
    common = {"sample_weight": sample_weight, "l2": l2, "backend": backend, "n_threads": n_threads}
    name = resolve_model(model, y, n_classes)
    if name == "ordinal":
        if not fit_intercept:
            raise ValueError(
                "fit_intercept=False: the ordinal model has no intercept to drop, its thresholds hold it (a "
                "constant added to every margin shifts every threshold); leave fit_intercept=True"
            )
        objective = OrdinalLoss(X, y, n_classes=n_classes, offset=offset, **common)
        check_every_class_present(objective, "level (class)")
        return objective
    common["fit_intercept"] = fit_intercept
    if name == "binary" and n_classes not in (None, 2):
        raise ValueError(f"model='binary' has 2 classes, got n_classes={n_classes!r}")
    if name == "multinomial":
        if offset is not None:
            raise ValueError("offset is not supported for multinomial models")
        objective = MultinomialLoss(X, y, n_classes=n_classes, **common)
        if not penalised:
            check_every_class_present(objective)
    else:
        objective = LogisticLoss(X, y, offset=offset, **common)
        if objective.fit_intercept:
            check_both_labels(objective)
    return objective


def start_point(objective, coef0=None, intercept0=None):
    """The start point: ``objective.initial_coef()`` with the caller's coef0 and intercept0 put in.

    Binary: coef0 (d,), intercept0 a number; multinomial: coef0 (K, d), intercept0 (K,); ordinal:
    coef0 (d,), intercept0 the K − 1 thresholds, strictly increasing.
    """
    start = objective.initial_coef()
    layout = objective.layout
    d, n_rows = objective.n_features, layout.n_rows
    rows = layout.rows(start)  # a view: writing rows writes start
    if coef0 is not None:
        coef0 = np.asarray(coef0, dtype=np.float64)
        shape = (d,) if n_rows == 1 else (n_rows, d)
        if coef0.shape != shape:
            what = "(n_features,)" if n_rows == 1 else "(n_classes, n_features)"
            raise ValueError(f"coef0 must have shape {shape} = {what}, got {coef0.shape}")
        if not np.isfinite(coef0).all():
            raise ValueError("coef0 contains NaN or infinity")
        rows[:, :d] = coef0
    if intercept0 is not None:
        if layout.n_intercepts == 0:
            raise ValueError("intercept0 needs fit_intercept=True")
        if n_rows == 1 and layout.n_intercepts == 1:
            if isinstance(intercept0, (bool, np.bool_)) or not np.isfinite(float(intercept0)):
                raise ValueError(f"intercept0 must be a finite number, got {intercept0!r}")
        elif layout.n_intercepts == 1:
            intercept0 = np.asarray(intercept0, dtype=np.float64)
            if intercept0.shape != (n_rows,) or not np.isfinite(intercept0).all():
                raise ValueError(f"intercept0 must be {n_rows} finite numbers (one per class), got {intercept0!r}")
        else:
            intercept0 = np.asarray(intercept0, dtype=np.float64)
            count = layout.n_intercepts
            if intercept0.shape != (count,) or not np.isfinite(intercept0).all() or not np.all(np.diff(intercept0) > 0):
                raise ValueError(
                    f"intercept0 must be the {count} thresholds, finite and strictly increasing, got {intercept0!r}"
                )
        rows[:, d:] = np.reshape(intercept0, (n_rows, -1))
    return start


def is_multiclass(y, n_classes):
    """Whether these labels (and ``n_classes``) ask for the multinomial model (see the module)."""
    if n_classes is not None:
        return check_n_classes(n_classes) >= 3
    if np.ndim(y) == 2:
        return True
    if np.ndim(y) != 1 or len(y) == 0:
        return False  # the binary validation names what is wrong
    if is_dask_array(y):
        top = float(y.max().compute())
    else:
        labels = as_numeric_array("y", y)
        if labels.dtype.kind not in "biuf":
            return False
        top = float(np.max(labels))
    return bool(np.isfinite(top) and top > 1)


def check_every_class_present(objective, what="class"):
    """A class without samples of positive weight has no finite maximum-likelihood intercept.

    Only unpenalised fits are checked.  A penalised fit allows such a class, as scikit-learn does (a
    class_weight of 0, a class absent from a training fold): the penalty keeps its coefficients finite,
    and its unpenalised intercept only falls until the class's share of the gradient is below tol.
    """
    missing = np.flatnonzero(~(objective.class_shares() > 0))
    if missing.size:
        raise ValueError(
            f"y: {what} {int(missing[0])} of 0..{objective.n_classes - 1} has no samples (of positive weight); "
            "label them 0..K-1, e.g. with np.unique(y, return_inverse=True)"
        )


def check_both_labels(objective):
    """With an intercept, labels all 0 (or all 1) have no finite optimum: the intercept runs off to ∓∞.

    Whatever l1 and l2 (the intercept is not penalised), so ``fit`` refuses
    them, as scikit-learn does.  Rows of weight 0 do not count.  Without an
    intercept the penalised (and often the unpenalised) problem has a finite
    minimiser, and is fitted.
    """
    low, high = objective.label_range()
    if high == 0.0 or low == 1.0:
        raise ValueError(
            f"y: every sample (of positive weight) has label {int(low)}, so the intercept has no finite "
            "estimate (maximum-likelihood or penalised: it is not penalised); fit needs samples of both "
            "classes (or fit_intercept=False)"
        )


def centred(problem, coef, weights=None):
    """The (K, width) multinomial solution with the unpenalised columns centred (Σ_k coef[k, j] = 0).

    From θ (l2 = 0: the reference-class problem) every column is centred.
    Otherwise the columns of zero penalty weight (``weights``, the flat π of
    ``penalised.coefficient_weights``; by default the intercept alone) are
    determined only up to a shift shared by the classes, and are centred;
    the penalised ones are fixed by the penalty (with l2 alone, Σ_k w_k = 0).
    """
    if isinstance(problem, ReferenceClassLoss):
        full = problem.objective.layout.rows(problem.embed(coef))
        return full - full.mean(axis=0)
    full = problem.layout.rows(np.array(coef, dtype=np.float64))
    free = np.zeros(full.shape[1], dtype=bool) if weights is None else problem.layout.rows(weights)[0] == 0
    free[-1] |= problem.fit_intercept
    full[:, free] -= full[:, free].mean(axis=0)
    return full
