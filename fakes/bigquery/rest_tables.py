"""``datasets.*`` and ``tables.*`` of the REST emulator: insert, get, list, patch, update, delete.

``patch`` merges the fields a request carries into the stored resource, ``update`` (PUT) replaces
the resource, as the discovery document says; fields BigQuery only stores (``access``,
``encryptionConfiguration``...) are kept and answered back, fields the engine cannot honour are
refused with a 400 that names them (:mod:`fakes.bigquery.rest_resource_fields`). An ``If-Match``
etag that is not the current one is BigQuery's 412. Every write is all-or-nothing in the engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.bigquery import dataset_undelete, views
from fakes.bigquery import rest_resource_fields as fields
from fakes.bigquery import rest_resources as render
from fakes.bigquery.dataset_undelete import DeletedDatasets
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    DatasetLocationChanged,
    FieldNotHonoured,
    InvalidArgument,
    PartitioningChanged,
    PreconditionFailed,
    RequiredParameterMissing,
)
from fakes.bigquery.jobs_copy import TableKinds
from fakes.bigquery.models import DEFAULT_LOCATION
from fakes.bigquery.partition_decorators import decorated_resource
from fakes.bigquery.range_partitioning import RangePartitioning
from fakes.bigquery.rest_faults import WireFaults, call
from fakes.bigquery.rest_requests import flag, int64_field, json_body, merged_labels, object_at, page_of
from fakes.bigquery.rest_routes import PlainRoutes
from fakes.bigquery.sql import TableRef
from fakes.bigquery.table_history import history_of
from harness.ports import DatasetInfo, TableInfo, WarehouseError
from harness.schema.spec import DatasetSpec

#: Output-only parts of a table resource that change with its rows, not its metadata (not in the etag).
_ROW_STATS = ("etag", "numRows", "numBytes", "numLongTermBytes", "streamingBuffer")


def _etag(body: Mapping[str, Any]) -> str:
    """A digest of the resource's metadata: it changes with every change, even on a still clock."""
    stable = {key: value for key, value in body.items() if key not in _ROW_STATS}
    if isinstance(view := stable.get("materializedView"), Mapping):  # its refresh time is the clock's
        stable["materializedView"] = {key: value for key, value in view.items() if key != "lastRefreshTime"}
    return '"' + hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:24] + '"'


def dataset_body(engine: BigQueryEngine, info: DatasetInfo) -> dict[str, Any]:
    body = render.dataset_resource(info)
    body.update(engine.dataset_kept(info.project, info.dataset_id))
    body["etag"] = _etag(body)
    return body


def table_body(engine: BigQueryEngine, info: TableInfo) -> dict[str, Any]:
    try:
        location = engine.get_dataset(info.project, info.dataset_id).location
    except WarehouseError:
        location = DEFAULT_LOCATION
    # An empty table has no bytes; measuring one costs a scan the count already did.
    num_bytes = engine.num_bytes(info.project, info.dataset_id, info.table_id) if info.num_rows else 0
    body = render.table_resource(info, location=location, num_bytes=num_bytes)
    expires, kept = engine.table_state(info.project, info.dataset_id, info.table_id)
    body.update(kept)
    if expires is not None:
        body["expirationTime"] = render.ms(expires)
    body.update(engine.kind_fields(info.project, info.dataset_id, info.table_id))
    body["etag"] = _etag(body)
    return body


def _check_etag(request: Request, current: Mapping[str, Any]) -> None:
    wanted = request.headers.get("if-match")
    if wanted and wanted != "*" and wanted != current["etag"]:
        raise PreconditionFailed()


def _labels_match(labels: Mapping[str, str], query: str) -> bool:
    """``datasets.list``'s ``filter``: ``labels.<key>[:<value>]`` terms, all of which must hold."""
    for term in query.split():
        if not term.startswith("labels."):
            raise FieldNotHonoured(kind="datasets.list filter", field=term)
        key, _, value = term[len("labels.") :].partition(":")
        if key not in labels or (value and labels[key] != value):
            return False
    return True


