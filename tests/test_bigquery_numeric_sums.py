"""NUMERIC ``SUM`` through the fake: exact, allowed to pass NUMERIC's range on the way as long as
the total fits ("Aggregate functions", "Numeric types"), BigQuery's overflow error past it. The
total becomes a NUMERIC in SQL (``bq_numeric_sum`` of fakes/bigquery/exact_aggregates.py), checked
here against :class:`~decimal.Decimal` over random totals too; ``AVG`` divides in Python."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Context, Decimal

import duckdb
import pytest

from fakes.bigquery import lazy_functions
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.ports import InvalidRequestError

MAX = "99999999999999999999999999999.999999999"


@pytest.fixture
def wh() -> Iterator[FakeWarehouse]:
    warehouse = FakeWarehouse.in_memory(ManualClock())
    yield warehouse
    warehouse.engine.close()


def _aggregate(wh: FakeWarehouse, aggregate: str, values: list[str]) -> Decimal | None:
    listed = ", ".join(f"'{v}'" for v in values) or "CAST(NULL AS STRING)"
    sql = f"SELECT {aggregate}(CAST(x AS NUMERIC)) AS v FROM UNNEST([{listed}]) AS x WHERE x IS NOT NULL"
    return wh.query(sql).rows[0]["v"]


@pytest.mark.parametrize(
    ("aggregate", "values", "expected"),
    [
        ("SUM", [MAX, MAX, f"-{MAX}"], MAX),  # the running sum leaves NUMERIC's range
        ("SUM", [f"-{MAX}", "-0.000000001", "0.000000001"], f"-{MAX}"),
        ("SUM", ["0.000000001", "0.000000002"], "0.000000003"),
        ("SUM", ["1.5", "-2.25"], "-0.75"),
        ("SUM", [], None),
        ("AVG", [MAX, MAX], MAX),
        ("AVG", ["0.000000001", "0.000000002"], "0.000000002"),  # half away from zero
        ("AVG", ["-0.000000001", "-0.000000002"], "-0.000000002"),
    ],
)
def test_numeric_sums_and_averages_are_exact(
    wh: FakeWarehouse, aggregate: str, values: list[str], expected: str | None
) -> None:
    assert _aggregate(wh, aggregate, values) == (None if expected is None else Decimal(expected))


@pytest.mark.parametrize("values", [[MAX, "0.000000001"], [f"-{MAX}", f"-{MAX}"]])
def test_a_numeric_sum_past_numerics_range_is_an_overflow(wh: FakeWarehouse, values: list[str]) -> None:
    with pytest.raises(InvalidRequestError, match="numeric overflow") as raised:
        _aggregate(wh, "SUM", values)
    assert "UDF" not in str(raised.value)  # BigQuery's error, not how the fake computed it


def test_a_numeric_sum_over_a_window_is_exact(wh: FakeWarehouse) -> None:
    sql = (
        "SELECT SUM(CAST(x AS NUMERIC)) OVER (ORDER BY x ROWS UNBOUNDED PRECEDING) AS s "
        f"FROM UNNEST(['{MAX}', '-0.000000001']) AS x ORDER BY s"
    )
    assert [row["s"] for row in wh.query(sql).rows] == [
        Decimal("-0.000000001"),
        Decimal("99999999999999999999999999999.999999998"),
    ]


def test_the_sum_macro_makes_any_total_its_numeric() -> None:
    conn = duckdb.connect()
    lazy_functions.ensure(conn, "bq_numeric_sum")
    chance = random.Random(19)
    totals = [0, -1, 10**38 - 1, -(10**38) + 1, 10**38, -(10**38), 10**50]
    totals += [chance.randint(-(10**39), 10**39) for _ in range(300)]
    totals += [chance.randint(-(10**12), 10**12) for _ in range(100)]
    for total in totals:
        if abs(total) >= 10**38:
            with pytest.raises(duckdb.InvalidInputException, match="numeric overflow"):
                conn.execute("SELECT bq_numeric_sum(?)", [str(total)]).fetchone()
        else:
            expected = Decimal(total).scaleb(-9, Context(prec=60))
            assert conn.execute("SELECT bq_numeric_sum(?)", [str(total)]).fetchone() == (expected,), total
    assert conn.execute("SELECT bq_numeric_sum(NULL)").fetchone() == (None,)
