"""``harness ci summary``: the job summary CI writes after the tests, read from real pytest output.

Every test here first runs pytest (an inner session, pytester) on a tiny project laid out like this
repository — the root conftest, a ``scenarios/`` directory with a scenario that fails, one that
passes and one that does not load, and a failing plain test — with ``--junitxml``, exactly as a
CI shard does. The summary is then built from that JUnit XML and the run records the run left.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import harness.backends.fake
from harness.cli import app
from harness.scenario.ci_summary import RunCounts, ScenarioFailure, Summary, build_summary, render_markdown
from harness.scenario.junit import read_junit

# Keep the fake tier's modules (cryptography's bindings among them) loaded across the inner runs.
assert harness.backends.fake

pytest_plugins = ["pytester"]

ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"

FAILING = """
name: wrong_plan
description: Expects the wrong plan, so it fails at step 2.
steps:
  - bootstrap: {}
  - name: onboard expecting SCALE
    onboard: {}
    expect: {status: 201, body: {subscription.plan_name: SCALE}}
  - get_org: {}
"""

PASSING = """
name: bootstraps
description: The bootstrap passes.
steps:
  - bootstrap: {}
    expect: {status: 200}
"""

BROKEN = """
name: broken
description: A step key nobody knows.
steps:
  - bootstrap: {}
    expcet: {status: 200}
"""

PLAIN_TESTS = """
def test_fine():
    pass

def test_wrong_sum():
    assert 1 + 1 == 3, "arithmetic | with a ``` fence"
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HARNESS_BACKEND", "HARNESS_HYPOTHESIS_PROFILE", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)


def _project(pytester: pytest.Pytester, scenarios: dict[str, str]) -> None:
    pytester.makeconftest(ROOT_CONFTEST.read_text(encoding="utf-8"))
    for name, text in scenarios.items():
        path = pytester.path / "scenarios" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip(), encoding="utf-8")
    pytester.makepyfile(test_plain=PLAIN_TESTS)


