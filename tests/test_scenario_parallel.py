"""Scenario files with ``instances:`` and ``parallel:`` steps: lint names the file, line and field
of a bad sub-step; a run sends the sub-steps at once to the instances they name, and its
progress lines and run record show each sub-step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.scenario.loader import lint_scenario, parse_scenario
from harness.scenario.outcome import LiveUnsupported
from harness.scenario.progress import step_lines
from harness.scenario.runner import run_scenario

HARNESS = [sys.executable, "-c", "from harness.cli import app; app()"]

GOOD = """\
name: parallel_reads
tiers: [fake]
instances: 2
steps:
  - bootstrap: {}
  - onboard: {}
  - name: read on both
    parallel:
      - name: read on one
        get_org: {}
        save: {slug_one: org_slug}
      - name: read on two
        get_org: {}
        instance: 2
        expect: {status: [200, 201]}
  - name: the saved value is there afterwards
    get_org: {org: "{slug_one}"}
    instance: 2
"""


def _lint(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "scenario.yml"
    path.write_text(text)
    return [str(error).removeprefix(str(path)) for error in lint_scenario(path)]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            "  - parallel:\n      - get_org: {}\n      - get_org: {}\n        expcet: {status: 200}\n",
            ":7: steps[0].parallel[1].expcet: unknown key 'expcet'",
        ),
        (
            "  - parallel:\n      - get_org: {}\n      - get_org: {}\n        instance: 3\n",
            ":7: steps[0].parallel[1].instance: instance 3, but the scenario has instances: 2",
        ),
        (
            "  - parallel:\n      - get_org: {}\n      - advance_clock: {days: 1}\n",
            ":6: steps[0].parallel[1].advance_clock: advance_clock cannot be a sub-step of parallel",
        ),
        (
            "  - parallel:\n      - get_org: {}\n      - get_org: {}\n    expect: {status: 200}\n",
            ":7: steps[0].expect: expect goes on each sub-step of parallel, not on the parallel step",
        ),
        (
            "  - parallel:\n      - get_org: {}\n      - get_org: {}\n        rotate_key: {}\n",
            ":6: steps[0].parallel[1]: a step has exactly one action, found 2: get_org, rotate_key",
        ),
        (
            "  - parallel:\n      - get_org: {org: '{later}'}\n"
            "      - get_org: {}\n        save: {later: org_slug}\n",
            ":5: steps[0].parallel[0].get_org.org: undefined variable {later}: it is saved by "
            "steps[0].parallel[1], which runs at the same time",
        ),
        (
            "  - parallel:\n      - get_org: {}\n",
            ":4: steps[0].parallel: parallel needs at least 2 sub-steps, got 1",
        ),
    ],
    ids=[
        "unknown key",
        "instance",
        "advance_clock",
        "expect on parallel",
        "two actions",
        "sibling save",
        "one",
    ],
)
def test_a_bad_sub_step_is_named_by_line_and_field(tmp_path: Path, steps: str, expected: str) -> None:
    errors = _lint(tmp_path, f"name: bad_parallel\ninstances: 2\nsteps:\n{steps}")
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_the_cli_lints_a_sub_step_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yml"
    path.write_text(
        "name: bad\nsteps:\n  - parallel:\n      - get_org: {}\n      - get_org: {}\n        instance: 2\n"
    )
    result = subprocess.run(
        [*HARNESS, "scenario", "lint", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output, output
    assert f"{path}:6: steps[1].parallel[1].instance" not in output
    assert f"{path}:6: steps[0].parallel[1].instance: instance 2, but the scenario has instances: 1" in output


def test_a_parallel_run_shows_and_records_each_sub_step(tmp_path: Path) -> None:
    outcome = run_scenario(parse_scenario(GOOD), runs_dir=tmp_path)
    assert outcome.ok, outcome.failure_report()
    parallel = outcome.steps[2]
    assert [(s.number, s.instance, s.status, s.ok) for s in parallel.parallel] == [
        ("3.1", 1, 200, True),
        ("3.2", 2, 200, True),
    ]
    lines = step_lines(outcome)
    assert any(" 3 read on both [parallel]" in line and "2/2 sub-steps passed" in line for line in lines)
    assert any("3.2 read on two [get_org] @instance 2" in line for line in lines), lines
    record = json.loads(outcome.record_path.read_text())
    recorded = record["steps"][2]
    assert [s["name"] for s in recorded["parallel"]] == ["read on one", "read on two"]
    assert [s["instance"] for s in recorded["parallel"]] == [1, 2]
    assert recorded["parallel"][0]["saved"] == {"slug_one": outcome.org}
    assert record["resolved"]["steps"][2]["parallel"][1]["instance"] == 2


def test_a_failing_sub_step_is_the_failing_step_of_the_report(tmp_path: Path) -> None:
    text = GOOD.replace("expect: {status: [200, 201]}", "expect: {status: 404}")
    outcome = run_scenario(parse_scenario(text), runs_dir=tmp_path)
    assert not outcome.ok
    report = outcome.failure_report()
    assert "failing step 3.2/4: read on two [get_org] @instance 2" in report, report
    assert "status: expected 404, got 200" in report
    record = json.loads(outcome.record_path.read_text())
    assert (record["failure"]["step_index"], record["failure"]["sub_step"]) == (2, 1)


def test_live_mode_refuses_more_than_one_instance() -> None:
    with pytest.raises(LiveUnsupported, match="instances: 2 needs an in-process run"):
        run_scenario(parse_scenario(GOOD), api_url="http://127.0.0.1:9", pipeline_url="http://127.0.0.1:9")


def test_the_gcp_preflight_looks_inside_parallel_steps() -> None:
    """A sub-step needing what gcp cannot give is refused before the run starts, like a step."""
    from harness.backends import Backend
    from harness.scenario.outcome import ScenarioUsageError
    from harness.scenario.preflight import check_scenario
    from harness.services.settings import Settings

    scenario = parse_scenario(
        "name: gcp_parallel\nsteps:\n  - onboard: {}\n  - parallel:\n"
        "      - setup_integration: {provider: openai}\n      - get_org: {}\n"
    )
    settings = Settings(openai_api_key=None)
    with pytest.raises(ScenarioUsageError, match=r"step 2 \(setup_integration\): a valid openai credential"):
        check_scenario(scenario, tier=Backend.GCP, settings=settings)
