"""``harness check-schema`` and ``harness bootstrap``: the meta tables' config, checked or created.

``check-schema`` is the preflight check: it loads the bootstrap config and runs BigQuery's own
table rules over it, so a config that real BigQuery would refuse (the classic: partitioning on a
column the schema does not have) fails here in milliseconds instead of halfway through a bootstrap.
``bootstrap`` creates the meta dataset and its tables on a tier and reports what it did.

Exit codes: 0 ok, 1 BigQuery would refuse something (or a live table drifted from the config),
2 the config could not be loaded (or the tier cannot be reached).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.backends import DEFAULT_PROJECT, Backend
from harness.cli.console import stderr_console, stdout_console

if TYPE_CHECKING:
    from rich.table import Table

    from harness.onboarding.bootstrap import BootstrapReport
    from harness.schema.spec import BootstrapConfig, TableSpec
    from harness.schema.violations import Violation

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="bootstrap.yml to use (default: the packaged one).", exists=True),
]
ProjectOption = Annotated[
    str | None,
    typer.Option("--project", help="Project ID [default: $GCP_PROJECT_ID, else cloudact-local]."),
]

_NONE = "—"


def check_schema(config: ConfigOption = None, project: ProjectOption = None) -> None:
    """Check the bootstrap config against BigQuery's table rules, without touching BigQuery."""
    from harness.schema.rules import validate_config

    out = stdout_console()
    loaded = _load(config)
    out.print(_summary(loaded))
    violations = validate_config(loaded, _project(project))
    if violations:
        _report_violations(violations)
        raise typer.Exit(1)
    out.print(f"{len(loaded)} tables OK.", markup=False)


def bootstrap_command(
    config: ConfigOption = None,
    project: ProjectOption = None,
    backend: Annotated[Backend, typer.Option("--backend", help="Tier to bootstrap.")] = Backend.FAKE,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Keep the fake warehouse in files here instead of in memory."),
    ] = None,
) -> None:
    """Create the meta dataset and its tables (idempotent) and print what was created."""
    from harness.backends import build_warehouse
    from harness.clock import SystemClock
    from harness.onboarding.bootstrap import BootstrapConfigError, bootstrap

    out = stdout_console()
    loaded = _load(config)
    try:
        warehouse = build_warehouse(
            backend, clock=SystemClock(), project=_project(project), data_dir=data_dir
        )
    except ValueError as error:  # a tier the settings cannot reach (no emulators, no GCP project)
        stderr_console().print(f"error: {error}", markup=False)
        raise typer.Exit(2) from error
    started = time.perf_counter()
    try:
        report = bootstrap(warehouse, loaded)
    except BootstrapConfigError as error:
        _report_violations(error.violations)
        raise typer.Exit(1) from error
    finally:
        warehouse.close()
    elapsed_ms = (time.perf_counter() - started) * 1000
    out.print(_summary(loaded, report))
    dataset_state = "created" if report.dataset_created else "already existed"
    out.print(
        f"{backend.value}: dataset {report.project}.{report.dataset_id} {dataset_state}; "
        f"{len(report.created)} tables created, {len(report.existing)} already existed "
        f"in {elapsed_ms:.0f} ms.",
        markup=False,
    )
    if report.drift:
        err = stderr_console()
        for table_id, differences in report.drift.items():
            for difference in differences:
                err.print(f"drift: {table_id}: {difference}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


def _load(config: Path | None) -> BootstrapConfig:
    from harness.schema.loader import SchemaConfigError, load_config

    try:
        return load_config(config)
    except SchemaConfigError as error:
        stderr_console().print(str(error), markup=False, soft_wrap=True)
        raise typer.Exit(2) from error


def _project(project: str | None) -> str:
    return project or os.environ.get("GCP_PROJECT_ID") or DEFAULT_PROJECT


def _report_violations(violations: dict[str, list[Violation]]) -> None:
    err = stderr_console()
    for name, found in violations.items():
        for violation in found:
            err.print(f"{name}: {violation}", markup=False, soft_wrap=True)
    count = sum(len(found) for found in violations.values())
    err.print(f"{count} problem(s) BigQuery would refuse.", markup=False)


def _summary(config: BootstrapConfig, report: BootstrapReport | None = None) -> Table:
    from rich import box
    from rich.table import Table

    dataset = config.dataset
    table = Table(
        title=f"{dataset.dataset_id} ({dataset.location}): {len(config)} tables",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("table", no_wrap=True)
    table.add_column("partitioning", no_wrap=True)
    table.add_column("clustering", no_wrap=True)
    table.add_column("cols", justify="right", no_wrap=True)
    table.add_column("expires", justify="right", no_wrap=True)
    statuses = {t.table_id: t.status.value for t in report.tables} if report else {}
    if report:
        table.add_column("status", no_wrap=True)
    for spec in config.tables:
        row = [
            spec.table_id,
            _partitioning(spec),
            ", ".join(spec.clustering_fields) or _NONE,
            str(len(spec.schema)),
            _expiration(spec),
        ]
        table.add_row(*row, *([statuses.get(spec.table_id, _NONE)] if report else []))
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


__all__ = ["bootstrap_command", "check_schema"]
