"""Running a scenario's steps: templates filled in, requests sent, expectations checked, values
saved, faults armed, orgs cleaned up — the part of a run that is the same on every tier and mode.

Built-in variables: ``run_id`` (8 lowercase hex digits, valid in slugs), ``org`` (the resolved org
slug), ``api_key`` (the org's current key: set by onboard, replaced by rotate_key), ``root_key``,
``last_run_id`` (last pipeline run), ``last_event_id`` (last webhook event). The scenario's
``variables`` are filled in over them, and ``save:`` adds more as the steps run. A step's
templates (arguments and expectations) are filled in just before it runs.

A step passes when its expectations hold (with no ``status`` and no ``error`` expected, a 2xx is
required; local actions answer like a 200); the run stops at the first failing step. A step goes
to the service instance its ``instance`` names (scenarios with ``instances: N``). A ``parallel``
step builds its sub-steps' requests, sends them from one thread each (released together), then
checks each sub-step and applies its effects and ``save`` in the order the answers arrived; it
passes when every sub-step does. A step that
cannot be sent (unknown variable, no key yet, a transport error) fails with that error. Cleanup
runs in a ``finally`` — after a failing step and after Ctrl-C too — and offboards (``DELETE`` with
the root key) every org the run onboarded (or sent an onboard for that got no answer: the server
may have created it) and did not offboard itself, as the scenario's policy
says: ``always``, ``on_success`` (a failed run keeps its orgs for inspection) or ``never``. A
failing cleanup fails a passing run; Ctrl-C during cleanup stops it and names what was kept.
After Ctrl-C, :class:`~harness.scenario.outcome.RunInterrupted` (a ``KeyboardInterrupt`` carrying
the outcome) is raised once cleanup and the record are done. (``harness run`` turns SIGTERM into
the same ``KeyboardInterrupt``.)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from harness.recording.cassette import CASSETTE_FILE, step_scope
from harness.recording.recorder import Recorder
from harness.scenario.actions import (
    LOCAL_ACTIONS,
    ActionContext,
    ActionError,
    Request,
    build_request,
    event_id_of,
)
from harness.scenario.cleanup import clean_up, offboard
from harness.scenario.consistency import BUILTIN_VARIABLES
from harness.scenario.drivers import InProcess, Live, env_credential
from harness.scenario.expectations import MISSING, check_response, compare, resolve_path
from harness.scenario.model import PARALLEL, Fault, Scenario, Step, Tier
from harness.scenario.outcome import (
    FAILED,
    INTERRUPTED,
    PASSED,
    CleanupOutcome,
    RunInterrupted,
    RunOutcome,
    ScenarioUsageError,
    StepOutcome,
    step_detail,
)
from harness.scenario.preflight import fault_step
from harness.scenario.recorder import run_record
from harness.scenario.records import (
    FaultRecord,
    RecordingRecord,
    RunRecord,
    Scrubber,
    learn_scenario,
    record_dir,
    write_record,
)
from harness.scenario.run_index import enforce_cap
from harness.scenario.snapshots import judge as judge_snapshot
from harness.scenario.snapshots import wants_recording
from harness.scenario.templates import TemplateError, render, resolve_variables
from harness.services.settings import Settings


class ScenarioRun:
    """One run of one scenario on a driver that is already up: the steps in order, what each
    response changes for the next, the cleanup in a ``finally``, and the record at the end.

    :func:`harness.scenario.runner.run_scenario` decides *how* to run (tier, live or in-process,
    seed, clock) and builds the driver; this class only runs, so a replay and a first run, a
    pytest item and ``harness run``, all go through the same steps."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        source: Path | None,
        tier: Tier,
        driver: InProcess | Live,
        settings: Settings,
        run_id: str,
        seed: int,
        clock_start: datetime,
        record: bool,
        runs_dir: Path | None,
        replay_from: RunRecord | None,
        on_step: Callable[[StepOutcome], None],
        urls: tuple[str | None, str | None],
        recorder: Recorder | None = None,
    ) -> None:
        self.scenario = scenario
        # a replay holds the recorded run to that run's tier's expectations (its answers are replayed)
        self.expect_tier = Tier(replay_from.tier) if replay_from is not None else tier
        self.replaying = replay_from is not None
        self.driver = driver
        self.settings = settings
        self.on_step = on_step
        self.urls = urls
        self.scrub = Scrubber()
        root_key = settings.ca_root_api_key.get_secret_value()
        self.scrub.add(root_key, "root_key")
        for provider in ("openai", "anthropic"):
            self.scrub.add(env_credential(settings, provider), "credential")
        learn_scenario(self.scrub, scenario.model_dump(mode="json", by_alias=True, exclude_none=True))
        self.started_at = datetime.now(UTC)
        self.perf_start = time.perf_counter()

        builtins: dict[str, Any] = dict.fromkeys(sorted(BUILTIN_VARIABLES))
        builtins.update(run_id=run_id, root_key=root_key)
        # The org slug is the built-in ``org``: a variable named ``org`` is the slug unless org.slug
        # says otherwise; without one, org.slug (default ``scn_{run_id}``) may use the variables.
        spec = scenario.org
        declared = dict(scenario.variables)
        declared.setdefault("org", spec.slug)
        try:
            self.variables = resolve_variables(declared, builtins)
            if "org" in scenario.variables and "slug" in spec.model_fields_set:
                self.variables["org"] = render(spec.slug, self.variables)
            self.org = str(self.variables["org"])
            self.org_spec = {
                **render(spec.model_dump(mode="json", exclude={"slug"}), self.variables),
                "slug": self.org,
            }
        except TemplateError as exc:
            raise ScenarioUsageError(f"scenario {scenario.name}: variables: {exc}") from exc
        self.initial_variables = dict(self.variables)
        self.tape = None
        mocks = getattr(driver.backends, "mocks", None) if isinstance(driver, InProcess) else None
        if mocks is not None:  # the fake tier's respx routes: the only provider traffic seen here
            from harness.scenario.tape import ProviderTape

            recorded = replay_from.provider_calls if replay_from is not None else ()
            self.tape = ProviderTape(mocks, self.scrub, keep_bodies=record, replay=recorded)
        self.record = record and self.tape is not None
        self.recorder = recorder
        if recorder is not None:
            recorder.scrub = self.scrub

        record_id = ""
        self.record_directory: Path | None = None
        if runs_dir is not None:
            record_id, self.record_directory = record_dir(runs_dir, run_id, replay=replay_from is not None)
        self.outcome = RunOutcome(
            scenario=scenario,
            source=source,
            run_id=run_id,
            record_id=record_id,
            tier=tier,
            mode=driver.mode,
            seed=seed,
            clock_start=clock_start,
            org=self.org,
            variables=self.variables,
            replay_of=replay_from.record_id if replay_from is not None else None,
            _scrub=self.scrub,
        )
        self.ctx = ActionContext(
            org=self.org,
            root_key=root_key,
            api_key=None,
            run_id=run_id,
            org_spec=self.org_spec,
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            now=driver.now,
            valid_credential=driver.mint_credential,
        )
        self.onboarded: list[str] = []
        self._onboarding = threading.Lock()
        self.faults: list[FaultRecord] = []
        self.pending_faults: dict[int, list[Fault]] = {}
        self.armed: list[tuple[FaultRecord, Any]] = []
        for fault in scenario.faults:
            self.pending_faults.setdefault(fault_step(scenario, fault) or 0, []).append(fault)

    # ------------------------------------------------------------------ the run

    def execute(self) -> RunOutcome:
        """Run the steps until one fails, then (always) the cleanup and the record. Raises
        :class:`~harness.scenario.outcome.RunInterrupted` after both when Ctrl-C came."""
        outcome = self.outcome
        try:
            try:
                for index, step in enumerate(self.scenario.steps):
                    result = self._step(index, step)
                    outcome.steps.append(result)
                    self.on_step(result)
                    if not result.ok:
                        outcome.status = FAILED
                        break
            except KeyboardInterrupt:
                outcome.status = INTERRUPTED
        finally:
            try:
                outcome.cleanup = self._cleanup()
                if outcome.status == PASSED and not outcome.cleanup.ok:
                    outcome.status = FAILED
            finally:
                outcome.duration_ms = (time.perf_counter() - self.perf_start) * 1000
                if self.tape is not None:
                    self.tape.close()
                    outcome.provider_calls = len(self.tape.calls)
                    outcome.provider_responses_replayed = self.tape.served
                self._report_misses()
                self._judge_snapshot()
                self._write_record()
        if outcome.status == INTERRUPTED:
            raise RunInterrupted(outcome)
        return outcome

    def _arm_faults(self, index: int) -> None:
        for fault in self.pending_faults.pop(index, []):
            handle = self.driver.arm(fault)
            record = FaultRecord(
                fault=fault.model_dump(mode="json", exclude_none=True), armed_before_step=index
            )
            self.faults.append(record)
            if handle is not None:
                self.armed.append((record, handle))

    def _step(self, index: int, step: Step) -> StepOutcome:
        if step.parallel is not None:
            return self._parallel(index, step)
        started = time.perf_counter()
        result = StepOutcome(
            index=index, name=step.label, action=step.action, ok=False, elapsed_ms=0.0, instance=step.instance
        )
        if self.tape is not None:
            self.tape.step = index
        with _reported(result):
            self._arm_faults(index)
            result.clock = self.driver.now()
            self.ctx.api_key = self.variables.get("api_key")
            prepared = self._prepare(step, result)
            with step_scope(str(index)):
                self._perform(step, prepared, result)
            self._conclude(step, prepared, result)
        self._close_step(result, started)
        return result

    def _parallel(self, index: int, step: Step) -> StepOutcome:
        """The sub-steps' requests are built first (templates filled in from the variables as they
        stand), then sent from one thread each, released together by a barrier; their responses
        are checked, and their effects and ``save`` applied, in the order they arrived: of two
        rotations that both succeeded (one after the other), the key kept is the later one's."""
        started = time.perf_counter()
        result = StepOutcome(index=index, name=step.label, action=PARALLEL, ok=False, elapsed_ms=0.0)
        if self.tape is not None:
            self.tape.step = index
        subs = step.parallel or []
        with _reported(result):
            self._arm_faults(index)
            result.clock = self.driver.now()
            self.ctx.api_key = self.variables.get("api_key")
        result.parallel = [
            StepOutcome(
                index=index,
                sub_index=j,
                name=sub.label,
                action=sub.action,
                ok=False,
                elapsed_ms=0.0,
                instance=sub.instance,
                clock=result.clock,
            )
            for j, sub in enumerate(subs)
        ]
        prepared: dict[int, _Prepared] = {}
        arrived: list[int] = []
        if result.error is None:
            for j, (sub, outcome) in enumerate(zip(subs, result.parallel, strict=True)):
                with _reported(outcome):
                    prepared[j] = self._prepare(sub, outcome)
        if prepared:
            barrier = threading.Barrier(len(prepared))

            def send(j: int) -> None:
                outcome = result.parallel[j]
                with _reported(outcome):
                    barrier.wait(BARRIER_TIMEOUT)
                    sent = time.perf_counter()
                    try:
                        with step_scope(f"{index}.{j}"):
                            self._perform(subs[j], prepared[j], outcome)
                    finally:
                        outcome.elapsed_ms = (time.perf_counter() - sent) * 1000
                        arrived.append(j)

            with ThreadPoolExecutor(max_workers=len(prepared), thread_name_prefix="parallel") as pool:
                list(pool.map(send, prepared))
        for j in arrived:
            if result.parallel[j].error is None:
                with _reported(result.parallel[j]):
                    self._conclude(subs[j], prepared[j], result.parallel[j])
        for outcome in result.parallel:
            outcome.ok = not outcome.failures and outcome.error is None
            outcome.detail = step_detail(outcome, self.scrub.text)
        passed = sum(outcome.ok for outcome in result.parallel)
        result.body = {"sub_steps": len(subs), "passed": passed}
        result.ok = result.error is None and passed == len(subs)
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        result.detail = step_detail(result, self.scrub.text)
        if self.tape is not None:
            self.tape.step = None
        return result

    def _prepare(self, step: Step, result: StepOutcome) -> _Prepared:
        """Fill in the step's templates and build its request (none for a local action)."""
        args = render(step.args.model_dump(mode="json"), self.variables)
        result.args = args
        expect = render(step.expect_for(self.expect_tier).model_dump(mode="json"), self.variables)
        if step.action in LOCAL_ACTIONS:
            return _Prepared(args, expect, None)
        request = build_request(step.action, args, self.ctx)
        result.request = request
        self.scrub.headers(request.headers)
        self.scrub.learn(request.body)
        return _Prepared(args, expect, request)

    def _perform(self, step: Step, prepared: _Prepared, result: StepOutcome) -> None:
        """Send the request (or run the local action); safe to run in parallel with others."""
        request = prepared.request
        if request is None:
            self._local(step.action, prepared.args, result)
        elif step.action == "bootstrap" and prepared.args.get("config"):
            config = self._relative(Path(str(prepared.args["config"])))
            result.take_response(self.driver.bootstrap_config(config, request, self.settings))
        else:
            result.take_response(self._send(step.action, request, step.instance))

    def _conclude(self, step: Step, prepared: _Prepared, result: StepOutcome) -> None:
        """What the response changes for later steps, the expectations, then ``save``."""
        expect = prepared.expect
        if prepared.request is None:
            result.failures = self._check_local(step.action, expect, result.body)
        else:
            self.scrub.learn(result.body)
            self._effects(step.action, prepared.args, prepared.request, result)
            result.failures = check_response(
                status=result.status,
                body=result.body,
                text=result.text,
                expected_status=expect["status"],
                expected_error=expect["error"],
                expected_body=expect["body"],
                absent=[str(s) for s in expect["absent"]],
            )
        if not result.failures:
            result.failures = self._save(step, result)

    def _close_step(self, result: StepOutcome, started: float) -> None:
        result.ok = not result.failures and result.error is None
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        result.detail = step_detail(result, self.scrub.text)
        if self.tape is not None:
            self.tape.step = None

    def _send(self, action: str, request: Request, instance: int = 1) -> httpx.Response:
        """Send one request. An onboard counts as onboarded from the moment it is sent: when Ctrl-C,
        SIGTERM or a transport error cuts it off, the server may have created the org all the same,
        so cleanup offboards it (offboarding an org that does not exist deletes nothing). Only an
        answer that is not a 2xx takes it back. (Sub-steps of ``parallel`` call this at once.)"""
        slug = (request.json or {}).get("org_slug") if action == "onboard" else None
        with self._onboarding:
            tentative = isinstance(slug, str) and slug not in self.onboarded
            if tentative:
                self.onboarded.append(slug)
        response = self.driver.send(request, instance)
        if tentative and not 200 <= response.status_code < 300:
            with self._onboarding:
                self.onboarded.remove(slug)
        return response

    def _relative(self, path: Path) -> Path:
        """A path in a scenario is relative to the scenario file."""
        if path.is_absolute() or self.outcome.source is None:
            return path
        return self.outcome.source.parent / path

    def _local(self, action: str, args: dict[str, Any], result: StepOutcome) -> None:
        if action == "advance_clock":
            delta = timedelta(
                days=args["days"], hours=args["hours"], minutes=args["minutes"], seconds=args["seconds"]
            )
            if delta < timedelta(0):
                raise ActionError("the clock only moves forward")
            now = self.driver.advance(delta)
            result.body = {"now": now.isoformat(), "advanced_seconds": delta.total_seconds()}
        elif action == "describe_dataset":
            result.body = self.driver.describe_dataset(args["dataset"])
        else:
            result.body = self.driver.count_rows(args["table"], args.get("org") or self.org)

    def _check_local(self, action: str, expect: dict[str, Any], body: Any) -> list[str]:
        """Local actions answer like a 200 with ``body``; ``rows`` is count_rows' count."""
        failures: list[str] = []
        if action == "count_rows" and expect.get("rows") is not None:
            problem = compare(expect["rows"], body["rows"])
            if problem:
                failures.append(f"rows in {body['table']}: {problem}")
        failures.extend(
            check_response(
                status=200,
                body=body,
                text=json.dumps(body, default=str),
                expected_status=expect.get("status"),
                expected_error=expect.get("error"),
                expected_body=expect.get("body") or {},
                absent=[str(s) for s in expect.get("absent") or []],
            )
        )
        return failures

    def _effects(self, action: str, args: dict[str, Any], request: Request, result: StepOutcome) -> None:
        """What a response changes for later steps, whatever the expectations said."""
        body = result.body if isinstance(result.body, dict) else {}
        ok = result.status is not None and 200 <= result.status < 300
        if action == "send_webhook":
            self.variables["last_event_id"] = event_id_of(request)
        if not ok:
            return
        if action == "onboard":
            slug = (request.json or {}).get("org_slug")
            if slug and slug not in self.onboarded:
                self.onboarded.append(slug)
            if slug == self.org and body.get("api_key"):
                self.variables["api_key"] = body["api_key"]
        elif action == "rotate_key":
            if (args.get("org") or self.org) == self.org and body.get("api_key"):
                self.variables["api_key"] = body["api_key"]
        elif action == "offboard":
            slug = args.get("org_slug") or self.org
            if slug in self.onboarded:
                self.onboarded.remove(slug)
        elif action in ("run_pipeline",) and body.get("run_id"):
            self.variables["last_run_id"] = body["run_id"]

    def _save(self, step: Step, result: StepOutcome) -> list[str]:
        failures: list[str] = []
        for name, path in step.save.items():
            value = resolve_path(result.body, str(render(path, self.variables)))
            if value is MISSING:
                failures.append(f"save {name}: expected a value at {path!r}, got <missing>")
                continue
            self.variables[name] = value
            result.saved[name] = value
        return failures

    # ------------------------------------------------------------------ cleanup

    def _cleanup(self) -> CleanupOutcome:
        cleanup, interrupted = clean_up(
            self.scenario.cleanup,
            self.onboarded,
            passed=self.outcome.status == PASSED,
            offboard=self._offboard,
            on_step=self.on_step,
        )
        if interrupted:
            self.outcome.status = INTERRUPTED
        return cleanup

    def _offboard(self, slug: str, index: int) -> StepOutcome:
        if self.tape is not None:
            self.tape.step = None
        return offboard(self.driver, slug, index, root_key=self.ctx.root_key, scrub=self.scrub)

    # ------------------------------------------------------------------ record

    def _write_record(self) -> None:
        if self.record_directory is None:
            return
        for record, handle in self.armed:
            record.fired = handle.fired
        record = run_record(
            self.outcome,
            org_spec=self.org_spec,
            variables=self.initial_variables,
            urls=self.urls,
            clock_end=_safe_now(self.driver),
            recorded_provider_responses=self.record,
            started_at=self.started_at,
            faults=self.faults,
            provider_calls=self.tape.calls if self.tape is not None else [],
        )
        record.recording = self._save_cassette()
        self.outcome.record_path = write_record(
            record, self.record_directory, self.scrub, self.outcome.source
        )
        enforce_cap(self.record_directory.parent)  # a bounded runs directory (HARNESS_RUNS_KEEP)

    def _judge_snapshot(self) -> None:
        """A scenario's parity snapshot (:mod:`harness.scenario.snapshots`): written on gcp,
        compared on the emulator tier; a difference fails a run that had passed. Not judged when
        the answers came from a cassette: they are another run's, not this tier's."""
        recorder = self.recorder
        if recorder is None or recorder.source is not None or self.replaying:
            return
        if not wants_recording(self.scenario, self.outcome.tier):
            return
        outcome, cleanup = self.outcome, self.outcome.cleanup
        verdict = judge_snapshot(
            self.scenario,
            recorder,
            self.scrub,
            tier=outcome.tier,
            project=self.settings.gcp_project_id,
            run_id=outcome.run_id,
            volatile={"org": sorted({outcome.org, *(cleanup.orgs if cleanup else ())} - {""})},
        )
        if not verdict.ok and outcome.status == PASSED:
            outcome.status = FAILED
            outcome.reason = verdict.message(f"scenarios/{self.scenario.snapshot}")

    def _report_misses(self) -> None:
        """A request the cassette could not answer is named on the step it failed (the service
        only saw an unexpected error), so the report says why a replay went another way."""
        if self.recorder is None or not self.recorder.misses:
            return
        failed = self.outcome.failed_step
        if failed is not None:
            failed.failures.extend(m for m in self.recorder.misses if m not in failed.failures)

    def _save_cassette(self) -> RecordingRecord | None:
        """Write the cassette beside the record (before it: what serialising it teaches the
        scrubber, an access token say, is hidden in the record too)."""
        recorder = self.recorder
        if recorder is None or self.record_directory is None:
            return None
        path = recorder.save(
            self.record_directory / CASSETTE_FILE,
            self.scrub,
            tier=self.outcome.tier.value,
            run_id=self.outcome.run_id,
        )
        return RecordingRecord(
            mode=recorder.mode.value,
            match_on=list(recorder.match_on),
            cassette=path.name,
            replayed_from=str(recorder.source) if recorder.source is not None else None,
            interactions=len(recorder.cassette.interactions),
            served=recorder.served,
            misses=recorder.misses,
            settings={
                "gcp_project_id": self.settings.gcp_project_id,
                "kms_key_name": self.settings.kms_key_name,
                "environment": self.settings.environment,
            },
        )


BARRIER_TIMEOUT = 60.0
"""Seconds a sub-step of ``parallel`` waits for the others to be ready: they start together, so
this only ends a run whose threads could not start (it never decides an outcome)."""


@dataclass(frozen=True)
class _Prepared:
    """A step ready to go: its arguments and expectations filled in, and its request if it sends one."""

    args: dict[str, Any]
    expect: dict[str, Any]
    request: Request | None


@contextlib.contextmanager
def _reported(result: StepOutcome) -> Iterator[None]:
    """A step's template error, refused action, transport error or harness bug becomes its
    ``error``: the run still reports and cleans up."""
    try:
        yield
    except (TemplateError, ActionError) as exc:
        result.error = str(exc)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"


def _safe_now(driver: InProcess | Live) -> datetime | None:
    try:
        return driver.now()
    except Exception:
        return None
