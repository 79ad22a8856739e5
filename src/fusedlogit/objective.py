"""The objective, defined once: the L2-penalised logistic negative log-likelihood.

For rows x_i, labels y_i ∈ [0, 1], sample weights s_i ≥ 0 and coefficients
``coef = [w_1..w_d, b]`` (intercept last; ``[w_1..w_d]`` without intercept)::

    z_i = x_i·w + b,   ℓ_i = softplus(z_i) − y_i z_i,   p_i = σ(z_i)
    J(coef) = (1/S) Σ s_i ℓ_i + (l2/2)·||w||²
    ∇_w J   = (1/S) X^T (s ⊙ (p − y)) + l2·w,    ∂J/∂b = (1/S) Σ s_i (p_i − y_i)
    H       = (1/S) X̃^T diag(s ⊙ p(1−p)) X̃ + l2·I_w

with S = Σ s_i for ``reduction="mean"`` and S = 1 for ``"sum"``; X̃ is X with a
column of ones when there is an intercept, which is never penalised.  The
backends (``_kernels`` compiled, ``_reference`` NumPy) compute only the sums
over samples; the scaling and the penalty are applied here, for both.
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import _reference
from ._validation import (
    as_coef,
    as_features,
    as_labels,
    as_sample_weight,
    as_sparse_features,
    check_choice,
    check_finite,
    check_l2,
    check_n_threads,
    is_dask_array,
    is_sparse,
)

BACKENDS = ("numba", "numpy")
REDUCTIONS = ("mean", "sum")


_controller = None


def _blas_limits(n_threads):
    """Context limiting BLAS/OpenMP pools to ``n_threads`` (no-op for None).

    One ``ThreadpoolController`` is made on first use and reused: building one
    scans every loaded shared library (milliseconds), limiting with it does not.
    """
    global _controller
    if n_threads is None:
        return contextlib.nullcontext()
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=n_threads)


def backend_module(backend, sparse):
    """The module computing the sums: compiled dense or CSR kernels, or the reference."""
    if backend == "numpy":
        return _reference
    if sparse:
        from . import _sparse_kernels

        return _sparse_kernels
    from . import _kernels

    return _kernels


def call_backend(impl, name, n_threads, *args):
    """Call ``impl.name(*args)`` with ``n_threads`` kernel (and BLAS) threads.

    BLAS is limited only where BLAS runs: every reference-path call and the
    blocked dense ``hessian``; the fused kernels use Numba's threads alone.
    """
    fn = getattr(impl, name)
    uses_blas = impl is _reference or name == "hessian_sums"
    with _blas_limits(n_threads) if uses_blas else contextlib.nullcontext():
        if impl is _reference:
            return fn(*args)
        from ._config import launch

        return launch(fn, n_threads, *args)


class LogisticLoss:
    """Loss, gradient, Hessian-vector product and Hessian of J on fixed data.

    Parameters
    ----------
    X : array, scipy.sparse matrix or dask array of shape (n_samples, n_features)
        Real (float, int or bool) matrix without NaN or inf.  float32 and
        float64 are kept as they are; other dtypes become float64.  For
        ``backend="numba"``, X that is not C-contiguous (Fortran order, a
        strided view) is copied to C order once, here, never per call; a
        C-contiguous float32/float64 X (a memory map too) is used without copy.
        Sparse X is converted once to canonical CSR (no copy if it already
        is) and computed by CSR kernels.  A dask array is split in row
        chunks; see ``fusedlogit.dask``.
    y : array of shape (n_samples,)
        Labels in [0, 1]: 0/1, booleans, or soft labels.  With a dask X, y
        and sample_weight may be NumPy or dask arrays.
    sample_weight : array of shape (n_samples,), optional
        Non-negative weights s_i; default (None) all ones.
    fit_intercept : bool, default True
        If True, ``coef`` has n_features + 1 entries, the intercept last.
    l2 : float, default 0.0
        Ridge strength on w (never on the intercept).
    reduction : {"mean", "sum"}, default "mean"
        Scale the data term by 1/Σs_i ("mean") or not ("sum").
    backend : {"numba", "numpy"}, default "numba"
        "numba": fused one-pass compiled kernels.  "numpy": the reference path.
    n_threads : int, optional
        Threads for the kernels (numba) and for BLAS (both backends); default
        all cores.  With the NumPy backend and ``n_threads=None`` any
        threadpoolctl limit set by the caller applies.

    Notes
    -----
    Results are float64 whatever X's dtype; float32 X is never upcast in
    memory (the kernels accumulate in float64).  The numba backend gives
    bitwise identical results for any thread count.  The object keeps a
    reference to X: do not modify X while using it.
    """

    def __init__(
        self,
        X,
        y,
        *,
        sample_weight=None,
        fit_intercept=True,
        l2=0.0,
        reduction="mean",
        backend="numba",
        n_threads=None,
    ):
        check_choice("backend", backend, BACKENDS)
        check_choice("reduction", reduction, REDUCTIONS)
        self.l2 = check_l2(l2)
        self.fit_intercept = bool(fit_intercept)
        self.reduction = reduction
        self.backend = backend
        if backend == "numba":
            from . import _config

            self.n_threads = check_n_threads(n_threads, _config.max_threads())
        else:
            self.n_threads = check_n_threads(n_threads)
        if is_dask_array(X):  # sums over row chunks, each computed where the chunk lives
            from .dask import ChunkedBackend, as_dask_data

            self.X, self.y, self.sample_weight = as_dask_data(X, y, sample_weight)
            self._impl = ChunkedBackend(backend, self.n_threads)
        else:
            sparse = is_sparse(X)
            self.X = as_sparse_features(X) if sparse else as_features(X, contiguous=backend == "numba")
            self.y = as_labels(y, self.X.shape[0], self.X.dtype)
            self.sample_weight = as_sample_weight(sample_weight, self.X.shape[0], self.X.dtype)
            self._impl = backend_module(backend, sparse)
        n, d = self.X.shape
        self.n_samples, self.n_features = n, d
        self.n_coef = d + 1 if self.fit_intercept else d
        if reduction == "sum":
            self.sum_weights = 1.0
        else:
            total = float(n) if self.sample_weight is None else float(self.sample_weight.sum(dtype=np.float64))
            if total <= 0:
                raise ValueError("sample_weight sums to zero: the mean loss is undefined")
            self.sum_weights = total
        self._scale = 1.0 / self.sum_weights

    # -- the one place where backends are called --------------------------------
    def _run(self, name, *args):
        """Call backend function ``name`` under this object's thread settings."""
        if hasattr(self._impl, "run_chunks"):  # dask: one call per chunk, on the workers
            return self._impl.run_chunks(name, *args)
        return call_backend(self._impl, name, self.n_threads, *args)

    def _split(self, coef, name="coef"):
        """(w, b) from a vector of length n_coef (b = 0 without intercept)."""
        coef = as_coef(coef, self.n_coef, self.fit_intercept, name)
        if self.fit_intercept:
            return np.ascontiguousarray(coef[:-1]), float(coef[-1])
        return np.ascontiguousarray(coef), 0.0

    def _data_terms(self, coef, want_loss, want_grad):
        w, b = self._split(coef)
        loss, grad = self._run("loss_gradient_sums", self.X, self.y, self.sample_weight, w, b, want_loss, want_grad)
        return w, loss, grad

    def _finish_loss(self, w, loss_sum):
        return float(self._scale * loss_sum + 0.5 * self.l2 * (w @ w))

    def _finish_vector(self, sums, v):
        """Scale the (d + 1,) data term, add l2·v on w, drop b if unused."""
        out = self._scale * sums
        out[:-1] += self.l2 * v
        return out if self.fit_intercept else out[:-1]

    # -- public API ---------------------------------------------------------------
    def loss(self, coef):
        """J(coef) as a float."""
        w, loss, _ = self._data_terms(coef, True, False)
        return self._finish_loss(w, loss)

    def gradient(self, coef):
        """∇J(coef), shape (n_coef,)."""
        w, _, grad = self._data_terms(coef, False, True)
        return self._finish_vector(grad, w)

    def loss_gradient(self, coef):
        """(J(coef), ∇J(coef)) from one pass over X."""
        w, loss, grad = self._data_terms(coef, True, True)
        return self._finish_loss(w, loss), self._finish_vector(grad, w)

    def hessp(self, coef, v):
        """H(coef) @ v, shape (n_coef,), from one pass over X."""
        w, b = self._split(coef)
        vw, vb = self._split(v, "v")
        hv = self._run("hessp_sums", self.X, self.sample_weight, w, b, vw, vb)
        return self._finish_vector(hv, vw)

    def hessian(self, coef):
        """H(coef), shape (n_coef, n_coef)."""
        w, b = self._split(coef)
        H = self._scale * self._run("hessian_sums", self.X, self.sample_weight, w, b)
        d = self.n_features
        H[np.arange(d), np.arange(d)] += self.l2
        return H if self.fit_intercept else H[:d, :d]

    def __repr__(self):
        return (
            f"LogisticLoss(n_samples={self.n_samples}, n_features={self.n_features}, dtype={self.X.dtype}, "
            f"fit_intercept={self.fit_intercept}, l2={self.l2}, reduction={self.reduction!r}, "
            f"backend={self.backend!r}, n_threads={self.n_threads})"
        )


