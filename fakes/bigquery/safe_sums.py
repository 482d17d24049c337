"""``SAFE.SUM``: NULL where ``SUM`` would overflow, instead of the error.

DuckDB refuses an aggregate inside ``TRY`` (what other ``SAFE.`` calls become), so the overflow
is tested on the total: an integer total (DuckDB sums into a 128-bit HUGEINT) outside INT64, or
an infinite FLOAT64 total, is NULL. Window calls too (sqlglot reads ``SAFE.SUM(x) OVER (...)`` as
a ``safe.sum`` member call). Limit: a FLOAT64 sum whose inputs already hold an infinity is NULL
too (BigQuery returns the infinity).
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_SAFE_SUM = "bq_safe_sum"
_OVERFLOW_CHECKED = "bq_min_nan"
""":mod:`fakes.bigquery.aggregates`' mark of a SUM it need not make fail on overflow (``_SAFE_SUM``
is :mod:`fakes.bigquery.window_aggregates`' mark of a window SUM it leaves alone)."""


@handles(exp.Sum, exp.SafeFunc, exp.Window)
def safe_sums_are_null_on_overflow(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES); runs before the fixes that make ``SUM`` overflow fail."""
    if isinstance(node, exp.Sum) and isinstance(node.parent, exp.SafeFunc) and not node.meta.get(_SAFE_SUM):
        node.meta[_SAFE_SUM] = node.meta[_OVERFLOW_CHECKED] = True
        return node
    if (
        isinstance(node, exp.SafeFunc)
        and isinstance(node.this, exp.Sum)
        and node.this.meta.get(_SAFE_SUM)
        and not isinstance(node.parent, exp.Window)
    ):
        return _null_on_overflow(node.this)
    if isinstance(node, exp.Window) and _is_safe_sum_member(node.this):
        window = node.copy()
        summed = exp.Sum(this=node.this.expression.expressions[0].copy())
        summed.meta[_SAFE_SUM] = True  # window_aggregates leaves it to this module
        window.set("this", summed)
        return _null_on_overflow(window)
    return node


def _is_safe_sum_member(node: exp.Expression) -> bool:
    return (
        isinstance(node, exp.Dot)
        and node.this.name.upper() == "SAFE"
        and isinstance(node.expression, exp.Anonymous)
        and node.expression.name.upper() == "SUM"
        and len(node.expression.expressions) == 1
    )


def _null_on_overflow(total: exp.Expression) -> exp.Expression:
    def typed(name: str) -> exp.Expression:
        kind = exp.Anonymous(this="TYPEOF", expressions=[total.copy()])
        return exp.EQ(this=kind, expression=exp.Literal.string(name))

    bounds = {"low": exp.Literal.number(-(2**63)), "high": exp.Literal.number(2**63 - 1)}
    outside = exp.not_(exp.Between(this=total.copy(), **bounds))
    infinite = exp.Anonymous(this="ISINF", expressions=[exp.cast(total.copy(), exp.DataType.build("DOUBLE"))])
    overflow = exp.or_(exp.and_(typed("HUGEINT"), outside), exp.and_(typed("DOUBLE"), infinite))
    return exp.Case(ifs=[exp.If(this=overflow, true=exp.null())], default=total)
