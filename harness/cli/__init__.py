"""The ``harness`` command (``harness = "harness.cli:app"``): one module per command group.

=====================================  ===========================
``harness check-schema`` / ``bootstrap``  :mod:`harness.cli.schema`
``harness serve``                       :mod:`harness.cli.serve`
``harness scenario schema|lint``        :mod:`harness.cli.scenario`
``harness run`` / ``replay``            :mod:`harness.cli.run`
``harness regress``                     :mod:`harness.cli.regress`
``harness runs list|show|prune``        :mod:`harness.cli.runs`
``harness emulators up``                :mod:`harness.cli.emulators`
``harness conformance``                 :mod:`harness.cli.conformance`
``harness ci summary``                  :mod:`harness.cli.ci`
``harness parity list``                 :mod:`harness.cli.parity`
``harness janitor``                     :mod:`harness.cli.janitor`
``harness load``                        :mod:`harness.cli.load`
=====================================  ===========================

Each module imports what its command needs when the command runs, so ``harness --help`` and the
light commands do not pay for FastAPI, uvicorn or the fakes.
"""

from __future__ import annotations

from typing import Annotated

import typer

from harness.cli.ci import ci_app
from harness.cli.conformance import conformance_command
from harness.cli.emulators import emulators_app
from harness.cli.janitor import janitor_command
from harness.cli.load import load_command
from harness.cli.parity import parity_app
from harness.cli.regress import regress_command
from harness.cli.run import replay_command, run_command
from harness.cli.runs import runs_app
from harness.cli.scenario import scenario_app
from harness.cli.schema import bootstrap_command, check_schema
from harness.cli.serve import serve_command

DISTRIBUTION = "cloudact-harness"

app = typer.Typer(no_args_is_help=True)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"harness {version(DISTRIBUTION)}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("harness (not installed: version unknown)")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_show_version, help="Print the version and exit."),
    ] = False,
) -> None:
    """CloudAct test harness and emulator suite."""


app.command("check-schema")(check_schema)
app.command("bootstrap")(bootstrap_command)
app.command("serve")(serve_command)
app.add_typer(scenario_app, name="scenario")
app.command("run")(run_command)
app.command("replay")(replay_command)
app.command("regress")(regress_command)
app.add_typer(runs_app, name="runs")
app.add_typer(emulators_app, name="emulators")
app.add_typer(parity_app, name="parity")
app.command("conformance")(conformance_command)
app.add_typer(ci_app, name="ci")
app.command("janitor")(janitor_command)
app.command("load")(load_command)

__all__ = ["app"]
