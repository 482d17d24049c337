"""The HTML report as a file: what it shows, in what order, escaped, scrubbed and self-contained.

The same page is loaded in a real browser in tests/test_html_report_browser.py; here the markup
and the view model are checked directly, over a batch of one failing and one passing run.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.pytest_plugin.html_report import EXTRA_NAME, harness_extra
from harness.report import render_report, scenario_fragment, write_report
from harness.report.timeline import batch_views
from harness.scenario.records import RECORD_FILE
from harness.services.settings import Settings
from tests.report_batch import HOSTILE_NAME, Batch, run_batch, write_scenarios

pytest_plugins = ["pytester"]
ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return run_batch(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def page(batch: Batch) -> str:
    return render_report(batch.records, runs_dir=batch.runs_dir)


def _sections(page: str) -> list[str]:
    return re.findall(r'<section class="scenario[^"]*"[^>]*data-scenario="([a-z_]+)"', page)


def test_failures_come_first_whatever_order_the_runs_had(batch: Batch, page: str) -> None:
    assert [r.scenario_name for r in batch.records] == ["report_passes", "report_fails"]
    assert _sections(page) == ["report_fails", "report_passes"]
    assert [v.name for v in batch_views(batch.records)] == ["report_fails", "report_passes"]
    index = page[page.index('<nav class="index">') : page.index("</nav>")]
    assert index.index("report_fails") < index.index("report_passes")
    assert "2 scenario(s): 1 failed, 1 passed" in page


def test_a_failure_shows_expected_against_actual_and_the_replay_command(batch: Batch, page: str) -> None:
    failing = next(r for r in batch.records if r.outcome == "failed")
    box = page[page.index('<div class="failure">') :]
    box = box[: box.index("</div>")]
    assert "Failed at step 4: get_org → HTTP 200" in box
    assert '<td>body.status</td><td class="expected">&quot;SUSPENDED&quot;</td>' in box
    assert '<td class="actual">&quot;ACTIVE&quot;</td>' in box
    replay = f"harness replay {(batch.runs_dir / failing.record_id).as_posix()}"
    assert f'<code class="replay">{replay}</code>' in page
    assert page.count('<div class="failure">') == 1  # the passing run has none


def test_the_timeline_lays_the_steps_end_to_end_by_wall_time(batch: Batch) -> None:
    for view in batch_views(batch.records):
        line = [s for s in view.steps if not s.sub_step]
        assert [s.number for s in line] == ["1", "2", "3", "4", ""]  # four steps, then the cleanup
        assert line[-1].cleanup and line[-1].label.startswith("cleanup: offboard ")
        assert sum(s.width_pct for s in line) == pytest.approx(100, abs=0.01)
        for before, after in itertools.pairwise(line):
            assert after.offset_pct == pytest.approx(before.offset_pct + before.width_pct, abs=0.01)


def test_bars_carry_their_offset_and_width(page: str) -> None:
    bars = re.findall(r'<span class="bar" style="left:([\d.]+)%;width:([\d.]+)%"', page)
    assert len(bars) == 10  # 2 x (4 steps + cleanup)
    assert all(0 <= float(left) <= 100 and 0 < float(width) <= 100 for left, width in bars)


def test_clock_moves_faults_and_retries_sit_on_their_steps(batch: Batch, page: str) -> None:
    failing, passing = batch_views(batch.records)
    wait = passing.steps[2]
    assert wait.action == "advance_clock" and wait.clock_move == "+1d 2h"
    assert wait.clock == "2026-03-02T09:00:00+00:00"
    assert passing.steps[3].clock == "2026-03-03T11:00:00+00:00"
    assert "clock moved +1d 2h" in page

    integration = failing.steps[2]
    assert integration.action == "setup_integration"
    assert integration.faults_armed == ("provider fault: provider openai, status 500, times 2 (fired 2×)",)
    assert integration.retries == 2
    assert [call.split(" → ")[1].split()[0] for call in integration.provider_calls] == ["500", "500", "200"]
    assert [(f.armed_at, f.fired) for f in failing.faults] == [("before step 3 (setup_integration)", 2)]
    assert "2 provider retries" in page
    assert all(not step.faults_armed and not step.retries for step in passing.steps)


def test_each_exchange_is_there_collapsed(batch: Batch, page: str) -> None:
    summaries = re.findall(r'<details class="exchange"( open)?><summary>([^<]*)</summary>', page)
    assert all(not opened for opened, _ in summaries)
    titles = [title for _, title in summaries]
    assert "POST /api/v1/admin/bootstrap → 200" in titles
    assert "advance_clock (local action)" in titles
    assert any(t.startswith("GET /api/v1/organizations/") and t.endswith("/quota → 200") for t in titles)


def test_text_from_the_scenario_is_escaped(page: str) -> None:
    assert HOSTILE_NAME not in page
    assert "&lt;img src=x onerror=alert(1)&gt; wait [advance_clock]" in page


def test_nothing_secret_reaches_the_report(batch: Batch, page: str) -> None:
    secrets = [
        Settings().ca_root_api_key.get_secret_value(),
        *(o.variables["api_key"] for o in batch.outcomes),
    ]
    assert all(len(secret) >= 6 for secret in secrets)
    for secret in secrets:
        assert secret not in page
    assert "&lt;root_key:1&gt;" in page and "&lt;api_key:1&gt;" in page


def test_the_page_fetches_nothing(page: str) -> None:
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert re.findall(r'\b(?:src|href)="(?!#)[^"]*"', page) == []
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_write_report_writes_one_file_and_an_empty_batch_says_so(batch: Batch, tmp_path: Path) -> None:
    path = write_report(tmp_path / "deep" / "report.html", batch.records, runs_dir=batch.runs_dir)
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert list(path.parent.iterdir()) == [path]
    assert "No run records." in render_report([])


def test_harness_run_html_writes_the_batch_report(tmp_path: Path) -> None:
    files = write_scenarios(tmp_path / "scenarios")
    runs, report = tmp_path / "runs", tmp_path / "out" / "report.html"
    args = ["run", *map(str, files), "--runs-dir", str(runs), "--html", str(report)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert f"html report: {report}" in result.output
    page = report.read_text(encoding="utf-8")
    assert _sections(page) == ["report_fails", "report_passes"]
    failed = next(p.parent.name for p in runs.glob(f"*/{RECORD_FILE}") if '"failed"' in p.read_text())
    assert f"harness replay {(runs / failed).as_posix()}" in page


def test_a_scenario_items_extra_is_the_harness_section(batch: Batch) -> None:
    extra = harness_extra(batch.outcomes[1])
    assert extra is not None
    assert (extra["name"], extra["format_type"]) == (EXTRA_NAME, "html")
    fragment = extra["content"] or ""
    assert fragment.startswith('<div class="harness-report" data-section="harness"><style>')
    assert "<script" not in fragment  # pytest-html inserts it as HTML: scripts would not run
    assert 'data-scenario="report_fails"' in fragment
    assert fragment == scenario_fragment(batch.records[1], runs_dir=batch.runs_dir)
    assert harness_extra(None) is None


def test_pytest_html_reports_carry_the_harness_section(pytester: pytest.Pytester, monkeypatch) -> None:
    pytest.importorskip("pytest_html", reason="pytest-html (the dev extra) is not installed")
    for name in ("HARNESS_BACKEND", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeconftest(ROOT_CONFTEST.read_text(encoding="utf-8"))
    write_scenarios(pytester.path / "scenarios")
    result = pytester.runpytest_subprocess("--backend", "fake", "--html", "out/report.html")
    result.assert_outcomes(passed=1, failed=1)
    page = (pytester.path / "out" / "report.html").read_text(encoding="utf-8")
    blob = re.search(r'data-jsonblob="([^"]*)"', page)
    assert blob is not None
    tests = json.loads(html.unescape(blob.group(1)))["tests"]
    extras = {
        test_id.rsplit("::", 1)[-1]: [e for run in runs for e in run["extras"]]
        for test_id, runs in tests.items()
    }
    assert sorted(extras) == ["report_fails", "report_passes"]
    for name, attached in extras.items():
        assert [(e["name"], e["format_type"]) for e in attached] == [(EXTRA_NAME, "html")]
        assert f'data-scenario="{name}"' in attached[0]["content"]
