"""BigQuery's BIGNUMERIC (76.76 digits, scale 38) on DuckDB, whose DECIMAL stops at 38 digits.

A BIGNUMERIC is stored as a DuckDB ``BIGNUM`` (arbitrary-precision integer) holding the value
times 10^38. That keeps every value exact, and DuckDB's own ``BIGNUM`` ordering, equality,
``+``, ``-``, ``SUM``, ``MIN`` and ``MAX`` are then BigQuery's; the type also tells a BIGNUMERIC
result column from the others. Everything else is rewritten (:func:`rewrite`, one of
``functions.FIXES``) where an operand is known to be a BIGNUMERIC — a ``BIGNUMERIC`` literal or
cast, a BIGNUMERIC table column (``coltypes``) or an expression built from those:

* the other operand of ``+``, ``-``, a comparison, ``IN`` or ``BETWEEN`` is scaled to match;
* ``*``, ``/``, ``AVG``, casts to and from BIGNUMERIC and ``PARSE_BIGNUMERIC`` / ``PARSE_NUMERIC``
  run as Python functions on exact :class:`~decimal.Decimal` values (BigQuery rounds half away from
  zero and fails with an overflow error past the type's range);
* an INSERT's values for a BIGNUMERIC column are scaled; a BIGNUMERIC query parameter is bound in
  the stored form and typed where it is used (``coltypes.BIGNUMERIC_PARAMS``);
  ``CAST(x AS STRING)`` of an untyped ``BIGNUM`` is handled at run time by ``functions.py``.

Statistics and NUMERIC sums over these values are ``exact_aggregates.py``.

Not covered: RANGE window frames ordered by a BIGNUMERIC (DuckDB only orders such frames by fixed
width types), and BIGNUMERIC arithmetic through an operand whose type the rewrite cannot see (an
unknown column or a subquery's column).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

import duckdb
from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.coltypes import is_bignumeric_parameter, type_of_column, type_of_target_column
from harness.schema.spec import FieldType

DType = exp.DataType.Type

SCALE = 38
_ONE = Decimal(1).scaleb(-SCALE)
EXACT = Context(prec=200)
MAX = Decimal("578960446186580977117854925043439539266.34992332820282019728792003956564819967")
MIN = Decimal("-578960446186580977117854925043439539266.34992332820282019728792003956564819968")
NUMERIC_MAX = Decimal("99999999999999999999999999999.999999999")

_FLAG = "bq_bignumeric"
_DONE = "bq_fixed"  # functions._DONE: later fixes leave a node alone


# ------------------------------------------------------------------------------ values


def to_storage(number: Decimal) -> str:
    """The stored form of a BIGNUMERIC (already range- and scale-checked): its scaled integer."""
    return str(int(number.scaleb(SCALE, EXACT)))


def from_storage(value: object) -> Decimal:
    """A stored BIGNUMERIC (DuckDB hands a ``BIGNUM`` back as its decimal text) as a Decimal,
    without trailing zeros, as BigQuery reports it."""
    number = Decimal(int(str(value))).scaleb(-SCALE, EXACT)
    if number == number.to_integral_value():
        return number.quantize(Decimal(1), context=EXACT)
    return number.normalize(EXACT)


def _parse(text: str) -> Decimal:
    try:
        number = Decimal(text.strip(), EXACT)
    except InvalidOperation as exc:
        raise ValueError(f"Invalid BIGNUMERIC value: {text}") from exc
    if not number.is_finite():
        raise ValueError(f"Invalid BIGNUMERIC value: {text}")
    return number


def _scaled(number: Decimal) -> str:
    """``number`` rounded half away from zero to 38 places, checked, as stored text."""
    rounded = number.quantize(_ONE, rounding=ROUND_HALF_UP, context=EXACT)
    if not MIN <= rounded <= MAX:
        raise ValueError(f"BIGNUMERIC overflow: {number}")
    return to_storage(rounded)


def _unscaled(text: str) -> Decimal:
    return Decimal(int(text)).scaleb(-SCALE, EXACT)


# ----------------------------------------------------------------------- DuckDB functions


def _of_text(text: str) -> str:
    return _scaled(_parse(text))


def _as_text(stored: str) -> str:
    number = from_storage(stored)
    return format(number, "f")


def _rounded(stored: str, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return format(_unscaled(stored).quantize(quantum, rounding=ROUND_HALF_UP, context=EXACT), "f")


def _mul(a: str, b: str) -> str:
    return _scaled(EXACT.multiply(_unscaled(a), _unscaled(b)))


def _div(a: str, b: str) -> str:
    divisor = _unscaled(b)
    if divisor == 0:
        raise ValueError(f"division by zero: {from_storage(a)} / {from_storage(b)}")
    return _scaled(EXACT.divide(_unscaled(a), divisor))


def _avg(total: str, count: int) -> str | None:
    return None if not count else _scaled(EXACT.divide(_unscaled(total), Decimal(count)))


_NUMBER = re.compile(r"\s*([+-]?)\s*([\d,]*\.?\d*(?:[eE][+-]?\d+)?)\s*([+-]?)\s*")


def _parse_bigquery(text: str, kind: str) -> Decimal:
    """PARSE_NUMERIC / PARSE_BIGNUMERIC's reading: spaces around, a sign before or after the
    digits (not both), commas in the integer part, an exponent (rounded by the caller)."""
    match = _NUMBER.fullmatch(text)
    if not match or not re.search(r"\d", match.group(2)) or (match.group(1) and match.group(3)):
        raise ValueError(f"Invalid {kind} value: {text}")
    try:
        number = Decimal(match.group(2).replace(",", ""), EXACT)
    except InvalidOperation as exc:
        raise ValueError(f"Invalid {kind} value: {text}") from exc
    return number.copy_negate() if "-" in (match.group(1), match.group(3)) else number


def _parse_bignumeric(text: str) -> str:
    return _scaled(_parse_bigquery(text, "BIGNUMERIC"))


def _parse_numeric(text: str) -> str:
    number = _parse_bigquery(text, "NUMERIC").quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP, context=EXACT)
    if number.copy_abs() > NUMERIC_MAX:
        raise ValueError(f"Invalid NUMERIC value: {text}")
    return format(number, "f")


_UDFS: dict[str, tuple[Callable[..., str | None], list[str]]] = {
    "bq_bignumeric_of": (_of_text, ["VARCHAR"]),
    "bq_bignumeric_text": (_as_text, ["VARCHAR"]),
    "bq_bignumeric_round": (_rounded, ["VARCHAR", "BIGINT"]),
    "bq_bignumeric_mul": (_mul, ["VARCHAR", "VARCHAR"]),
    "bq_bignumeric_div": (_div, ["VARCHAR", "VARCHAR"]),
    "bq_bignumeric_avg": (_avg, ["VARCHAR", "BIGINT"]),
    "bq_parse_bignumeric": (_parse_bignumeric, ["VARCHAR"]),
    "bq_parse_numeric": (_parse_numeric, ["VARCHAR"]),
}
FUNCTIONS = tuple(_UDFS)
"""The Python functions :func:`register` creates (:mod:`fakes.bigquery.lazy_functions`)."""


def register(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the Python functions the rewrites call on ``conn``."""
    for name, (function, params) in _UDFS.items():
        conn.create_function(name, function, params, "VARCHAR", side_effects=False)  # type: ignore[arg-type]


