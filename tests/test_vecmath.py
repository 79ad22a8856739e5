"""Accuracy of the branch-free exp and log1p against NumPy, in ulps."""

import numpy as np
import pytest

from fusedlogit._config import jit
from fusedlogit.kernels.vecmath import exp_nonpositive, log1p_unit, log_at_least_one


@jit
def _map_exp(x, out):
    for i in range(x.size):
        out[i] = exp_nonpositive(x[i])


@jit
def _map_log1p(x, out):
    for i in range(x.size):
        out[i] = log1p_unit(x[i], 1.0 / (1.0 + x[i]))


@jit
def _map_log(x, out):
    for i in range(x.size):
        out[i] = log_at_least_one(x[i])


def ulp_error(got, ref):
    """|got − ref| in units of the spacing at ref (subnormal spacing at 0)."""
    return np.abs(got - ref) / np.spacing(np.abs(ref))


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(2024)


def test_exp_nonpositive_within_two_ulp(rng):
    x = np.concatenate(
        [
            -rng.uniform(0, 745, 2_000_000),
            -rng.exponential(1.0, 1_000_000),
            -np.logspace(-300, np.log10(745.1), 200_000),
            -np.arange(0, 746, 0.25),
            [0.0, -0.0, -5e-324, -1e-300, -708.39, -708.4, -744.44, -745.13, -745.2, -746, -1000, -1e308, -np.inf],
        ]
    )
    got = np.empty_like(x)
    _map_exp(x, got)
    ref = np.exp(x)
    assert ulp_error(got, ref).max() <= 2
    assert (got[x < -745.2] == 0).all()
    assert (got[x == 0] == 1.0).all()


def test_log1p_unit_within_two_ulp(rng):
    t = np.concatenate(
        [
            rng.random(2_000_000),
            np.exp(-rng.uniform(0, 745, 1_000_000)),
            np.logspace(-323, 0, 200_000),
            np.sqrt(2) - 1 + np.linspace(-1e-12, 1e-12, 1001),
            [0.0, 5e-324, 1e-308, 1e-17, 1.1e-16, 2.2e-16, 1e-8, 0.5, 1.0],
        ]
    )
    got = np.empty_like(t)
    _map_log1p(t, got)
    ref = np.log1p(t)
    assert ulp_error(got, ref).max() <= 2
    assert (got[t == 0] == 0.0).all()


def test_log_at_least_one_within_two_ulp(rng):
    x = np.concatenate(
        [
            rng.uniform(1, 60, 1_000_000),  # the softmax's sums: 1 ≤ Σ_k e^{z_k − max} ≤ K
            np.exp(rng.uniform(0, 709, 500_000)),
            1 + rng.exponential(1e-10, 100_000),
            [1.0, np.nextafter(1.0, 2.0), 2.0, np.nextafter(2.0, 0.0), np.sqrt(2.0), 3.0, 1e300, 1.7e308],
        ]
    )
    out = np.empty_like(x)
    _map_log(x, out)
    ref = np.log(x)
    exact = ref == 0
    assert np.all(out[exact] == 0.0)
    assert ulp_error(out[~exact], ref[~exact]).max() <= 2.0
