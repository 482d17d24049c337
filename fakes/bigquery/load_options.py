"""A load job's ``configuration.load``, read and checked before anything runs.

Every field is either honoured or refused with a 400 that names it: a field silently ignored
would let a test pass offline and fail on BigQuery. What BigQuery itself refuses in the request
(a missing destination) is a 400 of the request, not a failed job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakes.bigquery.exceptions import (
    InvalidArgument,
    InvalidTableSchema,
    RequiredParameterMissing,
    UnsupportedByFake,
)
from fakes.bigquery.load_sources import CsvOptions
from fakes.bigquery.rest_requests import int64_field
from harness.schema.spec import FieldSpec, TimePartitioning

CSV = "CSV"
NEWLINE_DELIMITED_JSON = "NEWLINE_DELIMITED_JSON"
PARQUET = "PARQUET"
FORMATS = (CSV, NEWLINE_DELIMITED_JSON, PARQUET)

#: Fields the emulator honours; any other field of ``configuration.load`` is refused by name.
HONOURED = frozenset(
    {
        "destinationTable",
        "sourceFormat",
        "schema",
        "createDisposition",
        "writeDisposition",
        "skipLeadingRows",
        "fieldDelimiter",
        "quote",
        "nullMarker",
        "allowJaggedRows",
        "allowQuotedNewlines",
        "maxBadRecords",
        "ignoreUnknownValues",
        "autodetect",
        "encoding",
        "schemaUpdateOptions",
        "timePartitioning",
        "clustering",
        "decimalTargetTypes",
    }
)
_WHY_NOT = {
    "AVRO": "Avro needs an Avro reader, which the emulator does not have",
    "ORC": "ORC needs an ORC reader, which the emulator does not have",
}
_SCHEMA_UPDATES = ("ALLOW_FIELD_ADDITION", "ALLOW_FIELD_RELAXATION")
_CREATE = ("CREATE_IF_NEEDED", "CREATE_NEVER")
_WRITE = ("WRITE_APPEND", "WRITE_TRUNCATE", "WRITE_TRUNCATE_DATA", "WRITE_EMPTY")


@dataclass(frozen=True)
class LoadOptions:
    """``JobConfigurationLoad`` as the emulator runs it, BigQuery's defaults filled in."""

    project: str
    dataset_id: str
    table_id: str
    source_format: str
    schema: tuple[FieldSpec, ...] | None
    create_disposition: str
    write_disposition: str
    csv: CsvOptions
    max_bad_records: int
    autodetect: bool
    encoding: str
    schema_updates: frozenset[str]
    time_partitioning: TimePartitioning | None
    clustering: tuple[str, ...]
    decimal_targets: tuple[str, ...]

    @property
    def table_name(self) -> str:
        return f"{self.project}:{self.dataset_id}.{self.table_id}"