def register(app: FastAPI, engine: BigQueryEngine, wire: WireFaults, kinds: TableKinds) -> None:
    """Route the dataset and table methods on ``app``; ``kinds`` are the copy jobs' clones and snapshots."""
    routes = PlainRoutes(app)
    base = f"{render.PREFIX}/projects/{{project}}"
    deleted = DeletedDatasets(engine)
    dataset_undelete.register(app, deleted, lambda info: dataset_body(engine, info))

    @routes.post(f"{base}/datasets")
    async def datasets_insert(project: str, request: Request) -> JSONResponse:
        body = await json_body(request)
        wire.check(call("create_dataset"))
        ref = object_at(body, "datasetReference")
        dataset_id = ref.get("datasetId")
        if not dataset_id:
            raise RequiredParameterMissing(name="datasetReference.datasetId")
        fields.refuse(body, fields.DATASET_REFUSED, "dataset")
        spec = DatasetSpec(
            dataset_id=dataset_id,
            location=body.get("location") or DEFAULT_LOCATION,
            description=body.get("description"),
            labels=merged_labels({}, body.get("labels"), replace=True),
            default_table_expiration_ms=int64_field(body, "defaultTableExpirationMs"),
        )
        kept = fields.kept_fields(body, fields.DATASET_KEPT, None)
        kept.setdefault("access", [dict(entry) for entry in fields.DEFAULT_ACCESS])
        info = engine.create_dataset(ref.get("projectId") or project, spec, kept=kept)
        return JSONResponse(dataset_body(engine, info))

    @routes.get(f"{base}/datasets")
    async def datasets_list(project: str, request: Request) -> JSONResponse:
        wire.check(call("list_datasets"))
        infos = engine.list_datasets(project)
        if not flag(request.query_params.get("all")):
            infos = [info for info in infos if not info.dataset_id.startswith("_")]
        if query := request.query_params.get("filter"):
            infos = [info for info in infos if _labels_match(info.labels, query)]
        page, token = page_of(infos, request)
        body = render.dataset_list(page, token)
        for entry, info in zip(body["datasets"], page, strict=True):
            friendly = engine.dataset_kept(info.project, info.dataset_id).get("friendlyName")
            if friendly is not None:
                entry["friendlyName"] = friendly
        return JSONResponse(body)

    @routes.get(f"{base}/datasets/{{dataset_id}}")
    async def datasets_get(project: str, dataset_id: str) -> JSONResponse:
        wire.check(call("get_dataset"))
        return JSONResponse(dataset_body(engine, engine.get_dataset(project, dataset_id)))

    @routes.patch(f"{base}/datasets/{{dataset_id}}")
    @routes.put(f"{base}/datasets/{{dataset_id}}")
    async def datasets_patch(project: str, dataset_id: str, request: Request) -> JSONResponse:
        body = _by_update_mode(await json_body(request), request.query_params.get("updateMode"))
        put = request.method == "PUT"
        info = engine.get_dataset(project, dataset_id)
        current = dataset_body(engine, info)
        _check_etag(request, current)
        fields.refuse(body, fields.DATASET_REFUSED, "dataset")
        location = body.get("location")
        if location and location != info.location:
            raise DatasetLocationChanged(
                project=project, dataset_id=dataset_id, old=info.location, new=location
            )
        old = engine.dataset_kept(project, dataset_id)
        kept = fields.kept_fields(body, fields.DATASET_KEPT, None if put else old)
        if put and "access" not in kept:
            kept["access"] = old.get("access", [dict(entry) for entry in fields.DEFAULT_ACCESS])
        new = fields.merged_dataset(body, _spec_of(info), put=put)
        updated = engine.patch_dataset(project, dataset_id, spec=new, kept=kept)
        return JSONResponse(dataset_body(engine, updated))

    @routes.delete(f"{base}/datasets/{{dataset_id}}")
    async def datasets_delete(project: str, dataset_id: str, request: Request) -> Response:
        wire.check(call("delete_dataset"))
        deleted.delete(project, dataset_id, delete_contents=flag(request.query_params.get("deleteContents")))
        return Response(status_code=204)

    @routes.post(f"{base}/datasets/{{dataset_id}}/tables")
    async def tables_insert(project: str, dataset_id: str, request: Request) -> JSONResponse:
        body = await json_body(request)
        ref = object_at(body, "tableReference")
        if not ref.get("tableId"):
            raise RequiredParameterMissing(name="tableReference.tableId")
        wire.check(call("create_table", [str(ref["tableId"])]))
        fields.refuse(body, fields.TABLE_REFUSED, "table")
        spec = fields.new_table(body, engine.dataset_kept(project, dataset_id))
        expires, kept = fields.expiration(body), fields.kept_fields(body, fields.TABLE_KEPT, None)
        if (definition := views.from_resource(body)) is not None:
            info = engine.create_view(
                project,
                dataset_id,
                spec.table_id,
                definition,
                description=spec.description,
                labels=spec.labels,
                described=spec.schema,
                expires=expires,
                kept=kept,
            )
            return JSONResponse(table_body(engine, info))
        info = engine.create_table(
            project,
            dataset_id,
            spec,
            range_partitioning=RangePartitioning.from_api(body.get("rangePartitioning")),
            expires=expires,
            kept=kept,
        )
        return JSONResponse(table_body(engine, info))

    @routes.get(f"{base}/datasets/{{dataset_id}}/tables")
    async def tables_list(project: str, dataset_id: str, request: Request) -> JSONResponse:
        wire.check(call("list_tables"))
        infos = engine.list_tables(project, dataset_id)
        page, token = page_of(infos, request)
        body = render.table_list(page, token, len(infos))
        for entry, info in zip(body["tables"], page, strict=True):
            expires, kept = engine.table_state(info.project, info.dataset_id, info.table_id)
            if expires is not None:
                entry["expirationTime"] = render.ms(expires)
            if "friendlyName" in kept:
                entry["friendlyName"] = kept["friendlyName"]
            entry.update(engine.kind_fields(project, dataset_id, info.table_id, listing=True))
        return JSONResponse(body)

    @routes.get(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}")
    async def tables_get(project: str, dataset_id: str, table_id: str) -> JSONResponse:
        wire.check(call("get_table", [table_id]))
        info = engine.get_table(project, dataset_id, table_id)
        return JSONResponse(decorated_resource(kinds.overlay(info, table_body(engine, info)), table_id))

    @routes.patch(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}")
    @routes.put(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}")
    async def tables_patch(project: str, dataset_id: str, table_id: str, request: Request) -> JSONResponse:
        body = await json_body(request)
        wire.check(call("patch_table", [table_id]))
        put = request.method == "PUT"
        if flag(request.query_params.get("autodetect_schema")):
            raise FieldNotHonoured(kind="tables.patch", field="autodetect_schema")
        info = engine.get_table(project, dataset_id, table_id)
        _check_etag(request, table_body(engine, info))
        fields.refuse(body, fields.TABLE_REFUSED, "table")
        by_range = RangePartitioning.from_api(body.get("rangePartitioning"))
        if by_range is not None and by_range != RangePartitioning.from_api(
            engine.kind_fields(project, dataset_id, table_id).get("rangePartitioning")
        ):
            raise PartitioningChanged(table=f"{project}:{dataset_id}.{table_id}")
        if (definition := views.from_resource(body)) is not None:
            engine.set_view_query(project, dataset_id, table_id, definition)
        schema = fields.schema_of(body) if body.get("schema") is not None else None
        spec = fields.merged_table(body, info.spec, f"{project}:{dataset_id}.{table_id}", put=put)
        _, old = engine.table_state(project, dataset_id, table_id)
        updated = engine.patch_table(
            project,
            dataset_id,
            table_id,
            schema=schema,
            spec=spec,
            expires=fields.expiration(body) if put or "expirationTime" in body else False,
            kept=fields.kept_fields(body, fields.TABLE_KEPT, None if put else old),
        )
        return JSONResponse(table_body(engine, updated))

    @routes.delete(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}")
    async def tables_delete(project: str, dataset_id: str, table_id: str) -> Response:
        wire.check(call("delete_table", [table_id]))
        history_of(engine).delete(project, dataset_id, table_id)
        kinds.forget(TableRef(project, dataset_id, table_id))
        return Response(status_code=204)


def _by_update_mode(body: dict[str, Any], mode: str | None) -> dict[str, Any]:
    """``updateMode``: UPDATE_ACL changes only ``access``, UPDATE_METADATA all but ``access``."""
    if mode == "UPDATE_ACL":
        return {key: value for key, value in body.items() if key == "access"}
    if mode == "UPDATE_METADATA":
        return {key: value for key, value in body.items() if key != "access"}
    if mode not in (None, "", "UPDATE_FULL", "UPDATE_MODE_UNSPECIFIED"):
        raise InvalidArgument(name="updateMode", value=mode)
    return body


def _spec_of(info: DatasetInfo) -> DatasetSpec:
    return DatasetSpec(
        dataset_id=info.dataset_id,
        location=info.location,
        description=info.description,
        labels=dict(info.labels),
        default_table_expiration_ms=info.default_table_expiration_ms,
    )