def predict_proba(X, coef, intercept=0.0):
    """P(y = 1 | x) = σ(x·coef + intercept) for every row of X, shape (n_samples,).

    Stable for any margin: σ is evaluated from e^{−|z|}, so ±1000 give exactly
    1 and 0 (and tiny margins in the tails stay positive, never 0/0).
    """
    X = as_sparse_features(X) if is_sparse(X) else as_features(X, contiguous=False)
    coef = as_coef(coef, X.shape[1], False)
    intercept = float(intercept)
    if not np.isfinite(intercept):
        raise ValueError("intercept must be finite")
    check_finite("coef", coef)
    return _reference.expit(X @ coef.astype(X.dtype) + intercept)


def check_gradient(fun, grad, x0, eps=1e-6):
    """Largest relative error of ``grad`` against central differences of ``fun``.

    fd_i = (fun(x0 + eps·e_i) − fun(x0 − eps·e_i)) / (2·eps), and the error of
    component i is |grad_i − fd_i| / max(|grad_i|, |fd_i|, floor) with
    floor = 1e-6·max(1, max_i |fd_i|), so components near zero are compared
    absolutely.  A correct gradient gives ~1e-7 or less; a gradient wrong by 1%
    in any component that is not negligible gives ≈ 1e-2.
    """
    x0 = np.array(x0, dtype=np.float64).ravel()
    g = np.asarray(grad(x0.copy()), dtype=np.float64).ravel()
    if g.shape != x0.shape:
        raise ValueError(f"grad returned shape {g.shape}, expected {x0.shape}")
    fd = np.empty_like(x0)
    for i in range(x0.size):
        step = np.zeros_like(x0)
        step[i] = eps
        fd[i] = (float(fun(x0 + step)) - float(fun(x0 - step))) / (2 * eps)
    floor = 1e-6 * max(1.0, float(np.max(np.abs(fd), initial=0.0)))
    denom = np.maximum(np.maximum(np.abs(g), np.abs(fd)), floor)
    return float(np.max(np.abs(g - fd) / denom, initial=0.0))
