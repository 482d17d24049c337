"""The control router every served process mounts under ``/_harness``: describe the process, reset
it, read and move its clock, mint and list provider keys, queue, list and clear provider faults
and warehouse / KMS faults (answered on the wire by the emulators, at the ports on the fake tier),
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
from harness.control.models import BackendFaultRequest, ClockAdvance, FaultRequest, KeyRequest
from harness.control.reads import state_router
from harness.control.target import Controlled, conflict
from harness.faults.backend import BackendFault, FaultSpecError, Port
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
        return {"provider": provider.value, "faults": _provider_faults(controlled.provider(provider))}

    @router.delete("/providers/{provider}/faults")
    def clear_faults(provider: Provider) -> dict[str, Any]:
        return {"provider": provider.value, "cleared": controlled.provider(provider).clear_faults()}

    @router.post("/faults/{port}", status_code=201)
    def add_backend_fault(port: Port, body: BackendFaultRequest) -> dict[str, Any]:
        """Arm a warehouse or KMS fault; answers the port's faults still pending."""
        queue = controlled.fault_queue()
        try:
            fault = BackendFault(port=port, **body.model_dump())
        except FaultSpecError as exc:
            raise DomainError(str(exc), code="INVALID_REQUEST") from exc
        queue.arm(fault)
        return {"port": port.value, "pending": queue.pending(port)}

    @router.get("/faults")
    def all_faults() -> dict[str, Any]:
        """Every fault still pending: warehouse and KMS, and each provider fake's."""
        queue = controlled.fault_queue()
        providers = {
            provider.value: _provider_faults(fake)
            for provider, fake in controlled.providers().items()
            if fake is not None
        }
        return {"backend": queue.pending(), "providers": providers}

    @router.delete("/faults/{port}")
    def clear_backend_faults(port: Port) -> dict[str, Any]:
        return {"port": port.value, "cleared": controlled.fault_queue().clear(port)}

    @router.delete("/faults")
    def clear_all_faults() -> dict[str, Any]:
        """Drop every queued fault, the providers' included; answers how many were pending."""
        cleared = controlled.fault_queue().clear()
        for fake in controlled.providers().values():
            if fake is not None:
                cleared += fake.clear_faults()
        return {"cleared": cleared}

    router.include_router(state_router(controlled))
    return router


def _provider_faults(fake: Any) -> list[dict[str, Any]]:
    return [
        {
            "status": fault.status,
            "timeout": fault.status is None and math.isinf(fault.delay),
            "remaining": fault.remaining,
            "retry_after": fault.retry_after,
        }
        for fault in fake.pending_faults
    ]


__all__ = ["control_router"]
