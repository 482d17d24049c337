"""A query's default time zone: BigQuery's ``time_zone`` connection property (UTC when unset).

The default zone is what a TIMESTAMP means where the SQL names no zone: a string read as a
TIMESTAMP without an offset, ``DATE(ts)`` / ``EXTRACT`` / ``FORMAT_TIMESTAMP`` /
``TIMESTAMP_TRUNC`` / ``PARSE_TIMESTAMP`` without a zone argument, ``CURRENT_DATE()``.

The engine applies it as DuckDB's session ``TimeZone`` for the statement (DuckDB's ICU casts and
``date_trunc`` / ``strftime`` of a TIMESTAMPTZ follow it), and the translation's own rewrites read
it back with :func:`default_zone_sql`, so a translated statement stays independent of the zone
and can be cached by its text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import sqlglot
from sqlglot import exp

from fakes.bigquery.exceptions import InvalidTimeZone, UnsupportedByFake

UTC = "UTC"
_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.I)


def default_zone_sql() -> exp.Expression:
    """SQL for the statement's default zone, as the engine set it on the session."""
    return exp.Anonymous(this="current_setting", expressions=[exp.Literal.string("TimeZone")])


def duckdb_zone(name: str) -> str:
    """The DuckDB (ICU) zone for a GoogleSQL time zone name: an IANA name, ``UTC``, or a fixed
    offset (``+05``, ``-8``, ``UTC+3``, ``+05:00``). DuckDB reads bare offsets as nothing, so a
    whole-hour offset becomes ``Etc/GMT∓H`` (POSIX signs run the other way)."""
    text = name.strip()
    match = _OFFSET.match(text)
    if match is None:
        return text
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes > 59:
        raise InvalidTimeZone(zone=name)
    if minutes:
        raise UnsupportedByFake(f"The BigQuery fake supports whole-hour fixed offsets only, not {name!r}")
    if hours == 0:
        return UTC
    return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"


def connection_time_zone(properties: Sequence[Mapping[str, Any]] | None) -> str | None:
    """The ``time_zone`` of a job's ``connectionProperties`` (other keys are BigQuery's to use or
    ignore, as the API reference says)."""
    for prop in properties or ():
        if isinstance(prop, Mapping) and prop.get("key") == "time_zone":
            return str(prop.get("value") or "")
    return None


@contextmanager
def session_zone(conn: duckdb.DuckDBPyConnection, zone: str | None) -> Iterator[None]:
    """Run the body with DuckDB's session zone set to the query's default zone, then back to UTC."""
    if zone is None or zone == UTC:
        yield
        return
    set_session_zone(conn, zone)
    try:
        yield
    finally:
        conn.execute(f"SET TimeZone = '{UTC}'")


def set_session_zone(conn: duckdb.DuckDBPyConnection, zone: str | None) -> None:
    """Set DuckDB's session zone to a query's default zone (UTC when None)."""
    target = UTC if zone is None or zone == UTC else duckdb_zone(zone)
    try:
        conn.execute(f"SET TimeZone = '{target.replace(chr(39), '')}'")
    except duckdb.Error as exc:
        raise InvalidTimeZone(zone=zone or UTC) from exc


def local_now(now: datetime, zone: str | None) -> datetime:
    """The clock's instant in the default zone: ``CURRENT_DATE()`` / ``CURRENT_DATETIME()`` /
    ``CURRENT_TIME()`` read the wall clock there (``CURRENT_TIMESTAMP()`` is the same instant)."""
    if zone is None or zone == UTC:
        return now
    target = duckdb_zone(zone)
    try:
        return now.astimezone(ZoneInfo(target))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTimeZone(zone=zone) from exc


# ------------------------------------------------------------------ zone arguments in the SQL

_OFFSET_SQL = (
    "CASE WHEN regexp_full_match(_z_, '(UTC)?[+-][0-9]{1,2}(:?[0-9]{2})?') "
    "THEN 'GMT' || regexp_replace(regexp_replace(regexp_replace(_z_, '^UTC', ''), ':', ''), "
    "'^([+-][0-9]{1,2})([0-9]{2})$', '\\1:\\2') ELSE _z_ END"
)


