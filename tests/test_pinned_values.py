"""Values of the objective pinned from before the backends were reorganised.

``PINNED`` was computed by the library as it stood on 2026-11-25 (the
single-module ``_kernels``/``_sparse_kernels``/``_reference`` layout), on the
CPU named below; every backend must agree with it to rounding (1e-12
relative) on any CPU.  ``EXACT_ON_CPU`` holds the fused kernels' values on
that CPU since ``exp_nonpositive`` sums its series in two parts (2026-12-04:
a few entries moved by one or two ulp).  They are compared to a few ulps,
not bitwise: the machine code (the vector width, so the order of the
reductions over rows, and FMA contraction) depends on the CPU Numba compiles
for and on the LLVM version, even on the CPU named (x86-64-v3 code reproduces
them bitwise, AVX-512 code is up to 6 ulp away).  Bitwise equality is promised
only within one process, across thread counts (``test_threads.py``).
"""

import numpy as np
import pytest
import scipy.sparse as sp

from fusedlogit import LogisticLoss

PINNED_ON_CPU = 'znver3'

PINNED = {
    'dense64_w_b': {
        'loss': 0.871569300169991,
        'grad': [-0.006034697985421588, -0.05087227231152563, -0.11742501725212198, 0.24412962700756696, 0.37119392842355353, 0.010195794384266866, 0.16126085774798493, 0.0956727778919235],
        'hessp': [0.07503019314818693, 0.009788731871708324, -0.37868811710324773, -0.4421656013448048, -0.4418434294349629, -1.20491785471881, -0.300309093583881, -0.08455535409904466],
        'hdiag': [0.04706728075355076, 0.16180814190708248, 0.31933020844085946, 0.4943030369049188, 0.7233585677559746, 1.3170538579097062, 1.630275964891495, 0.1882584141119107],
    },
    'dense32_nob': {
        'loss': 4406.481933693562,
        'grad': [-29.202132339040688, -238.82470689993832, -609.8162898464632, 1223.0476216297052, 1848.2289650734936, 77.64974327970927, 859.5442258257733],
        'hessp': [387.39708862479483, 32.93349684727775, -1851.5996482070127, -2198.363780297091, -2222.3048187317922, -5948.951666402045, -1496.1888442145653],
        'hdiag': [232.39829255330048, 787.7663437197632, 1578.8326179368346, 2481.022885743036, 3656.8934548581146, 6534.619473144084, 8256.734194522893],
    },
    'dense64_d2': {
        'loss': 0.6924543691093666,
        'grad': [-0.003852997263116232, -0.06272397599350522, 0.08507640491908917],
        'hessp': [0.09474354119370544, 0.03953943846503204, -0.11547791722122197],
        'hdiag': [0.0604801764418695, 0.20212621490594032, 0.24550728028094287],
    },
    'csr64_w': {
        'loss': 0.7415597414363014,
        'grad': [0.000960104169944495, -0.02419430033853143, -0.04398562044075163, 0.0840178395378547, 0.1156298082636617, 0.010047595823857431, 0.07779625316519237, 0.09370274229372708],
        'hessp': [0.04449052254356155, 0.014795101393419207, -0.11724632917109098, -0.18172857664600042, -0.16492191062009737, -0.46133284240493755, -0.12690445183839671, -0.11376741306505321],
        'hdiag': [0.02673039423770536, 0.06675854544355984, 0.11893148809776563, 0.1734401717386284, 0.22942867022118132, 0.49712512500365713, 0.5458157526971458, 0.2256816248465243],
    },
    'numpy64': {
        'loss': 0.8712943690054402,
        'grad': [-0.00603604189614516, -0.05059868540355504, -0.11707053785319366, 0.24371879638162725, 0.370785273437317, 0.010204171375391246, 0.16114465014254634, 0.09567277789192351],
        'hessp': [0.07343802153811077, 0.009578087363700425, -0.377769198698904, -0.44115829955003183, -0.4411422735180538, -1.2040267170026366, -0.3000786593900004, -0.08455535409904467],
        'hdiag': [0.046067280753550766, 0.16080814190708248, 0.3183302084408594, 0.4933030369049188, 0.7223585677559746, 1.3160538579097063, 1.6292759648914952, 0.18825841411191063],
    },
}


