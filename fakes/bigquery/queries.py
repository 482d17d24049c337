"""Running one BigQuery statement on the engine's storage: SELECT, DML and the DDL the fake accepts.

A statement is parsed once per text and translated once per text or shape (process-wide caches:
the same statement over another org's dataset shares its translation), its tables resolved,
BigQuery's query rules applied (``requirePartitionFilter``, the streaming buffer for UPDATE,
DELETE and MERGE, partition expiry before reading) and DuckDB's errors turned into BigQuery's.
``totalBytesProcessed`` is estimated with BigQuery's per-type sizes.

:class:`StatementRunner` is the query half of :class:`fakes.bigquery.engine.BigQueryEngine`; the
engine, which owns storage and the catalog, provides the abstract members.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import duckdb
from cachetools import LRUCache

from fakes.bigquery import (
    catalog_statements,
    coltypes,
    ddl,
    information_schema,
    ingestion_time,
    range_partitioning,
    routine_statements,
    routines,
    script_syntax,
    scripts,
    statement_shapes,
    translation_store,
)
from fakes.bigquery import params as param_types
from fakes.bigquery.atomic import Writes
from fakes.bigquery.catalog import INGEST_COL, STREAM_COL, Dataset, Table
from fakes.bigquery.collate_params import bind_order_by_collations, has_parameter_collations
from fakes.bigquery.deadlines import Cancellation, Deadlines, StatementDeadline, job_deadline, watching
from fakes.bigquery.exceptions import (
    QueryDatasetNotFound,
    QueryParameterNotFound,
    QueryTableNotFound,
    StreamingBufferRefusal,
    UnqualifiedTable,
    UnsupportedByFake,
)
from fakes.bigquery.intervals import interval_columns_as_text
from fakes.bigquery.limits_runtime import RuntimeLimits, fetch_bounded
from fakes.bigquery.partitions import check_partition_filters
from fakes.bigquery.readers import ReaderPool
from fakes.bigquery.results import (
    check_no_null_elements,
    has_array,
    map_duckdb_error,
    result_schema,
    unique_names,
)
from fakes.bigquery.routines import RoutineCatalog
from fakes.bigquery.setops import needs_columns
from fakes.bigquery.sql import (
    CLOCK_PLACEHOLDERS,
    ParsedStatement,
    StatementKind,
    StorageName,
    TableRef,
    Translation,
    bind,
    fact,
    parse,
    to_duckdb,
)
from fakes.bigquery.statement_shapes import Shape, shape_of
from fakes.bigquery.table_sizes import TableSizes
from fakes.bigquery.time_zone import UTC, local_now, session_zone, zone_on_demand
from fakes.bigquery.types import as_utc, quote_ident, row_converter
from fakes.bigquery.update_joins import check_update_join, clear_probes
from harness.ports import Clock, QueryParam, QueryResult
from harness.schema.spec import FieldSpec

if TYPE_CHECKING:
    from sqlglot import exp


class StatementRunner(ABC):
    """``query``, ``dry_run`` and the size estimates, over the storage the engine owns."""

    clock: Clock
    _conn: duckdb.DuckDBPyConnection
    _lock: threading.RLock
    _datasets: dict[tuple[str, str], Dataset]
    _tables: dict[tuple[str, str, str], Table]
    _routines: RoutineCatalog
    _writes: Writes
    _sizes: TableSizes
    _readers: ReaderPool
    _limits: RuntimeLimits
    _deadlines: Deadlines

    @abstractmethod
    def _table(self, project: str, dataset_id: str, table_id: str) -> Table:
        """The table, or BigQuery's 404."""

    @abstractmethod
    def _live_table(self, project: str, dataset_id: str, table_id: str) -> Table | None:
        """The table, or None when it is absent or its expiration passed."""

    @abstractmethod
    def _storage_name(self, ref: TableRef, *, write: bool) -> StorageName:
        """Where a table's rows live (``write``) or the view of its user columns."""

    @abstractmethod
    def _storage_sql(self, ref: TableRef) -> str:
        """The quoted name of a table's storage."""

    @abstractmethod
    def _save_table(self, table: Table) -> None:
        """Write a table's metadata through (file-backed engines)."""

    @abstractmethod
    def _expire_partitions(self, table: Table) -> None:
        """Drop the partitions whose expiration passed on the injected clock."""

    @abstractmethod
    def _refresh_views(self, referenced: list[Table], target: Table | None) -> None:
        """Refuse writes to views; rebuild the views a statement reads (:mod:`fakes.bigquery.views`)."""

    def query(
        self,
        project: str,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        default_dataset: str | None = None,
        time_zone: str | None = None,
        job_timeout_ms: int | None = None,
        cancellation: Cancellation | None = None,
    ) -> QueryResult:
        """Run one BigQuery SQL statement: SELECT, DML or the DDL the fake supports.
        ``default_dataset`` is the job's ``defaultDataset`` (unqualified table names);
        ``time_zone`` its default time zone (the ``time_zone`` connection property; UTC if None);
        ``job_timeout_ms`` the job's ``jobTimeoutMs`` and ``cancellation`` how ``jobs.cancel``
        stops it (:mod:`fakes.bigquery.deadlines`).

        A SELECT holds the engine's lock only to resolve and translate; it runs on a read cursor
        of its own (:mod:`fakes.bigquery.readers`), so other requests do not wait behind it."""
        params = dict(params or {})
        with job_deadline(self._deadlines, job_timeout_ms, cancellation) as deadline:
            with self._lock, zone_on_demand(self._conn, time_zone) as zone, watching(deadline, self._conn):
                # Everything but a SELECT runs in the zone on this connection (a SELECT, on its reader).
                if script_syntax.is_script(sql):
                    zone.apply()
                    return scripts.run(
                        cast(scripts.ScriptEngine, self), project, sql, params, default_dataset, time_zone
                    )
                if catalog_statements.handles(sql):
                    zone.apply()
                    return catalog_statements.run(cast(Any, self), project, sql, default_dataset)
                if routine_statements.handles(sql):
                    zone.apply()
                    args = (self._routines, self._datasets, project, sql, params, default_dataset, time_zone)
                    return routine_statements.run(cast(routine_statements.Runner, self), *args)
                if routines.names_a_function(sql):
                    zone.apply()
                    return self._create_routine(project, sql, default_dataset)
                if self._routines.has(project):
                    sql = routines.expand_text(sql, self._routines.lookup(project, default_dataset))
                if information_schema.names_views(sql):
                    zone.apply()  # the views' rows are read on this connection
                    sql = information_schema.expand(
                        cast(information_schema.Source, self), project, sql, default_dataset, params
                    )
                statement = _parse_cached(sql, project, default_dataset, self._datasets)
                if statement.kind is not StatementKind.SELECT:
                    zone.apply()
                if statement.kind.is_ddl:
                    with self._writes.atomic():  # CREATE OR REPLACE, CTAS: all or nothing
                        return ddl.run(cast(ddl.DdlTarget, self), project, statement)
                referenced, target, translation, duck_params = self._prepare(statement, params, time_zone)
                duck_sql = translation.sql
                if statement.kind is not StatementKind.SELECT:
                    assert target is not None
                    return self._dml(statement, duck_sql, duck_params, target, referenced)
            return self._select(statement, duck_sql, duck_params, referenced, time_zone, deadline)

    def _create_routine(self, project: str, sql: str, default_dataset: str | None) -> QueryResult:
        """``CREATE [AGGREGATE|TABLE] FUNCTION [ds.]f``: kept in the dataset (routines.py)."""
        created = routines.parse_create(sql)
        assert created is not None
        dataset = created.path[-2] if len(created.path) > 1 else default_dataset
        if dataset is None:
            raise UnqualifiedTable(table=created.routine.name)
        if (project, dataset) not in self._datasets:
            raise QueryDatasetNotFound(project=project, dataset_id=dataset)
        created.routine.created = created.routine.modified = self.clock.now()
        self._routines.create(project, dataset, created)
        kind = "CREATE_TABLE_FUNCTION" if created.routine.table else "CREATE_FUNCTION"
        return QueryResult(rows=[], statement_type=kind)

    def dry_run(
        self,
        project: str,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        default_dataset: str | None = None,
        time_zone: str | None = None,
    ) -> QueryResult:
        """Validate a statement and estimate it without running it (``dryRun``): the same parse,
        table, parameter and partition-filter checks as :meth:`query`, DuckDB's binder for names
        and types, the result schema of a SELECT and ``totalBytesProcessed`` of the tables as
        they are. Nothing is written, and errors that only rows can raise (division by zero, a
        bad cast of a value) are not found, as in BigQuery."""
        params = dict(params or {})
        with self._lock, session_zone(self._conn, time_zone):
            sql = information_schema.expand(
                cast(information_schema.Source, self), project, sql, default_dataset, params
            )
            statement = _parse_cached(sql, project, default_dataset, self._datasets)
            if statement.kind.is_ddl:
                return QueryResult(rows=[], statement_type=statement.kind.value, bytes_processed=0)
            referenced, target, translation, duck_params = self._prepare(statement, params, time_zone)
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

    def _prepare(
        self, statement: ParsedStatement, params: dict[str, Any], time_zone: str | None = None
    ) -> tuple[list[Table], Table | None, Translation, dict[str, Any]]:
        """What running and dry-running share: the tables (their expired partitions dropped), the
        partition-filter check, the translation and the DuckDB parameters."""
        referenced = [self._resolve(ref) for ref in statement.tables]
        target = self._resolve(statement.target) if statement.target else None
        scanned = referenced + ([target] if target else [])
        for table in scanned:
            self._expire_partitions(table)
        if any(table.spec.require_partition_filter for table in scanned):  # else neither check finds any
            check_partition_filters(statement, lambda ref: self._resolve(ref).spec)
            range_partitioning.check_filters(statement, self._range_filter_required)
        self._refresh_views(referenced, target)
        if fact(statement, "pseudo_columns", ingestion_time.names_pseudo_columns):
            statement = ingestion_time.rewrite(
                statement, lambda ref: ingestion_time.applies(self._resolve(ref).spec)
            )
        collations: tuple[str, ...] = ()
        if fact(statement, "parameter_collations", has_parameter_collations):
            statement, collations = bind_order_by_collations(statement, params)
        translation = self._translate(statement, target, referenced, params, collations)
        now = local_now(self.clock.now(), time_zone)
        bound = bind(statement, translation, params, now)
        duck_params = {name: param_types.to_duckdb(value) for name, value in bound.items()}
        typed = param_types.cast_typed_nulls(translation.sql, bound)
        if typed != translation.sql:
            translation = replace(translation, sql=typed)
        return referenced, target, translation, duck_params

    def _translate(
        self,
        statement: ParsedStatement,
        target: Table | None,
        referenced: list[Table],
        params: dict[str, Any],
        collations: tuple[str, ...] = (),
    ) -> Translation:
        """``referenced``: the tables ``statement.tables`` name, resolved, in order.

        Cached by SQL text and by what the translation depends on: for a column-less INSERT, the
        target's current columns; the column types of the tables read and of the target (the
        BIGNUMERIC / RANGE rewrites), the BIGNUMERIC parameters; for a set operation whose
        translation depends on its inputs' columns, the schemas of the tables read and the
        parameters' types; the values of ``ORDER BY ... COLLATE @p`` parameters. A text not seen
        before is looked up by its shape (:mod:`fakes.bigquery.statement_shapes`), which also keys
        the collated columns of the tables read (part of their storage names)."""
        columns = None
        if statement.kind is StatementKind.INSERT and target is not None and not statement.insert_columns:
            columns = target.spec.column_names
        schemas = None
        if fact(statement, "needs_columns", needs_columns):  # the inputs' columns: tables and parameters
            kinds = sorted(
                (n, v.type if isinstance(v, QueryParam) else type(v).__name__) for n, v in params.items()
            )
            schemas = (tuple(t.spec.schema for t in referenced), tuple(kinds))
        bignumeric_params = coltypes.bignumeric_parameters(params) if params else frozenset()
        read = [t.spec.schema for t in referenced]  # ``statement.tables``, resolved
        target_types = coltypes.known_column_types([target.spec.schema] if target is not None else [])
        types = coltypes.known_column_types([*read, *([target.spec.schema] if target is not None else [])])
        depends = (statement.default_project, statement.default_dataset, columns, schemas)
        depends += (*types.items(), None, *target_types.items(), None, *sorted(bignumeric_params))
        depends += (None, *collations)
        key = (statement.sql, *depends)
        with _CACHE_LOCK:
            translation = _TRANSLATIONS.get(key)
        if translation is not None:
            return translation
        # Not this text: perhaps its shape, the same statement over other datasets (a new org's).
        shape = shape_of(statement)
        shape_key: tuple[Any, ...] = ()
        storage: dict[str, str] = {}
        if shape is not None:
            refs = [*statement.tables, *([statement.target] if statement.target else [])]
            names = {ref: self._storage_name(ref, write=False) for ref in refs}
            storage = {ref.dataset: name.schema for ref, name in names.items()}
            collated = tuple((ref.project, ref.table, names[ref].collated) for ref in statement.tables)
            shape_key = ("shape", shape.sql, *depends, None, *collated)
            with _CACHE_LOCK:
                template = _TRANSLATIONS.get(shape_key)
            if template is not None:
                translation = shape.instantiate(template, storage)
        if translation is None:
            source = _with_insert_columns(statement, columns) if columns else statement
            tokens = (
                coltypes.COLUMN_TYPES.set(types),
                coltypes.TARGET_TYPES.set(target_types),
                coltypes.BIGNUMERIC_PARAMS.set(bignumeric_params),
            )
            try:
                translation = to_duckdb(
                    source,
                    map_table=lambda ref, w: self._storage_name(ref, write=w),
                    describe=lambda sql, names: self._describe(sql, names, params),
                )
            finally:
                coltypes.COLUMN_TYPES.reset(tokens[0])
                coltypes.TARGET_TYPES.reset(tokens[1])
                coltypes.BIGNUMERIC_PARAMS.reset(tokens[2])
            if shape is not None and (template := shape.template(translation, storage)) is not None:
                with _CACHE_LOCK:
                    _TRANSLATIONS[shape_key] = template
        with _CACHE_LOCK:
            _TRANSLATIONS[key] = translation
        return translation

    def _describe(
        self, duck_sql: str, placeholders: frozenset[str], params: dict[str, Any]
    ) -> list[tuple[str, str]]:
        """The columns of a DuckDB query, bound but not run: (name, DuckDB type)."""
        now = self.clock.now()
        values = {}
        for name in sorted(placeholders):
            if name in CLOCK_PLACEHOLDERS:
                values[name] = CLOCK_PLACEHOLDERS[name](now)
            elif name in params:
                values[name] = param_types.to_duckdb(params[name])
            else:
                raise QueryParameterNotFound(name=name)
        try:
            relation = self._conn.sql(duck_sql, params=values or None)
            return [(name, str(kind)) for name, kind in zip(relation.columns, relation.types, strict=True)]
        except duckdb.Error as exc:
            raise map_duckdb_error(exc) from exc

    def _range_filter_required(self, ref: TableRef) -> range_partitioning.RangePartitioning | None:
        table = self._resolve(ref)
        return table.range_partitioning if table.spec.require_partition_filter else None

    def _resolve(self, ref: TableRef) -> Table:
        table = self._live_table(ref.project, ref.dataset, ref.table)
        if table is not None and not table.spec.schema:
            raise UnsupportedByFake(
                f"The emulator cannot query table {ref.dotted} until it has columns", reason="invalid"
            )
        if table is not None:
            return table
        dataset = self._datasets.get((ref.project, ref.dataset))
        if dataset is None:
            raise QueryDatasetNotFound(project=ref.project, dataset_id=ref.dataset)
        raise QueryTableNotFound(
            project=ref.project, dataset_id=ref.dataset, table_id=ref.table, location=dataset.spec.location
        )

    def _select(
        self,
        statement: ParsedStatement,
        duck_sql: str,
        duck_params: dict[str, Any],
        referenced: list[Table],
        time_zone: str | None = None,
        deadline: StatementDeadline | None = None,
    ) -> QueryResult:
        """Run a translated SELECT on a read cursor, outside the engine's lock; its result is
        streamed and bounded (:func:`fakes.bigquery.limits_runtime.fetch_bounded`)."""
        with self._readers.reader(time_zone or UTC) as reader, watching(deadline, reader, repeat=True):
            try:
                cursor = reader.execute(duck_sql, duck_params)
                description = cursor.description or []
                as_text = interval_columns_as_text(duck_sql, [str(column[1]) for column in description])
                if as_text is not None:
                    cursor = reader.execute(as_text, duck_params)
                raw = fetch_bounded(cursor, self._limits.max_result_bytes)
            except duckdb.Error as exc:
                raise map_duckdb_error(exc) from exc
        shape = _result_shape(description, [t.spec.schema for t in referenced])
        schema = shape.schema
        rows = [shape.convert(values) for values in raw]
        if shape.has_arrays:
            # Checked on DuckDB's values, where a JSON null in an ARRAY<JSON> is still 'null', not NULL.
            names = [f.name for f in schema]
            check_no_null_elements(schema, [dict(zip(names, values, strict=True)) for values in raw])
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
        affected: int | None = None  # None: it failed, maybe part-way, and counts as a write
        written = None
        returned: list[Any] = []
        try:
            if statement.kind is StatementKind.UPDATE:
                check_update_join(self._conn, duck_sql, duck_params)
            if guarded:
                alias = statement.target_alias or target.ref.table
                affected = self._guarded_dml(duck_sql, duck_params, target, alias, now)
            elif statement.kind in _COUNTED and (
                written := self._sizes.writing(target, _alias(statement, target))
            ):
                # A newline ends a trailing ``--`` comment the statement may carry.
                returned = self._conn.execute(f"{duck_sql}\n{written.returning}", duck_params).fetchall()
                affected = len(returned)
            else:
                affected = int(self._conn.execute(duck_sql, duck_params).fetchone()[0])
        except duckdb.Error as exc:
            raise map_duckdb_error(exc) from exc
        finally:
            if affected is not None and written is not None:
                self._sizes.wrote(written, returned, removed=statement.kind is StatementKind.DELETE)
            elif affected != 0:  # a statement that affected no row wrote nothing
                self._sizes.changed(target.ref)
        if affected and ingestion_time.applies(target.spec):  # a hidden column: sizes unchanged
            self._conn.execute(ingestion_time.stamp_sql(self._storage_sql(target.ref), INGEST_COL), [now])
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
        if any(until is not None and as_utc(until) > now for (until,) in touched):
            self._conn.execute("ROLLBACK")
            raise StreamingBufferRefusal(table=target.ref.dotted)
        self._conn.execute("COMMIT")
        return len(touched)

    def _bytes_estimate(self, statement: ParsedStatement, tables: list[Table]) -> Callable[[], int]:
        """``totalBytesProcessed`` with BigQuery's per-type sizes over the referenced columns,
        measured when first asked for (the tables' sizes at that moment)."""
        unique = list({id(t): t for t in tables}.values())
        if not unique:
            return _nothing_read  # ``SELECT 1``: no statement walk
        return lambda: self._bytes_processed(unique, *_columns_read(statement))

    def num_bytes(self, project: str, dataset_id: str, table_id: str) -> int:
        """The table's logical size (``numBytes``), with the per-type sizes of ``totalBytesProcessed``:
        what ``SELECT *`` over it would process."""
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            return self._bytes_processed([table], True, set())

    def _bytes_processed(self, tables: list[Table], star: bool, referenced_names: AbstractSet[str]) -> int:
        """The tables' kept sizes (:mod:`fakes.bigquery.table_sizes`); a dropped table or a view
        counts nothing."""
        total = 0
        for table in tables:
            if (table.ref.project, table.ref.dataset, table.ref.table) not in self._tables or table.view:
                continue
            total += self._sizes.bytes_processed(table, star, referenced_names)
        return total


