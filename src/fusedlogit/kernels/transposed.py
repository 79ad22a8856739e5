"""Sweeps over transposed samples T = X^T (d, n), C-contiguous.

The serial Newton solver that ``fusedlogit.jit`` and ``fit_many`` run works on
one transposed copy of its samples, so that every sweep over the samples is a
contiguous loop LLVM vectorises (their problems are small and cache-resident).
Per block of ``BLOCK_ROWS`` samples: margins, then the per-sample transform
(``pointwise``), then X_b^T r or the weighted Gram matrix X_b^T diag(h) X_b.
Nothing here allocates inside its loops except ``row_block_sums`` (scratch of
O(d·BLOCK_ROWS) per call).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import jit
from .pointwise import block_residuals, sample_curvature, saturated_on_label

#: Samples per block: the block's margins, then residuals, are kept in a
#: small scratch array (512 covers a typical small fit in one block).
BLOCK_ROWS = 512


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


@jit
def weight_at(sample_weight, i):
    """s_i, 1 for ``sample_weight=None``."""
    return 1.0 if sample_weight is None else float(sample_weight[i])


@jit
def intercept_of(coef, d):
    """The intercept, coef[d], if coef has one (length d + 1), else 0."""
    return coef[d] if coef.shape[0] > d else 0.0


@jit
def data_sums(coef, T, m, y, sample_weight, offset, grad, curvature, buf):
    """Add ∇L into ``grad``, write h_i = s_i p_i (1 − p_i) into ``curvature``; return L.

    The data are the first m columns of T = X^T, shape (d, ≥ m), C-contiguous,
    so that every sweep below is a contiguous, vectorised loop over samples.
    L = Σ s_i ℓ_i and ∇L = X̃^T r with r_i = s_i (p_i − y_i).
    ``curvature=None`` skips h; ``sample_weight`` and ``offset`` (o_i added
    to z_i) are None or (≥ m,);
    ``buf`` is scratch of at least BLOCK_ROWS entries.  Per block of
    samples: margins z, then r and h from one e^{−|z|}, then X_b^T r.
    """
    d = T.shape[0]
    k = grad.shape[0]
    loss = 0.0
    for start in range(0, m, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, m)
        zb = buf[: stop - start]
        sb = None if sample_weight is None else sample_weight[start:stop]
        ob = None if offset is None else offset[start:stop]
        transposed_margins(T, start, stop, coef, intercept_of(coef, d), zb)
        hb = None if curvature is None else curvature[start:stop]
        block_loss, r_sum = block_residuals(zb, y[start:stop], sb, ob, True, hb)  # z → r in place
        loss += block_loss
        transposed_accumulate(T, start, zb, grad)
        if k > d:
            grad[d] += r_sum
    return loss


@jit
def curvatures(coef, T, m, sample_weight, curvature, buf):
    """curvature[i] = h_i = s_i p_i (1 − p_i) for the first m columns of T = X^T."""
    d = T.shape[0]
    for start in range(0, m, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, m)
        transposed_margins(T, start, stop, coef, intercept_of(coef, d), buf)
        for i in range(stop - start):
            curvature[start + i] = weight_at(sample_weight, start + i) * sample_curvature(buf[i])


@jit
def add_hessian(T, m, curvature, hess):
    """Add the upper triangle of X̃^T diag(h) X̃ into ``hess`` (k, k), h = ``curvature``.

    k = d + 1 (intercept) or d.  Per block of samples: the weighted Gram
    matrix Σ_i h_i x_i x_i^T of the features, then with an intercept its
    column X_b^T h and corner Σ_i h_i.
    """
    d = T.shape[0]
    k = hess.shape[0]
    for start in range(0, m, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, m)
        hb = curvature[start:stop]
        add_weighted_gram(T, start, hb, hess)
        if k > d:
            transposed_accumulate(T, start, hb, hess[:d, d])
            total = 0.0
            for i in range(hb.shape[0]):
                total += hb[i]
            hess[d, d] += total


@jit
def row_block_sums(coef, X, y, sample_weight, grad, hess):
    """``data_sums`` (y given) or ``add_hessian`` (y None) over X (n, d) in row blocks.

    Each block of rows of X is transposed into scratch first.
    """
    n, d = X.shape
    buf = np.empty(BLOCK_ROWS)
    T = np.empty((d, BLOCK_ROWS), X.dtype)
    curvature = np.empty(BLOCK_ROWS)
    loss = 0.0
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        sb = None if sample_weight is None else sample_weight[start:stop]
        transpose_rows(X, None, start, stop - start, T)
        if y is None:
            curvatures(coef, T, stop - start, sb, curvature, buf)
            add_hessian(T, stop - start, curvature, hess)
        else:
            loss += data_sums(coef, T, stop - start, y[start:stop], sb, None, grad, None, buf)
    return loss


@jit
def add_weighted_gram(T, start, h, out):
    """out[j, c] += Σ_i h_i T[j, start + i] T[c, start + i] for j ≤ c < d, i < len(h).

    The upper triangle of X_b^T diag(h) X_b, T = X^T (d, ≥ start + len(h)).
    Register tiles of two rows j, j + 1 by four columns: eight independent
    vectorised dot products that share each load, with h_i applied once to
    each of the two rows.  A tile may also add to out[j + 1, j], below the
    diagonal, which the callers overwrite (``symmetrise``).
    """
    d = T.shape[0]
    stop = start + h.shape[0]
    for j in range(0, d, 2):
        a0 = T[j, start:stop]
        a1 = T[min(j + 1, d - 1), start:stop]  # odd d: the last row is paired with itself
        col = j
        while col < d:
            width = min(4, d - col)
            c0 = T[col, start:stop]
            c1 = T[col + min(1, width - 1), start:stop]  # narrow last tile: repeat a column
            c2 = T[col + min(2, width - 1), start:stop]
            c3 = T[col + min(3, width - 1), start:stop]
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            t0 = 0.0
            t1 = 0.0
            t2 = 0.0
            t3 = 0.0
            for i in range(h.shape[0]):
                x = h[i] * a0[i]
                u = h[i] * a1[i]
                s0 += x * c0[i]
                s1 += x * c1[i]
                s2 += x * c2[i]
                s3 += x * c3[i]
                t0 += u * c0[i]
                t1 += u * c1[i]
                t2 += u * c2[i]
                t3 += u * c3[i]
            sums = (s0, s1, s2, s3)
            pair = (t0, t1, t2, t3)
            for c in range(width):
                out[j, col + c] += sums[c]
                if j + 1 < d:
                    out[j + 1, col + c] += pair[c]
            col += 4


@jit
def symmetrise(hess):
    k = hess.shape[0]
    for j in range(k):
        for col in range(j + 1, k):
            hess[col, j] = hess[j, col]


@jit
def max_margin_move(T, sample_weight, step, buf):
    """max_i |x̃_i·step| over the samples (columns of T = X^T) with positive weight."""
    n = T.shape[1]
    largest = 0.0
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        transposed_margins(T, start, stop, step, intercept_of(step, T.shape[0]), buf)
        for i in range(stop - start):
            if weight_at(sample_weight, start + i) > 0.0:
                largest = max(largest, abs(buf[i]))
    return largest


@jit
def all_saturated(T, y, sample_weight, offset, coef, buf):
    """Every positive-weight sample (column of T = X^T) saturated on its label's side (``saturated_on_label``).

    ``offset`` (None or (n,)) is added to the margins.
    """
    n = T.shape[1]
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        transposed_margins(T, start, stop, coef, intercept_of(coef, T.shape[0]), buf)
        for i in range(stop - start):
            z = buf[i] if offset is None else buf[i] + offset[start + i]
            if weight_at(sample_weight, start + i) > 0.0 and not saturated_on_label(z, y[start + i]):
                return False
    return True


@jit
def gradient_weights(T, sample_weight, inv_s, out):
    """out[j] = max(1, 1/ρ_j), ρ_j = sqrt(Σ s_i x_ij² / S), 1 for the intercept and zero columns.

    The weights of ``LogisticLoss.converged``'s test, for the samples in the
    columns of T = X^T (d, n); inv_s = 1/S.
    """
    d, n = T.shape
    out[:] = 1.0
    for j in range(d):
        row = T[j]
        total = 0.0
        for i in range(n):
            total += weight_at(sample_weight, i) * row[i] * row[i]
        rms = np.sqrt(total * inv_s)
        if 0.0 < rms < 1.0:
            out[j] = 1.0 / rms


@jit
def all_finite(T):
    """True if no entry of T is NaN or ±inf (x·0 is NaN exactly for those)."""
    total = 0.0
    for j in range(T.shape[0]):
        row = T[j]
        for i in range(row.shape[0]):
            total += row[i] * 0.0
    return total == 0.0
