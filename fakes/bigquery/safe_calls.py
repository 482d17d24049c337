"""The ``SAFE.`` prefix where DuckDB's ``TRY`` (what :mod:`fakes.bigquery.functions` makes of it)
cannot follow: an aggregate or analytic function (DuckDB refuses aggregates inside ``TRY``, and a
windowed ``SAFE.SUM(x) OVER (...)`` reaches DuckDB as ``SAFE.SUM``), and ``SAFE.ERROR(...)``,
which is always NULL (DuckDB's ``error()`` is volatile, which ``TRY`` refuses).

An aggregate keeps no ``SAFE.``: its rare run-time errors (an overflowing SUM) still raise.
"""

from __future__ import annotations

from sqlglot import exp


def safe_call_like_bigquery(node: exp.Expression) -> exp.Expression:
    """The fix (see the module docstring); ``TRY`` nodes are the ones ``functions`` made."""
    if isinstance(node, exp.Window) and _is_safe_dot(node.this):
        node.set("this", node.this.expression)
        return node
    if not (isinstance(node, exp.Anonymous) and node.name.upper() == "TRY" and len(node.expressions) == 1):
        return node
    inner = node.expressions[0]
    if isinstance(inner, exp.AggFunc):
        return inner
    if isinstance(inner, exp.Anonymous) and inner.name.upper() == "ERROR":
        return exp.Null()
    return node


def _is_safe_dot(node: exp.Expression) -> bool:
    return (
        isinstance(node, exp.Dot)
        and isinstance(node.this, exp.Identifier)
        and node.this.name.upper() == "SAFE"
        and isinstance(node.expression, exp.Func)
    )
