"""Multinomial fits: statsmodels' MNLogit, every solver and data kind, the centred solution, warnings and errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit
from fusedlogit import ConvergenceWarning, MultinomialLoss, SeparationWarning


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(31)
    n, d, K = 2000, 4, 4
    X = rng.normal(size=(n, d)) * [1.0, 2.0, 0.5, 1.0] + [0.0, 1.0, 0.0, -2.0]
    W = rng.normal(size=(K, d))
    y = np.argmax(X @ W.T + rng.gumbel(size=(n, K)), axis=1)
    weight = rng.uniform(0.2, 2.0, n)
    return X, y, weight


def test_anes96_matches_statsmodels_mnlogit():
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.anes96.load_pandas()
    columns = ["logpopul", "selfLR", "age", "educ", "income"]
    y = data.endog.to_numpy().astype(int)
    theirs = sm.MNLogit(y, sm.add_constant(data.exog[columns], prepend=False)).fit(
        method="newton", tol=1e-12, maxiter=100, disp=0
    )
    for solver in ("newton", "lbfgs", "newton-cg"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # converges; no warning about the unidentified model
            ours = fusedlogit.fit(data.exog[columns], y, solver=solver)
        assert ours.n_classes == 7 and ours.coef.shape == (7, 5) and ours.intercept.shape == (7,)
        np.testing.assert_allclose(ours.params, theirs.params.to_numpy().T, rtol=1e-6, atol=1e-7, err_msg=solver)
        np.testing.assert_allclose(ours.stderr, theirs.bse.to_numpy().T, rtol=1e-6, err_msg=solver)
        np.testing.assert_allclose(ours.pvalues, theirs.pvalues.to_numpy().T, rtol=1e-5, atol=1e-10)
        assert ours.loglike == pytest.approx(theirs.llf, rel=1e-10)
        assert ours.llnull == pytest.approx(theirs.llnull, rel=1e-8)
        assert ours.cov.shape == (36, 36)
        assert ours.aic == pytest.approx(theirs.aic, rel=1e-10) and ours.bic == pytest.approx(theirs.bic, rel=1e-10)
        assert ours.llr == pytest.approx(theirs.llr, rel=1e-8) and ours.df_model == theirs.df_model == 30
        # statsmodels orders its covariance equation by equation, as ``params.ravel()`` is here
        np.testing.assert_allclose(ours.cov, theirs.cov_params().to_numpy(), rtol=1e-6, atol=1e-12)
    assert ours.feature_names == tuple(columns)
    assert "educ [6 vs 0]" in ours.summary()


def test_unpenalised_solution_is_centred_and_optimal(problem):
    X, y, weight = problem
    res = fusedlogit.fit(X, y, sample_weight=weight)
    assert res.converged and res.status == "converged"
    np.testing.assert_allclose(res.coef.sum(axis=0), 0.0, atol=1e-12)
    assert abs(res.intercept.sum()) < 1e-12
    full = MultinomialLoss(X, y, sample_weight=weight)
    grad = full.gradient(np.column_stack([res.coef, res.intercept]))
    assert np.abs(grad).max() < 1e-8  # the centred point is a minimiser of the full objective
    assert res.stderr.shape == (3, 5) and np.isfinite(res.stderr).all()


def test_penalised_solvers_agree(problem):
    X, y, weight = problem
    results = {s: fusedlogit.fit(X, y, sample_weight=weight, l2=0.01, solver=s, tol=1e-10)
               for s in ("newton", "lbfgs", "newton-cg")}
    ref = results["newton"]
    assert np.isnan(ref.stderr).all() and ref.stderr.shape == (3, 5)
    np.testing.assert_allclose(ref.coef.sum(axis=0), 0.0, atol=1e-9)  # ∇ over classes sums to l2·Σ_k w_k
    for name, res in results.items():
        assert res.converged, name
        np.testing.assert_allclose(res.coef, ref.coef, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(res.intercept, ref.intercept, atol=1e-8, err_msg=name)
        assert res.loss == pytest.approx(ref.loss, rel=1e-13)


def test_every_data_kind_gives_the_same_fit(problem):
    X, y, weight = problem
    ref = fusedlogit.fit(X, y, sample_weight=weight, l2=1e-3)
    kinds = [(sp.csr_matrix(X), "numba"), (X, "numpy"), (np.asfortranarray(X), "numba")]
    da = pytest.importorskip("dask.array")
    kinds.append((da.from_array(X, chunks=(600, 4)), "numba"))
    for data, backend in kinds:
        res = fusedlogit.fit(data, y, sample_weight=weight, l2=1e-3, backend=backend)
        np.testing.assert_allclose(res.coef, ref.coef, atol=1e-8)
        np.testing.assert_allclose(res.intercept, ref.intercept, atol=1e-8)
    res32 = fusedlogit.fit(X.astype(np.float32), y, sample_weight=weight, l2=1e-3)
    np.testing.assert_allclose(res32.coef, ref.coef, atol=1e-4)


def test_soft_one_hot_labels_and_n_classes(problem):
    X, y, _ = problem
    hard = fusedlogit.fit(X, y, l2=1e-3)
    soft = fusedlogit.fit(X, np.eye(4)[y], l2=1e-3)
    np.testing.assert_allclose(soft.coef, hard.coef, atol=1e-9)
    wider = fusedlogit.fit(X, y, l2=1e-3, n_classes=4)
    np.testing.assert_allclose(wider.coef, hard.coef, atol=1e-12)
    binary = fusedlogit.fit(X, (y == 1).astype(float), n_classes=2)
    assert binary.n_classes == 2 and binary.coef.shape == (4,)


def test_warm_start_shapes(problem):
    X, y, _ = problem
    res = fusedlogit.fit(X, y, l2=1e-3)
    again = fusedlogit.fit(X, y, l2=1e-3, coef0=res.coef, intercept0=res.intercept)
    assert again.n_iter <= 1
    with pytest.raises(ValueError, match="coef0"):
        fusedlogit.fit(X, y, coef0=res.coef[0])
    with pytest.raises(ValueError, match="intercept0"):
        fusedlogit.fit(X, y, intercept0=1.0)


def test_separation_is_reported():
    X = np.array([[-3.0], [-2.0], [-1.0], [1.0], [2.0], [3.0], [5.0], [6.0], [7.0]])
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    with pytest.warns(SeparationWarning):
        res = fusedlogit.fit(X, y)
    assert res.status == "separation" and np.isnan(res.stderr).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y": np.r_[0, 2, 2, 3, 3, 3]}, "class 1"),
        ({"offset": np.zeros(6)}, "offset"),
        ({"cov_type": "HC0"}, "cov_type"),
        ({"n_classes": 1}, "n_classes"),
        ({"y": np.r_[0, 1, 2, 2, 1, 7], "n_classes": 4}, "n_classes"),
    ],
)
def test_bad_multinomial_arguments(kwargs, match):
    X = np.arange(12.0).reshape(6, 2)
    args = {"y": np.r_[0, 1, 2, 2, 1, 0]} | kwargs
    with pytest.raises(ValueError, match=match):
        fusedlogit.fit(X, **args)


def test_max_iter_status(problem):
    X, y, _ = problem
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = fusedlogit.fit(X, y, solver="lbfgs", max_iter=2)
    assert res.status == "max_iter" and not res.converged
