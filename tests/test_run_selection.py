"""``harness run`` over many scenarios: which run (``--tag``, ``-k``, ``--last-failed``) and the
``[n/N]`` progress with elapsed time and ETA (times come from an injected counter; none is
asserted on the real clock)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from harness.cli import app
from harness.scenario.loader import load_scenario
from harness.scenario.progress import BatchProgress
from harness.scenario.records import RunRecord, Scrubber, write_record
from harness.scenario.selection import Selection, SelectionError, compile_expression, last_failed, select

SCENARIOS = {
    "alpha.yml": "name: alpha\ntags: [smoke]\nsteps:\n  - bootstrap: {}\n",
    "beta.yml": "name: beta\ntags: [smoke, slow]\nsteps:\n  - bootstrap: {}\n",
    "nested/gamma.yml": "name: gamma\nsteps:\n  - bootstrap: {}\n    expect: {status: 201}\n",
}


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    root = tmp_path / "scenarios"
    for name, text in SCENARIOS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", *map(str, args)], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def _headers(output: str) -> list[str]:
    """The scenario header lines, without their timings: ``alpha path  [1/2]``."""
    return [line.split(" elapsed ")[0] for line in output.splitlines() if " elapsed " in line]


# ----------------------------------------------------------------------------------- -k expressions
@pytest.mark.parametrize(
    ("expression", "matches"),
    [
        ("alp", {"alpha"}),
        ("ALPHA", {"alpha"}),
        ("smoke", {"alpha", "beta"}),
        ("smoke and not slow", {"alpha"}),
        ("not smoke", {"gamma"}),
        ("gamma or beta", {"beta", "gamma"}),
        ("(alpha or gamma) and not nested", {"alpha"}),
        ("nested/", {"gamma"}),
        ("not not beta", {"beta"}),
    ],
)
def test_k_matches_name_path_and_tags(scenario_dir: Path, expression: str, matches: set[str]) -> None:
    loaded = [(p, load_scenario(p)) for p in sorted(scenario_dir.rglob("*.yml"))]
    kept = select(loaded, Selection(expression=expression))
    assert {scenario.name for _, scenario in kept} == matches


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "an empty expression"),
        ("and", "unexpected 'and'"),
        ("alpha or", "ends where a word or '(' was expected"),
        ("(alpha", "a '(' is not closed"),
        ("alpha beta", "unexpected 'beta'"),
        ("alpha )", "unexpected ')'"),
    ],
)
def test_a_k_expression_that_does_not_parse_says_where(expression: str, message: str) -> None:
    with pytest.raises(SelectionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_expression(expression)


def test_tags_keep_scenarios_with_any_of_them(scenario_dir: Path) -> None:
    loaded = [(p, load_scenario(p)) for p in sorted(scenario_dir.rglob("*.yml"))]
    assert [s.name for _, s in select(loaded, Selection(tags=("slow",)))] == ["beta"]
    assert [s.name for _, s in select(loaded, Selection(tags=("slow", "smoke")))] == ["alpha", "beta"]
    assert select(loaded, Selection(tags=("nope",))) == []
    both = Selection(tags=("smoke",), expression="not slow", failed_names=frozenset({"alpha", "gamma"}))
    assert [s.name for _, s in select(loaded, both)] == ["alpha"]
    assert both.describe() == "--tag smoke -k 'not slow' --last-failed"


# ------------------------------------------------------------------------------------- last failed
def _record(runs: Path, record_id: str, name: str, outcome: str, started: datetime) -> None:
    record = RunRecord(
        record_id=record_id,
        run_id=record_id,
        scenario_name=name,
        scenario={"name": name},
        tier="fake",
        mode="in-process",
        seed=1,
        clock_start=started,
        started_at=started,
        outcome=outcome,
    )
    write_record(record, runs / record_id, Scrubber())


def test_last_failed_reads_the_latest_record_of_each_scenario(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert last_failed(runs) == frozenset()
    _record(runs, "a1", "alpha", "failed", datetime(2026, 1, 1, tzinfo=UTC))
    _record(runs, "a2", "alpha", "passed", datetime(2026, 1, 2, tzinfo=UTC))  # fixed since
    _record(runs, "b1", "beta", "passed", datetime(2026, 1, 1, tzinfo=UTC))
    _record(runs, "b2", "beta", "interrupted", datetime(2026, 1, 3, tzinfo=UTC))
    _record(runs, "g1", "gamma", "failed", datetime(2026, 1, 5, tzinfo=UTC))
    (runs / "broken").mkdir()
    (runs / "broken" / "record.json").write_text("{not json", encoding="utf-8")
    assert last_failed(runs) == {"beta", "gamma"}


# ----------------------------------------------------------------------------------- the command
def test_tag_runs_only_the_tagged_scenarios_numbered(scenario_dir: Path, tmp_path: Path) -> None:
    code, output = _run(scenario_dir, "--tag", "smoke", "--runs-dir", tmp_path / "runs")
    assert code == 0, output
    assert _headers(output) == [
        f"alpha {scenario_dir / 'alpha.yml'}  [1/2]",
        f"beta {scenario_dir / 'beta.yml'}  [2/2]",
    ]
    assert "2 scenario(s): 2 passed" in output


def test_k_filters_by_name_and_nothing_matching_is_a_usage_error(scenario_dir: Path, tmp_path: Path) -> None:
    code, output = _run(scenario_dir, "-k", "alpha or gamma", "--runs-dir", tmp_path / "runs")
    assert code == 1, output  # gamma fails
    assert [h.split()[0] for h in _headers(output)] == ["alpha", "gamma"]

    code, output = _run(scenario_dir, "-k", "delta", "--tag", "smoke", "--runs-dir", tmp_path / "runs")
    assert code == 2
    assert "error: --tag smoke -k 'delta': no scenario matches (scenarios: alpha, beta, gamma)" in output

    code, output = _run(scenario_dir, "-k", "alpha and", "--runs-dir", tmp_path / "runs")
    assert code == 2
    assert "-k 'alpha and': ends where a word or '(' was expected" in output


def test_last_failed_reruns_what_failed_last_time(scenario_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    code, output = _run(scenario_dir, "--last-failed", "--runs-dir", runs)
    assert code == 1
    assert f"--last-failed: no failed run in {runs}; running every scenario" in output
    assert len(_headers(output)) == 3

    code, output = _run(scenario_dir, "--last-failed", "--runs-dir", runs)
    assert code == 1
    assert output.splitlines()[0] == f"gamma {scenario_dir / 'nested' / 'gamma.yml'}"  # one: no [n/N]
    assert "1 scenario(s): 1 failed" in output


# ----------------------------------------------------------------------------------------- progress
class Ticks:
    """A stand-in for ``time.monotonic``: moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_numbers_scenarios_with_elapsed_and_eta() -> None:
    out, ticks = io.StringIO(), Ticks()
    console = Console(file=out, width=200)
    progress = BatchProgress(console, 3, now=ticks)
    assert not progress.live  # not a terminal
    with progress:
        for name, seconds in (("a", 10.0), ("b", 20.0), ("c", 95.0)):
            progress.start(name, f"{name}.yml")
            ticks.now += seconds
            progress.finish()
    assert out.getvalue().splitlines() == [
        "a a.yml  [1/3] elapsed 0.0 s, ETA —",
        "b b.yml  [2/3] elapsed 10.0 s, ETA 20.0 s",
        "c c.yml  [3/3] elapsed 30.0 s, ETA 15.0 s",
    ]
    assert progress.timing() == "elapsed 2m 05s, ETA 0.0 s"


def test_a_terminal_gets_a_progress_bar_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    terminal = Console(file=out, force_terminal=True, width=120)
    progress = BatchProgress(terminal, 2, now=Ticks())
    assert progress.live
    with progress:
        progress.start("alpha", "alpha.yml")
        progress.finish()
    assert "[1/2]" in out.getvalue() and "alpha" in out.getvalue()
    assert not BatchProgress(terminal, 1).live  # one scenario: nothing to count
    monkeypatch.setenv("NO_COLOR", "1")
    assert not BatchProgress(terminal, 2).live
