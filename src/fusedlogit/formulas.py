"""Formulas: ``fit("y ~ age + C(occupation)", data=df)``, with the ``formulaic`` library (an optional extra).

A term that is one categorical factor — ``C(column)``, or a column of
categories or strings — becomes a categorical column of the design
(``tables``: its codes, never one-hot floats), coded and named as formulaic
codes and names it (``C(occupation)[T.2.0]`` when its first level is
dropped, ``C(occupation)[2.0]`` when not).  Every other term (numeric
columns, transforms such as ``np.log(x)``, interactions among numeric
columns) is materialised by formulaic.  A formula whose interactions
involve a categorical factor is materialised whole, as formulaic's sparse
model matrix.  The intercept is the formula's (``1``, ``- 1``, ``0 +``) and
is named ``Intercept``.
"""

from __future__ import annotations

import dataclasses
import re

from .tables import Coding, resolve_drop_first

#: a term ``C(name)`` with nothing but a column name inside
_PLAIN_C = re.compile(r"^C\(\s*([^,()]+?)\s*\)$")

#: the name the intercept of a formula gets
INTERCEPT_NAME = "Intercept"


def _formulaic():
    try:
        import formulaic
    except ImportError as error:  # pragma: no cover - the extra is installed where formulas are tested
        raise ImportError(
            "formulas need the formulaic library: pip install 'fusedlogit[formulas]' (or pip install formulaic)"
        ) from error
    return formulaic


@dataclasses.dataclass(frozen=True)
class FormulaCoding:
    """A formula's right-hand side as a design: formulaic's spec of the materialised terms, the categorical
    terms (expression → column), and the ``Coding`` of the table they make together."""

    formula: str
    spec: object  # formulaic ModelSpec of the materialised terms, or None
    factors: tuple  # (expression, column) of each categorical term
    coding: Coding | None  # None: the whole formula materialised (``spec`` then covers it)
    fit_intercept: bool
    intercept_name: str = INTERCEPT_NAME

    @property
    def feature_names(self):
        if self.coding is None:
            return tuple(name for name in self.spec.column_names if name != INTERCEPT_NAME)
        return self.coding.feature_names

    def design_weights(self, weights):
        """As ``tables.Coding.design_weights``, the categorical terms named by their expressions (``C(x)``)."""
        return weights if self.coding is None else self.coding.design_weights(weights)

    def encode(self, data, unseen="error", allow_empty=False):
        """The design of this formula's right-hand side on the table ``data`` (for prediction)."""
        frame = self._table(data)
        if self.coding is None:
            return _without_intercept(frame)
        return self.coding.encode(frame, unseen=unseen, allow_empty=allow_empty)

    def _table(self, data):
        import pandas as pd

        from .tables import table_columns

        if self.coding is None:
            return self.spec.get_model_matrix(_as_pandas(data), na_action="ignore")
        columns = dict(table_columns(data))
        frame = {}
        if self.spec is not None:
            frame.update(self.spec.get_model_matrix(_as_pandas(data), na_action="ignore").items())
        for expression, column in self.factors:
            if column not in columns:
                raise ValueError(f"data lacks the column {column!r} of the formula's term {expression}")
            frame[expression] = columns[column]
        return pd.DataFrame(frame)


def _as_pandas(data):
    from .tables import table_columns

    import pandas as pd

    if type(data).__module__.split(".")[0] == "pandas":
        return data
    return pd.DataFrame(dict(table_columns(data)))


def _without_intercept(matrix):
    """A formulaic sparse model matrix as CSR, without its intercept column."""
    from scipy import sparse

    names = list(matrix.model_spec.column_names)
    X = sparse.csr_matrix(matrix)
    keep = [j for j, name in enumerate(names) if name != INTERCEPT_NAME]
    return X[:, keep]


def formula_design(formula, data, y, *, drop_first=None, missing="error", penalised=False, fit_intercept=True):
    """(X, y, fit_intercept, FormulaCoding) of ``formula`` on the table ``data``.

    y comes from the formula's left-hand side (then the y argument must be
    None) or, for a formula without one, from the y argument.  The
    intercept is the formula's: ``fit_intercept=False`` beside a formula
    with an intercept is refused (write ``- 1`` in the formula).
    """
    from .tables import is_table, table_columns

    formulaic = _formulaic()
    if data is None or not is_table(data):
        raise ValueError(f"a formula X needs data=, a table (a pandas or polars DataFrame, a pyarrow Table), got "
                         f"{type(data).__name__}")
    frame = _as_pandas(data)
    parsed = formulaic.Formula(formula)
    rhs = parsed.rhs if hasattr(parsed, "rhs") else parsed
    if hasattr(parsed, "lhs"):
        if y is not None:
            raise ValueError("y is given twice: by the formula's left-hand side and by the y argument")
        response = formulaic.model_matrix("0 + " + str(parsed.lhs), frame, na_action="ignore")
        if response.shape[1] != 1:
            raise ValueError(f"the formula's left-hand side must be one column, got {list(response.columns)}")
        y = response.iloc[:, 0].to_numpy()
    elif y is None:
        raise ValueError("y is needed: give the formula a left-hand side ('y ~ ...') or pass y")
    terms = list(rhs)
    has_intercept = any(str(term) == "1" for term in terms)
    if not fit_intercept and has_intercept:
        raise ValueError("fit_intercept=False, but the formula has an intercept: write '- 1' (or '0 +') in it")
    columns = dict(table_columns(data))
    factors, other = [], []
    for term in terms:
        if str(term) == "1":
            continue
        column = _categorical_column(term, columns)
        if column is not None:
            factors.append((str(term), column))
        else:
            other.append(term)
    interacting = any(len(term.factors) > 1 and any(_categorical_column_of(f, columns) for f in term.factors)
                      for term in other)
    if interacting:  # formulaic's coding of such interactions depends on the whole formula: it materialises it
        matrix = formulaic.model_matrix(str(rhs), frame, na_action="ignore", output="sparse")
        coding = FormulaCoding(formula, matrix.model_spec, (), None, has_intercept)
        return _without_intercept(matrix), y, has_intercept, coding
    spec = None
    table = {}
    if other:
        matrix = formulaic.model_matrix("0 + " + " + ".join(str(term) for term in other), frame, na_action="ignore")
        spec = matrix.model_spec
        table.update(matrix.items())
    for expression, column in factors:
        series = columns[column]
        table[expression] = series if _is_category(series) else series.astype("category")
    import pandas as pd

    table = pd.DataFrame(table, index=frame.index)
    drop, keep_first = resolve_drop_first(drop_first, penalised, has_intercept)
    coding = Coding.learn(table, drop, missing, keep_first, treatment_names=True)
    design = FormulaCoding(formula, spec, tuple(factors), coding, has_intercept)
    return coding.encode(table), y, has_intercept, design


def _is_category(series):
    import pandas as pd

    return isinstance(series.dtype, pd.CategoricalDtype)


def _categorical_column(term, columns):
    """The column of a term that is one categorical factor, or None."""
    if len(term.factors) != 1:
        return None
    return _categorical_column_of(term.factors[0], columns)


def _categorical_column_of(factor, columns):
    expression = str(factor.expr)
    plain = _PLAIN_C.match(expression)
    if plain and plain.group(1) in columns:
        return plain.group(1)
    series = columns.get(expression)
    if series is not None and (_is_category(series) or series.dtype.kind in "OSU" or str(series.dtype) in ("str", "string")):
        return expression
    return None


def is_formula(X):
    return isinstance(X, str)


__all__ = ["FormulaCoding", "formula_design", "is_formula", "INTERCEPT_NAME"]
