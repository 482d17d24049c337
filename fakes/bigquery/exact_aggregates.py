"""Aggregates BigQuery computes exactly over NUMERIC and BIGNUMERIC, which DuckDB does not.

* ``SUM`` / ``AVG`` of a NUMERIC: BigQuery lets the running sum pass NUMERIC's range as long as
  the result fits (DuckDB's DECIMAL(38) sum overflows); the values are summed as exact ``BIGNUM``
  counts of 1e-9 units and the result checked and rounded half away from zero. A SUM's total is
  a whole number of units, so a macro (:data:`MACROS`) makes it the NUMERIC; an AVG divides it
  in Python (a Python function's first registration makes DuckDB import numpy, which a run whose
  statements only sum NUMERICs never pays: :mod:`fakes.bigquery.lazy_functions`).
* ``VAR_*`` / ``STDDEV_*`` / ``COVAR_*`` / ``CORR`` of NUMERIC / BIGNUMERIC: BigQuery aggregates
  stably and converts only the result to FLOAT64 (DuckDB reads each value as a DOUBLE first, which
  loses values that differ past the 16th digit); the values are collected with ``list()`` and the
  statistic computed on :class:`~decimal.Decimal` values.

Both work in window calls too. Which columns are NUMERIC or BIGNUMERIC comes from ``coltypes``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import duckdb
from sqlglot import exp

from fakes.bigquery.bignumeric import EXACT, NUMERIC_MAX, call, is_bignumeric, mark_done, varchar
from fakes.bigquery.bottom_up import handles
from fakes.bigquery.coltypes import type_of_column
from fakes.bigquery.frames import numeric_units
from harness.schema.spec import FieldType

DType = exp.DataType.Type

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


@handles(*_STATS, exp.Window, exp.Sum, exp.Avg)
def rewrite(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES) for NUMERIC sums and NUMERIC / BIGNUMERIC statistics."""
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
    return node


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
    total = varchar(_over(window, exp.Sum(this=units)))
    if isinstance(node, exp.Avg):
        exact = call("bq_numeric_of_units", total, _over(window, exp.Count(this=value.copy())))
    else:
        exact = call("bq_numeric_sum", total)
    return mark_done(exp.cast(exact, exp.DataType.build("DECIMAL(38, 9)")))


def _statistic_call(node: exp.Expression, window: exp.Window | None) -> exp.Expression | None:
    """A statistic over NUMERIC / BIGNUMERIC values computed exactly from the list of values."""
    values = [node.this] + ([node.expression] if node.args.get("expression") is not None else [])
    if not all(is_numeric(v) or is_bignumeric(v) for v in values):
        return None
    texts = [
        _over(
            window,
            call(
                "list",
                call("bq_bignumeric_text", varchar(v.copy())) if is_bignumeric(v) else varchar(v.copy()),
            ),
        )
        for v in values
    ]
    name = "bq_statistic" if len(texts) == 2 else "bq_statistic1"
    result = call(name, exp.Literal.string(_STATS[type(node)]), *texts)
    return mark_done(exp.cast(result, exp.DataType.build("DOUBLE")))


def _numeric_of_units(total: str, count: int) -> str | None:
    """A NUMERIC AVG from the exact sum of its ``count`` values in 1e-9 units; out of NUMERIC's
    range is BigQuery's overflow error."""
    if not count:
        return None
    number = EXACT.divide(Decimal(int(total)).scaleb(-9, EXACT), Decimal(count))
    number = number.quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP, context=EXACT)
    if number.copy_abs() > NUMERIC_MAX:
        raise ValueError("numeric overflow")
    return format(number, "f")


def _statistic(kind: str, xs: list[str | None] | None, ys: list[str | None] | None) -> float | None:
    """VAR_* / STDDEV_* / COVAR_* / CORR over exact decimals (BigQuery aggregates NUMERIC and
    BIGNUMERIC stably and converts only the result to FLOAT64)."""
    with localcontext(EXACT):
        return _exact_statistic(kind, xs, ys)


def _exact_statistic(kind: str, xs: list[str | None] | None, ys: list[str | None] | None) -> float | None:
    if xs is None:  # DuckDB's list() of no rows
        return None
    pairs = [
        (Decimal(x, EXACT), Decimal(y, EXACT) if ys is not None and y is not None else Decimal(0))
        for x, y in zip(xs, ys if ys is not None else xs, strict=True)
        if x is not None and (ys is None or y is not None)
    ]
    n = len(pairs)
    sample = kind.endswith("samp") or kind in ("stddev", "variance", "corr")
    if n == 0 or (sample and n < 2):
        return None
    mean_x = EXACT.divide(sum((x for x, _ in pairs), Decimal(0)), n)
    mean_y = EXACT.divide(sum((y for _, y in pairs), Decimal(0)), n)
    sxx = sum(((x - mean_x) ** 2 for x, _ in pairs), Decimal(0))
    syy = sum(((y - mean_y) ** 2 for _, y in pairs), Decimal(0))
    sxy = sum(((x - mean_x) * (y - mean_y) for x, y in pairs), Decimal(0))
    divisor = n - 1 if kind.endswith("samp") or kind in ("stddev", "variance") else n
    if kind == "corr":
        if sxx == 0 or syy == 0:
            return float("nan")
        return float(EXACT.divide(sxy, (sxx * syy).sqrt(EXACT)))
    if kind.startswith("covar"):
        return float(EXACT.divide(sxy, divisor))
    variance = EXACT.divide(sxx, divisor)
    return float(variance.sqrt(EXACT)) if kind.startswith("stddev") else float(variance)


def _statistic_text(kind: str, xs: list[str | None] | None, ys: list[str | None] | None) -> str | None:
    value = _statistic(kind, xs, ys)
    return None if value is None else repr(value)


MACROS = (
    # ``bq_numeric_sum(total)``: the NUMERIC of ``total`` 1e-9 units (a BIGNUM's text), exactly:
    # the DECIMAL(38, 0) of the units times 1e-9 is DECIMAL(38, 9); a total of more than 38
    # digits is out of NUMERIC's range (BigQuery's overflow error).
    "CREATE OR REPLACE MACRO bq_numeric_sum(total) AS CASE "
    "WHEN TRY_CAST(total AS DECIMAL(38, 0)) IS NULL AND total IS NOT NULL THEN error('numeric overflow') "
    "ELSE CAST(total AS DECIMAL(38, 0)) * CAST(0.000000001 AS DECIMAL(10, 9)) END",
)


FUNCTIONS = ("bq_numeric_of_units", "bq_statistic", "bq_statistic1")
"""The Python functions :func:`register` creates (:mod:`fakes.bigquery.lazy_functions`)."""


def register(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the functions the rewrite calls on the engine's connection."""
    text, integer = conn.sqltype("VARCHAR"), conn.sqltype("BIGINT")
    conn.create_function("bq_numeric_of_units", _numeric_of_units, [text, integer], text, side_effects=False)  # type: ignore[arg-type]
    # The statistics return FLOAT64 as text: DuckDB turns a Python UDF's NaN into NULL.
    texts = conn.list_type(text)
    conn.create_function("bq_statistic", _statistic_text, [text, texts, texts], text, null_handling="special")
    conn.create_function(
        "bq_statistic1",
        lambda kind, xs: _statistic_text(kind, xs, None),
        [text, texts],
        text,
        null_handling="special",
    )
