"""Fits on a Spark DataFrame: ``fusedlogit.spark.fit`` against Spark MLlib's ``LogisticRegression`` on the same
cached DataFrame, same objective.

    python benchmarks/spark_fits.py [--rows 2000000] [--features 50] [--partitions 8] [--classes 2,5]
                                    [--kinds isotropic,correlated] [--mllib-tol 1e-6,1e-9,1e-12]
                                    [--master local[2]] [--driver-memory 8g]

The data (``make_data``): a vector column of ``--features`` standard normal entries (Spark's ``randn``),
independent ("isotropic") or AR(1)-correlated across columns ("correlated", ρ = 0.9), and labels drawn from
a logistic (K = 2) or softmax (K > 2) model with margins of standard deviation 2, generated inside Spark in
``--partitions`` partitions and cached (counted once before any fit).  The objective: the mean log-loss
plus (l2/2)‖coef‖², l2 = 1e-4, intercepts unpenalised: MLlib's regParam = 1e-4, elasticNetParam = 0,
standardization = False; fusedlogit's l2 = 1e-4, tol = 1e-8.  Each fit is timed end to end as a user runs
it (every pool at its default, the session as given), after one untimed warm-up fit of each library on the
same DataFrame (JIT compiling, Python workers started); fusedlogit's time is the median of ``--repeats``
fits.  MLlib stops on its own tolerance (relative change of the loss), so it runs at each ``--mllib-tol``,
and at each ``--mllib-block-mb`` (its maxBlockSizeInMB: rows stacked into blocks for level-2/3 BLAS; 0 is its
own choice); for each run, fusedlogit's convergence measure max|∇J| (scaled
as ``LogisticLoss.converged``) at MLlib's coefficients is reported, computed on the same DataFrame through
``fusedlogit.spark.read``, so "same convergence" is checked, not assumed.
"""

import argparse
import time

import numpy as np

L2 = 1e-4
TOL = 1e-8


def session(master, memory):
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(master).appName("fusedlogit-bench")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", memory).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def make_data(spark, n, d, partitions, K, kind="isotropic", seed=0):
    """A cached DataFrame (features: dense vectors, label: 0..K−1 as double), generated inside Spark.

    kind "isotropic": independent standard normal features (MLlib's easiest case); "correlated": each column
    an AR(1) mix of the previous ones, x_j = ρ x_{j−1} + √(1 − ρ²) z_j with ρ = 0.9 (unit variances), as
    written out in the z's.  The margins' standard deviation is 2 in both.
    """
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F

    rng = np.random.default_rng(seed)
    rho = 0.9 if kind == "correlated" else 0.0
    # x = z Lᵀ: L[j, k] = ρ^{j−k}·(1 if k = 0 else √(1 − ρ²)) for k ≤ j, so that x_j = ρ x_{j−1} + √(1 − ρ²) z_j
    L = np.tril(rho ** np.subtract.outer(np.arange(d), np.arange(d)).clip(min=0))
    L[:, 1:] *= np.sqrt(1 - rho**2)
    covariance = L @ L.T
    beta = rng.standard_normal((1 if K == 2 else K, d))
    beta *= 2.0 / np.sqrt(np.einsum("kj,jl,kl->k", beta, covariance, beta))[:, None]
    z = spark.range(0, n, numPartitions=partitions).select(
        *[F.randn(seed * 1000 + j).alias(f"z{j}") for j in range(d)], F.rand(seed * 1000 + 999).alias("u"))
    x = [sum(F.col(f"z{k}") * float(L[j, k]) for k in range(j + 1) if L[j, k] != 0.0) for j in range(d)]
    df = z.select(*[c.alias(f"x{j}") for j, c in enumerate(x)], "u")
    margins = [sum(F.col(f"x{j}") * float(b[j]) for j in range(d)) for b in beta]
    if K == 2:
        label = (F.col("u") < 1 / (1 + F.exp(-margins[0]))).cast("double")
    else:
        weights = [F.exp(m) for m in margins]
        total = sum(weights)
        label = sum((F.col("u") > sum(weights[: k + 1]) / total).cast("double") for k in range(K - 1))
    features = array_to_vector(F.array(*[f"x{j}" for j in range(d)])).alias("features")
    out = df.select(features, label.alias("label")).cache()
    out.count()
    return out


