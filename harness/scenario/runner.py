"""Run a scenario: its steps against the services, its expectations checked, its org cleaned up.

:func:`run_scenario` runs one :class:`~harness.scenario.model.Scenario`:

* **in-process** (default): one set of backends for the tier (seed: ``--seed``, else the
  scenario's ``seed``, else derived from the run id; clock: the scenario's ``clock``, else now)
  shared by the api-service and the pipeline-service, both driven through Starlette's
  ``TestClient``. On ``fake`` everything is in-process; on ``emulator`` the services reach
  embedded emulators over HTTP through the real Google and provider clients (same clock, seed,
  faults); on ``gcp`` real services (real time: ``advance_clock`` and faults are refused, a
  ``valid`` credential comes from ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``);
* **live**: plain HTTP to ``api_url`` / ``pipeline_url``. Actions that reach behind the API
  (``advance_clock``, ``count_rows`` of meta tables, a ``valid`` provider credential, ``faults``)
  use the root-key-protected ``/_harness`` controls of ``harness serve``; against services without
  them such a scenario is refused before it starts (a ``valid`` credential then comes from
  ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` when set). ``describe_dataset``, ``bootstrap:
  {config}`` and row counts of the org dataset are in-process only. A scenario that pins the
  ``clock`` is skipped live and on gcp (services keep their own time). Provider exchanges are
  listed in the run record (and replayable) on the fake tier only.

Built-in variables: ``run_id`` (8 lowercase hex digits, valid in slugs), ``org`` (the resolved org
slug), ``api_key`` (the org's current key: set by onboard, replaced by rotate_key), ``root_key``,
``last_run_id`` (last pipeline run), ``last_event_id`` (last webhook event). The scenario's
``variables`` are filled in over them, and ``save:`` adds more as the steps run. A step's
templates (arguments and expectations) are filled in just before it runs.

A step passes when its expectations hold (with no ``status`` and no ``error`` expected, a 2xx is
required; local actions answer like a 200); the run stops at the first failing step. A step that
cannot be sent (unknown variable, no key yet, a transport error) fails with that error. Cleanup
runs in a ``finally`` — after a failing step and after Ctrl-C too — and offboards (``DELETE`` with
the root key) every org the run onboarded and did not offboard itself, as the scenario's policy
says: ``always``, ``on_success`` (a failed run keeps its orgs for inspection) or ``never``. A
failing cleanup fails a passing run; Ctrl-C during cleanup stops it and names what was kept.
After Ctrl-C, :class:`RunInterrupted` (a ``KeyboardInterrupt`` carrying the outcome) is raised
once cleanup and the record are done.

Every run writes a run record (:mod:`harness.scenario.records`) unless ``runs_dir`` is None;
``RunOutcome.failure_report()`` names the failing step, expected vs actual, and the replay command.
:func:`replay` re-runs a record in-process with its run id, seed and clock start, serving the
recorded provider responses (:mod:`harness.scenario.tape`).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from harness.scenario.actions import (
    LOCAL_ACTIONS,
    ORG_DATASET_TABLES,
    ActionContext,
    ActionError,
    Request,
    build_request,
    event_id_of,
)
from harness.scenario.drivers import CONTROL_PREFIX, InProcess, Live, env_credential
from harness.scenario.expectations import MISSING, check_response, compare, resolve_path
from harness.scenario.loader import BUILTIN_VARIABLES
from harness.scenario.model import CleanupPolicy, ProviderFault, Scenario, Step, Tier
from harness.scenario.outcome import (
    FAILED,
    INTERRUPTED,
    PASSED,
    SKIPPED,
    CleanupOutcome,
    LiveUnsupported,
    RunInterrupted,
    RunOutcome,
    ScenarioUsageError,
    StepOutcome,
    iter_failures,
    step_detail,
)
from harness.scenario.records import (
    SCENARIO_COPY,
    CleanupRecord,
    Failure,
    FaultRecord,
    HttpExchange,
    RunRecord,
    Scrubber,
    StepRecord,
    is_record,
    read_record,
    record_dir,
    write_record,
)
from harness.scenario.templates import TemplateError, render, resolve_variables
from harness.services.settings import Settings

if TYPE_CHECKING:
    from harness.backends import TierBackends

DEFAULT_RUNS_DIR = Path(".harness/runs")


# ------------------------------------------------------------------------------------- public


def new_run_id() -> str:
    """8 lowercase hex digits: short, unique enough, valid inside an org slug."""
    return secrets.token_hex(4)


def run_scenario(
    scenario: Scenario,
    *,
    source: Path | None = None,
    tier: Tier = Tier.FAKE,
    api_url: str | None = None,
    pipeline_url: str | None = None,
    record: bool = False,
    runs_dir: Path | None = DEFAULT_RUNS_DIR,
    replay_from: RunRecord | None = None,
    on_step: Callable[[StepOutcome], None] | None = None,
    seed: int | None = None,
    settings: Settings | None = None,
    run_id: str | None = None,
    backends: TierBackends | None = None,
) -> RunOutcome:
    """Run ``scenario`` and return what happened (see the module docstring).

    ``record`` keeps provider response bodies in the run record (``harness run --record``);
    ``replay_from`` re-runs a record (its run id, seed, clock start and provider responses);
    ``runs_dir=None`` writes no record; ``backends`` runs in-process on backends of ``tier`` the
    caller owns (their clock and seed; left open, e.g. to inspect them afterwards). Raises
    :class:`ScenarioUsageError` before anything runs when the scenario cannot run as asked, and
    :class:`RunInterrupted` (a ``KeyboardInterrupt``) after cleanup when interrupted.
    """
    settings = settings or Settings()
    live = api_url is not None or pipeline_url is not None
    if replay_from is not None and live:
        raise ScenarioUsageError("a replay runs in-process on the fake tier; drop --api-url/--pipeline-url")
    if live and not (api_url and pipeline_url):
        raise ScenarioUsageError("live mode needs both --api-url and --pipeline-url")
    run_id = replay_from.run_id if replay_from is not None else (run_id or new_run_id())
    if seed is None:
        seed = replay_from.seed if replay_from is not None else scenario.seed
    if seed is None:
        seed = int(run_id, 16) if _is_hex(run_id) else int.from_bytes(run_id.encode()[:8], "big")
    skip = None if replay_from is not None else skip_reason(scenario, tier=tier, live=live)
    if skip is not None:
        return RunOutcome(
            scenario=scenario,
            source=source,
            run_id=run_id,
            record_id="",
            tier=tier,
            mode="live" if live else "in-process",
            seed=seed,
            clock_start=datetime.now(UTC),
            org="",
            status=SKIPPED,
            reason=skip,
        )
    if replay_from is None:
        check_scenario(scenario, tier=tier, live=live, settings=settings)
    else:
        _check_static(scenario)

    if replay_from is not None:
        clock_start = replay_from.clock_start
    elif scenario.clock is not None:
        clock_start = scenario.clock if scenario.clock.tzinfo else scenario.clock.replace(tzinfo=UTC)
    else:
        clock_start = datetime.now(UTC).replace(microsecond=0)

    if live:
        assert api_url is not None and pipeline_url is not None
        driver: InProcess | Live = Live(api_url, pipeline_url, settings)
        try:
            _check_live(scenario, driver, settings)
            clock_start = driver.now().replace(microsecond=0)
        except BaseException:
            driver.close()
            raise
    else:
        if backends is not None:
            clock_start = backends.clock.now()
        try:
            driver = InProcess(settings, seed, clock_start, backends, tier=tier)
        except ValueError as exc:  # settings that do not reach the tier (no GCP project, ...)
            raise ScenarioUsageError(f"the {tier.value} tier: {exc}") from exc
    try:
        run = _Run(
            scenario,
            source=source,
            tier=tier,
            driver=driver,
            settings=settings,
            run_id=run_id,
            seed=seed,
            clock_start=clock_start,
            record=record,
            runs_dir=runs_dir,
            replay_from=replay_from,
            on_step=on_step or (lambda _: None),
            urls=(api_url, pipeline_url),
        )
        return run.execute()
    finally:
        driver.close()


def skip_reason(scenario: Scenario, *, tier: Tier = Tier.FAKE, live: bool = False) -> str | None:
    """Why the scenario does not run here (reported as skipped, not failed), or None."""
    if tier not in scenario.tiers:
        return f"runs on {', '.join(t.value for t in scenario.tiers)}, not {tier.value}"
    if live and scenario.clock is not None:
        return f"pins the clock at {scenario.clock.isoformat()}; live services keep their own time"
    if tier is Tier.GCP and scenario.clock is not None:
        return f"pins the clock at {scenario.clock.isoformat()}; the gcp tier runs on real time"
    return None


def check_scenario(
    scenario: Scenario, *, tier: Tier = Tier.FAKE, live: bool = False, settings: Settings | None = None
) -> None:
    """What can be known without running: tables and fault targets exist, and on gcp nothing asks
    for what real services cannot do. Raises :class:`ScenarioUsageError`. (Live mode is checked
    against the services when the run starts.)"""
    _check_static(scenario)
    if tier is Tier.GCP and not live:
        _check_gcp(scenario, settings or Settings())


def _check_gcp(scenario: Scenario, settings: Settings) -> None:
    problems: list[str] = []
    for index, step in enumerate(scenario.steps):
        if step.action == "advance_clock":
            problems.append(f"{_step_title(index, step)}: advance_clock needs a tier with a manual clock")
    problems.extend(_credential_problems(scenario, settings))
    if scenario.faults:
        problems.append("faults are injected into the provider fakes, which the gcp tier does not have")
    if problems:
        raise ScenarioUsageError(f"scenario {scenario.name} cannot run on gcp: " + "; ".join(problems))


def replay(
    target: Path,
    *,
    runs_dir: Path | None = DEFAULT_RUNS_DIR,
    record: bool = False,
    on_step: Callable[[StepOutcome], None] | None = None,
    settings: Settings | None = None,
) -> RunOutcome:
    """Replay a run record in-process on the fake tier (same run id, seed, clock start, recorded
    provider responses); a scenario file is simply run.

    The scenario replayed is the copy of the file that ran (``scenario.yml`` next to the record),
    exactly as written; without one, the record's ``scenario`` (where literal secrets, if the file
    had any, read as placeholders)."""
    if is_record(target):
        recorded = read_record(target)
        copy = (target if target.is_dir() else target.parent) / SCENARIO_COPY
        as_run = load_scenario_file(copy) if copy.is_file() else None
        scenario = as_run or Scenario.model_validate(recorded.scenario)
        source = Path(recorded.source) if recorded.source else None
        return run_scenario(
            scenario,
            source=source,
            replay_from=recorded,
            runs_dir=runs_dir,
            record=record,
            on_step=on_step,
            settings=settings,
        )
    scenario = load_scenario_file(target)
    return run_scenario(
        scenario, source=target, runs_dir=runs_dir, record=record, on_step=on_step, settings=settings
    )


def load_scenario_file(path: Path) -> Scenario:
    """One scenario file, through the loader (errors name file, line and field)."""
    from harness.scenario.loader import load_scenario

    return load_scenario(path)


# ---------------------------------------------------------------------------------- preflight


def _is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdef" for c in text)


def _step_title(index: int, step: Step) -> str:
    return f"step {index + 1} ({step.label})"


def _check_static(scenario: Scenario) -> None:
    from harness.schema.loader import load_config

    tables = set(load_config().table_names) | ORG_DATASET_TABLES
    problems: list[str] = []
    for index, step in enumerate(scenario.steps):
        if step.expect.rows is not None and step.action != "count_rows":
            problems.append(f"{_step_title(index, step)}: expect.rows applies to count_rows only")
        table = getattr(step.args, "table", None) if step.action == "count_rows" else None
        if table is not None and table not in tables:
            problems.append(
                f"{_step_title(index, step)}: unknown table {table!r}; tables: {', '.join(sorted(tables))}"
            )
    for fault in scenario.faults:
        if fault.before_step is not None and _fault_step(scenario, fault) is None:
            problems.append(f"fault before_step {fault.before_step!r} names no step")
    if problems:
        raise ScenarioUsageError(f"scenario {scenario.name}: " + "; ".join(problems))


def _check_live(scenario: Scenario, driver: Live, settings: Settings) -> None:
    if driver.controls:
        for index, step in enumerate(scenario.steps):
            in_process_only = (
                step.action == "describe_dataset"
                or (step.action == "bootstrap" and getattr(step.args, "config", None))
                or (step.action == "count_rows" and getattr(step.args, "table", None) in ORG_DATASET_TABLES)
            )
            if in_process_only:
                raise LiveUnsupported(
                    f"{_step_title(index, step)}: needs an in-process run (the live test controls "
                    "cover the clock, provider keys and faults, and row counts of meta tables)"
                )
        return
    problems: list[str] = []
    why = f"the services at {driver.clients['api'].base_url} have no {CONTROL_PREFIX} test controls"
    for index, step in enumerate(scenario.steps):
        if step.action in LOCAL_ACTIONS:
            problems.append(f"{_step_title(index, step)}: {step.action} reaches behind the API")
        if step.action == "bootstrap" and getattr(step.args, "config", None):
            problems.append(f"{_step_title(index, step)}: bootstrap with a config needs an in-process run")
    problems.extend(_credential_problems(scenario, settings))
    if scenario.faults:
        problems.append("faults are injected into the provider fakes")
    if problems:
        raise LiveUnsupported(
            f"scenario {scenario.name} cannot run live: {why} (start them with `harness serve`): "
            + "; ".join(problems)
        )


def _credential_problems(scenario: Scenario, settings: Settings) -> list[str]:
    """Steps that need a valid provider credential no provider fake can mint here."""
    problems = []
    for index, step in enumerate(scenario.steps):
        if step.setup_integration is not None and step.setup_integration.credential == "valid":
            provider = step.setup_integration.provider.value
            if env_credential(settings, provider) is None:
                problems.append(
                    f"{_step_title(index, step)}: a valid {provider} credential needs "
                    f"{provider.upper()}_API_KEY"
                )
    return problems


def _fault_step(scenario: Scenario, fault: ProviderFault) -> int | None:
    if fault.before_step is None:
        return 0
    for index, step in enumerate(scenario.steps):
        if fault.before_step in (step.name, step.action):
            return index
    return None


# ---------------------------------------------------------------------------------------- run


class _Run:
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
    ) -> None:
        self.scenario = scenario
        self.driver = driver
        self.settings = settings
        self.on_step = on_step
        self.runs_dir = runs_dir
        self.replay_from = replay_from
        self.urls = urls
        self.scrub = Scrubber()
        root_key = settings.ca_root_api_key.get_secret_value()
        self.scrub.add(root_key, "root_key")
        for provider in ("openai", "anthropic"):
            self.scrub.add(env_credential(settings, provider), "credential")
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
        self.faults: list[FaultRecord] = []
        self.pending_faults: dict[int, list[ProviderFault]] = {}
        for fault in scenario.faults:
            self.pending_faults.setdefault(_fault_step(scenario, fault) or 0, []).append(fault)

    # ------------------------------------------------------------------ the run

    def execute(self) -> RunOutcome:
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
                self._write_record()
        if outcome.status == INTERRUPTED:
            raise RunInterrupted(outcome)
        return outcome

    def _arm_faults(self, index: int) -> None:
        for fault in self.pending_faults.pop(index, []):
            self.driver.arm(fault)
            self.faults.append(
                FaultRecord(fault=fault.model_dump(mode="json", exclude_none=True), armed_before_step=index)
            )

    def _step(self, index: int, step: Step) -> StepOutcome:
        started = time.perf_counter()
        result = StepOutcome(index=index, name=step.label, action=step.action, ok=False, elapsed_ms=0.0)
        if self.tape is not None:
            self.tape.step = index
        try:
            self._arm_faults(index)
            result.clock = self.driver.now()
            self.ctx.api_key = self.variables.get("api_key")
            args = render(step.args.model_dump(mode="json"), self.variables)
            result.args = args
            expect = render(step.expect.model_dump(mode="json"), self.variables)
            if step.action in LOCAL_ACTIONS:
                self._local(step.action, args, result)
                result.failures = self._check_local(step.action, expect, result.body)
            else:
                request = build_request(step.action, args, self.ctx)
                result.request = request
                self.scrub.headers(request.headers)
                self.scrub.learn(request.body)
                if step.action == "bootstrap" and args.get("config"):
                    config = self._relative(Path(str(args["config"])))
                    response = self.driver.bootstrap_config(config, request, self.settings)
                else:
                    response = self.driver.send(request)
                self._read_response(response, result)
                self._effects(step.action, args, request, result)
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
        except (TemplateError, ActionError) as exc:
            result.error = str(exc)
        except Exception as exc:  # a transport error, or a harness bug: the run still reports
            result.error = f"{type(exc).__name__}: {exc}"
        result.ok = not result.failures and result.error is None
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        result.detail = step_detail(result, self.scrub.text)
        if self.tape is not None:
            self.tape.step = None
        return result

    def _relative(self, path: Path) -> Path:
        """A path in a scenario is relative to the scenario file."""
        if path.is_absolute() or self.outcome.source is None:
            return path
        return self.outcome.source.parent / path

    def _read_response(self, response: httpx.Response, result: StepOutcome) -> None:
        result.status = response.status_code
        result.text = response.text
        result.response_headers = {
            k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "date")
        }
        try:
            result.body = response.json()
        except ValueError:
            result.body = response.text
        self.scrub.learn(result.body)

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
        policy = self.scenario.cleanup
        orgs = list(reversed(self.onboarded))
        if not orgs:
            return CleanupOutcome(policy, ran=False, reason="nothing to clean up")
        listed = ", ".join(orgs)
        if policy is CleanupPolicy.NEVER:
            return CleanupOutcome(policy, ran=False, reason=f"cleanup: never — kept {listed}")
        if policy is CleanupPolicy.ON_SUCCESS and self.outcome.status != PASSED:
            return CleanupOutcome(
                policy, ran=False, reason=f"cleanup: on_success and the run did not pass — kept {listed}"
            )
        cleanup = CleanupOutcome(policy, ran=True)
        for position, slug in enumerate(orgs):
            try:
                result = self._offboard(slug, len(cleanup.steps))
            except KeyboardInterrupt:  # Ctrl-C during cleanup: stop, and say what was left
                self.outcome.status = INTERRUPTED
                cleanup.ok = False
                cleanup.orgs.update(dict.fromkeys(orgs[position:], "kept (cleanup interrupted)"))
                break
            cleanup.steps.append(result)
            self.on_step(result)
            cleanup.orgs[slug] = "offboarded" if result.ok else (result.failures or [result.error or "?"])[0]
            cleanup.ok = cleanup.ok and result.ok
        return cleanup

    def _offboard(self, slug: str, index: int) -> StepOutcome:
        started = time.perf_counter()
        request = Request(
            "api", "DELETE", f"/api/v1/organizations/{slug}", {"X-CA-Root-Key": self.ctx.root_key}
        )
        result = StepOutcome(
            index=index,
            name=f"cleanup: offboard {slug}",
            action="offboard",
            ok=False,
            elapsed_ms=0.0,
            cleanup=True,
            request=request,
            args={"org_slug": slug},
        )
        if self.tape is not None:
            self.tape.step = None
        try:
            result.clock = self.driver.now()
            self._read_response(self.driver.send(request), result)
            if result.status == 200:
                result.ok = True
            else:
                result.failures = [f"status: expected 200, got {result.status}"]
        except (httpx.HTTPError, ActionError) as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        result.detail = step_detail(result, self.scrub.text)
        return result

    # ------------------------------------------------------------------ record

    def _write_record(self) -> None:
        if self.record_directory is None:
            return
        outcome = self.outcome
        failed = outcome.failed_step
        failure = None
        if outcome.status in (FAILED, INTERRUPTED):
            failure = Failure(
                step_index=failed.index if failed is not None and not failed.cleanup else None,
                step=failed.name if failed is not None else None,
                action=failed.action if failed is not None else None,
                messages=(failed.failures + ([failed.error] if failed.error else []))
                if failed is not None
                else ["interrupted"],
            )
        cleanup = outcome.cleanup
        run_record = RunRecord(
            record_id=outcome.record_id,
            run_id=outcome.run_id,
            scenario_name=self.scenario.name,
            source=str(outcome.source) if outcome.source is not None else None,
            scenario=self.scenario.model_dump(mode="json", by_alias=True, exclude_none=True),
            resolved={
                "org": self.org_spec,
                "variables": self.initial_variables,
                "steps": [{"name": s.name, "action": s.action, "args": s.args} for s in outcome.steps],
            },
            tier=outcome.tier.value,
            mode=outcome.mode,
            api_url=self.urls[0],
            pipeline_url=self.urls[1],
            seed=outcome.seed,
            clock_start=outcome.clock_start,
            clock_end=_safe_now(self.driver),
            recorded_provider_responses=self.record,
            replay_of=outcome.replay_of,
            started_at=self.started_at,
            duration_ms=outcome.duration_ms,
            faults=self.faults,
            steps=[_step_record(s) for s in outcome.steps],
            provider_calls=self.tape.calls if self.tape is not None else [],
            cleanup=CleanupRecord(
                policy=cleanup.policy.value,
                ran=cleanup.ran,
                reason=cleanup.reason,
                ok=cleanup.ok,
                orgs=cleanup.orgs,
                steps=[_step_record(s) for s in cleanup.steps],
            )
            if cleanup is not None
            else None,
            outcome=outcome.status,
            failure=failure,
        )
        outcome.record_path = write_record(run_record, self.record_directory, self.scrub, outcome.source)


def _safe_now(driver: InProcess | Live) -> datetime | None:
    try:
        return driver.now()
    except Exception:
        return None


def _step_record(step: StepOutcome) -> StepRecord:
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
    )


__all__ = [
    "DEFAULT_RUNS_DIR",
    "FAILED",
    "INTERRUPTED",
    "PASSED",
    "SKIPPED",
    "CleanupOutcome",
    "LiveUnsupported",
    "RunInterrupted",
    "RunOutcome",
    "ScenarioUsageError",
    "StepOutcome",
    "check_scenario",
    "iter_failures",
    "load_scenario_file",
    "replay",
    "run_scenario",
    "skip_reason",
]
