"""The ``Warehouse`` port on the real google-cloud-bigquery client.

The same adapter serves the ``emulator`` tier (the client pointed at our BigQuery REST v2 emulator
through ``endpoint``) and the ``gcp`` tier (real BigQuery). Google's exceptions are mapped onto the
port's error taxonomy from the error body's ``reason`` and ``message``, so domain code sees the
same errors as on the in-process fake (:mod:`harness.backends.bigquery_errors`); values become
typed query parameters in :mod:`harness.backends.bigquery_params`. Every call carries the client's
own retry policies (``DEFAULT_RETRY`` for API calls, ``DEFAULT_JOB_RETRY`` for query jobs) waiting
on the injected clock (:mod:`harness.backends.clock_retry`).

This module never imports ``fakes``: it is what runs against real BigQuery.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY
from requests.adapters import HTTPAdapter

from harness.backends.bigquery_errors import mapped
from harness.backends.bigquery_params import field_parameter, to_query_parameter
from harness.backends.clock_retry import clock_retry
from harness.clock import SystemClock
from harness.ports import (
    Clock,
    DatasetInfo,
    InsertMode,
    InsertRowsError,
    InvalidRequestError,
    NotFoundError,
    QueryResult,
    RowError,
    StreamingBufferInfo,
    TableInfo,
)
from harness.recording.requests_adapter import mount
from harness.schema.spec import FieldMode, FieldSpec, TableSpec

_MAX_PARAMS_PER_INSERT = 5000

# ------------------------------------------------------------------------------- adapter


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _quote(ident: str) -> str:
    return "`" + ident.replace("`", "\\`") + "`"


class BigQueryWarehouse:
    """``Warehouse`` on google-cloud-bigquery, bound to one project. ``clock`` and ``sleep`` are how
    the client's retries wait: real time by default (gcp), the manual clock on the emulator tier."""

    def __init__(
        self,
        project: str,
        *,
        credentials: Any = None,
        endpoint: str | None = None,
        location: str = "US",
        client: bigquery.Client | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        adapter: HTTPAdapter | None = None,
        trust_env: bool = True,
    ) -> None:
        """``adapter`` carries every request of the client's session (recording, replay).
        ``trust_env=False`` makes the session ignore the environment's proxies and ``.netrc``,
        which requests otherwise reads again on every request (:mod:`harness.backends.emulator`)."""
        self.project = project
        self.location = location
        on_clock = clock_retry(clock or SystemClock(), sleep)
        self._retry = on_clock(bigquery.DEFAULT_RETRY)
        self._job_retry = on_clock(DEFAULT_JOB_RETRY)
        if client is None:
            options = {"api_endpoint": endpoint} if endpoint else None
            client = bigquery.Client(
                project=project, credentials=credentials, location=location, client_options=options
            )
        if adapter is not None:
            mount(client._http, adapter)
        if not trust_env:
            client._http.trust_env = False
        self.client = client
        self._schemas: dict[tuple[str, str], tuple[FieldSpec, ...]] = {}
        """The last schema seen per (dataset, table), which a DML insert types its parameters by
        (:meth:`insert_rows`)."""

    def close(self) -> None:
        self.client.close()

    # ----------------------------------------------------------------------- datasets

    def _dataset_ref(self, dataset_id: str) -> str:
        return f"{self.project}.{dataset_id}"

    def _table_ref(self, dataset_id: str, table_id: str) -> str:
        return f"{self.project}.{dataset_id}.{table_id}"

    def _dataset_info(self, ds: bigquery.Dataset) -> DatasetInfo:
        return DatasetInfo(
            project=ds.project,
            dataset_id=ds.dataset_id,
            location=ds.location or self.location,
            description=ds.description,
            labels=dict(ds.labels or {}),
            created=_utc(ds.created),
            modified=_utc(ds.modified),
            default_table_expiration_ms=ds.default_table_expiration_ms,
        )

    def create_dataset(
        self,
        dataset_id: str,
        *,
        location: str = "US",
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        exists_ok: bool = False,
        default_table_expiration_ms: int | None = None,
    ) -> DatasetInfo:
        ds = bigquery.Dataset(self._dataset_ref(dataset_id))
        ds.location = location
        if description is not None:
            ds.description = description
        if labels:
            ds.labels = dict(labels)
        if default_table_expiration_ms is not None:
            ds.default_table_expiration_ms = default_table_expiration_ms
        with mapped():
            return self._dataset_info(self.client.create_dataset(ds, exists_ok=exists_ok, retry=self._retry))

    def get_dataset(self, dataset_id: str) -> DatasetInfo:
        with mapped():
            return self._dataset_info(
                self.client.get_dataset(self._dataset_ref(dataset_id), retry=self._retry)
            )

    def list_datasets(self) -> list[DatasetInfo]:
        with mapped():
            items = list(self.client.list_datasets(self.project, retry=self._retry))
            return [self.get_dataset(item.dataset_id) for item in items]

    def delete_dataset(
        self, dataset_id: str, *, delete_contents: bool = False, not_found_ok: bool = False
    ) -> None:
        with mapped():
            self.client.delete_dataset(
                self._dataset_ref(dataset_id),
                delete_contents=delete_contents,
                not_found_ok=not_found_ok,
                retry=self._retry,
            )
        for key in [key for key in list(self._schemas) if key[0] == dataset_id]:  # a copy: threads share us
            self._schemas.pop(key, None)

    # ------------------------------------------------------------------------- tables

    def _table_info(self, table: bigquery.Table) -> TableInfo:
        buffer = table.streaming_buffer
        spec = TableSpec.from_api(table.to_api_repr())
        self._schemas[(table.dataset_id, table.table_id)] = spec.schema
        return TableInfo(
            project=table.project,
            dataset_id=table.dataset_id,
            spec=spec,
            num_rows=int(table.num_rows or 0),
            created=_utc(table.created),
            modified=_utc(table.modified),
            streaming_buffer=(
                StreamingBufferInfo(
                    estimated_rows=int(buffer.estimated_rows or 0),
                    oldest_entry_time=_utc(buffer.oldest_entry_time),
                )
                if buffer is not None
                else None
            ),
        )

    def create_table(self, dataset_id: str, spec: TableSpec, *, exists_ok: bool = False) -> TableInfo:
        table = bigquery.Table.from_api_repr(spec.to_api(self.project, dataset_id))
        with mapped():
            return self._table_info(self.client.create_table(table, exists_ok=exists_ok, retry=self._retry))

    def _get(self, dataset_id: str, table_id: str) -> bigquery.Table:
        with mapped():
            return self.client.get_table(self._table_ref(dataset_id, table_id), retry=self._retry)

    def get_table(self, dataset_id: str, table_id: str) -> TableInfo:
        return self._table_info(self._get(dataset_id, table_id))

    def list_tables(self, dataset_id: str) -> list[TableInfo]:
        with mapped():
            items = list(self.client.list_tables(self._dataset_ref(dataset_id), retry=self._retry))
        return [self.get_table(dataset_id, item.table_id) for item in items]

    def patch_table(
        self,
        dataset_id: str,
        table_id: str,
        *,
        schema: Sequence[FieldSpec] | None = None,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        require_partition_filter: bool | None = None,
    ) -> TableInfo:
        table = self._get(dataset_id, table_id)
        fields: list[str] = []
        if schema is not None:
            table.schema = [bigquery.SchemaField.from_api_repr(f.to_api()) for f in schema]
            fields.append("schema")
        if description is not None:
            table.description = description
            fields.append("description")
        if labels is not None:
            table.labels = dict(labels)
            fields.append("labels")
        if require_partition_filter is not None:
            table.require_partition_filter = require_partition_filter
            fields.append("require_partition_filter")
        if not fields:
            return self._table_info(table)
        with mapped():
            return self._table_info(self.client.update_table(table, fields, retry=self._retry))

    def delete_table(self, dataset_id: str, table_id: str, *, not_found_ok: bool = False) -> None:
        with mapped():
            self.client.delete_table(
                self._table_ref(dataset_id, table_id), not_found_ok=not_found_ok, retry=self._retry
            )
        self._schemas.pop((dataset_id, table_id), None)

    # ---------------------------------------------------------------------- inserting

    def insert_rows(
        self,
        dataset_id: str,
        table_id: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        mode: InsertMode = InsertMode.DML,
    ) -> int:
        if not rows:
            # Still report a missing table, as the fake does.
            self._get(dataset_id, table_id)
            return 0
        if InsertMode(mode) is InsertMode.STREAMING:
            return self._stream(self._get(dataset_id, table_id), rows)
        known = self._schemas.get((dataset_id, table_id))
        if known is None or len(rows) > _MAX_PARAMS_PER_INSERT // max(1, len(known)):
            # Unknown, or more rows than one statement carries: an INSERT after the first could
            # fail after earlier ones wrote, and inserting all again would write those twice.
            return self._dml_insert(dataset_id, table_id, self._fresh_schema(dataset_id, table_id), rows)
        try:
            return self._dml_insert(dataset_id, table_id, known, rows)
        except (InvalidRequestError, NotFoundError):
            # The schema was last seen before this call: another process may have changed or
            # dropped the table since. A refusal is only final once the table, read again, has
            # the same schema; else the insert is made again on the new one (the one INSERT
            # statement failed and wrote nothing). A dropped table reports itself here as
            # tables.get does.
            fresh = self._fresh_schema(dataset_id, table_id)
            if fresh == known:
                raise
        return self._dml_insert(dataset_id, table_id, fresh, rows)

    def _fresh_schema(self, dataset_id: str, table_id: str) -> tuple[FieldSpec, ...]:
        """The table's schema as ``tables.get`` reads it now (kept by :meth:`_table_info`)."""
        return self.get_table(dataset_id, table_id).spec.schema

    def _stream(self, table: bigquery.Table, rows: Sequence[Mapping[str, Any]]) -> int:
        with mapped():
            errors = self.client.insert_rows(table, [dict(row) for row in rows], retry=self._retry)
        row_errors: list[RowError] = []
        for entry in errors:
            for detail in entry.get("errors") or ():
                if detail.get("reason") == "stopped":
                    continue
                row_errors.append(
                    RowError(
                        index=int(entry["index"]),
                        reason=detail.get("reason") or "invalid",
                        message=detail.get("message") or "",
                        location=detail.get("location") or None,
                    )
                )
        if errors:
            bad = len({e.index for e in row_errors}) or len(errors)
            raise InsertRowsError(f"{bad} of {len(rows)} rows were rejected", row_errors)
        return len(rows)

    def _dml_insert(
        self,
        dataset_id: str,
        table_id: str,
        schema: tuple[FieldSpec, ...],
        rows: Sequence[Mapping[str, Any]],
    ) -> int:
        """``INSERT INTO t (cols) VALUES (...), ...`` with one typed named parameter per cell;
        NULLs are literal so their type comes from the column."""
        by_name = {f.name.lower(): f for f in schema}
        required = [f for f in schema if f.mode is FieldMode.REQUIRED]
        row_errors: list[RowError] = []
        for index, row in enumerate(rows):
            lowered = {str(k).lower(): v for k, v in row.items()}
            row_errors.extend(
                RowError(index, "invalid", f"no such field: {key}.", str(key))
                for key in row
                if str(key).lower() not in by_name
            )
            row_errors.extend(
                RowError(index, "invalid", f"Missing required field: {f.name}.", f.name)
                for f in required
                if lowered.get(f.name.lower()) is None
            )
        if row_errors:
            # Refused before any statement runs, with the per-row errors the fake and insertAll give.
            bad = len({e.index for e in row_errors})
            raise InsertRowsError(f"{bad} of {len(rows)} rows were rejected", row_errors)
        columns = [f for f in schema if any(f.name.lower() in {str(k).lower() for k in r} for r in rows)]
        if not columns:
            columns = list(schema)
        per_row = max(1, len(columns))
        chunk = max(1, _MAX_PARAMS_PER_INSERT // per_row)
        total = 0
        target = f"{_quote(self.project)}.{_quote(dataset_id)}.{_quote(table_id)}"
        column_sql = ", ".join(_quote(c.name) for c in columns)
        for start in range(0, len(rows), chunk):
            params: list[Any] = []
            tuples: list[str] = []
            for offset, row in enumerate(rows[start : start + chunk]):
                lowered = {str(k).lower(): v for k, v in row.items()}
                cells: list[str] = []
                for position, column in enumerate(columns):
                    value = lowered.get(column.name.lower())
                    if value is None:
                        cells.append("[]" if column.is_repeated else "NULL")
                        continue
                    name = f"r{offset}_c{position}"
                    params.append(field_parameter(name, column, value))
                    cells.append(f"@{name}")
                tuples.append("(" + ", ".join(cells) + ")")
            sql = f"INSERT INTO {target} ({column_sql}) VALUES " + ", ".join(tuples)
            total += self._run(sql, params).affected_rows or 0
        return total

    # ------------------------------------------------------------------------ queries

    def _run(self, sql: str, params: list[Any]) -> QueryResult:
        """Queries and DML go through ``jobs.query`` (``query_and_wait``: one round trip when the
        answer fits a page); its response carries no statement type, so the leading keyword names
        it. Anything else (DDL, scripts) is a query job, which reports its own type."""
        config = bigquery.QueryJobConfig(query_parameters=params, use_legacy_sql=False)
        keyword = _leading_keyword(sql)
        with mapped():
            if keyword in _QUERY_AND_WAIT:
                rows_iter = self.client.query_and_wait(
                    sql, job_config=config, retry=self._retry, job_retry=self._job_retry
                )
                statement_type = _QUERY_AND_WAIT[keyword]
                stats: Any = rows_iter
            else:
                job, rows_iter = self._job_retry(self._query_job)(sql, config)
                statement_type = job.statement_type or "SELECT"
                stats = job
            schema = tuple(FieldSpec.from_api(f.to_api_repr()) for f in (rows_iter.schema or ()))
            rows = [dict(row.items()) for row in rows_iter]
        affected = stats.num_dml_affected_rows
        return QueryResult(
            rows=[{k: _plain(v) for k, v in row.items()} for row in rows],
            schema=schema,
            statement_type=statement_type,
            affected_rows=int(affected) if affected is not None else None,
            job_id=stats.job_id,
            bytes_processed=int(stats.total_bytes_processed or 0),
        )

    def _query_job(self, sql: str, config: bigquery.QueryJobConfig) -> tuple[bigquery.QueryJob, Any]:
        """A query job and its rows, re-run whole by the job retry around it. The client is given
        no ``job_retry`` of its own: with one it would also wrap ``jobs.insert`` in a private retry
        that sleeps in real time, while this one waits on the clock and re-runs the job as the
        client's does (a new job when the last one failed for a retryable reason)."""
        job = self.client.query(sql, job_config=config, retry=self._retry, job_retry=None)
        return job, job.result(retry=self._retry)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        query_params = [to_query_parameter(name, value) for name, value in (params or {}).items()]
        return self._run(sql, query_params)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return self.query(sql, params).affected_rows or 0


# Leading keyword -> BigQuery's statementType, for the statements that run through jobs.query.
_QUERY_AND_WAIT = {
    "SELECT": "SELECT",
    "WITH": "SELECT",
    "INSERT": "INSERT",
    "UPDATE": "UPDATE",
    "DELETE": "DELETE",
    "MERGE": "MERGE",
}
_COMMENT_OR_SPACE = re.compile(r"(?:\s+|--[^\n]*|#[^\n]*|/\*.*?\*/)*", re.DOTALL)


def _leading_keyword(sql: str) -> str:
    """The first word after whitespace, comments and opening parentheses, upper-cased."""
    rest = sql
    while True:
        rest = rest[_COMMENT_OR_SPACE.match(rest).end() :]  # type: ignore[union-attr]
        if not rest.startswith("("):
            break
        rest = rest[1:]
    match = re.match(r"[A-Za-z_]+", rest)
    return match.group(0).upper() if match else ""


def _plain(value: Any) -> Any:
    """Client values as the port promises: tz-aware UTC datetimes, dicts and lists."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime) and value.tzinfo is not None and value.tzinfo is not UTC:
        return value.astimezone(UTC)
    return value
