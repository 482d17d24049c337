"""``harness parity list``: which behaviours are validated against real GCP, and which not yet.

Reads the parity snapshots (``tests/parity/snapshots/<service>/<name>.json``, written by
``@pytest.mark.snapshot`` tests: validated on gcp, unvalidated on the emulator tier) and prints the
counts per service, then one row per behaviour, as the Markdown the README shows. Exit 2 when the
directory is missing or a snapshot file is unreadable (the message names the file and field).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.console import stderr_console, usage_error

SNAPSHOTS = Path("tests/parity/snapshots")

parity_app = typer.Typer(no_args_is_help=True, help="Parity snapshots: what is validated against real GCP.")


@parity_app.command("list")
def parity_list_command(
    directory: Annotated[
        Path, typer.Option("--dir", help="The snapshot directory (one subdirectory per service).")
    ] = SNAPSHOTS,
    unvalidated: Annotated[
        bool, typer.Option("--unvalidated", help="Only the behaviours not yet validated on GCP.")
    ] = False,
) -> None:
    """Print how many snapshots each service has validated against real GCP, then every snapshot."""
    from harness.parity.listing import markdown
    from harness.parity.store import SnapshotError, load_all

    err = stderr_console()
    if not directory.is_dir():
        usage_error(err, f"no snapshot directory {directory} (give one with --dir)")
    try:
        snapshots = load_all(directory)
    except SnapshotError as exc:
        usage_error(err, str(exc))
    if unvalidated:
        snapshots = [snapshot for snapshot in snapshots if not snapshot.validated]
    typer.echo(markdown(snapshots))
