"""Ordinal (proportional-odds) sums over samples: one pass over X for K ordered levels.

For row i of level k with margin η_i = x_i·w + o_i and thresholds
θ_0 < … < θ_{K−2} (θ_{−1} = −∞, θ_{K−1} = +∞), P(y ≤ k) = σ(θ_k − η) and::

    u = θ_k − η,   l = θ_{k−1} − η,   δ = u − l > 0
    P(y = k) = σ(u) − σ(l) = σ(u) σ(−l) (1 − e^{−δ})
    ℓ_i = softplus(−u) + softplus(l) − log(1 − e^{−δ})
    a = ∂ℓ/∂u = −σ(−u) − e^{−δ}/(1 − e^{−δ}),   c = ∂ℓ/∂l = σ(l) + e^{−δ}/(1 − e^{−δ})
    ∂²ℓ/∂u² = σ'(u) + q,   ∂²ℓ/∂l² = σ'(l) + q,   ∂²ℓ/∂u∂l = −q,   q = e^{−δ}/(1 − e^{−δ})²

(the terms of a bound that does not exist, u for the last level, l for the
first, are 0).  Since ∂u/∂η = ∂l/∂η = −1 and u, l move with θ_k, θ_{k−1}::

    ∇_w Σ s_i ℓ_i = Xᵀ r,  r_i = −s_i (a_i + c_i);   ∂/∂θ_t = Σ_{k_i = t} s_i a_i + Σ_{k_i = t + 1} s_i c_i

and a Hessian product (v, φ) goes the same way with (a, c) replaced by the
(u, l) Hessian times (φ_k − x·v, φ_{k−1} − x·v).  Every formula is finite for
any margin.  Dense X goes by blocks of rows as in ``dense`` (its margin and
scatter sweeps), CSR X by its rows' nonzeros as in ``csr``; the per-row terms
run between the two while the block is in cache, so X is read once.
Accumulators are [gradient of w (d), of the thresholds (K − 1), loss], and
the parallel layout is that of ``chunks``: bitwise identical results for any
thread count.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._config import jit, pjit
from .chunks import partition, reduce_chunks
from .csr import BLOCK_ROWS, block_end, row_dot, row_scatter, sparse_partition
from .dense import block_accumulate, block_margin_pairs, block_margins, block_rows
from .vecmath import exp_nonpositive, log1p_unit


#: Rows of ``level_table``: per level k, its upper bound θ_k and lower bound θ_{k−1} (0 where missing), whether
#: it has them (1.0/0.0), e^{−δ}/(1 − e^{−δ}), log(1 − e^{−δ}) and q = e^{−δ}/(1 − e^{−δ})² (δ = θ_k − θ_{k−1};
#: 0 unless both bounds exist), and a direction φ's entries at those bounds (for Hessian products).
UPPER, LOWER, HAS_UPPER, HAS_LOWER, RATIO, LOG_REST, COUPLING, STEP_UPPER, STEP_LOWER = range(9)


@jit
def level_table(theta, phi):
    """(9, K): what each level's rows share, made once per call (rows: ``UPPER`` ...); ``phi`` may be empty.

    A row then gathers its level's entries and runs straight-line formulas
    (``block_level_residuals``, ``block_level_products``) in which a missing
    bound only multiplies by 0: no ±∞, no branch, no underflow, and LLVM
    vectorises them.
    """
    K = theta.shape[0] + 1
    table = np.zeros((9, K))
    table[UPPER, : K - 1] = theta
    table[LOWER, 1:] = theta
    table[HAS_UPPER, : K - 1] = 1.0
    table[HAS_LOWER, 1:] = 1.0
    for k in range(1, K - 1):
        delta = theta[k] - theta[k - 1]
        small = np.exp(-delta)
        rest = -np.expm1(-delta)  # 1 − e^{−δ}, accurate for small δ
        table[RATIO, k] = small / rest
        table[LOG_REST, k] = np.log(rest)
        table[COUPLING, k] = small / (rest * rest)
    if phi.shape[0] == K - 1:
        table[STEP_UPPER, : K - 1] = phi
        table[STEP_LOWER, 1:] = phi
    return table


@jit
def _gather_bounds(margins, codes, ob, table, scratch, rows):
    """scratch[0, i] = u_i = θ_k − η_i, scratch[1, i] = l_i = θ_{k−1} − η_i (η_i = margins[i] + o_i), and
    scratch[2 + j, i] = table[rows[j], k_i]: each row's level entries, gathered apart from the formulas so that
    their loop has no gather and vectorises."""
    for i in range(codes.shape[0]):
        k = np.uint64(codes[i])  # unsigned: no wraparound test in the gathers (see csr.row_dot)
        eta = margins[i] if ob is None else margins[i] + ob[i]
        scratch[0, i] = table[UPPER, k] - eta
        scratch[1, i] = table[LOWER, k] - eta
        for j in range(rows.shape[0]):
            scratch[2 + j, i] = table[rows[j], k]


#: what ``block_level_residuals`` and ``block_level_products`` gather besides u and l
_RESIDUAL_ROWS = np.array([HAS_UPPER, HAS_LOWER, RATIO, LOG_REST])
_PRODUCT_ROWS = np.array([HAS_UPPER, HAS_LOWER, COUPLING, STEP_UPPER, STEP_LOWER])


@jit
def block_level_residuals(buf, codes, sb, ob, table, want_loss, scratch, levels):
    """In place: buf[i] = x_i·w → r_i = −s_i (a_i + c_i); returns Σ s_i ℓ_i (0 unless ``want_loss``).

    With u, l a row's bounds and t = e^{−|·|} of each (a missing bound has
    has_* = 0 and adds nothing)::

        a = −has_u σ(−u) − e^{−δ}/(1 − e^{−δ}),   c = has_l σ(l) + e^{−δ}/(1 − e^{−δ})
        ℓ = has_u softplus(−u) + has_l softplus(l) − log(1 − e^{−δ})

    ``levels`` (K + 1,) gets s_i a_i at k_i + 1 and s_i c_i at k_i: entry t + 1
    collects ∂/∂θ_t.  Three loops: the gather (``_gather_bounds``, into
    ``scratch`` (6, m)), the formulas (straight-line: vectorised), the scatter.
    """
    m = codes.shape[0]
    _gather_bounds(buf, codes, ob, table, scratch, _RESIDUAL_ROWS)
    loss_sum = 0.0
    for i in range(m):
        s = 1.0 if sb is None else sb[i]
        u = scratch[0, i]
        l = scratch[1, i]
        tu = exp_nonpositive(-abs(u))
        iu = 1.0 / (1.0 + tu)
        tl = exp_nonpositive(-abs(l))
        il = 1.0 / (1.0 + tl)
        a = -scratch[2, i] * (tu * iu if u >= 0.0 else iu) - scratch[4, i]  # σ(−u)
        c = scratch[3, i] * (il if l >= 0.0 else tl * il) + scratch[4, i]  # σ(l)
        if want_loss:
            loss_sum += s * (scratch[2, i] * (max(-u, 0.0) + log1p_unit(tu, iu))
                             + scratch[3, i] * (max(l, 0.0) + log1p_unit(tl, il)) - scratch[5, i])
        scratch[0, i] = s * a
        scratch[1, i] = s * c
        buf[i] = -s * (a + c)
    _scatter_by_level(codes, scratch, levels)
    return loss_sum


@jit
def _scatter_by_level(codes, scratch, levels):
    """levels[k_i + 1] += scratch[0, i] (θ_k's part), levels[k_i] += scratch[1, i] (θ_{k−1}'s)."""
    for i in range(codes.shape[0]):
        k = np.uint64(codes[i])
        levels[k + np.uint64(1)] += scratch[0, i]
        levels[k] += scratch[1, i]


@jit
def block_level_products(zbuf, ubuf, codes, sb, ob, table, scratch, levels):
    """In place: ubuf[i] = x_i·v → −s_i (g_u + g_l), the (u, l) Hessian of the row times (φ_k − x·v, φ_{k−1} − x·v)::

        ∂²ℓ/∂u² = has_u σ'(u) + q,   ∂²ℓ/∂l² = has_l σ'(l) + q,   ∂²ℓ/∂u∂l = −q,   σ' = t/(1 + t)²

    φ from ``table``; ``levels`` and the three loops as in ``block_level_residuals`` (``scratch`` (7, m)).
    """
    m = codes.shape[0]
    _gather_bounds(zbuf, codes, ob, table, scratch, _PRODUCT_ROWS)
    for i in range(m):
        s = 1.0 if sb is None else sb[i]
        tu = exp_nonpositive(-abs(scratch[0, i]))
        iu = 1.0 / (1.0 + tu)
        tl = exp_nonpositive(-abs(scratch[1, i]))
        il = 1.0 / (1.0 + tl)
        q = scratch[4, i]
        du = scratch[5, i] - ubuf[i]
        dl = scratch[6, i] - ubuf[i]
        gu = s * ((scratch[2, i] * tu * iu * iu + q) * du - q * dl)
        gl = s * ((scratch[3, i] * tl * il * il + q) * dl - q * du)
        scratch[0, i] = gu
        scratch[1, i] = gl
        ubuf[i] = -(gu + gl)
    _scatter_by_level(codes, scratch, levels)


@jit
def _loss_and_gradient(total, d, K):
    """(loss, [grad_w, grad_θ]) from an accumulator [grad_w (d), levels (K + 1), loss]."""
    grad = np.empty(d + K - 1)
    grad[:d] = total[:d]
    grad[d:] = total[d + 1 : d + K]
    return total[d + K + 1], grad


# -- dense X ------------------------------------------------------------------------------------


@pjit
def ordinal_loss_gradient_sums(X, codes, sample_weight, offset, w, theta, want_loss, want_grad):
    """(Σ s_i ℓ_i, [Xᵀ r (d), threshold sums (K − 1)]) in one pass over dense X."""
    n, d = X.shape
    K = theta.shape[0] + 1
    n_chunks, chunk = partition(n)
    block = block_rows(d, X.itemsize)
    table = level_table(theta, np.empty(0))
    acc = np.zeros((n_chunks, d + K + 2))  # [grad_w..., levels (K + 1, see block_level_residuals), loss]
    for c in prange(n_chunks):
        part = acc[c]
        buf = np.empty(block)
        scratch = np.empty((6, block))
        end = min(n, (c + 1) * chunk)
        for start in range(c * chunk, end, block):
            stop = min(start + block, end)
            Xb = X[start:stop]
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            block_margins(Xb, w, 0.0, buf)
            part[d + K + 1] += block_level_residuals(buf, codes[start:stop], sb, ob, table, want_loss, scratch,
                                                     part[d : d + K + 1])
            if want_grad:
                block_accumulate(Xb, buf, part)
    return _loss_and_gradient(reduce_chunks(acc), d, K)


@pjit
def ordinal_hessp_sums(X, codes, sample_weight, offset, w, theta, v, phi):
    """The Hessian's sums times (v, φ), [w part (d), thresholds (K − 1)], in one pass over dense X."""
    n, d = X.shape
    K = theta.shape[0] + 1
    n_chunks, chunk = partition(n)
    block = block_rows(d, X.itemsize)
    table = level_table(theta, phi)
    acc = np.zeros((n_chunks, d + K + 2))
    for c in prange(n_chunks):
        part = acc[c]
        zbuf = np.empty(block)
        ubuf = np.empty(block)
        scratch = np.empty((7, block))
        end = min(n, (c + 1) * chunk)
        for start in range(c * chunk, end, block):
            stop = min(start + block, end)
            Xb = X[start:stop]
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            block_margin_pairs(Xb, w, 0.0, v, 0.0, zbuf, ubuf)
            block_level_products(zbuf, ubuf, codes[start:stop], sb, ob, table, scratch, part[d : d + K + 1])
            block_accumulate(Xb, ubuf, part)
    return _loss_and_gradient(reduce_chunks(acc), d, K)[1]


