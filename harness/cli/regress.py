"""``harness regress RECORD``: turn a run record into a committed regression, in one command.

RECORD is a run directory or its ``record.json``, local or downloaded from a CI or nightly
artifact. The regression is written to ``scenarios/regressions/<name>/``
(:mod:`harness.scenario.regressions`) and the command prints the one command that runs it.
Exit codes: 0 written, 2 the record cannot be read or the regression would overwrite one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.console import stderr_console, stdout_console, usage_error


def regress_command(
    record: Annotated[Path, typer.Argument(help="A run record: its directory or its record.json.")],
    name: Annotated[
        str | None,
        typer.Option("--name", help="The regression's name (default: <scenario>_<record id>)."),
    ] = None,
    into: Annotated[Path, typer.Option("--into", help="Where regressions live.")] = Path(
        "scenarios/regressions"
    ),
) -> None:
    """Turn a run record into scenarios/regressions/<name>/: the scrubbed scenario, the record and
    its recorded exchanges, and what was reported. pytest replays it offline; it fails as the
    original run did until the bug is fixed."""
    from harness.scenario.problems import ScenarioError
    from harness.scenario.records import read_record
    from harness.scenario.regressions import RegressionError, make_regression, run_command

    out, err = stdout_console(), stderr_console()
    if not record.exists():
        usage_error(err, f"{record}: no such file or directory")
    try:
        written = make_regression(record, into=into, name=name)
    except (RegressionError, ScenarioError) as exc:
        usage_error(err, str(exc))
    out.print(f"wrote {written}/", markup=False, highlight=False, soft_wrap=True)
    recorded = read_record(written)
    if recorded.tier == "fake" and recorded.provider_calls and not recorded.recorded_provider_responses:
        out.print(
            "note: the record lists provider calls without their answers (the run had no --record); "
            "the replay gets the provider fakes' answers instead",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    out.print(f"run it: {run_command(written)}", markup=False, highlight=False, soft_wrap=True)


__all__ = ["regress_command"]
