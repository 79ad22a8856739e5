"""Warnings the fits emit."""


class ConvergenceWarning(UserWarning):
    """A solver stopped before max|∇J| ≤ tol (iteration limit or stalled)."""


class SeparationWarning(ConvergenceWarning):
    """Without penalty the data are (quasi-)separable: no finite MLE exists."""
