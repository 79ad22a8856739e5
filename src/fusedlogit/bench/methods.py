"""The kernel methods timed: (method, op) -> a zero-argument call on one problem."""

from __future__ import annotations

from ..objective import LogisticLoss
from .roofline import read_sum

KERNEL_OPS = ("loss_gradient", "gradient", "hessp")


def _fused(op, backend):
    def make(p, n_threads):
        obj = LogisticLoss(p.X, p.y, backend=backend, n_threads=n_threads)
        if op == "hessp":
            return lambda: obj.hessp(p.coef, p.v)
        method = getattr(obj, op)
        return lambda: method(p.coef)

    return make


def _sklearn_loss_gradient(p, n_threads):
    """scikit-learn's internal J and ∇J (HalfBinomialLoss: ℓ = log(1+e^z) − yz, mean)."""
    try:
        from sklearn._loss.loss import HalfBinomialLoss
        from sklearn.linear_model._linear_loss import LinearModelLoss
    except ImportError:
        return None
    model = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
    # Its Cython loops need y, coef and X @ coef in one dtype, as LogisticRegression passes them.
    coef = p.coef.astype(p.X.dtype)
    y = p.y.astype(p.X.dtype)
    return lambda: model.loss_gradient(coef, p.X, y, sample_weight=None, l2_reg_strength=0.0, n_threads=n_threads)


def _read(p, n_threads):
    return lambda: read_sum(p.X)


#: (method, op) -> factory(problem, n_threads) returning a zero-argument call, or
#: None when the implementation is not installed.  The benchmark suite reuses it.
KERNEL_METHODS = {
    ("read", "read"): _read,
    **{("fused", op): _fused(op, "numba") for op in KERNEL_OPS},
    **{("reference", op): _fused(op, "numpy") for op in KERNEL_OPS},
    ("sklearn", "loss_gradient"): _sklearn_loss_gradient,
}
