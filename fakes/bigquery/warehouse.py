"""The in-process ``Warehouse``: the port bound to one project of a :class:`BigQueryEngine`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import InsertRowsRejected, MissingRequiredField, NoSuchField
from fakes.bigquery.params import to_duckdb
from harness.ports import (
    Clock,
    DatasetInfo,
    InsertMode,
    InsertRowsError,
    InvalidRequestError,
    QueryParam,
    QueryResult,
    RowError,
    TableInfo,
)
from harness.schema.spec import DatasetSpec, FieldMode, FieldSpec, FieldType, TableSpec


class FakeWarehouse:
    """What the domain code sees on the ``fake`` tier; several projects may share one engine."""

    def __init__(self, engine: BigQueryEngine, project: str = "cloudact-local") -> None:
        self.engine = engine
        self.project = project

    @classmethod
    def in_memory(cls, clock: Clock, project: str = "cloudact-local") -> FakeWarehouse:
        return cls(BigQueryEngine(clock), project)

    def close(self) -> None:
        """Close the engine (a warehouse that owns it alone): its files, or its prepared database
        given back for the next engine."""
        self.engine.close()

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
        spec = DatasetSpec(
            dataset_id=dataset_id,
            location=location,
            description=description,
            labels=labels or {},
            default_table_expiration_ms=default_table_expiration_ms,
        )
        return self.engine.create_dataset(self.project, spec, exists_ok=exists_ok)

    def get_dataset(self, dataset_id: str) -> DatasetInfo:
        return self.engine.get_dataset(self.project, dataset_id)

    def list_datasets(self) -> list[DatasetInfo]:
        return self.engine.list_datasets(self.project)

    def delete_dataset(
        self, dataset_id: str, *, delete_contents: bool = False, not_found_ok: bool = False
    ) -> None:
        self.engine.delete_dataset(
            self.project, dataset_id, delete_contents=delete_contents, not_found_ok=not_found_ok
        )

    def create_table(self, dataset_id: str, spec: TableSpec, *, exists_ok: bool = False) -> TableInfo:
        return self.engine.create_table(self.project, dataset_id, spec, exists_ok=exists_ok)

    def get_table(self, dataset_id: str, table_id: str) -> TableInfo:
        return self.engine.get_table(self.project, dataset_id, table_id)

    def list_tables(self, dataset_id: str) -> list[TableInfo]:
        return self.engine.list_tables(self.project, dataset_id)

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
        return self.engine.patch_table(
            self.project,
            dataset_id,
            table_id,
            schema=schema,
            description=description,
            labels=labels,
            require_partition_filter=require_partition_filter,
        )

    def delete_table(self, dataset_id: str, table_id: str, *, not_found_ok: bool = False) -> None:
        self.engine.delete_table(self.project, dataset_id, table_id, not_found_ok=not_found_ok)

    def insert_rows(
        self,
        dataset_id: str,
        table_id: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        mode: InsertMode = InsertMode.DML,
    ) -> int:
        streaming = InsertMode(mode) is InsertMode.STREAMING
        try:
            return self.engine.insert_rows(self.project, dataset_id, table_id, rows, streaming=streaming)
        except InsertRowsError as exc:
            if streaming:
                raise
            schema = self.engine.get_table(self.project, dataset_id, table_id).spec.schema
            raise dml_insert_error(schema, rows) or exc from None

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        return self.engine.query(self.project, sql, params)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return self.query(sql, params).affected_rows or 0


# ------------------------------------------------------------------------ DML insert errors


def dml_insert_error(
    schema: Sequence[FieldSpec], rows: Sequence[Mapping[str, Any]]
) -> InvalidRequestError | None:
    """The error a DML insert of ``rows`` gets on the real client path, where it is an
    ``INSERT ... VALUES`` job with one typed parameter per cell (harness/backends/bigquery.py):

    * unknown and missing REQUIRED columns are refused before any job runs, every one of them
      per row, as ``InsertRowsError`` (the same per-row errors insertAll gives);
    * a value of the wrong type fails the whole statement, as BigQuery fails a DML job: a 400
      ``invalidQuery`` naming the parameter type, for the first bad cell in row-major order.

    Only called once the engine has refused the rows, so the happy path costs nothing.
    """
    by_name = {f.name.lower(): f for f in schema}
    required = [f for f in schema if f.mode is FieldMode.REQUIRED]
    row_errors: list[RowError] = []
    for index, row in enumerate(rows):
        lowered = {str(k).lower(): v for k, v in row.items()}
        row_errors.extend(
            NoSuchField(str(key), field=key).row_error(index)
            for key in row
            if str(key).lower() not in by_name
        )
        row_errors.extend(
            MissingRequiredField(f.name, field=f.name).row_error(index)
            for f in required
            if lowered.get(f.name.lower()) is None
        )
    if row_errors:
        return InsertRowsRejected(row_errors, len(rows))
    present = {str(k).lower() for row in rows for k in row}
    columns = [f for f in schema if f.name.lower() in present]
    for row in rows:
        lowered = {str(k).lower(): v for k, v in row.items()}
        for column in columns:
            value = lowered.get(column.name.lower())
            if value is None:
                continue
            try:
                to_duckdb(_cell_parameter(column, value))
            except InvalidRequestError as exc:
                return exc
    return None


_STANDARD_NAMES = {
    FieldType.INTEGER: "INT64",
    FieldType.FLOAT: "FLOAT64",
    FieldType.BOOLEAN: "BOOL",
    FieldType.RECORD: "STRUCT",
}


def _cell_parameter(spec: FieldSpec, value: Any) -> Any:
    """One cell as the REST layer decodes the adapter's parameter: a ``QueryParam`` of the
    column's standard SQL type, a dict for a STRUCT, a list of dicts for an ARRAY<STRUCT>."""
    if spec.is_repeated:
        items = list(value or [])
        if spec.is_record:
            return [_record_parameter(spec, item) for item in items]
        return QueryParam(f"ARRAY<{_STANDARD_NAMES.get(spec.type, spec.type.value)}>", items)
    if spec.is_record:
        return _record_parameter(spec, value)
    return QueryParam(_STANDARD_NAMES.get(spec.type, spec.type.value), value)


def _record_parameter(spec: FieldSpec, value: Any) -> dict[str, Any]:
    lowered = {str(k).lower(): v for k, v in (value or {}).items()}
    return {f.name: _cell_parameter(f, lowered.get(f.name.lower())) for f in spec.fields}
