"""What a scenario run returns: per-step outcomes, the cleanup, the run, and its failure report.

Everything here is in memory and unscrubbed (a test can read the org's API key from a step's
``body``); only :meth:`RunOutcome.failure_report` and the step ``detail`` lines, which are meant to
be printed, have secrets replaced by the record's placeholders.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from harness.scenario.actions import Request
from harness.scenario.expectations import MISSING, resolve_path
from harness.scenario.model import CleanupPolicy, Scenario, Tier
from harness.scenario.records import Scrubber

PASSED, FAILED, INTERRUPTED, SKIPPED = "passed", "failed", "interrupted", "skipped"
_BODY_EXCERPT = 400


class ScenarioUsageError(Exception):
    """The scenario cannot run as asked (tier not available, an action live mode cannot do...).
    Raised before anything runs; the CLI exits 2."""


class LiveUnsupported(ScenarioUsageError):
    """The scenario needs what the live services do not offer (an in-process-only action, or test
    controls they do not have). ``harness run`` reports it as skipped, naming the step."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, after cleanup and the record: ``outcome`` says what had happened."""

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__(f"scenario {outcome.scenario.name} interrupted")
        self.outcome = outcome


# ---------------------------------------------------------------------------------- outcomes


@dataclass
class StepOutcome:
    index: int
    name: str
    action: str
    ok: bool
    elapsed_ms: float
    status: int | None = None
    detail: str = ""
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    request: Request | None = None
    body: Any = None
    """The response body as received (unscrubbed, in memory only)."""
    text: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    saved: dict[str, Any] = field(default_factory=dict)
    clock: datetime | None = None
    cleanup: bool = False
    instance: int = 1
    """Which service instance the request went to (scenarios with ``instances``)."""
    parallel: list[StepOutcome] = field(default_factory=list)
    """A ``parallel`` step's sub-steps, in the order written (they share the step's ``index``)."""
    sub_index: int | None = None
    """A sub-step's place in its ``parallel`` step."""

    def take_response(self, response: httpx.Response) -> None:
        """Status, text, headers (without the volatile length and date) and body (JSON, else text)."""
        self.status = response.status_code
        self.text = response.text
        self.response_headers = {
            k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "date")
        }
        try:
            self.body = response.json()
        except ValueError:
            self.body = response.text

    @property
    def label(self) -> str:
        label = self.name if self.cleanup or self.name == self.action else f"{self.name} [{self.action}]"
        return label if self.instance == 1 else f"{label} @instance {self.instance}"

    @property
    def number(self) -> str:
        """``3`` for the third step, ``3.2`` for the second sub-step of a parallel third step."""
        return str(self.index + 1) + (f".{self.sub_index + 1}" if self.sub_index is not None else "")

    @property
    def first_failure(self) -> StepOutcome | None:
        """The step, or for a parallel step its first failing sub-step (the step itself when
        every sub-step passed but the step did not)."""
        if self.ok:
            return None
        return next((sub for sub in self.parallel if not sub.ok), self)


@dataclass
class CleanupOutcome:
    policy: CleanupPolicy
    ran: bool
    reason: str = ""
    ok: bool = True
    orgs: dict[str, str] = field(default_factory=dict)
    steps: list[StepOutcome] = field(default_factory=list)


@dataclass
class RunOutcome:
    scenario: Scenario
    source: Path | None
    run_id: str
    record_id: str
    tier: Tier
    mode: str
    seed: int
    clock_start: datetime
    org: str
    variables: dict[str, Any] = field(default_factory=dict)
    status: str = PASSED
    reason: str = ""
    steps: list[StepOutcome] = field(default_factory=list)
    cleanup: CleanupOutcome | None = None
    record_path: Path | None = None
    duration_ms: float = 0.0
    replay_of: str | None = None
    provider_calls: int = 0
    provider_responses_replayed: int = 0
    _scrub: Scrubber = field(default_factory=Scrubber, repr=False)

    @property
    def ok(self) -> bool:
        """Passed (or skipped: the scenario does not run on this tier)."""
        return self.status in (PASSED, SKIPPED)

    @property
    def failed_step(self) -> StepOutcome | None:
        failed = next((s for s in self.steps if not s.ok), None)
        if failed is None and self.cleanup is not None:
            failed = next((s for s in self.cleanup.steps if not s.ok), None)
        return failed.first_failure if failed is not None else None

    def scrub_text(self, text: str) -> str:
        """``text`` with this run's secrets replaced by their record placeholders."""
        return self._scrub.text(text)

    @property
    def replay_command(self) -> str | None:
        if self.record_path is None:
            return None
        return f"harness replay {shlex.quote(str(_display_path(self.record_path)))}"

    def failure_report(self) -> str:
        """The failing step, expected vs actual, the response, cleanup, and how to replay it."""
        lines = [f"scenario {self.scenario.name} {self.status.upper()} (run {self.run_id}, org {self.org})"]
        if self.source is not None:
            lines[0] += f" — {_display_path(self.source)}"
        step = self.failed_step
        if self.status == INTERRUPTED:
            lines.append(f"  interrupted after {len(self.steps)} of {len(self.scenario.steps)} steps")
        if step is not None:
            where = "cleanup" if step.cleanup else f"step {step.number}/{len(self.scenario.steps)}"
            lines.append(f"  failing {where}: {step.label}")
            if step.request is not None:
                lines.append(f"  request: {step.request.method} {step.request.path}")
            lines.extend(f"    {self._scrub.text(line)}" for line in step.failures)
            if step.error:
                lines.append(f"    error: {self._scrub.text(step.error)}")
            if step.text:
                excerpt = self._scrub.text(step.text)
                excerpt = excerpt if len(excerpt) <= _BODY_EXCERPT else excerpt[: _BODY_EXCERPT - 1] + "…"
                lines.append(f"  response: {step.status} {excerpt}")
        elif self.reason:
            lines.append(f"  {self.reason}")
        if self.cleanup is not None:
            lines.append(f"  cleanup: {_cleanup_summary(self.cleanup)}")
        if self.replay_command:
            lines.append(f"  replay: {self.replay_command}")
        return "\n".join(lines)


