"""Numba kernels: the fast path, one pass over X per call.

Every function here takes already-validated, C-contiguous float32/float64
arrays and returns the *unscaled* data term of the objective (sums over
samples, no ``1/S``, no L2); ``objective.LogisticLoss`` applies those once for
both backends.  ``sample_weight=None`` means "all ones"; Numba compiles a
separate specialisation for it, so the unweighted loops carry no test per
row.  Coefficients and every accumulator are float64 whatever the dtype of X.

Parallel layout: rows are split into a fixed number of contiguous chunks that
depends on ``n`` only, never on the thread count; each chunk accumulates into
its own row of a ``(n_chunks, k)`` array, and the chunks are summed serially in
order.  Results are therefore bitwise identical for any number of threads.

Inside a chunk, rows go through cache-sized blocks in three sweeps: margins
z = X_b w + b, then the per-sample transform z → r (vectorised, see
``_vecmath``), then X_b^T r, while the block is still in L1/L2.  X is read
from memory once.  The last sweep takes four rows at a time: one
read-modify-write of the accumulator per four rows instead of per row; so
does the first sweep for d ≤ 16.  Blocks of d ≤ 4 features use sweeps
compiled for their exact d instead, which keep the accumulators in registers.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic
from scipy.linalg import blas

from ._config import jit, pjit
from ._vecmath import exp_nonpositive, log1p_unit

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
    return max(4, min(1024, BLOCK_BYTES // max(1, d * itemsize)))


# -- per-sample functions of the margin z ---------------------------------------


@jit
def tail_factor(z):
    """t = e^{−|z|} ∈ (0, 1]: every stable per-sample formula starts from it."""
    return exp_nonpositive(-abs(z))


# The formulas below also take inv = 1/(1 + t), computed once per sample by the
# caller: the one division that σ, p(1 − p) and log1p(t) all need.


@jit
def loss_from_tail(z, y, t, inv):
    """ℓ = softplus(z) − y z = (max(z, 0) − y z) + log1p(t), without cancellation."""
    return (max(z, 0.0) - y * z) + log1p_unit(t, inv)


@jit
def sigmoid_from_tail(z, t, inv):
    """σ(z) = 1/(1 + t) for z ≥ 0 and t/(1 + t) otherwise: no overflow."""
    return inv if z >= 0.0 else t * inv


@jit
def curvature_from_tail(t, inv):
    """p(1 − p) = t / (1 + t)²: exact in both tails."""
    return t * inv * inv


@jit
def sigmoid(z):
    """σ(z) without overflow for any z."""
    t = tail_factor(z)
    return sigmoid_from_tail(z, t, 1.0 / (1.0 + t))


@jit
def sample_curvature(z):
    """p(1 − p) = σ'(z) for any z."""
    t = tail_factor(z)
    return curvature_from_tail(t, 1.0 / (1.0 + t))


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
    """

    @jit
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

    @jit
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

    return margins, accumulate


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


# -- sweeps over a transposed block, T = X_b^T (d, m), C-contiguous -----------
# ``fusedlogit.jit`` works on such blocks: every sweep is then a contiguous loop
# over samples, which suits its small, cache-resident problems.


#: Gathers of scattered rows ask for the row this many places ahead while
#: copying the current one, so that the rows arrive from memory in parallel
#: (2.2× faster gathers of 10-feature rows from a 40 MB X).
PREFETCH_ROWS = 16


@intrinsic
def prefetch(typingctx, a, index):
    """Hint the CPU to load the cache line holding a[index] (an int, or a tuple for 2-D ``a``).

    No effect on any value; the index must be in range.
    """
    if not isinstance(a, types.Array):
        return None
    indices = index if isinstance(index, types.BaseTuple) else (index,)
    if len(indices) != a.ndim or not all(isinstance(i, types.Integer) for i in indices):
        return None

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        array = context.make_array(array_type)(context, builder, args[0])
        if isinstance(index_type, types.BaseTuple):
            values = cgutils.unpack_tuple(builder, args[1], len(index_type))
            values = [context.cast(builder, v, t, types.intp) for v, t in zip(values, index_type)]
        else:
            values = [context.cast(builder, args[1], index_type, types.intp)]
        element = cgutils.get_item_pointer(context, builder, array_type, array, values)
        byte_pointer = ir.IntType(8).as_pointer()
        int32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32]), "llvm.prefetch.p0i8"
        )
        # read access, keep in all cache levels, data cache
        builder.call(function, [builder.bitcast(element, byte_pointer), int32(0), int32(3), int32(1)])
        return context.get_dummy_value()

    return types.void(a, index), codegen


@jit
def transpose_rows(X, rows, start, m, out):
    """out[j, i] = X[r_i, j] for i < m, r_i = start + i, or rows[start + i] if ``rows`` is given.

    With ``rows``, every cache line of row rows[start + i + PREFETCH_ROWS] is
    prefetched while row rows[start + i] is copied.
    """
    d = X.shape[1]
    line = max(1, 64 // X.itemsize)  # elements per cache line
    for i in range(m):
        if rows is None:
            r = start + i
        else:
            r = rows[start + i]
            if start + i + PREFETCH_ROWS < rows.shape[0]:
                ahead = rows[start + i + PREFETCH_ROWS]
                for j in range(0, d, line):
                    prefetch(X, (ahead, j))
                prefetch(X, (ahead, d - 1))
        for j in range(d):
            out[j, i] = X[r, j]


@jit
def gather(a, rows, start, m, out):
    """out[i] = a[r_i] for i < m, r_i as in ``transpose_rows`` (entry r_{i+PREFETCH_ROWS} prefetched)."""
    for i in range(m):
        if rows is None:
            out[i] = a[start + i]
        else:
            if start + i + PREFETCH_ROWS < rows.shape[0]:
                prefetch(a, rows[start + i + PREFETCH_ROWS])
            out[i] = a[rows[start + i]]


@jit
def transposed_margins(T, start, stop, w, b, out):
    """out[i] = x_i·w + b for the samples start..stop−1, the columns of T = X^T.

    Contiguous, vectorised passes over the block, two features per pass
    (w may be longer than d; the rest is ignored).
    """
    d = T.shape[0]
    z = out[: stop - start]
    j = d % 2
    if j == 1:
        w0 = w[0]
        x0 = T[0, start:stop]
        for i in range(z.shape[0]):
            z[i] = b + w0 * x0[i]
    else:
        z[:] = b
    while j < d:
        w0 = w[j]
        w1 = w[j + 1]
        x0 = T[j, start:stop]
        x1 = T[j + 1, start:stop]
        for i in range(z.shape[0]):
            z[i] += w0 * x0[i] + w1 * x1[i]
        j += 2


@jit
def transposed_accumulate(T, start, r, out):
    """out[j] += Σ_i T[j, start + i] r[i] for j < d: X_b^T r, four features per pass over r."""
    d = T.shape[0]
    stop = start + r.shape[0]
    j = 0
    while j + 4 <= d:
        x0 = T[j, start:stop]
        x1 = T[j + 1, start:stop]
        x2 = T[j + 2, start:stop]
        x3 = T[j + 3, start:stop]
        t0 = 0.0
        t1 = 0.0
        t2 = 0.0
        t3 = 0.0
        for i in range(r.shape[0]):
            ri = r[i]
            t0 += x0[i] * ri
            t1 += x1[i] * ri
            t2 += x2[i] * ri
            t3 += x3[i] * ri
        out[j] += t0
        out[j + 1] += t1
        out[j + 2] += t2
        out[j + 3] += t3
        j += 4
    for last in range(j, d):
        xj = T[last, start:stop]
        total = 0.0
        for i in range(r.shape[0]):
            total += xj[i] * r[i]
        out[last] += total


# -- per-sample transforms of a block's margins -------------------------------


@jit
def block_residuals(buf, yb, sb, want_loss, curvature_out=None):
    """Turn margins into residuals in place: buf[i] = z_i → r_i = s_i (p_i − y_i).

    Returns (Σ s_i ℓ_i, Σ r_i) over the block (the loss sum is 0 unless
    ``want_loss``).  ``sb=None`` means unit weights.  With ``want_loss``, a
    ``curvature_out`` array also gets h_i = s_i p_i (1 − p_i) from the same
    e^{−|z|}.  Each loop is straight-line code that LLVM vectorises; the
    ``want_loss`` test sits outside the loops for that reason.
    """
    loss_sum = 0.0
    r_sum = 0.0
    if want_loss:
        for i in range(yb.shape[0]):
            s = 1.0 if sb is None else sb[i]
            z = buf[i]
            t = tail_factor(z)
            inv = 1.0 / (1.0 + t)
            loss_sum += s * loss_from_tail(z, yb[i], t, inv)
            r = s * (sigmoid_from_tail(z, t, inv) - yb[i])
            if curvature_out is not None:
                curvature_out[i] = s * curvature_from_tail(t, inv)
            r_sum += r
            buf[i] = r
    else:
        for i in range(yb.shape[0]):
            s = 1.0 if sb is None else sb[i]
            r = s * (sigmoid(buf[i]) - yb[i])
            r_sum += r
            buf[i] = r
    return loss_sum, r_sum


@jit
def block_curvature_products(zbuf, ubuf, sb, m):
    """In place: ubuf[i] = s_i p_i (1 − p_i) u_i with z_i = zbuf[i]; returns Σ."""
    total = 0.0
    for i in range(m):
        s = 1.0 if sb is None else sb[i]
        q = s * sample_curvature(zbuf[i]) * ubuf[i]
        total += q
        ubuf[i] = q
    return total


@jit
def _reduce_chunks(acc):
    n_chunks, k = acc.shape
    total = np.zeros(k)
    for c in range(n_chunks):  # fixed order: bitwise reproducible
        for j in range(k):
            total[j] += acc[c, j]
    return total


# -- the kernels ----------------------------------------------------------------


@pjit
def loss_gradient_sums(X, y, sample_weight, w, b, want_loss, want_grad):
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
            block_margins(Xb, w, b, buf)
            loss_sum, r_sum = block_residuals(buf, y[start:stop], sb, want_loss)
            part[d + 1] += loss_sum
            part[d] += r_sum
            if want_grad:
                block_accumulate(Xb, buf, part)
    total = _reduce_chunks(acc)
    return total[d + 1], total[: d + 1]


@pjit
def hessp_sums(X, sample_weight, w, b, v, vb):
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
            block_margin_pairs(Xb, w, b, v, vb, zbuf, ubuf)
            part[d] += block_curvature_products(zbuf, ubuf, sb, stop - start)
            block_accumulate(Xb, ubuf, part)
    return _reduce_chunks(acc)


@pjit
def weighted_rows(Xb, sb, w, b, out):
    """out[i] = sqrt(h_i)·[x_i, 1] with h_i = s_i p_i (1 − p_i); out is (m, d + 1) float64.

    Then out^T out = X̃_b^T diag(h) X̃_b, the block's share of the Hessian,
    intercept row and column included.
    """
    m, d = Xb.shape
    for i in prange(m):
        z = b
        for j in range(d):
            z += Xb[i, j] * w[j]
        s = 1.0 if sb is None else sb[i]
        root = np.sqrt(s * sample_curvature(z))
        for j in range(d):
            out[i, j] = root * Xb[i, j]
        out[i, d] = root


def hessian_sums(X, sample_weight, w, b):
    """X̃^T diag(s ⊙ p(1−p)) X̃, shape (d + 1, d + 1), by BLAS syrk on row blocks.

    Each block of rows is written once, scaled by sqrt(h) and with the
    intercept column appended, into a reused float64 buffer (so float32 data
    is accumulated in float64 too), and dsyrk adds its Gram matrix to the
    upper triangle of the total.  The buffer is the only temporary, never an
    n × d array.
    """
    n, d = X.shape
    rows = min(n, max(256, (4 << 20) // ((d + 1) * 8)))  # ~4 MB buffer
    buffer = np.empty((rows, d + 1))
    H = np.zeros((d + 1, d + 1), order="F")
    for start in range(0, n, rows):
        Xb = X[start : start + rows]
        A = buffer[: Xb.shape[0]]
        sb = None if sample_weight is None else sample_weight[start : start + rows]
        weighted_rows(Xb, sb, w, b, A)
        # A is C-ordered (m, d + 1), so A.T is Fortran-ordered and syrk adds A^T A in place.
        H = blas.dsyrk(1.0, A.T, beta=1.0, c=H, trans=0, lower=0, overwrite_c=1)
    return symmetric_from_upper(H)


def symmetric_from_upper(H):
    """The symmetric matrix whose upper triangle (diagonal included) is that of H."""
    upper = np.triu(H)
    return upper + np.triu(upper, 1).T
