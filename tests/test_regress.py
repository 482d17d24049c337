"""``harness regress``: a run record becomes a regression directory that one pytest item replays
offline, failing as the original run did until the bug is fixed (then passing)."""

from __future__ import annotations

import shutil
import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli import app
from harness.recording.cassette import CASSETTE_FILE
from harness.scenario.loader import load_scenario, scenario_files
from harness.scenario.model import Tier
from harness.scenario.outcome import FAILED, PASSED
from harness.scenario.regressions import (
    CHANGED,
    FIXED,
    PASSES,
    REPRODUCED,
    RegressionError,
    make_regression,
    replay_regression,
)
from harness.scenario.runner import run_scenario

pytest_plugins = ["pytester"]

ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"
EMULATOR_VARIABLES = ("BIGQUERY_EMULATOR_HOST", "KMS_ENDPOINT", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")

# The fake meets every step but the third: the "bug" is an expectation the code does not meet.
BUGGY = """
name: quota_bug
variables:
  org: qb_{run_id}
org: {slug: "{org}"}
steps:
  - bootstrap: {}
  - onboard: {}
    expect: {status: 201}
  - name: the bug
    count_rows: {table: org_profiles}
    expect: {rows: ROWS}
  - get_org: {}
"""

cli = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HARNESS_BACKEND", "HARNESS_RECORD_MODE", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)


def recorded(tmp_path: Path, rows: int, *, record: bool = False) -> Path:
    """The run directory of BUGGY expecting ``rows`` profiles (1 passes, anything else fails)."""
    path = tmp_path / "quota_bug.yml"
    path.write_text(textwrap.dedent(BUGGY).lstrip().replace("ROWS", str(rows)), encoding="utf-8")
    outcome = run_scenario(load_scenario(path), source=path, runs_dir=tmp_path / "runs", record=record)
    assert outcome.status == (PASSED if rows == 1 else FAILED)
    assert outcome.record_path is not None
    return outcome.record_path.parent


def inner_project(pytester: pytest.Pytester, regression: Path) -> Path:
    """A project with the root conftest and ``regression`` under scenarios/regressions/."""
    pytester.makeconftest(ROOT_CONFTEST.read_text(encoding="utf-8"))
    target = pytester.path / "scenarios" / "regressions" / regression.name
    shutil.copytree(regression, target)
    return target


# ---------------------------------------------------------------------------------- the command


def test_regress_writes_the_directory_and_prints_the_command_that_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = recorded(tmp_path, rows=99, record=True)
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["regress", str(run / "record.json")])
    assert result.exit_code == 0, result.output
    name = f"quota_bug_{run.name}"
    target = tmp_path / "scenarios" / "regressions" / name
    assert sorted(p.name for p in target.iterdir()) == ["record.json", "regression.yml", "scenario.yml"]
    assert f"./run_e2e.sh test scenarios/regressions/{name}" in result.output
    assert "note:" not in result.output
    data = yaml.safe_load((target / "regression.yml").read_text(encoding="utf-8"))
    assert data["name"] == name
    assert data["reported"]["outcome"] == "failed"
    assert (data["reported"]["step"], data["reported"]["step_number"]) == ("the bug", 3)
    assert data["reported"]["messages"] == ["rows in org_profiles: expected 99, got 1"]
    assert (data["reported"]["tier"], data["reported"]["record_id"]) == ("fake", run.name)
    assert data["seed"] and data["clock_start"] and data["reported"]["when"]
    # the record keeps the recorded provider exchanges and the scenario is the one that ran
    assert (target / "scenario.yml").read_text() == (tmp_path / "quota_bug.yml").read_text()
    # a directory holding regression.yml is no plain scenario for `harness run scenarios/`
    assert scenario_files([tmp_path / "scenarios"]) == []


def test_regress_refuses_to_overwrite_and_names_a_bad_name_or_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = recorded(tmp_path, rows=99)
    monkeypatch.chdir(tmp_path)
    assert cli.invoke(app, ["regress", str(run), "--name", "mine"]).exit_code == 0
    again = cli.invoke(app, ["regress", str(run), "--name", "mine"])
    assert again.exit_code == 2
    assert "scenarios/regressions/mine already exists; choose another --name" in again.output
    bad = cli.invoke(app, ["regress", str(run), "--name", "Not-A-Name"])
    assert bad.exit_code == 2 and "use lowercase letters, digits and underscores" in bad.output
    missing = cli.invoke(app, ["regress", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "no such file or directory" in missing.output
    (tmp_path / "empty").mkdir()
    empty = cli.invoke(app, ["regress", str(tmp_path / "empty")])
    assert empty.exit_code == 2 and "no run record here" in empty.output


def test_regress_says_when_the_provider_answers_were_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "integrates.yml"
    path.write_text(
        "name: integrates\nsteps:\n  - bootstrap: {}\n  - onboard: {}\n"
        "  - setup_integration: {provider: openai}\n",
        encoding="utf-8",
    )
    outcome = run_scenario(load_scenario(path), source=path, runs_dir=tmp_path / "runs")
    assert outcome.status == PASSED and outcome.record_path is not None
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["regress", str(outcome.record_path.parent), "--into", "elsewhere"])
    assert result.exit_code == 0, result.output
    assert (
        "note: the record lists provider calls without their answers (the run had no --record)"
        in result.output
    )
    assert f"run it: harness replay elsewhere/integrates_{outcome.record_id}" in result.output


def test_a_record_that_does_not_validate_names_file_line_and_field(tmp_path: Path) -> None:
    run = recorded(tmp_path, rows=99)
    text = (run / "record.json").read_text(encoding="utf-8")
    (run / "record.json").write_text(text.replace('"seed": ', '"seed": "many", "was": ', 1), encoding="utf-8")
    with pytest.raises(Exception) as caught:
        make_regression(run, into=tmp_path / "out")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if '"seed": ' in row)
    assert str(caught.value).startswith(f"{run / 'record.json'}:{line}: seed: ")


