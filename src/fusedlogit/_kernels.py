"""Numba kernels: the fast path, one pass over X per call.

Every function here takes already-validated, C-contiguous float32/float64
arrays and returns the *unscaled* data term of the objective (sums over
samples, no ``1/S``, no L2); ``objective.LogisticLoss`` applies those once for
both backends.  ``sample_weight`` of length 0 means "all ones".  Coefficients
and every accumulator are float64 whatever the dtype of X.

Parallel layout: rows are split into a fixed number of contiguous chunks that
depends on ``n`` only, never on the thread count; each chunk accumulates into
its own row of a ``(n_chunks, k)`` array, and the chunks are summed serially in
order.  Results are therefore bitwise identical for any number of threads.
Inside a chunk, rows go through cache-sized blocks: the margins of a block are
computed, turned into residuals, and the block's ``X^T r`` is accumulated while
its rows are still in cache, so X is read from memory once.
"""

from __future__ import annotations

import numpy as np
from numba import prange
from scipy.linalg import blas

from ._config import jit, pjit

#: At most this many chunks (partial sums): enough to balance 16+ threads,
#: few enough that the partial sums stay O(d).
MAX_CHUNKS = 64
#: A chunk holds at least this many rows, so small problems use few chunks.
MIN_CHUNK_ROWS = 2048
#: Bytes of X per cache block (fits in a per-core L2 with room to spare).
BLOCK_BYTES = 64 * 1024


