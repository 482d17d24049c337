"""BigQuery's math functions where DuckDB's differ or are missing.

* Missing in DuckDB, created as macros under BigQuery's names: ``CSC``, ``SEC``, ``CSCH``, ``SECH``,
  ``COTH``; ``CSC``, ``CSCH``, ``COTH`` and ``COT`` of 0 raise as BigQuery does (DuckDB's ``COT(0)``
  is ``inf``), so ``SAFE.`` gives NULL.
* ``SAFE_DIVIDE`` that overflows (``SAFE_DIVIDE(1e300, 1e-300)``) is NULL (DuckDB: ``inf``).

Errors go through :mod:`fakes.bigquery.string_functions`' ``bq_raise`` (a failing cast, so
``SAFE.`` — DuckDB's ``TRY`` — can catch it).
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.functions import DType, _duck, _is_done

MACROS = """
CREATE OR REPLACE TEMP MACRO bq_nonzero(x, name) AS CASE
    WHEN x = 0 THEN bq_raise('Floating point error in function: ' || name || '(' || x || ')') ELSE x END;
CREATE OR REPLACE TEMP MACRO csc(x) AS 1 / sin(bq_nonzero(x, 'CSC'));
CREATE OR REPLACE TEMP MACRO sec(x) AS 1 / cos(x);
CREATE OR REPLACE TEMP MACRO csch(x) AS 1 / sinh(bq_nonzero(x, 'CSCH'));
CREATE OR REPLACE TEMP MACRO sech(x) AS 1 / cosh(x);
CREATE OR REPLACE TEMP MACRO coth(x) AS cosh(bq_nonzero(x, 'COTH')) / sinh(bq_nonzero(x, 'COTH'));
CREATE OR REPLACE TEMP MACRO bq_cot(x) AS cot(bq_nonzero(x, 'COT'));
"""
"""The DuckDB macros the rewrites call (created by :mod:`fakes.bigquery.function_passes`)."""

_OVERFLOW = "bq_overflow_checked"
"""Meta flag: a ``SAFE_DIVIDE`` already wrapped (:mod:`fakes.bigquery.functions` marks it done)."""


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
    if isinstance(node, exp.Cot) and not _is_done(node):
        return _duck("bq_cot(_x_)", DType.DOUBLE, x=node.this)
    return node