def sql_zone_name(name: str) -> str:
    """A GoogleSQL zone name as ICU reads it inside SQL: fixed offsets (``+05``, ``UTC-8``,
    ``+05:30``) are ICU's custom ``GMT+05:30`` ids; names pass through."""
    match = _OFFSET.match(name.strip())
    if match is None:
        return name
    minutes = f":{match.group(3)}" if match.group(3) else ""
    return f"GMT{match.group(1)}{match.group(2)}{minutes}"


def zone_names_for_duckdb(tree: exp.Expression) -> exp.Expression:
    """Every zone argument of the translated statement (``AT TIME ZONE``, ``TIMESTAMP_TRUNC``'s
    ...) with GoogleSQL's zone name mapped to ICU's; run after the other rewrites, which build
    such nodes inside their own templates."""
    for node in list(tree.walk()):
        zone = node.args.get("zone")
        if not isinstance(zone, exp.Expression) or zone.meta.get("bq_zone"):
            continue
        if isinstance(zone, exp.Literal) and zone.is_string:
            mapped: exp.Expression = exp.Literal.string(sql_zone_name(zone.name))
        elif isinstance(zone, exp.Anonymous) and zone.name.lower() == "current_setting":
            continue
        else:
            mapped = _offset_mapping(zone)
        mapped.meta["bq_zone"] = True
        node.set("zone", mapped)
    return tree


def _offset_mapping(zone: exp.Expression) -> exp.Expression:
    """SQL mapping a zone name computed at run time (a column, a parameter) to ICU's."""
    template = sqlglot.parse_one(_OFFSET_SQL, read="duckdb")
    return template.transform(lambda n: zone.copy() if isinstance(n, exp.Column) and n.name == "_z_" else n)


def civil_conversions_in_zone(node: exp.Expression) -> exp.Expression:
    """``DATE(ts, zone)`` / ``DATETIME(ts, zone)`` read the TIMESTAMP in ``zone``, and
    ``TIMESTAMP(civil, zone)`` reads a DATETIME (or its string) as a wall time there; sqlglot's
    DuckDB forms assumed UTC, or read DATETIME's zone as a TIME. ``CAST(ts AS TIME)`` of a typed
    TIMESTAMP is its wall time in the default zone."""
    if isinstance(node, exp.Date) and node.args.get("zone") is not None:
        local = exp.AtTimeZone(this=_timestamptz(node.this), zone=node.args["zone"])
        return exp.cast(local, exp.DataType.build("DATE"))
    if isinstance(node, exp.Datetime) and _is_string(node.expression):
        local = exp.AtTimeZone(this=_timestamptz(node.this), zone=node.expression)
        return exp.cast(local, exp.DataType.build("TIMESTAMP"))
    if (
        isinstance(node, exp.Time | exp.TsOrDsToTime)
        and node.args.get("zone") is None
        and _is_timestamp(node.this)
    ):
        return exp.cast(exp.cast(node.this, exp.DataType.build("TIMESTAMP")), exp.DataType.build("TIME"))
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.TIME) and _is_timestamp(node.this):
        # DuckDB has no TIMESTAMPTZ -> TIME cast; the wall time in the default zone is BigQuery's.
        node.set("this", exp.cast(node.this, exp.DataType.build("TIMESTAMP")))
        return node
    if isinstance(node, exp.Timestamp) and node.args.get("zone") is not None:
        civil = exp.cast(node.this, exp.DataType.build("TIMESTAMP"))
        return exp.AtTimeZone(this=civil, zone=node.args["zone"])
    return node


def _is_timestamp(node: exp.Expression) -> bool:
    return isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.TIMESTAMPTZ)


def _is_string(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _timestamptz(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("TIMESTAMPTZ")) if _is_string(node) else node
