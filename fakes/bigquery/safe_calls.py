"""The ``SAFE.`` prefix where DuckDB's ``TRY`` (what :mod:`fakes.bigquery.functions` makes of it)
cannot follow: an aggregate or analytic function (DuckDB refuses aggregates inside ``TRY``, and a
windowed ``SAFE.SUM(x) OVER (...)`` reaches DuckDB as ``SAFE.SUM``), and ``SAFE.ERROR(...)``,
which is always NULL (DuckDB's ``error()`` is volatile, which ``TRY`` refuses), and
``SAFE.ARRAY_FIRST`` / ``SAFE.ARRAY_LAST`` (``TRY`` refuses the scalar subquery an ``ARRAY(...)``
argument holds). And, for every
``NTILE(n)`` (with or without ``SAFE.``), BigQuery's errors for a NULL or non-positive ``n``.

An aggregate keeps no ``SAFE.``: its rare run-time errors (an overflowing SUM) still raise.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.functions import DType, _duck

_NTILE = "The N value (number of buckets) for the NTILE function"


@handles(exp.Window, exp.Anonymous)
def safe_call_like_bigquery(node: exp.Expression) -> exp.Expression:
    """The fix (see the module docstring); ``TRY`` nodes are the ones ``functions`` made."""
    if isinstance(node, exp.Window) and _is_safe_dot(node.this):
        node.set("this", node.this.expression)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Anonymous | exp.Ntile):
        _check_ntile_buckets(node.this)
    if isinstance(node, exp.Window):
        return node
    if not (isinstance(node, exp.Anonymous) and node.name.upper() == "TRY" and len(node.expressions) == 1):
        return node
    inner = node.expressions[0]
    if isinstance(inner, exp.AggFunc):
        return inner
    if isinstance(inner, exp.ArrayFirst | exp.ArrayLast):  # NULL for an empty array, without TRY
        index = "1" if isinstance(inner, exp.ArrayFirst) else "-1"
        return _duck(f"_a_[{index}]", a=inner.this)
    if isinstance(inner, exp.Anonymous) and inner.name.upper() == "ERROR" and len(inner.expressions) == 1:
        # NULL, but the message is still evaluated: SAFE.ERROR(1 / 0) raises division by zero.
        return _duck(
            "CAST(CASE WHEN _m_ IS NULL THEN NULL END AS BIGINT)", DType.BIGINT, m=inner.expressions[0]
        )
    return node


def _check_ntile_buckets(call: exp.Expression) -> None:
    """``NTILE(n)``: BigQuery refuses a NULL or non-positive ``n`` (DuckDB answers anyway)."""
    args = call.expressions if isinstance(call, exp.Anonymous) else [call.this]
    if not (isinstance(call, exp.Ntile) or call.name.upper() == "NTILE") or len(args) != 1 or args[0] is None:
        return
    checked = _duck(
        f"CASE WHEN _n_ IS NULL THEN bq_raise('{_NTILE} must not be NULL') "
        f"WHEN _n_ <= 0 THEN bq_raise('{_NTILE} must be positive') ELSE _n_ END",
        n=args[0],
    )
    if isinstance(call, exp.Anonymous):
        call.set("expressions", [checked])
    else:
        call.set("this", checked)


def _is_safe_dot(node: exp.Expression) -> bool:
    return (
        isinstance(node, exp.Dot)
        and isinstance(node.this, exp.Identifier)
        and node.this.name.upper() == "SAFE"
        and isinstance(node.expression, exp.Func)
    )
