"""The BigQuery functions the project uses, run through the fake, against BigQuery's documentation.

One row per case: (BigQuery SQL, the value the fake must return, where the value comes from). A row
is an expression (run as ``SELECT <expr> AS v``) or a whole query with one column ``v``. The value is
the Python value a client gets: ``date``, UTC ``datetime``, ``Decimal`` for NUMERIC, ``float`` for
FLOAT64, parsed JSON for a JSON result; it is compared with its type, so ``3`` is not ``3.0``.

Sources are the GoogleSQL for BigQuery reference pages ("<page> › <function>"), whose examples are
the same as the GoogleSQL reference in google/zetasql ``docs/*.md``; those examples display
TIMESTAMPs in America/Los_Angeles, BigQuery's pages in UTC (its default time zone), so the expected
instants here are the documented ones written in UTC. "rule" means the value follows from the
section's text rather than from a worked example. Where the fake still differs from BigQuery the
row stays in the table as a strict xfail that says why (:mod:`fakes.bigquery.functions` lists the
limits), so the divergence stays visible.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from fakes.bigquery.warehouse import FakeWarehouse
from fakes.errors import text_is_confirmed
from harness.clock import ManualClock
from harness.ports import InvalidRequestError
from harness.schema.spec import FieldType

TS = "Timestamp functions"
DATE_FNS = "Date functions"
CONV = "Conversion functions"
MATH = "Mathematical functions"
STR = "String functions"
JSON_FNS = "JSON functions"
AGG = "Aggregate functions"
ARR = "Array functions"
COND = "Conditional expressions"
FMT = "Format elements"


@dataclass(frozen=True)
class Error:
    """The statement fails with a 400 whose message starts with ``message``."""

    message: str


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def row(sql: str, expected: Any, source: str, *, xfail: str | None = None) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(sql, expected, source, id=sql, marks=marks)


ROWS = [
    # ---------------------------------------------------------------- current time (injected clock)
    row("CURRENT_TIMESTAMP()", utc(2025, 1, 1), f"{TS} › CURRENT_TIMESTAMP (the injected clock's now)"),
    row("CURRENT_DATE()", date(2025, 1, 1), f"{DATE_FNS} › CURRENT_DATE (default time zone UTC)"),
    row("EXTRACT(DATE FROM CURRENT_TIMESTAMP())", date(2025, 1, 1), f"{TS} › EXTRACT: DATE part is a DATE"),
    # -------------------------------------------------------------------- TIMESTAMP_ADD / _SUB
    row(
        "TIMESTAMP_ADD(TIMESTAMP '2008-12-25 15:30:00+00', INTERVAL 10 MINUTE)",
        utc(2008, 12, 25, 15, 40),
        f"{TS} › TIMESTAMP_ADD example",
    ),
    row(
        "TIMESTAMP_SUB(TIMESTAMP '2008-12-25 15:30:00+00', INTERVAL 10 MINUTE)",
        utc(2008, 12, 25, 15, 20),
        f"{TS} › TIMESTAMP_SUB example",
    ),
    row(
        "TIMESTAMP_ADD(TIMESTAMP '2008-12-25 15:30:00+00', INTERVAL 2 HOUR)",
        utc(2008, 12, 25, 17, 30),
        f"{TS} › TIMESTAMP_ADD rule: HOUR is 60 MINUTE parts",
    ),
    row(
        "TIMESTAMP_SUB(TIMESTAMP '2008-12-25 15:30:00+00', INTERVAL 1 DAY)",
        utc(2008, 12, 24, 15, 30),
        f"{TS} › TIMESTAMP_SUB rule: DAY is 24 HOUR parts",
    ),
    # ---------------------------------------------------------------------------- DATE_ADD / _SUB
    row("DATE_ADD(DATE '2008-12-25', INTERVAL 5 DAY)", date(2008, 12, 30), f"{DATE_FNS} › DATE_ADD example"),
    row("DATE_SUB(DATE '2008-12-25', INTERVAL 5 DAY)", date(2008, 12, 20), f"{DATE_FNS} › DATE_SUB example"),
    row(
        "DATE_ADD(DATE '2008-12-25', INTERVAL 1 WEEK)",
        date(2009, 1, 1),
        f"{DATE_FNS} › DATE_ADD rule: WEEK = 7 DAYs",
    ),
    row(
        "DATE_ADD(DATE '2008-01-31', INTERVAL 1 MONTH)",
        date(2008, 2, 29),
        f"{DATE_FNS} › DATE_ADD rule: a shorter month gives its last day",
    ),
    row(
        "DATE_SUB(DATE '2008-03-31', INTERVAL 1 MONTH)",
        date(2008, 2, 29),
        f"{DATE_FNS} › DATE_SUB rule: a shorter month gives its last day",
    ),
    row(
        "DATE_ADD('2008-12-25', INTERVAL 5 DAY)",
        date(2008, 12, 30),
        f"{DATE_FNS} › DATE_ADD (string literal)",
    ),
    row("DATE_FROM_UNIX_DATE(14238)", date(2008, 12, 25), f"{DATE_FNS} › DATE_FROM_UNIX_DATE example"),
    row("UNIX_DATE(DATE '2008-12-25')", 14238, f"{DATE_FNS} › UNIX_DATE example"),
    row("LAST_DAY(DATE '2008-11-25')", date(2008, 11, 30), f"{DATE_FNS} › LAST_DAY example"),
    # ---------------------------------------------------------------------------------------- DATE
    row("DATE(2016, 12, 25)", date(2016, 12, 25), f"{DATE_FNS} › DATE example (date_ymd)"),
    row("DATE(DATETIME '2016-12-25 23:59:59')", date(2016, 12, 25), f"{DATE_FNS} › DATE example (date_dt)"),
    row(
        "DATE(TIMESTAMP '2016-12-25 05:30:00+07', 'America/Los_Angeles')",
        date(2016, 12, 24),
        f"{DATE_FNS} › DATE example (date_tstz)",
    ),
    row(
        "DATE(TIMESTAMP '2016-12-25 05:30:00+07')",
        date(2016, 12, 24),
        f"{DATE_FNS} › DATE rule: default time zone (UTC): 2016-12-24 22:30 UTC",
    ),
    # ---------------------------------------------------------------------------------- DATE_TRUNC
    row("DATE_TRUNC(DATE '2008-12-25', MONTH)", date(2008, 12, 1), f"{DATE_FNS} › DATE_TRUNC example"),
    row(
        "DATE_TRUNC(DATE '2017-11-05', WEEK(MONDAY))",
        date(2017, 10, 30),
        f"{DATE_FNS} › DATE_TRUNC example (WEEK(MONDAY) of a Sunday)",
    ),
    row(
        "DATE_TRUNC('2015-06-15', ISOYEAR)", date(2014, 12, 29), f"{DATE_FNS} › DATE_TRUNC example (ISOYEAR)"
    ),
    row(
        "DATE_TRUNC(DATE '2017-11-05', WEEK)",
        date(2017, 11, 5),
        f"{DATE_FNS} › DATE_TRUNC rule: WEEK begins on Sunday (2017-11-05 is one)",
    ),
    row(
        "DATE_TRUNC(DATE '2008-12-25', WEEK)",
        date(2008, 12, 21),
        f"{DATE_FNS} › DATE_TRUNC rule: WEEK (Sunday)",
    ),
    row(
        "DATE_TRUNC(DATE '2017-11-05', ISOWEEK)",
        date(2017, 10, 30),
        f"{DATE_FNS} › DATE_TRUNC rule: ISOWEEK begins on Monday",
    ),
    row(
        "DATE_TRUNC(DATE '2008-12-25', QUARTER)", date(2008, 10, 1), f"{DATE_FNS} › DATE_TRUNC rule: QUARTER"
    ),
    row("DATE_TRUNC(DATE '2008-12-25', YEAR)", date(2008, 1, 1), f"{DATE_FNS} › DATE_TRUNC rule: YEAR"),
    row(
        "DATE_TRUNC(DATETIME '2008-12-25 15:30:00', WEEK)",
        datetime(2008, 12, 21),
        f"{DATE_FNS} › DATE_TRUNC rule: returns the type of its first argument (DATETIME)",
    ),
    row(
        "DATE_TRUNC(TIMESTAMP '2008-12-25 15:30:00+00', DAY, 'America/Los_Angeles')",
        utc(2008, 12, 25, 8),
        f"{DATE_FNS} › DATE_TRUNC rule: time_zone argument for a TIMESTAMP",
    ),
    row(
        "DATE_TRUNC(TIMESTAMP '2008-12-25 15:30:00+00', MONTH)",
        utc(2008, 12, 1),
        f"{DATE_FNS} › DATE_TRUNC rule: returns the type of its first argument",
    ),
    # ----------------------------------------------------------------------------- TIMESTAMP_TRUNC
    row(
        "TIMESTAMP_TRUNC(TIMESTAMP '2008-12-25 15:30:00+00', DAY, 'UTC')",
        utc(2008, 12, 25),
        f"{TS} › TIMESTAMP_TRUNC example (utc)",
    ),
    row(
        "TIMESTAMP_TRUNC(TIMESTAMP '2008-12-25 15:30:00+00', DAY, 'America/Los_Angeles')",
        utc(2008, 12, 25, 8),
        f"{TS} › TIMESTAMP_TRUNC example (la: 2008-12-25 00:00 -08)",
    ),
    row(
        "TIMESTAMP_TRUNC(TIMESTAMP('2017-11-06 00:00:00+12'), WEEK(MONDAY), 'UTC')",
        utc(2017, 10, 30),
        f"{TS} › TIMESTAMP_TRUNC example (utc_truncated)",
    ),
    row(
        "TIMESTAMP_TRUNC(TIMESTAMP('2017-11-06 00:00:00+12'), WEEK(MONDAY), 'Pacific/Auckland')",
        utc(2017, 11, 5, 11),
        f"{TS} › TIMESTAMP_TRUNC example (nzdt_truncated)",
    ),
    row(
        "TIMESTAMP_TRUNC('2015-06-15 00:00:00+00', ISOYEAR)",
        utc(2014, 12, 29),
        f"{TS} › TIMESTAMP_TRUNC example (isoyear_boundary)",
    ),
    row(
        "TIMESTAMP_TRUNC(TIMESTAMP '2008-12-25 15:30:00+00', HOUR)",
        utc(2008, 12, 25, 15),
        f"{TS} › TIMESTAMP_TRUNC rule: HOUR",
    ),
    # ----------------------------------------------------------------------------------- DATE_DIFF
    row("DATE_DIFF(DATE '2010-07-07', DATE '2008-12-25', DAY)", 559, f"{DATE_FNS} › DATE_DIFF example"),
    row(
        "DATE_DIFF(DATE '2017-10-15', DATE '2017-10-14', DAY)",
        1,
        f"{DATE_FNS} › DATE_DIFF example (days_diff)",
    ),
    row(
        "DATE_DIFF(DATE '2017-10-15', DATE '2017-10-14', WEEK)",
        1,
        f"{DATE_FNS} › DATE_DIFF example (weeks_diff)",
    ),
    row("DATE_DIFF('2017-12-30', '2014-12-30', YEAR)", 3, f"{DATE_FNS} › DATE_DIFF example (year_diff)"),
    row(
        "DATE_DIFF('2017-12-30', '2014-12-30', ISOYEAR)", 2, f"{DATE_FNS} › DATE_DIFF example (isoyear_diff)"
    ),
    row("DATE_DIFF('2017-12-18', '2017-12-17', WEEK)", 0, f"{DATE_FNS} › DATE_DIFF example (week_diff)"),
    row(
        "DATE_DIFF('2017-12-18', '2017-12-17', WEEK(MONDAY))",
        1,
        f"{DATE_FNS} › DATE_DIFF example (week_weekday)",
    ),
    row(
        "DATE_DIFF('2017-12-18', '2017-12-17', ISOWEEK)", 1, f"{DATE_FNS} › DATE_DIFF example (isoweek_diff)"
    ),
    row(
        "DATE_DIFF(DATE '2018-01-01', DATE '2017-12-31', MONTH)",
        1,
        f"{DATE_FNS} › DATE_DIFF rule: counts unit boundaries",
    ),
    row(
        "DATE_DIFF(DATE '2017-12-31', DATE '2018-01-01', MONTH)",
        -1,
        f"{DATE_FNS} › DATE_DIFF rule: end before start is negative",
    ),
    # ------------------------------------------------------------------------------ TIMESTAMP_DIFF
    row(
        "TIMESTAMP_DIFF(TIMESTAMP '2010-07-07 10:20:00+00', TIMESTAMP '2008-12-25 15:30:00+00', HOUR)",
        13410,
        f"{TS} › TIMESTAMP_DIFF example (hours)",
    ),
    row(
        "TIMESTAMP_DIFF(TIMESTAMP '2018-08-14', TIMESTAMP '2018-10-14', DAY)",
        -61,
        f"{TS} › TIMESTAMP_DIFF example (negative_diff)",
    ),
    row(
        "TIMESTAMP_DIFF('2001-02-01 01:00:00', '2001-02-01 00:00:01', HOUR)",
        0,
        f"{TS} › TIMESTAMP_DIFF example: only whole HOUR intervals count",
    ),
    row(
        "TIMESTAMP_DIFF(TIMESTAMP '2018-08-14 00:00:00+00', TIMESTAMP '2018-08-13 23:59:59+00', MINUTE)",
        0,
        f"{TS} › TIMESTAMP_DIFF rule (whole units): 1 s across a minute boundary",
    ),
    row(
        "TIMESTAMP_DIFF(TIMESTAMP '2018-08-14 00:00:00+00', TIMESTAMP '2018-08-13 23:59:59+00', SECOND)",
        1,
        f"{TS} › TIMESTAMP_DIFF rule (whole units)",
    ),
    row(
        "TIMESTAMP_DIFF(TIMESTAMP '2018-01-01 00:00:00+00', TIMESTAMP '2017-12-31 12:00:00+00', DAY)",
        0,
        f"{TS} › TIMESTAMP_DIFF rule: DAY is 24 HOURs",
    ),
    # ------------------------------------------------------------------------------------- EXTRACT
    row(
        "EXTRACT(DAYOFWEEK FROM DATE '2025-12-06')",
        7,
        f"{DATE_FNS} › EXTRACT rule: DAYOFWEEK, Sunday = 1 (Sat)",
    ),
    row("EXTRACT(DAYOFWEEK FROM DATE '2025-12-07')", 1, f"{DATE_FNS} › EXTRACT rule: DAYOFWEEK, Sunday = 1"),
    row("EXTRACT(DAY FROM DATE '2013-12-25')", 25, f"{DATE_FNS} › EXTRACT example (the_day)"),
    row("EXTRACT(DAYOFYEAR FROM DATE '2025-12-06')", 340, f"{DATE_FNS} › EXTRACT rule: DAYOFYEAR"),
    row("EXTRACT(QUARTER FROM DATE '2025-12-06')", 4, f"{DATE_FNS} › EXTRACT rule: QUARTER in [1, 4]"),
    row("EXTRACT(MONTH FROM DATE '2025-12-06')", 12, f"{DATE_FNS} › EXTRACT rule: MONTH"),
    row("EXTRACT(YEAR FROM DATE '2025-12-06')", 2025, f"{DATE_FNS} › EXTRACT rule: YEAR"),
    row("EXTRACT(WEEK FROM DATE '2015-12-26')", 51, f"{DATE_FNS} › EXTRACT example table (2015-12-26 week)"),
    row("EXTRACT(WEEK FROM DATE '2015-12-27')", 52, f"{DATE_FNS} › EXTRACT example table (2015-12-27 week)"),
    row(
        "EXTRACT(ISOWEEK FROM DATE '2015-12-27')",
        52,
        f"{DATE_FNS} › EXTRACT example table (2015-12-27 isoweek)",
    ),
    row(
        "EXTRACT(ISOWEEK FROM DATE '2015-12-28')",
        53,
        f"{DATE_FNS} › EXTRACT example table (2015-12-28 isoweek)",
    ),
    row(
        "EXTRACT(ISOYEAR FROM DATE '2016-01-01')",
        2015,
        f"{DATE_FNS} › EXTRACT example table (2016-01-01 isoyear)",
    ),
    row(
        "EXTRACT(ISOWEEK FROM DATE '2016-01-01')",
        53,
        f"{DATE_FNS} › EXTRACT example table (2016-01-01 isoweek)",
    ),
    row("EXTRACT(WEEK FROM DATE '2016-01-01')", 0, f"{DATE_FNS} › EXTRACT example table (2016-01-01 week)"),
    row("EXTRACT(WEEK FROM DATE '2016-01-03')", 1, f"{DATE_FNS} › EXTRACT example table (2016-01-03 week)"),
    row(
        "EXTRACT(ISOYEAR FROM DATE '2016-01-04')",
        2016,
        f"{DATE_FNS} › EXTRACT example table (2016-01-04 isoyear)",
    ),
    row(
        "EXTRACT(ISOWEEK FROM DATE '2016-01-04')",
        1,
        f"{DATE_FNS} › EXTRACT example table (2016-01-04 isoweek)",
    ),
    row("EXTRACT(WEEK(SUNDAY) FROM DATE '2017-11-05')", 45, f"{DATE_FNS} › EXTRACT example (week_sunday)"),
    row("EXTRACT(WEEK(MONDAY) FROM DATE '2017-11-05')", 44, f"{DATE_FNS} › EXTRACT example (week_monday)"),
    row(
        "EXTRACT(DAY FROM TIMESTAMP('2008-12-25 05:30:00+00') AT TIME ZONE 'UTC')",
        25,
        f"{TS} › EXTRACT example (the_day_utc)",
    ),
    row(
        "EXTRACT(DAY FROM TIMESTAMP('2008-12-25 05:30:00+00') AT TIME ZONE 'America/Los_Angeles')",
        24,
        f"{TS} › EXTRACT example (the_day_california)",
    ),
    row(
        "EXTRACT(ISOYEAR FROM TIMESTAMP('2005-01-03 12:34:56+00'))",
        2005,
        f"{TS} › EXTRACT example (2005-01-03)",
    ),
    row(
        "EXTRACT(ISOWEEK FROM TIMESTAMP('2005-01-03 12:34:56+00'))", 1, f"{TS} › EXTRACT example (2005-01-03)"
    ),
    row("EXTRACT(WEEK FROM TIMESTAMP('2005-01-03 12:34:56+00'))", 1, f"{TS} › EXTRACT example (2005-01-03)"),
    row(
        "EXTRACT(ISOYEAR FROM TIMESTAMP('2007-12-31 12:00:00+00'))",
        2008,
        f"{TS} › EXTRACT example (2007-12-31)",
    ),
    row(
        "EXTRACT(ISOWEEK FROM TIMESTAMP('2007-12-31 12:00:00+00'))", 1, f"{TS} › EXTRACT example (2007-12-31)"
    ),
    row(
        "EXTRACT(YEAR FROM TIMESTAMP('2007-12-31 12:00:00+00'))", 2007, f"{TS} › EXTRACT example (2007-12-31)"
    ),
    row("EXTRACT(WEEK FROM TIMESTAMP('2007-12-31 12:00:00+00'))", 52, f"{TS} › EXTRACT example (2007-12-31)"),
    row("EXTRACT(WEEK FROM TIMESTAMP('2009-01-01 12:00:00+00'))", 0, f"{TS} › EXTRACT example (2009-01-01)"),
    row(
        "EXTRACT(ISOWEEK FROM TIMESTAMP('2009-12-31 12:00:00+00'))",
        53,
        f"{TS} › EXTRACT example (2009-12-31)",
    ),
    row("EXTRACT(WEEK FROM TIMESTAMP('2009-12-31 12:00:00+00'))", 52, f"{TS} › EXTRACT example (2009-12-31)"),
    row("EXTRACT(WEEK FROM TIMESTAMP('2017-05-26 12:00:00+00'))", 21, f"{TS} › EXTRACT example (2017-05-26)"),
    row(
        "EXTRACT(WEEK(SUNDAY) FROM TIMESTAMP('2017-11-06 00:00:00+00'))",
        45,
        f"{TS} › EXTRACT example (week_sunday)",
    ),
    row(
        "EXTRACT(WEEK(MONDAY) FROM TIMESTAMP('2017-11-06 00:00:00+00'))",
        45,
        f"{TS} › EXTRACT rule: WEEK(<WEEKDAY>); the example's 44 is read in the reference's default zone "
        "America/Los_Angeles (a Sunday there); in BigQuery's UTC the instant is Monday 2017-11-06",
    ),
    row(
        "EXTRACT(WEEK(MONDAY) FROM TIMESTAMP('2017-11-06 00:00:00+00') AT TIME ZONE 'America/Los_Angeles')",
        44,
        f"{TS} › EXTRACT example (week_monday, read in America/Los_Angeles)",
    ),
    row(
        "EXTRACT(HOUR FROM TIMESTAMP '2008-12-25 05:30:00-08')",
        13,
        f"{TS} › EXTRACT rule: default time zone (UTC)",
    ),
    row(
        "EXTRACT(DAYOFWEEK FROM TIMESTAMP '2008-12-25 05:30:00+00')",
        5,
        f"{TS} › EXTRACT rule: DAYOFWEEK, Sunday = 1 (Thu)",
    ),
    row(
        "EXTRACT(SECOND FROM TIMESTAMP '2008-12-25 05:30:01.9+00')",
        1,
        f"{TS} › EXTRACT rule: lower order periods are truncated",
    ),
    row(
        "EXTRACT(MILLISECOND FROM TIMESTAMP '2008-12-25 05:30:01.123+00')",
        123,
        f"{TS} › EXTRACT rule: MILLISECOND part (of the second, lower parts truncated)",
    ),
    row(
        "EXTRACT(MICROSECOND FROM TIMESTAMP '2008-12-25 05:30:01.123456+00')",
        123456,
        f"{TS} › EXTRACT rule: MICROSECOND part (of the second)",
    ),
    # ---------------------------------------------------------------------------- FORMAT_TIMESTAMP
    row(
        "FORMAT_TIMESTAMP('%c', TIMESTAMP '2050-12-25 15:30:55+00', 'UTC')",
        "Sun Dec 25 15:30:55 2050",
        f"{TS} › FORMAT_TIMESTAMP example (%c)",
    ),
    row(
        "FORMAT_TIMESTAMP('%b-%d-%Y', TIMESTAMP '2050-12-25 15:30:55+00')",
        "Dec-25-2050",
        f"{TS} › FORMAT_TIMESTAMP example",
    ),
    row(
        "FORMAT_TIMESTAMP('%b %Y', TIMESTAMP '2050-12-25 15:30:55+00')",
        "Dec 2050",
        f"{TS} › FORMAT_TIMESTAMP example",
    ),
    row(
        "FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', TIMESTAMP '2050-12-25 15:30:55', 'UTC')",
        "2050-12-25T15:30:55Z",
        f"{TS} › FORMAT_TIMESTAMP example",
    ),
    row(
        "FORMAT_TIMESTAMP('%b %Y %Ez', TIMESTAMP '2008-12-25 15:30:00+00')",
        "Dec 2008 +00:00",
        f"{FMT} › example (%Ez)",
    ),
    row(
        "FORMAT_TIMESTAMP('%Y-%m-%d %H:%M:%S', TIMESTAMP '2008-12-25 15:30:00+00')",
        "2008-12-25 15:30:00",
        f"{FMT} › %Y %m %d %H %M %S",
    ),
    row("FORMAT_TIMESTAMP('%Y%m%d', TIMESTAMP '2008-12-25 15:30:00+00')", "20081225", f"{FMT} › %Y %m %d"),
    row("FORMAT_TIMESTAMP('%F', TIMESTAMP '2008-12-25 15:30:00+00')", "2008-12-25", f"{FMT} › %F = %Y-%m-%d"),
    row("FORMAT_TIMESTAMP('%T', TIMESTAMP '2008-12-25 15:30:00+00')", "15:30:00", f"{FMT} › %T = %H:%M:%S"),
    row(
        "FORMAT_TIMESTAMP('%F %T', TIMESTAMP '2008-12-25 15:30:00+00', 'America/Los_Angeles')",
        "2008-12-25 07:30:00",
        f"{TS} › FORMAT_TIMESTAMP rule: time_zone argument",
    ),
    row(
        "FORMAT_TIMESTAMP('%Ez', TIMESTAMP '2008-12-25 15:30:00+00', 'America/Los_Angeles')",
        "-08:00",
        f"{FMT} › %Ez: RFC 3339 numeric time zone",
    ),
    row(
        "FORMAT_TIMESTAMP('%z', TIMESTAMP '2008-12-25 15:30:00+00', 'Asia/Kolkata')",
        "+0530",
        f"{FMT} › %z: +HHMM offset",
    ),
    row("FORMAT_TIMESTAMP('%z', TIMESTAMP '2008-12-25 15:30:00+00')", "+0000", f"{FMT} › %z: +HHMM offset"),
    row(
        "FORMAT_TIMESTAMP('%E3S', TIMESTAMP '2008-12-25 15:30:00.123456+00')",
        "00.123",
        f"{FMT} › %E<number>S ('00.000 for %E3S')",
    ),
    row(
        "FORMAT_TIMESTAMP('%E6S', TIMESTAMP '2008-12-25 15:30:00.123456+00')",
        "00.123456",
        f"{FMT} › %E<number>S",
    ),
    row(
        "FORMAT_TIMESTAMP('%s', TIMESTAMP '2008-12-25 15:30:00+00')",
        "1230219000",
        f"{FMT} › %s: seconds since 1970-01-01 00:00:00",
    ),
    row("FORMAT_TIMESTAMP('%Q', TIMESTAMP '2008-12-25 15:30:00+00')", "4", f"{FMT} › %Q: quarter"),
    row(
        "FORMAT_TIMESTAMP('%Y-%m-%d %H:%M:%E*S', TIMESTAMP '2008-12-25 15:30:00.5+00')",
        "2008-12-25 15:30:00.5",
        f"{FMT} › %E*S: seconds with full fractional precision",
        xfail="%E*S (full fractional precision) has no DuckDB strftime equivalent and is not rewritten",
    ),
    # --------------------------------------------------------------------------------- FORMAT_DATE
    row("FORMAT_DATE('%x', DATE '2008-12-25')", "12/25/08", f"{DATE_FNS} › FORMAT_DATE example (US_format)"),
    row("FORMAT_DATE('%b-%d-%Y', DATE '2008-12-25')", "Dec-25-2008", f"{DATE_FNS} › FORMAT_DATE example"),
    row("FORMAT_DATE('%b %Y', DATE '2008-12-25')", "Dec 2008", f"{DATE_FNS} › FORMAT_DATE example"),
    row("FORMAT_DATE('%Y%m%d', DATE '2008-12-25')", "20081225", f"{FMT} › %Y %m %d"),
    row("FORMAT_DATE('%e', DATE '2008-12-05')", " 5", f"{FMT} › %e: single digits are preceded by a space"),
    row("FORMAT_DATE('%Q', DATE '2008-12-05')", "4", f"{FMT} › %Q: quarter"),
    # ---------------------------------------------------------------------- PARSE_DATE / _TIMESTAMP
    row("PARSE_DATE('%x', '12/25/08')", date(2008, 12, 25), f"{DATE_FNS} › PARSE_DATE example (%x)"),
    row("PARSE_DATE('%Y%m%d', '20081225')", date(2008, 12, 25), f"{DATE_FNS} › PARSE_DATE example (%Y%m%d)"),
    row(
        "PARSE_DATE('%A %b %e %Y', 'Thursday Dec 25 2008')",
        date(2008, 12, 25),
        f"{DATE_FNS} › PARSE_DATE ('This works because elements on both sides match')",
    ),
    row("PARSE_DATE('%F', '2000-12-30')", date(2000, 12, 30), f"{DATE_FNS} › PARSE_DATE ('%F can find all')"),
    row(
        "PARSE_TIMESTAMP('%c', 'Thu Dec 25 07:30:00 2008')",
        utc(2008, 12, 25, 7, 30),
        f"{TS} › PARSE_TIMESTAMP example (default time zone UTC)",
    ),
    row(
        "PARSE_TIMESTAMP('%a %b %e %I:%M:%S %Y', 'Thu Dec 25 07:30:00 2008')",
        utc(2008, 12, 25, 7, 30),
        f"{TS} › PARSE_TIMESTAMP ('This works because elements on both sides match')",
    ),
    row(
        "PARSE_TIMESTAMP('%Y-%m-%d %H:%M:%S', '2008-12-25 07:30:00', 'America/Los_Angeles')",
        utc(2008, 12, 25, 15, 30),
        f"{TS} › PARSE_TIMESTAMP rule: time_zone argument",
    ),
    row(
        "PARSE_TIMESTAMP('%Y-%m-%d %H:%M:%S%Ez', '2008-12-25 07:30:00+05:00')",
        utc(2008, 12, 25, 2, 30),
        f"{FMT} › %Ez when parsing",
    ),
    row(
        "SAFE.PARSE_TIMESTAMP('%Y-%m-%d', 'not a date')",
        None,
        f"{TS} › PARSE_TIMESTAMP with the SAFE. prefix returns NULL",
    ),
    row(
        "PARSE_TIMESTAMP('%Y-%m-%d %H:%M:%E*S', '2008-12-25 07:30:00.123')",
        utc(2008, 12, 25, 7, 30, 0, 123000),
        f"{FMT} › %E*S when parsing",
        xfail="%E*S (any fractional precision) has no DuckDB strptime equivalent and is not rewritten",
    ),
    # ------------------------------------------------------------------------------ UNIX epochs
    row("UNIX_SECONDS(TIMESTAMP '2008-12-25 15:30:00+00')", 1230219000, f"{TS} › UNIX_SECONDS example"),
    row(
        "UNIX_SECONDS(TIMESTAMP '1970-01-01 00:00:01.8+00')", 1, f"{TS} › UNIX_SECONDS example (rounds down)"
    ),
    row("UNIX_MILLIS(TIMESTAMP '2008-12-25 15:30:00+00')", 1230219000000, f"{TS} › UNIX_MILLIS example"),
    row(
        "UNIX_MILLIS(TIMESTAMP '1970-01-01 00:00:00.0018+00')", 1, f"{TS} › UNIX_MILLIS example (rounds down)"
    ),
    row("UNIX_MICROS(TIMESTAMP '2008-12-25 15:30:00+00')", 1230219000000000, f"{TS} › UNIX_MICROS example"),
    row("TIMESTAMP_SECONDS(1230219000)", utc(2008, 12, 25, 15, 30), f"{TS} › TIMESTAMP_SECONDS example"),
    row("TIMESTAMP_MILLIS(1230219000000)", utc(2008, 12, 25, 15, 30), f"{TS} › TIMESTAMP_MILLIS example"),
    row("TIMESTAMP_MICROS(1230219000000000)", utc(2008, 12, 25, 15, 30), f"{TS} › TIMESTAMP_MICROS example"),
    # ------------------------------------------------------------------- CAST / SAFE_CAST / STRING
    row("SAFE_CAST('apple' AS INT64)", None, f"{CONV} › SAFE_CAST example"),
    row("SAFE_CAST('123' AS INT64)", 123, f"{CONV} › SAFE_CAST rule: a valid cast returns the value"),
    row("SAFE_CAST('2008-12-25' AS DATE)", date(2008, 12, 25), f"{CONV} › SAFE_CAST / CAST AS DATE"),
    row(
        "STRING(TIMESTAMP '2008-12-25 15:30:00+00', 'UTC')",
        "2008-12-25 15:30:00+00",
        f"{TS} › STRING example",
    ),
    row(
        "STRING(TIMESTAMP '2008-12-25 15:30:00+00', 'America/Los_Angeles')",
        "2008-12-25 07:30:00-08",
        f"{TS} › STRING rule: time_zone argument",
    ),
    row(
        "CAST(TIMESTAMP '2008-12-25 15:30:00+00' AS STRING)",
        "2008-12-25 15:30:00+00",
        f"{CONV} › CAST AS STRING: TIMESTAMP in the default time zone (UTC)",
    ),
    row(
        "CAST(TIMESTAMP '2008-12-25 15:30:00.12+00' AS STRING)",
        "2008-12-25 15:30:00.120+00",
        f"{CONV} › CAST AS STRING rule: 0, 3 or 6 subsecond digits",
    ),
    row(
        "CAST(TIMESTAMP '2008-12-25 15:30:00.1234+00' AS STRING)",
        "2008-12-25 15:30:00.123400+00",
        f"{CONV} › CAST AS STRING rule: 0, 3 or 6 subsecond digits",
    ),
    row(
        "CAST(DATE '2008-12-25' AS STRING)", "2008-12-25", f"{CONV} › CAST AS STRING rule: DATE is YYYY-MM-DD"
    ),
    row(
        "CAST(DATETIME '2008-12-25 15:30:00' AS STRING)",
        "2008-12-25 15:30:00",
        f"{CONV} › CAST AS STRING rule: DATETIME is YYYY-MM-DD HH:MM:SS",
    ),
    row("CAST(TRUE AS STRING)", "true", f"{CONV} › CAST AS STRING rule: BOOL"),
    row("CAST(123 AS STRING)", "123", f"{CONV} › CAST AS STRING: INT64"),
    row("CAST(1.0 AS STRING)", "1", f"{CONV} › CAST AS STRING: FLOAT64 (GoogleSQL round-trip %.15g)"),
    row("CAST(1.5 AS STRING)", "1.5", f"{CONV} › CAST AS STRING: FLOAT64 (%.15g)"),
    row("CAST(0.1 AS STRING)", "0.1", f"{CONV} › CAST AS STRING: FLOAT64 (%.15g)"),
    row("CAST(1e20 AS STRING)", "1e+20", f"{CONV} › CAST AS STRING: FLOAT64 (%.15g)"),
    row(
        "CAST(1 / 3 AS STRING)",
        "0.33333333333333331",
        f"{CONV} › CAST AS STRING: FLOAT64 (%.17g to round-trip)",
    ),
    row("CAST(-0.0 AS STRING)", "0", f"{CONV} › CAST AS STRING rule: a returned 0 is not signed"),
    row("CAST(CAST('nan' AS FLOAT64) AS STRING)", "nan", f"{CONV} › CAST AS STRING rule: NaN is not signed"),
    row("CAST(NUMERIC '1.50' AS STRING)", "1.5", f"{CONV} › CAST AS STRING: NUMERIC (no trailing zeros)"),
    row("CAST(2.5 AS INT64)", 3, f"{CONV} › CAST AS Integer rule: halfway cases round away from zero"),
    row("CAST(-0.5 AS INT64)", -1, f"{CONV} › CAST AS Integer rule: -0.5 rounds away from zero"),
    row("CAST(1.4 AS INT64)", 1, f"{CONV} › CAST AS Integer rule: the closest integer"),
    row("CAST(NUMERIC '-2.5' AS INT64)", -3, f"{CONV} › CAST AS Integer rule: halfway cases away from zero"),
    row("CAST(2.5 AS NUMERIC)", Decimal("2.5"), f"{CONV} › CAST AS NUMERIC"),
    row("LENGTH(CAST('абвгд' AS BYTES))", 10, f"{STR} › LENGTH example (bytes_example)"),
    # -------------------------------------------------------------------- conditional expressions
    row("COALESCE('A', 'B', 'C')", "A", f"{COND} › COALESCE example"),
    row("COALESCE(NULL, 'B', 'C')", "B", f"{COND} › COALESCE example"),
    row("IFNULL(NULL, 0)", 0, f"{COND} › IFNULL example"),
    row("IFNULL(10, 0)", 10, f"{COND} › IFNULL example"),
    row("NULLIF(0, 0)", None, f"{COND} › NULLIF example"),
    row("NULLIF(10, 0)", 10, f"{COND} › NULLIF example"),
    row("IF(10 < 20, 'true', 'false')", "true", f"{COND} › IF example"),
    row("IF(30 < 20, 'true', 'false')", "false", f"{COND} › IF example"),
    row("IF(NULL, 'yes', 'no')", "no", f"{COND} › IF rule: else_result when expr is NULL"),
    # ------------------------------------------------------------------------- aggregates, arrays
    row(
        "SELECT COUNTIF(x < 0) AS v FROM UNNEST([5, -2, 3, 6, -10, -7, 4, 0]) AS x",
        3,
        f"{AGG} › COUNTIF example (num_negative)",
    ),
    row(
        "SELECT COUNTIF(x > 0) AS v FROM UNNEST([5, -2, 3, 6, -10, -7, 4, 0]) AS x",
        4,
        f"{AGG} › COUNTIF example (num_positive)",
    ),
    row(
        "SELECT ARRAY_AGG(x) AS v FROM UNNEST([2, 1, -2, 3, -2, 1, 2]) AS x",
        [2, 1, -2, 3, -2, 1, 2],
        f"{AGG} › ARRAY_AGG example",
    ),
    row(
        "SELECT ARRAY_AGG(x IGNORE NULLS) AS v FROM UNNEST([NULL, 1, -2, 3, -2, 1, NULL]) AS x",
        [1, -2, 3, -2, 1],
        f"{AGG} › ARRAY_AGG example (IGNORE NULLS)",
    ),
    row(
        "SELECT ARRAY_AGG(x ORDER BY ABS(x)) AS v FROM UNNEST([2, 1, -2, 3, -2, 1, 2]) AS x",
        [1, 1, 2, -2, -2, 2, 3],
        f"{AGG} › ARRAY_AGG example (ORDER BY)",
    ),
    row(
        "SELECT ARRAY_AGG(x LIMIT 5) AS v FROM UNNEST([2, 1, -2, 3, -2, 1, 2]) AS x",
        [2, 1, -2, 3, -2],
        f"{AGG} › ARRAY_AGG example (LIMIT)",
    ),
    row(
        "SELECT ARRAY_AGG(DISTINCT x ORDER BY x) AS v FROM UNNEST([1, -2, 3, -2, 1]) AS x",
        [-2, 1, 3],
        f"{AGG} › ARRAY_AGG example (DISTINCT ... ORDER BY)",
    ),
    row(
        "SELECT ARRAY_AGG(x IGNORE NULLS ORDER BY x DESC LIMIT 2) AS v FROM UNNEST([NULL, 1, 3, 2]) AS x",
        [3, 2],
        f"{AGG} › ARRAY_AGG rule: IGNORE NULLS, ORDER BY and LIMIT together",
    ),
    row(
        "SELECT STRING_AGG(fruit) AS v FROM UNNEST(['apple', NULL, 'pear', 'banana', 'pear']) AS fruit",
        "apple,pear,banana,pear",
        f"{AGG} › STRING_AGG example",
    ),
    row(
        "SELECT STRING_AGG(fruit, ' & ') AS v FROM UNNEST(['apple', 'pear', 'banana', 'pear']) AS fruit",
        "apple & pear & banana & pear",
        f"{AGG} › STRING_AGG example (delimiter)",
    ),
    row(
        "SELECT STRING_AGG(fruit, ' & ' ORDER BY LENGTH(fruit)) AS v "
        "FROM UNNEST(['apple', 'pear', 'banana', 'pear']) AS fruit",
        "pear & pear & apple & banana",
        f"{AGG} › STRING_AGG example (ORDER BY)",
    ),
    row(
        "SELECT STRING_AGG(fruit, ' & ' LIMIT 2) AS v "
        "FROM UNNEST(['apple', 'pear', 'banana', 'pear']) AS fruit",
        "apple & pear",
        f"{AGG} › STRING_AGG example (LIMIT)",
    ),
    row(
        "SELECT STRING_AGG(DISTINCT fruit, ' & ' ORDER BY fruit DESC LIMIT 2) AS v "
        "FROM UNNEST(['apple', 'pear', 'banana', 'pear']) AS fruit",
        "pear & banana",
        f"{AGG} › STRING_AGG example (DISTINCT, ORDER BY, LIMIT)",
    ),
    row("SELECT SUM(x) AS v FROM UNNEST([1, 2, 3, 4, 5, 4, 3, 2, 1]) AS x", 25, f"{AGG} › SUM example"),
    row(
        "SELECT SUM(DISTINCT x) AS v FROM UNNEST([1, 2, 3, 4, 5, 4, 3, 2, 1]) AS x",
        15,
        f"{AGG} › SUM example",
    ),
    row(
        "SELECT SUM(x) AS v FROM UNNEST(CAST([] AS ARRAY<INT64>)) AS x", None, f"{AGG} › SUM example (empty)"
    ),
    row(
        "SELECT SUM(x) AS v FROM UNNEST([NUMERIC '1.25', NUMERIC '2.5', NUMERIC '0.000000001']) AS x",
        Decimal("3.750000001"),
        f"{AGG} › SUM rule: NUMERIC input gives NUMERIC",
    ),
    row("ARRAY_LENGTH(['coffee', NULL, 'milk'])", 3, f"{ARR} › ARRAY_LENGTH example (size_a)"),
    row("ARRAY_LENGTH(['cake', 'pie'])", 2, f"{ARR} › ARRAY_LENGTH example (size_b)"),
    row(
        "GENERATE_DATE_ARRAY('2016-10-05', '2016-10-08')",
        [date(2016, 10, 5), date(2016, 10, 6), date(2016, 10, 7), date(2016, 10, 8)],
        f"{ARR} › GENERATE_DATE_ARRAY example",
    ),
    row(
        "GENERATE_DATE_ARRAY('2016-10-05', '2016-10-09', INTERVAL 2 DAY)",
        [date(2016, 10, 5), date(2016, 10, 7), date(2016, 10, 9)],
        f"{ARR} › GENERATE_DATE_ARRAY example (step)",
    ),
    row(
        "GENERATE_DATE_ARRAY('2016-10-05', '2016-10-01', INTERVAL -3 DAY)",
        [date(2016, 10, 5), date(2016, 10, 2)],
        f"{ARR} › GENERATE_DATE_ARRAY example (negative step)",
    ),
    row(
        "GENERATE_DATE_ARRAY('2016-10-05', '2016-10-05', INTERVAL 8 DAY)",
        [date(2016, 10, 5)],
        f"{ARR} › GENERATE_DATE_ARRAY example (start = end)",
    ),
    row(
        "GENERATE_DATE_ARRAY('2016-10-05', '2016-10-01', INTERVAL 1 DAY)",
        [],
        f"{ARR} › GENERATE_DATE_ARRAY example (empty)",
    ),
    # ---------------------------------------------------------------------------------- arithmetic
    row("ROUND(2.0)", 2.0, f"{MATH} › ROUND table"),
    row("ROUND(2.3)", 2.0, f"{MATH} › ROUND table"),
    row("ROUND(2.8)", 3.0, f"{MATH} › ROUND table"),
    row("ROUND(2.5)", 3.0, f"{MATH} › ROUND table (halfway away from zero)"),
    row("ROUND(-2.3)", -2.0, f"{MATH} › ROUND table"),
    row("ROUND(-2.8)", -3.0, f"{MATH} › ROUND table"),
    row("ROUND(-2.5)", -3.0, f"{MATH} › ROUND table (halfway away from zero)"),
    row("ROUND(0)", 0.0, f"{MATH} › ROUND table; return type of INT64 input is FLOAT64"),
    row("ROUND(CAST('inf' AS FLOAT64))", math.inf, f"{MATH} › ROUND table (+inf)"),
    row("ROUND(123.7, -1)", 120.0, f"{MATH} › ROUND table"),
    row("ROUND(1.235, 2)", 1.24, f"{MATH} › ROUND table"),
    row("ROUND(NUMERIC '2.25', 1, 'ROUND_HALF_EVEN')", Decimal("2.2"), f"{MATH} › ROUND table (NUMERIC)"),
    row("ROUND(NUMERIC '2.35', 1, 'ROUND_HALF_EVEN')", Decimal("2.4"), f"{MATH} › ROUND table (NUMERIC)"),
    row("ROUND(NUMERIC '2.251', 1, 'ROUND_HALF_EVEN')", Decimal("2.3"), f"{MATH} › ROUND table (NUMERIC)"),
    row("ROUND(NUMERIC '-2.5', 0, 'ROUND_HALF_EVEN')", Decimal("-2"), f"{MATH} › ROUND table (NUMERIC)"),
    row("ROUND(NUMERIC '2.5', 0, 'ROUND_HALF_AWAY_FROM_ZERO')", Decimal("3"), f"{MATH} › ROUND table"),
    row("ROUND(NUMERIC '-2.5', 0, 'ROUND_HALF_AWAY_FROM_ZERO')", Decimal("-3"), f"{MATH} › ROUND table"),
    row("ROUND(NUMERIC '2.5')", Decimal("3"), f"{MATH} › ROUND rule: NUMERIC default is half away from zero"),
    row("DIV(20, 4)", 5, f"{MATH} › DIV table"),
    row("DIV(12, -7)", -1, f"{MATH} › DIV table"),
    row("DIV(20, 3)", 6, f"{MATH} › DIV table"),
    row("DIV(0, 20)", 0, f"{MATH} › DIV table"),
    row("DIV(20, 0)", Error("division by zero"), f"{MATH} › DIV table (Error)"),
    row("MOD(25, 12)", 1, f"{MATH} › MOD table"),
    row("MOD(-25, 12)", -1, f"{MATH} › MOD rule: the sign of X"),
    row("MOD(25, 0)", Error("division by zero"), f"{MATH} › MOD table (Error)"),
    row("SAFE_DIVIDE(20, 4)", 5.0, f"{MATH} › SAFE_DIVIDE table"),
    row("SAFE_DIVIDE(0, 20)", 0.0, f"{MATH} › SAFE_DIVIDE table"),
    row("SAFE_DIVIDE(20, 0)", None, f"{MATH} › SAFE_DIVIDE table (NULL)"),
    row(
        "SAFE_DIVIDE(NUMERIC '20', NUMERIC '8')",
        Decimal("2.5"),
        f"{MATH} › SAFE_DIVIDE return types: NUMERIC",
    ),
    row("IEEE_DIVIDE(20.0, 4.0)", 5.0, f"{MATH} › IEEE_DIVIDE table"),
    row("IEEE_DIVIDE(25.0, 0.0)", math.inf, f"{MATH} › IEEE_DIVIDE table"),
    row("IEEE_DIVIDE(-25.0, 0.0)", -math.inf, f"{MATH} › IEEE_DIVIDE table"),
    row("IEEE_DIVIDE(0.0, 0.0)", math.nan, f"{MATH} › IEEE_DIVIDE table (NaN)"),
    row("5 / 2", 2.5, "Operators › Division: INT64 / INT64 is FLOAT64"),
    row("-5 / 2", -2.5, "Operators › Division: INT64 / INT64 is FLOAT64"),
    row("1 / 0", Error("division by zero: 1 / 0"), f"{MATH} › SAFE_DIVIDE: '/' raises division by zero"),
    row("0.1 + 0.2", 0.30000000000000004, "Lexical › Floating point literals are FLOAT64"),
    row("NUMERIC '10' / NUMERIC '4'", Decimal("2.5"), "Operators › Division: NUMERIC / NUMERIC is NUMERIC"),
    row(
        "NUMERIC '1' / 3",
        Decimal("0.333333333"),
        "Operators › Division: NUMERIC / INT64 is NUMERIC (scale 9)",
    ),
    row("NUMERIC '1.2345'", Decimal("1.2345"), "Data types › NUMERIC has 9 decimal digits of scale"),
    row(
        "NUMERIC '1.25' + NUMERIC '0.75'", Decimal("2"), "Operators › Addition: NUMERIC + NUMERIC is NUMERIC"
    ),
    row("NUMERIC '1.25' * 2", Decimal("2.5"), "Operators › Multiplication: NUMERIC * INT64 is NUMERIC"),
    row("GREATEST(3, 5, 1)", 5, f"{MATH} › GREATEST example"),
    row("LEAST(3, 5, 1)", 1, f"{MATH} › LEAST example"),
    row("GREATEST(1, NULL, 3)", None, f"{MATH} › GREATEST rule: NULL if any argument is NULL"),
    row("LEAST('b', 'a')", "a", f"{MATH} › LEAST rule: ORDER BY ordering"),
    # ------------------------------------------------------------------------------------- strings
    row("CONCAT('T.P.', ' ', 'Bar')", "T.P. Bar", f"{STR} › CONCAT example"),
    row("CONCAT('Summer', ' ', 1923)", "Summer 1923", f"{STR} › CONCAT example"),
    row("CONCAT('a', NULL)", None, f"{STR} › CONCAT rule: NULL if any argument is NULL"),
    row("CONCAT(NULL, 'b', NULL)", None, f"{STR} › CONCAT rule: NULL if any argument is NULL"),
    row("LOWER('FOO BAR BAZ')", "foo bar baz", f"{STR} › LOWER example"),
    row("UPPER('foo')", "FOO", f"{STR} › UPPER example"),
    row("SUBSTR('apple', 2)", "pple", f"{STR} › SUBSTR example"),
    row("SUBSTR('apple', 2, 2)", "pp", f"{STR} › SUBSTR example"),
    row("SUBSTR('apple', -2)", "le", f"{STR} › SUBSTR example"),
    row("SUBSTR('apple', 1, 123)", "apple", f"{STR} › SUBSTR example"),
    row("SUBSTR('apple', 123)", "", f"{STR} › SUBSTR example"),
    row("SUBSTR('apple', 123, 5)", "", f"{STR} › SUBSTR example"),
    row("STARTS_WITH('bar', 'b')", True, f"{STR} › STARTS_WITH example"),
    row("STARTS_WITH('foo', 'b')", False, f"{STR} › STARTS_WITH rule"),
    row(
        r"REGEXP_CONTAINS('foo@example.com', r'@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+')",
        True,
        f"{STR} › REGEXP_CONTAINS example",
    ),
    row(
        r"REGEXP_CONTAINS('www.example.net', r'@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+')",
        False,
        f"{STR} › REGEXP_CONTAINS example",
    ),
    row(
        r"REGEXP_CONTAINS('a@foo.computer', r'^([\w.+-]+@foo\.com|[\w.+-]+@bar\.org)$')",
        False,
        f"{STR} › REGEXP_CONTAINS example (valid_email_address)",
    ),
    row(
        r"REGEXP_CONTAINS('a@foo.computer', r'^[\w.+-]+@foo\.com|[\w.+-]+@bar\.org$')",
        True,
        f"{STR} › REGEXP_CONTAINS example (without_parentheses)",
    ),
    row("REGEXP_EXTRACT('foo@example.com', r'^[a-zA-Z0-9_.+-]+')", "foo", f"{STR} › REGEXP_EXTRACT example"),
    row(
        r"REGEXP_EXTRACT('foo@example.com', r'^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.([a-zA-Z0-9-.]+$)')",
        "com",
        f"{STR} › REGEXP_EXTRACT example (top_level_domain)",
    ),
    row("REGEXP_EXTRACT('ab', '.b')", "ab", f"{STR} › REGEXP_EXTRACT example (result_a)"),
    row("REGEXP_EXTRACT('ab', '(.)b')", "a", f"{STR} › REGEXP_EXTRACT example (result_b)"),
    row("REGEXP_EXTRACT('xyztb', '(.)+b')", "t", f"{STR} › REGEXP_EXTRACT example (result_c)"),
    row("REGEXP_EXTRACT('ab', '(z)?b')", None, f"{STR} › REGEXP_EXTRACT example (result_d)"),
    row("SPLIT('b c d', ' ')", ["b", "c", "d"], f"{STR} › SPLIT example"),
    row("SPLIT('a', ' ')", ["a"], f"{STR} › SPLIT example"),
    row("SPLIT('', ' ')", [""], f"{STR} › SPLIT rule: an empty STRING gives one empty STRING"),
    row("SPLIT('b,c,d')", ["b", "c", "d"], f"{STR} › SPLIT rule: the default delimiter is ','"),
    row("CONCAT('#', TRIM('   apple   '), '#')", "#apple#", f"{STR} › TRIM example"),
    row("TRIM('***apple***', '*')", "apple", f"{STR} › TRIM example"),
    row("TRIM('xzxapplexxy', 'xyz')", "apple", f"{STR} › TRIM example"),
    row("LENGTH('абвгд')", 5, f"{STR} › LENGTH example (string_example)"),
    row("CHAR_LENGTH('абвгд')", 5, f"{STR} › CHAR_LENGTH example"),
    row("BYTE_LENGTH('абвгд')", 10, f"{STR} › BYTE_LENGTH example (string_example)"),
    row("BYTE_LENGTH(b'абвгд')", 10, f"{STR} › BYTE_LENGTH example (bytes_example)"),
    row("FORMAT('%d', 10)", "10", f"{STR} › FORMAT examples (simple integer)"),
    row("FORMAT('|%10d|', 11)", "|        11|", f"{STR} › FORMAT examples (left blank padding)"),
    row("FORMAT('+%010d+', 12)", "+0000000012+", f"{STR} › FORMAT examples (left zero padding)"),
    row("FORMAT('-%s-', 'abcd efg')", "-abcd efg-", f"{STR} › FORMAT examples (STRING)"),
    row("FORMAT('%f %E', 1.1, 2.2)", "1.100000 2.200000E+00", f"{STR} › FORMAT examples (DOUBLE)"),
    row("FORMAT('%t', DATE '2015-09-01')", "2015-09-01", f"{STR} › FORMAT examples (DATE)"),
    row(
        "FORMAT('%t', TIMESTAMP '2015-09-01 12:34:56 America/Los_Angeles')",
        "2015-09-01 19:34:56+00",
        f"{STR} › FORMAT examples (TIMESTAMP)",
    ),
    row(
        "FORMAT('date: %s!', FORMAT_DATE('%B %d, %Y', DATE '2015-01-02'))",
        "date: January 02, 2015!",
        f"{STR} › FORMAT example",
    ),
    row(
        'FORMAT("%\'d", 123456789)',
        "123,456,789",
        f"{STR} › FORMAT examples (integer with commas)",
        xfail="DuckDB's printf groups digits with ' and the fake does not rewrite the grouping flag",
    ),
    # ---------------------------------------------------------------------------------------- JSON
    row(
        'JSON_VALUE(JSON \'{"name": "Jakob", "age": "6" }\', \'$.age\')',
        "6",
        f"{JSON_FNS} › JSON_VALUE example",
    ),
    row(
        'JSON_QUERY(\'{"name": "Jakob", "age": "6"}\', \'$.name\')',
        '"Jakob"',
        f"{JSON_FNS} › JSON_VALUE example",
    ),
    row(
        'JSON_VALUE(\'{"name": "Jakob", "age": "6"}\', \'$.name\')',
        "Jakob",
        f"{JSON_FNS} › JSON_VALUE example",
    ),
    row(
        'JSON_QUERY(\'{"name": "Jakob", "age": "6"}\', \'$.age\')', '"6"', f"{JSON_FNS} › JSON_VALUE example"
    ),
    row(
        'JSON_QUERY(\'{"fruits": ["apple", "banana"]}\', \'$.fruits\')',
        '["apple","banana"]',
        f"{JSON_FNS} › JSON_VALUE example (json_query)",
    ),
    row(
        'JSON_VALUE(\'{"fruits": ["apple", "banana"]}\', \'$.fruits\')',
        None,
        f"{JSON_FNS} › JSON_VALUE example (json_value of an array)",
    ),
    row(
        'JSON_VALUE(\'{"a.b": {"c": "world"}}\', \'$."a.b".c\')',
        "world",
        f"{JSON_FNS} › JSON_VALUE example (escaped key)",
    ),
    row(
        'JSON_EXTRACT_SCALAR(JSON \'{"name": "Jakob", "age": "6" }\', \'$.age\')',
        "6",
        f"{JSON_FNS} › JSON_EXTRACT_SCALAR example",
    ),
    row(
        'JSON_EXTRACT_SCALAR(\'{"fruits": ["apple", "banana"]}\', \'$.fruits\')',
        None,
        f"{JSON_FNS} › JSON_EXTRACT_SCALAR example",
    ),
    row(
        'JSON_EXTRACT_SCALAR(\'{"a.b": {"c": "world"}}\', "$[\'a.b\'].c")',
        "world",
        f"{JSON_FNS} › JSON_EXTRACT_SCALAR example (escaped key)",
    ),
    row(
        'JSON_QUERY(JSON \'{"class": {"students": [{"id": 5}, {"id": 12}]}}\', \'$.class\')',
        {"students": [{"id": 5}, {"id": 12}]},
        f"{JSON_FNS} › JSON_QUERY example (JSON in, JSON out)",
    ),
    row(
        'JSON_QUERY(\'{"class": {"students": [{"name": "Jane"}]}}\', \'$\')',
        '{"class":{"students":[{"name":"Jane"}]}}',
        f"{JSON_FNS} › JSON_QUERY example (json_text_string)",
    ),
    row(
        'JSON_QUERY(\'{"class": {"students": [{"name": "Jane"}]}}\', \'$.class.students[0]\')',
        '{"name":"Jane"}',
        f"{JSON_FNS} › JSON_QUERY example (first_student)",
    ),
    row(
        "JSON_QUERY('{\"class\": {\"students\": []}}', '$.class.students[0]')",
        None,
        f"{JSON_FNS} › JSON_QUERY example (first_student of none)",
    ),
    row(
        'JSON_QUERY(\'{"class": {"students": [{"name": "John"}, {"name": null}]}}\', '
        "'$.class.students[1].name')",
        None,
        f"{JSON_FNS} › JSON_QUERY example (JSON null is NULL)",
    ),
    row(
        'JSON_QUERY(\'{"class": {"students": [{"name": "John"}, {"name": "Jamie"}]}}\', '
        "'$.class.students[1].name')",
        '"Jamie"',
        f"{JSON_FNS} › JSON_QUERY example (second_student)",
    ),
    row(
        'JSON_EXTRACT(\'{"class": {"students": [{"name": "Jane"}]}}\', \'$.class.students[0]\')',
        '{"name":"Jane"}',
        f"{JSON_FNS} › JSON_EXTRACT example (first_student)",
    ),
    row(
        "TO_JSON_STRING(STRUCT(1 AS id, [10, 20] AS coordinates))",
        '{"id":1,"coordinates":[10,20]}',
        f"{JSON_FNS} › TO_JSON_STRING example",
    ),
    row(
        "TO_JSON_STRING(['red', 'blue', 'green'])",
        '["red","blue","green"]',
        f"{JSON_FNS} › JSON encodings (ARRAY)",
    ),
    row("TO_JSON_STRING(DATE '2017-03-06')", '"2017-03-06"', f"{JSON_FNS} › JSON encodings (DATE)"),
    row("TO_JSON_STRING(TRUE)", "true", f"{JSON_FNS} › JSON encodings (BOOL)"),
    row(
        "TO_JSON_STRING(TIMESTAMP '2017-03-06 12:34:56.789012')",
        '"2017-03-06T12:34:56.789012Z"',
        f"{JSON_FNS} › JSON encodings (TIMESTAMP)",
        xfail="DuckDB's to_json writes a TIMESTAMP as '2017-03-06 12:34:56.789012+00'; not rewritten",
    ),
    row(
        "TO_JSON_STRING(NUMERIC '123.56')",
        '"123.56"',
        f"{JSON_FNS} › JSON encodings (NUMERIC with a fraction is a string)",
        xfail="DuckDB's to_json writes the DECIMAL(38, 9) as the number 123.560000000; not rewritten",
    ),
    row(
        "TO_JSON_STRING(9007199254740993)",
        '"9007199254740993"',
        f"{JSON_FNS} › JSON encodings (INT64 beyond 2^53 is a string)",
        xfail="DuckDB's to_json writes every BIGINT as a number; not rewritten",
    ),
    row(
        "TO_JSON_STRING(b'Google')",
        '"R29vZ2xl"',
        f"{JSON_FNS} › JSON encodings (BYTES are base64)",
        xfail="DuckDB's to_json writes a BLOB as its text; not rewritten",
    ),
    row(
        "TO_JSON_STRING(STRUCT(1 AS id), true)",
        '{\n  "id": 1\n}',
        f"{JSON_FNS} › TO_JSON_STRING example (pretty_print)",
        xfail="DuckDB's to_json has no pretty-print argument; not rewritten",
    ),
    row(
        'PARSE_JSON(\'{"coordinates": [10, 20], "id": 1}\')',
        {"coordinates": [10, 20], "id": 1},
        f"{JSON_FNS} › PARSE_JSON example",
    ),
    row("PARSE_JSON('6')", 6, f"{JSON_FNS} › PARSE_JSON example"),
    row("PARSE_JSON('\"red\"')", "red", f"{JSON_FNS} › PARSE_JSON example"),
    # -------------------------------------------------------------------------------------- hashes
    row(
        "TO_HEX(SHA256('Hello World'))",
        hashlib.sha256(b"Hello World").hexdigest(),
        "Hash functions › SHA256 example (digest per FIPS 180-4)",
    ),
    row(
        "SHA256('Hello World')", hashlib.sha256(b"Hello World").digest(), "Hash functions › SHA256: 32 BYTES"
    ),
    row(
        r"TO_HEX(b'\x00\x01\x02\x03\xAA\xEE\xEF\xFF')",
        "00010203aaeeefff",
        f"{STR} › TO_HEX example",
    ),
]


@pytest.fixture
def wh() -> Iterator[FakeWarehouse]:
    warehouse = FakeWarehouse.in_memory(ManualClock())
    yield warehouse
    warehouse.engine.close()  # its prepared database goes back for the next test


def _same(actual: Any, expected: Any) -> bool:
    """Equal and of the same type, element by element (so 3 is not 3.0 and a DATETIME not a DATE)."""
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(_same, actual, expected))
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(_same(actual[k], expected[k]) for k in expected)
        )
    return type(actual) is type(expected) and actual == expected


def _run(wh: FakeWarehouse, sql: str) -> Any:
    query = sql if re.match(r"\s*SELECT\b", sql, re.IGNORECASE) else f"SELECT {sql} AS v"
    return wh.query(query).rows[0]["v"]


@pytest.mark.parametrize(("sql", "expected", "source"), ROWS)
def test_function_matches_bigquery_documentation(
    wh: FakeWarehouse, sql: str, expected: Any, source: str
) -> None:
    if isinstance(expected, Error):
        with pytest.raises(InvalidRequestError) as raised:
            _run(wh, sql)
        assert text_is_confirmed(raised.value), f"{type(raised.value).__name__}'s text is not confirmed"
        assert str(raised.value).startswith(expected.message), source
        return
    actual = _run(wh, sql)
    assert _same(actual, expected), f"{sql}: got {actual!r}, BigQuery gives {expected!r} ({source})"


# ----------------------------------------------------------------- not a fixed value: GENERATE_UUID


def test_generate_uuid_is_a_lowercase_uuid_string_different_per_row(wh: FakeWarehouse) -> None:
    """Utility functions › GENERATE_UUID: a STRING of 32 lowercase hex digits as 8-4-4-4-12."""
    rows = wh.query("SELECT GENERATE_UUID() AS u FROM UNNEST(GENERATE_ARRAY(1, 50))").rows
    values = [r["u"] for r in rows]
    assert all(
        isinstance(v, str)
        and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", v)
        for v in values
    )
    assert len(set(values)) == 50


# ------------------------------------------------------------- the fixes on column values, not literals


@pytest.fixture
def table(wh: FakeWarehouse) -> FakeWarehouse:
    """A table with the column types the fixes cannot see in the SQL text."""
    wh.create_dataset("ds")
    wh.query(
        "CREATE TABLE ds.t (id INT64, d DATE, ts TIMESTAMP, f FLOAT64, n NUMERIC, s STRING, j JSON, b BYTES)"
    )
    wh.insert_rows(
        "ds",
        "t",
        [
            {
                "id": 1,
                "d": date(2025, 12, 6),
                "ts": utc(2010, 7, 7, 10, 20, 0, 120000),
                "f": 2.5,
                "n": Decimal("1.50"),
                "s": "абвгд",
                "j": {"a": [1, 2]},
                "b": b"abc",
            },
            {
                "id": 2,
                "d": date(2017, 11, 5),
                "ts": utc(2008, 12, 25, 15, 30),
                "f": 1.0,
                "n": Decimal("2.25"),
                "s": "x",
                "j": {"a": []},
                "b": b"",
            },
        ],
    )
    return wh


def _column(wh: FakeWarehouse, expr: str) -> list[Any]:
    return [r["v"] for r in wh.query(f"SELECT {expr} AS v FROM ds.t ORDER BY id").rows]


@pytest.mark.parametrize(
    ("expr", "expected", "field_type"),
    [
        ("DATE_TRUNC(d, MONTH)", [date(2025, 12, 1), date(2017, 11, 1)], FieldType.DATE),
        ("DATE_TRUNC(d, WEEK)", [date(2025, 11, 30), date(2017, 11, 5)], FieldType.DATE),
        ("DATE_TRUNC(d, WEEK(MONDAY))", [date(2025, 12, 1), date(2017, 10, 30)], FieldType.DATE),
        ("DATE_TRUNC(d, ISOWEEK)", [date(2025, 12, 1), date(2017, 10, 30)], FieldType.DATE),
        ("DATE_TRUNC(d, QUARTER)", [date(2025, 10, 1), date(2017, 10, 1)], FieldType.DATE),
        ("DATE_TRUNC(d, YEAR)", [date(2025, 1, 1), date(2017, 1, 1)], FieldType.DATE),
        ("DATE_TRUNC(d, ISOYEAR)", [date(2024, 12, 30), date(2017, 1, 2)], FieldType.DATE),
        ("DATE_TRUNC(ts, MONTH)", [utc(2010, 7, 1), utc(2008, 12, 1)], FieldType.TIMESTAMP),
        ("DATE_ADD(d, INTERVAL 1 DAY)", [date(2025, 12, 7), date(2017, 11, 6)], FieldType.DATE),
        ("DATE_SUB(d, INTERVAL 1 MONTH)", [date(2025, 11, 6), date(2017, 10, 5)], FieldType.DATE),
        ("DATE_DIFF(d, DATE '2017-11-04', WEEK)", [422, 1], FieldType.INTEGER),
        ("DATE(ts)", [date(2010, 7, 7), date(2008, 12, 25)], FieldType.DATE),
        ("TIMESTAMP_DIFF(ts, TIMESTAMP '2008-12-25 15:30:00+00', HOUR)", [13410, 0], FieldType.INTEGER),
        ("TIMESTAMP_DIFF(ts, TIMESTAMP '2008-12-25 15:30:00+00', DAY)", [558, 0], FieldType.INTEGER),
        ("TIMESTAMP_TRUNC(ts, HOUR)", [utc(2010, 7, 7, 10), utc(2008, 12, 25, 15)], FieldType.TIMESTAMP),
        ("EXTRACT(DAYOFWEEK FROM d)", [7, 1], FieldType.INTEGER),
        ("EXTRACT(WEEK FROM d)", [48, 45], FieldType.INTEGER),
        ("EXTRACT(WEEK(MONDAY) FROM d)", [48, 44], FieldType.INTEGER),
        ("EXTRACT(ISOWEEK FROM d)", [49, 44], FieldType.INTEGER),
        ("EXTRACT(DAYOFWEEK FROM ts)", [4, 5], FieldType.INTEGER),
        ("EXTRACT(HOUR FROM ts)", [10, 15], FieldType.INTEGER),
        ("EXTRACT(MILLISECOND FROM ts)", [120, 0], FieldType.INTEGER),
        ("EXTRACT(DATE FROM ts)", [date(2010, 7, 7), date(2008, 12, 25)], FieldType.DATE),
        ("UNIX_MILLIS(ts)", [1278498000120, 1230219000000], FieldType.INTEGER),
        ("UNIX_SECONDS(ts)", [1278498000, 1230219000], FieldType.INTEGER),
        (
            "FORMAT_TIMESTAMP('%F %T %Ez', ts, 'America/Los_Angeles')",
            ["2010-07-07 03:20:00 -07:00", "2008-12-25 07:30:00 -08:00"],
            FieldType.STRING,
        ),
        ("FORMAT_DATE('%Y%m%d', d)", ["20251206", "20171105"], FieldType.STRING),
        ("CAST(ts AS STRING)", ["2010-07-07 10:20:00.120+00", "2008-12-25 15:30:00+00"], FieldType.STRING),
        ("CAST(d AS STRING)", ["2025-12-06", "2017-11-05"], FieldType.STRING),
        ("CAST(f AS STRING)", ["2.5", "1"], FieldType.STRING),
        ("CAST(n AS STRING)", ["1.5", "2.25"], FieldType.STRING),
        ("CAST(s AS STRING)", ["абвгд", "x"], FieldType.STRING),
        ("CAST(id AS STRING)", ["1", "2"], FieldType.STRING),
        ("CAST(f AS INT64)", [3, 1], FieldType.INTEGER),
        ("CAST(n AS INT64)", [2, 2], FieldType.INTEGER),
        ("BYTE_LENGTH(s)", [10, 1], FieldType.INTEGER),
        ("BYTE_LENGTH(b)", [3, 0], FieldType.INTEGER),
        ("ROUND(f)", [3.0, 1.0], FieldType.FLOAT),
        ("n * 2", [Decimal("3"), Decimal("4.5")], FieldType.NUMERIC),
        ("JSON_QUERY(j, '$.a')", [[1, 2], []], FieldType.JSON),
        ("JSON_VALUE(j, '$.a[0]')", ["1", None], FieldType.STRING),
    ],
)
def test_fixes_hold_on_column_values(
    table: FakeWarehouse, expr: str, expected: list[Any], field_type: FieldType
) -> None:
    result = table.query(f"SELECT {expr} AS v FROM ds.t ORDER BY id")
    assert all(map(_same, [r["v"] for r in result.rows], expected)), [r["v"] for r in result.rows]
    assert result.schema[0].type is field_type


@pytest.mark.parametrize(
    ("expr", "field_type"),
    [
        ("CONCAT('a', NULL)", FieldType.STRING),
        ("CONCAT(NULL, 'b', NULL)", FieldType.STRING),
        ("CONCAT(b'a', NULL)", FieldType.BYTES),
    ],
)
def test_concat_with_a_null_argument_keeps_the_functions_type(
    wh: FakeWarehouse, expr: str, field_type: FieldType
) -> None:
    """String functions › CONCAT returns STRING (BYTES for BYTES arguments); a NULL argument makes
    the value NULL, not the type NULL (DuckDB's untyped NULL came out as INT64)."""
    result = wh.query(f"SELECT {expr} AS v")
    assert result.rows == [{"v": None}]
    assert result.schema[0].type is field_type


def test_date_trunc_keeps_a_date_query_parameter_a_date(wh: FakeWarehouse) -> None:
    result = wh.query("SELECT DATE_TRUNC(@d, MONTH) AS v", {"d": date(2008, 12, 25)})
    assert _same(result.rows[0]["v"], date(2008, 12, 1))


def test_division_by_zero_in_a_column_is_an_error(table: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError, match="division by zero"):
        table.query("SELECT id / (id - 1) AS v FROM ds.t")
    assert _column(table, "SAFE_DIVIDE(id, id - 1)") == [None, 2.0]


def test_aggregates_over_a_table(table: FakeWarehouse) -> None:
    row = table.query(
        "SELECT SUM(n) AS total, COUNTIF(f > 2) AS big, ARRAY_AGG(id ORDER BY d) AS ids, "
        "STRING_AGG(CAST(d AS STRING), ',' ORDER BY d DESC) AS days FROM ds.t"
    ).rows[0]
    assert _same(row["total"], Decimal("3.75"))
    assert row["big"] == 1
    assert row["ids"] == [2, 1]
    assert row["days"] == "2025-12-06,2017-11-05"


PRODUCE = [
    ("kale", 23, "vegetable"),
    ("banana", 2, "fruit"),
    ("cabbage", 9, "vegetable"),
    ("apple", 8, "fruit"),
    ("leek", 2, "vegetable"),
    ("lettuce", 10, "vegetable"),
]
"""Window function calls › the Produce table the QUALIFY examples use."""


@pytest.fixture
def produce(wh: FakeWarehouse) -> FakeWarehouse:
    wh.create_dataset("ds")
    wh.query("CREATE TABLE ds.produce (item STRING, purchases INT64, category STRING)")
    wh.insert_rows("ds", "produce", [{"item": i, "purchases": p, "category": c} for i, p, c in PRODUCE])
    return wh


def test_qualify_filters_window_results(produce: FakeWarehouse) -> None:
    """Query syntax › QUALIFY example: the three most popular vegetables and their rank."""
    ranked = produce.query(
        "SELECT item, RANK() OVER (PARTITION BY category ORDER BY purchases DESC) AS rank FROM ds.produce "
        "WHERE category = 'vegetable' QUALIFY rank <= 3 ORDER BY rank"
    ).rows
    assert ranked == [
        {"item": "kale", "rank": 1},
        {"item": "lettuce", "rank": 2},
        {"item": "cabbage", "rank": 3},
    ]
    top = produce.query(
        "SELECT item FROM ds.produce "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY category ORDER BY purchases DESC) = 1 ORDER BY item"
    ).rows
    assert top == [{"item": "apple"}, {"item": "kale"}]


def test_qualify_example_with_a_table_qualified_column(produce: FakeWarehouse) -> None:
    """Query syntax › QUALIFY example, verbatim: ``WHERE Produce.category = 'vegetable'``."""
    rows = produce.query(
        "SELECT item FROM ds.produce WHERE produce.category = 'vegetable' "
        "QUALIFY RANK() OVER (PARTITION BY category ORDER BY purchases DESC) <= 3 ORDER BY item"
    ).rows
    assert rows == [{"item": "cabbage"}, {"item": "kale"}, {"item": "lettuce"}]
