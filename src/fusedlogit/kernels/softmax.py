"""Multinomial (softmax) sums over samples: one pass over X for K classes.

For row i with margins z_ik = x_i·w_k + b_k (W is (K, d), b is (K,)),
labels Y_ik (one-hot of an integer code, or a soft row summing to 1) and
weight s_i::

    m = max_k z_ik,   ℓ_i = m + log Σ_k e^{z_ik − m} − Σ_k Y_ik z_ik
    p_ik = e^{z_ik − m} / Σ_l e^{z_il − m},   r_ik = s_i (p_ik − Y_ik)
    G = Rᵀ X̃  (K, d + 1),   (H V)_k = Σ_i s_i p_ik (u_ik − Σ_l p_il u_il) x̃_i,  u_ik = x̃_i·v_k

The max shift makes every exponent ≤ 0, so margins of ±1000 are exact.  Each
row's K margins are computed while the row is in cache, turned into residuals
by ``softmax_residuals``, and scattered into the K gradient rows at once:
X is read once.  Dense X goes by blocks of rows, held as ``block_layout``
says: at small d transposed (margins and scatter are multiply-adds across
the rows), at moderate d (float64) copied to 32-byte-aligned rows, else
read in place; on rows, margins four rows × two classes at a time and the
scatter eight rows at a time into a (K, d) accumulator.  The residuals go
across the block's rows (vectorised) in every layout.
Labels come as ``codes`` (n,) integers 0..K−1 with an
empty ``soft`` (0, K), or as ``soft`` (n, K) with an empty ``codes`` (0,)
(arrays, not None: Numba prunes only branches on a None argument).  Parallel layout
of ``chunks``: bitwise identical results for any thread count.  Accumulators
are flat: entry k·(d + 1) + j is class k, feature j (j = d: intercept).

The dense kernels (three row-block layouts by width) and the CSR ones sit in
this one module, about 600 lines, because they share the per-row softmax,
residual and Hessian-product helpers that keep each pass fused.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._config import jit, pjit
from .chunks import partition, reduce_chunks
from .csr import sparse_partition
from .transposed import transpose_rows
from .vecmath import exp_nonpositive, log_at_least_one


@jit
def softmax_probabilities(z):
    """In place: z → softmax(z) (max-shifted); returns log Σ_k e^{z_k}."""
    m = z[0]
    for k in range(1, z.shape[0]):
        m = max(m, z[k])
    total = 0.0
    for k in range(z.shape[0]):
        e = exp_nonpositive(z[k] - m)
        z[k] = e
        total += e
    inv = 1.0 / total
    for k in range(z.shape[0]):
        z[k] *= inv
    return m + np.log(total)


@jit
def softmax_residuals(z, codes, soft, i, s, want_loss):
    """In place: row i's margins z (K,) → r_k = s (p_k − Y_ik); returns s ℓ_i (0.0 unless ``want_loss``)."""
    hard = codes.shape[0] > 0
    label_dot = 0.0
    if want_loss:
        if hard:
            label_dot = z[codes[i]]
        else:
            for k in range(z.shape[0]):
                label_dot += soft[i, k] * z[k]
    log_total = softmax_probabilities(z)
    for k in range(z.shape[0]):
        z[k] *= s
    if hard:
        z[codes[i]] -= s
    else:
        for k in range(z.shape[0]):
            z[k] -= s * soft[i, k]
    return s * (log_total - label_dot) if want_loss else 0.0


@jit
def dense_row_margins(x, W, b, out):
    """out_k = x·w_k + b_k for one dense row x (d,)."""
    for k in range(W.shape[0]):
        z = b[k]
        wk = W[k]
        for j in range(x.shape[0]):
            z += x[j] * wk[j]
        out[k] = z


@jit
def sparse_row_margins(data, indices, lo, hi, W, b, out):
    """out_k = x·w_k + b_k for one CSR row (its nonzeros data[lo:hi] at columns indices[lo:hi])."""
    for k in range(W.shape[0]):
        z = b[k]
        wk = W[k]
        for a in range(np.uint64(lo), np.uint64(hi)):  # unsigned: see csr.row_dot
            z += data[a] * wk[np.uint64(indices[a])]
        out[k] = z


