"""Bootstrap: the meta dataset and its tables, created from the config, idempotently.

The whole config is checked against BigQuery's rules before anything is created, so a bad table
can never leave a half-built dataset behind. On a second run, existing tables are compared with
the config: missing NULLABLE/REPEATED columns are added (BigQuery allows that), and every other
difference is reported as drift rather than silently ignored or forced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from harness.ports import InvalidRequestError, NotFoundError, TableInfo, Warehouse
from harness.schema.loader import load_config
from harness.schema.rules import validate_config
from harness.schema.spec import BootstrapConfig, FieldMode, FieldSpec, TableSpec, TimePartitioning
from harness.schema.violations import Violation


class TableStatus(StrEnum):
    CREATED = "created"
    EXISTS = "exists"
    UPDATED = "updated"


@dataclass(frozen=True)
class TableOutcome:
    table_id: str
    status: TableStatus
    added_columns: tuple[str, ...] = ()
    drift: tuple[str, ...] = ()


@dataclass(frozen=True)
class BootstrapReport:
    project: str
    dataset_id: str
    dataset_created: bool
    tables: tuple[TableOutcome, ...] = field(default_factory=tuple)

    def names(self, status: TableStatus) -> list[str]:
        return [t.table_id for t in self.tables if t.status is status]

    @property
    def created(self) -> list[str]:
        return self.names(TableStatus.CREATED)

    @property
    def existing(self) -> list[str]:
        return self.names(TableStatus.EXISTS) + self.names(TableStatus.UPDATED)

    @property
    def drift(self) -> dict[str, tuple[str, ...]]:
        return {t.table_id: t.drift for t in self.tables if t.drift}


class BootstrapConfigError(InvalidRequestError):
    """The config breaks BigQuery's rules; carries every violation, table by table."""

    def __init__(self, violations: dict[str, list[Violation]]) -> None:
        first_table, first = next((name, found[0]) for name, found in violations.items() if found)
        super().__init__(f"{first_table}: {first.message}", reason=first.reason, status=first.status)
        self.violations = violations


def bootstrap(warehouse: Warehouse, config: BootstrapConfig | None = None) -> BootstrapReport:
    config = config or load_config()
    violations = validate_config(config, warehouse.project)
    if violations:
        raise BootstrapConfigError(violations)

    dataset_id = config.dataset.dataset_id
    try:
        warehouse.get_dataset(dataset_id)
        dataset_created = False
    except NotFoundError:
        warehouse.create_dataset(
            dataset_id,
            location=config.dataset.location,
            description=config.dataset.description,
            labels=config.dataset.labels,
            exists_ok=True,
        )
        dataset_created = True

    outcomes = [_ensure_table(warehouse, dataset_id, spec) for spec in config.tables]
    return BootstrapReport(
        project=warehouse.project,
        dataset_id=dataset_id,
        dataset_created=dataset_created,
        tables=tuple(outcomes),
    )


def _ensure_table(warehouse: Warehouse, dataset_id: str, spec: TableSpec) -> TableOutcome:
    try:
        existing = warehouse.get_table(dataset_id, spec.table_id)
    except NotFoundError:
        warehouse.create_table(dataset_id, spec, exists_ok=True)
        return TableOutcome(spec.table_id, TableStatus.CREATED)
    addable, drift = compare(existing, spec)
    if addable:
        warehouse.patch_table(dataset_id, spec.table_id, schema=[*existing.spec.schema, *addable])
        return TableOutcome(spec.table_id, TableStatus.UPDATED, tuple(f.name for f in addable), tuple(drift))
    return TableOutcome(spec.table_id, TableStatus.EXISTS, (), tuple(drift))


def compare(existing: TableInfo, wanted: TableSpec) -> tuple[list[FieldSpec], list[str]]:
    """Columns that can be added to the live table, and every other difference, in words."""
    live = existing.spec
    drift: list[str] = []
    addable: list[FieldSpec] = []
    live_columns = {f.name.lower(): f for f in live.schema}
    wanted_names = {f.name.lower() for f in wanted.schema}
    for column in wanted.schema:
        current = live_columns.get(column.name.lower())
        if current is None:
            if column.mode is FieldMode.REQUIRED:
                drift.append(f"column {column.name}: missing and REQUIRED, BigQuery cannot add it to a table")
            else:
                addable.append(column)
            continue
        drift.extend(_column_drift(current, column, column.name))
    drift.extend(
        f"column {f.name}: in the warehouse but not in the config"
        for f in live.schema
        if f.name.lower() not in wanted_names
    )
    if live.time_partitioning != wanted.time_partitioning:
        drift.append(
            f"partitioning: {_describe(live.time_partitioning)} in the warehouse, "
            f"{_describe(wanted.time_partitioning)} in the config"
        )
    if tuple(live.clustering_fields) != tuple(wanted.clustering_fields):
        drift.append(
            f"clustering: {list(live.clustering_fields)} in the warehouse, "
            f"{list(wanted.clustering_fields)} in the config"
        )
    if live.require_partition_filter != wanted.require_partition_filter:
        drift.append(
            f"require_partition_filter: {live.require_partition_filter} in the warehouse, "
            f"{wanted.require_partition_filter} in the config"
        )
    return addable, drift


def _column_drift(live: FieldSpec, wanted: FieldSpec, path: str) -> list[str]:
    if live.type is not wanted.type:
        return [f"column {path}: type {live.type.value} in the warehouse, {wanted.type.value} in the config"]
    if live.mode is not wanted.mode:
        return [f"column {path}: mode {live.mode.value} in the warehouse, {wanted.mode.value} in the config"]
    drift: list[str] = []
    live_sub = {f.name.lower(): f for f in live.fields}
    for sub in wanted.fields:
        current = live_sub.get(sub.name.lower())
        if current is None:
            drift.append(f"column {path}.{sub.name}: missing from the warehouse record")
        else:
            drift.extend(_column_drift(current, sub, f"{path}.{sub.name}"))
    return drift


def _describe(partitioning: TimePartitioning | None) -> str:
    if partitioning is None:
        return "none"
    column = partitioning.field or "_PARTITIONTIME"
    return f"{partitioning.type.value}({column}, expiration_ms={partitioning.expiration_ms})"
