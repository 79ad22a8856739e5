"""Compiled coordinate descent on the penalised quadratic model of proximal Newton (``penalised``).

At an iterate c with smooth gradient g and Hessian H, the step δ minimises::

    q(δ) = g·δ + ½ δᵀ H δ + Σ_j λ_j |c_j + δ_j|          (λ_j = l1 π_j, 0 if unpenalised)

Cyclic coordinate descent keeps Hδ up to date: coordinate j moves to the
soft-thresholded minimiser of q along e_j,

    u = c_j + δ_j − (g_j + (Hδ)_j) / H_jj,   c_j + δ_j ← sign(u) max(|u| − λ_j / H_jj, 0),

and adds H[:, j] times its change to Hδ.  As glmnet does, a full sweep
chooses the active coordinates (those that are or become nonzero, and every
unpenalised one), further sweeps run over those alone until the largest
change, in gradient units (H_jj |Δδ_j|), is at most ``tol``, then a full
sweep checks that no other coordinate wants to move.

``column_step`` is the same descent for a binary model on sparse columns,
where H = X̃ᵀ diag(D) X̃ + diag(r) (D_i the rows' curvatures, r_j the ridge)
is never formed: it keeps z = X̃ δ instead of Hδ, so that

    (Hδ)_j = Σ_i x_ij D_i z_i + r_j δ_j,

and coordinate j costs the nonzeros of column j, a sweep the nonzeros of the
working set (glmnet's covariance-free updates), not the k² of a dense H.
"""

from __future__ import annotations

import numpy as np

from .._config import jit


@jit
def _coordinate_minimiser(old, slope, curvature, lam):
    """argmin_x of slope (x − old) + ½ curvature (x − old)² + lam |x| (curvature > 0): a soft threshold."""
    u = old - slope / curvature
    shrink = lam / curvature
    if u > shrink:
        return u - shrink
    if u < -shrink:
        return u + shrink
    return 0.0


@jit
def _update(H, g, coef, lam, delta, h_delta, j):
    """Coordinate j's exact minimisation of q; returns H_jj |change| (0 if H_jj ≤ 0)."""
    a = H[j, j]
    if not a > 0.0:
        return 0.0
    old = coef[j] + delta[j]
    change = _coordinate_minimiser(old, g[j] + h_delta[j], a, lam[j]) - old
    if change != 0.0:
        delta[j] += change
        for i in range(H.shape[0]):
            h_delta[i] += H[i, j] * change
    return a * abs(change)


@jit
def quadratic_step(H, g, coef, lam, delta, tol, max_sweeps):
    """δ ≈ argmin q (see the module), written into ``delta`` (start: its content); returns the sweeps made."""
    k = H.shape[0]
    h_delta = np.zeros(k)
    for j in range(k):
        if delta[j] != 0.0:
            for i in range(k):
                h_delta[i] += H[i, j] * delta[j]
    active = np.zeros(k, dtype=np.bool_)
    sweeps = 0
    while sweeps < max_sweeps:
        # full sweep: every coordinate, and it sets the active set
        largest = 0.0
        for j in range(k):
            largest = max(largest, _update(H, g, coef, lam, delta, h_delta, j))
            active[j] = lam[j] == 0.0 or coef[j] + delta[j] != 0.0
        sweeps += 1
        if largest <= tol:
            break
        while sweeps < max_sweeps:  # sweeps over the active set alone
            largest = 0.0
            for j in range(k):
                if active[j]:
                    largest = max(largest, _update(H, g, coef, lam, delta, h_delta, j))
            sweeps += 1
            if largest <= tol:
                break
    return sweeps


@jit
def _column_product(data, indices, indptr, curvature, ridge, z, v, j):
    """(H v)_j = Σ_i x_ij D_i z_i + r_j v_j for H = X̃ᵀ diag(D) X̃ + diag(r), given z = X̃ v."""
    total = ridge[j] * v[j]
    for p in range(indptr[j], indptr[j + 1]):
        i = indices[p]
        total += data[p] * curvature[i] * z[i]
    return total


@jit
def _column_update(data, indices, indptr, curvature, diagonal, ridge, g, coef, lam, delta, z, j):
    """``_update`` for column j of sparse X̃ (CSC arrays), keeping z = X̃ δ."""
    a = diagonal[j]
    if not a > 0.0:
        return 0.0
    h_delta = _column_product(data, indices, indptr, curvature, ridge, z, delta, j)
    old = coef[j] + delta[j]
    change = _coordinate_minimiser(old, g[j] + h_delta, a, lam[j]) - old
    if change != 0.0:
        delta[j] += change
        for p in range(indptr[j], indptr[j + 1]):
            z[indices[p]] += data[p] * change
    return a * abs(change)


@jit
def _combination(data, indices, indptr, v, n):
    """X̃ v, (n,), from X̃'s CSC arrays."""
    z = np.zeros(n)
    for j in range(indptr.size - 1):
        if v[j] != 0.0:
            for p in range(indptr[j], indptr[j + 1]):
                z[indices[p]] += data[p] * v[j]
    return z


@jit
def column_products(data, indices, indptr, curvature, ridge, v, rows, out):
    """out = (H v)[rows] for H = X̃ᵀ diag(D) X̃ + diag(r), X̃ given by its CSC arrays; v over all its columns."""
    z = _combination(data, indices, indptr, v, curvature.size)
    for c in range(rows.size):
        out[c] = _column_product(data, indices, indptr, curvature, ridge, z, v, rows[c])


@jit
def column_diagonal(data, indices, indptr, curvature, ridge):
    """H_jj = Σ_i D_i x_ij² + r_j for every column of the CSC arrays."""
    k = indptr.size - 1
    out = np.empty(k)
    for j in range(k):
        total = ridge[j]
        for p in range(indptr[j], indptr[j + 1]):
            total += curvature[indices[p]] * data[p] * data[p]
        out[j] = total
    return out


@jit
def column_step(data, indices, indptr, curvature, ridge, diagonal, g, coef, lam, delta, tol, max_sweeps):
    """``quadratic_step`` with H = X̃ᵀ diag(D) X̃ + diag(r) given by X̃'s CSC arrays and H's diagonal."""
    k = indptr.size - 1
    z = _combination(data, indices, indptr, delta, curvature.size)
    active = np.zeros(k, dtype=np.bool_)
    sweeps = 0
    while sweeps < max_sweeps:
        largest = 0.0
        for j in range(k):
            largest = max(largest, _column_update(data, indices, indptr, curvature, diagonal, ridge, g, coef, lam,
                                                  delta, z, j))
            active[j] = lam[j] == 0.0 or coef[j] + delta[j] != 0.0
        sweeps += 1
        if largest <= tol:
            break
        while sweeps < max_sweeps:
            largest = 0.0
            for j in range(k):
                if active[j]:
                    largest = max(largest, _column_update(data, indices, indptr, curvature, diagonal, ridge, g,
                                                          coef, lam, delta, z, j))
            sweeps += 1
            if largest <= tol:
                break
    return sweeps
