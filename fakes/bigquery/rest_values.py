"""BigQuery REST v2 value encoding: engine rows as ``{"f": [{"v": ...}]}`` and REST query
parameters as the engine's Python values.

Cells follow what BigQuery returns (and google-cloud-bigquery parses): INT64 as decimal strings,
BOOL as ``"true"``/``"false"``, FLOAT as strings, NUMERIC as plain decimal text, TIMESTAMP as
float seconds text or, with ``formatOptions.useInt64Timestamp``, integer microseconds text,
BYTES as base64, RECORD as nested ``{"f": [...]}``, REPEATED as ``[{"v": ...}]``.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from fakes.bigquery.exceptions import (
    InvalidJsonParameterValue,
    InvalidParameterMode,
    ParameterTypeMissing,
    PositionalInNamedMode,
    PositionalParameterTypeMissing,
)
from fakes.bigquery.intervals import canonical_text
from harness.ports import QueryParam
from harness.schema.spec import FieldSpec, FieldType

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_rows(
    schema: Sequence[FieldSpec], rows: Sequence[Mapping[str, Any]], *, int64_timestamp: bool
) -> list[dict[str, Any]]:
    return [encode_row(schema, row, int64_timestamp=int64_timestamp) for row in rows]


def encode_row(
    schema: Sequence[FieldSpec], row: Mapping[str, Any], *, int64_timestamp: bool
) -> dict[str, Any]:
    values = list(row.values()) if len(row) == len(schema) else [row.get(f.name) for f in schema]
    return {
        "f": [
            {"v": _encode_field(spec, value, int64_timestamp)}
            for spec, value in zip(schema, values, strict=True)
        ]
    }


def _encode_field(spec: FieldSpec, value: Any, int64_timestamp: bool) -> Any:
    if spec.is_repeated:
        # A None in an ARRAY<JSON> is a JSON null (a NULL element never reaches a result): "null".
        null = "null" if spec.type is FieldType.JSON else None
        return [
            {"v": null if item is None else _encode_scalar(spec, item, int64_timestamp)}
            for item in (value or [])
        ]
    return _encode_scalar(spec, value, int64_timestamp)


def _encode_scalar(spec: FieldSpec, value: Any, int64_timestamp: bool) -> Any:
    if value is None:
        return None
    t = spec.type
    if t is FieldType.RECORD:
        if isinstance(value, Mapping):
            if len(value) == len(spec.fields) and list(value) != [f.name for f in spec.fields]:
                items = list(value.values())
            else:
                items = [value.get(f.name) for f in spec.fields]
        else:
            items = list(value)
        return {
            "f": [
                {"v": _encode_field(f, v, int64_timestamp)} for f, v in zip(spec.fields, items, strict=False)
            ]
        }
    if t is FieldType.RANGE and spec.range_element is not None and isinstance(value, Mapping):
        # "[start, end)" with each bound encoded as a cell of the element type (the client
        # decodes the bounds with its scalar parsers).
        element = FieldSpec(name=spec.name, type=spec.range_element)
        bounds = (_encode_scalar(element, value.get(side), int64_timestamp) for side in ("start", "end"))
        return "[{}, {})".format(*(b if b is not None else "UNBOUNDED" for b in bounds))
    if t is FieldType.BOOLEAN:
        return "true" if value else "false"
    if t is FieldType.INTEGER:
        return str(int(value))
    if t is FieldType.FLOAT:
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return repr(number)
    if t in (FieldType.NUMERIC, FieldType.BIGNUMERIC):
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        text = format(number, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text or "0"
    if t is FieldType.TIMESTAMP:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        micros = (moment - _EPOCH) // timedelta(microseconds=1)
        if int64_timestamp:
            return str(micros)
        return repr(micros / 1_000_000)
    if t is FieldType.BYTES:
        return base64.b64encode(bytes(value)).decode("ascii")
    if t is FieldType.DATETIME and isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if t in (FieldType.DATE, FieldType.TIME) and isinstance(value, date | time):
        return value.isoformat()
    if t is FieldType.JSON:
        return json.dumps(value, separators=(",", ":"), default=str)
    if t is FieldType.INTERVAL and not isinstance(value, str):
        return canonical_text(value)
    return str(value)


# ----------------------------------------------------------------------- query parameters


def decode_parameters(body: Mapping[str, Any]) -> dict[str, Any] | list[Any]:
    """``queryParameters`` of a QueryRequest / JobConfigurationQuery as engine parameters: a dict
    by name (``parameterMode`` NAMED, the default), or a list in order for POSITIONAL (``?``)."""
    params = body.get("queryParameters") or []
    mode = (body.get("parameterMode") or "NAMED").upper()
    if mode not in ("NAMED", "POSITIONAL"):
        raise InvalidParameterMode(mode=body.get("parameterMode"))
    if mode == "POSITIONAL":
        for param in params:
            if "parameterType" not in param:
                raise PositionalParameterTypeMissing()
        return [_decode_value(p["parameterType"], p.get("parameterValue")) for p in params]
    result: dict[str, Any] = {}
    for param in params:
        name = param.get("name")
        if not name:
            raise PositionalInNamedMode()
        if "parameterType" not in param:
            raise ParameterTypeMissing(name=name)
        result[name] = _decode_value(param["parameterType"], param.get("parameterValue"))
    return result


def _decode_value(ptype: Mapping[str, Any], pvalue: Mapping[str, Any] | None) -> Any:
    type_name = str(ptype.get("type", "")).upper()
    pvalue = pvalue or {}
    if type_name == "ARRAY":
        element = ptype.get("arrayType") or {}
        element_name = str(element.get("type", "")).upper()
        if "arrayValues" not in pvalue:  # BigQuery reads an absent arrayValues as a NULL ARRAY
            return QueryParam(f"ARRAY<{element_name}>", None)
        items = pvalue["arrayValues"] or []
        if element_name in ("STRUCT", "RECORD", "ARRAY"):
            return [_decode_value(element, item) for item in items]
        values = [_scalar_value(element_name, item.get("value")) for item in items]
        return QueryParam(f"ARRAY<{element_name}>", values)
    if type_name == "RANGE":
        return _range_value(ptype, pvalue)
    if type_name in ("STRUCT", "RECORD"):
        struct_values = pvalue.get("structValues")
        if struct_values is None and "value" not in pvalue and not pvalue:
            return None
        struct_values = struct_values or {}
        record: dict[str, Any] = {}
        for field in ptype.get("structTypes") or []:
            fname = field.get("name")
            record[fname] = _decode_value(field.get("type") or {}, struct_values.get(fname))
        return record
    return QueryParam(type_name, _scalar_value(type_name, pvalue.get("value")))


def _range_value(ptype: Mapping[str, Any], pvalue: Mapping[str, Any]) -> QueryParam:
    """A RangeQueryParameter: ``rangeElementType`` and ``rangeValue.start/end`` (an absent or
    null bound is unbounded; an absent ``rangeValue`` a NULL RANGE)."""
    element = str((ptype.get("rangeElementType") or {}).get("type", "")).upper()
    bounds = pvalue.get("rangeValue")
    if bounds is None:
        return QueryParam(f"RANGE<{element}>", None)
    value = {side: (bounds.get(side) or {}).get("value") for side in ("start", "end")}
    return QueryParam(f"RANGE<{element}>", value)


def _scalar_value(type_name: str, value: Any) -> Any:
    if value is None:
        return None
    if type_name == "JSON" and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidJsonParameterValue(value=value) from exc
    return value


# ------------------------------------------------------------------------ insertAll rows


def wire_row(schema: Sequence[FieldSpec], row: Mapping[str, Any]) -> dict[str, Any]:
    """An insertAll ``json`` row as engine input: on the wire a JSON column carries JSON *text*
    (google-cloud-bigquery serialises it), which BigQuery parses; the engine takes the value."""
    by_name = {f.name.lower(): f for f in schema}
    out: dict[str, Any] = {}
    for key, value in row.items():
        spec = by_name.get(key.lower()) if isinstance(key, str) else None
        out[key] = value if spec is None else _wire_field(spec, value)
    return out


def _wire_field(spec: FieldSpec, value: Any) -> Any:
    if spec.is_repeated and isinstance(value, list):
        return [_wire_scalar(spec, item) for item in value]
    return _wire_scalar(spec, value)


def _wire_scalar(spec: FieldSpec, value: Any) -> Any:
    if spec.type is FieldType.JSON and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if spec.type is FieldType.RECORD and isinstance(value, Mapping):
        return wire_row(spec.fields, value)
    return value


def known_values(schema: Sequence[FieldSpec], row: Mapping[str, Any]) -> dict[str, Any]:
    """``ignoreUnknownValues``: the row without the values the schema has no field for, at every
    nesting level (names compared case-insensitively, as BigQuery does)."""
    by_name = {f.name.lower(): f for f in schema}
    out: dict[str, Any] = {}
    for key, value in row.items():
        spec = by_name.get(key.lower()) if isinstance(key, str) else None
        if spec is None:
            continue
        if spec.is_record and isinstance(value, Mapping):
            out[key] = known_values(spec.fields, value)
        elif spec.is_record and spec.is_repeated and isinstance(value, list):
            out[key] = [known_values(spec.fields, v) if isinstance(v, Mapping) else v for v in value]
        else:
            out[key] = value
    return out
