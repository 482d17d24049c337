"""Copy jobs (``configuration.copy``): tables copied, snapshotted, cloned and restored.

One or several ``sourceTables`` go into ``destinationTable`` under the create and write
dispositions, in one engine statement per source (the rows leave no streaming buffer behind).
``operationType`` SNAPSHOT and CLONE copy one table and remember what the destination is
(:class:`TableKinds`), so ``tables.get`` shows ``type: SNAPSHOT`` with its ``snapshotDefinition``,
or a ``cloneDefinition``; RESTORE copies a snapshot back into a standard table.

A configuration the emulator cannot honour is refused by ``jobs.insert`` with a 400 that names the
field; a failure BigQuery reports on the job (a missing table, a non-empty destination,
incompatible schemas) is stored on the job, as BigQuery does.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    CloneWriteDisposition,
    DestinationNotEmpty,
    IncompatibleCopySchemas,
    RequiredParameterMissing,
    TableNotFound,
    UnsupportedByFake,
)
from fakes.bigquery.job_refs import check_job_fields, table_ref
from fakes.bigquery.models import Job, JobStore
from fakes.bigquery.sql import TableRef
from fakes.bigquery.table_history import history_of
from harness.ports import TableInfo, WarehouseError
from harness.schema.spec import FieldSpec

_FIELDS = frozenset(
    (
        "sourceTable",
        "sourceTables",
        "destinationTable",
        "createDisposition",
        "writeDisposition",
        "operationType",
    )
)
_OPERATIONS = ("COPY", "SNAPSHOT", "CLONE", "RESTORE")
_CREATE = ("CREATE_IF_NEEDED", "CREATE_NEVER")
_WRITE = ("WRITE_EMPTY", "WRITE_TRUNCATE", "WRITE_APPEND")


@dataclass(frozen=True)
class TableKind:
    """What a snapshot or clone was made from; ``created`` ties it to one incarnation of the
    destination, so a table deleted and created again under the same id is a plain table."""

    created: datetime
    operation: str
    base: TableRef
    at: datetime


class TableKinds:
    """Snapshots and clones made by copy jobs, keyed by the destination table."""

    def __init__(self) -> None:
        self._kinds: dict[TableRef, TableKind] = {}
        self._lock = threading.Lock()

    def remember(self, info: TableInfo, operation: str, base: TableRef) -> None:
        ref = TableRef(info.project, info.dataset_id, info.table_id)
        with self._lock:
            self._kinds[ref] = TableKind(info.created, operation, base, info.created)

    def forget(self, ref: TableRef) -> None:
        """The table was deleted: a table created again under its id is a plain table."""
        with self._lock:
            self._kinds.pop(ref, None)

    def overlay(self, info: TableInfo, resource: dict[str, Any]) -> dict[str, Any]:
        """``resource`` (a tables.get answer) with the snapshot's type or the clone's definition."""
        kind = self._kinds.get(TableRef(info.project, info.dataset_id, info.table_id))
        if kind is None or kind.created != info.created:
            return resource
        base = {"projectId": kind.base.project, "datasetId": kind.base.dataset, "tableId": kind.base.table}
        moment = kind.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if kind.operation == "SNAPSHOT":
            resource["type"] = "SNAPSHOT"
            resource["snapshotDefinition"] = {"baseTableReference": base, "snapshotTime": moment}
        else:
            resource["cloneDefinition"] = {"baseTableReference": base, "cloneTime": moment}
        return resource


def _choice(config: Mapping[str, Any], name: str, allowed: Sequence[str], default: str) -> str:
    value = config.get(name) or default
    if value not in allowed:
        raise UnsupportedByFake(f"copy.{name} {value!r} is not one of {', '.join(allowed)}", reason="invalid")
    return str(value)


def _shape(schema: Sequence[FieldSpec]) -> list[Any]:
    """A schema as copies compare it: names (case-insensitive), types, modes and nesting."""

    def strip(field: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in field.items() if k in ("name", "type", "mode")}
        out["name"] = str(out.get("name", "")).lower()
        out.setdefault("mode", "NULLABLE")
        if field.get("fields"):
            out["fields"] = [strip(f) for f in field["fields"]]
        return out

    return [strip(f.to_api()) for f in schema]


def _dotted(ref: TableRef) -> str:
    return f"{ref.project}:{ref.dataset}.{ref.table}"


class CopyJobs:
    """Runs copy jobs on the engine and records them in the job store."""

    def __init__(self, engine: BigQueryEngine, jobs: JobStore, kinds: TableKinds) -> None:
        self.engine = engine
        self.jobs = jobs
        self.kinds = kinds

    def run(
        self, project: str, configuration: dict[str, Any], job_id: str | None, location: str | None
    ) -> Job:
        """Check the configuration (a 400 for what the emulator cannot honour), then run the copy
        as a stored job that is DONE with its statistics or its error."""
        check_job_fields(configuration, "copy")
        config = configuration["copy"]
        if not isinstance(config, Mapping):
            raise UnsupportedByFake("configuration.copy must be an object", reason="invalid")
        for name in config:
            if name not in _FIELDS:
                raise UnsupportedByFake(f"The emulator does not support copy.{name}", reason="invalid")
        sources = [table_ref(s, "sourceTables", project) for s in config.get("sourceTables") or []]
        if config.get("sourceTable") is not None:
            sources.insert(0, table_ref(config["sourceTable"], "sourceTable", project))
        if not sources:
            raise RequiredParameterMissing(name="sourceTable")
        destination = table_ref(config.get("destinationTable"), "destinationTable", project)
        operation = _choice(config, "operationType", _OPERATIONS, "COPY")
        create = _choice(config, "createDisposition", _CREATE, "CREATE_IF_NEEDED")
        write = _choice(config, "writeDisposition", _WRITE, "WRITE_EMPTY")
        if operation != "COPY" and len(sources) > 1:
            raise UnsupportedByFake(f"A {operation} copies exactly one source table", reason="invalid")
        if operation in ("SNAPSHOT", "CLONE") and write != "WRITE_EMPTY":
            raise CloneWriteDisposition(disposition=write)
        job = self.jobs.accept(project, configuration, job_id, location)
        try:
            with history_of(self.engine).readable(sources) as readable:  # t@ms: a deleted table
                job.statistics = {"copy": self._copy(readable, destination, operation, create, write)}
        except WarehouseError as exc:
            job.error = exc
        return job

    def _copy(
        self, sources: list[TableRef], destination: TableRef, operation: str, create: str, write: str
    ) -> dict[str, str]:
        engine = self.engine
        infos = [engine.get_table(s.project, s.dataset, s.table) for s in sources]
        first = infos[0]
        for other, ref in zip(infos[1:], sources[1:], strict=True):
            if _shape(other.spec.schema) != _shape(first.spec.schema):
                raise IncompatibleCopySchemas(first=_dotted(sources[0]), second=_dotted(ref))
        if destination in sources and write == "WRITE_TRUNCATE":
            if len(sources) > 1:
                raise UnsupportedByFake(
                    "The emulator cannot truncate a destination that is also one of several sources",
                    reason="invalid",
                )
            return {"copiedRows": str(first.num_rows), "copiedLogicalBytes": "0"}  # onto itself
        existing = self._existing(destination)
        if existing is None and create == "CREATE_NEVER":
            raise TableNotFound(
                project=destination.project, dataset_id=destination.dataset, table_id=destination.table
            )
        if existing is not None:
            if write == "WRITE_EMPTY" and (existing.num_rows or operation in ("SNAPSHOT", "CLONE")):
                raise DestinationNotEmpty(
                    project=destination.project, dataset_id=destination.dataset, table_id=destination.table
                )
            if write == "WRITE_APPEND" and _shape(existing.spec.schema) != _shape(first.spec.schema):
                raise IncompatibleCopySchemas(first=_dotted(sources[0]), second=_dotted(destination))
            if write == "WRITE_TRUNCATE":
                engine.delete_table(destination.project, destination.dataset, destination.table)
                existing = None
        if existing is None:
            spec = replace(first.spec, table_id=destination.table)
            created = engine.create_table(destination.project, destination.dataset, spec)
            if operation in ("SNAPSHOT", "CLONE"):
                self.kinds.remember(created, operation, sources[0])
        rows = sum(engine.copy_rows(source, destination) for source in sources)
        logical = sum(engine.num_bytes(i.project, i.dataset_id, i.table_id) for i in infos if i.num_rows)
        return {"copiedRows": str(rows), "copiedLogicalBytes": str(logical)}

    def _existing(self, ref: TableRef) -> TableInfo | None:
        try:
            return self.engine.get_table(ref.project, ref.dataset, ref.table)
        except TableNotFound:
            return None
