"""fusedlogit.fit_many: one model per group, equal to separate fits, failures reported per group."""

import warnings

import numpy as np
import pytest
from test_jit import assert_same_minimiser, scipy_minimiser

import fusedlogit
from fusedlogit import ConvergenceWarning, fit_many
from fusedlogit import jit as fj


def grouped_problem(rng, sizes, d=3):
    """Rows of several groups, each with its own true coefficients, rows interleaved at random."""
    X = rng.standard_normal((sum(sizes), d))
    which = np.repeat(np.arange(len(sizes)), sizes)
    beta = rng.standard_normal((len(sizes), d))
    y = (rng.random(len(which)) < 1 / (1 + np.exp(-(X * beta[which]).sum(1)))).astype(float)
    perm = rng.permutation(len(which))
    return X[perm], y[perm], which[perm]


def stacked(result, g, fit_intercept):
    return np.r_[result.coef[g], result.intercept[g]] if fit_intercept else result.coef[g]


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.1])
def test_each_group_equals_its_own_fit(rng, fit_intercept, weighted, l2):
    X, y, which = grouped_problem(rng, [60, 150, 90, 200])
    labels = np.array([30, 10, 20, 40])[which]  # labels not in row order
    sw = rng.uniform(0, 2, len(y)) if weighted else None
    r = fit_many(X, y, labels, l2=l2, fit_intercept=fit_intercept, sample_weight=sw, tol=1e-10)
    np.testing.assert_array_equal(r.groups, [10, 20, 30, 40])
    assert r.converged.all() and not r.separated.any()
    assert r.coef.shape == (4, 3) and r.intercept.shape == (4,)
    if not fit_intercept:
        np.testing.assert_array_equal(r.intercept, 0.0)
    for g, label in enumerate(r.groups):
        rows = labels == label
        obj, ref = scipy_minimiser(X[rows], y[rows], None if sw is None else sw[rows], l2, fit_intercept)
        mine = stacked(r, g, fit_intercept)
        assert np.abs(obj.gradient(mine)).max() <= 1e-10
        assert_same_minimiser(obj, mine, ref)
        np.testing.assert_allclose(r.loss[g], obj.loss(mine), rtol=1e-13)
        f = fusedlogit.fit(
            X[rows], y[rows], sample_weight=None if sw is None else sw[rows], l2=l2, fit_intercept=fit_intercept, tol=1e-10
        )
        np.testing.assert_allclose(mine, np.r_[f.coef, f.intercept] if fit_intercept else f.coef, rtol=1e-6, atol=1e-8)
        assert 1 <= r.n_iter[g] <= 20


def test_string_labels_and_row_order_do_not_matter(rng):
    X, y, which = grouped_problem(rng, [80, 120, 100])
    names = np.array(["pear", "apple", "fig"])[which]
    r = fit_many(X, y, names)
    np.testing.assert_array_equal(r.groups, ["apple", "fig", "pear"])
    order = np.argsort(names, kind="stable")  # the same rows, grouped and sorted: the no-copy path
    r_sorted = fit_many(X[order], y[order], names[order])
    # Each group's rows reach the solver in the same order: identical results.
    np.testing.assert_array_equal(r.coef, r_sorted.coef)
    np.testing.assert_array_equal(r.intercept, r_sorted.intercept)
    as_list = fit_many(X, y, list(names))
    np.testing.assert_array_equal(as_list.coef, r.coef)


@pytest.mark.parametrize(
    "codes",
    [
        np.array([-100, 100, 27], dtype=np.int8),  # span 200 overflows int8: sorted in int64
        np.array([5, 2**40, -(2**40)], dtype=np.int64),  # span ≥ 2^16: comparison sort
        np.array([2**64 - 1, 2**63, 7], dtype=np.uint64),  # above the int64 range
        np.array([3, 1, 2], dtype=np.uint16),
    ],
)
def test_integer_labels_of_any_width_and_span(rng, codes):
    X, y, which = grouped_problem(rng, [70, 90, 80])
    labels = codes[which]
    r = fit_many(X, y, labels)
    np.testing.assert_array_equal(r.groups, np.sort(codes))
    assert r.groups.dtype == codes.dtype
    # The same rows under labels 0, 1, 2 in the same order give the same fits, row for row.
    rank = np.argsort(np.argsort(codes))
    same = fit_many(X, y, rank[which])
    np.testing.assert_array_equal(r.coef, same.coef)
    np.testing.assert_array_equal(r.intercept, same.intercept)


