"""Schema auto-detection of a load (``autodetect: true``) for CSV and newline-delimited JSON.

BigQuery samples the file and picks, per column, the narrowest type every value fits (BOOL,
INT64, FLOAT64, DATE, TIME, TIMESTAMP, else STRING), every column NULLABLE. A CSV's first row
is a header when its values do not fit the types the other rows give their columns; header
names are cleaned to BigQuery's column-name alphabet, and unnamed columns are called
``<type>_field_<n>`` (``string_field_0``), as BigQuery names them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from harness.schema.spec import FieldMode, FieldSpec, FieldType

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_TIME = re.compile(r"^\d{1,2}:\d{2}:\d{2}(\.\d{1,6})?$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)?$"
)
_BOOL = {"true", "false"}
#: The order in which a column's candidate types are tried (narrowest first).
_ORDER = (
    FieldType.BOOLEAN,
    FieldType.INTEGER,
    FieldType.FLOAT,
    FieldType.DATE,
    FieldType.TIME,
    FieldType.TIMESTAMP,
)
_GENERATED = {
    FieldType.BOOLEAN: "bool",
    FieldType.INTEGER: "int64",
    FieldType.FLOAT: "double",
    FieldType.DATE: "date",
    FieldType.TIME: "time",
    FieldType.TIMESTAMP: "timestamp",
    FieldType.STRING: "string",
}


def text_type(value: str) -> FieldType:
    """The narrowest type a text value fits."""
    for kind in _ORDER:
        if _fits(value, kind):
            return kind
    return FieldType.STRING


def _fits(value: str, kind: FieldType) -> bool:
    text = value.strip()
    match kind:
        case FieldType.BOOLEAN:
            return text.lower() in _BOOL
        case FieldType.INTEGER:
            return bool(_INT.match(text))
        case FieldType.FLOAT:
            return bool(_FLOAT.match(text)) or text in ("NaN", "Infinity", "-Infinity")
        case FieldType.DATE:
            return bool(_DATE.match(text))
        case FieldType.TIME:
            return bool(_TIME.match(text))
        case FieldType.TIMESTAMP:
            return bool(_TIMESTAMP.match(text))
        case _:
            return True


def _column_type(values: Sequence[str]) -> FieldType:
    """The narrowest type all of a column's non-empty values fit (INT64 widens to FLOAT64)."""
    present = [value for value in values if value != ""]
    if not present:
        return FieldType.STRING
    for kind in _ORDER:
        if all(_fits(value, kind) for value in present):
            return kind
    return FieldType.STRING


def csv_schema(
    records: Sequence[Sequence[str]], header: Sequence[str] | None
) -> tuple[tuple[FieldSpec, ...], bool]:
    """The detected schema, and whether the first record is a header (to be skipped)."""
    width = max((len(record) for record in records), default=len(header or ()))
    columns = [[record[i] if i < len(record) else "" for record in records] for i in range(width)]
    has_header = False
    names: Sequence[str] | None = header
    if header is None and len(records) > 1:
        rest = [_column_type(column[1:]) for column in columns]
        first = records[0]
        has_header = any(
            kind is not FieldType.STRING and i < len(first) and first[i] != "" and not _fits(first[i], kind)
            for i, kind in enumerate(rest)
        )
        if has_header:
            names = first
            columns = [column[1:] for column in columns]
    kinds = [_column_type(column) for column in columns]
    fields = []
    taken: set[str] = set()
    for i, kind in enumerate(kinds):
        name = _clean(names[i]) if names is not None and i < len(names) else ""
        if not name or name.lower() in taken:
            name = f"{_GENERATED[kind]}_field_{i}"
        taken.add(name.lower())
        fields.append(FieldSpec(name=name, type=kind))
    return tuple(fields), has_header


def _clean(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name.strip())
    if cleaned and cleaned[0].isdigit():
        cleaned = f"_{cleaned}"
    return cleaned[:300]


def json_schema(objects: Sequence[Mapping[str, Any]]) -> tuple[FieldSpec, ...]:
    """The detected schema of JSON objects: the union of their keys, in first-seen order."""
    return tuple(_merge_objects(objects))


def _merge_objects(objects: Sequence[Mapping[str, Any]]) -> list[FieldSpec]:
    order: list[str] = []
    values: dict[str, list[Any]] = {}
    for item in objects:
        for key, value in item.items():
            if key not in values:
                order.append(key)
                values[key] = []
            values[key].append(value)
    return [_json_field(key, values[key]) for key in order]


def _json_field(name: str, values: list[Any]) -> FieldSpec:
    present = [value for value in values if value is not None]
    if present and all(isinstance(value, list) for value in present):
        items = [item for value in present for item in value if item is not None]
        element = _json_field(name, items)
        return FieldSpec(name=name, type=element.type, mode=FieldMode.REPEATED, fields=element.fields)
    if present and all(isinstance(value, Mapping) for value in present):
        return FieldSpec(name=name, type=FieldType.RECORD, fields=tuple(_merge_objects(present)))
    kinds = {_json_scalar_type(value) for value in present}
    if kinds == {FieldType.INTEGER, FieldType.FLOAT}:
        return FieldSpec(name=name, type=FieldType.FLOAT)
    if len(kinds) == 1:
        return FieldSpec(name=name, type=kinds.pop())
    return FieldSpec(name=name, type=FieldType.STRING)


def _json_scalar_type(value: Any) -> FieldType:
    if isinstance(value, bool):
        return FieldType.BOOLEAN
    if isinstance(value, int):
        return FieldType.INTEGER
    if isinstance(value, float):
        return FieldType.FLOAT
    if isinstance(value, str):
        kind = text_type(value)
        return kind if kind in (FieldType.DATE, FieldType.TIME, FieldType.TIMESTAMP) else FieldType.STRING
    return FieldType.STRING
