"""Tables as data (``fusedlogit.tables``, ``backends.categorical``, ``formulas``): categorical columns kept as codes.

Every fit on a table is checked against fusedlogit's own fit on the one-hot
CSR matrix of the same design (an independent path: the CSR kernels), the
categorical kernels against the CSR ones and the NumPy reference, the
formula fit against statsmodels on its ``fair`` data, and the estimator
against scikit-learn's OneHotEncoder pipeline.
"""

import warnings

import numpy as np
import pytest

import fusedlogit
from fusedlogit import LogisticLoss
from fusedlogit.tables import CategoricalMatrix, Coding

pd = pytest.importorskip("pandas")


def make_table(n=3000, seed=0, levels=(12, 5), numeric=2, dtype=np.float64, skew=1.2):
    """A table of ``numeric`` normal columns and categoricals of Zipf-skewed levels, and 0/1 labels from it."""
    rng = np.random.default_rng(seed)
    columns = {f"x{j}": rng.normal(size=n).astype(dtype) for j in range(numeric)}
    margin = 0.3 + sum(0.5 * (-1) ** j * columns[f"x{j}"] for j in range(numeric))
    for j, count in enumerate(levels):
        share = 1.0 / np.arange(1, count + 1) ** skew
        codes = rng.choice(count, size=n, p=share / share.sum())
        columns[f"c{j}"] = pd.Categorical.from_codes(codes, categories=[f"l{k}" for k in range(count)])
        margin = margin + rng.normal(scale=0.7, size=count)[codes]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-margin))).astype(float)
    return pd.DataFrame(columns), y


def one_hot(result, table):
    """The design of a fit on a table, materialised as CSR (what a user would build by hand)."""
    return result.coding.encode(table).to_csr()


def quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fusedlogit.fit(*args, **kwargs)


# -- the design ------------------------------------------------------------------------------


def test_coding_names_codes_and_csr():
    table = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "city": pd.Categorical(["x", "y", "x", "z"]),
                          "b": [0.5, 0.5, 1.5, 2.5]})
    kept = Coding.learn(table, drop_first=False)
    assert kept.feature_names == ("a", "b", "city[x]", "city[y]", "city[z]")
    dropped = Coding.learn(table, drop_first=True)
    assert dropped.feature_names == ("a", "b", "city[y]", "city[z]")
    X = dropped.encode(table)
    assert isinstance(X, CategoricalMatrix) and X.shape == (4, 4) and X.codes.dtype == np.uint8
    dense = X.to_csr().toarray()
    np.testing.assert_array_equal(dense, [[1, 0.5, 0, 0], [2, 0.5, 1, 0], [3, 1.5, 0, 0], [4, 2.5, 0, 1]])
    w = np.array([1.0, -2.0, 3.0, 5.0])
    np.testing.assert_allclose(X @ w, dense @ w)
    W = np.arange(8.0).reshape(4, 2)
    np.testing.assert_allclose(X @ W, dense @ W)
    np.testing.assert_array_equal(X[np.array([3, 1])].to_csr().toarray(), dense[[3, 1]])


def test_codes_use_the_smallest_unsigned_type():
    big = pd.DataFrame({"c": pd.Categorical.from_codes(np.arange(300) % 300, categories=[str(k) for k in range(300)])})
    assert Coding.learn(big, drop_first=False).encode(big).codes.dtype == np.uint16


def test_drop_first_resolution():
    table, y = make_table(levels=(4, 3))
    unpenalised = quiet_fit(table, y)
    assert "c0[l0]" not in unpenalised.feature_names and "c1[l0]" not in unpenalised.feature_names
    penalised = fusedlogit.fit(table, y, l2=1e-3)
    assert "c0[l0]" in penalised.feature_names and "c1[l0]" in penalised.feature_names
    forced = fusedlogit.fit(table, y, l2=1e-3, drop_first=True)
    assert "c0[l0]" not in forced.feature_names
    without = quiet_fit(table, y, fit_intercept=False)
    # without intercept the first categorical's levels stand for it; the second still drops its first
    assert "c0[l0]" in without.feature_names and "c1[l0]" not in without.feature_names
    assert np.isfinite(without.stderr).all()
    with pytest.raises(ValueError, match="drop_first"):
        fusedlogit.fit(table, y, drop_first="yes")


