"""What a schema update (``tables.patch`` / ``ALTER TABLE ADD COLUMN``) may change: tables only grow.

New columns must be NULLABLE or REPEATED and a REQUIRED column may be relaxed to NULLABLE;
removing a column, or changing a column's type, another mode change or nested fields, is refused
with BigQuery's "Provided Schema does not match Table" errors.
"""

from __future__ import annotations

from dataclasses import replace

from fakes.bigquery.exceptions import (
    FieldModeChanged,
    FieldRemoved,
    FieldTypeChanged,
    NestedFieldsChangeUnsupported,
    RequiredFieldAdded,
)
from harness.schema.spec import FieldMode, FieldSpec, TableSpec


def schema_updates(
    spec: TableSpec, new_schema: tuple[FieldSpec, ...], project: str, dataset_id: str, table_id: str
) -> tuple[list[FieldSpec], list[FieldSpec]]:
    """Columns a schema patch adds and columns it relaxes from REQUIRED to NULLABLE; anything else
    it changes is refused as BigQuery refuses it."""
    table = f"{project}:{dataset_id}.{table_id}"
    old = {f.name.lower(): f for f in spec.schema}
    new_names = {f.name.lower() for f in new_schema}
    for name, column in old.items():
        if name not in new_names:
            raise FieldRemoved(table=table, field=column.name)
    added: list[FieldSpec] = []
    relaxed: list[FieldSpec] = []
    for column in new_schema:
        before = old.get(column.name.lower())
        if before is None:
            if column.mode is FieldMode.REQUIRED:
                raise RequiredFieldAdded(table=table, field=column.name)
            added.append(column)
            continue
        if before.type is not column.type:
            raise FieldTypeChanged(
                table=table, field=column.name, old=before.type.value, new=column.type.value
            )
        if before.mode is FieldMode.REQUIRED and column.mode is FieldMode.NULLABLE:
            relaxed.append(column)
        elif before.mode is not column.mode:
            raise FieldModeChanged(
                table=table, field=column.name, old=before.mode.value, new=column.mode.value
            )
        if before.fields != column.fields and _strip(before.fields) != _strip(column.fields):
            raise NestedFieldsChangeUnsupported(table=table, field=column.name)
    return added, relaxed


def _strip(fields: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
    return tuple(replace(f, description=None, fields=_strip(f.fields)) for f in fields)
