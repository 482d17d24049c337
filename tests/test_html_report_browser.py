"""The HTML report in a real browser: headless Chromium loads the page, and the DOM it dumps after
the scripts ran says the page worked — no JavaScript error, failures first, the timeline drawn.

Skipped, with the reason, where Chromium is not installed (Debian's ``chromium`` package;
``./run_e2e.sh test`` installs it when run as root, as CI does). The screenshot for the README is
``bench/html_report_screenshot.py``'s job, not a test's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.report import write_report
from harness.report.browser import BrowserError, Rendered, find_chromium, render, screenshot
from tests.report_batch import Batch, run_batch

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed: the HTML report's browser test needs it (Debian: apt-get install "
        "chromium; ./run_e2e.sh test installs it when run as root; HARNESS_CHROMIUM names another binary)",
    ),
    pytest.mark.slow,  # deselected by --quick: a real browser
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return run_batch(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def report(batch: Batch) -> Path:
    return write_report(batch.runs_dir.parent / "report.html", batch.records, runs_dir=batch.runs_dir)


@pytest.fixture(scope="module")
def rendered(report: Path) -> Rendered:
    assert CHROMIUM is not None
    return render(report, CHROMIUM)


def _attribute(dom: str, tag: str, name: str) -> str | None:
    opening = re.search(rf"<{tag}\b[^>]*>", dom)
    assert opening is not None, f"no <{tag}> in the rendered DOM"
    value = re.search(rf'\b{name}="([^"]*)"', opening.group(0))
    return value.group(1) if value else None


def test_the_page_runs_without_a_javascript_error(rendered: Rendered) -> None:
    assert rendered.console == ()
    assert _attribute(rendered.dom, "html", "data-js-errors") == "0"
    assert _attribute(rendered.dom, "body", "data-ready") == "1"  # the script ran to its end


def test_failures_are_listed_first(rendered: Rendered) -> None:
    sections = re.findall(r'<section class="scenario[^"]*"[^>]*data-scenario="([a-z_]+)"', rendered.dom)
    assert sections == ["report_fails", "report_passes"]
    rows = re.findall(r'<tr class="is-(\w+)" data-outcome="(\w+)"', rendered.dom)
    assert rows == [("failed", "failed"), ("passed", "passed")]


def test_the_timeline_is_drawn(rendered: Rendered) -> None:
    bars = re.findall(
        r'<span class="bar" style="left:[\d.]+%;width:([\d.]+)%"[^>]*data-drawn-px="([\d.]+)"', rendered.dom
    )
    assert len(bars) == 10  # 2 scenarios x (4 steps + cleanup)
    assert all(float(px) > 0 for _, px in bars), bars
    assert _attribute(rendered.dom, "body", "data-bars-drawn") == "10"
    # Layout follows the numbers: the widest bar is drawn wider than the narrowest.
    widest = max(bars, key=lambda bar: float(bar[0]))
    narrowest = min(bars, key=lambda bar: float(bar[0]))
    assert float(widest[1]) > float(narrowest[1])


def test_a_broken_script_is_caught(tmp_path: Path) -> None:
    """The checks above can fail: an uncaught error shows on the console and on the counter."""
    assert CHROMIUM is not None
    page = tmp_path / "broken.html"
    page.write_text(
        '<!doctype html><html data-js-errors="0"><head><script>'
        'window.addEventListener("error", function () {'
        ' document.documentElement.setAttribute("data-js-errors", "1"); });'
        "</script></head><body><script>undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    broken = render(page, CHROMIUM)
    assert _attribute(broken.dom, "html", "data-js-errors") == "1"
    assert any("Uncaught ReferenceError" in message for message in broken.console)


def test_a_screenshot_is_a_png(report: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    png = screenshot(report, tmp_path / "report.png", CHROMIUM, width=800, height=600)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_browser_that_does_not_run_is_named(tmp_path: Path) -> None:
    with pytest.raises(BrowserError, match="no-such-browser"):
        render(tmp_path / "missing.html", str(tmp_path / "no-such-browser"))
