"""BigQuery's ``PIVOT`` as conditional aggregation DuckDB runs the BigQuery way.

sqlglot hands ``PIVOT`` to DuckDB's own, which differs: a value listed twice (``NULL, NULL AS n``)
is refused, a ``NULL`` value never matches, and columns are named after DuckDB's rules. BigQuery
groups by every input column the aggregates and the ``FOR`` expression do not use, matches a
value with ``IS NOT DISTINCT FROM`` (so ``NULL`` collects the NULL rows) and names each column
``<aggregate alias>_<value name>`` (value-major), or the value name alone for one unaliased
aggregate, with ``_`` before a name that is not an identifier (``_100``).

The rewrite: ``(SELECT * EXCLUDE (used, pad), agg FILTER (WHERE expr IS NOT DISTINCT FROM v) AS
name, ... FROM (SELECT *, 0 AS pad FROM source) GROUP BY ALL)``; the pad column keeps the star
from being empty when every input column is used (DuckDB refuses an empty select list).
"""

from __future__ import annotations

import re

from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_PAD = "__hx_pivot_pad"


@handles(exp.Table, exp.Subquery)
def rewrite_pivot(node: exp.Expression) -> exp.Expression:
    """A table or subquery with a BigQuery ``PIVOT`` as the subquery that computes it."""
    if not isinstance(node, exp.Table | exp.Subquery):
        return node
    pivots = node.args.get("pivots") or []
    if len(pivots) != 1 or pivots[0].args.get("unpivot") or len(pivots[0].args.get("fields") or []) != 1:
        return node
    pivot = pivots[0]
    field = pivot.args["fields"][0]
    if not isinstance(field, exp.In):
        return node
    source = node.copy()
    source.set("pivots", None)
    for_expr = field.this
    aggregates = list(pivot.expressions)
    used = {column.name.lower() for item in [for_expr, *aggregates] for column in _own_columns(item)}
    padded = exp.select(exp.Star(), exp.alias_(exp.Literal.number(0), _PAD, quoted=True)).from_(source)
    selects: list[exp.Expression] = [
        exp.Star(except_=[exp.column(name, quoted=True) for name in sorted(used | {_PAD})])
    ]
    single = len(aggregates) == 1 and not isinstance(aggregates[0], exp.Alias)
    for value in field.expressions:
        value_expr, value_name = _value(value)
        for aggregate in aggregates:
            agg = aggregate.this if isinstance(aggregate, exp.Alias) else aggregate
            name = value_name if single else f"{_alias(aggregate)}_{value_name}"
            if single and not re.match(r"^[A-Za-z_]", name):
                name = "_" + name
            condition = exp.NullSafeEQ(this=exp.Paren(this=for_expr.copy()), expression=value_expr)
            agg, condition = _ignore_nulls_in_filter(agg, condition)
            filtered = _filter_aggregates(agg.copy(), condition)
            selects.append(exp.alias_(filtered, name, quoted=True))
    # The source's name stays visible to the aggregates (``ORDER BY sub.a``).
    name = source.alias_or_name
    alias = exp.TableAlias(this=exp.to_identifier(name, quoted=True)) if name else None
    grouped = exp.select(*selects).from_(exp.Subquery(this=padded, alias=alias))
    grouped.set("group", exp.Group(all=True))
    pivot_alias = pivot.args.get("alias")
    return exp.Subquery(this=grouped, alias=pivot_alias.copy() if pivot_alias else None)


def _filter_aggregates(expression: exp.Expression, condition: exp.Expression) -> exp.Expression:
    """Every aggregate call in ``expression`` with ``FILTER (WHERE condition)`` (an aggregate an
    earlier fix turned into an expression of several calls, like ``SUM``'s overflow check, too)."""

    def add(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Filter):
            return exp.Filter(this=node, expression=exp.Where(this=condition.copy()))
        return node

    if isinstance(expression, exp.AggFunc):
        return add(expression)
    return expression.transform(add, copy=False)


def _ignore_nulls_in_filter(
    agg: exp.Expression, condition: exp.Expression
) -> tuple[exp.Expression, exp.Expression]:
    """``ARRAY_AGG(x IGNORE NULLS ...)``: DuckDB takes no ``FILTER`` after ``IGNORE NULLS``, so the
    NULLs are filtered out with the rows of other values."""
    if not isinstance(agg, exp.IgnoreNulls):
        return agg, condition
    inner = agg.this
    value = inner.this.this if isinstance(inner.this, exp.Order) else inner.this
    return inner, exp.and_(condition, exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())))


def _own_columns(node: exp.Expression) -> list[exp.Column]:
    """The columns an expression reads from its own input (not those of a nested query)."""
    return [
        c
        for c in node.find_all(exp.Column)
        if not isinstance(c.find_ancestor(exp.Query, exp.Pivot), exp.Query)
    ]


def _alias(aggregate: exp.Expression) -> str:
    return aggregate.alias if isinstance(aggregate, exp.Alias) else ""


def _value(value: exp.Expression) -> tuple[exp.Expression, str]:
    """The value to match and the name its columns take (its alias, else from the literal)."""
    if isinstance(value, exp.PivotAlias | exp.Alias):
        return value.this.copy(), value.alias
    if isinstance(value, exp.Null):
        return value.copy(), "NULL"
    if isinstance(value, exp.Boolean):
        return value.copy(), "true" if value.this else "false"
    if isinstance(value, exp.Literal):
        return value.copy(), value.this
    if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal):
        return value.copy(), "minus_" + value.this.this
    return value.copy(), value.sql(dialect="bigquery")


@handles(exp.CountIf)
def countif_of_no_rows_is_zero(node: exp.Expression) -> exp.Expression:
    """``COUNTIF(c)`` of no rows is 0 in BigQuery; DuckDB's ``COUNT_IF`` gives NULL (a pivot
    column of a value no row has shows it). ``COUNT(CASE WHEN c THEN 1 END)`` means the same in
    every place an aggregate goes (windows and ``FILTER`` too)."""
    if not isinstance(node, exp.CountIf):
        return node
    return exp.Count(this=exp.Case(ifs=[exp.If(this=node.this, true=exp.Literal.number(1))]))
