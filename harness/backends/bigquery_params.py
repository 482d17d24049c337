"""Python values as google-cloud-bigquery query parameters, typed as the client types them.

Plain values follow :func:`harness.ports.scalar_type`; a :class:`harness.ports.QueryParam` names
its type; a value written to a column gets the column's type (records and arrays included).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from google.cloud import bigquery

from harness.ports import QueryParam, scalar_type
from harness.schema.spec import FieldSpec, FieldType


def _standard_type(field_type: FieldType) -> str:
    return {
        FieldType.INTEGER: "INT64",
        FieldType.FLOAT: "FLOAT64",
        FieldType.BOOLEAN: "BOOL",
        FieldType.RECORD: "STRUCT",
    }.get(field_type, field_type.value)


def _scalar_value(type_name: str, value: Any) -> Any:
    """Datetimes shaped for the parameter type: TIMESTAMP aware (naive = UTC), DATETIME naive."""
    if isinstance(value, datetime):
        if type_name == "TIMESTAMP" and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if type_name == "DATETIME" and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
    return value


def to_query_parameter(name: str | None, value: Any) -> Any:
    """A client query parameter typed as the google-cloud-bigquery DB-API types Python values."""
    if isinstance(value, QueryParam):
        type_name = value.type.strip().upper()
        if type_name.startswith("ARRAY<") and type_name.endswith(">"):
            element = FieldType.parse(type_name[len("ARRAY<") : -1].strip())
            element_name = _standard_type(element)
            return bigquery.ArrayQueryParameter(
                name, element_name, [_scalar_value(element_name, v) for v in (value.value or [])]
            )
        element_name = _standard_type(FieldType.parse(type_name))
        return bigquery.ScalarQueryParameter(name, element_name, _scalar_value(element_name, value.value))
    if isinstance(value, Mapping):
        return bigquery.StructQueryParameter(name, *(to_query_parameter(k, v) for k, v in value.items()))
    if isinstance(value, list | tuple):
        items = list(value)
        sample = next((item for item in items if item is not None), None)
        if isinstance(sample, Mapping):
            return bigquery.ArrayQueryParameter(
                name, "STRUCT", [to_query_parameter(None, item) for item in items]
            )
        return bigquery.ArrayQueryParameter(name, scalar_type(sample), items)
    return bigquery.ScalarQueryParameter(name, scalar_type(value), value)


def field_parameter(name: str | None, spec: FieldSpec, value: Any) -> Any:
    """A parameter typed by a column's schema (for DML inserts)."""
    if spec.is_repeated:
        items = list(value or [])
        if spec.is_record:
            struct_type = _struct_type(spec)
            return bigquery.ArrayQueryParameter(
                name,
                struct_type,
                [_record_parameter(None, spec, item) for item in items],
            )
        type_name = _standard_type(spec.type)
        return bigquery.ArrayQueryParameter(name, type_name, [_scalar_value(type_name, v) for v in items])
    if spec.is_record:
        return _record_parameter(name, spec, value)
    type_name = _standard_type(spec.type)
    return bigquery.ScalarQueryParameter(name, type_name, _scalar_value(type_name, value))


def _struct_type(spec: FieldSpec) -> Any:
    return bigquery.StructQueryParameterType(
        *(_param_type(f) for f in spec.fields),
    )


def _param_type(spec: FieldSpec) -> Any:
    if spec.is_record:
        inner = bigquery.StructQueryParameterType(*(_param_type(f) for f in spec.fields), name=spec.name)
    else:
        inner = bigquery.ScalarQueryParameterType(_standard_type(spec.type), name=spec.name)
    if spec.is_repeated:
        return bigquery.ArrayQueryParameterType(inner, name=spec.name)
    return inner


def _record_parameter(name: str | None, spec: FieldSpec, value: Any) -> Any:
    value = value or {}
    lowered = {str(k).lower(): v for k, v in value.items()}
    subs = [field_parameter(f.name, f, lowered.get(f.name.lower())) for f in spec.fields]
    return bigquery.StructQueryParameter(name, *subs)