#: Statements whose rows keep the target's size record (:class:`fakes.bigquery.table_sizes.RowsWritten`).
_COUNTED = frozenset({StatementKind.INSERT, StatementKind.DELETE})


def _alias(statement: ParsedStatement, target: Table) -> str | None:
    """How the translated statement names its target: a DELETE's target always by an alias
    (its own or the table's name, as :meth:`StatementRunner._dml` names it), an INSERT's not."""
    if statement.kind is StatementKind.INSERT:
        return None
    return statement.target_alias or target.ref.table


# Parsing and translating cost more than running a small query, and neither depends on an engine:
# a statement parses the same everywhere, and storage names are a pure function of the project,
# dataset and table ids (a translation only ever runs after every table it names was resolved,
# so its project's catalog is attached). One process-wide cache serves every engine, so a fresh
# engine per test starts warm.
_CACHE_LOCK = threading.Lock()
_PARSED: LRUCache[tuple[str, str, str | None], ParsedStatement] = LRUCache(maxsize=4096)
_TRANSLATIONS = translation_store.CACHE  # in memory; on disk too once opened (harness run)
_PARSED_SHAPES: LRUCache[tuple[str, str, str | None], tuple[Shape, ParsedStatement]] = LRUCache(maxsize=1024)


@dataclass(frozen=True)
class _ResultShape:
    """A SELECT's result schema and what reading its rows needs, worked out once per shape."""

    schema: tuple[FieldSpec, ...]
    convert: Callable[[tuple[Any, ...]], dict[str, Any]]
    """DuckDB's row as BigQuery's (:func:`fakes.bigquery.types.row_converter`)."""
    has_arrays: bool
    """Whether a column holds an array at some depth: only then can an element be NULL."""


