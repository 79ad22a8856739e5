"""The parallel layout shared by the dense and CSR kernels.

Rows are split into a fixed number of contiguous chunks that depends on ``n``
only, never on the thread count; each chunk accumulates into its own row of a
``(n_chunks, k)`` array, and ``reduce_chunks`` adds the rows serially, in
order.  Results are therefore bitwise identical for any number of threads.
"""

from __future__ import annotations

import numpy as np

from .._config import jit

#: At most this many chunks (partial sums): enough to balance 16+ threads,
#: few enough that the partial sums stay O(d).
MAX_CHUNKS = 64
#: A chunk holds at least this many rows, so small problems use few chunks.
MIN_CHUNK_ROWS = 2048


@jit
def partition(n):
    """(number of chunks, rows per chunk); a function of ``n`` alone."""
    n_chunks = min(MAX_CHUNKS, max(1, (n + MIN_CHUNK_ROWS - 1) // MIN_CHUNK_ROWS))
    chunk = (n + n_chunks - 1) // n_chunks
    return n_chunks, chunk


@jit
def reduce_chunks(acc):
    """Σ_c acc[c] for acc of shape (n_chunks, k), added in chunk order (reproducible)."""
    n_chunks, k = acc.shape
    total = np.zeros(k)
    for c in range(n_chunks):  # fixed order: bitwise reproducible
        for j in range(k):
            total[j] += acc[c, j]
    return total
