"""The column-by-column quadratic model of sparse binary L1 fits (``cd_models.ColumnModel``).

On sparse X a working set of more than ``COLUMN_MODEL_MIN_COEF`` coefficients
is modelled from X's columns and the rows' curvatures, never forming H.  It
must be the same model as ``HessianModel``'s (products, coordinate descent,
the active face's step) and lead to the same minimiser, which the tests here
check against H formed from the objective and against fits on dense X.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit
from fusedlogit.solvers import cd_models, penalised
from test_l1 import assert_kkt, assert_same_minimiser


def sparse_problem(seed, n=300, d=80, density=0.1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=rng, format="csr", dtype=np.float64)
    X.data = rng.normal(size=X.nnz)
    beta = rng.normal(size=d) * (rng.random(d) < 0.3)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ beta) - 0.3))).astype(np.float64)
    return X.astype(dtype), y


class _Working:
    """What the models read of a ``WorkingSet``: the features and their flat coefficient indices."""

    n_rows = 1  # one row of coefficients: the binary model

    def __init__(self, features, n_features, fit_intercept):
        self.features = features
        cols = np.arange(n_features) if features is None else features
        self.index = np.append(cols, n_features) if fit_intercept else cols


def models(seed, fit_intercept, weighted, offset, dtype, features):
    X, y = sparse_problem(seed, dtype=dtype)
    rng = np.random.default_rng(seed + 1)
    s = rng.uniform(0.0, 3.0, size=y.size) if weighted else None
    o = rng.normal(size=y.size) if offset else None
    objective = fusedlogit.LogisticLoss(X, y, sample_weight=s, offset=o, fit_intercept=fit_intercept)
    pi = rng.uniform(0.5, 2.0, size=objective.n_coef)
    if fit_intercept:
        pi[-1] = 0.0
    penalty = penalised.Penalty(0.01, 0.05, pi)
    coef = rng.normal(size=objective.n_coef) * 0.5
    working = _Working(features, X.shape[1], fit_intercept)
    dense = cd_models.HessianModel(objective, penalty, coef, working)
    columns = cd_models.ColumnModel(objective, penalty, coef, working)
    return objective, penalty, coef, working, dense, columns


CASES = [
    (0, True, False, False, np.float64, None),
    (1, False, True, False, np.float64, None),
    (2, True, True, True, np.float32, None),
    (3, True, False, True, np.float64, np.array([1, 5, 6, 20, 33, 34, 70])),
    (4, False, True, False, np.float32, np.arange(0, 80, 3)),
]


@pytest.mark.parametrize("seed, fit_intercept, weighted, offset, dtype, features", CASES)
def test_products_and_diagonal_are_the_formed_hessians(seed, fit_intercept, weighted, offset, dtype, features):
    _, _, _, working, dense, columns = models(seed, fit_intercept, weighted, offset, dtype, features)
    k = working.index.size
    np.testing.assert_allclose(columns.diagonal, np.diag(dense.H), rtol=1e-12, atol=1e-15)
    rng = np.random.default_rng(seed)
    v = rng.normal(size=k) * (rng.random(k) < 0.5)
    rows = np.sort(rng.choice(k, size=k // 2, replace=False))
    np.testing.assert_allclose(columns.products(v, rows), dense.products(v, rows), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed, fit_intercept, weighted, offset, dtype, features", CASES)
def test_coordinate_descent_and_face_steps_reach_the_same_model_minimiser(
    monkeypatch, seed, fit_intercept, weighted, offset, dtype, features
):
    monkeypatch.setattr(cd_models, "CG_RTOL", 0.0)  # CG to the tolerance given, as the Cholesky solve is exact
    monkeypatch.setattr(cd_models, "CG_MAX_ITER", 10**6)
    objective, penalty, coef, working, dense, columns = models(seed, fit_intercept, weighted, offset, dtype, features)
    g = (objective.gradient(coef) + penalty.smooth_gradient(coef))[working.index]
    c, lam = coef[working.index], penalty.lam[working.index]
    # l2 > 0 makes q strictly convex: one minimiser, which both must find
    steps = [cd_models.model_step(model, g, c, lam, 1e-14) for model in (dense, columns)]
    np.testing.assert_allclose(steps[1], steps[0], rtol=1e-7, atol=1e-9)
    # the face's CG solve is the face's Cholesky solve where H_AA is positive definite
    active = np.flatnonzero(c + steps[0] != 0.0)
    residual = np.random.default_rng(seed).normal(size=active.size)
    np.testing.assert_allclose(columns.face_step(active, residual, 1e-13), dense.face_step(active, residual, 0.0),
                               rtol=1e-6, atol=1e-9)


def by_columns(monkeypatch):
    """Every binary working set on sparse X modelled by ``ColumnModel``, however small or dense."""
    monkeypatch.setattr(cd_models, "COLUMN_MODEL_MIN_COEF", 0)
    monkeypatch.setattr(cd_models, "COLUMN_MODEL_ADVANTAGE", 1e-12)


@pytest.mark.parametrize("fit_intercept, weighted, l2, dtype", [
    (True, False, 0.0, np.float64),
    (True, True, 0.0, np.float32),
    (False, True, 0.01, np.float64),
    (True, False, 0.02, np.float32),
])
def test_sparse_fits_modelled_by_columns_meet_kkt_at_the_dense_fits_minimiser(monkeypatch, fit_intercept, weighted,
                                                                             l2, dtype):
    """Every sparse fit here goes through ``ColumnModel`` (both thresholds lifted); the dense X's fit forms H."""
    used = []
    by_columns(monkeypatch)
    monkeypatch.setattr(cd_models.ColumnModel, "descend",
                        lambda self, *a, _f=cd_models.ColumnModel.descend: used.append(1) or _f(self, *a))
    X, y = sparse_problem(7, n=400, d=150, density=0.08, dtype=dtype)
    s = np.random.default_rng(8).uniform(0.0, 2.0, size=y.size) if weighted else None
    pi = np.r_[0.0, np.ones(149)]  # one unpenalised feature
    options = dict(sample_weight=s, l1=0.003, l2=l2, fit_intercept=fit_intercept, penalty_weights=pi)
    sparse_fit = fusedlogit.fit(X, y, **options)
    assert used and sparse_fit.converged, sparse_fit.message
    used.clear()
    dense_fit = fusedlogit.fit(X.toarray(), y, **options)
    assert not used and dense_fit.converged
    assert_same_minimiser(X.toarray().astype(np.float64), y, (sparse_fit.coef, sparse_fit.intercept),
                          (dense_fit.coef, dense_fit.intercept), l1=0.003, l2=l2, pi=pi, s=s,
                          fit_intercept=fit_intercept)


