"""What a broken BigQuery table or dataset rule says: its code, status, reason, text and source.

Each refusal is a :class:`Rule`: a stable ``code``, BigQuery's status and reason, the message
template, and its provenance. Every message was taken from a real BigQuery error that someone
pasted into a public issue or quoted from an API response, and ``confirmed`` names the source;
where no real text could be found, ``confirmed`` is ``None`` and ``searched`` says what was
searched and what the wording follows, so that it is easy to spot and correct once the real
service has been asked.

The texts live in the schema package, not in the BigQuery fake, because the preflight config check
(``harness check-schema``, the bootstrap's preflight) reports them on every tier, gcp included, and
the domain may not know the fakes exist. The fake maps a :class:`Violation` to its exception class
by ``code`` (``fakes/bigquery/exceptions.py``). Pure data: nothing here imports the rest of
``harness``.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass


@dataclass(frozen=True)
class Violation:
    """One broken rule, in BigQuery's terms, plus the field (column or setting) it concerns.

    ``code`` names the rule (stable: match on it, not on the message); ``confirmed`` and
    ``searched`` carry the rule's provenance, so a report can say which texts nobody has seen
    BigQuery send.
    """

    status: int
    reason: str
    message: str
    field: str | None = None
    _: KW_ONLY
    code: str = ""
    confirmed: str | None = None
    searched: str = ""

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.message}"


@dataclass(frozen=True)
class Rule:
    """One refusal BigQuery makes: stable code, status, reason, message template and provenance."""

    code: str
    template: str
    confirmed: str | None = None
    searched: str = ""
    status: int = 400
    reason: str = "invalid"

    def __post_init__(self) -> None:
        if self.confirmed is None and not self.searched:
            raise ValueError(f"rule {self.code}: an unconfirmed text must say what was searched")

    def violation(self, field: str | None, **values: object) -> Violation:
        """This rule broken for ``field``, its message filled in from ``values``."""
        return Violation(
            self.status,
            self.reason,
            self.template.format(**values),
            field,
            code=self.code,
            confirmed=self.confirmed,
            searched=self.searched,
        )


INVALID_DATASET_ID = Rule(
    "invalid_dataset_id",
    'Invalid dataset ID "{dataset_id}". Dataset IDs must be alphanumeric (plus underscores and '
    "dashes) and must be at most 1024 characters long.",
    confirmed="BigQuery's own message, dashes included even though dashes are refused: pulumi#7417 "
    "(2021), GoogleCloudPlatform/DataflowTemplates#407 (2022), k8s-config-connector#3615 (2025)",
)
INVALID_TABLE_ID = Rule(
    "invalid_table_id",
    'Invalid table ID "{table_id}". Table IDs must be alphanumeric (plus underscores) and must be '
    "at most 1024 characters long. Also, Table decorators cannot be used.",
    confirmed="a real 400 in GoogleCloudPlatform/dlp-dataflow-deidentification#51 (2020). It predates "
    'Unicode table names, so its "alphanumeric (plus underscores)" undersells what is accepted; no '
    'later wording was found (searched issues/pages/code for "Invalid table ID")',
)
DUPLICATE_FIELD = Rule(
    "duplicate_field",
    "Field {path} already exists in schema",
    confirmed='bxparks/bigquery-schema-generator#39 ("Field resource.data.allowed.ipProtocol already '
    'exists in schema", for IPProtocol vs ipProtocol) and z3z1ma/target-bigquery#120',
)
RECORD_WITHOUT_FIELDS = Rule(
    "record_without_fields",
    "Field {path} is type RECORD but has no schema.",
    confirmed="bxparks/bigquery-schema-generator#55",
)
SCHEMA_TOO_DEEP = Rule(
    "schema_too_deep",
    "Schema nested too deeply for field {path}, maximum allowed depth is {depth}.",
    confirmed="bxparks/bigquery-schema-generator#51 (from `bq load`)",
)
INVALID_FIELD_NAME = Rule(
    "invalid_field_name",
    'Invalid field name "{name}". Fields must contain only letters, numbers, and underscores, start '
    "with a letter or underscore, and be at most 300 characters long.",
    confirmed="metabase/metabase#17918 (2021). BigQuery now also offers flexible column names "
    '(Unicode, spaces...), whose refusal reads "Fields must contain the allowed characters, and be '
    'at most 300 characters long." (running-elephant/datart#2192); the harness keeps the strict rule '
    "the project's schemas follow",
)
RESERVED_FIELD_PREFIX = Rule(
    "reserved_field_prefix",
    'Invalid field name "{name}". Field names are not allowed to start with the (case-insensitive) '
    "prefixes _PARTITION, _TABLE_, _FILE_, _ROW_TIMESTAMP, __ROOT__ and _COLIDENTIFIER",
    confirmed="dbt-labs/dbt-external-tables#175 (2022)",
)
PARTITION_FILTER_WITHOUT_PARTITIONING = Rule(
    "partition_filter_without_partitioning",
    "Either interval partition or range partition should be specified.",
    confirmed='googleapis/google-cloud-ruby#3708: "invalid: Either interval partition or range '
    'partition should be specified." when requirePartitionFilter is set without one',
)
PARTITION_EXPIRATION_NOT_POSITIVE = Rule(
    "partition_expiration_not_positive",
    "Invalid value for timePartitioning.expirationMs: {expiration_ms}. The number of milliseconds to "
    "keep a partition must be positive.",
    searched="no real refusal of a non-positive timePartitioning.expirationMs was found (searched "
    'issues/code for "expirationMs" negative, "partition expiration must be"). The REST reference '
    'documents it as "Number of milliseconds for which to keep the storage for a partition"; this '
    "wording is ours",
)
PARTITIONED_TABLE_WITHOUT_SCHEMA = Rule(
    "partitioned_table_without_schema",
    "Table with field based partitioning must have a schema.",
    confirmed="ebiznext/comet-data-pipeline#217",
)
PARTITION_FIELD_NOT_FOUND = Rule(
    "partition_field_not_found",
    "The field specified for partitioning cannot be found in the schema.",
    confirmed="memiiso/debezium-server-bigquery#291; also the 400 that CloudAct's own bootstrap hit "
    "when org_subscriptions partitioned on effective_date",
)
PARTITION_FIELD_TYPE = Rule(
    "partition_field_type",
    "The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The "
    "type found is: {type}.",
    confirmed='a googleapi 400 quoted in a public terraform example ("...The type found is: STRING.")',
)
PARTITION_FIELD_REPEATED = Rule(
    "partition_field_repeated",
    "The partitioning column {name} cannot be REPEATED (array-based); its mode may be REQUIRED or NULLABLE.",
    searched="no real error text was found for a REPEATED partitioning column (searched issues for "
    'partitioning + REPEATED/ARRAY). Wording from the docs: "While the mode of the column may be '
    'REQUIRED or NULLABLE, it cannot be REPEATED"',
)
DATE_PARTITIONED_BY_HOUR = Rule(
    "date_partitioned_by_hour",
    "The field specified for time partitioning, {name}, is of type DATE and cannot be partitioned "
    "by HOUR; DATE columns support DAY, MONTH or YEAR.",
    searched="searched issues/code for HOUR partitioning of a DATE column; only the rule was found "
    "(docs: a DATE column is partitioned daily, monthly or yearly). Our wording",
)
TOO_MANY_CLUSTERING_FIELDS = Rule(
    "too_many_clustering_fields",
    "{count} clustering fields specified, exceeding the limit of {limit}.",
    confirmed="jmriego/pipelinewise-target-bigquery#133 (a PATCH refused by BigQuery)",
)
CLUSTERED_TABLE_WITHOUT_SCHEMA = Rule(
    "clustered_table_without_schema",
    "Table with clustering must have a schema.",
    confirmed='r-dbi/bigrquery#472: "Table with clustering must have a schema. [invalid]"',
)
DUPLICATE_CLUSTERING_FIELD = Rule(
    "duplicate_clustering_field",
    "Duplicate clustering field: {name}.",
    searched="no real text found for a column named twice in clustering.fields (searched issues for "
    "duplicate clustering fields). Our wording",
)
CLUSTERING_FIELD_NOT_FOUND = Rule(
    "clustering_field_not_found",
    "The field specified for clustering cannot be found in the schema. Invalid field: {name}.",
    confirmed="GoogleCloudDataproc/spark-bigquery-connector#809, memiiso/debezium-server-bigquery#342 "
    "and a 400 on tables.insert in CloudAct's own history",
)
CLUSTERING_FIELD_TYPE = Rule(
    "clustering_field_type",
    "Field {name} has type {type}, which is not supported for clustering.",
    confirmed="firebase/extensions#2134 (JSON), airbytehq/airbyte#30720 (TIME); FLOAT is reported "
    'under its legacy name, e.g. "Field importance_score has type FLOAT, ..."',
)
CLUSTERING_FIELD_REPEATED = Rule(
    "clustering_field_repeated",
    "Field {name} has mode REPEATED, which is not supported for clustering.",
    searched="no real text found for clustering on a REPEATED column (searched issues for clustering "
    "+ REPEATED/ARRAY). Modelled on the type refusal (clustering_field_type)",
)
DUPLICATE_TABLE = Rule(
    "duplicate_table",
    "Already Exists: Table {project}:{dataset_id}.{table_id}",
    confirmed="the 409 duplicate of tables.insert, quoted in mozilla/bigquery-etl#852 and "
    "google/adk-python#4746",
    status=409,
    reason="duplicate",
)

#: Every rule by its code.
RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        INVALID_DATASET_ID,
        INVALID_TABLE_ID,
        DUPLICATE_FIELD,
        RECORD_WITHOUT_FIELDS,
        SCHEMA_TOO_DEEP,
        INVALID_FIELD_NAME,
        RESERVED_FIELD_PREFIX,
        PARTITION_FILTER_WITHOUT_PARTITIONING,
        PARTITION_EXPIRATION_NOT_POSITIVE,
        PARTITIONED_TABLE_WITHOUT_SCHEMA,
        PARTITION_FIELD_NOT_FOUND,
        PARTITION_FIELD_TYPE,
        PARTITION_FIELD_REPEATED,
        DATE_PARTITIONED_BY_HOUR,
        TOO_MANY_CLUSTERING_FIELDS,
        CLUSTERED_TABLE_WITHOUT_SCHEMA,
        DUPLICATE_CLUSTERING_FIELD,
        CLUSTERING_FIELD_NOT_FOUND,
        CLUSTERING_FIELD_TYPE,
        CLUSTERING_FIELD_REPEATED,
        DUPLICATE_TABLE,
    )
}
