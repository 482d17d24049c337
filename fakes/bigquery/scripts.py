"""Running a BigQuery multi-statement script on the engine, the way a BigQuery script job does.

Statements run in order on one engine (:mod:`fakes.bigquery.script_syntax` reads them); the
script's result is that of the last statement that ran a query (BigQuery's script job returns
the last SELECT's rows), with ``statementType`` ``SCRIPT``.

* variables (``DECLARE``, ``SET``, ``SET (a, b) = ...``, ``FOR x IN``) are passed to each SQL
  statement as query parameters: an unqualified name that is a variable becomes ``@<param>``.
  The fake does not know table columns while reading a statement, so a variable shadows a column
  of the same name (BigQuery resolves the column); name variables apart from columns;
* ``@@error.message``, ``@@error.statement_text``, ``@@script.*`` are parameters too;
* temporary SQL functions (``CREATE TEMP [AGGREGATE] FUNCTION``) are expanded where they are
  called: each argument replaces its parameter (cast to a declared type), the body is cast to
  ``RETURNS``; an aggregate function's body is an aggregate expression, so expanding it works
  where an aggregate does. JavaScript functions are refused;
* temporary tables (``CREATE TEMP TABLE``) live in a hidden dataset dropped when the script ends;
* a loop runs until ``BREAK``; an error in ``BEGIN ... EXCEPTION WHEN ERROR THEN`` runs the
  handler with ``@@error.*`` set.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from fakes.bigquery import routines
from fakes.bigquery.call_arguments import bind_call
from fakes.bigquery.exceptions import QuerySyntaxError, ScriptRaised, UnsupportedByFake
from fakes.bigquery.script_syntax import Statement, parse_script
from harness.ports import QueryParam, QueryResult, WarehouseError
from harness.schema.spec import DatasetSpec, FieldSpec

_VAR_PREFIX = "__hx_var_"
_SYS_PREFIX = "__hx_sys_"
_TYPE_NAMES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}
_SCRIPT_IDS = itertools.count(1)


class ScriptEngine(Protocol):
    def query(
        self,
        project: str,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        default_dataset: str | None = None,
        time_zone: str | None = None,
    ) -> QueryResult: ...

    def create_dataset(self, project: str, spec: DatasetSpec, *, exists_ok: bool = False) -> Any: ...

    def delete_dataset(
        self, project: str, dataset_id: str, *, delete_contents: bool = False, not_found_ok: bool = False
    ) -> None: ...


class _Break(Exception):
    def __init__(self, label: str | None) -> None:
        self.label = label


class _Continue(_Break):
    pass


class _Return(Exception):
    pass


@dataclass
class _Variable:
    type: str | None
    value: Any


@dataclass
class ScriptRun:
    engine: ScriptEngine
    project: str
    default_dataset: str | None
    params: dict[str, Any]
    time_zone: str | None = None
    variables: dict[str, _Variable] = field(default_factory=dict)
    functions: dict[str, routines.Routine] = field(default_factory=dict)
    temp_tables: set[str] = field(default_factory=set)
    system: dict[str, Any] = field(default_factory=dict)
    temp_dataset: str | None = None
    last: QueryResult | None = None

    # ------------------------------------------------------------------ statements

    def block(self, statements: list[Statement]) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, statement: Statement) -> None:
        kind = statement.kind
        parts = statement.parts
        if kind == "SQL":
            self.sql(statement.text)
        elif kind == "DECLARE":
            self.declare(parts)
        elif kind == "SET":
            self.assign(str(parts["assignment"]))
        elif kind == "IF":
            for condition, body in parts["branches"]:  # type: ignore[attr-defined]
                if self.evaluate(condition)[0] is True:
                    self.block(body)
                    return
            self.block(parts["else"])  # type: ignore[arg-type]
        elif kind in ("LOOP", "WHILE", "REPEAT"):
            self.loop(statement)
        elif kind == "FOR":
            self.for_in(statement)
        elif kind == "BEGIN":
            self.begin(statement)
        elif kind == "BREAK":
            raise _Break(parts.get("label"))  # type: ignore[arg-type]
        elif kind == "CONTINUE":
            raise _Continue(parts.get("label"))  # type: ignore[arg-type]
        elif kind == "RETURN":
            raise _Return()
        elif kind == "RAISE":
            message = parts.get("message")
            text = self.evaluate(str(message))[0] if message else self.system.get("error.message")
            raise ScriptRaised(detail=str(text or ""))

    def loop(self, statement: Statement) -> None:
        parts = statement.parts
        label = parts.get("label")
        while True:
            if statement.kind == "WHILE" and self.evaluate(str(parts["condition"]))[0] is not True:
                return
            try:
                self.block(parts["body"])  # type: ignore[arg-type]
            except _Continue as signal:
                if signal.label not in (None, label):
                    raise
            except _Break as signal:
                if signal.label not in (None, label):
                    raise
                return
            if statement.kind == "REPEAT" and self.evaluate(str(parts["condition"]))[0] is True:
                return

    def for_in(self, statement: Statement) -> None:
        parts = statement.parts
        result = self.query(str(parts["query"]).strip())
        name = str(parts["variable"]).lower()
        outer = self.variables.get(name)
        try:
            for row in result.rows:
                self.variables[name] = _Variable("STRUCT", dict(row))
                try:
                    self.block(parts["body"])  # type: ignore[arg-type]
                except _Continue as signal:
                    if signal.label not in (None, parts.get("label")):
                        raise
                except _Break as signal:
                    if signal.label not in (None, parts.get("label")):
                        raise
                    return
        finally:
            if outer is None:
                self.variables.pop(name, None)
            else:
                self.variables[name] = outer

    def begin(self, statement: Statement) -> None:
        handler = statement.parts.get("handler")
        try:
            self.block(statement.parts["body"])  # type: ignore[arg-type]
        except _Break as signal:
            if signal.label is None or signal.label != statement.parts.get("label"):
                raise
        except WarehouseError as exc:
            if handler is None:
                raise
            self.system["error.message"] = str(exc)
            self.system["error.statement_text"] = self.system.get("statement_text", "")
            self.block(handler)  # type: ignore[arg-type]

    def declare(self, parts: dict[str, object]) -> None:
        type_text = parts.get("type")
        default = parts.get("default")
        value, inferred = (None, None)
        if default is not None:
            expression = f"CAST(({default}) AS {type_text})" if type_text else str(default)
            value, inferred = self.evaluate(expression)
        for name in parts["names"]:  # type: ignore[attr-defined]
            if str(name).lower() in self.variables:
                raise QuerySyntaxError(detail=f"Variable {name} is already declared")
            self.variables[str(name).lower()] = _Variable(str(type_text) if type_text else inferred, value)

    def assign(self, text: str) -> None:
        target, _, value = text.partition("=")
        target = target.strip()
        if target.startswith("("):
            names = [n.strip().lower() for n in target.strip("()").split(",")]
            source = value.strip()
            inner = source[1:-1].strip() if source.startswith("(") and source.endswith(")") else source
            if re.match(r"(?is)^select\b", inner):
                result = self.query(inner)
                row = list(result.rows[0].values()) if result.rows else [None] * len(names)
                if len(row) == 1 and isinstance(row[0], dict):
                    row = list(row[0].values())
                types = [_type_text(spec) for spec in result.schema]
            else:
                result = self.query(f"SELECT {inner}")
                row = list(result.rows[0].values())
                types = [_type_text(spec) for spec in result.schema]
            for index, name in enumerate(names):
                self._set(
                    name,
                    row[index] if index < len(row) else None,
                    types[index] if index < len(types) else None,
                )
            return
        name = target.lower()
        variable = self._variable(name)
        expression = (
            f"CAST(({value}) AS {variable.type})" if variable.type and variable.type != "STRUCT" else value
        )
        result, inferred = self.evaluate(expression)
        self._set(name, result, inferred)

    def _set(self, name: str, value: Any, inferred: str | None) -> None:
        variable = self._variable(name)
        variable.value = value
        if variable.type is None:
            variable.type = inferred

    def _variable(self, name: str) -> _Variable:
        if name.startswith("@@"):
            raise UnsupportedByFake(
                f"Setting the system variable {name} is not supported by the BigQuery fake"
            )
        variable = self.variables.get(name)
        if variable is None:
            raise QuerySyntaxError(detail=f"Undeclared variable: {name}")
        return variable

    # ------------------------------------------------------------------ SQL

    def sql(self, text: str) -> None:
        self.system["statement_text"] = text
        words = text.split(None, 6)
        upper = [w.upper() for w in words]
        if (
            upper[:1] == ["CREATE"]
            and ("TEMP" in upper[1:4] or "TEMPORARY" in upper[1:4])
            and "FUNCTION" in upper
        ):
            self.create_function(text)
            return
        if (
            upper[:1] == ["CREATE"]
            and ("TEMP" in upper[1:4] or "TEMPORARY" in upper[1:4])
            and "TABLE" in upper[1:5]
        ):
            self.create_temp_table(text)
            return
        if upper[:1] == ["DROP"] and "FUNCTION" in upper[1:3]:
            name = words[-1].rstrip(";").lower()
            if self.functions.pop(name, None) is not None:
                return
        if upper[:1] == ["CREATE"] and "PROCEDURE" in upper[1:4]:  # its body is the procedure's
            self.last = self.engine.query(self.project, text, default_dataset=self.default_dataset)
            return
        if upper[:1] == ["CALL"]:  # arguments may name variables: passed on as values
            text, arguments = bind_call(text, self.evaluate)
            self.last = self.engine.query(
                self.project, text, arguments, default_dataset=self.default_dataset, time_zone=self.time_zone
            )
            return
        self.last = self.query(text)

    def query(self, text: str) -> QueryResult:
        sql, params = self.bind(text)
        return self.engine.query(
            self.project, sql, params, default_dataset=self.default_dataset, time_zone=self.time_zone
        )

    def evaluate(self, expression: str) -> tuple[Any, str | None]:
        """The value and BigQuery type of one expression."""
        result = self.query(f"SELECT {expression}")
        spec = result.schema[0]
        return next(iter(result.rows[0].values())), _type_text(spec)

    def bind(self, text: str) -> tuple[str, dict[str, Any]]:
        """The statement with variables, system variables, temporary functions and tables
        resolved, and the parameters it needs."""
        params = dict(self.params)
        needs_rewrite = self.variables or self.functions or self.temp_tables or "@@" in text
        if not needs_rewrite:
            return text, params
        text = re.sub(
            r"@@([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)", self._system_param(params), text
        )
        try:
            tree = sqlglot.parse_one(text, read="bigquery")
        except SqlglotError:
            return text, params  # the engine reports the syntax error in BigQuery's words
        tree = routines.expand(tree, self._temporary)
        self._name_variable_columns(tree)
        tree = tree.transform(lambda node: self._resolve_name(node, params), copy=False)
        return tree.sql(dialect="bigquery"), params

    def _name_variable_columns(self, tree: exp.Expression) -> None:
        """``SELECT n`` of a variable names its column ``n``, as for a column."""
        for select in tree.find_all(exp.Select):
            for item in select.expressions:
                if isinstance(item, exp.Column) and not item.table and item.name.lower() in self.variables:
                    item.replace(exp.alias_(item.copy(), item.name))

    def _system_param(self, params: dict[str, Any]) -> Any:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1).lower()
            key = _SYS_PREFIX + name.replace(".", "_")
            value = self.system.get(name)
            if name == "script.job_id":
                value = value or "script_job"
            params[key] = QueryParam("STRING", None if value is None else str(value))
            return "@" + key

        return replace

    def _resolve_name(self, node: exp.Expression, params: dict[str, Any]) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name.lower() in self.temp_tables:
            node.set("db", exp.to_identifier(self.temp_dataset))
            return node
        if not isinstance(node, exp.Column):
            return node
        table = node.args.get("table")
        head = (table.name if table is not None else node.name).lower()
        variable = self.variables.get(head)
        if variable is None or node.args.get("db"):
            return node
        if table is not None and isinstance(variable.value, dict):
            # A FOR loop's row: its field is the parameter.
            key = f"{_VAR_PREFIX}{head}__{node.name.lower()}"
            params[key] = next((v for k, v in variable.value.items() if k.lower() == node.name.lower()), None)
            return exp.Parameter(this=exp.Var(this=key))
        key = _VAR_PREFIX + head
        params[key] = _param(variable)
        parameter = exp.Parameter(this=exp.Var(this=key))
        if table is not None:
            return exp.Dot(this=parameter, expression=exp.to_identifier(node.name))
        return parameter

    def create_function(self, text: str) -> None:
        created = routines.parse_create(text)
        if created is None or created.routine.table:
            raise UnsupportedByFake("Temporary table functions are not supported by BigQuery")
        self.functions[created.routine.name.lower()] = created.routine

    def _temporary(self, path: list[str]) -> routines.Routine | None:
        return self.functions.get(path[0].lower()) if len(path) == 1 else None

    def create_temp_table(self, text: str) -> None:
        match = re.match(
            r"(?is)^\s*CREATE\s+(OR\s+REPLACE\s+)?(?:TEMP|TEMPORARY)\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)",
            text,
        )
        if match is None:
            raise UnsupportedByFake("Temporary tables are named by one identifier")
        if self.temp_dataset is None:
            self.temp_dataset = f"_script_{next(_SCRIPT_IDS)}"
            self.engine.create_dataset(self.project, DatasetSpec(dataset_id=self.temp_dataset))
        name = match.group(3)
        self.temp_tables.add(name.lower())
        rest = text[match.end() :]
        replace = "OR REPLACE " if match.group(1) else ""
        exists = "IF NOT EXISTS " if match.group(2) else ""
        self.last = self.query(f"CREATE {replace}TABLE {exists}`{self.temp_dataset}.{name}`{rest}")

    def close(self) -> None:
        if self.temp_dataset is not None:
            self.engine.delete_dataset(
                self.project, self.temp_dataset, delete_contents=True, not_found_ok=True
            )


def run(
    engine: ScriptEngine,
    project: str,
    sql: str,
    params: Mapping[str, Any] | None,
    default_dataset: str | None,
    time_zone: str | None = None,
) -> QueryResult:
    """Run a script; its result is the last query's rows, ``statementType`` ``SCRIPT``. Every
    statement runs in the script's default ``time_zone``."""
    script = ScriptRun(engine, project, default_dataset, dict(params or {}), time_zone=time_zone)
    try:
        return execute(script, sql)
    finally:
        script.close()


