"""What a query job's configuration asks beyond running the statement: its checks and its writes.

* every field of ``configuration`` and ``configuration.query`` is one the emulator honours, or the
  job is refused with a 400 that names the field (:data:`JOB_FIELDS`, :data:`QUERY_FIELDS`);
* ``maximumBytesBilled``: the statement is estimated before it runs (a dry run) and billed as
  BigQuery bills on demand — the bytes processed rounded up to a whole MiB, at least 10 MiB once
  a table is read; over the limit it fails with BigQuery's ``bytesBilledLimitExceeded``;
* ``destinationTable`` with ``createDisposition``, ``writeDisposition`` and
  ``schemaUpdateOptions``: a SELECT's rows are written there (not into the streaming buffer);
  ``destinationEncryptionConfiguration`` becomes the table's ``encryptionConfiguration`` (its
  Cloud KMS key is named, not used: the emulator encrypts nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    BytesBilledLimitExceeded,
    DestinationNotEmpty,
    DestinationWithDml,
    FieldTypeChanged,
    InvalidArgument,
    SchemaFieldAdditionRefused,
    TableNotFound,
    UnsupportedByFake,
    raise_first,
)
from fakes.bigquery.job_refs import table_ref
from harness.ports import QueryResult, TableInfo, WarehouseError
from harness.schema import rules
from harness.schema.spec import FieldMode, FieldSpec, TableSpec

#: ``configuration`` fields a query job may carry (``query`` itself and what every job has).
JOB_FIELDS = frozenset(("query", "dryRun", "labels", "jobType", "jobTimeoutMs"))
#: ``configuration.query`` fields the emulator honours. ``priority`` changes nothing (every job
#: runs at once) and ``useQueryCache`` neither (the emulator never answers from a cache).
QUERY_FIELDS = frozenset(
    (
        "query",
        "useLegacySql",
        "parameterMode",
        "queryParameters",
        "defaultDataset",
        "connectionProperties",
        "createSession",
        "destinationTable",
        "createDisposition",
        "writeDisposition",
        "schemaUpdateOptions",
        "maximumBytesBilled",
        "priority",
        "useQueryCache",
        "destinationEncryptionConfiguration",
    )
)
_MIB = 1024 * 1024
_MIN_BILLED = 10 * _MIB
_CHOICES = {
    "createDisposition": ("CREATE_IF_NEEDED", "CREATE_NEVER"),
    "writeDisposition": ("WRITE_EMPTY", "WRITE_TRUNCATE", "WRITE_APPEND"),
    "priority": ("INTERACTIVE", "BATCH"),
}
_UPDATE_OPTIONS = ("ALLOW_FIELD_ADDITION", "ALLOW_FIELD_RELAXATION")


def check_configuration(configuration: Mapping[str, Any]) -> None:
    """A 400 naming the first field the emulator would otherwise ignore, or a value it refuses."""
    for name, value in configuration.items():
        if name not in JOB_FIELDS and value is not None:
            raise UnsupportedByFake(f"The emulator does not support configuration.{name}", reason="invalid")
    query = configuration.get("query") or {}
    for name, value in query.items():
        if name not in QUERY_FIELDS and value is not None:
            raise UnsupportedByFake(f"The emulator does not support query.{name}", reason="invalid")
    for name, allowed in _CHOICES.items():
        if query.get(name) is not None and query[name] not in allowed:
            raise InvalidArgument(name=name, value=query[name])
    for option in query.get("schemaUpdateOptions") or []:
        if option not in _UPDATE_OPTIONS:
            raise InvalidArgument(name="schemaUpdateOptions", value=option)


def billed_bytes(processed: int) -> int:
    """On-demand billing: whole MiB, at least 10 MiB for a statement that reads a table."""
    if processed <= 0:
        return 0
    return max(_MIN_BILLED, -(-processed // _MIB) * _MIB)


def check_before_run(query: Mapping[str, Any], estimate: Callable[[], QueryResult]) -> None:
    """Refuse, before it runs, a statement over ``maximumBytesBilled`` or a DML/DDL statement
    with a ``destinationTable``; ``estimate`` is the statement's dry run (only made when needed)."""
    limit = query.get("maximumBytesBilled")
    if limit is None and not query.get("destinationTable"):
        return
    try:
        result = estimate()
    except UnsupportedByFake as exc:
        field = "maximumBytesBilled" if limit is not None else "destinationTable"
        raise UnsupportedByFake(
            f"The emulator cannot honour {field} here: {exc.message}", reason="invalid"
        ) from exc
    if query.get("destinationTable") and result.statement_type.upper() != "SELECT":
        raise DestinationWithDml()
    if limit is not None:
        try:
            limit_bytes = int(limit)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(name="maximumBytesBilled", value=limit) from exc
        billed = billed_bytes(result.total_bytes_processed)
        if billed > limit_bytes:
            raise BytesBilledLimitExceeded(limit=limit_bytes, required=billed)


