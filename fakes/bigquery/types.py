"""BigQuery types on DuckDB: column types, and values in and out of storage.

DuckDB has no GEOGRAPHY, so GEOGRAPHY (WKT) is stored as VARCHAR and the table's BigQuery schema
says how to read it back; its DECIMAL stops at 38 digits, so a BIGNUMERIC is a scaled BIGNUM
(``bignumeric.py``) and a RANGE a struct (``ranges.py``).
Values leaving the fake are the port's plain Python values: tz-aware UTC datetimes, Decimal,
bytes, dicts and lists.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, InvalidOperation
from functools import partial
from typing import Any

import duckdb
from dateutil.relativedelta import relativedelta

from fakes.bigquery import bignumeric, ranges
from fakes.bigquery.exceptions import (
    ArrayForNonRepeatedField,
    CannotConvert,
    InvalidDatetimeString,
    InvalidDecimal,
    MissingRequiredField,
    NestedArray,
    NoSuchField,
    NotARecord,
    NullInRepeatedField,
    UnparsableTimestamp,
    UnsupportedColumnType,
    ValueRejected,
)
from fakes.bigquery.intervals import as_interval, duckdb_text, from_duckdb_text
from harness.schema.spec import FieldMode, FieldSpec, FieldType

_SCALAR_DUCK: dict[FieldType, str] = {
    FieldType.STRING: "VARCHAR",
    FieldType.BYTES: "BLOB",
    FieldType.INTEGER: "BIGINT",
    FieldType.FLOAT: "DOUBLE",
    FieldType.NUMERIC: "DECIMAL(38,9)",
    FieldType.BIGNUMERIC: "BIGNUM",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.TIMESTAMP: "TIMESTAMPTZ",
    FieldType.DATE: "DATE",
    FieldType.TIME: "TIME",
    FieldType.DATETIME: "TIMESTAMP",
    FieldType.GEOGRAPHY: "VARCHAR",
    FieldType.JSON: "JSON",
    FieldType.INTERVAL: "INTERVAL",
}

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NUMERIC_MAX = Decimal("99999999999999999999999999999.999999999")
BIGNUMERIC_MAX = Decimal("578960446186580977117854925043439539266.34992332820282019728792003956564819967")
BIGNUMERIC_MIN = Decimal("-578960446186580977117854925043439539266.34992332820282019728792003956564819968")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duck_type(spec: FieldSpec, *, element: bool = False) -> str:
    """The DuckDB column type for a BigQuery field (``element`` drops the REPEATED list)."""
    if spec.type is FieldType.RECORD:
        inner = ", ".join(f"{quote_ident(f.name)} {duck_type(f)}" for f in spec.fields)
        base = f"STRUCT({inner})"
    elif spec.type is FieldType.RANGE and spec.range_element is not None:
        base = ranges.duck_type(spec.range_element)
    else:
        base = _SCALAR_DUCK[spec.type]
    if spec.mode is FieldMode.REPEATED and not element:
        return f"{base}[]"
    return base


# ------------------------------------------------------------------------------- into storage


def row_to_storage(schema: tuple[FieldSpec, ...], row: Mapping[str, Any]) -> dict[str, Any]:
    """Check one row against the schema and convert it to DuckDB parameter values.

    Unknown keys, missing REQUIRED values and unconvertible values raise with BigQuery's
    ``insertErrors`` wording and the field's location.
    """
    by_lower = {f.name.lower(): f for f in schema}
    out: dict[str, Any] = {}
    for key, value in row.items():
        spec = by_lower.get(key.lower())
        if spec is None:
            raise NoSuchField(key, field=key)
        out[spec.name] = field_to_storage(spec, value, spec.name)
    for spec in schema:
        if spec.name not in out:
            if spec.mode is FieldMode.REQUIRED:
                raise MissingRequiredField(spec.name, field=spec.name)
            out[spec.name] = [] if spec.mode is FieldMode.REPEATED else None
    return out


def field_to_storage(spec: FieldSpec, value: Any, location: str) -> Any:
    if spec.mode is FieldMode.REPEATED:
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            raise ArrayForNonRepeatedField(location, field=spec.name)
        items = []
        for index, item in enumerate(value):
            if item is None:
                raise NullInRepeatedField(location, field=location)
            # BigQuery locates a refusal inside a repeated RECORD by the element's index
            # ("fields[0].value", glific/glific#3477).
            where = f"{location}[{index}]" if spec.type is FieldType.RECORD else location
            items.append(_scalar_to_storage(spec, item, where))
        return items
    if value is None:
        if spec.mode is FieldMode.REQUIRED:
            raise MissingRequiredField(location, field=location)
        return None
    if isinstance(value, list | tuple) and spec.type is not FieldType.JSON:
        raise ArrayForNonRepeatedField(location, field=spec.name)
    return _scalar_to_storage(spec, value, location)


def _scalar_to_storage(spec: FieldSpec, value: Any, location: str) -> Any:
    t = spec.type
    try:
        if t is FieldType.RECORD:
            if not isinstance(value, Mapping):
                raise NotARecord(location, field=location)
            by_lower = {f.name.lower(): f for f in spec.fields}
            record: dict[str, Any] = {f.name: None for f in spec.fields}
            for f in spec.fields:
                if f.mode is FieldMode.REPEATED:
                    record[f.name] = []
            for key, sub in value.items():
                sub_spec = by_lower.get(key.lower())
                if sub_spec is None:
                    raise NoSuchField(f"{location}.{key}", field=key)
                record[sub_spec.name] = field_to_storage(sub_spec, sub, f"{location}.{sub_spec.name}")
            for f in spec.fields:
                if f.mode is FieldMode.REQUIRED and record[f.name] is None:
                    raise MissingRequiredField(f"{location}.{f.name}", field=f"{location}.{f.name}")
            return record
        if t is FieldType.STRING:
            if isinstance(value, bytes | Mapping | list):
                raise _bad(value, "string", location)
            return value if isinstance(value, str) else str(value)
        if t is FieldType.BYTES:
            if isinstance(value, bytes | bytearray):
                return bytes(value)
            if isinstance(value, str):
                return base64.b64decode(value, validate=True)
            raise _bad(value, "bytes", location)
        if t is FieldType.INTEGER:
            number = _to_int(value, location)
            if not INT64_MIN <= number <= INT64_MAX:
                raise _bad(value, "integer", location)
            return number
        if t is FieldType.FLOAT:
            if isinstance(value, bool):
                raise _bad(value, _kind(t), location)
            if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
                return float(value.replace("Infinity", "inf"))
            return float(value)
        if t is FieldType.NUMERIC or t is FieldType.BIGNUMERIC:
            if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
                raise _bad(value, t.value.lower(), location)
            number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
            if not number.is_finite():
                raise _bad(value, t.value.lower(), location)
            if t is FieldType.NUMERIC:
                if number.copy_abs() > NUMERIC_MAX or _scale(number) > 9:
                    raise InvalidDecimal(location, type="NUMERIC", value=value)
                return number
            if not BIGNUMERIC_MIN <= number <= BIGNUMERIC_MAX or _scale(number) > 38:
                raise InvalidDecimal(location, type="BIGNUMERIC", value=value)
            return bignumeric.to_storage(number)
        if t is FieldType.BOOLEAN:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise _bad(value, "boolean", location)
        if t is FieldType.TIMESTAMP:
            return _to_timestamp(value, location)
        if t is FieldType.DATETIME:
            if isinstance(value, datetime):
                if value.tzinfo is not None:
                    raise InvalidDatetimeString(location, value=value.isoformat())
                return value
            if isinstance(value, str):
                return datetime.fromisoformat(value.replace(" ", "T"))
            raise _bad(value, "datetime", location)
        if t is FieldType.DATE:
            if isinstance(value, datetime):
                raise _bad(value, "date", location)
            if isinstance(value, date):
                return value
            if isinstance(value, str):
                return date.fromisoformat(value)
            raise _bad(value, "date", location)
        if t is FieldType.TIME:
            if isinstance(value, time):
                return value
            if isinstance(value, str):
                return time.fromisoformat(value)
            raise _bad(value, "time", location)
        if t is FieldType.JSON:
            # As google-cloud-bigquery does for JSON cells: every value is serialised, so a str
            # is a JSON string, not JSON text to parse.
            return json.dumps(value, separators=(",", ":"), default=str)
        if t is FieldType.GEOGRAPHY:
            if not isinstance(value, str):
                raise _bad(value, "geography", location)
            return value
        if t is FieldType.RANGE and spec.range_element is not None:
            return ranges.to_storage(value, spec.range_element)
        if t is FieldType.INTERVAL:
            if isinstance(value, timedelta | relativedelta | str):
                return duckdb_text(value)
            raise _bad(value, "interval", location)
    except ValueRejected:
        raise
    except (ValueError, TypeError, InvalidOperation, OverflowError, json.JSONDecodeError) as exc:
        raise _bad(value, _kind(t), location) from exc
    raise UnsupportedColumnType(location, type=t.value)  # pragma: no cover - enum is closed


#: How BigQuery names a type in "Cannot convert value to <kind>" where that differs from the
#: lower-cased type ("floating point": GoogleCloudPlatform/DataflowTemplates#22).
_KINDS = {FieldType.FLOAT: "floating point"}


def _kind(field_type: FieldType) -> str:
    return _KINDS.get(field_type, field_type.value.lower())


def _bad(value: Any, kind: str, location: str) -> ValueRejected:
    return CannotConvert(location, kind=kind, value=value)


def _to_int(value: Any, location: str) -> int:
    if isinstance(value, bool):
        raise _bad(value, "integer", location)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise _bad(value, "integer", location)


def _to_timestamp(value: Any, location: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _bad(value, "timestamp", location)
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError as exc:
            raise UnparsableTimestamp(location, value=value) from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise _bad(value, "timestamp", location)


EXACT = Context(prec=100)
"""BigQuery's decimals have up to 77 significant digits; Python's default context keeps 28."""


def _scale(number: Decimal) -> int:
    exponent = number.normalize(EXACT).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


# ----------------------------------------------------------------------------- out of storage


def row_from_storage(schema: tuple[FieldSpec, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    return {spec.name: field_from_storage(spec, value) for spec, value in zip(schema, values, strict=True)}


#: Scalar types whose stored value (or NULL) is already BigQuery's: :func:`_scalar_from_storage`
#: hands them back as they are.
_AS_STORED = frozenset(
    {
        FieldType.STRING,
        FieldType.FLOAT,
        FieldType.BOOLEAN,
        FieldType.DATE,
        FieldType.DATETIME,
        FieldType.TIME,
        FieldType.GEOGRAPHY,
    }
)


def row_converter(schema: tuple[FieldSpec, ...]) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    """:func:`row_from_storage` for one schema, made once for every row of a result: columns stored
    as BigQuery has them are not looked at, the others go through :func:`field_from_storage`."""
    names = tuple(spec.name for spec in schema)
    if len(set(names)) < len(names):  # the last of a name wins, as in row_from_storage
        return lambda values: row_from_storage(schema, values)
    converted = [
        (names[index], index, _reader(spec))
        for index, spec in enumerate(schema)
        if spec.mode is FieldMode.REPEATED or spec.type not in _AS_STORED
    ]
    if not converted:
        return lambda values: dict(zip(names, values, strict=True))

    def convert(values: tuple[Any, ...]) -> dict[str, Any]:
        row = dict(zip(names, values, strict=True))
        for name, index, read in converted:
            row[name] = read(values[index])
        return row

    return convert


def _reader(spec: FieldSpec) -> Callable[[Any], Any]:
    """:func:`field_from_storage` of one column."""
    if spec.type is FieldType.INTEGER and spec.mode is not FieldMode.REPEATED:
        return _integer_from_storage
    return partial(field_from_storage, spec)


def _integer_from_storage(value: Any) -> Any:
    """:func:`field_from_storage` of a scalar INT64, in one call (the commonest converted column)."""
    return value if value is None or isinstance(value, int) else int(value)


def field_from_storage(spec: FieldSpec, value: Any) -> Any:
    if spec.mode is FieldMode.REPEATED:
        if value is None:
            return []
        return [_scalar_from_storage(spec, item) for item in value]
    if value is None:
        return None
    return _scalar_from_storage(spec, value)


def _scalar_from_storage(spec: FieldSpec, value: Any) -> Any:
    t = spec.type
    if value is None:
        return None
    if t is FieldType.RECORD:
        return {f.name: field_from_storage(f, value.get(f.name)) for f in spec.fields}
    if t is FieldType.RANGE:
        return ranges.from_storage(value)
    if t is FieldType.TIMESTAMP and isinstance(value, datetime | str):
        return timestamp_from_duck(value)
    if t is FieldType.BIGNUMERIC:
        return bignumeric.from_storage(value)
    if t is FieldType.NUMERIC and isinstance(value, Decimal):
        return _canonical_decimal(value)
    if t is FieldType.JSON and isinstance(value, str):
        return json.loads(value)
    if t is FieldType.BYTES and isinstance(value, memoryview | bytearray):
        return bytes(value)
    if t is FieldType.INTEGER and not isinstance(value, int):
        return int(value)
    if t is FieldType.INTERVAL:
        return from_duckdb_text(value) if isinstance(value, str) else as_interval(value)
    return value


def timestamp_from_duck(value: datetime | str) -> datetime:
    """A TIMESTAMP as the fake returns it, an instant in UTC. DuckDB hands back text with its
    offset for an instant it cannot express in the session's zone (year 1 read in
    America/Los_Angeles falls before year 1)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _canonical_decimal(value: Decimal) -> Decimal:
    """DuckDB pads NUMERIC to scale 9; BigQuery reports the value without trailing zeros."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1), context=EXACT)
    return value.normalize(EXACT)


# ------------------------------------------------------------------------- result set typing


def field_from_duck(name: str, duck: duckdb.typing.DuckDBPyType | str) -> FieldSpec:
    """The BigQuery field a DuckDB result column stands for (used for query result schemas)."""
    text = str(duck)
    if text.endswith("[]"):
        inner = field_from_duck(name, _list_child(duck))
        if inner.is_repeated:  # ARRAY[ARRAY[1]]: DuckDB has nested lists, BigQuery refuses them
            raise NestedArray(element=f"ARRAY<{_GOOGLESQL_NAMES.get(inner.type, inner.type.value)}>")
        return FieldSpec(
            name=name,
            type=inner.type,
            mode=FieldMode.REPEATED,
            fields=inner.fields,
            range_element=inner.range_element,
        )
    if text.startswith("STRUCT("):
        children = _struct_children(duck)
        as_range = ranges.field_from_children(name, children)
        if as_range is not None:
            return as_range
        return FieldSpec(
            name=name,
            type=FieldType.RECORD,
            fields=tuple(field_from_duck(child_name, child) for child_name, child in children),
        )
    return FieldSpec(name=name, type=_scalar_from_duck(text))


_GOOGLESQL_NAMES = {
    FieldType.INTEGER: "INT64",
    FieldType.FLOAT: "FLOAT64",
    FieldType.BOOLEAN: "BOOL",
    FieldType.RECORD: "STRUCT",
}


def _list_child(duck: Any) -> Any:
    if isinstance(duck, str):
        return duck[:-2]
    return duck.child


def _struct_children(duck: Any) -> list[tuple[str, Any]]:
    if isinstance(duck, str):
        raise TypeError("struct types need a DuckDBPyType")
    return list(duck.children)


def _scalar_from_duck(text: str) -> FieldType:
    upper = text.upper()
    if upper.startswith("DECIMAL"):
        return FieldType.NUMERIC
    if upper in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return FieldType.TIMESTAMP
    if upper.startswith("TIMESTAMP"):
        return FieldType.DATETIME
    return _DUCK_SCALAR_BACK.get(upper, FieldType.STRING)


_DUCK_SCALAR_BACK: dict[str, FieldType] = {
    "VARCHAR": FieldType.STRING,
    "BIGNUM": FieldType.BIGNUMERIC,
    "UUID": FieldType.STRING,
    "BLOB": FieldType.BYTES,
    "BIGINT": FieldType.INTEGER,
    "INTEGER": FieldType.INTEGER,
    "SMALLINT": FieldType.INTEGER,
    "TINYINT": FieldType.INTEGER,
    "HUGEINT": FieldType.INTEGER,
    "UBIGINT": FieldType.INTEGER,
    "UINTEGER": FieldType.INTEGER,
    "USMALLINT": FieldType.INTEGER,
    "UTINYINT": FieldType.INTEGER,
    "DOUBLE": FieldType.FLOAT,
    "FLOAT": FieldType.FLOAT,
    "BOOLEAN": FieldType.BOOLEAN,
    "DATE": FieldType.DATE,
    "TIME": FieldType.TIME,
    "JSON": FieldType.JSON,
    "INTERVAL": FieldType.INTERVAL,
    '"NULL"': FieldType.INTEGER,
    "NULL": FieldType.INTEGER,
}


def as_utc(moment: datetime) -> datetime:
    """DuckDB hands back naive UTC or zoned timestamps; BigQuery's are UTC instants."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
