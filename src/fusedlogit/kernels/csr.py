"""Kernels for CSR X: the fast path for sparse data, one pass over the nonzeros.

Same contract as ``dense`` (unscaled sums over samples, results of length
d + 1 with the intercept last, ``sample_weight=None`` meaning ones), with X
given as the ``(data, indices, indptr)`` arrays of a canonical CSR matrix
(sorted indices, no duplicates; see ``_validation.as_sparse_features``).

For row i with nonzeros x_ik at columns j_k (k in indptr[i]..indptr[i+1]):
z_i = b + Σ_k x_ik w[j_k] is one sweep over the row's nonzeros, and the
gradient's X^T r is the scatter acc[j_k] += r_i x_ik over the same nonzeros.
Rows go through blocks of at most ``BLOCK_NNZ`` nonzeros, as in the dense
kernels: the block's margins, then its residuals by ``pointwise.block_residuals``
(a loop LLVM vectorises: exp and log1p per row cost more than a short row's
dot product), then the scatter, while the block's nonzeros are still in
cache.  Each nonzero is therefore read from memory once per call.

Parallel layout as in ``dense``: a fixed row partition (``chunks.partition``)
that depends on n (and, to bound memory, on d) but never on the thread count,
one private accumulator row per chunk, chunks summed serially in order:
results are bitwise identical for any number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._config import jit, pjit
from .chunks import partition, reduce_chunks
from .pointwise import block_curvature_products, block_residuals, sample_curvature

#: Bytes allowed for the per-chunk partial sums.  Sparse X may have millions of
#: columns: zeroing and adding up 64 partial gradients would then cost more
#: than the pass itself, so the chunk count is lowered when d is large (still a
#: function of n and d only, never of the thread count).
PARTIALS_BYTES = 16 << 20
#: A block holds at most this many rows (the length of its margin buffer) ...
BLOCK_ROWS = 512
#: ... and at most this many nonzeros (~96 kB of float64 data and int32 indices) unless one row is longer.
BLOCK_NNZ = 8192


@jit
def sparse_partition(n, width, work):
    """(number of chunks, rows per chunk) for partials of ``width`` floats each.

    ``chunks.partition(n)``, with fewer chunks where the partials would take
    more than PARTIALS_BYTES or, zeroed and added up, more than a quarter of
    the pass's ``work`` (its nonzeros): n_chunks · width ≤ work / 4.
    """
    n_chunks, chunk = partition(n)
    cap = max(1, min(PARTIALS_BYTES // (8 * width), work // (4 * width)))
    if n_chunks > cap:
        n_chunks = cap
        chunk = (n + n_chunks - 1) // n_chunks
    return n_chunks, chunk


@jit
def block_end(indptr, start, end):
    """End of the block of rows starting at ``start``: ≤ BLOCK_ROWS rows, ≤ BLOCK_NNZ nonzeros (≥ 1 row)."""
    stop = start + 1
    limit = min(end, start + BLOCK_ROWS)
    while stop < limit and indptr[stop + 1] - indptr[start] <= BLOCK_NNZ:
        stop += 1
    return stop


@jit
def nonzeros(indptr, i):
    """Row i's positions among the nonzeros, lo..hi, as unsigned integers (see ``row_dot``)."""
    return np.uint64(indptr[i]), np.uint64(indptr[i + 1])


@jit
def row_dot(data, indices, lo, hi, w, b):
    """b + Σ_{k=lo}^{hi-1} data[k] w[indices[k]]: one row's margin.

    Positions and column indices are used as unsigned integers: a signed
    index loaded from memory makes Numba emit the negative-index wraparound
    test for every nonzero, which made these loops 2–3× slower.  The indices
    of a validated X lie in 0..d−1 (``_validation.as_sparse_features``).
    """
    z = b
    for k in range(np.uint64(lo), np.uint64(hi)):
        z += data[k] * w[np.uint64(indices[k])]
    return z


@jit
def row_scatter(data, indices, lo, hi, r, acc):
    """acc[indices[k]] += r data[k] for one row's nonzeros (unsigned indices, as in ``row_dot``)."""
    for k in range(np.uint64(lo), np.uint64(hi)):
        acc[np.uint64(indices[k])] += r * data[k]


@pjit
def csr_loss_gradient_sums(data, indices, indptr, d, y, sample_weight, offset, w, b, want_loss, want_grad):
    """Σ s_i ℓ_i and [X^T (s ⊙ (p − y)), Σ s_i (p_i − y_i)] for CSR X in one pass."""
    n = indptr.shape[0] - 1
    n_chunks, chunk = sparse_partition(n, d + 2, indptr[n])
    acc = np.zeros((n_chunks, d + 2))  # [grad_w..., grad_b, loss]
    for c in prange(n_chunks):
        part = acc[c]
        buf = np.empty(BLOCK_ROWS)
        start = c * chunk
        end = min(n, (c + 1) * chunk)
        while start < end:
            stop = block_end(indptr, start, end)
            for i in range(start, stop):  # margins z_i = x_i·w + b
                buf[i - start] = row_dot(data, indices, indptr[i], indptr[i + 1], w, b)
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            loss_sum, r_sum = block_residuals(buf, y[start:stop], sb, ob, want_loss)  # z_i → r_i = s_i (p_i − y_i)
            part[d + 1] += loss_sum
            part[d] += r_sum
            if want_grad:  # X^T r while the block's nonzeros are in cache
                for i in range(start, stop):
                    row_scatter(data, indices, indptr[i], indptr[i + 1], buf[i - start], part)
            start = stop
    total = reduce_chunks(acc)
    return total[d + 1], total[: d + 1]