def test_an_interrupted_run_is_refused(tmp_path: Path) -> None:
    run = recorded(tmp_path, rows=99)
    text = (run / "record.json").read_text(encoding="utf-8")
    (run / "record.json").write_text(text.replace('"outcome": "failed"', '"outcome": "interrupted"'))
    with pytest.raises(RegressionError, match="only a finished run can be replayed"):
        make_regression(run, into=tmp_path / "out")


# ------------------------------------------------------------------------------- the pytest item


def test_a_failing_record_is_an_item_that_fails_as_reported(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    regression = make_regression(recorded(tmp_path, rows=99), into=tmp_path / "regressions", name="quota")
    inner_project(pytester, regression)
    result = pytester.runpytest("-p", "no:randomly", "--backend", "fake,emulator")
    result.assert_outcomes(failed=1)  # one item per regression, whatever the tiers
    result.stdout.fnmatch_lines(
        [
            "*regression: quota*",
            "regression quota: still fails as reported at step 3 (the bug): "
            "rows in org_profiles: expected 99, got 1",
            "*failing step 3/4: the bug ?count_rows?*",
            "*FAIL   3 the bug ?count_rows?*",
            "FAILED scenarios/regressions/quota/regression.yml::quota*",
        ]
    )


def test_a_passing_record_is_a_passing_item(pytester: pytest.Pytester, tmp_path: Path) -> None:
    regression = make_regression(recorded(tmp_path, rows=1, record=True), into=tmp_path / "r", name="fine")
    inner_project(pytester, regression)
    result = pytester.runpytest("-p", "no:randomly", "--scenario", "regressions/*")
    result.assert_outcomes(passed=1)


def test_the_item_passes_once_the_bug_is_gone_and_says_how_a_new_failure_differs(tmp_path: Path) -> None:
    """Editing the scenario stands in for fixing the code: the replay passes, the item passes."""
    regression = make_regression(recorded(tmp_path, rows=99), into=tmp_path / "r", name="quota")
    verdict, _ = replay_regression(regression, runs_dir=tmp_path / "replays")
    assert verdict.status == REPRODUCED and not verdict.ok
    scenario = regression / "scenario.yml"
    text = scenario.read_text(encoding="utf-8")
    scenario.write_text(text.replace("rows: 99", "rows: 1"), encoding="utf-8")
    verdict, outcome = replay_regression(regression, runs_dir=tmp_path / "replays")
    assert outcome.status == PASSED and verdict.status == FIXED and verdict.ok
    scenario.write_text(
        text.replace("rows: 99", "rows: 1").replace("- get_org: {}", "- get_org: {auth: none}")
    )
    verdict, _ = replay_regression(regression, runs_dir=tmp_path / "replays")
    assert verdict.status == CHANGED and not verdict.ok
    assert verdict.message.startswith("fails differently from the report: reported step 3 (the bug): ")
    assert "now step 4 (get_org): status: expected 2xx, got 401" in verdict.message


def test_a_regression_that_does_not_load_names_file_line_and_field(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    regression = make_regression(recorded(tmp_path, rows=99), into=tmp_path / "r", name="broken")
    target = inner_project(pytester, regression)
    scenario = target / "scenario.yml"
    scenario.write_text(
        scenario.read_text().replace("count_rows: {table: org_profiles}", "count_rows: {tabel: x}")
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "regression does not load:",
            "scenarios/regressions/broken/scenario.yml:10: steps?2?.count_rows.tabel: unknown key *",
        ]
    )
    (target / "scenario.yml").write_text(regression.joinpath("scenario.yml").read_text())
    meta = target / "regression.yml"
    meta.write_text(meta.read_text().replace("reported:", "reportd:"))
    result = pytester.runpytest("-p", "no:randomly")
    result.stdout.fnmatch_lines(
        [
            "scenarios/regressions/broken/regression.yml:*: reported: required key is missing",
            "scenarios/regressions/broken/regression.yml:7: reportd: unknown key *",
        ]
    )


# ----------------------------------------------------------------------------- emulator tier


@pytest.mark.emulator
def test_an_emulator_record_with_a_cassette_replays_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in EMULATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "quota_bug.yml"
    path.write_text(textwrap.dedent(BUGGY).lstrip().replace("ROWS", "1"), encoding="utf-8")
    outcome = run_scenario(
        load_scenario(path), source=path, tier=Tier.EMULATOR, record=True, runs_dir=tmp_path / "runs"
    )
    assert outcome.status == PASSED, outcome.failure_report()
    assert outcome.record_path is not None
    regression = make_regression(outcome.record_path.parent, into=tmp_path / "r", name="emulated")
    assert (regression / CASSETTE_FILE).is_file()

    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a regression replay opened a connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    verdict, replayed = replay_regression(regression, runs_dir=tmp_path / "replays")
    assert replayed.tier is Tier.EMULATOR and verdict.status == PASSES, replayed.failure_report()
