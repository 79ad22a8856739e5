"""Per-sample functions of the margin z, and their loops over one block of samples.

For a sample with margin z, label y ∈ [0, 1] and weight s (the seeds' stable
sigmoid and log-loss)::

    t = e^{−|z|} ∈ (0, 1],   1/(1 + t) computed once
    ℓ = softplus(z) − y z = (max(z, 0) − y z) + log1p(t)
    σ(z) = 1/(1 + t) for z ≥ 0, t/(1 + t) otherwise
    p(1 − p) = t / (1 + t)²

Every formula is exact in both tails (margins of ±1000 give finite results).
The block loops are straight-line code that LLVM vectorises (see ``vecmath``);
the dense, CSR and transposed kernels all call them.
"""

from __future__ import annotations

from .._config import jit
from .vecmath import exp_nonpositive, log1p_unit


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


@jit
def block_residuals(buf, yb, sb, ob, want_loss, curvature_out=None):
    """Turn margins into residuals in place: buf[i] = x̃_i·coef → r_i = s_i (p_i − y_i), z_i = buf[i] + o_i.

    Returns (Σ s_i ℓ_i, Σ r_i) over the block (the loss sum is 0 unless
    ``want_loss``).  ``sb=None`` means unit weights, ``ob=None`` no offset.  With ``want_loss``, a
    ``curvature_out`` array also gets h_i = s_i p_i (1 − p_i) from the same
    e^{−|z|}.  Each loop is straight-line code that LLVM vectorises; the
    ``want_loss`` test sits outside the loops for that reason.
    """
    loss_sum = 0.0
    r_sum = 0.0
    if want_loss:
        for i in range(yb.shape[0]):
            s = 1.0 if sb is None else sb[i]
            z = buf[i] if ob is None else buf[i] + ob[i]
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
            r = s * (sigmoid(buf[i] if ob is None else buf[i] + ob[i]) - yb[i])
            r_sum += r
            buf[i] = r
    return loss_sum, r_sum


@jit
def block_curvature_products(zbuf, ubuf, sb, ob, m):
    """In place: ubuf[i] = s_i p_i (1 − p_i) u_i with z_i = zbuf[i] + o_i; returns Σ."""
    total = 0.0
    for i in range(m):
        s = 1.0 if sb is None else sb[i]
        z = zbuf[i] if ob is None else zbuf[i] + ob[i]
        q = s * sample_curvature(z) * ubuf[i]
        total += q
        ubuf[i] = q
    return total


#: A margin this far on the side of a sample's 0/1 label counts as saturated
#: (σ within 3e-7 of the label): the separation test's fallback.
SATURATED_MARGIN = 15.0


@jit
def saturated_on_label(z, y):
    """The sample is predicted with |z| > SATURATED_MARGIN on the side of its 0/1 label."""
    return (y == 1.0 and z > SATURATED_MARGIN) or (y == 0.0 and z < -SATURATED_MARGIN)
