"""BigQuery's RANGE<DATE | DATETIME | TIMESTAMP> on DuckDB, which has no range type.

A RANGE is stored as ``STRUCT(bq_range_has_start BOOLEAN, bq_range_start T, bq_range_end T)``:
an unbounded bound is NULL (as BigQuery reports it), and the leading flag makes DuckDB's
field-by-field struct comparison order ranges as BigQuery does (an unbounded start before every
start; DuckDB already puts a NULL field last, which is right for an unbounded end). The field
names tell a RANGE from a RECORD when result columns are typed back from DuckDB.

The SQL side rewrites ``RANGE<T> '[a, b)'`` and ``CAST(x AS RANGE<T>)`` (text parsed at run time by
:data:`MACROS`), ``RANGE(a, b)``, ``RANGE_START`` / ``RANGE_END``, ``RANGE_CONTAINS`` /
``RANGE_OVERLAPS`` / ``RANGE_INTERSECT`` (range arguments) into DuckDB on that struct.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from harness.schema.spec import FieldSpec, FieldType

HAS_START, START, END = "bq_range_has_start", "bq_range_start", "bq_range_end"

_ELEMENT_DUCK = {FieldType.DATE: "DATE", FieldType.DATETIME: "TIMESTAMP", FieldType.TIMESTAMP: "TIMESTAMPTZ"}
_DUCK_ELEMENT = {
    "DATE": FieldType.DATE,
    "TIMESTAMP": FieldType.DATETIME,
    "TIMESTAMP WITH TIME ZONE": FieldType.TIMESTAMP,
    "TIMESTAMPTZ": FieldType.TIMESTAMP,
}
_SQLGLOT_ELEMENT = {
    exp.DataType.Type.DATE: "DATE",
    exp.DataType.Type.DATETIME: "TIMESTAMP",
    exp.DataType.Type.TIMESTAMP: "TIMESTAMP",
    exp.DataType.Type.TIMESTAMPTZ: "TIMESTAMPTZ",
}

_INVALID_BOUNDS = "Range start element must be less than range end element"
_INVALID_TEXT = "Invalid range literal"
_NO_OVERLAP = "RANGE_INTERSECT: the two ranges do not overlap"

MACROS: tuple[str, ...] = (
    # RANGE(start, end): the CASEs give both bounds the common type of the two arguments, so
    # RANGE(DATE '2020-01-01', NULL) is a RANGE<DATE> and not a struct with a NULL-typed field.
    f"""CREATE OR REPLACE MACRO bq_range_make(s, e) AS CASE
        WHEN s >= e THEN error('{_INVALID_BOUNDS}')
        ELSE struct_pack({HAS_START} := s IS NOT NULL,
                         {START} := CASE WHEN false THEN e ELSE s END,
                         {END} := CASE WHEN false THEN s ELSE e END) END""",
    # One bound of '[start, end)' as text, NULL for UNBOUNDED / NULL.
    f"""CREATE OR REPLACE MACRO bq_range_bound(t, i) AS CASE
        WHEN NOT regexp_full_match(trim(t), '\\[[^,\\[\\]()]*,[^,\\[\\]()]*\\)')
            THEN error('{_INVALID_TEXT}: ' || t)
        WHEN upper(trim(split_part(substr(trim(t), 2, length(trim(t)) - 2), ',', i))) IN ('UNBOUNDED', 'NULL')
            THEN NULL
        ELSE trim(split_part(substr(trim(t), 2, length(trim(t)) - 2), ',', i)) END""",
    f"""CREATE OR REPLACE MACRO bq_range_contains(r, x) AS
        (NOT r.{HAS_START} OR r.{START} <= x) AND (r.{END} IS NULL OR x < r.{END})""",
    f"""CREATE OR REPLACE MACRO bq_range_contains_range(a, b) AS
        (NOT a.{HAS_START} OR (b.{HAS_START} AND a.{START} <= b.{START}))
        AND (a.{END} IS NULL OR (b.{END} IS NOT NULL AND b.{END} <= a.{END}))""",
    f"""CREATE OR REPLACE MACRO bq_range_overlaps(a, b) AS
        (a.{END} IS NULL OR NOT b.{HAS_START} OR b.{START} < a.{END})
        AND (b.{END} IS NULL OR NOT a.{HAS_START} OR a.{START} < b.{END})""",
    f"""CREATE OR REPLACE MACRO bq_range_intersect(a, b) AS CASE
        WHEN NOT bq_range_overlaps(a, b) THEN error('{_NO_OVERLAP}')
        ELSE bq_range_make(
            CASE WHEN NOT a.{HAS_START} THEN b.{START} WHEN NOT b.{HAS_START} THEN a.{START}
                 ELSE greatest(a.{START}, b.{START}) END,
            CASE WHEN a.{END} IS NULL THEN b.{END} WHEN b.{END} IS NULL THEN a.{END}
                 ELSE least(a.{END}, b.{END}) END) END""",
)
"""DuckDB macros the rewrites call; the engine creates them on its connection."""


def duck_type(element: FieldType) -> str:
    """The DuckDB type storing a RANGE of ``element``."""
    inner = _ELEMENT_DUCK[element]
    return f"STRUCT({HAS_START} BOOLEAN, {START} {inner}, {END} {inner})"


def element_of(data_type: exp.DataType) -> FieldType | None:
    """The element type of a ``RANGE<T>`` in DDL, else None."""
    if data_type.this is not exp.DataType.Type.RANGE or not data_type.expressions:
        return None
    inner = _SQLGLOT_ELEMENT.get(data_type.expressions[0].this)
    return _DUCK_ELEMENT.get(inner) if inner is not None else None


def field_from_children(name: str, children: list[tuple[str, Any]]) -> FieldSpec | None:
    """The RANGE field a DuckDB struct stands for, or ``None`` when it is an ordinary RECORD."""
    if [child for child, _ in children] != [HAS_START, START, END]:
        return None
    element = _DUCK_ELEMENT.get(str(children[1][1]).upper())
    return None if element is None else FieldSpec(name=name, type=FieldType.RANGE, range_element=element)


# ------------------------------------------------------------------------------ values


def to_storage(value: Any, element: FieldType) -> dict[str, Any]:
    """A RANGE value as insertAll carries it (``"[start, end)"`` text, or ``{start, end}``)."""
    if isinstance(value, Mapping):
        start, end = value.get("start"), value.get("end")
    elif isinstance(value, str):
        start, end = _split(value)
    else:
        raise ValueError(f"not a RANGE: {value!r}")
    lower, upper = _bound(start, element), _bound(end, element)
    if lower is not None and upper is not None and lower >= upper:
        raise ValueError(_INVALID_BOUNDS)
    return {HAS_START: lower is not None, START: lower, END: upper}


def from_storage(value: Mapping[str, Any]) -> dict[str, Any]:
    """The port's RANGE value: ``{"start": ..., "end": ...}`` (None for an unbounded side)."""
    return {"start": _utc(value.get(START)), "end": _utc(value.get(END))}


