"""The ordinal (proportional-odds) model: against statsmodels' OrderedModel and published results, against
independent formulas and finite differences, the fused path against the reference, and its edges."""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit
from fusedlogit import OrdinalLoss, SeparationWarning, check_gradient


def ordinal_data(n=3000, d=6, K=5, seed=0, scale=0.7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) * scale
    cuts = np.linspace(-1.5, 1.5, K - 1)
    y = np.searchsorted(cuts, X @ w + rng.logistic(size=n))
    return X, y, rng


def direct_loss(X, y, coef, weights=None, offset=None):
    """Σ s_i −log(F(θ_k − η) − F(θ_{k−1} − η)) written from the definition, F the logistic CDF."""
    d = X.shape[1]
    w, theta = coef[:d], coef[d:]
    eta = X @ w + (0.0 if offset is None else offset)
    cuts = np.concatenate([[-np.inf], theta, [np.inf]])
    F = lambda t: 1.0 / (1.0 + np.exp(-t))  # noqa: E731
    p = F(cuts[y + 1] - eta) - F(cuts[y] - eta)
    s = np.ones(len(y)) if weights is None else weights
    return float(s @ -np.log(p))


# -- against statsmodels and the published UCLA results ---------------------------------------


def ucla():
    statsmodels = pytest.importorskip("statsmodels")
    import pandas as pd

    path = os.path.join(os.path.dirname(statsmodels.__file__), "miscmodels", "tests", "results", "ologit_ucla.csv")
    data = pd.read_csv(path)
    y = data["apply"].map({"unlikely": 0, "somewhat likely": 1, "very likely": 2}).to_numpy()
    return data[["pared", "public", "gpa"]].to_numpy(float), y


def statsmodels_stderr(model, params):
    """Standard errors from statsmodels' log-likelihood with a Hessian accurate to ~1e-8.

    ``OrderedModel``'s ``bse`` comes from a numerical Hessian at numdiff's default steps, good to ~1e-5
    relative here; central differences of step 1e-4 (``approx_hess3``) of the same likelihood agree with
    the analytic Hessian to ~1e-8.
    """
    from statsmodels.tools.numdiff import approx_hess3

    return np.sqrt(np.diag(np.linalg.inv(-approx_hess3(params, model.loglike, epsilon=1e-4))))