@jit
def partition(n):
    """(number of chunks, rows per chunk); a function of ``n`` alone."""
    n_chunks = min(MAX_CHUNKS, max(1, (n + MIN_CHUNK_ROWS - 1) // MIN_CHUNK_ROWS))
    chunk = (n + n_chunks - 1) // n_chunks
    return n_chunks, chunk


@jit
def block_rows(d, itemsize):
    return max(1, min(512, BLOCK_BYTES // max(1, d * itemsize)))


@jit
def sample_terms(z, y):
    """Per-sample loss and probability from one ``t = exp(-|z|)``.

    ℓ = softplus(z) − y z = max(z, 0) − y z + log1p(t)   (no cancellation)
    p = σ(z) = 1/(1+t) for z ≥ 0, t/(1+t) otherwise       (no overflow)
    """
    t = np.exp(-abs(z))
    inv = 1.0 / (1.0 + t)
    p = inv if z >= 0.0 else t * inv
    loss = (max(z, 0.0) - y * z) + np.log1p(t)
    return loss, p


@jit
def sigmoid(z):
    """σ(z) without overflow for any z."""
    t = np.exp(-abs(z))
    inv = 1.0 / (1.0 + t)
    return inv if z >= 0.0 else t * inv


@jit
def sample_curvature(z):
    """p(1 − p) = t / (1 + t)² with ``t = exp(-|z|)``: exact in both tails."""
    t = np.exp(-abs(z))
    inv = 1.0 / (1.0 + t)
    return t * inv * inv


@jit
def _reduce_chunks(acc):
    n_chunks, k = acc.shape
    total = np.zeros(k)
    for c in range(n_chunks):  # fixed order: bitwise reproducible
        for j in range(k):
            total[j] += acc[c, j]
    return total


@pjit
def loss_gradient_sums(X, y, sample_weight, w, b, want_loss, want_grad):
    """Σ s_i ℓ_i and [X^T (s ⊙ (p − y)), Σ s_i (p_i − y_i)] in one pass.

    Returns ``(loss, grad)`` with ``grad`` of shape (d + 1,), the last entry
    being the intercept's.  ``want_loss``/``want_grad`` skip the log1p or the
    ``X^T r`` accumulation when the caller does not need them.
    """
    n, d = X.shape
    n_chunks, chunk = partition(n)
    block = block_rows(d, X.itemsize)
    weighted = sample_weight.shape[0] > 0
    acc = np.zeros((n_chunks, d + 2))  # [grad_w..., grad_b, loss]
    for c in prange(n_chunks):
        part = acc[c]
        buf = np.empty(block)
        for start in range(c * chunk, min(n, (c + 1) * chunk), block):
            stop = min(start + block, n, (c + 1) * chunk)
            for i in range(start, stop):  # margins z_i = x_i·w + b
                z = b
                for j in range(d):
                    z += X[i, j] * w[j]
                buf[i - start] = z
            for i in range(start, stop):  # residuals r_i = s_i (p_i − y_i)
                s = sample_weight[i] if weighted else 1.0
                z = buf[i - start]
                if want_loss:
                    loss, p = sample_terms(z, y[i])
                    part[d + 1] += s * loss
                else:
                    p = sigmoid(z)
                r = s * (p - y[i])
                part[d] += r
                buf[i - start] = r
            if want_grad:
                for i in range(start, stop):  # X^T r while the block is in cache
                    r = buf[i - start]
                    for j in range(d):
                        part[j] += r * X[i, j]
    total = _reduce_chunks(acc)
    return total[d + 1], total[: d + 1]


@pjit
def hessp_sums(X, sample_weight, w, b, v, vb):
    """X̃^T (s ⊙ p(1−p) ⊙ X̃ṽ) in one pass, ṽ = [v, vb]; shape (d + 1,).

    Each row's margin z_i = x_i·w + b and direction u_i = x_i·v + vb are
    computed in the same sweep over the row, then the row is accumulated with
    weight s_i p_i (1 − p_i) u_i while still in cache.
    """
    n, d = X.shape
    n_chunks, chunk = partition(n)
    block = block_rows(d, X.itemsize)
    weighted = sample_weight.shape[0] > 0
    acc = np.zeros((n_chunks, d + 1))
    for c in prange(n_chunks):
        part = acc[c]
        buf = np.empty(block)
        for start in range(c * chunk, min(n, (c + 1) * chunk), block):
            stop = min(start + block, n, (c + 1) * chunk)
            for i in range(start, stop):
                z = b
                u = vb
                for j in range(d):
                    x = X[i, j]
                    z += x * w[j]
                    u += x * v[j]
                s = sample_weight[i] if weighted else 1.0
                q = s * sample_curvature(z) * u
                part[d] += q
                buf[i - start] = q
            for i in range(start, stop):
                q = buf[i - start]
                for j in range(d):
                    part[j] += q * X[i, j]
    return _reduce_chunks(acc)


@pjit
def curvature_weights(X, sample_weight, w, b, out):
    """out_i = s_i p_i (1 − p_i) for the rows of X (one block of the Hessian)."""
    n, d = X.shape
    weighted = sample_weight.shape[0] > 0
    for i in prange(n):
        z = b
        for j in range(d):
            z += X[i, j] * w[j]
        s = sample_weight[i] if weighted else 1.0
        out[i] = s * sample_curvature(z)


def hessian_sums(X, sample_weight, w, b):
    """X̃^T diag(s ⊙ p(1−p)) X̃, shape (d + 1, d + 1), by BLAS syrk on row blocks.

    Each block of rows is scaled by sqrt(h) and handed to syrk (upper
    triangle only); the block is the only temporary, never an n × d array.
    float32 blocks use ssyrk and are added to a float64 total.
    """
    n, d = X.shape
    syrk = blas.ssyrk if X.dtype == np.float32 else blas.dsyrk
    rows = max(256, (4 << 20) // max(1, d * X.itemsize))  # ~4 MB of X per block
    H = np.zeros((d + 1, d + 1))
    h = np.empty(min(rows, n))
    for start in range(0, n, rows):
        Xb = X[start : start + rows]
        hb = h[: Xb.shape[0]]
        sb = sample_weight[start : start + rows] if sample_weight.shape[0] else sample_weight
        curvature_weights(Xb, sb, w, b, hb)
        A = Xb * np.sqrt(hb).astype(X.dtype)[:, None]
        # A is C-ordered (B, d), so A.T is Fortran-ordered and syrk computes A^T A.
        H[:d, :d] += np.triu(syrk(1.0, A.T, trans=0, lower=0))
        H[:d, d] += hb @ Xb
        H[d, d] += hb.sum()
    upper = np.triu(H)
    return upper + np.triu(upper, 1).T
