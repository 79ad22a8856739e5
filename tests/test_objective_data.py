"""What the solvers may ask an objective about its data (they never read X, y or the weights themselves)."""

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit
from fusedlogit import LogisticLoss, MultinomialLoss


def problem(seed=0, n=120, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (rng.random(n) < 0.4).astype(np.float64)
    s = rng.uniform(0.0, 3.0, size=n)
    return X, y, s


@pytest.mark.parametrize("form", ["dense", "csr", "dask"])
def test_row_products_are_a_gather_of_rows(form):
    X, y, _ = problem()
    data = {"dense": X, "csr": sp.csr_matrix(X)}.get(form)
    if form == "dask":
        da = pytest.importorskip("dask.array")
        data = da.from_array(X, chunks=(50, 5))
    objective = LogisticLoss(data, y)
    rows = np.array([3, 0, 77, 119, 3])
    coef = np.arange(10.0).reshape(2, 5) / 7.0
    z = objective.row_products(rows, coef)
    assert z.dtype == np.float64 and z.shape == (5, 2)
    np.testing.assert_allclose(z, X[rows] @ coef.T, rtol=1e-14)
    assert objective.sparse == (form == "csr")


def test_labels_weights_and_their_range():
    X, y, s = problem()
    s[y == 1] = 0.0  # every row of label 1 weighs nothing
    objective = LogisticLoss(X, y, sample_weight=s)
    np.testing.assert_array_equal(objective.labels(), y)
    np.testing.assert_array_equal(objective.weights(), s)
    assert objective.label_range() == (0.0, 0.0)
    assert objective.largest_weight() == float(s.max())
    plain = LogisticLoss(X, y)
    np.testing.assert_array_equal(plain.weights(), np.ones(len(y)))
    assert plain.largest_weight() is None and plain.label_range() == (0.0, 1.0)


def test_weights_divided_scales_the_data_term_and_touches_nothing():
    X, y, s = problem()
    given = s.copy()
    objective = LogisticLoss(X, y, sample_weight=s, reduction="sum")
    half = objective.weights_divided(2.0)
    coef = np.linspace(-0.5, 0.5, 6)
    assert half.loss(coef) == pytest.approx(objective.loss(coef) / 2.0, rel=1e-14)
    np.testing.assert_array_equal(s, given)  # the caller's weights
    np.testing.assert_array_equal(objective.weights(), given)  # and the objective's


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_reweighted_is_the_same_model_built_afresh(backend):
    X, y, s = problem(1)
    offset = np.linspace(-1.0, 1.0, len(y))
    objective = LogisticLoss(sp.csr_matrix(X), y, offset=offset, fit_intercept=False, backend=backend, n_threads=1)
    other = objective.reweighted(s)
    fresh = LogisticLoss(sp.csr_matrix(X), y, sample_weight=s, offset=offset, fit_intercept=False, backend=backend,
                         n_threads=1)
    coef = np.linspace(-0.3, 0.4, 5)
    for a, b in zip(other.loss_gradient(coef), fresh.loss_gradient(coef)):
        np.testing.assert_array_equal(a, b)
    assert np.shares_memory(other.X.data, objective.X.data)  # X is not copied

    labels = np.arange(len(y)) % 3
    multinomial = MultinomialLoss(X, labels, n_classes=4)  # a class without rows stays a class
    again = multinomial.reweighted(s)
    assert again.n_classes == 4 and isinstance(again, MultinomialLoss)
    W = np.linspace(-1.0, 1.0, again.n_coef)
    expected = MultinomialLoss(X, labels, n_classes=4, sample_weight=s).loss_gradient(W)
    for a, b in zip(again.loss_gradient(W), expected):
        np.testing.assert_array_equal(a, b)


def test_cv_folds_are_the_objective_reweighted(monkeypatch):
    """``cv`` builds each fold by ``reweighted``: the CSR X converted once serves every fold, uncopied."""
    folds = []
    monkeypatch.setattr(LogisticLoss, "reweighted",
                        lambda self, w, _f=LogisticLoss.reweighted: folds.append((self, _f(self, w))) or folds[-1][1])
    X, y, _ = problem(2, n=200, d=8)
    result = fusedlogit.cv(sp.csr_matrix(X), y, n_alphas=4, folds=3)
    assert np.isfinite(result.scores).all() and len(folds) == 3
    for parent, fold in folds:
        assert np.shares_memory(fold.X.data, parent.X.data)
        assert sorted(np.unique(fold.weights())) == [0.0, 1.0]  # the held-out rows weigh 0


@pytest.mark.parametrize("call", ["fit", "path", "cv"])
def test_one_kind_of_label_is_refused_by_every_entry_point(call):
    """``model.build_objective`` checks the labels for all of them: the intercept has no finite optimum."""
    X, _, _ = problem(3)
    with pytest.raises(ValueError, match="no finite"):
        getattr(fusedlogit, call)(X, np.ones(len(X)), **({"l1": 0.01} if call == "fit" else {}))
    fusedlogit.path(X, np.ones(len(X)), fit_intercept=False, n_alphas=3)  # without an intercept it is a model
