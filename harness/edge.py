"""The optional edge port (LocalStack's idea): one port that routes every emulator, so a client
needs one URL (``harness emulators up --edge-port N``).

A request goes to the control plane by its ``/_harness`` prefix, to BigQuery by its paths
(``/bigquery/v2``, ``/upload/bigquery``), to Cloud KMS by its resource paths
(``/v1/projects/*/locations/*``), and otherwise by its credentials: Anthropic's SDK sends
``x-api-key`` and ``anthropic-version``, OpenAI's ``Authorization: Bearer``. A request none of these
claims is a structured 404 saying how routing works.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.control.app import is_control_path
from harness.services.errors import error_response

_KMS_PATH = re.compile(r"^/v1/projects/[^/]+/locations/[^/]+")
_BIGQUERY_PREFIXES = ("/bigquery/", "/upload/bigquery/")


def route(path: str, headers: Mapping[str, str]) -> str | None:
    """Which service answers a request: ``control``, ``bigquery``, ``kms``, ``anthropic``,
    ``openai``, or None. ``headers`` have lower-case names."""
    if is_control_path(path):
        return "control"
    if path.startswith(_BIGQUERY_PREFIXES):
        return "bigquery"
    if _KMS_PATH.match(path):
        return "kms"
    if "x-api-key" in headers or "anthropic-version" in headers:
        return "anthropic"
    if headers.get("authorization", "").lower().startswith("bearer "):
        return "openai"
    return None


class EdgeRouter:
    """An ASGI app over the services' apps (and the controls' under ``control``)."""

    def __init__(self, apps: Mapping[str, Any]) -> None:
        self.apps = apps

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        target = route(scope["path"], headers)
        if target is None:
            response = error_response(
                404,
                "NOT_FOUND",
                f"the edge port routes {scope['path']!r} to no service: BigQuery answers /bigquery/v2 and "
                "/upload/bigquery, Cloud KMS /v1/projects/*/locations/*, Anthropic requests with "
                "x-api-key or anthropic-version, OpenAI requests with Authorization: Bearer, the "
                "control plane /_harness",
            )
            await response(scope, receive, send)
            return
        await self.apps[target](scope, receive, send)


__all__ = ["EdgeRouter", "route"]
