"""SQL routines: scalar and aggregate SQL functions and table functions, expanded where called.

BigQuery keeps ``CREATE [AGGREGATE|TABLE] FUNCTION ds.f`` in a dataset and a ``CREATE TEMP
FUNCTION`` for one script. The fake does not compile them: a call is replaced by the body, each
parameter by its argument (cast to a declared type; ``ANY TYPE`` and ``ANY TABLE`` as given), a
scalar body cast to ``RETURNS``. An aggregate function's body is an aggregate expression, so the
expansion works where an aggregate does (``NOT AGGREGATE`` arguments are constants anyway). A
table function call in ``FROM`` becomes the body as a subquery named after the function, a
``TABLE t`` argument the table. Arguments are evaluated once per use (a ``RAND()`` argument used
twice differs, where BigQuery evaluates it once). JavaScript and Python functions are refused.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from fakes.bigquery.exceptions import QuerySyntaxError, RoutineTypeChanged, UnsupportedByFake
from fakes.bigquery.pipes import rewrite_pipes
from fakes.bigquery.script_syntax import tokens

_CREATE = re.compile(
    r"(?is)^\s*CREATE\s+(OR\s+REPLACE\s+)?((?:TEMP|TEMPORARY)\s+)?(AGGREGATE\s+|TABLE\s+)?FUNCTION\s+"
    r"(IF\s+NOT\s+EXISTS\s+)?([A-Za-z_`][A-Za-z0-9_.`-]*)\s*\("
)
_MAX_DEPTH = 16
_CALLS = itertools.count(1)


@dataclass
class Routine:
    """One SQL function or procedure: ``params`` are ``(name, type or None, is a table)``;
    ``definition`` is the body as written (``definitionBody`` of routines.get), ``body`` its parse
    (a procedure's body is a script, kept as text only); the times are the engine clock's."""

    name: str
    params: list[tuple[str, str | None, bool]]
    body: exp.Expression
    returns: str | None = None
    table: bool = False
    definition: str = ""
    procedure: bool = False
    aggregate: bool = False
    description: str | None = None
    created: datetime | None = None
    modified: datetime | None = None


def kind_name(routine: Routine) -> str:
    """The routine's kind as BigQuery's messages name it (``SCALAR FUNCTION``, ``PROCEDURE``...)."""
    if routine.procedure:
        return "PROCEDURE"
    if routine.table:
        return "TABLE FUNCTION"
    return "AGGREGATE FUNCTION" if routine.aggregate else "SCALAR FUNCTION"


@dataclass
class CreateRoutine:
    """A parsed ``CREATE ... FUNCTION`` statement."""

    routine: Routine
    path: list[str]
    temporary: bool
    replace: bool
    if_not_exists: bool


def parse_create(text: str) -> CreateRoutine | None:
    """The routine a ``CREATE ... FUNCTION`` defines (``None`` for another statement)."""
    match = _CREATE.match(text)
    if match is None:
        return None
    replace, temporary, kind, if_not_exists, name = match.groups()
    close = _closing(text, match.end() - 1)
    args = text[match.end() : close]
    rest = re.sub(r"(?m)^\s*(?:#|--).*$", "", text[close + 1 :]).strip().rstrip(";").strip()
    returns = None
    returns_match = re.match(r"(?is)^RETURNS\s+(.*?)\s*(?=\bAS\b|\bLANGUAGE\b|\bOPTIONS\b)", rest)
    if returns_match:
        returns = returns_match.group(1).strip()
        rest = rest[returns_match.end() :].strip()
    if re.match(r"(?i)^(LANGUAGE|OPTIONS)\b", rest) or not re.match(r"(?i)^AS\b", rest):
        raise UnsupportedByFake(
            "Only SQL functions are supported by the BigQuery fake (not JavaScript or Python)"
        )
    body_text = rest[2:].strip()
    description = None
    if body_text.startswith("("):
        close_body = _closing(body_text, 0)
        options = re.fullmatch(r"(?is)OPTIONS\s*\((.*)\)", body_text[close_body + 1 :].strip())
        if options is not None:  # AS (body) OPTIONS (description = "...")
            description = option_description(options.group(1))
            body_text = body_text[: close_body + 1]
    is_table = bool(kind) and kind.strip().upper() == "TABLE"
    params = [_param(arg) for arg in split_args(args)]
    try:
        if is_table:
            body = sqlglot.parse_one(body_text, read="bigquery")
            body = body.unnest() if isinstance(body, exp.Subquery) else body
        else:
            body = sqlglot.parse_one(f"SELECT {body_text}", read="bigquery").expressions[0]
    except (SqlglotError, IndexError) as exc:
        raise QuerySyntaxError(
            detail=str(exc).splitlines()[0] if str(exc) else "Invalid function body"
        ) from exc
    path = [part.strip("`") for part in name.strip("`").split(".")]
    aggregate = bool(kind) and kind.strip().upper() == "AGGREGATE"
    if not is_table and body_text.startswith("(") and _closing(body_text, 0) == len(body_text) - 1:
        body_text = body_text[1:-1].strip()  # definitionBody: the expression inside AS ( )
    return CreateRoutine(
        Routine(
            path[-1], params, body, returns, is_table, body_text, aggregate=aggregate, description=description
        ),
        path,
        temporary=bool(temporary),
        replace=bool(replace),
        if_not_exists=bool(if_not_exists),
    )


def option_description(options: str) -> str | None:
    """``description`` of an ``OPTIONS (...)`` list (its string literal's text), if it sets one."""
    match = re.search(r"""(?is)\bdescription\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""", options)
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _param(arg: str) -> tuple[str, str | None, bool]:
    pieces = arg.split(None, 1)
    type_text = re.sub(r"(?i)\s+NOT\s+AGGREGATE\s*$", "", pieces[1]).strip() if len(pieces) > 1 else ""
    upper = type_text.upper()
    is_table = upper == "ANY TABLE" or upper.startswith("TABLE")
    declared = None if upper in ("", "ANY TYPE") or is_table else type_text
    return pieces[0].lower(), declared, is_table


def names_a_function(sql: str) -> bool:
    """Whether ``sql`` creates a (non-temporary) function: cheap for every other statement."""
    return sql.lstrip()[:6].upper() == "CREATE" and _CREATE.match(sql) is not None


def expand_text(sql: str, lookup: Lookup) -> str:
    """The statement with the routines it calls expanded (unchanged text when it calls none)."""
    text = table_arguments(rewrite_pipes(sql))
    try:
        tree = sqlglot.parse_one(text, read="bigquery")
    except SqlglotError:
        return sql  # the engine reports the syntax error in BigQuery's words
    before = tree.sql(dialect="bigquery")
    after = expand(tree, lookup).sql(dialect="bigquery")
    return sql if after == before and text == sql else after


Lookup = Callable[[list[str]], Routine | None]
"""A routine by the name a call uses (``["f"]`` or ``["ds", "f"]``), or ``None``."""


def table_arguments(sql: str) -> str:
    """``f(TABLE t, 1)`` as ``f((SELECT * FROM t), 1)`` (sqlglot does not read ``TABLE t``)."""
    if not re.search(r"(?i)[(,]\s*TABLE\s+[A-Za-z_`]", sql):
        return sql
    toks = tokens(sql)
    edits: list[tuple[int, int, str]] = []
    for index in range(1, len(toks) - 1):
        if (
            toks[index].upper == "TABLE"
            and toks[index - 1].text in "(,"
            and toks[index + 1].kind in ("word", "quoted")
        ):
            name = toks[index + 1]
            stop = index + 2
            if stop < len(toks) and toks[stop].text == "(":  # TABLE tvf(...): a table function's result
                stop = _token_closing(toks, stop) + 1
            target = sql[name.start : toks[stop - 1].end]
            edits.append((toks[index].start, toks[stop - 1].end, f"(SELECT * FROM {target})"))
    for start, stop, text in reversed(edits):
        sql = sql[:start] + text + sql[stop:]
    return sql


def expand(tree: exp.Expression, lookup: Lookup, depth: int = 0) -> exp.Expression:
    """The tree with every call of a routine ``lookup`` knows replaced by its body."""
    if depth > _MAX_DEPTH:
        raise QuerySyntaxError(detail="Function calls nest too deeply")

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous):
            path = [part.name for part in (node.args.get("catalog"), node.args.get("db")) if part is not None]
            routine = lookup([*path, node.this.name])
            if routine is not None and routine.table and not routine.procedure:
                return _table_call(node, routine, lookup, depth)
            return node
        call, path = _call(node)
        if call is None:
            return node
        routine = lookup([*path, str(call.this)])
        if routine is None or routine.table or routine.procedure:
            return node
        return _scalar_call(call, routine, lookup, depth)

    return tree.transform(replace, copy=False)


def _call(node: exp.Expression) -> tuple[exp.Anonymous | None, list[str]]:
    if isinstance(node, exp.Anonymous) and not isinstance(node.parent, exp.Dot | exp.Table):
        return node, []
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Anonymous):
        parts = node.this.parts if isinstance(node.this, exp.Column | exp.Dot) else [node.this]
        return node.expression, [part.name for part in parts]
    return None, []


