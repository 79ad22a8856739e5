"""The multinomial section: softmax loss+gradient against max(read time of X, arithmetic time).

One fused pass of ``MultinomialLoss.loss_gradient`` does, per row, the K
margins x_i·w_k (2·d·K flops) and the K-row scatter G_k += r_ik x_i
(2·d·K flops): ``FLOPS_PER_ROW`` = 4·d·K, the issue's count (the K
exponentials and the intercepts are left out).  Its limit is therefore::

    read_s  = median time of ``read_sum`` on the same X, same threads (the kernels section's roofline)
    arith_s = 4·n·d·K / peak,   peak = measured float64 GEMM flop rate, same threads
    bound_s = max(read_s, arith_s)          bound_fraction = bound_s / median_s

The peak (``measure_peak_flops``) is 2·m³ / (fastest of the timed samples) of
``A @ B`` for float64 m × m matrices through NumPy's BLAS, pinned to the
row's thread count: the rate the machine reaches on dense float64 work.  The
kernel computes in float64 for float32 X as well (every product x_ij·w_kj is
promoted to float64), so the same peak serves both dtypes.

Methods (``MULTINOMIAL_METHODS``): ``read`` (the roofline), ``fused`` (the
Numba kernel through ``MultinomialLoss``), ``reference`` (the NumPy backend:
X Wᵀ and Rᵀ X̃ by BLAS with n × K temporaries) and ``sklearn``:
``LinearModelLoss(HalfMultinomialLoss(n_classes=K), fit_intercept=True)
.loss_gradient`` (also the mean loss; its flat coef is the (K, d + 1)
matrix in F order, as LogisticRegression's lbfgs passes it, converted here
by ``to_sklearn_coef``; skipped when scikit-learn is not installed).

The grid is the kernels section's (n, d) grid for every K of ``CLASSES``,
where X plus ``PEER_TEMPORARIES`` float64 n × K temporaries of the peers fit
the memory budget.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np

from .._threads import pinned
from ..multinomial import MultinomialLoss
from .grid import n_grid
from .roofline import read_sum
from .timing import progress, time_call

CLASSES = (3, 10, 50)
QUICK_CLASSES = (3, 10)
QUICK_N = (100_000,)
QUICK_D = (20, 100)
#: float64 n × K arrays the peers hold at once (margins, one-hot labels,
#: probabilities, residuals): counted against the memory budget with X.
PEER_TEMPORARIES = 4
#: m of the m × m × m float64 GEMM that measures the peak flop rate.
PEAK_GEMM_N = 2048
QUICK_PEAK_GEMM_N = 1024


def flops_per_row(d, n_classes):
    """4·d·K: K margins (2dK) and the K-row scatter into the gradient (2dK)."""
    return 4 * d * n_classes


def multinomial_n_grid(d, n_classes, itemsize, budget_bytes, n_values=None):
    """``n_grid`` with the peers' n × K float64 temporaries counted beside X."""
    per_row = d * itemsize + PEER_TEMPORARIES * n_classes * 8
    return [n for n in n_grid(d, itemsize, budget_bytes, n_values) if n * per_row <= budget_bytes]


# --------------------------------------------------------------------------- problems


@dataclass
class MultinomialProblem:
    """Data for timing one call: X (n, d), integer labels y (n,) in 0..K−1, coef flat C-order (K, d + 1)."""

    X: np.ndarray
    y: np.ndarray
    coef: np.ndarray
    n_classes: int

    @property
    def key(self):
        n, d = self.X.shape
        return n, d, self.X.dtype.name, self.n_classes


def multinomial_problem(X, n_classes, seed=0):
    """Labels and coefficients for K classes on a given X (X is shared by every K)."""
    n, d = X.shape
    rng = np.random.default_rng([seed, n_classes])
    y = rng.integers(0, n_classes, n)
    coef = np.column_stack([rng.standard_normal((n_classes, d)) / np.sqrt(d), np.full(n_classes, 0.1)])
    return MultinomialProblem(X, y, coef.ravel(), n_classes)


def multinomial_kernel_problem(n, d, n_classes, dtype=np.float64, seed=0):
    """Standard-normal X drawn directly in ``dtype``, labels uniform over K classes."""
    X = np.random.default_rng(seed).standard_normal((n, d), dtype=np.dtype(dtype).type)
    return multinomial_problem(X, n_classes, seed)


