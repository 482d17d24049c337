"""The BigQuery types of the columns a statement can read, for rewrites that depend on them.

The SQL rewrites see no schema (see ``functions.py``); a few of them need to know that a column is
an INT64, a NUMERIC or a BIGNUMERIC. The statement runner sets :data:`COLUMN_TYPES` to the columns of
the tables the statement references (its DML target too), by lower-cased name, while it
translates; a name two tables give different types is left out, as
:func:`fakes.bigquery.results.result_schema` does. :data:`TARGET_TYPES` are the target's alone, and
:data:`BIGNUMERIC_PARAMS` the query parameters typed BIGNUMERIC.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from types import MappingProxyType

from cachetools import LRUCache
from sqlglot import exp

from harness.schema.spec import FieldSpec, FieldType

COLUMN_TYPES: ContextVar[Mapping[str, FieldType] | None] = ContextVar("bq_column_types", default=None)
TARGET_TYPES: ContextVar[Mapping[str, FieldType] | None] = ContextVar("bq_target_types", default=None)
"""The columns of the table a DML statement writes (an INSERT's values take their types)."""
BIGNUMERIC_PARAMS: ContextVar[frozenset[str]] = ContextVar("bq_bignumeric_params", default=frozenset())
"""The statement's scalar BIGNUMERIC query parameters (bound in the stored, scaled form)."""


def column_types(schemas: Iterable[tuple[FieldSpec, ...]]) -> dict[str, FieldType]:
    """Top-level, non-repeated columns by lower-cased name; ambiguous names are dropped."""
    known: dict[str, FieldType] = {}
    ambiguous: set[str] = set()
    for schema in schemas:
        for spec in schema:
            if spec.is_repeated:
                continue
            key = spec.name.lower()
            if key in known and known[key] is not spec.type:
                ambiguous.add(key)
            known[key] = spec.type
    return {name: kind for name, kind in known.items() if name not in ambiguous}


_NONE: Mapping[str, FieldType] = MappingProxyType({})
_KNOWN_LOCK = threading.Lock()
_KNOWN: LRUCache[tuple[int, ...], tuple[list[tuple[FieldSpec, ...]], Mapping[str, FieldType]]] = LRUCache(
    maxsize=1024
)


def known_column_types(schemas: list[tuple[FieldSpec, ...]]) -> Mapping[str, FieldType]:
    """:func:`column_types`, read-only, worked out once per list of schemas (every statement over
    the same tables asks again): keyed by the schemas' identity (a table's schema is a new tuple
    when it changes), which the entry keeps alive and checks, so an id never stands for another."""
    if not schemas:  # ``SELECT 1``, or no DML target
        return _NONE
    key = tuple(map(id, schemas))
    with _KNOWN_LOCK:
        cached = _KNOWN.get(key)
    if cached is not None and all(a is b for a, b in zip(cached[0], schemas, strict=True)):
        return cached[1]
    types = MappingProxyType(column_types(schemas))
    with _KNOWN_LOCK:
        _KNOWN[key] = (list(schemas), types)
    return types


def clear_known() -> None:
    """Forget :func:`known_column_types`' entries (and the schemas they keep alive)."""
    with _KNOWN_LOCK:
        _KNOWN.clear()


def type_of_column(name: str) -> FieldType | None:
    known = COLUMN_TYPES.get()
    return None if known is None else known.get(name.lower())


def type_of_target_column(name: str) -> FieldType | None:
    known = TARGET_TYPES.get()
    return None if known is None else known.get(name.lower())


def bignumeric_parameters(params: Mapping[str, object]) -> frozenset[str]:
    """The names of the scalar parameters typed BIGNUMERIC (a ``QueryParam`` names the type)."""
    return frozenset(
        name
        for name, value in params.items()
        if str(getattr(value, "type", "")).upper() in ("BIGNUMERIC", "BIGDECIMAL")
    )


def is_bignumeric_parameter(name: str) -> bool:
    return name in BIGNUMERIC_PARAMS.get()


def unnested_elements(column: exp.Column) -> list[exp.Expression] | None:
    """The literal elements of the ``UNNEST([...])`` of its own SELECT that ``column`` names (its
    only alias), or None: what a rewrite knows of such a column's type."""
    select = column.find_ancestor(exp.Select)
    if select is None or column.table:
        return None
    for unnest in select.find_all(exp.Unnest):
        alias = unnest.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None else []
        if names != [column.name] or len(unnest.expressions) != 1:
            continue
        array = unnest.expressions[0]
        return list(array.expressions) if isinstance(array, exp.Array) else None
    return None