def test_a_sparse_path_modelled_by_columns_equals_the_dense_path(monkeypatch):
    by_columns(monkeypatch)
    X, y = sparse_problem(9, n=300, d=200, density=0.05)
    sparse_path = fusedlogit.path(X, y, n_alphas=6)
    dense_path = fusedlogit.path(X.toarray(), y, n_alphas=6)
    assert sparse_path.converged.all() and dense_path.converged.all()
    np.testing.assert_allclose(sparse_path.alphas, dense_path.alphas, rtol=1e-12)
    for i, l1 in enumerate(sparse_path.alphas):
        assert_same_minimiser(X.toarray(), y, (sparse_path.coef[i], sparse_path.intercept[i]),
                              (dense_path.coef[i], dense_path.intercept[i]), l1=l1, what=f"alpha {i}")


def rare_one_hot(n, columns, levels, seed):
    """One-hot codes of ``columns`` Zipf-distributed categorical columns: most levels occur once or twice."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, levels + 1) ** 1.1
    p /= p.sum()
    codes = np.concatenate([c * levels + rng.choice(levels, size=n, p=p) for c in range(columns)])
    X = sp.csr_matrix((np.ones(n * columns), (np.tile(np.arange(n), columns), codes)), shape=(n, columns * levels))
    beta = rng.normal(size=X.shape[1]) * (rng.random(X.shape[1]) < 0.01)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ beta)))).astype(np.float64)
    return X, y


def test_wide_one_hot_fit_with_a_large_support_converges_by_columns(monkeypatch):
    """The case of the README's wide sparse L1 figures, smaller: a support of hundreds of rare levels, where
    each model is modelled by columns (its Hessian is never formed) and the fit meets the scaled test."""
    formed = []
    monkeypatch.setattr(cd_models.HessianModel, "__init__",
                        lambda self, *a, _f=cd_models.HessianModel.__init__: formed.append(1) or _f(self, *a))
    X, y = rare_one_hot(800, 4, 5000, seed=0)
    res = fusedlogit.fit(X, y, l1=2e-4)
    assert res.converged, res.message
    assert res.n_nonzero > cd_models.COLUMN_MODEL_MIN_COEF
    assert not formed
    assert_kkt(X.toarray(), y, res.coef, res.intercept, l1=2e-4, l2=0.0)


def test_columns_are_chosen_where_a_sweep_by_columns_is_cheaper():
    """``_by_columns``: rare one-hot columns (few nonzeros a column) against dense-ish columns of many rows."""

    def decision(X, y, features):
        objective = fusedlogit.LogisticLoss(X, y)
        return cd_models.by_columns(objective, _Working(features, X.shape[1], True))

    X, y = rare_one_hot(800, 4, 5000, seed=0)
    nonempty = np.flatnonzero(X.getnnz(axis=0))
    assert decision(X, y, nonempty[:600])
    assert not decision(X, y, nonempty[:400])  # too few coefficients: H is small
    X, y = sparse_problem(1, n=3000, d=700, density=0.05)
    assert not decision(X, y, np.arange(600))  # 90,000 nonzeros: a sweep on H (600²) costs less
    assert not decision(sp.csr_matrix(X[:, :1]), y, None)  # one column


def test_objectives_on_one_x_share_its_column_copy():
    """``cv`` builds an objective per fold on the same X: one CSC copy serves them all, and it goes with them."""
    import gc
    import weakref

    X, y = sparse_problem(2)
    X = X.tocsr()
    a, b = fusedlogit.LogisticLoss(X, y), fusedlogit.LogisticLoss(X, y, sample_weight=np.arange(y.size) % 2)
    columns = a.sparse_columns()
    assert b.sparse_columns() is columns and a.sparse_column_counts() is b.sparse_column_counts()
    np.testing.assert_array_equal(columns.toarray(), X.toarray())
    np.testing.assert_array_equal(a.sparse_column_counts(), X.getnnz(axis=0))
    other = fusedlogit.LogisticLoss(X.copy(), y)
    assert other.sparse_columns() is not columns
    gone = weakref.ref(columns)
    del a, b, columns
    gc.collect()
    assert gone() is None


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_both_backends_model_by_columns(monkeypatch, backend):
    by_columns(monkeypatch)
    X, y = sparse_problem(3, n=250, d=60, density=0.1)
    res = fusedlogit.fit(X, y, l1=0.004, backend=backend)
    assert res.converged
    assert_kkt(X.toarray(), y, res.coef, res.intercept, l1=0.004, l2=0.0)
