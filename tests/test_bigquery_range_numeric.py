"""RANGE, BIGNUMERIC and NUMERIC on the BigQuery fake: the examples BigQuery's documentation gives.

Sources: BigQuery "Range functions" (RANGE, RANGE_START, RANGE_END, RANGE_CONTAINS,
RANGE_OVERLAPS, RANGE_INTERSECT), "Data types" (RANGE ordering, BIGNUMERIC's 76.76 digits and
scale 38), "Conversion functions" (PARSE_NUMERIC / PARSE_BIGNUMERIC) and "Window function calls"
(RANGE frames).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.ports import InvalidRequestError, QueryParam
from harness.schema.spec import FieldSpec, FieldType, TableSpec

BIGNUMERIC_MAX = Decimal("578960446186580977117854925043439539266.34992332820282019728792003956564819967")


@pytest.fixture
def wh() -> Iterator[FakeWarehouse]:
    warehouse = FakeWarehouse.in_memory(ManualClock())
    warehouse.create_dataset("ds")
    yield warehouse
    warehouse.engine.close()


def value(wh: FakeWarehouse, expr: str) -> Any:
    return wh.query(f"SELECT {expr} AS v").rows[0]["v"]


# ----------------------------------------------------------------------------------- RANGE


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "RANGE(DATE '2022-12-01', DATE '2022-12-31')",
            {"start": date(2022, 12, 1), "end": date(2022, 12, 31)},
        ),
        ("RANGE(DATE '2022-10-01', NULL)", {"start": date(2022, 10, 1), "end": None}),
        ("RANGE<DATE> '[UNBOUNDED, 2022-12-31)'", {"start": None, "end": date(2022, 12, 31)}),
        ("RANGE_START(RANGE<DATE> '[2022-12-01, 2022-12-31)')", date(2022, 12, 1)),
        ("RANGE_END(RANGE<DATE> '[2022-12-01, UNBOUNDED)')", None),
        (
            "RANGE_CONTAINS(RANGE<DATE> '[2022-01-01, 2023-01-01)', RANGE<DATE> '[2022-04-01, 2022-07-01)')",
            True,
        ),
        ("RANGE_CONTAINS(RANGE<DATE> '[2022-01-01, 2023-01-01)', DATE '2022-04-01')", True),
        ("RANGE_CONTAINS(RANGE<DATE> '[2022-01-01, 2023-01-01)', DATE '2023-01-01')", False),
        (
            "RANGE_OVERLAPS(RANGE<DATE> '[2022-02-01, 2022-09-01)', RANGE<DATE> '[2021-06-15, 2022-04-15)')",
            True,
        ),
        (
            "RANGE_OVERLAPS(RANGE<DATE> '[2020-02-01, 2020-09-01)', RANGE<DATE> '[2021-06-15, 2022-04-15)')",
            False,
        ),
        (
            "RANGE_INTERSECT(RANGE<DATE> '[2022-02-01, 2022-09-01)', RANGE<DATE> '[2021-06-15, 2022-04-15)')",
            {"start": date(2022, 2, 1), "end": date(2022, 4, 15)},
        ),
    ],
)
def test_range_functions_as_documented(wh: FakeWarehouse, expr: str, expected: Any) -> None:
    assert value(wh, expr) == expected


def test_a_range_result_column_is_typed_with_its_element(wh: FakeWarehouse) -> None:
    result = wh.query(
        "SELECT RANGE<TIMESTAMP> '[2020-01-01 12:00:00+02, UNBOUNDED)' AS r,"
        " [RANGE(DATE '2020-01-01', NULL)] AS a"
    )
    assert [(f.type, f.range_element) for f in result.schema] == [
        (FieldType.RANGE, FieldType.TIMESTAMP),
        (FieldType.RANGE, FieldType.DATE),
    ]
    assert result.rows[0]["r"]["start"].isoformat() == "2020-01-01T10:00:00+00:00"


def test_a_range_whose_start_is_not_before_its_end_is_refused(wh: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError):
        value(wh, "RANGE(DATE '2022-12-31', DATE '2022-12-01')")


def test_ranges_order_an_unbounded_start_first_and_an_unbounded_end_last(wh: FakeWarehouse) -> None:
    rows = wh.query(
        "SELECT r FROM UNNEST([RANGE<DATE> '[2020-01-01, UNBOUNDED)', RANGE<DATE> '[2020-01-01, 2020-02-01)',"
        " RANGE<DATE> '[UNBOUNDED, 2020-01-01)']) AS r ORDER BY r"
    ).rows
    assert [(r["r"]["start"], r["r"]["end"]) for r in rows] == [
        (None, date(2020, 1, 1)),
        (date(2020, 1, 1), date(2020, 2, 1)),
        (date(2020, 1, 1), None),
    ]


def test_a_range_column_stores_and_compares_ranges(wh: FakeWarehouse) -> None:
    schema = (
        FieldSpec("id", FieldType.INTEGER),
        FieldSpec("r", FieldType.RANGE, range_element=FieldType.DATE),
    )
    wh.create_table("ds", TableSpec("t", schema))
    wh.insert_rows(
        "ds", "t", [{"id": 1, "r": "[2020-01-01, UNBOUNDED)"}, {"id": 2, "r": "[UNBOUNDED, UNBOUNDED)"}]
    )
    result = wh.query("SELECT id, r FROM ds.t WHERE r = RANGE<DATE> '[UNBOUNDED, UNBOUNDED)'")
    assert result.rows == [{"id": 2, "r": {"start": None, "end": None}}]
    assert result.schema[1].range_element is FieldType.DATE


def test_ddl_creates_range_columns(wh: FakeWarehouse) -> None:
    wh.query("CREATE TABLE ds.r (id INT64, t RANGE<TIMESTAMP>)")
    wh.query("INSERT INTO ds.r VALUES (1, RANGE<TIMESTAMP> '[2020-01-01 10:00:00+01, UNBOUNDED)')")
    result = wh.query("SELECT t FROM ds.r")
    assert result.schema[0].range_element is FieldType.TIMESTAMP
    assert result.rows == [{"t": {"start": datetime(2020, 1, 1, 9, tzinfo=UTC), "end": None}}]


# ------------------------------------------------------------------------------ BIGNUMERIC


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (f"BIGNUMERIC '{BIGNUMERIC_MAX}'", BIGNUMERIC_MAX),
        ("BIGNUMERIC '1' / 3", Decimal("0.33333333333333333333333333333333333333")),
        ("BIGNUMERIC '1e38' + 1", Decimal("100000000000000000000000000000000000001")),
        ("BIGNUMERIC '0.00000000000000000000000000000000000001' * 10", Decimal("1E-37")),
        (
            "BIGNUMERIC '1234567890123456789.123456789' * BIGNUMERIC '9876543210987654321.987654321'",
            Decimal("12193263113702179524813290633609205911.347203169112635269"),
        ),
        ("CAST(BIGNUMERIC '2.5' AS INT64)", 3),
        ("CAST(BIGNUMERIC '-2.5' AS STRING)", "-2.5"),
        ("BIGNUMERIC '1.5' > 1", True),
        ("PARSE_BIGNUMERIC('123.45')", Decimal("123.45")),
        ("PARSE_BIGNUMERIC('  -  12.34 ')", Decimal("-12.34")),
        ("PARSE_BIGNUMERIC('12.34e-1-')", Decimal("-1.234")),
        ("PARSE_NUMERIC('1,234.5')", Decimal("1234.5")),
    ],
)
def test_bignumeric_values_are_exact(wh: FakeWarehouse, expr: str, expected: Any) -> None:
    got = value(wh, expr)
    assert type(got) is type(expected)
    assert got == expected


@pytest.mark.parametrize(
    "expr", [f"BIGNUMERIC '{BIGNUMERIC_MAX}' + 1", "BIGNUMERIC '1' / 0", "PARSE_BIGNUMERIC('1.2.3')"]
)
def test_bignumeric_overflow_and_bad_input_are_errors(wh: FakeWarehouse, expr: str) -> None:
    with pytest.raises(InvalidRequestError):
        value(wh, expr)


def test_a_bignumeric_column_orders_sums_and_averages_as_numbers(wh: FakeWarehouse) -> None:
    wh.query("CREATE TABLE ds.b (id INT64, x BIGNUMERIC)")
    wh.insert_rows(
        "ds", "b", [{"id": 1, "x": "10"}, {"id": 2, "x": "9"}, {"id": 3, "x": str(BIGNUMERIC_MAX)}]
    )
    ordered = wh.query("SELECT id FROM ds.b ORDER BY x").rows
    assert [r["id"] for r in ordered] == [2, 1, 3]
    result = wh.query("SELECT SUM(x) AS s, AVG(x) AS a, MIN(x) AS m FROM ds.b WHERE id < 3")
    assert result.rows == [{"s": Decimal(19), "a": Decimal("9.5"), "m": Decimal(9)}]
    assert [f.type for f in result.schema] == [FieldType.BIGNUMERIC] * 3


def test_a_bignumeric_in_json_is_a_number(wh: FakeWarehouse) -> None:
    assert value(wh, "JSON_OBJECT('a', BIGNUMERIC '2.5')") == {"a": 2.5}
    assert value(wh, "TO_JSON_STRING(BIGNUMERIC '3')") == "3"


def test_dml_writes_bignumeric_values_scaled(wh: FakeWarehouse) -> None:
    wh.query("CREATE TABLE ds.d (id INT64, x BIGNUMERIC)")
    wh.query("INSERT INTO ds.d VALUES (1, 2.25), (2, 7)")
    wh.query("UPDATE ds.d SET x = x + 1 WHERE id = 1")
    wh.query("UPDATE ds.d SET x = @p WHERE id = 2", {"p": QueryParam("BIGNUMERIC", Decimal("1e-38"))})
    rows = wh.query("SELECT id, x, CAST(x AS STRING) AS s FROM ds.d ORDER BY id").rows
    assert rows == [
        {"id": 1, "x": Decimal("3.25"), "s": "3.25"},
        {"id": 2, "x": Decimal("1E-38"), "s": "0.00000000000000000000000000000000000001"},
    ]


# --------------------------------------------------------------------------------- NUMERIC


def test_a_numeric_sum_may_pass_the_range_on_its_way(wh: FakeWarehouse) -> None:
    wh.query("CREATE TABLE ds.n (x NUMERIC)")
    big = "99999999999999999999999999999"
    wh.insert_rows("ds", "n", [{"x": big}, {"x": big}, {"x": "-" + big}])
    result = wh.query("SELECT SUM(x) AS s, AVG(x) AS a FROM ds.n")
    assert result.rows == [{"s": Decimal(big), "a": Decimal("33333333333333333333333333333")}]
    assert [f.type for f in result.schema] == [FieldType.NUMERIC, FieldType.NUMERIC]


def test_a_range_frame_near_the_int64_limit_reaches_the_partition_end(wh: FakeWarehouse) -> None:
    wh.query("CREATE TABLE ds.w (k INT64)")
    wh.insert_rows("ds", "w", [{"k": 9223372036854775807}, {"k": 9223372036854775806}, {"k": 1}])
    rows = wh.query(
        "SELECT k, COUNT(*) OVER (ORDER BY k RANGE BETWEEN CURRENT ROW AND 2 FOLLOWING) AS c"
        " FROM ds.w ORDER BY k"
    ).rows
    assert [r["c"] for r in rows] == [1, 2, 1]


# ---------------------------------------------------------------------------------- arrays


def test_an_offset_past_the_array_is_an_error_and_safe_offset_is_null(wh: FakeWarehouse) -> None:
    assert value(wh, "[RANGE<DATE> '[2014-01-01, UNBOUNDED)'][SAFE_OFFSET(1)]") is None
    assert value(wh, "['a', 'b'][ORDINAL(2)]") == "b"
    for subscript in ("OFFSET(-1)", "OFFSET(2)", "ORDINAL(0)"):
        with pytest.raises(InvalidRequestError, match="out of bounds"):
            value(wh, f"['a', 'b'][{subscript}]")
