"""``harness runs list | show | prune`` and the cap every run applies to ``.harness/runs``.

One real run gives a record; the others are copies of it with their own id, outcome and start
time, so "newest" and "older than" are decided by the records' timestamps against a given now."""

from __future__ import annotations

import json
import logging
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.scenario.loader import load_scenario
from harness.scenario.outcome import FAILED
from harness.scenario.run_index import (
    DEFAULT_KEEP,
    KEEP_VARIABLE,
    enforce_cap,
    list_runs,
    parse_age,
    prune,
    runs_cap,
)
from harness.scenario.runner import run_scenario

cli = CliRunner()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

FAILING = """
name: counts
steps:
  - bootstrap: {}
  - name: the bug
    count_rows: {table: org_profiles}
    expect: {rows: 3}
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HARNESS_BACKEND", KEEP_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The record.json of one real failing run, as data."""
    root = tmp_path_factory.mktemp("template")
    path = root / "counts.yml"
    path.write_text(textwrap.dedent(FAILING).lstrip(), encoding="utf-8")
    outcome = run_scenario(load_scenario(path), source=path, runs_dir=root / "runs")
    assert outcome.status == FAILED and outcome.record_path is not None
    data: dict[str, object] = json.loads(outcome.record_path.read_text(encoding="utf-8"))
    return data


def plant(
    runs: Path, template: dict[str, object], record_id: str, started: datetime, outcome: str = "failed"
) -> Path:
    directory = runs / record_id
    directory.mkdir(parents=True)
    data = {**template, "record_id": record_id, "started_at": started.isoformat(), "outcome": outcome}
    (directory / "record.json").write_text(json.dumps(data), encoding="utf-8")
    return directory


@pytest.fixture
def runs(tmp_path: Path, template: dict[str, object]) -> Path:
    """Four runs a day apart (aaaa0001 oldest), a corrupt one, a half-written one and a directory
    that is nobody's run."""
    runs = tmp_path / "runs"
    for day, record_id in enumerate(["aaaa0001", "aaaa0002", "aaaa0003", "bbbb0004"]):
        plant(runs, template, record_id, NOW - timedelta(days=10 - day), "passed" if day % 2 else "failed")
    (runs / "cccc0005").mkdir()
    (runs / "cccc0005" / "record.json").write_text('{"record_id": "cccc0005", "trunc', encoding="utf-8")
    (runs / "dddd0006").mkdir()
    (runs / "dddd0006" / "scenario.yml").write_text("name: x\n", encoding="utf-8")
    (runs / "notes").mkdir()
    (runs / "notes" / "todo.txt").write_text("mine\n", encoding="utf-8")
    return runs


# ------------------------------------------------------------------------------------- list


def test_list_is_a_plain_table_newest_first_with_unreadable_runs_last(runs: Path) -> None:
    result = cli.invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "scenario", "tier", "result", "duration", "when"]
    assert [line.split()[0] for line in lines[1:]] == [
        "bbbb0004",
        "aaaa0003",
        "aaaa0002",
        "aaaa0001",
        "cccc0005",
        "dddd0006",
    ]
    assert lines[1].split()[1:4] == ["counts", "fake", "passed"]
    assert "2026-05-25 12:00:00 UTC" in lines[1]
    assert "corrupt" in lines[5] and "record.json does not read: invalid JSON at line 1" in lines[5]
    assert "incomplete" in lines[6] and "no record.json (the run did not finish)" in lines[6]
    assert "notes" not in result.output and "Traceback" not in result.output
    assert "─" not in result.output  # no box drawing when piped


