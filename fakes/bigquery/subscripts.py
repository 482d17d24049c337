"""``array[OFFSET(i)]`` and ``array[ORDINAL(i)]`` fail past the array's ends, as in BigQuery.

sqlglot turns them into DuckDB's 1-based ``array[i + 1]``, which answers NULL out of range (and
counts a negative index from the end); BigQuery raises "Array index i is out of bounds" there and
keeps NULL for ``SAFE_OFFSET`` / ``SAFE_ORDINAL``, which are left as they are. A NULL array or
index gives NULL; so does an empty array, because the fake binds a NULL array parameter as an
empty array (``params.py``) and BigQuery answers NULL for that one.
"""

from __future__ import annotations

from sqlglot import exp

MACRO = """CREATE OR REPLACE MACRO bq_array_at(a, i, base) AS CASE
    WHEN a IS NULL OR i IS NULL OR len(a) = 0 THEN NULL
    WHEN i - base < 0 OR i - base >= len(a) THEN error('Array index ' || i || ' is out of bounds')
    ELSE a[i - base + 1] END"""
"""The DuckDB macro the rewrite calls; the engine creates it on its connection."""


def checked_offsets(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES) for a non-SAFE ``OFFSET`` / ``ORDINAL`` subscript."""
    if not isinstance(node, exp.Bracket) or node.args.get("offset") is None or node.args.get("safe"):
        return node
    if len(node.expressions) != 1:
        return node
    base = exp.Literal.number(int(node.args["offset"]))
    return exp.Anonymous(this="bq_array_at", expressions=[node.this, node.expressions[0], base])
