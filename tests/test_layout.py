"""``Layout``: where each coefficient of a model lies in the flat vector."""

import numpy as np
import pytest

import fusedlogit
from fusedlogit.layout import Layout


@pytest.mark.parametrize("rows, d, intercept", [(1, 4, True), (1, 4, False), (3, 2, True), (3, 2, False)])
def test_views_and_indices_agree_with_the_flat_order(rows, d, intercept):
    layout = Layout(rows, d, intercept)
    assert layout.width == d + intercept and layout.n_coef == rows * (d + intercept)
    flat = np.arange(layout.n_coef, dtype=np.float64)
    for k in range(rows):
        for j in range(d):
            assert layout.features(flat)[k, j] == k * layout.width + j
        assert layout.intercepts(flat)[k] == (k * layout.width + d if intercept else 0.0)
    stack = np.stack([flat, -flat])  # a stack of flat vectors: (2, n_coef) -> (2, rows, ...)
    np.testing.assert_array_equal(layout.features(stack)[1], -layout.features(flat))
    chosen = np.array([d - 1, 0]) if d > 1 else np.array([0])
    index = layout.flat_index(np.sort(chosen))
    expected = [k * layout.width + j for k in range(rows) for j in list(np.sort(chosen)) + ([d] if intercept else [])]
    np.testing.assert_array_equal(index, expected)
    np.testing.assert_array_equal(layout.flat_index(), np.arange(layout.n_coef))
    v = np.linspace(-3.0, 2.0, layout.n_coef)
    np.testing.assert_array_equal(layout.largest_by_feature(v), np.abs(layout.features(v)).max(axis=0))
    features = layout.features(flat)
    features[0, 0] = 99.0  # a view
    assert flat[0] == 99.0


def test_objectives_carry_their_layout():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    binary = fusedlogit.LogisticLoss(X, (rng.random(30) < 0.5).astype(float), fit_intercept=False)
    assert binary.layout == Layout(1, 3, False) and binary.n_coef == 3
    multinomial = fusedlogit.MultinomialLoss(X, np.arange(30) % 4)
    assert multinomial.layout == Layout(4, 3, True) and multinomial.n_coef == 16
