"""``INFORMATION_SCHEMA`` views the tools read: TABLES, TABLE_OPTIONS, COLUMNS, COLUMN_FIELD_PATHS,
PARTITIONS, SCHEMATA, ROUTINES and JOBS / JOBS_BY_PROJECT, with BigQuery's column names and types.

A view named in a statement (``ds.INFORMATION_SCHEMA.TABLES``, ``p.ds.INFORMATION_SCHEMA.COLUMNS``,
`` `region-us`.INFORMATION_SCHEMA.JOBS``, `` `p.region-us.INFORMATION_SCHEMA.SCHEMATA` ``) is
replaced, before the statement is read, by a subquery of its rows as typed literals, built from the
engine's catalog at that moment: the rest of the statement (filters, joins, aggregates) is ordinary
SQL. A dataset qualifier scopes the view to that dataset; a region qualifier (or none) to every
dataset of the project. The emulator's jobs are known once the REST app attaches its job store
(:func:`attach_jobs`); the in-process fake has no jobs, so its JOBS view is empty.
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlglot import exp

from fakes.bigquery.catalog import INGEST_COL, Table
from fakes.bigquery.exceptions import UnsupportedByFake
from fakes.bigquery.routines import Routine, RoutineCatalog, split_args
from fakes.bigquery.sql import TableRef
from harness.ports import Clock, DatasetInfo, TableInfo
from harness.schema.spec import FieldSpec

_SEGMENT = r"(?:`[^`\n]*`|[A-Za-z_][A-Za-z0-9_-]*)"
_PATH = re.compile(_SEGMENT + r"(?:\s*\.\s*" + _SEGMENT + r")*")
_SCALAR_NAMES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}

_ERROR_RESULT = "STRUCT<reason STRING, location STRING, debug_info STRING, message STRING>"
Column = tuple[str, str]
"""A view column: its name and BigQuery type."""

_COLUMNS: dict[str, tuple[Column, ...]] = {
    "TABLES": (
        ("table_catalog", "STRING"), ("table_schema", "STRING"), ("table_name", "STRING"),
        ("table_type", "STRING"), ("is_insertable_into", "STRING"), ("is_typed", "STRING"),
        ("creation_time", "TIMESTAMP"), ("base_table_catalog", "STRING"), ("base_table_schema", "STRING"),
        ("base_table_name", "STRING"), ("snapshot_time_ms", "TIMESTAMP"), ("ddl", "STRING"),
        ("default_collation_name", "STRING"), ("upsert_stream_apply_watermark", "TIMESTAMP"),
    ),
    "COLUMNS": (
        ("table_catalog", "STRING"), ("table_schema", "STRING"), ("table_name", "STRING"),
        ("column_name", "STRING"), ("ordinal_position", "INT64"), ("is_nullable", "STRING"),
        ("data_type", "STRING"), ("is_generated", "STRING"), ("generation_expression", "STRING"),
        ("is_stored", "STRING"), ("is_hidden", "STRING"), ("is_updatable", "STRING"),
        ("is_system_defined", "STRING"), ("is_partitioning_column", "STRING"),
        ("clustering_ordinal_position", "INT64"), ("collation_name", "STRING"),
        ("column_default", "STRING"), ("rounding_mode", "STRING"),
    ),
    "PARTITIONS": (
        ("table_catalog", "STRING"), ("table_schema", "STRING"), ("table_name", "STRING"),
        ("partition_id", "STRING"), ("total_rows", "INT64"), ("total_logical_bytes", "INT64"),
        ("total_billable_bytes", "INT64"), ("last_modified_time", "TIMESTAMP"), ("storage_tier", "STRING"),
    ),
    "SCHEMATA": (
        ("catalog_name", "STRING"), ("schema_name", "STRING"), ("schema_owner", "STRING"),
        ("creation_time", "TIMESTAMP"), ("last_modified_time", "TIMESTAMP"), ("location", "STRING"),
        ("ddl", "STRING"), ("default_collation_name", "STRING"),
    ),
    "ROUTINES": (
        ("specific_catalog", "STRING"), ("specific_schema", "STRING"), ("specific_name", "STRING"),
        ("routine_catalog", "STRING"), ("routine_schema", "STRING"), ("routine_name", "STRING"),
        ("routine_type", "STRING"), ("data_type", "STRING"), ("routine_body", "STRING"),
        ("routine_definition", "STRING"), ("external_language", "STRING"), ("is_deterministic", "STRING"),
        ("security_type", "STRING"), ("created", "TIMESTAMP"), ("last_altered", "TIMESTAMP"),
        ("ddl", "STRING"), ("connection", "STRING"),
    ),
    "JOBS": (
        ("creation_time", "TIMESTAMP"), ("project_id", "STRING"), ("project_number", "INT64"),
        ("user_email", "STRING"), ("job_id", "STRING"), ("job_type", "STRING"),
        ("statement_type", "STRING"), ("priority", "STRING"), ("start_time", "TIMESTAMP"),
        ("end_time", "TIMESTAMP"), ("query", "STRING"), ("state", "STRING"), ("reservation_id", "STRING"),
        ("total_bytes_processed", "INT64"), ("total_slot_ms", "INT64"), ("error_result", _ERROR_RESULT),
        ("cache_hit", "BOOL"), ("total_bytes_billed", "INT64"),
        ("parent_job_id", "STRING"),
    ),
    "TABLE_OPTIONS": (
        ("table_catalog", "STRING"), ("table_schema", "STRING"), ("table_name", "STRING"),
        ("option_name", "STRING"), ("option_type", "STRING"), ("option_value", "STRING"),
    ),
    "COLUMN_FIELD_PATHS": (
        ("table_catalog", "STRING"), ("table_schema", "STRING"), ("table_name", "STRING"),
        ("column_name", "STRING"), ("field_path", "STRING"), ("data_type", "STRING"),
        ("description", "STRING"), ("collation_name", "STRING"), ("rounding_mode", "STRING"),
    ),
}  # fmt: skip
_COLUMNS["JOBS_BY_PROJECT"] = _COLUMNS["JOBS"]
_COLUMNS["JOBS_BY_USER"] = _COLUMNS["JOBS"]

_PARAM_PREFIX = "__hx_information_schema_"
_PARAM_IDS = itertools.count(1)
_JOB_STORES: weakref.WeakKeyDictionary[object, Any] = weakref.WeakKeyDictionary()


class Source(Protocol):
    """What the views read of the engine (held under its lock while a statement runs)."""

    clock: Clock
    _routines: RoutineCatalog
    _tables: dict[tuple[str, str, str], Table]

    def list_datasets(self, project: str) -> list[DatasetInfo]: ...

    def list_tables(self, project: str, dataset_id: str) -> list[TableInfo]: ...

    def _storage_sql(self, ref: TableRef) -> str: ...

    @property
    def _conn(self) -> Any: ...


def attach_jobs(engine: object, store: Any) -> None:
    """Let the engine's JOBS views see the REST emulator's job store."""
    _JOB_STORES[engine] = store


def names_views(sql: str) -> bool:
    """Whether ``sql`` may name an INFORMATION_SCHEMA view (a cheap look at its text)."""
    return "INFORMATION_SCHEMA" in sql.upper()


def expand(
    source: Source, project: str, sql: str, default_dataset: str | None, params: dict[str, Any]
) -> str:
    """``sql`` with every INFORMATION_SCHEMA view it names replaced by a subquery of its rows,
    which travel as one array parameter added to ``params`` (unchanged, and cheap, for a statement
    that names none)."""
    if not names_views(sql):
        return sql
    out: list[str] = []
    last = 0
    for match in _PATH.finditer(sql):
        parts = [p for segment in re.split(r"\s*\.\s*", match.group()) for p in segment.strip("`").split(".")]
        upper = [p.upper() for p in parts]
        if "INFORMATION_SCHEMA" not in upper[:-1] or upper.index("INFORMATION_SCHEMA") != len(parts) - 2:
            continue
        out.append(sql[last : match.start()])
        out.append(f"({_view_sql(source, project, parts[:-2], upper[-1], default_dataset, params)})")
        last = match.end()
    out.append(sql[last:])
    return "".join(out)


def _view_sql(
    source: Source,
    project: str,
    qualifier: list[str],
    view: str,
    default_dataset: str | None,
    params: dict[str, Any],
) -> str:
    columns = _COLUMNS.get(view)
    if columns is None:
        raise UnsupportedByFake(f"INFORMATION_SCHEMA.{view} is not supported by the BigQuery fake")
    scope: str | None = None
    if qualifier and qualifier[-1].lower().startswith("region-"):
        project = qualifier[0] if len(qualifier) == 2 else project
    elif len(qualifier) >= 2:
        project, scope = qualifier[-2], qualifier[-1]
    elif qualifier:
        scope = qualifier[0]
    elif view != "SCHEMATA" and not view.startswith("JOBS"):
        scope = default_dataset
    rows = list(_ROWS[view](source, project, scope))
    if not rows:
        items = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in columns)
        return f"SELECT {items} LIMIT 0"
    name = f"{_PARAM_PREFIX}{next(_PARAM_IDS)}"
    params[name] = [_param_row(columns, row) for row in rows]
    return f"SELECT {', '.join(_column_sql(column) for column in columns)} FROM UNNEST(@{name}) AS r"


def _param_row(columns: Sequence[Column], row: tuple[Any, ...]) -> dict[str, Any]:
    """One view row as the array parameter's element: a STRUCT column flattened to its fields
    (and whether it is set), so a column that is NULL in every row still has its type."""
    out: dict[str, Any] = {}
    for (name, kind), value in zip(columns, row, strict=True):
        if kind.startswith("STRUCT<"):
            out[f"{name}__set"] = value is not None
            for (field, _), item in zip(_struct_fields(kind), value or (None,) * 64, strict=False):
                out[f"{name}__{field}"] = item
        else:
            out[name] = value
    return out


def _column_sql(column: Column) -> str:
    name, kind = column
    if not kind.startswith("STRUCT<"):
        return f"CAST(r.{name} AS {kind}) AS {name}"
    fields = ", ".join(f"CAST(r.{name}__{field} AS {sub})" for field, sub in _struct_fields(kind))
    return f"IF(r.{name}__set, {kind}({fields}), NULL) AS {name}"


def _struct_fields(kind: str) -> list[tuple[str, str]]:
    return [tuple(item.split(None, 1)) for item in split_args(kind[len("STRUCT<") : -1])]  # type: ignore[misc]


def _datasets(source: Source, project: str, scope: str | None) -> list[DatasetInfo]:
    return [d for d in source.list_datasets(project) if scope is None or d.dataset_id == scope]


def _tables(source: Source, project: str, scope: str | None) -> Iterable[tuple[DatasetInfo, Table]]:
    for dataset in _datasets(source, project, scope):
        for key in sorted(k for k in source._tables if k[:2] == (project, dataset.dataset_id)):
            yield dataset, source._tables[key]


def _table_rows(source: Source, project: str, scope: str | None) -> Iterable[tuple[Any, ...]]:
    for dataset, table in _tables(source, project, scope):
        yield (
            project, dataset.dataset_id, table.spec.table_id, _table_type(table),
            "NO" if table.view is not None else "YES", "NO", table.created,
            None, None, None, None, _table_ddl(project, dataset.dataset_id, table), None, None,
        )  # fmt: skip


def _table_type(table: Table) -> str:
    """``table_type`` as BigQuery's TABLES view spells it (a space, not an underscore)."""
    if table.view is None:
        return "BASE TABLE"
    return "MATERIALIZED VIEW" if table.view.materialized else "VIEW"


