"""Fits on Spark DataFrames, the fused kernels doing each partition's work where it is stored.

::

    import fusedlogit.spark
    result = fusedlogit.spark.fit(df, features="features", label="label", l2=1e-4)
    scored = fusedlogit.spark.predict_proba(result, df, features="features")

``features`` is a vector column (``pyspark.ml.linalg`` dense or sparse
vectors, as Spark MLlib uses) or a list of numeric columns; ``label``,
``weight`` and ``offset`` are numeric columns.  ``fit`` and ``path`` take the
options of ``fusedlogit.fit`` and ``fusedlogit.path`` and return the same
results; a fit on the DataFrame equals the in-memory fit of the same rows.

How: a fit starts one Spark job whose tasks (at most one per free task slot,
each holding a group of the DataFrame's partitions, coalesced without a
shuffle) read their rows once through Arrow into NumPy/CSR blocks, check
them as ``fusedlogit.fit`` checks arrays, and keep them in memory for the
whole fit; the driver's solver sends each pass's coefficients to the tasks
and adds the partitions' partial sums (O(d), O(d²) for a Hessian) in
partition order (``backends.spark``).  All the tasks must run at once: a fit
needs ``n_tasks`` free task slots (by default all of the session's).  The
executors need fusedlogit installed, as the driver.

Not offered on Spark: ``cov_type="cluster"``, the ordinal model, soft
labels, ``cv``.  pyspark is an optional dependency: ``pip install
"fusedlogit[spark]"``.
"""

from __future__ import annotations

import numpy as np

from ._extras import needs_extra
from .backends.spark import PARTITION_COLUMN, START_TIMEOUT, SparkSource, columns_to_block, vectors_to_block

__all__ = ["fit", "path", "predict_proba", "read"]

_NUMERIC = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType", "DecimalType")


def _check_installed():
    """pyspark and pyarrow, or ModuleNotFoundError with the line that installs them."""
    import importlib

    with needs_extra("fusedlogit.spark", "pyspark", "spark"):
        for module in ("pyspark.sql", "pyspark.ml.linalg", "pyarrow"):
            importlib.import_module(module)


def vector_fields(column, prefix):
    """A vector column as the columns ``prefix + "values"`` (its stored values) and ``prefix + "sparse"``
    (empty for a dense vector, [size, indices...] for a sparse one), as ``backends.spark.vectors_to_block``
    reads them: no null list for a dense vector (Spark's Arrow writer is slow on those)."""
    from pyspark.sql import functions as F

    vector = F.unwrap_udt(F.col(column))
    sparse = F.concat(F.array(vector.getField("size")), vector.getField("indices"))
    return [
        vector.getField("values").alias(prefix + "values"),
        F.when(vector.getField("type") == 0, sparse).when(vector.isNotNull(), F.array().cast("array<int>"))
        .alias(prefix + "sparse"),
    ]


