"""The in-process ``Warehouse``: the port bound to one project of a :class:`BigQueryEngine`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fakes.bigquery.engine import BigQueryEngine
from harness.ports import Clock, DatasetInfo, InsertMode, QueryResult, TableInfo
from harness.schema.spec import DatasetSpec, FieldSpec, TableSpec


class FakeWarehouse:
    """What the domain code sees on the ``fake`` tier; several projects may share one engine."""

    def __init__(self, engine: BigQueryEngine, project: str = "cloudact-local") -> None:
        self.engine = engine
        self.project = project

    @classmethod
    def in_memory(cls, clock: Clock, project: str = "cloudact-local") -> FakeWarehouse:
        return cls(BigQueryEngine(clock), project)

    def create_dataset(
        self,
        dataset_id: str,
        *,
        location: str = "US",
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        exists_ok: bool = False,
    ) -> DatasetInfo:
        spec = DatasetSpec(
            dataset_id=dataset_id, location=location, description=description, labels=labels or {}
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
        return self.engine.insert_rows(
            self.project, dataset_id, table_id, rows, streaming=InsertMode(mode) is InsertMode.STREAMING
        )

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        return self.engine.query(self.project, sql, params)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return self.query(sql, params).affected_rows or 0
