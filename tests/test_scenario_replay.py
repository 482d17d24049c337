"""Replay of run records, and the ``harness run`` / ``harness replay`` commands: exit codes,
failure output with a replay command that reproduces the failure, directories expanded once each.
JUnit XML and sharding are pytest's (tests/test_ci_runner.py), not ``harness run``'s."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.scenario.loader import load_scenario
from harness.scenario.outcome import FAILED, PASSED
from harness.scenario.records import read_record
from harness.scenario.replay import replay
from harness.scenario.runner import run_scenario

cli = CliRunner()


@pytest.fixture(autouse=True)
def _default_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_BACKEND", raising=False)


INTEGRATION = """
name: {name}
variables:
  org: r_{{run_id}}
org: {{slug: "{{org}}"}}
steps:
  - bootstrap: {{}}
  - onboard: {{}}
  - name: connect
    setup_integration: {{provider: openai}}
    expect: {{status: 201, body: {{validation_status: VALID}}}}
  - name: pipeline
    run_pipeline: {{provider: openai}}
    expect: {{body: {{status: SUCCESS, rows_processed: "{rows}"}}}}
"""

QUICK = """
name: {name}
steps:
  - bootstrap: {{}}
    expect: {{status: {status}}}
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def integration(directory: Path, *, name: str = "integration", rows: str = ">= 1") -> Path:
    return write(directory, name, INTEGRATION.format(name=name, rows=rows))


# ------------------------------------------------------------------------------------ replay


def test_replaying_a_record_reproduces_the_failure(tmp_path: Path) -> None:
    path = integration(tmp_path, rows="> 100000")
    first = run_scenario(load_scenario(path), source=path, runs_dir=tmp_path / "runs")
    assert first.status == FAILED
    again = replay(first.record_path, runs_dir=tmp_path / "runs")  # type: ignore[arg-type]
    assert again.status == FAILED
    assert (again.run_id, again.seed, again.clock_start, again.org) == (
        first.run_id,
        first.seed,
        first.clock_start,
        first.org,
    )
    assert again.failed_step.index == first.failed_step.index == 3  # type: ignore[union-attr]
    assert again.failed_step.failures == first.failed_step.failures  # type: ignore[union-attr]
    assert again.record_path == tmp_path / "runs" / f"{first.run_id}-replay" / "record.json"
    assert read_record(again.record_path).replay_of == first.run_id  # type: ignore[arg-type]


