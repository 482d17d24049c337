"""``harness janitor``: remove what killed scenario runs left in a project (see
:mod:`harness.scenario.janitor` for what counts as theirs: only labelled datasets and their orgs).

    harness janitor --backend gcp --dry-run        # what would go
    harness janitor --backend gcp --older-than 6h  # remove it
    harness janitor --backend emulator             # emulators named by BIGQUERY_EMULATOR_HOST & co.
    harness janitor --backend emulator --data-dir D  # an emulator data dir no process is serving

Prints one row per dataset and org (``--json``: one JSON document for machines). Exit codes: 0 done
(nothing left to sweep, or swept), 1 BigQuery refused a call half-way (run it again: what was
removed stays removed, the rest is found again), 2 usage error or a tier that cannot be reached
(``--json`` prints ``{"error", "message", "error_id"}``).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich import box
from rich.table import Table

from harness.cli.console import stderr_console, stdout_console

if TYPE_CHECKING:
    from harness.scenario.janitor import Sweep


class JanitorBackend(StrEnum):
    EMULATOR = "emulator"
    GCP = "gcp"


_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``6h``, ``2d``."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise typer.BadParameter(f"{text!r}: a whole number and s, m, h or d (e.g. 6h)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def janitor_command(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="Sweep run datasets at least this old (e.g. 6h, 30m, 2d) [default: each dataset's "
            "harness-ttl label].",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")
    ] = False,
    backend: Annotated[
        JanitorBackend,
        typer.Option("--backend", envvar="HARNESS_BACKEND", help="emulator or gcp."),
    ] = JanitorBackend.EMULATOR,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            file_okay=False,
            exists=True,
            help="(emulator) Sweep this emulator data dir instead of served emulators.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Remove the datasets, meta rows and credentials that scenario runs left behind."""
    from harness.backends import build_backends
    from harness.ports import WarehouseError
    from harness.scenario.janitor import sweep
    from harness.services.settings import Settings

    limit = parse_duration(older_than) if older_than is not None else None
    if data_dir is not None and backend is not JanitorBackend.EMULATOR:
        _fail(as_json, "USAGE", "--data-dir is for --backend emulator")
    try:
        settings = Settings()
        if backend is JanitorBackend.EMULATOR and data_dir is None and not settings.bigquery_emulator_host:
            _fail(
                as_json,
                "NO_EMULATORS",
                'the emulator tier needs served emulators (eval "$(harness emulators up --print-env)") '
                "or --data-dir",
            )
        directory = None
        if data_dir is not None:
            from harness.datadir import DataDir

            directory = DataDir(data_dir)
        backends = build_backends(backend.value, settings, data_dir=directory)
    except (ValueError, OSError) as exc:  # settings that do not reach the tier, a busy data dir
        _fail(as_json, "TIER_UNAVAILABLE", str(exc))
    with backends:
        try:
            result = sweep(backends.platform, backends.platform.clock, older_than=limit, dry_run=dry_run)
        except WarehouseError as exc:  # e.g. no permission: a re-run finishes what this one began
            _fail(as_json, exc.reason, f"{exc.status} {exc.reason}: {exc.message}", status=1)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print(result)


def _fail(as_json: bool, code: str, message: str, *, status: int = 2) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"error": code, "message": message, "error_id": str(uuid.uuid4())}))
    else:
        stderr_console().print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(status)


def _print(result: Sweep) -> None:
    out = stdout_console()
    verb = "would delete" if result.dry_run else "deleted"
    mode = "dry run, " if result.dry_run else ""
    table = Table(box=box.SIMPLE, title=f"harness janitor ({mode}now {result.now:%Y-%m-%d %H:%M:%S} UTC)")
    for column in ("what", "name", "run", "age", "meta rows", "credentials", "action"):
        table.add_column(column)
    for entry in result.datasets:
        action = verb if entry.due else f"kept: {entry.reason}"
        table.add_row("dataset", entry.dataset_id, entry.run_id, _age(entry.age), "", "", action)
    for org in result.orgs:
        table.add_row("org", org.org_slug, org.run_id, "", str(org.total_rows), str(org.credentials), verb)
    if not result.datasets and not result.orgs:
        out.print("Nothing left behind by harness runs.", markup=False)
        return
    out.print(table)
    rows = sum(o.total_rows for o in result.orgs)
    out.print(
        f"{len(result.removed_datasets)} dataset(s), {len(result.orgs)} org(s), {rows} meta row(s) "
        f"{'would be deleted' if result.dry_run else 'deleted'}; "
        f"{len(result.kept_datasets)} labelled dataset(s) kept.",
        markup=False,
    )


def _age(age: timedelta) -> str:
    hours, rest = divmod(int(age.total_seconds()), 3600)
    return f"{hours}h{rest // 60:02d}m"


__all__ = ["janitor_command", "parse_duration"]