@jit
def sparse_row_scatter(data, indices, lo, hi, d, r, part):
    """part[k(d+1) + j] += r_k x_j and part[k(d+1) + d] += r_k for one CSR row."""
    for k in range(r.shape[0]):
        rk = r[k]
        base = k * (d + 1)
        for a in range(np.uint64(lo), np.uint64(hi)):
            part[base + np.uint64(indices[a])] += rk * data[a]
        part[base + d] += rk


@jit
def curvature_products(p, u, s):
    """In place: u_k → s p_k (u_k − Σ_l p_l u_l), row i's share of H V."""
    mean = 0.0
    for k in range(p.shape[0]):
        mean += p[k] * u[k]
    for k in range(p.shape[0]):
        u[k] = s * p[k] * (u[k] - mean)


@jit
def weight_of(sample_weight, i):
    """s_i, 1 for ``sample_weight=None``."""
    return 1.0 if sample_weight is None else float(sample_weight[i])


#: Rows per block of the dense kernels (at most; ``block_rows``): the block's
#: K × BLOCK margins stay in L1.
BLOCK = 64

#: Bytes of a block of rows (as float64) at most: at large d blocks have fewer
#: rows, so that the block is still in L2 when the scatter reads it again.
BLOCK_MAX_BYTES = 256 * 1024

#: The copies' rows are padded with zeros to a multiple of this many float64
#: (32 bytes).  Numba's arrays start on 32-byte boundaries, so every row of a
#: copy does too and no AVX2 load straddles two cache lines; NumPy puts large
#: arrays 16 bytes past one, so half the loads from X itself would.
LANE = 4

#: How the dense kernels hold a block of rows (``block_layout``):
#: ROWS reads X's rows in place, ALIGNED works on a float64 copy in aligned
#: padded rows, TRANSPOSED on a float64 copy with one row per feature.
ROWS, ALIGNED, TRANSPOSED = 0, 1, 2

#: d ≤ TRANSPOSE_MAX_D: blocks are transposed, so that the margins and the
#: scatter are multiply-adds across rows with no horizontal sums and no
#: loop remainder per row.  Measured on the development machine (2-core
#: AVX2), against rows, the pass became 1.7–1.9× faster at d ≤ 8 (K = 3, 10),
#: 1.3× at d = 20, K = 3, and about even from d = 24 on; at d = 50 and 100
#: the transpose cost more than it saved (0.7×, 0.55×).
TRANSPOSE_MAX_D = 28

#: float64 blocks of COPY_MIN_D ≤ d ≤ COPY_MAX_D features are copied to
#: aligned rows.  Measured as above, the copy made the pass 1.2–1.3× faster
#: at d = 100 (K = 3, 10, 50) and slower at d = 1000.  float32 rows are read
#: 16 bytes at a time and converted; copying them only cost time.
COPY_MIN_D = 32
COPY_MAX_D = 512


@jit
def block_layout(X):
    """ROWS, ALIGNED or TRANSPOSED for X (n, d): see TRANSPOSE_MAX_D and COPY_MIN_D."""
    d = X.shape[1]
    if d <= TRANSPOSE_MAX_D:
        return TRANSPOSED
    if X.itemsize == 8 and COPY_MIN_D <= d <= COPY_MAX_D:
        return ALIGNED
    return ROWS


@jit
def block_buffer(layout, rows, d, width):
    """Scratch for one block in ``layout``: (d, rows) transposed, (rows, width) aligned, empty for ROWS."""
    if layout == TRANSPOSED:
        return np.zeros((d, rows))
    return np.zeros((rows if layout == ALIGNED else 0, width))


@jit
def padded_width(d):
    """d rounded up to a multiple of LANE."""
    return (d + LANE - 1) // LANE * LANE


