"""Reading pytest's JUnit XML: every test case with its outcome and, when it did not pass, its report.

CI shards the suite (pytest-split) and each shard writes its own ``--junitxml`` file; the job
summary (:mod:`harness.scenario.ci_summary`) reads them back. Only the standard library parses
them (``xml.etree``): the files are written by pytest on the same machine, not fetched from
anywhere, so there is nothing untrusted to guard against beyond a file that is cut short, which
is reported as :class:`Unreadable`, naming the file, rather than raised.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"


@dataclass(frozen=True)
class TestCase:
    """One ``<testcase>``: pytest's ``classname`` (the module or file path, dotted) and ``name``."""

    __test__ = False  # not a pytest test class, whatever its name says

    classname: str
    name: str
    outcome: str
    message: str = ""
    """The ``message`` attribute pytest gives a failure: the first lines of the report."""
    text: str = ""
    """The whole report (the element's text)."""

    @property
    def test_id(self) -> str:
        return f"{self.classname}::{self.name}" if self.classname else self.name


@dataclass(frozen=True)
class Unreadable:
    """A path that could not be read as JUnit XML, and why."""

    path: Path
    reason: str


@dataclass
class JunitReport:
    files: list[Path] = field(default_factory=list)
    cases: list[TestCase] = field(default_factory=list)
    problems: list[Unreadable] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for case in self.cases if case.outcome == outcome)

    @property
    def not_passed(self) -> list[TestCase]:
        return [case for case in self.cases if case.outcome in (FAILED, ERROR)]


def junit_files(paths: Iterable[Path]) -> tuple[list[Path], list[Unreadable]]:
    """The XML files named: files as given, directories searched (recursively) for ``*.xml``."""
    files: list[Path] = []
    problems: list[Unreadable] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob("*.xml"))
            if not found:
                problems.append(Unreadable(path, "no *.xml file in this directory"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Unreadable(path, "no such file or directory"))
    return files, problems


def read_junit(paths: Iterable[Path]) -> JunitReport:
    """Every test case of every file (see :func:`junit_files`), problems listed, never raised."""
    files, problems = junit_files(paths)
    report = JunitReport(files=files, problems=problems)
    for path in files:
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as exc:
            report.problems.append(Unreadable(path, f"not readable as JUnit XML: {exc}"))
            continue
        report.cases.extend(_case(element) for element in root.iter("testcase"))
    return report


def _case(element: ET.Element) -> TestCase:
    """pytest writes at most one of failure/error/skipped, except an error in teardown after a
    failure: the failure is what the test did, so it wins."""
    classname, name = element.get("classname", ""), element.get("name", "")
    for tag, outcome in (("failure", FAILED), ("error", ERROR), ("skipped", SKIPPED)):
        child = element.find(tag)
        if child is not None:
            return TestCase(classname, name, outcome, child.get("message", ""), child.text or "")
    return TestCase(classname, name, PASSED)


__all__ = ["ERROR", "FAILED", "PASSED", "SKIPPED", "JunitReport", "TestCase", "Unreadable", "read_junit"]
