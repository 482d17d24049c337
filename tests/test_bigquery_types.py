"""The BigQuery fake's default time zone, zone names, collation, INTERVAL values and the bucket
functions, with the results BigQuery's documentation gives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.intervals import Interval, canonical_text, parse_canonical
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock
from harness.schema.spec import DatasetSpec, FieldSpec, FieldType, TableSpec

LA = "America/Los_Angeles"
CHRISTMAS_EVE_LA = datetime(2008, 12, 24, 21, 30)
CHRISTMAS_LA_IN_UTC = datetime(2008, 12, 25, 23, 30, tzinfo=UTC)


@pytest.fixture
def engine() -> Iterator[BigQueryEngine]:
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, 3, 0, tzinfo=UTC)))
    yield engine
    engine.close()


def one(engine: BigQueryEngine, expression: str, time_zone: str | None = None) -> Any:
    result = engine.query("p", f"SELECT {expression} AS v", time_zone=time_zone)
    return result.rows[0]["v"]


# ------------------------------------------------------------------------- default time zone


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("DATE(TIMESTAMP '2008-12-25 05:30:00+00')", date(2008, 12, 24)),
        ("EXTRACT(HOUR FROM TIMESTAMP '2008-12-25 05:30:00+00')", 21),
        ("TIMESTAMP '2008-12-25 15:30:00'", datetime(2008, 12, 25, 23, 30, tzinfo=UTC)),
        ("CAST(TIMESTAMP '2008-12-25 05:30:00+00' AS STRING)", "2008-12-24 21:30:00-08"),
        ("FORMAT_TIMESTAMP('%Y-%m-%d %H:%M', TIMESTAMP '2008-12-25 05:30:00+00')", "2008-12-24 21:30"),
        (
            "TIMESTAMP_TRUNC(TIMESTAMP '2008-12-25 05:30:00+00', DAY)",
            datetime(2008, 12, 24, 8, 0, tzinfo=UTC),
        ),
        ("CAST(TIMESTAMP '2008-12-25 05:30:00+00' AS TIME)", time(21, 30)),
        ("CURRENT_DATE()", date(2024, 12, 31)),
    ],
)
def test_the_default_time_zone_reads_and_writes_timestamps(
    engine: BigQueryEngine, expression: str, expected: Any
) -> None:
    assert one(engine, expression, time_zone=LA) == expected


def test_without_a_time_zone_the_default_is_utc(engine: BigQueryEngine) -> None:
    assert one(engine, "DATE(TIMESTAMP '2008-12-25 05:30:00+00')") == date(2008, 12, 25)
    assert one(engine, "CURRENT_DATE()") == date(2025, 1, 1)


def test_each_read_answers_in_its_own_zone_whatever_the_read_before_used(engine: BigQueryEngine) -> None:
    # Reads reuse one cursor, which keeps the zone its last read set: a switch must reach it.
    hour = "EXTRACT(HOUR FROM TIMESTAMP '2008-12-25 05:30:00+00')"
    zones = [LA, LA, None, LA, "Europe/Paris", "UTC", "Europe/Paris", None]
    assert [one(engine, hour, time_zone=zone) for zone in zones] == [21, 21, 5, 21, 6, 5, 6, 5]


def test_an_unknown_time_zone_is_bigquerys_400(engine: BigQueryEngine) -> None:
    with pytest.raises(bq.InvalidTimeZone) as raised:
        one(engine, "1", time_zone="Mars/Olympus_Mons")
    assert (raised.value.status, raised.value.reason) == (400, "invalidQuery")
    assert one(engine, "CURRENT_DATE()") == date(2025, 1, 1)  # the session went back to UTC


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # BigQuery's date and datetime function examples.
        ("DATE(TIMESTAMP '2008-12-25 05:30:00+00', 'America/Los_Angeles')", date(2008, 12, 24)),
        (
            "DATETIME(TIMESTAMP '2008-12-25 05:30:00+00', 'America/Los_Angeles')",
            datetime(2008, 12, 24, 21, 30),
        ),
        (
            "TIMESTAMP('2008-12-25 15:30:00', 'America/Los_Angeles')",
            datetime(2008, 12, 25, 23, 30, tzinfo=UTC),
        ),
        # Fixed offsets, which ICU names differently.
        ("EXTRACT(HOUR FROM TIMESTAMP '2008-12-25 05:30:00+00' AT TIME ZONE '+05')", 10),
        ("STRING(TIMESTAMP '2008-12-25 05:30:00+00', 'UTC-8')", "2008-12-24 21:30:00-08"),
        ("FORMAT_TIMESTAMP('%H:%M %Ez', TIMESTAMP '2008-12-25 05:30:00+00', '+05:30')", "11:00 +05:30"),
        ("CURRENT_DATETIME('UTC')", datetime(2025, 1, 1, 3, 0)),
    ],
)
def test_zone_arguments(engine: BigQueryEngine, expression: str, expected: Any) -> None:
    assert one(engine, expression, time_zone=LA) == expected


def test_the_rest_emulator_reads_the_time_zone_connection_property(engine: BigQueryEngine) -> None:
    client = TestClient(create_app(engine))
    body = {
        "query": "SELECT DATE(TIMESTAMP '2008-12-25 05:30:00+00') AS d",
        "useLegacySql": False,
        "connectionProperties": [{"key": "time_zone", "value": LA}],
    }
    answer = client.post("/bigquery/v2/projects/p/queries", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"] == [{"f": [{"v": "2008-12-24"}]}]


# ------------------------------------------------------------------------------------ collation


def test_und_ci_compares_and_orders_case_insensitively(engine: BigQueryEngine) -> None:
    assert one(engine, "COLLATE('Abc', 'und:ci') = 'aBC'") is True
    assert one(engine, "COLLATE('Abc', 'binary') = 'aBC'") is False
    rows = engine.query(
        "p", "SELECT p FROM UNNEST(['Zebra', 'apple', 'Apple']) AS p ORDER BY p COLLATE 'und:ci', p"
    ).rows
    assert [row["p"] for row in rows] == ["Apple", "apple", "Zebra"]  # the collation page's example


def test_string_functions_honour_a_case_insensitive_collation(engine: BigQueryEngine) -> None:
    assert one(engine, "STARTS_WITH(COLLATE('AbC,..', 'und:ci'), 'abc')") is True
    assert one(engine, "STARTS_WITH(COLLATE('AbC,..', 'binary'), 'abc')") is False
    assert one(engine, "STRPOS(COLLATE(',,AbC,..', 'und:ci'), 'ABC')") == 3
    assert one(engine, "REPLACE(COLLATE('defAbCdef', 'und:ci'), 'abc', 'def')") == "defdefdef"
    assert one(engine, "CAST('abc' AS STRING COLLATE 'und:ci') = 'ABC'") is True


def test_two_explicit_collations_in_one_comparison_conflict(engine: BigQueryEngine) -> None:
    with pytest.raises(bq.CollationConflict):
        one(engine, "COLLATE('a', 'und:ci') = COLLATE('A', 'binary')")


def test_collate_needs_a_literal_specification(engine: BigQueryEngine) -> None:
    with pytest.raises(bq.CollationNotLiteral):
        one(engine, "COLLATE('abc', UPPER('und:ci'))")


# ------------------------------------------------------------------------------------- INTERVAL


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("INTERVAL '10:20:30.52' HOUR TO SECOND", "0-0 0 10:20:30.52"),
        ("INTERVAL '1-2 3 4:5:6.789' YEAR TO SECOND", "1-2 3 4:5:6.789"),
        ("INTERVAL 14 MONTH", "1-2 0 0:0:0"),
        ("INTERVAL 48 HOUR", "0-0 0 48:0:0"),
        ("MAKE_INTERVAL(1, 6, 15)", "1-6 15 0:0:0"),
        ("MAKE_INTERVAL(hour => 2, minute => 30)", "0-0 0 2:30:0"),
        ("JUSTIFY_DAYS(INTERVAL 30 DAY)", "0-1 0 0:0:0"),
        ("JUSTIFY_DAYS(INTERVAL -31 DAY)", "-0-1 -1 0:0:0"),
        ("JUSTIFY_HOURS(INTERVAL -24 HOUR)", "0-0 -1 0:0:0"),
        ("JUSTIFY_INTERVAL(INTERVAL '29 49:00:00' DAY TO SECOND)", "0-1 1 1:0:0"),
        ("CAST('-1-2 -3 -4:5:6.789' AS INTERVAL)", "-1-2 -3 -4:5:6.789"),
    ],
)
def test_interval_values_keep_months_days_and_time_apart(
    engine: BigQueryEngine, expression: str, expected: str
) -> None:
    value = one(engine, expression)
    assert isinstance(value, Interval)
    assert canonical_text(value) == expected


def test_interval_text_casts(engine: BigQueryEngine) -> None:
    assert one(engine, "CAST(INTERVAL '1-2 3 4:5:6.789' YEAR TO SECOND AS STRING)") == "1-2 3 4:5:6.789"
    assert one(engine, "SAFE_CAST('not an interval' AS INTERVAL)") is None


def test_an_interval_column_keeps_its_months(engine: BigQueryEngine) -> None:
    engine.create_dataset("p", DatasetSpec(dataset_id="d"))
    schema = (FieldSpec(name="i", type=FieldType.INTERVAL),)
    engine.create_table("p", "d", TableSpec(table_id="t", schema=schema))
    engine.insert_rows("p", "d", "t", [{"i": "1-2 3 4:5:6.5"}])
    rows, _ = engine.list_rows("p", "d", "t")
    assert canonical_text(rows[0]["i"]) == "1-2 3 4:5:6.5"
    assert canonical_text(engine.query("p", "SELECT i FROM d.t").rows[0]["i"]) == "1-2 3 4:5:6.5"


def test_canonical_text_round_trips() -> None:
    for text in ("0-0 0 0:0:0", "-1-2 3 -4:5:6.000001", "10000-0 0 0:0:0", "0-0 -30 720:0:0"):
        assert canonical_text(parse_canonical(text)) == text


def test_nanoseconds_are_not_an_interval(engine: BigQueryEngine) -> None:
    with pytest.raises(bq.QueryFailed, match="Invalid INTERVAL value"):
        one(engine, "CAST('1-2 3 4:5:6.123456789' AS INTERVAL)")


# ------------------------------------------------------------------ STRING(L), buckets, LIMIT ALL


def test_a_parameterized_string_refuses_a_longer_value(engine: BigQueryEngine) -> None:
    assert one(engine, "CAST('abcde' AS STRING(5))") == "abcde"
    assert one(engine, "SAFE_CAST('abcdef' AS STRING(5))") is None
    with pytest.raises(bq.QueryFailed, match="STRING\\(5\\) has maximum length 5"):
        one(engine, "CAST('abcdef' AS STRING(5))")


def test_datetime_arithmetic_past_year_9999_overflows(engine: BigQueryEngine) -> None:
    with pytest.raises(bq.QueryFailed, match=r"Adding 1 MICROSECOND to datetime 9999-12-31 23:59:59\.999999"):
        one(engine, "DATETIME_ADD(DATETIME '9999-12-31 23:59:59.999999', INTERVAL 1 MICROSECOND)")
    assert one(engine, "DATETIME_ADD(DATETIME '2008-12-25 15:30:00', INTERVAL 10 MINUTE)") == datetime(
        2008, 12, 25, 15, 40
    )


def test_byte_formats_of_cast(engine: BigQueryEngine) -> None:
    assert one(engine, "CAST(b'abc' AS STRING FORMAT 'BASE64')") == "YWJj"
    assert one(engine, "CAST(b'abc' AS STRING FORMAT 'hex')") == "616263"
    assert one(engine, "CAST('YWJj' AS BYTES FORMAT 'base64')") == b"abc"
    assert one(engine, "SAFE_CAST('123' AS BYTES FORMAT 'base2')") is None


def test_bucket_functions_count_from_1950(engine: BigQueryEngine) -> None:
    assert one(engine, "DATE_BUCKET(DATE '1949-12-31', INTERVAL 2 DAY)") == date(1949, 12, 30)
    assert one(engine, "DATE_BUCKET(DATE '1950-01-02', INTERVAL 2 DAY)") == date(1950, 1, 1)
    assert one(engine, "DATETIME_BUCKET(DATETIME '2000-12-31 09:00:00', INTERVAL 12 HOUR)") == datetime(
        2000, 12, 31, 0, 0
    )
    assert one(engine, "TIMESTAMP_BUCKET(TIMESTAMP '2000-12-31 13:00:00+00', INTERVAL 12 HOUR)") == datetime(
        2000, 12, 31, 12, 0, tzinfo=UTC
    )


def test_limit_all_is_no_limit(engine: BigQueryEngine) -> None:
    rows = engine.query("p", "SELECT x FROM UNNEST([1, 2, 3]) AS x ORDER BY x LIMIT ALL OFFSET 1").rows
    assert [row["x"] for row in rows] == [2, 3]