_SCHEMAS: LRUCache[tuple[Any, ...], tuple[list[tuple[FieldSpec, ...]], _ResultShape]] = LRUCache(maxsize=1024)


def _result_shape(description: list[Any], schemas: list[tuple[FieldSpec, ...]]) -> _ResultShape:
    """A SELECT's result schema (:func:`result_schema`, :func:`unique_names`), worked out once per
    result shape and set of table schemas: keyed by DuckDB's column names and types and by the
    schemas' identity (a table's schema is a new tuple when it changes), which the entry keeps
    alive and checks, so an id never stands for another schema."""
    key = (tuple((column[0], column[1]) for column in description), tuple(map(id, schemas)))
    with _CACHE_LOCK:
        cached = _SCHEMAS.get(key)
    if cached is not None and all(a is b for a, b in zip(cached[0], schemas, strict=True)):
        return cached[1]
    schema = unique_names(result_schema(description, schemas))
    shape = _ResultShape(schema, row_converter(schema), any(map(has_array, schema)))
    with _CACHE_LOCK:
        _SCHEMAS[key] = (schemas, shape)
    return shape


def clear_statement_caches() -> None:
    """Empty the process-wide parse and translation caches. They are bounded, but their keys
    name each org's dataset, so a long-lived server that onboards many orgs fills them; a
    served process's reset to fresh state (``harness serve``'s control plane) empties them too."""
    with _CACHE_LOCK:
        _PARSED.clear()
        _PARSED_SHAPES.clear()
        _TRANSLATIONS.clear()
        _SCHEMAS.clear()
    coltypes.clear_known()
    clear_probes()