def test_thread_count_does_not_change_results(rng):
    X, y, which = grouped_problem(rng, [50] * 12)
    one = fit_many(X, y, which, n_threads=1)
    two = fit_many(X, y, which, n_threads=2)
    np.testing.assert_array_equal(one.coef, two.coef)
    np.testing.assert_array_equal(one.n_iter, two.n_iter)


def test_failed_groups_are_reported_without_aborting_others(rng):
    X, y, which = grouped_problem(rng, [100, 60, 60, 100, 40])
    y[which == 1] = 0.0  # one class only
    sep = which == 2
    y[sep] = (X[sep, 0] > 0).astype(float)  # perfectly separable
    sw = np.ones(len(y))
    sw[which == 4] = 0.0  # no weight at all
    with pytest.warns(ConvergenceWarning, match=r"3 of 5 groups did not converge \(2 of them separable"):
        r = fit_many(X, y, which, sample_weight=sw)
    np.testing.assert_array_equal(r.converged, [True, False, False, True, False])
    np.testing.assert_array_equal(r.separated, [False, True, True, False, False])
    assert np.isfinite(r.coef).all() and np.isfinite(r.intercept).all()
    assert np.isnan(r.loss[4]) and np.isfinite(r.loss[:4]).all()
    for g in (0, 3):  # the healthy groups are exactly as when fitted alone
        rows = which == g
        alone = fit_many(X[rows], y[rows], which[rows], sample_weight=sw[rows])
        np.testing.assert_array_equal(r.coef[g], alone.coef[0])
    # A penalty gives the separable group a finite minimiser, not the one-class group (its intercept is free).
    with pytest.warns(ConvergenceWarning, match="2 of 5"):
        penalised = fit_many(X, y, which, sample_weight=sw, l2=0.01)
    np.testing.assert_array_equal(penalised.converged, [True, False, True, True, False])
    np.testing.assert_array_equal(penalised.separated, [False, True, False, False, False])


def test_no_warning_when_all_converge(rng):
    X, y, which = grouped_problem(rng, [100, 100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_many(X, y, which)


def test_float32_kept_and_close_to_float64(rng):
    X, y, which = grouped_problem(rng, [120, 150])
    r32 = fit_many(X.astype(np.float32), y, which)
    r64 = fit_many(X.astype(np.float32).astype(np.float64), y, which)
    np.testing.assert_allclose(r32.coef, r64.coef, rtol=1e-8, atol=1e-10)


def test_iteration_limit_reported(rng):
    X, y, which = grouped_problem(rng, [100, 100])
    with pytest.warns(ConvergenceWarning, match="2 of 2"):
        r = fit_many(X, y, which, max_iter=1, tol=1e-14)
    np.testing.assert_array_equal(r.n_iter, [1, 1])
    assert not r.converged.any() and not r.separated.any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(groups=np.zeros((10, 1))), "groups must be a 1-D"),
        (dict(groups=np.zeros(9)), "groups has 9 entries"),
        (dict(groups=np.r_[np.zeros(9), np.nan]), "groups contains NaN"),
        (dict(tol=0.0), "tol"),
        (dict(max_iter=0), "max_iter"),
        (dict(l2=-1.0), "l2"),
        (dict(n_threads=0), "n_threads"),
        (dict(y=np.full(10, 2.0)), r"y must lie in \[0, 1\]"),
        (dict(X=np.full((10, 2), np.nan)), "X contains NaN"),
        (dict(sample_weight=-np.ones(10)), "sample_weight must be non-negative"),
    ],
)
def test_invalid_arguments_raise_like_logistic_loss(kwargs, match):
    args = dict(X=np.zeros((10, 2)), y=np.zeros(10), groups=np.zeros(10))
    args.update(kwargs)
    X, y, groups = args.pop("X"), args.pop("y"), args.pop("groups")
    with pytest.raises(ValueError, match=match):
        fit_many(X, y, groups, **args)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_non_finite_value_in_one_group_raises(rng, bad, dtype):
    # X's values are checked as each group is gathered: one bad entry in one
    # group of many, with interleaved labels, must still be found.
    X, y, which = grouped_problem(rng, [60, 70, 80, 90])
    order = rng.permutation(len(y))
    X, y, which = X[order].astype(dtype), y[order], which[order]
    X[int(np.flatnonzero(which == 2)[-1]), 1] = bad
    before = X.copy()
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        fit_many(X, y, which, l2=0.1)
    np.testing.assert_array_equal(X, before)


