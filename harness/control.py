"""The ``/_harness`` test controls a served process answers on the api-service port.

A scenario run against live services (``harness run --api-url ...``, pytest's ``--api-url``) cannot
reach behind the ports as an in-process run does; these root-key-protected routes let it do the
same things over HTTP: mint a provider key, queue a provider fault, advance the clock, count an
org's rows. They are never part of an OpenAPI document. On gcp (real time, real providers) the
clock and provider controls answer 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from harness.backends import TierBackends
from harness.onboarding.errors import DomainError
from harness.onboarding.models import SLUG_PATTERN
from harness.ports import NotFoundError, Provider
from harness.services.deps import require_root

CONTROL_PREFIX = "/_harness"


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    minutes: int = Field(default=0, ge=0)
    seconds: float = Field(default=0, ge=0)


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admin: bool = Field(default=True, description="An admin key also reads usage and costs.")


class FaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int | None = Field(default=None, description="HTTP status to answer (4xx/5xx).")
    timeout: bool = Field(default=False, description="Never answer (the client times out).")
    times: int = Field(default=1, ge=1)
    retry_after: float | None = Field(default=None, ge=0)


def control_router(backends: TierBackends, info: Callable[[], dict[str, Any]]) -> APIRouter:
    """Root-key-protected controls of the served fakes, for live-mode runs and manual testing;
    ``info`` describes the serving process (tier, seed, URLs) for ``GET /_harness``."""
    router = APIRouter(
        prefix=CONTROL_PREFIX,
        tags=["harness"],
        dependencies=[Depends(require_root)],
        include_in_schema=False,
    )

    def state(provider: Provider) -> Any:
        fake = backends.openai if provider is Provider.OPENAI else backends.anthropic
        if fake is None:
            raise DomainError(
                f"this tier talks to the real {provider.value}: no fake to control",
                code="CONFLICT",
                status=409,
            )
        return fake

    @router.get("")
    def describe() -> dict[str, Any]:
        return {**info(), "clock": backends.clock.now().isoformat()}

    @router.get("/clock")
    def read_clock() -> dict[str, str]:
        return {"now": backends.clock.now().isoformat()}

    @router.post("/clock/advance")
    def advance_clock(body: ClockAdvance) -> dict[str, str]:
        delta = timedelta(days=body.days, hours=body.hours, minutes=body.minutes, seconds=body.seconds)
        if not hasattr(backends.clock, "advance"):
            raise DomainError(
                "this tier runs on real time: the clock cannot move", code="CONFLICT", status=409
            )
        return {"now": backends.clock.advance(delta).isoformat()}

    @router.post("/providers/{provider}/keys", status_code=201)
    def mint_key(provider: Provider, body: KeyRequest | None = None) -> dict[str, Any]:
        admin = body.admin if body is not None else True
        fake = state(provider)
        key = fake.issue_admin_key() if admin else fake.issue_key()
        return {"provider": provider.value, "admin": admin, "key": key}

    @router.post("/providers/{provider}/faults", status_code=201)
    def add_fault(provider: Provider, body: FaultRequest) -> dict[str, Any]:
        if (body.status is None) == (not body.timeout):
            raise DomainError("give exactly one of status or timeout: true", code="INVALID_REQUEST")
        fake = state(provider)
        try:
            if body.timeout:
                fake.add_timeout(times=body.times)
            else:
                fake.add_fault(body.status, times=body.times, retry_after=body.retry_after)
        except ValueError as exc:
            raise DomainError(str(exc), code="INVALID_REQUEST") from exc
        return {"provider": provider.value, "pending_faults": len(fake.pending_faults)}

    @router.get("/rows/{table}")
    def count_rows(
        table: Annotated[str, Path(pattern=r"^[A-Za-z0-9_]{1,1024}$")],
        org_slug: Annotated[str, Query(pattern=SLUG_PATTERN)],
    ) -> dict[str, Any]:
        """An org's rows in a meta table, or all rows of a table in the org's own dataset
        (``llm_usage_daily``...); a table that does not exist counts 0 with ``exists: false``."""
        platform = backends.platform
        if table in platform.config.table_names:
            sql = f"SELECT COUNT(*) AS n FROM {platform.table(table)} WHERE org_slug = @org_slug"
            params: dict[str, Any] = {"org_slug": org_slug}
        else:
            dataset = f"{platform.warehouse.project}.{platform.org_dataset(org_slug)}"
            sql, params = f"SELECT COUNT(*) AS n FROM `{dataset}.{table}`", {}
        try:
            rows = int(platform.select(sql, params).rows[0]["n"])
        except NotFoundError:
            return {"table": table, "org_slug": org_slug, "rows": 0, "exists": False}
        return {"table": table, "org_slug": org_slug, "rows": rows, "exists": True}

    return router


__all__ = ["CONTROL_PREFIX", "control_router"]
