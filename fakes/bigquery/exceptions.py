"""Every error the BigQuery fake and its REST emulator raise, one class per real error (moto's way).

Each class subclasses the :mod:`harness.ports` class the domain catches (so domain code keeps
working whichever tier it runs on) and :class:`fakes.errors.RealError`, and states BigQuery's
``status`` and ``reason``, the message ``template`` and its provenance: ``confirmed`` names where
the exact text was observed, or is ``None`` and ``searched`` says what was looked for and what the
wording follows. Match on the class (or status and reason); compare a message only where its
class is confirmed (:func:`fakes.errors.text_is_confirmed`).

The table and dataset rules keep their texts in :mod:`harness.schema.violations`, because the
preflight reports them on every tier; here each rule gets its class (:class:`RuleViolation`
subclasses) and :func:`error_for` maps a violation to it by code. A value refused inside one
row is a :class:`ValueRejected` subclass: not raised to the caller but reported per row
(``insertErrors``), with the same provenance.

This module is longer than the house's ~400 lines on purpose: it is the catalogue of the
service's errors, read top to bottom, and splitting it would scatter what a newcomer looks up
in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Self

from fakes.errors import RealError
from harness.ports import (
    AlreadyExistsError,
    InsertRowsError,
    InvalidRequestError,
    NotFoundError,
    ResourceInUseError,
    RowError,
    StreamingBufferError,
    TransientError,
    WarehouseError,
)
from harness.schema import violations as rules
from harness.schema.violations import Rule, Violation

_FAKE_LIMIT = "not a BigQuery error: a limit of the fake, and the text says so"


class BigQueryError(RealError):
    """A BigQuery error whose message is ``template`` filled in with the constructor's values."""

    template: ClassVar[str]

    def __init__(self, **values: object) -> None:
        self.values = values
        super().__init__(self.template.format(**values))  # type: ignore[call-arg]


# ------------------------------------------------------------------------ datasets, tables, jobs


class DatasetNotFound(BigQueryError, NotFoundError):
    status = 404
    reason = "notFound"
    template = "Not found: Dataset {project}:{dataset_id}"
    confirmed = "the 404 of datasets.get/delete and tables.*, quoted in many public logs"


class TableNotFound(BigQueryError, NotFoundError):
    status = 404
    reason = "notFound"
    template = "Not found: Table {project}:{dataset_id}.{table_id}"
    confirmed = "the 404 of tables.get/delete, quoted in many public logs"


class QueryDatasetNotFound(BigQueryError, NotFoundError):
    """A query names a table of a dataset that does not exist."""

    status = 404
    reason = "notFound"
    template = "Not found: Dataset {project}:{dataset_id} was not found in location US"
    confirmed = "firebase/extensions#512, doitintl/bigquery-grafana#192"


class QueryTableNotFound(BigQueryError, NotFoundError):
    """A query names a table that does not exist (the 404 carries the dataset's location)."""

    status = 404
    reason = "notFound"
    template = "Not found: Table {project}:{dataset_id}.{table_id} was not found in location {location}"
    confirmed = "mozilla/bigquery-etl#1698, assetnote/wordlists#6"


class DatasetAlreadyExists(BigQueryError, AlreadyExistsError):
    status = 409
    reason = "duplicate"
    template = "Already Exists: Dataset {project}:{dataset_id}"
    confirmed = "terraform-provider-google#6688 and terraform-google-log-export#135"


class DatasetInUse(BigQueryError, ResourceInUseError):
    """Deleting a dataset that still holds tables without ``deleteContents``."""

    status = 400
    reason = "resourceInUse"
    template = "Dataset {project}:{dataset_id} is still in use"
    confirmed = "terraform-provider-google#6688 and terraform-google-log-export#135"


class JobNotFound(BigQueryError, NotFoundError):
    status = 404
    reason = "notFound"
    template = "Not found: Job {project}:{location}.{job_id}"
    confirmed = 'hafenkran/duckdb-bigquery#104 ("Not found: Job data_project:US.job_...")'


class JobAlreadyExists(BigQueryError, AlreadyExistsError):
    status = 409
    reason = "duplicate"
    template = "Already Exists: Job {project}:{location}.{job_id}"
    confirmed = 'googleapis/google-cloud-java#2867 (409 duplicate, "Already Exists: Job p:EU.id")'


