"""``harness scenario schema|lint``: scenario files' JSON Schema for editors, and their linter.

Exit codes of ``lint``: 0 all valid, 1 some file has problems, 2 usage error (no such path, no files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

scenario_app = typer.Typer(no_args_is_help=True, help="Scenario files: their JSON Schema and a linter.")


@scenario_app.command("schema")
def scenario_schema_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the schema to this file instead of stdout.")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only check that --output is up to date (exit 1 if it is not).")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files, for editors (yaml-language-server, VS Code, PyCharm)."""
    from harness.scenario.json_schema import scenario_json_schema_text

    text = scenario_json_schema_text()
    if output is None:
        if check:
            raise typer.BadParameter("--check needs --output FILE", param_hint="--check")
        typer.echo(text, nl=False)
        return
    if check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            typer.echo(f"{output} is out of date; run: harness scenario schema --output {output}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date.")
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


@scenario_app.command("lint")
def scenario_lint_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario files, or directories searched for *.yml / *.yaml.",
            exists=True,
            metavar="PATHS...",
        ),
    ],
) -> None:
    """Check scenario files and print every problem as path:line: field: message.

    Exit codes: 0 all valid, 1 some file has problems, 2 usage error (no such path, no files).
    """
    from harness.scenario.loader import lint_scenario, scenario_files

    files = scenario_files(paths)
    if not files:
        typer.echo(f"no scenario files (*.yml, *.yaml) in: {', '.join(map(str, paths))}", err=True)
        raise typer.Exit(2)
    problems = 0
    bad_files = 0
    for path in files:
        errors = lint_scenario(path)
        for error in errors:
            typer.echo(str(error))
        problems += len(errors)
        bad_files += bool(errors)
    if problems:
        typer.echo(f"{problems} problem(s) in {bad_files} of {len(files)} scenario file(s).")
        raise typer.Exit(1)
    typer.echo(f"{len(files)} scenario file(s) OK.")


__all__ = ["scenario_app"]
