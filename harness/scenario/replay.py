"""Replay: re-run a run record offline, as it ran, to see whether its failure comes back.

A replay runs in-process with the record's run id (so every derived slug and key is the same), its
seed and its clock start; it writes a record of its own (``<run_id>-replay``). A fake-tier record
replays on the fake tier with its recorded provider responses (:mod:`harness.scenario.tape`). A
record of the emulator or gcp tier that holds a cassette replays on that tier's real clients,
every exchange answered from the cassette in record mode ``none`` with the record's project, KMS
key and environment (:mod:`harness.backends.replayed`): nothing is sent, nothing listens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.recording.options import RecordingOptions
from harness.recording.recorder import RecordMode
from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario, Tier
from harness.scenario.outcome import RunOutcome, StepOutcome
from harness.scenario.records import (
    DEFAULT_RUNS_DIR,
    SCENARIO_COPY,
    RunRecord,
    fill_root_key,
    is_record,
    read_record,
)
from harness.scenario.runner import run_scenario
from harness.services.settings import Settings


def replay(
    target: Path,
    *,
    runs_dir: Path | None = DEFAULT_RUNS_DIR,
    record: bool = False,
    on_step: Callable[[StepOutcome], None] | None = None,
    settings: Settings | None = None,
) -> RunOutcome:
    """Replay a run record in-process (same run id, seed, clock start; recorded provider
    responses, or the cassette of a real-client tier); a scenario file is simply run.

    The scenario replayed is the copy of the file that ran (``scenario.yml`` next to the record,
    scrubbed: literal secrets read as placeholders, a root key's is this run's root key); without
    one, the record's ``scenario``."""
    if is_record(target):
        recorded = read_record(target)
        copy = (target if target.is_dir() else target.parent) / SCENARIO_COPY
        as_run = load_scenario(copy) if copy.is_file() else None
        scenario = _own_root_key(as_run or Scenario.model_validate(recorded.scenario))
        source = Path(recorded.source) if recorded.source else None
        directory = target if target.is_dir() else target.parent
        tier, recording, settings = _replayed_tier(recorded, directory, settings or Settings())
        return run_scenario(
            scenario,
            source=source,
            tier=tier,
            replay_from=recorded,
            runs_dir=runs_dir,
            record=record,
            on_step=on_step,
            settings=settings,
            recording=recording,
        )
    scenario = load_scenario(target)
    return run_scenario(
        scenario, source=target, runs_dir=runs_dir, record=record, on_step=on_step, settings=settings
    )


def _own_root_key(scenario: Scenario) -> Scenario:
    """The scenario with its ``<root_key:N>`` placeholders sent as the replaying run's root key."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    filled = fill_root_key(data)
    return scenario if filled == data else Scenario.model_validate(filled)


def _replayed_tier(
    recorded: RunRecord, directory: Path, settings: Settings
) -> tuple[Tier, RecordingOptions, Settings]:
    """The fake tier, or the record's real-client tier served from its cassette."""
    info = recorded.recording
    if recorded.tier == Tier.FAKE.value or info is None or info.cassette is None:
        return Tier.FAKE, RecordingOptions(mode=RecordMode.NONE), settings
    options = RecordingOptions(
        mode=RecordMode.NONE, match_on=tuple(info.match_on), cassette=directory / info.cassette
    )
    return Tier(recorded.tier), options, settings.model_copy(update=info.settings)