def load_options(project: str, load: Mapping[str, Any]) -> LoadOptions:
    """Read ``configuration.load``; anything the emulator cannot honour is a 400 naming it."""
    for key, value in load.items():
        if key == "sourceUris":
            raise UnsupportedByFake(
                "The emulator reads an upload's data from the upload: sourceUris (gs://) belongs to a "
                "load job without one",
                reason="invalid",
            )
        if key not in HONOURED and value not in (None, False, [], {}):
            raise UnsupportedByFake(f"The emulator does not support the load option {key}", reason="invalid")
    destination = load.get("destinationTable")
    if not isinstance(destination, Mapping) or not destination.get("tableId"):
        raise RequiredParameterMissing(name="load.destinationTable")
    if not destination.get("datasetId"):
        raise RequiredParameterMissing(name="load.destinationTable.datasetId")
    table_id = str(destination["tableId"])
    if "$" in table_id:
        raise UnsupportedByFake(
            "The emulator does not load into a partition decorator (destinationTable.tableId)",
            reason="invalid",
        )
    source_format = str(load.get("sourceFormat") or CSV).upper()
    if source_format not in FORMATS:
        why = _WHY_NOT.get(source_format, f"the source format {source_format} is not supported")
        raise UnsupportedByFake(
            f"The emulator cannot load sourceFormat {source_format}: {why}", reason="invalid"
        )
    updates = frozenset(str(option) for option in load.get("schemaUpdateOptions") or ())
    for option in updates:
        if option not in _SCHEMA_UPDATES:
            raise UnsupportedByFake(f"Invalid schemaUpdateOptions value: {option}", reason="invalid")
    create = str(load.get("createDisposition") or "CREATE_IF_NEEDED")
    write = str(load.get("writeDisposition") or "WRITE_APPEND")
    if create not in _CREATE:
        raise UnsupportedByFake(f"Invalid createDisposition: {create}", reason="invalid")
    if write not in _WRITE:
        raise UnsupportedByFake(f"Invalid writeDisposition: {write}", reason="invalid")
    encoding = str(load.get("encoding") or "UTF-8").upper()
    if encoding not in ("UTF-8", "ISO-8859-1"):
        raise UnsupportedByFake(f"The emulator does not support the encoding {encoding}", reason="invalid")
    partitioning = load.get("timePartitioning")
    return LoadOptions(
        project=str(destination.get("projectId") or project),
        dataset_id=str(destination["datasetId"]),
        table_id=table_id,
        source_format=source_format,
        schema=_schema(load.get("schema")),
        create_disposition=create,
        write_disposition=write,
        csv=CsvOptions(
            delimiter=_delimiter(load.get("fieldDelimiter")),
            quote='"' if load.get("quote") is None else str(load["quote"]),
            skip_leading_rows=_count(load, "skipLeadingRows"),
            null_marker=str(load.get("nullMarker") or ""),
            allow_jagged_rows=bool(load.get("allowJaggedRows")),
            allow_quoted_newlines=bool(load.get("allowQuotedNewlines")),
            ignore_unknown_values=bool(load.get("ignoreUnknownValues")),
        ),
        max_bad_records=_count(load, "maxBadRecords"),
        autodetect=bool(load.get("autodetect")),
        encoding=encoding,
        schema_updates=updates,
        time_partitioning=TimePartitioning.from_api(partitioning) if partitioning else None,
        clustering=tuple((load.get("clustering") or {}).get("fields") or ()),
        decimal_targets=_decimal_targets(load.get("decimalTargetTypes")),
    )


def _schema(body: Any) -> tuple[FieldSpec, ...] | None:
    if not body or not (body.get("fields") if isinstance(body, Mapping) else None):
        return None
    try:
        return tuple(FieldSpec.from_api(f) for f in body["fields"])
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidTableSchema(detail=exc) from exc


def _decimal_targets(value: Any) -> tuple[str, ...]:
    """``decimalTargetTypes``: NUMERIC, BIGNUMERIC and STRING, each at most once."""
    targets = tuple(str(target).upper() for target in value or ())
    if len(set(targets)) != len(targets) or not set(targets) <= {"NUMERIC", "BIGNUMERIC", "STRING"}:
        raise InvalidArgument(name="decimalTargetTypes", value=list(targets))
    return targets


def _count(load: Mapping[str, Any], name: str) -> int:
    """A non-negative integer field (JSON may carry it as a string)."""
    value = int64_field(load, name) or 0
    if value < 0:
        raise InvalidArgument(name=name, value=value)
    return value


def _delimiter(value: Any) -> str:
    """``fieldDelimiter``: one character; BigQuery also takes ``\\t`` and ``tab`` for a tab."""
    if value is None or value == "":
        return ","
    text = str(value)
    if text in ("\\t", "tab"):
        return "\t"
    if len(text) != 1:
        raise UnsupportedByFake(
            f"The emulator supports one-character fieldDelimiter only: {text!r}", reason="invalid"
        )
    return text