@jit
def block_rows(layout, d, width):
    """Rows per block.

    Transposed: 128 at d ≤ 8, else 64 (the block in L1).  Rows: BLOCK, fewer
    (a multiple of 8, at least 8) where the block would pass BLOCK_MAX_BYTES.
    """
    if layout == TRANSPOSED:
        return 128 if d <= 8 else 64
    return max(8, min(BLOCK, BLOCK_MAX_BYTES // (8 * width)) // 8 * 8)


@jit
def padded_copy(W):
    """W (K, d) as float64 (K, padded_width(d)), zeros past d."""
    K, d = W.shape
    out = np.zeros((K, padded_width(d)))
    for k in range(K):
        for j in range(d):
            out[k, j] = W[k, j]
    return out


@jit
def load_block(X, start, m, layout, B):
    """Copy rows start..start+m−1 of X into B as float64 where ``layout`` copies (B[j, r] transposed, else B[r, j])."""
    if layout == TRANSPOSED:
        transpose_rows(X, None, start, m, B)
    elif layout == ALIGNED:  # B's padding columns stay zero
        for r in range(m):
            for j in range(X.shape[1]):
                B[r, j] = X[start + r, j]


@jit
def margins_of_block(X, start, m, layout, B, W, b, ZT):
    """ZT[:, :m] = margins of rows start..start+m−1 (class-major), from the block as ``load_block`` left it."""
    if layout == TRANSPOSED:
        transposed_block_margins(B, m, W, b, ZT)
    elif layout == ALIGNED:
        block_margins(B, m, W, b, ZT)
    else:
        block_margins(X[start : start + m], m, W, b, ZT)


@jit
def scatter_of_block(X, start, m, layout, B, RT, G, gb):
    """G += RT[:, :m] X_block and gb += RT[:, :m] summed over rows, from the block as ``load_block`` left it."""
    if layout == TRANSPOSED:
        transposed_block_scatter(B, m, RT, G, gb)
    elif layout == ALIGNED:
        block_scatter(B, m, RT, G, gb)
    else:
        block_scatter(X[start : start + m], m, RT, G, gb)


@jit
def transposed_block_margins(XT, m, W, b, ZT):
    """ZT[k, r] = b_k + Σ_j W[k, j] XT[j, r] for r < m, XT (d, ≥ m) a transposed block.

    Four features at a time, each a multiply-add across the rows: one load
    and store of ZT's row per four features, no horizontal sums.
    """
    d = XT.shape[0]
    for k in range(W.shape[0]):
        z = ZT[k]
        bk = b[k]
        for r in range(m):
            z[r] = bk
        j = 0
        while j + 4 <= d:
            w0, w1, w2, w3 = W[k, j], W[k, j + 1], W[k, j + 2], W[k, j + 3]
            x0, x1, x2, x3 = XT[j], XT[j + 1], XT[j + 2], XT[j + 3]
            for r in range(m):
                z[r] += (w0 * x0[r] + w1 * x1[r]) + (w2 * x2[r] + w3 * x3[r])
            j += 4
        for j in range(j, d):
            w, x = W[k, j], XT[j]
            for r in range(m):
                z[r] += w * x[r]


@jit
def transposed_block_scatter(XT, m, RT, G, gb):
    """G[k, j] += Σ_{r<m} RT[k, r] XT[j, r] and gb[k] += Σ_{r<m} RT[k, r], XT (d, ≥ m) a transposed block.

    Four features at a time: each loaded RT[k, r] serves four dot products.
    """
    d = XT.shape[0]
    for k in range(RT.shape[0]):
        rk = RT[k]
        total = 0.0
        for r in range(m):
            total += rk[r]
        gb[k] += total
        j = 0
        while j + 4 <= d:
            x0, x1, x2, x3 = XT[j], XT[j + 1], XT[j + 2], XT[j + 3]
            s0 = s1 = s2 = s3 = 0.0
            for r in range(m):
                s0 += rk[r] * x0[r]
                s1 += rk[r] * x1[r]
                s2 += rk[r] * x2[r]
                s3 += rk[r] * x3[r]
            G[k, j] += s0
            G[k, j + 1] += s1
            G[k, j + 2] += s2
            G[k, j + 3] += s3
            j += 4
        for j in range(j, d):
            x = XT[j]
            s0 = 0.0
            for r in range(m):
                s0 += rk[r] * x[r]
            G[k, j] += s0


@jit
def store_gradient(G, gb, d, part):
    """part[k(d+1) + j] = G[k, j] for j < d, part[k(d+1) + d] = gb[k]: the flat layout of the sums."""
    for k in range(G.shape[0]):
        for j in range(d):
            part[k * (d + 1) + j] = G[k, j]
        part[k * (d + 1) + d] = gb[k]


@jit
def quad_margins(X, i, W, b, ZT, col):
    """ZT[k, col + r] = x_{i+r}·w_k + b_k for the four rows i..i+3.

    Two classes at a time: each loaded x_{i+r, j} serves two classes and
    each w_kj four rows, eight sums in registers (an odd last class alone).
    """
    d = X.shape[1]
    K = W.shape[0]
    x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]
    for k in range(0, K - 1, 2):
        wa, wb = W[k], W[k + 1]
        a0 = a1 = a2 = a3 = 0.0
        c0 = c1 = c2 = c3 = 0.0
        for j in range(d):
            u, v = wa[j], wb[j]
            a0 += x0[j] * u
            a1 += x1[j] * u
            a2 += x2[j] * u
            a3 += x3[j] * u
            c0 += x0[j] * v
            c1 += x1[j] * v
            c2 += x2[j] * v
            c3 += x3[j] * v
        put_four(ZT, k, col, b[k], a0, a1, a2, a3)
        put_four(ZT, k + 1, col, b[k + 1], c0, c1, c2, c3)
    if K % 2:
        k = K - 1
        wk = W[k]
        a0 = a1 = a2 = a3 = 0.0
        for j in range(d):
            a0 += x0[j] * wk[j]
            a1 += x1[j] * wk[j]
            a2 += x2[j] * wk[j]
            a3 += x3[j] * wk[j]
        put_four(ZT, k, col, b[k], a0, a1, a2, a3)


@jit
def put_four(ZT, k, col, bk, a0, a1, a2, a3):
    """ZT[k, col..col+3] = (a0, a1, a2, a3) + bk."""
    ZT[k, col] = a0 + bk
    ZT[k, col + 1] = a1 + bk
    ZT[k, col + 2] = a2 + bk
    ZT[k, col + 3] = a3 + bk


@jit
def octo_scatter(B, i, RT, col, G, gb):
    """G[k] += Σ_r RT[k, col + r] B[i + r] and gb[k] += Σ_r RT[k, col + r] over the eight rows i..i+7.

    One load and store of G's row per eight rows.
    """
    x0, x1, x2, x3 = B[i], B[i + 1], B[i + 2], B[i + 3]
    x4, x5, x6, x7 = B[i + 4], B[i + 5], B[i + 6], B[i + 7]
    for k in range(RT.shape[0]):
        r0, r1, r2, r3 = RT[k, col], RT[k, col + 1], RT[k, col + 2], RT[k, col + 3]
        r4, r5, r6, r7 = RT[k, col + 4], RT[k, col + 5], RT[k, col + 6], RT[k, col + 7]
        g = G[k]
        for j in range(B.shape[1]):
            first = (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])
            second = (r4 * x4[j] + r5 * x5[j]) + (r6 * x6[j] + r7 * x7[j])
            g[j] += first + second
        gb[k] += ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))


