"""``{provider}/cost/usage_cost``: pull a provider's daily usage and cost by model into the org's dataset.

Both providers land in one provider-neutral schema (``llm_usage_daily``, ``llm_cost_daily``).
Re-running a date range replaces that range's rows for the provider: DELETE then a DML INSERT.
Rows are never streamed, so a re-run minutes later is not blocked by BigQuery's streaming buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from harness.onboarding import integrations
from harness.onboarding.platform import Platform
from harness.pipelines.dq import nothing_to_check, run_checks, skipped, verdict
from harness.pipelines.lifecycle import DQ_STEP, PipelineFailure, RunRecorder
from harness.pipelines.metering import MeteredWarehouse
from harness.pipelines.models import DqSummary
from harness.ports import (
    CostRecord,
    InsertMode,
    Provider,
    ProviderAuthError,
    ProviderResponseError,
    ProviderUnavailableError,
    UsagePull,
    UsageRecord,
    UsageSource,
)
from harness.schema.loader import load_table_schema
from harness.schema.spec import TableSpec, TimePartitioning

TABLES_DIR = Path(__file__).with_name("tables")
USAGE_TABLE = "llm_usage_daily"
COST_TABLE = "llm_cost_daily"


def table_spec(name: str) -> TableSpec:
    return TableSpec(
        table_id=name,
        schema=load_table_schema(TABLES_DIR / f"{name}.json"),
        description=f"Provider-neutral LLM {'usage' if name == USAGE_TABLE else 'cost'} per day and model.",
        time_partitioning=TimePartitioning(field="usage_date"),
        clustering_fields=("provider", "model"),
    )


@dataclass
class RunContext:
    platform: Platform
    warehouse: MeteredWarehouse
    recorder: RunRecorder
    org_slug: str
    provider: Provider
    start: date
    end: date


def run(ctx: RunContext) -> None:
    source = _source(ctx.platform, ctx.provider)
    provider_name = ctx.provider.value.upper()
    with ctx.recorder.step("decrypt_credential"):
        credential = integrations.decrypt_credential(ctx.platform, ctx.org_slug, ctx.provider)
    with ctx.recorder.step("fetch_usage") as step:
        usage = _pull(ctx, lambda: source.usage(credential, ctx.start, ctx.end), step)
    with ctx.recorder.step("fetch_costs") as step:
        costs = _pull(ctx, lambda: source.costs(credential, ctx.start, ctx.end), step)
    dataset = ctx.platform.org_dataset(ctx.org_slug)
    with ctx.recorder.step("ensure_tables") as step:
        for name in (USAGE_TABLE, COST_TABLE):
            ctx.warehouse.create_table(dataset, table_spec(name), exists_ok=True)
        step.metadata = {"dataset": dataset, "tables": [USAGE_TABLE, COST_TABLE]}
    now = ctx.platform.clock.now()
    with ctx.recorder.step("load_usage", loads=True) as step:
        rows = [_usage_row(r, provider_name, ctx.recorder.run_id, now) for r in usage]
        step.metadata = {"replaced": _replace(ctx, dataset, USAGE_TABLE, provider_name, rows)}
        step.rows = len(rows)
    with ctx.recorder.step("load_costs", loads=True) as step:
        rows = [_cost_row(r, provider_name, ctx.recorder.run_id, now) for r in costs]
        step.metadata = {"replaced": _replace(ctx, dataset, COST_TABLE, provider_name, rows)}
        step.rows = len(rows)
    with ctx.recorder.step(DQ_STEP) as step:
        reason = nothing_to_check(ctx.start, ctx.end, usage, costs)
        if reason is not None:
            step.skipped = True
            step.metadata = _dq_metadata(skipped(reason))
            return
        checks = run_checks(
            ctx.platform,
            dataset,
            provider=provider_name,
            start=ctx.start,
            end=ctx.end,
            usage=usage,
            costs=costs,
            usage_table=USAGE_TABLE,
            cost_table=COST_TABLE,
        )
        ctx.recorder.record_dq(checks)
        summary = verdict(checks)
        step.metadata = _dq_metadata(summary)
        if summary.failed:
            raise PipelineFailure(summary.reason, code="DATA_QUALITY_FAILED", status=422)


def _dq_metadata(summary: DqSummary) -> dict[str, Any]:
    """The data-quality step's log: the counts it always had, and the verdict the run reports."""
    return {"checks": summary.checks, "failed": summary.failed, "verdict": summary.model_dump(mode="json")}


def _source(platform: Platform, provider: Provider) -> UsageSource:
    source = platform.usage_sources.get(provider)
    if source is None:
        raise PipelineFailure(
            f"No usage source is configured for {provider.value}", code="PIPELINE_NOT_CONFIGURED"
        )
    return source


def _pull(ctx: RunContext, fetch: Any, step: Any) -> list[Any]:
    try:
        pulled: UsagePull = fetch()
    except ProviderAuthError as exc:
        reason = f"{ctx.provider.value} refused the stored credential ({exc.status}): {exc.message}"
        integrations.mark_invalid(ctx.platform, ctx.org_slug, ctx.provider, reason)
        raise PipelineFailure(
            f"{reason}; the integration is now INVALID, set it up again with a valid key",
            code="PROVIDER_AUTH_FAILED",
            status=502,
        ) from exc
    except ProviderUnavailableError as exc:
        raise PipelineFailure(
            f"{ctx.provider.value} is unavailable: {exc.message}", code="PROVIDER_UNAVAILABLE", status=503
        ) from exc
    except ProviderResponseError as exc:
        raise PipelineFailure(
            f"{ctx.provider.value} answered with something the pipeline cannot use: {exc}",
            code="PROVIDER_RESPONSE_INVALID",
            status=502,
        ) from exc
    step.rows = len(pulled.records)
    step.metadata = {"pages": pulled.pages, "requests": pulled.requests}
    return list(pulled.records)


def _replace(ctx: RunContext, dataset: str, table: str, provider: str, rows: list[dict[str, Any]]) -> int:
    deleted = ctx.warehouse.execute(
        f"DELETE FROM `{ctx.warehouse.project}.{dataset}.{table}` "
        "WHERE provider = @provider AND usage_date BETWEEN @start AND @end",
        {"provider": provider, "start": ctx.start, "end": ctx.end},
    )
    if rows:
        ctx.warehouse.insert_rows(dataset, table, rows, mode=InsertMode.DML)
    return deleted


def _usage_row(record: UsageRecord, provider: str, run_id: str, now: Any) -> dict[str, Any]:
    return {
        "usage_date": record.day,
        "provider": provider,
        "model": record.model,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cached_input_tokens": record.cached_input_tokens,
        "requests": record.requests,
        "run_id": run_id,
        "loaded_at": now,
    }


def _cost_row(record: CostRecord, provider: str, run_id: str, now: Any) -> dict[str, Any]:
    return {
        "usage_date": record.day,
        "provider": provider,
        "model": record.model,
        "cost_usd": record.cost_usd,
        "run_id": run_id,
        "loaded_at": now,
    }
