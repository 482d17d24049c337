"""BigQuery REST v2 emulator on the fake's engine, for the real ``google-cloud-bigquery`` client.

Served under ``/bigquery/v2/...`` so both ``client_options={"api_endpoint": url}`` and
``BIGQUERY_EMULATOR_HOST`` work. First slice: datasets insert/get/list/patch/delete, tables
insert/get/list/patch/delete, ``tabledata.insertAll`` / ``tabledata.list``, ``jobs.query``,
``jobs.insert`` (query), ``jobs.get``, ``jobs.getQueryResults`` and ``jobs.cancel``. Every error
leaves in Google's JSON error format with the engine's status, reason and message. Warehouse faults
armed on the app's queue are answered on the wire (:mod:`fakes.bigquery.rest_faults`), so the real
client sees them and applies its own retries. The dataset and table methods are
:mod:`fakes.bigquery.rest_tables`.

moto's split: this module parses requests, calls the engine and the emulator's models
(:mod:`fakes.bigquery.models`: jobs, insertId window) and renders with
:mod:`fakes.bigquery.rest_resources`; errors are :mod:`fakes.bigquery.exceptions`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fakes.bigquery import jobs_list, rest_projects, rest_routines, rest_row_access, rest_tables, uploads
from fakes.bigquery import rest_resources as render
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    MethodNotAllowed,
    RowsNotAList,
    RowWithoutJson,
    UnsupportedByFake,
    UrlNotFound,
)
from fakes.bigquery.faults import error_for
from fakes.bigquery.format_options import int64_timestamps_in_body, int64_timestamps_in_query
from fakes.bigquery.jobs_copy import CopyJobs, TableKinds
from fakes.bigquery.jobs_extract import Buckets, ExtractJobs
from fakes.bigquery.models import InsertIdWindow, Job, JobStore
from fakes.bigquery.query_wait import INSERT_WAIT_MS, QuickStatements, run_waiting, until_ended, wait_ms
from fakes.bigquery.rest_faults import WireFaults, call
from fakes.bigquery.rest_requests import (
    int_arg,
    json_body,
    object_at,
    request_job_id,
    token_offset,
)
from fakes.bigquery.rest_routes import PlainRoutes
from fakes.bigquery.rest_values import encode_rows, known_values, wire_row
from fakes.bigquery.uri_loads import UriLoads
from fakes.google_oauth.guard import GoogleAuthGuard
from fakes.google_oauth.models import TokenAuthority
from fakes.google_oauth.services import BIGQUERY
from harness.faults.backend import FaultQueue
from harness.ports import InsertRowsError, WarehouseError
from harness.schema.spec import FieldSpec

PREFIX = render.PREFIX


def _error_response(error: WarehouseError) -> JSONResponse:
    return JSONResponse(
        render.error_body(error.status, error.reason, error.message), status_code=error.status
    )


def _query_page(
    job: Job, *, kind: str, start: int, max_results: int | None, int64_timestamp: bool
) -> dict[str, Any]:
    if job.error is not None:
        raise job.error
    if job.running:  # queries run beside other requests: poll again
        return {**render.pending_query_page(job), "kind": kind}
    if job.result is None:
        raise UnsupportedByFake("jobs.getQueryResults answers query jobs only", reason="invalid")
    return render.query_page(
        job, job.result, kind=kind, start=start, max_results=max_results, int64_timestamp=int64_timestamp
    )


# ---------------------------------------------------------------------------------- app


def create_app(
    engine: BigQueryEngine,
    faults: FaultQueue | None = None,
    auth: TokenAuthority | None = None,
    quick: QuickStatements | None = None,
) -> FastAPI:
    """The REST v2 emulator as an ASGI app; ``app.state.jobs`` and ``app.state.insert_ids`` hold
    the emulator's own state beside the engine; ``faults`` are the warehouse faults it answers;
    with ``auth`` every request needs a bearer credential it accepts, as on Google. ``quick`` is
    what the process knows of its statements' cost (a new memory unless given): an app built
    again on fresh state keeps knowing which statements run on the event loop."""
    app = FastAPI(title="BigQuery REST v2 emulator", docs_url=None, redoc_url=None, openapi_url=None)
    routes = PlainRoutes(app)
    if auth is not None:
        app.add_middleware(GoogleAuthGuard, authority=auth, profile=BIGQUERY)
    jobs = JobStore(engine)
    insert_ids = InsertIdWindow(engine)
    wire = WireFaults(faults)
    quick = quick if quick is not None else QuickStatements()
    app.state.jobs = jobs
    app.state.insert_ids = insert_ids
    kinds, app.state.buckets = TableKinds(), Buckets(engine)
    transfers = {
        "copy": CopyJobs(engine, jobs, kinds).run,
        "extract": ExtractJobs(engine, jobs, app.state.buckets).run,
        "load": UriLoads(engine, jobs, app.state.buckets).run,
    }

    @app.exception_handler(WarehouseError)
    async def _warehouse_error(_: Request, exc: WarehouseError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error_response(UrlNotFound(path=request.url.path))
        if exc.status_code == 405:
            return _error_response(MethodNotAllowed(method=request.method, path=request.url.path))
        body = render.error_body(exc.status_code, "invalid", str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - bug net
        body = render.error_body(500, "internalError", f"Emulator error: {type(exc).__name__}: {exc}")
        return JSONResponse(body, status_code=500)

    base = f"{PREFIX}/projects/{{project}}"

    # -------------------------------------------------------------------------- jobs
    # jobs.query and getQueryResults come first: Starlette tries routes in order, every query pays
    # for the routes tried before its own, and no other route's pattern matches their paths.

    @routes.post(f"{base}/queries")
    async def jobs_query(project: str, request: Request) -> JSONResponse:
        body = await json_body(request)
        int64_ts = int64_timestamps_in_body(body.get("formatOptions"))  # refused before it runs
        request_id = body.get("requestId")
        job_id = request_job_id(request_id) if request_id else None
        job = jobs.find(project, job_id) if job_id is not None else None
        configuration = {
            "query": {
                key: body[key]
                for key in (
                    "query",
                    "useLegacySql",
                    "parameterMode",
                    "queryParameters",
                    "defaultDataset",
                    "connectionProperties",
                    "createSession",
                    "maximumBytesBilled",
                    "useQueryCache",
                )
                if key in body
            }
        }
        if body.get("labels"):
            configuration["labels"] = body["labels"]
        configuration["query"].setdefault("useLegacySql", False)
        if body.get("dryRun"):
            configuration["dryRun"] = True
        if "jobTimeoutMs" in body:
            configuration["jobTimeoutMs"] = body["jobTimeoutMs"]
        faulted = wire.check_sql(str(body.get("query") or ""))
        if faulted is not None:
            # Accepted, not finished: the client polls the job and is told it failed.
            failed = jobs.fail_query(
                project,
                configuration,
                job_id if job is None else None,
                body.get("location"),
                error_for(*faulted),
            )
            return JSONResponse(render.pending_query_page(failed))
        if job is None:
            new_id = job_id or f"job_{uuid.uuid4().hex}"
            job, complete = await run_waiting(
                lambda: jobs.run_query(project, configuration, new_id, body.get("location")),
                lambda: jobs.find(project, new_id),
                wait_ms(body),
                (quick, str(body.get("query") or "")),
            )
            if not complete:
                return JSONResponse(render.pending_query_page(job))
        max_results = body.get("maxResults")
        return JSONResponse(
            _query_page(
                job,
                kind="bigquery#queryResponse",
                start=0,
                max_results=int(max_results) if max_results is not None else None,
                int64_timestamp=int64_ts,
            )
        )

    @routes.get(f"{base}/queries/{{job_id}}")
    async def jobs_get_query_results(project: str, job_id: str, request: Request) -> JSONResponse:
        job = jobs.get(project, job_id, request.query_params.get("location"))
        await until_ended(job, wait_ms(request.query_params))
        start = int_arg(request, "startIndex") or 0
        if request.query_params.get("pageToken"):
            start = token_offset(request.query_params.get("pageToken"))
        return JSONResponse(
            _query_page(
                job,
                kind="bigquery#getQueryResultsResponse",
                start=start,
                max_results=int_arg(request, "maxResults"),
                int64_timestamp=int64_timestamps_in_query(request.query_params),
            )
        )

    jobs_list.register(app, jobs)
    uploads.register(app, engine, jobs)

    rest_tables.register(app, engine, wire, kinds)

    # --------------------------------------------------------------------- tabledata

    @routes.post(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}/insertAll")
    async def tabledata_insert_all(
        project: str, dataset_id: str, table_id: str, request: Request
    ) -> JSONResponse:
        body = await json_body(request)
        wire.check(call("insert_rows", [table_id]))
        entries = body.get("rows") or []
        if not isinstance(entries, list):
            raise RowsNotAList()
        for entry in entries:
            row = entry.get("json") if isinstance(entry, Mapping) else None
            if not isinstance(row, Mapping):
                raise RowWithoutJson()
        table_schema = engine.get_table(project, dataset_id, table_id).spec.schema
        # ``positions[i]`` is the request index of the i-th row sent to the engine.
        positions = insert_ids.fresh_rows(project, dataset_id, table_id, entries)
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
        insert_ids.remember(
            project, dataset_id, table_id, [entries[positions[i]].get("insertId") for i in inserted]
        )
        return JSONResponse(response)

    @routes.get(f"{base}/datasets/{{dataset_id}}/tables/{{table_id}}/data")
    async def tabledata_list(project: str, dataset_id: str, table_id: str, request: Request) -> JSONResponse:
        info = engine.get_table(project, dataset_id, table_id)
        start = int_arg(request, "startIndex") or 0
        if request.query_params.get("pageToken"):
            start = token_offset(request.query_params.get("pageToken"))
        max_results = int_arg(request, "maxResults")
        rows, total = engine.list_rows(
            project, dataset_id, table_id, start_index=start, max_results=max_results
        )
        schema: Sequence[FieldSpec] = info.spec.schema
        selected = request.query_params.get("selectedFields")
        if selected:
            wanted = [name.strip().lower() for name in selected.split(",") if name.strip()]
            schema = [f for f in info.spec.schema if f.name.lower() in wanted]
            rows = [{f.name: row[f.name] for f in schema} for row in rows]
        int64_ts = int64_timestamps_in_query(request.query_params)
        body: dict[str, Any] = {
            "kind": "bigquery#tableDataList",
            "etag": render.etag(info.modified),
            "totalRows": str(total),
        }
        if rows:
            body["rows"] = encode_rows(schema, rows, int64_timestamp=int64_ts)
        if start + len(rows) < total and max_results is not None:
            body["pageToken"] = str(start + len(rows))
        return JSONResponse(body)

    @routes.post(f"{base}/jobs")
    async def jobs_insert(project: str, request: Request) -> JSONResponse:
        body = await json_body(request)
        configuration = object_at(body, "configuration")
        ref = object_at(body, "jobReference")
        kind = next((kind for kind in transfers if kind in configuration), None)
        if kind is not None:
            job = transfers[kind](project, configuration, ref.get("jobId"), ref.get("location"))
            return JSONResponse(render.job_resource(job))
        if not isinstance(configuration.get("query"), Mapping):
            raise UnsupportedByFake(
                "The emulator supports query jobs only (configuration.query)", reason="invalid"
            )
        faulted = wire.check_sql(str(configuration["query"].get("query") or ""))
        if faulted is not None:
            error = error_for(*faulted)
            job = jobs.fail_query(project, configuration, ref.get("jobId"), ref.get("location"), error)
            return JSONResponse(render.job_resource(job, running=True))
        new_id = ref.get("jobId") or f"job_{uuid.uuid4().hex}"
        job, _ = await run_waiting(
            lambda: jobs.run_query(project, configuration, new_id, ref.get("location")),
            lambda: jobs.find(project, new_id),
            INSERT_WAIT_MS,
            (quick, str(configuration["query"].get("query") or "")),
        )
        return JSONResponse(render.job_resource(job, running=job.running))

    @routes.get(f"{base}/jobs/{{job_id}}")
    async def jobs_get(project: str, job_id: str, request: Request) -> JSONResponse:
        job = jobs.get(project, job_id, request.query_params.get("location"))
        return JSONResponse(render.job_resource(job, running=job.running))

    @routes.post(f"{base}/jobs/{{job_id}}/cancel")
    async def jobs_cancel(project: str, job_id: str, request: Request) -> JSONResponse:
        """A running query is stopped (it ends with reason ``stopped``, as in BigQuery); any other
        job has finished already and is answered as it is."""
        job = jobs.get(project, job_id, request.query_params.get("location"))
        if job.running:
            job.cancellation.request()
        return JSONResponse(
            {"kind": "bigquery#jobCancelResponse", "job": render.job_resource(job, running=job.running)}
        )

    rest_routines.register(app, engine, jobs)
    rest_projects.register(app, engine)
    rest_row_access.register(app, engine)
    return app
