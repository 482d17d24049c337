"""BigQuery SQL → DuckDB SQL, through sqlglot.

sqlglot does the dialect syntax; this module adds what the fake needs on top: table references
resolved against the default project and mapped onto the engine's storage, ``@params`` checked
and renamed, ``CURRENT_*`` read from the injected clock, and the semantic fixes in
:mod:`fakes.bigquery.functions` where sqlglot + DuckDB would give a different answer than BigQuery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError, UnsupportedError
from sqlglot.tokens import TokenType

from fakes.bigquery.aggregates import rewrite_aggregates
from fakes.bigquery.bottom_up import is_tree
from fakes.bigquery.dml_shapes import normalize_dml
from fakes.bigquery.exceptions import (
    PositionalParametersNotSupported,
    QueryParameterNotFound,
    QuerySyntaxError,
    UnqualifiedTable,
    UnsupportedByFake,
)
from fakes.bigquery.function_passes import apply_function_passes
from fakes.bigquery.functions import apply_semantic_fixes
from fakes.bigquery.grouping_collation import COLLATED, binary_grouping_sets
from fakes.bigquery.json_functions import apply_json_fixes
from fakes.bigquery.pipe_clauses import hoist_from_joins
from fakes.bigquery.pipes import rewrite_pipes
from fakes.bigquery.setops import Describe, resolve_set_operations
from fakes.bigquery.value_tables import struct_rows_as_columns


class StatementKind(StrEnum):
    """BigQuery's ``statementType`` values for the statements the fake runs."""

    SELECT = "SELECT"
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    MERGE = "MERGE"
    TRUNCATE_TABLE = "TRUNCATE_TABLE"
    CREATE_TABLE = "CREATE_TABLE"
    CREATE_TABLE_AS_SELECT = "CREATE_TABLE_AS_SELECT"
    CREATE_SCHEMA = "CREATE_SCHEMA"
    DROP_TABLE = "DROP_TABLE"
    DROP_SCHEMA = "DROP_SCHEMA"
    ALTER_TABLE = "ALTER_TABLE"
    CREATE_VIEW = "CREATE_VIEW"
    CREATE_MATERIALIZED_VIEW = "CREATE_MATERIALIZED_VIEW"
    DROP_VIEW = "DROP_VIEW"
    DROP_MATERIALIZED_VIEW = "DROP_MATERIALIZED_VIEW"

    @property
    def is_dml(self) -> bool:
        return self in (StatementKind.INSERT, StatementKind.UPDATE, StatementKind.DELETE, StatementKind.MERGE)

    @property
    def is_ddl(self) -> bool:
        return not self.is_dml and self is not StatementKind.SELECT


@dataclass(frozen=True)
class TableRef:
    project: str
    dataset: str
    table: str

    @property
    def dotted(self) -> str:
        return f"{self.project}.{self.dataset}.{self.table}"


@dataclass
class ParsedStatement:
    """One BigQuery statement, parsed, with its tables resolved."""

    kind: StatementKind
    tree: exp.Expression
    sql: str = ""
    default_project: str = ""
    default_dataset: str | None = None
    tables: list[TableRef] = field(default_factory=list)
    target: TableRef | None = None
    target_alias: str | None = None
    params: set[str] = field(default_factory=set)
    facts: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """What was worked out from the tree alone (its own tree: ``replace`` starts a new one), kept
    because a parsed statement is cached and run again and again (:func:`fact`)."""

    @property
    def insert_columns(self) -> bool:
        """Whether an INSERT names its columns (``INSERT t (a, b) ...``)."""
        return isinstance(self.tree, exp.Insert) and isinstance(self.tree.this, exp.Schema)


def fact(statement: ParsedStatement, name: str, of_tree: Callable[[exp.Expression], Any]) -> Any:
    """``of_tree(statement.tree)``, worked out once per statement (a pure function of the tree)."""
    facts = statement.facts
    if name not in facts:
        facts[name] = of_tree(statement.tree)
    return facts[name]