def write_destination(
    engine: BigQueryEngine, project: str, query: Mapping[str, Any], result: QueryResult
) -> None:
    """Write a SELECT's rows to ``destinationTable`` as the dispositions say."""
    if not query.get("destinationTable"):
        return
    ref = table_ref(query["destinationTable"], "destinationTable", project)
    names = {"project": ref.project, "dataset_id": ref.dataset, "table_id": ref.table}
    try:
        existing: TableInfo | None = engine.get_table(ref.project, ref.dataset, ref.table)
    except TableNotFound:
        existing = None
    write = query.get("writeDisposition") or "WRITE_EMPTY"
    created = existing is None
    if existing is None:
        if query.get("createDisposition") == "CREATE_NEVER":
            raise TableNotFound(**names)
        engine.create_table(ref.project, ref.dataset, TableSpec(table_id=ref.table, schema=result.schema))
    elif write == "WRITE_EMPTY" and existing.num_rows:
        raise DestinationNotEmpty(**names)
    elif write == "WRITE_TRUNCATE":
        # The result's schema replaces the table's; checked first, so a refusal keeps the table.
        spec = replace(existing.spec, schema=result.schema)
        raise_first(rules.validate_table(spec))
        engine.delete_table(ref.project, ref.dataset, ref.table)
        engine.create_table(ref.project, ref.dataset, spec)
    elif write == "WRITE_APPEND":
        _widen(engine, existing, result.schema, query.get("schemaUpdateOptions") or [], names)
    try:
        engine.insert_rows(ref.project, ref.dataset, ref.table, result.rows)
    except WarehouseError:
        if created:  # the job made the table: it leaves nothing behind
            engine.delete_table(ref.project, ref.dataset, ref.table)
        raise
    encryption = query.get("destinationEncryptionConfiguration")
    _keep_encryption(engine, ref.project, ref.dataset, ref.table, encryption)


def _keep_encryption(engine: BigQueryEngine, project: str, dataset: str, table: str, config: Any) -> None:
    """The destination keeps the job's ``destinationEncryptionConfiguration`` (``kmsKeyName``)."""
    if not config:
        return
    if not isinstance(config, Mapping) or not isinstance(config.get("kmsKeyName"), str):
        raise InvalidArgument(name="destinationEncryptionConfiguration", value=config)
    _, kept = engine.table_state(project, dataset, table)
    kept["encryptionConfiguration"] = {"kmsKeyName": config["kmsKeyName"]}
    engine.patch_table(project, dataset, table, kept=kept)


def _widen(
    engine: BigQueryEngine,
    existing: TableInfo,
    schema: tuple[FieldSpec, ...],
    options: list[str],
    names: dict[str, str],
) -> None:
    """Check appended columns against the table's; add the new ones under ALLOW_FIELD_ADDITION."""
    added: list[FieldSpec] = []
    for column in schema:
        current = existing.spec.field(column.name)
        if current is None:
            if "ALLOW_FIELD_ADDITION" not in options:
                raise SchemaFieldAdditionRefused(field=column.name, **names)
            added.append(
                replace(column, mode=FieldMode.NULLABLE) if column.mode is FieldMode.REQUIRED else column
            )
        elif current.type != column.type:
            table = "{project}:{dataset_id}.{table_id}".format(**names)
            raise FieldTypeChanged(
                table=table, field=column.name, old=current.type.value, new=column.type.value
            )
        elif "ALLOW_FIELD_RELAXATION" in options and current.mode is FieldMode.REQUIRED:
            raise UnsupportedByFake(
                "The emulator does not support schemaUpdateOptions ALLOW_FIELD_RELAXATION "
                f"(column {current.name} is REQUIRED)",
                reason="invalid",
            )
    if added:
        engine.patch_table(
            existing.project,
            existing.dataset_id,
            existing.table_id,
            schema=[*existing.spec.schema, *added],
        )
