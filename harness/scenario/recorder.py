"""Turn a finished run's in-memory outcome into its :class:`~harness.scenario.records.RunRecord`.

The outcome (:mod:`harness.scenario.outcome`) is what callers read, unscrubbed; the record
(:mod:`harness.scenario.records`) is what is written and replayed, scrubbed on the way out. This
module is the one place that maps one onto the other, so the two shapes can change separately.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.scenario.outcome import FAILED, INTERRUPTED, RunOutcome, StepOutcome
from harness.scenario.records import (
    CleanupRecord,
    Failure,
    FaultRecord,
    HttpExchange,
    ProviderExchange,
    RunRecord,
    StepRecord,
)


def run_record(
    outcome: RunOutcome,
    *,
    org_spec: dict[str, Any],
    variables: dict[str, Any],
    urls: tuple[str | None, str | None],
    clock_end: datetime | None,
    recorded_provider_responses: bool,
    started_at: datetime,
    faults: list[FaultRecord],
    provider_calls: list[ProviderExchange],
) -> RunRecord:
    """The record of ``outcome``; the keywords are what the run knew that the outcome does not
    carry (the resolved org and variables as they stood before the first step, the armed faults,
    the provider exchanges)."""
    cleanup = outcome.cleanup
    return RunRecord(
        record_id=outcome.record_id,
        run_id=outcome.run_id,
        scenario_name=outcome.scenario.name,
        source=str(outcome.source) if outcome.source is not None else None,
        scenario=outcome.scenario.model_dump(mode="json", by_alias=True, exclude_none=True),
        resolved={
            "org": org_spec,
            "variables": variables,
            "steps": [_resolved(s) for s in outcome.steps],
        },
        tier=outcome.tier.value,
        mode=outcome.mode,
        api_url=urls[0],
        pipeline_url=urls[1],
        seed=outcome.seed,
        clock_start=outcome.clock_start,
        clock_end=clock_end,
        recorded_provider_responses=recorded_provider_responses,
        replay_of=outcome.replay_of,
        started_at=started_at,
        duration_ms=outcome.duration_ms,
        faults=faults,
        steps=[step_record(s) for s in outcome.steps],
        provider_calls=provider_calls,
        cleanup=CleanupRecord(
            policy=cleanup.policy.value,
            ran=cleanup.ran,
            reason=cleanup.reason,
            ok=cleanup.ok,
            orgs=cleanup.orgs,
            steps=[step_record(s) for s in cleanup.steps],
        )
        if cleanup is not None
        else None,
        outcome=outcome.status,
        failure=_failure(outcome),
    )


def step_record(step: StepOutcome) -> StepRecord:
    """One step as recorded: its HTTP exchange, or a local action's result."""
    exchange = None
    if step.request is not None:
        exchange = HttpExchange(
            service=step.request.service,
            method=step.request.method,
            path=step.request.path,
            headers=step.request.headers,
            json_body=step.request.body,
            status=step.status,
            response_headers=step.response_headers,
            response=step.body,
        )
    return StepRecord(
        index=step.index,
        name=step.name,
        action=step.action,
        args=step.args,
        clock=step.clock,
        exchange=exchange,
        result=step.body if step.request is None else None,
        ok=step.ok,
        failures=step.failures,
        error=step.error,
        saved=step.saved,
        elapsed_ms=round(step.elapsed_ms, 3),
        instance=step.instance,
        parallel=[step_record(sub) for sub in step.parallel],
    )


def _resolved(step: StepOutcome) -> dict[str, Any]:
    resolved: dict[str, Any] = {"name": step.name, "action": step.action, "args": step.args}
    if step.instance != 1:
        resolved["instance"] = step.instance
    if step.parallel:
        resolved["parallel"] = [_resolved(sub) for sub in step.parallel]
    return resolved


def _failure(outcome: RunOutcome) -> Failure | None:
    if outcome.status not in (FAILED, INTERRUPTED):
        return None
    failed = outcome.failed_step
    return Failure(
        step_index=failed.index if failed is not None and not failed.cleanup else None,
        step=failed.name if failed is not None else None,
        action=failed.action if failed is not None else None,
        messages=(failed.failures + ([failed.error] if failed.error else []))
        if failed is not None
        else [outcome.reason or "interrupted"],
        sub_step=failed.sub_index if failed is not None else None,
    )
