"""Edge cases of the covariances and the summary: zero weights, extreme weight scales, mixed group labels,
penalised fits asking for robust covariances, and (n, 2) soft labels."""

import numpy as np
import pytest

import fusedlogit

ROBUST = ("HC0", "HC1", "cluster")


@pytest.fixture(scope="module")
def data():
    """400 rows in 17 clusters with a shared cluster effect, and positive weights."""
    rng = np.random.default_rng(24)
    n, d = 400, 3
    groups = rng.integers(0, 17, n)
    X = rng.normal(size=(n, d)) + 0.5 * rng.normal(size=(17, d))[groups]
    z = X @ np.array([0.7, -0.4, 0.2]) + 0.1 + rng.normal(size=17)[groups]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    s = rng.uniform(0.2, 3.0, n)
    return X, y, groups, s


def kwds_for(cov_type, groups):
    return {"groups": groups} if cov_type == "cluster" else {}


def explicit_sandwich(X, y, s, params, cov_type, groups=None):
    """A⁻¹ B A⁻¹ over the rows given (all of positive weight); scores s_i (p_i − y_i) x̃_i."""
    Xt = np.column_stack([X, np.ones(len(y))])
    p = 1 / (1 + np.exp(-(Xt @ params)))
    bread = np.linalg.inv(Xt.T @ ((s * p * (1 - p))[:, None] * Xt))
    scores = (s * (p - y))[:, None] * Xt
    n, k = Xt.shape
    if cov_type == "cluster":
        _, codes = np.unique(groups, return_inverse=True)
        G = np.zeros((codes.max() + 1, k))
        np.add.at(G, codes, scores)
        middle = G.T @ G
        factor = len(G) / (len(G) - 1) * (n - 1) / (n - k)
    else:
        middle = scores.T @ scores
        factor = n / (n - k) if cov_type == "HC1" else 1.0
    return factor * bread @ middle @ bread


# -- zero-weight rows and clusters -------------------------------------------------------


