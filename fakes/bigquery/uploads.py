"""BigQuery's media upload endpoint: the bytes of a load job, as ``load_table_from_file`` sends them.

``POST /upload/bigquery/v2/projects/{p}/jobs`` speaks the two protocols google-resumable-media
uses. ``uploadType=multipart``: one ``multipart/related`` body, the Job resource (JSON) then the
media; the answer is the Job. ``uploadType=resumable``: the POST carries the Job resource and
opens a session whose URI comes back in ``Location``; ``PUT`` s to it send chunks with
``Content-Range: bytes a-b/total`` (``*`` while the total is unknown) and are answered
``308 Resume Incomplete`` with ``Range: bytes=0-n`` until the last chunk, whose answer is the Job.
The load itself is :mod:`fakes.bigquery.loads`.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.bigquery import rest_resources as render
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    InvalidContentRange,
    InvalidJsonPayload,
    InvalidMultipartBody,
    InvalidUploadType,
    RequiredParameterMissing,
    UploadNotFound,
)
from fakes.bigquery.load_options import load_options
from fakes.bigquery.loads import start_load_job
from fakes.bigquery.models import JobStore
from fakes.bigquery.rest_requests import json_body
from fakes.bigquery.rest_routes import PlainRoutes

UPLOAD_PREFIX = f"/upload{render.PREFIX}"
#: The discovery document's own path for the resumable protocol (``mediaUpload.protocols``).
RESUMABLE_PREFIX = f"/resumable{UPLOAD_PREFIX}"
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_CONTENT_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")
#: ``308 Resume Incomplete``: the chunk is kept and more are expected.
RESUME_INCOMPLETE = 308


@dataclass
class UploadSession:
    """One resumable upload: the Job resource it will run and the bytes received so far."""

    project: str
    resource: dict[str, Any]
    received: bytearray = field(default_factory=bytearray)


class UploadSessions:
    """Open resumable uploads by ``upload_id``; a session ends when its last chunk arrives."""

    def __init__(self) -> None:
        self._sessions: dict[str, UploadSession] = {}
        self._lock = threading.Lock()

    def open(self, project: str, resource: dict[str, Any]) -> str:
        upload_id = uuid.uuid4().hex
        with self._lock:
            self._sessions[upload_id] = UploadSession(project, resource)
        return upload_id

    def get(self, upload_id: str | None) -> UploadSession:
        with self._lock:
            session = self._sessions.get(upload_id or "")
        if session is None:
            raise UploadNotFound(upload_id=upload_id)
        return session

    def close(self, upload_id: str) -> None:
        with self._lock:
            self._sessions.pop(upload_id, None)


def register(app: FastAPI, engine: BigQueryEngine, jobs: JobStore) -> None:
    """Add the upload endpoint to the emulator ``app``; ``app.state.uploads`` holds its sessions."""
    routes = PlainRoutes(app)
    sessions = UploadSessions()
    app.state.uploads = sessions
    path = f"{UPLOAD_PREFIX}/projects/{{project}}/jobs"
    resumable_path = f"{RESUMABLE_PREFIX}/projects/{{project}}/jobs"

    def run(project: str, resource: dict[str, Any], data: bytes) -> JSONResponse:
        job = start_load_job(engine, jobs, project, resource, data)
        return JSONResponse(render.job_resource(job))

    @routes.post(path)
    @routes.post(resumable_path)
    async def upload_insert(project: str, request: Request) -> Response:
        upload_type = request.query_params.get("uploadType")
        if upload_type == "multipart":
            resource, data = _multipart(request.headers.get("content-type", ""), await request.body())
            return run(project, resource, data)
        if upload_type == "resumable":
            resource = await json_body(request)
            _check_load(project, resource)
            upload_id = sessions.open(project, resource)
            location = request.url.include_query_params(upload_id=upload_id)
            return Response(status_code=200, headers={"Location": str(location)})
        raise InvalidUploadType(value=upload_type)

    @routes.put(path)
    @routes.put(resumable_path)
    async def upload_chunk(project: str, request: Request) -> Response:
        upload_id = request.query_params.get("upload_id")
        session = sessions.get(upload_id)
        header = request.headers.get("content-range", "")
        match = _CONTENT_RANGE.match(header.strip())
        if match is None:
            raise InvalidContentRange(value=header)
        first, last, total = match.groups()
        chunk = await request.body()
        if first is not None:
            start, end = int(first), int(last)
            if end - start + 1 != len(chunk) or start > len(session.received):
                raise InvalidContentRange(value=header)
            session.received += chunk[len(session.received) - start :]
        if total != "*" and len(session.received) >= int(total):
            sessions.close(str(upload_id))
            return run(session.project, session.resource, bytes(session.received[: int(total)]))
        headers = {"Range": f"bytes=0-{len(session.received) - 1}"} if session.received else {}
        return Response(status_code=RESUME_INCOMPLETE, headers=headers)


def _check_load(project: str, resource: dict[str, Any]) -> None:
    """Refuse at once, before any byte is sent, a load the emulator would refuse at the end."""
    configuration = resource.get("configuration")
    load = configuration.get("load") if isinstance(configuration, dict) else None
    if not isinstance(load, dict):
        raise RequiredParameterMissing(name="configuration.load")
    load_options(project, load)


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes]:
    """The Job resource and the media of a ``multipart/related`` body (resumable-media's layout)."""
    found = _BOUNDARY.search(content_type)
    if found is None or not content_type.lower().startswith("multipart/related"):
        raise InvalidMultipartBody(detail="expected multipart/related with a boundary")
    separator = b"--" + found.group(1).encode("latin-1")
    parts = body.split(separator)
    # ['', metadata part, media part, '--' (the closing delimiter's tail)]
    if len(parts) < 4 or not parts[-1].startswith(b"--"):
        raise InvalidMultipartBody(detail="expected two parts, the Job resource then the media")
    metadata, media = (_part_content(part) for part in parts[1:3])
    try:
        resource = json.loads(metadata)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidJsonPayload(detail=exc) from exc
    if not isinstance(resource, dict):
        raise InvalidJsonPayload(detail="Expected an object.")
    _check_load("", resource)
    return resource, media


def _part_content(part: bytes) -> bytes:
    """A part's content: after its headers' blank line, without the CRLF before the delimiter."""
    _, blank, content = part.partition(b"\r\n\r\n")
    if not blank:
        raise InvalidMultipartBody(detail="a part without headers")
    return content[:-2] if content.endswith(b"\r\n") else content
