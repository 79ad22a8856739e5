"""Standard errors of an unpenalised fit: the model-based and the sandwich covariances, and the summary table.

For coefficients θ = [w..., b] at the maximum-likelihood estimate, with
A = Σ s_i p_i(1−p_i) x̃_i x̃_iᵀ (the Hessian of Σ s_i ℓ_i) and the score of row
i, g_i = s_i (p_i − y_i) x̃_i::

    nonrobust   A⁻¹
    HC0         A⁻¹ (Σ_i g_i g_iᵀ) A⁻¹                                   (White / Huber)
    HC1         HC0 · n / (n − k)
    cluster     A⁻¹ (Σ_g G_g G_gᵀ) A⁻¹ · G/(G − 1) · (n − 1)/(n − k),   G_g = Σ_{i ∈ g} g_i

n counts the rows of positive weight, k = n_coef and G the number of
groups.  HC0 and cluster are statsmodels' ``Logit.fit(cov_type="HC0" |
"cluster")`` with its default small-sample correction; HC1 is HC0 with the
degrees-of-freedom factor n/(n − k) of linear regression (statsmodels leaves
HC1 uncorrected for nonlinear models).  With sample weights, g_i carries s_i
once, as for sampling weights (Stata's pweights).  The middle terms are one
pass over X each (``ArrayBackend.score_gram_sums`` / ``score_group_sums``).
"""

from __future__ import annotations

import numpy as np

from .._validation import as_groups

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")


def group_codes(groups, n_samples):
    """(codes 0..G−1 as intp, G) for the caller's labels; at least two groups."""
    groups = as_groups(groups, n_samples)
    _, codes = np.unique(groups, return_inverse=True)
    n_groups = int(codes.max()) + 1 if n_samples else 0
    if n_groups < 2:
        raise ValueError(f"groups: cluster-robust standard errors need at least 2 groups, got {n_groups}")
    return codes.astype(np.intp).ravel(), n_groups


def sandwich(objective, coef, bread, cov_type, groups=None):
    """The covariance of type ``cov_type`` from the model-based one, ``bread`` = A⁻¹ (see the module docstring).

    ``groups`` are the codes of ``group_codes`` for "cluster".
    """
    if cov_type == "nonrobust":
        return bread
    n, k = objective.n_observations(), objective.n_coef
    if cov_type == "cluster":
        codes, n_groups = groups
        C = objective.score_group_sums(coef, n_groups, codes)
        middle = C.T @ C
        correction = n_groups / (n_groups - 1.0) * (n - 1.0) / (n - k)
    else:
        middle = objective.score_gram(coef)
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
