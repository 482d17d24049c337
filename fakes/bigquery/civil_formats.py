"""``FORMAT_DATE`` of a DATETIME and ``FORMAT_DATETIME`` of a TIMESTAMP in a time zone.

BigQuery formats a DATETIME with ``FORMAT_DATE`` as it is (``%T`` gives its time; sqlglot cast it
to DATE first, so the time read 00:00:00), and ``FORMAT_DATETIME(fmt, timestamp, zone)`` formats
the TIMESTAMP's civil time in ``zone`` (sqlglot dropped the zone). Only a string literal is still
read as a DATE / DATETIME (BigQuery coerces literals alone); with a zone argument the value can
only be a TIMESTAMP.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles


@handles(exp.TimeToStr)
def civil_formats_like_bigquery(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES), run before the one that writes the format elements."""
    if not isinstance(node, exp.TimeToStr):
        return node
    value, zone = node.this, node.args.get("zone")
    if isinstance(value, exp.TsOrDsToDate) and not _is_string_literal(value.this) and zone is None:
        node.set("this", value.this)
    elif isinstance(value, exp.TsOrDsToDatetime) and zone is not None and not _is_string_literal(value.this):
        stamp = exp.cast(value.this, exp.DataType.build("TIMESTAMPTZ"))
        node.set("this", exp.AtTimeZone(this=stamp, zone=zone))
        node.set("zone", None)
    return node


def _is_string_literal(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Literal) and node.is_string
