"""Optional dependencies: an import that fails says which extra to install."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def needs_extra(feature: str, package: str, extra: str):
    """Re-raise a failed import inside the block with the ``pip install`` line of ``extra``.

    ``feature`` is what needs it ("fusedlogit.sklearn"), ``package`` the
    distribution's name as users know it ("scikit-learn").
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"{feature} needs {package}, which is not installed ({exc}): pip install \"fusedlogit[{extra}]\"",
            name=exc.name,
        ) from exc
