"""The HTML report of scenario runs: one self-contained page per run or batch.

:mod:`~harness.report.timeline` turns run records (already scrubbed: the report is built from what
was written, never from a run's in-memory outcome, so no secret can reach it) into a view model;
:mod:`~harness.report.html` renders it (inline CSS and JS, nothing fetched);
:mod:`~harness.report.browser` loads a page in headless Chromium, for the tests and the screenshot.
"""

from harness.report.html import render_report, scenario_fragment, write_report

__all__ = ["render_report", "scenario_fragment", "write_report"]
