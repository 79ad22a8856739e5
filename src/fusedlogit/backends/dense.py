"""The fused dense backend: C-contiguous X, one pass of the compiled row-block kernels per call.

The loss modules' ``Dense`` classes launch their kernels on ``n_threads``
Numba threads; where BLAS does the work (the Hessians) it runs under
``blas_limits(n_threads)`` (see ``_threads``).
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from .._threads import launch
from .._validation import as_features, check_finite
from .base import ArrayBackend


#: Set (``first_pass_checks``) while ``fit`` builds its objective: a dense backend built then leaves its check of
#: X to the first pass that reads X, which measures the columns as it goes.
_DEFER_CHECK = contextvars.ContextVar("fusedlogit_defer_check", default=False)

#: No columns: the fused pass's Hessian part then holds the intercept's entry alone.
NO_COLUMNS = np.empty(0, dtype=np.int64)


@contextlib.contextmanager
def first_pass_checks():
    """Dense backends built inside the block check X in their first pass over it instead of at construction."""
    token = _DEFER_CHECK.set(True)
    try:
        yield
    finally:
        _DEFER_CHECK.reset(token)


class DenseBackend(ArrayBackend):
    """Dense float32/float64 X, copied to C order once if it is not already.

    Building one reads X once with ``kernels.dense.column_statistics``: that
    pass checks X for NaN and infinity (a NumPy check then names the first
    one) and measures the weighted column sums and sums of squares that the
    convergence test and the solvers' scaling ask for later, so they cost no
    pass of their own.

    Built inside ``first_pass_checks`` (as ``fit`` builds its objective), it
    makes that pass later instead: the binary model's first loss+gradient
    pass measures and checks the columns as it goes
    (``kernels.dense.loss_gradient_hessian_sums``), so a fit saves a pass;
    anything else that reads X first (``X``, a Hessian, another model's
    pass, the column statistics) makes the construction's pass then, and
    ``on_check`` (the objective's pass counter) counts it.  Either way X is
    checked before any result computed from it is returned.
    """

    kind = "dense"
    sparse = False
    on_check = None

    def __init__(self, X, *args, **kwargs):
        self._check_pending = False
        super().__init__(X, *args, **kwargs)

    @property
    def X(self):
        if self._check_pending:
            self._check_now()
        return self._X

    @X.setter
    def X(self, value):
        self._X = value

    @property
    def unchecked_X(self):
        """X as held, without making a pending check (for the pass that makes it)."""
        return self._X

    shape = property(lambda self: self._X.shape)
    dtype = property(lambda self: self._X.dtype)

    @property
    def check_pending(self):
        """Whether X is still to be checked (built inside ``first_pass_checks`` and not read since)."""
        return self._check_pending

    @staticmethod
    def as_features(X):
        # a NumPy array is checked by the statistics pass of ``build``; other inputs (a DataFrame, whose
        # column names the error quotes) here
        return as_features(X, contiguous=True, finite=not isinstance(X, np.ndarray))

    @classmethod
    def build(cls, X, y, sample_weight, **options):
        backend = super().build(X, y, sample_weight, **options)
        backend._check_pending = True
        if not _DEFER_CHECK.get():
            backend._statistics()  # checks X now
        return backend

    def _check_now(self):
        """The construction's pass, made when X is first read (counted by ``on_check``)."""
        self._statistics()
        if self.on_check is not None:
            self.on_check()

    def _keep_statistics(self, statistics):
        """Keep ``column_statistics`` measured under the current weights; the pending check of X is made with them."""
        self._cached_statistics = (self.sample_weight, statistics)
        if self._check_pending:
            self._check_pending = False
            if not np.isfinite(statistics[2]).all():
                check_finite("X", self._X)  # names the first bad value

    def loss_gradient_sums(self, W, b, want_loss=True, want_grad=True):
        if self._check_pending and self.fuses_hessian:
            return self._first_pass(W, b, NO_COLUMNS)[:2]
        return super().loss_gradient_sums(W, b, want_loss, want_grad)

    def loss_gradient_hessian_sums(self, W, b, cols):
        if self._check_pending and self.fuses_hessian:
            return self._first_pass(W, b, np.asarray(cols, dtype=np.int64))[:3]
        return super().loss_gradient_hessian_sums(W, b, cols)

    def _first_pass(self, W, b, cols):
        """A pending check's pass: the loss, gradient and Hessian sums with the column statistics."""
        out = self.sums.loss_gradient_hessian(self, W, b, cols, True)
        self._keep_statistics(out[3])
        return out

    def subsample(self, step):
        from ..kernels import dense

        X = self._X
        rows = np.empty(((X.shape[0] + step - 1) // step, X.shape[1]), dtype=X.dtype)
        launch(dense.every_kth_row, self.n_threads, X, step, rows)
        try:
            return self._build_like(rows, step)
        except ValueError:
            if self._check_pending:
                self._check_now()  # a bad value among the rows: named by its place in X, not in the subsample
            raise

    def _statistics(self):
        """``column_statistics`` of X under the current weights (made once per weight vector); the first one
        made also checks X (``_keep_statistics``)."""
        cached = getattr(self, "_cached_statistics", None)
        if cached is None or cached[0] is not self.sample_weight:
            from ..kernels import dense

            self._keep_statistics(launch(dense.column_statistics, self.n_threads, self._X, self.sample_weight))
        return self._cached_statistics[1]

    @property
    def column_statistics_passes(self):
        """0 while the statistics of the current weights are kept (from ``build``), 1 after new weights."""
        cached = getattr(self, "_cached_statistics", None)
        return 0 if cached is not None and cached[0] is self.sample_weight else 1

    def column_sums(self):
        return self._statistics()[0].copy()

    def column_sum_squares(self):
        return self._statistics()[1].copy()