@jit
def block_margins(B, m, W, b, ZT):
    """ZT[:, :m] = margins of the block's rows B[:m] (class-major), four rows at a time."""
    r = 0
    while r + 4 <= m:
        quad_margins(B, r, W, b, ZT, r)
        r += 4
    for r in range(r, m):
        x = B[r]
        for k in range(W.shape[0]):
            z = b[k]
            wk = W[k]
            for j in range(x.shape[0]):
                z += x[j] * wk[j]
            ZT[k, r] = z


@jit
def block_scatter(B, m, RT, G, gb):
    """G += RT[:, :m] B[:m] and gb += RT[:, :m] summed over rows (the block's share of G), eight rows at a time."""
    r = 0
    while r + 8 <= m:
        octo_scatter(B, r, RT, r, G, gb)
        r += 8
    for r in range(r, m):
        x = B[r]
        for k in range(RT.shape[0]):
            rk = RT[k, r]
            g = G[k]
            for j in range(x.shape[0]):
                g[j] += rk * x[j]
            gb[k] += rk


@jit
def block_exponentials(ZT, m, top, total):
    """In place for a block of m rows: ZT[k, r] = z → e^{z − top[r]}; top[r] = max_k z, total[r] = Σ_k e^{z_k − top}.

    Every loop runs over the rows r with no branch, so LLVM vectorises it.
    """
    K = ZT.shape[0]
    for r in range(m):
        top[r] = ZT[0, r]
    for k in range(1, K):
        for r in range(m):
            top[r] = max(top[r], ZT[k, r])
    for r in range(m):
        total[r] = 0.0
    for k in range(K):
        for r in range(m):
            e = exp_nonpositive(ZT[k, r] - top[r])
            ZT[k, r] = e
            total[r] += e