def _column_rows(source: Source, project: str, scope: str | None) -> Iterable[tuple[Any, ...]]:
    for dataset, table in _tables(source, project, scope):
        spec = table.spec
        partition_field = spec.time_partitioning.field if spec.time_partitioning else None
        clustering = [name.lower() for name in spec.clustering_fields]
        for position, field in enumerate(spec.schema, start=1):
            lowered = field.name.lower()
            yield (
                project, dataset.dataset_id, spec.table_id, field.name, position,
                "NO" if field.mode.value == "REQUIRED" else "YES", type_text(field), "NEVER", None, None,
                "NO", None, "NO", "YES" if partition_field and partition_field.lower() == lowered else "NO",
                clustering.index(lowered) + 1 if lowered in clustering else None,
                "NULL", "NULL", None,
            )  # fmt: skip


def _option_rows(source: Source, project: str, scope: str | None) -> Iterable[tuple[Any, ...]]:
    for dataset, table in _tables(source, project, scope):
        spec = table.spec
        options: list[tuple[str, str, str]] = []
        if spec.description is not None:
            options.append(("description", "STRING", _quoted(spec.description)))
        if spec.labels:
            pairs = ", ".join(f"STRUCT({_quoted(k)}, {_quoted(v)})" for k, v in spec.labels.items())
            options.append(("labels", "ARRAY<STRUCT<STRING, STRING>>", f"[{pairs}]"))
        partitioning = spec.time_partitioning
        if partitioning is not None and partitioning.expiration_ms is not None:
            days = partitioning.expiration_ms / 86_400_000
            options.append(("partition_expiration_days", "FLOAT64", f"{days:g}"))
        if spec.require_partition_filter:
            options.append(("require_partition_filter", "BOOL", "true"))
        for name, kind, value in options:
            yield (project, dataset.dataset_id, spec.table_id, name, kind, value)


