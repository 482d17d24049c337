"""What a schema update (``tables.patch`` / ``ALTER TABLE ADD COLUMN``) may change: tables only grow.

New columns (top-level or inside a RECORD, after its existing fields) must be NULLABLE or
REPEATED, and a REQUIRED column may be relaxed to NULLABLE; removing a column, changing a
column's type or another mode change is refused with BigQuery's "Provided Schema does not match
Table" errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fakes.bigquery.exceptions import (
    FieldModeChanged,
    FieldRemoved,
    FieldTypeChanged,
    NestedFieldsChangeUnsupported,
    RequiredFieldAdded,
)
from harness.schema.spec import FieldMode, FieldSpec, TableSpec


@dataclass
class SchemaUpdate:
    """What a schema patch does to storage: columns added (top-level or inside a RECORD, by storage
    path) and top-level columns relaxed from REQUIRED (nested ones carry no storage constraint)."""

    added: list[tuple[tuple[str, ...], FieldSpec]] = field(default_factory=list)
    relaxed: list[FieldSpec] = field(default_factory=list)


def schema_updates(
    spec: TableSpec, new_schema: tuple[FieldSpec, ...], project: str, dataset_id: str, table_id: str
) -> SchemaUpdate:
    """Columns a schema patch adds (RECORD sub-fields included) and columns it relaxes from
    REQUIRED to NULLABLE; anything else it changes is refused as BigQuery refuses it."""
    update = SchemaUpdate()
    _compare(spec.schema, new_schema, f"{project}:{dataset_id}.{table_id}", (), update)
    return update


def _compare(
    old_fields: tuple[FieldSpec, ...],
    new_fields: tuple[FieldSpec, ...],
    table: str,
    path: tuple[str, ...],
    update: SchemaUpdate,
) -> None:
    """``path``: the storage path of the RECORD holding these fields (``()`` at the top level)."""
    prefix = "".join(f"{part}." for part in path if part != "element")
    old = {f.name.lower(): f for f in old_fields}
    new_names = [f.name.lower() for f in new_fields]
    for name, column in old.items():
        if name not in new_names:
            raise FieldRemoved(table=table, field=prefix + column.name)
    if path and new_names[: len(old)] != [f.name.lower() for f in old_fields]:
        raise NestedFieldsChangeUnsupported(table=table, field=prefix.rstrip("."))
    for column in new_fields:
        before = old.get(column.name.lower())
        name = prefix + column.name
        if before is None:
            if column.mode is FieldMode.REQUIRED:
                raise RequiredFieldAdded(table=table, field=name)
            update.added.append(((*path, column.name), column))
            continue
        if before.type is not column.type:
            raise FieldTypeChanged(table=table, field=name, old=before.type.value, new=column.type.value)
        if before.mode is FieldMode.REQUIRED and column.mode is FieldMode.NULLABLE:
            if not path:
                update.relaxed.append(column)
        elif before.mode is not column.mode:
            raise FieldModeChanged(table=table, field=name, old=before.mode.value, new=column.mode.value)
        if column.is_record:
            inner = (*path, column.name, "element") if column.is_repeated else (*path, column.name)
            _compare(before.fields, column.fields, table, inner, update)
