"""Spark DataFrames: a fit on the partitions equals the in-memory fit of the same rows, and MLlib's fit."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java", allow_module_level=True)

from pyspark.ml.linalg import Vectors  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

import fusedlogit  # noqa: E402
import fusedlogit.spark  # noqa: E402

N, D = 1200, 4
COLUMNS = [f"x{j}" for j in range(D)]


@pytest.fixture(scope="module")
def spark():
    session = (SparkSession.builder.master("local[2]").appName("fusedlogit-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((N, D)) * np.array([1.0, 2.0, 0.5, 1.0]) + np.array([0.0, 1.0, 0.0, -0.5])
    margin = X @ np.array([0.8, -0.5, 1.0, 0.3]) + 0.2
    y = (rng.random(N) < 1 / (1 + np.exp(-margin))).astype(np.float64)
    scores = X @ rng.standard_normal((D, 3))
    P = np.exp(scores - scores.max(axis=1, keepdims=True))
    classes = (rng.random(N)[:, None] > np.cumsum(P / P.sum(axis=1, keepdims=True), axis=1)).sum(axis=1)
    weight = rng.uniform(0.2, 2.0, N)
    weight[::17] = 0.0
    offset = rng.normal(0, 0.3, N)
    return {"X": X, "y": y, "classes": classes.astype(np.float64), "weight": weight, "offset": offset}


def frame(spark, data, partitions, vectors=None, label="y"):
    """The rows in order, in exactly ``partitions`` partitions: numeric columns x0..x3, or a vector column
    ("dense" or "sparse" vectors, the sparse ones keeping only the entries above 0.3 in magnitude; "mixed":
    those entries, in dense and sparse vectors by turns)."""
    X = data["X"]
    rows = []
    for i in range(N):
        if vectors == "sparse" or (vectors == "mixed" and i % 2):
            keep = np.flatnonzero(np.abs(X[i]) > 0.3)
            features = (Vectors.sparse(D, keep.tolist(), X[i, keep].tolist()),)
        elif vectors == "mixed":
            features = (Vectors.dense(np.where(np.abs(X[i]) > 0.3, X[i], 0.0).tolist()),)
        elif vectors == "dense":
            features = (Vectors.dense(X[i].tolist()),)
        else:
            features = tuple(float(v) for v in X[i])
        rows.append(features + (float(data[label][i]), float(data["weight"][i]), float(data["offset"][i])))
    names = (["features"] if vectors else COLUMNS) + ["label", "weight", "offset"]
    return spark.sparkContext.parallelize(rows, partitions).toDF(names)


def in_memory_X(data, vectors=None):
    if vectors in ("sparse", "mixed"):
        from scipy import sparse

        X = np.where(np.abs(data["X"]) > 0.3, data["X"], 0.0)
        return sparse.csr_matrix(X)
    return data["X"]


def assert_same_fit(got, want, rtol=1e-10):
    """Coefficients, intercepts and standard errors equal to rtol of their scale (exact zeros exact)."""
    for name in ("coef", "intercept", "stderr"):
        a, b = np.asarray(getattr(got, name), dtype=float), np.asarray(getattr(want, name), dtype=float)
        assert a.shape == b.shape, name
        scale = max(1.0, float(np.nanmax(np.abs(b)))) if np.isfinite(b).any() else 1.0
        np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale, err_msg=name, equal_nan=True)
    assert got.converged and want.converged


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_binary_with_weights_and_offset_equals_in_memory(spark, data, partitions):
    df = frame(spark, data, partitions)
    got = fusedlogit.spark.fit(df, COLUMNS, "label", weight="weight", offset="offset", tol=1e-10)
    want = fusedlogit.fit(data["X"], data["y"], sample_weight=data["weight"], offset=data["offset"], tol=1e-10)
    assert_same_fit(got, want)
    assert list(got.feature_names) == COLUMNS  # the columns name the features
    assert got.loglike == pytest.approx(want.loglike, rel=1e-12)
    assert got.llnull == pytest.approx(want.llnull, rel=1e-12)  # with an offset: Newton over the partitions
    assert got.n_obs == want.n_obs


@pytest.mark.parametrize("vectors,partitions", [("dense", 3), ("sparse", 8), ("mixed", 2)])
def test_multinomial_vectors_equal_in_memory(spark, data, vectors, partitions):
    df = frame(spark, data, partitions, vectors=vectors, label="classes")
    got = fusedlogit.spark.fit(df, "features", "label", tol=1e-10)
    want = fusedlogit.fit(in_memory_X(data, vectors), data["classes"].astype(int), tol=1e-10)
    assert got.coef.shape == (3, D)
    assert_same_fit(got, want)


@pytest.mark.parametrize("vectors,partitions", [("sparse", 3), ("dense", 1)])
def test_elastic_net_with_penalty_weights_equals_in_memory(spark, data, vectors, partitions):
    df = frame(spark, data, partitions, vectors=vectors)
    options = dict(l1=0.05, l2=0.01, penalty_weights=[1.0, 0.5, 2.0, 0.0], tol=1e-10)
    got = fusedlogit.spark.fit(df, "features", "label", weight="weight", **options)
    want = fusedlogit.fit(in_memory_X(data, vectors), data["y"], sample_weight=data["weight"], **options)
    assert_same_fit(got, want)
    assert 0 < got.n_nonzero < D


def test_robust_covariance_equals_in_memory(spark, data):
    df = frame(spark, data, 3)
    got = fusedlogit.spark.fit(df, COLUMNS, "label", weight="weight", cov_type="HC1", tol=1e-10)
    want = fusedlogit.fit(data["X"], data["y"], sample_weight=data["weight"], cov_type="HC1", tol=1e-10)
    assert_same_fit(got, want)
    np.testing.assert_allclose(got.cov, want.cov, rtol=1e-9)


def test_path_equals_in_memory(spark, data):
    df = frame(spark, data, 3)
    got = fusedlogit.spark.path(df, COLUMNS, "label", l1_ratio=0.5, n_alphas=5, tol=1e-10)
    want = fusedlogit.path(data["X"], data["y"], l1_ratio=0.5, n_alphas=5, tol=1e-10)
    np.testing.assert_allclose(got.alphas, want.alphas, rtol=1e-12)
    np.testing.assert_allclose(got.coef, want.coef, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.intercept, want.intercept, rtol=0, atol=1e-10)
    assert got.converged.all() and got.feature_names == tuple(COLUMNS)


@pytest.mark.filterwarnings("ignore::fusedlogit.ConvergenceWarning")  # stopped after 3 iterations, as asked
def test_fit_is_reproducible_and_independent_of_the_task_count(spark, data):
    """The partitions' sums are added in partition order, whichever task held which partition."""
    df = frame(spark, data, 8, vectors="dense")
    fits = [fusedlogit.spark.fit(df, "features", "label", n_tasks=t, tol=1e-10, max_iter=3) for t in (2, 2, 1)]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.coef, fits[0].coef)
        assert other.intercept == fits[0].intercept


