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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlglot import exp

from fakes.bigquery.exceptions import (
    RequiredParameterMissing,
    UnsupportedByFake,
)
from fakes.bigquery.sql import ParsedStatement, StatementKind
from harness.ports import QueryResult, TableInfo

#: ``refreshIntervalMs`` BigQuery gives a materialized view that names none (30 minutes).
DEFAULT_REFRESH_MS = "1800000"


@dataclass(frozen=True)
class ViewDefinition:
    """A view's query; ``options`` are a materialized view's other fields, echoed back as sent
    (recomputing on every read honours any refresh setting and any ``maxStaleness``)."""

    query: str
    materialized: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    """``CREATE VIEW v (x, y) AS ...``: the view's own names for the query's columns, in order."""

    @property
    def table_type(self) -> str:
        return "MATERIALIZED_VIEW" if self.materialized else "VIEW"

    def to_json(self) -> dict[str, Any]:
        body = {"query": self.query, "materialized": self.materialized, "options": dict(self.options)}
        return body | {"columns": list(self.columns)}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ViewDefinition:
        return cls(
            query=body["query"],
            materialized=bool(body["materialized"]),
            options=body.get("options") or {},
            columns=tuple(body.get("columns") or ()),
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
    named = tree.this.expressions if isinstance(tree.this, exp.Schema) else []
    definition = ViewDefinition(
        columns=tuple(column.name for column in named),
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
