"""Row-block kernels for dense X: the fast path, one pass over X per call.

Contract in ``fusedlogit.kernels``: validated C-contiguous float32/float64 X,
unscaled sums over samples, gradients of length d + 1 with the intercept last.
Parallel layout in ``chunks`` (fixed row partition, ordered reduction).

Inside a chunk, rows go through cache-sized blocks in three sweeps: margins
z = X_b w + b, then the per-sample transform z → r (``pointwise``, vectorised),
then X_b^T r, while the block is still in L1/L2.  X is read from memory once.
The last sweep takes four rows at a time: one read-modify-write of the
accumulator per four rows instead of per row; so does the first sweep for
d ≤ 16.  Blocks of d ≤ 4 features use sweeps compiled for their exact d
instead, which keep the accumulators in registers.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._config import jit, pjit
from .chunks import partition, reduce_chunks
from .pointwise import block_curvature_products, block_residuals, sample_curvature

#: Bytes of X per cache block (fits in a per-core L2 with room to spare).
BLOCK_BYTES = 64 * 1024


@jit
def block_rows(d, itemsize):
    return max(4, min(1024, BLOCK_BYTES // max(1, d * itemsize)))


# -- sweeps over one block of rows ----------------------------------------------
# Each takes the block as its own views (rows 0..m−1), so every index is a
# non-negative loop counter and LLVM emits plain vector loads, not gathers.


#: Blocks of at most this many features use sweeps compiled for their exact
#: d: each row's features are then named registers and LLVM vectorises
#: across rows (in cache, margins 1.6–5× and X_b^T r 3.5–11× faster than the
#: general loops at d = 1..4 on the development machine).
SMALL_D_MAX = 4


def _exact_d_sweeps(D):
    """(margins, accumulate) for blocks of exactly D ≤ SMALL_D_MAX features.

    The block is read as one flat array with the literal stride D; each
    ``if D > j`` is decided at compile time.

    Each pair gets names of its own (``margins_d2``...) before it is compiled:
    Numba names machine code by qualified name and a counter of its process,
    so closures sharing one name, compiled in different processes and loaded
    from the on-disk cache into one, could share a symbol, and a caller then
    ran the sweep of another D (a wrong-size reshape, seen in CI).
    """

    def margins(Xb, w, b, out):
        m = Xb.shape[0]
        flat = Xb.reshape(m * D)
        w0 = w[0]
        w1 = w[min(1, D - 1)]
        w2 = w[min(2, D - 1)]
        w3 = w[min(3, D - 1)]
        for i in range(m):
            q = i * D
            z = b + flat[q] * w0
            if D > 1:
                z += flat[q + 1] * w1
            if D > 2:
                z += flat[q + 2] * w2
            if D > 3:
                z += flat[q + 3] * w3
            out[i] = z

    def accumulate(Xb, r, acc):
        m = Xb.shape[0]
        flat = Xb.reshape(m * D)
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        for i in range(m):
            q = i * D
            a0 += r[i] * flat[q]
            if D > 1:
                a1 += r[i] * flat[q + 1]
            if D > 2:
                a2 += r[i] * flat[q + 2]
            if D > 3:
                a3 += r[i] * flat[q + 3]
        acc[0] += a0
        if D > 1:
            acc[1] += a1
        if D > 2:
            acc[2] += a2
        if D > 3:
            acc[3] += a3

    for function in (margins, accumulate):
        function.__name__ = f"{function.__name__}_d{D}"
        function.__qualname__ = f"_exact_d_sweeps.{function.__name__}"
    return jit(margins), jit(accumulate)


_margins_1, _accumulate_1 = _exact_d_sweeps(1)
_margins_2, _accumulate_2 = _exact_d_sweeps(2)
_margins_3, _accumulate_3 = _exact_d_sweeps(3)
_margins_4, _accumulate_4 = _exact_d_sweeps(4)


@jit
def small_d_margins(Xb, w, b, out):
    """``block_margins`` for 1 ≤ d ≤ SMALL_D_MAX, C-contiguous Xb."""
    d = Xb.shape[1]
    if d == 1:
        _margins_1(Xb, w, b, out)
    elif d == 2:
        _margins_2(Xb, w, b, out)
    elif d == 3:
        _margins_3(Xb, w, b, out)
    else:
        _margins_4(Xb, w, b, out)


@jit
def small_d_accumulate(Xb, r, acc):
    """``block_accumulate`` for 1 ≤ d ≤ SMALL_D_MAX, C-contiguous Xb."""
    d = Xb.shape[1]
    if d == 1:
        _accumulate_1(Xb, r, acc)
    elif d == 2:
        _accumulate_2(Xb, r, acc)
    elif d == 3:
        _accumulate_3(Xb, r, acc)
    else:
        _accumulate_4(Xb, r, acc)


#: Up to this d, margins are computed four rows at a time (four independent
#: short dot products hide the loop overhead); above it one row at a time,
#: which ran three times faster from main memory at d ≥ 96.
FOUR_ROW_MARGINS_MAX_D = 16


@jit
def block_margins(Xb, w, b, out):
    """out[i] = x_i·w + b for the rows of the block."""
    m, d = Xb.shape
    if 0 < d <= SMALL_D_MAX:
        small_d_margins(Xb, w, b, out)
        return
    i = 0
    if d <= FOUR_ROW_MARGINS_MAX_D:
        while i + 4 <= m:
            z0 = b
            z1 = b
            z2 = b
            z3 = b
            for j in range(d):
                wj = w[j]
                z0 += Xb[i, j] * wj
                z1 += Xb[i + 1, j] * wj
                z2 += Xb[i + 2, j] * wj
                z3 += Xb[i + 3, j] * wj
            out[i] = z0
            out[i + 1] = z1
            out[i + 2] = z2
            out[i + 3] = z3
            i += 4
    for i in range(i, m):
        z = b
        for j in range(d):
            z += Xb[i, j] * w[j]
        out[i] = z


@jit
def block_margin_pairs(Xb, w, b, v, vb, zout, uout):
    """zout[i] = x_i·w + b and uout[i] = x_i·v + vb in one sweep over the rows (two for small d)."""
    m, d = Xb.shape
    if 0 < d <= SMALL_D_MAX:
        small_d_margins(Xb, w, b, zout)
        small_d_margins(Xb, v, vb, uout)
        return
    for i in range(m):
        z = b
        u = vb
        for j in range(d):
            x = Xb[i, j]
            z += x * w[j]
            u += x * v[j]
        zout[i] = z
        uout[i] = u


@jit
def block_accumulate(Xb, r, acc):
    """acc[j] += Σ_i r[i]·X_b[i, j] (acc may be longer than d; the rest is untouched)."""
    m, d = Xb.shape
    if 0 < d <= SMALL_D_MAX:
        small_d_accumulate(Xb, r, acc)
        return
    i = 0
    while i + 4 <= m:
        r0 = r[i]
        r1 = r[i + 1]
        r2 = r[i + 2]
        r3 = r[i + 3]
        for j in range(d):
            acc[j] += (r0 * Xb[i, j] + r1 * Xb[i + 1, j]) + (r2 * Xb[i + 2, j] + r3 * Xb[i + 3, j])
        i += 4
    for i in range(i, m):
        ri = r[i]
        for j in range(d):
            acc[j] += ri * Xb[i, j]


# -- the kernels ----------------------------------------------------------------


@pjit
def loss_gradient_sums(X, y, sample_weight, offset, w, b, want_loss, want_grad):
    """Σ s_i ℓ_i and [X^T (s ⊙ (p − y)), Σ s_i (p_i − y_i)] in one pass.

    Returns ``(loss, grad)`` with ``grad`` of shape (d + 1,), the last entry
    being the intercept's.  ``want_loss``/``want_grad`` skip the log1p or the
    ``X^T r`` sweep when the caller does not need them.
    """
    n, d = X.shape
    n_chunks, chunk = partition(n)
    block = block_rows(d, X.itemsize)
    acc = np.zeros((n_chunks, d + 2))  # [grad_w..., grad_b, loss]
    for c in prange(n_chunks):
        part = acc[c]
        buf = np.empty(block)
        end = min(n, (c + 1) * chunk)
        for start in range(c * chunk, end, block):
            stop = min(start + block, end)
            Xb = X[start:stop]
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            block_margins(Xb, w, b, buf)
            loss_sum, r_sum = block_residuals(buf, y[start:stop], sb, ob, want_loss)
            part[d + 1] += loss_sum
            part[d] += r_sum
            if want_grad:
                block_accumulate(Xb, buf, part)
    total = reduce_chunks(acc)
    return total[d + 1], total[: d + 1]


@jit
def block_gram(Xb, h, cols, scaled, out):
    """out[a, c] += Σ_i h_i x̃_ia x̃_ic for a ≤ c (the upper triangle), x̃_i = [x_i[cols], 1].

    The block's columns are first gathered, scaled by sqrt(h_i), into the
    rows of ``scaled`` (k + 1, ≥ m): each entry is then a dot product of two
    of them, contiguous and in L1, which LLVM vectorises.
    """
    m = Xb.shape[0]
    k = cols.shape[0]
    for i in range(m):
        root = np.sqrt(h[i])
        for a in range(k):
            scaled[a, i] = root * Xb[i, cols[a]]
        scaled[k, i] = root
    for a in range(k + 1):
        for c in range(a, k + 1):
            total = 0.0
            for i in range(m):
                total += scaled[a, i] * scaled[c, i]
            out[a, c] += total


@pjit
def loss_gradient_hessian_sums(X, y, sample_weight, offset, w, b, cols, statistics):
    """``loss_gradient_sums`` and, from the same read of X, the Hessian's sums over the columns ``cols`` and the
    intercept, Σ_i h_i x̃_i x̃_iᵀ with x̃_i = [x_i[cols], 1] and h_i = s_i p_i (1 − p_i), (k + 1, k + 1), and
    (``statistics``) ``column_statistics`` (3, d; zeros otherwise).

    Extra sweeps over each block while it is in cache: (k + 1)(k + 2)/2
    multiply-adds a row for the Hessian, few beside the pass's 2d for a
    small working set of columns (proximal Newton's, ``solvers.penalised``),
    and 3d for the statistics, which then need no pass of their own (the
    first pass of a fit, ``backends.dense``).
    """
    n, d = X.shape
    k = cols.shape[0]
    n_chunks, chunk = partition(n)
    block = block_rows(d, X.itemsize)
    width = d + 2 + (k + 1) * (k + 1)
    acc = np.zeros((n_chunks, width + 3 * d))  # [grad_w..., grad_b, loss, H..., statistics...]
    for c in prange(n_chunks):
        part = acc[c]
        gram = part[d + 2 : width].reshape((k + 1, k + 1))
        columns = part[width:].reshape((3, d))
        buf = np.empty(block)
        curvatures = np.empty(block)
        scaled = np.empty((k + 1, block))
        end = min(n, (c + 1) * chunk)
        for start in range(c * chunk, end, block):
            stop = min(start + block, end)
            Xb = X[start:stop]
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            block_margins(Xb, w, b, buf)
            loss_sum, r_sum = block_residuals(buf, y[start:stop], sb, ob, True, curvatures)
            part[d + 1] += loss_sum
            part[d] += r_sum
            block_accumulate(Xb, buf, part)
            block_gram(Xb, curvatures, cols, scaled, gram)
            if statistics:
                block_statistics(Xb, sb, columns)
    total = reduce_chunks(acc)
    H = total[d + 2 : width].reshape((k + 1, k + 1)).copy()
    for a in range(k + 1):
        for c in range(a):
            H[a, c] = H[c, a]
    return total[d + 1], total[: d + 1], H, total[width:].reshape((3, d))


@pjit
def hessp_sums(X, sample_weight, offset, w, b, v, vb):
    """X̃^T (s ⊙ p(1−p) ⊙ X̃ṽ) in one pass, ṽ = [v, vb]; shape (d + 1,).

    Per block: margins z = X_b w + b and directions u = X_b v + vb, then
    q = s p(1−p) u, then X_b^T q, all while the block is in cache.
    """
    n, d = X.shape
    n_chunks, chunk = partition(n)
    block = block_rows(d, X.itemsize)
    acc = np.zeros((n_chunks, d + 1))
    for c in prange(n_chunks):
        part = acc[c]
        zbuf = np.empty(block)
        ubuf = np.empty(block)
        end = min(n, (c + 1) * chunk)
        for start in range(c * chunk, end, block):
            stop = min(start + block, end)
            Xb = X[start:stop]
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            block_margin_pairs(Xb, w, b, v, vb, zbuf, ubuf)
            part[d] += block_curvature_products(zbuf, ubuf, sb, ob, stop - start)
            block_accumulate(Xb, ubuf, part)
    return reduce_chunks(acc)


@pjit
def weighted_rows(Xb, sb, ob, w, b, cols, out):
    """out[i] = sqrt(h_i)·[x_i[cols], 1] with h_i = s_i p_i (1 − p_i), z_i = x_i·w + b + o_i; out (m, len(cols) + 1).

    Then out^T out = X̃_b^T diag(h) X̃_b over the columns ``cols`` (and the
    intercept), the block's share of the Hessian.
    """
    m, d = Xb.shape
    k = cols.shape[0]
    for i in prange(m):
        z = b if ob is None else b + ob[i]
        for j in range(d):
            z += Xb[i, j] * w[j]
        s = 1.0 if sb is None else sb[i]
        root = np.sqrt(s * sample_curvature(z))
        for t in range(k):
            out[i, t] = root * Xb[i, cols[t]]
        out[i, k] = root


@jit
def block_statistics(Xb, sb, out):
    """out[0, j] += Σ_i s_i x_ij, out[1, j] += Σ_i s_i x_ij², out[2, j] += Σ_i 0·x_ij over the block's rows.

    The last row stays 0 where column j is finite and becomes NaN where it
    holds a NaN or an infinity (0·x is NaN exactly for those), whatever the
    row's weight: the pass that measures the columns also checks them.
    """
    sums, squares, zeros = out[0], out[1], out[2]
    for i in range(Xb.shape[0]):
        s = 1.0 if sb is None else sb[i]
        for j in range(Xb.shape[1]):
            x = Xb[i, j]
            sx = s * x
            sums[j] += sx
            squares[j] += sx * x
            zeros[j] += 0.0 * x


@pjit
def column_statistics(X, sample_weight):
    """[Σ_i s_i x_ij, Σ_i s_i x_ij², Σ_i 0·x_ij] for every column j, shape (3, d), in one pass chunked like the
    other kernels (``block_statistics``: the last row is NaN exactly for the columns that hold a NaN or an
    infinity)."""
    n, d = X.shape
    n_chunks, chunk = partition(n)
    acc = np.zeros((n_chunks, 3 * d))
    for c in prange(n_chunks):
        start, stop = c * chunk, min(n, (c + 1) * chunk)
        sb = None if sample_weight is None else sample_weight[start:stop]
        block_statistics(X[start:stop], sb, acc[c].reshape((3, d)))
    return reduce_chunks(acc).reshape(3, d)


@pjit
def every_kth_row(X, step, out):
    """out[i] = X[i·step] for every row i of out: a strided row subsample, gathered by every thread."""
    for i in prange(out.shape[0]):
        out[i, :] = X[i * step, :]