def _utc(bound: Any) -> Any:
    """A RANGE<TIMESTAMP> bound as every TIMESTAMP leaves the fake: in ``datetime.UTC`` (DuckDB
    gives text with an offset for an instant the session's zone cannot express)."""
    if isinstance(bound, str):
        bound = datetime.fromisoformat(bound)
    if isinstance(bound, datetime) and bound.tzinfo is not None:
        return bound.astimezone(UTC)
    return bound


def _split(literal: str) -> tuple[str | None, str | None]:
    body = literal.strip()
    if not (body.startswith("[") and body.endswith(")")) or body.count(",") != 1:
        raise ValueError(f"{_INVALID_TEXT}: {literal}")
    start, end = (part.strip() for part in body[1:-1].split(","))
    return _unbounded(start), _unbounded(end)


def _unbounded(part: str) -> str | None:
    return None if part.upper() in ("UNBOUNDED", "NULL") else part


def _bound(value: Any, element: FieldType) -> Any:
    if value is None:
        return None
    if element is FieldType.DATE:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if isinstance(value, datetime):
        moment = value
    else:
        raw = str(value).strip().replace("Z", "+00:00")
        if raw.endswith(" UTC"):
            raw = raw[:-4] + "+00:00"
        moment = datetime.fromisoformat(_full_offset(raw.replace("T", " ")))
    if element is FieldType.DATETIME:
        return moment.replace(tzinfo=None)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _full_offset(raw: str) -> str:
    """``+02`` as Python's ``fromisoformat`` wants it (``+02:00``)."""
    head, sep, zone = raw.rpartition("+") if "+" in raw[10:] else raw.rpartition("-")
    if sep and len(head) > 10 and zone.isdigit() and len(zone) == 2:
        return f"{head}{sep}{zone}:00"
    return raw