def to_sklearn_coef(coef, n_classes):
    """fusedlogit's flat C-order (K, d + 1) → scikit-learn's flat F-order (classes of one feature contiguous)."""
    return np.asarray(coef).reshape(n_classes, -1).ravel(order="F")


def from_sklearn_coef(coef, n_classes):
    """The inverse of ``to_sklearn_coef`` (also for its gradients)."""
    return np.asarray(coef).reshape((n_classes, -1), order="F").ravel()


# --------------------------------------------------------------------------- methods


def _fused(backend):
    def make(p, n_threads):
        obj = MultinomialLoss(p.X, p.y, n_classes=p.n_classes, backend=backend, n_threads=n_threads)
        return lambda: obj.loss_gradient(p.coef)

    return make


def sklearn_multinomial_loss_gradient(p, n_threads, l2=0.0):
    """scikit-learn's internal mean softmax J and ∇J as a zero-argument call, or None if not installed.

    HalfMultinomialLoss: ℓ_i = logsumexp_k z_ik − z_{i,y_i}, averaged, plus
    (l2/2)·||W||² (intercepts not penalised): fusedlogit's J.  coef, y and X
    in one dtype, as LogisticRegression passes them; the call returns the
    gradient in scikit-learn's F-order layout (``from_sklearn_coef`` maps it back).
    """
    try:
        from sklearn._loss.loss import HalfMultinomialLoss
        from sklearn.linear_model._linear_loss import LinearModelLoss
    except ImportError:
        return None
    model = LinearModelLoss(base_loss=HalfMultinomialLoss(n_classes=p.n_classes), fit_intercept=True)
    coef = to_sklearn_coef(p.coef, p.n_classes).astype(p.X.dtype)
    y = p.y.astype(p.X.dtype)
    return lambda: model.loss_gradient(coef, p.X, y, sample_weight=None, l2_reg_strength=l2, n_threads=n_threads)


def _read(p, n_threads):
    return lambda: read_sum(p.X)


#: (method, op) -> factory(problem, n_threads) returning a zero-argument call,
#: or None when the implementation is not installed.
MULTINOMIAL_METHODS = {
    ("read", "read"): _read,
    ("fused", "loss_gradient"): _fused("numba"),
    ("reference", "loss_gradient"): _fused("numpy"),
    ("sklearn", "loss_gradient"): sklearn_multinomial_loss_gradient,
}


# --------------------------------------------------------------------------- the peak flop rate