def test_tasks_hold_their_partitions_only_and_send_back_sums(spark, data):
    df = frame(spark, data, 8, vectors="dense")
    with fusedlogit.spark.read(df, "features", "label") as source:
        objective = fusedlogit.LogisticLoss(source, source)  # checks the partitions and builds their backends
        held = source.tasks.request_each("held_bytes", 1.0)
        partitions = [set(h) for h in held]
        assert len(held) == 2 and all(partitions)
        assert set.union(*partitions) == set(range(8)) and sum(map(len, partitions)) == 8  # each held once
        rows = np.diff(list(source.first_rows.values()) + [N])
        for answer in held:
            for p, size in answer.items():
                assert size == rows[p] * (D + 1) * 8  # X and the labels, float64: nothing more
        sums = source.tasks.request("call", 1.0, "loss_gradient_sums", (np.zeros(D), 0.0, True, True))
        assert [p for p, _ in sums] == list(range(8))
        for _, (loss, gradient) in sums:
            assert isinstance(loss, float) and gradient.shape == (D + 1,)  # O(d) per partition
        assert objective.loss(np.zeros(D + 1)) == pytest.approx(np.log(2.0), rel=1e-14)
        H = objective.hessian(np.zeros(D + 1))
        assert H.shape == (D + 1, D + 1)


