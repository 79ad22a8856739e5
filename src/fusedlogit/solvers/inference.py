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

import numpy as np

from .._validation import as_groups

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
