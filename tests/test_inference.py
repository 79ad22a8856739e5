"""Standard errors, robust covariances and the summary, against statsmodels and the formulas."""

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog, data.endog.to_numpy()


@pytest.fixture(scope="module")
def clustered():
    """600 rows in 23 clusters of unequal size with a shared cluster effect (so cluster SEs differ)."""
    rng = np.random.default_rng(11)
    n, d = 600, 4
    groups = rng.integers(0, 23, n)
    X = rng.normal(size=(n, d)) + rng.normal(size=(23, d))[groups]
    z = X @ np.array([0.8, -0.5, 0.3, 0.0]) - 0.2 + rng.normal(size=23)[groups]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return X, y, groups


def statsmodels_fit(X, y, cov_type, groups=None, constant=True):
    exog = sm.add_constant(np.asarray(X, dtype=float), prepend=False) if constant else np.asarray(X, dtype=float)
    kwds = {} if cov_type == "nonrobust" else {"cov_type": cov_type}
    if cov_type == "cluster":
        kwds["cov_kwds"] = {"groups": groups}
    return sm.Logit(y, exog).fit(disp=0, method="newton", tol=1e-12, maxiter=100, **kwds)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "cluster"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_covariances_match_statsmodels(clustered, cov_type, fit_intercept):
    X, y, groups = clustered
    kwds = {"groups": groups} if cov_type == "cluster" else {}
    ours = fusedlogit.fit(X, y, cov_type=cov_type, fit_intercept=fit_intercept, **kwds)
    theirs = statsmodels_fit(X, y, cov_type, groups, constant=fit_intercept)
    np.testing.assert_allclose(ours.params, theirs.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.cov, theirs.cov_params(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours.stderr, theirs.bse, rtol=1e-6)
    np.testing.assert_allclose(ours.pvalues, theirs.pvalues, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours.conf_int(0.1), theirs.conf_int(0.1), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.zvalues, theirs.tvalues, rtol=1e-6)
    assert ours.cov_type == cov_type


def test_spector_statistics_match_statsmodels(spector):
    X, y = spector
    ours = fusedlogit.fit(X, y, cov_type="HC0")
    theirs = statsmodels_fit(X, y, "HC0")
    assert ours.loglike == pytest.approx(theirs.llf, rel=1e-10)
    assert ours.llnull == pytest.approx(theirs.llnull, rel=1e-10)
    assert ours.pseudo_r2 == pytest.approx(theirs.prsquared, rel=1e-9)
    assert ours.n_obs == 32
    assert ours.aic == pytest.approx(theirs.aic, rel=1e-10)
    assert ours.bic == pytest.approx(theirs.bic, rel=1e-10)
    assert ours.llr == pytest.approx(theirs.llr, rel=1e-9)
    assert ours.llr_pvalue == pytest.approx(theirs.llr_pvalue, rel=1e-6)
    assert ours.df_model == theirs.df_model == 3
    np.testing.assert_allclose(ours.stderr, theirs.bse, rtol=1e-6)


def test_hc1_is_hc0_with_the_degrees_of_freedom_factor(clustered):
    X, y, _ = clustered
    hc0 = fusedlogit.fit(X, y, cov_type="HC0")
    hc1 = fusedlogit.fit(X, y, cov_type="HC1")
    n, k = X.shape[0], X.shape[1] + 1
    np.testing.assert_allclose(hc1.cov, hc0.cov * n / (n - k), rtol=1e-12)


def test_sandwich_from_the_formula_with_weights(clustered):
    """HC0 and cluster written out with dense matrices; weights enter each score once."""
    X, y, groups = clustered
    s = np.random.default_rng(3).uniform(0.2, 3.0, len(y))
    Xt = np.column_stack([X, np.ones(len(y))])
    for cov_type in ("HC0", "cluster"):
        kwds = {"groups": groups} if cov_type == "cluster" else {}
        res = fusedlogit.fit(X, y, sample_weight=s, cov_type=cov_type, **kwds)
        p = 1 / (1 + np.exp(-(Xt @ res.params)))
        bread = np.linalg.inv(Xt.T @ ((s * p * (1 - p))[:, None] * Xt))
        scores = (s * (p - y))[:, None] * Xt
        if cov_type == "HC0":
            middle = scores.T @ scores
            factor = 1.0
        else:
            G = np.zeros((23, Xt.shape[1]))
            np.add.at(G, groups, scores)
            middle = G.T @ G
            n, k = len(y), Xt.shape[1]
            factor = 23 / 22 * (n - 1) / (n - k)
        np.testing.assert_allclose(res.cov, factor * bread @ middle @ bread, rtol=1e-7)


def test_weighted_hc0_matches_statsmodels_glm_var_weights(spector):
    X, y = spector
    s = np.random.default_rng(0).integers(1, 4, len(y)).astype(float)
    ours = fusedlogit.fit(X, y, sample_weight=s, cov_type="HC0")
    exog = sm.add_constant(X.to_numpy(), prepend=False)
    theirs = sm.GLM(y, exog, family=sm.families.Binomial(), var_weights=s).fit(cov_type="HC0", tol=1e-12)
    np.testing.assert_allclose(ours.stderr, theirs.bse, rtol=1e-6)


@pytest.mark.parametrize("cov_type", ["HC0", "cluster"])
def test_every_data_kind_gives_the_same_covariance(clustered, cov_type):
    X, y, groups = clustered
    kwds = {"groups": groups} if cov_type == "cluster" else {}
    expected = fusedlogit.fit(X, y, cov_type=cov_type, backend="numpy", **kwds).cov
    da = pytest.importorskip("dask.array")
    for data, backend in [(X, "numba"), (sp.csr_matrix(X), "numba"), (sp.csr_matrix(X), "numpy"),
                          (da.from_array(X, chunks=(170, 4)), "numba")]:
        got = fusedlogit.fit(data, y, cov_type=cov_type, backend=backend, **kwds).cov
        np.testing.assert_allclose(got, expected, rtol=1e-8)
    got32 = fusedlogit.fit(X.astype(np.float32), y, cov_type=cov_type, **kwds).cov
    np.testing.assert_allclose(got32, expected, rtol=1e-4)


def test_group_labels_of_any_kind(clustered):
    X, y, groups = clustered
    codes = fusedlogit.fit(X, y, cov_type="cluster", groups=groups).cov
    names = fusedlogit.fit(X, y, cov_type="cluster", groups=np.array([f"g{g:02d}" for g in groups])).cov
    np.testing.assert_array_equal(codes, names)


def test_penalised_fit_has_no_covariance_of_any_type(clustered):
    """NaN model-based errors; a robust type asked for is refused rather than returned as NaN."""
    X, y, groups = clustered
    res = fusedlogit.fit(X, y, l2=0.1)
    assert np.isnan(res.stderr).all() and np.isnan(res.pvalues).all()
    for cov_type in ("HC0", "HC1", "cluster"):
        kwds = {"groups": groups} if cov_type == "cluster" else {}
        with pytest.raises(ValueError, match="cov_type"):
            fusedlogit.fit(X, y, l2=0.1, cov_type=cov_type, **kwds)


@pytest.mark.parametrize(
    ("kwds", "match"),
    [
        ({"cov_type": "HC3"}, "cov_type"),
        ({"cov_type": "cluster"}, "groups"),
        ({"cov_type": "HC0", "groups": np.zeros(600)}, "groups"),
        ({"cov_type": "cluster", "groups": np.zeros(600)}, "groups"),
        ({"cov_type": "cluster", "groups": np.zeros(599)}, "groups"),
        ({"cov_type": "cluster", "groups": np.r_[np.nan, np.arange(599.0)]}, "groups"),
        ({"feature_names": ["a", "b"]}, "feature_names"),
    ],
)
def test_bad_inference_arguments_are_named(clustered, kwds, match):
    X, y, _ = clustered
    with pytest.raises(ValueError, match=match):
        fusedlogit.fit(X, y, **kwds)


def test_summary_names_and_values(spector):
    X, y = spector
    res = fusedlogit.fit(X, y)
    text = res.summary()
    assert res.feature_names == ("GPA", "TUCE", "PSI")
    for name, c, s in zip([*res.feature_names, "intercept"], res.params, res.stderr):
        line = next(line for line in text.splitlines() if line.startswith(name + " "))
        assert f"{c:.4f}" in line and f"{s:.4f}" in line
    assert "pseudo-R²" in text and "observations: 32" in text and "nonrobust" in text
    assert "\n" not in repr(res) and len(repr(res)) < 250

    named = fusedlogit.fit(X.to_numpy(), y, feature_names=["gpa", "tuce", "psi"], fit_intercept=False)
    assert named.feature_names == ("gpa", "tuce", "psi")
    assert "intercept" not in named.summary() and named.params.shape == (3,)
    assert fusedlogit.fit(X.to_numpy(), y).feature_names == ("x0", "x1", "x2")


def test_conf_int_level_and_bad_alpha(spector):
    X, y = spector
    res = fusedlogit.fit(X, y)  # X a DataFrame: labelled results (a DataFrame of bounds, a Series of params)
    wide, narrow = np.asarray(res.conf_int(0.01)), np.asarray(res.conf_int(0.2))
    assert np.all(wide[:, 0] < narrow[:, 0]) and np.all(wide[:, 1] > narrow[:, 1])
    np.testing.assert_allclose(res.conf_int().mean(axis=1), res.params)
    with pytest.raises(ValueError, match="alpha"):
        res.conf_int(1.5)