class ConflictingTimestampFormats(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Cannot specify both useInt64Timestamp and timestampOutputFormat in formatOptions"
    searched = (
        "issues/code corpora for BigQuery's answer to both DataFormatOptions fields: only the "
        'client\'s comment ("Cannot specify both use_int64_timestamp and timestamp_output_format") '
        "was found; our wording follows it"
    )


class SessionNotFound(BigQueryError, InvalidRequestError):
    """A query names (``connectionProperties`` ``session_id``) or aborts a session that does not
    exist or was terminated (``BQ.ABORT_SESSION``, 24 h idle, 7 days old)."""

    status = 400
    reason = "invalid"
    template = "Session {session_id} was not found or has been terminated"
    searched = (
        "issues/code/pages corpora for BigQuery's answer to a query in an unknown or aborted session "
        '("Cannot find session", "session has been terminated", ABORT_SESSION): no real text found; '
        "our wording"
    )


class NoSessionToAbort(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "BQ.ABORT_SESSION() without a session id must run in a session"
    searched = (
        "issues/pages corpora for CALL BQ.ABORT_SESSION() outside a session: the documentation "
        "(sessions-terminating) only says a session id is needed when not in the session; our wording"
    )


# ---------------------------------------------------- table kinds: views, range partitioning


class CannotListView(BigQueryError, InvalidRequestError):
    """``tabledata.list`` of a view or materialized view: BigQuery lists only stored rows."""

    status = 400
    reason = "invalid"
    template = "Cannot list a table of type {kind}."
    confirmed = "n8n-io/n8n#2622 and googledatalab/datalab#1764 (400 invalid, for VIEW)"


class ViewNotWritable(BigQueryError, InvalidRequestError):
    """Rows streamed into, or DML aimed at, a view or materialized view."""

    status = 400
    reason = "invalid"
    template = "Cannot write to {table}: it is a {kind}, and only tables hold rows"
    searched = (
        'searched issues for "Cannot insert" / "Cannot write" into a BigQuery view; no real text '
        "found, the wording is ours"
    )


class RangePartitionFieldNotFound(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "The field specified for partitioning cannot be found in the schema"
    searched = (
        "searched issues for range-partitioning errors; no range-specific text found, so the "
        "confirmed time-partitioning text (PartitionFieldNotFound) is reused"
    )


class RangePartitionFieldType(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Range partitioning field {field} must be a top-level INT64 column, not {type}"
    searched = (
        "searched issues for a BigQuery 400 on a non-INT64 range partitioning field; none found, "
        "the wording follows the docs' rule (integer-range partitioning needs an INTEGER column)"
    )


class InvalidRangePartitioning(BigQueryError, InvalidRequestError):
    """A ``rangePartitioning`` BigQuery refuses: both partitionings, bad bounds or interval."""

    status = 400
    reason = "invalid"
    template = "Invalid range partitioning: {detail}"
    searched = (
        "searched issues for BigQuery 400s on rangePartitioning start/end/interval; found only "
        "client-side checks (embulk-output-bigquery#174), the wording is ours, the rules the docs'"
    )


class PartitioningSpecChanged(BigQueryError, InvalidRequestError):
    """``CREATE OR REPLACE TABLE`` over a table partitioned otherwise."""

    status = 400
    reason = "invalid"
    template = (
        "Cannot replace a table with a different partitioning spec. Instead, DROP the table, and then "
        "recreate it."
    )
    confirmed = (
        "dataform-co/dataform#590 (the text); z3z1ma/target-bigquery#134 and airbytehq/airbyte#56415 "
        "(the same text; newer responses append the new and existing specs, which the fake does not)"
    )


class NotPartitioned(BigQueryError, InvalidRequestError):
    """A partition decorator (``t$20260105``) on a table that is not partitioned."""

    status = 400
    reason = "invalid"
    template = "Cannot read partition information from a table that is not partitioned: {table}"
    confirmed = (
        "GoogleCloudPlatform/DataflowJavaSDK#620 and alexvanboxel/pubsub-backup#1 (insertAll into "
        "project:dataset.table$20180326, 400 invalid)"
    )


class InvalidPartitionDecorator(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid partition decorator in {table}"
    searched = (
        "searched issues for a BigQuery 400 on a malformed decorator (wepay/kafka-connect-bigquery#104 "
        "has $2018226 but quotes no server text); the wording is ours"
    )


class StreamingToColumnPartition(BigQueryError, InvalidRequestError):
    """insertAll into a decorated column-partitioned table (its rows choose their partition)."""

    status = 400
    reason = "invalid"
    template = "Streaming to metadata partition of column based partitioning table {table} is disallowed."
    searched = (
        'apache/camel-quarkus#4025 quotes "Streaming to metadata partition of column based '
        'partitioning table ... is disallowed" with the table elided; how BigQuery names it is a guess'
    )


# ------------------------------------------------------- service-side failures (fault injection)
# BigQuery answers these on its own, not because of the request; the harness answers them when a
# scenario or a test arms a warehouse fault (``harness.faults``). The google-cloud-bigquery client
# retries rateLimitExceeded and backendError; a failed query job is re-run on jobBackendError.


class RateLimitExceeded(BigQueryError, TransientError):
    status = 403
    reason = "rateLimitExceeded"
    template = (
        "Exceeded rate limits: too many table update operations for this table. For more "
        "information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas"
    )
    confirmed = "trinodb/trino#16416 and googleapis/google-cloud-ruby#19876 (403 rateLimitExceeded)"


class QuotaExceeded(BigQueryError, TransientError):
    status = 403
    reason = "quotaExceeded"
    template = (
        "Quota exceeded: Your project exceeded quota for free query bytes scanned. For more "
        "information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas"
    )
    confirmed = "xlang-ai/Spider2#5 (403, reason: quotaExceeded, the full message)"


class BackendError(BigQueryError, TransientError):
    status = 500
    reason = "backendError"
    template = "Error encountered during execution. Retrying may solve the problem."
    confirmed = (
        "mozilla/redash-stmo#63 and googleapis/google-cloud-go#690 (the text with reason "
        "backendError); the 500 status itself is from BigQuery's error table, the texts seen were 503s"
    )


class ServiceUnavailable(BigQueryError, TransientError):
    status = 503
    reason = "backendError"
    template = "Error encountered during execution. Retrying may solve the problem."
    confirmed = 'unum-io/tyda#86 (code 503, reason backendError, status "UNAVAILABLE")'


class JobBackendError(BigQueryError, TransientError):
    """A query job that was accepted and then failed; the client re-runs the query."""

    status = 400
    reason = "jobBackendError"
    template = "The job encountered an error during execution. Retrying the job may solve the problem."
    confirmed = (
        "googleapis/python-bigquery#1991 (400 from jobs.getQueryResults, the text); the reason is "
        "the one googleapis/python-bigquery#2256 retries"
    )


class JobTimeout(BigQueryError, InvalidRequestError):
    """A job that ran past BigQuery's execution limit: permanent, the client does not retry it."""

    status = 400
    reason = "timeout"
    template = (
        "Operation timed out after 6.0 hours. Consider reducing the amount of work performed by "
        "your operation so that it can complete within this limit."
    )
    confirmed = "mozilla/redash#991 (the text); m-lab/telescope#25 (HTTP 400 for the query variant)"


# ------------------------------------------------------------------------- table and dataset rules


class RuleViolation(RealError):
    """One of the table/dataset rules of :mod:`harness.schema.rules`: text and provenance come
    from the rule, so they are written once."""

    rule: ClassVar[Rule]

    def __init_subclass__(cls, **kwargs: object) -> None:
        if "rule" in vars(cls):
            cls.status = cls.rule.status  # type: ignore[attr-defined]
            cls.reason = cls.rule.reason  # type: ignore[attr-defined]
            cls.template = cls.rule.template  # type: ignore[attr-defined]
            cls.confirmed = cls.rule.confirmed
            cls.searched = cls.rule.searched
        super().__init_subclass__(**kwargs)

    def __init__(self, violation: Violation) -> None:
        self.violation = violation
        self.field = violation.field
        super().__init__(violation.message, reason=violation.reason, status=violation.status)  # type: ignore[call-arg]

    @classmethod
    def of(cls, field: str | None, **values: object) -> Self:
        """This class's rule broken for ``field``, its message filled in from ``values``."""
        return cls(cls.rule.violation(field, **values))


class InvalidDatasetId(RuleViolation, InvalidRequestError):
    rule = rules.INVALID_DATASET_ID


class InvalidTableId(RuleViolation, InvalidRequestError):
    rule = rules.INVALID_TABLE_ID


class DuplicateField(RuleViolation, InvalidRequestError):
    rule = rules.DUPLICATE_FIELD


class RecordWithoutFields(RuleViolation, InvalidRequestError):
    rule = rules.RECORD_WITHOUT_FIELDS


class SchemaTooDeep(RuleViolation, InvalidRequestError):
    rule = rules.SCHEMA_TOO_DEEP


class InvalidFieldName(RuleViolation, InvalidRequestError):
    rule = rules.INVALID_FIELD_NAME


class ReservedFieldPrefix(RuleViolation, InvalidRequestError):
    rule = rules.RESERVED_FIELD_PREFIX


class PartitionFilterWithoutPartitioning(RuleViolation, InvalidRequestError):
    rule = rules.PARTITION_FILTER_WITHOUT_PARTITIONING


class PartitionExpirationNotPositive(RuleViolation, InvalidRequestError):
    rule = rules.PARTITION_EXPIRATION_NOT_POSITIVE


class PartitionedTableWithoutSchema(RuleViolation, InvalidRequestError):
    rule = rules.PARTITIONED_TABLE_WITHOUT_SCHEMA


class PartitionFieldNotFound(RuleViolation, InvalidRequestError):
    rule = rules.PARTITION_FIELD_NOT_FOUND


class PartitionFieldType(RuleViolation, InvalidRequestError):
    rule = rules.PARTITION_FIELD_TYPE


class PartitionFieldRepeated(RuleViolation, InvalidRequestError):
    rule = rules.PARTITION_FIELD_REPEATED


class DatePartitionedByHour(RuleViolation, InvalidRequestError):
    rule = rules.DATE_PARTITIONED_BY_HOUR


class TooManyClusteringFields(RuleViolation, InvalidRequestError):
    rule = rules.TOO_MANY_CLUSTERING_FIELDS


class ClusteredTableWithoutSchema(RuleViolation, InvalidRequestError):
    rule = rules.CLUSTERED_TABLE_WITHOUT_SCHEMA


class DuplicateClusteringField(RuleViolation, InvalidRequestError):
    rule = rules.DUPLICATE_CLUSTERING_FIELD


class ClusteringFieldNotFound(RuleViolation, InvalidRequestError):
    rule = rules.CLUSTERING_FIELD_NOT_FOUND


class ClusteringFieldType(RuleViolation, InvalidRequestError):
    rule = rules.CLUSTERING_FIELD_TYPE


class ClusteringFieldRepeated(RuleViolation, InvalidRequestError):
    rule = rules.CLUSTERING_FIELD_REPEATED


class TableAlreadyExists(RuleViolation, AlreadyExistsError):
    """409 for ``tables.insert`` of a table that exists (also the preflight's duplicate table)."""

    rule = rules.DUPLICATE_TABLE


#: The exception class of every rule, by the rule's code.
RULE_ERRORS: dict[str, type[RuleViolation]] = {
    cls.rule.code: cls for cls in RuleViolation.__subclasses__() if "rule" in vars(cls)
}


def error_for(violation: Violation) -> WarehouseError:
    """The exception the fake raises for ``violation``."""
    return RULE_ERRORS[violation.code](violation)  # type: ignore[return-value]


def raise_first(violations: Sequence[Violation]) -> None:
    """Raise the first violation, as BigQuery reports only the first rule a request breaks."""
    if violations:
        raise error_for(violations[0])


# ------------------------------------------------------------------------------ schema updates


class RequiredFieldAdded(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = (
        "Provided Schema does not match Table {table}. Cannot add required fields to an existing "
        "schema. (field: {field})"
    )
    confirmed = "mozilla/mozilla-schema-generator#63, stellar/stellar-etl-airflow#594"


class FieldRemoved(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Provided Schema does not match Table {table}. Cannot remove field: {field}"
    searched = (
        'BigQuery words it differently: "Provided Schema does not match Table harmonica-dev:'
        'Analytics.scammer_table. Field user_id is missing in new schema" '
        "(GoogleCloudPlatform/spring-cloud-gcp#544, from a load job); ours is kept until a "
        "tables.patch refusal is seen"
    )


class FieldTypeChanged(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = (
        "Provided Schema does not match Table {table}. Field {field} has changed type from {old} to {new}"
    )
    searched = (
        'searched issues for "Provided Schema does not match Table" + "has changed type from"; no '
        "real text found. The prefix is confirmed (RequiredFieldAdded), the rest is our wording"
    )


class FieldModeChanged(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = (
        "Provided Schema does not match Table {table}. Field {field} has changed mode from {old} to {new}"
    )
    searched = (
        '"Field <Field> has changed mode from REQUIRED to NULLABLE" is quoted without its prefix in '
        "GoogleCloudDataproc/spark-bigquery-connector#356; the whole text was not seen"
    )


class NestedFieldsChangeUnsupported(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = (
        "Provided Schema does not match Table {table}. Field {field} has changed its nested fields, "
        "which the BigQuery fake does not support"
    )
    searched = _FAKE_LIMIT


# ------------------------------------------------------------------------------------ queries


class StreamingBufferRefusal(BigQueryError, StreamingBufferError):
    """UPDATE, DELETE or MERGE touching rows still in the streaming buffer."""

    status = 400
    reason = "invalidQuery"
    template = (
        "UPDATE or DELETE statement over table {table} would affect rows in the streaming buffer, "
        "which is not supported"
    )
    confirmed = "dora-team/fourkeys#415 (table named project.dataset.table)"


class PartitionFilterRequired(BigQueryError, InvalidRequestError):
    """A query over a ``requirePartitionFilter`` table without a filter on its partitioning column."""

    status = 400
    reason = "invalidQuery"
    template = (
        "Cannot query over table '{table}' without a filter over column(s) '{columns}' that can be "
        "used for partition elimination"
    )
    confirmed = "mozilla/bigquery-etl#2673, googleapis/google-cloud-go#5013 (pseudo-column list)"


class UnqualifiedTable(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = 'Table "{table}" must be qualified with a dataset (e.g. dataset.table).'
    confirmed = "jOOQ/jOOQ#17035, Canner/wren-engine#318"


class QuerySyntaxError(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "Syntax error: {detail}"
    searched = (
        'BigQuery\'s own texts start "Syntax error: " (e.g. datacontract/datacontract-cli#736: '
        "'Syntax error: Unexpected \"[my-table-name]\" at [9:6]'); the detail after it is sqlglot's"
    )


class UnrecognizedName(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "Unrecognized name: {name}"
    searched = (
        'BigQuery\'s text adds the position, "Unrecognized name: ffff at [1:155]" '
        "(googleapis/python-bigquery#104, mozilla/bigquery-etl#1175); ours has none"
    )


class NullArrayElement(BigQueryError, InvalidRequestError):
    """A query result would hold an ARRAY with a NULL element."""

    status = 400
    reason = "invalidQuery"
    template = "Array cannot have a null element; error in writing field {path}"
    searched = (
        "BigQuery's text adds the position, \"Array cannot have a null element; error in writing "
        'field VMs at [5:1]" (GoogleCloudPlatform/security-analytics#46); ours has none'
    )


class NestedArray(BigQueryError, InvalidRequestError):
    """A query builds an ARRAY of ARRAYs (BigQuery has no nested arrays)."""

    status = 400
    reason = "invalidQuery"
    template = "Cannot construct array with element type {element} because nested arrays are not supported"
    searched = (
        "GoogleSQL's analyzer text (ZetaSQL compliance corpus, array_aggregation.test; the Cloud "
        "Spanner emulator's tests quote it too); BigQuery adds the position, which ours lacks"
    )


class CorrespondingNoCommonColumns(BigQueryError, InvalidRequestError):
    """An INNER (bare) ``CORRESPONDING`` whose inputs share no column name."""

    status = 400
    reason = "invalidQuery"
    template = "Queries of the set operation using CORRESPONDING do not have any columns in common"
    searched = (
        "GoogleSQL's analyzer gives this text (google/zetasql zetasql/analyzer/testdata/corresponding.test, "
        '"... do not have any columns in common [at 2:1]"); not seen from BigQuery itself, and ours has '
        "no position"
    )


class CorrespondingDuplicateColumn(BigQueryError, InvalidRequestError):
    """An input of a set operation matching columns by name has two columns of one name."""

    status = 400
    reason = "invalidQuery"
    template = "Duplicate columns found when using CORRESPONDING in set operations: {name} in query {query}"
    searched = (
        "GoogleSQL's analyzer gives this text (google/zetasql zetasql/analyzer/testdata/corresponding.test, "
        '"Duplicate columns found when using CORRESPONDING in set operations: col2 in query 2 [at 3:1]"); '
        "not seen from BigQuery itself, and ours has no position"
    )


class CorrespondingColumnsDiffer(BigQueryError, InvalidRequestError):
    """A strict set operation (``STRICT CORRESPONDING``, bare ``BY NAME``) whose inputs have
    different columns, or a ``BY`` list naming a column an input must have and lacks."""

    status = 400
    reason = "invalidQuery"
    template = "Column {name} is missing from query {query} of a set operation using CORRESPONDING"
    searched = (
        "searched the docs, issues and code for the GoogleSQL text of a STRICT CORRESPONDING or "
        '"CORRESPONDING BY" column mismatch (zetasql analyzer testdata corresponding*.test); none found. '
        "The wording is the fake's own"
    )


class RequiredFieldNull(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "Required field {column} cannot be null"
    confirmed = (
        'googleapis/python-bigquery-sqlalchemy#844 ("400 Required field updated_at cannot be null"), '
        "erezsh/Preql#37"
    )


class PositionalParametersNotSupported(BigQueryError, InvalidRequestError):
    """A ``?`` marker in a statement run without POSITIONAL parameters."""

    status = 400
    reason = "invalidQuery"
    template = "Positional parameters are not supported{where}"
    confirmed = (
        'metabase/metabase#6959 (a "?" in a BigQuery query sent without positional parameters: '
        '"Positional parameters are not supported at [6:86]"); the reason was not shown there'
    )


class QueryParameterNotFound(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "Query parameter '{name}' not found"
    searched = (
        "BigQuery's text adds the position, \"Query parameter 'param_16' not found at [9:25]\" "
        "(ibis-project/ibis#3953); ours has none"
    )


class ColumnAlreadyExists(BigQueryError, InvalidRequestError):
    """``ALTER TABLE ADD COLUMN`` of a column the table has."""

    status = 400
    reason = "invalidQuery"
    template = "Column already exists: {name}"
    searched = (
        'searched issues and pages for BigQuery "ALTER TABLE" "ADD COLUMN" "already exists" and '
        'find_string "Column already exists:"; only other databases\' texts (Postgres, ClickHouse) and '
        'BigQuery\'s tables.insert "Field first_name already exists in schema" (z3z1ma/target-bigquery#120, '
        "a different request) came up. The wording is the fake's own"
    )


class InvalidPartitionExpression(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = (
        "PARTITION BY expression must be _PARTITIONDATE, DATE(_PARTITIONTIME), "
        "DATE(<timestamp_column>), DATE(<datetime_column>), "
        "DATETIME_TRUNC(<datetime_column>, DAY/HOUR/MONTH/YEAR), a DATE column, "
        "TIMESTAMP_TRUNC(<timestamp_column>, DAY/HOUR/MONTH/YEAR), "
        "DATE_TRUNC(<date_column>, MONTH/YEAR), "
        "or RANGE_BUCKET(<int64_column>, GENERATE_ARRAY(<int64_value>, <int64_value>[, <int64_value>]))"
    )
    confirmed = (
        "dbt-labs/dbt-bigquery#486 (400 BadRequest for a CREATE TABLE ... PARTITION BY the DDL does not "
        'accept: "PARTITION BY expression must be _PARTITIONDATE, DATE(_PARTITIONTIME), '
        'DATE(<timestamp_column>), ..."); the same list in googleapis/python-bigquery-sqlalchemy#1056. '
        "The reason was not shown"
    )


class DivisionByZero(BigQueryError, InvalidRequestError):
    """``x / 0``, ``DIV(x, 0)`` or ``MOD(x, 0)`` (the fake names the last ``MOD(x, y)``)."""

    status = 400
    reason = "invalidQuery"
    template = "division by zero: {expression}"
    confirmed = (
        "Google's GoogleSQL reference implementation, shared/reference/zetasql/testdata/"
        'arithmetic_functions.test ("division by zero: 1 / 0"); BigQuery\'s 400 for SELECT 1 / 0 '
        'reads "division by zero" in ibis-project/ibis#1390'
    )


class UpdateMatchesManyRows(BigQueryError, InvalidRequestError):
    """``UPDATE ... FROM`` where one target row joins with several source rows."""

    status = 400
    reason = "invalidQuery"
    template = "UPDATE/MERGE must match at most one source row for each target row"
    searched = (
        "BigQuery's wording as users quote it for UPDATE ... FROM and MERGE; not found in the stored "
        "issue corpus (GoogleSQL's reference text differs: 'UPDATE with join requires that each row...')"
    )


class QueryFailed(BigQueryError, InvalidRequestError):
    """A statement DuckDB refused (a bad cast, a value out of range, a binder error...)."""

    status = 400
    reason = "invalidQuery"
    template = "{detail}"
    searched = "not BigQuery's text: the message is DuckDB's (a bad cast, a value out of range...)"


class CollationNotLiteral(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "The second argument of COLLATE() must be a string literal"
    searched = (
        "GoogleSQL's analyzer text (zetasql compliance corpus, collation.test); BigQuery adds the position"
    )


class InvalidIntervalLiteral(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "Invalid interval literal '{text}' for {span}"
    searched = (
        "not found quoted from BigQuery; wording after GoogleSQL's interval literal errors (unconfirmed)"
    )


class CollationConflict(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = 'Collation conflict: "{first}" vs. "{second}"'
    searched = (
        "GoogleSQL's analyzer text (zetasql compliance corpus, collation.test) starts so and names the "
        "operation after it; not seen quoted from BigQuery"
    )


class InvalidCastFormat(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "Invalid format: {format}"
    searched = "no BigQuery text found for an unknown CAST ... FORMAT name; unconfirmed wording"


class InvalidTimeZone(BigQueryError, InvalidRequestError):
    """A time zone name GoogleSQL does not know (a function argument or the ``time_zone``
    connection property)."""

    status = 400
    reason = "invalidQuery"
    template = "Invalid time zone: {zone}"
    searched = (
        "GoogleSQL's time zone loader (zetasql functions/date_time_util) words it \"Invalid time zone: "
        '<name>"; not seen quoted from BigQuery itself'
    )


class KeyTypeNotConstant(BigQueryError, InvalidRequestError):
    """``KEYS.NEW_KEYSET(NULL)`` or of a column: the key type is fixed when the query is read."""

    status = 400
    reason = "invalidQuery"
    template = "First argument (key type) in function {function} must be a string literal or query parameter"
    searched = "the GoogleSQL reference's text (compliance corpus, keys.test); BigQuery's own not seen"


class ScriptRaised(BigQueryError, InvalidRequestError):
    """A script's ``RAISE USING MESSAGE = ...``: the job fails with the script's own message."""

    status = 400
    reason = "invalidQuery"
    template = "{detail}"
    searched = "BigQuery's RAISE docs: the error's message is the USING MESSAGE text; the reason is not given"


class UnsupportedByFake(BigQueryError, InvalidRequestError):
    """Something BigQuery accepts that the fake or the emulator does not do (yet)."""

    status = 400
    reason = "invalidQuery"
    template = "{detail}"
    searched = _FAKE_LIMIT

    def __init__(self, detail: str, *, reason: str = "invalidQuery") -> None:
        super().__init__(detail=detail)
        self.reason = reason


# ------------------------------------------------------------------------------ query parameters


class UnsupportedParameterType(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "Unsupported query parameter type: {type}"
    searched = (
        'searched issues for "Unsupported query parameter type" and a BigQuery 400 for an unknown '
        'parameterType.type; found only client-side refusals ("Invalid type provided: \\"JSON\\"" in '
        "googleapis/nodejs-bigquery#1320, raised before any request). The wording is the fake's own"
    )


class InvalidParameterValue(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "Invalid value for query parameter of type {type}: {detail}"
    searched = (
        'BigQuery words a TIMESTAMP parameter it cannot parse "Unparseable query parameter `ts_value` in '
        "type `TYPE_TIMESTAMP`, Invalid timestamp: '1.4810976E9' value: '1.4810976E9'\" with reason "
        '"invalid" (a job\'s errorResult, googleapis/google-cloud-python#4246); other types were not '
        "seen. Ours is kept: the fake does not carry the parameter's name to this point, and the reason "
        "of jobs.query's synchronous 400 was not seen (searched issues and find_string for "
        '"Unparseable query parameter")'
    )


class InvalidJsonParameterValue(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "Invalid JSON query parameter value: {value}"
    searched = (
        "searched issues for a BigQuery 400 on a JSON query parameter whose value is not JSON; found "
        "only client libraries lacking the JSON type (googleapis/nodejs-bigquery#1320, "
        "googleapis/google-cloud-php#5832). The wording is the fake's own"
    )


class InvalidParameterMode(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid value for parameterMode: {mode}"
    searched = (
        'searched issues for "parameterMode" 400s; the nearest is "Invalid value for: null is not a valid '
        'value" (reason invalid, companykitchen/big_query#16), whose cause is not shown to be the '
        'parameterMode. Follows that "Invalid value for" wording; the rest is the fake\'s own'
    )


class ParameterTypeMissing(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Query parameter {name} has no parameterType"
    searched = (
        'searched issues for a BigQuery 400 on a query parameter without "parameterType"; found only '
        "client libraries that cannot infer a type (googleapis/nodejs-bigquery#703, "
        "googleapis/nodejs-bigquery#915). The "
        "wording is the fake's own"
    )


class PositionalParameterTypeMissing(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Query parameter has no parameterType"
    searched = (
        'searched with ParameterTypeMissing (issues, "parameterType" 400s); nothing for the positional '
        "case either. The wording is the fake's own"
    )


class PositionalInNamedMode(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "POSITIONAL query parameters cannot be used in NAMED parameter mode"
    confirmed = (
        'Logflare/logflare#2790 (400, reason invalid, "POSITIONAL query parameters cannot be used in NAMED '
        'parameter mode")'
    )


class InvalidQueryParameters(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid query parameters: {detail}"
    searched = (
        "a malformed queryParameters structure (the detail is Python's exception); searched issues for "
        "BigQuery 400s on malformed queryParameters and found none. The wording is the fake's own"
    )


class PositionalParameterCount(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalidQuery"
    template = "The query has {count} positional parameters (?) and the request gives {given}"
    searched = (
        'searched issues for BigQuery\'s refusal of more "?" markers than POSITIONAL parameters; found '
        'none (the nearest, "named parameter and positional parameter cannot be used together" in '
        "huandu/go-sqlbuilder#198, is another situation). The wording is the fake's own"
    )


# ------------------------------------------------------------------------------- REST requests


class RequiredParameterMissing(BigQueryError, InvalidRequestError):
    status = 400
    reason = "required"
    template = "Required parameter is missing: {name}"
    searched = (
        'BigQuery\'s 400 reason "required" reads "Required parameter is missing" in '
        'googleapis/google-api-ruby-client#281; the ": <name>" suffix was not seen from BigQuery itself'
    )


class InvalidJsonPayload(BigQueryError, InvalidRequestError):
    status = 400
    reason = "parseError"
    template = "Invalid JSON payload received. {detail}"
    searched = (
        'the prefix is BigQuery\'s (parseError "Invalid JSON payload received. Expected a value." in '
        'apache/beam#21621, "... Unknown name ..." in r-dbi/bigrquery#280); the detail after it is '
        "Python's JSON decoder's"
    )


class NotAnObject(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid value at '{key}': expected an object"
    searched = (
        "follows the wording of Google's JSON-to-proto 400s, \"Invalid value at 'data.values[0]' "
        '(type.googleapis.com/google.protobuf.ListValue), \\"A\\"" (Sheets API, burnash/gspread#668); '
        "no BigQuery text for a non-object field was found (searched issues)"
    )


class InvalidArgument(BigQueryError, InvalidRequestError):
    """A query-string argument that is not a non-negative integer."""

    status = 400
    reason = "invalid"
    template = "Invalid value for {name}: {value}"
    searched = (
        'searched issues for a BigQuery 400 on a bad maxResults/startIndex ("Invalid unsigned integer '
        'value", "maxResults"); found other Google APIs\' wordings ("Invalid value \'500\'. Values must be '
        "within the range: [1, 200]\", taers232c/GAMADV-X#84, reason invalidParameter), not BigQuery's. "
        "The wording is the fake's own"
    )


class InvalidPageToken(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid page token: {token}"
    searched = (
        'searched issues and pages for BigQuery "Invalid page token" / a bad pageToken 400 and '
        "find_string \"Invalid page token\"; only other services' texts. The wording is the fake's own"
    )


class InvalidTableResource(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid table resource: {detail}"
    searched = (
        "searched issues for tables.insert 400s on a malformed table resource; none found for BigQuery. "
        "The wording is the fake's own, the detail Python's exception"
    )


class InvalidTableSchema(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid table schema: {detail}"
    searched = (
        "searched with InvalidTableResource (issues, tables.insert 400s); floci-io/floci-gcp#262 says real "
        "BigQuery refuses a nameless field at tables.insert but quotes no text. The wording is the "
        "fake's own, the detail Python's exception"
    )


class RowsNotAList(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "rows must be a list"
    searched = (
        "googleapis/google-cloud-python#10132 reports BigQuery's 400 for insertAll rows sent as an object, "
        "but quotes no text (searched issues for insert_rows_json with a dict). The wording is the "
        "fake's own"
    )


class RowWithoutJson(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Each row needs a json object"
    searched = (
        'searched issues for insertAll rows without "json"; found only "No rows present in the request" '
        "(googleapis/google-api-ruby-client#220), whose request is not shown to lack json. The wording "
        "is the fake's own"
    )


class UrlNotFound(BigQueryError, NotFoundError):
    status = 404
    reason = "notFound"
    template = "Not found: URL {path}"
    searched = (
        'follows BigQuery\'s "Not found: <kind> <name>" texts (DatasetNotFound...). An unknown path gets '
        "an HTML 404 page from Google's front end, not a JSON error (cloudyr/bigQueryR#52: \"invalid "
        'char in json text. <!DOCTYPE html>"); searched issues for its exact text, not found'
    )


class MethodNotAllowed(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Method {method} not allowed on {path}"
    searched = (
        "searched issues for BigQuery's answer to a known path with the wrong HTTP method; none found. "
        "The wording and the 400 are the fake's own"
    )


# ---------------------------------------------------------------------------------- insert rows


class InsertRowsRejected(BigQueryError, InsertRowsError):
    """Rows refused by an insert: all-or-nothing, with BigQuery's per-row errors."""

    status = 400
    reason = "invalid"
    template = "{bad} of {total} rows were rejected"
    searched = (
        "not BigQuery's text: tabledata.insertAll answers 200 with insertErrors (the REST emulator "
        "does too); the in-process fake raises this summary carrying the same per-row errors"
    )

    def __init__(self, row_errors: Sequence[RowError], total: int) -> None:
        bad = len({error.index for error in row_errors})
        self.values = {"bad": bad, "total": total}
        InsertRowsError.__init__(self, self.template.format(bad=bad, total=total), row_errors)


# ----------------------------------------------------------------- values refused in a row


class ValueRejected(RealError, ValueError):
    """A value BigQuery refuses for a column: reported per row (``insertErrors``, reason
    ``invalid``) with the dotted field path as ``location``; a query parameter's bad value
    becomes :class:`InvalidParameterValue`."""

    reason: ClassVar[str] = "invalid"
    template: ClassVar[str]

    def __init__(self, location: str, **values: object) -> None:
        self.location = location
        self.message = self.template.format(**values)
        super().__init__(self.message)

    def row_error(self, index: int) -> RowError:
        """This refusal as the ``insertErrors`` entry of row ``index``."""
        return RowError(index=index, reason=self.reason, message=self.message, location=self.location)


class NoSuchField(ValueRejected):
    template = "no such field: {field}."
    confirmed = "google/weather-tools#94 (insertErrors: reason invalid, location = the field)"


class MissingRequiredField(ValueRejected):
    template = "Missing required field: {field}."
    searched = 'searched issues for insertAll "Missing required field"; no real text found. Our wording'


class ArrayForNonRepeatedField(ValueRejected):
    template = "Array specified for non-repeated field: {field}."
    confirmed = (
        'glific/glific#3477 (insertErrors: reason invalid, location "fields[0].value", message "Array '
        "specified for non-repeated field: value.\" - the field's own name, the path in location); "
        "confluentinc/kafka-connect-bigquery#96"
    )


class NullInRepeatedField(ValueRejected):
    template = "Cannot insert null into repeated field {field}."
    searched = (
        'searched issues for insertAll with a null array element and find_string "Only optional fields '
        'can be set to NULL"; googleapis/google-cloud-dotnet#897 says BigQuery refuses null elements but '
        'quotes no text, and "Only optional fields can be set to NULL. Field: x; Value: NULL" is a load '
        "job's text. The wording is the fake's own"
    )


class NotARecord(ValueRejected):
    template = "This field: {field} is not a record."
    searched = (
        'BigQuery\'s "This field: parameters is not a record." (confluentinc/kafka-connect-bigquery#370) '
        "answers the opposite case, an object sent for a non-RECORD (JSON) column; the text for a "
        'non-object sent for a RECORD field was not found (searched issues and find_string "is not a '
        'record."). Ours borrows that wording'
    )


class InvalidDecimal(ValueRejected):
    template = "Invalid {type} value: {value}"
    confirmed = 'airbytehq/airbyte#62106 ("Invalid NUMERIC value: 37,5"; the BIGNUMERIC form was not seen)'


class InvalidDatetimeString(ValueRejected):
    template = 'Invalid datetime string "{value}"'
    searched = (
        'searched issues and pages for insertAll DATETIME refusals and find_string "Invalid datetime '
        "string\"; no BigQuery text. The wording is the fake's own"
    )


class UnparsableTimestamp(ValueRejected):
    template = "Could not parse '{value}' as a timestamp. Required format is YYYY-MM-DD HH:MM[:SS[.SSSSSS]]"
    confirmed = (
        'fluent/fluent-plugin-sql#46 (streaming insert: reason invalid, location created_at, "Could not '
        "parse '2017-03-13 07:21:09.177000+0000' as a timestamp. Required format is "
        'YYYY-MM-DD HH:MM[:SS[.SSSSSS]]")'
    )


class CannotConvert(ValueRejected):
    template = "Cannot convert value to {kind} (bad value): {value}"
    confirmed = (
        "GoogleCloudPlatform/cluster-toolkit#3944 (insertErrors: reason invalid, location job_db_uuid, "
        '"Cannot convert value to integer (bad value): 9797115724809186304"); the "floating point" kind in '
        "GoogleCloudPlatform/DataflowTemplates#22 and googleapis/nodejs-bigquery#45. Other kinds were "
        "not seen"
    )


class UnsupportedColumnType(ValueRejected):
    template = "Unsupported type {type}"
    searched = _FAKE_LIMIT


# ------------------------------------------------------------------------ window functions

_ZETASQL_ANALYTIC = "Google's GoogleSQL reference implementation, shared/reference/zetasql/testdata/"


class WindowFramingNotAllowed(BigQueryError, InvalidRequestError):
    """A window frame on a numbering or navigation function (ROW_NUMBER, RANK, LAG, ...)."""

    status = 400
    reason = "invalidQuery"
    template = "Window framing clause is not allowed for analytic function {function}"
    confirmed = (
        f"{_ZETASQL_ANALYTIC}analytic_row_number.test and analytic_lag.test (the text; BigQuery adds "
        "the position, ours has none)"
    )


class LagDefaultNotConstant(BigQueryError, InvalidRequestError):
    """LAG / LEAD with a default (third argument) that reads a column."""

    status = 400
    reason = "invalidQuery"
    template = "The third argument (the default expression) to {function} must be constant"
    confirmed = f"{_ZETASQL_ANALYTIC}analytic_lag.test (lag_non_constant_default_expr)"


class FunctionOutOfRange(BigQueryError, InvalidRequestError):
    """A function refused its arguments at run time (a negative length, an output over 1MB, an
    array index out of bounds...): BigQuery's ``OUT_OF_RANGE`` texts, a 400 ``invalidQuery``."""

    status = 400
    reason = "invalidQuery"
    template = "{message}"
    searched = (
        "the texts are those of Google's GoogleSQL reference implementation (shared/reference/zetasql/"
        'testdata: strings.test "Third argument in SUBSTR() cannot be negative", array_functions.test '
        '"Array index 2 is out of bounds"); BigQuery\'s own wording for each was not observed'
    )


# ------------------------------------------------------------ copy, extract and query destinations


class BytesBilledLimitExceeded(BigQueryError, InvalidRequestError):
    """A query whose estimated bill is over ``maximumBytesBilled``: it fails before running."""

    status = 400
    reason = "bytesBilledLimitExceeded"
    template = "Query exceeded limit for bytes billed: {limit}. {required} or higher required."
    confirmed = (
        'exmergo/dex#320 ("Query exceeded limit for bytes billed: 163595928. 164626432 or higher required.")'
    )


class DestinationNotEmpty(BigQueryError, AlreadyExistsError):
    """``WRITE_EMPTY`` into a table that has rows (a copy job or a query's destination)."""

    status = 409
    reason = "duplicate"
    template = "Already Exists: Table {project}:{dataset_id}.{table_id}"
    searched = (
        "searched issues for WRITE_EMPTY failures of copy and query jobs; found the disposition "
        "described as failing with a duplicate error (googleapis/java-bigquerystorage#2181) but not "
        "the text; the wording is tables.insert's confirmed 409"
    )


class DestinationWithDml(BigQueryError, InvalidRequestError):
    """A query job with a ``destinationTable`` whose statement is DML or DDL."""

    status = 400
    reason = "invalidQuery"
    template = "Cannot set destination table in jobs with DML statements"
    confirmed = (
        "google-marketing-solutions/crmint#105 (the text); reason from data-integrations/google-cloud#946"
    )


class SchemaFieldAdditionRefused(BigQueryError, InvalidRequestError):
    """Appending rows with a column the destination lacks, without ``ALLOW_FIELD_ADDITION``."""

    status = 400
    reason = "invalid"
    template = (
        "Provided Schema does not match Table {project}:{dataset_id}.{table_id}. "
        "Cannot add fields (field: {field})"
    )
    confirmed = (
        'firebase/extensions#1312 ("Cannot add fields (field: old_data)"), the prefix from '
        "stellar/stellar-etl-airflow#594 (400, reason invalid)"
    )


class IncompatibleCopySchemas(BigQueryError, InvalidRequestError):
    """A copy job whose source tables (or destination, when appending) have different schemas."""

    status = 400
    reason = "invalid"
    template = "Incompatible table schemata between tables: {first}, {second}"
    confirmed = (
        'mozilla/bigquery-etl#9722 ("Incompatible table schemata between tables: p:d.t, ..."); the '
        "second table's place after the comma is read from that truncated quote"
    )


class CloneWriteDisposition(BigQueryError, InvalidRequestError):
    """A CLONE (or SNAPSHOT) copy with a write disposition other than WRITE_EMPTY."""

    status = 400
    reason = "invalid"
    template = (
        "Clone operation with write disposition {disposition} is not supported. "
        "Please try again with WRITE_EMPTY."
    )
    confirmed = "GoogleCloudPlatform/bigquery-utils#486 (bq cp --clone)"


class UnsupportedExtractDestination(BigQueryError, InvalidRequestError):
    """An extract destination URI that is not ``gs://bucket/object``."""

    status = 400
    reason = "invalid"
    template = "Invalid extract destination URI '{uri}'. Must be a valid Google Storage path."
    searched = (
        "searched issues for BigQuery's refusal of a non-gs:// extract destination; not found, the "
        "wording is ours"
    )


class RoutineNotFound(BigQueryError, NotFoundError):
    """routines.get/update/delete (and getIamPolicy) of a routine the dataset does not hold."""

    status = 404
    reason = "notFound"
    template = "Not found: Routine {project}:{dataset_id}.{routine_id}"
    searched = (
        'issues and code for "Not found: Routine": only other emulators\' texts (none from the service); '
        "our wording follows the confirmed TableNotFound"
    )


class RoutineAlreadyExists(BigQueryError, AlreadyExistsError):
    """routines.insert of a routine the dataset already holds."""

    status = 409
    reason = "duplicate"
    template = "Already Exists: Routine {project}:{dataset_id}.{routine_id}"
    searched = (
        'issues and code for "Already Exists: Routine": only other emulators\' texts; our wording '
        "follows the confirmed 'Already Exists: Table p:d.t'"
    )


class ProcedureNotFound(BigQueryError, NotFoundError):
    """``CALL`` of a procedure the dataset does not hold."""

    status = 404
    reason = "notFound"
    template = "Procedure is not found: {path} at [{line}:{column}]"
    confirmed = "GoogleCloudPlatform/marketing-analytics-jumpstart#266 (CALL of a missing procedure)"


class RoutineFieldMissing(BigQueryError, InvalidRequestError):
    """A routine resource without a field the API requires (routineType, definitionBody)."""

    status = 400
    reason = "invalid"
    template = "Required field {name} not specified"
    searched = (
        "issues for routines.insert without routineType/definitionBody: no text found; the wording is ours"
    )


class PolicyEtagMismatch(BigQueryError, InvalidRequestError):
    """``setIamPolicy`` with an ``etag`` that is no longer the policy's: another writer won."""

    status = 409
    reason = "aborted"
    template = (
        "There were concurrent policy changes. Please retry the whole read-modify-write with "
        "exponential backoff."
    )
    searched = (
        'issues for the IAM setIamPolicy etag conflict ("concurrent policy changes"): the text is the one '
        "Google's IAM APIs are commonly quoted with; not observed from BigQuery's tables.setIamPolicy"
    )


class RoutineTypeChanged(BigQueryError, InvalidRequestError):
    """``CREATE OR REPLACE`` / routines.update that would turn a routine into another kind."""

    status = 400
    reason = "invalid"
    template = "Cannot replace routine of type {old} with a different type {new}"
    confirmed = "GoogleCloudPlatform/magic-modules#4109 (review: the API's answer to a routineType change)"


class PreconditionFailed(BigQueryError, InvalidRequestError):
    """An update sent with ``If-Match`` whose etag is no longer the resource's (a concurrent edit)."""

    status = 412
    reason = "failedPrecondition"
    template = "Precondition check failed."
    confirmed = (
        "googleapis/python-bigquery#772 (PATCH table: 'Precondition check failed.'); the 412 body with "
        "reason failedPrecondition quoted in apache/iceberg#14779"
    )


class PartitioningAdded(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Cannot convert non-partitioned table to partitioned table."
    confirmed = (
        "the service's answer to a tables.patch adding timePartitioning, googleapis/google-cloud-ruby#1646"
    )


class PartitioningChanged(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Cannot change partitioning spec for table {table}: only the partition expiration may change"
    searched = (
        "searched issues for a tables.patch changing timePartitioning type or field; found "
        '"Cannot replace a table with a different partitioning spec" (dataform-co/dataform#590), '
        "which is the text of CREATE OR REPLACE, not of a patch. The wording is the fake's own"
    )


class FieldNotHonoured(BigQueryError, InvalidRequestError):
    """A resource field the emulator would otherwise have to drop silently."""

    status = 400
    reason = "invalid"
    template = "The emulator does not support the {kind} field {field} yet"
    searched = _FAKE_LIMIT


class DatasetLocationChanged(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Cannot change location of dataset {project}:{dataset_id} from {old} to {new}"
    searched = (
        "searched issues for a datasets.patch/update with another location; found only that a dataset's "
        "location cannot be changed after creation (the documentation), no quoted error. The wording is "
        "the fake's own"
    )


# ----------------------------------------------------------------------- load jobs and uploads
# A load job that fails is a DONE job carrying one of these in ``status.errorResult``; a record it
# refuses is a :class:`ValueRejected` subclass listed in ``status.errors``.

_LOAD_SEARCHED = (
    "searched issues and code for BigQuery load-job texts; this one was not seen whole. Our wording "
    "follows the shape of the confirmed load texts (HTTPArchive/legacy.httparchive.org#129)"
)


class LoadTooManyErrors(BigQueryError, InvalidRequestError):
    """More refused records than ``maxBadRecords`` allows: the job's ``errorResult``."""

    status = 400
    reason = "invalid"
    template = (
        "Error while reading data, error message: {format} table encountered too many errors, giving up. "
        "Rows: {rows}; errors: {errors}. Please look into the errors[] collection for more details."
    )
    confirmed = (
        "a real load Job resource kept in viant/bqtail's tests (JSON: status.errorResult and errors[0]); "
        'HTTPArchive/legacy.httparchive.org#129 quotes the CSV variant ("CSV table encountered too many '
        'errors, giving up. Rows: 2447; errors: 1.")'
    )


class LoadProcessingTooManyErrors(BigQueryError, InvalidRequestError):
    """The second entry of a failed load's ``status.errors``: the count against ``maxBadRecords``."""

    status = 400
    reason = "invalid"
    template = (
        "Error while reading data, error message: {format} processing encountered too many errors, "
        "giving up. Rows: {rows}; errors: {errors}; max bad: {max_bad}; error percent: 0"
    )
    confirmed = "a real load Job resource kept in viant/bqtail's tests (status.errors[1], a JSON load)"


class LoadTableNotEmpty(BigQueryError, AlreadyExistsError):
    """``writeDisposition: WRITE_EMPTY`` into a table that holds rows."""

    status = 409
    reason = "duplicate"
    template = "Already Exists: Table {project}:{dataset_id}.{table_id}"
    confirmed = 'dbcrossbar/dbcrossbar#36 ("Already Exists: Table myproj-111:foo.bar" from a load)'


class LoadNoSchema(BigQueryError, InvalidRequestError):
    """A load into a new table with neither a schema nor ``autodetect`` (nor a self-describing file)."""

    status = 400
    reason = "invalid"
    template = "No schema specified on job or table."
    confirmed = (
        'public code quoting the 400 of jobs.insert ("400 POST bigquery/v2/projects/.../jobs: No schema '
        'specified on job or table."), found by exact text'
    )


class LoadFieldMissing(BigQueryError, InvalidRequestError):
    """A load's schema leaves out a column of the existing table."""

    status = 400
    reason = "invalid"
    template = "Provided Schema does not match Table {table}. Field {field} is missing in new schema"
    confirmed = "GoogleCloudPlatform/spring-cloud-gcp#544 (a load job)"


class LoadFieldAdded(BigQueryError, InvalidRequestError):
    """A load's schema adds a column without ``schemaUpdateOptions: ALLOW_FIELD_ADDITION``."""

    status = 400
    reason = "invalid"
    template = "Provided Schema does not match Table {table}. Cannot add fields (field: {field})"
    confirmed = (
        'public failure logs found by exact text: a Data Transfer load of Parquet ("Provided Schema does '
        'not match Table p:market_data.stg_prices_polygon_raw. Cannot add fields (field: date)") and a '
        "Dataflow write to BigQuery"
    )


class LoadSourceUnreadable(BigQueryError, InvalidRequestError):
    """An uploaded file the format's reader cannot read (a corrupt Parquet file, bad encoding)."""

    status = 400
    reason = "invalid"
    template = "Error while reading data, error message: {detail}"
    searched = 'searched issues for "Error while reading data, error message"; ' + _LOAD_SEARCHED


class InvalidUploadType(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid upload type: {value}. Use uploadType=multipart or uploadType=resumable"
    searched = "searched for the upload endpoint's answer to a bad uploadType; not found. Our wording"


class UploadNotFound(BigQueryError, NotFoundError):
    """A ``PUT`` to a resumable session the emulator never opened (or already finished)."""

    status = 404
    reason = "notFound"
    template = "Not found: Upload session {upload_id}"
    searched = "searched for the resumable endpoint's answer to an unknown upload_id; not found. Our wording"


class InvalidContentRange(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid Content-Range header: {value}"
    searched = "searched for the resumable endpoint's answer to a bad Content-Range; not found. Our wording"


class InvalidMultipartBody(BigQueryError, InvalidRequestError):
    status = 400
    reason = "invalid"
    template = "Invalid multipart request: {detail}"
    searched = "searched for the upload endpoint's answer to a malformed multipart body; not found. Ours"


class CsvTooFewColumns(ValueRejected):
    template = (
        "CSV table references column position {position}, but line starting at position:{offset} "
        "contains only {count} columns."
    )
    confirmed = "HTTPArchive/legacy.httparchive.org#129 (the same text from a CSV load)"


class CsvTooManyColumns(ValueRejected):
    template = "Too many values in row starting at position: {offset}."
    searched = 'searched issues for "Too many values in row starting at position"; ' + _LOAD_SEARCHED


class CsvQuotedNewline(ValueRejected):
    template = (
        "Error detected while parsing row starting at position: {offset}. "
        'Error: Missing close double quote (") character.'
    )
    confirmed = (
        "public code found by exact text: an upload UI's test quoting BigQuery (\"Error while reading data, "
        "error message: Error detected while parsing row starting at position: 52. Error: Missing close "
        'double quote (") character.") and several write-ups of the same load error'
    )


class CsvValueUnparsable(ValueRejected):
    template = (
        "Could not parse '{value}' as {type} for field {field} (position {position}) "
        "starting at location {offset} with message 'Unable to parse'"
    )
    confirmed = (
        "a public write-up of a bq load found by exact text (\"Could not parse 'NULL' as INT64 for field "
        "Bike_Id (position 8) starting at location 5061057 with message 'Unable to parse'\"; its quotes "
        "typeset)"
    )


class JsonRowUnparsable(ValueRejected):
    template = "JSON parsing error in row starting at position {offset}: {detail}"
    confirmed = (
        "a real load Job resource kept in viant/bqtail's tests (status.errors, after the prefix "
        '"Error while reading data, error message: "); "No such field: x." as the detail in public bq '
        "load output"
    )


# ------------------------------------------------------------------------ resources and deadlines


class ResourcesExceeded(BigQueryError, InvalidRequestError):
    """A statement needed more memory than the engine may use (DuckDB's memory limit): the
    query fails, the engine and every other request carry on."""

    status = 400
    reason = "resourcesExceeded"
    template = (
        "Resources exceeded during query execution: The query could not be executed in the allotted "
        "memory. Peak usage: {peak}% of limit.\nTop memory consumer(s):\n  other/unattributed: 100%\n"
    )
    confirmed = (
        "fivetran/great_expectations#7286 and googleapis/python-bigquery-pandas#614 (400, the same "
        "sentences; the peak and the consumer list are the fake's own measure)"
    )


class ResponseTooLarge(BigQueryError, InvalidRequestError):
    """A query result over the emulator's output limit, refused before it is held in memory."""

    status = 403
    reason = "responseTooLarge"
    template = (
        "Response too large to return. Consider specifying a destination table in your job "
        "configuration. For more details, see https://cloud.google.com/bigquery/troubleshooting-errors"
    )
    confirmed = "estuary/connectors#5227 (googleapi: Error 403 ..., responseTooLarge), r-dbi/bigrquery#494"


class JobTimedOut(BigQueryError, InvalidRequestError):
    """The job ran past its ``jobTimeoutMs``: its statement is cancelled and the job fails."""

    status = 499
    reason = "stopped"
    template = "Job execution was cancelled: Job timed out after {seconds} sec"
    confirmed = (
        "a job stopped at job_timeout_ms, observed in a public service's BigQuery error handling: "
        "reason stopped, 'Job execution was cancelled: Job timed out after 2 sec', raised by "
        "google-cloud-bigquery as Cancelled (HTTP 499)"
    )


class JobCancelled(BigQueryError, InvalidRequestError):
    """A client cancelled the running job (``jobs.cancel``)."""

    status = 499
    reason = "stopped"
    template = "Job execution was cancelled: User requested cancellation"
    confirmed = (
        "jobs.cancel of a running job, observed in public BigQuery clients' tests and error "
        "handling (a JDBC driver's cancel test, a service's job-state mapping): reason stopped, "
        "HTTP 499 CANCELLED on jobs.query"
    )


# ------------------------------------------- models, row access policies, Cloud Storage loads


class ModelNotFound(BigQueryError, NotFoundError):
    """models.get/patch/delete of a model the dataset does not hold (the emulator holds none)."""

    status = 404
    reason = "notFound"
    template = "Not found: Model {project}:{dataset_id}.{model_id}"
    searched = (
        'issues and code for "Not found: Model": only other services\' texts; our wording follows the '
        "confirmed TableNotFound"
    )


class RowAccessPolicyNotFound(BigQueryError, NotFoundError):
    """rowAccessPolicies.get/update/delete and ``DROP ROW ACCESS POLICY`` of a policy the table lacks."""

    status = 404
    reason = "notFound"
    template = "Not found: Row access policy {policy_id} on table {project}:{dataset_id}.{table_id}"
    searched = (
        'code for "Not found: Row access policy": public code matching BigQuery\'s answer to DROP ROW '
        'ACCESS POLICY by its start ("Not found: Row access policy bdpro_filter on table"); how the '
        "table is written after it follows the confirmed TableNotFound"
    )


class RowAccessPolicyAlreadyExists(BigQueryError, AlreadyExistsError):
    """rowAccessPolicies.insert / ``CREATE ROW ACCESS POLICY`` of a policy id the table already has."""

    status = 409
    reason = "duplicate"
    template = "Already Exists: Row access policy {policy_id} on table {project}:{dataset_id}.{table_id}"
    searched = (
        'code and issues for "Already Exists: Row access policy": nothing; our wording joins the '
        "confirmed DatasetAlreadyExists to RowAccessPolicyNotFound's naming"
    )


class SourceUriNotFound(BigQueryError, NotFoundError):
    """A load job whose ``gs://`` source URI (or wildcard) names no object in the emulated bucket."""

    status = 404
    reason = "notFound"
    template = "Not found: URI {uri}"
    confirmed = (
        "FirebaseExtended/codelab-contentrecommendation-android#5: a user quoting BigQuery's answer to a "
        'load from a missing object ("Not found: URI gs://firebase-recommendations")'
    )


class InvalidSnapshotTime(BigQueryError, InvalidRequestError):
    """A snapshot decorator (``t@<ms>``) naming a moment before the table existed."""

    status = 400
    reason = "invalid"
    template = (
        "Invalid snapshot time {at} for table {project}:{dataset_id}.{table_id}. Cannot read before {created}"
    )
    searched = (
        'code and issues for "Invalid snapshot time": only unrelated projects\' texts; the Python samples '
        "say only that snapshotting a table before its creation is an error; our wording"
    )
