"""The DDL the fake accepts in queries, turned into the engine's own create/drop/alter calls.

Going through the engine means DDL obeys the same BigQuery rules as the REST calls: a
``PARTITION BY`` on a missing column fails with BigQuery's message whichever way it arrives.
The engine is reached through :class:`DdlTarget`, the few calls DDL needs, so this module does not
import the engine that imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol, cast

from sqlglot import exp

from fakes.bigquery import ingestion_time, range_partitioning, ranges, views
from fakes.bigquery.ddl_options import extra_options, merged_kept
from fakes.bigquery.exceptions import ColumnAlreadyExists, InvalidPartitionExpression, UnsupportedByFake
from fakes.bigquery.sql import ParsedStatement, StatementKind, listed_tables
from harness.ports import DatasetInfo, NotFoundError, QueryResult, TableInfo
from harness.schema.spec import (
    DatasetSpec,
    FieldMode,
    FieldSpec,
    FieldType,
    PartitionType,
    TableSpec,
    TimePartitioning,
)


class DdlTarget(Protocol):
    """What DDL asks of the engine (:class:`fakes.bigquery.engine.BigQueryEngine` provides it)."""

    def create_dataset(self, project: str, spec: DatasetSpec, *, exists_ok: bool = False) -> DatasetInfo: ...

    def delete_dataset(
        self, project: str, dataset_id: str, *, delete_contents: bool = False, not_found_ok: bool = False
    ) -> None: ...

    def create_table(
        self,
        project: str,
        dataset_id: str,
        spec: TableSpec,
        *,
        exists_ok: bool = False,
        range_partitioning: range_partitioning.RangePartitioning | None = None,
        expires: datetime | None = None,
        kept: Mapping[str, Any] | None = None,
    ) -> TableInfo: ...

    def get_table(self, project: str, dataset_id: str, table_id: str) -> TableInfo: ...

    def patch_table(
        self,
        project: str,
        dataset_id: str,
        table_id: str,
        *,
        schema: Sequence[FieldSpec] | None = None,
        spec: TableSpec | None = None,
        expires: datetime | bool | None = False,
        kept: Mapping[str, Any] | None = None,
    ) -> TableInfo: ...

    def table_state(
        self, project: str, dataset_id: str, table_id: str
    ) -> tuple[datetime | None, dict[str, Any]]: ...

    def delete_table(
        self, project: str, dataset_id: str, table_id: str, *, not_found_ok: bool = False
    ) -> None: ...

    def truncate(self, project: str, dataset_id: str, table_id: str) -> None: ...

    def kind_fields(self, project: str, dataset_id: str, table_id: str) -> dict[str, Any]: ...

    def insert_rows(
        self, project: str, dataset_id: str, table_id: str, rows: Sequence[Mapping[str, Any]]
    ) -> int: ...

    def query(self, project: str, sql: str) -> QueryResult: ...


_SQL_TYPES: dict[str, FieldType] = {
    "VARCHAR": FieldType.STRING,
    "TEXT": FieldType.STRING,
    "VARBINARY": FieldType.BYTES,
    "BINARY": FieldType.BYTES,
    "BLOB": FieldType.BYTES,
    "BIGINT": FieldType.INTEGER,
    "INT": FieldType.INTEGER,
    "DOUBLE": FieldType.FLOAT,
    "FLOAT": FieldType.FLOAT,
    "DECIMAL": FieldType.NUMERIC,
    "BIGDECIMAL": FieldType.BIGNUMERIC,
    "BOOLEAN": FieldType.BOOLEAN,
    "TIMESTAMPTZ": FieldType.TIMESTAMP,
    "TIMESTAMP": FieldType.DATETIME,  # sqlglot reads BigQuery's DATETIME as a naive TIMESTAMP
    "DATETIME": FieldType.DATETIME,
    "DATE": FieldType.DATE,
    "TIME": FieldType.TIME,
    "JSON": FieldType.JSON,
    "GEOGRAPHY": FieldType.GEOGRAPHY,
    "INTERVAL": FieldType.INTERVAL,
}


def run(engine: DdlTarget, project: str, statement: ParsedStatement) -> QueryResult:
    tree = statement.tree
    kind = statement.kind
    if kind in (StatementKind.CREATE_SCHEMA, StatementKind.DROP_SCHEMA):
        schema = tree.this if kind is StatementKind.CREATE_SCHEMA else listed_tables(tree)[0]
        target_project = schema.args["catalog"].name if schema.args.get("catalog") else project
        dataset_id = schema.args["db"].name if schema.args.get("db") else schema.name
        if kind is StatementKind.CREATE_SCHEMA:
            location = _property(tree, exp.LocationProperty)
            engine.create_dataset(
                target_project,
                DatasetSpec(dataset_id=dataset_id, location=str(location or "US")),
                exists_ok=bool(tree.args.get("exists")),
            )
        else:
            engine.delete_dataset(
                target_project,
                dataset_id,
                delete_contents=bool(tree.args.get("cascade")),
                not_found_ok=bool(tree.args.get("exists")),
            )
        return QueryResult(rows=[], statement_type=kind.value)
    ref = statement.target
    assert ref is not None
    if kind in views.VIEW_KINDS:
        return views.run_ddl(cast(views.ViewDdlTarget, engine), statement, _options(tree))
    if kind is StatementKind.DROP_TABLE:
        engine.delete_table(ref.project, ref.dataset, ref.table, not_found_ok=bool(tree.args.get("exists")))
        return QueryResult(rows=[], statement_type=kind.value)
    if kind is StatementKind.TRUNCATE_TABLE:
        before = engine.get_table(ref.project, ref.dataset, ref.table).num_rows
        engine.truncate(ref.project, ref.dataset, ref.table)
        return QueryResult(rows=[], statement_type=kind.value, affected_rows=before)
    if kind is StatementKind.ALTER_TABLE:
        return _alter(engine, statement)
    return _create_table(engine, statement)


def _create_table(engine: DdlTarget, statement: ParsedStatement) -> QueryResult:
    tree = statement.tree
    ref = statement.target
    assert ref is not None
    rows: list[dict[str, Any]] = []
    if statement.kind is StatementKind.CREATE_TABLE_AS_SELECT:
        result = engine.query(ref.project, tree.expression.sql(dialect="bigquery"))
        schema = result.schema
        rows = result.rows
    else:
        schema = tuple(_column(col) for col in tree.this.expressions if isinstance(col, exp.ColumnDef))
    options = _options(tree)
    by_range = range_partitioning.from_ddl(_partition_expression(tree))
    partitioning = _partitioning(tree, options) if by_range is None else None
    clustering = tuple(col.name for col in _cluster_columns(tree))
    spec = TableSpec(
        table_id=ref.table,
        schema=schema,
        description=options.get("description"),
        time_partitioning=partitioning,
        clustering_fields=clustering,
        require_partition_filter=bool(options.get("require_partition_filter", False)),
        labels=options.get("labels") or {},
    )
    extra = extra_options(tree.args.get("properties"), lambda sql: _scalar(engine, ref.project, sql))
    if tree.args.get("replace"):  # after the query, which may read the table it replaces
        _check_replace(engine, statement, partitioning, by_range)
        engine.delete_table(ref.project, ref.dataset, ref.table, not_found_ok=True)
    engine.create_table(
        ref.project,
        ref.dataset,
        spec,
        exists_ok=bool(tree.args.get("exists")),
        range_partitioning=by_range,
        expires=extra.expires if isinstance(extra.expires, datetime) else None,
        kept={key: value for key, value in extra.kept.items() if value is not None},
    )
    if rows:
        engine.insert_rows(ref.project, ref.dataset, ref.table, rows)
    return QueryResult(
        rows=[], statement_type=statement.kind.value, affected_rows=len(rows) if rows else None
    )


def _check_replace(
    engine: DdlTarget,
    statement: ParsedStatement,
    partitioning: TimePartitioning | None,
    by_range: range_partitioning.RangePartitioning | None,
) -> None:
    """``CREATE OR REPLACE TABLE`` keeps the partitioning spec of the table it replaces."""
    ref = statement.target
    assert ref is not None
    try:
        current = engine.get_table(ref.project, ref.dataset, ref.table)
    except NotFoundError:
        return
    old_range = engine.kind_fields(ref.project, ref.dataset, ref.table).get("rangePartitioning")
    range_partitioning.check_replace(current.spec.time_partitioning, old_range, partitioning, by_range)


def _alter(engine: DdlTarget, statement: ParsedStatement) -> QueryResult:
    ref = statement.target
    assert ref is not None
    info = engine.get_table(ref.project, ref.dataset, ref.table)
    schema = list(info.spec.schema)
    for action in statement.tree.args.get("actions") or []:
        if isinstance(action, exp.AlterSet):
            return _set_options(engine, statement, action)
        if isinstance(action, exp.AlterColumn) and action.args.get("drop") and action.args.get("allow_null"):
            schema = _relaxed(schema, action.name, ref.dotted)
            continue
        if not isinstance(action, exp.ColumnDef):
            raise UnsupportedByFake(f"ALTER TABLE {action.key.upper()} is not supported by the BigQuery fake")
        column = _column(action)
        exists = any(f.name.lower() == column.name.lower() for f in schema)
        if exists and action.args.get("exists"):
            continue
        if exists:
            raise ColumnAlreadyExists(name=column.name)
        schema.append(column)
    engine.patch_table(ref.project, ref.dataset, ref.table, schema=schema)
    return QueryResult(rows=[], statement_type=statement.kind.value)


def _relaxed(schema: list[FieldSpec], name: str, table: str) -> list[FieldSpec]:
    """``ALTER COLUMN c DROP NOT NULL``: a REQUIRED column becomes NULLABLE (the others stay)."""
    if not any(f.name.lower() == name.lower() for f in schema):
        raise UnsupportedByFake(f"Column {name} is not in table {table}", reason="invalid")
    return [
        replace(f, mode=FieldMode.NULLABLE)
        if f.name.lower() == name.lower() and f.mode is FieldMode.REQUIRED
        else f
        for f in schema
    ]


def _set_options(engine: DdlTarget, statement: ParsedStatement, action: exp.AlterSet) -> QueryResult:
    """``ALTER TABLE SET OPTIONS``: the named options change, a NULL clears one."""
    ref = statement.target
    assert ref is not None
    info = engine.get_table(ref.project, ref.dataset, ref.table)
    spec = info.spec
    properties = next((e for e in action.expressions if isinstance(e, exp.Properties)), None)
    options = _options_from(properties) if properties is not None else {}
    if "description" in options:
        spec = replace(spec, description=None if options["description"] == "NULL" else options["description"])
    if "labels" in options:
        labels = options["labels"]
        spec = replace(spec, labels=labels if isinstance(labels, dict) else {})
    if "partition_expiration_days" in options:
        spec = replace(
            spec, time_partitioning=_partition_expiration(spec, options["partition_expiration_days"])
        )
    if "require_partition_filter" in options:
        spec = replace(spec, require_partition_filter=options["require_partition_filter"] is True)
    extra = extra_options(properties, lambda sql: _scalar(engine, ref.project, sql))
    _, kept = engine.table_state(ref.project, ref.dataset, ref.table)
    engine.patch_table(
        ref.project,
        ref.dataset,
        ref.table,
        spec=spec,
        expires=extra.expires,
        kept=merged_kept(kept, extra.kept),
    )
    return QueryResult(rows=[], statement_type=statement.kind.value)


def _partition_expiration(spec: TableSpec, days: Any) -> TimePartitioning:
    if spec.time_partitioning is None:
        raise UnsupportedByFake(
            f"partition_expiration_days needs a partitioned table; {spec.table_id} is not", reason="invalid"
        )
    expiration = None if days == "NULL" else int(float(days) * 86_400_000)
    return replace(spec.time_partitioning, expiration_ms=expiration)


def _scalar(engine: DdlTarget, project: str, sql: str) -> Any:
    """The value of a constant expression of an option (``TIMESTAMP '2030-01-01'``)."""
    return next(iter(engine.query(project, f"SELECT {sql} AS v").rows[0].values()))


def _column(col: exp.ColumnDef) -> FieldSpec:
    data_type = col.args["kind"]
    mode = FieldMode.NULLABLE
    if any(
        isinstance(c.args.get("kind"), exp.NotNullColumnConstraint) for c in col.args.get("constraints") or []
    ):
        mode = FieldMode.REQUIRED
    description = collation = None
    for constraint in col.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.Properties):
            description = _options_from(kind).get("description")
        if isinstance(kind, exp.CollateColumnConstraint):
            collation = kind.name
    field_type, fields, repeated = _field_type(data_type)
    if repeated:
        mode = FieldMode.REPEATED
    element = ranges.element_of(data_type)
    return FieldSpec(
        name=col.name,
        type=field_type,
        mode=mode,
        description=description,
        fields=fields,
        range_element=element,
        collation=collation,
    )


def _field_type(data_type: exp.DataType) -> tuple[FieldType, tuple[FieldSpec, ...], bool]:
    type_name = data_type.this.name if hasattr(data_type.this, "name") else str(data_type.this)
    if type_name == "ARRAY":
        inner_type, inner_fields, _ = _field_type(data_type.expressions[0])
        return inner_type, inner_fields, True
    if type_name == "STRUCT":
        fields = tuple(_column(child) for child in data_type.expressions if isinstance(child, exp.ColumnDef))
        return FieldType.RECORD, fields, False
    if type_name == "RANGE" and ranges.element_of(data_type) is not None:
        return FieldType.RANGE, (), False
    if type_name == "DECIMAL" and data_type.expressions:
        precision = int(data_type.expressions[0].name)
        return (FieldType.BIGNUMERIC if precision > 38 else FieldType.NUMERIC), (), False
    try:
        return _SQL_TYPES[type_name], (), False
    except KeyError as exc:
        raise UnsupportedByFake(f"Type {type_name} is not supported by the BigQuery fake") from exc


def _options(tree: exp.Create) -> dict[str, Any]:
    properties = tree.args.get("properties")
    return _options_from(properties) if properties is not None else {}


def _options_from(properties: exp.Properties) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for prop in properties.expressions:
        if isinstance(prop, exp.Property):
            name = prop.name.lower()
            value = prop.args.get("value")
            options[name] = _literal(value)
    return options


def _literal(value: exp.Expression | None) -> Any:
    if value is None:
        return None
    if isinstance(value, exp.Boolean):
        return value.this
    if isinstance(value, exp.Literal):
        return value.this if value.is_string else float(value.this) if "." in value.this else int(value.this)
    if isinstance(value, exp.Array):
        pairs = [_literal(item) for item in value.expressions]
        if all(isinstance(pair, tuple) for pair in pairs):
            return dict(pairs)
        return pairs
    if isinstance(value, exp.Tuple):
        return tuple(_literal(item) for item in value.expressions)
    return value.sql(dialect="bigquery")


def _property(tree: exp.Create, kind: type[exp.Expression]) -> Any:
    properties = tree.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, kind):
            return _literal(prop.this)
    return None


def _partition_expression(tree: exp.Create) -> exp.Expression | None:
    properties = tree.args.get("properties")
    partition = None
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.PartitionedByProperty):
            partition = prop.this
    return partition


def _partitioning(tree: exp.Create, options: dict[str, Any]) -> TimePartitioning | None:
    partition = _partition_expression(tree)
    if partition is None:
        return None
    unit = PartitionType.DAY
    column: exp.Expression | None = partition
    if isinstance(partition, exp.Date | exp.Cast | exp.TsOrDsToDate):
        column = partition.this
    elif isinstance(partition, exp.TimestampTrunc | exp.DatetimeTrunc | exp.DateTrunc):
        column = partition.this
        unit = PartitionType(partition.unit.name.upper())
    if not isinstance(column, exp.Column | exp.Identifier):  # sqlglot: an Identifier before OPTIONS
        raise InvalidPartitionExpression()
    days = options.get("partition_expiration_days")
    expiration = int(float(days) * 86_400_000) if days is not None else None
    ingested = column.name.upper() in ingestion_time.PSEUDO_COLUMNS  # PARTITION BY _PARTITIONDATE
    return TimePartitioning(type=unit, field=None if ingested else column.name, expiration_ms=expiration)


def _cluster_columns(tree: exp.Create) -> list[exp.Column]:
    properties = tree.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.ClusterProperty):
            return [c for c in prop.expressions if isinstance(c, exp.Column | exp.Identifier)]
    return []
