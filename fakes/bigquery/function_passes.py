"""The BigQuery function rewrites that run after :data:`fakes.bigquery.functions.FIXES`, and the
DuckDB macros they call.

Each module holds one family and documents what differs from DuckDB; this one only orders them
and is the single hook for :mod:`fakes.bigquery.sql` (the rewrites) and the engine (the macros).
They run as one bottom-up pass: quantified ``LIKE`` first (it consumes the pattern list before the
string rewrites would read it), then STRING / BYTES, array and math functions, and ``SAFE.``.
"""

from __future__ import annotations

import duckdb
from sqlglot import exp

from fakes.bigquery import array_functions, math_functions, string_functions
from fakes.bigquery.array_functions import array_functions_like_bigquery
from fakes.bigquery.bottom_up import Fix, rewrite_bottom_up
from fakes.bigquery.math_functions import math_functions_like_bigquery
from fakes.bigquery.quantified_like import quantified_like
from fakes.bigquery.safe_calls import safe_call_like_bigquery
from fakes.bigquery.string_functions import string_functions_like_bigquery

PASSES: list[Fix] = [
    quantified_like,
    string_functions_like_bigquery,
    array_functions_like_bigquery,
    math_functions_like_bigquery,
    safe_call_like_bigquery,
]


def apply_function_passes(tree: exp.Expression) -> exp.Expression:
    """Every pass on every node, children first (as :func:`fakes.bigquery.functions` applies FIXES)."""
    return rewrite_bottom_up(tree, PASSES)


def register_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the macros the passes call on ``conn`` (``bq_raise`` first: the others use it)."""
    for module in (string_functions, array_functions, math_functions):
        for statement in module.MACROS.split(";"):
            if statement.strip():
                conn.execute(statement)
