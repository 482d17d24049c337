"""``harness runs list | show ID | prune``: the run records under ``.harness/runs``.

``list`` is a table, newest first (rich in a terminal; plain columns when piped or with
``NO_COLOR``; ``--json`` for scripts); ``show`` prints one run's steps with the same lines
``harness run`` prints, then its failure and the commands that replay it or make it a
regression; ``prune`` keeps the newest ``--keep N`` and/or drops those older than
``--older-than 7d``. Every run already prunes to ``HARNESS_RUNS_KEEP`` (default 200) records
(:mod:`harness.scenario.run_index`). Exit codes: 0 done, 2 usage error (an unknown run, a bad age).
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.cli.console import stderr_console, stdout_console, usage_error

if TYPE_CHECKING:
    from harness.scenario.records import RunRecord
    from harness.scenario.run_index import RunEntry

runs_app = typer.Typer(no_args_is_help=True, help="List, show and prune the run records under .harness/runs.")

_RUNS_DIR = typer.Option("--runs-dir", help="Where run records are (<runs-dir>/<run_id>/record.json).")
_COLUMNS = ("id", "scenario", "tier", "result", "duration", "when")


def _rich(console: Console) -> bool:
    """Colour and boxes only for a terminal that did not ask for none (https://no-color.org)."""
    return console.is_terminal and not os.environ.get("NO_COLOR")


@runs_app.command("list")
def list_command(
    runs_dir: Annotated[Path, _RUNS_DIR] = Path(".harness/runs"),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:
    """Every run, newest first: id, scenario, tier, result, duration, when (unreadable ones last)."""
    from harness.scenario.run_index import list_runs

    out = stdout_console()
    entries = list_runs(runs_dir)
    if as_json:
        typer.echo(json.dumps([entry.as_json() for entry in entries], indent=2))
        return
    if not entries:
        out.print(f"no runs in {runs_dir}", markup=False, highlight=False)
        return
    rows = [_row(entry) for entry in entries]
    if _rich(out):
        table = Table(*_COLUMNS)
        for entry, row in zip(entries, rows, strict=True):
            colour = {"passed": "green", "failed": "red"}.get(entry.result, "yellow")
            table.add_row(*(escape(cell) for cell in row[:3]), f"[{colour}]{escape(row[3])}[/]", *row[4:])
        out.print(table)
        return
    widths = [max(len(row[i]) for row in [list(_COLUMNS), *rows]) for i in range(len(_COLUMNS))]
    for row in [list(_COLUMNS), *rows]:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        out.print(line, markup=False, highlight=False, soft_wrap=True)


def _row(entry: RunEntry) -> list[str]:
    if not entry.readable:  # the reason goes last, where a long cell widens nothing
        return [entry.id, "—", "—", entry.result, "—", entry.problem or ""]
    duration = entry.duration_ms or 0.0
    shown = f"{duration:.0f} ms" if duration < 1000 else f"{duration / 1000:.1f} s"
    when = entry.when.strftime("%Y-%m-%d %H:%M:%S UTC") if entry.when is not None else ""
    return [entry.id, entry.scenario or "", entry.tier or "", entry.result, shown, when]


@runs_app.command("show")
def show_command(
    run: Annotated[str, typer.Argument(help="A run id (or a unique prefix of one), or a run directory.")],
    runs_dir: Annotated[Path, _RUNS_DIR] = Path(".harness/runs"),
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the run's HTML report (timeline) to this file.")
    ] = None,
) -> None:
    """One run: what ran, each step's line, the failure, and how to replay it."""
    out = stdout_console()
    record, directory = _read(run, runs_dir)
    for line in show_lines(record, directory, markup=_rich(out)):
        out.print(line, markup=_rich(out), highlight=False, soft_wrap=True)
    if html is not None:
        from harness.report.html import write_report

        write_report(html, [record], runs_dir=directory.parent)
        out.print(f"html report: {html}", markup=False, highlight=False)


def _read(run: str, runs_dir: Path) -> tuple[RunRecord, Path]:
    """The run's record and directory, or exit 2 saying why not."""
    from harness.scenario.records import RECORD_FILE, read_record
    from harness.scenario.run_index import find_run

    err = stderr_console()
    try:
        entry = find_run(runs_dir, run)
    except LookupError as exc:
        usage_error(err, str(exc.args[0]))
    if not entry.readable:
        usage_error(err, f"run {entry.id} ({entry.path}): {entry.result}: {entry.problem}")
    try:
        return read_record(entry.path / RECORD_FILE), entry.path
    except (OSError, ValueError) as exc:
        usage_error(err, f"run {entry.id}: {RECORD_FILE} does not read: {exc}")


def show_lines(record: RunRecord, directory: Path, *, markup: bool = False) -> list[str]:
    """What ``runs show`` prints: a heading, the step lines, the failure, the commands."""
    from harness.scenario.progress import step_line
    from harness.scenario.run_index import record_steps

    heading = (
        f"run {record.record_id}: {record.scenario_name} {record.outcome} on the {record.tier} tier "
        f"({record.mode}), {record.duration_ms / 1000:.1f} s, started {record.started_at.isoformat()}"
    )
    lines = [escape(heading) if markup else heading]
    details = f"  seed {record.seed}, clock {record.clock_start.isoformat()}"
    if record.source:
        details += f", from {record.source}"
    lines.append(escape(details) if markup else details)
    for step in record_steps(record):
        lines.extend(step_line(line, markup=markup) for line in [step, *step.parallel])
    failure = record.failure
    if failure is not None:
        where = "cleanup" if failure.step_index is None else f"step {failure.step_index + 1}"
        text = [f"failed at {where}: {failure.step or '?'} [{failure.action or '?'}]"]
        text.extend(f"    {message}" for message in failure.messages)
        lines.extend(escape(line) if markup else line for line in text)
    shown = shlex.quote(str(directory))
    lines.extend([f"  replay: harness replay {shown}", f"  regress: harness regress {shown}"])
    return lines


@runs_app.command("prune")
def prune_command(
    keep: Annotated[int | None, typer.Option("--keep", min=0, help="Keep the newest N runs.")] = None,
    older_than: Annotated[
        str | None, typer.Option("--older-than", help="Drop runs that started longer ago: 7d, 12h, 30m, 2w.")
    ] = None,
    runs_dir: Annotated[Path, _RUNS_DIR] = Path(".harness/runs"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would go; delete nothing.")] = False,
) -> None:
    """Delete old run records (only readable ones: nothing else in the directory is touched).
    Without --keep or --older-than: keep HARNESS_RUNS_KEEP (default 200), as every run does."""
    from harness.scenario.run_index import parse_age, prune, runs_cap

    out, err = stdout_console(), stderr_console()
    try:
        age = parse_age(older_than) if older_than is not None else None
        if keep is None and age is None:
            keep = runs_cap() or None
    except ValueError as exc:
        usage_error(err, f"--older-than {exc}" if older_than is not None else str(exc))
    result = prune(runs_dir, keep=keep, older_than=age, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for entry in result.removed:
        out.print(f"{verb} {entry.id} ({entry.scenario}, {entry.result})", markup=False, highlight=False)
    summary = f"{verb} {len(result.removed)} run(s), kept {result.kept}"
    if result.unreadable:
        summary += f"; left {len(result.unreadable)} unreadable: " + ", ".join(
            e.id for e in result.unreadable
        )
    out.print(summary, markup=False, highlight=False, soft_wrap=True)


__all__ = ["runs_app", "show_lines"]
