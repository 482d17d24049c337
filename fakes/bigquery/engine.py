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
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from cachetools import LRUCache

from fakes.bigquery import ddl
from fakes.bigquery import params as param_types
from fakes.bigquery.catalog import Dataset, MetadataStore, Table
from fakes.bigquery.exceptions import (
    DatasetAlreadyExists,
    DatasetInUse,
    DatasetNotFound,
    FieldModeChanged,
    FieldRemoved,
    FieldTypeChanged,
    InsertRowsRejected,
    NestedFieldsChangeUnsupported,
    QueryDatasetNotFound,
    QueryTableNotFound,
    RequiredFieldAdded,
    StreamingBufferRefusal,
    TableAlreadyExists,
    TableNotFound,
    raise_first,
)
from fakes.bigquery.partitions import check_partition_filters, expired_rows_filter
from fakes.bigquery.results import check_no_null_elements, map_duckdb_error, result_schema
from fakes.bigquery.sql import (
    ParsedStatement,
    StatementKind,
    StorageName,
    TableRef,
    Translation,
    bind,
    parse,
    to_duckdb,
)
from fakes.bigquery.types import (
    ValueRejected,
    duck_type,
    quote_ident,
    row_from_storage,
    row_to_storage,
)
from harness.ports import (
    Clock,
    DatasetInfo,
    QueryResult,
    RowError,
    StreamingBufferInfo,
    TableInfo,
)
from harness.schema import rules
from harness.schema.spec import DatasetSpec, FieldMode, FieldSpec, FieldType, TableSpec

STREAMING_BUFFER_TTL = timedelta(minutes=30)
STREAM_COL = "$hx_stream_until"
INGEST_COL = "$hx_ingest_time"
DATA_SUFFIX = "$data"

_FIXED_BYTES: dict[FieldType, int] = {
    FieldType.INTEGER: 8,
    FieldType.FLOAT: 8,
    FieldType.NUMERIC: 16,
    FieldType.BIGNUMERIC: 32,
    FieldType.BOOLEAN: 1,
    FieldType.DATE: 8,
    FieldType.DATETIME: 8,
    FieldType.TIME: 8,
    FieldType.TIMESTAMP: 8,
    FieldType.INTERVAL: 16,
}


