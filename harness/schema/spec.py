"""Typed spec objects for BigQuery datasets and tables.

They mirror BigQuery's own REST/JSON schema format (``TableFieldSchema``, ``TimePartitioning``,
``Clustering``) so one object can be loaded from a file, checked by the rules, created in the
fake or the real service, and compared against what a backend reports back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    """BigQuery column types under the legacy names the REST API reports."""

    STRING = "STRING"
    BYTES = "BYTES"
    INTEGER = "INTEGER"
    FLOAT = "FLOAT"
    NUMERIC = "NUMERIC"
    BIGNUMERIC = "BIGNUMERIC"
    BOOLEAN = "BOOLEAN"
    TIMESTAMP = "TIMESTAMP"
    DATE = "DATE"
    TIME = "TIME"
    DATETIME = "DATETIME"
    GEOGRAPHY = "GEOGRAPHY"
    JSON = "JSON"
    INTERVAL = "INTERVAL"
    RANGE = "RANGE"
    RECORD = "RECORD"

    @classmethod
    def parse(cls, name: str) -> FieldType:
        """Accept the standard-SQL aliases BigQuery accepts in a schema (INT64, BOOL, STRUCT...)."""
        upper = name.upper()
        return cls(TYPE_ALIASES.get(upper, upper))


TYPE_ALIASES: dict[str, str] = {
    "INT64": "INTEGER",
    "FLOAT64": "FLOAT",
    "BOOL": "BOOLEAN",
    "STRUCT": "RECORD",
    "DECIMAL": "NUMERIC",
    "BIGDECIMAL": "BIGNUMERIC",
}


class FieldMode(StrEnum):
    NULLABLE = "NULLABLE"
    REQUIRED = "REQUIRED"
    REPEATED = "REPEATED"


class PartitionType(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"
    YEAR = "YEAR"


@dataclass(frozen=True)
class FieldSpec:
    """One column (``TableFieldSchema``); RECORD columns carry their sub-fields."""

    name: str
    type: FieldType
    mode: FieldMode = FieldMode.NULLABLE
    description: str | None = None
    fields: tuple[FieldSpec, ...] = ()
    range_element: FieldType | None = None
    """A RANGE column's element type (``rangeElementType``: DATE, DATETIME or TIMESTAMP)."""
    collation: str | None = None
    """A STRING column's collation specification (``collation``: ``'und:ci'``, ``''`` ...)."""

    @property
    def is_repeated(self) -> bool:
        return self.mode is FieldMode.REPEATED

    @property
    def is_record(self) -> bool:
        return self.type is FieldType.RECORD

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "type": self.type.value, "mode": self.mode.value}
        if self.description is not None:
            body["description"] = self.description
        if self.fields:
            body["fields"] = [f.to_api() for f in self.fields]
        if self.range_element is not None:
            body["rangeElementType"] = {"type": self.range_element.value}
        if self.collation is not None:
            body["collation"] = self.collation
        return body

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> FieldSpec:
        return cls(
            name=body["name"],
            type=FieldType.parse(body["type"]),
            mode=FieldMode(body.get("mode") or "NULLABLE"),
            description=body.get("description"),
            fields=tuple(cls.from_api(f) for f in body.get("fields") or ()),
            range_element=FieldType.parse(body["rangeElementType"]["type"])
            if body.get("rangeElementType")
            else None,
            collation=body.get("collation"),
        )


@dataclass(frozen=True)
class TimePartitioning:
    """``TimePartitioning``: ``field=None`` means ingestion-time partitioning."""

    type: PartitionType = PartitionType.DAY
    field: str | None = None
    expiration_ms: int | None = None

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type.value}
        if self.field is not None:
            body["field"] = self.field
        if self.expiration_ms is not None:
            body["expirationMs"] = str(self.expiration_ms)
        return body

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> TimePartitioning:
        expiration = body.get("expirationMs")
        return cls(
            type=PartitionType(body.get("type") or "DAY"),
            field=body.get("field"),
            expiration_ms=int(expiration) if expiration is not None else None,
        )


@dataclass(frozen=True)
class TableSpec:
    """Everything needed to create one table, in BigQuery's terms."""

    table_id: str
    schema: tuple[FieldSpec, ...]
    description: str | None = None
    time_partitioning: TimePartitioning | None = None
    clustering_fields: tuple[str, ...] = ()
    require_partition_filter: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)

    def field(self, name: str) -> FieldSpec | None:
        """Top-level column by name; BigQuery column names are case-insensitive."""
        lowered = name.lower()
        return next((f for f in self.schema if f.name.lower() == lowered), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.schema)

    def to_api(self, project: str, dataset_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "tableReference": {"projectId": project, "datasetId": dataset_id, "tableId": self.table_id},
            "schema": {"fields": [f.to_api() for f in self.schema]},
        }
        if self.description is not None:
            body["description"] = self.description
        if self.time_partitioning is not None:
            body["timePartitioning"] = self.time_partitioning.to_api()
        if self.clustering_fields:
            body["clustering"] = {"fields": list(self.clustering_fields)}
        if self.require_partition_filter:
            body["requirePartitionFilter"] = True
        if self.labels:
            body["labels"] = dict(self.labels)
        return body

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> TableSpec:
        partitioning = body.get("timePartitioning")
        return cls(
            table_id=body["tableReference"]["tableId"],
            schema=tuple(FieldSpec.from_api(f) for f in (body.get("schema") or {}).get("fields", ())),
            description=body.get("description"),
            time_partitioning=TimePartitioning.from_api(partitioning) if partitioning else None,
            clustering_fields=tuple((body.get("clustering") or {}).get("fields", ())),
            require_partition_filter=bool(body.get("requirePartitionFilter", False)),
            labels=dict(body.get("labels") or {}),
        )


@dataclass(frozen=True)
class DatasetSpec:
    dataset_id: str
    location: str = "US"
    description: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    default_table_expiration_ms: int | None = None
    """``defaultTableExpirationMs``: new tables expire this long after their creation."""


@dataclass(frozen=True)
class BootstrapConfig:
    """The meta dataset and its tables in creation order, as loaded from ``bootstrap.yml``."""

    dataset: DatasetSpec
    tables: tuple[TableSpec, ...]
    source: str | None = None

    def __iter__(self) -> Iterator[TableSpec]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.table_id for t in self.tables)

    def table(self, table_id: str) -> TableSpec:
        for spec in self.tables:
            if spec.table_id == table_id:
                return spec
        raise KeyError(table_id)


def walk_fields(fields: tuple[FieldSpec, ...], prefix: str = "") -> Iterator[tuple[str, FieldSpec]]:
    """Every column with its dotted path, nested RECORD sub-fields included."""
    for f in fields:
        path = f"{prefix}{f.name}"
        yield path, f
        if f.fields:
            yield from walk_fields(f.fields, prefix=f"{path}.")
