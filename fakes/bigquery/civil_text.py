"""Civil-time text BigQuery reads and DuckDB refuses: leap seconds and a lower-case ``t``.

* A leap second (``23:59:60``, ``12:59:60.123456``) reads as the first instant of the next minute
  (``00:00:00`` of the next day, ``13:00:00``): BigQuery accepts second 60 (a TIME or DATETIME
  drops its fraction, a TIMESTAMP keeps it).
  Handled in string literals cast to TIME / DATETIME / TIMESTAMP (typed literals included), which
  are rewritten before DuckDB sees them.
* The date and time may be separated by ``T`` or ``t`` (DuckDB reads only ``T``): literals are
  rewritten, and a cast of other STRING values (a cast to STRING, the element of an ``UNNEST`` of
  string literals) reads the value with the separator replaced.

Casts of values whose type is unknown (a column, a parameter) are left alone: they may be
TIMESTAMPs, which this text handling must not touch.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.coltypes import unnested_elements

DType = exp.DataType.Type

_CIVIL = (DType.TIME, DType.DATETIME, DType.TIMESTAMP, DType.TIMESTAMPTZ, DType.TIMESTAMPLTZ)
_INSTANTS = (DType.TIMESTAMPTZ, DType.TIMESTAMPLTZ)
_DONE = "bq_civil_text"
_DATE_T = re.compile(r"^(\s*[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2})[tT]")
_LEAP = re.compile(
    r"^(?P<lead>\s*)(?:(?P<y>[0-9]{1,4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2}) +)?"
    r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{1,2}):60(?P<fraction>\.[0-9]*)?(?P<rest>.*)$",
    re.DOTALL,
)


@handles(exp.Cast)
def civil_text_like_bigquery(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES): the cast keeps its place, only its text argument changes."""
    if not isinstance(node, exp.Cast) or node.meta.get(_DONE) or node.to.this not in _CIVIL:
        return node
    node.meta[_DONE] = True
    value = node.this
    if isinstance(value, exp.Literal) and value.is_string:
        text = read_civil_text(value.name, keep_fraction=node.to.this in _INSTANTS)
        if text != value.name:
            value.replace(exp.Literal.string(text))
    elif _is_text(value):
        pattern = exp.Literal.string(_DATE_T.pattern)
        separator = exp.Literal.string(r"\1 ")
        value.replace(exp.Anonymous(this="regexp_replace", expressions=[value.copy(), pattern, separator]))
    return node


def read_civil_text(text: str, *, keep_fraction: bool) -> str:
    """``text`` with a ``t`` separator made a space and a leap second carried into the next minute
    (a TIMESTAMP keeps the leap second's fraction, a TIME or DATETIME drops it)."""
    text = _DATE_T.sub(r"\1 ", text)
    leap = _LEAP.match(text)
    if leap is None:
        return text
    parts = leap.groupdict()
    has_date = parts["y"] is not None
    try:
        moment = datetime(
            int(parts["y"]) if has_date else 2000,
            int(parts["mo"]) if has_date else 1,
            int(parts["d"]) if has_date else 1,
            int(parts["h"]),
            int(parts["mi"]),
            59,
        ) + timedelta(seconds=1)
    except (ValueError, OverflowError):
        return text  # not a valid date or time: DuckDB's cast reports it
    day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} " if has_date else ""
    fraction = (parts["fraction"] or "") if keep_fraction else ""
    return f"{parts['lead']}{day}{moment:%H:%M:%S}{fraction}{parts['rest']}"


def _is_text(node: exp.Expression) -> bool:
    if isinstance(node, exp.Cast):
        return node.to.this in (DType.TEXT, DType.VARCHAR)
    return isinstance(node, exp.Column) and _unnests_strings(node)


def _unnests_strings(column: exp.Column) -> bool:
    """``column`` names the element of an ``UNNEST(['...', ...])`` of its own SELECT."""
    elements = unnested_elements(column)
    return bool(elements) and all(isinstance(e, exp.Literal) and e.is_string for e in elements)