def measure_peak_flops(n_threads, m=PEAK_GEMM_N, *, repeats=5, min_sample_s=0.1):
    """The float64 GEMM flop rate on ``n_threads`` (BLAS pinned): one dict for the results."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, m))
    B = rng.standard_normal((m, m))
    out = np.empty((m, m))
    with pinned(n_threads):
        samples, number = time_call(lambda: np.matmul(A, B, out=out), repeats=repeats, min_sample_s=min_sample_s)
    flops = 2 * m**3
    row = {
        "method": "numpy.matmul",
        "dtype": "float64",
        "m": m,
        "n_threads": n_threads,
        "flops": flops,
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "repeats": repeats,
        "number": number,
        "gflop_s": flops / min(samples) / 1e9,
        "how": f"2*m^3 / fastest sample of float64 A @ B, m = {m}, BLAS pinned to {n_threads} threads",
    }
    progress(f"peak    float64 GEMM m={m} threads={n_threads:<2} {row['gflop_s']:8.1f} GFLOP/s")
    return row


# --------------------------------------------------------------------------- the section


def run_multinomial(ns, ds, classes, dtypes, threads, *, budget_bytes, repeats, min_sample_s, methods=None,
                    gemm_m=PEAK_GEMM_N):
    """Time every method of ``MULTINOMIAL_METHODS`` on the grid; returns (rows, peak rows)."""
    methods = methods or list(MULTINOMIAL_METHODS)
    peaks = [measure_peak_flops(k, gemm_m, repeats=repeats, min_sample_s=min_sample_s) for k in threads]
    peak_by_threads = {r["n_threads"]: r["gflop_s"] * 1e9 for r in peaks}
    rows = []
    for dtype in dtypes:
        itemsize = np.dtype(dtype).itemsize
        for d in ds:
            for n in n_grid(d, itemsize, budget_bytes, ns):
                ks = [K for K in classes if n in multinomial_n_grid(d, K, itemsize, budget_bytes, [n])]
                if not ks:
                    continue
                X = np.random.default_rng(0).standard_normal((n, d), dtype=np.dtype(dtype).type)
                for k in threads:
                    read = None  # one read of X per thread count, shared by every K
                    for K in ks:
                        read, timed = time_problem(multinomial_problem(X, K), k, peak_flop_s=peak_by_threads[k],
                                                   repeats=repeats, min_sample_s=min_sample_s, methods=methods,
                                                   read=read)
                        rows += timed
                del X
    return rows, peaks


def time_problem(problem, n_threads, *, peak_flop_s, repeats, min_sample_s, methods=None, read=None):
    """Time ``methods`` on one problem: (read row, rows).

    The read of X is timed first unless ``read`` (a read row of the same X
    and threads) is given; it is needed for every row's bound, and is among
    the rows returned only when it was timed here and ("read", "read") is in ``methods``.
    """
    methods = methods or list(MULTINOMIAL_METHODS)
    rows = []
    if read is None:
        read = _time_method(problem, "read", "read", n_threads, repeats, min_sample_s)
        read.update(n_classes=None, flops=0, gflop_s=0.0, read_s=read["median_s"], arith_s=0.0,
                    peak_gflop_s=peak_flop_s / 1e9, bound="read", bound_s=read["median_s"],
                    bound_fraction=1.0, roofline_fraction=1.0)
        n, d, dtype, _ = problem.key
        progress(f"multi   n={n:<9} d={d:<5}       {dtype:<7} threads={n_threads:<2} {'read':>9} "
                 f"{read['median_s'] * 1e3:10.4f} ms  {read['gb_s']:7.2f} GB/s")
        if ("read", "read") in methods:
            rows.append(read)
    for method, op in methods:
        if method == "read":
            continue
        row = _time_method(problem, method, op, n_threads, repeats, min_sample_s)
        if row is not None:
            rows.append(_bounded(row, read, peak_flop_s))
    return read, rows


def _time_method(problem, method, op, n_threads, repeats, min_sample_s):
    n, d, dtype, _ = problem.key
    with pinned(n_threads):
        call = MULTINOMIAL_METHODS[method, op](problem, n_threads)
        if call is None:
            return None
        samples, number = time_call(call, repeats=repeats, min_sample_s=min_sample_s)
    median = statistics.median(samples)
    return {
        "method": method,
        "op": op,
        "n": n,
        "d": d,
        "n_classes": problem.n_classes,
        "dtype": dtype,
        "n_threads": n_threads,
        "median_s": median,
        "min_s": min(samples),
        "repeats": repeats,
        "number": number,
        "rows_s": n / median,
        "gb_s": problem.X.nbytes / median / 1e9,
        "x_bytes": problem.X.nbytes,
    }


def _bounded(row, read, peak_flop_s):
    """Add the flops, the read and arithmetic times, the bound and the fraction of it reached."""
    n, d, K = row["n"], row["d"], row["n_classes"]
    flops = n * flops_per_row(d, K)
    arith_s = flops / peak_flop_s
    bound_s = max(read["median_s"], arith_s)
    row.update(
        flops=flops,
        gflop_s=flops / row["median_s"] / 1e9,
        read_s=read["median_s"],
        arith_s=arith_s,
        peak_gflop_s=peak_flop_s / 1e9,
        bound="read" if read["median_s"] >= arith_s else "arithmetic",
        bound_s=bound_s,
        bound_fraction=bound_s / row["median_s"],
        roofline_fraction=row["gb_s"] / read["gb_s"],
    )
    progress(
        f"multi   n={n:<9} d={d:<5} K={K:<3} {row['dtype']:<7} threads={row['n_threads']:<2} {row['method']:>9} "
        f"{row['median_s'] * 1e3:10.4f} ms  {row['gb_s']:7.2f} GB/s  read {row['read_s'] * 1e3:.3f} ms  "
        f"arith {arith_s * 1e3:.3f} ms  {row['bound_fraction']:5.0%} of max"
    )
    return row
