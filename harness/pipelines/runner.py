"""Starting a pipeline run: the preconditions, the quota, and a run that always ends.

Before a run: the org exists, its subscription is ACTIVE, the integration is configured and
valid, no run of the same org / pipeline / date is RUNNING, and the quota is not exhausted. A
started run consumes quota. Whatever happens inside, the run row ends SUCCESS or FAILED, and a
run whose org was offboarded meanwhile leaves no rows behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from harness.onboarding import audit, integrations, offboarding, orgs, quotas, subscriptions
from harness.onboarding.audit import Actor
from harness.onboarding.errors import Conflict, DomainError, InvalidRequest, NotFound
from harness.onboarding.plans import SubscriptionStatus
from harness.onboarding.platform import Platform
from harness.pipelines import usage_cost
from harness.pipelines.lifecycle import RunOverlaps, RunRecorder, load_run, run_error_code
from harness.pipelines.metering import MeteredWarehouse
from harness.pipelines.models import RunRequest, RunStatus, RunView
from harness.ports import Provider

log = logging.getLogger(__name__)

FINISH_ATTEMPTS = 3
"""How often ending a run (one idempotent UPDATE) is tried before the error goes to the caller."""

STALE_AFTER = timedelta(hours=1)
"""A RUNNING row older than this on the clock is from a process that died; it no longer blocks."""


@dataclass(frozen=True)
class PipelineDef:
    provider: Provider
    domain: str
    name: str
    run: Callable[[usage_cost.RunContext], None]

    @property
    def pipeline_id(self) -> str:
        return f"{self.provider.value}/{self.domain}/{self.name}"


PIPELINES: dict[str, PipelineDef] = {
    p.pipeline_id: p
    for p in (
        PipelineDef(Provider.OPENAI, "cost", "usage_cost", usage_cost.run),
        PipelineDef(Provider.ANTHROPIC, "cost", "usage_cost", usage_cost.run),
    )
}


def find(provider: str, domain: str, name: str) -> PipelineDef:
    pipeline = PIPELINES.get(f"{provider.lower()}/{domain}/{name}")
    if pipeline is None:
        raise NotFound(
            f"Unknown pipeline {provider}/{domain}/{name}; available: {', '.join(sorted(PIPELINES))}",
            code="PIPELINE_NOT_FOUND",
        )
    return pipeline


def date_range(platform: Platform, request: RunRequest) -> tuple[date, date]:
    if request.date is not None:
        return request.date, request.date
    if request.start_date is not None and request.end_date is not None:
        return request.start_date, request.end_date
    yesterday = platform.clock.now().date() - timedelta(days=1)
    return yesterday, yesterday


def run_pipeline(
    platform: Platform, org_slug: str, pipeline: PipelineDef, request: RunRequest, actor: Actor
) -> RunView:
    start, end = date_range(platform, request)
    if end >= platform.clock.now().date() + timedelta(days=1):
        raise InvalidRequest(f"end date {end} is in the future", code="INVALID_DATE_RANGE")
    orgs.get(platform, org_slug)
    subscription = subscriptions.get(platform, org_slug)
    if subscription.status != SubscriptionStatus.ACTIVE.value:
        raise DomainError(
            f"Subscription is {subscription.status}; pipelines need an ACTIVE subscription",
            code="SUBSCRIPTION_NOT_ACTIVE",
            status=403,
        )
    _require_integration(platform, org_slug, pipeline.provider)
    limits = (subscription.daily_pipeline_limit, subscription.monthly_pipeline_limit)
    parameters = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    _refuse_concurrent(platform, org_slug, pipeline, start, end)
    counted = quotas.consume(platform, org_slug, limits)
    try:
        recorder = RunRecorder(
            platform,
            org_slug=org_slug,
            pipeline_id=pipeline.pipeline_id,
            provider=pipeline.provider.value.upper(),
            domain=pipeline.domain,
            run_date=start,
            parameters=parameters,
            trigger_type="API" if actor.type.value != "SYSTEM" else "SYSTEM",
            triggered_by=actor.id,
            live_since=platform.clock.now() - STALE_AFTER,
        )
    except BaseException as exc:
        _give_back(platform, counted)
        if isinstance(exc, RunOverlaps):  # another process started these days since the check
            _refuse_concurrent(platform, org_slug, pipeline, start, end)
            raise _already_running(pipeline, org_slug, start, end, None) from None
        raise
    metered = MeteredWarehouse(platform.warehouse)
    context = usage_cost.RunContext(
        platform=replace(platform, warehouse=metered),
        warehouse=metered,
        recorder=recorder,
        org_slug=org_slug,
        provider=pipeline.provider,
        start=start,
        end=end,
    )
    error: BaseException | None = None
    try:
        recorder.running()
        pipeline.run(context)
    except BaseException as exc:  # a crash in any step must still end the run as FAILED
        error = exc
    finally:
        try:
            _close_run(platform, recorder, metered, error, actor, pipeline, parameters, org_slug)
        finally:
            swept = _sweep_if_offboarded(platform, org_slug)
    if swept:
        raise NotFound(
            f"Organization '{org_slug}' was offboarded while run {recorder.run_id} was in flight; "
            "the run's records were removed with it",
            code="ORG_NOT_FOUND",
            details={"run_id": recorder.run_id},
        ) from error
    if error is not None and not isinstance(error, Exception):
        raise error  # KeyboardInterrupt / SystemExit: recorded as FAILED, then let it through
    return load_run(platform, org_slug, recorder.run_id)


def _close_run(
    platform: Platform,
    recorder: RunRecorder,
    metered: MeteredWarehouse,
    error: BaseException | None,
    actor: Actor,
    pipeline: PipelineDef,
    parameters: dict[str, str],
    org_slug: str,
) -> None:
    """End the run first (a run row must never stay RUNNING), then the bookkeeping, each part on
    its own so one failing write cannot stop the others.

    Ending the run is an idempotent UPDATE, so it is tried up to ``FINISH_ATTEMPTS`` times: one
    failed write must not leave a RUNNING row that blocks every retry of those dates with
    ``409 PIPELINE_ALREADY_RUNNING``. If every attempt fails, the bookkeeping still runs and the
    last error goes to the caller."""
    finish_error: Exception | None = None
    for _ in range(FINISH_ATTEMPTS):
        try:
            recorder.finish(error=error)
            finish_error = None
            break
        except Exception as exc:
            finish_error = exc
            log.warning("ending run %s failed; trying again", recorder.run_id, exc_info=True)
    code = run_error_code(error) if error else None
    for action in (
        lambda: recorder.record_cost(
            bytes_processed=metered.bytes_processed,
            bytes_billed=metered.bytes_billed,
            estimated_cost=metered.estimated_cost_usd,
        ),
        lambda: quotas.record_outcome(platform, org_slug, succeeded=error is None),
        lambda: audit.record(
            platform,
            org_slug=org_slug,
            actor=actor,
            action="pipeline.run",
            target_type="PIPELINE_RUN",
            target_id=recorder.run_id,
            outcome="SUCCESS" if error is None else "FAILURE",
            error_code=code,
            details={"pipeline_id": pipeline.pipeline_id, **parameters},
        ),
    ):
        try:
            action()
        except Exception:  # the run's own outcome is already recorded; report and carry on
            log.exception("bookkeeping for run %s failed", recorder.run_id)
    if finish_error is not None:
        raise finish_error


def _give_back(platform: Platform, counted: quotas.Start) -> None:
    """A start whose run row was never written does not count against the quota."""
    try:
        quotas.give_back(platform, counted)
    except Exception:  # best effort: the caller sees the run's own failure
        log.exception("giving back the quota of a failed start of org %s failed", counted.org_slug)


def _sweep_if_offboarded(platform: Platform, org_slug: str) -> bool:
    """Remove what the run wrote if the org was offboarded while it ran; say whether it was.

    Offboarding deletes the org's profile row before anything else, and this check comes after
    the run's last write. Either the check still sees the profile, so every write of the run came
    before offboarding's deletes and they removed it, or it does not, and the run removes its
    own rows here (including a quota row its start created anew). No interleaving leaves rows."""
    try:
        if orgs.exists(platform, org_slug):
            return False
    except Exception:  # cannot tell; the run's own outcome is what the caller sees
        log.exception("checking whether org %s still exists after a run failed", org_slug)
        return False
    try:
        offboarding.erase(platform, org_slug)
    except Exception:  # best effort: the run's own outcome is what the caller sees
        log.exception("sweeping the rows of offboarded org %s failed", org_slug)
    return True


def _require_integration(platform: Platform, org_slug: str, provider: Provider) -> None:
    configured = [
        i
        for i in integrations.list_integrations(platform, org_slug)
        if i.provider is provider and i.is_active
    ]
    if not configured:
        # An org being offboarded loses its integrations after its profile: say it is gone (404),
        # not that it should set one up.
        orgs.get(platform, org_slug)
        raise InvalidRequest(
            f"No {provider.value} integration is configured for '{org_slug}'; set one up first",
            code="INTEGRATION_NOT_CONFIGURED",
        )
    if configured[-1].validation_status != integrations.VALID:
        raise InvalidRequest(
            f"The {provider.value} integration is {configured[-1].validation_status}: "
            f"{configured[-1].validation_error}; set it up again with a valid key",
            code="INTEGRATION_INVALID",
        )


def _refuse_concurrent(
    platform: Platform, org_slug: str, pipeline: PipelineDef, start: date, end: date
) -> None:
    """No live run of the pipeline for the org may overlap ``start``..``end``: two runs replacing
    the same days would leave duplicates. A read, so it answers the common case early (409
    before a quota is counted) and ends stale runs; the claim in :class:`RunRecorder` is what
    decides between concurrent starts, on one service process or several."""
    running = platform.select(
        f"SELECT run_id, start_time, run_date, parameters FROM {platform.table('org_meta_pipeline_runs')} "
        "WHERE org_slug = @org_slug AND pipeline_id = @pipeline_id AND status IN ('PENDING', 'RUNNING')",
        {"org_slug": org_slug, "pipeline_id": pipeline.pipeline_id},
    ).rows
    now = platform.clock.now()
    overlapping = [r for r in running if _overlaps(r, start, end)]
    live = [r for r in overlapping if now - r["start_time"] < STALE_AFTER]
    if live:
        raise _already_running(pipeline, org_slug, start, end, live[0]["run_id"])
    running = [r for r in overlapping if r not in live]
    for stale in running:
        platform.execute(
            f"UPDATE {platform.table('org_meta_pipeline_runs')} SET status = @failed, end_time = @now, "
            "duration_ms = TIMESTAMP_DIFF(@now, start_time, MILLISECOND), error_code = 'STALE_RUN', "
            "error_message = 'The process running it stopped before it finished' "
            "WHERE run_id = @run_id AND org_slug = @org_slug",
            {"failed": RunStatus.FAILED.value, "now": now, "run_id": stale["run_id"], "org_slug": org_slug},
        )


def _already_running(
    pipeline: PipelineDef, org_slug: str, start: date, end: date, run_id: str | None
) -> Conflict:
    """The 409; ``run_id`` is the live run's, when it could still be read."""
    return Conflict(
        f"Pipeline {pipeline.pipeline_id} is already running for {org_slug} over {start}..{end}"
        + (f" (run {run_id})" if run_id else ""),
        code="PIPELINE_ALREADY_RUNNING",
        details={"run_id": run_id} if run_id else None,
    )


def _overlaps(run: dict[str, object], start: date, end: date) -> bool:
    parameters = {p["name"]: p["value"] for p in run["parameters"]}  # type: ignore[attr-defined]
    run_start = date.fromisoformat(parameters.get("start_date") or str(run["run_date"]))
    run_end = date.fromisoformat(parameters.get("end_date") or str(run["run_date"]))
    return run_start <= end and start <= run_end