def _cleanup_summary(cleanup: CleanupOutcome) -> str:
    if not cleanup.ran:
        return cleanup.reason
    done = ", ".join(f"{org} {what}" for org, what in cleanup.orgs.items())
    return done or "nothing to do"


def _display_path(path: Path) -> Path:
    with contextlib.suppress(ValueError):
        return path.resolve().relative_to(Path.cwd().resolve())
    return path


def step_detail(step: StepOutcome, scrub: Callable[[str], str]) -> str:
    """One short line for the progress output (secrets scrubbed)."""
    if step.error:
        return scrub(step.error)
    if step.failures:
        more = f" (+{len(step.failures) - 1} more)" if len(step.failures) > 1 else ""
        return scrub(step.failures[0]) + more
    body = step.body
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("error"), str):
        message = scrub(str(body.get("message", "")))
        return f"{body['error']}: {message if len(message) <= 120 else message[:119] + '…'}"
    summary = _SUMMARIES.get(step.action)
    try:
        return scrub(summary(body)) if summary else ""
    except (KeyError, TypeError, AttributeError):
        return ""


def _fields(*paths: str) -> Callable[[dict[str, Any]], str]:
    def summary(body: dict[str, Any]) -> str:
        values = [resolve_path(body, p) for p in paths]
        return " ".join(str(v) for v in values if v is not MISSING and v is not None)

    return summary


def _run_summary(body: dict[str, Any]) -> str:
    text = f"run {body['status']}, {body.get('rows_processed') or 0} rows"
    quality = body.get("data_quality") or {}
    if quality.get("status") == "SKIPPED":  # a green run that checked nothing says so on its line
        text += f", data quality skipped: {quality.get('reason')}"
    return text + (f", {body['error_code']}" if body.get("error_code") else "")


_SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "bootstrap": lambda b: f"{len(b['created'])} tables created, {len(b['existing'])} existing",
    "onboard": lambda b: f"org {b['org']['org_slug']}, plan {b['subscription']['plan_name']}",
    "get_org": _fields("org_slug", "status"),
    "rotate_key": lambda b: f"new key {b['api_key_prefix']}…, {len(b['revoked_key_ids'])} revoked",
    "check_subscription": _fields("plan_name", "status"),
    "change_plan": _fields("plan_name", "status"),
    "check_quota": lambda b: (
        f"{b['pipelines_run_today']}/{b['daily_limit']} today, "
        f"{b['pipelines_run_month']}/{b['monthly_limit']} this month"
    ),
    "setup_integration": _fields("provider", "validation_status"),
    "list_integrations": lambda b: (
        ", ".join(f"{i['provider']}={i['validation_status']}" for i in b["integrations"]) or "none"
    ),
    "delete_integration": lambda b: f"{b['deleted']} deleted",
    "run_pipeline": _run_summary,
    "get_run": _run_summary,
    "send_webhook": lambda b: (
        "applied" if b.get("applied") else ("duplicate" if b.get("duplicate") else "ignored")
    ),
    "offboard": lambda b: (
        f"{sum(b['deleted_rows'].values())} rows deleted, dataset dropped: {b['dataset_deleted']}"
    ),
    "advance_clock": lambda b: f"clock now {b['now']}",
    "count_rows": lambda b: f"{b['rows']} rows in {b['table']}",
    "parallel": lambda b: f"{b['passed']}/{b['sub_steps']} sub-steps passed",
    "describe_dataset": lambda b: (
        f"{b['dataset_id']}: " + (f"{b['table_count']} tables" if b["exists"] else "does not exist")
    ),
}