@pytest.fixture
def ci_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A finished CI-like run: ``junit/shard-1.xml`` and ``.harness/runs`` under the returned root
    (also the working directory, as in a CI job)."""
    _project(pytester, {"wrong_plan.yml": FAILING, "bootstraps.yml": PASSING, "broken.yml": BROKEN})
    result = pytester.runpytest("--junitxml", "junit/shard-1.xml")
    result.assert_outcomes(passed=2, failed=3)
    monkeypatch.chdir(pytester.path)
    return pytester.path


def _by_name(failures: list[ScenarioFailure]) -> dict[str, ScenarioFailure]:
    return {failure.scenario: failure for failure in failures}


def test_the_junit_of_a_real_run_reads_back_case_by_case(ci_run: Path) -> None:
    report = read_junit([ci_run / "junit"])
    assert report.problems == []
    outcomes = {case.test_id: case.outcome for case in report.cases}
    assert outcomes == {
        "scenarios.bootstraps.yml::bootstraps": "passed",
        "scenarios.broken.yml::broken": "failed",
        "scenarios.wrong_plan.yml::wrong_plan": "failed",
        "test_plain::test_fine": "passed",
        "test_plain::test_wrong_sum": "failed",
    }


def test_failing_scenarios_come_with_their_step_messages_and_record(ci_run: Path) -> None:
    runs = Path(".harness/runs")
    summary = build_summary(junit=[Path("junit")], runs_dir=runs)
    failures = _by_name(summary.scenario_failures)
    assert set(failures) == {"wrong_plan", "broken"}
    wrong = failures["wrong_plan"]
    assert wrong.tier == "fake" and wrong.source == "scenarios/wrong_plan.yml"
    assert wrong.step == "step 2: onboard expecting SCALE"
    assert wrong.messages == ('body.subscription.plan_name: expected "SCALE", got "STARTER"',)
    assert wrong.record is not None and (ci_run / wrong.record / "record.json").is_file()
    assert wrong.replay == f"./run_e2e.sh replay .harness/runs/{wrong.record.name}"
    broken = failures["broken"]
    assert broken.record is None and broken.replay is None  # it never ran: nothing to replay
    assert broken.step == "scenario file does not load"
    assert any("expcet" in message for message in broken.messages)
    assert [case.test_id for case in summary.other_failures] == ["test_plain::test_wrong_sum"]
    assert summary.runs.by_outcome == {"failed": 1, "passed": 1}


def test_the_replay_command_in_the_summary_reproduces_the_failure(ci_run: Path) -> None:
    (failure,) = [
        f
        for f in build_summary(junit=[Path("junit")], runs_dir=Path(".harness/runs")).scenario_failures
        if f.record
    ]
    assert failure.replay is not None and failure.record is not None
    replayed = CliRunner().invoke(app, ["replay", str(failure.record), "--runs-dir", "replays"])
    assert replayed.exit_code == 1, replayed.output
    assert "reproduced: the original run failed at onboard expecting SCALE" in replayed.output


def test_without_the_records_the_report_text_still_names_step_and_record(ci_run: Path) -> None:
    # The JUnit artifact downloaded alone: the failure report inside it is enough to go on.
    shutil.rmtree(ci_run / ".harness")
    summary = build_summary(junit=[Path("junit")], runs_dir=Path(".harness/runs"))
    wrong = _by_name(summary.scenario_failures)["wrong_plan"]
    assert wrong.step == "step 2/3: onboard expecting SCALE [onboard]"
    assert wrong.messages == ('body.subscription.plan_name: expected "SCALE", got "STARTER"',)
    assert wrong.record is not None and wrong.record.parent == Path(".harness/runs")
    assert summary.runs.total == 0


def test_without_junit_the_failing_records_are_the_list(ci_run: Path) -> None:
    # The nightly runs `harness run`, not pytest: the run records are all there is.
    summary = build_summary(junit=None, runs_dir=Path(".harness/runs"), title="Nightly on real GCP")
    (failure,) = summary.scenario_failures
    assert failure.scenario == "wrong_plan" and failure.step == "step 2: onboard expecting SCALE"
    markdown = render_markdown(summary)
    assert markdown.startswith("## Nightly on real GCP\n")
    assert (
        "**Tests:**" not in markdown and "- **Scenario runs:** 1 failed, 1 passed (2 records in" in markdown
    )
    assert f"replay: `./run_e2e.sh replay .harness/runs/{failure.record.name}`" in markdown  # type: ignore[union-attr]


def test_shards_add_up(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest-split with no durations file splits by count; each shard writes its own JUnit file.
    _project(pytester, {"wrong_plan.yml": FAILING, "bootstraps.yml": PASSING})
    for group in (1, 2):
        pytester.runpytest("--splits", "2", "--group", str(group), "--junitxml", f"junit/shard-{group}.xml")
    monkeypatch.chdir(pytester.path)
    summary = build_summary(junit=[Path("junit")], runs_dir=Path(".harness/runs"))
    assert summary.junit is not None and len(summary.junit.files) == 2
    assert len(summary.junit.cases) == 4  # every test in exactly one shard
    assert len({case.test_id for case in summary.junit.cases}) == 4
    assert [failure.scenario for failure in summary.scenario_failures] == ["wrong_plan"]


def test_the_markdown_page(ci_run: Path) -> None:
    summary = build_summary(junit=[Path("junit")], runs_dir=Path(".harness/runs"), artifact="test-results-1")
    markdown = render_markdown(summary)
    assert "- **Tests:** 2 passed, 3 failed, 0 errors, 0 skipped (5 in 1 JUnit file(s))" in markdown
    assert "### Failing scenarios (2)" in markdown
    assert "unpack the artifact `test-results-1` at the repository root" in markdown
    assert (
        "- **`wrong_plan`** on `fake` — `scenarios/wrong_plan.yml` — `step 2: onboard expecting SCALE`"
        in markdown
    )
    assert "(did not run: no record to replay)" in markdown
    assert "### Other failing tests (1)" in markdown
    # The assertion text holds ``` and a pipe: it is shown as inline code fenced longer than that.
    assert (
        "- `test_plain::test_wrong_sum` (failed): ````AssertionError: arithmetic | with a ``` fence````"
        in markdown.splitlines()
    )


def test_a_message_holding_a_fence_is_fenced_longer() -> None:
    failure = ScenarioFailure("s", "fake", None, "step 1: x", ("```\n<b>not html</b>",), Path("r/1"))
    summary = Summary("T", Path("r"), None, [failure], [], RunCounts(), [])
    lines = render_markdown(summary).splitlines()
    start = lines.index("  ````text")
    assert lines[start + 1 : start + 4] == ["  ```", "  <b>not html</b>", "  ````"]


def test_cli_prints_the_page_and_exits_0_when_the_tests_failed(ci_run: Path) -> None:
    result = CliRunner().invoke(app, ["ci", "summary", "--junit", "junit", "--title", "Tests, shard 1 of 4"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("## Tests, shard 1 of 4\n")
    assert "### Failing scenarios (2)" in result.output


def test_cli_names_what_it_could_not_read_and_exits_2(ci_run: Path) -> None:
    (ci_run / "junit" / "shard-2.xml").write_text("<testsuites><testsuite>", encoding="utf-8")  # cut short
    result = CliRunner().invoke(app, ["ci", "summary", "--junit", "junit", "--junit", "missing.xml"])
    assert result.exit_code == 2
    assert "### Could not read" in result.stdout  # the page itself says what is missing
    assert "error: missing.xml: no such file or directory" in result.stderr
    assert "error: junit/shard-2.xml: not readable as JUnit XML" in result.stderr
    assert "### Failing scenarios (2)" in result.stdout  # what could be read is still summarised
