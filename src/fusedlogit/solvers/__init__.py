"""Solvers: ``fit`` and the algorithms it runs, each a plain function over the objective.

- ``fitting``: ``fit``, the public entry point; ``results``: ``FitResult``;
  ``registry``: the solvers fit can run, "auto"'s choice, finishing a stalled run;
- ``inference``: covariances (model-based, robust), the separation tests, the summary table;
- ``newton``, ``newton_cg``, ``lbfgs``, ``gd``: one algorithm each;
- ``penalised`` (with the compiled ``cd_core``): solver "cd", proximal Newton
  for L1 / elastic-net penalties; ``paths``: ``path`` over a grid of them; ``cv``: its cross-validation;
- ``common``: options, output (with the status: why a solver stopped),
  progress lines and the Armijo line search;
- ``scaling``: the implicitly standardised coordinates that lbfgs and
  newton-cg work in;
- ``newton_core``: the compiled pieces every Newton fit shares (direction,
  step acceptance, separation test);
- ``compiled``: the serial compiled Newton solver that ``fusedlogit.jit`` and
  ``fit_many`` run on transposed samples.

Importing this package does not import Numba.
"""

from ..exceptions import ConvergenceWarning, SeparationWarning
from .fitting import fit
from .registry import AUTO_NEWTON_MAX_COEF, DEFAULT_MAX_ITER, SOLVER_FUNCTIONS, SOLVERS, resolve_solver
from .results import FitResult
from .cv import CVResult, cv
from .paths import PathResult, path

__all__ = [
    "AUTO_NEWTON_MAX_COEF",
    "CVResult",
    "DEFAULT_MAX_ITER",
    "SOLVERS",
    "SOLVER_FUNCTIONS",
    "ConvergenceWarning",
    "FitResult",
    "PathResult",
    "SeparationWarning",
    "cv",
    "fit",
    "path",
    "resolve_solver",
]
