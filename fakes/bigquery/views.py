"""Views and materialized views: ``tables.insert`` with ``view`` / ``materializedView``,
``CREATE [OR REPLACE] [MATERIALIZED] VIEW``, ``DROP [MATERIALIZED] VIEW``, querying them and
changing their query with ``tables.patch``.

A view keeps its BigQuery query; its schema is the query's result schema (derived by a dry run,
as BigQuery derives it). In DuckDB it is a view, at the name a table's user columns are read
from, over the query's translation; the translation is rebuilt every time a statement reads the
view, so it sees the current tables and ``CURRENT_TIMESTAMP()`` reads the injected clock at that
moment. A **materialized view is recomputed on every read** as well: BigQuery promises fresh
results from a materialized view whatever its refresh state (it combines the cached result with
the base tables' changes), so recomputing gives the results BigQuery gives; ``lastRefreshTime``
reports the clock's present. Views hold no rows: ``tabledata.list``, ``insertAll`` and DML refuse
them, and their ``numRows`` / ``numBytes`` are 0 (BigQuery bills the base tables' bytes to a
query that reads a view; the fake counts none for it).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

from fakes.bigquery.exceptions import (
    RequiredParameterMissing,
    UnsupportedByFake,
    ViewNotWritable,
)
from fakes.bigquery.sql import ParsedStatement, StatementKind, TableRef, Translation, parse
from harness.ports import Clock, QueryResult, TableInfo
from harness.schema.spec import TableSpec

if TYPE_CHECKING:
    import duckdb

    from fakes.bigquery.catalog import Table

#: ``refreshIntervalMs`` BigQuery gives a materialized view that names none (30 minutes).
DEFAULT_REFRESH_MS = "1800000"
_CLOCK_PLACEHOLDER = re.compile(r"\$(__hx_\w+)")


@dataclass(frozen=True)
class ViewDefinition:
    """A view's query; ``options`` are a materialized view's other fields, echoed back as sent
    (recomputing on every read honours any refresh setting and any ``maxStaleness``)."""

    query: str
    materialized: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def table_type(self) -> str:
        return "MATERIALIZED_VIEW" if self.materialized else "VIEW"

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "materialized": self.materialized, "options": dict(self.options)}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ViewDefinition:
        return cls(
            query=body["query"], materialized=bool(body["materialized"]), options=body.get("options") or {}
        )


def from_resource(body: Mapping[str, Any]) -> ViewDefinition | None:
    """The ``view`` or ``materializedView`` of a table resource, or ``None`` for a table.

    Only GoogleSQL views: ``useLegacySql: true`` is refused by name. An absent ``useLegacySql``
    is read as GoogleSQL (the official clients always send ``false``)."""
    view, materialized = body.get("view"), body.get("materializedView")
    if view:
        if view.get("useLegacySql") is True:
            raise UnsupportedByFake(
                "view.useLegacySql: legacy SQL views are not supported by the emulator", reason="invalid"
            )
        if view.get("userDefinedFunctionResources"):
            raise UnsupportedByFake(
                "view.userDefinedFunctionResources are not supported by the emulator", reason="invalid"
            )
        if not view.get("query"):
            raise RequiredParameterMissing(name="view.query")
        return ViewDefinition(query=str(view["query"]))
    if materialized:
        if not materialized.get("query"):
            raise RequiredParameterMissing(name="materializedView.query")
        options = {k: v for k, v in materialized.items() if k not in ("query", "lastRefreshTime")}
        return ViewDefinition(query=str(materialized["query"]), materialized=True, options=options)
    return None


def resource_fields(table: Table, now_ms: str, *, listing: bool = False) -> dict[str, Any]:
    """What a table resource (or a ``tables.list`` entry) says about the table's kind."""
    fields: dict[str, Any] = {}
    if table.range_partitioning is not None:
        fields["rangePartitioning"] = table.range_partitioning.to_api()
    view = table.view
    if view is None:
        return fields
    fields["type"] = view.table_type
    if not view.materialized:
        fields["view"] = {"useLegacySql": False} if listing else {"query": view.query, "useLegacySql": False}
    elif not listing:
        body: dict[str, Any] = {"enableRefresh": True, "refreshIntervalMs": DEFAULT_REFRESH_MS}
        body.update(view.options)
        body.update({"query": view.query, "lastRefreshTime": now_ms})
        fields["materializedView"] = body
    return fields


