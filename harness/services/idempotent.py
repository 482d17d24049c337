"""Run a mutating request at most once per ``Idempotency-Key`` (see ``onboarding.idempotency``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from harness.onboarding import idempotency
from harness.onboarding.platform import Platform
from harness.services.deps import RequestMeta

log = logging.getLogger(__name__)

SOURCE = "API"
REPLAYED = "Idempotent-Replayed"


def respond(
    platform: Platform,
    meta: RequestMeta,
    scope: str,
    status: int,
    produce: Callable[[], Any],
    undo: Callable[[], None] | None = None,
) -> JSONResponse:
    """``produce()`` runs unless this key already has a stored response, which is replayed.

    If the response cannot be stored after ``produce()`` succeeded (KMS or the warehouse fails),
    the caller gets the error, so ``undo()`` reverses what ``produce()`` did and the claim is
    released: a retry with the same key then runs again and gets what a run without the fault
    gets, instead of a conflict with an effect whose response (say, a new org's API key) it
    never saw.
    """
    if meta.idempotency_key is None:
        return JSONResponse(jsonable_encoder(produce()), status_code=status)
    key = idempotency.check_key(meta.idempotency_key)
    fingerprint = idempotency.request_hash(meta.method, meta.path, meta.body)
    where = {"scope": scope, "source": SOURCE, "key": key}
    stored = idempotency.claim(platform, **where, fingerprint=fingerprint)
    if stored is not None:
        return JSONResponse(stored.body, status_code=stored.status, headers={REPLAYED: "true"})
    try:
        body = jsonable_encoder(produce())
    except BaseException:
        idempotency.release(platform, **where)
        raise
    try:
        idempotency.finish(platform, **where, status=status, body=body)
    except BaseException:
        if undo is not None:
            best_effort(undo, scope)
        idempotency.release(platform, **where)
        raise
    return JSONResponse(body, status_code=status, headers={REPLAYED: "false"})


def best_effort(undo: Callable[[], None], scope: str) -> None:
    """Undo a request that is failing; best effort: the error that made it fail (the response
    could not be produced or stored) is the one the caller sees."""
    try:
        undo()
    except Exception:
        log.exception("could not undo a request in scope %s whose response could not be stored", scope)
