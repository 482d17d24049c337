"""A pytest plugin that counts the assertions each test passes, for ``bench/suite_census.py``.

Loaded only by that bench (``-p tests.assertion_counter -o enable_assertion_pass_hook=true``): the
hook is called for every passing ``assert`` of a rewritten module, so its count is how much a
suite checks, the figure a speed-up must not lower. Each process (an xdist worker, or the only
one) writes its counts to ``$HARNESS_ASSERTION_COUNTS/<worker>.json``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

_COUNTS: Counter[str] = Counter()
_OUTCOMES: dict[str, str] = {}


def pytest_assertion_pass(item: pytest.Item, lineno: int, orig: str, expl: str) -> None:
    _COUNTS[item.nodeid] += 1


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _OUTCOMES[report.nodeid] = report.outcome


def pytest_sessionfinish(session: pytest.Session) -> None:
    directory = os.environ.get("HARNESS_ASSERTION_COUNTS")
    if not directory or session.config.pluginmanager.has_plugin("dsession"):
        return  # not asked, or xdist's controller (the workers ran the tests and count them)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    body = {
        node: {"assertions": _COUNTS.get(node, 0), "outcome": outcome} for node, outcome in _OUTCOMES.items()
    }
    Path(directory, f"{worker}.json").write_text(json.dumps(body), encoding="utf-8")