def parse(sql: str, *, default_project: str, default_dataset: str | None = None) -> ParsedStatement:
    """Parse one statement and resolve its table references; errors are BigQuery's 400s.

    ``default_dataset`` is the query's ``defaultDataset``: what an unqualified table name means."""
    try:
        text = rewrite_pipes(sql)
        trees = [t for t in sqlglot.parse(text, read="bigquery", error_level=ErrorLevel.RAISE) if t]
    except (ParseError, TokenError, ValueError) as exc:
        # ValueError: sqlglot's pipe-syntax reader on some operands (``|> LIMIT ALL``).
        raise QuerySyntaxError(detail=_first_line(exc)) from exc
    if not trees:
        raise QuerySyntaxError(detail="Unexpected end of script at [1:1]")
    if len(trees) > 1:
        raise UnsupportedByFake(
            "Multi-statement scripts are not supported by the BigQuery fake; send one statement per query"
        )
    tree = hoist_from_joins(normalize_dml(trees[0]))
    kind = _classify(tree)
    statement = ParsedStatement(
        kind=kind, tree=tree, sql=sql, default_project=default_project, default_dataset=default_dataset
    )
    statement.params = {p.name for p in tree.find_all(exp.Parameter)} | {
        p.name for p in tree.find_all(exp.Placeholder) if p.name and p.name != "?"
    }
    if any(p.name in ("", "?") for p in tree.find_all(exp.Placeholder)):
        markers = positional_markers(sql)
        where = f" at [{markers[0][1]}:{markers[0][2]}]" if markers else ""
        raise PositionalParametersNotSupported(where=where)
    _resolve_tables(statement, default_project, default_dataset)
    return statement


POSITIONAL_PREFIX = "__hx_pos_"
"""``?`` number ``i`` becomes ``@__hx_pos_<i>`` (a name a BigQuery parameter can have but a caller
of the fake is very unlikely to choose)."""


def positional_markers(sql: str) -> list[tuple[int, int, int]]:
    """The ``?`` parameter markers of ``sql`` in text order, as (offset, line, column), found by
    sqlglot's BigQuery tokenizer, so a ``?`` in a string literal or a comment is not one."""
    try:
        tokens = sqlglot.Dialect.get_or_raise("bigquery").tokenize(sql)
    except (TokenError, ParseError):
        return []
    return [
        (token.start, token.line, token.col - (token.end - token.start))
        for token in tokens
        if token.token_type is TokenType.PLACEHOLDER and token.text == "?"
    ]


def name_positional_parameters(sql: str) -> tuple[str, int]:
    """``sql`` with its ``?`` markers replaced by named parameters (``@__hx_pos_0``, ...) and the
    number of markers: positional parameters become named ones, which the engine binds."""
    markers = positional_markers(sql)
    for index in range(len(markers) - 1, -1, -1):
        offset = markers[index][0]
        sql = f"{sql[:offset]}@{POSITIONAL_PREFIX}{index}{sql[offset + 1 :]}"
    return sql, len(markers)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _classify(tree: exp.Expression) -> StatementKind:
    if isinstance(tree, exp.Query):
        return StatementKind.SELECT
    if isinstance(tree, exp.Insert):
        return StatementKind.INSERT
    if isinstance(tree, exp.Update):
        return StatementKind.UPDATE
    if isinstance(tree, exp.Delete):
        return StatementKind.DELETE
    if isinstance(tree, exp.Merge):
        return StatementKind.MERGE
    if isinstance(tree, exp.TruncateTable):
        return StatementKind.TRUNCATE_TABLE
    if isinstance(tree, exp.Create):
        kind = (tree.args.get("kind") or "").upper()
        if kind == "SCHEMA":
            return StatementKind.CREATE_SCHEMA
        if kind == "TABLE":
            return StatementKind.CREATE_TABLE_AS_SELECT if tree.expression else StatementKind.CREATE_TABLE
        if kind == "VIEW":  # fakes.bigquery.views runs these
            properties = tree.args.get("properties")
            listed = properties.expressions if properties is not None else []
            materialized = any(isinstance(p, exp.MaterializedProperty) for p in listed)
            return StatementKind.CREATE_MATERIALIZED_VIEW if materialized else StatementKind.CREATE_VIEW
    if isinstance(tree, exp.Drop):
        kind = (tree.args.get("kind") or "").upper()
        if kind == "SCHEMA":
            return StatementKind.DROP_SCHEMA
        if kind == "TABLE":
            return StatementKind.DROP_TABLE
        if kind == "VIEW":
            materialized = tree.args.get("materialized")
            return StatementKind.DROP_MATERIALIZED_VIEW if materialized else StatementKind.DROP_VIEW
    if isinstance(tree, exp.Alter):
        return StatementKind.ALTER_TABLE
    construct = tree.key.upper() if tree.key else type(tree).__name__
    raise UnsupportedByFake(f"Statement {construct} is not supported by the BigQuery fake")


