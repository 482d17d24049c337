"""BigQuery REST v2 emulator on the fake's engine, for the real ``google-cloud-bigquery`` client.

Served under ``/bigquery/v2/...`` so both ``client_options={"api_endpoint": url}`` and
``BIGQUERY_EMULATOR_HOST`` work. First slice: datasets insert/get/list/delete, tables
insert/get/list/delete, ``tabledata.insertAll`` / ``tabledata.list``, ``jobs.query``,
``jobs.insert`` (query), ``jobs.get`` and ``jobs.getQueryResults``. Every error leaves in
Google's JSON error format with the engine's status, reason and message.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest_values import decode_parameters, encode_rows, known_values, wire_row
from fakes.bigquery.sql import POSITIONAL_PREFIX, name_positional_parameters
from harness.ports import (
    AlreadyExistsError,
    DatasetInfo,
    InsertRowsError,
    InvalidRequestError,
    NotFoundError,
    QueryResult,
    TableInfo,
    WarehouseError,
)
from harness.schema.spec import DatasetSpec, FieldSpec, TableSpec

PREFIX = "/bigquery/v2"
DEFAULT_LOCATION = "US"
INSERT_ID_WINDOW = timedelta(minutes=1)

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


def error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


def _error_response(status: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(status, reason, message), status_code=status)


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def _int_arg(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        number = int(raw)
    except ValueError as exc:
        raise InvalidRequestError(f"Invalid value for {name}: {raw}") from exc
    if number < 0:
        raise InvalidRequestError(f"Invalid value for {name}: {raw}")
    return number


def _page(items: list[Any], request: Request) -> tuple[list[Any], str | None]:
    start = _token_offset(request.query_params.get("pageToken"))
    limit = _int_arg(request, "maxResults")
    end = len(items) if limit is None else start + limit
    token = str(end) if end < len(items) else None
    return items[start:end], token


def _token_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = int(token)
    except ValueError as exc:
        raise InvalidRequestError(f"Invalid page token: {token}") from exc
    if offset < 0:
        raise InvalidRequestError(f"Invalid page token: {token}")
    return offset


def _object(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidRequestError(f"Invalid value at '{key}': expected an object")
    return value


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"Invalid JSON payload received. {exc}", reason="parseError") from exc
    if not isinstance(body, dict):
        raise InvalidRequestError("Invalid JSON payload received. Expected an object.", reason="parseError")
    return body


# ---------------------------------------------------------------------------------- jobs


@dataclass
class _Job:
    """A query job; ``job_id`` is None for a dry run, which BigQuery neither names nor keeps."""

    project: str
    job_id: str | None
    location: str
    configuration: dict[str, Any]
    created: datetime
    result: QueryResult | None = None
    error: WarehouseError | None = None
    rows_cache: list[dict[str, Any]] = field(default_factory=list)

    def reference(self) -> dict[str, Any]:
        if self.job_id is None:
            return {"projectId": self.project, "location": self.location}
        return {"projectId": self.project, "jobId": self.job_id, "location": self.location}


class RestEmulator:
    """The emulator's state beside the engine: jobs and their results."""

    def __init__(self, engine: BigQueryEngine) -> None:
        self.engine = engine
        self._jobs: dict[tuple[str, str], _Job] = {}
        self._lock = threading.Lock()
        self._insert_ids: dict[tuple[str, str, str, str], datetime] = {}

    def fresh_rows(
        self, project: str, dataset_id: str, table_id: str, entries: list[Mapping[str, Any]]
    ) -> list[int]:
        """Indices of rows whose ``insertId`` was not seen for this table within the de-dup window
        (best effort, as in BigQuery: one minute of the engine's clock)."""
        now = self.engine.clock.now()
        keep: list[int] = []
        batch: set[str] = set()
        with self._lock:
            for index, entry in enumerate(entries):
                insert_id = entry.get("insertId")
                if not insert_id:
                    keep.append(index)
                    continue
                seen = self._insert_ids.get((project, dataset_id, table_id, str(insert_id)))
                if str(insert_id) in batch or (seen is not None and now - seen < INSERT_ID_WINDOW):
                    continue
                batch.add(str(insert_id))
                keep.append(index)
        return keep

    def remember_rows(self, project: str, dataset_id: str, table_id: str, insert_ids: list[Any]) -> None:
        now = self.engine.clock.now()
        with self._lock:
            for insert_id in insert_ids:
                if insert_id:
                    self._insert_ids[(project, dataset_id, table_id, str(insert_id))] = now

    # ------------------------------------------------------------------------- resources

    def dataset_resource(self, info: DatasetInfo) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "bigquery#dataset",
            "id": f"{info.project}:{info.dataset_id}",
            "etag": _etag(info.modified),
            "selfLink": f"{PREFIX}/projects/{info.project}/datasets/{info.dataset_id}",
            "datasetReference": {"projectId": info.project, "datasetId": info.dataset_id},
            "location": info.location,
            "creationTime": _ms(info.created),
            "lastModifiedTime": _ms(info.modified),
            "type": "DEFAULT",
        }
        if info.description is not None:
            body["description"] = info.description
        if info.labels:
            body["labels"] = dict(info.labels)
        return body

    def table_resource(self, info: TableInfo) -> dict[str, Any]:
        body = info.spec.to_api(info.project, info.dataset_id)
        location = self._location(info.project, info.dataset_id)
        body.update(
            {
                "kind": "bigquery#table",
                "id": f"{info.project}:{info.dataset_id}.{info.table_id}",
                "etag": _etag(info.modified),
                "selfLink": (
                    f"{PREFIX}/projects/{info.project}/datasets/{info.dataset_id}/tables/{info.table_id}"
                ),
                "type": "TABLE",
                "numRows": str(info.num_rows),
                # An empty table has no bytes; measuring one costs a scan the count already did.
                "numBytes": str(self.engine.num_bytes(info.project, info.dataset_id, info.table_id))
                if info.num_rows
                else "0",
                "numLongTermBytes": "0",
                "creationTime": _ms(info.created),
                "lastModifiedTime": _ms(info.modified),
                "location": location,
            }
        )
        if info.streaming_buffer is not None:
            body["streamingBuffer"] = {
                "estimatedRows": str(info.streaming_buffer.estimated_rows),
                "estimatedBytes": "0",
                "oldestEntryTime": _ms(info.streaming_buffer.oldest_entry_time),
            }
        return body

    def _location(self, project: str, dataset_id: str) -> str:
        try:
            return self.engine.get_dataset(project, dataset_id).location
        except WarehouseError:
            return DEFAULT_LOCATION

    # ------------------------------------------------------------------------------ jobs

    def run_query(
        self, project: str, configuration: dict[str, Any], job_id: str | None, location: str | None
    ) -> _Job:
        """Run a query job (stored, for jobs.get / getQueryResults). A dry run is validated and
        estimated by the engine without running, is not stored, and fails the request itself."""
        query_config = configuration.get("query") or {}
        sql = query_config.get("query")
        if not isinstance(sql, str) or not sql.strip():
            raise InvalidRequestError("Required parameter is missing: query", reason="required")
        if query_config.get("useLegacySql") is True:
            raise InvalidRequestError(
                "The emulator supports GoogleSQL only; set useLegacySql to false", reason="invalidQuery"
            )
        if configuration.get("dryRun"):
            statement, params = _statement(sql, query_config)
            return _Job(
                project=project,
                job_id=None,
                location=location or DEFAULT_LOCATION,
                configuration={"jobType": "QUERY", **configuration},
                created=self.engine.clock.now(),
                result=self.engine.dry_run(project, statement, params),
            )
        job_id = job_id or f"job_{uuid.uuid4().hex}"
        with self._lock:
            if (project, job_id) in self._jobs:
                raise AlreadyExistsError(
                    f"Already Exists: Job {project}:{location or DEFAULT_LOCATION}.{job_id}"
                )
            job = _Job(
                project=project,
                job_id=job_id,
                location=location or DEFAULT_LOCATION,
                configuration={"jobType": "QUERY", **configuration},
                created=self.engine.clock.now(),
            )
            self._jobs[(project, job_id)] = job
        try:
            statement, params = _statement(sql, query_config)
            job.result = self.engine.query(project, statement, params)
        except WarehouseError as exc:
            job.error = exc
        return job

    def job(self, project: str, job_id: str, location: str | None) -> _Job:
        job = self._jobs.get((project, job_id))
        if job is None:
            raise NotFoundError(f"Not found: Job {project}:{location or DEFAULT_LOCATION}.{job_id}")
        return job

    def job_resource(self, job: _Job) -> dict[str, Any]:
        created = _ms(job.created)
        if job.job_id is None:
            return self._dry_run_resource(job)
        statistics: dict[str, Any] = {"creationTime": created, "startTime": created, "endTime": created}
        status: dict[str, Any] = {"state": "DONE"}
        if job.error is not None:
            err = {"reason": job.error.reason, "message": job.error.message, "location": "query"}
            status["errorResult"] = err
            status["errors"] = [err]
        elif job.result is not None:
            result = job.result
            query_stats: dict[str, Any] = {
                "totalBytesProcessed": str(result.total_bytes_processed),
                "totalBytesBilled": str(result.total_bytes_processed),
                "cacheHit": False,
                "statementType": result.statement_type,
                "schema": {"fields": [f.to_api() for f in result.schema]},
            }
            if result.affected_rows is not None:
                query_stats["numDmlAffectedRows"] = str(result.affected_rows)
                query_stats["dmlStats"] = _dml_stats(result)
            statistics["query"] = query_stats
            statistics["totalBytesProcessed"] = str(result.total_bytes_processed)
        return {
            "kind": "bigquery#job",
            "etag": _etag(job.created),
            "id": f"{job.project}:{job.location}.{job.job_id}",
            "selfLink": f"{PREFIX}/projects/{job.project}/jobs/{job.job_id}?location={job.location}",
            "user_email": "emulator@harness.local",
            "jobReference": job.reference(),
            "configuration": job.configuration,
            "status": status,
            "statistics": statistics,
        }

    def _dry_run_resource(self, job: _Job) -> dict[str, Any]:
        """A dry run's Job: DONE at once, no id (BigQuery creates no job), the estimate and the
        result schema in ``statistics.query``; nothing was billed."""
        assert job.result is not None
        result = job.result
        processed = str(result.total_bytes_processed)
        return {
            "kind": "bigquery#job",
            "etag": _etag(job.created),
            "user_email": "emulator@harness.local",
            "jobReference": job.reference(),
            "configuration": job.configuration,
            "status": {"state": "DONE"},
            "statistics": {
                "creationTime": _ms(job.created),
                "totalBytesProcessed": processed,
                "query": {
                    "totalBytesProcessed": processed,
                    "totalBytesBilled": "0",
                    "totalBytesProcessedAccuracy": "PRECISE",
                    "cacheHit": False,
                    "statementType": result.statement_type,
                    "schema": {"fields": [f.to_api() for f in result.schema]},
                },
            },
        }

    def query_page(
        self,
        job: _Job,
        *,
        kind: str,
        start: int,
        max_results: int | None,
        int64_timestamp: bool,
    ) -> dict[str, Any]:
        if job.error is not None:
            raise job.error
        assert job.result is not None
        result = job.result
        total = len(result.rows)
        end = total if max_results is None else min(total, start + max_results)
        body: dict[str, Any] = {
            "kind": kind,
            "jobReference": job.reference(),
            "jobComplete": True,
            "schema": {"fields": [f.to_api() for f in result.schema]},
            "totalRows": str(total),
            "totalBytesProcessed": str(result.total_bytes_processed),
            "cacheHit": False,
        }
        if job.job_id is None:
            del body["totalRows"]  # a dry run has no result set
        if start < end:
            body["rows"] = encode_rows(result.schema, result.rows[start:end], int64_timestamp=int64_timestamp)
        if end < total:
            body["pageToken"] = str(end)
        if result.affected_rows is not None:
            body["numDmlAffectedRows"] = str(result.affected_rows)
            if kind == "bigquery#queryResponse":
                body["dmlStats"] = _dml_stats(result)
        if kind == "bigquery#queryResponse":
            body["location"] = job.location
            body["statementType"] = result.statement_type
        else:
            body["etag"] = _etag(job.created)
        return body


