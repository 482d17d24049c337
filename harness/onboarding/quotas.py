"""Per-org pipeline quotas: daily and monthly counters, reset by the injected clock's UTC date.

One row per org per usage day. A new day simply has no row yet, so the daily counter reads 0
without any reset job; the monthly counter is the sum of the month's days.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from harness.onboarding.errors import DomainError
from harness.onboarding.models import QuotaView
from harness.onboarding.plans import Plan
from harness.onboarding.platform import Platform


def new_row(
    platform: Platform, org_slug: str, limits: tuple[int, int], *, month_total: int = 0
) -> dict[str, Any]:
    """Today's row with zero counters; ``limits`` are (daily, monthly)."""
    now = platform.clock.now()
    return {
        "usage_id": str(uuid.uuid4()),
        "org_slug": org_slug,
        "usage_date": now.date(),
        "pipelines_run_today": 0,
        "pipelines_succeeded_today": 0,
        "pipelines_failed_today": 0,
        "pipelines_run_month": month_total,
        "daily_limit": limits[0],
        "monthly_limit": limits[1],
        "last_pipeline_at": None,
        "created_at": now,
        "updated_at": now,
    }


def _today_row(platform: Platform, org_slug: str, today: date) -> dict[str, Any] | None:
    rows = platform.select(
        f"SELECT * FROM {platform.table('org_usage_quotas')} "
        "WHERE org_slug = @org_slug AND usage_date = @today",
        {"org_slug": org_slug, "today": today},
    ).rows
    return rows[0] if rows else None


def _month_total(platform: Platform, org_slug: str, today: date) -> int:
    total = platform.select(
        f"SELECT COALESCE(SUM(pipelines_run_today), 0) AS n FROM {platform.table('org_usage_quotas')} "
        "WHERE org_slug = @org_slug AND usage_date >= @first AND usage_date <= @today",
        {"org_slug": org_slug, "first": today.replace(day=1), "today": today},
    ).scalar()
    return int(total)


def get(platform: Platform, org_slug: str, plan_limits: tuple[int, int]) -> QuotaView:
    """Today's counters; ``plan_limits`` (daily, monthly) apply when today has no row yet."""
    return _read(platform, org_slug, plan_limits)[0]


def _read(
    platform: Platform, org_slug: str, plan_limits: tuple[int, int]
) -> tuple[QuotaView, dict[str, Any] | None]:
    """Today's counters and today's row (None when there is none yet)."""
    now = platform.clock.now()
    today = now.date()
    row = _today_row(platform, org_slug, today)
    daily_limit, monthly_limit = (row["daily_limit"], row["monthly_limit"]) if row else plan_limits
    run_today = row["pipelines_run_today"] if row else 0
    month = _month_total(platform, org_slug, today)
    tomorrow = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    next_month = datetime(today.year + (today.month == 12), today.month % 12 + 1, 1, tzinfo=UTC)
    view = QuotaView(
        org_slug=org_slug,
        usage_date=today,
        pipelines_run_today=run_today,
        pipelines_succeeded_today=row["pipelines_succeeded_today"] if row else 0,
        pipelines_failed_today=row["pipelines_failed_today"] if row else 0,
        pipelines_run_month=month,
        daily_limit=daily_limit,
        monthly_limit=monthly_limit,
        daily_remaining=max(daily_limit - run_today, 0),
        monthly_remaining=max(monthly_limit - month, 0),
        daily_resets_at=tomorrow,
        monthly_resets_at=next_month,
    )
    return view, row


class QuotaExceeded(DomainError):
    code = "QUOTA_EXCEEDED"
    status = 429


@dataclass(frozen=True)
class Start:
    """One counted pipeline start: what :func:`give_back` needs to undo it."""

    org_slug: str
    usage_date: date
    new_row: bool


