"""The scenario timeline in pytest-html's report: a ``harness`` extra on every scenario item.

CI runs scenarios through pytest, and pytest-html (``--html report.html``) is its report; rather
than a second report format, each scenario item's row gets the same section ``harness run --html``
draws (:func:`harness.report.scenario_fragment`: steps as bars, clock moves, faults, retries,
collapsed exchanges, expected vs actual and the replay command). It is built from the run record
as written, so it is as scrubbed as the record. Without pytest-html, or without ``--html``,
nothing is read or added.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

EXTRA_NAME = "harness"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if call.when == "call" and _html_report_wanted(item.config):
        extra = harness_extra(getattr(item, "outcome", None))
        if extra is not None:
            report.extras = [*getattr(report, "extras", []), extra]
    return report


def _html_report_wanted(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("html") and bool(getattr(config.option, "htmlpath", None))


def harness_extra(outcome: Any) -> dict[str, str | None] | None:
    """pytest-html's ``html`` extra (its dict shape: name, format_type, content, mime_type,
    extension) for a scenario item's run outcome; None when the run left no record."""
    record_path = getattr(outcome, "record_path", None)
    if record_path is None or not record_path.is_file():
        return None
    from harness.report import scenario_fragment
    from harness.scenario.records import read_record

    try:
        record = read_record(record_path)
    except (OSError, ValueError):
        return None
    content = scenario_fragment(record, runs_dir=record_path.parent.parent)
    return {
        "name": EXTRA_NAME,
        "format_type": "html",
        "content": content,
        "mime_type": None,
        "extension": None,
    }
