"""What the default test run checks, per tier: tests, passing assertions and scenario items.

A faster suite must not check less. This runs the suite (``pytest -n 2 tests scenarios``, or the
paths given) with :mod:`tests.assertion_counter`, which counts every passing ``assert`` of the
project, and reports per tier (``fake``, ``emulator``, and ``-`` for tests that take no tier):
tests, outcomes, assertions (the tests' own), runtime assertions (the project code's ``assert``
statements that ran under a test: not a measure of checking, see that module) and scenario items.
Rewritten bytecode with the assertion hook goes to a private cache (``PYTHONPYCACHEPREFIX``), so
the project's ``__pycache__`` is left as it is. Writes ``bench/results/suite_census.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from _results import write

ROOT = Path(__file__).resolve().parent.parent


def tier_of(nodeid: str) -> str:
    params = nodeid.rpartition("[")[2].removesuffix("]") if nodeid.endswith("]") else ""
    for tier in ("emulator", "fake", "gcp"):
        if tier in params.split("-"):
            return tier
    return "-"


def census(paths: list[str], workers: str, nodes_file: Path | None = None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="census-") as scratch:
        counts = Path(scratch, "counts")
        counts.mkdir()
        env = {
            **os.environ,
            "CI": "true",
            "HARNESS_SKIP_DOCKER": "1",
            "HARNESS_ASSERTION_COUNTS": str(counts),
            "PYTHONPYCACHEPREFIX": str(Path(scratch, "pycache")),
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "tests.assertion_counter",
            "-o",
            "enable_assertion_pass_hook=true",
            "-n",
            workers,
            *paths,
        ]
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        nodes: dict[str, dict[str, object]] = {}
        for part in counts.glob("*.json"):
            nodes.update(json.loads(part.read_text(encoding="utf-8")))
    if nodes_file is not None:  # to diff two runs test by test
        nodes_file.write_text(json.dumps(nodes, indent=0, sort_keys=True), encoding="utf-8")
    tiers: dict[str, Counter[str]] = defaultdict(Counter)
    for nodeid, seen in nodes.items():
        tier = tiers[tier_of(nodeid)]
        tier["tests"] += 1
        tier[str(seen["outcome"])] += 1
        tier["assertions"] += int(seen["assertions"])  # type: ignore[call-overload]
        tier["runtime_assertions"] += int(seen.get("runtime_assertions", 0))  # type: ignore[call-overload]
        if nodeid.startswith("scenarios/"):
            tier["scenario_items"] += 1
    return {
        "command": " ".join(command[1:]),
        "exit_code": result.returncode,
        "wall_seconds": round(seconds, 1),
        "summary": result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "",
        "failed": sorted(nodeid for nodeid, seen in nodes.items() if seen["outcome"] == "failed"),
        "per_tier": {tier: dict(sorted(figures.items())) for tier, figures in sorted(tiers.items())},
        "totals": {
            key: sum(figures[key] for figures in tiers.values())
            for key in ("tests", "assertions", "runtime_assertions", "scenario_items")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", default=["tests", "scenarios"])
    parser.add_argument("-n", "--workers", default="2")
    parser.add_argument("--nodes", type=Path, help="also write each test's outcome and assertion count here")
    args = parser.parse_args()
    write("suite_census", census(args.paths, args.workers, args.nodes))


if __name__ == "__main__":
    main()
