"""Which dataset and table resource fields the REST emulator keeps, derives or refuses, and how
``patch`` (merge) and ``update`` (replace) combine a request with the stored resource.

A field is *kept* when BigQuery only stores it for the emulator's purposes (``access``,
``encryptionConfiguration``, ``friendlyName``...: nothing the engine would do differently);
*refused* with a 400 naming it when honouring it would change behaviour the engine does not have
(``defaultCollation``, ``externalDataConfiguration``...). Everything else is read-only output or
typed in the specs (views and range partitioning: :mod:`fakes.bigquery.views`, ``range_partitioning``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from fakes.bigquery.exceptions import (
    FieldNotHonoured,
    InvalidTableResource,
    InvalidTableSchema,
    PartitioningAdded,
    PartitioningChanged,
)
from fakes.bigquery.rest_requests import int64_field, merged_labels
from harness.schema.spec import DatasetSpec, FieldSpec, TableSpec, TimePartitioning

DATASET_KEPT = (
    "access",
    "defaultEncryptionConfiguration",
    "defaultPartitionExpirationMs",
    "friendlyName",
    "maxTimeTravelHours",
    "storageBillingModel",
    "resourceTags",
)
DATASET_REFUSED = (
    "defaultCollation",
    "defaultRoundingMode",
    "isCaseInsensitive",
    "externalDatasetReference",
    "externalCatalogDatasetOptions",
    "linkedDatasetSource",
)
TABLE_KEPT = ("encryptionConfiguration", "friendlyName", "tableConstraints", "resourceTags")
TABLE_REFUSED = (
    "externalDataConfiguration",
    "defaultCollation",
    "defaultRoundingMode",
    "biglakeConfiguration",
    "tableReplicationInfo",
    "externalCatalogTableOptions",
    "maxStaleness",
)
#: Column properties the engine types (``FieldSpec``); any other one set in a schema is refused.
FIELD_TYPED = frozenset(("name", "type", "mode", "description", "fields", "rangeElementType", "collation"))
#: BigQuery's access list of a dataset created without one (the project's roles).
DEFAULT_ACCESS = (
    {"role": "WRITER", "specialGroup": "projectWriters"},
    {"role": "OWNER", "specialGroup": "projectOwners"},
    {"role": "READER", "specialGroup": "projectReaders"},
)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _malformed_is_400(parse: Callable[_P, _R]) -> Callable[_P, _R]:
    """A body of the wrong shape (a string where an object belongs...) is the client's 400, not a bug."""

    @wraps(parse)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return parse(*args, **kwargs)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise InvalidTableResource(detail=exc) from exc

    return checked


def refuse(body: Mapping[str, Any], refused: tuple[str, ...], kind: str) -> None:
    for key in refused:
        if body.get(key):
            raise FieldNotHonoured(kind=kind, field=key)


def kept_fields(
    body: Mapping[str, Any], names: tuple[str, ...], current: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``current`` None: the fields of ``body`` alone (insert, update); else ``body`` merged in (patch,
    where a null removes a field)."""
    kept = dict(current or {})
    for name in names:
        if name in body:
            if body[name] is None:
                kept.pop(name, None)
            else:
                kept[name] = body[name]
    return kept


def merged_dataset(body: Mapping[str, Any], current: DatasetSpec, *, put: bool) -> DatasetSpec:
    spec = current
    if put or "description" in body:
        spec = replace(spec, description=body.get("description"))
    if put or "defaultTableExpirationMs" in body:
        spec = replace(spec, default_table_expiration_ms=int64_field(body, "defaultTableExpirationMs"))
    if put or "labels" in body:
        spec = replace(spec, labels=merged_labels(current.labels, body.get("labels"), replace=put))
    return spec


def schema_of(body: Mapping[str, Any]) -> tuple[FieldSpec, ...]:
    try:
        fields = (body.get("schema") or {}).get("fields") or []
        for field in _walk(fields):  # a property set that FieldSpec would drop is refused
            extra = sorted(
                key for key, value in field.items() if value is not None and key not in FIELD_TYPED
            )
            if extra:
                raise FieldNotHonoured(kind="schema", field=f"{field.get('name')}.{extra[0]}")
        return tuple(FieldSpec.from_api(f) for f in fields)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidTableSchema(detail=exc) from exc


def _walk(fields: list[Any]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for field in fields:
        out.append(field)
        out.extend(_walk(field.get("fields") or []))
    return out


@_malformed_is_400
def new_table(body: Mapping[str, Any], dataset_kept: Mapping[str, Any]) -> TableSpec:
    """A ``tables.insert`` body as a spec; the dataset's ``defaultPartitionExpirationMs`` applies
    to a partitioned table that sets no expiration of its own."""
    spec = replace(TableSpec.from_api({**body, "schema": None}), schema=schema_of(body))
    partitioning = body.get("timePartitioning") or {}
    if partitioning.get("requirePartitionFilter"):
        spec = replace(spec, require_partition_filter=True)
    default_ms = dataset_kept.get("defaultPartitionExpirationMs")
    if spec.time_partitioning is not None and spec.time_partitioning.expiration_ms is None and default_ms:
        spec = replace(spec, time_partitioning=replace(spec.time_partitioning, expiration_ms=int(default_ms)))
    return spec


@_malformed_is_400
def merged_table(body: Mapping[str, Any], current: TableSpec, name: str, *, put: bool) -> TableSpec:
    """The spec after a patch (fields present in ``body`` change) or an update (every settable field
    is the body's); the schema is the caller's (it goes through the schema-change rules)."""
    spec = current
    if put or "description" in body:
        spec = replace(spec, description=body.get("description"))
    if put or "labels" in body:
        spec = replace(spec, labels=merged_labels(current.labels, body.get("labels"), replace=put))
    if put or "clustering" in body:
        spec = replace(spec, clustering_fields=tuple((body.get("clustering") or {}).get("fields") or ()))
    partitioning = body.get("timePartitioning")
    if put or "timePartitioning" in body:
        spec = replace(spec, time_partitioning=_partitioning(current.time_partitioning, partitioning, name))
    require = body.get("requirePartitionFilter")
    if require is None and isinstance(partitioning, Mapping):
        require = partitioning.get("requirePartitionFilter")
    if require is not None or put:
        spec = replace(spec, require_partition_filter=bool(require))
    return spec


def _partitioning(
    current: TimePartitioning | None, body: Mapping[str, Any] | None, name: str
) -> TimePartitioning | None:
    """Only the partition expiration of a partitioned table may change, as in BigQuery."""
    if not body:
        if current is not None:
            raise PartitioningChanged(table=name)
        return None
    if current is None:
        raise PartitioningAdded()
    wanted = TimePartitioning.from_api(body)
    if (wanted.type, wanted.field) != (current.type, current.field):
        raise PartitioningChanged(table=name)
    return replace(current, expiration_ms=wanted.expiration_ms)


def expiration(body: Mapping[str, Any]) -> datetime | None:
    """``expirationTime`` (milliseconds since the epoch) as a moment; absent or null: never."""
    millis = int64_field(body, "expirationTime")
    return datetime.fromtimestamp(millis / 1000, tz=UTC) if millis is not None else None
