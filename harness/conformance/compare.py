"""Judging one result against the corpus's printout: BigQuery result types, column names, values.

Both faces of the fake (the engine's ``QueryResult`` and the REST emulator read by
google-cloud-bigquery) are first turned into an :class:`Outcome`: result fields in BigQuery's
schema terms and rows as positional tuples. Values are then compared by the *expected* type:

* DOUBLE within a relative 1e-9 (aggregates may sum in another order), NaN equal to NaN;
* arrays in order when the printout says ``known order`` (or has fewer than two elements), as
  multisets for ``unknown order``; the rows of a query result likewise;
* TIMESTAMP as instants (the corpus prints them in UTC), INTERVAL by its months, days and
  microseconds, JSON as parsed values (numbers compared numerically), GEOGRAPHY as WKT text with
  spacing normalised.

Column names: an expected name must be the result's name (BigQuery's ``name_1`` when a query
yields the same implicit name twice); an anonymous expected column must be BigQuery's ``f<k>_``,
``k`` counting the anonymous columns from 0.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from harness.conformance.printout import (
    ArrayValue,
    IntervalValue,
    JsonValue,
    Opaque,
    Printout,
    RangeValue,
    SqlType,
    parse_interval,
)
from harness.schema.spec import FieldMode, FieldSpec, FieldType

_BIGQUERY_NAMES: dict[str, FieldType] = {
    "INT64": FieldType.INTEGER,
    "DOUBLE": FieldType.FLOAT,
    "BOOL": FieldType.BOOLEAN,
    "STRING": FieldType.STRING,
    "BYTES": FieldType.BYTES,
    "DATE": FieldType.DATE,
    "DATETIME": FieldType.DATETIME,
    "TIME": FieldType.TIME,
    "TIMESTAMP": FieldType.TIMESTAMP,
    "NUMERIC": FieldType.NUMERIC,
    "BIGNUMERIC": FieldType.BIGNUMERIC,
    "JSON": FieldType.JSON,
    "INTERVAL": FieldType.INTERVAL,
    "GEOGRAPHY": FieldType.GEOGRAPHY,
    "STRUCT": FieldType.RECORD,
}


@dataclass
class Outcome:
    """What one face returned: result fields and positional rows, or the error it raised."""

    fields: tuple[FieldSpec, ...] = ()
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    affected_rows: int | None = None
    error: str | None = None
    internal: bool = False
    """The error is a bug of the fake (an engine exception, a 5xx), not an error BigQuery raises."""


def field_spec(kind: SqlType, name: str = "") -> FieldSpec:
    """The BigQuery field a printed GoogleSQL type stands for (a ``ValueError`` for types BigQuery
    does not have)."""
    if kind.name == "ARRAY":
        if kind.element is None:
            raise ValueError("ARRAY<> has no element type")
        inner = field_spec(kind.element, name)
        return replace(inner, mode=FieldMode.REPEATED)
    if kind.name == "STRUCT":
        fields = tuple(
            field_spec(sub, sub_name or f"_field_{i + 1}") for i, (sub_name, sub) in enumerate(kind.fields)
        )
        return FieldSpec(name=name, type=FieldType.RECORD, fields=fields)
    if kind.name == "RANGE" and kind.element is not None:
        return FieldSpec(name=name, type=FieldType.RANGE, range_element=_BIGQUERY_NAMES[kind.element.name])
    if kind.name not in _BIGQUERY_NAMES:
        raise ValueError(f"{kind} is not a BigQuery type")
    return FieldSpec(name=name, type=_BIGQUERY_NAMES[kind.name])


def type_difference(expected: SqlType, actual: FieldSpec, where: str) -> str | None:
    """Where BigQuery's result type differs from the reference's, or None."""
    if expected.name == "ARRAY":
        if not actual.is_repeated:
            return f"{where}: expected {expected}, got {_describe(actual)}"
        if expected.element is None:
            return None
        return type_difference(expected.element, replace(actual, mode=FieldMode.NULLABLE), where)
    if actual.is_repeated:
        return f"{where}: expected {expected}, got {_describe(actual)}"
    if expected.name == "STRUCT":
        if actual.type is not FieldType.RECORD or len(actual.fields) != len(expected.fields):
            return f"{where}: expected {expected}, got {_describe(actual)}"
        for index, ((name, sub), got) in enumerate(zip(expected.fields, actual.fields, strict=True)):
            if name and got.name != name:
                return f"{where}.{index}: expected field name {name!r}, got {got.name!r}"
            difference = type_difference(sub, got, f"{where}.{name or index}")
            if difference:
                return difference
        return None
    if expected.name == "RANGE":
        element = _BIGQUERY_NAMES.get(expected.element.name if expected.element else "")
        if actual.type is not FieldType.RANGE or actual.range_element is not element:
            return f"{where}: expected {expected}, got {_describe(actual)}"
        return None
    wanted = _BIGQUERY_NAMES.get(expected.name)
    if wanted is not actual.type:
        return f"{where}: expected {expected}, got {_describe(actual)}"
    return None


def _describe(spec: FieldSpec) -> str:
    inner = spec.type.value
    if spec.type is FieldType.RANGE and spec.range_element is not None:
        inner = f"RANGE<{spec.range_element.value}>"
    if spec.type is FieldType.RECORD:
        inner = "STRUCT<" + ", ".join(f"{f.name} {_describe(f)}" for f in spec.fields) + ">"
    return f"ARRAY<{inner}>" if spec.is_repeated else inner


def column_name_difference(expected: tuple[str | None, ...], actual: tuple[str, ...]) -> str | None:
    anonymous = 0
    seen: Counter[str] = Counter()
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        if want is None:
            if got != f"f{anonymous}_":
                return f"column {index}: an anonymous column is named f{anonymous}_ by BigQuery, got {got!r}"
            anonymous += 1
            continue
        repeats = seen[want.lower()]
        seen[want.lower()] += 1
        allowed = {want.lower()} | ({f"{want.lower()}_{repeats}"} if repeats else set())
        if got.lower() not in allowed:
            return f"column {index}: expected name {want!r}, got {got!r}"
    return None


# ------------------------------------------------------------------------------ values


def value_difference(expected: Any, actual: Any, kind: SqlType | None, where: str) -> str | None:
    """Where an actual value differs from the expected one of type ``kind``, or None."""
    if expected is None or actual is None:
        if expected is None and actual is None:
            return None
        if kind is not None and kind.name == "ARRAY" and _empty(expected) and _empty(actual):
            return None  # BigQuery returns a NULL array as an empty one
        if actual is None and isinstance(expected, JsonValue) and expected.value is None:
            return None  # a JSON null reads as None through google-cloud-bigquery, as SQL NULL does
        return f"{where}: expected {_show(expected)}, got {_show(actual)}"
    if kind is None:
        return None
    if isinstance(expected, ArrayValue):
        return _array_difference(expected, actual, where)
    if kind.name == "STRUCT":
        values = _struct_values(actual, kind)
        if values is None or len(values) != len(kind.fields):
            return f"{where}: expected a struct of {len(kind.fields)} fields, got {_show(actual)}"
        for index, ((name, sub), want, got) in enumerate(zip(kind.fields, expected, values, strict=True)):
            difference = value_difference(want, got, sub, f"{where}.{name or index}")
            if difference:
                return difference
        return None
    if _same_scalar(expected, actual, kind):
        return None
    return f"{where}: expected {_show(expected)}, got {_show(actual)}"


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, ArrayValue):
        return not value.items
    return isinstance(value, list | tuple) and not value


def _array_difference(expected: ArrayValue, actual: Any, where: str) -> str | None:
    if not isinstance(actual, list | tuple):
        return f"{where}: expected an array, got {_show(actual)}"
    if len(actual) != len(expected.items):
        return f"{where}: expected {len(expected.items)} elements, got {len(actual)}"
    element = expected.element
    if expected.ordered:
        for index, (want, got) in enumerate(zip(expected.items, actual, strict=True)):
            difference = value_difference(want, got, element, f"{where}[{index}]")
            if difference:
                return difference
        return None
    remaining = list(actual)
    for index, want in enumerate(expected.items):
        match = next(
            (i for i, got in enumerate(remaining) if value_difference(want, got, element, "") is None), None
        )
        if match is None:
            return f"{where}: expected element {index} {_show(want)} is missing (unordered compare)"
        remaining.pop(match)
    return None


def _struct_values(actual: Any, kind: SqlType) -> tuple[Any, ...] | None:
    if isinstance(actual, dict):
        return tuple(actual.values())
    if isinstance(actual, list | tuple):
        return tuple(actual)
    return None


def _same_scalar(expected: Any, actual: Any, kind: SqlType) -> bool:
    name = kind.name
    if name == "DOUBLE":
        return (
            isinstance(actual, int | float | Decimal)
            and not isinstance(actual, bool)
            and _same_float(expected, float(actual))
        )
    if name == "INT64":
        return isinstance(actual, int) and not isinstance(actual, bool) and actual == expected
    if name == "BOOL":
        return actual is expected
    if name in ("NUMERIC", "BIGNUMERIC"):
        try:
            return Decimal(str(actual)) == expected
        except InvalidOperation:
            return False
    if name == "STRING":
        return isinstance(actual, str) and actual == expected
    if name == "BYTES":
        return isinstance(actual, bytes | bytearray | memoryview) and bytes(actual) == expected
    if name == "TIMESTAMP":
        return isinstance(actual, datetime) and _as_utc(actual) == expected
    if name == "DATETIME":
        return isinstance(actual, datetime) and actual.tzinfo is None and actual == expected
    if name == "DATE":
        return isinstance(actual, date) and not isinstance(actual, datetime) and actual == expected
    if name == "TIME":
        return isinstance(actual, time) and actual == expected
    if name == "INTERVAL":
        if type(actual).__name__ == "relativedelta":
            # google-cloud-bigquery reads an INTERVAL into a relativedelta, which folds 24 hours
            # into a day: the REST face is compared as the client can see it.
            return bool(
                actual
                == type(actual)(months=expected.months, days=expected.days, microseconds=expected.micros)
            )
        return _interval(actual) == expected
    if name == "JSON":
        return _same_json(expected.value if isinstance(expected, JsonValue) else expected, _json(actual))
    if name == "RANGE":
        got = _range(actual)
        if got is None or not isinstance(expected, RangeValue):
            return False
        assert kind.element is not None
        return (
            value_difference(expected.start, got[0], kind.element, "") is None
            and value_difference(expected.end, got[1], kind.element, "") is None
        )
    if name == "GEOGRAPHY":
        return isinstance(expected, Opaque) and _wkt(str(actual)) == _wkt(expected.text)
    return isinstance(expected, Opaque) and str(actual) == expected.text


def _same_float(expected: float, actual: float) -> bool:
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return expected == actual
    return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-300)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _interval(actual: Any) -> IntervalValue | None:
    """The engine gives its ``Interval`` (a relativedelta that never folds hours into days);
    DuckDB's own is a timedelta."""
    if isinstance(actual, IntervalValue):
        return actual
    if isinstance(actual, str):
        return parse_interval(actual)
    if isinstance(actual, timedelta):
        return IntervalValue(0, actual.days, actual.seconds * 1_000_000 + actual.microseconds)
    months = getattr(actual, "years", 0) * 12 + getattr(actual, "months", 0)
    if hasattr(actual, "days") and hasattr(actual, "hours"):
        micros = (
            (actual.hours * 60 + actual.minutes) * 60 + actual.seconds
        ) * 1_000_000 + actual.microseconds
        return IntervalValue(months, actual.days, micros)
    return None