def read(df, features, label, weight=None, offset=None, *, n_tasks=None, timeout=START_TIMEOUT):
    """The DataFrame's rows held by ``n_tasks`` Spark tasks for fits (a ``SparkSource``; close it, or use
    ``with``): ``fit`` and ``path`` call it; call it yourself to fit several models on one read.

    n_tasks: the tasks that hold the partitions (default: every task slot of the session, at most one
    per partition); all must run at once.  timeout: seconds to wait for them to read and connect.
    """
    _check_installed()
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F
    from pyspark.ml.linalg import VectorUDT

    if not isinstance(df, DataFrame):
        raise ValueError(f"df must be a pyspark.sql.DataFrame, got {type(df).__name__}")
    fields = {f.name: f.dataType for f in df.schema.fields}
    names = _feature_columns(features)
    _check_columns(fields, [("features", n) for n in names] + [("label", label)]
                   + [(what, c) for what, c in (("weight", weight), ("offset", offset)) if c is not None])
    vector = len(names) == 1 and isinstance(fields[names[0]], VectorUDT)
    for what, column in [("features", n) for n in ([] if vector else names)] + [("label", label),
                                                                                 ("weight", weight),
                                                                                 ("offset", offset)]:
        if column is None:
            continue
        kind = type(fields[column]).__name__
        if kind not in _NUMERIC and not (what == "label" and kind == "BooleanType"):
            raise ValueError(f"{what}: column {column!r} must be numeric (or a vector column for features), "
                             f"got {fields[column].simpleString()}")
    single = not vector and all(type(fields[n]).__name__ == "FloatType" for n in names)
    dtype = "float32" if single else "float64"
    if vector:
        feature_columns = vector_fields(names[0], "f0_")
    else:
        feature_columns = [F.col(n).cast("float" if single else "double").alias(f"f{j}") for j, n in enumerate(names)]
    extra = [F.col(c).cast("double").alias(a) for c, a in ((label, "y"), (weight, "w"), (offset, "o")) if c]
    frame = df.select(F.spark_partition_id().alias(PARTITION_COLUMN), *feature_columns, *extra)
    sc = df.sparkSession.sparkContext
    task_cpus = int(sc.getConf().get("spark.task.cpus", "1"))
    slots = max(1, sc.defaultParallelism // task_cpus)
    partitions = df.rdd.getNumPartitions()
    if n_tasks is None:
        n_tasks = min(partitions, slots)
    elif isinstance(n_tasks, bool) or not isinstance(n_tasks, (int, np.integer)) or not 1 <= n_tasks <= slots:
        raise ValueError(f"n_tasks must be an integer from 1 to the session's {slots} task slots (all run at "
                         f"once), got {n_tasks!r}")
    n_tasks = min(int(n_tasks), partitions)
    spec = {
        "vector": vector,
        "features": None if vector else [f"f{j}" for j in range(len(names))],
        "names": names,
        "dtype": dtype,
        "label": "y",
        "weight": "w" if weight else None,
        "offset": "o" if offset else None,
        "task_threads": task_cpus,
        "driver_host": sc.getConf().get("spark.driver.host", "127.0.0.1"),
    }
    return SparkSource(frame.coalesce(n_tasks) if n_tasks < partitions else frame, spec, n_tasks, timeout)


def _feature_columns(features):
    """``features`` as a list of column names (a vector column's, or numeric columns')."""
    names = [features] if isinstance(features, str) else list(features) if isinstance(features, (list, tuple)) else []
    if not names:
        raise ValueError(f"features: give a vector column's name or a list of numeric columns' names, got {features!r}")
    return names


def _check_columns(fields, wanted):
    """Each (what, column name) of ``wanted`` names a column of the DataFrame whose fields are ``fields``."""
    for what, column in wanted:
        if not isinstance(column, str) or column not in fields:
            raise ValueError(f"{what}: no column {column!r} in the DataFrame (its columns: {', '.join(fields)})")


def _spark_options(what, options, source):
    """The options of ``fusedlogit.fit``/``path`` for a ``SparkSource`` X (with y X too: its label column)."""
    for name in ("sample_weight", "offset", "data", "groups", "y"):
        if name in options:
            column = {"sample_weight": "weight", "offset": "offset"}.get(name)
            advice = f"; give the column's name as {column}=" if column else ""
            raise ValueError(f"{name}= is not an option of fusedlogit.spark.{what}{advice}")
    model = options.pop("model", "auto")
    n_classes = options.get("n_classes")
    if model == "ordinal":
        raise ValueError("model='ordinal' is not offered for Spark DataFrames")
    if model == "auto":
        from ._validation import check_n_classes

        multiclass = (check_n_classes(n_classes) >= 3) if n_classes is not None else (
            source.label_max is not None and source.label_max > 1
        )
        model = "multinomial" if multiclass else "binary"
    if model == "multinomial" and source.offset_column is not None:
        raise ValueError("offset is not supported for multinomial models")
    if options.get("cov_type") == "cluster":
        raise ValueError("cov_type='cluster' is not offered for Spark DataFrames; use 'HC0' or 'HC1'")
    if what == "fit" and options.get("feature_names") is None and not source.spec["vector"]:
        options["feature_names"] = source.spec["names"]
    if what == "path" and source.offset_column is not None:
        raise ValueError("offset: fusedlogit.path takes no offset")
    return {**options, "model": model}


def fit(df, features=None, label=None, weight=None, offset=None, *, n_tasks=None, timeout=START_TIMEOUT, **options):
    """``fusedlogit.fit`` on a Spark DataFrame's columns: the same ``FitResult`` as for the rows in memory.

    features: a vector column's name, or a list of numeric columns' names (then the result's feature
    names).  label: 0/1 (or in [0, 1]) for the binary model, 0..K−1 for the multinomial one.  weight,
    offset: columns of sample weights and of offsets, optional.  n_tasks, timeout: see ``read``.  df may also be a
    ``SparkSource`` from ``read`` (then features, label, weight and offset are its own: pass None).
    """
    from .solvers.fitting import fit as fit_arrays

    if isinstance(df, SparkSource):
        return fit_arrays(df, df, **_spark_options("fit", options, df))
    with read(df, features, label, weight, offset, n_tasks=n_tasks, timeout=timeout) as source:
        return fit_arrays(source, source, **_spark_options("fit", options, source))


def path(df, features=None, label=None, weight=None, offset=None, *, n_tasks=None, timeout=START_TIMEOUT,
         **options):
    """``fusedlogit.path`` on a Spark DataFrame's columns (see ``fit``): every fit of the path on one read."""
    from .solvers.paths import path as path_arrays

    if isinstance(df, SparkSource):
        return _named(path_arrays(df, df, **_spark_options("path", options, df)), df)
    with read(df, features, label, weight, offset, n_tasks=n_tasks, timeout=timeout) as source:
        return _named(path_arrays(source, source, **_spark_options("path", options, source)), source)


def _named(result, source):
    """The path's result with the feature columns' names (a vector column's features have none)."""
    if not source.spec["vector"]:
        result.feature_names = tuple(source.spec["names"])
    return result


def predict_proba(result, df, features, offset=None, output_col="probability"):
    """``df`` with the column ``output_col`` of the fitted model's probabilities: P(y = 1 | x) (double) for a
    binary model, the K class probabilities (array<double>) for a multinomial or ordinal one; computed where
    the rows are, batch by batch (``FitResult.predict_proba``).  ``result``: a ``FitResult`` of any fit on
    arrays or on Spark; ``features`` and ``offset`` name df's columns as for ``fit``."""
    _check_installed()
    import functools

    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, DoubleType, StructField, StructType
    from pyspark.ml.linalg import VectorUDT

    names = _feature_columns(features)
    fields = {f.name: f.dataType for f in df.schema.fields}
    _check_columns(fields, [("features", n) for n in names] + ([("offset", offset)] if offset else []))
    if output_col in fields:
        raise ValueError(f"output_col: the DataFrame already has a column {output_col!r}")
    vector = len(names) == 1 and isinstance(fields[names[0]], VectorUDT)
    if getattr(result, "coding", None) is not None:
        raise ValueError("result was fitted on a table or formula: its predict_proba takes such a table")
    multinomial = np.ndim(result.coef) == 2
    if multinomial and offset is not None:
        raise ValueError("offset is not supported for multinomial models")
    one_column = not multinomial and getattr(result, "thresholds", None) is None  # binary: P(y = 1 | x)
    out_type = DoubleType() if one_column else ArrayType(DoubleType(), containsNull=False)
    inputs = vector_fields(names[0], "__f0_") if vector else [
        F.col(n).cast("double").alias(f"__f{j}") for j, n in enumerate(names)
    ]
    if offset:
        inputs.append(F.col(offset).cast("double").alias("__o"))
    frame = df.select("*", *inputs)
    schema = StructType(df.schema.fields + [StructField(output_col, out_type, nullable=False)])
    spec = {"vector": vector, "n_kept": len(df.columns), "offset": bool(offset), "names": names,
            "output": output_col}
    return frame.mapInArrow(functools.partial(_score_batches, result=result, spec=spec), schema)


def _score_batches(batches, result, spec):
    """Each Arrow batch with its probabilities appended (the kept columns as they were)."""
    import pyarrow as pa

    for batch in batches:
        if batch.num_rows == 0:
            continue
        kept = batch.columns[: spec["n_kept"]]
        inputs = pa.Table.from_batches([batch.select(list(range(spec["n_kept"], batch.num_columns)))])
        if spec["vector"]:
            X = vectors_to_block(inputs, "__f0_", spec["names"][0])
        else:
            X = columns_to_block(inputs, [f"__f{j}" for j in range(len(spec["names"]))], np.float64)
        o = inputs.column("__o").to_numpy(zero_copy_only=False) if spec["offset"] else None
        P = np.asarray(result.predict_proba(X, offset=o), dtype=np.float64)
        column = pa.array(P) if P.ndim == 1 else pa.ListArray.from_arrays(
            np.arange(0, P.size + 1, P.shape[1], dtype=np.int32), pa.array(P.ravel()))
        names = batch.schema.names[: spec["n_kept"]]
        yield pa.RecordBatch.from_arrays(list(kept) + [column], names=names + [spec["output"]])
