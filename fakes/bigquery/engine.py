"""The BigQuery engine on DuckDB: one engine, used by the in-process fake and the REST emulator.

Layout: each BigQuery project is an attached DuckDB catalog, each dataset a schema. A table is
stored as ``<table>$data`` (``$`` cannot occur in a BigQuery table id, so it never collides) with
hidden bookkeeping columns, and exposed under its own name as a view of the user columns, so
``SELECT *`` sees exactly the BigQuery schema. BigQuery metadata (modes, descriptions,
partitioning, clustering, labels) lives in a ``$harness`` schema of the same catalog, so a
file-backed engine reopens with data and metadata intact.

BigQuery's rules are enforced here, once, with BigQuery's status, reason and message: the schema
rules of :mod:`harness.schema.rules`, the streaming buffer (rows from ``insertAll`` refuse
UPDATE/DELETE/MERGE for 30 minutes of the injected clock), partition expiration and
``requirePartitionFilter``. DuckDB errors never leave the engine as they are.

Two modules make the engine: this one owns storage and the catalog (projects, datasets, tables,
rows); :mod:`fakes.bigquery.queries` runs statements over it; what a schema update may change is
:mod:`fakes.bigquery.schema_changes`. This half stays over ~400 lines because datasets, tables
and rows share one DuckDB connection, one lock and the catalog dictionaries; cutting it further
would hand those private members to more modules.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from fakes.bigquery import (
    ingestion_time,
    intervals,
    lazy_functions,
)
from fakes.bigquery import partition_decorators as decorators
from fakes.bigquery.atomic import Writes
from fakes.bigquery.catalog import INGEST_COL, STREAM_COL, Dataset, MetadataStore, Table
from fakes.bigquery.collation import column_collation_sql
from fakes.bigquery.databases import PreparedDatabases
from fakes.bigquery.deadlines import Deadlines, TimerDeadlines
from fakes.bigquery.exceptions import (
    CannotListView,
    DatasetAlreadyExists,
    DatasetInUse,
    DatasetNotFound,
    InsertRowsRejected,
    TableAlreadyExists,
    TableNotFound,
    ViewNotWritable,
    raise_first,
)
from fakes.bigquery.limits_runtime import RuntimeLimits
from fakes.bigquery.partition_decorators import split as split_decorator
from fakes.bigquery.partitions import expired_rows_filter
from fakes.bigquery.queries import StatementRunner
from fakes.bigquery.range_partitioning import RangePartitioning, validate_range
from fakes.bigquery.readers import ReaderPool
from fakes.bigquery.results import map_duckdb_error
from fakes.bigquery.routines import RoutineCatalog
from fakes.bigquery.schema_changes import schema_updates
from fakes.bigquery.sql import (
    ParsedStatement,
    StorageName,
    TableRef,
    Translation,
)
from fakes.bigquery.storage_columns import to_columns
from fakes.bigquery.table_sizes import TableSizes
from fakes.bigquery.types import (
    duck_type,
    quote_ident,
    row_from_storage,
)
from fakes.bigquery.view_tables import ViewTables
from harness.ports import (
    Clock,
    DatasetInfo,
    StreamingBufferInfo,
    TableInfo,
)
from harness.schema import rules
from harness.schema.spec import DatasetSpec, FieldMode, FieldSpec, TableSpec

STREAMING_BUFFER_TTL = timedelta(minutes=30)
DATA_SUFFIX = "$data"


class BigQueryEngine(ViewTables, StatementRunner):
    """BigQuery semantics over one DuckDB connection; thread-safe (one lock, DuckDB is fast).

    This half owns storage and the catalog (projects, datasets, tables, rows); running statements
    is :class:`~fakes.bigquery.queries.StatementRunner`'s.
    """

    def __init__(
        self,
        clock: Clock,
        path: str | Path | None = None,
        *,
        limits: RuntimeLimits | None = None,
        deadlines: Deadlines | None = None,
    ) -> None:
        """``limits`` bound memory and result size (from the environment when None);
        ``deadlines`` time ``jobTimeoutMs`` (real time when None)."""
        self.clock = clock
        self.path = Path(path) if path is not None else None
        # In memory, a kept database (fakes.bigquery.databases); on disk, one of its own.
        self._base = _DATABASES.take() if self.path is None else duckdb.connect(":memory:")
        self._conn = self._base.cursor()
        _prepare_reader(self._conn)
        self._routines = RoutineCatalog()
        self._limits = limits or RuntimeLimits.from_env()
        self._limits.apply(self._conn)
        self._deadlines: Deadlines = deadlines or TimerDeadlines()
        self._readers = ReaderPool(self._conn, _prepare_reader)
        self._lock = threading.RLock()
        self._catalogs: dict[str, str] = {}
        self._datasets: dict[tuple[str, str], Dataset] = {}
        self._tables: dict[tuple[str, str, str], Table] = {}
        self._stores: dict[str, MetadataStore] = {}
        self._graves: set[str] = set()
        # Weakly: a reference cycle would keep an engine nobody closed, and so its database and
        # files, open until the cyclic collector runs, where dropping it closes them at once.
        storage_sql = weakref.WeakMethod(self._storage_sql)

        def storage_of(ref: TableRef) -> str:
            method = storage_sql()
            if method is None:  # the engine is gone: nothing holds its sizes any more
                raise RuntimeError("the engine of these table sizes was dropped")
            return method(ref)

        self._sizes = TableSizes(self._conn, self._lock, storage_of)
        self._writes = Writes(self._conn, self._datasets, self._tables, on_rollback=self._sizes.forget_all)
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            for file in sorted(self.path.glob("*.duckdb")):
                self._attach(file.stem.replace("~", ":"))

    # ------------------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        with self._lock:
            for grave in self._graves:
                self._conn.execute(f"DROP TABLE IF EXISTS {grave}")
            self._readers.close()
            self._conn.close()
            if self.path is None:
                _DATABASES.give_back(self._base)
            else:
                self._base.close()

    def grave(self, name: str) -> str:
        """The qualified name of a table for rows kept outside the projects' catalogs (a deleted
        table's or dataset's, for undelete and snapshot decorators), in the database's own
        catalog. The engine drops it when it closes, so an in-memory database goes back to
        :mod:`fakes.bigquery.databases` as it was prepared and is lent to the next engine."""
        qualified = f"memory.main.{quote_ident(name)}"
        self._graves.add(qualified)
        return qualified

    def reset(self) -> None:
        """Drop every project, dataset and table (moto's ``reset()``): a clean engine for a test."""
        with self._lock:
            for project in list(self._catalogs):
                for p, d in [key for key in self._datasets if key[0] == project]:
                    self.delete_dataset(p, d, delete_contents=True)

    def _catalog(self, project: str) -> str:
        catalog = self._catalogs.get(project)
        return catalog if catalog is not None else self._attach(project)

    def _attach(self, project: str) -> str:
        catalog = f"bq:{project}"
        target = ":memory:" if self.path is None else str(self.path / f"{project.replace(':', '~')}.duckdb")
        self._conn.execute(f"ATTACH {_sql_string(target)} AS {quote_ident(catalog)}")
        self._catalogs[project] = catalog
        if self.path is not None:
            store = MetadataStore(self._conn, project, catalog)
            self._stores[project] = store
            datasets, tables = store.load()
            self._datasets.update({(project, d.spec.dataset_id): d for d in datasets})
            self._tables.update({(project, t.ref.dataset, t.ref.table): t for t in tables})
        return catalog

    def _save_dataset(self, dataset: Dataset) -> None:
        if store := self._stores.get(dataset.project):
            store.save_dataset(dataset)

    def _save_table(self, table: Table) -> None:
        if store := self._stores.get(table.ref.project):
            store.save_table(table)

    # ------------------------------------------------------------------------------- datasets

    def create_dataset(
        self,
        project: str,
        spec: DatasetSpec,
        *,
        exists_ok: bool = False,
        kept: Mapping[str, Any] | None = None,
    ) -> DatasetInfo:
        """``kept``: resource fields the REST emulator answers back as they were sent."""
        raise_first(rules.validate_dataset_id(spec.dataset_id))
        with self._lock:
            existing = self._datasets.get((project, spec.dataset_id))
            if existing is not None:
                if exists_ok:
                    return existing.info()
                raise DatasetAlreadyExists(project=project, dataset_id=spec.dataset_id)
            catalog = self._catalog(project)
            with self._atomic():
                self._conn.execute(
                    f"CREATE SCHEMA {quote_ident(catalog)}.{quote_ident(_case_safe(spec.dataset_id))}"
                )
                now = self.clock.now()
                dataset = Dataset(
                    project=project, spec=spec, created=now, modified=now, kept=dict(kept or {})
                )
                self._datasets[(project, spec.dataset_id)] = dataset
                self._save_dataset(dataset)
                return dataset.info()

    def get_dataset(self, project: str, dataset_id: str) -> DatasetInfo:
        with self._lock:
            return self._dataset(project, dataset_id).info()

    def list_datasets(self, project: str) -> list[DatasetInfo]:
        with self._lock:
            return [d.info() for (p, _), d in sorted(self._datasets.items()) if p == project]

    def patch_dataset(
        self,
        project: str,
        dataset_id: str,
        *,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        spec: DatasetSpec | None = None,
        kept: Mapping[str, Any] | None = None,
    ) -> DatasetInfo:
        """``spec`` replaces the whole spec (``datasets.update``); ``kept`` replaces the kept fields."""
        with self._lock, self._atomic():
            dataset = self._dataset(project, dataset_id)
            new = spec if spec is not None else dataset.spec
            if description is not None:
                new = replace(new, description=description)
            if labels is not None:
                new = replace(new, labels=dict(labels))
            dataset.spec = new
            if kept is not None:
                dataset.kept = dict(kept)
            dataset.modified = self.clock.now()
            self._save_dataset(dataset)
            return dataset.info()

    def dataset_kept(self, project: str, dataset_id: str) -> dict[str, Any]:
        """The resource fields the REST emulator keeps for a dataset."""
        with self._lock:
            return dict(self._dataset(project, dataset_id).kept)

    def delete_dataset(
        self, project: str, dataset_id: str, *, delete_contents: bool = False, not_found_ok: bool = False
    ) -> None:
        with self._lock:
            if (project, dataset_id) not in self._datasets:
                if not_found_ok:
                    return
                raise DatasetNotFound(project=project, dataset_id=dataset_id)
            self._expire_tables(project, dataset_id)
            tables = [key for key in self._tables if key[:2] == (project, dataset_id)]
            if tables and not delete_contents:
                raise DatasetInUse(project=project, dataset_id=dataset_id)
            catalog = quote_ident(self._catalog(project))
            with self._atomic():
                self._conn.execute(f"DROP SCHEMA {catalog}.{quote_ident(_case_safe(dataset_id))} CASCADE")
                if store := self._stores.get(project):
                    store.forget_dataset(dataset_id)
                for key in tables:
                    self._sizes.changed(self._tables.pop(key).ref)
                del self._datasets[(project, dataset_id)]
            self._routines.drop_dataset(project, dataset_id)

    def _dataset(self, project: str, dataset_id: str) -> Dataset:
        dataset = self._datasets.get((project, dataset_id))
        if dataset is None:
            raise DatasetNotFound(project=project, dataset_id=dataset_id)
        return dataset

    # --------------------------------------------------------------------------------- tables

    def create_table(
        self,
        project: str,
        dataset_id: str,
        spec: TableSpec,
        *,
        exists_ok: bool = False,
        range_partitioning: RangePartitioning | None = None,
        expires: datetime | None = None,
        kept: Mapping[str, Any] | None = None,
    ) -> TableInfo:
        """A table with no columns is valid (a patch can add them); ``expires`` is its expirationTime.
        The dataset's ``defaultTableExpirationMs`` is kept, not applied: the harness's run datasets
        set one, and its janitor tests expect their tables to outlive it."""
        # requirePartitionFilter needs a partitioning; integer-range is one the rules do not see.
        raise_first(
            rules.validate_table(
                replace(spec, require_partition_filter=False) if range_partitioning else spec
            )
        )
        if range_partitioning is not None:
            validate_range(range_partitioning, spec)
        with self._lock:
            self._dataset(project, dataset_id)
            existing = self._live_table(project, dataset_id, spec.table_id)
            if existing is not None:
                if exists_ok:
                    return self._info(existing)
                raise TableAlreadyExists.of(
                    "tableId", project=project, dataset_id=dataset_id, table_id=spec.table_id
                )
            ref = TableRef(project, dataset_id, spec.table_id)
            columns = [
                f"{quote_ident(f.name)} {duck_type(f)}{column_collation_sql(f)}{_not_null(f)}"
                for f in spec.schema
            ]
            columns.append(f"{quote_ident(STREAM_COL)} TIMESTAMPTZ")
            if spec.time_partitioning is not None and spec.time_partitioning.field is None:
                columns.append(f"{quote_ident(INGEST_COL)} TIMESTAMPTZ")
            now = self.clock.now()
            table = Table(
                ref=ref,
                spec=spec,
                created=now,
                modified=now,
                range_partitioning=range_partitioning,
                expires=expires,
                kept=dict(kept or {}),
            )
            with self._atomic():
                self._conn.execute(f"CREATE TABLE {self._storage_sql(ref)} ({', '.join(columns)})")
                self._sizes.created(table)
                self._create_view(table)
                self._tables[(project, dataset_id, spec.table_id)] = table
                self._save_table(table)
            return TableInfo(project, dataset_id, spec, num_rows=0, created=now, modified=now)

    def get_table(self, project: str, dataset_id: str, table_id: str) -> TableInfo:
        with self._lock:
            return self._info(self._table(project, dataset_id, table_id))

    def list_tables(self, project: str, dataset_id: str) -> list[TableInfo]:
        with self._lock:
            self._dataset(project, dataset_id)
            self._expire_tables(project, dataset_id)
            keys = sorted(key for key in self._tables if key[:2] == (project, dataset_id))
            return [self._info(self._tables[key]) for key in keys]

    def patch_table(
        self,
        project: str,
        dataset_id: str,
        table_id: str,
        *,
        schema: Sequence[FieldSpec] | None = None,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        require_partition_filter: bool | None = None,
        spec: TableSpec | None = None,
        expires: datetime | bool | None = False,
        kept: Mapping[str, Any] | None = None,
    ) -> TableInfo:
        """Tables can only grow: new columns must be NULLABLE or REPEATED, and a REQUIRED column may
        become NULLABLE, as in BigQuery. ``spec`` replaces the rest of the spec (``tables.update``);
        ``expires`` (``False``: unchanged, ``None``: never) and ``kept`` replace theirs."""
        with self._lock, self._atomic():
            table = self._table(project, dataset_id, table_id)
            new = (
                replace(spec, table_id=table_id, schema=table.spec.schema) if spec is not None else table.spec
            )
            if schema is not None:
                new_schema = tuple(schema)
                update = schema_updates(table.spec, new_schema, project, dataset_id, table_id)
                candidate = replace(new, schema=new_schema)
                raise_first(rules.validate_table(candidate))
                for path, column in update.added:
                    collation = column_collation_sql(column) if len(path) == 1 else ""
                    self._conn.execute(
                        f"ALTER TABLE {self._storage_sql(table.ref)} ADD COLUMN "
                        f"{'.'.join(quote_ident(part) for part in path)} {duck_type(column)}{collation}"
                    )
                for column in update.relaxed:
                    self._conn.execute(
                        f"ALTER TABLE {self._storage_sql(table.ref)} ALTER COLUMN "
                        f"{quote_ident(column.name)} DROP NOT NULL"
                    )
                self._sizes.changed(table.ref)
                new = candidate
            elif spec is not None:
                raise_first(rules.validate_table(new))
            if description is not None:
                new = replace(new, description=description)
            if labels is not None:
                new = replace(new, labels=dict(labels))
            if require_partition_filter is not None:
                new = replace(new, require_partition_filter=require_partition_filter)
            table.spec = new
            if expires is not False:
                table.expires = expires if isinstance(expires, datetime) else None
            if kept is not None:
                table.kept = dict(kept)
            table.modified = self.clock.now()
            if schema is not None:
                self._create_view(table)
            self._save_table(table)
            return self._info(table)

    def table_state(
        self, project: str, dataset_id: str, table_id: str
    ) -> tuple[datetime | None, dict[str, Any]]:
        """A table's expiration and the resource fields the REST emulator keeps for it."""
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            return table.expires, dict(table.kept)

    def delete_table(
        self, project: str, dataset_id: str, table_id: str, *, not_found_ok: bool = False
    ) -> None:
        with self._lock:
            if split_decorator(table_id)[1] is not None:  # a partition: its rows go, the table stays
                table = self._table(project, dataset_id, table_id)
                where, params = self._partition_rows(table, table_id)
                with self._atomic():
                    self._conn.execute(f"DELETE FROM {self._storage_sql(table.ref)}{where}", params)
                    self._sizes.changed(table.ref)
                    table.modified = self.clock.now()
                    self._save_table(table)
                return
            if self._live_table(project, dataset_id, table_id) is None:
                if not_found_ok:
                    return
                self._dataset(project, dataset_id)
                raise TableNotFound(project=project, dataset_id=dataset_id, table_id=table_id)
            self._drop_table(self._tables[(project, dataset_id, table_id)])

    def _drop_table(self, table: Table) -> None:
        with self._atomic():
            del self._tables[(table.ref.project, table.ref.dataset, table.ref.table)]
            self._conn.execute(f"DROP VIEW IF EXISTS {self._view_sql(table.ref)}")
            self._conn.execute(f"DROP VIEW IF EXISTS {self._view_sql(ingestion_time.pseudo_ref(table.ref))}")
            self._conn.execute(f"DROP TABLE {self._storage_sql(table.ref)}")
            self._sizes.changed(table.ref)
            if store := self._stores.get(table.ref.project):
                store.forget_table(table.ref.dataset, table.ref.table)

    def _live_table(self, project: str, dataset_id: str, table_id: str) -> Table | None:
        """The table unless it is absent or its expiration passed (then it is dropped, as BigQuery does)."""
        table = self._tables.get((project, dataset_id, table_id))
        if table is not None and table.expired(self.clock.now()):
            self._drop_table(table)
            return None
        return table

    def _expire_tables(self, project: str, dataset_id: str) -> None:
        for key in [key for key in self._tables if key[:2] == (project, dataset_id)]:
            self._live_table(*key)

    def _atomic(self) -> AbstractContextManager[None]:
        """Storage and catalog writes of one call, all or nothing (:mod:`fakes.bigquery.atomic`)."""
        return self._writes.atomic()

    def truncate(self, project: str, dataset_id: str, table_id: str) -> None:
        """``TRUNCATE TABLE``: BigQuery allows it even while rows sit in the streaming buffer."""
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            self._conn.execute(f"DELETE FROM {self._storage_sql(table.ref)}")
            self._sizes.changed(table.ref)
            table.buffer_until = None
            table.modified = self.clock.now()
            self._save_table(table)

    def _table(self, project: str, dataset_id: str, table_id: str) -> Table:
        """The table, also by a partition decorator's id (``t$20260105``) once that is checked."""
        base, partition = split_decorator(table_id)
        table = self._live_table(project, dataset_id, base)
        if table is None:
            self._dataset(project, dataset_id)
            raise TableNotFound(project=project, dataset_id=dataset_id, table_id=table_id)
        if partition is not None:
            decorators.check(table.ref, table.spec, table.range_partitioning, partition)
        return table

    def _info(self, table: Table) -> TableInfo:
        """The table's resource: rows and the streaming buffer from its kept size
        (:mod:`fakes.bigquery.table_sizes`), the buffer as of the injected clock's now."""
        self._expire_partitions(table)
        size = self._sizes.of(table)
        buffered, oldest = size.buffered(self.clock.now())
        buffer = None
        if oldest is not None:
            buffer = StreamingBufferInfo(
                estimated_rows=buffered, oldest_entry_time=oldest - STREAMING_BUFFER_TTL
            )
        return TableInfo(
            project=table.ref.project,
            dataset_id=table.ref.dataset,
            spec=table.spec,
            num_rows=size.rows,
            created=table.created,
            modified=table.modified,
            streaming_buffer=buffer,
        )

    def _create_view(self, table: Table) -> None:
        """The view of the user columns; a table with no columns has none (DuckDB has no empty view)."""
        if table.view is not None:
            self._refresh_view(table)
            return
        columns = ", ".join(quote_ident(f.name) for f in table.spec.schema)
        view, storage = self._view_sql(table.ref), self._storage_sql(table.ref)
        if not columns:
            self._conn.execute(f"DROP VIEW IF EXISTS {view}")
            return
        self._conn.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT {columns} FROM {storage}")
        if ingestion_time.applies(table.spec):
            pseudo = self._view_sql(ingestion_time.pseudo_ref(table.ref))
            body = ingestion_time.view_sql(table.spec, storage, INGEST_COL)
            self._conn.execute(f"CREATE OR REPLACE VIEW {pseudo} AS {body}")

    def _storage_name(self, ref: TableRef, *, write: bool) -> StorageName:
        suffix = DATA_SUFFIX if write else ""
        table = None if write else self._tables.get((ref.project, ref.dataset, ref.table))
        collated = tuple(f.name for f in table.spec.schema if column_collation_sql(f)) if table else ()
        return StorageName(
            self._catalog(ref.project), _case_safe(ref.dataset), _case_safe(ref.table) + suffix, collated
        )

    def _storage_sql(self, ref: TableRef) -> str:
        name = self._storage_name(ref, write=True)
        return f"{quote_ident(name.catalog)}.{quote_ident(name.schema)}.{quote_ident(name.table)}"

    def _view_sql(self, ref: TableRef) -> str:
        name = self._storage_name(ref, write=False)
        return f"{quote_ident(name.catalog)}.{quote_ident(name.schema)}.{quote_ident(name.table)}"

    # ----------------------------------------------------------------------------------- rows

    def insert_rows(
        self,
        project: str,
        dataset_id: str,
        table_id: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        streaming: bool = False,
    ) -> int:
        """Insert rows all-or-nothing; a bad row fails the call with BigQuery's per-row errors.

        ``streaming`` puts the rows in the streaming buffer, as ``tabledata.insertAll`` does.
        """
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            if table.view is not None:
                raise ViewNotWritable(table=table.ref.dotted, kind=table.view.table_type)
            columns, errors = to_columns(table.spec.schema, rows)
            if errors:
                raise InsertRowsRejected(errors, len(rows))
            if not rows:
                return 0
            now = self.clock.now()
            extra: dict[str, Any] = {}
            if streaming:
                until = now + STREAMING_BUFFER_TTL
                extra[STREAM_COL] = until
                table.buffer_until = until
            if table.spec.time_partitioning is not None and table.spec.time_partitioning.field is None:
                extra[INGEST_COL] = now
            if (partition := split_decorator(table_id)[1]) is not None:
                extra[INGEST_COL] = decorators.ingestion_time(table.ref, table.spec, partition)
            self._append(table, columns, extra)
            table.modified = now
            self._save_table(table)
            return len(rows)

    def _append(self, table: Table, columns: list[list[Any]], extra: Mapping[str, Any]) -> None:
        """Columnar insert: one ``unnest`` per column, far faster than row-at-a-time inserts. One
        row (a meta table's usual write) goes in as VALUES: a fifth cheaper than unnesting lists
        of one, for the same stored values."""
        single = all(len(column) == 1 for column in columns)
        names: list[str] = []
        selects: list[str] = []
        values: dict[str, Any] = {}
        for position, (spec, column) in enumerate(zip(table.spec.schema, columns, strict=True)):
            key = f"c{position}"
            names.append(quote_ident(spec.name))
            if single:
                selects.append(f"CAST(${key} AS {duck_type(spec)})")
                values[key] = column[0]
            else:
                selects.append(f"unnest(CAST(${key} AS {duck_type(spec)}[]))")
                values[key] = column
        for position, (column, value) in enumerate(extra.items()):
            key = f"x{position}"
            names.append(quote_ident(column))
            selects.append(f"CAST(${key} AS TIMESTAMPTZ)")
            values[key] = value
        insert = f"INSERT INTO {self._storage_sql(table.ref)} ({', '.join(names)})"
        sql = f"{insert} VALUES ({', '.join(selects)})" if single else f"{insert} SELECT {', '.join(selects)}"
        written = self._sizes.writing(table)
        returned: list[Any] | None = None
        try:
            returned = self._conn.execute(sql + (written.returning if written else ""), values).fetchall()
        except duckdb.Error as exc:
            raise map_duckdb_error(exc) from exc
        finally:
            if written is None or returned is None:
                self._sizes.changed(table.ref)
            else:
                self._sizes.wrote(written, returned, removed=False)

    def list_rows(
        self,
        project: str,
        dataset_id: str,
        table_id: str,
        *,
        start_index: int = 0,
        max_results: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Rows in insertion order (``tabledata.list``) and the table's total row count."""
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            if table.view is not None:
                raise CannotListView(kind=table.view.table_type)
            self._expire_partitions(table)
            where, params = self._partition_rows(table, table_id)
            storage = self._storage_sql(table.ref)
            total = self._conn.execute(f"SELECT count(*) FROM {storage}{where}", params).fetchone()[0]
            limit = "" if max_results is None else f" LIMIT {int(max_results)}"
            schema = table.spec.schema
            if not schema:
                return [], total
            read = intervals.read_column_sql
            columns = ", ".join(read(quote_ident(f.name), f.type.value, f.is_repeated) for f in schema)
            window = f"ORDER BY rowid{limit} OFFSET {int(start_index)}"
            result = self._conn.execute(f"SELECT {columns} FROM {storage}{where} {window}", params).fetchall()
            return [row_from_storage(schema, values) for values in result], total

    def copy_rows(self, source: TableRef, destination: TableRef) -> int:
        """Append ``source``'s rows to ``destination`` (a copy job), by column name, in one
        statement: the copied rows are not in the streaming buffer."""
        with self._lock:
            src = self._table(source.project, source.dataset, source.table)
            dest = self._table(destination.project, destination.dataset, destination.table)
            self._expire_partitions(src)
            columns = ", ".join(quote_ident(f.name) for f in src.spec.schema)
            sql = f"INSERT INTO {self._storage_sql(dest.ref)} ({columns}) SELECT {columns} FROM "
            try:
                count = self._conn.execute(sql + self._storage_sql(src.ref)).fetchone()[0]
            finally:
                self._sizes.changed(dest.ref)
            dest.modified = self.clock.now()
            self._save_table(dest)
            return int(count)

    def export_rows(self, ref: TableRef, path: str, options: str) -> None:
        """Write a table's rows to ``path`` with DuckDB's ``COPY ... TO`` and ``options`` (an
        extract job)."""
        with self._lock:
            table = self._table(ref.project, ref.dataset, ref.table)
            self._expire_partitions(table)
            view = self._view_sql(table.ref)
            self._conn.execute(f"COPY (SELECT * FROM {view}) TO {_sql_string(path)} ({options})")

    def _partition_rows(self, table: Table, table_id: str) -> tuple[str, list[Any]]:
        """`` WHERE ...`` matching the rows of a decorated id's partition; nothing undecorated."""
        partition = split_decorator(table_id)[1]
        if partition is None:
            return "", []
        condition, params = decorators.rows_filter(
            table.spec, table.range_partitioning, partition, INGEST_COL
        )
        return f" WHERE {condition}", params

    # --------------------------------------------------------------- macros and Python functions

    def _prepare(
        self, statement: ParsedStatement, params: dict[str, Any], time_zone: str | None = None
    ) -> tuple[list[Table], Table | None, Translation, dict[str, Any]]:
        """The statement prepared (:class:`~fakes.bigquery.queries.StatementRunner`), and the
        macros and Python functions its translation names created: every statement, a view's
        query too, is prepared here before its DuckDB SQL runs (:mod:`fakes.bigquery.lazy_functions`)."""
        prepared = super()._prepare(statement, params, time_zone)
        lazy_functions.ensure(self._base, prepared[2].sql)
        return prepared

    def _describe(
        self, duck_sql: str, placeholders: frozenset[str], params: dict[str, Any]
    ) -> list[tuple[str, str]]:
        """The columns of a DuckDB query translation binds midway (set operations), its macros
        and Python functions created first."""
        lazy_functions.ensure(self._base, duck_sql)
        return super()._describe(duck_sql, placeholders, params)

    # ------------------------------------------------------------------------- BigQuery rules

    def _expire_partitions(self, table: Table) -> None:
        """Delete partitions whose end + expiration has passed on the injected clock."""
        expired = expired_rows_filter(table.spec, self.clock.now(), ingest_column=INGEST_COL)
        if expired is not None:
            condition, params = expired
            sql = f"DELETE FROM {self._storage_sql(table.ref)} WHERE {condition}"
            if self._conn.execute(sql, params).fetchone()[0]:
                self._sizes.changed(table.ref)


# ------------------------------------------------------------------------------------ helpers


def _case_safe(name: str) -> str:
    """DuckDB names are case-insensitive, BigQuery's dataset and table ids are not: ``t`` and ``T``
    get distinct storage names (``#`` cannot occur in a BigQuery id)."""
    return f"{name}#{hashlib.sha1(name.encode('utf-8')).hexdigest()[:8]}"


_DATABASES = PreparedDatabases(lambda base: None)
"""Kept in-memory databases: each starts bare, and keeps the macros and Python functions its
statements named (:mod:`fakes.bigquery.lazy_functions`) for the next engine."""


def _prepare_reader(cursor: duckdb.DuckDBPyConnection) -> None:
    """What a read cursor does not share with the engine's connection: the session zone (the
    macros and the Python functions live in the shared catalog)."""
    cursor.execute("SET TimeZone = 'UTC'")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _not_null(spec: FieldSpec) -> str:
    return " NOT NULL" if spec.mode is FieldMode.REQUIRED else ""
