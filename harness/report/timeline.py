"""The report's view model: what a run record says, arranged as a timeline a page can draw.

A record keeps each step's wall time, the injected clock at its start, the faults armed before it
and the provider calls made during it; a reader wants them on one line per step, with bars whose
length is the step's share of the run, the clock's jumps, the faults and the retries beside the
step that met them, and failures split into what was expected and what came back. Only scrubbed
records come in, so everything here is safe to print.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from harness.scenario.records import DEFAULT_RUNS_DIR, FaultRecord, ProviderExchange, RunRecord, StepRecord

FAILED_OUTCOMES = ("failed", "interrupted")
MAX_BODY_CHARS = 20_000
"""A request or response shown longer than this is cut (the record keeps it whole)."""
_EXPECTED = re.compile(r"^(?P<what>.+?): expected (?P<expected>.+?), got (?P<actual>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Check:
    """One failed expectation: ``what`` was ``expected``, ``actual`` came (None when the message
    does not have the runner's ``what: expected X, got Y`` shape; ``message`` is always whole)."""

    message: str
    what: str | None = None
    expected: str | None = None
    actual: str | None = None


@dataclass(frozen=True)
class Exchange:
    """A step's request and response (or a local action's result), as text for a ``<pre>``."""

    title: str
    request: str
    response: str


@dataclass(frozen=True)
class StepView:
    number: str
    """``3``, ``3.1`` for a sub-step of a parallel step, empty for cleanup."""
    label: str
    action: str
    ok: bool
    elapsed_ms: float
    offset_pct: float
    """Where the step's bar starts: the share of the run's wall time spent before it."""
    width_pct: float
    status: int | None = None
    cleanup: bool = False
    sub_step: bool = False
    clock: str | None = None
    """The injected clock when the step started."""
    clock_move: str | None = None
    """How far the clock moved while the step ran (``+1d 2h``), when it moved a second or more."""
    faults_armed: tuple[str, ...] = ()
    provider_calls: tuple[str, ...] = ()
    retries: int = 0
    """Provider requests this step repeated (same provider, method and path)."""
    checks: tuple[Check, ...] = ()
    error: str | None = None
    exchange: Exchange | None = None


@dataclass(frozen=True)
class FaultView:
    description: str
    armed_at: str
    fired: int | None


@dataclass(frozen=True)
class ScenarioView:
    name: str
    record_id: str
    run_id: str
    outcome: str
    tier: str
    mode: str
    seed: int
    started_at: str
    duration_ms: float
    clock_start: str
    clock_end: str | None
    source: str | None
    replay_of: str | None
    replay_command: str
    steps: tuple[StepView, ...]
    faults: tuple[FaultView, ...]
    failed_step: StepView | None
    failure_messages: tuple[str, ...]
    cleanup: str

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES


def batch_views(records: Iterable[RunRecord], runs_dir: Path = DEFAULT_RUNS_DIR) -> list[ScenarioView]:
    """Every record's view, failures first (otherwise in the order given)."""
    views = [scenario_view(record, runs_dir) for record in records]
    return [v for v in views if v.failed] + [v for v in views if not v.failed]


def scenario_view(record: RunRecord, runs_dir: Path = DEFAULT_RUNS_DIR) -> ScenarioView:
    """One record as a timeline; ``runs_dir`` is where it lives, for the replay command."""
    cleanup_steps = record.cleanup.steps if record.cleanup is not None else []
    timeline = [(step, False) for step in record.steps] + [(step, True) for step in cleanup_steps]
    total = sum(step.elapsed_ms for step, _ in timeline) or 1.0
    clocks = [step.clock for step, _ in timeline] + [record.clock_end]
    faults = _faults_by_step(record.faults, record.provider_calls)
    calls = _calls_by_step(record.provider_calls)
    views: list[StepView] = []
    spent = 0.0
    for position, (step, cleanup) in enumerate(timeline):
        offset = spent / total * 100
        views.append(
            _step_view(
                step,
                offset=offset,
                total=total,
                cleanup=cleanup,
                clock_move=_move(clocks[position], clocks[position + 1]),
                faults=faults.get(step.index, []) if not cleanup else [],
                calls=calls.get(step.index, []) if not cleanup else [],
            )
        )
        views.extend(
            _step_view(sub, offset=offset, total=total, cleanup=cleanup, sub_step=True, number=f"{j + 1}")
            for j, sub in enumerate(step.parallel)
        )
        spent += step.elapsed_ms
    failed = next((view for view in views if not view.ok and view.action != "parallel"), None)
    failed = failed or next((view for view in views if not view.ok), None)
    return ScenarioView(
        name=record.scenario_name,
        record_id=record.record_id,
        run_id=record.run_id,
        outcome=record.outcome,
        tier=record.tier,
        mode=record.mode,
        seed=record.seed,
        started_at=_when(record.started_at),
        duration_ms=record.duration_ms,
        clock_start=_when(record.clock_start),
        clock_end=_when(record.clock_end) if record.clock_end is not None else None,
        source=record.source,
        replay_of=record.replay_of,
        replay_command=f"harness replay {shlex.quote((runs_dir / record.record_id).as_posix())}",
        steps=tuple(views),
        faults=tuple(
            FaultView(_describe_fault(f.fault), _armed_at(f, record.steps), _fired(f, record.provider_calls))
            for f in record.faults
        ),
        failed_step=failed if record.outcome in FAILED_OUTCOMES else None,
        failure_messages=tuple(record.failure.messages) if record.failure is not None else (),
        cleanup=_cleanup_summary(record),
    )


def _step_view(
    step: StepRecord,
    *,
    offset: float,
    total: float,
    cleanup: bool,
    sub_step: bool = False,
    number: str = "",
    clock_move: str | None = None,
    faults: list[str] | None = None,
    calls: list[ProviderExchange] | None = None,
) -> StepView:
    calls = calls or []
    if sub_step:
        number = f"{step.index + 1}.{number}"
    elif not cleanup:
        number = str(step.index + 1)
    seen: set[tuple[str, str, str]] = set()
    retries = 0
    for call in calls:
        key = (call.provider, call.method, call.path)
        retries += key in seen
        seen.add(key)
    return StepView(
        number=number,
        label=step.name if cleanup or step.name == step.action else f"{step.name} [{step.action}]",
        action=step.action,
        ok=step.ok,
        elapsed_ms=step.elapsed_ms,
        offset_pct=round(offset, 3),
        width_pct=round(step.elapsed_ms / total * 100, 3),
        status=step.exchange.status if step.exchange is not None else None,
        cleanup=cleanup,
        sub_step=sub_step,
        clock=_when(step.clock) if step.clock is not None else None,
        clock_move=clock_move,
        faults_armed=tuple(faults or ()),
        provider_calls=tuple(_describe_call(call) for call in calls),
        retries=retries,
        checks=tuple(_check(message) for message in step.failures),
        error=step.error,
        exchange=_exchange(step),
    )


def _check(message: str) -> Check:
    match = _EXPECTED.match(message)
    if match is None:
        return Check(message)
    return Check(message, match["what"], match["expected"], match["actual"])


def _exchange(step: StepRecord) -> Exchange | None:
    exchange = step.exchange
    if exchange is None:
        if step.result is None:
            return None
        return Exchange(f"{step.action} (local action)", _json(step.args), _json(step.result))
    request = [f"{exchange.method} {exchange.path}  ({exchange.service}-service)"]
    request += [f"{name}: {value}" for name, value in exchange.headers.items()]
    if exchange.json_body is not None:
        request += ["", _json(exchange.json_body)]
    response = [f"HTTP {exchange.status}"] if exchange.status is not None else ["no response"]
    response += [f"{name}: {value}" for name, value in exchange.response_headers.items()]
    if exchange.response is not None:
        response += ["", _json(exchange.response)]
    title = f"{exchange.method} {exchange.path} → {exchange.status if exchange.status is not None else '—'}"
    return Exchange(title, _cut("\n".join(request)), _cut("\n".join(response)))


def _json(value: Any) -> str:
    if isinstance(value, str):
        return _cut(value)
    return _cut(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _cut(text: str) -> str:
    if len(text) <= MAX_BODY_CHARS:
        return text
    return text[:MAX_BODY_CHARS] + f"\n… {len(text) - MAX_BODY_CHARS} more characters in record.json"


def _faults_by_step(faults: list[FaultRecord], calls: list[ProviderExchange]) -> dict[int, list[str]]:
    by_step: dict[int, list[str]] = {}
    for fault in faults:
        text = _describe_fault(fault.fault)
        fired = _fired(fault, calls)
        if fired is not None:
            text += f" (fired {fired}×)"
        by_step.setdefault(fault.armed_before_step or 0, []).append(text)
    return by_step


def _describe_fault(fault: dict[str, Any]) -> str:
    kind = str(fault.get("kind", "provider"))
    details = ", ".join(
        f"{key} {value}"
        for key, value in fault.items()
        if key not in ("kind", "before_step") and value not in (None, False)
    )
    return f"{kind} fault: {details}" if details else f"{kind} fault"


def _fired(fault: FaultRecord, calls: list[ProviderExchange]) -> int | None:
    """How many calls the fault failed: the run's count for warehouse and KMS faults; for a
    provider fault, the provider calls it answered (its status, or an error for a timeout) from
    the step it was armed before, at most ``times``."""
    if fault.fired is not None or fault.fault.get("kind", "provider") != "provider":
        return fault.fired
    spec, start = fault.fault, fault.armed_before_step or 0
    hits = sum(
        1
        for call in calls
        if call.step is not None
        and call.step >= start
        and call.provider == spec.get("provider")
        and (call.error is not None if spec.get("timeout") else call.status == spec.get("status"))
    )
    return min(hits, int(spec.get("times", 1)))


def _armed_at(fault: FaultRecord, steps: list[StepRecord]) -> str:
    index = fault.armed_before_step or 0
    step = next((s for s in steps if s.index == index), None)
    if index == 0 or step is None:
        return "start of the run"
    return f"before step {index + 1} ({step.name})"


def _calls_by_step(calls: list[ProviderExchange]) -> dict[int, list[ProviderExchange]]:
    by_step: dict[int, list[ProviderExchange]] = {}
    for call in calls:
        if call.step is not None:
            by_step.setdefault(call.step, []).append(call)
    return by_step


def _describe_call(call: ProviderExchange) -> str:
    answer = call.error or (str(call.status) if call.status is not None else "no answer")
    return f"{call.provider} {call.method} {call.path} → {answer} ({call.elapsed_ms:.1f} ms)"


def _move(start: datetime | None, end: datetime | None) -> str | None:
    """``+1d 2h 3m 4s`` from ``start`` to ``end``, or None under a second (or unknown)."""
    if start is None or end is None:
        return None
    delta = end - start
    if delta < timedelta(seconds=1):
        return None
    seconds = int(delta.total_seconds())
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes, seconds = divmod(seconds, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return "+" + " ".join(parts)


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _cleanup_summary(record: RunRecord) -> str:
    cleanup = record.cleanup
    if cleanup is None:
        return "no cleanup recorded"
    if not cleanup.ran:
        return f"{cleanup.policy}: {cleanup.reason or 'did not run'}"
    done = ", ".join(f"{org} {what}" for org, what in cleanup.orgs.items())
    return f"{cleanup.policy}: {done or 'nothing to do'}"
