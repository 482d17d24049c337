"""Data-quality checks on what a usage/cost run loaded, written to ``org_meta_dq_results``.

* rows present: every day the provider reported activity has rows in the usage table;
* non-negative: no negative token, request or cost values;
* unique keys: no duplicate (usage_date, provider, model) in either table;
* cost total: the loaded cost equals the total of the provider's own line items.

A range the provider reported nothing for (a quiet account, a day before the first request) has
nothing to check: :func:`nothing_to_check` says so, and the step is SKIPPED with that reason
rather than a green made of checks over no rows (:func:`verdict` is what the run reports).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from harness.onboarding.platform import Platform
from harness.pipelines.lifecycle import DqCheck
from harness.pipelines.models import DqStatus, DqSummary
from harness.ports import CostRecord, UsageRecord


def run_checks(
    platform: Platform,
    dataset: str,
    *,
    provider: str,
    start: date,
    end: date,
    usage: list[UsageRecord],
    costs: list[CostRecord],
    usage_table: str,
    cost_table: str,
) -> list[DqCheck]:
    def ref(table: str) -> str:
        return f"`{platform.warehouse.project}.{dataset}.{table}`"

    scope = "WHERE provider = @provider AND usage_date BETWEEN @start AND @end"
    params = {"provider": provider, "start": start, "end": end}
    checks: list[DqCheck] = []

    active_days = sorted({r.day for r in usage if r.input_tokens or r.output_tokens or (r.requests or 0)})
    loaded_days = {
        row["usage_date"]
        for row in platform.select(f"SELECT DISTINCT usage_date FROM {ref(usage_table)} {scope}", params).rows
    }
    missing = [d.isoformat() for d in active_days if d not in loaded_days]
    checks.append(
        DqCheck(
            name="rows_present_for_active_days",
            check_type="COMPLETENESS",
            target_table=usage_table,
            passed=not missing,
            rows_checked=len(active_days),
            rows_failed=len(missing),
            expected=f"rows for {len(active_days)} day(s) with activity",
            observed=f"missing days: {', '.join(missing)}" if missing else "all present",
            failing_columns=("usage_date",) if missing else (),
        )
    )

    negatives = platform.select(
        f"SELECT COUNT(*) AS n FROM {ref(usage_table)} {scope} AND (input_tokens < 0 OR output_tokens < 0 "
        "OR cached_input_tokens < 0 OR COALESCE(requests, 0) < 0)",
        params,
    ).scalar()
    negative_costs = platform.select(
        f"SELECT COUNT(*) AS n FROM {ref(cost_table)} {scope} AND cost_usd < 0", params
    ).scalar()
    checks.append(
        DqCheck(
            name="non_negative_values",
            check_type="VALIDITY",
            target_table=f"{usage_table},{cost_table}",
            passed=not negatives and not negative_costs,
            rows_checked=len(usage) + len(costs),
            rows_failed=int(negatives) + int(negative_costs),
            expected="0 rows with negative tokens, requests or cost",
            observed=f"{negatives} usage row(s), {negative_costs} cost row(s)",
            failing_columns=("input_tokens", "output_tokens", "cached_input_tokens", "requests", "cost_usd")
            if negatives or negative_costs
            else (),
        )
    )

    for table in (usage_table, cost_table):
        duplicates = platform.select(
            f"SELECT usage_date, model, COUNT(*) AS n FROM {ref(table)} {scope} "
            "GROUP BY usage_date, model HAVING COUNT(*) > 1 ORDER BY usage_date, model LIMIT 5",
            params,
        ).rows
        checks.append(
            DqCheck(
                name="unique_date_provider_model",
                check_type="UNIQUENESS",
                target_table=table,
                passed=not duplicates,
                rows_failed=len(duplicates),
                expected="one row per (usage_date, provider, model)",
                observed=f"{len(duplicates)} duplicated key(s)" if duplicates else "unique",
                failing_columns=("usage_date", "provider", "model") if duplicates else (),
                sample=[{**d, "usage_date": d["usage_date"].isoformat()} for d in duplicates] or None,
            )
        )

    provider_total = sum((c.cost_usd for c in costs), Decimal(0))
    loaded_total = platform.select(
        f"SELECT COALESCE(SUM(cost_usd), 0) AS total FROM {ref(cost_table)} {scope}", params
    ).scalar()
    loaded_total = Decimal(loaded_total)
    checks.append(
        DqCheck(
            name="cost_total_matches_provider",
            check_type="RECONCILIATION",
            target_table=cost_table,
            passed=loaded_total == provider_total,
            rows_checked=len(costs),
            expected=f"{provider_total} USD (provider line items)",
            observed=f"{loaded_total} USD loaded",
            failing_columns=("cost_usd",) if loaded_total != provider_total else (),
        )
    )
    return checks


def nothing_to_check(start: date, end: date, usage: list[UsageRecord], costs: list[CostRecord]) -> str | None:
    """Why the checks would look at nothing (the provider reported no usage and no cost for the
    range), or None when there is something to check."""
    if usage or costs:
        return None
    days = start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"
    return f"no usage rows for {days}"


def verdict(checks: list[DqCheck]) -> DqSummary:
    """PASSED or FAILED, with the checks that failed (an ERROR one fails the run) and a reason."""
    failed = [c.name for c in checks if not c.passed and c.severity == "ERROR"]
    if failed:
        return DqSummary(
            status=DqStatus.FAILED,
            checks=len(checks),
            failed=failed,
            reason=f"data-quality checks failed: {', '.join(failed)}",
        )
    return DqSummary(status=DqStatus.PASSED, checks=len(checks), reason=f"{len(checks)} checks passed")


def skipped(reason: str) -> DqSummary:
    return DqSummary(status=DqStatus.SKIPPED, checks=0, reason=reason)
