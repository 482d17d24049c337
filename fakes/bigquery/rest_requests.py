"""Reading the REST emulator's requests: JSON bodies, query-string arguments, paging, labels.

What a request carries, checked the way the API checks it (a bad value is a 400 with BigQuery's
reason), before :mod:`fakes.bigquery.rest` calls the engine.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import Request

from fakes.bigquery.exceptions import InvalidArgument, InvalidJsonPayload, InvalidPageToken, NotAnObject


def flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def int_arg(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        number = int(raw)
    except ValueError as exc:
        raise InvalidArgument(name=name, value=raw) from exc
    if number < 0:
        raise InvalidArgument(name=name, value=raw)
    return number


def int64_field(body: Mapping[str, Any], name: str) -> int | None:
    """An ``int64`` field of a resource body: JSON carries it as a decimal string (or a number)."""
    raw = body.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(name=name, value=raw) from exc


def page_of(items: list[Any], request: Request) -> tuple[list[Any], str | None]:
    start = token_offset(request.query_params.get("pageToken"))
    limit = int_arg(request, "maxResults")
    end = len(items) if limit is None else start + limit
    token = str(end) if end < len(items) else None
    return items[start:end], token


def token_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = int(token)
    except ValueError as exc:
        raise InvalidPageToken(token=token) from exc
    if offset < 0:
        raise InvalidPageToken(token=token)
    return offset


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


def request_job_id(request_id: Any) -> str:
    """The job id a jobs.query ``requestId`` names, the same on every retry of the request:
    ``job_`` and the hex of ``uuid.uuid5(uuid.NAMESPACE_URL, request_id)``, computed from its
    SHA-1 directly (every query sends a requestId, and building the ``UUID`` object costs more
    than the hash)."""
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + bytes(request_id, "utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return f"job_{digest.hex()}"


def object_at(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise NotAnObject(key=key)
    return value


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidJsonPayload(detail=exc) from exc
    if not isinstance(body, dict):
        raise InvalidJsonPayload(detail="Expected an object.")
    return body


def merged_labels(
    current: Mapping[str, str], update: Mapping[str, Any] | None, *, replace: bool
) -> dict[str, str]:
    """PATCH merges labels (a null value removes one); PUT replaces them."""
    if update is not None and not isinstance(update, Mapping):
        raise NotAnObject(key="labels")
    merged = {} if replace else dict(current)
    for key, value in (update or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged
