"""The routine statements beside ``CREATE FUNCTION``: ``CREATE PROCEDURE``, ``CALL`` and ``DROP
FUNCTION`` / ``DROP PROCEDURE``.

A procedure is kept in the same :class:`~fakes.bigquery.routines.RoutineCatalog` as the
functions (so routines.list shows every routine however it was made) with its ``BEGIN ... END``
body as text. ``CALL ds.p(a, b)`` runs that body as a script whose first statements declare
each ``IN`` parameter with its argument's value: the body sees its parameters as variables, as in
BigQuery. ``OUT`` / ``INOUT`` parameters are refused (the fake cannot write back to the caller's
variables).
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from typing import Any, Protocol

from sqlglot import exp

from fakes.bigquery import routines, scripts
from fakes.bigquery.call_arguments import CALL as _CALL
from fakes.bigquery.call_arguments import closing as _closing
from fakes.bigquery.exceptions import (
    ProcedureNotFound,
    QueryDatasetNotFound,
    QuerySyntaxError,
    RoutineNotFound,
    UnqualifiedTable,
    UnsupportedByFake,
)
from harness.ports import Clock, QueryResult

_NAME = r"([A-Za-z_`][A-Za-z0-9_.`-]*)"
_CREATE = re.compile(
    r"(?is)^\s*CREATE\s+(OR\s+REPLACE\s+)?PROCEDURE\s+(IF\s+NOT\s+EXISTS\s+)?" + _NAME + r"\s*\("
)
_DROP = re.compile(
    r"(?is)^\s*DROP\s+(?:TABLE\s+)?(FUNCTION|PROCEDURE)\s+(IF\s+EXISTS\s+)?" + _NAME + r"\s*;?\s*$"
)


class Runner(Protocol):
    """What running a procedure needs of the engine (a :class:`scripts.ScriptEngine` with a clock)."""

    clock: Clock

    def query(
        self,
        project: str,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        default_dataset: str | None = None,
        time_zone: str | None = None,
    ) -> QueryResult: ...


def handles(sql: str) -> bool:
    """Whether ``sql`` is one of this module's statements (cheap for every other statement)."""
    head = sql.lstrip()[:6].upper()
    if head.startswith("CALL"):
        return _CALL.match(sql) is not None
    if head == "CREATE":
        return _CREATE.match(sql) is not None
    return head.startswith("DROP") and _DROP.match(sql) is not None


def run(
    runner: Runner,
    catalog: routines.RoutineCatalog,
    datasets: Container[tuple[str, str]],
    project: str,
    sql: str,
    params: Mapping[str, Any] | None,
    default_dataset: str | None,
    time_zone: str | None = None,
) -> QueryResult:
    """Run one ``CREATE PROCEDURE``, ``CALL`` or ``DROP FUNCTION|PROCEDURE`` statement."""
    create = _CREATE.match(sql)
    if create is not None:
        return _create(runner, catalog, datasets, project, sql, create, default_dataset)
    drop = _DROP.match(sql)
    if drop is not None:
        kind, if_exists, name = drop.groups()
        dataset, routine_id = _place(project, _path(name), default_dataset)
        found = catalog.get(project, dataset, routine_id)
        if found is None or found.procedure != (kind.upper() == "PROCEDURE"):
            if if_exists:
                return QueryResult(rows=[], statement_type=f"DROP_{kind.upper()}")
            raise RoutineNotFound(project=project, dataset_id=dataset, routine_id=routine_id)
        catalog.delete(project, dataset, routine_id)
        return QueryResult(rows=[], statement_type=f"DROP_{kind.upper()}")
    call = _CALL.match(sql)
    assert call is not None
    return _call(runner, catalog, project, sql, call, params, default_dataset, time_zone)