@pytest.mark.parametrize("cov_type", ["nonrobust", *ROBUST])
def test_zero_weight_rows_and_groups_play_no_part(data, cov_type):
    """50 extra weightless rows, each its own cluster, change neither n nor G: the same covariance as without them."""
    X, y, groups, s = data
    rng = np.random.default_rng(5)
    X_extra = np.vstack([X, rng.normal(size=(50, X.shape[1]))])
    y_extra = np.r_[y, rng.integers(0, 2, 50)]
    s_extra = np.r_[s, np.zeros(50)]
    groups_extra = np.r_[groups, 1000 + np.arange(50)]
    without = fusedlogit.fit(X, y, sample_weight=s, cov_type=cov_type, **kwds_for(cov_type, groups))
    extra = fusedlogit.fit(
        X_extra, y_extra, sample_weight=s_extra, cov_type=cov_type, **kwds_for(cov_type, groups_extra)
    )
    assert extra.n_obs == without.n_obs == len(y)
    np.testing.assert_allclose(extra.params, without.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(extra.cov, without.cov, rtol=1e-7)


def test_zero_weight_rows_inside_positive_clusters_match_the_formula(data):
    """Weightless rows scattered through the clusters, and one cluster left weightless: G = 16, n = the rest."""
    X, y, groups, s = data
    s = s.copy()
    s[::7] = 0.0
    s[groups == 4] = 0.0
    res = fusedlogit.fit(X, y, sample_weight=s, cov_type="cluster", groups=groups)
    keep = s > 0
    expected = explicit_sandwich(X[keep], y[keep], s[keep], res.params, "cluster", groups[keep])
    assert len(np.unique(groups[keep])) == 16
    np.testing.assert_allclose(res.cov, expected, rtol=1e-7)


def test_fewer_than_two_clusters_of_positive_weight_are_refused(data):
    X, y, groups, s = data
    only_one = np.where(groups == 2, s, 0.0)
    with pytest.raises(ValueError, match="groups.*at least 2 groups"):
        fusedlogit.fit(X, y, sample_weight=only_one, cov_type="cluster", groups=groups)
    two = np.where(groups <= 3, s, 0.0)
    two_groups = np.where(groups <= 1, 0, 1)  # two clusters with positive weight, whatever the weightless rows say
    res = fusedlogit.fit(X, y, sample_weight=two, cov_type="cluster", groups=np.where(two > 0, two_groups, groups))
    assert np.isfinite(res.stderr).all()


# -- invariance to the scale of the weights ----------------------------------------------


@pytest.mark.parametrize("scale", [1e-200, 1e200])
@pytest.mark.parametrize("cov_type", ROBUST)
def test_robust_covariances_do_not_depend_on_the_scale_of_the_weights(data, cov_type, scale):
    X, y, groups, s = data
    kwds = kwds_for(cov_type, groups)
    reference = fusedlogit.fit(X, y, sample_weight=s, cov_type=cov_type, **kwds)
    weights = s * scale
    before = weights.copy()
    scaled = fusedlogit.fit(X, y, sample_weight=weights, cov_type=cov_type, **kwds)
    np.testing.assert_array_equal(weights, before)  # the caller's weights are not rescaled in place
    assert np.isfinite(scaled.cov).all()
    np.testing.assert_allclose(scaled.cov, reference.cov, rtol=1e-10)
    np.testing.assert_allclose(scaled.stderr, reference.stderr, rtol=1e-10)


def test_nonrobust_covariance_scales_as_frequency_weights(data):
    """The model-based covariance treats weights as frequencies: doubling them halves it (unlike the sandwich)."""
    X, y, _, s = data
    once = fusedlogit.fit(X, y, sample_weight=s)
    twice = fusedlogit.fit(X, y, sample_weight=2 * s)
    np.testing.assert_allclose(twice.cov, once.cov / 2, rtol=1e-9)


# -- weighted sandwiches against an independent formula and statsmodels ------------------


@pytest.mark.parametrize("cov_type", ROBUST)
def test_weighted_sandwich_matches_the_explicit_formula(data, cov_type):
    X, y, groups, s = data
    res = fusedlogit.fit(X, y, sample_weight=s, cov_type=cov_type, **kwds_for(cov_type, groups))
    np.testing.assert_allclose(res.cov, explicit_sandwich(X, y, s, res.params, cov_type, groups), rtol=1e-7)


@pytest.mark.filterwarnings("ignore:cov_type not fully supported with var_weights")
def test_weighted_cluster_matches_statsmodels_glm_var_weights(data):
    sm = pytest.importorskip("statsmodels.api")
    X, y, groups, s = data
    ours = fusedlogit.fit(X, y, sample_weight=s, cov_type="cluster", groups=groups)
    exog = sm.add_constant(X, prepend=False)
    theirs = sm.GLM(y, exog, family=sm.families.Binomial(), var_weights=s).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, tol=1e-12
    )
    np.testing.assert_allclose(ours.params, theirs.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.stderr, theirs.bse, rtol=1e-6)


# -- group labels of mixed kinds ----------------------------------------------------------


def test_groups_mixing_ints_and_strings(data):
    X, y, groups, _ = data
    by_code = fusedlogit.fit(X, y, cov_type="cluster", groups=groups)
    mixed = np.array([int(g) if g % 2 else f"g{g}" for g in groups], dtype=object)
    labels_before = mixed.copy()
    res = fusedlogit.fit(X, y, cov_type="cluster", groups=mixed)
    np.testing.assert_array_equal(mixed, labels_before)
    np.testing.assert_allclose(res.cov, by_code.cov, rtol=1e-12)
    as_list = fusedlogit.fit(X, y, cov_type="cluster", groups=list(mixed))
    np.testing.assert_allclose(as_list.cov, by_code.cov, rtol=1e-12)


def test_a_list_keeps_ints_and_strings_apart(data):
    """In a list, 3 and "3" are different clusters (np.asarray alone would make both the string "3")."""
    X, y, groups, _ = data
    by_code = fusedlogit.fit(X, y, cov_type="cluster", groups=groups)
    labels = [int(g) if g < 9 else str(g - 9) for g in groups]  # 0..8 and "0".."7": 17 clusters
    res = fusedlogit.fit(X, y, cov_type="cluster", groups=labels)
    np.testing.assert_allclose(res.cov, by_code.cov, rtol=1e-12)


