"""How a model's coefficients lie in the flat vector the solvers see.

Every model here has ``n_rows`` rows of coefficients (1 for the binary model,
K for the multinomial one), each row [w_1 … w_d, b]: the d feature
coefficients, then the row's intercept when the model has one.  The flat
vector is the rows one after another, so coefficient j of row k is at
``k · width + j`` and the intercept of row k at ``k · width + d``.  Solvers,
paths and estimators ask a ``Layout`` for these views instead of reshaping by
hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """``n_rows`` rows of ``n_features`` coefficients, each followed by its intercept if ``fit_intercept``."""

    n_rows: int
    n_features: int
    fit_intercept: bool

    @property
    def width(self):
        """Entries of one row: n_features (+ 1 for the intercept)."""
        return self.n_features + (1 if self.fit_intercept else 0)

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
        """The intercepts, (..., n_rows): a view, or zeros without intercepts."""
        rows = self.rows(flat)
        if self.fit_intercept:
            return rows[..., self.n_features]
        return np.zeros(rows.shape[:-1])

    def largest_by_feature(self, flat):
        """max over the rows of |v| for every feature, (n_features,) (a flat v, e.g. a gradient)."""
        return np.abs(self.features(flat)).max(axis=-2)

    def flat_index(self, features=None):
        """Flat positions of the given features' coefficients (all if None) and of the intercepts, row by row."""
        columns = np.arange(self.n_features) if features is None else np.asarray(features, dtype=np.int64)
        if self.fit_intercept:
            columns = np.append(columns, self.n_features)
        return (np.arange(self.n_rows)[:, None] * self.width + columns[None, :]).ravel()
