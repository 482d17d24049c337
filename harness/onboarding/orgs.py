"""Onboarding an org, all or nothing.

Onboarding writes to six meta tables, creates the org's dataset and encrypts an API key, then reads
the org back for the response. If any step up to the response fails, everything already written
for the org is removed again and the original error is raised: a failed onboarding never leaves a
half-onboarded org behind, and a retry starts clean.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from harness.onboarding import api_keys, audit, quotas, subscriptions
from harness.onboarding.audit import Actor
from harness.onboarding.errors import Conflict, NotFound
from harness.onboarding.models import OnboardRequest, OnboardResult, OrgView
from harness.onboarding.plans import get_plan
from harness.onboarding.platform import Platform
from harness.ports import AlreadyExistsError

log = logging.getLogger(__name__)

ACTIVE = "ACTIVE"


def exists(platform: Platform, org_slug: str) -> bool:
    count = platform.select(
        f"SELECT COUNT(*) AS n FROM {platform.table('org_profiles')} WHERE org_slug = @org_slug",
        {"org_slug": org_slug},
    ).scalar()
    return bool(count)


def get(platform: Platform, org_slug: str) -> OrgView:
    rows = platform.select(
        f"SELECT * FROM {platform.table('org_profiles')} WHERE org_slug = @org_slug", {"org_slug": org_slug}
    ).rows
    if not rows:
        raise NotFound(f"Organization '{org_slug}' not found", code="ORG_NOT_FOUND")
    return OrgView.model_validate({k: v for k, v in rows[0].items() if k in OrgView.model_fields})


def onboard(platform: Platform, request: OnboardRequest, actor: Actor) -> OnboardResult:
    plan = get_plan(request.plan)
    slug = request.org_slug
    if exists(platform, slug):
        raise Conflict(f"Organization '{slug}' already exists", code="ORG_ALREADY_EXISTS")
    dataset_id = platform.org_dataset(slug)
    undo: list[Callable[[], None]] = []
    try:
        try:
            platform.warehouse.create_dataset(
                dataset_id,
                location=platform.config.dataset.location,
                description=f"CloudAct data for organization {slug}",
                labels={"org_slug": slug, "environment": platform.environment},
            )
        except AlreadyExistsError as exc:
            raise Conflict(
                f"Dataset {dataset_id} already exists; offboard the old organization first",
                code="ORG_DATASET_EXISTS",
            ) from exc
        undo.append(
            lambda: platform.warehouse.delete_dataset(dataset_id, delete_contents=True, not_found_ok=True)
        )

        key = api_keys.issue(platform, slug)
        now = platform.clock.now()
        profile = {
            "org_slug": slug,
            "company_name": request.company_name,
            "admin_email": request.admin_email,
            "org_dataset_id": dataset_id,
            "status": ACTIVE,
            "subscription_plan": plan.name,
            "environment": platform.environment,
            "metadata": request.metadata,
            "created_at": now,
            "updated_at": now,
        }
        subscription = subscriptions.new_row(platform, slug, plan)
        quota = quotas.new_row(platform, slug, (plan.daily_pipeline_limit, plan.monthly_pipeline_limit))
        kms_record = {
            "kms_key_record_id": str(uuid.uuid4()),
            "org_slug": slug,
            "key_name": platform.keys.key_name,
            "key_version": key.key_version,
            "key_purpose": "ENCRYPT_DECRYPT",
            "encrypted_resource_type": "ORG_API_KEY",
            "encrypted_resource_id": key.key_id,
            "is_active": True,
            "created_at": now,
            "rotated_at": None,
        }
        for table, row in (
            ("org_profiles", profile),
            ("org_api_keys", key.row),
            ("org_subscriptions", subscription),
            ("org_usage_quotas", quota),
            ("org_kms_keys", kms_record),
        ):
            undo.append(_deleter(platform, table, slug))
            platform.insert(table, [row])
        undo.append(_deleter(platform, "org_audit_logs", slug))
        audit.record(
            platform,
            org_slug=slug,
            actor=actor,
            action="org.onboard",
            target_type="ORGANIZATION",
            target_id=slug,
            details={"plan": plan.name, "dataset_id": dataset_id, "api_key_id": key.key_id},
        )
        # The read-back is part of the request: if it fails, the caller never sees the API key,
        # so the org must go too, or a retry would meet 409 ORG_ALREADY_EXISTS for an org whose
        # key nobody holds.
        return OnboardResult(
            org=get(platform, slug),
            api_key=key.api_key,
            api_key_id=key.key_id,
            api_key_prefix=key.key_prefix,
            subscription=subscriptions.view(subscription),
            quota=quotas.get(platform, slug, (plan.daily_pipeline_limit, plan.monthly_pipeline_limit)),
            dataset_id=dataset_id,
            kms_key_version=key.key_version,
        )
    except BaseException:
        _roll_back(undo, slug)
        raise


def _deleter(platform: Platform, table: str, org_slug: str) -> Callable[[], None]:
    return lambda: platform.delete_org_rows(table, org_slug)


def _roll_back(undo: list[Callable[[], None]], org_slug: str) -> None:
    """Undo in reverse; keep going past a failing undo so as much as possible is removed."""
    for action in reversed(undo):
        try:
            action()
        except Exception:  # best effort: the original error is what the caller sees
            log.exception("rollback step failed while undoing onboarding of %s", org_slug)
