"""``precompile()``: build the common kernels ahead of their first use."""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def _model_calls(loss, X, y, weights, intercepts=(True, False), **fit_options):
    """``loss``'s methods and every smooth solver's fit, with and without weights, for each of ``intercepts``
    (None: the model takes no ``fit_intercept``)."""
    from . import fit

    for sample_weight in (None, weights):
        for fit_intercept in intercepts:
            given = {} if fit_intercept is None else {"fit_intercept": fit_intercept}
            objective = loss(X, y, sample_weight=sample_weight, **given)
            coef = objective.initial_coef()
            objective.loss_gradient(coef)
            objective.gradient(coef)
            objective.hessp(coef, coef)
            objective.hessian(coef)
            for solver in ("newton", "newton-cg", "lbfgs"):
                fit(X, y, sample_weight=sample_weight, solver=solver, **given, **fit_options)


def _binary_calls(X, y, weights, many):
    from . import fit_many
    from .objective import LogisticLoss

    _model_calls(LogisticLoss, X, y, weights)
    if many:
        for sample_weight in (None, weights):
            fit_many(X, y, np.arange(len(y)) % 2, sample_weight=sample_weight, l2=1e-3)


def _multinomial_calls(X, labels, weights):
    from .multinomial import MultinomialLoss

    _model_calls(MultinomialLoss, X, labels, weights, l2=1e-3)


def _ordinal_calls(X, levels, weights):
    from .ordinal import OrdinalLoss

    _model_calls(OrdinalLoss, X, levels, weights, intercepts=(None,), model="ordinal")


def _table(X, n_levels=(3, 2)):
    """A tiny table design (``tables.CategoricalMatrix``) beside the numeric columns X."""
    from .tables import CategoricalMatrix

    codes = [np.arange(X.shape[0]) % (k + 1) for k in n_levels]  # the last code: the slot without coefficient
    return CategoricalMatrix.from_codes(np.ascontiguousarray(X), codes, n_levels)


def precompile(*, sparse=True, many=True, multinomial=True, ordinal=True, tables=True, verbose=None):
    """Compile (or load from the on-disk cache) the kernels that common calls use; returns seconds taken.

    Covers ``LogisticLoss`` (loss, gradient, hessp, hessian) and ``fit`` with
    every smooth solver on float64 and float32 dense X, with and without
    sample weights and intercept; with ``multinomial``, the same for
    ``MultinomialLoss`` and three-class fits; with ``ordinal``, for
    ``OrdinalLoss`` and three-level fits; with ``sparse``, all of it on
    CSR X too; with ``many``, ``fit_many``; with ``tables``, the binary
    and multinomial models on a table with categorical columns (``tables``;
    the ordinal model there uses the CSR kernels).  Each is run once on a tiny
    problem, so the first call on real data pays no compile.  Useful before
    timing, and in a process that forks workers.

    ``verbose`` (default: unless ``FUSEDLOGIT_QUIET`` is set) prints one line
    per group of kernels on stderr as it goes: a cold build takes minutes.
    """
    from ._config import QUIET

    verbose = not QUIET if verbose is None else bool(verbose)
    rng = np.random.default_rng(0)
    X64 = rng.standard_normal((64, 3))
    y = (rng.random(64) < 0.5).astype(np.float64)
    labels = np.arange(64) % 3
    weights = rng.uniform(0.5, 1.5, 64)
    inputs = [("dense float64", X64), ("dense float32", X64.astype(np.float32))]
    if sparse:
        import scipy.sparse as sp

        inputs += [(f"CSR {X.dtype}", sp.csr_matrix(X, dtype=X.dtype)) for _, X in inputs]
    steps = [(f"binary, {kind}", lambda X=X: _binary_calls(X, y, weights, many and not hasattr(X, "tocsr")))
             for kind, X in inputs]
    if tables:
        steps += [(f"binary, table {X.dtype}", lambda X=X: _binary_calls(_table(X), y, weights, False))
                  for _, X in inputs[:2]]
        if multinomial:
            steps += [(f"multinomial, table {X.dtype}", lambda X=X: _multinomial_calls(_table(X), labels, weights))
                      for _, X in inputs[:2]]
    if multinomial:
        steps += [(f"multinomial, {kind}", lambda X=X: _multinomial_calls(X, labels, weights)) for kind, X in inputs]
    if ordinal:
        steps += [(f"ordinal, {kind}", lambda X=X: _ordinal_calls(X, labels, weights)) for kind, X in inputs]

    start = time.perf_counter()
    if verbose:
        print(f"fusedlogit.precompile: {len(steps)} groups of kernels to compile or load from the cache "
              "(minutes when nothing is cached)", file=sys.stderr, flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, (what, call) in enumerate(steps, 1):
            call()
            if verbose:
                print(f"fusedlogit.precompile: [{k}/{len(steps)}] {what} ready ({time.perf_counter() - start:.0f} s)",
                      file=sys.stderr, flush=True)
    return time.perf_counter() - start