# --------------------------------------------------------------------------------- SQL


def _struct_type(element: str) -> exp.DataType:
    return _parsed_struct_type(element).copy()


@functools.lru_cache(maxsize=8)
def _parsed_struct_type(element: str) -> exp.DataType:
    """The struct type storing a RANGE of ``element``, parsed once (a copy costs less)."""
    built = exp.DataType.build(
        f"STRUCT({HAS_START} BOOLEAN, {START} {element}, {END} {element})", dialect="duckdb"
    )
    built.meta["bq_range_element"] = element
    return built


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _field(node: exp.Expression, name: str) -> exp.Expression:
    return exp.Anonymous(this="struct_extract", expressions=[node, exp.Literal.string(name)])


def _is_range(node: exp.Expression) -> bool:
    """Whether ``node`` is known to be a RANGE (a RANGE cast or constructor)."""
    if isinstance(node, exp.Cast) and node.to.meta.get("bq_range_element"):
        return True
    return bool(node.meta.get("bq_range"))


@handles(exp.DataType, exp.Cast, exp.Anonymous)
def rewrite(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES) that turns BigQuery's RANGE syntax into the struct form."""
    if isinstance(node, exp.DataType) and node.this is exp.DataType.Type.RANGE:
        inner = node.expressions[0].this if node.expressions else None
        element = _SQLGLOT_ELEMENT.get(inner) if isinstance(inner, exp.DataType.Type) else None
        return _struct_type(element) if element else node
    if isinstance(node, exp.Cast) and node.to.meta.get("bq_range_element"):
        return _cast(node)
    if not isinstance(node, exp.Anonymous):
        return node
    name, args = node.name.upper(), node.expressions
    if name == "RANGE" and len(args) == 2:
        made = _call("bq_range_make", *args)
        made.meta["bq_range"] = True
        return made
    if name in ("RANGE_START", "RANGE_END") and len(args) == 1:
        return _field(args[0], START if name == "RANGE_START" else END)
    if name == "RANGE_CONTAINS" and len(args) == 2:
        macro = "bq_range_contains_range" if _is_range(args[1]) else "bq_range_contains"
        return _call(macro, *args)
    if name == "RANGE_OVERLAPS" and len(args) == 2:
        return _call("bq_range_overlaps", *args)
    if name == "RANGE_INTERSECT" and len(args) == 2:
        return _call("bq_range_intersect", *args)
    return node


def _cast(node: exp.Cast) -> exp.Expression:
    source = node.this
    if isinstance(source, exp.Null) or _is_range(source):
        return node
    element = node.to.meta["bq_range_element"]
    bounds = [
        exp.cast(_call("bq_range_bound", source.copy(), exp.Literal.number(i)), exp.DataType.build(element))
        for i in (1, 2)
    ]
    # The result is cast to the struct type so an all-NULL range still has the right field types.
    made = exp.Cast(this=_call("bq_range_make", *bounds), to=node.to.copy())
    made.to.meta["bq_range_element"] = element
    return made
