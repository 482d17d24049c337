"""Reading a load job's source bytes: CSV, newline-delimited JSON and Parquet into checked rows.

A load refuses record by record, as BigQuery does: each refused record becomes an error entry
(``status.errors``) and the job decides, against ``maxBadRecords``, whether the rest loads. So the
readers here never raise for a bad record; they return the rows that fit the schema and the
errors of those that do not. Schemas come from the job, the table, the file (Parquet describes
itself) or :mod:`fakes.bigquery.load_autodetect`.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from fakes.bigquery.exceptions import (
    CsvQuotedNewline,
    CsvTooFewColumns,
    CsvTooManyColumns,
    CsvValueUnparsable,
    JsonRowUnparsable,
    LoadSourceUnreadable,
    UnsupportedByFake,
    ValueRejected,
)
from fakes.bigquery.load_autodetect import csv_schema, json_schema
from fakes.bigquery.rest_values import wire_row
from fakes.bigquery.types import row_to_storage
from harness.schema.spec import FieldMode, FieldSpec, FieldType

#: How BigQuery introduces each refused record in a load's ``status.errors``.
READ_ERROR_PREFIX = "Error while reading data, error message: "
#: What BigQuery's CSV reader takes for a BOOL column, case-insensitively.
_CSV_BOOLS = {"true": "true", "t": "true", "yes": "true", "y": "true", "1": "true"} | {
    "false": "false",
    "f": "false",
    "no": "false",
    "n": "false",
    "0": "false",
}


@dataclass
class SourceRows:
    """What a reader made of the source: good rows (by column name), refused records' errors."""

    schema: tuple[FieldSpec, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    records: int = 0

    def refuse(self, error: ValueRejected) -> None:
        # BigQuery's ``location`` here names the source file; an upload has none.
        self.errors.append({"reason": error.reason, "message": READ_ERROR_PREFIX + error.message})


@dataclass(frozen=True)
class CsvOptions:
    """The CSV fields of ``JobConfigurationLoad`` with BigQuery's defaults."""

    delimiter: str = ","
    quote: str = '"'
    skip_leading_rows: int = 0
    null_marker: str = ""
    allow_jagged_rows: bool = False
    allow_quoted_newlines: bool = False
    ignore_unknown_values: bool = False


# ------------------------------------------------------------------------------------------ CSV


def read_csv(
    text: str, options: CsvOptions, schema: Sequence[FieldSpec] | None, *, autodetect: bool
) -> SourceRows:
    """CSV records as rows of ``schema`` (or of the autodetected one when ``schema`` is None)."""
    records = list(_csv_records(text, options))
    skipped, records = records[: options.skip_leading_rows], records[options.skip_leading_rows :]
    if schema is None:
        header = skipped[-1][1] if skipped else None
        schema, has_header = csv_schema([fields for _, fields, _ in records], header)
        if has_header:
            records = records[1:]
    source = SourceRows(schema=tuple(schema))
    for offset, fields, multiline in records:
        source.records += 1
        if multiline and not options.allow_quoted_newlines:
            source.refuse(CsvQuotedNewline("", offset=offset))
            continue
        row = _csv_row(source.schema, fields, offset, options)
        if isinstance(row, ValueRejected):
            source.refuse(row)
        else:
            source.rows.append(row)
    return source


def _csv_records(text: str, options: CsvOptions) -> Iterator[tuple[int, list[str], bool]]:
    """(start offset, fields, spans several lines) of each record; blank lines are not records."""
    lines = text.splitlines(keepends=True)
    consumed = [0, 0]  # characters, lines

    def feed() -> Iterator[str]:
        for line in lines:
            consumed[0] += len(line)
            consumed[1] += 1
            yield line

    quoting = csv.QUOTE_NONE if options.quote == "" else csv.QUOTE_MINIMAL
    reader = csv.reader(
        feed(), delimiter=options.delimiter, quotechar=options.quote or None, quoting=quoting, strict=False
    )
    while True:
        start, first_line = consumed
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, [], True
            continue
        if not fields:
            continue
        yield start, fields, consumed[1] - first_line > 1


def _csv_row(
    schema: tuple[FieldSpec, ...], fields: list[str], offset: int, options: CsvOptions
) -> dict[str, Any] | ValueRejected:
    if len(fields) > len(schema) and not options.ignore_unknown_values:
        return CsvTooManyColumns("", offset=offset)
    if len(fields) < len(schema) and not options.allow_jagged_rows:
        return CsvTooFewColumns("", position=len(schema) - 1, offset=offset, count=len(fields))
    row: dict[str, Any] = {}
    for position, spec in enumerate(schema):
        raw = fields[position] if position < len(fields) else None
        value: Any = None if raw is None or raw == options.null_marker else raw
        if value is not None and spec.type is FieldType.BOOLEAN:
            value = _CSV_BOOLS.get(value.strip().lower(), value)
        row[spec.name] = value
    row = wire_row(schema, row)  # a JSON column's field is JSON text, which BigQuery parses
    try:
        row_to_storage(schema, row)
    except (ValueRejected, ValueError, TypeError, ArithmeticError):
        for position, spec in enumerate(schema):
            try:
                row_to_storage((spec,), {spec.name: row[spec.name]})
            except (ValueRejected, ValueError, TypeError, ArithmeticError):
                type_name = _sql_type(spec.type)
                value = row[spec.name]
                return CsvValueUnparsable(
                    spec.name, value=value, type=type_name, field=spec.name, position=position, offset=offset
                )
    return row


def _sql_type(kind: FieldType) -> str:
    return {FieldType.INTEGER: "INT64", FieldType.FLOAT: "DOUBLE", FieldType.BOOLEAN: "BOOL"}.get(
        kind, kind.value
    )


# ----------------------------------------------------------------------------------------- JSON


def read_ndjson(text: str, schema: Sequence[FieldSpec] | None, *, ignore_unknown_values: bool) -> SourceRows:
    """One JSON object per line as rows of ``schema`` (autodetected from the objects when None)."""
    parsed: list[tuple[int, dict[str, Any] | ValueRejected]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        start, offset = offset, offset + len(line.encode("utf-8"))
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.append((start, JsonRowUnparsable("", offset=start, detail=exc.msg)))
            continue
        if not isinstance(value, dict):
            parsed.append((start, JsonRowUnparsable("", offset=start, detail="Expected an object.")))
            continue
        parsed.append((start, value))
    if schema is None:
        schema = json_schema([value for _, value in parsed if isinstance(value, dict)])
    source = SourceRows(schema=tuple(schema))
    names = {spec.name.lower() for spec in source.schema}
    for start, value in parsed:
        source.records += 1
        if isinstance(value, ValueRejected):
            source.refuse(value)
            continue
        unknown = [key for key in value if key.lower() not in names]
        if unknown and not ignore_unknown_values:
            source.refuse(JsonRowUnparsable("", offset=start, detail=f"No such field: {unknown[0]}."))
            continue
        row = {key: item for key, item in value.items() if key.lower() in names}
        try:
            row_to_storage(source.schema, row)
        except ValueRejected as exc:
            source.refuse(JsonRowUnparsable(exc.location, offset=start, detail=exc.message))
            continue
        except (ValueError, TypeError, ArithmeticError) as exc:
            source.refuse(JsonRowUnparsable("", offset=start, detail=str(exc)))
            continue
        source.rows.append(row)
    return source


# -------------------------------------------------------------------------------------- Parquet


def read_parquet(data: bytes, decimal_targets: Sequence[str]) -> SourceRows:
    """A Parquet file, read by DuckDB from a temporary copy; its own schema, with decimal columns
    typed by ``decimalTargetTypes``."""
    with tempfile.TemporaryDirectory(prefix="bq-load-") as folder:
        path = Path(folder) / "upload.parquet"
        path.write_bytes(data)
        conn = duckdb.connect(":memory:")
        try:
            conn.execute("SET TimeZone = 'UTC'")
            described = conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
            result = conn.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        except duckdb.Error as exc:
            detail = str(exc).splitlines()[0].replace(str(path), "the uploaded file")
            raise LoadSourceUnreadable(detail=detail) from exc
        finally:
            conn.close()
    schema = tuple(_parquet_field(name, kind, decimal_targets) for name, kind, *_ in described)
    source = SourceRows(schema=schema)
    for values in result:
        source.records += 1
        row = {spec.name: _parquet_value(spec, value) for spec, value in zip(schema, values, strict=True)}
        try:
            row_to_storage(schema, row)
        except ValueRejected as exc:
            source.refuse(exc)
            continue
        source.rows.append(row)
    return source


_DUCK_TO_BIGQUERY = {
    "TINYINT": FieldType.INTEGER,
    "SMALLINT": FieldType.INTEGER,
    "INTEGER": FieldType.INTEGER,
    "BIGINT": FieldType.INTEGER,
    "UTINYINT": FieldType.INTEGER,
    "USMALLINT": FieldType.INTEGER,
    "UINTEGER": FieldType.INTEGER,
    "FLOAT": FieldType.FLOAT,
    "DOUBLE": FieldType.FLOAT,
    "BOOLEAN": FieldType.BOOLEAN,
    "VARCHAR": FieldType.STRING,
    "BLOB": FieldType.BYTES,
    "DATE": FieldType.DATE,
    "TIME": FieldType.TIME,
    "TIMESTAMP": FieldType.TIMESTAMP,
    "TIMESTAMP WITH TIME ZONE": FieldType.TIMESTAMP,
    "TIMESTAMP_MS": FieldType.TIMESTAMP,
    "TIMESTAMP_NS": FieldType.TIMESTAMP,
    "JSON": FieldType.JSON,
}


def _parquet_field(name: str, kind: str, decimal_targets: Sequence[str]) -> FieldSpec:
    if kind.endswith("[]"):
        element = _parquet_field(name, kind[:-2], decimal_targets)
        return FieldSpec(name=name, type=element.type, mode=FieldMode.REPEATED, fields=element.fields)
    if kind.startswith("DECIMAL("):
        precision, scale = (int(part) for part in kind[len("DECIMAL(") : -1].split(","))
        return FieldSpec(name=name, type=decimal_target(precision, scale, decimal_targets))
    if kind.startswith("STRUCT("):
        inner = duckdb.sqltype(kind)
        fields = tuple(
            _parquet_field(child, str(child_type), decimal_targets) for child, child_type in inner.children
        )
        return FieldSpec(name=name, type=FieldType.RECORD, fields=fields)
    kind_type = _DUCK_TO_BIGQUERY.get(kind)
    if kind_type is None:
        raise UnsupportedByFake(
            f"The emulator cannot load the Parquet type {kind} (column {name})", reason="invalid"
        )
    return FieldSpec(name=name, type=kind_type)


def decimal_target(precision: int, scale: int, targets: Sequence[str]) -> FieldType:
    """``decimalTargetTypes``: NUMERIC, then BIGNUMERIC, then STRING, the first listed that holds
    (precision, scale); failing all, the widest listed."""
    listed = {target.upper() for target in targets} or {"NUMERIC"}
    fits = {
        "NUMERIC": scale <= 9 and precision - scale <= 29,
        "BIGNUMERIC": scale <= 38 and precision - scale <= 38,
        "STRING": True,
    }
    for name in ("NUMERIC", "BIGNUMERIC", "STRING"):
        if name in listed and fits[name]:
            return FieldType(name)
    for name in ("STRING", "BIGNUMERIC", "NUMERIC"):
        if name in listed:
            return FieldType(name)
    raise UnsupportedByFake(f"Invalid decimalTargetTypes: {sorted(listed)}", reason="invalid")


def _parquet_value(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.is_repeated and isinstance(value, list):
        scalar = FieldSpec(name=spec.name, type=spec.type, fields=spec.fields)
        return [_parquet_value(scalar, item) for item in value]
    if spec.type is FieldType.TIMESTAMP and isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if spec.type is FieldType.STRING and isinstance(value, Decimal):
        return str(value)
    if spec.type is FieldType.RECORD and isinstance(value, Mapping):
        by_name = {f.name: f for f in spec.fields}
        return {key: _parquet_value(by_name[key], item) for key, item in value.items()}
    return value
