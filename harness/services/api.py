"""The api-service (port 8000): onboarding, keys, subscriptions, quotas, integrations, billing.

A factory over a :class:`Platform`, so the same app runs on the fake, emulator and gcp tiers and
in-process under test. Routes stay thin: parse, authorize, call the domain, shape the response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from harness.onboarding import api_keys, audit, billing, integrations, orgs, quotas, subscriptions
from harness.onboarding.audit import PLATFORM_ORG, Actor
from harness.onboarding.bootstrap import BootstrapConfigError, bootstrap
from harness.onboarding.errors import DomainError
from harness.onboarding.models import (
    IntegrationSetup,
    IntegrationView,
    OffboardResult,
    OnboardRequest,
    OnboardResult,
    OrgView,
    QuotaView,
    RotatedKey,
    SubscriptionUpdate,
    SubscriptionView,
)
from harness.onboarding.offboarding import erase, offboard
from harness.onboarding.plans import get_plan
from harness.onboarding.platform import Platform
from harness.services import idempotent
from harness.services.deps import (
    OrgSlug,
    RequestMeta,
    get_platform,
    get_settings,
    request_meta,
    require_org_access,
    require_root,
)
from harness.services.health import service_app
from harness.services.routes import Routes
from harness.services.settings import Settings

PlatformDep = Annotated[Platform, Depends(get_platform)]
Meta = Annotated[RequestMeta, Depends(request_meta)]
Root = Annotated[Actor, Depends(require_root)]
OrgActor = Annotated[Actor, Depends(require_org_access)]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": text,
        "content": {"application/json": {"example": {"error": "CODE", "message": text, "error_id": "uuid"}}},
    }
    for code, text in {
        400: "Invalid request",
        401: "Missing or unknown key",
        403: "Key not allowed for this org",
        404: "Not found",
        409: "Conflict",
        422: "Validation error",
    }.items()
}


class BootstrapResult(BaseModel):
    project: str
    dataset_id: str
    dataset_created: bool
    created: list[str]
    existing: list[str]
    added_columns: dict[str, list[str]]
    drift: dict[str, list[str]]


class IntegrationList(BaseModel):
    org_slug: str
    integrations: list[IntegrationView]


class Deleted(BaseModel):
    org_slug: str
    provider: str
    deleted: int


class WebhookResult(BaseModel):
    received: bool
    event_id: str
    applied: bool
    duplicate: bool | None = None
    reason: str | None = None
    plan: str | None = None
    status: str | None = None


def create_api_app(platform: Platform, settings: Settings | None = None) -> FastAPI:
    app = service_app(
        "api-service",
        "Onboarding, API keys, subscriptions, quotas, integrations and billing webhooks.",
        platform,
        settings,
        responses=ERROR_RESPONSES,
    )
    _admin(Routes(app, "admin", "/api/v1/admin"))
    _organizations(Routes(app, "organizations", "/api/v1/organizations"))
    _integrations(Routes(app, "integrations", "/api/v1/integrations"))
    _billing(Routes(app, "billing", "/api/v1/billing"))
    return app


def _admin(routes: Routes) -> None:
    @routes.post("/bootstrap", response_model=BootstrapResult)
    def run_bootstrap(platform: PlatformDep, actor: Root) -> BootstrapResult:
        try:
            report = bootstrap(platform.warehouse, platform.config)
        except BootstrapConfigError as exc:
            raise DomainError(
                exc.message,
                code="BOOTSTRAP_CONFIG_INVALID",
                status=400,
                details={name: [v.message for v in found] for name, found in exc.violations.items()},
            ) from exc
        return BootstrapResult(
            project=report.project,
            dataset_id=report.dataset_id,
            dataset_created=report.dataset_created,
            created=report.created,
            existing=report.existing,
            added_columns={t.table_id: list(t.added_columns) for t in report.tables if t.added_columns},
            drift={name: list(found) for name, found in report.drift.items()},
        )


def _organizations(routes: Routes) -> None:
    @routes.post("/onboard", status_code=201, response_model=OnboardResult)
    def onboard_org(body: OnboardRequest, platform: PlatformDep, actor: Root, meta: Meta) -> JSONResponse:
        # Root-level keys are scoped to the platform: one key cannot onboard two orgs.
        return idempotent.respond(
            platform,
            meta,
            PLATFORM_ORG,
            201,
            lambda: orgs.onboard(platform, body, actor),
            undo=lambda: erase(platform, body.org_slug),
        )

    @routes.get("/{org_slug}", response_model=OrgView)
    def get_org(org_slug: OrgSlug, platform: PlatformDep, actor: OrgActor) -> OrgView:
        return orgs.get(platform, org_slug)

    @routes.delete("/{org_slug}", response_model=OffboardResult)
    def offboard_org(org_slug: OrgSlug, platform: PlatformDep, actor: Root) -> OffboardResult:
        return offboard(platform, org_slug, actor)

    @routes.post("/{org_slug}/api-key/rotate", response_model=RotatedKey)
    def rotate_key(org_slug: OrgSlug, platform: PlatformDep, actor: OrgActor, meta: Meta) -> JSONResponse:
        done: list[api_keys.Rotation] = []
        recorded: list[str] = []

        def undo() -> None:
            # The audit row goes with the rotation it records: the trail says what happened.
            for audit_log_id in recorded:
                audit.retract(platform, org_slug, audit_log_id)
            for rotation in done:
                api_keys.undo_rotation(platform, org_slug, rotation)

        def produce() -> RotatedKey:
            orgs.get(platform, org_slug)
            rotation = api_keys.rotate(platform, org_slug)
            done.append(rotation)
            try:
                recorded.append(
                    audit.record(
                        platform,
                        org_slug=org_slug,
                        actor=actor,
                        action="api_key.rotate",
                        target_type="API_KEY",
                        target_id=rotation.key.key_id,
                        details={"revoked": rotation.revoked},
                    )
                )
            except BaseException:
                idempotent.best_effort(undo, org_slug)
                raise
            return RotatedKey(
                org_slug=org_slug,
                api_key=rotation.key.api_key,
                api_key_id=rotation.key.key_id,
                api_key_prefix=rotation.key.key_prefix,
                revoked_key_ids=rotation.revoked,
            )

        return idempotent.respond(platform, meta, org_slug, 200, produce, undo=undo)

    @routes.get("/{org_slug}/subscription", response_model=SubscriptionView)
    def get_subscription(org_slug: OrgSlug, platform: PlatformDep, actor: OrgActor) -> SubscriptionView:
        return subscriptions.get(platform, org_slug)

    @routes.put("/{org_slug}/subscription", response_model=SubscriptionView)
    def change_plan(
        org_slug: OrgSlug, body: SubscriptionUpdate, platform: PlatformDep, actor: OrgActor, meta: Meta
    ) -> JSONResponse:
        previous: list[SubscriptionView] = []
        recorded: list[str] = []

        def undo() -> None:
            """Back to the plan the org had, and no audit row for a change that did not stay."""
            for audit_log_id in recorded:
                audit.retract(platform, org_slug, audit_log_id)
            for subscription in previous:
                subscriptions.restore(platform, org_slug, subscription)

        def produce() -> SubscriptionView:
            plan = get_plan(body.plan)
            previous.append(subscriptions.get(platform, org_slug))
            try:
                updated = subscriptions.update(platform, org_slug, plan=plan)
                recorded.append(
                    audit.record(
                        platform,
                        org_slug=org_slug,
                        actor=actor,
                        action="subscription.change_plan",
                        target_type="SUBSCRIPTION",
                        target_id=updated.subscription_id,
                        details={"plan": plan.name},
                    )
                )
            except BaseException:
                idempotent.best_effort(undo, org_slug)
                raise
            return updated

        return idempotent.respond(platform, meta, org_slug, 200, produce, undo=undo)

    @routes.get("/{org_slug}/quota", response_model=QuotaView)
    def get_quota(org_slug: OrgSlug, platform: PlatformDep, actor: OrgActor) -> QuotaView:
        subscription = subscriptions.get(platform, org_slug)
        limits = (subscription.daily_pipeline_limit, subscription.monthly_pipeline_limit)
        return quotas.get(platform, org_slug, limits)


def _integrations(routes: Routes) -> None:
    @routes.post("/{org_slug}/{provider}/setup", status_code=201, response_model=IntegrationView)
    def setup_integration(
        org_slug: OrgSlug,
        provider: str,
        body: IntegrationSetup,
        platform: PlatformDep,
        actor: OrgActor,
        meta: Meta,
    ) -> JSONResponse:
        parsed = integrations.parse_provider(provider)
        take_back: list[Callable[[], None]] = []

        def undo() -> None:
            for action in take_back:
                action()

        return idempotent.respond(
            platform,
            meta,
            org_slug,
            201,
            lambda: integrations.setup(platform, org_slug, parsed, body, actor, undo=take_back),
            undo=undo,
        )

    @routes.get("/{org_slug}", response_model=IntegrationList)
    def list_integrations(org_slug: OrgSlug, platform: PlatformDep, actor: OrgActor) -> IntegrationList:
        return IntegrationList(
            org_slug=org_slug, integrations=integrations.list_integrations(platform, org_slug)
        )

    @routes.delete("/{org_slug}/{provider}", response_model=Deleted)
    def delete_integration(
        org_slug: OrgSlug, provider: str, platform: PlatformDep, actor: OrgActor
    ) -> Deleted:
        parsed = integrations.parse_provider(provider)
        count = integrations.delete(platform, org_slug, parsed, actor)
        return Deleted(org_slug=org_slug, provider=parsed.value, deleted=count)


def _billing(routes: Routes) -> None:
    @routes.post("/webhook", response_model=WebhookResult)
    async def webhook(
        request: Request,
        platform: PlatformDep,
        settings: Annotated[Settings, Depends(get_settings)],
        stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
    ) -> dict[str, Any]:
        payload = await request.body()
        secret = settings.stripe_webhook_secret.get_secret_value()
        return await run_in_threadpool(billing.handle, platform, payload, stripe_signature, secret)
