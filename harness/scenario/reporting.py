"""What ``harness run`` needs around the runner: which files, which shard, and a JUnit report.

* :func:`expand_paths` — files as given; directories recursively to their ``*.yml`` / ``*.yaml``,
  skipping anything under a directory whose name starts with ``_`` or ``.`` (fixtures such as
  ``scenarios/regressions/_configs/`` are YAML but not scenarios). Sorted, without duplicates.
* :func:`select_shard` — ``--shard i/n`` (1-based ``i``): the scenarios at positions
  ``i-1, i-1+n, i-1+2n...`` of the sorted list. Every scenario lands in exactly one shard, and the
  split depends only on the paths, so CI jobs agree without talking to each other.
* :func:`junit_xml` — one ``<testcase>`` per scenario; a failure's message is its first failing
  line and its text the full failure report (replay command included).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.scenario.outcome import FAILED, INTERRUPTED, SKIPPED, RunOutcome, iter_failures

SUFFIXES = (".yml", ".yaml")
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class SelectionError(ValueError):
    """A bad path or ``--shard`` value (the CLI exits 2)."""


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            for candidate in path.rglob("*"):
                hidden = any(part.startswith(("_", ".")) for part in candidate.relative_to(path).parts[:-1])
                if candidate.suffix in SUFFIXES and candidate.is_file() and not hidden:
                    found.add(candidate)
        elif path.is_file():
            found.add(path)
        else:
            raise SelectionError(f"{path}: no such file or directory")
    return sorted(found, key=lambda p: p.as_posix())


def parse_shard(text: str) -> tuple[int, int]:
    match = _SHARD.match(text)
    if not match:
        raise SelectionError(f"--shard {text!r}: expected i/n, e.g. 1/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise SelectionError(f"--shard {text!r}: i must be between 1 and n (n >= 1)")
    return index, count


def select_shard(paths: Sequence[Path], index: int, count: int) -> list[Path]:
    ordered = sorted(paths, key=lambda p: p.as_posix())
    return [path for position, path in enumerate(ordered) if position % count == index - 1]


@dataclass
class CaseResult:
    """One scenario's line in the report: an outcome, or an error that kept it from running."""

    path: Path
    name: str
    outcome: RunOutcome | None = None
    error: str | None = None
    skipped: str | None = None
    """Why it did not run (live services cannot do what it needs)."""


def junit_xml(cases: Sequence[CaseResult], *, suite: str = "harness scenarios") -> str:
    failures = sum(1 for c in cases if c.outcome is not None and c.outcome.status in (FAILED, INTERRUPTED))
    errors = sum(1 for c in cases if c.outcome is None and c.skipped is None)
    skipped = sum(
        1 for c in cases if c.skipped is not None or (c.outcome is not None and c.outcome.status == SKIPPED)
    )
    total_seconds = sum((c.outcome.duration_ms if c.outcome else 0.0) for c in cases) / 1000
    counts = {
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": f"{total_seconds:.3f}",
    }
    root = ET.Element("testsuites", {"name": suite, **counts})
    testsuite = ET.SubElement(
        root,
        "testsuite",
        {"name": suite, **counts, "timestamp": datetime.now(UTC).replace(microsecond=0).isoformat()},
    )
    for case in cases:
        parent = case.path.parent.as_posix().strip("./").replace("/", ".") or "scenarios"
        seconds = (case.outcome.duration_ms / 1000) if case.outcome else 0.0
        element = ET.SubElement(
            testsuite,
            "testcase",
            {"classname": parent, "name": case.name, "file": case.path.as_posix(), "time": f"{seconds:.3f}"},
        )
        outcome = case.outcome
        if case.skipped is not None:
            ET.SubElement(element, "skipped", {"message": case.skipped})
            continue
        if outcome is None:
            error = ET.SubElement(
                element, "error", {"message": _first_line(case.error), "type": "UsageError"}
            )
            error.text = case.error or ""
            continue
        if outcome.status == SKIPPED:
            ET.SubElement(element, "skipped", {"message": outcome.reason})
        elif outcome.status in (FAILED, INTERRUPTED):
            first = next(iter_failures(outcome), outcome.status)
            failure = ET.SubElement(
                element, "failure", {"message": outcome.scrub_text(first), "type": outcome.status}
            )
            failure.text = outcome.failure_report()
        lines = [
            f"{'ok' if s.ok else 'FAIL'} {s.label} {s.status or ''} {s.elapsed_ms:.1f} ms {s.detail}".rstrip()
            for s in [*outcome.steps, *(outcome.cleanup.steps if outcome.cleanup else [])]
        ]
        if outcome.record_path is not None:
            lines.append(f"record: {outcome.record_path}")
        if lines:
            ET.SubElement(element, "system-out").text = "\n".join(lines)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""
