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
"""

from __future__ import annotations

import numpy as np

from .._config import jit


@jit
def _update(H, g, coef, lam, delta, h_delta, j):
    """Coordinate j's exact minimisation of q; returns H_jj |change| (0 if H_jj ≤ 0)."""
    a = H[j, j]
    if not a > 0.0:
        return 0.0
    old = coef[j] + delta[j]
    u = old - (g[j] + h_delta[j]) / a
    shrink = lam[j] / a
    new = 0.0
    if u > shrink:
        new = u - shrink
    elif u < -shrink:
        new = u + shrink
    change = new - old
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
