"""Table ``OPTIONS(...)`` of ``CREATE TABLE`` and ``ALTER TABLE SET OPTIONS``, read the way the REST
resource carries them: typed where the engine acts on them (expiration, partition filter),
kept where BigQuery only stores them (``friendly_name``, ``kms_key_name``), refused by name
otherwise, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlglot import exp

from fakes.bigquery.exceptions import UnsupportedByFake

#: Options the DDL reads into the table's spec (:mod:`fakes.bigquery.ddl`).
SPEC_OPTIONS = frozenset(("description", "labels", "require_partition_filter", "partition_expiration_days"))
#: Options kept as the REST resource field BigQuery shows them under.
KEPT_OPTIONS = {"friendly_name": "friendlyName", "kms_key_name": "encryptionConfiguration"}


@dataclass
class ExtraOptions:
    """What ``OPTIONS`` set beyond the spec: the expiration (``False``: not named) and kept fields."""

    expires: datetime | bool | None = False
    kept: dict[str, Any] = field(default_factory=dict)


def extra_options(properties: exp.Properties | None, evaluate: Callable[[str], Any]) -> ExtraOptions:
    """Read the options beyond the spec; ``evaluate`` runs a constant expression (a TIMESTAMP)."""
    extra = ExtraOptions()
    for prop in properties.expressions if properties is not None else []:
        if type(prop) is not exp.Property:  # PARTITION BY, CLUSTER BY... are Property subclasses
            continue
        name = prop.name.lower()
        value = prop.args.get("value")
        if name in SPEC_OPTIONS:
            continue
        if name == "expiration_timestamp":
            extra.expires = (
                None if value is None or isinstance(value, exp.Null) else evaluate(value.sql("bigquery"))
            )
        elif name in KEPT_OPTIONS:
            extra.kept[KEPT_OPTIONS[name]] = _kept_value(name, value)
        else:
            raise UnsupportedByFake(
                f"Table option {name} is not supported by the BigQuery fake", reason="invalid"
            )
    return extra


def _kept_value(name: str, value: exp.Expression | None) -> Any:
    if value is None or isinstance(value, exp.Null):
        return None
    text = value.name if isinstance(value, exp.Literal) else value.sql("bigquery")
    return {"kmsKeyName": text} if name == "kms_key_name" else text


def merged_kept(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``SET OPTIONS`` changes the options it names; a NULL removes one."""
    kept = dict(current)
    for key, value in update.items():
        if value is None:
            kept.pop(key, None)
        else:
            kept[key] = value
    return kept
