"""Run a mutating request at most once per ``Idempotency-Key`` (see ``onboarding.idempotency``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from harness.onboarding import idempotency
from harness.onboarding.platform import Platform
from harness.services.deps import RequestMeta

SOURCE = "API"
REPLAYED = "Idempotent-Replayed"


def respond(
    platform: Platform, meta: RequestMeta, scope: str, status: int, produce: Callable[[], Any]
) -> JSONResponse:
    """``produce()`` runs unless this key already has a stored response, which is replayed."""
    if meta.idempotency_key is None:
        return JSONResponse(jsonable_encoder(produce()), status_code=status)
    key = idempotency.check_key(meta.idempotency_key)
    fingerprint = idempotency.request_hash(meta.method, meta.path, meta.body)
    stored = idempotency.lookup(platform, scope=scope, source=SOURCE, key=key, fingerprint=fingerprint)
    if stored is not None:
        return JSONResponse(stored.body, status_code=stored.status, headers={REPLAYED: "true"})
    body = jsonable_encoder(produce())
    idempotency.store(
        platform, scope=scope, source=SOURCE, key=key, fingerprint=fingerprint, status=status, body=body
    )
    return JSONResponse(body, status_code=status, headers={REPLAYED: "false"})