@jit
def block_probabilities(ZT, m, top, total):
    """In place for a block of m rows: ZT[k, r] = z → p = softmax; total as ``block_exponentials``, top is scratch."""
    block_exponentials(ZT, m, top, total)
    for r in range(m):
        top[r] = 1.0 / total[r]  # one divide per row, not per class
    for k in range(ZT.shape[0]):
        for r in range(m):
            ZT[k, r] *= top[r]


@jit
def block_softmax_residuals(ZT, m, start, codes, soft, sample_weight, want_loss, top, total, label):
    """In place for a block of m rows: ZT[k, r] = z → r = s (p − Y); returns Σ s ℓ over the block.

    ``softmax_residuals`` across the block's rows: the loops over the rows
    have no branch (the one-hot Y is selected by comparing codes with k), so
    LLVM vectorises them; only the label's margin is gathered, one per row.
    One divide per row gives s/Σ_k e^{z_k − max z}.  ``top``, ``total`` and
    ``label`` are (≥ m,) scratch.
    """
    K = ZT.shape[0]
    hard = codes.shape[0] > 0
    loss = 0.0
    if want_loss:  # label[r] = Σ_k Y_rk z_rk, before z is overwritten
        if hard:
            for r in range(m):
                label[r] = ZT[codes[start + r], r]
        else:
            for r in range(m):
                label[r] = 0.0
            for k in range(K):
                for r in range(m):
                    label[r] += soft[start + r, k] * ZT[k, r]
    block_exponentials(ZT, m, top, total)
    if want_loss:  # ℓ = top + log Σ_k e^{z_k − top} − Σ_k Y_k z_k
        for r in range(m):
            loss += weight_of(sample_weight, start + r) * ((top[r] - label[r]) + log_at_least_one(total[r]))
    for r in range(m):
        top[r] = weight_of(sample_weight, start + r) / total[r]  # now s / Σ
    for k in range(K):  # r = s p − s Y
        if hard:
            for r in range(m):
                ZT[k, r] = ZT[k, r] * top[r] - (weight_of(sample_weight, start + r) if codes[start + r] == k else 0.0)
        else:
            for r in range(m):
                ZT[k, r] = ZT[k, r] * top[r] - weight_of(sample_weight, start + r) * soft[start + r, k]
    return loss


@pjit
def multinomial_loss_gradient_sums(X, codes, soft, sample_weight, W, b, want_loss, want_grad):
    """(Σ s_i ℓ_i, G flat (K(d + 1),)) for dense C-contiguous X, one pass.

    Per block of ``block_rows`` rows (first copied by ``load_block`` where
    the ``block_layout`` copies): the margins (``margins_of_block``), the
    softmax residuals across the rows (``block_softmax_residuals``), then the
    scatter into G (``scatter_of_block``), while the block is in cache.
    """
    n, d = X.shape
    K = W.shape[0]
    layout = block_layout(X)
    Wp = padded_copy(W)
    width = Wp.shape[1]
    rows = block_rows(layout, d, width)
    n_chunks, chunk = partition(n)
    acc = np.zeros((n_chunks, K * (d + 1) + 1))  # [G..., loss]
    for c in prange(n_chunks):
        B = block_buffer(layout, rows, d, width)
        G = np.zeros((K, width))
        gb = np.zeros(K)
        ZT = np.empty((K, rows))
        top = np.empty(rows)
        total = np.empty(rows)
        label = np.empty(rows)
        loss = 0.0
        end = min(n, (c + 1) * chunk)
        for start in range(c * chunk, end, rows):
            m = min(rows, end - start)
            load_block(X, start, m, layout, B)
            margins_of_block(X, start, m, layout, B, Wp, b, ZT)
            loss += block_softmax_residuals(ZT, m, start, codes, soft, sample_weight, want_loss, top, total, label)
            if want_grad:
                scatter_of_block(X, start, m, layout, B, ZT, G, gb)
        store_gradient(G, gb, d, acc[c])
        acc[c, K * (d + 1)] = loss
    total_sums = reduce_chunks(acc)
    return total_sums[K * (d + 1)], total_sums[: K * (d + 1)]


