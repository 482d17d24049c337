"""Query parameters: Python values (or typed ``QueryParam``) as DuckDB parameter values.

Plain values are typed as the google-cloud-bigquery client types them (str → STRING, int → INT64,
Decimal → NUMERIC, aware datetime → TIMESTAMP, naive → DATETIME, ...); a ``QueryParam`` names the
BigQuery type when the Python value alone is ambiguous (JSON, BIGNUMERIC, a string timestamp).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from fakes.bigquery.exceptions import InvalidParameterValue, UnsupportedParameterType, ValueRejected
from fakes.bigquery.types import duck_type, field_to_storage
from harness.ports import QueryParam, scalar_type
from harness.schema.spec import FieldMode, FieldSpec, FieldType

_JSON_CASTS = {"JSON": "JSON", "ARRAY<JSON>": "JSON[]"}


def to_duckdb(value: Any) -> Any:
    """The DuckDB value of one parameter, typed and checked as the port's real-client adapter
    (harness/backends/bigquery.py) types it, so a value the real client path refuses is refused
    here too, with the same message."""
    if isinstance(value, QueryParam):
        return _typed(value)
    if isinstance(value, Mapping):
        return {key: to_duckdb(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        items = list(value)
        sample = next((item for item in items if item is not None), None)
        if isinstance(sample, Mapping):
            return [to_duckdb(item) for item in items]
        return _typed(QueryParam(f"ARRAY<{scalar_type(sample)}>", items))
    return _typed(QueryParam(scalar_type(value), value))


def cast_typed_nulls(sql: str, params: Mapping[str, Any]) -> str:
    """``sql`` with each NULL parameter of a declared type cast to it: BigQuery types every
    parameter (a NULL ``ARRAY<INT64>`` indexed is a NULL INT64), DuckDB types a bare NULL as NULL;
    a JSON parameter is cast too, since DuckDB receives its text as VARCHAR."""
    for name, given in params.items():
        # A plain None is a STRING, as the client types it.
        param = QueryParam(scalar_type(None), None) if given is None else given
        if not isinstance(param, QueryParam):
            continue
        if param.value is not None:
            json_type = _JSON_CASTS.get(param.type.upper())
            if json_type is not None:  # JSON text, typed JSON as BigQuery types it
                sql = re.sub(rf"\${re.escape(name)}\b", f"CAST(${name} AS {json_type})", sql)
            continue
        type_name = param.type.upper()
        repeated = type_name.startswith("ARRAY<") and type_name.endswith(">")
        try:
            field_type = FieldType.parse(type_name[len("ARRAY<") : -1] if repeated else type_name)
            spec = FieldSpec(
                name=name, type=field_type, mode=FieldMode.REPEATED if repeated else FieldMode.NULLABLE
            )
            target = duck_type(spec)
        except (ValueError, KeyError):
            continue  # a STRUCT or other type the cast cannot name: left to DuckDB
        sql = re.sub(rf"\${re.escape(name)}\b", f"CAST(${name} AS {target})", sql)
    return sql


@functools.lru_cache(maxsize=256)
def _specs(type_text: str) -> tuple[FieldSpec, FieldSpec | None]:
    """The field a parameter of type ``type_text`` is stored as, and for an ``ARRAY<...>`` the
    repeated field a non-list value is checked as (None for a scalar type); a type the fake
    cannot name is :class:`UnsupportedParameterType`. Worked out once per type text: a statement
    run again and again binds the same types."""
    type_name = type_text.upper()
    repeated = type_name.startswith("ARRAY<") and type_name.endswith(">")
    if repeated:
        type_name = type_name[len("ARRAY<") : -1]
    range_element = None
    if type_name.startswith("RANGE<") and type_name.endswith(">"):
        type_name, range_element = "RANGE", type_name[len("RANGE<") : -1]
    try:
        field_type = FieldType.parse(type_name)
        element = FieldType.parse(range_element) if range_element else None
    except ValueError as exc:
        raise UnsupportedParameterType(type=type_text) from exc
    spec = FieldSpec(name="param", type=field_type, range_element=element)
    return spec, FieldSpec(name="param", type=field_type, mode=FieldMode.REPEATED) if repeated else None


def _typed(param: QueryParam) -> Any:
    spec, repeated = _specs(param.type)
    if repeated is not None and param.value is None:
        return None  # a NULL ARRAY parameter stays NULL (ARRAY_LENGTH(@a) is NULL, not 0)
    try:
        if repeated is not None and isinstance(param.value, list | tuple):
            # A NULL element is allowed in an array *parameter* (BigQuery only refuses an array
            # holding NULL when it is written to a result or a table).
            return [None if item is None else field_to_storage(spec, item, "param") for item in param.value]
        return field_to_storage(spec if repeated is None else repeated, param.value, "param")
    except ValueRejected as exc:
        raise InvalidParameterValue(type=param.type, detail=exc.message) from exc