def test_replay_serves_the_recorded_provider_responses(tmp_path: Path) -> None:
    path = integration(tmp_path)
    first = run_scenario(load_scenario(path), source=path, runs_dir=tmp_path / "runs", record=True)
    assert first.status == PASSED, first.failure_report()
    # Same record, replayed: every provider request is answered from it.
    same = replay(first.record_path, runs_dir=tmp_path / "runs")  # type: ignore[arg-type]
    assert same.status == PASSED and same.provider_responses_replayed == same.provider_calls > 1
    # What OpenAI said during the recorded run is what the replay hears, not what the fake would say.
    data = json.loads(first.record_path.read_text())  # type: ignore[union-attr]
    models = next(c for c in data["provider_calls"] if c["path"] == "/v1/models")
    models["status"] = 401
    models["body"] = json.dumps(
        {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
    )
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    changed = replay(edited, runs_dir=None)
    assert changed.status == FAILED
    assert changed.failed_step.name == "connect"  # type: ignore[union-attr]
    assert changed.failed_step.body["error"] == "INTEGRATION_VALIDATION_FAILED"  # type: ignore[union-attr]


def test_replay_of_a_scenario_file_just_runs_it(tmp_path: Path) -> None:
    path = write(tmp_path, "quick", QUICK.format(name="quick", status=200))
    outcome = replay(path, runs_dir=None)
    assert outcome.status == PASSED and outcome.replay_of is None


# ------------------------------------------------------------------------------- harness run


def test_run_passes_with_exit_0_and_one_line_per_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    integration(tmp_path / "scn")
    result = cli.invoke(app, ["run", "scn"])
    assert result.exit_code == 0, result.output
    for line in ("bootstrap", "onboard", "connect [setup_integration]", "pipeline [run_pipeline]", "cleanup"):
        assert line in result.output
    assert "1 scenario(s): 1 passed" in result.output
    assert "\x1b[" not in result.output
    assert len(list((tmp_path / ".harness" / "runs").glob("*/record.json"))) == 1


def test_a_failing_run_exits_1_and_its_replay_command_reproduces_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    integration(tmp_path, name="broken", rows="> 100000")
    result = cli.invoke(app, ["run", "broken.yml", "--record"])
    assert result.exit_code == 1, result.output
    assert "failing step 4/4: pipeline [run_pipeline]" in result.output
    assert "body.rows_processed: expected > 100000, got" in result.output
    replay_line = next(line for line in result.output.splitlines() if "replay: harness replay" in line)
    record = replay_line.split("harness replay ", 1)[1].strip()
    assert record.startswith(".harness/runs/") and record.endswith("/record.json")
    text = Path(record).read_text()
    assert "sk-admin-" not in text and "local-root-key" not in text and "<api_key:1>" in text
    again = cli.invoke(app, ["replay", record])
    assert again.exit_code == 1, again.output
    assert "reproduced: the original run failed at pipeline" in again.output
    assert "NOT reproduced" not in again.output


def test_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    good = write(tmp_path, "good", QUICK.format(name="good", status=200))
    bad = write(tmp_path, "bad", "name: bad\nsteps:\n  - bootstrp: {}\n")
    cases = [
        ["run", "missing.yml"],
        ["run", str(bad)],
        ["run", str(good), "--shard", "1/2"],  # CI options are pytest's (--splits/--group, --junit-xml)
        ["run", str(good), "--junit-xml", "out.xml"],
        ["run", str(good), "--backend", "gcp"],  # GCP_PROJECT_ID unset: refused before it runs
        ["run", str(good), "--backend", "moon"],
        ["run", str(good), "--api-url", "http://127.0.0.1:9"],
        ["run", str(good), "--api-url", "http://127.0.0.1:9", "--pipeline-url", "http://127.0.0.1:9"],
        ["replay", "missing.json"],
    ]
    for args in cases:
        result = cli.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
    result = cli.invoke(app, ["run", str(bad)])
    assert "bad.yml:3" in result.output and "bootstrp" in result.output
    live = cli.invoke(
        app, ["run", str(good), "--api-url", "http://127.0.0.1:9", "--pipeline-url", "http://x:9"]
    )
    assert "does not answer GET /health" in live.output


# ----------------------------------------------------------------------- selection, summary


def test_directories_expand_once_each_in_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    names = [f"s{i:02d}" for i in range(7)]
    for i, name in enumerate(names):
        write(tmp_path / "scn" / ("a" if i % 2 else "b"), name, QUICK.format(name=name, status=200))
    write(tmp_path / "scn" / "b" / "_fixtures", "not_a_scenario", "dataset: {}\n")
    result = cli.invoke(app, ["run", "scn", "scn/a/s01.yml"])  # s01 named twice, run once
    assert result.exit_code == 0, result.output
    assert "7 scenario(s): 7 passed" in result.output
    ran = [line.split()[0] for line in result.output.splitlines() if line.startswith("s0")]
    assert ran == ["s01", "s03", "s05", "s00", "s02", "s04", "s06"]  # scn/a/... before scn/b/...
    assert "not_a_scenario" not in result.output


def test_run_summarises_passed_failed_and_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    write(tmp_path / "scn", "a_pass", QUICK.format(name="a_pass", status=200))
    write(tmp_path / "scn", "b_fail", QUICK.format(name="b_fail", status=418))
    write(tmp_path / "scn", "c_pass", QUICK.format(name="c_pass", status=200))
    write(tmp_path / "scn", "d_skip", "name: d_skip\ntiers: [gcp]\nsteps: [{bootstrap: {}}]\n")
    result = cli.invoke(app, ["run", "scn"])
    assert result.exit_code == 1, result.output
    assert "4 scenario(s): 2 passed, 1 failed, 1 skipped" in result.output
    assert "status: expected 418, got 200" in result.output
    assert "replay: harness replay" in result.output