def consume(platform: Platform, org_slug: str, plan_limits: tuple[int, int]) -> Start:
    """Count one pipeline start, or refuse with 429 if the daily or monthly limit is reached.

    The count is the last call that can fail here (no read-back), so a caller whose next step
    fails gives the start back with :func:`give_back` and no quota is burnt."""
    quota, row = _read(platform, org_slug, plan_limits)
    for scope, used, limit, resets in (
        ("daily", quota.pipelines_run_today, quota.daily_limit, quota.daily_resets_at),
        ("monthly", quota.pipelines_run_month, quota.monthly_limit, quota.monthly_resets_at),
    ):
        if used >= limit:
            retry_after = max(int((resets - platform.clock.now()).total_seconds()), 1)
            raise QuotaExceeded(
                f"{scope.capitalize()} pipeline quota exhausted: {used} of {limit} used; "
                f"resets at {resets.isoformat()}",
                details={"scope": scope, "limit": limit, "used": used, "resets_at": resets.isoformat()},
                headers={"Retry-After": str(retry_after)},
            )
    now = platform.clock.now()
    today = now.date()
    first = new_row(
        platform,
        org_slug,
        (quota.daily_limit, quota.monthly_limit),
        month_total=quota.pipelines_run_month + 1,
    )
    if row is None and _insert_today(platform, first):
        return Start(org_slug, today, new_row=True)
    counted = platform.execute(
        f"UPDATE {platform.table('org_usage_quotas')} SET pipelines_run_today = pipelines_run_today + 1, "
        "pipelines_run_month = pipelines_run_month + 1, last_pipeline_at = @now, updated_at = @now "
        "WHERE org_slug = @org_slug AND usage_date = @today",
        {"org_slug": org_slug, "today": today, "now": now},
    )
    # Today's row was read above, not again here: if it went meanwhile (a concurrent start gave
    # back the row it had made), the UPDATE counted nowhere and the start makes the row itself.
    if not counted and _insert_today(platform, first):
        return Start(org_slug, today, new_row=True)
    return Start(org_slug, today, new_row=False)


def _insert_today(platform: Platform, row: dict[str, Any]) -> bool:
    """Today's first start, counted in a new row, unless another start (on this or another
    service process) wrote today's row meanwhile: one conditional INSERT, so a day never gets
    two rows; ``False`` means count in the existing one."""
    table = platform.table("org_usage_quotas")
    row = {**row, "pipelines_run_today": 1, "last_pipeline_at": row["created_at"]}
    columns = ", ".join(row)
    return bool(
        platform.execute(
            f"INSERT INTO {table} ({columns}) SELECT {', '.join(f'@{c}' for c in row)} FROM UNNEST([1]) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} "
            "WHERE org_slug = @org_slug AND usage_date = @usage_date)",
            row,
        )
    )


def give_back(platform: Platform, start: Start) -> None:
    """Undo :func:`consume` for a start whose run was never created: the counters it raised come
    down, and the day's row it made goes unless another start counted in it meanwhile."""
    params = {"org_slug": start.org_slug, "day": start.usage_date}
    table = platform.table("org_usage_quotas")
    platform.execute(
        f"UPDATE {table} SET pipelines_run_today = pipelines_run_today - 1, "
        "pipelines_run_month = pipelines_run_month - 1 "
        "WHERE org_slug = @org_slug AND usage_date = @day AND pipelines_run_today > 0",
        params,
    )
    if start.new_row:
        platform.execute(
            f"DELETE FROM {table} "
            "WHERE org_slug = @org_slug AND usage_date = @day AND pipelines_run_today = 0",
            params,
        )


def record_outcome(platform: Platform, org_slug: str, *, succeeded: bool) -> None:
    column = "pipelines_succeeded_today" if succeeded else "pipelines_failed_today"
    now = platform.clock.now()
    platform.execute(
        f"UPDATE {platform.table('org_usage_quotas')} SET {column} = {column} + 1, updated_at = @now "
        "WHERE org_slug = @org_slug AND usage_date = @today",
        {"org_slug": org_slug, "today": now.date(), "now": now},
    )


def apply_limits(platform: Platform, org_slug: str, plan: Plan) -> None:
    """A plan change takes effect today: today's row gets the new limits."""
    platform.execute(
        f"UPDATE {platform.table('org_usage_quotas')} SET daily_limit = @daily, monthly_limit = @monthly, "
        "updated_at = @now WHERE org_slug = @org_slug AND usage_date = @today",
        {
            "daily": plan.daily_pipeline_limit,
            "monthly": plan.monthly_pipeline_limit,
            "now": platform.clock.now(),
            "org_slug": org_slug,
            "today": platform.clock.now().date(),
        },
    )
