"""The engine's view half: creating views, changing their query, and rebuilding the DuckDB view
of each view a statement reads (what a view is and how it behaves: :mod:`fakes.bigquery.views`).

Kept apart from :mod:`fakes.bigquery.views` because it works on the catalog's tables, and the
catalog stores :class:`~fakes.bigquery.views.ViewDefinition`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from fakes.bigquery.catalog import Table
from fakes.bigquery.exceptions import InvalidTableSchema, UnsupportedByFake, ViewNotWritable
from fakes.bigquery.sql import ParsedStatement, StatementKind, TableRef, Translation, parse
from fakes.bigquery.types import quote_ident
from fakes.bigquery.views import DEFAULT_REFRESH_MS, ViewDefinition
from harness.ports import Clock, QueryResult, TableInfo
from harness.schema.spec import FieldSpec, TableSpec

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import duckdb

_CLOCK_PLACEHOLDER = re.compile(r"\$(__hx_\w+)")


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

        def create_table(
            self,
            project: str,
            dataset_id: str,
            spec: TableSpec,
            *,
            expires: datetime | None = None,
            kept: Mapping[str, Any] | None = None,
        ) -> TableInfo: ...
        def _atomic(self) -> AbstractContextManager[None]: ...
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
        described: Sequence[FieldSpec] = (),
        expires: datetime | None = None,
        kept: Mapping[str, Any] | None = None,
    ) -> TableInfo:
        """Create a view whose schema is its query's; all-or-nothing (a bad query creates nothing).
        ``described``: a schema sent with the view, whose column descriptions the view keeps."""
        with self._lock, self._atomic():
            existing = self._tables.get((project, dataset_id, table_id))
            if existing is not None and exists_ok and not or_replace:
                return self._info(existing)
            schema = _with_descriptions(self._view_schema(project, definition), described)
            spec = TableSpec(
                table_id=table_id, schema=schema, description=description, labels=dict(labels or {})
            )
            if or_replace:
                self.delete_table(project, dataset_id, table_id, not_found_ok=True)
            self.create_table(project, dataset_id, spec, expires=expires, kept=kept)
            table = self._table(project, dataset_id, table_id)
            table.view = definition
            self._refresh_view(table)
            self._save_table(table)
            return self._info(table)

    def set_view_query(
        self, project: str, dataset_id: str, table_id: str, definition: ViewDefinition
    ) -> None:
        """``tables.patch`` / ``update`` of a view's query: the schema follows the new query."""
        with self._lock, self._atomic():
            table = self._table(project, dataset_id, table_id)
            if table.view is None or table.view.materialized != definition.materialized:
                kind = table.view.table_type if table.view else "TABLE"
                raise UnsupportedByFake(
                    f"Cannot change {table.ref.dotted} from a {kind} to a {definition.table_type}",
                    reason="invalid",
                )
            schema = self._view_schema(project, definition)
            table.spec, table.view = replace(table.spec, schema=schema), definition
            self._refresh_view(table)
            table.modified = self.clock.now()
            self._save_table(table)

    def kind_fields(
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
        schema = self.dry_run(project, definition.query).schema
        if not definition.columns:
            return schema
        if len(definition.columns) != len(schema):
            raise UnsupportedByFake(
                f"The view names {len(definition.columns)} columns, its query returns {len(schema)}",
                reason="invalid",
            )
        return tuple(replace(f, name=name) for f, name in zip(schema, definition.columns, strict=True))

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
            names = ", ".join(quote_ident(name) for name in table.view.columns)
            view = self._view_sql(table.ref) + (f" ({names})" if names else "")
            self._conn.execute(f"CREATE OR REPLACE VIEW {view} AS {body}")
        finally:
            busy.discard(table.ref)


def _literal(value: object, placeholder: str) -> str:
    """A clock value as a SQL string literal (the translation casts it to its type)."""
    if isinstance(value, datetime | date | time):
        return "'" + value.isoformat() + "'"
    return placeholder


def _with_descriptions(schema: Sequence[FieldSpec], described: Sequence[FieldSpec]) -> tuple[FieldSpec, ...]:
    """The query's columns with the descriptions of the same-named columns of ``described``."""
    names = {f.name.lower(): f for f in schema}
    unknown = [f.name for f in described if f.name.lower() not in names]
    if unknown:
        raise InvalidTableSchema(detail=f"{unknown[0]} is not a column of the view's query")
    notes = {f.name.lower(): f.description for f in described if f.description is not None}
    return tuple(replace(f, description=notes.get(f.name.lower(), f.description)) for f in schema)
