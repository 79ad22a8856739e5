"""Row-block kernels for a table: dense numeric columns beside categorical codes (``tables.CategoricalMatrix``).

A row's margin is its numeric part x_i·w plus, for every categorical j, the
weight of its level's slot, a gather::

    z_i = x_i·w + Σ_j θ[starts[j] + codes[i, j]] + b

and the gradient's entry of a level is the sum of the residuals of its rows,
a scatter ``g_θ[starts[j] + codes[i, j]] += r_i``, in the same pass as
X_bᵀ r.  The slots without coefficient (dropped or unseen levels) hold
θ = 0 and their sums are discarded by the caller.  Same parallel layout as
``dense`` (fixed chunks, ordered reduction: bitwise equal for any thread
count); the scatter goes to the chunk's own row of slot sums.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._config import jit, pjit
from .chunks import partition, reduce_chunks
from .dense import block_accumulate, block_margin_pairs, block_margins, block_rows
from .pointwise import block_curvature_products, block_residuals, sample_curvature
from .softmax import curvature_products, dense_row_margins, softmax_probabilities, softmax_residuals, weight_of


# Row by row, every categorical of a row in turn: 7.2 ms for a pass over 10⁶ rows of 12 numeric columns and 4
# categoricals, against 7.8 ms a categorical at a time and 7.5 ms with the codes stored by column.


@jit
def gather_levels(codes, starts, theta, out):
    """out[i] += Σ_j θ[starts[j] + codes[i, j]] for the rows of a block."""
    m, c = codes.shape
    for i in range(m):
        z = out[i]
        for j in range(c):
            z += theta[starts[j] + codes[i, j]]
        out[i] = z


@jit
def scatter_levels(codes, starts, r, acc):
    """acc[starts[j] + codes[i, j]] += r_i for every row of a block and categorical j."""
    m, c = codes.shape
    for i in range(m):
        ri = r[i]
        for j in range(c):
            acc[starts[j] + codes[i, j]] += ri


#: ``slot_partition`` never cuts the chunks below this many (enough to balance 16 threads).
MIN_SLOT_CHUNKS = 16


@jit
def slot_partition(n, n_slots):
    """``chunks.partition(n)``, with fewer chunks where each chunk's own row of slot sums (n_slots entries, zeroed
    and added up once per call) would cost more than a quarter of the rows' reads: 16 chunks (or the quarter's
    share) for a column of 30,000 levels on 10⁶ rows.  A function of n and n_slots alone, never of the threads."""
    n_chunks, chunk = partition(n)
    if n_chunks * n_slots > n // 4:
        n_chunks = max(1, min(n_chunks, max(MIN_SLOT_CHUNKS, n // (4 * max(1, n_slots)))))
        chunk = (n + n_chunks - 1) // n_chunks
    return n_chunks, chunk


@pjit
def loss_gradient_sums(X, codes, starts, y, sample_weight, offset, w, theta, b, want_loss, want_grad):
    """(Σ s_i ℓ_i, [Xᵀ r, Σ r_i], the slots' sums of r) in one pass, r_i = s_i (p_i − y_i).

    X (n, p) numeric, codes (n, c), starts (c + 1,), w (p,), θ (n_slots,).
    """
    n, p = X.shape
    n_slots = theta.shape[0]
    n_chunks, chunk = slot_partition(n, n_slots)
    block = block_rows(p + codes.shape[1], 8)
    acc = np.zeros((n_chunks, p + 2))  # [grad_w..., grad_b, loss]
    slot_acc = np.zeros((n_chunks, n_slots))
    for k in prange(n_chunks):
        part = acc[k]
        buf = np.empty(block)
        end = min(n, (k + 1) * chunk)
        for start in range(k * chunk, end, block):
            stop = min(start + block, end)
            Xb = X[start:stop]
            Cb = codes[start:stop]
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            block_margins(Xb, w, b, buf)
            gather_levels(Cb, starts, theta, buf)
            loss_sum, r_sum = block_residuals(buf, y[start:stop], sb, ob, want_loss)
            part[p + 1] += loss_sum
            part[p] += r_sum
            if want_grad:
                block_accumulate(Xb, buf, part)
                scatter_levels(Cb, starts, buf, slot_acc[k])
    total = reduce_chunks(acc)
    slots = reduce_chunks(slot_acc) if want_grad else np.zeros(n_slots)
    return total[p + 1], total[: p + 1], slots


@pjit
def hessp_sums(X, codes, starts, sample_weight, offset, w, theta, b, v, phi, vb):
    """([X̃ᵀ q], the slots' sums of q) with q_i = s_i p_i(1−p_i) x̃_i·ṽ, ṽ = (v, φ, vb), in one pass."""
    n, p = X.shape
    n_slots = theta.shape[0]
    n_chunks, chunk = slot_partition(n, n_slots)
    block = block_rows(p + codes.shape[1], 8)
    acc = np.zeros((n_chunks, p + 1))
    slot_acc = np.zeros((n_chunks, n_slots))
    for k in prange(n_chunks):
        part = acc[k]
        zbuf = np.empty(block)
        ubuf = np.empty(block)
        end = min(n, (k + 1) * chunk)
        for start in range(k * chunk, end, block):
            stop = min(start + block, end)
            Xb = X[start:stop]
            Cb = codes[start:stop]
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            block_margin_pairs(Xb, w, b, v, vb, zbuf, ubuf)
            gather_levels(Cb, starts, theta, zbuf)
            gather_levels(Cb, starts, phi, ubuf)
            part[p] += block_curvature_products(zbuf, ubuf, sb, ob, stop - start)
            block_accumulate(Xb, ubuf, part)
            scatter_levels(Cb, starts, ubuf, slot_acc[k])
    return reduce_chunks(acc), reduce_chunks(slot_acc)


@pjit
def curvatures(X, codes, starts, sample_weight, offset, w, theta, b, out):
    """out[i] = s_i p_i (1 − p_i), the Hessian's row weights."""
    n, p = X.shape
    n_chunks, chunk = partition(n)
    for k in prange(n_chunks):
        end = min(n, (k + 1) * chunk)
        if k * chunk < end:
            rows = out[k * chunk : end]
            block_margins(X[k * chunk : end], w, b, rows)
            gather_levels(codes[k * chunk : end], starts, theta, rows)
            for i in range(end - k * chunk):
                s = 1.0 if sample_weight is None else sample_weight[k * chunk + i]
                z = rows[i] if offset is None else rows[i] + offset[k * chunk + i]
                rows[i] = s * sample_curvature(z)


@pjit
def margins(X, codes, starts, w, theta, b, out):
    """out[i] = x_i·w + Σ_j θ[starts[j] + codes[i, j]] + b."""
    n, p = X.shape
    n_chunks, chunk = partition(n)
    for k in prange(n_chunks):
        end = min(n, (k + 1) * chunk)
        if k * chunk < end:
            block_margins(X[k * chunk : end], w, b, out[k * chunk : end])
            gather_levels(codes[k * chunk : end], starts, theta, out[k * chunk : end])


@pjit
def level_sums(X, codes, starts, h, out):
    """out[starts[j] + codes[i, j], :] += h_i [x_i, 1]: each level's weighted sums of the numeric columns and of 1.

    out (n_slots, p + 1), zeroed by the caller.  Each categorical's slots are
    its own, so categoricals run in parallel, each over its rows in order.
    """
    n, p = X.shape
    c = codes.shape[1]
    for j in prange(c):
        base = starts[j]
        for i in range(n):
            row = out[base + codes[i, j]]
            hi = h[i]
            for a in range(p):
                row[a] += hi * X[i, a]
            row[p] += hi


@jit
def cross_sums(codes, j, k, h, out):
    """out[codes[i, j], codes[i, k]] += h_i: the weighted cross-tabulation of categoricals j and k."""
    for i in range(codes.shape[0]):
        out[codes[i, j], codes[i, k]] += h[i]


# -- the multinomial model: K margins per row, each level holding K weights (θ flat, (n_slots, K) by rows) --------


@jit
def gather_class_levels(codes, starts, i, theta, z):
    """z_k += θ[slot, k] for every categorical's slot of row i (θ flat, K weights per slot)."""
    K = z.shape[0]
    for j in range(codes.shape[1]):
        base = (starts[j] + codes[i, j]) * K
        for k in range(K):
            z[k] += theta[base + k]


@jit
def scatter_class_levels(codes, starts, i, r, acc):
    """acc[slot, k] += r_k for every categorical's slot of row i (acc flat, K sums per slot)."""
    K = r.shape[0]
    for j in range(codes.shape[1]):
        base = (starts[j] + codes[i, j]) * K
        for k in range(K):
            acc[base + k] += r[k]


@jit
def accumulate_classes(x, r, part):
    """part[k(p + 1) + a] += r_k x_a and part[k(p + 1) + p] += r_k: row i's share of Rᵀ [X, 1]."""
    p = x.shape[0]
    for k in range(r.shape[0]):
        rk = r[k]
        row = k * (p + 1)
        for a in range(p):
            part[row + a] += rk * x[a]
        part[row + p] += rk


@pjit
def multinomial_loss_gradient_sums(X, codes, starts, labels, soft, sample_weight, W, theta, b, want_loss, want_grad):
    """(Σ s_i ℓ_i, Rᵀ [X, 1] flat (K(p + 1),), the slots' sums of R flat (n_slots·K,)) in one pass, row by row:
    z_i = W x_i + Σ_j θ[slot_ij] + b, r_i = s_i (softmax(z_i) − Y_i) (``softmax.softmax_residuals``)."""
    n, p = X.shape
    K = W.shape[0]
    n_slots = theta.shape[0] // K
    n_chunks, chunk = slot_partition(n, n_slots * K)
    acc = np.zeros((n_chunks, K * (p + 1) + 1))  # [G..., loss]
    slot_acc = np.zeros((n_chunks, n_slots * K))
    for c in prange(n_chunks):
        part = acc[c]
        z = np.empty(K)
        loss = 0.0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            x = X[i]
            dense_row_margins(x, W, b, z)
            gather_class_levels(codes, starts, i, theta, z)
            loss += softmax_residuals(z, labels, soft, i, weight_of(sample_weight, i), want_loss)
            if want_grad:
                accumulate_classes(x, z, part)
                scatter_class_levels(codes, starts, i, z, slot_acc[c])
        part[K * (p + 1)] = loss
    total = reduce_chunks(acc)
    slots = reduce_chunks(slot_acc) if want_grad else np.zeros(n_slots * K)
    return total[K * (p + 1)], total[: K * (p + 1)], slots


@pjit
def multinomial_hessp_sums(X, codes, starts, sample_weight, W, theta, b, V, phi, vb):
    """H V's sums as ([X, 1]ᵀ Q flat, the slots' sums of Q flat), q_i = s_i p_i ⊙ (u_i − p_i·u_i), u_i the
    direction's margins (V, φ, vb), in one pass."""
    n, p = X.shape
    K = W.shape[0]
    n_slots = theta.shape[0] // K
    n_chunks, chunk = slot_partition(n, n_slots * K)
    acc = np.zeros((n_chunks, K * (p + 1)))
    slot_acc = np.zeros((n_chunks, n_slots * K))
    for c in prange(n_chunks):
        z = np.empty(K)
        u = np.empty(K)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            x = X[i]
            dense_row_margins(x, W, b, z)
            gather_class_levels(codes, starts, i, theta, z)
            dense_row_margins(x, V, vb, u)
            gather_class_levels(codes, starts, i, phi, u)
            softmax_probabilities(z)
            curvature_products(z, u, weight_of(sample_weight, i))
            accumulate_classes(x, u, acc[c])
            scatter_class_levels(codes, starts, i, u, slot_acc[c])
    return reduce_chunks(acc), reduce_chunks(slot_acc)
