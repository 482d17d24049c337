"""BigQuery INTERVAL values: months, days and microseconds kept apart, as BigQuery keeps them.

DuckDB's INTERVAL has the same three parts, but its Python conversion folds months into 30-day
blocks (a ``timedelta``), so ``INTERVAL 1 MONTH`` came back as 30 days. The engine therefore
reads INTERVAL result columns as DuckDB's text (:func:`interval_columns_as_text`) and builds an
:class:`Interval`, a ``dateutil`` ``relativedelta`` (what google-cloud-bigquery returns for an
INTERVAL) that does not fold 48 hours into 2 days. Values written to tables and sent over REST
use BigQuery's canonical text, ``Y-M D H:M:S[.F]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlglot
from dateutil.relativedelta import relativedelta
from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.exceptions import InvalidIntervalLiteral

MICROS_PER_SECOND = 1_000_000
MICROS_PER_HOUR = 3_600 * MICROS_PER_SECOND
INTERVAL_LIMITS = (120_000, 3_660_000, 316_224_000_000_000_000)
"""BigQuery's INTERVAL range per part: months, days, microseconds (each from -limit to limit)."""


class Interval(relativedelta):
    """A relativedelta holding a BigQuery INTERVAL exactly: years and months (one count of
    months), days, and the time part in ``microseconds``; hours are never folded into days."""

    def __init__(self, months: int = 0, days: int = 0, micros: int = 0, **fields: Any) -> None:
        # relativedelta's own arithmetic builds its results with keyword fields.
        if fields:
            super().__init__(**fields)
        else:
            super().__init__(months=months, days=days, microseconds=micros)

    def _fix(self) -> None:
        # relativedelta's own _fix would carry 24 hours into a day and 1e6 µs into seconds.
        if abs(self.months) > 11:
            sign = -1 if self.months < 0 else 1
            years, months = divmod(self.months * sign, 12)
            self.months, self.years = months * sign, self.years + years * sign

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    @property
    def total_micros(self) -> int:
        return ((self.hours * 60 + self.minutes) * 60 + self.seconds) * MICROS_PER_SECOND + self.microseconds


def as_interval(value: Any) -> Interval:
    """An INTERVAL from what a caller may hand the fake: an Interval or relativedelta, a
    ``timedelta`` (days and time) or BigQuery's canonical text."""
    if isinstance(value, Interval):
        return value
    if isinstance(value, relativedelta):
        micros = ((value.hours * 60 + value.minutes) * 60 + value.seconds) * MICROS_PER_SECOND
        return Interval(value.years * 12 + value.months, value.days, micros + value.microseconds)
    if isinstance(value, timedelta):
        return Interval(0, value.days, value.seconds * MICROS_PER_SECOND + value.microseconds)
    if isinstance(value, str):
        return parse_canonical(value)
    raise TypeError(f"not an interval: {value!r}")


_CANONICAL = re.compile(
    r"^\s*(?P<ys>[+-]?)(?P<y>\d+)-(?P<m>\d+)\s+(?P<d>[+-]?\d+)\s+"
    r"(?P<hs>[+-]?)(?P<h>\d+):(?P<mi>\d+):(?P<s>\d+)(?:\.(?P<f>\d{1,6}))?\s*$"
)


def parse_canonical(text: str) -> Interval:
    """BigQuery's canonical INTERVAL text, ``[-]Y-M [-]D [-]H:M:S[.F]``."""
    match = _CANONICAL.match(text)
    if match is None:
        raise ValueError(f"not a canonical INTERVAL: {text!r}")
    months = int(match["y"]) * 12 + int(match["m"])
    micros = (int(match["h"]) * 3600 + int(match["mi"]) * 60 + int(match["s"])) * MICROS_PER_SECOND
    micros += int((match["f"] or "0").ljust(6, "0"))
    return Interval(
        -months if match["ys"] == "-" else months,
        int(match["d"]),
        -micros if match["hs"] == "-" else micros,
    )


