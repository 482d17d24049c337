"""The ``harness`` command.

``harness check-schema`` is the preflight check: it loads the bootstrap config and runs BigQuery's
own table rules over it, so a config that real BigQuery would refuse (the classic: partitioning on
a column the schema does not have) fails here in milliseconds instead of halfway through a bootstrap.

Exit codes: 0 valid, 1 BigQuery would refuse something, 2 the config could not be loaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from harness.schema.loader import SchemaConfigError, load_config
from harness.schema.rules import validate_config
from harness.schema.spec import BootstrapConfig, TableSpec

app = typer.Typer(no_args_is_help=True, help="CloudAct test harness and emulator suite.")

#: Project used in messages when neither --project nor GCP_PROJECT_ID is given.
DEFAULT_PROJECT = "cloudact-local"

_NONE = "—"


@app.callback()
def main() -> None:
    """CloudAct test harness and emulator suite."""


@app.command("check-schema")
def check_schema(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="bootstrap.yml to check (default: the packaged one).",
            exists=True,
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option("--project", help="Project ID used in messages [default: $GCP_PROJECT_ID]."),
    ] = None,
) -> None:
    """Check the bootstrap config against BigQuery's table rules, without touching BigQuery."""
    out = Console()
    err = Console(stderr=True, highlight=False)
    try:
        loaded = load_config(config)
    except SchemaConfigError as error:
        err.print(str(error), markup=False, soft_wrap=True)  # file:line: field: message
        raise typer.Exit(2) from error

    out.print(_summary(loaded))
    violations = validate_config(loaded, project or os.environ.get("GCP_PROJECT_ID") or DEFAULT_PROJECT)
    for name, found in violations.items():
        for violation in found:
            err.print(f"{name}: {violation}", markup=False, soft_wrap=True)
    if violations:
        count = sum(len(found) for found in violations.values())
        err.print(f"{count} problem(s) BigQuery would refuse.", markup=False)
        raise typer.Exit(1)
    out.print(f"{len(loaded)} tables OK.", markup=False)


def _summary(config: BootstrapConfig) -> Table:
    dataset = config.dataset
    table = Table(
        title=f"{dataset.dataset_id} ({dataset.location}): {len(config)} tables",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    # Names and partitioning never wrap; clustering folds instead of being cut with an ellipsis,
    # so every value stays readable in an 80-column CI log.
    table.add_column("table", no_wrap=True)
    table.add_column("partitioning", no_wrap=True)
    table.add_column("clustering", overflow="fold")
    table.add_column("cols", justify="right", no_wrap=True)
    table.add_column("expires", justify="right", no_wrap=True)
    for spec in config.tables:
        table.add_row(
            spec.table_id,
            _partitioning(spec),
            ", ".join(spec.clustering_fields) or _NONE,
            str(len(spec.schema)),
            _expiration(spec),
        )
    return table


def _partitioning(spec: TableSpec) -> str:
    partitioning = spec.time_partitioning
    if partitioning is None:
        return _NONE
    # Ingestion-time partitioning is on BigQuery's _PARTITIONTIME pseudo-column.
    return f"{partitioning.type.value}({partitioning.field or '_PARTITIONTIME'})"


def _expiration(spec: TableSpec) -> str:
    """Partition expiration in the largest whole unit (``24h`` is shown as ``1d``)."""
    partitioning = spec.time_partitioning
    if partitioning is None or partitioning.expiration_ms is None:
        return _NONE
    ms = partitioning.expiration_ms
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms > 0 and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