def _resolve_tables(statement: ParsedStatement, default_project: str, default_dataset: str | None) -> None:
    tree = statement.tree
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    target_node = _target_table(tree)
    for table in tree.find_all(exp.Table):
        if not table.name:
            continue  # schema-only references (CREATE/DROP SCHEMA), UNNEST and the like
        if not table.args.get("db"):
            if table.name.lower() in cte_names:
                continue
            if default_dataset is None:
                raise UnqualifiedTable(table=table.name)
        ref = TableRef(
            project=table.args["catalog"].name if table.args.get("catalog") else default_project,
            dataset=table.args["db"].name if table.args.get("db") else str(default_dataset),
            table=table.name,
        )
        table.meta["bq_ref"] = ref
        if table is target_node:
            statement.target = ref
            statement.target_alias = table.alias or ref.table
        elif ref not in statement.tables:
            statement.tables.append(ref)


def _target_table(tree: exp.Expression) -> exp.Table | None:
    node = (
        tree.this if isinstance(tree, exp.Insert | exp.Update | exp.Delete | exp.Merge | exp.Create) else None
    )
    if isinstance(tree, exp.TruncateTable | exp.Drop):
        listed = listed_tables(tree)
        node = listed[0] if listed else None
    if isinstance(tree, exp.Alter):
        node = tree.this
    if isinstance(node, exp.Schema):
        node = node.this
    return node if isinstance(node, exp.Table) else None


def listed_tables(tree: exp.Expression) -> list[exp.Expression]:
    """The objects a DROP or TRUNCATE names (sqlglot keeps them under ``tables`` or ``expressions``)."""
    return list(tree.args.get("tables") or tree.expressions or [])


@dataclass(frozen=True)
class StorageName:
    catalog: str
    schema: str
    table: str
    collated: tuple[str, ...] = ()
    """Columns stored with a collation (:mod:`fakes.bigquery.grouping_collation`)."""


TableMapper = Callable[[TableRef, bool], StorageName]
"""Maps a BigQuery table to the DuckDB object to read (``False``) or to write (``True``)."""


@dataclass(frozen=True)
class Translation:
    """DuckDB SQL for one statement; independent of the parameter values and of the clock, so
    the engine can cache it by SQL text (translation costs more than running a small query)."""

    sql: str
    placeholders: frozenset[str]


CLOCK_PLACEHOLDERS = {
    "__hx_now": lambda now: now,
    "__hx_today": lambda now: now.date(),
    "__hx_datetime": lambda now: now.replace(tzinfo=None),
    "__hx_time": lambda now: now.time().replace(tzinfo=None),
}


def to_duckdb(
    statement: ParsedStatement, *, map_table: TableMapper, describe: Describe | None = None
) -> Translation:
    """Render the statement as DuckDB SQL against the engine's storage (the statement's tree is
    left as parsed; a copy is rewritten). ``describe`` gives the columns of a DuckDB query, which
    set operations need (:mod:`fakes.bigquery.setops`)."""
    tree = statement.tree.copy()
    target_node = _target_table(tree)
    for table in list(tree.find_all(exp.Table)):
        ref = table.meta.get("bq_ref")
        if ref is None:
            continue
        storage = map_table(ref, table is target_node)
        renamed = exp.Table(
            this=exp.to_identifier(storage.table, quoted=True),
            db=exp.to_identifier(storage.schema, quoted=True),
            catalog=exp.to_identifier(storage.catalog, quoted=True),
            alias=table.args.get("alias"),
            pivots=table.args.get("pivots"),
            joins=table.args.get("joins"),
        )
        if not table.args.get("alias") and not (table is target_node and isinstance(tree, exp.Insert)):
            # Storage names differ from table ids: keep `table.col` references working.
            renamed.set("alias", exp.TableAlias(this=exp.to_identifier(ref.table, quoted=True)))
        renamed.meta[COLLATED] = storage.collated
        table.replace(renamed)
    if statement.kind is StatementKind.SELECT:
        for relation in [tree, *_named_relations(tree)]:
            struct_rows_as_columns(relation)
            _name_anonymous_columns(relation)
    tree = binary_grouping_sets(tree)
    tree = tree.transform(_parameters_and_clock, copy=False)
    tree = apply_function_passes(apply_semantic_fixes(rewrite_aggregates(apply_json_fixes(tree))))
    if describe is not None:
        tree = resolve_set_operations(tree, describe)
    placeholders = frozenset(p.name for p in tree.find_all(exp.Placeholder) if p.name)
    try:
        # The tree is this call's own copy, so the generator may change it instead of copying
        # it, unless a fix placed one node in two places (its copy would make two of it).
        text = tree.sql(dialect="duckdb", copy=not is_tree(tree), unsupported_level=ErrorLevel.RAISE)
        return Translation(text, placeholders)
    except UnsupportedError as exc:
        raise UnsupportedByFake(
            f"The BigQuery fake cannot translate this construct: {_first_line(exc)}"
        ) from exc
    except SqlglotError as exc:
        raise UnsupportedByFake(f"The BigQuery fake cannot translate this query: {_first_line(exc)}") from exc