@pjit
def multinomial_hessp_sums(X, sample_weight, W, b, V, vb):
    """H V unscaled, flat (K(d + 1),), for dense X: row i adds s_i p_ik (u_ik − p_i·u_i) x̃_i to class k.

    Per block: margins Z and directions U = X̃ Ṽᵀ, the probabilities across
    the rows, q = s p (u − p·u), then the scatter of q, as in the gradient.
    """
    n, d = X.shape
    K = W.shape[0]
    Wp = padded_copy(W)
    Vp = padded_copy(V)
    width = Wp.shape[1]
    layout = block_layout(X)
    rows = block_rows(layout, d, width)
    n_chunks, chunk = partition(n)
    acc = np.zeros((n_chunks, K * (d + 1)))
    for c in prange(n_chunks):
        B = block_buffer(layout, rows, d, width)
        G = np.zeros((K, width))
        gb = np.zeros(K)
        ZT = np.empty((K, rows))
        UT = np.empty((K, rows))
        top = np.empty(rows)
        total = np.empty(rows)
        end = min(n, (c + 1) * chunk)
        for start in range(c * chunk, end, rows):
            m = min(rows, end - start)
            load_block(X, start, m, layout, B)
            margins_of_block(X, start, m, layout, B, Wp, b, ZT)
            margins_of_block(X, start, m, layout, B, Vp, vb, UT)
            block_probabilities(ZT, m, top, total)
            for r in range(m):
                top[r] = 0.0  # now p·u
            for k in range(K):
                for r in range(m):
                    top[r] += ZT[k, r] * UT[k, r]
            for k in range(K):
                for r in range(m):
                    UT[k, r] = weight_of(sample_weight, start + r) * ZT[k, r] * (UT[k, r] - top[r])
            scatter_of_block(X, start, m, layout, B, UT, G, gb)
        store_gradient(G, gb, d, acc[c])
    return reduce_chunks(acc)


@pjit
def multinomial_probabilities(X, W, b, out):
    """out[i] = softmax(x_i W^T + b) for dense X, out (n, K) float64."""
    for i in prange(X.shape[0]):
        z = out[i]
        dense_row_margins(X[i], W, b, z)
        softmax_probabilities(z)


@pjit
def csr_multinomial_loss_gradient_sums(data, indices, indptr, d, codes, soft, sample_weight, W, b, want_loss, want_grad):
    """``multinomial_loss_gradient_sums`` for canonical CSR X, one pass over the nonzeros."""
    n = indptr.shape[0] - 1
    K = W.shape[0]
    width = K * (d + 1) + 1
    n_chunks, chunk = sparse_partition(n, width, K * indptr[n] + n)
    acc = np.zeros((n_chunks, width))
    for c in prange(n_chunks):
        part = acc[c]
        z = np.empty(K)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            lo, hi = indptr[i], indptr[i + 1]
            sparse_row_margins(data, indices, lo, hi, W, b, z)
            part[K * (d + 1)] += softmax_residuals(z, codes, soft, i, weight_of(sample_weight, i), want_loss)
            if want_grad:
                sparse_row_scatter(data, indices, lo, hi, d, z, part)
    total = reduce_chunks(acc)
    return total[K * (d + 1)], total[: K * (d + 1)]


@pjit
def csr_multinomial_hessp_sums(data, indices, indptr, d, sample_weight, W, b, V, vb):
    """``multinomial_hessp_sums`` for canonical CSR X."""
    n = indptr.shape[0] - 1
    K = W.shape[0]
    n_chunks, chunk = sparse_partition(n, K * (d + 1), K * indptr[n] + n)
    acc = np.zeros((n_chunks, K * (d + 1)))
    for c in prange(n_chunks):
        part = acc[c]
        z = np.empty(K)
        u = np.empty(K)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            lo, hi = indptr[i], indptr[i + 1]
            sparse_row_margins(data, indices, lo, hi, W, b, z)
            sparse_row_margins(data, indices, lo, hi, V, vb, u)
            softmax_probabilities(z)
            curvature_products(z, u, weight_of(sample_weight, i))
            sparse_row_scatter(data, indices, lo, hi, d, u, part)
    return reduce_chunks(acc)


@pjit
def csr_multinomial_probabilities(data, indices, indptr, W, b, out):
    """``multinomial_probabilities`` for CSR X."""
    for i in prange(indptr.shape[0] - 1):
        z = out[i]
        sparse_row_margins(data, indices, indptr[i], indptr[i + 1], W, b, z)
        softmax_probabilities(z)
