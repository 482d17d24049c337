"""Load jobs: uploaded CSV, newline-delimited JSON or Parquet into a table, as BigQuery loads.

The job reads and checks every record first, then touches the destination (create, truncate,
schema update) and appends the good rows in one insert, so a load that fails leaves the table as
it was. Rows loaded are not streamed: they never sit in the streaming buffer, and DML sees them
at once. A failed load is a DONE job whose ``status.errorResult`` carries the error; refused
records are listed in ``status.errors`` whether or not ``maxBadRecords`` let the job succeed.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    FieldModeChanged,
    LoadFieldAdded,
    LoadFieldMissing,
    LoadNoSchema,
    LoadProcessingTooManyErrors,
    LoadSourceUnreadable,
    LoadTableNotEmpty,
    LoadTooManyErrors,
    RequiredParameterMissing,
    TableNotFound,
    UnsupportedByFake,
    raise_first,
)
from fakes.bigquery.load_autodetect import csv_schema
from fakes.bigquery.load_options import CSV, PARQUET, LoadOptions, load_options
from fakes.bigquery.load_sources import SourceRows, read_csv, read_ndjson, read_parquet
from fakes.bigquery.models import Job, JobStore
from harness.ports import TableInfo, WarehouseError
from harness.schema import rules
from harness.schema.spec import FieldMode, FieldSpec, TableSpec

#: Lines autodetection reads to decide whether a CSV starts with a header.
_HEADER_SAMPLE = 100


@dataclass(frozen=True)
class LoadOutcome:
    """What a finished load reports in ``statistics.load`` and ``status.errors``."""

    output_rows: int
    output_bytes: int
    bad_records: int
    errors: list[dict[str, str]]


def start_load_job(
    engine: BigQueryEngine, jobs: JobStore, project: str, resource: Mapping[str, Any], data: bytes
) -> Job:
    """Run the load job ``resource`` (a Job with ``configuration.load``) over the uploaded bytes.

    A request BigQuery refuses outright raises (a 400 of the upload); anything that fails while
    the job runs is the job's error, as BigQuery reports it through ``jobs.get``.
    """
    configuration = resource.get("configuration")
    load = configuration.get("load") if isinstance(configuration, Mapping) else None
    if not isinstance(load, Mapping):
        raise RequiredParameterMissing(name="configuration.load")
    options = load_options(project, load)
    _check_schema_source(engine, options)
    reference = resource.get("jobReference") if isinstance(resource.get("jobReference"), Mapping) else {}
    location = reference.get("location")
    if location is None:
        try:
            location = engine.get_dataset(options.project, options.dataset_id).location
        except WarehouseError:
            location = None
    job = jobs.accept(project, dict(configuration), reference.get("jobId"), location, job_type="LOAD")
    statistics: dict[str, str] = {"inputFiles": "1", "inputFileBytes": str(len(data))}
    try:
        outcome = run_load(engine, options, data)
    except LoadRejected as rejected:
        job.error = rejected.error
        job.status_errors = [_entry(rejected.error), _entry(rejected.count), *rejected.errors]
        statistics |= {"outputRows": "0", "badRecords": str(len(rejected.errors))}
    except WarehouseError as exc:
        job.error = exc
        job.status_errors = [_entry(exc)]
    else:
        statistics |= {
            "outputRows": str(outcome.output_rows),
            "outputBytes": str(outcome.output_bytes),
            "badRecords": str(outcome.bad_records),
        }
        if outcome.errors:
            job.status_errors = outcome.errors
    job.statistics["load"] = statistics
    return job


def _check_schema_source(engine: BigQueryEngine, options: LoadOptions) -> None:
    """BigQuery refuses the request itself (a 400 of jobs.insert) when nothing gives the schema."""
    if options.schema is not None or options.autodetect or options.source_format == PARQUET:
        return
    try:
        engine.get_table(options.project, options.dataset_id, options.table_id)
    except TableNotFound:
        raise LoadNoSchema() from None


class LoadRejected(Exception):
    """Too many bad records: the job's error and the records' errors beside it."""

    def __init__(self, error: WarehouseError, count: WarehouseError, errors: list[dict[str, str]]) -> None:
        super().__init__(str(error))
        self.error = error
        self.count = count
        self.errors = errors


def run_load(engine: BigQueryEngine, options: LoadOptions, data: bytes) -> LoadOutcome:
    """Read ``data`` as ``options`` say, then write the good rows to the destination."""
    existing = _existing(engine, options)
    if existing is None and options.create_disposition == "CREATE_NEVER":
        raise TableNotFound(project=options.project, dataset_id=options.dataset_id, table_id=options.table_id)
    source = _read(options, data, existing)
    if len(source.errors) > options.max_bad_records:
        kind = "CSV" if options.source_format == CSV else "JSON"
        if options.source_format == PARQUET:
            kind = "Parquet"
        error = LoadTooManyErrors(format=kind, rows=source.records, errors=len(source.errors))
        count = LoadProcessingTooManyErrors(
            format=kind, rows=source.records, errors=len(source.errors), max_bad=options.max_bad_records
        )
        raise LoadRejected(error, count, source.errors)
    _prepare_destination(engine, options, existing, source.schema)
    where = (options.project, options.dataset_id, options.table_id)
    before = engine.num_bytes(*where)
    if source.rows:
        engine.insert_rows(*where, source.rows, streaming=False)
    return LoadOutcome(
        output_rows=len(source.rows),
        output_bytes=engine.num_bytes(*where) - before,
        bad_records=len(source.errors),
        errors=source.errors,
    )


def _existing(engine: BigQueryEngine, options: LoadOptions) -> TableInfo | None:
    engine.get_dataset(options.project, options.dataset_id)
    try:
        return engine.get_table(options.project, options.dataset_id, options.table_id)
    except TableNotFound:
        return None


def _read(options: LoadOptions, data: bytes, existing: TableInfo | None) -> SourceRows:
    """The source's rows under the schema the load uses: the job's, else the table's (unless a
    WRITE_TRUNCATE replaces it), else detected (``autodetect``; a Parquet file's own)."""
    if options.source_format == PARQUET:
        return read_parquet(data, options.decimal_targets)
    try:
        text = data.decode("utf-8" if options.encoding == "UTF-8" else "latin-1")
    except UnicodeDecodeError as exc:
        raise LoadSourceUnreadable(detail=f"Invalid UTF-8 at byte {exc.start}") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    schema = options.schema
    keeps_table = existing is not None and options.write_disposition != "WRITE_TRUNCATE"
    if schema is None and existing is not None and (keeps_table or not options.autodetect):
        schema = existing.spec.schema
    if schema is None and not options.autodetect:
        raise LoadNoSchema()
    if options.source_format == CSV:
        csv_options = options.csv
        if schema is not None and options.autodetect and not csv_options.skip_leading_rows:
            csv_options = replace(csv_options, skip_leading_rows=int(_has_header(text, options)))
        return read_csv(text, csv_options, schema, autodetect=options.autodetect)
    return read_ndjson(text, schema, ignore_unknown_values=options.csv.ignore_unknown_values)


def _has_header(text: str, options: LoadOptions) -> bool:
    """Whether autodetection takes the first CSV row for a header: it does not name the columns
    of an existing table, but the header is still no data."""
    quoting = csv.QUOTE_NONE if options.csv.quote == "" else csv.QUOTE_MINIMAL
    sample = text.splitlines()[:_HEADER_SAMPLE]
    reader = csv.reader(
        sample, delimiter=options.csv.delimiter, quotechar=options.csv.quote or None, quoting=quoting
    )
    try:
        rows = [row for row in reader if row]
    except csv.Error:
        return False
    return csv_schema(rows, None)[1]


def _prepare_destination(
    engine: BigQueryEngine, options: LoadOptions, existing: TableInfo | None, schema: tuple[FieldSpec, ...]
) -> None:
    """Create, truncate or widen the destination for ``schema``; BigQuery's refusals otherwise."""
    if not schema:  # an empty file autodetects no column
        raise LoadNoSchema()
    if existing is None:
        spec = TableSpec(
            table_id=options.table_id,
            schema=schema,
            time_partitioning=options.time_partitioning,
            clustering_fields=options.clustering,
        )
        engine.create_table(options.project, options.dataset_id, spec)
        return
    _check_layout(options, existing.spec)
    if options.write_disposition == "WRITE_EMPTY" and existing.num_rows:
        raise LoadTableNotEmpty(
            project=options.project, dataset_id=options.dataset_id, table_id=options.table_id
        )
    if options.write_disposition == "WRITE_TRUNCATE":
        if _plain(schema) != _plain(existing.spec.schema):
            replacement = replace(existing.spec, schema=schema)
            raise_first(rules.validate_table(replacement))
            engine.delete_table(options.project, options.dataset_id, options.table_id)
            engine.create_table(options.project, options.dataset_id, replacement)
        else:
            engine.truncate(options.project, options.dataset_id, options.table_id)
        return
    widened = _widened(options, existing.spec.schema, schema)
    if widened is not None:
        engine.patch_table(options.project, options.dataset_id, options.table_id, schema=widened)
    if options.write_disposition == "WRITE_TRUNCATE_DATA":
        engine.truncate(options.project, options.dataset_id, options.table_id)


def _check_layout(options: LoadOptions, spec: TableSpec) -> None:
    """A load names the existing table's partitioning and clustering or none; it never changes them."""
    if options.time_partitioning is not None and options.time_partitioning != spec.time_partitioning:
        raise UnsupportedByFake(
            "The emulator does not change an existing table's partitioning in a load (timePartitioning)",
            reason="invalid",
        )
    if options.clustering and tuple(options.clustering) != tuple(spec.clustering_fields):
        raise UnsupportedByFake(
            "The emulator does not change an existing table's clustering in a load (clustering)",
            reason="invalid",
        )


def _widened(
    options: LoadOptions, current: tuple[FieldSpec, ...], loaded: tuple[FieldSpec, ...]
) -> tuple[FieldSpec, ...] | None:
    """The table's schema after the load's ``schemaUpdateOptions``, or None when unchanged."""
    table = options.table_name
    loaded_by_name = {f.name.lower(): f for f in loaded}
    for column in current:
        new = loaded_by_name.get(column.name.lower())
        if new is None and (column.mode is FieldMode.REQUIRED or options.source_format == CSV):
            raise LoadFieldMissing(table=table, field=column.name)
        if new is not None and column.mode is FieldMode.REQUIRED and new.mode is FieldMode.NULLABLE:
            if "ALLOW_FIELD_RELAXATION" not in options.schema_updates:
                raise FieldModeChanged(table=table, field=column.name, old="REQUIRED", new="NULLABLE")
            raise UnsupportedByFake(
                "The emulator cannot relax a REQUIRED column in a load yet "
                f"(schemaUpdateOptions ALLOW_FIELD_RELAXATION, field {column.name})",
                reason="invalid",
            )
    names = {f.name.lower() for f in current}
    added = [f for f in loaded if f.name.lower() not in names]
    if added and "ALLOW_FIELD_ADDITION" not in options.schema_updates:
        raise LoadFieldAdded(table=table, field=added[0].name)
    if not added:
        return None
    return (*current, *added)


def _plain(schema: tuple[FieldSpec, ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple((f.name.lower(), f.type.value, f.mode.value) for f in schema)


def _entry(error: WarehouseError) -> dict[str, str]:
    return {"reason": error.reason, "message": error.message}
