"""The CI job summary: how the run went, and for each failing scenario how to replay it.

A CI page shows a job's log thousands of lines long; what a reader needs first is which scenarios
failed, at which step, saying what, and the one command that replays each failure offline. This
module builds that page (GitHub-flavoured markdown, for ``$GITHUB_STEP_SUMMARY``) from what a run
leaves behind:

* pytest's JUnit XML (:mod:`harness.scenario.junit`): a failing scenario item (its class name is
  the scenario file's path, as :mod:`harness.pytest_plugin.collection` names it) carries the
  runner's failure report, whose ``replay: harness replay <record>`` line names its run record;
  other failing tests are listed by id;
* the run records under ``--runs-dir`` (:mod:`harness.scenario.records`): the failing step and its
  messages come from the record when it is there. Without JUnit XML (the nightly runs ``harness
  run``, not pytest) the failing records are the list.

Replay commands name ``<runs-dir>/<record id>``: the CI artifact holds that directory at the same
place, so unpacking the artifact at the repository root makes them work as printed. Records and
reports are scrubbed when written, so nothing read here holds a secret.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.scenario.junit import JunitReport, TestCase, Unreadable, read_junit
from harness.scenario.records import RECORD_FILE, RunRecord, read_record

SCENARIO_SUFFIXES = (".yml", ".yaml")
"""What the class name of a scenario item ends with: pytest dots the file's path (``scenarios.x.yml``)."""
FAILED_OUTCOMES = ("failed", "interrupted")
MAX_MESSAGES = 5
MAX_LISTED = 50
"""Other failing tests listed one by one; beyond that a count (a summary page has a size limit)."""

_ITEM_NAME = re.compile(r"^(?P<name>.+?)(?:\[(?P<tier>[a-z]+)\])?$")
_REPORT_HEAD = re.compile(r"^scenario \S+ [A-Z]+ \(run (?P<run>[^,]+), org [^)]*\)(?: — (?P<source>.+))?$")
_REPLAY = re.compile(r"^\s*replay: harness replay (?P<path>.+)$")
_FAILING = re.compile(r"^  failing (?P<where>.+)$")
_NOT_RUN = ("scenario file does not load:", "scenario cannot run:")
_TEST_LABELS = (("passed", "passed"), ("failed", "failed"), ("error", "errors"), ("skipped", "skipped"))


@dataclass(frozen=True)
class ScenarioFailure:
    """One failing scenario run: where it failed, what it said, and its record (None when the
    scenario never ran, e.g. its file does not load)."""

    scenario: str
    tier: str | None
    source: str | None
    step: str | None
    messages: tuple[str, ...]
    record: Path | None

    @property
    def replay(self) -> str | None:
        return None if self.record is None else f"./run_e2e.sh replay {shlex.quote(str(self.record))}"


@dataclass
class RunCounts:
    """Outcomes of the run records found under the runs directory."""

    by_outcome: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_outcome.values())


@dataclass
class Summary:
    title: str
    runs_dir: Path
    junit: JunitReport | None
    scenario_failures: list[ScenarioFailure]
    other_failures: list[TestCase]
    runs: RunCounts
    problems: list[Unreadable]
    artifact: str | None = None


def build_summary(
    *,
    junit: Iterable[Path] | None,
    runs_dir: Path,
    title: str = "Test results",
    artifact: str | None = None,
) -> Summary:
    """Read the JUnit files (when given) and the run records; see the module docstring."""
    records, runs, problems = _read_records(runs_dir)
    report = read_junit(junit) if junit else None
    if report is None:
        failures = [_from_record(directory, record) for directory, record in records if _failed(record)]
        others: list[TestCase] = []
    else:
        by_dir = {directory.name: record for directory, record in records}
        failures, others = [], []
        for case in report.not_passed:
            if case.classname.endswith(SCENARIO_SUFFIXES):
                failures.append(_from_case(case, runs_dir, by_dir))
            else:
                others.append(case)
        problems = [*report.problems, *problems]
    return Summary(title, runs_dir, report, failures, others, runs, problems, artifact)


def _failed(record: RunRecord) -> bool:
    return record.outcome in FAILED_OUTCOMES


def _read_records(runs_dir: Path) -> tuple[list[tuple[Path, RunRecord]], RunCounts, list[Unreadable]]:
    records: list[tuple[Path, RunRecord]] = []
    problems: list[Unreadable] = []
    counts = RunCounts()
    if not runs_dir.is_dir():
        return records, counts, problems
    for path in sorted(runs_dir.glob(f"*/{RECORD_FILE}")):
        try:
            record = read_record(path)
        except (OSError, ValueError) as exc:
            problems.append(Unreadable(path, f"not a readable run record: {_first_line(str(exc))}"))
            continue
        records.append((runs_dir / path.parent.name, record))
        counts.by_outcome[record.outcome] = counts.by_outcome.get(record.outcome, 0) + 1
    records.sort(key=lambda pair: pair[1].started_at)
    return records, counts, problems


def _from_record(directory: Path, record: RunRecord) -> ScenarioFailure:
    failure = record.failure
    step = None
    if failure is not None and failure.step is not None:
        step = (
            failure.step if failure.step_index is None else f"step {failure.step_index + 1}: {failure.step}"
        )
    return ScenarioFailure(
        scenario=record.scenario_name,
        tier=record.tier,
        source=_shown(record.source),
        step=step,
        messages=tuple(failure.messages) if failure is not None else (),
        record=directory,
    )


