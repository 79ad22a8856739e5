"""Bad input gets a ValueError naming the argument."""

import re

import numpy as np
import pytest

from conftest import random_problem
import fusedlogit
from fusedlogit import LogisticLoss


@pytest.fixture
def data(rng):
    return random_problem(rng, n=50, d=3, weights=True)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize(
    "change,match",
    [
        (lambda X, y, sw: (np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X), y, sw), "X contains NaN"),
        (lambda X, y, sw: (np.where(np.arange(X.size).reshape(X.shape) == 7, np.inf, X), y, sw), "X contains NaN"),
        (lambda X, y, sw: (X, np.r_[y[:-1], np.nan], sw), "y contains NaN"),
        (lambda X, y, sw: (X, y, np.r_[sw[:-1], np.inf]), "sample_weight contains NaN"),
        (lambda X, y, sw: (X, np.r_[y[:-1], 2.0], sw), "y must lie in"),
        (lambda X, y, sw: (X, np.r_[y[:-1], -0.5], sw), "y must lie in"),
        (lambda X, y, sw: (X, y, np.r_[sw[:-1], -1.0]), "sample_weight must be non-negative"),
        (lambda X, y, sw: (X, y[:-1], sw), "y has 49 entries"),
        (lambda X, y, sw: (X, y, sw[:-1]), "sample_weight has 49 entries"),
        (lambda X, y, sw: (X[0], y, sw), "X must be a 2-D"),
        (lambda X, y, sw: (X[None], y, sw), "X must be a 2-D"),
        (lambda X, y, sw: (X, y[:, None], sw), "y must be a 1-D"),
        (lambda X, y, sw: (X[:0], y[:0], None), "X has no rows"),
        (lambda X, y, sw: (X.astype(complex), y, sw), "X must hold real"),
        (lambda X, y, sw: (X, y, np.zeros_like(sw)), "sample_weight sums to zero"),
    ],
)
def test_bad_data(data, backend, change, match):
    X, y, sw = change(*data)
    with pytest.raises(ValueError, match=match):
        LogisticLoss(X, y, sample_weight=sw, backend=backend)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"backend": "cuda"}, "backend"),
        ({"reduction": "median"}, "reduction"),
        ({"l2": -1.0}, "l2"),
        ({"l2": np.nan}, "l2"),
        ({"n_threads": 0}, "n_threads"),
        ({"n_threads": 1.5}, "n_threads"),
        ({"n_threads": 10**6}, "n_threads"),
    ],
)
def test_bad_options(data, kwargs, match):
    X, y, sw = data
    with pytest.raises(ValueError, match=match):
        LogisticLoss(X, y, sample_weight=sw, **kwargs)


@pytest.mark.parametrize("fit_intercept,good", [(True, 4), (False, 3)])
def test_coef_of_wrong_length(data, fit_intercept, good):
    X, y, sw = data
    obj = LogisticLoss(X, y, sample_weight=sw, fit_intercept=fit_intercept)
    obj.loss(np.zeros(good))
    for bad in (np.zeros(good - 1), np.zeros(good + 1), np.zeros((good, 1))):
        for call in (obj.loss, obj.gradient, obj.loss_gradient, obj.hessian):
            with pytest.raises(ValueError, match="coef must have shape"):
                call(bad)
        with pytest.raises(ValueError, match="v must have shape"):
            obj.hessp(np.zeros(good), bad)


def test_sum_reduction_allows_zero_weights(data):
    X, y, sw = data
    obj = LogisticLoss(X, y, sample_weight=np.zeros_like(sw), reduction="sum")
    assert obj.loss(np.ones(4)) == 0.0


def test_a_missing_extra_names_the_pip_install_line():
    """Without scikit-learn, ``import fusedlogit.sklearn`` says which extra to install."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "try:\n"
        "    import fusedlogit.sklearn\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc, '|', exc.name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'pip install "fusedlogit[sklearn]"' in done.stdout and "scikit-learn" in done.stdout
    assert done.stdout.strip().split("| ")[-1].split(".")[0] == "sklearn"  # exc.name kept for tools that read it


def test_not_finite_values_are_located_by_row_and_column():
    import dask.array as da
    import pandas as pd
    import scipy.sparse as sp

    import fusedlogit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (rng.random(300) < 0.5).astype(float)
    X[217, 2] = np.inf
    X[250, 1] = np.nan
    frame = pd.DataFrame(X, columns=["age", "income", "score", "height"])
    for data, column in [(X, "column 2: inf"), (frame, "column 2 ('score'): inf"), (sp.csr_matrix(X), "column 2: inf"),
                         (da.from_array(X, chunks=(64, 4)), "column 2: inf")]:
        with pytest.raises(ValueError, match=re.escape(f"X contains NaN or infinity (first at row 217, {column})")):
            fusedlogit.fit(data, y)
    with pytest.raises(ValueError, match=re.escape("(first at row 217, column 2: inf)")):
        fusedlogit.fit_many(X, y, np.arange(300) % 3)
    weights = np.ones(300)
    weights[5] = np.nan
    with pytest.raises(ValueError, match=re.escape("sample_weight contains NaN or infinity (first at row 5: nan)")):
        fusedlogit.fit(np.nan_to_num(X), y, sample_weight=weights)


def test_an_arrow_table_gives_its_column_names():
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 2))
    y = (rng.random(300) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    table = pa.table({"age": X[:, 0], "income": X[:, 1]})
    assert fusedlogit.fit(table, y).feature_names == ("age", "income")  # not each column's printed values
    X[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"row 7, column 1 \('income'\)"):
        fusedlogit.fit(pa.table({"age": X[:, 0], "income": X[:, 1]}), y)
