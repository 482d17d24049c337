"""``SUM`` of INTERVAL values, which DuckDB has no aggregate for.

BigQuery sums an INTERVAL's three parts apart (months, days, microseconds) and checks only the
total against INTERVAL's range, so ``10000 YEAR + 10000 YEAR - 120000 MONTH`` is fine. The fix sums
each part with DuckDB's ``sum`` (window calls keep their ``OVER``) and builds the interval from the
three totals, failing as BigQuery does when a total leaves its range.

Which arguments are INTERVALs: an INTERVAL literal or cast, a column ``coltypes`` types INTERVAL,
or the alias of an ``UNNEST`` of an array literal of INTERVALs in the same ``SELECT``.
``SUM(DISTINCT column)`` sums the parts of ``list(DISTINCT column)`` (distinct parts are not the
parts of distinct intervals); other ``DISTINCT`` arguments are left alone.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.coltypes import type_of_column, unnested_elements
from fakes.bigquery.intervals import INTERVAL_LIMITS
from harness.schema.spec import FieldType

_DONE = "bq_interval_sum"

_LIMITS = tuple(zip(("months", "days", "micros"), INTERVAL_LIMITS, strict=True))

MACROS = (
    "CREATE OR REPLACE MACRO bq_interval_part_checked(name, v, lim) AS CASE WHEN abs(v) > lim "
    "THEN error('Interval field ' || name || ' ''' || CAST(v AS VARCHAR) || ''' is out of range -' "
    "|| CAST(lim AS VARCHAR) || ' to ' || CAST(lim AS VARCHAR)) ELSE v END",
)


@handles(exp.Window, exp.Sum)
def interval_sums(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES): ``SUM`` of an INTERVAL, plain or over a window."""
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Sum) and _sums_intervals(node.this):
        return _summed(node.this.this, node)
    if isinstance(node, exp.Sum) and not isinstance(node.parent, exp.Window) and _sums_intervals(node):
        return _summed(node.this, None)
    return node


def _sums_intervals(node: exp.Sum) -> bool:
    if node.meta.get(_DONE):
        return False
    value = node.this
    if isinstance(value, exp.Distinct):
        return (
            len(value.expressions) == 1
            and isinstance(value.expressions[0], exp.Column)
            and is_interval(value.expressions[0])
        )
    return is_interval(value)


def is_interval(node: exp.Expression | None) -> bool:
    """Whether ``node`` is known to be an INTERVAL without running it."""
    if isinstance(node, exp.Paren):
        return is_interval(node.this)
    if isinstance(node, exp.Interval) or (node is not None and node.meta.get("bq_interval")):
        return True
    if isinstance(node, exp.Cast):
        return node.to.is_type(exp.DataType.Type.INTERVAL)
    if isinstance(node, exp.Column):
        return type_of_column(node.name) is FieldType.INTERVAL or _unnests_intervals(node)
    return False


def _unnests_intervals(column: exp.Column) -> bool:
    """``column`` names the element of an ``UNNEST([INTERVAL ..., ...])`` of its own SELECT."""
    elements = [e for e in unnested_elements(column) or [] if not isinstance(e, exp.Null)]
    return bool(elements) and all(is_interval(e) for e in elements)


_PART_CALLS = ("bq_interval_months(_x_)", "datepart('day', _x_)", "bq_interval_micros(_x_)")


def _summed(value: exp.Expression, window: exp.Window | None) -> exp.Expression:
    totals = []
    for call, (name, limit) in zip(_PART_CALLS, _LIMITS, strict=True):
        total = _part_total(value, call, window)
        checked = exp.Anonymous(
            this="bq_interval_part_checked",
            expressions=[exp.Literal.string(name), total, exp.Literal.number(limit)],
        )
        totals.append(exp.cast(checked, exp.DataType.build("BIGINT")))
    made = exp.Anonymous(this="bq_make_interval", expressions=totals)
    made.meta["bq_interval"] = True
    return made


def _part_total(value: exp.Expression, call: str, window: exp.Window | None) -> exp.Expression:
    """The sum of one part: ``sum(part(value))``, or over ``list(DISTINCT value)``."""
    if isinstance(value, exp.Distinct):
        column = value.expressions[0].sql("duckdb")
        total = sqlglot.parse_one(f"list_sum(list_transform(_l_, lambda _x_: {call}))", read="duckdb")
        collected: exp.Expression = sqlglot.parse_one(f"list(DISTINCT {column})", read="duckdb")
        total.find(exp.Column).replace(_over(window, collected))
        for node in total.walk():
            node.meta[_DONE] = True
        return total
    part = sqlglot.parse_one(call, read="duckdb")
    for placeholder in list(part.find_all(exp.Column)):
        if placeholder.name == "_x_":
            placeholder.replace(value.copy())
    total = exp.Sum(this=part)
    total.meta[_DONE] = True
    return _over(window, total)


def _over(window: exp.Window | None, aggregate: exp.Expression) -> exp.Expression:
    if window is None:
        return aggregate
    over = window.copy()
    over.set("this", aggregate)
    return over