def canonical_text(value: Any) -> str:
    """BigQuery's canonical text of an INTERVAL (what its REST API sends)."""
    interval = as_interval(value)
    months, micros = interval.total_months, interval.total_micros
    year_sign = "-" if months < 0 else ""
    years, months = divmod(abs(months), 12)
    time_sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), MICROS_PER_SECOND)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f".{fraction:06d}".rstrip("0") if fraction else ""
    return f"{year_sign}{years}-{months} {interval.days} {time_sign}{hours}:{minutes}:{secs}{tail}"


def duckdb_text(value: Any) -> str:
    """An INTERVAL as text DuckDB casts exactly (its own unit words)."""
    interval = as_interval(value)
    return f"{interval.total_months} months {interval.days} days {interval.total_micros} microseconds"


_DUCK_PART = re.compile(r"(-?\d+) (year|mon|day)[a-z]*|(-?)(\d+):(\d+):(\d+)(?:\.(\d+))?")


def from_duckdb_text(text: str) -> Interval:
    """DuckDB's INTERVAL text (``-1 year -2 months 3 days -04:05:06.789``) as an Interval."""
    months = days = micros = 0
    for match in _DUCK_PART.finditer(text):
        if match.group(1) is not None:
            count, unit = int(match.group(1)), match.group(2)
            if unit == "year":
                months += 12 * count
            elif unit == "mon":
                months += count
            else:
                days += count
            continue
        sign = -1 if match.group(3) == "-" else 1
        hours, minutes, seconds = int(match.group(4)), int(match.group(5)), int(match.group(6))
        fraction = int((match.group(7) or "0")[:6].ljust(6, "0"))
        micros += sign * ((hours * 3600 + minutes * 60 + seconds) * MICROS_PER_SECOND + fraction)
    return Interval(months, days, micros)


def interval_columns_as_text(duck_sql: str, type_names: Sequence[str]) -> str | None:
    """A query over ``duck_sql`` that returns its INTERVAL columns (and arrays of them) as
    DuckDB's text, by position; ``None`` when the result has no INTERVAL column."""
    if not any(name in ("INTERVAL", "INTERVAL[]") for name in type_names):
        return None
    columns = []
    for index, name in enumerate(type_names, start=1):
        if name == "INTERVAL":
            columns.append(f"CAST(#{index} AS VARCHAR)")
        elif name == "INTERVAL[]":
            columns.append(f"list_transform(#{index}, lambda x: CAST(x AS VARCHAR))")
        else:
            columns.append(f"#{index}")
    return f"SELECT {', '.join(columns)} FROM ({duck_sql})"


# ------------------------------------------------------------------------------ SQL side

_MONTHS = "(datepart('year', _i_) * 12 + datepart('month', _i_))"
_MICROS = (
    "(datepart('hour', _i_)::BIGINT * 3600000000 + datepart('minute', _i_) * 60000000 "
    "+ datepart('microseconds', _i_))"
)
_CANONICAL_SQL = r"([+-]?)([0-9]+)-([0-9]+) ([+-]?[0-9]+) ([+-]?)([0-9]+):([0-9]+):([0-9]+)(\.[0-9]{1,6})?"

_YEAR_MONTH_SQL = r"[+-]?[0-9]+-[0-9]+"
_ISO_SQL = (
    r"P(?:([+-]?[0-9]+)Y)?(?:([+-]?[0-9]+)M)?(?:([+-]?[0-9]+)W)?(?:([+-]?[0-9]+)D)?"
    r"(?:T(?:([+-]?[0-9]+)H)?(?:([+-]?[0-9]+)M)?(?:([+-]?[0-9]+(?:\.[0-9]{1,6})?)S)?)?"
)