def test_one_read_serves_several_fits(spark, data):
    df = frame(spark, data, 3, vectors="dense", label="classes")
    with fusedlogit.spark.read(df, "features", "label") as source:
        fits = [fusedlogit.spark.fit(source, model="multinomial", l2=l2, tol=1e-10) for l2 in (0.0, 0.1)]
        with pytest.raises(ValueError, match=r"y must lie in \[0, 1\]"):  # the binary model on labels 0..2
            fusedlogit.spark.fit(source, model="binary")
        lasso = fusedlogit.spark.path(source, n_alphas=3, tol=1e-10)
    with pytest.raises(ValueError, match="the Spark data were released"):
        fusedlogit.spark.fit(source)  # its tasks have ended with the with-block
    for got, l2 in zip(fits, (0.0, 0.1)):
        assert_same_fit(got, fusedlogit.fit(data["X"], data["classes"].astype(int), l2=l2, tol=1e-10))
    np.testing.assert_allclose(lasso.coef, fusedlogit.path(data["X"], data["classes"].astype(int), n_alphas=3,
                                                           tol=1e-10).coef, rtol=0, atol=1e-10)


def test_tasks_that_cannot_start_time_out_and_leave_nothing_running(spark, data):
    """While one read holds every task slot, another fit's tasks cannot all start: it says so after ``timeout``,
    and its job is cancelled, so the slots are free again for the next fit."""
    df = frame(spark, data, 2)
    with fusedlogit.spark.read(df, COLUMNS, "label"):
        with pytest.raises(RuntimeError, match="only 0 of 2 Spark tasks started within 2 s"):
            fusedlogit.spark.fit(df, COLUMNS, "label", timeout=2)
    assert spark.sparkContext.statusTracker().getActiveJobsIds() == []
    assert fusedlogit.spark.fit(df, COLUMNS, "label", timeout=60).converged


def test_against_mllib(spark, data):
    """MLlib's LogisticRegression on the same objective (regParam = l1 + l2, elasticNetParam = l1 / (l1 + l2),
    standardization off) to its tolerance: a multinomial L2 fit and a binary elastic net."""
    from pyspark.ml.classification import LogisticRegression

    df = frame(spark, data, 3, vectors="dense").cache()
    for family, label, l1_ratio in (("multinomial", "classes", 0.0), ("binomial", "y", 0.5)):
        source = df if label == "y" else frame(spark, data, 3, vectors="dense", label="classes")
        mllib = LogisticRegression(regParam=0.01, elasticNetParam=l1_ratio, standardization=False, tol=1e-12,
                                   maxIter=1000, family=family).fit(source)
        ours = fusedlogit.spark.fit(source, "features", "label", l1=0.01 * l1_ratio, l2=0.01 * (1 - l1_ratio),
                                    model="binary" if family == "binomial" else "multinomial", tol=1e-10)
        if family == "binomial":
            np.testing.assert_allclose(ours.coef, mllib.coefficients.toArray(), atol=2e-6)
            assert ours.intercept == pytest.approx(mllib.intercept, abs=2e-6)
        else:
            np.testing.assert_allclose(ours.coef, mllib.coefficientMatrix.toArray(), atol=2e-6)
            np.testing.assert_allclose(ours.intercept, mllib.interceptVector.toArray(), atol=2e-6)
    df.unpersist()