def _parse_cached(
    sql: str, project: str, default_dataset: str | None, known: Iterable[tuple[str, str]] = ()
) -> ParsedStatement:
    """Parsed once per text, or once per shape over the datasets the engine knows (``known``:
    (project, dataset) keys; :mod:`fakes.bigquery.statement_shapes`)."""
    key = (sql, project, default_dataset)
    with _CACHE_LOCK:
        statement = _PARSED.get(key)
    if statement is not None:
        return statement
    guess = statement_shapes.guessed_shape(sql, (dataset for _, dataset in known))
    if guess is not None:
        with _CACHE_LOCK:
            template = _PARSED_SHAPES.get((guess.sql, project, default_dataset))
        if template is not None:
            statement = statement_shapes.reparsed(template[1], template[0], guess, sql)
    if statement is None:
        statement = parse(sql, default_project=project, default_dataset=default_dataset)
        shape = statement_shapes.parsed_shape(statement) if guess is not None else None
        if shape is not None:
            with _CACHE_LOCK:
                _PARSED_SHAPES[(shape.sql, project, default_dataset)] = (shape, statement)
    with _CACHE_LOCK:
        _PARSED[key] = statement
    return statement


def _nothing_read() -> int:
    return 0


def _columns_read(statement: ParsedStatement) -> tuple[bool, frozenset[str]]:
    """Whether the statement reads ``*``, and the column names it names (lower case): walked only
    when ``totalBytesProcessed`` is asked for, which most in-process queries never do, and once
    per statement (the REST emulator asks for it on every job, of statements parsed once)."""
    return fact(statement, "columns_read", _columns_in)


def _columns_in(tree: exp.Expression) -> tuple[bool, frozenset[str]]:
    from sqlglot import exp

    return any(True for _ in tree.find_all(exp.Star)), frozenset(
        col.name.lower() for col in tree.find_all(exp.Column)
    )


def _with_insert_columns(statement: ParsedStatement, columns: tuple[str, ...]) -> ParsedStatement:
    """``INSERT t VALUES`` names no columns; the storage table has hidden ones, so name them."""
    from sqlglot import exp

    tree = statement.tree.copy()
    tree.set(
        "this", exp.Schema(this=tree.this, expressions=[exp.to_identifier(c, quoted=True) for c in columns])
    )
    return replace(statement, tree=tree)
