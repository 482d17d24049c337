"""A pytest plugin that counts the assertions each test passes, for ``bench/suite_census.py``.

Loaded only by that bench (``-p tests.assertion_counter -o enable_assertion_pass_hook=true``): the
hook is called for every passing ``assert`` of a rewritten module; those of the project's own code
are counted (not those of installed plugins' modules), so the count is how much a suite checks,
the figure a speed-up must not lower. Two counts per test: ``assertions``, the tests' own (the
``tests/`` tree and the root ``conftest.py``), and ``runtime_assertions``, the ``assert``
statements of the project's code that ran under the test (``harness/``, ``fakes/``...). Only the
first is what the tests check: the second moves when the code under test gains or loses an
internal ``assert``, or when pytest rewrites that code or not (it does for the installed
distribution that registers the plugin, not for a checkout put first on ``PYTHONPATH``). Each
process (an xdist worker, or the only one) writes its counts to
``$HARNESS_ASSERTION_COUNTS/<worker>.json``.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent
_TESTS = (_ROOT / "tests", _ROOT / "conftest.py")
_COUNTS: Counter[str] = Counter()
_RUNTIME: Counter[str] = Counter()
_OUTCOMES: dict[str, str] = {}


def pytest_assertion_pass(item: pytest.Item, lineno: int, orig: str, expl: str) -> None:
    path = _asserted_in_the_project()
    if path is None:
        return
    if any(path == place or path.is_relative_to(place) for place in _TESTS):
        _COUNTS[item.nodeid] += 1
    else:
        _RUNTIME[item.nodeid] += 1


def _asserted_in_the_project() -> Path | None:
    """The file of the passing ``assert`` when it is the project's own, else None. pytest also
    rewrites the modules of installed plugins (anyio's, whose portal asserts once per request a
    ``TestClient`` or an emulator serves): counting those made a test that sends fewer requests
    look as if it checked less. The asserting frame is the first one outside pytest and pluggy."""
    frame = sys._getframe(1)
    while frame is not None and _is_machinery(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    path = Path(frame.f_code.co_filename).resolve()
    mine = path.is_relative_to(_ROOT) and "site-packages" not in path.parts  # a .venv may be inside
    return path if mine else None


def _is_machinery(filename: str) -> bool:
    parts = Path(filename).parts
    return "_pytest" in parts or "pluggy" in parts or filename == __file__


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _OUTCOMES[report.nodeid] = report.outcome


def pytest_sessionfinish(session: pytest.Session) -> None:
    directory = os.environ.get("HARNESS_ASSERTION_COUNTS")
    if not directory or session.config.pluginmanager.has_plugin("dsession"):
        return  # not asked, or xdist's controller (the workers ran the tests and count them)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    body = {
        node: {"assertions": _COUNTS[node], "runtime_assertions": _RUNTIME[node], "outcome": outcome}
        for node, outcome in _OUTCOMES.items()
    }
    Path(directory, f"{worker}.json").write_text(json.dumps(body), encoding="utf-8")