def test_groups_of_other_hashable_objects(data):
    """Tuples beside a string and None-free objects that do not sort together still name clusters."""
    X, y, groups, _ = data
    by_code = fusedlogit.fit(X, y, cov_type="cluster", groups=groups)
    labels = np.empty(len(groups), dtype=object)
    for i, g in enumerate(groups):
        labels[i] = ("site", int(g)) if g < 8 else (f"s{g}" if g < 12 else frozenset({int(g)}))
    res = fusedlogit.fit(X, y, cov_type="cluster", groups=labels)
    np.testing.assert_allclose(res.cov, by_code.cov, rtol=1e-12)


def test_unhashable_unsortable_group_labels_are_named(data):
    X, y, groups, _ = data
    labels = np.empty(len(groups), dtype=object)
    for i, g in enumerate(groups):
        labels[i] = {"g": int(g)}
    with pytest.raises(ValueError, match="groups"):
        fusedlogit.fit(X, y, cov_type="cluster", groups=labels)


def test_dask_weights_with_zeros_give_the_in_memory_cluster_covariance(data):
    da = pytest.importorskip("dask.array")
    X, y, groups, s = data
    s = s * 1e150
    s[::5] = 0.0
    expected = fusedlogit.fit(X, y, sample_weight=s, cov_type="cluster", groups=groups).cov
    X_dask, s_dask = da.from_array(X, chunks=(90, 3)), da.from_array(s, chunks=90)
    got = fusedlogit.fit(X_dask, y, sample_weight=s_dask, cov_type="cluster", groups=groups).cov
    np.testing.assert_allclose(got, expected, rtol=1e-8)


# -- penalised fits ------------------------------------------------------------------------


@pytest.mark.parametrize("cov_type", ROBUST)
@pytest.mark.parametrize("penalty", [{"l2": 0.1}, {"l1": 0.01}, {"penalty_weights": np.ones(3)}])
def test_penalised_fits_refuse_robust_covariances(data, cov_type, penalty):
    X, y, groups, _ = data
    with pytest.raises(ValueError, match="cov_type"):
        fusedlogit.fit(X, y, cov_type=cov_type, **kwds_for(cov_type, groups), **penalty)


def test_penalised_fit_keeps_nan_nonrobust_errors(data):
    X, y, _, _ = data
    res = fusedlogit.fit(X, y, l2=0.1)
    assert np.isnan(res.stderr).all() and np.isnan(res.cov).all()
    assert "nan" in res.summary()


# -- (n, 2) soft labels ---------------------------------------------------------------------


def test_two_column_soft_labels_give_every_statistic(data):
    """The 2-class multinomial fit's reference-class parameters are the binary model's, and so are their errors."""
    X, _, _, _ = data
    q = np.random.default_rng(9).uniform(0.05, 0.95, len(X))
    soft = np.column_stack([1 - q, q])
    before = soft.copy()
    res = fusedlogit.fit(X, soft)
    binary = fusedlogit.fit(X, q)
    np.testing.assert_array_equal(soft, before)
    assert res.coef.shape == (2, 3) and res.params.shape == res.stderr.shape == (1, 4)

    text = repr(res)
    assert "n_classes=2" in text and "n_features=3" in text and "\n" not in text
    np.testing.assert_allclose(res.params[0], binary.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(res.stderr[0], binary.stderr, rtol=1e-6)
    np.testing.assert_allclose(res.zvalues, res.params / res.stderr)
    np.testing.assert_allclose(res.zvalues[0], binary.zvalues, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res.pvalues[0], binary.pvalues, rtol=1e-5, atol=1e-8)
    assert res.conf_int(0.1).shape == (1, 4, 2)
    np.testing.assert_allclose(res.conf_int(0.1)[0], binary.conf_int(0.1), rtol=1e-6, atol=1e-8)
    summary = res.summary()
    for name, c, se in zip(["x0", "x1", "x2", "intercept"], res.params[0], res.stderr[0]):
        line = next(line for line in summary.splitlines() if line.startswith(f"{name} [1 vs 0]"))
        assert f"{c:.4f}" in line and f"{se:.4f}" in line
    assert res.df_model == binary.df_model == 3
    assert res.aic == pytest.approx(binary.aic, rel=1e-9)