def execute(script: ScriptRun, sql: str) -> QueryResult:
    """Run ``sql``'s statements on ``script``, whose variables, temporary functions and tables
    stay for the caller to keep (a session) or close (a script job)."""
    statements = parse_script(sql)
    script.last = None
    try:
        script.block(statements)
    except _Return:
        pass
    except _Break as signal:
        raise QuerySyntaxError(
            detail=f"{'BREAK' if not isinstance(signal, _Continue) else 'CONTINUE'} is only allowed in a loop"
        ) from None
    last = script.last
    if last is None or last.statement_type not in ("SELECT", "SCRIPT"):  # SCRIPT: a CALL's result
        return QueryResult(rows=[], statement_type="SCRIPT")
    return QueryResult(rows=last.rows, schema=last.schema, statement_type="SCRIPT")


def _param(variable: _Variable) -> Any:
    if (variable.type and variable.type.upper().startswith(("STRUCT", "ARRAY<STRUCT"))) or isinstance(
        variable.value, dict
    ):
        raise UnsupportedByFake("STRUCT variables in queries are not supported by the BigQuery fake")
    if variable.type is None:
        return variable.value
    return QueryParam(variable.type, variable.value)


def _type_text(spec: FieldSpec) -> str:
    scalar = _TYPE_NAMES.get(spec.type.value, spec.type.value)
    return f"ARRAY<{scalar}>" if spec.is_repeated else scalar