def _field_path_rows(source: Source, project: str, scope: str | None) -> Iterable[tuple[Any, ...]]:
    for dataset, table in _tables(source, project, scope):
        for column in table.spec.schema:
            for path, field in _field_paths(column.name, column):
                yield (
                    project, dataset.dataset_id, table.spec.table_id, column.name, path, type_text(field),
                    field.description, "NULL", None,
                )  # fmt: skip


def _field_paths(path: str, field: FieldSpec) -> Iterable[tuple[str, FieldSpec]]:
    """A column and, depth first, each of its sub-fields with its dotted path."""
    yield path, field
    for sub in field.fields:
        yield from _field_paths(f"{path}.{sub.name}", sub)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_PARTITION_FORMATS = {"HOUR": "%Y%m%d%H", "DAY": "%Y%m%d", "MONTH": "%Y%m", "YEAR": "%Y"}


def _partition_rows(source: Source, project: str, scope: str | None) -> Iterable[tuple[Any, ...]]:
    for dataset, table in _tables(source, project, scope):
        storage = source._storage_sql(table.ref)
        partitioning = table.spec.time_partitioning
        if partitioning is None:
            counts = [(None, source._conn.execute(f"SELECT count(*) FROM {storage}").fetchone()[0])]
        else:
            column = exp.to_identifier(partitioning.field or INGEST_COL).sql("duckdb")
            pattern = _PARTITION_FORMATS[partitioning.type.value]
            counts = source._conn.execute(
                f"SELECT coalesce(strftime(CAST({column} AS TIMESTAMP), '{pattern}'), '__NULL__') AS p, "
                f"count(*) FROM {storage} GROUP BY p ORDER BY p"
            ).fetchall()
        for partition_id, total in counts:
            yield (
                project, dataset.dataset_id, table.spec.table_id, partition_id, total, None, None,
                table.modified, "ACTIVE",
            )  # fmt: skip