def _create(
    runner: Runner,
    catalog: routines.RoutineCatalog,
    datasets: Container[tuple[str, str]],
    project: str,
    sql: str,
    match: re.Match[str],
    default_dataset: str | None,
) -> QueryResult:
    replace, if_not_exists, name = match.groups()
    close = _closing(sql, match.end() - 1)
    params = [_param(arg) for arg in routines.split_args(sql[match.end() : close])]
    rest = sql[close + 1 :].strip().rstrip(";").strip()
    options = re.match(r"(?is)^OPTIONS\s*\((.*?)\)\s*(?=BEGIN\b)", rest)
    description = routines.option_description(options.group(1)) if options else None
    rest = rest[options.end() :] if options else rest
    if not re.match(r"(?is)^BEGIN\b.*\bEND$", rest):
        raise QuerySyntaxError(detail="Expected keyword BEGIN after the procedure's parameters")
    path = _path(name)
    dataset, routine_id = _place(project, path, default_dataset)
    if (project, dataset) not in datasets:
        raise QueryDatasetNotFound(project=project, dataset_id=dataset)
    now = runner.clock.now()
    procedure = routines.Routine(
        routine_id,
        params,
        exp.null(),
        definition=rest,
        procedure=True,
        description=description,
        created=now,
        modified=now,
    )
    created = routines.CreateRoutine(
        procedure,
        [dataset, routine_id],
        temporary=False,
        replace=bool(replace),
        if_not_exists=bool(if_not_exists),
    )
    catalog.create(project, dataset, created)
    return QueryResult(rows=[], statement_type="CREATE_PROCEDURE")


def _call(
    runner: Runner,
    catalog: routines.RoutineCatalog,
    project: str,
    sql: str,
    match: re.Match[str],
    params: Mapping[str, Any] | None,
    default_dataset: str | None,
    time_zone: str | None,
) -> QueryResult:
    path = _path(match.group(1))
    close = _closing(sql, match.end() - 1)
    if sql[close + 1 :].strip().strip(";").strip():
        raise QuerySyntaxError(detail="Expected end of input after CALL")
    dataset, routine_id = _place(project, path, default_dataset)
    procedure = catalog.get(path[0] if len(path) == 3 else project, dataset, routine_id)
    if procedure is None or not procedure.procedure:
        offset = match.start(1)
        raise ProcedureNotFound(
            path=f"{project}.{dataset}.{routine_id}",
            line=sql.count("\n", 0, offset) + 1,
            column=offset - (sql.rfind("\n", 0, offset) + 1) + 1,
        )
    args = routines.split_args(sql[match.end() : close])
    if len(args) != len(procedure.params):
        raise QuerySyntaxError(
            detail=f"Procedure {routine_id} takes {len(procedure.params)} arguments, {len(args)} given"
        )
    declares = [
        f"DECLARE {name} {type_text or ''} DEFAULT ({arg});"
        for (name, type_text, _), arg in zip(procedure.params, args, strict=True)
    ]
    body = "\n".join([*declares, procedure.definition + ";"])
    return scripts.run(runner, project, body, params, default_dataset, time_zone)  # type: ignore[arg-type]


def _param(arg: str) -> tuple[str, str | None, bool]:
    mode = re.match(r"(?i)^(IN|OUT|INOUT)\s+", arg)
    if mode is not None:
        if mode.group(1).upper() != "IN":
            raise UnsupportedByFake(
                f"{mode.group(1).upper()} procedure parameters are not supported by the BigQuery fake"
            )
        arg = arg[mode.end() :]
    pieces = arg.split(None, 1)
    if len(pieces) != 2:
        raise QuerySyntaxError(detail=f"Expected a type for procedure parameter {arg}")
    return pieces[0].lower(), pieces[1].strip(), False


def _path(name: str) -> list[str]:
    return [part for part in name.replace("`", "").split(".") if part]


def _place(project: str, path: list[str], default_dataset: str | None) -> tuple[str, str]:
    """(dataset, routine id) of a routine name as written."""
    if len(path) == 1:
        if default_dataset is None:
            raise UnqualifiedTable(table=path[0])
        return default_dataset, path[0]
    return path[-2], path[-1]
