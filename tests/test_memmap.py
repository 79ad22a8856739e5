"""Memory-mapped X: used in place (no copy), with the in-memory results bit for bit."""

import numpy as np
import pytest
from scipy.optimize import minimize

import fusedlogit
from fusedlogit import LogisticLoss, _validation


# float32: the kernels' read-only float32 variants compile for these alone (~15 s on an empty cache): slow
@pytest.fixture(params=[np.float64, pytest.param(np.float32, marks=pytest.mark.slow)], ids=["float64", "float32"])
def saved(request, rng, tmp_path):
    """(X in memory, y, weights, path of X saved with np.save)."""
    n, d = 5000, 7  # more than one chunk of the kernels' partition
    X = rng.standard_normal((n, d)).astype(request.param)
    y = (rng.random(n) < 1 / (1 + np.exp(-X[:, 0] + X[:, 1]))).astype(np.float64)
    sw = rng.uniform(0.5, 2, n)
    path = tmp_path / "X.npy"
    np.save(path, X)
    return X, y, sw, path


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_read_only_memmap_used_without_copy(saved, rng, backend):
    X, y, sw, path = saved
    Xm = np.load(path, mmap_mode="r")
    assert isinstance(Xm, np.memmap) and not Xm.flags.writeable
    obj = LogisticLoss(Xm, y, sample_weight=sw, l2=0.01, backend=backend)
    assert np.shares_memory(obj.X, Xm)
    mem = LogisticLoss(X, y, sample_weight=sw, l2=0.01, backend=backend)
    coef = rng.standard_normal(obj.n_coef)
    v = rng.standard_normal(obj.n_coef)
    (lm, gm), (l0, g0) = obj.loss_gradient(coef), mem.loss_gradient(coef)
    assert lm == l0
    np.testing.assert_array_equal(gm, g0)
    np.testing.assert_array_equal(obj.hessp(coef, v), mem.hessp(coef, v))
    # The dense Hessian's Gram products are BLAS syrk's, whose blocking is not ours: equal to rounding.
    np.testing.assert_allclose(obj.hessian(coef), mem.hessian(coef), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(np.load(path), X)  # the file is untouched


def test_np_memmap_object_and_offset(saved, tmp_path):
    """An np.memmap opened directly (with a header offset, as np.save writes) is used in place."""
    X, y, _, path = saved
    header = np.load(path, mmap_mode="r").offset
    Xm = np.memmap(path, dtype=X.dtype, mode="r", offset=header, shape=X.shape)
    obj = LogisticLoss(Xm, y)
    assert np.shares_memory(obj.X, Xm)
    coef = np.linspace(-1, 1, obj.n_coef)
    assert obj.loss(coef) == LogisticLoss(X, y).loss(coef)


def test_fortran_memmap_copied_once(saved, tmp_path):
    """Column-major data on disk is copied to C order once at construction (numba backend)."""
    X, y, _, _ = saved
    path = tmp_path / "XF.npy"
    np.save(path, np.asfortranarray(X))
    Xm = np.load(path, mmap_mode="r")
    assert Xm.flags.f_contiguous
    obj = LogisticLoss(Xm, y)
    assert obj.X.flags.c_contiguous and not np.shares_memory(obj.X, Xm)
    coef = np.linspace(-1, 1, obj.n_coef)
    assert obj.loss(coef) == LogisticLoss(X, y).loss(coef)


def test_nan_found_in_last_block(saved, tmp_path, monkeypatch):
    """The finite check reads X in row blocks and still sees a NaN in the last one."""
    X, y, _, _ = saved
    monkeypatch.setattr(_validation, "_FINITE_CHECK_ELEMENTS", 64)  # many small blocks
    bad = X.copy()
    bad[-1, -1] = np.nan
    path = tmp_path / "bad.npy"
    np.save(path, bad)
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        LogisticLoss(np.load(path, mmap_mode="r"), y)
    LogisticLoss(np.load(tmp_path / "X.npy", mmap_mode="r"), y)  # the clean file passes the blocked check


def test_minimise_on_memmap_equals_in_memory(saved):
    X, y, sw, path = saved
    results = []
    for Xi in (X, np.load(path, mmap_mode="r")):
        obj = LogisticLoss(Xi, y, sample_weight=sw, l2=1e-3)
        res = minimize(
            obj.loss_gradient, np.zeros(obj.n_coef), jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 0}
        )
        results.append(res.x)
    np.testing.assert_array_equal(results[0], results[1])  # same arithmetic, same iterates


def test_fit_on_memmap_equals_in_memory(saved):
    X, y, sw, path = saved
    mem = fusedlogit.fit(X, y, sample_weight=sw, solver="newton")
    mapped = fusedlogit.fit(np.load(path, mmap_mode="r"), y, sample_weight=sw, solver="newton")
    # Newton's Hessian goes through BLAS, which is reproducible only to rounding (its
    # kernels depend on buffer alignment); the fused gradient is bitwise equal (above).
    np.testing.assert_allclose(mapped.coef, mem.coef, rtol=1e-10, atol=1e-12)
    assert mapped.intercept == pytest.approx(mem.intercept, rel=1e-10, abs=1e-12)
    assert mapped.converged and mem.converged
