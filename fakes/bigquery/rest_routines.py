"""``routines`` insert/get/list/update/delete of the REST emulator, and the IAM policy methods of
routines and tables.

A routine sent over REST becomes the ``CREATE [OR REPLACE] FUNCTION`` / ``TABLE FUNCTION`` /
``PROCEDURE`` statement it stands for and runs on the engine, so REST-made and DDL-made routines
are the same objects in one catalog (routines.list shows both, queries call both); a routine is
rendered back from that object, its types as ``StandardSqlDataType``. Only SQL routines exist:
another ``language`` is a 400 that names it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlglot import exp
from sqlglot.errors import SqlglotError

from fakes.bigquery import information_schema
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    PreconditionFailed,
    RequiredParameterMissing,
    RoutineAlreadyExists,
    RoutineFieldMissing,
    RoutineNotFound,
    UnsupportedByFake,
)
from fakes.bigquery.iam_policies import PolicyStore, register_policy_routes
from fakes.bigquery.rest_requests import json_body, object_at, page_of
from fakes.bigquery.rest_resources import PREFIX
from fakes.bigquery.rest_routes import PlainRoutes
from fakes.bigquery.routines import Routine, split_args

_KINDS = ("SCALAR_FUNCTION", "TABLE_VALUED_FUNCTION", "PROCEDURE", "AGGREGATE_FUNCTION")
_LIST_FIELDS = ("etag", "routineReference", "routineType", "creationTime", "lastModifiedTime", "language")
_TYPE_KINDS = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "DECIMAL": "NUMERIC"}


def register(app: FastAPI, engine: BigQueryEngine, jobs: object) -> None:
    """Add the routines routes and the tables' and routines' IAM policy routes to the emulator;
    let INFORMATION_SCHEMA.JOBS see ``jobs``."""
    routes = PlainRoutes(app)
    information_schema.attach_jobs(engine, jobs)
    catalog = engine._routines
    policies = PolicyStore()
    base = f"{PREFIX}/projects/{{project}}/datasets/{{dataset_id}}/routines"

    def existing(project: str, dataset_id: str, routine_id: str) -> Routine:
        engine.get_dataset(project, dataset_id)
        routine = catalog.get(project, dataset_id, routine_id)
        if routine is None:
            raise RoutineNotFound(project=project, dataset_id=dataset_id, routine_id=routine_id)
        return routine

    @routes.post(base)
    async def routines_insert(project: str, dataset_id: str, request: Request) -> JSONResponse:
        body = await json_body(request)
        routine_id = object_at(body, "routineReference").get("routineId")
        if not routine_id:
            raise RequiredParameterMissing(name="routineReference.routineId")
        engine.get_dataset(project, dataset_id)
        if catalog.get(project, dataset_id, routine_id) is not None:
            raise RoutineAlreadyExists(project=project, dataset_id=dataset_id, routine_id=routine_id)
        routine = _save(engine, project, dataset_id, routine_id, body, replace=False)
        return JSONResponse(routine_resource(project, dataset_id, routine))

    @routes.get(base)
    async def routines_list(project: str, dataset_id: str, request: Request) -> JSONResponse:
        engine.get_dataset(project, dataset_id)
        page, token = page_of(_filtered(catalog.in_dataset(project, dataset_id), request), request)
        mask = request.query_params.get("readMask")
        wanted = set(_LIST_FIELDS)
        if mask:
            wanted |= {f.strip() for f in mask.split(",") if f.strip()}
        items = [
            {k: v for k, v in routine_resource(project, dataset_id, r).items() if k in wanted} for r in page
        ]
        listing: dict[str, Any] = {"routines": items} if items else {}
        if token:
            listing["nextPageToken"] = token
        return JSONResponse(listing)

    @routes.get(f"{base}/{{routine_id}}")
    async def routines_get(project: str, dataset_id: str, routine_id: str) -> JSONResponse:
        return JSONResponse(routine_resource(project, dataset_id, existing(project, dataset_id, routine_id)))

    @routes.put(f"{base}/{{routine_id}}")
    async def routines_update(
        project: str, dataset_id: str, routine_id: str, request: Request
    ) -> JSONResponse:
        body = await json_body(request)
        current = existing(project, dataset_id, routine_id)
        if_match = request.headers.get("If-Match")
        if if_match and if_match != routine_resource(project, dataset_id, current)["etag"]:
            raise PreconditionFailed()
        routine = _save(engine, project, dataset_id, current.name, body, replace=True)
        routine.created = current.created
        return JSONResponse(routine_resource(project, dataset_id, routine))

    @routes.delete(f"{base}/{{routine_id}}")
    async def routines_delete(project: str, dataset_id: str, routine_id: str) -> Response:
        existing(project, dataset_id, routine_id)
        catalog.delete(project, dataset_id, routine_id)
        policies.forget(f"projects/{project}/datasets/{dataset_id}/routines/{routine_id}")
        return Response(status_code=204)

    register_policy_routes(
        app, policies, f"{base}/{{routine_id}}", lambda p, d, r: existing(p, d, r) and None, "routine_id"
    )
    register_policy_routes(
        app,
        policies,
        f"{PREFIX}/projects/{{project}}/datasets/{{dataset_id}}/tables/{{table_id}}",
        lambda p, d, t: engine.get_table(p, d, t) and None,
        "table_id",
    )


def _filtered(routines: list[Routine], request: Request) -> list[Routine]:
    """routines.list's ``filter``: only ``routineType:<type>`` is supported (a 400 names any other)."""
    text = request.query_params.get("filter")
    if not text:
        return routines
    match = re.fullmatch(r"\s*routineType\s*:\s*([A-Z_]+)\s*", text)
    if match is None:
        raise UnsupportedByFake(
            f"The emulator supports filter=routineType:<type> only, not {text}", reason="invalid"
        )
    return [r for r in routines if routine_kind(r) == match.group(1)]