MACROS = (
    f"""CREATE OR REPLACE MACRO bq_bignumeric_checked(s) AS CASE
        WHEN s > CAST('{to_storage(MAX)}' AS BIGNUM) OR s < CAST('{to_storage(MIN)}' AS BIGNUM)
        THEN error('BIGNUMERIC overflow') ELSE s END""",
)
"""The overflow check the rewrites call (created by :mod:`fakes.bigquery.lazy_functions`)."""


# --------------------------------------------------------------------------------- SQL


def _mark(node: exp.Expression) -> exp.Expression:
    node.meta[_FLAG] = True
    node.meta[_DONE] = True
    return node


def is_bignumeric(node: exp.Expression | None) -> bool:
    """Whether ``node`` is known to be a BIGNUMERIC."""
    if node is None:
        return False
    if node.meta.get(_FLAG):
        return True
    if isinstance(node, exp.Column):
        return type_of_column(node.name) is FieldType.BIGNUMERIC
    if isinstance(node, exp.Paren | exp.Neg):
        return is_bignumeric(node.this)
    return False


def call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def varchar(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("VARCHAR"))


def _bignum(node: exp.Expression) -> exp.Expression:
    return _mark(exp.cast(node, exp.DataType.build("BIGNUM")))


def to_bignumeric(node: exp.Expression) -> exp.Expression:
    """``node`` (any number, or text) as a stored BIGNUMERIC."""
    if is_bignumeric(node):
        return node
    if isinstance(node, exp.Null):
        return _bignum(node)
    node = _literal_or(node)
    return _bignum(call("bq_bignumeric_of", varchar(node.copy() if node.parent else node)))


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)