def test_list_as_json(runs: Path) -> None:
    result = cli.invoke(app, ["runs", "list", "--runs-dir", str(runs), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert [row["id"] for row in data][:2] == ["bbbb0004", "aaaa0003"]
    assert data[0]["scenario"] == "counts" and data[0]["when"] == "2026-05-25T12:00:00+00:00"
    assert data[-2]["result"] == "corrupt" and data[-2]["problem"]
    empty = cli.invoke(app, ["runs", "list", "--runs-dir", str(runs / "nowhere")])
    assert empty.exit_code == 0 and "no runs in" in empty.output


# ------------------------------------------------------------------------------------- show


def test_show_prints_the_step_lines_the_failure_and_the_commands(runs: Path) -> None:
    result = cli.invoke(app, ["runs", "show", "aaaa0001", "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("run aaaa0001: counts failed on the fake tier (in-process)")
    assert "  ok     1 bootstrap" in out and "15 tables created" in out
    assert "  FAIL   2 the bug [count_rows]" in out
    assert "failed at step 2: the bug [count_rows]\n    rows in org_profiles: expected 3, got 0" in out
    assert f"replay: harness replay {runs / 'aaaa0001'}" in out
    assert f"regress: harness regress {runs / 'aaaa0001'}" in out
    by_prefix = cli.invoke(app, ["runs", "show", "bbbb", "--runs-dir", str(runs)])
    assert by_prefix.exit_code == 0 and by_prefix.output.startswith("run bbbb0004:")
    by_path = cli.invoke(app, ["runs", "show", str(runs / "aaaa0002")])
    assert by_path.exit_code == 0 and by_path.output.startswith("run aaaa0002:")


def test_show_html_writes_the_runs_report_with_its_timeline(runs: Path, tmp_path: Path) -> None:
    page = tmp_path / "out" / "run.html"
    result = cli.invoke(app, ["runs", "show", "aaaa0001", "--runs-dir", str(runs), "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert f"html report: {page}" in result.output
    html = page.read_text(encoding="utf-8")
    assert "the bug" in html and "expected 3, got 0" in html
    assert f"harness replay {runs / 'aaaa0001'}" in html


@pytest.mark.parametrize(
    ("ident", "message"),
    [
        ("aaaa", "'aaaa' names 3 runs: aaaa0003, aaaa0002, aaaa0001; give more of it"),
        ("ffff", "no run 'ffff' in"),
        ("cccc0005", "run cccc0005 ("),
    ],
)
def test_show_explains_what_it_cannot_show(runs: Path, ident: str, message: str) -> None:
    result = cli.invoke(app, ["runs", "show", ident, "--runs-dir", str(runs)])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


# ------------------------------------------------------------------------------------ prune


def test_prune_keeps_the_newest_and_never_touches_what_is_not_a_readable_record(runs: Path) -> None:
    result = cli.invoke(app, ["runs", "prune", "--keep", "1", "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    assert "removed 3 run(s), kept 1; left 2 unreadable: cccc0005, dddd0006" in result.output
    assert sorted(p.name for p in runs.iterdir()) == ["bbbb0004", "cccc0005", "dddd0006", "notes"]
    cli.invoke(app, ["runs", "prune", "--keep", "0", "--runs-dir", str(runs)])
    assert sorted(p.name for p in runs.iterdir()) == ["cccc0005", "dddd0006", "notes"]


def test_prune_by_age_reads_the_records_timestamps_against_now(runs: Path) -> None:
    dry = prune(runs, older_than=parse_age("8d"), now=NOW, dry_run=True)
    assert [e.id for e in dry.removed] == ["aaaa0002", "aaaa0001"] and (runs / "aaaa0001").is_dir()
    done = prune(runs, older_than=timedelta(days=8), now=NOW)
    assert [e.id for e in done.removed] == ["aaaa0002", "aaaa0001"] and done.kept == 2
    assert [e.id for e in list_runs(runs) if e.readable] == ["bbbb0004", "aaaa0003"]


def test_prune_from_the_command_line_by_age(runs: Path, template: dict[str, object]) -> None:
    plant(runs, template, "eeee0007", datetime(2999, 1, 1, tzinfo=UTC))  # started after any now
    result = cli.invoke(app, ["runs", "prune", "--older-than", "1d", "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    assert "removed 4 run(s), kept 1" in result.output
    bad = cli.invoke(app, ["runs", "prune", "--older-than", "a week", "--runs-dir", str(runs)])
    assert bad.exit_code == 2 and "expected a number and a unit, s m h d or w" in bad.output


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(weeks=2)),
        ("90s", timedelta(seconds=90)),
    ],
)
def test_ages(text: str, age: timedelta) -> None:
    assert parse_age(text) == age


# -------------------------------------------------------------------------------------- cap


def test_the_cap_comes_from_the_environment() -> None:
    assert runs_cap({}) == DEFAULT_KEEP == 200
    assert runs_cap({KEEP_VARIABLE: "3"}) == 3
    with pytest.raises(ValueError, match="HARNESS_RUNS_KEEP='many': expected a whole number"):
        runs_cap({KEEP_VARIABLE: "many"})


def test_enforce_cap_prunes_to_the_newest_and_a_bad_setting_removes_nothing(
    runs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert enforce_cap(runs, {KEEP_VARIABLE: "lots"}) is None
    assert "runs directory not pruned: HARNESS_RUNS_KEEP='lots'" in caplog.text
    assert enforce_cap(runs, {KEEP_VARIABLE: "0"}) is None
    assert enforce_cap(runs, {KEEP_VARIABLE: "10"}) is None  # under the cap: nothing read
    pruned = enforce_cap(runs, {KEEP_VARIABLE: "2"})
    assert pruned is not None and [e.id for e in pruned.removed] == ["aaaa0002", "aaaa0001"]
    assert sorted(p.name for p in runs.iterdir()) == ["aaaa0003", "bbbb0004", "cccc0005", "dddd0006", "notes"]


def test_every_run_prunes_the_runs_directory_to_the_cap(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEEP_VARIABLE, "2")
    path = tmp_path / "counts.yml"
    path.write_text(textwrap.dedent(FAILING).lstrip(), encoding="utf-8")
    outcome = run_scenario(load_scenario(path), source=path, runs_dir=runs)
    assert outcome.record_path is not None and outcome.record_path.is_file()
    readable = [e.id for e in list_runs(runs) if e.readable]
    assert readable == [outcome.record_path.parent.name, "bbbb0004"]
    assert {"cccc0005", "dddd0006", "notes"} <= {p.name for p in runs.iterdir()}
