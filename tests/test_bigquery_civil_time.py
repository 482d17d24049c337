"""Civil time, INTERVAL sums, SAFE sums and string conversions through the fake, as BigQuery gives them.

Sources are the GoogleSQL for BigQuery reference pages: "Interval functions" / "Data types"
(INTERVAL parts kept apart, their ranges), "Aggregate functions" (SUM of INTERVAL), "Function
calls" (SAFE. prefix), "Time series functions" (DATE_BUCKET, DATETIME_BUCKET: default origin
1950-01-01), "Conversion functions" (CAST to TIME / DATETIME, hexadecimal strings to INT64,
SAFE_CONVERT_BYTES_TO_STRING) and "Data types" > TIME (leap seconds).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from fakes.bigquery.intervals import Interval
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.ports import InvalidRequestError
from harness.schema.spec import FieldType


@pytest.fixture
def wh() -> Iterator[FakeWarehouse]:
    warehouse = FakeWarehouse.in_memory(ManualClock())
    yield warehouse
    warehouse.engine.close()  # its prepared database goes back for the next test


def value(wh: FakeWarehouse, sql: str) -> Any:
    return next(iter(wh.query(sql).rows[0].values()))


def test_sum_of_intervals_adds_each_part_apart(wh: FakeWarehouse) -> None:
    total = value(
        wh,
        "SELECT SUM(i) FROM UNNEST([INTERVAL 1 YEAR, INTERVAL 2 MONTH, INTERVAL 3 DAY, NULL, "
        "INTERVAL 25 HOUR]) i",
    )
    assert total == Interval(months=14, days=3, micros=25 * 3_600_000_000)


def test_sum_of_intervals_checks_only_the_total_against_the_range(wh: FakeWarehouse) -> None:
    total = value(
        wh, "SELECT SUM(i) FROM UNNEST([INTERVAL 10000 YEAR, INTERVAL 10000 YEAR, INTERVAL -120000 MONTH]) i"
    )
    assert total == Interval(months=120_000)
    with pytest.raises(InvalidRequestError, match="Interval field months '120001' is out of range"):
        wh.query("SELECT SUM(i) FROM UNNEST([INTERVAL 10000 YEAR, INTERVAL 1 MONTH]) i")


def test_sum_of_intervals_over_a_window_and_of_no_values(wh: FakeWarehouse) -> None:
    rows = wh.query(
        "SELECT SUM(i) OVER (ORDER BY n) AS running FROM UNNEST([INTERVAL 1 DAY, INTERVAL 2 HOUR]) i "
        "WITH OFFSET n ORDER BY n"
    ).rows
    assert [r["running"] for r in rows] == [Interval(days=1), Interval(days=1, micros=2 * 3_600_000_000)]
    assert value(wh, "SELECT SUM(i) FROM UNNEST([CAST(NULL AS INTERVAL)]) i") is None


def test_make_interval_outside_the_range_fails(wh: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError, match="out of range -120000 to 120000"):
        wh.query("SELECT MAKE_INTERVAL(year => 10000, month => 1)")


def test_safe_sum_is_null_where_sum_overflows(wh: FakeWarehouse) -> None:
    big = "SELECT 9223372036854775807 AS x UNION ALL SELECT 1"
    assert value(wh, f"SELECT SAFE.SUM(x) FROM ({big})") is None
    assert value(wh, "SELECT SAFE.SUM(x) FROM (SELECT 1.7e308 AS x UNION ALL SELECT 1.7e308)") is None
    rows = wh.query(f"SELECT SAFE.SUM(x) OVER () AS s FROM ({big})").rows
    assert [r["s"] for r in rows] == [None, None]
    with pytest.raises(InvalidRequestError):
        wh.query(f"SELECT SUM(x) FROM ({big})")


def test_bucket_functions_keep_their_arguments_type(wh: FakeWarehouse) -> None:
    result = wh.query(
        "SELECT DATE_BUCKET(d, INTERVAL 7 DAY) AS by_date, DATETIME_BUCKET(d, INTERVAL 12 HOUR) AS by_hours, "
        "DATE_BUCKET(DATE '2020-02-15', INTERVAL 2 DAY) AS a_date "
        "FROM (SELECT DATETIME '2020-02-15 14:57:39' AS d)"
    )
    assert [f.type for f in result.schema] == [FieldType.DATETIME, FieldType.DATETIME, FieldType.DATE]
    assert result.rows[0] == {
        "by_date": dt.datetime(2020, 2, 9),
        "by_hours": dt.datetime(2020, 2, 15, 12),
        "a_date": dt.date(2020, 2, 15),
    }
    assert value(wh, "SELECT DATETIME_BUCKET(NULL, INTERVAL 3 HOUR)") is None


def test_leap_seconds_and_a_lower_case_t_read_as_bigquery_reads_them(wh: FakeWarehouse) -> None:
    row = wh.query(
        "SELECT TIME '23:59:60' AS midnight, CAST('2015-11-06 12:59:60.5' AS DATETIME) AS dt, "
        "CAST('2016-11-06t00:30:00' AS DATETIME) AS t_separated"
    ).rows[0]
    assert row == {
        "midnight": dt.time(0, 0),
        "dt": dt.datetime(2015, 11, 6, 13, 0),
        "t_separated": dt.datetime(2016, 11, 6, 0, 30),
    }


def test_time_and_datetime_text_has_0_3_or_6_fractional_digits(wh: FakeWarehouse) -> None:
    row = wh.query(
        "SELECT CAST(TIME '01:02:03.12' AS STRING) AS t, "
        "CAST(DATETIME '2006-01-02 01:02:03.12345' AS STRING) AS d"
    ).rows[0]
    assert row == {"t": "01:02:03.120", "d": "2006-01-02 01:02:03.123450"}


def test_signed_hexadecimal_strings_cast_to_int64(wh: FakeWarehouse) -> None:
    assert value(wh, "SELECT CAST('-0x100' AS INT64)") == -256


def test_safe_convert_bytes_to_string_replaces_invalid_utf8(wh: FakeWarehouse) -> None:
    assert value(wh, r"SELECT SAFE_CONVERT_BYTES_TO_STRING(b'\xc2')") == "\ufffd"
    assert value(wh, r"SELECT SAFE_CONVERT_BYTES_TO_STRING(b'a\xe2\x28\xa1')") == "a\ufffd(\ufffd"


def test_format_date_of_a_datetime_and_format_datetime_of_a_timestamp_in_a_zone(wh: FakeWarehouse) -> None:
    row = wh.query(
        "SELECT FORMAT_DATE('%D %T %G %g', d) AS of_datetime, "
        "FORMAT_DATETIME('%T', TIMESTAMP '2001-02-03 04:05:06+00', 'America/New_York') AS in_zone "
        "FROM (SELECT DATETIME '1987-08-07 12:34:56' AS d)"
    ).rows[0]
    assert row == {"of_datetime": "08/07/87 12:34:56 1987 87", "in_zone": "23:05:06"}


def test_current_date_in_a_zone_given_as_a_parameter_reads_the_clock_there() -> None:
    """Date functions › CURRENT_DATE(time_zone): the zone may be a query parameter (the clock's
    02:00 UTC is the day before in New York)."""
    warehouse = FakeWarehouse.in_memory(ManualClock(dt.datetime(2024, 1, 1, 2, 0, tzinfo=dt.UTC)))
    try:
        row = warehouse.query(
            "SELECT CURRENT_DATE(@zone) AS there, CURRENT_DATE() AS utc", {"zone": "America/New_York"}
        ).rows[0]
    finally:
        warehouse.engine.close()
    assert row == {"there": dt.date(2023, 12, 31), "utc": dt.date(2024, 1, 1)}
