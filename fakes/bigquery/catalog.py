"""The engine's BigQuery metadata: datasets and tables as BigQuery describes them.

DuckDB knows columns and types; everything else BigQuery keeps (modes, descriptions,
partitioning, clustering, labels, the streaming-buffer horizon) lives here. A file-backed engine
writes it through to a ``$harness`` schema of each project's catalog, so a reopened file has its
metadata back; an in-memory engine keeps it in these objects only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from fakes.bigquery.range_partitioning import RangePartitioning
from fakes.bigquery.sql import TableRef
from fakes.bigquery.types import quote_ident
from fakes.bigquery.views import ViewDefinition
from harness.ports import DatasetInfo
from harness.schema.spec import DatasetSpec, TableSpec

META_SCHEMA = "$harness"
#: Hidden storage column: until when a row streamed by insertAll sits in the streaming buffer.
STREAM_COL = "$hx_stream_until"
#: Hidden storage column of an ingestion-time partitioned table: when the row arrived.
INGEST_COL = "$hx_ingest_time"


@dataclass
class Dataset:
    project: str
    spec: DatasetSpec
    created: datetime
    modified: datetime
    kept: dict[str, Any] = field(default_factory=dict)
    """Resource fields the REST emulator keeps and answers verbatim (``access``, ``friendlyName``...)."""

    def info(self) -> DatasetInfo:
        return DatasetInfo(
            project=self.project,
            dataset_id=self.spec.dataset_id,
            location=self.spec.location,
            description=self.spec.description,
            labels=dict(self.spec.labels),
            created=self.created,
            modified=self.modified,
            default_table_expiration_ms=self.spec.default_table_expiration_ms,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "location": self.spec.location,
                "description": self.spec.description,
                "labels": dict(self.spec.labels),
                "defaultTableExpirationMs": self.spec.default_table_expiration_ms,
                "created": self.created.isoformat(),
                "modified": self.modified.isoformat(),
                "kept": self.kept,
            }
        )

    @classmethod
    def from_json(cls, project: str, dataset_id: str, text: str) -> Dataset:
        body = json.loads(text)
        return cls(
            project=project,
            spec=DatasetSpec(
                dataset_id=dataset_id,
                location=body["location"],
                description=body.get("description"),
                labels=body.get("labels") or {},
                default_table_expiration_ms=body.get("defaultTableExpirationMs"),
            ),
            created=datetime.fromisoformat(body["created"]),
            modified=datetime.fromisoformat(body["modified"]),
            kept=body.get("kept") or {},
        )


@dataclass
class Table:
    ref: TableRef
    spec: TableSpec
    created: datetime
    modified: datetime
    buffer_until: datetime | None = None
    view: ViewDefinition | None = None
    """A view's or materialized view's query (:mod:`fakes.bigquery.views`); None for a table."""
    range_partitioning: RangePartitioning | None = None
    expires: datetime | None = None
    """``expirationTime``: from this moment of the injected clock the table is gone."""
    kept: dict[str, Any] = field(default_factory=dict)
    """Resource fields the REST emulator keeps and answers verbatim (``encryptionConfiguration``...)."""

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires

    def to_json(self) -> str:
        body = self.spec.to_api(self.ref.project, self.ref.dataset)
        body["view"] = self.view.to_json() if self.view else None
        body["rangePartitioning"] = self.range_partitioning.to_api() if self.range_partitioning else None
        body["created"] = self.created.isoformat()
        body["modified"] = self.modified.isoformat()
        body["bufferUntil"] = self.buffer_until.isoformat() if self.buffer_until else None
        body["expires"] = self.expires.isoformat() if self.expires else None
        body["kept"] = self.kept
        return json.dumps(body)

    @classmethod
    def from_json(cls, ref: TableRef, text: str) -> Table:
        body = json.loads(text)
        buffer_until = body.get("bufferUntil")
        expires = body.get("expires")
        return cls(
            ref=ref,
            spec=TableSpec.from_api(body),
            created=datetime.fromisoformat(body["created"]),
            modified=datetime.fromisoformat(body["modified"]),
            buffer_until=datetime.fromisoformat(buffer_until) if buffer_until else None,
            view=ViewDefinition.from_json(body["view"]) if body.get("view") else None,
            range_partitioning=RangePartitioning.from_api(body.get("rangePartitioning")),
            expires=datetime.fromisoformat(expires) if expires else None,
            kept=body.get("kept") or {},
        )


class MetadataStore:
    """Write-through persistence of one project's metadata inside its DuckDB catalog."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, project: str, catalog: str) -> None:
        self._conn = conn
        self._project = project
        self._meta = f"{quote_ident(catalog)}.{quote_ident(META_SCHEMA)}"
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self._meta}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {self._meta}.datasets (dataset_id VARCHAR, body VARCHAR)")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self._meta}.tables "
            "(dataset_id VARCHAR, table_id VARCHAR, body VARCHAR)"
        )

    def load(self) -> tuple[list[Dataset], list[Table]]:
        datasets = [
            Dataset.from_json(self._project, dataset_id, body)
            for dataset_id, body in self._conn.execute(
                f"SELECT dataset_id, body FROM {self._meta}.datasets"
            ).fetchall()
        ]
        tables = [
            Table.from_json(TableRef(self._project, dataset_id, table_id), body)
            for dataset_id, table_id, body in self._conn.execute(
                f"SELECT dataset_id, table_id, body FROM {self._meta}.tables"
            ).fetchall()
        ]
        return datasets, tables

    def save_dataset(self, dataset: Dataset) -> None:
        self.forget_dataset(dataset.spec.dataset_id, tables=False)
        self._conn.execute(
            f"INSERT INTO {self._meta}.datasets VALUES (?, ?)", [dataset.spec.dataset_id, dataset.to_json()]
        )

    def save_table(self, table: Table) -> None:
        self.forget_table(table.ref.dataset, table.ref.table)
        self._conn.execute(
            f"INSERT INTO {self._meta}.tables VALUES (?, ?, ?)",
            [table.ref.dataset, table.ref.table, table.to_json()],
        )

    def forget_table(self, dataset_id: str, table_id: str) -> None:
        self._conn.execute(
            f"DELETE FROM {self._meta}.tables WHERE dataset_id = ? AND table_id = ?", [dataset_id, table_id]
        )

    def forget_dataset(self, dataset_id: str, *, tables: bool = True) -> None:
        if tables:
            self._conn.execute(f"DELETE FROM {self._meta}.tables WHERE dataset_id = ?", [dataset_id])
        self._conn.execute(f"DELETE FROM {self._meta}.datasets WHERE dataset_id = ?", [dataset_id])
