"""Standard errors of an unpenalised fit: the model-based and the sandwich covariances, and the summary table.

For coefficients θ = [w..., b] at the maximum-likelihood estimate, with
A = Σ s_i p_i(1−p_i) x̃_i x̃_iᵀ (the Hessian of Σ s_i ℓ_i) and the score of row
i, g_i = s_i (p_i − y_i) x̃_i::

    nonrobust   A⁻¹
    HC0         A⁻¹ (Σ_i g_i g_iᵀ) A⁻¹                                   (White / Huber)
    HC1         HC0 · n / (n − k)
    cluster     A⁻¹ (Σ_g G_g G_gᵀ) A⁻¹ · G/(G − 1) · (n − 1)/(n − k),   G_g = Σ_{i ∈ g} g_i

n counts the rows of positive weight, k = n_coef and G the number of
groups of positive total weight (rows of zero weight have g_i = 0 and play
no part: they neither add a group nor count in n).  HC0 and cluster are
statsmodels' ``Logit.fit(cov_type="HC0" | "cluster")`` with its default
small-sample correction; HC1 is HC0 with the degrees-of-freedom factor
n/(n − k) of linear regression (statsmodels leaves HC1 uncorrected for
nonlinear models).  With sample weights, g_i carries s_i
once, as for sampling weights (Stata's pweights).  The middle terms are one
pass over X each (``ArrayBackend.score_gram_sums`` / ``score_group_sums``).

The robust covariances are invariant to scaling every s_i by one constant c
(A grows by c, the middle by c²), the model-based one is not (it treats s_i
as frequencies).  The middle terms square the weights, so they are formed
with s_i / c, c a power of two within a factor 2 of max s_i, and the bread
scaled to match: weights of 1e-200 or 1e200 give the covariance of weights
near 1 instead of under- or overflowing.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._threads import blas_limits
from .._validation import as_groups
from ..exceptions import SeparationWarning

#: Standard errors need the dense n_coef × n_coef Hessian and its inverse
#: (about 3 · 8 · n_coef² bytes of working memory, 0.6 GB here): above this many
#: coefficients ``fit`` computes neither, nor the separation test.
INFERENCE_MAX_COEF = 5000

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")


def group_codes(groups, n_samples, sample_weight=None):
    """(codes as intp (n_samples,), G): the clusters of positive total weight numbered 0..G−1; G ≥ 2.

    Rows of zero weight get code 0: their scores are 0, so they add nothing
    to any cluster, and a cluster of them alone is not counted in G.
    """
    if not hasattr(groups, "dtype"):
        # NumPy would turn a list of ints and strings into strings, making 1 and "1" one cluster
        labels = np.asarray(groups)
        groups = np.asarray(groups, dtype=object) if labels.dtype.kind in "US" else labels
    groups = as_groups(groups, n_samples)
    keep = None if sample_weight is None else np.asarray(sample_weight > 0).ravel()  # dask: computed here
    kept = _factorise(groups if keep is None else groups[keep])
    n_groups = int(kept.max()) + 1 if kept.size else 0
    if n_groups < 2:
        raise ValueError(
            "groups: cluster-robust standard errors need at least 2 groups with rows of positive weight, "
            f"got {n_groups}"
        )
    if keep is None:
        return kept, n_groups
    codes = np.zeros(n_samples, dtype=np.intp)
    codes[keep] = kept
    return codes, n_groups


def _factorise(labels):
    """Codes 0..G−1 (intp) numbering the distinct labels.

    In sorted order, or where the labels do not sort together (ints beside
    strings), in order of first appearance, found by hashing.
    """
    try:
        _, codes = np.unique(labels, return_inverse=True)
        return codes.astype(np.intp).ravel()
    except TypeError:
        pass
    first = {}
    try:
        return np.fromiter((first.setdefault(label, len(first)) for label in labels), np.intp, len(labels))
    except TypeError as error:  # neither sortable nor hashable (lists, arrays)
        raise ValueError(f"groups: the labels must be sortable or hashable values ({error})") from None


def _unit_weights(objective):
    """(c, the objective with sample weights s_i / c): c = 2^(e−1) ≤ max s_i < 2^e, so s_i / c < 2.

    A power of two keeps s_i / c exact (``weights_divided``: X, y and the
    caller's weights are shared and not touched).
    """
    top = objective.largest_weight()
    if top is None or not top > 0:
        return 1.0, objective
    c = float(np.ldexp(0.5, int(np.frexp(top)[1])))  # 2^(e−1) ≤ top < 2^e, and finite up to top ~ 1.8e308
    if c == 1.0:
        return 1.0, objective
    return c, objective.weights_divided(c)


def sandwich(objective, coef, bread, cov_type, groups=None):
    """The covariance of type ``cov_type`` from the model-based one, ``bread`` = A⁻¹ (see the module docstring).

    ``groups`` are the codes of ``group_codes`` for "cluster".  The robust
    types are computed with the weights s_i / c (``_unit_weights``), for
    which the bread is c·A⁻¹: the result is the same, without Σ s_i² under-
    or overflowing.
    """
    if cov_type == "nonrobust":
        return bread
    n, k = objective.n_observations(), objective.n_coef
    c, unit = _unit_weights(objective)
    bread = bread * c
    if cov_type == "cluster":
        codes, n_groups = groups
        C = unit.score_group_sums(coef, n_groups, codes)
        middle = C.T @ C
        correction = n_groups / (n_groups - 1.0) * (n - 1.0) / (n - k)
    else:
        middle = unit.score_gram(coef)
        correction = n / (n - k) if cov_type == "HC1" else 1.0
    cov = bread @ middle @ bread * correction
    return 0.5 * (cov + cov.T)


def coefficient_table(names, params, stderr, z, p, intervals):
    """Rows (name, coef, std err, z, P>|z|, lower, upper) of the summary as formatted strings (flat inputs)."""
    return [
        (name, f"{c:.4f}", f"{s:.4f}", f"{zz:.3f}", f"{pp:.3f}", f"{lo:.4f}", f"{hi:.4f}")
        for name, c, s, zz, pp, (lo, hi) in zip(names, params, stderr, z, p, intervals)
    ]


def format_table(header, rows):
    """Columns right-aligned (the first left-aligned), separated by two spaces."""
    widths = [max(len(str(r[j])) for r in [header, *rows]) for j in range(len(header))]

    def line(r):
        return "  ".join(str(v).ljust(widths[0]) if j == 0 else str(v).rjust(widths[j]) for j, v in enumerate(r))

    return [line(header), "-" * len(line(header))] + [line(r) for r in rows]


#: ``flat_separating_direction``: a direction whose curvature at the solution is at most this
#: fraction of its curvature at the start (every row it moves has p(1−p) ≲ 1e-10 there) is flat.
FLAT_CURVATURE_RATIO = 1e-10
#: ... among the directions whose curvature at the start is above this fraction of the largest
#: (below it, columns that are (nearly) collinear in X̃, which flatten H wherever it is taken).
START_RANGE_RATIO = 1e-10

SINGULAR_SEPARATION_MESSAGE = (
    "separation: with l2=0 the classes are (quasi-)perfectly separable, so the maximum-likelihood estimate "
    "does not exist: the Hessian at the returned coefficients is singular along a direction that moves the "
    "margins of rows predicted with certainty (the loss keeps decreasing along it); the finite coefficients "
    "returned are arbitrary in that direction and stderr is NaN; use l2 > 0"
)


def flat_separating_direction(problem, coef):
    """Whether H(coef), singular at a converged l2 = 0 point, is flat where H at the start is not.

    Newton's separation test (``newton_core.is_separated``) needs a Newton
    step, and where H is numerically singular its shifted factor caps that
    step below the test's threshold: a first-order solver (lbfgs) that runs
    far along a separating direction before ∇J ≤ tol stops there unflagged.
    Such a direction v moves margins (vᵀH₀v > 0 at the start, where no row
    is saturated) yet has vᵀHv ≈ 0, because every row it moves is predicted
    with certainty; a direction of collinear columns is flat in H₀ too.  So:
    the smallest generalised eigenvalue of (H, H₀) on the range of H₀, both
    equilibrated by diag H₀, is at most ``FLAT_CURVATURE_RATIO``.  Costs two
    Hessians and an eigendecomposition, and runs only where H did not factor.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # huge columns: H overflows, and is not judged
        H0 = problem.hessian(problem.initial_coef())
        H = problem.hessian(coef)
        scale = np.sqrt(np.diag(H0))
        scale[~(scale > 0)] = 1.0
        H0 = H0 / scale[:, None] / scale[None, :]
        H = H / scale[:, None] / scale[None, :]
    if not (np.all(np.isfinite(H0)) and np.all(np.isfinite(H))):
        return False
    with blas_limits(problem.n_threads):
        lam, vectors = np.linalg.eigh(H0)
        keep = lam > START_RANGE_RATIO * lam[-1]
        basis = vectors[:, keep] / np.sqrt(lam[keep])  # H₀-orthonormal directions
        return bool(np.linalg.eigvalsh(basis.T @ H @ basis)[0] <= FLAT_CURVATURE_RATIO)


def mle_covariance(objective, coef, grad, converged):
    """(cov, separated): cov = (S · H_J)⁻¹, the inverse Hessian of Σ s_i ℓ_i (l2 = 0), or None.

    None when H is singular or the separation test fires (then ``separated``).

    H_J is factored by ``newton_core.factor_hessian`` without a shift
    (equilibrated Cholesky: accurate even for cond(H) ~ 1e12 from column
    scales), and the separation test is ``newton_core.is_separated``, the
    same as for ``fit_many`` and ``fusedlogit.jit``.
    """
    from .newton import HessianFactor
    from .newton_core import MAX_SHIFTS, is_separated

    H = objective.hessian(coef)
    exact = HessianFactor(H, max_shifts=1)
    move = 0.0
    if converged:
        factor = exact if exact.factored else HessianFactor(H, MAX_SHIFTS)
        move = objective.max_margin_move(factor.newton_step(grad))
    saturated = not converged and objective.saturated(coef)
    if is_separated(converged, move, saturated):
        warnings.warn(
            "separation: with l2=0 the classes are (quasi-)perfectly separable, so the maximum-likelihood "
            "estimate does not exist (the loss keeps decreasing as |coef| grows); the finite coefficients "
            "returned are arbitrary in that direction and stderr is NaN; use l2 > 0",
            SeparationWarning,
            stacklevel=3,
        )
        return None, True
    if not exact.factored:
        return None, False
    with blas_limits(objective.n_threads):  # O(n_coef³): BLAS does the work here
        return exact.inverse() / objective.sum_weights, False