def _schema_rows(source: Source, project: str, scope: str | None) -> Iterable[tuple[Any, ...]]:
    for dataset in _datasets(source, project, scope):
        if dataset.dataset_id.startswith("_script_"):
            continue
        yield (
            project, dataset.dataset_id, None, dataset.created, dataset.modified, dataset.location,
            _schema_ddl(project, dataset),
            None,
        )  # fmt: skip


def _routine_rows(source: Source, project: str, scope: str | None) -> Iterable[tuple[Any, ...]]:
    for dataset in _datasets(source, project, scope):
        for routine in source._routines.in_dataset(project, dataset.dataset_id):
            yield (
                project, dataset.dataset_id, routine.name, project, dataset.dataset_id, routine.name,
                routine_type_text(routine), routine.returns, "SQL", routine.definition, None, None,
                "INVOKER", routine.created, routine.modified, None, None,
            )  # fmt: skip


def _job_rows(source: Source, project: str, scope: str | None) -> Iterable[tuple[Any, ...]]:
    store = _JOB_STORES.get(source)
    if store is None:
        return
    for job in sorted(store._jobs.values(), key=lambda j: j.created):
        if job.project != project:
            continue
        query = (job.configuration.get("query") or {}).get("query")
        result = job.result
        yield (
            job.created, job.project, None, None, job.job_id, job.configuration.get("jobType", "QUERY"),
            result.statement_type if result is not None else None, "INTERACTIVE", job.created, job.created,
            query, "RUNNING" if result is None and job.error is None else "DONE", None,
            0 if result is not None else None, 0,
            (job.error.reason, None, None, job.error.message) if job.error is not None else None,
            False, 0 if result is not None else None, None,
        )  # fmt: skip


