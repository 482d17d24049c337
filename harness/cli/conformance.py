"""``harness conformance``: the BigQuery fake judged by Google's GoogleSQL compliance corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SHARED_CORPUS = Path("../shared/reference/zetasql/testdata")
VENDORED_CORPUS = Path("tests/conformance/zetasql/testdata")
RATCHET = Path("tests/conformance/passing.txt")
UNSTABLE = "unstable.txt"
"""Beside the ratchet: cases that pass only on some runs, which the ratchet never takes."""
RESULTS = Path("bench/results/conformance.json")


def default_corpus() -> Path | None:
    for candidate in (SHARED_CORPUS, VENDORED_CORPUS):
        if candidate.is_dir():
            return candidate
    return None


def conformance_command(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Directory of .test files (default: ../shared/reference/zetasql/testdata, "
            "else the copy under tests/conformance/zetasql/testdata)."
        ),
    ] = None,
    file: Annotated[
        list[str] | None, typer.Option("--file", "-f", help="Only this file (stem); repeatable.")
    ] = None,
    face: Annotated[
        list[str] | None, typer.Option("--face", help="engine and/or rest (default both).")
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds one case may take before its worker is killed.")
    ] = 20.0,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    results: Annotated[Path, typer.Option(help="Where the JSON results go.")] = RESULTS,
    ratchet: Annotated[Path, typer.Option(help="The committed list of passing case ids.")] = RATCHET,
    update_ratchet: Annotated[
        bool, typer.Option(help="Add the newly passing cases to the ratchet file.")
    ] = False,
    show_failures: Annotated[bool, typer.Option(help="List every case that does not pass.")] = False,
) -> None:
    """Run the GoogleSQL compliance corpus through the engine and the REST emulator.

    Prints a per-file table, writes JSON results, and compares with the ratchet: exits 1 when a
    case of the ratchet no longer passes."""
    from rich.console import Console
    from rich.table import Table

    from harness.conformance.report import (
        ratchet_passing,
        read_ratchet,
        summary,
        table_lines,
        write_ratchet,
        write_results,
    )
    from harness.conformance.runner import FACES, RunOptions, run_corpus

    corpus = directory or default_corpus()
    if corpus is None or not corpus.is_dir():
        typer.echo("error: no corpus directory: give one (a directory of .test files)", err=True)
        raise typer.Exit(2)
    faces = tuple(face or FACES)
    records = run_corpus(
        RunOptions(corpus, files=file or None, faces=faces, timeout=timeout, workers=workers)
    )
    console = Console()
    table = Table("file", "in scope", "passed", "out of scope", "rate")
    for name, in_scope, passed, out, rate in table_lines(records):
        table.add_row(name, str(in_scope), str(passed), str(out), rate)
    console.print(table)
    if show_failures:
        for record in records:
            if record["status"] not in ("pass", "out_of_scope"):
                console.print(f"{record['id']}: {record['status']}: {record.get('detail', '')}", markup=False)
    totals = summary(records)
    console.print(
        f"{totals['passed']} of {totals['in_scope']} in-scope cases pass ({totals['pass_rate']}%); "
        f"{totals['cases'] - totals['in_scope']} out of scope; faces disagree on {totals['faces_disagree']}",
        markup=False,
    )
    write_results(records, results)
    known = read_ratchet(ratchet)
    ran = {r["id"] for r in records}
    passing = (
        ratchet_passing(records)
        if "rest" in faces and "engine" in faces
        else {r["id"] for r in records if r["status"] == "pass"}
    )
    regressed = sorted((known & ran) - passing)
    new = sorted(passing - known - read_ratchet(ratchet.with_name(UNSTABLE)))
    for case in regressed:
        console.print(f"REGRESSED {case}", markup=False)
    if new and not update_ratchet:
        shown = ", ".join(new[:10]) + (", ..." if len(new) > 10 else "")
        console.print(f"{len(new)} newly passing (add with --update-ratchet): {shown}", markup=False)
    if update_ratchet and new:
        if not ({"engine", "rest"} <= set(faces)):
            typer.echo("error: --update-ratchet needs both faces", err=True)
            raise typer.Exit(2)
        write_ratchet(ratchet, known | set(new))
        console.print(f"added {len(new)} cases to {ratchet}", markup=False)
    if regressed:
        raise typer.Exit(1)