def test_predict_proba_adds_a_column(spark, data):
    df = frame(spark, data, 3)
    binary = fusedlogit.fit(data["X"], data["y"], offset=data["offset"])
    scored = fusedlogit.spark.predict_proba(binary, df, COLUMNS, offset="offset").toPandas()
    assert list(scored.columns) == COLUMNS + ["label", "weight", "offset", "probability"]
    np.testing.assert_allclose(scored["probability"], binary.predict_proba(data["X"], offset=data["offset"]),
                               rtol=1e-13)
    multinomial = fusedlogit.fit(data["X"], data["classes"].astype(int), l2=0.01)
    dense = frame(spark, data, 2, vectors="sparse")
    P = fusedlogit.spark.predict_proba(multinomial, dense, "features", output_col="p").toPandas()["p"]
    np.testing.assert_allclose(np.stack(P.to_numpy()), multinomial.predict_proba(in_memory_X(data, "sparse")),
                               rtol=1e-13)
    ordinal = fusedlogit.fit(data["X"], data["classes"].astype(int), model="ordinal", offset=data["offset"])
    P = fusedlogit.spark.predict_proba(ordinal, df, COLUMNS, offset="offset").toPandas()["probability"]
    np.testing.assert_allclose(np.stack(P.to_numpy()), ordinal.predict_proba(data["X"], offset=data["offset"]),
                               rtol=1e-13)


def _set(data, name, row, value):
    changed = {k: v.copy() for k, v in data.items()}
    changed[name][row] = value
    return changed


@pytest.mark.parametrize("name,row,value", [("X", (700, 2), np.nan), ("y", 999, 0.5 + 1.0), ("weight", 1100, -1.0),
                                            ("offset", 5, np.inf), ("y", 3, np.nan)])
def test_bad_values_give_the_in_memory_errors(spark, data, name, row, value):
    bad = _set(data, name, row, value)
    import pandas as pd

    with pytest.raises(ValueError) as in_memory:
        fusedlogit.fit(pd.DataFrame(bad["X"], columns=COLUMNS), bad["y"], sample_weight=bad["weight"],
                       offset=bad["offset"])
    with pytest.raises(ValueError) as on_spark:
        fusedlogit.spark.fit(frame(spark, bad, 3), COLUMNS, "label", weight="weight", offset="offset")
    assert str(on_spark.value) == str(in_memory.value)


def test_missing_and_wrong_columns_are_named(spark, data):
    df = frame(spark, data, 2)
    with pytest.raises(ValueError, match="label: no column 'target' in the DataFrame"):
        fusedlogit.spark.fit(df, COLUMNS, "target")
    with pytest.raises(ValueError, match=r"features: no column 'x9'"):
        fusedlogit.spark.fit(df, COLUMNS + ["x9"], "label")
    strings = df.withColumn("x1", df["x1"].cast("string"))
    with pytest.raises(ValueError, match="features: column 'x1' must be numeric"):
        fusedlogit.spark.fit(strings, COLUMNS, "label")
    with pytest.raises(ValueError, match="features: give a vector column's name or a list"):
        fusedlogit.spark.fit(df, None, "label")
    with pytest.raises(ValueError, match="give the column's name as weight="):
        fusedlogit.spark.fit(df, COLUMNS, "label", sample_weight=np.ones(N))
    with pytest.raises(ValueError, match="cov_type='cluster' is not offered"):
        fusedlogit.spark.fit(df, COLUMNS, "label", cov_type="cluster")
    with pytest.raises(ValueError, match="n_tasks must be an integer from 1 to the session's 2 task slots"):
        fusedlogit.spark.fit(df, COLUMNS, "label", n_tasks=3)


def test_a_null_vector_is_named_by_its_row(spark, data):
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql.types import DoubleType, StructField, StructType

    rows = [(Vectors.dense([1.0, 2.0]), 1.0), (Vectors.dense([0.0, 1.0]), 0.0), (None, 1.0)]
    schema = StructType([StructField("features", VectorUDT()), StructField("label", DoubleType())])
    df = spark.createDataFrame(spark.sparkContext.parallelize(rows, 2), schema)
    with pytest.raises(ValueError, match=r"features: a missing \(null\) vector at row 2"):
        fusedlogit.spark.fit(df, "features", "label")


def test_import_without_pyspark_says_how_to_install():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pyspark' or name.startswith('pyspark.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import fusedlogit.spark\n"
        "try:\n"
        "    fusedlogit.spark.fit(None, 'f', 'y')\n"
        "except ModuleNotFoundError as e:\n"
        "    assert 'pip install \"fusedlogit[spark]\"' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('no error')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
