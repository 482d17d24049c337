"""What leaves the engine: result schemas in BigQuery's types, and DuckDB failures as BigQuery's 400s."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import duckdb

from fakes.bigquery.exceptions import (
    DivisionByZero,
    NullArrayElement,
    QueryFailed,
    RequiredFieldNull,
    UnrecognizedName,
    UnsupportedByFake,
)
from fakes.bigquery.limits_runtime import resources_exceeded
from fakes.bigquery.string_functions import raised_error
from fakes.bigquery.types import field_from_duck
from harness.ports import InvalidRequestError
from harness.schema.spec import FieldMode, FieldSpec, FieldType


def result_schema(
    description: Sequence[Any], referenced: Iterable[tuple[FieldSpec, ...]]
) -> tuple[FieldSpec, ...]:
    """Result columns typed from DuckDB, except where a column is a plain read of a table column
    whose BigQuery type DuckDB cannot carry (GEOGRAPHY as text; JSON; descriptions)."""
    known: dict[str, FieldSpec] = {}
    ambiguous: set[str] = set()
    for schema in referenced:
        for spec in schema:
            key = spec.name.lower()
            if key in known and known[key] != spec:
                ambiguous.add(key)
            known[key] = spec
    fields: list[FieldSpec] = []
    for column in description:
        name, duck = column[0], column[1]
        derived = field_from_duck(name, duck)
        source = known.get(name.lower())
        if (
            source is not None
            and name.lower() not in ambiguous
            and _storage_shape(source) == _storage_shape(derived)
        ):
            derived = _as_result_field(replace(source, name=name))
        fields.append(derived)
    return tuple(fields)


def unique_names(schema: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
    """A query that yields one name twice (``SELECT a.id, b.id``) gets ``id`` and ``id_1``, as
    BigQuery names them, so no column is lost when rows are keyed by name."""
    seen: dict[str, int] = {}
    taken = {spec.name.lower() for spec in schema}
    named: list[FieldSpec] = []
    for spec in schema:
        key = spec.name.lower()
        if key not in seen:
            seen[key] = 0
            named.append(spec)
            continue
        count = seen[key]
        candidate = f"{spec.name}_{count + 1}"
        while candidate.lower() in taken:
            count += 1
            candidate = f"{spec.name}_{count + 1}"
        seen[key] = count + 1
        taken.add(candidate.lower())
        named.append(replace(spec, name=candidate))
    return tuple(named)


def _as_result_field(spec: FieldSpec) -> FieldSpec:
    """A table column as a query result reports it: BigQuery's result schemas say NULLABLE where
    the table says REQUIRED, at every nesting level, and carry no descriptions. (The client also
    relies on it: it refuses a NULL under a REQUIRED field, and a NULL record has NULL sub-fields.)"""
    mode = FieldMode.REPEATED if spec.is_repeated else FieldMode.NULLABLE
    return replace(spec, mode=mode, description=None, fields=tuple(_as_result_field(f) for f in spec.fields))


def _storage_shape(spec: FieldSpec) -> tuple[Any, ...]:
    stored_as_text = (FieldType.GEOGRAPHY,)
    kind = FieldType.STRING if spec.type in stored_as_text else spec.type
    return (kind, spec.is_repeated, tuple(_storage_shape(f) for f in spec.fields))


def check_no_null_elements(schema: Sequence[FieldSpec], rows: Sequence[dict[str, Any]]) -> None:
    """BigQuery lets an array hold NULL inside a query but refuses to write one to a result:
    "Array cannot have a null element; error in writing field <name>"."""
    if not any(has_array(f) for f in schema):
        return
    for row in rows:
        for spec in schema:
            _check_value(spec, row.get(spec.name), spec.name)


def has_array(spec: FieldSpec) -> bool:
    """Whether the field holds an array at some depth (only there can an element be NULL)."""
    return spec.is_repeated or any(has_array(f) for f in spec.fields)


def _check_value(spec: FieldSpec, value: Any, path: str) -> None:
    if value is None:
        return
    items = value if spec.is_repeated else [value]
    if spec.is_repeated and any(item is None for item in items):
        raise NullArrayElement(path=path)
    if spec.is_record:
        for item in items:
            for sub in spec.fields:
                _check_value(sub, item.get(sub.name), f"{path}.{sub.name}")


_DIVISION_BY_ZERO = "division by zero: "
_NOT_NULL = re.compile(r"NOT NULL constraint failed: [^.]+\.(?P<column>\S+)")
_MISSING_COLUMN = re.compile(r'Referenced column "?(?P<column>[^"\s]+)"? not found')


def map_duckdb_error(exc: duckdb.Error) -> InvalidRequestError:
    """DuckDB's failures as BigQuery's 400s; never a DuckDB traceback."""
    if (exceeded := resources_exceeded(exc)) is not None:
        return exceeded
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^[A-Za-z ]+Error: ", "", text)
    if "not supported by the BigQuery fake" in text:  # a rewrite's run-time refusal (error('...'))
        return UnsupportedByFake(text)
    if (raised := raised_error(text)) is not None:
        return raised
    if text.startswith(_DIVISION_BY_ZERO):
        return DivisionByZero(expression=text[len(_DIVISION_BY_ZERO) :])
    if match := _NOT_NULL.search(str(exc)):
        return RequiredFieldNull(column=match.group("column"))
    if match := _MISSING_COLUMN.search(str(exc)):
        return UnrecognizedName(name=match.group("column"))
    if isinstance(
        exc, duckdb.ConversionException | duckdb.OutOfRangeException | duckdb.InvalidInputException
    ):
        return QueryFailed(detail=text)
    if isinstance(exc, duckdb.BinderException | duckdb.ParserException | duckdb.CatalogException):
        return QueryFailed(detail=text)
    return UnsupportedByFake(f"The BigQuery fake could not run this statement: {text}")
