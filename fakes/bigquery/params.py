"""Query parameters: Python values (or typed ``QueryParam``) as DuckDB parameter values.

Plain values are typed as the google-cloud-bigquery client types them (str → STRING, int → INT64,
Decimal → NUMERIC, aware datetime → TIMESTAMP, naive → DATETIME, ...); a ``QueryParam`` names the
BigQuery type when the Python value alone is ambiguous (JSON, BIGNUMERIC, a string timestamp).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes.bigquery.types import ValueRejected, field_to_storage
from harness.ports import InvalidRequestError, QueryParam
from harness.schema.spec import FieldMode, FieldSpec, FieldType


def to_duckdb(value: Any) -> Any:
    if isinstance(value, QueryParam):
        return _typed(value)
    if isinstance(value, tuple):
        return [to_duckdb(item) for item in value]
    if isinstance(value, list):
        return [to_duckdb(item) for item in value]
    if isinstance(value, Mapping):
        return {key: to_duckdb(item) for key, item in value.items()}
    return value


def _typed(param: QueryParam) -> Any:
    type_name = param.type.upper()
    repeated = type_name.startswith("ARRAY<") and type_name.endswith(">")
    if repeated:
        type_name = type_name[len("ARRAY<") : -1]
    try:
        field_type = FieldType.parse(type_name)
    except ValueError as exc:
        raise InvalidRequestError(
            f"Unsupported query parameter type: {param.type}", reason="invalidQuery"
        ) from exc
    spec = FieldSpec(
        name="param", type=field_type, mode=FieldMode.REPEATED if repeated else FieldMode.NULLABLE
    )
    try:
        return field_to_storage(spec, param.value, "param")
    except ValueRejected as exc:
        raise InvalidRequestError(
            f"Invalid value for query parameter of type {param.type}: {exc.message}", reason="invalidQuery"
        ) from exc
