"""BigQuery's table and dataset rules, written once.

The in-process fake, the REST emulator and the preflight config check (``harness check-schema``)
all call these functions, so a schema mistake fails the same way, with the same HTTP status, error
reason and message, on every tier — and the same way real BigQuery fails it.

Every message below was taken from a real BigQuery error that someone pasted into a public issue
or quoted from an API response; the source is named next to each one. Where no real text could be
found, the comment says what was searched and the message uses the closest documented wording, so
that it is easy to spot and correct once the real service has been asked.

Rules are pure functions over :mod:`harness.schema.spec` objects: no I/O, no state.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from harness.ports import (
    AlreadyExistsError,
    InvalidRequestError,
    NotFoundError,
    ResourceInUseError,
    WarehouseError,
)
from harness.schema.spec import (
    BootstrapConfig,
    FieldSpec,
    FieldType,
    PartitionType,
    TableSpec,
    TimePartitioning,
)

# ----------------------------------------------------------------------------------- limits

#: ``timePartitioning.type`` values BigQuery accepts.
PARTITION_TYPES: frozenset[str] = frozenset(p.value for p in PartitionType)

#: Column types a time-unit partitioning column may have (docs: "Partitioned tables").
PARTITIONABLE_TYPES: frozenset[FieldType] = frozenset(
    {FieldType.DATE, FieldType.TIMESTAMP, FieldType.DATETIME}
)

#: Column types a clustering column may have, per "Create and use clustered tables" (BIGNUMERIC,
#: BOOL, DATE, DATETIME, GEOGRAPHY, INT64, NUMERIC, RANGE, STRING, TIMESTAMP). RANGE is not a
#: :class:`FieldType` yet, so it cannot appear here. FLOAT, BYTES, TIME, JSON, INTERVAL and RECORD
#: are refused: TIME, JSON and FLOAT refusals are quoted in issues below; BYTES is refused by the
#: docs' list (Informatica's connector guide also names "Byte or Float" as failing).
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

# --------------------------------------------------------------------------------- violation


@dataclass(frozen=True)
class Violation:
    """One broken rule, in BigQuery's terms, plus the field (column or setting) it concerns."""

    status: int
    reason: str
    message: str
    field: str | None = None

    def to_error(self) -> WarehouseError:
        """The :mod:`harness.ports` error a backend raises for this violation."""
        if self.status == 404:
            return NotFoundError(self.message)
        if self.status == 409:
            return AlreadyExistsError(self.message, reason=self.reason)
        if self.reason == ResourceInUseError.reason:
            return ResourceInUseError(self.message, status=self.status)
        return InvalidRequestError(self.message, reason=self.reason, status=self.status)

    @classmethod
    def from_error(cls, error: WarehouseError, field: str | None = None) -> Violation:
        """The violation behind one of the message builders below (e.g. a duplicate table)."""
        return cls(error.status, error.reason, error.message, field)

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.message}"


def _invalid(message: str, field: str | None = None) -> Violation:
    return Violation(400, "invalid", message, field)


# ---------------------------------------------------------------- errors every backend phrases
# Real texts, as the REST API returns them for datasets.get/tables.get/insert/delete:
# "Not found: Dataset p:d" / "Not found: Table p:d.t" (404s quoted in many public logs; a *query*
# that names a missing table adds " was not found in location US", which these builders do not
# cover); "Already Exists: Dataset p:d" and "Dataset p:d is still in use" (400 resourceInUse) from
# terraform-provider-google#6688 and terraform-google-log-export#135; "Already Exists: Table
# p:d.t" (409 duplicate) from mozilla/bigquery-etl#852 and google/adk-python#4746.


def dataset_not_found(project: str, dataset_id: str) -> NotFoundError:
    return NotFoundError(f"Not found: Dataset {project}:{dataset_id}")


def table_not_found(project: str, dataset_id: str, table_id: str) -> NotFoundError:
    return NotFoundError(f"Not found: Table {project}:{dataset_id}.{table_id}")


def dataset_exists(project: str, dataset_id: str) -> AlreadyExistsError:
    return AlreadyExistsError(f"Already Exists: Dataset {project}:{dataset_id}")


def table_exists(project: str, dataset_id: str, table_id: str) -> AlreadyExistsError:
    return AlreadyExistsError(f"Already Exists: Table {project}:{dataset_id}.{table_id}")


def dataset_in_use(project: str, dataset_id: str) -> ResourceInUseError:
    """Deleting a dataset that still holds tables without ``deleteContents``."""
    return ResourceInUseError(f"Dataset {project}:{dataset_id} is still in use")


# --------------------------------------------------------------------------------------- ids