class ViewTables:
    """The engine's view half (a mixin of :class:`fakes.bigquery.engine.BigQueryEngine`)."""

    clock: Clock
    _conn: duckdb.DuckDBPyConnection
    _lock: threading.RLock
    _tables: dict[tuple[str, str, str], Table]

    if TYPE_CHECKING:  # provided by the engine and its query half

        def create_table(self, project: str, dataset_id: str, spec: TableSpec) -> TableInfo: ...
        def delete_table(
            self, project: str, dataset_id: str, table_id: str, *, not_found_ok: bool = False
        ) -> None: ...
        def dry_run(self, project: str, sql: str) -> QueryResult: ...
        def _table(self, project: str, dataset_id: str, table_id: str) -> Table: ...
        def _info(self, table: Table) -> TableInfo: ...
        def _save_table(self, table: Table) -> None: ...
        def _view_sql(self, ref: TableRef) -> str: ...
        def _prepare(
            self, statement: ParsedStatement, params: dict[str, Any]
        ) -> tuple[list[Table], Table | None, Translation, dict[str, Any]]: ...

    def create_view(
        self,
        project: str,
        dataset_id: str,
        table_id: str,
        definition: ViewDefinition,
        *,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        exists_ok: bool = False,
        or_replace: bool = False,
    ) -> TableInfo:
        """Create a view whose schema is its query's; all-or-nothing (a bad query creates nothing)."""
        with self._lock:
            existing = self._tables.get((project, dataset_id, table_id))
            if existing is not None and exists_ok and not or_replace:
                return self._info(existing)
            schema = self._view_schema(project, definition)
            spec = TableSpec(
                table_id=table_id, schema=schema, description=description, labels=dict(labels or {})
            )
            if or_replace:
                self.delete_table(project, dataset_id, table_id, not_found_ok=True)
            self.create_table(project, dataset_id, spec)
            table = self._table(project, dataset_id, table_id)
            table.view = definition
            try:
                self._refresh_view(table)
            except BaseException:
                self.delete_table(project, dataset_id, table_id, not_found_ok=True)
                raise
            self._save_table(table)
            return self._info(table)

    def set_view_query(
        self, project: str, dataset_id: str, table_id: str, definition: ViewDefinition
    ) -> None:
        """``tables.patch`` / ``update`` of a view's query: the schema follows the new query."""
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            if table.view is None or table.view.materialized != definition.materialized:
                kind = table.view.table_type if table.view else "TABLE"
                raise UnsupportedByFake(
                    f"Cannot change {table.ref.dotted} from a {kind} to a {definition.table_type}",
                    reason="invalid",
                )
            schema = self._view_schema(project, definition)
            before = (table.spec, table.view)
            table.spec, table.view = replace(table.spec, schema=schema), definition
            try:
                self._refresh_view(table)
            except BaseException:
                table.spec, table.view = before
                raise
            table.modified = self.clock.now()
            self._save_table(table)

    def view_fields(
        self, project: str, dataset_id: str, table_id: str, *, listing: bool = False
    ) -> dict[str, Any]:
        """The resource fields of a view, materialized view or range-partitioned table."""
        with self._lock:
            table = self._table(project, dataset_id, table_id)
            return resource_fields(table, str(int(self.clock.now().timestamp() * 1000)), listing=listing)

    def _view_schema(self, project: str, definition: ViewDefinition) -> tuple[Any, ...]:
        statement = parse(definition.query, default_project=project)
        if statement.kind is not StatementKind.SELECT:
            raise UnsupportedByFake(
                f"A view's query must be a query, not {statement.kind.value}", reason="invalid"
            )
        return self.dry_run(project, definition.query).schema

    def _refresh_views(self, referenced: Sequence[Table], target: Table | None) -> None:
        """Before a statement runs: views hold no rows to write, and each view read is rebuilt."""
        if target is not None and target.view is not None:
            raise ViewNotWritable(table=target.ref.dotted, kind=target.view.table_type)
        for table in referenced:
            if table.view is not None:
                self._refresh_view(table)

    def _refresh_view(self, table: Table) -> None:
        """(Re)create the DuckDB view over the query's translation, the clock read now."""
        assert table.view is not None
        busy: set[TableRef] = self.__dict__.setdefault("_views_in_refresh", set())
        if table.ref in busy:
            raise UnsupportedByFake(
                f"View {table.ref.dotted} reads itself through other views", reason="invalid"
            )
        busy.add(table.ref)
        try:
            statement = parse(table.view.query, default_project=table.ref.project)
            _, _, translation, params = self._prepare(statement, {})
            body = _CLOCK_PLACEHOLDER.sub(
                lambda m: _literal(params.get(m.group(1)), m.group(0)), translation.sql
            )
            self._conn.execute(f"CREATE OR REPLACE VIEW {self._view_sql(table.ref)} AS {body}")
        finally:
            busy.discard(table.ref)


