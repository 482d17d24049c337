"""A corpus file's tables, built from its ``[prepare_database]`` printouts.

The table is made from the printout (the reference's own contents of the table), not by running
the file's ``CREATE TABLE ... AS SELECT`` on the fake: the corpus uses that statement to build
columns of types BigQuery lacks (``CAST(x AS int32)``), and a table built by the engine under test
would judge the engine by itself. Columns of types BigQuery lacks are left out and remembered, so
the scope can put the cases that read them out of scope; the values go in with a plain (not
streaming) insert, so DML cases may change them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from harness.conformance.compare import field_spec
from harness.conformance.corpus import Section
from harness.conformance.printout import (
    ArrayValue,
    IntervalValue,
    JsonValue,
    Opaque,
    RangeValue,
    SqlType,
    read_printout,
)
from harness.schema.spec import FieldSpec

_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+`?([A-Za-z_][A-Za-z0-9_]*)`?", re.I)
_COLLATED_COLUMN = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s+STRING\s+COLLATE\s+(['\"])(.*?)\2", re.I)
"""A top-level ``name STRING COLLATE 'spec'`` column definition (the printout carries no collation)."""


@dataclass
class CorpusTable:
    name: str
    schema: tuple[FieldSpec, ...]
    rows: list[dict[str, Any]]
    dropped: dict[str, str] = field(default_factory=dict)
    """Columns left out: name -> the GoogleSQL type BigQuery lacks."""


def table_name(section: Section) -> str | None:
    match = _CREATE_TABLE.match(section.sql)
    return match.group(1) if match else None


def build_table(section: Section) -> CorpusTable:
    """The table a ``[prepare_database] CREATE TABLE`` section makes (``ValueError`` if unreadable)."""
    table = table_name(section)
    if table is None:
        raise ValueError("not a CREATE TABLE section")
    printout = read_printout(section.expected)
    if printout.type.name != "ARRAY" or printout.type.element is None:
        raise ValueError(f"table printout of type {printout.type}")
    columns = printout.type.element.fields
    collations = column_collations(section.sql)
    kept: list[tuple[int, FieldSpec, SqlType]] = []
    dropped: dict[str, str] = {}
    for index, (column, kind) in enumerate(columns):
        name = column or f"_field_{index + 1}"
        try:
            spec = field_spec(kind, name)
        except ValueError:
            dropped[name] = str(kind)
            continue
        if name.lower() in collations:
            spec = replace(spec, collation=collations[name.lower()])
        kept.append((index, spec, kind))
    rows = [
        {spec.name: to_insert_value(row[index], kind) for index, spec, kind in kept}
        for row in printout.value.items
    ]
    return CorpusTable(name=table, schema=tuple(spec for _, spec, _ in kept), rows=rows, dropped=dropped)


def column_collations(sql: str) -> dict[str, str]:
    """Lower-cased column name -> collation specification, for the columns a ``CREATE TABLE``
    declares ``STRING COLLATE '...'``."""
    return {match.group(1).lower(): match.group(3) for match in _COLLATED_COLUMN.finditer(sql)}


def to_insert_value(value: Any, kind: SqlType) -> Any:
    """A printout value as ``insertAll`` JSON would carry it (the engine's ``insert_rows`` input)."""
    if value is None:
        return None
    if isinstance(value, ArrayValue):
        element = value.element or kind.element
        assert element is not None
        return [to_insert_value(item, element) for item in value.items]
    if kind.name == "STRUCT":
        return {
            (name or f"_field_{i + 1}"): to_insert_value(item, sub)
            for i, ((name, sub), item) in enumerate(zip(kind.fields, value, strict=True))
        }
    if isinstance(value, JsonValue):
        return value.value
    if isinstance(value, IntervalValue):
        return interval_text(value)
    if isinstance(value, RangeValue):
        assert kind.element is not None
        start = "UNBOUNDED" if value.start is None else _scalar_text(value.start)
        end = "UNBOUNDED" if value.end is None else _scalar_text(value.end)
        return f"[{start}, {end})"
    if isinstance(value, Opaque):
        return value.text
    if isinstance(value, float) and kind.name == "DOUBLE":
        return value
    if isinstance(value, Decimal):
        return str(value)
    return value


def _scalar_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def interval_text(value: IntervalValue) -> str:
    """BigQuery's canonical INTERVAL text, ``Y-M D H:M:S[.F]``."""
    sign = "-" if value.months < 0 else ""
    years, months = divmod(abs(value.months), 12)
    time_sign = "-" if value.micros < 0 else ""
    seconds, micros = divmod(abs(value.micros), 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    fraction = f".{micros:06d}".rstrip("0") if micros else ""
    return f"{sign}{years}-{months} {value.days} {time_sign}{hours}:{minutes}:{seconds}{fraction}"