# -- CSR X --------------------------------------------------------------------------------------


@pjit
def csr_ordinal_loss_gradient_sums(data, indices, indptr, d, codes, sample_weight, offset, w, theta, want_loss,
                                   want_grad):
    """``ordinal_loss_gradient_sums`` for CSR X: one pass over the nonzeros."""
    n = indptr.shape[0] - 1
    K = theta.shape[0] + 1
    n_chunks, chunk = sparse_partition(n, d + K + 2, indptr[n])
    table = level_table(theta, np.empty(0))
    acc = np.zeros((n_chunks, d + K + 2))
    for c in prange(n_chunks):
        part = acc[c]
        buf = np.empty(BLOCK_ROWS)
        scratch = np.empty((6, BLOCK_ROWS))
        start = c * chunk
        end = min(n, (c + 1) * chunk)
        while start < end:
            stop = block_end(indptr, start, end)
            for i in range(start, stop):
                buf[i - start] = row_dot(data, indices, indptr[i], indptr[i + 1], w, 0.0)
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            part[d + K + 1] += block_level_residuals(buf, codes[start:stop], sb, ob, table, want_loss, scratch,
                                                     part[d : d + K + 1])
            if want_grad:
                for i in range(start, stop):
                    row_scatter(data, indices, indptr[i], indptr[i + 1], buf[i - start], part)
            start = stop
    return _loss_and_gradient(reduce_chunks(acc), d, K)