@pjit
def csr_hessp_sums(data, indices, indptr, d, sample_weight, offset, w, b, v, vb):
    """X̃^T (s ⊙ p(1−p) ⊙ X̃ṽ) for CSR X in one pass, ṽ = [v, vb]; shape (d + 1,).

    z_i and u_i = x_i·v + vb come from one sweep over the row's nonzeros.
    """
    n = indptr.shape[0] - 1
    n_chunks, chunk = sparse_partition(n, d + 1, indptr[n])
    acc = np.zeros((n_chunks, d + 1))
    for c in prange(n_chunks):
        part = acc[c]
        zbuf = np.empty(BLOCK_ROWS)
        ubuf = np.empty(BLOCK_ROWS)
        start = c * chunk
        end = min(n, (c + 1) * chunk)
        while start < end:
            stop = block_end(indptr, start, end)
            for i in range(start, stop):
                z = b
                u = vb
                lo, hi = nonzeros(indptr, i)
                for k in range(lo, hi):
                    x = data[k]
                    j = np.uint64(indices[k])
                    z += x * w[j]
                    u += x * v[j]
                zbuf[i - start] = z
                ubuf[i - start] = u
            sb = None if sample_weight is None else sample_weight[start:stop]
            ob = None if offset is None else offset[start:stop]
            part[d] += block_curvature_products(zbuf, ubuf, sb, ob, stop - start)  # u_i → q_i = s_i p_i(1−p_i) u_i
            for i in range(start, stop):
                row_scatter(data, indices, indptr[i], indptr[i + 1], ubuf[i - start], part)
            start = stop
    return reduce_chunks(acc)


@pjit
def csr_column_power_sums(data, indices, indptr, d, sample_weight, power):
    """Σ_i s_i x_ij^power for every column j (power 1 or 2), shape (d,), one read of the nonzeros."""
    n = indptr.shape[0] - 1
    n_chunks, chunk = sparse_partition(n, d, indptr[n] + n)
    acc = np.zeros((n_chunks, d))
    for c in prange(n_chunks):
        part = acc[c]
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            s = 1.0 if sample_weight is None else sample_weight[i]
            lo, hi = nonzeros(indptr, i)
            for a in range(lo, hi):
                x = float(data[a])
                part[np.uint64(indices[a])] += s * (x * x if power == 2 else x)
    return reduce_chunks(acc)


@pjit
def csr_hessian_sums(data, indices, indptr, sample_weight, offset, w, b, position, m):
    """Upper triangle of X̃^T diag(s ⊙ p(1−p)) X̃ for CSR X over m chosen columns, shape (m + 1, m + 1).

    ``position[j]`` is column j's place 0..m−1 among the chosen ones
    (increasing with j), −1 if it is not chosen; the intercept is place m.
    Row i adds h_i x_ij x_ik to H[j, k] for every pair j ≤ k of its chosen
    nonzeros (sorted indices make j ≤ k by position), h_i to the intercept's
    column H[j, m] and to H[m, m]: O(Σ nnz_i²) work, one read of each row.
    """
    n = indptr.shape[0] - 1
    pairs = 0
    widest = 0
    for i in range(n):  # the work: at most Σ_i nnz_i (nnz_i + 1) / 2 products
        nnz = indptr[i + 1] - indptr[i]
        pairs += nnz * (nnz + 1) // 2
        widest = max(widest, nnz)
    n_chunks, chunk = sparse_partition(n, (m + 1) * (m + 1), pairs + n)
    acc = np.zeros((n_chunks, m + 1, m + 1))
    for c in prange(n_chunks):
        part = acc[c]
        places = np.empty(widest, dtype=np.uint64)  # the row's chosen nonzeros: their places and values
        values = np.empty(widest)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            lo, hi = nonzeros(indptr, i)
            z = row_dot(data, indices, lo, hi, w, b if offset is None else b + offset[i])
            s = 1.0 if sample_weight is None else sample_weight[i]
            h = s * sample_curvature(z)
            part[m, m] += h
            chosen = 0
            for a in range(lo, hi):
                place = position[np.uint64(indices[a])]
                if place >= 0:
                    places[chosen] = place
                    values[chosen] = data[a]
                    chosen += 1
            for a in range(chosen):
                ja = places[a]
                ha = h * values[a]
                part[ja, m] += ha
                for k in range(a, chosen):
                    part[ja, places[k]] += ha * values[k]
    return reduce_chunks(acc.reshape(n_chunks, (m + 1) * (m + 1))).reshape(m + 1, m + 1)