MACROS = (
    f"CREATE OR REPLACE MACRO bq_interval_months(_i_) AS {_MONTHS}",
    f"CREATE OR REPLACE MACRO bq_interval_micros(_i_) AS {_MICROS}",
    "CREATE OR REPLACE MACRO bq_make_interval(m, d, us) AS to_months(m) + to_days(d) + to_microseconds(us)",
    # BigQuery's canonical text, Y-M D H:M:S[.F] (CAST(interval AS STRING)).
    "CREATE OR REPLACE MACRO bq_interval_text(i) AS CASE WHEN i IS NULL THEN NULL ELSE "
    "CASE WHEN bq_interval_months(i) < 0 THEN '-' ELSE '' END || abs(bq_interval_months(i)) // 12 || '-' "
    "|| abs(bq_interval_months(i)) % 12 || ' ' || datepart('day', i) || ' ' "
    "|| CASE WHEN bq_interval_micros(i) < 0 THEN '-' ELSE '' END || abs(bq_interval_micros(i)) // 3600000000 "
    "|| ':' || abs(bq_interval_micros(i)) // 60000000 % 60 "
    "|| ':' || abs(bq_interval_micros(i)) // 1000000 % 60 "
    "|| CASE WHEN abs(bq_interval_micros(i)) % 1000000 = 0 THEN '' ELSE '.' "
    "|| rtrim(lpad(CAST(abs(bq_interval_micros(i)) % 1000000 AS VARCHAR), 6, '0'), '0') END END",
    "CREATE OR REPLACE MACRO bq_interval_of(p) AS bq_make_interval("
    "CASE WHEN p.ys = '-' THEN -1 ELSE 1 END * (CAST(p.y AS BIGINT) * 12 + CAST(p.m AS BIGINT)), "
    "CAST(p.d AS BIGINT), CASE WHEN p.hs = '-' THEN -1 ELSE 1 END * (CAST(p.h AS BIGINT) * 3600000000 "
    "+ CAST(p.mi AS BIGINT) * 60000000 + CAST(p.s AS BIGINT) * 1000000 "
    "+ CAST(left(rpad(coalesce(nullif(substr(p.f, 2), ''), '0'), 6, '0'), 6) AS BIGINT)))",
    "CREATE OR REPLACE MACRO bq_iso_part(x) AS CAST(coalesce(nullif(x, ''), '0') AS BIGINT)",
    "CREATE OR REPLACE MACRO bq_iso_interval_of(p) AS bq_make_interval("
    "bq_iso_part(p.y) * 12 + bq_iso_part(p.mo), bq_iso_part(p.w) * 7 + bq_iso_part(p.d), "
    "bq_iso_part(p.h) * 3600000000 + bq_iso_part(p.mi) * 60000000 "
    "+ CAST(trunc(CAST(coalesce(nullif(p.s, ''), '0') AS DECIMAL(38, 9)) * 1000000) AS BIGINT))",
    # CAST(string AS INTERVAL): the canonical text, Y-M alone, or ISO 8601 (P1Y2M3DT4H5M6.789S),
    # to the microsecond (BigQuery refuses nanoseconds); SAFE_CAST gives NULL where CAST raises.
    f"CREATE OR REPLACE MACRO bq_try_parse_interval(s) AS CASE "
    f"WHEN regexp_full_match(trim(s), '{_CANONICAL_SQL}') "
    f"THEN bq_interval_of(regexp_extract(trim(s), '^{_CANONICAL_SQL}$', "
    f"['ys', 'y', 'm', 'd', 'hs', 'h', 'mi', 's', 'f'])) "
    f"WHEN regexp_full_match(trim(s), '{_YEAR_MONTH_SQL}') "
    f"THEN to_months(CAST(regexp_extract(trim(s), '^([+-]?)', 1) || '1' AS BIGINT) "
    f"* (CAST(regexp_extract(trim(s), '([0-9]+)-', 1) AS BIGINT) * 12 "
    f"+ CAST(regexp_extract(trim(s), '-([0-9]+)$', 1) AS BIGINT))) "
    f"WHEN regexp_full_match(trim(s), '{_ISO_SQL}') "
    f"AND trim(s) NOT IN ('P', 'PT') AND NOT ends_with(trim(s), 'T') "
    f"THEN bq_iso_interval_of(regexp_extract(trim(s), '^{_ISO_SQL}$', "
    f"['y', 'mo', 'w', 'd', 'h', 'mi', 's'])) END",
    "CREATE OR REPLACE MACRO bq_parse_interval(s) AS CASE WHEN s IS NULL THEN NULL "
    "WHEN bq_try_parse_interval(s) IS NULL THEN error('Invalid INTERVAL value ''' || s || '''') "
    "ELSE bq_try_parse_interval(s) END",
    # JUSTIFY_HOURS: whole 24 hours into days; JUSTIFY_DAYS: whole 30 days into months; the parts
    # left take one sign (BigQuery's documented examples).
    "CREATE OR REPLACE MACRO bq_justify(m, d, us) AS bq_make_interval("
    "m + CASE WHEN m > 0 AND d < 0 THEN -1 WHEN m < 0 AND d > 0 THEN 1 ELSE 0 END, "
    "d + CASE WHEN m > 0 AND d < 0 THEN 30 WHEN m < 0 AND d > 0 THEN -30 ELSE 0 END, us)",
    "CREATE OR REPLACE MACRO justify_hours(i) AS bq_make_interval(bq_interval_months(i), "
    "datepart('day', i) + trunc(bq_interval_micros(i) / 86400000000)::BIGINT "
    "+ CASE WHEN datepart('day', i) + trunc(bq_interval_micros(i) / 86400000000) > 0 "
    "AND bq_interval_micros(i) % 86400000000 < 0 THEN -1 "
    "WHEN datepart('day', i) + trunc(bq_interval_micros(i) / 86400000000) < 0 "
    "AND bq_interval_micros(i) % 86400000000 > 0 THEN 1 ELSE 0 END, "
    "bq_interval_micros(i) % 86400000000 "
    "+ CASE WHEN datepart('day', i) + trunc(bq_interval_micros(i) / 86400000000) > 0 "
    "AND bq_interval_micros(i) % 86400000000 < 0 THEN 86400000000 "
    "WHEN datepart('day', i) + trunc(bq_interval_micros(i) / 86400000000) < 0 "
    "AND bq_interval_micros(i) % 86400000000 > 0 THEN -86400000000 ELSE 0 END)",
    "CREATE OR REPLACE MACRO justify_days(i) AS bq_justify("
    "bq_interval_months(i) + trunc(datepart('day', i) / 30)::BIGINT, datepart('day', i) % 30, "
    "bq_interval_micros(i))",
    # JUSTIFY_HOURS's result is bound once (a lambda's argument) and read by JUSTIFY_DAYS: nested
    # directly, each of JUSTIFY_DAYS's uses of its argument would copy JUSTIFY_HOURS's whole
    # expression (DuckDB macros are substituted), a tree DuckDB took seconds to bind.
    "CREATE OR REPLACE MACRO justify_interval(i) AS "
    "list_transform([justify_hours(i)], lambda _h_: justify_days(_h_))[1]",
)


