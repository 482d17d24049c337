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
* ``STDDEV*`` / ``VAR*`` / ``COVAR*`` / ``CORR`` read the value as FLOAT64 (their result type).

Not covered: RANGE window frames ordered by a BIGNUMERIC (DuckDB only orders such frames by fixed
width types), and BIGNUMERIC arithmetic through an operand whose type the rewrite cannot see (an
unknown column or a subquery's column).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

import duckdb
from sqlglot import exp

from fakes.bigquery.coltypes import type_of_column, type_of_target_column
from fakes.bigquery.frames import numeric_units
from harness.schema.spec import FieldType

DType = exp.DataType.Type

SCALE = 38
_ONE = Decimal(1).scaleb(-SCALE)
_EXACT = Context(prec=200)
MAX = Decimal("578960446186580977117854925043439539266.34992332820282019728792003956564819967")
MIN = Decimal("-578960446186580977117854925043439539266.34992332820282019728792003956564819968")
NUMERIC_MAX = Decimal("99999999999999999999999999999.999999999")

_FLAG = "bq_bignumeric"
_DONE = "bq_fixed"  # functions._DONE: later fixes leave a node alone


# ------------------------------------------------------------------------------ values


def to_storage(number: Decimal) -> str:
    """The stored form of a BIGNUMERIC (already range- and scale-checked): its scaled integer."""
    return str(int(number.scaleb(SCALE, _EXACT)))


def from_storage(value: object) -> Decimal:
    """A stored BIGNUMERIC (DuckDB hands a ``BIGNUM`` back as its decimal text) as a Decimal,
    without trailing zeros, as BigQuery reports it."""
    number = Decimal(int(str(value))).scaleb(-SCALE, _EXACT)
    if number == number.to_integral_value():
        return number.quantize(Decimal(1), context=_EXACT)
    return number.normalize(_EXACT)


def parameter_text(stored: str) -> str:
    """A stored BIGNUMERIC as the decimal text a query parameter is bound as."""
    return format(from_storage(stored), "f")


def _parse(text: str) -> Decimal:
    try:
        number = Decimal(text.strip(), _EXACT)
    except InvalidOperation as exc:
        raise ValueError(f"Invalid BIGNUMERIC value: {text}") from exc
    if not number.is_finite():
        raise ValueError(f"Invalid BIGNUMERIC value: {text}")
    return number


def _scaled(number: Decimal) -> str:
    """``number`` rounded half away from zero to 38 places, checked, as stored text."""
    rounded = number.quantize(_ONE, rounding=ROUND_HALF_UP, context=_EXACT)
    if not MIN <= rounded <= MAX:
        raise ValueError(f"BIGNUMERIC overflow: {number}")
    return to_storage(rounded)


def _unscaled(text: str) -> Decimal:
    return Decimal(int(text)).scaleb(-SCALE, _EXACT)


# ----------------------------------------------------------------------- DuckDB functions


def _of_text(text: str) -> str:
    return _scaled(_parse(text))


def _as_text(stored: str) -> str:
    number = from_storage(stored)
    return format(number, "f")


def _rounded(stored: str, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return format(_unscaled(stored).quantize(quantum, rounding=ROUND_HALF_UP, context=_EXACT), "f")


def _mul(a: str, b: str) -> str:
    return _scaled(_EXACT.multiply(_unscaled(a), _unscaled(b)))


def _div(a: str, b: str) -> str:
    divisor = _unscaled(b)
    if divisor == 0:
        raise ValueError(f"division by zero: {from_storage(a)} / {from_storage(b)}")
    return _scaled(_EXACT.divide(_unscaled(a), divisor))


def _avg(total: str, count: int) -> str | None:
    return None if not count else _scaled(_EXACT.divide(_unscaled(total), Decimal(count)))


_NUMBER = re.compile(r"\s*([+-]?)\s*([\d,]*\.?\d*(?:[eE][+-]?\d+)?)\s*([+-]?)\s*")


def _parse_bigquery(text: str, kind: str) -> Decimal:
    """PARSE_NUMERIC / PARSE_BIGNUMERIC's reading: spaces around, a sign before or after the
    digits (not both), commas in the integer part, an exponent (rounded by the caller)."""
    match = _NUMBER.fullmatch(text)
    if not match or not re.search(r"\d", match.group(2)) or (match.group(1) and match.group(3)):
        raise ValueError(f"Invalid {kind} value: {text}")
    try:
        number = Decimal(match.group(2).replace(",", ""), _EXACT)
    except InvalidOperation as exc:
        raise ValueError(f"Invalid {kind} value: {text}") from exc
    return number.copy_negate() if "-" in (match.group(1), match.group(3)) else number


def _parse_bignumeric(text: str) -> str:
    return _scaled(_parse_bigquery(text, "BIGNUMERIC"))


def _parse_numeric(text: str) -> str:
    number = _parse_bigquery(text, "NUMERIC").quantize(
        Decimal("1e-9"), rounding=ROUND_HALF_UP, context=_EXACT
    )
    if number.copy_abs() > NUMERIC_MAX:
        raise ValueError(f"Invalid NUMERIC value: {text}")
    return format(number, "f")


def _numeric_of_units(total: str, count: int) -> str | None:
    """A NUMERIC SUM (``count`` 1) or AVG from the exact sum of its values in 1e-9 units; out of
    NUMERIC's range is BigQuery's overflow error."""
    if not count:
        return None
    number = _EXACT.divide(Decimal(int(total)).scaleb(-9, _EXACT), Decimal(count))
    number = number.quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP, context=_EXACT)
    if number.copy_abs() > NUMERIC_MAX:
        raise ValueError("numeric overflow")
    return format(number, "f")


def _statistic(kind: str, xs: list[str | None] | None, ys: list[str | None] | None) -> float | None:
    """VAR_* / STDDEV_* / COVAR_* / CORR over exact decimals (BigQuery aggregates NUMERIC and
    BIGNUMERIC stably and converts only the result to FLOAT64)."""
    with localcontext(_EXACT):
        return _exact_statistic(kind, xs, ys)


def _exact_statistic(kind: str, xs: list[str | None] | None, ys: list[str | None] | None) -> float | None:
    if xs is None:  # DuckDB's list() of no rows
        return None
    pairs = [
        (Decimal(x, _EXACT), Decimal(y, _EXACT) if ys is not None and y is not None else Decimal(0))
        for x, y in zip(xs, ys if ys is not None else xs, strict=True)
        if x is not None and (ys is None or y is not None)
    ]
    n = len(pairs)
    sample = kind.endswith("samp") or kind in ("stddev", "variance", "corr")
    if n == 0 or (sample and n < 2):
        return None
    mean_x = _EXACT.divide(sum((x for x, _ in pairs), Decimal(0)), n)
    mean_y = _EXACT.divide(sum((y for _, y in pairs), Decimal(0)), n)
    sxx = sum(((x - mean_x) ** 2 for x, _ in pairs), Decimal(0))
    syy = sum(((y - mean_y) ** 2 for _, y in pairs), Decimal(0))
    sxy = sum(((x - mean_x) * (y - mean_y) for x, y in pairs), Decimal(0))
    divisor = n - 1 if kind.endswith("samp") or kind in ("stddev", "variance") else n
    if kind == "corr":
        if sxx == 0 or syy == 0:
            return float("nan")
        return float(_EXACT.divide(sxy, (sxx * syy).sqrt(_EXACT)))
    if kind.startswith("covar"):
        return float(_EXACT.divide(sxy, divisor))
    variance = _EXACT.divide(sxx, divisor)
    return float(variance.sqrt(_EXACT)) if kind.startswith("stddev") else float(variance)


def _statistic_text(kind: str, xs: list[str | None] | None, ys: list[str | None] | None) -> str | None:
    value = _statistic(kind, xs, ys)
    return None if value is None else repr(value)


def register(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the functions the rewrites call on the engine's connection."""
    text, integer = duckdb.sqltype("VARCHAR"), duckdb.sqltype("BIGINT")
    functions = (
        ("bq_bignumeric_of", _of_text, [text]),
        ("bq_bignumeric_text", _as_text, [text]),
        ("bq_bignumeric_round", _rounded, [text, integer]),
        ("bq_bignumeric_mul", _mul, [text, text]),
        ("bq_bignumeric_div", _div, [text, text]),
        ("bq_bignumeric_avg", _avg, [text, integer]),
        ("bq_parse_bignumeric", _parse_bignumeric, [text]),
        ("bq_parse_numeric", _parse_numeric, [text]),
    )
    functions += (("bq_numeric_of_units", _numeric_of_units, [text, integer]),)
    for name, function, params in functions:
        conn.create_function(name, function, params, text, side_effects=False)  # type: ignore[arg-type]
    # The statistics return FLOAT64 as text: DuckDB turns a Python UDF's NaN into NULL.
    texts = duckdb.list_type(text)
    conn.create_function("bq_statistic", _statistic_text, [text, texts, texts], text, null_handling="special")
    conn.create_function(
        "bq_statistic1",
        lambda kind, xs: _statistic_text(kind, xs, None),
        [text, texts],
        text,
        null_handling="special",
    )
    conn.execute(
        f"""CREATE OR REPLACE MACRO bq_bignumeric_checked(s) AS CASE
            WHEN s > CAST('{to_storage(MAX)}' AS BIGNUM) OR s < CAST('{to_storage(MIN)}' AS BIGNUM)
            THEN error('BIGNUMERIC overflow') ELSE s END"""
    )


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


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _varchar(node: exp.Expression) -> exp.Expression:
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
    return _bignum(_call("bq_bignumeric_of", _varchar(node.copy() if node.parent else node)))


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_STATS: dict[type[exp.Expression], str] = {
    exp.Stddev: "stddev",
    exp.StddevPop: "stddev_pop",
    exp.StddevSamp: "stddev_samp",
    exp.Variance: "variance",
    exp.VariancePop: "var_pop",
    exp.Corr: "corr",
    exp.CovarPop: "covar_pop",
    exp.CovarSamp: "covar_samp",
}


def rewrite(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES) that carries BIGNUMERIC semantics onto the scaled BIGNUM."""
    if isinstance(node, exp.Insert):
        return _insert(node)
    if isinstance(node, exp.Cast):
        return _cast(node)
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
        operands = [_varchar(to_bignumeric(side)) for side in (node.this, node.expression)]
        return _bignum(_call(name, *operands))
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
    if type(node) in _STATS and not isinstance(node.parent, exp.Window):
        return _statistic_call(node, None) or node
    if isinstance(node, exp.Window) and type(node.this) in _STATS:
        return _statistic_call(node.this, node) or node
    if (
        isinstance(node, exp.Sum | exp.Avg)
        and not isinstance(node.parent, exp.Window)
        and is_numeric(node.this)
    ):
        return _numeric_aggregate(node, None)
    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.Sum | exp.Avg)
        and is_numeric(node.this.this)
    ):
        return _numeric_aggregate(node.this, node)
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


def _checked(node: exp.Expression) -> exp.Expression:
    if isinstance(node.parent, exp.Window):
        return node
    return _mark(_call("bq_bignumeric_checked", node))


def is_numeric(node: exp.Expression | None) -> bool:
    """Whether ``node`` is known to be a NUMERIC (a NUMERIC column, literal or cast)."""
    if isinstance(node, exp.Column):
        return type_of_column(node.name) is FieldType.NUMERIC
    if isinstance(node, exp.Cast):
        return node.to.this is DType.DECIMAL
    return isinstance(node, exp.Paren) and is_numeric(node.this)


def _over(window: exp.Window | None, aggregate: exp.Expression) -> exp.Expression:
    if window is None:
        return aggregate
    over = window.copy()
    over.set("this", aggregate)
    return over


def _numeric_aggregate(node: exp.Expression, window: exp.Window | None) -> exp.Expression:
    """NUMERIC SUM / AVG summed exactly (BigQuery: an intermediate sum may pass NUMERIC's range)."""
    value = node.this
    units = exp.cast(numeric_units(value.copy()), exp.DataType.build("BIGNUM"))
    total = _varchar(_over(window, exp.Sum(this=units)))
    count = (
        _over(window, exp.Count(this=value.copy())) if isinstance(node, exp.Avg) else exp.Literal.number(1)
    )
    result = exp.cast(_call("bq_numeric_of_units", total, count), exp.DataType.build("DECIMAL(38, 9)"))
    return _mark_done(result)


def _statistic_call(node: exp.Expression, window: exp.Window | None) -> exp.Expression | None:
    """A statistic over NUMERIC / BIGNUMERIC values computed exactly from the list of values."""
    values = [node.this] + ([node.expression] if node.args.get("expression") is not None else [])
    if not all(is_numeric(v) or is_bignumeric(v) for v in values):
        return None
    texts = [
        _over(
            window,
            _call(
                "list",
                _call("bq_bignumeric_text", _varchar(v.copy())) if is_bignumeric(v) else _varchar(v.copy()),
            ),
        )
        for v in values
    ]
    name = "bq_statistic" if len(texts) == 2 else "bq_statistic1"
    result = _call(name, exp.Literal.string(_STATS[type(node)]), *texts)
    return _mark_done(exp.cast(result, exp.DataType.build("DOUBLE")))


def _average(value: exp.Expression, window: exp.Window | None) -> exp.Expression:
    total: exp.Expression = exp.Sum(this=value.copy())
    count: exp.Expression = exp.Count(this=value.copy())
    if window is not None:
        total, count = window.copy(), window.copy()
        total.set("this", exp.Sum(this=value.copy()))
        count.set("this", exp.Count(this=value.copy()))
    return _bignum(_call("bq_bignumeric_avg", _varchar(total), count))


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
    stored = _varchar(source.copy())
    if target in (DType.VARCHAR, DType.TEXT):
        return _mark_done(_call("bq_bignumeric_text", stored))
    if target is DType.DECIMAL:
        rounded = _call("bq_bignumeric_round", stored, exp.Literal.number(9))
        return _mark_done(exp.cast(rounded, exp.DataType.build("DECIMAL(38, 9)")))
    if target in (DType.BIGINT, DType.INT):
        rounded = _call("bq_bignumeric_round", stored, exp.Literal.number(0))
        return _mark_done(exp.cast(rounded, exp.DataType.build("BIGINT")))
    if target in (DType.DOUBLE, DType.FLOAT):
        return _mark_done(exp.cast(_call("bq_bignumeric_text", stored), exp.DataType.build("DOUBLE")))
    return node


def _is_float64(node: exp.Expression) -> bool:
    """A FLOAT64 column or expression (a float literal is not: it coerces to BIGNUMERIC)."""
    if isinstance(node, exp.Column):
        return type_of_column(node.name) is FieldType.FLOAT
    return isinstance(node, exp.Cast) and node.to.this is DType.DOUBLE and not _float_literal(node)


def _as_float64(node: exp.Expression) -> exp.Expression:
    text = _call("bq_bignumeric_text", _varchar(node.copy()))
    return _mark_done(exp.cast(text, exp.DataType.build("DOUBLE")))


def _literal_or(node: exp.Expression) -> exp.Expression:
    digits = _literal_digits(node)
    return exp.Literal.string(digits) if digits is not None else node


def _mark_done(node: exp.Expression) -> exp.Expression:
    node.meta[_DONE] = True
    return node


def _parse_call(node: exp.Expression) -> exp.Expression:
    argument = node.this if not isinstance(node, exp.Anonymous) else node.expressions[0]
    if isinstance(node, exp.ParseBignumeric) or node.name.upper() == "PARSE_BIGNUMERIC":
        return _bignum(_call("bq_parse_bignumeric", argument))
    return _mark_done(exp.cast(_call("bq_parse_numeric", argument), exp.DataType.build("DECIMAL(38, 9)")))