_ROWS = {
    "TABLES": _table_rows,
    "COLUMNS": _column_rows,
    "PARTITIONS": _partition_rows,
    "SCHEMATA": _schema_rows,
    "ROUTINES": _routine_rows,
    "JOBS": _job_rows,
    "JOBS_BY_PROJECT": _job_rows,
    "JOBS_BY_USER": _job_rows,
    "TABLE_OPTIONS": _option_rows,
    "COLUMN_FIELD_PATHS": _field_path_rows,
}


def routine_type_text(routine: Routine) -> str:
    """ROUTINES.routine_type: FUNCTION, TABLE FUNCTION, AGGREGATE FUNCTION or PROCEDURE."""
    if routine.procedure:
        return "PROCEDURE"
    if routine.table:
        return "TABLE FUNCTION"
    return "AGGREGATE FUNCTION" if routine.aggregate else "FUNCTION"


def type_text(field: FieldSpec) -> str:
    """A column's GoogleSQL type as COLUMNS.data_type writes it (``ARRAY<STRUCT<a INT64>>``)."""
    if field.is_record:
        inner = f"STRUCT<{', '.join(f'{f.name} {type_text(f)}' for f in field.fields)}>"
    elif field.range_element is not None:
        inner = f"RANGE<{field.range_element.value}>"
    else:
        inner = _SCALAR_NAMES.get(field.type.value, field.type.value)
    return f"ARRAY<{inner}>" if field.is_repeated else inner


def _schema_ddl(project: str, dataset: DatasetInfo) -> str:
    location = dataset.location.lower()
    return f'CREATE SCHEMA `{project}.{dataset.dataset_id}`\nOPTIONS(\n  location="{location}"\n);'


def _table_ddl(project: str, dataset: str, table: Table) -> str:
    columns = ",\n".join(
        f"  {f.name} {type_text(f)}{' NOT NULL' if f.mode.value == 'REQUIRED' else ''}"
        for f in table.spec.schema
    )
    return f"CREATE TABLE `{project}.{dataset}.{table.spec.table_id}`\n(\n{columns}\n);"