EXACT_ON_CPU = {
    'csr64_w': {
        'loss': 0.7415597414363014,
        'grad': [0.0009601041699444956, -0.02419430033853143, -0.04398562044075163, 0.0840178395378547, 0.1156298082636617, 0.010047595823857426, 0.07779625316519237, 0.09370274229372708],
        'hessp': [0.04449052254356155, 0.01479510139341921, -0.11724632917109098, -0.18172857664600042, -0.16492191062009737, -0.46133284240493755, -0.12690445183839671, -0.11376741306505321],
    },
    'dense32_nob': {
        'loss': 4406.481933693562,
        'grad': [-29.20213233904068, -238.8247068999383, -609.8162898464631, 1223.0476216297052, 1848.2289650734936, 77.64974327970927, 859.5442258257731],
        'hessp': [387.39708862479483, 32.933496847277745, -1851.5996482070127, -2198.363780297091, -2222.304818731792, -5948.951666402045, -1496.1888442145655],
    },
    'dense64_d2': {
        'loss': 0.6924543691093666,
        'grad': [-0.003852997263116231, -0.06272397599350522, 0.08507640491908917],
        'hessp': [0.09474354119370544, 0.03953943846503204, -0.11547791722122197],
    },
    'dense64_w_b': {
        'loss': 0.871569300169991,
        'grad': [-0.006034697985421588, -0.05087227231152563, -0.11742501725212198, 0.24412962700756696, 0.3711939284235535, 0.010195794384266873, 0.16126085774798493, 0.09567277789192351],
        'hessp': [0.07503019314818693, 0.009788731871708324, -0.37868811710324773, -0.4421656013448048, -0.4418434294349629, -1.20491785471881, -0.300309093583881, -0.08455535409904467],
    },
}


def _objectives():
    rng = np.random.default_rng(20261125)
    n, d = 5000, 7
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 3, d)
    y = (rng.random(n) < 0.4).astype(float)
    s = rng.uniform(0.1, 2.0, n)
    c = rng.standard_normal(d + 1) / 3
    v = rng.standard_normal(d + 1)
    Xs = X * (rng.random((n, d)) < 0.3)
    return {
        "dense64_w_b": (LogisticLoss(X, y, sample_weight=s, l2=1e-3), c, v),
        "dense32_nob": (
            LogisticLoss(X.astype(np.float32), y, fit_intercept=False, reduction="sum"),
            c[:-1],
            v[:-1],
        ),
        "dense64_d2": (LogisticLoss(X[:, :2], y), c[[0, 1, -1]], v[[0, 1, -1]]),
        "csr64_w": (LogisticLoss(sp.csr_matrix(Xs), y, sample_weight=s, l2=1e-2), c, v),
        "numpy64": (LogisticLoss(X, y, backend="numpy", sample_weight=s), c, v),
    }


@pytest.mark.parametrize("name", sorted(PINNED))
def test_objective_values_are_those_pinned(name):
    obj, c, v = _objectives()[name]
    loss, grad = obj.loss_gradient(c)
    got = {"loss": loss, "grad": grad, "hessp": obj.hessp(c, v), "hdiag": np.diag(obj.hessian(c))}
    for key, expected in PINNED[name].items():
        np.testing.assert_allclose(got[key], expected, rtol=1e-12, atol=1e-15, err_msg=f"{name} {key}")
    # The fused kernels (not BLAS: no Hessian here), to a few ulps of each vector's largest entry on
    # any CPU.  Summing n = 5000 rows in another order (SSE2, AVX2 and AVX-512 widths; with or
    # without FMA) moves a component by a few eps times the sum of |terms|, which is of the order
    # of that largest entry: measured up to 4.4 eps between znver3, emeraldrapids and generic
    # (SSE2) code.  32 eps leaves room for other CPUs and is still over 100x tighter than above.
    if name in EXACT_ON_CPU:
        for key, expected in EXACT_ON_CPU[name].items():
            expected = np.asarray(expected)
            atol = 32 * np.finfo(np.float64).eps * np.abs(expected).max()
            np.testing.assert_allclose(got[key], expected, rtol=0, atol=atol, err_msg=f"{name} {key}")