def _name_anonymous_columns(tree: exp.Expression) -> None:
    """BigQuery names a result column that has neither an alias nor an implicit one (a column or
    field path's last name) ``f0_``, ``f1_``, ...: counting those columns only, in select-list
    order. DuckDB would name it after its expression text (``avg(x)``), and a field of a
    computed struct (``(SELECT t FROM ...).b``) too, so that one gets its implicit name.
    A set operation's names are its first input's, however parenthesized."""
    select = tree
    while isinstance(select, exp.SetOperation | exp.Subquery):
        select = select.this if isinstance(select, exp.SetOperation) else select.unnest()
    if not isinstance(select, exp.Select):
        return
    anonymous = 0
    for expression in list(select.expressions):
        if isinstance(expression, exp.Alias | exp.Star | exp.Column) or expression.is_star:
            continue
        field = isinstance(expression, exp.Dot) and not isinstance(expression.expression, exp.Func)
        if field and expression.output_name:
            # A field of an expression (``(SELECT t).b``, ``json.a``) is named after the field;
            # a dotted call (``HLL_COUNT.INIT(x)``) is anonymous.
            expression.replace(exp.alias_(expression.copy(), expression.output_name, quoted=True, copy=False))
            continue
        expression.replace(exp.alias_(expression.copy(), f"f{anonymous}_", quoted=True, copy=False))
        anonymous += 1


def _named_relations(tree: exp.Expression) -> list[exp.Expression]:
    """The queries whose columns a ``*`` passes on: WITH bodies (pipe syntax makes one per
    operator) and subqueries in FROM / JOIN."""
    found: list[exp.Expression] = [cte.this for cte in tree.find_all(exp.CTE)]
    found += [sub for sub in tree.find_all(exp.Subquery) if isinstance(sub.parent, exp.From | exp.Join)]
    return found


def bind(
    statement: ParsedStatement, translation: Translation, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """DuckDB parameter values: the query's own (each must be given) and the injected clock's."""
    missing = sorted(statement.params - set(params))
    if missing:
        raise QueryParameterNotFound(name=missing[0])
    # In the order given (the request's order on the REST path), so that of several bad values
    # the same one is reported every time.
    values = {name: value for name, value in params.items() if name in statement.params}
    values.update(
        {name: CLOCK_PLACEHOLDERS[name](now) for name in translation.placeholders & CLOCK_PLACEHOLDERS.keys()}
    )
    return values


def _parameters_and_clock(node: exp.Expression) -> exp.Expression:
    """Both rewrites in one walk of the tree; the parameters in a clock call's replacement (its
    zone argument) are renamed there, since the walk does not go into a replaced node."""
    clocked = _clock_placeholder(node)
    if clocked is node:
        return _rename_parameter(node)
    return clocked.transform(_rename_parameter, copy=False)


def _rename_parameter(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Parameter | exp.Placeholder) and node.name:
        return exp.Placeholder(this=node.name)
    return node


def _clock_placeholder(node: exp.Expression) -> exp.Expression:
    """CURRENT_TIMESTAMP / DATE / DATETIME / TIME read the injected clock, bound per execution."""
    for kind, name, type_name in (
        (exp.CurrentTimestamp, "__hx_now", "TIMESTAMPTZ"),
        (exp.CurrentDate, "__hx_today", "DATE"),
        (exp.CurrentDatetime, "__hx_datetime", "TIMESTAMP"),
        (exp.CurrentTime, "__hx_time", "TIME"),
    ):
        if isinstance(node, kind):
            zone = node.args.get("this") if kind is not exp.CurrentTimestamp else None
            if zone is not None:
                # CURRENT_DATE('America/New_York'): the clock's instant, read in that zone.
                now = exp.cast(exp.Placeholder(this="__hx_now"), exp.DataType.build("TIMESTAMPTZ"))
                return exp.cast(exp.AtTimeZone(this=now, zone=zone), exp.DataType.build(type_name))
            return exp.cast(exp.Placeholder(this=name), exp.DataType.build(type_name))
    return node
