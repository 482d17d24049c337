"""A query whose rows are STRUCTs (``SELECT AS STRUCT``), read as a table: one column per field.

BigQuery returns a top-level ``SELECT AS STRUCT a, b`` as the columns ``a`` and ``b``, and ``*``
over a WITH query or FROM subquery of STRUCT rows gives the fields. sqlglot makes the row one
``STRUCT_PACK`` column for DuckDB; dropping ``AS STRUCT`` where the query is a relation (not a
scalar subquery or ``ARRAY(...)``, where the STRUCT value is meant) gives BigQuery's columns.
"""

from __future__ import annotations

from sqlglot import exp


def struct_rows_as_columns(query: exp.Expression) -> None:
    """Drop ``AS STRUCT`` from the SELECTs that make the rows of ``query`` (all set operands)."""
    if isinstance(query, exp.SetOperation):
        struct_rows_as_columns(query.this)
        struct_rows_as_columns(query.expression)
    elif isinstance(query, exp.Subquery):
        struct_rows_as_columns(query.this)
    elif isinstance(query, exp.Select) and str(query.args.get("kind") or "").upper() == "STRUCT":
        query.set("kind", None)
