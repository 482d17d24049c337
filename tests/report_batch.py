"""A batch of two scenario runs, one failing and one passing, for the HTML report's tests.

The failing one meets a provider fault (two 500s the service retries through), then an expectation
that does not hold; the passing one moves the injected clock and has a step name full of markup,
which the report must show as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.scenario.loader import load_scenario
from harness.scenario.outcome import RunOutcome
from harness.scenario.records import RunRecord, read_record
from harness.scenario.runner import run_scenario

HOSTILE_NAME = "<img src=x onerror=alert(1)> wait"

FAILING = """
name: report_fails
tags: [report]
clock: 2026-03-02T09:00:00Z
seed: 11
faults:
  - provider: openai
    status: 500
    times: 2
    before_step: setup_integration
steps:
  - bootstrap: {}
  - onboard: {}
  - setup_integration: {provider: openai}
  - get_org: {}
    expect: {status: 200, body: {status: SUSPENDED}}
"""

PASSING = f"""
name: report_passes
tags: [report, smoke]
clock: 2026-03-02T09:00:00Z
seed: 7
steps:
  - bootstrap: {{}}
  - onboard: {{}}
  - name: "{HOSTILE_NAME}"
    advance_clock: {{days: 1, hours: 2}}
  - check_quota: {{}}
"""


@dataclass
class Batch:
    runs_dir: Path
    files: list[Path]
    outcomes: list[RunOutcome]
    records: list[RunRecord]


def write_scenarios(directory: Path) -> list[Path]:
    """The two scenario files, passing one first (the report must still put the failure first)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in (("report_passes.yml", PASSING), ("report_fails.yml", FAILING)):
        path = directory / name
        path.write_text(text.lstrip(), encoding="utf-8")
        files.append(path)
    return files


def run_batch(directory: Path) -> Batch:
    """Run both scenarios on the fake tier, records under ``directory/runs``."""
    runs_dir = directory / "runs"
    files = write_scenarios(directory / "scenarios")
    outcomes = [run_scenario(load_scenario(path), source=path, runs_dir=runs_dir) for path in files]
    records = [read_record(outcome.record_path) for outcome in outcomes if outcome.record_path is not None]
    return Batch(runs_dir, files, outcomes, records)
