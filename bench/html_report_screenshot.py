"""The HTML report of ``./run_e2e.sh all`` in headless Chromium: a screenshot, and its DOM checked.

Runs every scenario under ``scenarios/`` (what ``./run_e2e.sh all`` runs) plus one that fails on
purpose (so the picture shows a failure listed first, with expected vs actual), through
``harness run --html``, on the fake tier, with records in a temporary directory. Then loads the
report in headless Chromium, checks the rendered DOM (no JavaScript error, failures first, every
timeline bar drawn) and writes its first screen to ``bench/results/html_report.png``.

Usage: ``python bench/html_report_screenshot.py [--report PATH] [--keep-html PATH]``
(``--report``: screenshot an existing report instead; ``--keep-html``: keep the report built).
Needs Debian's ``chromium`` (or ``HARNESS_CHROMIUM``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.report.browser import find_chromium, render, screenshot

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
FAILING = """
name: demo_expected_suspended
description: Fails on purpose, so the report shows a failure first.
steps:
  - bootstrap: {}
  - onboard: {}
  - get_org: {}
    expect: {status: 200, body: {status: SUSPENDED}}
"""


def build_report(report: Path, scratch: Path) -> None:
    """``harness run scenarios/ FAILING --html report``, records under ``scratch``."""
    if True:
        failing = Path(scratch) / "demo_expected_suspended.yml"
        failing.write_text(FAILING.lstrip(), encoding="utf-8")
        command = [sys.executable, "-m", "harness", "run", "scenarios/", str(failing)]
        command += ["--backend", "fake", "--runs-dir", str(Path(scratch) / "runs"), "--html", str(report)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if result.returncode not in (0, 1) or not report.is_file():
            sys.exit(
                f"harness run exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        print(result.stdout.strip().splitlines()[-2])  # the batch's summary line


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--report", type=Path, help="An existing report to load (default: build one).")
    parser.add_argument("--keep-html", type=Path, help="Write the report built here too.")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        sys.exit(
            "chromium is not installed (Debian: apt-get install chromium), or HARNESS_CHROMIUM names nothing"
        )
    with tempfile.TemporaryDirectory(prefix="html-report-") as scratch:
        report = args.report or args.keep_html or Path(scratch) / "report.html"
        if args.report is None:
            build_report(report, Path(scratch))
        check(report, chromium)


def check(report: Path, chromium: str) -> None:
    """Render ``report``, check its DOM, write the screenshot; exit 1 naming what is wrong."""
    rendered = render(report, chromium)
    errors = re.search(r'<html[^>]*data-js-errors="(\d+)"', rendered.dom)
    failed = re.findall(r'<section class="scenario[^"]*"[^>]*data-failed="(true|false)"', rendered.dom)
    bars = re.findall(r'data-drawn-px="([\d.]+)"', rendered.dom)
    problems = []
    if rendered.console or errors is None or errors.group(1) != "0":
        problems.append(f"JavaScript errors: {rendered.console}")
    if failed != sorted(failed, key=lambda flag: flag != "true"):
        problems.append(f"failures are not first: {failed}")
    if not bars or any(float(px) <= 0 for px in bars):
        problems.append(f"timeline bars not drawn: {bars[:10]}")
    png = screenshot(report, RESULTS / "html_report.png", chromium, width=1280, height=1800)
    print(f"{len(failed)} scenario sections ({failed.count('true')} failed, first), {len(bars)} bars drawn")
    print(f"screenshot: {png}")
    if problems:
        sys.exit("\n".join(problems))


if __name__ == "__main__":
    main()
