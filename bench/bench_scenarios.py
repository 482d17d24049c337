"""Median wall time of the ``full_onboarding`` scenario through the runner: in-process (fresh fake
backends per run, as ``./run_e2e.sh`` does) and live (against ``harness serve``'s services,
started once on free ports)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _results import summarize, write

from harness.scenario.loader import load_scenario
from harness.scenario.runner import run_scenario
from harness.serve import ServiceProcess

SCENARIO = Path(__file__).parent.parent / "scenarios" / "full_onboarding.yml"


def timed(runs: int, **options: object) -> dict[str, object]:
    scenario = load_scenario(SCENARIO)
    run_scenario(scenario, source=SCENARIO, runs_dir=None, **options)  # warm caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        outcome = run_scenario(scenario, source=SCENARIO, runs_dir=None, **options)
        samples.append(time.perf_counter() - started)
        assert outcome.ok, outcome.failure_report()
    return summarize(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    in_process = timed(args.runs)
    with ServiceProcess(seed=1) as services:
        live = timed(args.runs, api_url=services.api_url, pipeline_url=services.pipeline_url)
    write("full_onboarding", {"scenario": "full_onboarding", "in_process": in_process, "live": live})


if __name__ == "__main__":
    main()