class BigQueryEngine:
    """BigQuery semantics over one DuckDB connection; thread-safe (one lock, DuckDB is fast)."""

    def __init__(self, clock: Clock, path: str | Path | None = None) -> None:
        self.clock = clock
        self.path = Path(path) if path is not None else None
        self._conn = duckdb.connect(":memory:")
        self._conn.execute("SET TimeZone = 'UTC'")
        self._lock = threading.RLock()
        self._catalogs: dict[str, str] = {}
        self._datasets: dict[tuple[str, str], Dataset] = {}
        self._tables: dict[tuple[str, str, str], Table] = {}
        self._stores: dict[str, MetadataStore] = {}
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            for file in sorted(self.path.glob("*.duckdb")):
                self._attach(file.stem.replace("~", ":"))

    # ------------------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        with self._lock:
            self._conn.close()

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

    def create_dataset(self, project: str, spec: DatasetSpec, *, exists_ok: bool = False) -> DatasetInfo:
        raise_first(rules.validate_dataset_id(spec.dataset_id))
        with self._lock:
            existing = self._datasets.get((project, spec.dataset_id))
            if existing is not None:
                if exists_ok:
                    return existing.info()
                raise DatasetAlreadyExists(project=project, dataset_id=spec.dataset_id)
            catalog = self._catalog(project)
            self._conn.execute(
                f"CREATE SCHEMA {quote_ident(catalog)}.{quote_ident(_case_safe(spec.dataset_id))}"
            )
            now = self.clock.now()
            dataset = Dataset(project=project, spec=spec, created=now, modified=now)
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
    ) -> DatasetInfo:
        with self._lock:
            dataset = self._dataset(project, dataset_id)
            spec = dataset.spec
            if description is not None:
                spec = replace(spec, description=description)
            if labels is not None:
                spec = replace(spec, labels=dict(labels))
            dataset.spec = spec
            dataset.modified = self.clock.now()
            self._save_dataset(dataset)
            return dataset.info()

    def delete_dataset(
        self, project: str, dataset_id: str, *, delete_contents: bool = False, not_found_ok: bool = False
    ) -> None:
        with self._lock:
            if (project, dataset_id) not in self._datasets:
                if not_found_ok:
                    return
                raise DatasetNotFound(project=project, dataset_id=dataset_id)
            tables = [key for key in self._tables if key[:2] == (project, dataset_id)]
            if tables and not delete_contents:
                raise DatasetInUse(project=project, dataset_id=dataset_id)
            catalog = quote_ident(self._catalog(project))
            self._conn.execute(f"DROP SCHEMA {catalog}.{quote_ident(_case_safe(dataset_id))} CASCADE")
            if store := self._stores.get(project):
                store.forget_dataset(dataset_id)
            for key in tables:
                del self._tables[key]
            del self._datasets[(project, dataset_id)]

    def _dataset(self, project: str, dataset_id: str) -> Dataset:
        dataset = self._datasets.get((project, dataset_id))
        if dataset is None:
            raise DatasetNotFound(project=project, dataset_id=dataset_id)
        return dataset

    # --------------------------------------------------------------------------------- tables

    def create_table(
        self, project: str, dataset_id: str, spec: TableSpec, *, exists_ok: bool = False
    ) -> TableInfo:
        raise_first(rules.validate_table(spec))
        with self._lock:
            self._dataset(project, dataset_id)
            existing = self._tables.get((project, dataset_id, spec.table_id))
            if existing is not None:
                if exists_ok:
                    return self._info(existing)
                raise TableAlreadyExists.of(
                    "tableId", project=project, dataset_id=dataset_id, table_id=spec.table_id
                )
            ref = TableRef(project, dataset_id, spec.table_id)
            columns = [f"{quote_ident(f.name)} {duck_type(f)}{_not_null(f)}" for f in spec.schema]
            columns.append(f"{quote_ident(STREAM_COL)} TIMESTAMPTZ")
            if spec.time_partitioning is not None and spec.time_partitioning.field is None:
                columns.append(f"{quote_ident(INGEST_COL)} TIMESTAMPTZ")
            self._conn.execute(f"CREATE TABLE {self._storage_sql(ref)} ({', '.join(columns)})")
            now = self.clock.now()
            table = Table(ref=ref, spec=spec, created=now, modified=now)
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
    ) -> TableInfo:
        """Tables can only grow: new columns must be NULLABLE or REPEATED, as in BigQuery."""
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            spec = table.spec
            if schema is not None:
                new_schema = tuple(schema)
                added = _schema_additions(spec, new_schema, project, dataset_id, table_id)
                candidate = replace(spec, schema=new_schema)
                raise_first(rules.validate_table(candidate))
                for column in added:
                    self._conn.execute(
                        f"ALTER TABLE {self._storage_sql(table.ref)} ADD COLUMN "
                        f"{quote_ident(column.name)} {duck_type(column)}"
                    )
                spec = candidate
            if description is not None:
                spec = replace(spec, description=description)
            if labels is not None:
                spec = replace(spec, labels=dict(labels))
            if require_partition_filter is not None:
                spec = replace(spec, require_partition_filter=require_partition_filter)
            table.spec = spec
            table.modified = self.clock.now()
            if schema is not None:
                self._create_view(table)
            self._save_table(table)
            return self._info(table)

    def delete_table(
        self, project: str, dataset_id: str, table_id: str, *, not_found_ok: bool = False
    ) -> None:
        with self._lock:
            key = (project, dataset_id, table_id)
            if key not in self._tables:
                if not_found_ok:
                    return
                self._dataset(project, dataset_id)
                raise TableNotFound(project=project, dataset_id=dataset_id, table_id=table_id)
            table = self._tables.pop(key)
            self._conn.execute(f"DROP VIEW {self._view_sql(table.ref)}")
            self._conn.execute(f"DROP TABLE {self._storage_sql(table.ref)}")
            if store := self._stores.get(project):
                store.forget_table(dataset_id, table_id)

    def truncate(self, project: str, dataset_id: str, table_id: str) -> None:
        """``TRUNCATE TABLE``: BigQuery allows it even while rows sit in the streaming buffer."""
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            self._conn.execute(f"DELETE FROM {self._storage_sql(table.ref)}")
            table.buffer_until = None
            table.modified = self.clock.now()
            self._save_table(table)

    def _table(self, project: str, dataset_id: str, table_id: str) -> Table:
        table = self._tables.get((project, dataset_id, table_id))
        if table is None:
            self._dataset(project, dataset_id)
            raise TableNotFound(project=project, dataset_id=dataset_id, table_id=table_id)
        return table

    def _info(self, table: Table) -> TableInfo:
        self._expire_partitions(table)
        storage = self._storage_sql(table.ref)
        now = self.clock.now()
        count, buffered, oldest = self._conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {quote_ident(STREAM_COL)} > ?), "
            f"min({quote_ident(STREAM_COL)}) FILTER (WHERE {quote_ident(STREAM_COL)} > ?) FROM {storage}",
            [now, now],
        ).fetchone()
        buffer = None
        if buffered:
            buffer = StreamingBufferInfo(
                estimated_rows=buffered, oldest_entry_time=_utc(oldest) - STREAMING_BUFFER_TTL
            )
        return TableInfo(
            project=table.ref.project,
            dataset_id=table.ref.dataset,
            spec=table.spec,
            num_rows=count,
            created=table.created,
            modified=table.modified,
            streaming_buffer=buffer,
        )

    def _create_view(self, table: Table) -> None:
        columns = ", ".join(quote_ident(f.name) for f in table.spec.schema)
        view, storage = self._view_sql(table.ref), self._storage_sql(table.ref)
        self._conn.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT {columns} FROM {storage}")

    def _storage_name(self, ref: TableRef, *, write: bool) -> StorageName:
        suffix = DATA_SUFFIX if write else ""
        return StorageName(
            self._catalog(ref.project), _case_safe(ref.dataset), _case_safe(ref.table) + suffix
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
            schema = table.spec.schema
            converted: list[dict[str, Any]] = []
            errors: list[RowError] = []
            for index, row in enumerate(rows):
                try:
                    converted.append(row_to_storage(schema, row))
                except ValueRejected as exc:
                    errors.append(
                        RowError(index=index, reason="invalid", message=exc.message, location=exc.location)
                    )
            if errors:
                raise InsertRowsRejected(errors, len(rows))
            if not converted:
                return 0
            now = self.clock.now()
            extra: dict[str, Any] = {}
            if streaming:
                until = now + STREAMING_BUFFER_TTL
                extra[STREAM_COL] = until
                table.buffer_until = until
            if table.spec.time_partitioning is not None and table.spec.time_partitioning.field is None:
                extra[INGEST_COL] = now
            self._append(table, converted, extra)
            table.modified = now
            self._save_table(table)
            return len(converted)

    def _append(self, table: Table, rows: list[dict[str, Any]], extra: Mapping[str, Any]) -> None:
        """Columnar insert: one ``unnest`` per column, far faster than row-at-a-time inserts."""
        names: list[str] = []
        selects: list[str] = []
        values: dict[str, Any] = {}
        for position, spec in enumerate(table.spec.schema):
            key = f"c{position}"
            names.append(quote_ident(spec.name))
            selects.append(f"unnest(CAST(${key} AS {duck_type(spec)}[]))")
            values[key] = [row[spec.name] for row in rows]
        for position, (column, value) in enumerate(extra.items()):
            key = f"x{position}"
            names.append(quote_ident(column))
            selects.append(f"CAST(${key} AS TIMESTAMPTZ)")
            values[key] = value
        sql = f"INSERT INTO {self._storage_sql(table.ref)} ({', '.join(names)}) SELECT {', '.join(selects)}"
        try:
            self._conn.execute(sql, values)
        except duckdb.Error as exc:
            raise map_duckdb_error(exc) from exc

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
            self._expire_partitions(table)
            total = self._conn.execute(f"SELECT count(*) FROM {self._storage_sql(table.ref)}").fetchone()[0]
            limit = "" if max_results is None else f" LIMIT {int(max_results)}"
            columns = ", ".join(quote_ident(f.name) for f in table.spec.schema)
            window = f"ORDER BY rowid{limit} OFFSET {int(start_index)}"
            result = self._conn.execute(
                f"SELECT {columns} FROM {self._storage_sql(table.ref)} {window}"
            ).fetchall()
            schema = table.spec.schema
            return [row_from_storage(schema, values) for values in result], total

    # ---------------------------------------------------------------------------------- query

    def query(self, project: str, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Run one BigQuery SQL statement: SELECT, DML or the DDL the fake supports."""
        params = dict(params or {})
        with self._lock:
            statement = _parse_cached(sql, project)
            if statement.kind.is_ddl:
                return ddl.run(self, project, statement)
            referenced = [self._resolve(ref) for ref in statement.tables]
            target = self._resolve(statement.target) if statement.target else None
            tables = referenced + ([target] if target else [])
            for table in tables:
                self._expire_partitions(table)
            check_partition_filters(statement, lambda ref: self._resolve(ref).spec)
            translation = self._translate(statement, target)
            duck_params = {
                name: param_types.to_duckdb(value)
                for name, value in bind(statement, translation, params, self.clock.now()).items()
            }
            duck_sql = translation.sql
            if statement.kind is StatementKind.SELECT:
                return self._select(statement, duck_sql, duck_params, referenced)
            assert target is not None
            return self._dml(statement, duck_sql, duck_params, target, referenced)

    def dry_run(self, project: str, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Validate a statement and estimate it without running it (``dryRun``): the same parse,
        table, parameter and partition-filter checks as :meth:`query`, DuckDB's binder for names
        and types, the result schema of a SELECT and ``totalBytesProcessed`` of the tables as
        they are. Nothing is written, and errors that only rows can raise (division by zero, a
        bad cast of a value) are not found, as in BigQuery."""
        params = dict(params or {})
        with self._lock:
            statement = _parse_cached(sql, project)
            if statement.kind.is_ddl:
                return QueryResult(rows=[], statement_type=statement.kind.value, bytes_processed=0)
            referenced = [self._resolve(ref) for ref in statement.tables]
            target = self._resolve(statement.target) if statement.target else None
            for table in referenced + ([target] if target else []):
                self._expire_partitions(table)
            check_partition_filters(statement, lambda ref: self._resolve(ref).spec)
            translation = self._translate(statement, target)
            duck_params = {
                name: param_types.to_duckdb(value)
                for name, value in bind(statement, translation, params, self.clock.now()).items()
            }
            schema: tuple[FieldSpec, ...] = ()
            try:
                if statement.kind is StatementKind.SELECT:
                    relation = self._conn.sql(translation.sql, params=duck_params)
                    description = list(zip(relation.columns, relation.types, strict=True))
                    schema = result_schema(description, [t.spec.schema for t in referenced])
                else:
                    self._conn.execute(f"EXPLAIN {translation.sql}", duck_params)
            except duckdb.Error as exc:
                raise map_duckdb_error(exc) from exc
            scanned = referenced + ([target] if target and statement.kind is not StatementKind.INSERT else [])
            return QueryResult(
                rows=[],
                schema=schema,
                statement_type=statement.kind.value,
                bytes_processed=self._bytes_estimate(statement, scanned)(),
            )

    def _translate(self, statement: ParsedStatement, target: Table | None) -> Translation:
        """Cached by SQL text (and, for a column-less INSERT, the target's current columns)."""
        columns = None
        if statement.kind is StatementKind.INSERT and target is not None and not statement.insert_columns:
            columns = target.spec.column_names
        key = (statement.sql, statement.default_project, columns)
        with _CACHE_LOCK:
            translation = _TRANSLATIONS.get(key)
        if translation is None:
            source = _with_insert_columns(statement, columns) if columns else statement
            translation = to_duckdb(source, map_table=lambda ref, write: self._storage_name(ref, write=write))
            with _CACHE_LOCK:
                _TRANSLATIONS[key] = translation
        return translation

    def _resolve(self, ref: TableRef) -> Table:
        table = self._tables.get((ref.project, ref.dataset, ref.table))
        if table is not None:
            return table
        dataset = self._datasets.get((ref.project, ref.dataset))
        if dataset is None:
            raise QueryDatasetNotFound(project=ref.project, dataset_id=ref.dataset)
        raise QueryTableNotFound(
            project=ref.project, dataset_id=ref.dataset, table_id=ref.table, location=dataset.spec.location
        )

    def _select(
        self, statement: ParsedStatement, duck_sql: str, duck_params: dict[str, Any], referenced: list[Table]
    ) -> QueryResult:
        try:
            cursor = self._conn.execute(duck_sql, duck_params)
            description = cursor.description or []
            raw = cursor.fetchall()
        except duckdb.Error as exc:
            raise map_duckdb_error(exc) from exc
        schema = result_schema(description, [t.spec.schema for t in referenced])
        rows = [row_from_storage(schema, values) for values in raw]
        check_no_null_elements(schema, rows)
        return QueryResult(
            rows=rows,
            schema=schema,
            statement_type=StatementKind.SELECT.value,
            bytes_processed=self._bytes_estimate(statement, referenced),
        )

    def _dml(
        self,
        statement: ParsedStatement,
        duck_sql: str,
        duck_params: dict[str, Any],
        target: Table,
        referenced: list[Table],
    ) -> QueryResult:
        now = self.clock.now()
        guarded = (
            statement.kind in (StatementKind.UPDATE, StatementKind.DELETE, StatementKind.MERGE)
            and target.buffer_until is not None
            and target.buffer_until > now
        )
        try:
            if guarded:
                alias = statement.target_alias or target.ref.table
                affected = self._guarded_dml(duck_sql, duck_params, target, alias, now)
            else:
                affected = int(self._conn.execute(duck_sql, duck_params).fetchone()[0])
        except duckdb.Error as exc:
            raise map_duckdb_error(exc) from exc
        if affected:
            target.modified = now
            self._save_table(target)
        scanned = referenced + ([] if statement.kind is StatementKind.INSERT else [target])
        return QueryResult(
            rows=[],
            statement_type=statement.kind.value,
            affected_rows=affected,
            bytes_processed=self._bytes_estimate(statement, scanned),
        )

    def _guarded_dml(
        self, duck_sql: str, duck_params: dict[str, Any], target: Table, alias: str, now: datetime
    ) -> int:
        """Run DML in a transaction and undo it if it touched a row still in the streaming buffer."""
        self._conn.execute("BEGIN TRANSACTION")
        try:
            touched = self._conn.execute(
                f"{duck_sql} RETURNING {quote_ident(alias)}.{quote_ident(STREAM_COL)}", duck_params
            ).fetchall()
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        if any(until is not None and _utc(until) > now for (until,) in touched):
            self._conn.execute("ROLLBACK")
            raise StreamingBufferRefusal(table=target.ref.dotted)
        self._conn.execute("COMMIT")
        return len(touched)

    # ------------------------------------------------------------------------- BigQuery rules

    def _expire_partitions(self, table: Table) -> None:
        """Delete partitions whose end + expiration has passed on the injected clock."""
        expired = expired_rows_filter(table.spec, self.clock.now(), ingest_column=INGEST_COL)
        if expired is not None:
            condition, params = expired
            self._conn.execute(f"DELETE FROM {self._storage_sql(table.ref)} WHERE {condition}", params)

    def _bytes_estimate(self, statement: ParsedStatement, tables: list[Table]) -> Callable[[], int]:
        """``totalBytesProcessed`` with BigQuery's per-type sizes over the referenced columns,
        measured when first asked for (the tables' sizes at that moment)."""
        from sqlglot import exp

        tree = statement.tree
        star = any(True for _ in tree.find_all(exp.Star))
        referenced_names = {col.name.lower() for col in tree.find_all(exp.Column)}
        unique = list({id(t): t for t in tables}.values())
        return lambda: self._bytes_processed(unique, star, referenced_names)

    def num_bytes(self, project: str, dataset_id: str, table_id: str) -> int:
        """The table's logical size (``numBytes``), with the per-type sizes of ``totalBytesProcessed``:
        what ``SELECT *`` over it would process."""
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            return self._bytes_processed([table], True, set())

    def _bytes_processed(self, tables: list[Table], star: bool, referenced_names: set[str]) -> int:
        total = 0
        for table in tables:
            if (table.ref.project, table.ref.dataset, table.ref.table) not in self._tables:
                continue
            columns = [f for f in table.spec.schema if star or f.name.lower() in referenced_names]
            if not columns:
                continue
            fixed = [f for f in columns if f.type in _FIXED_BYTES and not f.is_repeated]
            variable = [f for f in columns if f not in fixed]
            expressions = ["count(*)"] + [f"coalesce(sum({_byte_length(f)} + 2), 0)" for f in variable]
            with self._lock:
                counts = self._conn.execute(
                    f"SELECT {', '.join(expressions)} FROM {self._storage_sql(table.ref)}"
                ).fetchone()
            rows = int(counts[0])
            total += rows * sum(_FIXED_BYTES[f.type] for f in fixed) + sum(int(v) for v in counts[1:])
        return total


# ------------------------------------------------------------------------------------ helpers


# Parsing and translating cost more than running a small query, and neither depends on an engine:
# a statement parses the same everywhere, and storage names are a pure function of the project,
# dataset and table ids (a translation only ever runs after every table it names was resolved,
# so its project's catalog is attached). One process-wide cache serves every engine, so a fresh
# engine per test starts warm.
_CACHE_LOCK = threading.Lock()
_PARSED: LRUCache[tuple[str, str], ParsedStatement] = LRUCache(maxsize=4096)
_TRANSLATIONS: LRUCache[tuple[Any, ...], Translation] = LRUCache(maxsize=4096)


def _parse_cached(sql: str, project: str) -> ParsedStatement:
    with _CACHE_LOCK:
        statement = _PARSED.get((sql, project))
    if statement is None:
        statement = parse(sql, default_project=project)
        with _CACHE_LOCK:
            _PARSED[(sql, project)] = statement
    return statement


def _case_safe(name: str) -> str:
    """DuckDB names are case-insensitive, BigQuery's dataset and table ids are not: ``t`` and ``T``
    get distinct storage names (``#`` cannot occur in a BigQuery id)."""
    return f"{name}#{hashlib.sha1(name.encode('utf-8')).hexdigest()[:8]}"


def _byte_length(spec: FieldSpec) -> str:
    column = quote_ident(spec.name)
    if spec.type is FieldType.BYTES and not spec.is_repeated:
        return f"octet_length({column})"
    return f"strlen(CAST({column} AS VARCHAR))"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _not_null(spec: FieldSpec) -> str:
    return " NOT NULL" if spec.mode is FieldMode.REQUIRED else ""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _schema_additions(
    spec: TableSpec, new_schema: tuple[FieldSpec, ...], project: str, dataset_id: str, table_id: str
) -> list[FieldSpec]:
    """Columns a schema patch adds; anything else it changes is refused as BigQuery refuses it."""
    table = f"{project}:{dataset_id}.{table_id}"
    old = {f.name.lower(): f for f in spec.schema}
    new_names = {f.name.lower() for f in new_schema}
    for name, column in old.items():
        if name not in new_names:
            raise FieldRemoved(table=table, field=column.name)
    added: list[FieldSpec] = []
    for column in new_schema:
        before = old.get(column.name.lower())
        if before is None:
            if column.mode is FieldMode.REQUIRED:
                raise RequiredFieldAdded(table=table, field=column.name)
            added.append(column)
            continue
        if before.type is not column.type:
            raise FieldTypeChanged(
                table=table, field=column.name, old=before.type.value, new=column.type.value
            )
        if before.mode is not column.mode:
            raise FieldModeChanged(
                table=table, field=column.name, old=before.mode.value, new=column.mode.value
            )
        if before.fields != column.fields and _strip(before.fields) != _strip(column.fields):
            raise NestedFieldsChangeUnsupported(table=table, field=column.name)
    return added


def _strip(fields: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
    return tuple(replace(f, description=None, fields=_strip(f.fields)) for f in fields)


def _with_insert_columns(statement: ParsedStatement, columns: tuple[str, ...]) -> ParsedStatement:
    """``INSERT t VALUES`` names no columns; the storage table has hidden ones, so name them."""
    from sqlglot import exp

    tree = statement.tree.copy()
    tree.set(
        "this", exp.Schema(this=tree.this, expressions=[exp.to_identifier(c, quoted=True) for c in columns])
    )
    return replace(statement, tree=tree)