def _literal(value: object, placeholder: str) -> str:
    """A clock value as a SQL string literal (the translation casts it to its type)."""
    if isinstance(value, datetime | date | time):
        return "'" + value.isoformat() + "'"
    return placeholder


class ViewDdlTarget(Protocol):
    def create_view(
        self,
        project: str,
        dataset_id: str,
        table_id: str,
        definition: ViewDefinition,
        *,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        exists_ok: bool = False,
        or_replace: bool = False,
    ) -> TableInfo: ...

    def delete_table(
        self, project: str, dataset_id: str, table_id: str, *, not_found_ok: bool = False
    ) -> None: ...


VIEW_KINDS = (
    StatementKind.CREATE_VIEW,
    StatementKind.CREATE_MATERIALIZED_VIEW,
    StatementKind.DROP_VIEW,
    StatementKind.DROP_MATERIALIZED_VIEW,
)


def run_ddl(engine: ViewDdlTarget, statement: ParsedStatement, options: Mapping[str, Any]) -> QueryResult:
    """``CREATE [OR REPLACE] [MATERIALIZED] VIEW [IF NOT EXISTS]`` and ``DROP [MATERIALIZED] VIEW``."""
    tree, ref = statement.tree, statement.target
    assert ref is not None
    if isinstance(tree, exp.Drop):
        engine.delete_table(ref.project, ref.dataset, ref.table, not_found_ok=bool(tree.args.get("exists")))
        return QueryResult(rows=[], statement_type=statement.kind.value)
    query = tree.expression.copy()
    for node in query.find_all(exp.Table):
        read = node.meta.get("bq_ref")
        if read is not None:  # stored fully qualified: the view's query must not depend on a job's defaults
            node.set("catalog", exp.to_identifier(read.project, quoted=True))
            node.set("db", exp.to_identifier(read.dataset, quoted=True))
    definition = ViewDefinition(
        query=query.sql(dialect="bigquery"),
        materialized=statement.kind is StatementKind.CREATE_MATERIALIZED_VIEW,
    )
    engine.create_view(
        ref.project,
        ref.dataset,
        ref.table,
        definition,
        description=options.get("description"),
        labels=options.get("labels") or {},
        exists_ok=bool(tree.args.get("exists")),
        or_replace=bool(tree.args.get("replace")),
    )
    return QueryResult(rows=[], statement_type=statement.kind.value)
