"""Branch-free exp and log1p on the ranges the logistic loss needs.

Numba has no vector math library here, so ``np.exp``/``np.log1p`` run one
scalar libm call per element and dominate the kernels at small d.  These two
functions use only +, ×, ÷, floor, compare-select and an integer→float bit
cast, which LLVM vectorises across the rows of a block.

Accuracy (checked by ``tests/test_vecmath.py`` against NumPy on millions of
points, both tails included): ``exp_nonpositive`` within 2 ulp on [−745, 0]
and exactly 0 below the underflow threshold; ``log1p_unit`` within 2 ulp on
[0, 1].  They are compiled without ``reassoc`` so LLVM cannot undo the
Cody–Waite split or reorder the polynomials.
"""

from __future__ import annotations

import numpy as np

from .._config import jit_exact

LOG2E = 1.4426950408889634
# ln 2 split so that k·LN2_HI is exact for |k| < 2^11 (Cody–Waite reduction)
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
SQRT2 = 1.4142135623730951


#: 1.5·2^52: for an integer-valued |k| < 2^51, k + ROUNDER holds k in its low
#: mantissa bits, so bits(k + ROUNDER) − bits(ROUNDER) = k with no float→int
#: conversion (AVX2 has none for four doubles; LLVM would go scalar).
ROUNDER = 6755399441055744.0
ROUNDER_BITS = int(np.float64(ROUNDER).view(np.int64))


@jit_exact
def _pow2(k):
    """2^k for an integer-valued float k in [−1022, 1023], by building the bits."""
    k_int = np.float64(k + ROUNDER).view(np.int64) - ROUNDER_BITS
    return np.int64((k_int + 1023) << 52).view(np.float64)


@jit_exact
def exp_nonpositive(x):
    """e^x for x ≤ 0.

    x = k·ln2 + r with k = round(x/ln2), |r| ≤ ln2/2; e^r by its Taylor series
    to r^13 (truncation < 4e-18 relative); 2^k applied as 2^(k−⌊k/2⌋)·2^⌊k/2⌋
    so that results down to the smallest subnormal come out right.

    The series is split as 1 + r + r²/2 + r³/6 (Horner) + r⁴·(1/4! + r/5! + … + r⁹/13!)
    with the tail by Estrin's scheme: its rounding errors are scaled by
    r⁴/4! < 6e-4, so the result is as accurate as plain Horner, while the
    chain of dependent multiply-adds is half as long (1.4× the throughput).
    """
    x = max(x, -746.0)
    k = np.floor(x * LOG2E + 0.5)
    r = (x - k * LN2_HI) - k * LN2_LO
    r2 = r * r
    r4 = r2 * r2
    c4 = 1.0 / 24.0 + r * (1.0 / 120.0)
    c6 = 1.0 / 720.0 + r * (1.0 / 5040.0)
    c8 = 1.0 / 40320.0 + r * (1.0 / 362880.0)
    c10 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0)
    c12 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0)
    tail = (c4 + r2 * c6) + r4 * ((c8 + r2 * c10) + r4 * c12)
    head = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0)))
    p = head + r4 * tail
    half = np.floor(k * 0.5)
    return p * _pow2(k - half) * _pow2(half)


@jit_exact
def log1p_unit(t, inv_u):
    """log(1 + t) for 0 ≤ t ≤ 1, given inv_u = 1/(1 + t) (the caller's σ needs it too).

    u = 1 + t is rounded; c = (t − (u − 1))·inv_u restores what the rounding lost.
    u = 2^e·m with m ∈ [√½, √2) and f = m − 1; then with s = f/(2 + f),
    log(1 + f) = 2·atanh(s) = 2s + 2s³/3 + 2s⁵/5 + …, |s| ≤ 0.172, summed to s²³.
    """
    u = 1.0 + t
    c = (t - (u - 1.0)) * inv_u
    e = np.float64(u > SQRT2)  # 0 or 1, as arithmetic so the loop stays branch-free
    f = u * (1.0 - 0.5 * e) - 1.0
    s = f / (2.0 + f)
    s2 = s * s
    q = 2.0 / 23.0
    q = q * s2 + 2.0 / 21.0
    q = q * s2 + 2.0 / 19.0
    q = q * s2 + 2.0 / 17.0
    q = q * s2 + 2.0 / 15.0
    q = q * s2 + 2.0 / 13.0
    q = q * s2 + 2.0 / 11.0
    q = q * s2 + 2.0 / 9.0
    q = q * s2 + 2.0 / 7.0
    q = q * s2 + 2.0 / 5.0
    q = q * s2 + 2.0 / 3.0
    return e * LN2_HI + ((2.0 * s + s * (s2 * q)) + (e * LN2_LO + c))


@jit_exact
def log_at_least_one(x):
    """log x for 1 ≤ x < 2^1023 (the softmax's Σ_k e^{z_k − max z}).

    x = 2^e·m with m ∈ [1, 2) read from the bits, then e·ln 2 + log(1 + (m − 1))
    by ``log1p_unit`` (m − 1 is exact), ln 2 split hi/lo as there.
    """
    bits = np.float64(x).view(np.int64)
    e = np.int64(ROUNDER_BITS + ((bits >> 52) - 1023)).view(np.float64) - ROUNDER  # the exponent, as _pow2 reads k
    m = np.int64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000).view(np.float64)
    return e * LN2_HI + (log1p_unit(m - 1.0, 1.0) + e * LN2_LO)  # 1 + (m − 1) = m exactly: no rounding to restore