def _arguments(call: exp.Anonymous, routine: Routine) -> list[exp.Expression]:
    args = list(call.expressions)
    if len(args) != len(routine.params):
        raise QuerySyntaxError(
            detail=f"No matching signature for function {routine.name}: "
            f"{len(routine.params)} arguments expected, {len(args)} given"
        )
    return args


def _scalar_call(call: exp.Anonymous, routine: Routine, lookup: Lookup, depth: int) -> exp.Expression:
    values: dict[str, exp.Expression] = {}
    for (name, type_text, _), arg in zip(routine.params, _arguments(call, routine), strict=True):
        values[name] = (
            exp.cast(arg.copy(), type_text, dialect="bigquery") if type_text else exp.paren(arg.copy())
        )
    body = _substitute(routine.body.copy(), values, {})
    body = expand(body, lookup, depth + 1)
    return exp.cast(body, routine.returns, dialect="bigquery") if routine.returns else exp.paren(body)


def _table_call(node: exp.Table, routine: Routine, lookup: Lookup, depth: int) -> exp.Expression:
    values: dict[str, exp.Expression] = {}
    tables: dict[str, exp.Expression] = {}
    inputs: list[tuple[str, exp.Expression]] = []
    for (name, type_text, is_table), arg in zip(routine.params, _arguments(node.this, routine), strict=True):
        if is_table:
            # Each table argument is one WITH query: read once however often the body names it.
            cte = f"__hx_tvf_{next(_CALLS)}_{name}"
            inputs.append((cte, arg.unnest().copy() if isinstance(arg, exp.Subquery) else arg.copy()))
            tables[name] = exp.Table(this=exp.to_identifier(cte))
        else:
            values[name] = (
                exp.cast(arg.copy(), type_text, dialect="bigquery") if type_text else exp.paren(arg.copy())
            )
    body = _substitute(routine.body.copy(), values, tables)
    body = expand(body, lookup, depth + 1)
    if inputs and isinstance(body, exp.Query):
        for cte, query in inputs:
            body = body.with_(cte, as_=expand(query, lookup, depth + 1))
        with_node = body.args.get("with_") or body.args.get("with")
        ctes = list(with_node.expressions)
        with_node.set("expressions", ctes[-len(inputs) :] + ctes[: -len(inputs)])
    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(routine.name))
    return exp.Subquery(this=body, alias=alias.copy())