def _json(actual: Any) -> Any:
    if isinstance(actual, str):
        try:
            return json.loads(actual, parse_float=Decimal)
        except ValueError:
            return actual
    return actual


def _same_json(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(_same_json(expected[k], actual[k]) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_same_json(a, b) for a, b in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | Decimal | float) and isinstance(actual, int | Decimal | float):
        return Decimal(str(expected)) == Decimal(str(actual))
    return bool(expected == actual)


def _range(actual: Any) -> tuple[Any, Any] | None:
    if isinstance(actual, dict) and {"start", "end"} <= actual.keys():
        return actual["start"], actual["end"]
    if isinstance(actual, tuple | list) and len(actual) == 2:
        return actual[0], actual[1]
    return None


def _wkt(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\s*([(),])\s*", r"\1", text.strip())).upper()


def _show(value: Any) -> str:
    if isinstance(value, ArrayValue):
        value = list(value.items)
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


# ------------------------------------------------------------------------------ whole results


def result_difference(expected: Printout, outcome: Outcome, *, dml: bool) -> str | None:
    """The first way ``outcome`` differs from the printout (types, names, then values), or None."""
    if outcome.error is not None:
        return f"raised: {outcome.error}"
    kind, value = expected.type, expected.value
    if dml:
        # STRUCT<num_rows_modified INT64, all_rows ARRAY<>>{n, ARRAY<STRUCT<...>>[...]}
        if outcome.affected_rows != value[0]:
            return f"num_rows_modified: expected {value[0]}, got {outcome.affected_rows}"
        rows = value[1]
        element = rows.element if isinstance(rows, ArrayValue) else None
        if element is None:
            return None if not outcome.rows else f"all_rows: expected none, got {len(outcome.rows)}"
        return _table_difference(element, rows, outcome)
    if kind.name != "ARRAY" or kind.element is None:
        return f"printout of type {kind} is not a query result"
    element = kind.element
    if element.name != "STRUCT":  # a value table: one anonymous column
        element = SqlType("STRUCT", fields=((None, element),))
        value = ArrayValue(tuple((v,) for v in value.items), value.ordered, element)
        return _table_difference(element, value, outcome, names=False)
    return _table_difference(element, value, outcome)


def _table_difference(
    element: SqlType, rows: ArrayValue, outcome: Outcome, *, names: bool = True
) -> str | None:
    if len(outcome.fields) != len(element.fields):
        return f"expected {len(element.fields)} columns, got {len(outcome.fields)}"
    if names:
        difference = column_name_difference(
            tuple(name for name, _ in element.fields), tuple(f.name for f in outcome.fields)
        )
        if difference:
            return difference
    typed = _with_value_types(element, rows)
    for index, ((name, kind), got) in enumerate(zip(typed.fields, outcome.fields, strict=True)):
        difference = type_difference(kind, got, f"column {name or index}")
        if difference:
            return difference
    return _array_difference(ArrayValue(rows.items, rows.ordered, typed), outcome.rows, "rows")


def _element_from_values(rows: ArrayValue, index: int) -> SqlType | None:
    for row in rows.items:
        cell = row[index] if isinstance(row, tuple) else None
        if isinstance(cell, ArrayValue) and cell.element is not None:
            return SqlType("ARRAY", cell.element)
    return None


def _with_value_types(element: SqlType, rows: ArrayValue) -> SqlType:
    """``ARRAY<>`` columns take the element type their values print."""
    fields = tuple(
        (
            name,
            (_element_from_values(rows, index) or kind)
            if kind.name == "ARRAY" and kind.element is None
            else kind,
        )
        for index, (name, kind) in enumerate(element.fields)
    )
    return SqlType("STRUCT", fields=fields)
