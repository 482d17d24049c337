"""BigQuery's table and dataset rules, written once.

The in-process fake, the REST emulator and the preflight config check (``harness check-schema``,
the bootstrap's preflight) all call these functions, so a schema mistake fails the same way, with
the same HTTP status, error reason and message, on every tier — and the same way real BigQuery
fails it.

Each check returns :class:`~harness.schema.violations.Violation` values built from the rule
catalogue in :mod:`harness.schema.violations` (stable code, status, reason, message, provenance).
The fake maps a violation to its exception class by code (``fakes/bigquery/exceptions.py``).

Rules are pure functions over :mod:`harness.schema.spec` objects: no I/O, no state, and no
import from the rest of ``harness`` (the schema is data and rules).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from harness.schema.spec import (
    BootstrapConfig,
    FieldSpec,
    FieldType,
    PartitionType,
    TableSpec,
    TimePartitioning,
)
from harness.schema.violations import (
    CLUSTERED_TABLE_WITHOUT_SCHEMA,
    CLUSTERING_FIELD_NOT_FOUND,
    CLUSTERING_FIELD_REPEATED,
    CLUSTERING_FIELD_TYPE,
    DATE_PARTITIONED_BY_HOUR,
    DUPLICATE_CLUSTERING_FIELD,
    DUPLICATE_FIELD,
    DUPLICATE_TABLE,
    INVALID_DATASET_ID,
    INVALID_FIELD_NAME,
    INVALID_TABLE_ID,
    PARTITION_EXPIRATION_NOT_POSITIVE,
    PARTITION_FIELD_NOT_FOUND,
    PARTITION_FIELD_REPEATED,
    PARTITION_FIELD_TYPE,
    PARTITION_FILTER_WITHOUT_PARTITIONING,
    PARTITIONED_TABLE_WITHOUT_SCHEMA,
    RECORD_WITHOUT_FIELDS,
    RESERVED_FIELD_PREFIX,
    SCHEMA_TOO_DEEP,
    TOO_MANY_CLUSTERING_FIELDS,
    Violation,
)

# ----------------------------------------------------------------------------------- limits

#: ``timePartitioning.type`` values BigQuery accepts.
PARTITION_TYPES: frozenset[str] = frozenset(p.value for p in PartitionType)

#: Column types a time-unit partitioning column may have (docs: "Partitioned tables").
PARTITIONABLE_TYPES: frozenset[FieldType] = frozenset(
    {FieldType.DATE, FieldType.TIMESTAMP, FieldType.DATETIME}
)

#: Column types a clustering column may have, per "Create and use clustered tables" (BIGNUMERIC,
#: BOOL, DATE, DATETIME, GEOGRAPHY, INT64, NUMERIC, RANGE, STRING, TIMESTAMP). FLOAT, BYTES, TIME,
#: JSON, INTERVAL and RECORD are refused: TIME, JSON and FLOAT refusals are quoted in issues
#: below; BYTES is refused by the docs' list (Informatica's connector guide also names "Byte or
#: Float" as failing).
CLUSTERABLE_TYPES: frozenset[FieldType] = frozenset(
    {
        FieldType.STRING,
        FieldType.INTEGER,
        FieldType.NUMERIC,
        FieldType.BIGNUMERIC,
        FieldType.BOOLEAN,
        FieldType.DATE,
        FieldType.DATETIME,
        FieldType.TIMESTAMP,
        FieldType.GEOGRAPHY,
        FieldType.RANGE,
    }
)

MAX_CLUSTERING_FIELDS = 4
MAX_DATASET_ID_LENGTH = 1024
MAX_TABLE_ID_BYTES = 1024  # "up to 1,024 UTF-8 bytes" (docs: "Table naming")
MAX_COLUMN_NAME_LENGTH = 300
#: The deepest a field may sit, counting the top level as 1. The only real error text found
#: (bxparks/bigquery-schema-generator#51) names a RECORD at depth 15 as "nested too deeply", so a
#: RECORD at depth 15 may not have sub-fields: no field deeper than 15.
MAX_FIELD_DEPTH = 15

#: Column-name prefixes BigQuery reserves (compared case-insensitively).
RESERVED_COLUMN_PREFIXES: tuple[str, ...] = (
    "_PARTITION",
    "_TABLE_",
    "_FILE_",
    "_ROW_TIMESTAMP",
    "__ROOT__",
    "_COLIDENTIFIER",
)

#: Unicode general categories allowed in a table ID: L, M, N (any), Pc, Pd, Zs.
_TABLE_ID_CATEGORIES = frozenset({"Pc", "Pd", "Zs"})
_DATASET_ID = re.compile(r"[A-Za-z0-9_]+")
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# --------------------------------------------------------------------------------------- ids


def validate_dataset_id(dataset_id: str) -> list[Violation]:
    """Dataset IDs: ASCII letters, digits and underscores, 1 to 1024 characters."""
    if _DATASET_ID.fullmatch(dataset_id) and len(dataset_id) <= MAX_DATASET_ID_LENGTH:
        return []
    return [INVALID_DATASET_ID.violation("datasetId", dataset_id=dataset_id)]


def is_valid_table_id(table_id: str) -> bool:
    """Unicode letters, marks, numbers, connectors, dashes and spaces; 1 to 1024 UTF-8 bytes."""
    return (
        bool(table_id)
        and len(table_id.encode("utf-8")) <= MAX_TABLE_ID_BYTES
        and all(_table_id_char(ch) for ch in table_id)
    )


def _table_id_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LMN" or category in _TABLE_ID_CATEGORIES


def validate_table_id(table_id: str) -> list[Violation]:
    """Table IDs per BigQuery's "Table naming" rules.

    Reserved table-name prefixes exist but BigQuery does not publish the list, so none is checked.
    """
    if is_valid_table_id(table_id):
        return []
    return [INVALID_TABLE_ID.violation("tableId", table_id=table_id)]


# ------------------------------------------------------------------------------------ schema


def validate_schema(fields: Iterable[FieldSpec]) -> list[Violation]:
    """Column names, duplicates (case-insensitive, per level), empty RECORDs and nesting depth."""
    return _validate_fields(tuple(fields), prefix="", depth=1)


def _validate_fields(fields: tuple[FieldSpec, ...], *, prefix: str, depth: int) -> list[Violation]:
    violations: list[Violation] = []
    seen: set[str] = set()
    for spec in fields:
        path = f"{prefix}{spec.name}"
        violations.extend(_validate_column_name(spec.name, path))
        lowered = spec.name.lower()
        if lowered in seen:
            violations.append(DUPLICATE_FIELD.violation(path, path=path))
        seen.add(lowered)
        if spec.is_record and not spec.fields:
            violations.append(RECORD_WITHOUT_FIELDS.violation(path, path=path))
        if spec.fields and depth >= MAX_FIELD_DEPTH:
            violations.append(SCHEMA_TOO_DEEP.violation(path, path=path, depth=MAX_FIELD_DEPTH))
        elif spec.fields:
            violations.extend(_validate_fields(spec.fields, prefix=f"{path}.", depth=depth + 1))
    return violations


def _validate_column_name(name: str, path: str) -> list[Violation]:
    if not _COLUMN_NAME.fullmatch(name) or len(name) > MAX_COLUMN_NAME_LENGTH:
        return [INVALID_FIELD_NAME.violation(path, name=name)]
    if name.upper().startswith(RESERVED_COLUMN_PREFIXES):
        return [RESERVED_FIELD_PREFIX.violation(path, name=name)]
    return []


# ------------------------------------------------------------------------------ partitioning


def validate_partitioning(spec: TableSpec) -> list[Violation]:
    """Time partitioning: a top-level DATE/TIMESTAMP/DATETIME column, and the options around it."""
    partitioning = spec.time_partitioning
    if partitioning is None:
        if spec.require_partition_filter:
            return [PARTITION_FILTER_WITHOUT_PARTITIONING.violation("requirePartitionFilter")]
        return []
    violations = _validate_partition_field(spec, partitioning)
    if partitioning.expiration_ms is not None and partitioning.expiration_ms <= 0:
        violations.append(
            PARTITION_EXPIRATION_NOT_POSITIVE.violation(
                "timePartitioning.expirationMs", expiration_ms=partitioning.expiration_ms
            )
        )
    return violations


def _validate_partition_field(spec: TableSpec, partitioning: TimePartitioning) -> list[Violation]:
    name = partitioning.field
    if name is None:  # ingestion-time partitioning: any type, no column to check
        return []
    if not spec.schema:
        return [PARTITIONED_TABLE_WITHOUT_SCHEMA.violation(name)]
    column = spec.field(name)
    if column is None:
        # A dotted path ("a.b") is not a top-level column, so it is "not found" as well.
        return [PARTITION_FIELD_NOT_FOUND.violation(name)]
    if column.type not in PARTITIONABLE_TYPES:
        return [PARTITION_FIELD_TYPE.violation(name, type=column.type.value)]
    if column.is_repeated:
        return [PARTITION_FIELD_REPEATED.violation(name, name=column.name)]
    if column.type is FieldType.DATE and partitioning.type is PartitionType.HOUR:
        return [DATE_PARTITIONED_BY_HOUR.violation(name, name=column.name)]
    return []


# -------------------------------------------------------------------------------- clustering


def is_clusterable(field: FieldSpec) -> bool:
    """Whether BigQuery accepts this column as a clustering column (type and mode)."""
    return field.type in CLUSTERABLE_TYPES and not field.is_repeated


def validate_clustering(spec: TableSpec) -> list[Violation]:
    """At most four top-level, non-repeated columns of a clusterable type, each named once."""
    names = spec.clustering_fields
    if not names:
        return []
    if len(names) > MAX_CLUSTERING_FIELDS:
        return [
            TOO_MANY_CLUSTERING_FIELDS.violation(
                "clustering.fields", count=len(names), limit=MAX_CLUSTERING_FIELDS
            )
        ]
    if not spec.schema:
        return [CLUSTERED_TABLE_WITHOUT_SCHEMA.violation("clustering.fields")]
    violations: list[Violation] = []
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            violations.append(DUPLICATE_CLUSTERING_FIELD.violation(name, name=name))
            continue
        seen.add(name.lower())
        violations.extend(_validate_clustering_field(spec, name))
    return violations


def _validate_clustering_field(spec: TableSpec, name: str) -> list[Violation]:
    column = spec.field(name)
    if column is None:
        # Nested paths ("a.b") get the same answer: clustering columns must be top-level.
        return [CLUSTERING_FIELD_NOT_FOUND.violation(name, name=name)]
    if column.type not in CLUSTERABLE_TYPES:
        return [CLUSTERING_FIELD_TYPE.violation(name, name=column.name, type=column.type.value)]
    if column.is_repeated:
        return [CLUSTERING_FIELD_REPEATED.violation(name, name=column.name)]
    return []


# ------------------------------------------------------------------------------------ tables


def validate_table(spec: TableSpec) -> list[Violation]:
    """Every rule BigQuery applies when a table is created, in the order they are listed here."""
    return [
        *validate_table_id(spec.table_id),
        *validate_schema(spec.schema),
        *validate_partitioning(spec),
        *validate_clustering(spec),
    ]


def validate_config(config: BootstrapConfig, project: str) -> dict[str, list[Violation]]:
    """Violations per table name (only tables that have any), for the preflight check.

    A dataset-ID problem is filed under the dataset ID. A table named twice gets BigQuery's
    409 for the second ``tables.insert``.
    """
    dataset_id = config.dataset.dataset_id
    found: dict[str, list[Violation]] = {}
    dataset_violations = validate_dataset_id(dataset_id)
    if dataset_violations:
        found[dataset_id] = dataset_violations
    seen: set[str] = set()
    for spec in config.tables:
        violations = validate_table(spec)
        if spec.table_id in seen:
            violations.append(
                DUPLICATE_TABLE.violation(
                    "tableId", project=project, dataset_id=dataset_id, table_id=spec.table_id
                )
            )
        seen.add(spec.table_id)
        if violations:
            found.setdefault(spec.table_id, []).extend(violations)
    return found