def test_counting_order_is_a_stable_sort(rng):
    keys = rng.integers(0, 37, size=5000)
    keys[::7] = 36  # a key of many ties
    order = np.empty(len(keys), dtype=np.int64)
    counts = fj.counting_order(keys + 5, np.int64(5), 40, order)
    np.testing.assert_array_equal(order, np.argsort(keys, kind="stable"))
    np.testing.assert_array_equal(counts, np.bincount(keys, minlength=40))


def test_large_label_span_takes_the_comparison_sort(rng):
    # Labels spanning more than n + 2^16 values are not counted but sorted.
    X, y, which = grouped_problem(rng, [50, 60, 70])
    wide = np.array([0, 10**6, 2 * 10**6])[which]
    r = fit_many(X, y, wide, l2=0.1)
    same = fit_many(X, y, which, l2=0.1)
    np.testing.assert_array_equal(r.groups, [0, 10**6, 2 * 10**6])
    np.testing.assert_array_equal(r.coef, same.coef)


def _separation_cases():
    rng = np.random.default_rng(0)
    n = 200
    x = rng.standard_normal((n, 2))
    y_sep = (x[:, 0] > 0).astype(float)
    x_quasi = x.copy()
    x_quasi[:10, 0] = 0.0
    y_quasi = y_sep.copy()
    y_quasi[:10] = rng.random(10) < 0.5
    g = rng.standard_normal(n)
    x_gap = np.column_stack([np.sign(g) * (3 + np.abs(g)), rng.standard_normal(n)])
    return {
        "separable": (x, y_sep, (3, 100)),
        "quasi-separable": (x_quasi, y_quasi, (3, 100)),
        "overlapping": (x, (rng.random(n) < 1 / (1 + np.exp(-x[:, 0]))).astype(float), (3, 100)),
        "duplicated column": (np.column_stack([x_quasi[:, 0], x_quasi[:, 0], x[:, 1]]), y_quasi, (3, 100)),
        # not converged after 18 steps but every row saturated: the test's fallback
        "wide gap": (x_gap, (g > 0).astype(float), (15, 18, 21)),
    }


@pytest.mark.parametrize("case", sorted(_separation_cases()))
def test_fit_and_fit_many_flag_separation_alike(case):
    """One Newton: fit's SeparationWarning and fit_many's ``separated`` come from the same test."""
    from fusedlogit import SeparationWarning, fit

    X, y, limits = _separation_cases()[case]
    flags = []
    for max_iter in limits:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit(X, y, max_iter=max_iter)
        by_fit = any(issubclass(w.category, SeparationWarning) for w in caught)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            by_many = bool(fit_many(X, y, np.zeros(len(y), int), max_iter=max_iter).separated[0])
        assert by_fit == by_many, (case, max_iter)
        flags.append(by_fit)
    # (one class: fit refuses it, fit_many flags it; see test_edges_solvers.py)
    expected = {"separable": [False, True], "overlapping": [False, False]}
    expected["wide gap"] = [False, True, True]
    if case in expected:
        assert flags == expected[case]
