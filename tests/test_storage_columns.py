"""The bulk insert's column-at-a-time conversion answers exactly what row-at-a-time conversion does.

:func:`fakes.bigquery.storage_columns.to_columns` takes whole columns as they are when a C-level
check says their values are already stored as they come; otherwise it falls back to
:func:`fakes.bigquery.types.row_to_storage` per row. Both must agree on every batch: the same
stored values, and for a refused batch the same per-row errors (index, reason, location, message)
in the same order. The batches mix valid rows with values of the wrong type, convertible strings,
out-of-range numbers, non-UTC time zones, wrongly cased and unknown keys and missing REQUIRED
values, so both paths are exercised.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.bigquery.exceptions import ValueRejected
from fakes.bigquery.storage_columns import to_columns
from fakes.bigquery.types import row_to_storage
from harness.ports import RowError
from harness.schema.loader import load_config
from harness.schema.spec import FieldMode, FieldSpec, FieldType, TableSpec
from harness.schema.strategies import rows, table_specs

CONFIG = load_config()

#: Values of another shape than the column's own, some accepted (converted), some refused.
ODD_VALUES = st.sampled_from(
    [
        None,
        "12",
        " 7 ",
        "2025-03-04",
        "2025-03-04T05:06:07Z",
        "12:30:00",
        "true",
        "x",
        "",
        1,
        -(2**63),
        2**63,
        1.5,
        float("nan"),
        True,
        Decimal("1.1234567890"),
        Decimal("1.1000000000"),
        Decimal("1e30"),
        Decimal("-1e-9"),
        Decimal("NaN"),
        date(2025, 1, 2),
        datetime(2025, 1, 2, 3, 4, 5),
        datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        time(1, 2, 3),
        b"\x00\x01",
        [1, 2],
        {"a": 1},
    ]
)


def row_by_row(
    schema: tuple[FieldSpec, ...], batch: list[dict[str, Any]]
) -> tuple[list[list[Any]], list[RowError]]:
    """What the engine did before columns: every row through ``row_to_storage``."""
    stored, errors = [], []
    for index, row in enumerate(batch):
        try:
            stored.append(row_to_storage(schema, row))
        except ValueRejected as exc:
            errors.append(exc.row_error(index))
    if errors:
        return [], errors
    return [[row[f.name] for row in stored] for f in schema], []


@st.composite
def spoiled(draw: st.DrawFn, spec: TableSpec) -> dict[str, Any]:
    """A row of ``spec``, perhaps with a value replaced, a key dropped, recased or made up."""
    row = draw(rows(spec))
    if not row or not draw(st.booleans()):
        return row
    name = draw(st.sampled_from(sorted(row)))
    change = draw(st.sampled_from(["value", "drop", "case", "unknown"]))
    if change == "value":
        row[name] = draw(ODD_VALUES)
    elif change == "drop":
        del row[name]
    elif change == "case":
        row[name.swapcase()] = row.pop(name)
    else:
        row["no_such_column_"] = 1
    return row


def assert_same(schema: tuple[FieldSpec, ...], batch: list[dict[str, Any]]) -> None:
    expected_columns, expected_errors = row_by_row(schema, batch)
    columns, errors = to_columns(schema, batch)
    assert errors == expected_errors
    if not expected_errors:
        assert repr(columns) == repr(expected_columns)  # repr: NaN != NaN, Decimal exponents


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_meta_tables_columns_match_rows(data: st.DataObject) -> None:
    spec = data.draw(st.sampled_from(CONFIG.tables))
    assert_same(spec.schema, data.draw(st.lists(spoiled(spec), max_size=6)))


@settings(max_examples=80, deadline=None)
@given(spec=table_specs(valid=True), data=st.data())
def test_any_table_columns_match_rows(spec: TableSpec, data: st.DataObject) -> None:
    assert_same(spec.schema, data.draw(st.lists(spoiled(spec), max_size=6)))


#: Per column type, values of its own Python type on and over the edges the whole-column check
#: decides on (ranges, places, time zones, subclasses).
EDGES: dict[FieldType, list[Any]] = {
    FieldType.STRING: ["a", "", "é"],
    FieldType.GEOGRAPHY: ["POINT(1 2)"],
    FieldType.INTEGER: [0, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, True],
    FieldType.FLOAT: [0.5, float("inf"), float("nan"), 3],
    FieldType.BOOLEAN: [True, False, 1],
    FieldType.NUMERIC: [
        Decimal("1.5"),
        Decimal("99999999999999999999999999999.999999999"),
        Decimal("-99999999999999999999999999999.999999999"),
        Decimal("100000000000000000000000000000"),
        Decimal("-100000000000000000000000000000"),
        Decimal("0.0000000001"),
        Decimal("0.00000000010"),
        Decimal("1.0000000000000"),
        Decimal("1E+5"),
        Decimal("Infinity"),
        Decimal("NaN"),
    ],
    FieldType.DATE: [date(2025, 1, 2), datetime(2025, 1, 2)],
    FieldType.TIME: [time(1, 2), time(1, 2, tzinfo=UTC)],
    FieldType.DATETIME: [datetime(2025, 1, 2), datetime(2025, 1, 2, tzinfo=UTC)],
    FieldType.TIMESTAMP: [
        datetime(2025, 1, 2, tzinfo=UTC),
        datetime(2025, 1, 2, tzinfo=timezone(timedelta(0))),
        datetime(2025, 1, 2, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2025, 1, 2),
    ],
}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_one_column_of_edge_values_matches_rows(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(sorted(EDGES)))
    mode = data.draw(st.sampled_from([FieldMode.NULLABLE, FieldMode.REQUIRED]))
    near = st.sampled_from(EDGES[kind])
    values = data.draw(
        st.lists(near, min_size=1, max_size=4) | st.lists(near | ODD_VALUES, min_size=1, max_size=4)
    )
    assert_same((FieldSpec("c", kind, mode),), [{"c": value} for value in values])


def test_a_plain_column_is_stored_as_it_comes() -> None:
    stamps = [datetime(2025, 1, 1, tzinfo=UTC), None]
    schema = (FieldSpec("at", FieldType.TIMESTAMP), FieldSpec("n", FieldType.NUMERIC, FieldMode.REQUIRED))
    amounts = [Decimal("1.5"), Decimal("-99999999999999999999999999999.999999999")]
    columns, errors = to_columns(schema, [{"at": s, "n": n} for s, n in zip(stamps, amounts, strict=True)])
    assert errors == []
    assert columns[0] == stamps and columns[1] == amounts
