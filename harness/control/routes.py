"""The control router every served process mounts under ``/_harness``: describe the process, reset
it, read and move its clock, mint and list provider keys, queue, list and clear provider faults,
and (:mod:`harness.control.reads`) read BigQuery and KMS state.

Root-key protected (``X-CA-Root-Key``), never part of an OpenAPI document, errors in the one
``{"error", "message", "error_id"}`` shape; a control that makes no sense on the process (the gcp
tier's real time and real providers) answers 409. ``POST /seed`` takes a seed file's text (the
format of :mod:`harness.seeding`) as the body: ``Content-Type: application/json`` for JSON,
anything else for YAML.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request

from harness.control import CONTROL_PREFIX
from harness.control.models import ClockAdvance, FaultRequest, KeyRequest
from harness.control.reads import state_router
from harness.control.target import Controlled, conflict
from harness.onboarding.errors import DomainError
from harness.ports import Provider
from harness.services.deps import require_root


def control_router(controlled: Controlled) -> APIRouter:
    """The controls of one process; include it in an app whose ``state.settings`` holds the root key
    and whose error handlers are :func:`harness.services.errors.install`'s."""
    router = APIRouter(
        prefix=CONTROL_PREFIX,
        tags=["harness"],
        dependencies=[Depends(require_root)],
        include_in_schema=False,
    )

    def now() -> str:
        return controlled.clock().now().isoformat()

    @router.get("")
    def describe() -> dict[str, Any]:
        return {**controlled.info(), "clock": now()}

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        """Every emulator back to fresh state, on the same clock and seed."""
        if controlled.reset is None:
            raise conflict("this process talks to real services: there is no state to reset")
        controlled.reset()
        return {"reset": True, "clock": now()}

    @router.post("/seed", status_code=201)
    async def seed(request: Request) -> dict[str, Any]:
        """Seed the emulators from a seed file sent as the body; all or nothing."""
        if controlled.seed is None:
            raise conflict(
                "this process has no seed-file loader: seed the emulators of `harness emulators up`"
            )
        json_body = request.headers.get("content-type", "").startswith("application/json")
        source = "POST /_harness/seed body" + (".json" if json_body else ".yml")
        text = (await request.body()).decode("utf-8", "replace")
        return controlled.seed(text, source)

    @router.get("/clock")
    def read_clock() -> dict[str, str]:
        return {"now": now()}

    @router.post("/clock/advance")
    def advance_clock(body: ClockAdvance) -> dict[str, str]:
        clock = controlled.clock()
        if not hasattr(clock, "advance"):
            raise conflict("this tier runs on real time: the clock cannot move")
        delta = timedelta(days=body.days, hours=body.hours, minutes=body.minutes, seconds=body.seconds)
        return {"now": clock.advance(delta).isoformat()}

    @router.post("/providers/{provider}/keys", status_code=201)
    def mint_key(provider: Provider, body: KeyRequest | None = None) -> dict[str, Any]:
        admin = body.admin if body is not None else True
        fake = controlled.provider(provider)
        key = fake.issue_admin_key() if admin else fake.issue_key()
        return {"provider": provider.value, "admin": admin, "key": key}

    @router.get("/providers/{provider}/keys")
    def list_keys(provider: Provider) -> dict[str, Any]:
        """The keys the fake accepts, masked as the providers mask them in a 401 (never whole)."""
        fake = controlled.provider(provider)
        keys = [{"key": label, "admin": admin} for label, admin in fake.listed_keys()]
        return {"provider": provider.value, "keys": keys}

    @router.post("/providers/{provider}/faults", status_code=201)
    def add_fault(provider: Provider, body: FaultRequest) -> dict[str, Any]:
        if (body.status is None) == (not body.timeout):
            raise DomainError("give exactly one of status or timeout: true", code="INVALID_REQUEST")
        fake = controlled.provider(provider)
        try:
            if body.timeout:
                fake.add_timeout(times=body.times)
            else:
                fake.add_fault(body.status, times=body.times, retry_after=body.retry_after)
        except ValueError as exc:
            raise DomainError(str(exc), code="INVALID_REQUEST") from exc
        return {"provider": provider.value, "pending_faults": len(fake.pending_faults)}

    @router.get("/providers/{provider}/faults")
    def list_faults(provider: Provider) -> dict[str, Any]:
        faults = [
            {
                "status": fault.status,
                "timeout": fault.status is None and math.isinf(fault.delay),
                "remaining": fault.remaining,
                "retry_after": fault.retry_after,
            }
            for fault in controlled.provider(provider).pending_faults
        ]
        return {"provider": provider.value, "faults": faults}

    @router.delete("/providers/{provider}/faults")
    def clear_faults(provider: Provider) -> dict[str, Any]:
        return {"provider": provider.value, "cleared": controlled.provider(provider).clear_faults()}

    router.include_router(state_router(controlled))
    return router


__all__ = ["control_router"]
