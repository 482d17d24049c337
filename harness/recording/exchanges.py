"""A run's recorded exchanges as plain objects, for readers that are not replays (parity
snapshots compare the Google calls of a run with a stored snapshot)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.recording.cassette import CASSETTE_FILE, CassetteError


@dataclass(frozen=True)
class Exchange:
    service: str
    """``bigquery``, ``kms``, ``openai`` or ``anthropic``."""
    method: str
    path: str
    query: str
    request_json: Any
    """The request body parsed as JSON (None when empty or not JSON)."""
    status: int | None
    """None when the request ended in a transport error (``error``)."""
    response_json: Any
    error: str | None = None


GOOGLE_SERVICES = frozenset({"bigquery", "kms"})


def recorded_exchanges(where: Path, *, services: frozenset[str] | None = None) -> list[Exchange]:
    """The exchanges of the cassette at ``where`` (a ``cassette.json``, or a run record's
    directory), in the order they happened, scrubbed as stored; ``services`` keeps only those
    (e.g. :data:`GOOGLE_SERVICES`)."""
    path = where / CASSETTE_FILE if where.is_dir() else where
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data["interactions"]
    except (OSError, ValueError, KeyError) as exc:
        raise CassetteError(f"{path}: not a readable cassette: {exc}") from exc
    out: list[Exchange] = []
    for item in items:
        if services is not None and item["service"] not in services:
            continue
        request, response = item["request"], item.get("response")
        url = urlsplit(request["url"])
        out.append(
            Exchange(
                service=item["service"],
                method=request["method"],
                path=url.path,
                query=url.query,
                request_json=(request.get("body") or {}).get("json"),
                status=response["status"] if response else None,
                response_json=(response.get("body") or {}).get("json") if response else None,
                error=item.get("error"),
            )
        )
    return out


__all__ = ["GOOGLE_SERVICES", "Exchange", "recorded_exchanges"]