def _statement(sql: str, query_config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SQL and engine parameters of a query: POSITIONAL parameters bind the ``?`` markers in
    text order, through named parameters the markers are rewritten to."""
    try:
        params = decode_parameters(query_config)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        raise InvalidRequestError(f"Invalid query parameters: {exc}") from exc
    if isinstance(params, dict):
        return sql, params
    named, count = name_positional_parameters(sql)
    if count > len(params):
        raise InvalidRequestError(
            f"The query has {count} positional parameters (?) and the request gives {len(params)}",
            reason="invalidQuery",
        )
    return named, {f"{POSITIONAL_PREFIX}{index}": params[index] for index in range(count)}


def _dml_stats(result: QueryResult) -> dict[str, str]:
    count = str(result.affected_rows or 0)
    kind = result.statement_type.upper()
    return {
        "insertedRowCount": count if kind == "INSERT" else "0",
        "updatedRowCount": count if kind in ("UPDATE", "MERGE") else "0",
        "deletedRowCount": count if kind == "DELETE" else "0",
    }


def _merged_labels(
    current: Mapping[str, str], update: Mapping[str, Any] | None, *, replace: bool
) -> dict[str, str]:
    """PATCH merges labels (a null value removes one); PUT replaces them."""
    merged = {} if replace else dict(current)
    for key, value in (update or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def _etag(moment: datetime) -> str:
    return f'"{int(moment.timestamp() * 1_000_000):x}"'


# ---------------------------------------------------------------------------------- app


def create_app(engine: BigQueryEngine) -> FastAPI:
    """The REST v2 emulator as an ASGI app; ``app.state.emulator`` holds its job state."""
    app = FastAPI(title="BigQuery REST v2 emulator", docs_url=None, redoc_url=None, openapi_url=None)
    emulator = RestEmulator(engine)
    app.state.emulator = emulator

    @app.exception_handler(WarehouseError)
    async def _warehouse_error(_: Request, exc: WarehouseError) -> JSONResponse:
        return _error_response(exc.status, exc.reason, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error_response(404, "notFound", f"Not found: URL {request.url.path}")
        if exc.status_code == 405:
            return _error_response(
                400, "invalid", f"Method {request.method} not allowed on {request.url.path}"
            )
        return _error_response(exc.status_code, "invalid", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - bug net
        return _error_response(500, "internalError", f"Emulator error: {type(exc).__name__}: {exc}")

    base = f"{PREFIX}/projects/{{project}}"

    # ---------------------------------------------------------------------- datasets

    @app.post(f"{base}/datasets")
    async def datasets_insert(project: str, request: Request) -> JSONResponse:
        body = await _json_body(request)
        ref = _object(body, "datasetReference")
        dataset_id = ref.get("datasetId")
        if not dataset_id:
            raise InvalidRequestError(
                "Required parameter is missing: datasetReference.datasetId", reason="required"
            )
        ref_project = ref.get("projectId") or project
        spec = DatasetSpec(
            dataset_id=dataset_id,
            location=body.get("location") or DEFAULT_LOCATION,
            description=body.get("description"),
            labels=dict(body.get("labels") or {}),
        )
        info = engine.create_dataset(ref_project, spec)
        return JSONResponse(emulator.dataset_resource(info))

    @app.get(f"{base}/datasets")
    async def datasets_list(project: str, request: Request) -> JSONResponse:
        infos = engine.list_datasets(project)
        page, token = _page(infos, request)
        body: dict[str, Any] = {
            "kind": "bigquery#datasetList",
            "etag": '"0"',
            "datasets": [
                {
                    "kind": "bigquery#dataset",
                    "id": f"{i.project}:{i.dataset_id}",
                    "datasetReference": {"projectId": i.project, "datasetId": i.dataset_id},
                    "location": i.location,
                    **({"labels": dict(i.labels)} if i.labels else {}),
                }
                for i in page
            ],
        }
        if token:
            body["nextPageToken"] = token
        return JSONResponse(body)

    @app.get(f"{base}/datasets/{{dataset_id}}")
    async def datasets_get(project: str, dataset_id: str) -> JSONResponse:
        return JSONResponse(emulator.dataset_resource(engine.get_dataset(project, dataset_id)))

    @app.patch(f"{base}/datasets/{{dataset_id}}")
    @app.put(f"{base}/datasets/{{dataset_id}}")
    async def datasets_patch(project: str, dataset_id: str, request: Request) -> JSONResponse:
        body = await _json_body(request)
        current = engine.get_dataset(project, dataset_id)
        labels = None
        if "labels" in body:
            labels = _merged_labels(current.labels, body.get("labels"), replace=request.method == "PUT")
        info = engine.patch_dataset(
            project,
            dataset_id,
            description=body.get("description") if "description" in body else None,
            labels=labels,
        )
        return JSONResponse(emulator.dataset_resource(info))

    @app.delete(f"{base}/datasets/{{dataset_id}}")
    async def datasets_delete(project: str, dataset_id: str, request: Request) -> Response:
        engine.delete_dataset(
            project, dataset_id, delete_contents=_flag(request.query_params.get("deleteContents"))
        )
        return Response(status_code=204)

    # ------------------------------------------------------------------------ tables

    @app.post(f"{base}/datasets/{{dataset_id}}/tables")
    async def tables_insert(project: str, dataset_id: str, request: Request) -> JSONResponse:
        body = await _json_body(request)
        ref = _object(body, "tableReference")
        if not ref.get("tableId"):
            raise InvalidRequestError(
                "Required parameter is missing: tableReference.tableId", reason="required"
            )
        unsupported = ("view", "materializedView", "externalDataConfiguration", "rangePartitioning")
        for key in unsupported:
            if body.get(key):
                raise InvalidRequestError(f"The emulator does not support {key} tables yet")
        partitioning = body.get("timePartitioning") or None
        try:
            spec = TableSpec.from_api(body)
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidRequestError(f"Invalid table resource: {exc}") from exc
        if partitioning and partitioning.get("requirePartitionFilter") and not spec.require_partition_filter:
            spec = replace(spec, require_partition_filter=True)
        info = engine.create_table(project, dataset_id, spec)
        return JSONResponse(emulator.table_resource(info))

    @app.get(f"{base}/datasets/{{dataset_id}}/tables")
    async def tables_list(project: str, dataset_id: str, request: Request) -> JSONResponse:
        infos = engine.list_tables(project, dataset_id)
        page, token = _page(infos, request)
        tables = []
        for info in page:
            api = info.spec.to_api(info.project, info.dataset_id)
            entry: dict[str, Any] = {
                "kind": "bigquery#table",
                "id": f"{info.project}:{info.dataset_id}.{info.table_id}",
                "tableReference": api["tableReference"],
                "type": "TABLE",
                "creationTime": _ms(info.created),
            }
            for key in ("timePartitioning", "clustering", "labels"):
                if key in api:
                    entry[key] = api[key]
            tables.append(entry)
        body: dict[str, Any] = {
            "kind": "bigquery#tableList",
            "etag": '"0"',
            "tables": tables,
            "totalItems": len(infos),
        }
        if token:
            body["nextPageToken"] = token
        return JSONResponse(body)

    @app.get(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}")
    async def tables_get(project: str, dataset_id: str, table_id: str) -> JSONResponse:
        return JSONResponse(emulator.table_resource(engine.get_table(project, dataset_id, table_id)))

    @app.patch(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}")
    @app.put(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}")
    async def tables_patch(project: str, dataset_id: str, table_id: str, request: Request) -> JSONResponse:
        body = await _json_body(request)
        current = engine.get_table(project, dataset_id, table_id)
        schema = None
        if body.get("schema") is not None:
            try:
                schema = [FieldSpec.from_api(f) for f in body["schema"].get("fields") or []]
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                raise InvalidRequestError(f"Invalid table schema: {exc}") from exc
        labels = None
        if "labels" in body:
            labels = _merged_labels(current.spec.labels, body.get("labels"), replace=request.method == "PUT")
        require = body.get("requirePartitionFilter")
        info = engine.patch_table(
            project,
            dataset_id,
            table_id,
            schema=schema,
            description=body.get("description") if "description" in body else None,
            labels=labels,
            require_partition_filter=bool(require) if require is not None else None,
        )
        return JSONResponse(emulator.table_resource(info))

    @app.delete(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}")
    async def tables_delete(project: str, dataset_id: str, table_id: str) -> Response:
        engine.delete_table(project, dataset_id, table_id)
        return Response(status_code=204)

    # --------------------------------------------------------------------- tabledata

    @app.post(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}/insertAll")
    async def tabledata_insert_all(
        project: str, dataset_id: str, table_id: str, request: Request
    ) -> JSONResponse:
        body = await _json_body(request)
        entries = body.get("rows") or []
        if not isinstance(entries, list):
            raise InvalidRequestError("rows must be a list")
        for entry in entries:
            row = entry.get("json") if isinstance(entry, Mapping) else None
            if not isinstance(row, Mapping):
                raise InvalidRequestError("Each row needs a json object")
        table_schema = engine.get_table(project, dataset_id, table_id).spec.schema
        # ``positions[i]`` is the request index of the i-th row sent to the engine.
        positions = emulator.fresh_rows(project, dataset_id, table_id, entries)
        rows: list[Mapping[str, Any]] = [wire_row(table_schema, entries[i]["json"]) for i in positions]
        if body.get("ignoreUnknownValues"):
            rows = [known_values(table_schema, row) for row in rows]
        response: dict[str, Any] = {"kind": "bigquery#tableDataInsertAllResponse"}
        try:
            engine.insert_rows(project, dataset_id, table_id, rows, streaming=True)
            inserted = list(range(len(rows)))
        except InsertRowsError as exc:
            bad = {error.index: error for error in exc.row_errors}
            insert_errors = []
            inserted = []
            for index in range(len(rows)):
                error = bad.get(index)
                if error is not None:
                    detail: dict[str, Any] = {"reason": error.reason, "message": error.message}
                    if error.location:
                        detail["location"] = error.location
                    insert_errors.append({"index": positions[index], "errors": [detail]})
                elif not body.get("skipInvalidRows"):
                    insert_errors.append(
                        {
                            "index": positions[index],
                            "errors": [{"reason": "stopped", "location": "", "message": ""}],
                        }
                    )
            if body.get("skipInvalidRows"):
                inserted = [index for index in range(len(rows)) if index not in bad]
                good = [rows[index] for index in inserted]
                if good:
                    engine.insert_rows(project, dataset_id, table_id, good, streaming=True)
            response["insertErrors"] = insert_errors
        emulator.remember_rows(
            project, dataset_id, table_id, [entries[positions[i]].get("insertId") for i in inserted]
        )
        return JSONResponse(response)

    @app.get(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}/data")
    async def tabledata_list(project: str, dataset_id: str, table_id: str, request: Request) -> JSONResponse:
        info = engine.get_table(project, dataset_id, table_id)
        start = _int_arg(request, "startIndex") or 0
        if request.query_params.get("pageToken"):
            start = _token_offset(request.query_params.get("pageToken"))
        max_results = _int_arg(request, "maxResults")
        rows, total = engine.list_rows(
            project, dataset_id, table_id, start_index=start, max_results=max_results
        )
        schema: Sequence[FieldSpec] = info.spec.schema
        selected = request.query_params.get("selectedFields")
        if selected:
            wanted = [name.strip().lower() for name in selected.split(",") if name.strip()]
            schema = [f for f in info.spec.schema if f.name.lower() in wanted]
            rows = [{f.name: row[f.name] for f in schema} for row in rows]
        int64_ts = _flag(request.query_params.get("formatOptions.useInt64Timestamp"))
        body: dict[str, Any] = {
            "kind": "bigquery#tableDataList",
            "etag": _etag(info.modified),
            "totalRows": str(total),
        }
        if rows:
            body["rows"] = encode_rows(schema, rows, int64_timestamp=int64_ts)
        if start + len(rows) < total and max_results is not None:
            body["pageToken"] = str(start + len(rows))
        return JSONResponse(body)

    # -------------------------------------------------------------------------- jobs

    @app.post(f"{base}/queries")
    async def jobs_query(project: str, request: Request) -> JSONResponse:
        body = await _json_body(request)
        request_id = body.get("requestId")
        job_id = f"job_{uuid.uuid5(uuid.NAMESPACE_URL, request_id).hex}" if request_id else None
        if job_id is not None and (project, job_id) in emulator._jobs:
            job = emulator._jobs[(project, job_id)]
        else:
            configuration = {
                "query": {
                    key: body[key]
                    for key in (
                        "query",
                        "useLegacySql",
                        "parameterMode",
                        "queryParameters",
                        "defaultDataset",
                        "labels",
                    )
                    if key in body
                }
            }
            configuration["query"].setdefault("useLegacySql", False)
            if body.get("dryRun"):
                configuration["dryRun"] = True
            job = emulator.run_query(project, configuration, job_id, body.get("location"))
        max_results = body.get("maxResults")
        int64_ts = bool((body.get("formatOptions") or {}).get("useInt64Timestamp"))
        return JSONResponse(
            emulator.query_page(
                job,
                kind="bigquery#queryResponse",
                start=0,
                max_results=int(max_results) if max_results is not None else None,
                int64_timestamp=int64_ts,
            )
        )

    @app.get(f"{base}/queries/{{job_id}}")
    async def jobs_get_query_results(project: str, job_id: str, request: Request) -> JSONResponse:
        job = emulator.job(project, job_id, request.query_params.get("location"))
        start = _int_arg(request, "startIndex") or 0
        if request.query_params.get("pageToken"):
            start = _token_offset(request.query_params.get("pageToken"))
        return JSONResponse(
            emulator.query_page(
                job,
                kind="bigquery#getQueryResultsResponse",
                start=start,
                max_results=_int_arg(request, "maxResults"),
                int64_timestamp=_flag(request.query_params.get("formatOptions.useInt64Timestamp")),
            )
        )

    @app.post(f"{base}/jobs")
    async def jobs_insert(project: str, request: Request) -> JSONResponse:
        body = await _json_body(request)
        configuration = _object(body, "configuration")
        if not isinstance(configuration.get("query"), Mapping):
            raise InvalidRequestError("The emulator supports query jobs only (configuration.query)")
        ref = _object(body, "jobReference")
        job = emulator.run_query(project, configuration, ref.get("jobId"), ref.get("location"))
        return JSONResponse(emulator.job_resource(job))

    @app.get(f"{base}/jobs/{{job_id}}")
    async def jobs_get(project: str, job_id: str, request: Request) -> JSONResponse:
        job = emulator.job(project, job_id, request.query_params.get("location"))
        return JSONResponse(emulator.job_resource(job))

    return app