def _from_case(case: TestCase, runs_dir: Path, records: dict[str, RunRecord]) -> ScenarioFailure:
    """A failing scenario item: its record when the report names one that is in the runs
    directory, else what the report itself says."""
    match = _ITEM_NAME.match(case.name)
    name, tier = (match["name"], match["tier"]) if match else (case.name, None)
    lines = (case.text or case.message).splitlines()
    record_id = _record_id(lines)
    if record_id is not None and record_id in records:
        found = _from_record(runs_dir / record_id, records[record_id])
        return replace(found, tier=tier or found.tier)
    head = _REPORT_HEAD.match(lines[0]) if lines else None
    source = head["source"] if head else None
    if lines and lines[0].startswith(_NOT_RUN):
        return ScenarioFailure(name, tier, source, lines[0].rstrip(":"), _messages(lines[1:]), None)
    step, messages = _failing_step(lines)
    record = runs_dir / record_id if record_id is not None else None
    return ScenarioFailure(name, tier, source, step, messages, record)


def _record_id(lines: list[str]) -> str | None:
    """The record directory named by the report's ``replay:`` line."""
    for line in lines:
        match = _REPLAY.match(line)
        if match:
            try:
                (path,) = shlex.split(match["path"])
            except ValueError:
                return None
            record = Path(path)
            return (record.parent if record.name == RECORD_FILE else record).name
    return None


def _failing_step(lines: list[str]) -> tuple[str | None, tuple[str, ...]]:
    """The report's ``failing step N/M: name`` line and the messages indented under it."""
    for index, line in enumerate(lines):
        match = _FAILING.match(line)
        if match:
            following = []
            for message in lines[index + 1 :]:
                if message.startswith("  request:"):
                    continue
                if not message.startswith("    "):
                    break
                following.append(message)
            return match["where"], _messages(following)
    return None, _messages(lines)


def _messages(lines: Iterable[str]) -> tuple[str, ...]:
    return tuple(line.strip() for line in lines if line.strip())[:MAX_MESSAGES]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _shown(source: str | None) -> str | None:
    """A source path relative to the working directory (the checkout), as a reader would type it."""
    if source is None:
        return None
    with contextlib.suppress(ValueError):
        return Path(source).resolve().relative_to(Path.cwd().resolve()).as_posix()
    return source


# ------------------------------------------------------------------------------------ markdown


def render_markdown(summary: Summary) -> str:
    lines = [f"## {summary.title}", ""]
    report = summary.junit
    if report is not None:
        counts = ", ".join(f"{report.count(outcome)} {label}" for outcome, label in _TEST_LABELS)
        lines.append(f"- **Tests:** {counts} ({len(report.cases)} in {len(report.files)} JUnit file(s))")
    runs = ", ".join(f"{n} {outcome}" for outcome, n in sorted(summary.runs.by_outcome.items()))
    where = _code(str(summary.runs_dir))
    lines.append(
        f"- **Scenario runs:** {runs} ({summary.runs.total} records in {where})"
        if runs
        else f"- **Scenario runs:** no run records in {where}"
    )
    lines.append("")
    if summary.problems:
        lines += ["### Could not read", ""]
        lines += [f"- {_code(str(problem.path))}: {problem.reason}" for problem in summary.problems]
        lines.append("")
    if summary.scenario_failures:
        lines += _scenario_section(summary)
    if summary.other_failures:
        lines += _other_section(summary.other_failures)
    if not summary.scenario_failures and not summary.other_failures and not summary.problems:
        lines += ["Nothing failed.", ""]
    return "\n".join(lines)


def _scenario_section(summary: Summary) -> list[str]:
    failures = summary.scenario_failures
    lines = [f"### Failing scenarios ({len(failures)})", ""]
    if any(failure.record is not None for failure in failures):
        where = f"the artifact {_code(summary.artifact)}" if summary.artifact else "this run's artifact"
        lines += [
            f"Each replays offline on the fake tier: unpack {where} at the repository root "
            f"(it holds {_code(str(summary.runs_dir))}), then run the command shown "
            f"(``harness replay <record>`` is the same without the setup).",
            "",
        ]
    for failure in failures:
        head = f"- **{_code(failure.scenario)}**"
        if failure.tier:
            head += f" on {_code(failure.tier)}"
        if failure.source:
            head += f" — {_code(failure.source)}"
        if failure.step:
            head += f" — {_inline(failure.step)}"
        lines.append(head)
        if failure.messages:
            lines += _indented_block("\n".join(failure.messages))
        lines.append(
            f"  replay: {_code(failure.replay)}" if failure.replay else "  (did not run: no record to replay)"
        )
    lines.append("")
    return lines


def _other_section(cases: list[TestCase]) -> list[str]:
    lines = [f"### Other failing tests ({len(cases)})", ""]
    for case in cases[:MAX_LISTED]:
        message = _first_line(case.message or case.text)
        lines.append(
            f"- {_code(case.test_id)} ({case.outcome})" + (f": {_inline(message)}" if message else "")
        )
    if len(cases) > MAX_LISTED:
        lines.append(f"- … and {len(cases) - MAX_LISTED} more (see the JUnit XML)")
    lines.append("")
    return lines


def _code(text: str) -> str:
    """Inline code that survives backticks in the text (a longer fence than any run inside)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(text: str, limit: int = 200) -> str:
    """Free text on one line, shortened, as inline code so markdown and HTML in it stay inert."""
    text = " ".join(text.split())
    return _code(text if len(text) <= limit else text[: limit - 1] + "…")


def _indented_block(text: str) -> list[str]:
    """A fenced block under a list item (indented by two), fenced longer than any run inside."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return [f"  {fence}text", *(f"  {line}" for line in text.splitlines()), f"  {fence}"]


__all__ = ["RunCounts", "ScenarioFailure", "Summary", "build_summary", "render_markdown"]
