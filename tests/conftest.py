import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def random_problem(rng, n=300, d=5, dtype=np.float64, weights=False, soft=False):
    X = rng.standard_normal((n, d)).astype(dtype)
    y = rng.random(n) if soft else (rng.random(n) < 0.4).astype(np.float64)
    sw = rng.uniform(0, 3, n) if weights else None
    return X, y, sw