def _substitute(
    body: exp.Expression, values: dict[str, exp.Expression], tables: dict[str, exp.Expression]
) -> exp.Expression:
    shadowed = {cte.alias_or_name.lower() for cte in body.find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in values:
            return values[node.name.lower()].copy()
        if isinstance(node, exp.Column) and not node.args.get("db") and node.table.lower() in values:
            # ``p.x`` of a STRUCT parameter ``p``: the field of the argument
            return exp.Dot(this=exp.paren(values[node.table.lower()].copy()), expression=node.this.copy())
        if (
            isinstance(node, exp.Table)
            and not node.args.get("db")
            and node.name.lower() in tables
            and node.name.lower() not in shadowed
        ):
            relation = tables[node.name.lower()].copy()
            relation.set("alias", node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name)))
            return relation
        return node

    return body.transform(swap, copy=False)


@dataclass
class RoutineCatalog:
    """The routines datasets hold, by ``(project, dataset, name)`` (names are case-insensitive)."""

    routines: dict[tuple[str, str, str], Routine] = field(default_factory=dict)

    def create(self, project: str, dataset: str, created: CreateRoutine) -> None:
        key = (project, dataset, created.routine.name.lower())
        if key in self.routines and not created.replace:
            if created.if_not_exists:
                return
            raise QuerySyntaxError(
                detail=f"Already Exists: Function {project}:{dataset}.{created.routine.name}"
            )
        current = self.routines.get(key)
        if current is not None and kind_name(current) != kind_name(created.routine):
            raise RoutineTypeChanged(old=kind_name(current), new=kind_name(created.routine))
        self.routines[key] = created.routine

    def get(self, project: str, dataset: str, name: str) -> Routine | None:
        return self.routines.get((project, dataset, name.lower()))

    def in_dataset(self, project: str, dataset: str) -> list[Routine]:
        """The dataset's routines, by name (routines.list and INFORMATION_SCHEMA.ROUTINES)."""
        found = [r for key, r in self.routines.items() if key[:2] == (project, dataset)]
        return sorted(found, key=lambda r: r.name.lower())

    def delete(self, project: str, dataset: str, name: str) -> bool:
        return self.routines.pop((project, dataset, name.lower()), None) is not None

    def drop_dataset(self, project: str, dataset: str) -> None:
        for key in [k for k in self.routines if k[:2] == (project, dataset)]:
            del self.routines[key]

    def lookup(self, project: str, default_dataset: str | None) -> Lookup:
        def find(path: list[str]) -> Routine | None:
            if len(path) == 1:
                names = [project, default_dataset or "", path[0]]
            elif len(path) == 2:
                names = [project, *path]
            else:
                names = path[-3:]
            return self.routines.get((names[0], names[1], names[2].lower()))

        return find

    def has(self, project: str) -> bool:
        return any(key[0] == project for key in self.routines)


def _closing(text: str, open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise QuerySyntaxError(detail="Expected ) after the function's parameters")


def _token_closing(toks: tuple, open_index: int) -> int:  # type: ignore[type-arg]
    depth = 0
    for index in range(open_index, len(toks)):
        if toks[index].text == "(":
            depth += 1
        elif toks[index].text == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(toks) - 1


def split_args(text: str) -> list[str]:
    """A routine's or a DECLARE's comma-separated list, split outside parentheses and ``<>``."""
    items, depth, current = [], 0, ""
    for char in text:
        if char in "(<":
            depth += 1
        elif char in ")>":
            depth -= 1
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current.strip())
    return items