_FIELDS = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND")
_SEPARATORS = {"MONTH": "-", "DAY": " ", "HOUR": " ", "MINUTE": ":", "SECOND": ":"}


def span_literal_parts(text: str, first: str, last: str) -> tuple[int, int, int] | None:
    """``INTERVAL '1-2 3' YEAR TO DAY``: the months, days and microseconds of a ranged INTERVAL
    literal, or ``None`` if the text does not fit the range."""
    try:
        fields = _FIELDS[_FIELDS.index(first.upper()) : _FIELDS.index(last.upper()) + 1]
    except ValueError:
        return None
    pattern = ""
    for index, field in enumerate(fields):
        starts_group = index == 0 or field == "DAY" or (field == "HOUR" and index > 0)
        if index:
            pattern += re.escape(_SEPARATORS[field])
        sign = f"(?P<sign_{field}>[+-]?)" if starts_group else ""
        digits = r"\d+(?:\.\d{1,6})?" if field == "SECOND" else r"\d+"
        pattern += f"{sign}(?P<{field}>{digits})"
    match = re.fullmatch(pattern, text.strip())
    if match is None:
        return None
    sign = 1
    values: dict[str, int] = {}
    for field in fields:
        if f"sign_{field}" in match.groupdict():
            sign = -1 if match[f"sign_{field}"] == "-" else 1
        if field != "SECOND":
            values[field] = sign * int(match[field])
    months = values.get("YEAR", 0) * 12 + values.get("MONTH", 0)
    second_text = match.groupdict().get("SECOND")
    micros = (values.get("HOUR", 0) * 3600 + values.get("MINUTE", 0) * 60) * MICROS_PER_SECOND
    if second_text is not None:
        whole, _, fraction = second_text.partition(".")
        second_micros = int(whole) * MICROS_PER_SECOND + int(fraction[:6].ljust(6, "0"))
        micros += sign * second_micros
    return months, values.get("DAY", 0), micros


