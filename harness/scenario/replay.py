"""Replay: re-run a run record offline, as it ran, to see whether its failure comes back.

A replay runs in-process on the fake tier with the record's run id (so every derived slug and key
is the same), its seed, its clock start and its recorded provider responses
(:mod:`harness.scenario.tape`); it writes a record of its own (``<run_id>-replay``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario
from harness.scenario.outcome import RunOutcome, StepOutcome
from harness.scenario.records import DEFAULT_RUNS_DIR, SCENARIO_COPY, is_record, read_record
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
    """Replay a run record in-process on the fake tier (same run id, seed, clock start, recorded
    provider responses); a scenario file is simply run.

    The scenario replayed is the copy of the file that ran (``scenario.yml`` next to the record),
    exactly as written; without one, the record's ``scenario`` (where literal secrets, if the file
    had any, read as placeholders)."""
    if is_record(target):
        recorded = read_record(target)
        copy = (target if target.is_dir() else target.parent) / SCENARIO_COPY
        as_run = load_scenario(copy) if copy.is_file() else None
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
    scenario = load_scenario(target)
    return run_scenario(
        scenario, source=target, runs_dir=runs_dir, record=record, on_step=on_step, settings=settings
    )
