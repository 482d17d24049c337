"""BigQuery's civil-time ranges where DuckDB's reach further.

* ``DATETIME_ADD`` / ``DATETIME_SUB`` past BigQuery's DATETIME range (years 1 to 9999) raise its
  overflow error; DuckDB's timestamps reach further, so the result came back as year 10000 (which
  google-cloud-bigquery then cannot read) or year 0.
* ``CAST('24:00:00' AS TIME)``: BigQuery's TIME ends at 23:59:59.999999, DuckDB reads 24:00:00.
  The text "Invalid time string" is the GoogleSQL reference implementation's (compliance corpus,
  cast_function.test), raised through ``bq_raise`` so ``SAFE_CAST`` gives NULL.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_RANGE = "TIMESTAMP '0001-01-01 00:00:00' AND TIMESTAMP '9999-12-31 23:59:59.999999'"
_MICROS = "microsecond(CAST(_d_ AS TIMESTAMP)) % 1000000"
_DATETIME_TEXT = (
    f"strftime(CAST(_d_ AS TIMESTAMP), '%Y-%m-%d %H:%M:%S') || CASE WHEN {_MICROS} = 0 THEN '' "
    f"ELSE '.' || lpad(CAST({_MICROS} AS VARCHAR), 6, '0') END"
)


@handles(exp.DatetimeAdd, exp.DatetimeSub)
def datetime_arithmetic_stays_in_range(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.DatetimeAdd | exp.DatetimeSub) or node.meta.get("bq_range_checked"):
        return node
    node.meta["bq_range_checked"] = True
    verb, preposition = ("Adding", "to") if isinstance(node, exp.DatetimeAdd) else ("Subtracting", "from")
    amount, unit = _amount(node)
    message = f"'{verb} ' || {amount} || ' {unit} {preposition} datetime ' || {_DATETIME_TEXT}"
    message += " || ' causes overflow'"
    template = sqlglot.parse_one(
        f"CASE WHEN _r_ IS NULL OR _r_ BETWEEN {_RANGE} THEN _r_ ELSE error({message}) END", read="duckdb"
    )
    value = node.this

    def fill(part: exp.Expression) -> exp.Expression:
        if isinstance(part, exp.Column) and part.name == "_r_":
            return node
        if isinstance(part, exp.Column) and part.name == "_d_":
            return value.copy()
        return part

    return template.transform(fill)


def _amount(node: exp.Expression) -> tuple[str, str]:
    """The added amount as SQL text, and its unit, for the message."""
    interval = node.expression
    unit = node.args.get("unit")
    if isinstance(interval, exp.Interval):
        unit = interval.args.get("unit")
        interval = interval.this
    amount = (
        f"'{interval.name}'"
        if isinstance(interval, exp.Literal)
        else f"CAST({interval.sql('duckdb')} AS VARCHAR)"
    )
    return amount, (unit.name.upper() if unit is not None else "")


@handles(exp.Cast)
def time_casts_end_before_midnight(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.Cast) or not node.to.is_type(exp.DataType.Type.TIME):
        return node
    if node.meta.get("bq_time_checked") or not isinstance(node.this, exp.Literal) or not node.this.is_string:
        return node
    node.meta["bq_time_checked"] = True
    text = node.this.name.replace("'", "''")
    failure = "NULL" if isinstance(node, exp.TryCast) else f"""bq_raise('Invalid time string "{text}"')"""
    template = sqlglot.parse_one(
        f"CASE WHEN _r_ >= TIME '24:00:00' THEN CAST({failure} AS TIME) ELSE _r_ END", read="duckdb"
    )
    return template.transform(
        lambda part: node if isinstance(part, exp.Column) and part.name == "_r_" else part
    )
