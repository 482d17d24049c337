"""Subscriptions: which plan an org is on, its status, and the limits that follow from the plan."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from harness.onboarding import quotas
from harness.onboarding.errors import NotFound
from harness.onboarding.models import SubscriptionView
from harness.onboarding.plans import Plan, SubscriptionStatus, get_plan
from harness.onboarding.platform import Platform


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    end = datetime(moment.year + (moment.month == 12), moment.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def new_row(platform: Platform, org_slug: str, plan: Plan) -> dict[str, Any]:
    now = platform.clock.now()
    start, end = month_bounds(now)
    return {
        "subscription_id": str(uuid.uuid4()),
        "org_slug": org_slug,
        "plan_name": plan.name,
        "status": SubscriptionStatus.ACTIVE.value,
        "daily_pipeline_limit": plan.daily_pipeline_limit,
        "monthly_pipeline_limit": plan.monthly_pipeline_limit,
        "provider_limit": plan.provider_limit,
        "billing_customer_id": None,
        "billing_subscription_id": None,
        "current_period_start": start,
        "current_period_end": end,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "created_at": now,
        "updated_at": now,
    }


def view(row: dict[str, Any]) -> SubscriptionView:
    return SubscriptionView.model_validate(
        {k: v for k, v in row.items() if k in SubscriptionView.model_fields}
    )


def get(platform: Platform, org_slug: str) -> SubscriptionView:
    rows = platform.select(
        f"SELECT * FROM {platform.table('org_subscriptions')} WHERE org_slug = @org_slug "
        "ORDER BY created_at DESC LIMIT 1",
        {"org_slug": org_slug},
    ).rows
    if not rows:
        raise NotFound(f"Organization '{org_slug}' has no subscription", code="SUBSCRIPTION_NOT_FOUND")
    return view(rows[0])


def update(
    platform: Platform,
    org_slug: str,
    *,
    plan: Plan | None = None,
    status: SubscriptionStatus | None = None,
    period: tuple[datetime, datetime] | None = None,
    cancel_at_period_end: bool | None = None,
    billing_ids: tuple[str | None, str | None] | None = None,
) -> SubscriptionView:
    """Change plan / status / period in place; plan limits flow on to today's quota row."""
    current = get(platform, org_slug)
    now = platform.clock.now()
    assignments: dict[str, Any] = {"updated_at": now}
    if plan is not None:
        assignments |= {
            "plan_name": plan.name,
            "daily_pipeline_limit": plan.daily_pipeline_limit,
            "monthly_pipeline_limit": plan.monthly_pipeline_limit,
            "provider_limit": plan.provider_limit,
        }
    if status is not None:
        assignments["status"] = status.value
        assignments["canceled_at"] = now if status is SubscriptionStatus.CANCELED else None
    if period is not None:
        assignments["current_period_start"], assignments["current_period_end"] = period
    if cancel_at_period_end is not None:
        assignments["cancel_at_period_end"] = cancel_at_period_end
    if billing_ids is not None:
        assignments["billing_customer_id"], assignments["billing_subscription_id"] = billing_ids
    sets = ", ".join(f"{column} = @{column}" for column in assignments)
    platform.execute(
        f"UPDATE {platform.table('org_subscriptions')} SET {sets} WHERE subscription_id = @subscription_id",
        {**assignments, "subscription_id": current.subscription_id},
    )
    if plan is not None:
        platform.execute(
            f"UPDATE {platform.table('org_profiles')} SET subscription_plan = @plan, updated_at = @now "
            "WHERE org_slug = @org_slug",
            {"plan": plan.name, "now": now, "org_slug": org_slug},
        )
        quotas.apply_limits(platform, org_slug, plan)
    return get(platform, org_slug)


RESTORED = (
    "plan_name",
    "status",
    "daily_pipeline_limit",
    "monthly_pipeline_limit",
    "provider_limit",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "canceled_at",
    "billing_customer_id",
    "billing_subscription_id",
    "updated_at",
)


def restore(platform: Platform, org_slug: str, previous: SubscriptionView) -> None:
    """Put the subscription back as ``previous`` (read before a change whose request then
    failed), with the plan on the profile and its limits on today's quota, as :func:`update` set
    them: the caller was told the change failed, so it must not stay half made."""
    values = {column: getattr(previous, column) for column in RESTORED}
    sets = ", ".join(f"{column} = @{column}" for column in RESTORED)
    platform.execute(
        f"UPDATE {platform.table('org_subscriptions')} SET {sets} WHERE subscription_id = @subscription_id",
        {**values, "subscription_id": previous.subscription_id},
    )
    platform.execute(
        f"UPDATE {platform.table('org_profiles')} SET subscription_plan = @plan WHERE org_slug = @org_slug",
        {"plan": previous.plan_name, "org_slug": org_slug},
    )
    quotas.apply_limits(platform, org_slug, get_plan(previous.plan_name))
