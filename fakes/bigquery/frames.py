"""RANGE window frames with numeric offsets over INT64 and NUMERIC keys, without DuckDB's overflow.

DuckDB computes a RANGE frame's bounds as ``key ± offset`` in the key's own type and fails with
"Overflow in addition of INT64" (or of DECIMAL(38)) near the type's limits; BigQuery's frame simply
reaches the end of the partition. The rewrite orders such a window by the key widened to a
HUGEINT (a NUMERIC as its integer count of 1e-9 units) and widens the offsets to match, so the
bound arithmetic cannot overflow and the order and the peers are unchanged. A BIGNUMERIC key (a
``BIGNUM``, which DuckDB's RANGE frames refuse) with an offset is refused as a limit of the fake.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.coltypes import type_of_column
from fakes.bigquery.exceptions import UnsupportedByFake
from harness.schema.spec import FieldType

DType = exp.DataType.Type

_SCALE = {FieldType.INTEGER: 1, FieldType.NUMERIC: 10**9}
_CAST_KINDS = {
    DType.BIGINT: FieldType.INTEGER,
    DType.INT: FieldType.INTEGER,
    DType.DECIMAL: FieldType.NUMERIC,
}

_LARGEST_OFFSET = 7 * 10**37
"""Offsets are capped so ``key ± offset`` stays inside HUGEINT (±1.7e38) for a NUMERIC key (±1e38
in 1e-9 units); a larger offset reaches past every other NUMERIC except at the far ends."""

_NULL_OFFSET = "The boundary offset value cannot be null"
"""ZetaSQL's message (the GoogleSQL compliance corpus); BigQuery's own text was not seen."""

_UNBOUNDED = 2 * 10**38 + 1
"""A scaled offset this large covers the whole NUMERIC range: it is the same as UNBOUNDED."""


@handles(exp.Window)
def widen_range_frame_keys(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES) for a window's RANGE frame over an INT64 or NUMERIC key."""
    if not isinstance(node, exp.Window):
        return node
    spec, order = node.args.get("spec"), node.args.get("order")
    if not isinstance(spec, exp.WindowSpec) or str(spec.args.get("kind", "")).upper() != "RANGE":
        return node
    if not isinstance(order, exp.Order) or len(order.expressions) != 1:
        return node
    ordered = order.expressions[0]
    kind = _key_kind(ordered.this)
    if kind is FieldType.BIGNUMERIC and any(
        isinstance(spec.args.get(side), exp.Expression) for side in ("start", "end")
    ):
        raise UnsupportedByFake(
            "The BigQuery fake cannot compute a RANGE window frame with an offset over a BIGNUMERIC"
            " key (DuckDB orders such frames only by fixed-width numbers)"
        )
    if kind not in _SCALE:
        return node
    bounds = {side: spec.args.get(side) for side in ("start", "end")}
    offsets = {side: value for side, value in bounds.items() if isinstance(value, exp.Expression)}
    if not offsets:
        return node
    if kind is FieldType.INTEGER:
        # Any INT64 offset (a query parameter too) fits beside a HUGEINT key.
        for side, value in offsets.items():
            spec.set(side, _not_null(_hugeint(value.copy())))
        ordered.set("this", _hugeint(ordered.this.copy()))
        return node
    numbers = {side: _offset(value) for side, value in offsets.items()}
    if any(number is None for number in numbers.values()):
        return node
    for side, number in numbers.items():
        assert number is not None
        scaled = int(number * _SCALE[kind])
        if scaled >= _UNBOUNDED:
            spec.set(side, "UNBOUNDED")
        else:
            spec.set(side, _hugeint(exp.Literal.number(min(scaled, _LARGEST_OFFSET))))
    ordered.set("this", _widened(ordered.this.copy(), kind))
    return node


def _key_kind(key: exp.Expression) -> FieldType | None:
    if isinstance(key, exp.Column):
        kind = type_of_column(key.name)
    elif isinstance(key, exp.Cast) and key.to.this in _CAST_KINDS:
        kind = _CAST_KINDS[key.to.this]
        if kind is FieldType.NUMERIC and _decimal_scale(key.to) != 9:
            return None
    else:
        return None
    return kind


def _decimal_scale(to: exp.DataType) -> int | None:
    params = to.expressions
    if len(params) != 2:
        return None
    try:
        return int(params[1].this.name if isinstance(params[1], exp.DataTypeParam) else params[1].name)
    except (ValueError, AttributeError):
        return None


def _offset(value: exp.Expression) -> Decimal | None:
    """A non-negative constant offset (``2``, ``NUMERIC '1.5'``, a cast literal), else None."""
    literal = value
    while isinstance(literal, exp.Cast):
        literal = literal.this
    if not isinstance(literal, exp.Literal):
        return None
    try:
        number = Decimal(str(literal.this))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


def _not_null(offset: exp.Expression) -> exp.Expression:
    """BigQuery refuses a NULL offset (DuckDB would take it)."""
    refusal = exp.Anonymous(this="error", expressions=[exp.Literal.string(_NULL_OFFSET)])
    return exp.Case(
        ifs=[exp.If(this=exp.Is(this=offset.copy(), expression=exp.Null()), true=refusal)], default=offset
    )


def _hugeint(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("HUGEINT"))


def _widened(key: exp.Expression, kind: FieldType) -> exp.Expression:
    return _hugeint(key) if kind is FieldType.INTEGER else numeric_units(key)


def numeric_units(key: exp.Expression) -> exp.Expression:
    """A NUMERIC as the HUGEINT count of its 1e-9 units (exact: no DECIMAL overflow)."""
    whole = exp.Anonymous(this="trunc", expressions=[key])
    fraction = exp.Mul(
        this=exp.Paren(this=exp.Sub(this=key.copy(), expression=whole.copy())),
        expression=exp.Literal.number(10**9),
    )
    return exp.Add(
        this=exp.Mul(this=_hugeint(whole), expression=exp.Literal.number(10**9)),
        expression=_hugeint(fraction),
    )
