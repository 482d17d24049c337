"""BigQuery's math functions where DuckDB's differ or are missing.

* Missing in DuckDB, created as macros under BigQuery's names: ``CSC``, ``SEC``, ``CSCH``, ``SECH``,
  ``COTH``; ``CSC``, ``CSCH``, ``COTH`` and ``COT`` of 0 raise as BigQuery does (DuckDB's ``COT(0)``
  is ``inf``), so ``SAFE.`` gives NULL.
* ``x BETWEEN a AND b`` of FLOAT64 is FALSE where a bound or ``x`` is NaN (DuckDB orders NaN above
  every number and equal to itself, so ``NaN BETWEEN 0 AND NaN`` was TRUE); a NULL still gives NULL.
* ``SAFE_DIVIDE`` that overflows (``SAFE_DIVIDE(1e300, 1e-300)``) is NULL (DuckDB: ``inf``).

Errors go through :mod:`fakes.bigquery.string_functions`' ``bq_raise`` (a failing cast, so
``SAFE.`` — DuckDB's ``TRY`` — can catch it).
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.functions import DType, _duck, _is_done, _type_of

MACROS = """
CREATE OR REPLACE MACRO bq_nonzero(x, name) AS CASE
    WHEN x = 0 THEN bq_raise('Floating point error in function: ' || name || '(' || x || ')') ELSE x END;
CREATE OR REPLACE MACRO csc(x) AS 1 / sin(bq_nonzero(x, 'CSC'));
CREATE OR REPLACE MACRO sec(x) AS 1 / cos(x);
CREATE OR REPLACE MACRO csch(x) AS 1 / sinh(bq_nonzero(x, 'CSCH'));
CREATE OR REPLACE MACRO sech(x) AS 1 / cosh(x);
CREATE OR REPLACE MACRO coth(x) AS cosh(bq_nonzero(x, 'COTH')) / sinh(bq_nonzero(x, 'COTH'));
CREATE OR REPLACE MACRO bq_cot(x) AS cot(bq_nonzero(x, 'COT'));
CREATE OR REPLACE MACRO bq_float_ge(x, y) AS CASE
    WHEN x IS NULL OR y IS NULL THEN NULL WHEN isnan(x) OR isnan(y) THEN FALSE ELSE x >= y END;
"""
"""The DuckDB macros the rewrites call (created by :mod:`fakes.bigquery.function_passes`)."""

_OVERFLOW = "bq_overflow_checked"
"""Meta flag: a ``SAFE_DIVIDE`` already wrapped (:mod:`fakes.bigquery.functions` marks it done)."""


@handles(exp.SafeDivide, exp.Between, exp.Cot)
def math_functions_like_bigquery(node: exp.Expression) -> exp.Expression:
    """The fix (see the module docstring)."""
    if isinstance(node, exp.SafeDivide) and not node.meta.get(_OVERFLOW):
        node.meta[_OVERFLOW] = True
        x, y = node.this, node.expression
        return _duck(
            "CASE WHEN isinf(_q_) AND NOT isinf(_x_) AND NOT isinf(_y_) THEN NULL ELSE _q_ END",
            q=node,
            x=x,
            y=y,
        )
    if isinstance(node, exp.Between) and not _is_done(node) and _compares_floats(node):
        low, high = node.args["low"], node.args["high"]
        return _duck(
            "(bq_float_ge(_x_, _a_) AND bq_float_ge(_b_, _x_))", DType.BOOLEAN, x=node.this, a=low, b=high
        )
    if isinstance(node, exp.Cot) and not _is_done(node):
        return _duck("bq_cot(_x_)", DType.DOUBLE, x=node.this)
    return node


def _compares_floats(node: exp.Between) -> bool:
    """A FLOAT64 operand, and no operand of a known type that is not a number."""
    kinds = {_type_of(node.this), _type_of(node.args["low"]), _type_of(node.args["high"])} - {None}
    return bool(kinds & _FLOATS) and kinds <= _NUMBERS


_FLOATS = {DType.DOUBLE, DType.FLOAT}
_NUMBERS = _FLOATS | {DType.BIGINT, DType.INT, DType.DECIMAL, DType.BIGDECIMAL}