def validate_dataset_id(dataset_id: str) -> list[Violation]:
    """Dataset IDs: ASCII letters, digits and underscores, 1 to 1024 characters.

    The message is BigQuery's own, dashes included even though dashes are refused (pulumi#7417,
    2021; GoogleCloudPlatform/DataflowTemplates#407, 2022; k8s-config-connector#3615, 2025).
    """
    if _DATASET_ID.fullmatch(dataset_id) and len(dataset_id) <= MAX_DATASET_ID_LENGTH:
        return []
    return [
        _invalid(
            f'Invalid dataset ID "{dataset_id}". Dataset IDs must be alphanumeric (plus underscores '
            "and dashes) and must be at most 1024 characters long.",
            "datasetId",
        )
    ]


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

    Message from a real 400 (GoogleCloudPlatform/dlp-dataflow-deidentification#51, 2020). It
    predates Unicode table names, so its "alphanumeric (plus underscores)" undersells what is
    accepted; no later wording was found (searched issues/pages/code for "Invalid table ID").
    Reserved table-name prefixes exist but BigQuery does not publish the list, so none is checked.
    """
    if is_valid_table_id(table_id):
        return []
    return [
        _invalid(
            f'Invalid table ID "{table_id}". Table IDs must be alphanumeric (plus underscores) and '
            "must be at most 1024 characters long. Also, Table decorators cannot be used.",
            "tableId",
        )
    ]


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
            # bxparks/bigquery-schema-generator#39 ("Field resource.data.allowed.ipProtocol already
            # exists in schema", for IPProtocol vs ipProtocol) and z3z1ma/target-bigquery#120.
            violations.append(_invalid(f"Field {path} already exists in schema", path))
        seen.add(lowered)
        if spec.is_record and not spec.fields:
            # bxparks/bigquery-schema-generator#55.
            violations.append(_invalid(f"Field {path} is type RECORD but has no schema.", path))
        if spec.fields and depth >= MAX_FIELD_DEPTH:
            # bxparks/bigquery-schema-generator#51 (from `bq load`).
            violations.append(
                _invalid(
                    f"Schema nested too deeply for field {path}, maximum allowed depth is {MAX_FIELD_DEPTH}.",
                    path,
                )
            )
        elif spec.fields:
            violations.extend(_validate_fields(spec.fields, prefix=f"{path}.", depth=depth + 1))
    return violations


def _validate_column_name(name: str, path: str) -> list[Violation]:
    if not _COLUMN_NAME.fullmatch(name) or len(name) > MAX_COLUMN_NAME_LENGTH:
        # metabase/metabase#17918 (2021). BigQuery now also offers "flexible column names"
        # (Unicode, spaces...), whose refusal reads "Fields must contain the allowed characters,
        # and be at most 300 characters long." (running-elephant/datart#2192); the harness keeps
        # the strict rule the project's schemas follow.
        return [
            _invalid(
                f'Invalid field name "{name}". Fields must contain only letters, numbers, and '
                "underscores, start with a letter or underscore, and be at most 300 characters long.",
                path,
            )
        ]
    if name.upper().startswith(RESERVED_COLUMN_PREFIXES):
        # dbt-labs/dbt-external-tables#175 (2022).
        return [
            _invalid(
                f'Invalid field name "{name}". Field names are not allowed to start with the '
                "(case-insensitive) prefixes _PARTITION, _TABLE_, _FILE_, _ROW_TIMESTAMP, __ROOT__ "
                "and _COLIDENTIFIER",
                path,
            )
        ]
    return []


# ------------------------------------------------------------------------------ partitioning


def validate_partitioning(spec: TableSpec) -> list[Violation]:
    """Time partitioning: a top-level DATE/TIMESTAMP/DATETIME column, and the options around it."""
    partitioning = spec.time_partitioning
    if partitioning is None:
        if spec.require_partition_filter:
            # googleapis/google-cloud-ruby#3708: "invalid: Either interval partition or range
            # partition should be specified." when requirePartitionFilter is set without one.
            return [
                _invalid(
                    "Either interval partition or range partition should be specified.",
                    "requirePartitionFilter",
                )
            ]
        return []
    violations = _validate_partition_field(spec, partitioning)
    if partitioning.expiration_ms is not None and partitioning.expiration_ms <= 0:
        # Not confirmed: no real refusal of a non-positive timePartitioning.expirationMs was
        # found (searched issues/code for "expirationMs" negative, "partition expiration must be").
        # The REST reference documents it as "Number of milliseconds for which to keep the storage
        # for a partition"; this wording is ours.
        violations.append(
            _invalid(
                f"Invalid value for timePartitioning.expirationMs: {partitioning.expiration_ms}. "
                "The number of milliseconds to keep a partition must be positive.",
                "timePartitioning.expirationMs",
            )
        )
    return violations


def _validate_partition_field(spec: TableSpec, partitioning: TimePartitioning) -> list[Violation]:
    name = partitioning.field
    if name is None:  # ingestion-time partitioning: any type, no column to check
        return []
    if not spec.schema:
        # ebiznext/comet-data-pipeline#217.
        return [_invalid("Table with field based partitioning must have a schema.", name)]
    column = spec.field(name)
    if column is None:
        # memiiso/debezium-server-bigquery#291; also the 400 that CloudAct's own bootstrap hit
        # when org_subscriptions partitioned on effective_date. A dotted path ("a.b") is not a
        # top-level column, so it is "not found" as well.
        return [_invalid("The field specified for partitioning cannot be found in the schema.", name)]
    if column.type not in PARTITIONABLE_TYPES:
        # A googleapi 400 quoted in a public terraform example ("...The type found is: STRING.").
        return [
            _invalid(
                "The field specified for time partitioning can only be of type TIMESTAMP, DATE or "
                f"DATETIME. The type found is: {column.type.value}.",
                name,
            )
        ]
    if column.is_repeated:
        # Not confirmed: no real error text was found for a REPEATED partitioning column
        # (searched issues for partitioning + REPEATED/ARRAY). Wording from the docs:
        # "While the mode of the column may be REQUIRED or NULLABLE, it cannot be REPEATED".
        return [
            _invalid(
                f"The partitioning column {column.name} cannot be REPEATED (array-based); its mode "
                "may be REQUIRED or NULLABLE.",
                name,
            )
        ]
    if column.type is FieldType.DATE and partitioning.type is PartitionType.HOUR:
        # Not confirmed: searched issues/code for HOUR partitioning of a DATE column; only the
        # rule was found (docs: a DATE column is partitioned daily, monthly or yearly). Our wording.
        return [
            _invalid(
                f"The field specified for time partitioning, {column.name}, is of type DATE and "
                "cannot be partitioned by HOUR; DATE columns support DAY, MONTH or YEAR.",
                name,
            )
        ]
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
        # jmriego/pipelinewise-target-bigquery#133 (a PATCH refused by BigQuery).
        return [
            _invalid(
                f"{len(names)} clustering fields specified, exceeding the limit of {MAX_CLUSTERING_FIELDS}.",
                "clustering.fields",
            )
        ]
    if not spec.schema:
        # r-dbi/bigrquery#472: "Table with clustering must have a schema. [invalid]".
        return [_invalid("Table with clustering must have a schema.", "clustering.fields")]
    violations: list[Violation] = []
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            # Not confirmed: no real text found for a column named twice in clustering.fields
            # (searched issues for duplicate clustering fields). Our wording.
            violations.append(_invalid(f"Duplicate clustering field: {name}.", name))
            continue
        seen.add(name.lower())
        violations.extend(_validate_clustering_field(spec, name))
    return violations


def _validate_clustering_field(spec: TableSpec, name: str) -> list[Violation]:
    column = spec.field(name)
    if column is None:
        # GoogleCloudDataproc/spark-bigquery-connector#809, memiiso/debezium-server-bigquery#342
        # and a 400 on tables.insert in CloudAct's own history. Nested paths ("a.b") get the same
        # answer: clustering columns must be top-level.
        return [
            _invalid(
                f"The field specified for clustering cannot be found in the schema. Invalid field: {name}.",
                name,
            )
        ]
    if column.type not in CLUSTERABLE_TYPES:
        # firebase/extensions#2134 (JSON), airbytehq/airbyte#30720 (TIME); FLOAT is reported under
        # its legacy name, e.g. "Field importance_score has type FLOAT, ...".
        return [
            _invalid(
                f"Field {column.name} has type {column.type.value}, which is not supported for clustering.",
                name,
            )
        ]
    if column.is_repeated:
        # Not confirmed: no real text found for clustering on a REPEATED column (searched issues
        # for clustering + REPEATED/ARRAY). Modelled on the type refusal above.
        return [
            _invalid(
                f"Field {column.name} has mode REPEATED, which is not supported for clustering.",
                name,
            )
        ]
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


def check_table(spec: TableSpec) -> None:
    """Raise the first violation as the :mod:`harness.ports` error a backend would raise."""
    violations = validate_table(spec)
    if violations:
        raise violations[0].to_error()


def check_dataset_id(dataset_id: str) -> None:
    """Raise :class:`InvalidRequestError` if BigQuery would refuse this dataset ID."""
    violations = validate_dataset_id(dataset_id)
    if violations:
        raise violations[0].to_error()


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
                Violation.from_error(table_exists(project, dataset_id, spec.table_id), "tableId")
            )
        seen.add(spec.table_id)
        if violations:
            found.setdefault(spec.table_id, []).extend(violations)
    return found
