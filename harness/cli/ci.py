"""``harness ci summary``: the markdown a CI job appends to ``$GITHUB_STEP_SUMMARY``.

The workflows (``.github/workflows/``) run it after the tests, whatever their outcome; the page it
prints lists the failing scenarios with the command that replays each one
(:mod:`harness.scenario.ci_summary`). Exit codes: 0 the summary was printed (the tests' own
outcome is the test step's business), 2 a usage error or a JUnit file or run record that could
not be read (the summary is still printed, naming it, so the page says what is missing).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.console import stderr_console

ci_app = typer.Typer(no_args_is_help=True, help="What CI jobs run around the tests.")


@ci_app.command("summary")
def summary_command(
    junit: Annotated[
        list[Path] | None,
        typer.Option(
            "--junit",
            help="pytest JUnit XML: a file, or a directory searched for *.xml (repeatable). "
            "Without it, the failing run records are the list.",
        ),
    ] = None,
    runs_dir: Annotated[
        Path, typer.Option("--runs-dir", help="Where the run records are (<runs-dir>/<id>/record.json).")
    ] = Path(".harness/runs"),
    title: Annotated[str, typer.Option("--title", help="The summary's heading.")] = "Test results",
    artifact: Annotated[
        str | None,
        typer.Option("--artifact", help="The name of the CI artifact that holds the run records, to say so."),
    ] = None,
) -> None:
    """Print a markdown summary of a test run: totals, failing scenarios with their replay command,
    other failing tests."""
    from harness.scenario.ci_summary import build_summary, render_markdown

    summary = build_summary(junit=junit, runs_dir=runs_dir, title=title, artifact=artifact)
    sys.stdout.write(render_markdown(summary) + "\n")
    if summary.problems:
        err = stderr_console()
        for problem in summary.problems:
            err.print(f"error: {problem.path}: {problem.reason}", markup=False, soft_wrap=True)
        raise typer.Exit(2)


__all__ = ["ci_app"]