def _save(
    engine: BigQueryEngine,
    project: str,
    dataset_id: str,
    routine_id: str,
    body: Mapping[str, Any],
    *,
    replace: bool,
) -> Routine:
    """Run the DDL a routine resource stands for; the routine the catalog now holds."""
    engine.query(project, _ddl(dataset_id, routine_id, body, replace=replace))
    routine = engine._routines.get(project, dataset_id, routine_id)
    assert routine is not None
    routine.description = body.get("description")
    return routine


def _ddl(dataset_id: str, routine_id: str, body: Mapping[str, Any], *, replace: bool) -> str:
    kind = body.get("routineType")
    definition = body.get("definitionBody")
    if not kind:
        raise RoutineFieldMissing(name="routineType")
    if kind not in _KINDS:
        raise UnsupportedByFake(f"routineType {kind} is not supported by the emulator", reason="invalid")
    if definition is None:
        raise RoutineFieldMissing(name="definitionBody")
    language = body.get("language") or "SQL"
    if language != "SQL":
        raise UnsupportedByFake(
            f"language {language} routines are not supported by the emulator", reason="invalid"
        )
    for unsupported in ("remoteFunctionOptions", "sparkOptions", "pythonOptions", "importedLibraries"):
        if body.get(unsupported):
            raise UnsupportedByFake(f"{unsupported} is not supported by the emulator", reason="invalid")
    args = ", ".join(_argument(arg, procedure=kind == "PROCEDURE") for arg in body.get("arguments") or [])
    head = f"CREATE {'OR REPLACE ' if replace else ''}"
    name = f"`{dataset_id}.{routine_id}`"
    if kind == "PROCEDURE":
        text = str(definition).strip().rstrip(";")
        if not text.upper().startswith("BEGIN"):
            text = f"BEGIN\n{text};\nEND"
        return f"{head}PROCEDURE {name}({args}) {text}"
    if kind == "TABLE_VALUED_FUNCTION":
        columns = (body.get("returnTableType") or {}).get("columns") or []
        returns = f" RETURNS TABLE<{_fields_sql(columns)}>" if columns else ""
        return f"{head}TABLE FUNCTION {name}({args}){returns} AS ({definition})"
    returns = f" RETURNS {type_sql(body['returnType'])}" if body.get("returnType") else ""
    aggregate = "AGGREGATE " if kind == "AGGREGATE_FUNCTION" else ""
    return f"{head}{aggregate}FUNCTION {name}({args}){returns} AS ({definition})"


def _argument(arg: Mapping[str, Any], *, procedure: bool) -> str:
    if not arg.get("name"):
        raise RoutineFieldMissing(name="arguments.name")
    if arg.get("argumentKind") == "ANY_TYPE":
        type_text = "ANY TYPE"
    elif arg.get("dataType"):
        type_text = type_sql(arg["dataType"])
    else:
        raise RoutineFieldMissing(name=f"arguments.dataType of {arg['name']}")
    mode = arg.get("mode")
    prefix = f"{mode} " if procedure and mode and mode != "MODE_UNSPECIFIED" else ""
    suffix = " NOT AGGREGATE" if arg.get("isAggregate") is False else ""
    return f"{prefix}{arg['name']} {type_text}{suffix}"


