"""The BigQuery function rewrites that run after :data:`fakes.bigquery.functions.FIXES`.

Each module holds one family and documents what differs from DuckDB, with the DuckDB macros its
rewrites call (created by :mod:`fakes.bigquery.lazy_functions`); this one only orders them and is
the single hook for :mod:`fakes.bigquery.sql`.
They run as one bottom-up pass: quantified ``LIKE`` first (it consumes the pattern list before the
string rewrites would read it), then STRING / BYTES, array and math functions, and ``SAFE.``.
"""

from __future__ import annotations

from sqlglot import exp

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