# -- the kernels against the CSR kernels and the reference -----------------------------------


# float32 compiles every kernel again (the float32 fit below runs in the default run)
FLOAT32_SLOW = pytest.param(np.float32, marks=pytest.mark.slow)


@pytest.mark.parametrize("dtype", [FLOAT32_SLOW, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("intercept", [True, False])
def test_sums_equal_csr_and_reference(dtype, weighted, intercept):
    table, y = make_table(n=2500, dtype=dtype, levels=(9, 4, 3))
    rng = np.random.default_rng(3)
    coding = Coding.learn(table, drop_first=True)
    X = coding.encode(table)
    assert X.dtype == dtype
    weights = rng.random(len(y)) * 2 if weighted else None
    offset = rng.normal(size=len(y)) * 0.3
    common = {"sample_weight": weights, "offset": offset, "fit_intercept": intercept, "l2": 0.01}
    fused = LogisticLoss(X, y, **common)
    csr = LogisticLoss(X.to_csr(), y, **common)
    reference = LogisticLoss(X, y, backend="numpy", **common)
    coef = rng.normal(size=fused.n_coef)
    v = rng.normal(size=fused.n_coef)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for other in (csr, reference):
        np.testing.assert_allclose(fused.loss(coef), other.loss(coef), rtol=rtol)
        np.testing.assert_allclose(fused.gradient(coef), other.gradient(coef), rtol=rtol, atol=rtol * 1e-2)
        np.testing.assert_allclose(fused.hessp(coef, v), other.hessp(coef, v), rtol=rtol, atol=rtol * 1e-2)
    dense = csr.hessian(coef)
    blocks = fused.level_hessian(coef)
    np.testing.assert_allclose(blocks.toarray(), dense, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(fused.hessian(coef), dense, rtol=rtol, atol=1e-12)
    assert fused._data._csr is not None  # the whole Hessian went through the CSR design
    assert fusedlogit.check_gradient(fused.loss, fused.gradient, coef) < 1e-5


@pytest.mark.parametrize("dtype", [FLOAT32_SLOW, np.float64])
@pytest.mark.parametrize("soft", [False, True])
def test_multinomial_sums_equal_csr_and_reference(dtype, soft):
    table, _ = make_table(n=2000, dtype=dtype, levels=(7, 3))
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 3, size=len(table))
    if soft:
        labels = rng.dirichlet(np.ones(3), size=len(table))
    X = Coding.learn(table, drop_first=False).encode(table)
    weights = rng.random(len(table))
    common = {"sample_weight": weights, "n_classes": 3, "l2": 0.01}
    fused = fusedlogit.MultinomialLoss(X, labels, **common)
    assert fused._data.sums.__name__ == "Categorical"
    coef = rng.normal(size=fused.n_coef)
    v = rng.normal(size=fused.n_coef)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for other in (fusedlogit.MultinomialLoss(X.to_csr(), labels, **common),
                  fusedlogit.MultinomialLoss(X, labels, backend="numpy", **common)):
        np.testing.assert_allclose(fused.loss(coef), other.loss(coef), rtol=rtol)
        np.testing.assert_allclose(fused.gradient(coef), other.gradient(coef), rtol=rtol, atol=rtol * 1e-2)
        np.testing.assert_allclose(fused.hessp(coef, v), other.hessp(coef, v), rtol=rtol, atol=rtol * 1e-2)
    assert fused._data._csr is None  # loss, gradient and Hessian products ran on the codes


def test_sums_bitwise_across_threads():
    table, y = make_table(n=20000, levels=(40, 6))
    X = Coding.learn(table, drop_first=False).encode(table)
    one = LogisticLoss(X, y, n_threads=1, l2=1e-3)
    two = LogisticLoss(X, y, n_threads=2, l2=1e-3)
    coef = np.random.default_rng(1).normal(size=one.n_coef)
    assert one.loss_gradient(coef)[0] == two.loss_gradient(coef)[0]
    np.testing.assert_array_equal(one.loss_gradient(coef)[1], two.loss_gradient(coef)[1])
    np.testing.assert_array_equal(one.hessp(coef, coef), two.hessp(coef, coef))
    labels = np.arange(len(y)) % 3
    one = fusedlogit.MultinomialLoss(X, labels, n_threads=1, l2=1e-3)
    two = fusedlogit.MultinomialLoss(X, labels, n_threads=2, l2=1e-3)
    coef = np.random.default_rng(2).normal(size=one.n_coef)
    np.testing.assert_array_equal(one.loss_gradient(coef)[1], two.loss_gradient(coef)[1])
    np.testing.assert_array_equal(one.hessp(coef, coef), two.hessp(coef, coef))


def test_level_factor_solves_the_whole_hessian():
    from fusedlogit.solvers.newton import HessianFactor, LevelFactor

    table, y = make_table(n=4000, levels=(30, 7, 3))
    loss = LogisticLoss(Coding.learn(table, drop_first=False).encode(table), y, l2=1e-3)
    coef = np.random.default_rng(2).normal(size=loss.n_coef) * 0.3
    blocks = loss.level_hessian(coef)
    grad = loss.gradient(coef)
    step = LevelFactor(blocks, 1).newton_step(grad)
    np.testing.assert_allclose(step, HessianFactor(blocks.toarray(), 1).newton_step(grad), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(blocks.toarray() @ step, -grad, atol=1e-10)


# -- fits equal fits on the one-hot matrix ----------------------------------------------------


@pytest.mark.parametrize("l2", [0.0, 1e-3])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_fit_equals_one_hot_fit(l2, weighted):
    table, y = make_table(n=4000, levels=(15, 4))
    weights = np.random.default_rng(5).random(len(y)) if weighted else None
    result = fusedlogit.fit(table, y, l2=l2, sample_weight=weights, tol=1e-12)
    again = fusedlogit.fit(one_hot(result, table), y, l2=l2, sample_weight=weights, tol=1e-12)
    np.testing.assert_allclose(result.coef, again.coef, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(result.intercept, again.intercept, rtol=1e-10, atol=1e-10)
    if l2 == 0:
        np.testing.assert_allclose(result.stderr.to_numpy(), again.stderr, rtol=1e-9)
        assert result.loglike == pytest.approx(again.loglike, rel=1e-12)
    reference = fusedlogit.fit(table, y, l2=l2, sample_weight=weights, tol=1e-12, backend="numpy")
    np.testing.assert_allclose(result.coef, reference.coef, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("l2", [0.0, 1e-3])
def test_multinomial_fit_equals_one_hot_fit(l2):
    table, _ = make_table(n=3000, levels=(8, 3))
    y = np.random.default_rng(4).integers(0, 3, size=len(table))
    weights = np.random.default_rng(6).random(len(y))
    result = fusedlogit.fit(table, y, l2=l2, sample_weight=weights, tol=1e-12)
    again = fusedlogit.fit(one_hot(result, table), y, l2=l2, sample_weight=weights, tol=1e-12)
    np.testing.assert_allclose(result.coef, again.coef, rtol=1e-10, atol=1e-10)
    assert isinstance(result.params, pd.DataFrame) and list(result.params.index) == [1, 2]
    assert list(result.params.columns) == list(result.feature_names) + ["intercept"]
    assert result.predict_proba(table).shape == (len(table), 3)


@pytest.mark.parametrize("drop_first", [True, False])
def test_l1_fit_and_penalty_weights_on_a_table(drop_first):
    table, y = make_table(n=3000, levels=(10, 4))
    coding = Coding.learn(table, drop_first=drop_first)
    weights = np.linspace(0.0, 2.0, coding.n_features)
    result = fusedlogit.fit(table, y, l1=2e-3, l2=1e-3, penalty_weights=weights, drop_first=drop_first, tol=1e-10)
    again = fusedlogit.fit(coding.encode(table).to_csr(), y, l1=2e-3, l2=1e-3, penalty_weights=weights, tol=1e-10)
    np.testing.assert_allclose(result.coef, again.coef, atol=1e-8)
    assert result.n_nonzero < coding.n_features


def test_penalty_weights_per_table_column_and_by_name():
    table, y = make_table(n=2000, levels=(6, 3))
    coding = Coding.learn(table, drop_first=False)
    spread = np.array([1.0, 0.5] + [0.0] * 6 + [2.0] * 3)  # x0, x1, c0's levels, c1's levels
    expected = fusedlogit.fit(table, y, l1=1e-3, penalty_weights=spread, tol=1e-10)
    per_column = fusedlogit.fit(table, y, l1=1e-3, penalty_weights=[1.0, 0.5, 0.0, 2.0], tol=1e-10)
    by_name = fusedlogit.fit(table, y, l1=1e-3, penalty_weights={"x1": 0.5, "c0": 0.0, "c1": 2.0}, tol=1e-10)
    for other in (per_column, by_name):
        np.testing.assert_allclose(other.coef, expected.coef, atol=1e-12)
    assert len(spread) == coding.n_features
    level = fusedlogit.fit(table, y, l1=1e-3, penalty_weights={"c1[l2]": 0.0}, tol=1e-10)
    np.testing.assert_allclose(level.coef, fusedlogit.fit(table, y, l1=1e-3, tol=1e-10, penalty_weights=np.r_[
        np.ones(10), 0.0]).coef, atol=1e-12)
    with pytest.raises(ValueError, match="'nope'"):
        fusedlogit.fit(table, y, l1=1e-3, penalty_weights={"nope": 1.0})


def test_robust_and_cluster_covariance_on_a_table():
    table, y = make_table(n=3000, levels=(6, 3))
    groups = np.arange(len(y)) % 40
    for cov_type, extra in (("HC1", {}), ("cluster", {"groups": groups})):
        result = fusedlogit.fit(table, y, cov_type=cov_type, tol=1e-11, **extra)
        again = fusedlogit.fit(one_hot(result, table), y, cov_type=cov_type, tol=1e-11, **extra)
        np.testing.assert_allclose(result.stderr.to_numpy(), again.stderr, rtol=1e-8)


def test_offset_and_float32_on_a_table():
    table, y = make_table(n=3000, levels=(6, 3), dtype=np.float32)
    offset = np.random.default_rng(8).normal(size=len(y)) * 0.2
    result = fusedlogit.fit(table, y, offset=offset, l2=1e-3)
    again = fusedlogit.fit(one_hot(result, table), y, offset=offset, l2=1e-3)
    assert result.coding.encode(table).dtype == np.float32
    np.testing.assert_allclose(result.coef, again.coef, rtol=1e-6, atol=1e-7)


def test_many_levels_fit_without_the_dense_hessian(monkeypatch):
    """30,000 levels: Newton factors only the Schur complement on the other columns; the one-hot design is never
    built (its construction fails the test) and the solver is still Newton."""
    table, y = make_table(n=60000, levels=(30000, 20, 4), numeric=3, skew=0.6)
    objective = fusedlogit.model.build_objective(table, y, l2=1e-4, penalised=True)
    assert objective.n_coef > 30000 and objective.newton_size < 40

    def refuse(self):
        raise AssertionError("the one-hot design was built")

    monkeypatch.setattr(CategoricalMatrix, "to_csr", refuse)
    result = fusedlogit.fit(table, y, l2=1e-4, cov_type=None)
    assert result.converged and result.solver == "newton"
    gradient = objective.gradient(np.append(result.coef, result.intercept))
    assert np.abs(gradient).max() <= 1e-8


def test_ordinal_fit_on_a_table_equals_one_hot_fit():
    table, _ = make_table(n=2000, levels=(6, 3))
    levels = np.digitize(table["x0"] + np.random.default_rng(3).normal(size=len(table)), [-0.5, 0.5])
    result = fusedlogit.fit(table, levels, model="ordinal", tol=1e-11)
    again = fusedlogit.fit(one_hot(result, table), levels, model="ordinal", tol=1e-11)
    np.testing.assert_allclose(result.coef, again.coef, rtol=1e-9, atol=1e-10)
    assert list(result.params.index)[-2:] == ["threshold 0|1", "threshold 1|2"]


def test_objectives_name_what_they_do_not_take():
    table, y = make_table(n=100, levels=(3,))
    with pytest.raises(ValueError, match="'c0' is categorical.*Coding.learn"):
        LogisticLoss(table, y)


def test_awkward_tables():
    """Categoricals alone, a single-level categorical, booleans, a column of one level dropped to nothing."""
    rng = np.random.default_rng(12)
    n = 1500
    table = pd.DataFrame({
        "c": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "one": pd.Categorical(["only"] * n),
        "flag": rng.random(n) < 0.3,
    })
    y = (rng.random(n) < np.where(table["c"] == "a", 0.7, 0.3)).astype(float)
    for l2 in (0.0, 1e-3):
        result = quiet_fit(table, y, l2=l2, tol=1e-11)
        again = quiet_fit(one_hot(result, table), y, l2=l2, tol=1e-11)
        np.testing.assert_allclose(result.coef, again.coef, rtol=1e-9, atol=1e-10)
    assert "one[only]" not in quiet_fit(table, y).feature_names  # dropped: its only level
    alone = table[["c"]]
    result = fusedlogit.fit(alone, y, l2=1e-3)
    assert result.feature_names == ("c[a]", "c[b]", "c[c]") and result.converged
    np.testing.assert_allclose(result.predict_proba(alone), quiet_fit(one_hot(result, alone), y, l2=1e-3)
                               .predict_proba(one_hot(result, alone)), rtol=1e-9)
    empty = alone.iloc[:0]
    assert result.predict_proba(empty).shape == (0,)


@pytest.mark.slow  # compiles the kernels for read-only arrays
def test_a_memory_mapped_numeric_block(tmp_path):
    """A design built from codes beside a read-only memory-mapped numeric block is used as it is (no copy)."""
    table, y = make_table(n=3000, levels=(6, 3))
    X = Coding.learn(table, drop_first=False).encode(table)
    np.save(tmp_path / "numeric.npy", X.numeric)
    mapped = np.load(tmp_path / "numeric.npy", mmap_mode="r")
    design = CategoricalMatrix.from_codes(mapped, [X.codes[:, j] for j in range(X.codes.shape[1])], X.n_levels)
    assert design.numeric is mapped
    result = fusedlogit.fit(design, y, l2=1e-3)
    np.testing.assert_array_equal(result.coef, fusedlogit.fit(X, y, l2=1e-3).coef)


# -- formulas --------------------------------------------------------------------------------


def test_formula_equals_statsmodels_on_fair():
    sm = pytest.importorskip("statsmodels.api")
    smf = pytest.importorskip("statsmodels.formula.api")
    pytest.importorskip("formulaic")
    fair = sm.datasets.fair.load_pandas().data
    fair["affair"] = (fair["affairs"] > 0).astype(float)
    formula = "affair ~ age + yrs_married + C(occupation) + C(religious) + C(rate_marriage)"
    expected = smf.logit(formula, fair).fit(disp=0, tol=1e-12, maxiter=100)
    result = fusedlogit.fit(formula, data=fair)
    assert set(result.params.index) == set(expected.params.index)
    names = expected.params.index
    np.testing.assert_allclose(result.params[names], expected.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(result.stderr[names], expected.bse, rtol=1e-6)
    assert result.loglike == pytest.approx(expected.llf, rel=1e-9)
    assert result.llnull == pytest.approx(expected.llnull, rel=1e-9)
    np.testing.assert_allclose(result.pvalues[names], expected.pvalues, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(result.conf_int().loc[names].to_numpy(), expected.conf_int().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(result.predict_proba(fair.iloc[:50]), expected.predict(fair.iloc[:50]), rtol=1e-7)
    assert "C(occupation)[T.2.0]" in result.summary()


def test_formula_terms_intercept_and_new_data():
    pytest.importorskip("formulaic")
    table, y = make_table(n=2000, levels=(5, 3))
    table["y"] = y
    table["pos"] = np.exp(table["x0"])
    result = quiet_fit("y ~ x1 + np.log(pos) + C(c0) + c1", data=table)
    assert "np.log(pos)" in result.feature_names and "c1[T.l1]" in result.feature_names
    assert result.params.index[-1] == "Intercept"
    by_hand = quiet_fit(table[["x1", "x0", "c0", "c1"]], y)  # log(pos) = x0
    np.testing.assert_allclose(result.coef, by_hand.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(result.predict_proba(table.iloc[:10]), by_hand.predict_proba(table.iloc[:10]),
                               rtol=1e-9)
    no_intercept = quiet_fit("y ~ x1 + C(c0) - 1", data=table)
    assert "C(c0)[l0]" in no_intercept.feature_names and no_intercept.intercept == 0.0
    with pytest.raises(ValueError, match="fit_intercept"):
        fusedlogit.fit("y ~ x1", data=table, fit_intercept=False)
    with pytest.raises(ValueError, match="twice"):
        fusedlogit.fit("y ~ x1", y, data=table)
    with pytest.raises(ValueError, match="data"):
        fusedlogit.fit("y ~ x1")
    interacted = quiet_fit("y ~ x1 + x1:c1 + c1", data=table)  # materialised by formulaic
    assert any(":" in name for name in interacted.feature_names)
    assert interacted.predict_proba(table.iloc[:5]).shape == (5,)


def test_path_and_cv_on_tables_and_formulas():
    pytest.importorskip("formulaic")
    table, y = make_table(n=2000, levels=(6, 3))
    path = fusedlogit.path(table, y, n_alphas=6)
    assert path.feature_names == tuple(Coding.learn(table, drop_first=False).feature_names)
    again = fusedlogit.path(Coding.learn(table, drop_first=False).encode(table).to_csr(), y, n_alphas=6)
    # with every level kept, J is flat along (all levels of one categorical + t, intercept − t) wherever its
    # levels have as many positive as negative coefficients: the minimum, not the minimiser, is unique
    np.testing.assert_allclose(path.loss, again.loss, rtol=1e-10)
    table["y"] = y
    chosen = fusedlogit.cv("y ~ x0 + x1 + C(c0) + C(c1)", data=table, n_alphas=5, folds=3)
    assert isinstance(chosen.fit.params, pd.Series) and "C(c0)[l0]" in chosen.fit.params.index


# -- missing and unseen levels, labelled results, other tables -------------------------------------


def test_missing_and_unseen_levels():
    table, y = make_table(n=1000, levels=(4,))
    gap = table.copy()
    gap.loc[7, "c0"] = np.nan
    with pytest.raises(ValueError, match=r"'c0'.*row 7"):
        fusedlogit.fit(gap, y)
    result = fusedlogit.fit(gap, y, missing="level", l2=1e-3)
    assert "c0[<missing>]" in result.feature_names
    new = table.iloc[:4].copy()
    new["c0"] = pd.Categorical(["l1", "l9", "l0", "l2"])
    with pytest.raises(ValueError, match=r"'c0'.*'l9'"):
        result.predict_proba(new)
    zero = result.predict_proba(new, unseen="zero")
    w = dict(zip(result.feature_names, result.coef))
    margin = new["x0"].iloc[1] * w["x0"] + new["x1"].iloc[1] * w["x1"] + result.intercept
    assert zero[1] == pytest.approx(1 / (1 + np.exp(-margin)), rel=1e-12)
    with pytest.raises(ValueError, match="lacks"):
        result.predict_proba(table[["x0", "c0"]])
    strings = table.assign(c0=table["c0"].astype(str))
    with pytest.raises(ValueError, match="category"):
        fusedlogit.fit(strings, y)


def test_labelled_results():
    table, y = make_table(n=2000, levels=(4, 3))
    result = quiet_fit(table, y)
    names = list(result.feature_names) + ["intercept"]
    for values in (result.params, result.stderr, result.zvalues, result.pvalues):
        assert isinstance(values, pd.Series) and list(values.index) == names
    bounds = result.conf_int()
    assert isinstance(bounds, pd.DataFrame) and list(bounds.index) == names and list(bounds.columns) == [0, 1]
    assert (bounds[0] < result.params).all() and (result.params < bounds[1]).all()
    plain = quiet_fit(one_hot(result, table), y)
    assert isinstance(plain.params, np.ndarray)
    np.testing.assert_allclose(result.params.to_numpy(), plain.params, rtol=1e-8)
    assert result.df_model == len(names) - 1 and np.isfinite(result.aic)


def test_arrow_and_polars_tables_equal_pandas():
    pa = pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    table, y = make_table(n=2000, levels=(5, 3))
    expected = fusedlogit.fit(table, y, l2=1e-3)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    polars = pl.from_pandas(table)
    enum = polars.with_columns(pl.col("c0").cast(pl.String).cast(pl.Enum([f"l{k}" for k in range(5)])))
    for other in (arrow, polars, enum):
        result = fusedlogit.fit(other, y, l2=1e-3)
        assert list(result.params.index) == list(expected.params.index)
        np.testing.assert_allclose(result.params.to_numpy(), expected.params.to_numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(result.predict_proba(other), expected.predict_proba(table), rtol=1e-12)


# -- the estimator -------------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
def test_estimator_equals_one_hot_pipeline(n_classes):
    pytest.importorskip("sklearn")
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression as Reference
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from fusedlogit.sklearn import LogisticRegression, LogisticRegressionCV

    table, y = make_table(n=2000, levels=(8, 3))
    if n_classes == 3:
        y = np.random.default_rng(9).integers(0, 3, size=len(table))
    labels = np.array(["no", "yes", "maybe"])[y.astype(int)]
    ours = LogisticRegression(C=0.5).fit(table, labels)
    encode = ColumnTransformer([("x", "passthrough", ["x0", "x1"]), ("c", OneHotEncoder(), ["c0", "c1"])])
    theirs = make_pipeline(encode, Reference(C=0.5, solver="newton-cholesky", tol=1e-12, max_iter=1000))
    theirs.fit(table, labels)
    assert list(ours.feature_names_in_) == ["x0", "x1", "c0", "c1"] and ours.n_features_in_ == 4
    np.testing.assert_allclose(ours.coef_, theirs[-1].coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.predict_proba(table), theirs.predict_proba(table), rtol=1e-6, atol=1e-8)
    assert (ours.predict(table) == theirs.predict(table)).all()
    chosen = LogisticRegressionCV(Cs=3, cv=3).fit(table, labels)
    assert chosen.score(table, labels) > 0.3
    with pytest.raises(ValueError):
        ours.predict(table[["x0", "x1", "c1", "c0"]].rename(columns={"c1": "c0", "c0": "c1"}))
