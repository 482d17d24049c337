"""Run a scenario: its steps against the services, its expectations checked, its org cleaned up.

:func:`run_scenario` runs one :class:`~harness.scenario.model.Scenario`:

* **in-process** (default): one set of backends for the tier (seed: ``--seed``, else the
  scenario's ``seed``, else derived from the run id; clock: the scenario's ``clock``, else now)
  shared by the api-service and the pipeline-service, both driven through Starlette's
  ``TestClient``. On ``fake`` everything is in-process; on ``emulator`` the services reach
  embedded emulators over HTTP through the real Google and provider clients (same clock, seed,
  faults); on ``gcp`` real services (real time: ``advance_clock`` and faults are refused, a
  ``valid`` credential comes from ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``). With
  ``instances: N`` there are N api-service + pipeline-service pairs over those backends, each
  its own process as far as the services can tell;
* **live**: plain HTTP to ``api_url`` / ``pipeline_url``. Actions that reach behind the API
  (``advance_clock``, ``count_rows`` of meta tables, a ``valid`` provider credential, ``faults``)
  use the root-key-protected ``/_harness`` controls of ``harness serve``; against services without
  them such a scenario is refused before it starts (a ``valid`` credential then comes from
  ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` when set). ``describe_dataset``, ``bootstrap:
  {config}`` and row counts of the org dataset are in-process only. A scenario that pins the
  ``clock`` is skipped live and on gcp (services keep their own time); ``instances`` > 1 is
  refused live (one URL per service). On the fake tier provider exchanges are listed in the run
  record (and replayable); on the others the cassette holds them (below).

Recording (:mod:`harness.recording`): on the emulator and gcp tiers, in-process, every exchange of
the real clients (Google and providers) goes through one recorder when the run's record mode asks
(``recording``, else ``HARNESS_RECORD_MODE``; default ``all`` on gcp, off elsewhere) and is
written as ``cassette.json`` beside the run record. A replay of such a record runs the same real
clients answered from its cassette in mode ``none`` (:mod:`harness.backends.replayed`). On the fake
tier a record mode other than ``none`` keeps provider bodies, like ``record``.

The steps themselves, their variables and the cleanup are :mod:`harness.scenario.execution`;
what is refused or skipped before anything runs is :mod:`harness.scenario.preflight`. Every run
writes a run record (:mod:`harness.scenario.records`) unless ``runs_dir`` is None;
``RunOutcome.failure_report()`` names the failing step, expected vs actual, and the replay command.
:func:`harness.scenario.replay.replay` re-runs a record through :func:`run_scenario`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from harness.recording.options import RecordingOptions
from harness.recording.recorder import Recorder, RecordMode
from harness.scenario.drivers import InProcess, Live
from harness.scenario.execution import ScenarioRun
from harness.scenario.labels import RunLabels
from harness.scenario.model import Scenario, Tier
from harness.scenario.outcome import (
    SKIPPED,
    LiveUnsupported,
    RunOutcome,
    ScenarioUsageError,
    StepOutcome,
)
from harness.scenario.preflight import check_live, check_scenario, check_static, skip_reason
from harness.scenario.records import DEFAULT_RUNS_DIR, RunRecord, new_run_id
from harness.scenario.snapshots import wants_recording
from harness.services.settings import Settings

if TYPE_CHECKING:
    from harness.backends import TierBackends


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
    labels: RunLabels | None = None,
    recording: RecordingOptions | None = None,
) -> RunOutcome:
    """Run ``scenario`` and return what happened (see the module docstring).

    ``record`` keeps provider response bodies in the run record (``harness run --record``; on
    the emulator and gcp tiers it means record mode ``all`` unless ``recording`` names a mode);
    ``replay_from`` re-runs a record (its run id, seed, clock start and provider responses);
    ``runs_dir=None`` writes no record; ``backends`` runs in-process on backends of ``tier`` the
    caller owns (their clock and seed; left open, e.g. to inspect them afterwards); ``recording``
    is the record mode, match rule and cassette (default: :meth:`RecordingOptions.from_env`). Raises
    :class:`ScenarioUsageError` before anything runs when the scenario cannot run as asked, and
    :class:`RunInterrupted` (a ``KeyboardInterrupt``) after cleanup when interrupted. Every dataset
    an in-process run creates carries ``labels`` (default: the run id, :data:`DEFAULT_TTL`).
    """
    settings = settings or Settings()
    recording = recording or RecordingOptions.from_env()
    live = api_url is not None or pipeline_url is not None
    if replay_from is not None and live:
        raise ScenarioUsageError("a replay runs in-process; drop --api-url/--pipeline-url")
    if live and not (api_url and pipeline_url):
        raise ScenarioUsageError("live mode needs both --api-url and --pipeline-url")
    run_id = replay_from.run_id if replay_from is not None else (run_id or new_run_id())
    labels = labels or RunLabels(run_id)
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
        check_static(scenario)

    if replay_from is not None:
        clock_start = replay_from.clock_start
    elif scenario.clock is not None:
        clock_start = scenario.clock if scenario.clock.tzinfo else scenario.clock.replace(tzinfo=UTC)
    else:
        clock_start = datetime.now(UTC).replace(microsecond=0)

    if live and scenario.instances > 1:
        raise LiveUnsupported(
            f"instances: {scenario.instances} needs an in-process run; live mode reaches one "
            "api-service and one pipeline-service"
        )
    if live:
        assert api_url is not None and pipeline_url is not None
        driver: InProcess | Live = Live(api_url, pipeline_url, settings)
        try:
            check_live(scenario, driver, settings)
            clock_start = driver.now().replace(microsecond=0)
        except BaseException:
            driver.close()
            raise
    record, recorder = _recording(
        recording,
        tier,
        record=record,
        in_process=not live and backends is None,
        writes=runs_dir is not None,
        snapshot=wants_recording(scenario, tier) and replay_from is None,
    )
    if not live:
        if replay_from is not None and recorder is not None:
            from harness.backends.replayed import build_replayed
            from harness.clock import ManualClock

            backends = build_replayed(settings, clock=ManualClock(clock_start), recorder=recorder)
        if backends is not None:
            clock_start = backends.clock.now()
        try:
            driver = InProcess(
                settings,
                seed,
                clock_start,
                backends,
                tier=tier,
                instances=scenario.instances,
                labels=labels,
                recorder=recorder,
            )
        except ValueError as exc:  # settings that do not reach the tier (no GCP project, ...)
            raise ScenarioUsageError(f"the {tier.value} tier: {exc}") from exc
    try:
        run = ScenarioRun(
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
            recorder=recorder,
        )
        return run.execute()
    finally:
        driver.close()


def _recording(
    options: RecordingOptions, tier: Tier, *, record: bool, in_process: bool, writes: bool, snapshot: bool
) -> tuple[bool, Recorder | None]:
    """Whether the fake tier keeps provider bodies, and the real clients' recorder (None: the
    run records nothing at the HTTP layer; nor when no record is written and there is no
    cassette to replay). ``--record`` on a real-client tier is mode ``all``, and so is a scenario
    with a parity ``snapshot`` that asked for no mode (its Google calls are what it judges)."""
    if tier is Tier.FAKE:
        return record or options.mode_for(tier.value) is not RecordMode.NONE, None
    if (record or snapshot) and options.mode is None:
        options = replace(options, mode=RecordMode.ALL)
    needed = writes or options.cassette or snapshot
    if not in_process or not options.active(tier.value) or not needed:
        return record, None
    mode = options.mode_for(tier.value)
    return record, Recorder(mode, match_on=options.match_on, cassette=options.cassette)


def _is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdef" for c in text)
