"""A SELECT's rows are read with a converter made once per result schema
(:func:`fakes.bigquery.types.row_converter`): it must give what converting each value does
(:func:`fakes.bigquery.types.row_from_storage`), for every type, mode and NULL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from fakes.bigquery.types import row_converter, row_from_storage
from harness.schema.spec import FieldMode, FieldSpec, FieldType

STAMP = datetime(2025, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)

SCHEMA = (
    FieldSpec("s", FieldType.STRING),
    FieldSpec("i", FieldType.INTEGER),
    FieldSpec("f", FieldType.FLOAT),
    FieldSpec("b", FieldType.BOOLEAN),
    FieldSpec("d", FieldType.DATE),
    FieldSpec("dt", FieldType.DATETIME),
    FieldSpec("t", FieldType.TIME),
    FieldSpec("ts", FieldType.TIMESTAMP),
    FieldSpec("n", FieldType.NUMERIC),
    FieldSpec("j", FieldType.JSON),
    FieldSpec("by", FieldType.BYTES),
    FieldSpec("tags", FieldType.STRING, mode=FieldMode.REPEATED),
    FieldSpec("counts", FieldType.INTEGER, mode=FieldMode.REPEATED),
    FieldSpec(
        "r", FieldType.RECORD, fields=(FieldSpec("x", FieldType.INTEGER), FieldSpec("y", FieldType.STRING))
    ),
)

ROWS: list[tuple[Any, ...]] = [
    (
        "a",
        Decimal(7),  # an INT64 DuckDB hands back as another number type
        1.5,
        True,
        date(2025, 1, 2),
        datetime(2025, 1, 2, 3, 4),
        time(3, 4, 5),
        STAMP,
        Decimal("1.50"),
        '{"k": [1, null]}',
        memoryview(b"\x00\x01"),
        ["p", "q"],
        [Decimal(1), None, 2],
        {"x": 3, "y": None},
    ),
    (None,) * len(SCHEMA),  # NULL everywhere: a NULL array is empty, a NULL record NULL
]


@pytest.mark.parametrize("values", ROWS, ids=["values", "nulls"])
def test_the_converter_reads_a_row_as_converting_each_value_does(values: tuple[Any, ...]) -> None:
    row = row_converter(SCHEMA)(values)
    assert row == row_from_storage(SCHEMA, values)
    assert list(row) == [spec.name for spec in SCHEMA]
    assert [type(value) for value in row.values()] == [
        type(value) for value in row_from_storage(SCHEMA, values).values()
    ]


def test_a_schema_stored_as_bigquery_has_it_passes_values_through() -> None:
    schema = (FieldSpec("s", FieldType.STRING), FieldSpec("d", FieldType.DATE))
    assert row_converter(schema)(("a", None)) == {"s": "a", "d": None}


def test_a_name_given_twice_keeps_the_last_column_as_converting_each_value_does() -> None:
    schema = (FieldSpec("a", FieldType.INTEGER), FieldSpec("a", FieldType.STRING))
    values = (Decimal(1), "last")
    assert row_converter(schema)(values) == row_from_storage(schema, values) == {"a": "last"}