@pjit
def csr_ordinal_hessp_sums(data, indices, indptr, d, codes, sample_weight, offset, w, theta, v, phi):
    """``ordinal_hessp_sums`` for CSR X."""
    n = indptr.shape[0] - 1
    K = theta.shape[0] + 1
    n_chunks, chunk = sparse_partition(n, d + K + 2, indptr[n])
    table = level_table(theta, phi)
    acc = np.zeros((n_chunks, d + K + 2))
    for c in prange(n_chunks):
        part = acc[c]
        zbuf = np.empty(BLOCK_ROWS)
        ubuf = np.empty(BLOCK_ROWS)
        scratch = np.empty((7, BLOCK_ROWS))
        start = c * chunk
        end = min(n, (c + 1) * chunk)
        while start < end:
            stop = block_end(indptr, start, end)
            for i in range(start, stop):
                zbuf[i - start] = row_dot(data, indices, indptr[i], indptr[i + 1], w, 0.0)
                ubuf[i - start] = row_dot(data, indices, indptr[i], indptr[i + 1], v, 0.0)
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            block_level_products(zbuf, ubuf, codes[start:stop], sb, ob, table, scratch, part[d : d + K + 1])
            for i in range(start, stop):
                row_scatter(data, indices, indptr[i], indptr[i + 1], ubuf[i - start], part)
            start = stop
    return _loss_and_gradient(reduce_chunks(acc), d, K)[1]
