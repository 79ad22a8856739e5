"""How a model's coefficients lie in the flat vector the solvers see.

Every model here has ``n_rows`` rows of coefficients (1 for the binary and
ordinal models, K for the multinomial one), each row [w_1 … w_d, c_1 … c_m]:
the d feature coefficients, then the row's m unpenalised constants.  Those
are one intercept b (added to the row's margins, x·w + b) when the model has
one, or the K − 1 thresholds θ of the ordinal model (from which the margin is
subtracted, θ_k − x·w: ``intercept_sign`` = −1).  The flat vector is the rows
one after another, so coefficient j of row k is at ``k · width + j``.
Solvers, paths and estimators ask a ``Layout`` for these views instead of
reshaping by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """``n_rows`` rows of ``n_features`` coefficients, each followed by its ``n_intercepts`` constants
    (one intercept if ``fit_intercept``, none otherwise, unless given)."""

    n_rows: int
    n_features: int
    fit_intercept: bool
    n_intercepts: int | None = None
    #: +1: the constants are added to the margin x·w (intercepts); −1: the margin is subtracted from them
    intercept_sign: int = 1

    def __post_init__(self):
        if self.n_intercepts is None:
            object.__setattr__(self, "n_intercepts", 1 if self.fit_intercept else 0)

    @property
    def width(self):
        """Entries of one row: n_features + n_intercepts."""
        return self.n_features + self.n_intercepts

    @property
    def n_coef(self):
        return self.n_rows * self.width

    def rows(self, flat):
        """The (n_rows, width) view of a flat vector (or of the last axis of a stack of them: (..., n_rows, width))."""
        a = np.asarray(flat)
        return a.reshape(a.shape[:-1] + (self.n_rows, self.width))

    def features(self, flat):
        """The feature coefficients, (..., n_rows, n_features): a view."""
        return self.rows(flat)[..., : self.n_features]

    def intercepts(self, flat):
        """The intercepts, (..., n_rows): a view, or zeros without intercepts; several constants a row
        (thresholds): (..., n_rows, n_intercepts)."""
        rows = self.rows(flat)
        if self.n_intercepts == 1:
            return rows[..., self.n_features]
        if self.n_intercepts == 0:
            return np.zeros(rows.shape[:-1])
        return rows[..., self.n_features :]

    def largest_by_feature(self, flat):
        """max over the rows of |v| for every feature, (n_features,) (a flat v, e.g. a gradient)."""
        return np.abs(self.features(flat)).max(axis=-2)

    def flat_index(self, features=None):
        """Flat positions of the given features' coefficients (all if None) and of the constants, row by row."""
        columns = np.arange(self.n_features) if features is None else np.asarray(features, dtype=np.int64)
        columns = np.append(columns, np.arange(self.n_features, self.width))
        return (np.arange(self.n_rows)[:, None] * self.width + columns[None, :]).ravel()

    def penalty_weights(self, feature_weights):
        """π for every flat coefficient: the per-feature weights in every row, 0 at the constants."""
        row = np.zeros(self.width)
        row[: self.n_features] = feature_weights
        return np.tile(row, self.n_rows)
