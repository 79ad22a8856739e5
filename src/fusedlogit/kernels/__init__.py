"""Compiled kernels: plain Numba loops, no validation, no Python-level dispatch.

Every kernel takes already-validated arrays (X float32/float64, C-contiguous;
coefficients and accumulators float64) and returns *unscaled sums over
samples* (no 1/S, no penalty); the backends (``fusedlogit.backends``) call
them and the objectives apply scaling and penalty.  ``sample_weight=None``
means all ones (a separate specialisation, so unweighted loops carry no test
per row).

- ``vecmath``: branch-free exp and log1p that LLVM vectorises.
- ``pointwise``: the per-sample functions of the margin z (loss, σ,
  curvature) and their loops over one block of samples.
- ``chunks``: the fixed row partition and the ordered sum of per-chunk
  partial results (bitwise identical for any thread count).
- ``dense``: row-block kernels for dense X.
- ``csr``: the same sums for CSR X, one pass over the nonzeros.
- ``transposed``: sweeps over T = X^T (d, n), for the serial Newton solver
  that ``fusedlogit.jit`` and ``fit_many`` run.

Importing this package does not import Numba; importing a module in it does
(nothing is compiled until first call).
"""
