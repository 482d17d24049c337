"""``datasets.delete`` that keeps what it deletes for the time travel window, and ``datasets.undelete``.

BigQuery keeps a deleted dataset (its tables, rows, views and routines) for the dataset's time
travel window, ``maxTimeTravelHours`` (168 hours, seven days, unless set), and ``datasets.undelete``
brings it back as it was: the last deleted version, or the one deleted at ``deletionTime``. Here a
REST delete copies each table's storage into a graveyard table of the engine's in-memory database
first (with the column definitions DuckDB reports, so NOT NULL and collations come back), and the
undelete recreates the schema, the storage and the views and puts the catalog entries back. The
window runs on the engine's injected clock.

Undeleting a dataset that exists is BigQuery's 409 for the dataset; one with no deleted version
inside the window is its 404.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fakes.bigquery.catalog import Dataset, Table
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import DatasetAlreadyExists, DatasetNotFound, InvalidArgument
from fakes.bigquery.rest_requests import json_body
from fakes.bigquery.rest_resources import PREFIX
from fakes.bigquery.rest_routes import PlainRoutes
from fakes.bigquery.sql import TableRef
from fakes.bigquery.types import quote_ident
from harness.ports import DatasetInfo

#: BigQuery's default time travel window, when the dataset sets no ``maxTimeTravelHours``.
DEFAULT_WINDOW_HOURS = 168


@dataclass
class _Deleted:
    dataset: Dataset
    tables: list[tuple[Table, str, str]]
    """Each table with its storage's column definitions and its graveyard copy."""
    routines: dict[tuple[str, str, str], Any]
    deleted: datetime

    def window(self) -> timedelta:
        hours = self.dataset.kept.get("maxTimeTravelHours")
        return timedelta(hours=int(hours) if hours else DEFAULT_WINDOW_HOURS)


class DeletedDatasets:
    """The deleted versions of every dataset of one engine, newest last."""

    def __init__(self, engine: BigQueryEngine) -> None:
        self._engine = engine
        self._deleted: dict[tuple[str, str], list[_Deleted]] = {}
        self._names = itertools.count(1)
        self._lock = threading.Lock()

    def delete(self, project: str, dataset_id: str, *, delete_contents: bool) -> None:
        """Delete as the engine does, keeping the dataset for its time travel window."""
        engine = self._engine
        with engine._lock:
            kept = self._keep(project, dataset_id) if (project, dataset_id) in engine._datasets else None
            try:
                engine.delete_dataset(project, dataset_id, delete_contents=delete_contents)
            except BaseException:
                if kept is not None:
                    self._forget(kept)
                raise
            if kept is not None:
                with self._lock:
                    self._deleted.setdefault((project, dataset_id), []).append(kept)

    def undelete(self, project: str, dataset_id: str, deletion_time: datetime | None) -> Dataset:
        """Bring back the last deleted version (or the one deleted at ``deletion_time``)."""
        engine = self._engine
        with engine._lock:
            if (project, dataset_id) in engine._datasets:
                raise DatasetAlreadyExists(project=project, dataset_id=dataset_id)
            version = self._version(project, dataset_id, deletion_time)
            place = engine._storage_name(TableRef(project, dataset_id, "_"), write=True)
            engine._conn.execute(f"CREATE SCHEMA {quote_ident(place.catalog)}.{quote_ident(place.schema)}")
            engine._datasets[(project, dataset_id)] = version.dataset
            engine._save_dataset(version.dataset)
            for table, columns, grave in version.tables:
                storage = engine._storage_sql(table.ref)
                engine._conn.execute(f"CREATE TABLE {storage}{columns}")
                engine._conn.execute(f"INSERT INTO {storage} SELECT * FROM {grave}")
                engine._sizes.changed(table.ref)
                engine._tables[(table.ref.project, table.ref.dataset, table.ref.table)] = table
                engine._save_table(table)
            for table, _, _ in version.tables:  # views last: they may read the other tables
                engine._create_view(table)
            engine._routines.routines.update(version.routines)
            self._forget(version)
            return version.dataset

    def _version(self, project: str, dataset_id: str, deletion_time: datetime | None) -> _Deleted:
        now = self._engine.clock.now()
        with self._lock:
            versions = self._deleted.get((project, dataset_id), [])
            for expired in [v for v in versions if now - v.deleted > v.window()]:
                versions.remove(expired)
                self._forget(expired)
            found = [
                v for v in versions if deletion_time is None or _millis(v.deleted) == _millis(deletion_time)
            ]
            if not found:
                raise DatasetNotFound(project=project, dataset_id=dataset_id)
            versions.remove(found[-1])
            return found[-1]

    def _keep(self, project: str, dataset_id: str) -> _Deleted:
        engine = self._engine
        tables: list[tuple[Table, str, str]] = []
        for key, table in list(engine._tables.items()):
            if key[:2] != (project, dataset_id) or table.expired(engine.clock.now()):
                continue
            name = engine._storage_name(table.ref, write=True)
            row = engine._conn.execute(
                "SELECT sql FROM duckdb_tables() "
                "WHERE database_name = ? AND schema_name = ? AND table_name = ?",
                [name.catalog, name.schema, name.table],
            ).fetchone()
            sql = str(row[0]) if row else ""
            grave = engine.grave(f"bq_deleted_{next(self._names)}")
            engine._conn.execute(f"CREATE TABLE {grave} AS SELECT * FROM {engine._storage_sql(table.ref)}")
            tables.append((copy.deepcopy(table), sql[sql.index("(") :].rstrip(";"), grave))
        routines = {k: v for k, v in engine._routines.routines.items() if k[:2] == (project, dataset_id)}
        dataset = copy.deepcopy(engine._datasets[(project, dataset_id)])
        return _Deleted(dataset, tables, routines, engine.clock.now())

    def _forget(self, version: _Deleted) -> None:
        for _, _, grave in version.tables:
            self._engine._conn.execute(f"DROP TABLE IF EXISTS {grave}")


def register(app: FastAPI, deleted: DeletedDatasets, render: Callable[[DatasetInfo], dict[str, Any]]) -> None:
    """Add ``datasets.undelete`` to the emulator ``app`` (``datasets.delete`` calls ``deleted``);
    ``render`` is the dataset resource's renderer."""
    routes = PlainRoutes(app)

    @routes.post(f"{PREFIX}/projects/{{project}}/datasets/{{dataset_id}}:undelete")
    async def datasets_undelete(project: str, dataset_id: str, request: Request) -> JSONResponse:
        body = await json_body(request)
        when = body.get("deletionTime")
        try:
            moment = datetime.fromisoformat(str(when).replace("Z", "+00:00")) if when else None
        except ValueError as exc:
            raise InvalidArgument(name="deletionTime", value=when) from exc
        return JSONResponse(render(deleted.undelete(project, dataset_id, moment).info()))


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