@handles(
    exp.Insert,
    exp.Placeholder,
    exp.Cast,
    exp.JSONArray,
    exp.JSONObject,
    exp.JSONFormat,
    exp.ParseBignumeric,
    exp.ParseNumeric,
    exp.Anonymous,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    *_COMPARISONS,
    exp.In,
    exp.Between,
    exp.Sum,
    exp.Min,
    exp.Max,
    exp.AnyValue,
    exp.Avg,
    exp.Window,
    exp.Abs,
    exp.Coalesce,
    exp.If,
    exp.Case,
)
def rewrite(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES) that carries BIGNUMERIC semantics onto the scaled BIGNUM."""
    if isinstance(node, exp.Insert):
        return _insert(node)
    if isinstance(node, exp.Placeholder) and is_bignumeric_parameter(node.name):
        # Bound in the stored (scaled) form, as a table value would be.
        return _bignum(node)
    if isinstance(node, exp.Cast):
        return _cast(node)
    if isinstance(node, exp.JSONArray | exp.JSONObject | exp.JSONFormat):
        return _json_numbers(node)
    if isinstance(node, exp.ParseBignumeric | exp.ParseNumeric) or (
        isinstance(node, exp.Anonymous) and node.name.upper() in ("PARSE_BIGNUMERIC", "PARSE_NUMERIC")
    ):
        return _parse_call(node)
    arithmetic = isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div)
    if arithmetic and any(_is_float64(side) for side in (node.this, node.expression)):
        # BIGNUMERIC with FLOAT64 is FLOAT64 arithmetic.
        for key in ("this", "expression"):
            if is_bignumeric(node.args[key]):
                node.set(key, _as_float64(node.args[key]))
        return node
    if isinstance(node, exp.Add | exp.Sub) and (is_bignumeric(node.this) or is_bignumeric(node.expression)):
        node.set("this", to_bignumeric(node.this))
        node.set("expression", to_bignumeric(node.expression))
        return _checked(_mark(node))
    if isinstance(node, exp.Mul | exp.Div) and (is_bignumeric(node.this) or is_bignumeric(node.expression)):
        name = "bq_bignumeric_mul" if isinstance(node, exp.Mul) else "bq_bignumeric_div"
        operands = [varchar(to_bignumeric(side)) for side in (node.this, node.expression)]
        return _bignum(call(name, *operands))
    if isinstance(node, _COMPARISONS) and (is_bignumeric(node.this) or is_bignumeric(node.expression)):
        node.set("this", to_bignumeric(node.this))
        node.set("expression", to_bignumeric(node.expression))
        return node
    if isinstance(node, exp.In) and is_bignumeric(node.this):
        node.set("expressions", [to_bignumeric(item) for item in node.expressions])
        return node
    if isinstance(node, exp.Between) and is_bignumeric(node.this):
        node.set("low", to_bignumeric(node.args["low"]))
        node.set("high", to_bignumeric(node.args["high"]))
        return node
    if isinstance(node, exp.Sum | exp.Min | exp.Max | exp.AnyValue) and is_bignumeric(node.this):
        return (
            _mark(node)
            if isinstance(node.parent, exp.Window) or not isinstance(node, exp.Sum)
            else (_checked(_mark(node)))
        )
    if isinstance(node, exp.Avg) and is_bignumeric(node.this):
        return node if isinstance(node.parent, exp.Window) else _average(node.this, None)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Avg) and is_bignumeric(node.this.this):
        return _average(node.this.this, node)
    if isinstance(node, exp.Window) and is_bignumeric(node.this):
        return _mark(node)
    if isinstance(node, exp.Abs) and is_bignumeric(node.this):
        value = node.this
        return _mark(
            exp.If(
                this=exp.LT(this=value.copy(), expression=_bignum(exp.Literal.string("0"))),
                true=exp.Neg(this=value.copy()),
                false=value.copy(),
            )
        )
    if isinstance(node, exp.Coalesce | exp.If | exp.Case) and any(
        is_bignumeric(child) for child in node.iter_expressions() if not isinstance(child, exp.Null)
    ):
        return _mark(node)
    return node


def _insert(node: exp.Insert) -> exp.Insert:
    """Values written to a BIGNUMERIC column are scaled (DuckDB would cast 2.25 to the BIGNUM 2)."""
    schema = node.this
    if not isinstance(schema, exp.Schema):
        return node
    positions = [
        index
        for index, column in enumerate(schema.expressions)
        if type_of_target_column(column.name) is FieldType.BIGNUMERIC
    ]
    if not positions:
        return node
    source = node.expression
    rows = source.expressions if isinstance(source, exp.Values) else []
    selects = [] if isinstance(source, exp.Values) else list(_branches(source))
    for row in [r for r in rows if isinstance(r, exp.Tuple)] + selects:
        items = list(row.expressions)
        for index in positions:
            if index < len(items):
                item = items[index]
                inner = item.this if isinstance(item, exp.Alias) else item
                scaled = to_bignumeric(inner)
                if isinstance(item, exp.Alias):
                    item.set("this", scaled)
                else:
                    items[index] = scaled
        row.set("expressions", items)
    return node


def _branches(query: exp.Expression | None) -> list[exp.Select]:
    if isinstance(query, exp.Select):
        return [query]
    if isinstance(query, exp.Union):
        return _branches(query.this) + _branches(query.expression)
    if isinstance(query, exp.Subquery):
        return _branches(query.this)
    return []


def _json_numbers(node: exp.Expression) -> exp.Expression:
    """A BIGNUMERIC in JSON is a JSON number, not the stored scaled integer: its exact digits in
    ``TO_JSON_STRING``, as a FLOAT64 reads it in ``JSON_ARRAY`` / ``JSON_OBJECT`` (BigQuery's
    default, without strict number parsing)."""
    for child in list(node.iter_expressions()):
        holder, key = (child, "expression") if isinstance(child, exp.JSONKeyValue) else (node, child.arg_key)
        value = holder.args.get(key) if holder is child else child
        if isinstance(value, exp.Expression) and is_bignumeric(value):
            replacement = _as_json_number(value) if isinstance(node, exp.JSONFormat) else _as_float64(value)
            if holder is child:
                child.set("expression", replacement)
            else:
                value.replace(replacement)
    return node


def _as_json_number(node: exp.Expression) -> exp.Expression:
    text = call("bq_bignumeric_text", varchar(node.copy()))
    return mark_done(exp.cast(text, exp.DataType.build("JSON")))


def _checked(node: exp.Expression) -> exp.Expression:
    if isinstance(node.parent, exp.Window):
        return node
    return _mark(call("bq_bignumeric_checked", node))


def _average(value: exp.Expression, window: exp.Window | None) -> exp.Expression:
    total: exp.Expression = exp.Sum(this=value.copy())
    count: exp.Expression = exp.Count(this=value.copy())
    if window is not None:
        total, count = window.copy(), window.copy()
        total.set("this", exp.Sum(this=value.copy()))
        count.set("this", exp.Count(this=value.copy()))
    return _bignum(call("bq_bignumeric_avg", varchar(total), count))


def _literal_digits(node: exp.Expression) -> str | None:
    """The digits of a number literal (``1.5``, ``-1.5``, also under the FLOAT64 cast the literal
    fix wraps ``1.5`` in), or None: BigQuery coerces a literal to NUMERIC / BIGNUMERIC exactly."""
    if isinstance(node, exp.Neg | exp.Paren):
        inner = _literal_digits(node.this)
        return None if inner is None else ("-" + inner if isinstance(node, exp.Neg) else inner)
    literal = node.this if isinstance(node, exp.Cast) and node.to.this is DType.DOUBLE else node
    if isinstance(literal, exp.Literal) and not literal.is_string:
        return str(literal.this)
    return None


def _float_literal(node: exp.Expression) -> bool:
    """Whether ``node`` is a literal BigQuery types FLOAT64 (``1.5``, ``-2e3``)."""
    digits = _literal_digits(node)
    return digits is not None and any(c in digits for c in ".eE")


def _cast(node: exp.Cast) -> exp.Expression:
    target = node.to.this
    source = node.this
    digits = _literal_digits(source)
    if digits is not None and target in (DType.BIGDECIMAL, DType.DECIMAL):
        # CAST(1.000000000000000000001 AS NUMERIC) keeps the literal's digits, not a FLOAT64's.
        source = exp.Literal.string(digits)
        if target is DType.DECIMAL:
            node.set("this", source)
            return node
    if target is DType.BIGDECIMAL:
        return to_bignumeric(source)
    if target is DType.ARRAY and node.to.expressions and node.to.expressions[0].this is DType.BIGDECIMAL:
        if isinstance(source, exp.Array):
            return _mark(
                exp.Array(expressions=[to_bignumeric(_literal_or(item)) for item in source.expressions])
            )
        return node
    if not is_bignumeric(source):
        return node
    stored = varchar(source.copy())
    if target in (DType.VARCHAR, DType.TEXT):
        return mark_done(call("bq_bignumeric_text", stored))
    if target is DType.DECIMAL:
        rounded = call("bq_bignumeric_round", stored, exp.Literal.number(9))
        return mark_done(exp.cast(rounded, exp.DataType.build("DECIMAL(38, 9)")))
    if target in (DType.BIGINT, DType.INT):
        rounded = call("bq_bignumeric_round", stored, exp.Literal.number(0))
        return mark_done(exp.cast(rounded, exp.DataType.build("BIGINT")))
    if target in (DType.DOUBLE, DType.FLOAT):
        return mark_done(exp.cast(call("bq_bignumeric_text", stored), exp.DataType.build("DOUBLE")))
    return node


def _is_float64(node: exp.Expression) -> bool:
    """A FLOAT64 column or expression (a float literal is not: it coerces to BIGNUMERIC)."""
    if isinstance(node, exp.Column):
        return type_of_column(node.name) is FieldType.FLOAT
    return isinstance(node, exp.Cast) and node.to.this is DType.DOUBLE and not _float_literal(node)


def _as_float64(node: exp.Expression) -> exp.Expression:
    text = call("bq_bignumeric_text", varchar(node.copy()))
    return mark_done(exp.cast(text, exp.DataType.build("DOUBLE")))


def _literal_or(node: exp.Expression) -> exp.Expression:
    digits = _literal_digits(node)
    return exp.Literal.string(digits) if digits is not None else node


def mark_done(node: exp.Expression) -> exp.Expression:
    node.meta[_DONE] = True
    return node


def _parse_call(node: exp.Expression) -> exp.Expression:
    argument = node.this if not isinstance(node, exp.Anonymous) else node.expressions[0]
    if isinstance(node, exp.ParseBignumeric) or node.name.upper() == "PARSE_BIGNUMERIC":
        return _bignum(call("bq_parse_bignumeric", argument))
    return mark_done(exp.cast(call("bq_parse_numeric", argument), exp.DataType.build("DECIMAL(38, 9)")))