def test_ucla_ologit_equals_statsmodels():
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    X, y = ucla()
    ours = fusedlogit.fit(X, y, model="ordinal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = OrderedModel(y, X, distr="logit").fit(method="newton", disp=False, maxiter=100)
    thresholds = theirs.model.transform_threshold_params(theirs.params)[1:-1]
    np.testing.assert_allclose(ours.coef, theirs.params[:3], rtol=1e-6)
    np.testing.assert_allclose(ours.thresholds, thresholds, rtol=1e-6)
    np.testing.assert_allclose(ours.stderr[:3], statsmodels_stderr(theirs.model, theirs.params)[:3], rtol=1e-6)
    np.testing.assert_allclose(ours.stderr[:3], theirs.bse[:3], rtol=1e-4)
    np.testing.assert_allclose(ours.loglike, theirs.llf, rtol=1e-10)
    np.testing.assert_allclose(ours.llnull, theirs.llnull, rtol=1e-10)
    np.testing.assert_allclose([ours.aic, ours.bic], [theirs.aic, theirs.bic], rtol=1e-10)
    # the first threshold is a parameter of both parametrisations: its standard error too
    np.testing.assert_allclose(ours.stderr[3], statsmodels_stderr(theirs.model, theirs.params)[3], rtol=1e-6)
    np.testing.assert_allclose(fusedlogit.predict_proba(ours, X), theirs.predict(X), rtol=1e-6)


def test_ucla_ologit_published_values():
    """MASS::polr on the UCLA data (the estimates and standard errors its example prints, 4 decimals)."""
    X, y = ucla()
    result = fusedlogit.fit(X, y, model="ordinal")
    np.testing.assert_allclose(result.coef, [1.0477, -0.0587, 0.6157], atol=6e-5)
    np.testing.assert_allclose(result.thresholds, [2.2033, 4.2988], atol=6e-5)
    np.testing.assert_allclose(result.stderr, [0.2658, 0.2979, 0.2606, 0.7795, 0.8043], atol=6e-5)
    np.testing.assert_allclose(-2 * result.loglike, 717.0249, atol=1e-4)


def test_weighted_fit_equals_statsmodels_on_repeated_rows():
    """K = 5 with integer weights: the fit of the rows repeated (statsmodels has no weights)."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    X, y, rng = ordinal_data(n=600, d=4, K=5, seed=3)
    counts = rng.integers(1, 4, size=len(y))
    ours = fusedlogit.fit(X, y, model="ordinal", sample_weight=counts.astype(float))
    Xr, yr = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = OrderedModel(yr, Xr, distr="logit").fit(method="newton", disp=False, maxiter=200)
    np.testing.assert_allclose(ours.coef, theirs.params[:4], rtol=1e-6)
    np.testing.assert_allclose(ours.thresholds, theirs.model.transform_threshold_params(theirs.params)[1:-1],
                               rtol=1e-6)
    np.testing.assert_allclose(ours.stderr[:4], statsmodels_stderr(theirs.model, theirs.params)[:4], rtol=1e-6)
    np.testing.assert_allclose(ours.loglike, theirs.llf, rtol=1e-10)


# -- the objective: independent formulas, finite differences, fused against reference ---------


def cases():
    X, y, rng = ordinal_data(n=2000, d=5, K=4, seed=1)
    weights = rng.uniform(0.2, 2.0, len(y))
    offset = rng.standard_normal(len(y)) * 0.3
    sparse_X = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    return [
        ("dense", X, {}),
        ("dense weights offset", X, {"sample_weight": weights, "offset": offset}),
        ("float32", X.astype(np.float32), {"sample_weight": weights}),
        ("csr", sparse_X, {}),
        ("csr weights offset", sparse_X, {"sample_weight": weights, "offset": offset}),
    ], y


CASES, LEVELS = cases()


@pytest.mark.parametrize("name,X,options", CASES, ids=[c[0] for c in CASES])
def test_loss_gradient_hessian_are_consistent(name, X, options):
    fused = OrdinalLoss(X, LEVELS, l2=0.05, **options)
    reference = OrdinalLoss(X, LEVELS, l2=0.05, backend="numpy", **options)
    rng = np.random.default_rng(7)
    coef = np.concatenate([rng.standard_normal(X.shape[1]) * 0.3, [-0.8, 0.1, 0.9]])
    v = rng.standard_normal(fused.n_coef)
    dense = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    s = options.get("sample_weight")
    direct = direct_loss(dense, LEVELS, coef, s, options.get("offset")) / (len(LEVELS) if s is None else s.sum())
    direct += 0.5 * 0.05 * coef[:-3] @ coef[:-3]
    rtol = 1e-6 if X.dtype == np.float32 else 1e-12
    products = 1e-6 if X.dtype == np.float32 else 1e-10  # float32 X: x·v is formed in float32, as BLAS would
    loss, grad = fused.loss_gradient(coef)
    np.testing.assert_allclose(loss, direct, rtol=rtol)
    np.testing.assert_allclose(reference.loss(coef), loss, rtol=rtol)
    np.testing.assert_allclose(reference.gradient(coef), grad, rtol=1e-6 if X.dtype == np.float32 else 1e-10,
                               atol=1e-12)
    assert check_gradient(fused.loss, fused.gradient, coef) < 1e-6
    H = fused.hessian(coef)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    np.testing.assert_allclose(fused.hessp(coef, v), H @ v, rtol=products, atol=1e-12)
    np.testing.assert_allclose(reference.hessp(coef, v), fused.hessp(coef, v), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(reference.hessian(coef), H, rtol=products, atol=1e-12)
    columns = np.eye(fused.n_coef)
    finite = np.array([(fused.gradient(coef + 1e-6 * e) - fused.gradient(coef - 1e-6 * e)) / 2e-6 for e in columns])
    np.testing.assert_allclose(finite, H, atol=1e-6)
    keep = [0, 2, 4]
    index = np.r_[keep, X.shape[1] + np.arange(3)]
    np.testing.assert_allclose(fused.hessian(coef, features=np.array(keep)), H[np.ix_(index, index)], atol=1e-14)


def test_results_are_bitwise_equal_for_any_thread_count():
    X, y, _ = ordinal_data(n=20_000, d=8, seed=2)
    coef = np.concatenate([np.full(8, 0.1), [-1.0, -0.3, 0.3, 1.0]])
    v = np.linspace(-1, 1, 12)
    one, two = OrdinalLoss(X, y, n_threads=1), OrdinalLoss(X, y, n_threads=2)
    for a, b in [(one.loss_gradient(coef), two.loss_gradient(coef)), ((one.hessp(coef, v),), (two.hessp(coef, v),))]:
        for u, t in zip(a, b):
            assert np.array_equal(u, t)
    csr = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0))
    one, two = OrdinalLoss(csr, y, n_threads=1), OrdinalLoss(csr, y, n_threads=2)
    assert np.array_equal(one.gradient(coef), two.gradient(coef))


def test_extreme_margins_and_close_thresholds_stay_finite():
    X = np.array([[1000.0], [-1000.0], [0.0], [0.0]])
    y = np.array([2, 0, 1, 1])
    objective = OrdinalLoss(X, y)
    loss, grad = objective.loss_gradient(np.array([1.0, -1.0, 1.0]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    close = np.array([1.0, -1e-9, 1e-9])  # the middle level: P = σ(1e-9) − σ(−1e-9) = 5e-10, its loss ≈ 21.4
    expected = -np.log(np.array([1.0, 1.0, 5e-10, 5e-10]))  # rows 1-2: P(level) = σ(±(1000 + 1e-9)) = 1
    np.testing.assert_allclose(OrdinalLoss(X, y, reduction="sum").loss(close), expected.sum(), rtol=1e-7)


def test_thresholds_out_of_order_give_an_infinite_loss():
    X, y, _ = ordinal_data(n=200, d=2, K=4)
    objective = OrdinalLoss(X, y)
    coef = np.array([0.1, 0.2, -1.0, 0.5, 0.5])
    assert objective.loss(coef) == np.inf
    assert np.isnan(objective.gradient(coef)).all()


def test_dask_fit_equals_the_in_memory_fit():
    da = pytest.importorskip("dask.array")
    X, y, rng = ordinal_data(n=3000, d=4, seed=4)
    weights = rng.uniform(0.5, 1.5, len(y))
    memory = fusedlogit.fit(X, y, model="ordinal", sample_weight=weights)
    chunked = fusedlogit.fit(da.from_array(X, chunks=700), y, model="ordinal", sample_weight=weights)
    np.testing.assert_allclose(chunked.coef, memory.coef, rtol=1e-10)
    np.testing.assert_allclose(chunked.thresholds, memory.thresholds, rtol=1e-10)
    np.testing.assert_allclose(chunked.stderr, memory.stderr, rtol=1e-8)


def test_memmap_X(tmp_path):
    X, y, _ = ordinal_data(n=1000, d=3)
    mapped = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64, shape=X.shape)
    mapped[:] = X
    np.testing.assert_array_equal(fusedlogit.fit(mapped, y, model="ordinal").coef,
                                  fusedlogit.fit(X, y, model="ordinal").coef)


# -- fits ------------------------------------------------------------------------------------------


def test_two_levels_give_the_binary_fit():
    X, y, _ = ordinal_data(n=2000, d=4, K=2, seed=5)
    binary = fusedlogit.fit(X, y)
    ordinal = fusedlogit.fit(X, y, model="ordinal")
    np.testing.assert_allclose(ordinal.coef, binary.coef, rtol=1e-9)
    np.testing.assert_allclose(ordinal.thresholds, [-binary.intercept], rtol=1e-9)
    np.testing.assert_allclose(ordinal.stderr, binary.stderr, rtol=1e-8)
    np.testing.assert_allclose(ordinal.loglike, binary.loglike, rtol=1e-12)


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "newton-cg"])
def test_every_smooth_solver_reaches_the_same_fit(solver):
    X, y, rng = ordinal_data(n=3000, d=6, seed=6)
    X[:, 0] = X[:, 0] * 1000 + 5000  # a badly scaled column: the standardised coordinates take it
    reference = fusedlogit.fit(X, y, model="ordinal", solver="newton")
    result = fusedlogit.fit(X, y, model="ordinal", solver=solver)
    assert result.converged and np.all(np.diff(result.thresholds) > 0)
    np.testing.assert_allclose(result.coef, reference.coef, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(result.thresholds, reference.thresholds, rtol=1e-5)


def test_offset_shifts_the_thresholds():
    X, y, _ = ordinal_data(n=2000, d=3, seed=8)
    plain = fusedlogit.fit(X, y, model="ordinal")
    shifted = fusedlogit.fit(X, y, model="ordinal", offset=np.full(len(y), 0.75))
    np.testing.assert_allclose(shifted.coef, plain.coef, rtol=1e-8)
    np.testing.assert_allclose(shifted.thresholds, plain.thresholds + 0.75, rtol=1e-8)
    np.testing.assert_allclose(shifted.llnull, plain.llnull, rtol=1e-10)


def test_penalties_leave_the_thresholds_free():
    X, y, _ = ordinal_data(n=2000, d=4, seed=9)
    shares = np.bincount(y) / len(y)
    null = np.log(np.cumsum(shares)[:-1]) - np.log1p(-np.cumsum(shares)[:-1])
    for options in ({"l2": 1e6}, {"l1": 10.0}):
        result = fusedlogit.fit(X, y, model="ordinal", **options)
        assert np.max(np.abs(result.coef)) < 1e-5
        np.testing.assert_allclose(result.thresholds, null, atol=1e-5)
    lasso = fusedlogit.fit(X, y, model="ordinal", l1=0.02, penalty_weights=[1, 1, 0, 1])
    assert lasso.converged and lasso.coef[2] != 0


def test_path_and_cv():
    X, y, _ = ordinal_data(n=2000, d=8, seed=10)
    path = fusedlogit.path(X, y, model="ordinal", n_alphas=15)
    assert path.converged.all() and path.thresholds.shape == (15, 4) and path.n_nonzero[0] == 0
    last = fusedlogit.fit(X, y, model="ordinal", l1=path.alphas[-1])
    np.testing.assert_allclose(path.coef[-1], last.coef, atol=1e-6)
    np.testing.assert_allclose(path.thresholds[-1], last.thresholds, atol=1e-6)
    chosen = fusedlogit.cv(X, y, model="ordinal", n_alphas=8, folds=3)
    assert chosen.fit.thresholds.shape == (4,) and np.isfinite(chosen.mean_score).all()


def test_separated_levels_are_reported():
    X = np.arange(30, dtype=np.float64)[:, None]
    y = np.repeat([0, 1, 2], 10)
    with pytest.warns(SeparationWarning):
        result = fusedlogit.fit(X, y, model="ordinal")
    assert result.status == "separation" and np.isnan(result.stderr).all()


def test_bad_input_is_refused_by_name():
    X, y, _ = ordinal_data(n=300, d=2, K=4)
    with pytest.raises(ValueError, match="level .*2 of 0..3 has no samples"):
        fusedlogit.fit(X, np.where(y == 2, 1, y), model="ordinal")
    with pytest.raises(ValueError, match="fit_intercept=False"):
        fusedlogit.fit(X, y, model="ordinal", fit_intercept=False)
    with pytest.raises(ValueError, match="not soft labels"):
        fusedlogit.fit(X, np.full((300, 2), 0.5), model="ordinal")
    with pytest.raises(ValueError, match="intercept0 must be the 3 thresholds"):
        fusedlogit.fit(X, y, model="ordinal", intercept0=[0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="cov_type"):
        fusedlogit.fit(X, y, model="ordinal", cov_type="HC0")
    with pytest.raises(ValueError, match="model"):
        fusedlogit.fit(X, y, model="ordered")


def test_result_summary_and_probabilities():
    X, y, _ = ordinal_data(n=1500, d=3, K=4, seed=11)
    result = fusedlogit.fit(X, y, model="ordinal", feature_names=["a", "b", "c"], coef0=np.zeros(3),
                            intercept0=[-1.0, 0.0, 1.0])
    text = result.summary()
    assert "Ordinal logistic" in text and "threshold 2|3" in text
    assert result.params.shape == result.stderr.shape == (6,) and result.df_model == 3
    P = fusedlogit.predict_proba(result, X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    eta = X @ result.coef
    cumulative = 1.0 / (1.0 + np.exp(-(result.thresholds[None, :] - eta[:, None])))
    np.testing.assert_allclose(np.cumsum(P, axis=1)[:, :-1], cumulative, rtol=1e-10)


def test_jit_kernel_equals_the_objective():
    from fusedlogit import jit

    X, y, rng = ordinal_data(n=500, d=3, K=4, seed=12)
    weights = rng.uniform(0.5, 1.5, len(y))
    coef = np.array([0.2, -0.1, 0.3, -1.0, 0.0, 1.0])
    out = np.empty(6)
    loss = jit.ordinal_loss_gradient(coef, X, y, weights, out)
    expected_loss, expected_grad = OrdinalLoss(X, y, sample_weight=weights, reduction="sum").loss_gradient(coef)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(out, expected_grad, rtol=1e-10, atol=1e-12)


def test_sklearn_estimator():
    pytest.importorskip("sklearn")
    import pandas as pd
    from sklearn.utils.estimator_checks import check_estimator

    from fusedlogit.sklearn import OrdinalLogisticRegression

    X, y, _ = ordinal_data(n=800, d=3, K=4, seed=13)
    names = np.array(["low", "mid", "high", "top"])
    labels = pd.Categorical(names[y], categories=list(names), ordered=True)
    model = OrdinalLogisticRegression(C=np.inf).fit(X, labels)
    result = fusedlogit.fit(X, y, model="ordinal")
    assert list(model.classes_) == list(names)
    np.testing.assert_allclose(model.coef_, result.coef, rtol=1e-10)
    np.testing.assert_allclose(model.thresholds_, result.thresholds, rtol=1e-10)
    np.testing.assert_allclose(model.predict_proba(X), fusedlogit.predict_proba(result, X), rtol=1e-10)
    assert set(model.predict(X)) <= set(names) and 0 < model.score(X, names[y]) <= 1
    check_estimator(OrdinalLogisticRegression())