@handles(exp.Interval, exp.Cast, exp.MakeInterval)
def interval_like_bigquery(node: exp.Expression) -> exp.Expression:
    """INTERVAL literals with a range (``'1-2 3 4:5:6' YEAR TO SECOND``), ``CAST`` between
    STRING and INTERVAL in BigQuery's canonical text, and ``MAKE_INTERVAL`` (sqlglot wrote a
    DuckDB literal that drops non-literal and misplaced named arguments)."""
    if node.meta.get("bq_interval"):
        return node
    if isinstance(node, exp.Interval) and isinstance(node.args.get("unit"), exp.IntervalSpan):
        text, span = node.this, node.args["unit"]
        if isinstance(text, exp.Literal) and text.is_string:
            parts = span_literal_parts(text.name, span.this.name, span.expression.name)
            if parts is None:
                raise InvalidIntervalLiteral(
                    text=text.name, span=f"{span.this.name} TO {span.expression.name}"
                )
            return _mark(
                exp.cast(exp.Literal.string(duckdb_text(Interval(*parts))), exp.DataType.build("INTERVAL"))
            )
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.INTERVAL):
        value = node.this
        if not isinstance(value, exp.Null | exp.Interval) and not _is_interval(value):
            name = "bq_try_parse_interval" if isinstance(node, exp.TryCast) else "bq_parse_interval"
            return _mark(exp.Anonymous(this=name, expressions=[value]))
    if isinstance(node, exp.MakeInterval):
        return _mark(_make_interval(node))
    return node


def _is_interval(node: exp.Expression) -> bool:
    return isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.INTERVAL)


def _mark(node: exp.Expression) -> exp.Expression:
    node.meta["bq_interval"] = True
    return node


def _make_interval(node: exp.Expression) -> exp.Expression:
    """``MAKE_INTERVAL([year][, month][, day][, hour][, minute][, second])``, positional or named."""
    given: dict[str, exp.Expression] = {}
    for key in ("year", "month", "day", "hour", "minute", "second"):
        arg = node.args.get(key)
        if isinstance(arg, exp.Kwarg):
            given[arg.this.name.lower()] = arg.expression
        elif arg is not None:
            given[key] = arg

    def part(name: str, scale: int) -> str:
        return f"CAST({given[name].sql('duckdb')} AS BIGINT) * {scale}" if name in given else "0"

    months = f"{part('year', 12)} + {part('month', 1)}"
    micros = f"{part('hour', 3600000000)} + {part('minute', 60000000)} + {part('second', 1000000)}"
    checked = (
        f"bq_interval_part_checked('{name}', {sql}, {limit})"
        for name, sql, limit in zip(
            ("months", "days", "micros"), (months, part("day", 1), micros), INTERVAL_LIMITS, strict=True
        )
    )
    return sqlglot.parse_one(f"bq_make_interval({', '.join(checked)})", read="duckdb")


def read_column_sql(quoted_name: str, type_name: str, repeated: bool) -> str:
    """How to read a stored column so an INTERVAL keeps its months (``tabledata.list``)."""
    if type_name != "INTERVAL":
        return quoted_name
    if repeated:
        return f"list_transform({quoted_name}, lambda x: CAST(x AS VARCHAR)) AS {quoted_name}"
    return f"CAST({quoted_name} AS VARCHAR) AS {quoted_name}"
