"""Median wall time of the ``full_onboarding`` scenario through the runner: in-process on the fake
tier (fresh fake backends per run, as ``./run_e2e.sh`` does), in-process on the emulator tier
(the real google-cloud and provider clients over HTTP to emulators in the same process, fresh
state per run on reused servers), and live (against ``harness serve``'s fake-tier services,
started once on free ports)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _results import summarize, write

from harness.backends import Backend
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
    in_process = timed(args.runs, tier=Backend.FAKE)
    emulator = timed(args.runs, tier=Backend.EMULATOR)
    with ServiceProcess(seed=1) as services:
        live = timed(args.runs, api_url=services.api_url, pipeline_url=services.pipeline_url)
    ratio = emulator["median_ms"] / in_process["median_ms"]  # type: ignore[operator]
    print(f"emulator tier / fake tier: {ratio:.2f}x")
    write(
        "full_onboarding",
        {
            "command": "python bench/bench_scenarios.py " + " ".join(sys.argv[1:]),
            "scenario": "full_onboarding",
            "in_process": in_process,
            "emulator_in_process": emulator,
            "emulator_vs_fake": round(ratio, 2),
            "live": live,
        },
    )


if __name__ == "__main__":
    main()