def type_sql(data_type: Mapping[str, Any]) -> str:
    """A ``StandardSqlDataType`` as GoogleSQL type text."""
    kind = data_type.get("typeKind")
    if kind == "ARRAY":
        return f"ARRAY<{type_sql(data_type.get('arrayElementType') or {})}>"
    if kind == "STRUCT":
        fields = (data_type.get("structType") or {}).get("fields") or []
        return f"STRUCT<{_fields_sql(fields)}>"
    if kind == "RANGE":
        return f"RANGE<{(data_type.get('rangeElementType') or {}).get('typeKind')}>"
    if not kind or kind == "TYPE_KIND_UNSPECIFIED":
        raise RoutineFieldMissing(name="typeKind")
    return str(kind)


def _fields_sql(fields: list[Mapping[str, Any]]) -> str:
    return ", ".join(f"{f['name']} {type_sql(f['type'])}" for f in fields)


def standard_type(text: str) -> dict[str, Any]:
    """GoogleSQL type text as a ``StandardSqlDataType``."""
    try:
        data_type = exp.DataType.build(text, dialect="bigquery")
    except (SqlglotError, ValueError):
        return {"typeKind": text.upper()}
    return _from_data_type(data_type)


def _from_data_type(data_type: exp.DataType) -> dict[str, Any]:
    if data_type.is_type(exp.DataType.Type.ARRAY):
        return {"typeKind": "ARRAY", "arrayElementType": _from_data_type(data_type.expressions[0])}
    if data_type.is_type(exp.DataType.Type.STRUCT):
        fields = [{"name": c.name, "type": _from_data_type(c.args["kind"])} for c in data_type.expressions]
        return {"typeKind": "STRUCT", "structType": {"fields": fields}}
    text = data_type.sql(dialect="bigquery").upper().split("(")[0]
    if text.startswith("RANGE<"):
        return {"typeKind": "RANGE", "rangeElementType": {"typeKind": text[6:-1]}}
    return {"typeKind": _TYPE_KINDS.get(text, text)}


def routine_kind(routine: Routine) -> str:
    """The routine's ``routineType``."""
    if routine.procedure:
        return "PROCEDURE"
    if routine.table:
        return "TABLE_VALUED_FUNCTION"
    return "AGGREGATE_FUNCTION" if routine.aggregate else "SCALAR_FUNCTION"


def routine_resource(project: str, dataset_id: str, routine: Routine) -> dict[str, Any]:
    """The ``Routine`` resource of one catalog routine."""
    kind = routine_kind(routine)
    arguments = []
    for name, type_text, is_table in routine.params:
        argument: dict[str, Any] = {"name": name}
        if is_table:
            argument["argumentKind"] = "FIXED_TYPE"  # a table argument has no StandardSqlDataType
        elif type_text is None:
            argument["argumentKind"] = "ANY_TYPE"
        else:
            argument["dataType"] = standard_type(type_text)
        if routine.procedure:
            argument["mode"] = "IN"
        arguments.append(argument)
    resource: dict[str, Any] = {
        "routineReference": {"projectId": project, "datasetId": dataset_id, "routineId": routine.name},
        "routineType": kind,
        "language": "SQL",
        "definitionBody": routine.definition,
        "creationTime": _millis(routine.created),
        "lastModifiedTime": _millis(routine.modified),
    }
    if arguments:
        resource["arguments"] = arguments
    returns = routine.returns
    if returns and routine.table and returns.upper().startswith("TABLE<"):
        columns = []
        for column in split_args(returns[6:-1]):
            name, _, type_text = column.partition(" ")
            columns.append({"name": name, "type": standard_type(type_text.strip())})
        resource["returnTableType"] = {"columns": columns}
    elif returns and not routine.table:
        resource["returnType"] = standard_type(returns)
    if routine.description is not None:
        resource["description"] = routine.description
    digest = hashlib.sha256(repr(sorted(resource.items())).encode()).hexdigest()[:16]
    resource["etag"] = digest
    return resource


def _millis(moment: datetime | None) -> str | None:
    return None if moment is None else str(int(moment.timestamp() * 1000))
