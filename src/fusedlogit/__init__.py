"""fusedlogit: fused one-pass kernels for logistic regression.

Importing the package compiles nothing and does not import Numba; the
compiled kernels are built on first use and cached on disk.
"""

from .exceptions import ConvergenceWarning, SeparationWarning
from .many import ManyFitResult, fit_many
from .multinomial import MultinomialLoss
from .objective import LogisticLoss, check_gradient, predict_proba
from .ordinal import OrdinalLoss
from .precompile import precompile
from .solvers import CVResult, FitResult, PathResult, cv, fit, path

__version__ = "0.2.0"

__all__ = [
    "CVResult",
    "ConvergenceWarning",
    "FitResult",
    "LogisticLoss",
    "ManyFitResult",
    "MultinomialLoss",
    "OrdinalLoss",
    "PathResult",
    "SeparationWarning",
    "check_gradient",
    "cv",
    "fit",
    "fit_many",
    "path",
    "precompile",
    "predict_proba",
    "__version__",
]
