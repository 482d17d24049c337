"""Job management routes: ``jobs.list`` with its filters and paging, and ``jobs.delete``.

``register(app, jobs)`` adds them to the REST emulator. Every job of the emulator is DONE when
it is listed (it ran inside ``jobs.insert``), so ``stateFilter`` ``pending`` or ``running`` lists
nothing; the emulator has one user, so ``allUsers`` changes nothing; ``parentJobId`` keeps the
child jobs of that script job.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.bigquery import rest_resources as render
from fakes.bigquery.exceptions import InvalidArgument
from fakes.bigquery.models import Job, JobStore
from fakes.bigquery.rest_requests import int_arg, page_of
from fakes.bigquery.rest_routes import PlainRoutes

_STATES = ("done", "pending", "running")
_PROJECTIONS = ("full", "minimal")


def _moment(request: Request, name: str) -> datetime | None:
    """``minCreationTime`` / ``maxCreationTime``: milliseconds since the epoch."""
    millis = int_arg(request, name)
    return None if millis is None else datetime.fromtimestamp(millis / 1000, tz=UTC)


def _entry(job: Job, projection: str) -> dict[str, Any]:
    """A ``JobList.jobs`` item: the job resource with its state on top; ``minimal`` omits the
    configuration."""
    resource = render.job_resource(job)
    entry: dict[str, Any] = {
        "id": resource["id"],
        "kind": "bigquery#job",
        "jobReference": resource["jobReference"],
        "state": resource["status"]["state"],
        "status": resource["status"],
        "statistics": resource["statistics"],
        "user_email": resource["user_email"],
    }
    if "errorResult" in resource["status"]:
        entry["errorResult"] = resource["status"]["errorResult"]
    if projection == "full":
        entry["configuration"] = resource["configuration"]
    return entry


def register(app: FastAPI, jobs: JobStore) -> None:
    routes = PlainRoutes(app)
    base = f"{render.PREFIX}/projects/{{project}}/jobs"

    @routes.get(base)
    async def jobs_list(project: str, request: Request) -> JSONResponse:
        states = request.query_params.getlist("stateFilter")
        for state in states:
            if state.lower() not in _STATES:
                raise InvalidArgument(name="stateFilter", value=state)
        projection = (request.query_params.get("projection") or "minimal").lower()
        if projection not in _PROJECTIONS:
            raise InvalidArgument(name="projection", value=projection)
        earliest, latest = _moment(request, "minCreationTime"), _moment(request, "maxCreationTime")
        parent = request.query_params.get("parentJobId")
        listed = [
            job
            for job in jobs.all(project)
            if job.job_id is not None
            and (not states or "done" in (s.lower() for s in states))
            and (earliest is None or job.created >= earliest)
            and (latest is None or job.created <= latest)
            and (parent is None or job.statistics.get("parentJobId") == parent)
        ]
        page, token = page_of(listed, request)
        body: dict[str, Any] = {
            "kind": "bigquery#jobList",
            "etag": '"0"',
            "jobs": [_entry(job, projection) for job in page],
        }
        if token:
            body["nextPageToken"] = token
        return JSONResponse(body)

    @routes.delete(f"{base}/{{job_id}}/delete")
    async def jobs_delete(project: str, job_id: str, request: Request) -> Response:
        jobs.delete(project, job_id, request.query_params.get("location"))
        return Response(status_code=204)