def mllib_fit(df, K, tol, block_mb=0.0):
    from pyspark.ml.classification import LogisticRegression

    lr = LogisticRegression(regParam=L2, elasticNetParam=0.0, standardization=False, tol=tol, maxIter=10000,
                            family="binomial" if K == 2 else "multinomial", maxBlockSizeInMB=block_mb)
    start = time.perf_counter()
    model = lr.fit(df)
    seconds = time.perf_counter() - start
    if K == 2:
        coef = np.append(model.coefficients.toArray(), model.intercept)
    else:
        coef = np.hstack([model.coefficientMatrix.toArray(), model.interceptVector.toArray()[:, None]]).ravel()
    return seconds, model.summary.totalIterations, coef


def fusedlogit_fit(df, K):
    import fusedlogit.spark

    start = time.perf_counter()
    result = fusedlogit.spark.fit(df, "features", "label", l2=L2, tol=TOL,
                                  model="binary" if K == 2 else "multinomial")
    seconds = time.perf_counter() - start
    return seconds, result


def gradient_measure(source, K, coef):
    """(J, fusedlogit's convergence measure max_j |∂J/∂coef_j|·max(1, 1/ρ_j)) at coef, on the DataFrame."""
    import fusedlogit
    from fusedlogit.multinomial import MultinomialLoss

    objective = (fusedlogit.LogisticLoss(source, source, l2=L2) if K == 2
                 else MultinomialLoss(source, source, l2=L2, n_classes=K))
    J, g = objective.loss_gradient(coef)
    return J, float(np.max(np.abs(g) * objective.gradient_weights()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--classes", default="2,5")
    parser.add_argument("--kinds", default="isotropic,correlated")
    parser.add_argument("--mllib-tol", default="1e-6,1e-9,1e-12")
    parser.add_argument("--mllib-block-mb", default="0,8", help="MLlib's maxBlockSizeInMB values (0: its default)")
    parser.add_argument("--repeats", type=int, default=3, help="timed fusedlogit fits (the median is reported)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="8g")
    args = parser.parse_args()
    import fusedlogit.spark

    spark = session(args.master, args.driver_memory)
    print(f"# spark {spark.version}, master {args.master}, {args.rows} x {args.features} dense vectors in "
          f"{args.partitions} partitions, l2 = {L2}, fusedlogit tol = {TOL}")
    for kind, K in [(kind, int(k)) for kind in args.kinds.split(",") for k in args.classes.split(",")]:
        df = make_data(spark, args.rows, args.features, args.partitions, K, kind)
        fusedlogit_fit(df, K)  # warm-up: Python workers, kernels from the cache
        mllib_fit(df, K, 1e-6)  # warm-up: the JIT
        timed = [fusedlogit_fit(df, K) for _ in range(args.repeats)]
        seconds = float(np.median([t for t, _ in timed]))
        result = timed[0][1]
        ours = np.append(result.coef, result.intercept) if K == 2 else np.hstack(
            [result.coef, result.intercept[:, None]]).ravel()
        # MLlib first: while fusedlogit.spark.read holds the DataFrame its tasks take every task slot
        runs = [(tol, block, *mllib_fit(df, K, tol, block)) for block in [float(b) for b in args.mllib_block_mb.split(",")]
                for tol in [float(t) for t in args.mllib_tol.split(",")]]
        with fusedlogit.spark.read(df, "features", "label") as source:
            J, measure = gradient_measure(source, K, ours)
            print(f"{kind} K={K} fusedlogit: {seconds:.2f} s (median of {len(timed)}: "
                  f"{', '.join(f'{t:.2f}' for t, _ in timed)}), {result.n_iter} iterations, J = {J:.12f}, "
                  f"max|grad| = {measure:.1e}, passes = {result.n_passes:.1f}", flush=True)
            for tol, block, m_seconds, iters, coef in runs:
                mJ, m_measure = gradient_measure(source, K, coef)
                print(f"{kind} K={K} MLlib tol={tol:g} maxBlockSizeInMB={block:g}: {m_seconds:.2f} s "
                      f"({m_seconds / seconds:.1f}x), {iters} iterations, J = {mJ:.12f}, max|grad| = {m_measure:.1e}",
                      flush=True)
        df.unpersist()


if __name__ == "__main__":
    main()
