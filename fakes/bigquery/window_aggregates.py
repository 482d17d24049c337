"""Aggregate functions over a window, where DuckDB's answer differs from BigQuery's.

Each rewrite replaces a whole ``f(...) OVER w`` call (the window functions cannot be wrapped from
inside), usually by a DuckDB macro of :data:`MACROS` (registered on the engine's connection by
:func:`register`) over one or more calls on the same window:

* ``PERCENTILE_CONT(x, p) OVER w``: GoogleSQL sorts NaN first, interpolates as
  ``left * (1 - f) + right * f`` (so ``-inf`` beside a finite value stays ``-inf``) and takes
  ``RESPECT NULLS`` (NULLs first; a NULL beside a value gives the value); DuckDB's
  ``quantile_cont`` sorts NaN last and refuses both modifiers. It becomes ``bq_percentile_cont``
  over ``list(x) OVER w``;
* ``SUM(x) OVER w``: BigQuery raises "int64 overflow" where DuckDB's sum (a HUGEINT) leaves the
  INT64 range, and "double overflow" where a FLOAT64 sum of finite values comes out infinite
  (``bq_window_sum``);
* the statistics (``VAR_*``, ``STDDEV_*``, ``COVAR_*``, ``CORR``): NULL below their minimum
  number of non-NULL rows (DuckDB's ``corr`` of one pair is NaN), NaN as soon as a value is
  infinite or NaN (DuckDB: 0 or ``-inf``), and a variance of huge finite values computed on
  scaled values (DuckDB overflows to ``inf`` where BigQuery's result is finite).

* ``HLL_COUNT.MERGE_PARTIAL`` / ``HLL_COUNT.MERGE`` over a window: the sketches of the window are
  merged by :mod:`fakes.bigquery.hll` (Python functions on the connection); ``HLL_COUNT.INIT``
  over a window gives NULL for a window of NULLs and is refused otherwise (no Fingerprint2011);
* ``KLL_QUANTILES.*`` over a window: NULL (of the function's type) over a window of NULLs; refused
  otherwise, as the fake has no KLL sketch format;
* ``APPROX_QUANTILES``, ``APPROX_TOP_COUNT``, ``APPROX_TOP_SUM`` and ``ARRAY_CONCAT_AGG`` over a
  window: DuckDB has no window form of them (sqlglot puts the OVER on the wrong call or refuses);
  they are computed exactly (what BigQuery's approximations give on small inputs) from
  ``list(...)`` / ``histogram(...)`` over the window, APPROX_QUANTILES in GoogleSQL's order.

Not covered: NUMERIC inputs keep DuckDB's DOUBLE result for the statistics (BigQuery: NUMERIC),
and PERCENTILE_CONT of NUMERIC values near the type's limits overflows DuckDB's DECIMAL(38).
"""

from __future__ import annotations

from sqlglot import exp

MACROS = (
    # The values to interpolate between, in GoogleSQL's order: NULLs (RESPECT NULLS only), NaN, the rest.
    "CREATE OR REPLACE MACRO bq_percentile_sorted(l, respect) AS list_concat("
    "CASE WHEN respect THEN list_filter(l, lambda v: v IS NULL) ELSE [] END, "
    "list_filter(l, lambda v: isnan(v)), list_sort(list_filter(l, lambda v: NOT isnan(v))))",
    # The value at 0-based position ``pos`` of the sorted list ``s``, interpolated.
    "CREATE OR REPLACE MACRO bq_percentile_at(s, pos) AS CASE "
    "WHEN len(s) = 0 THEN NULL "
    "WHEN pos = floor(pos) THEN s[floor(pos)::BIGINT + 1] "
    "WHEN s[floor(pos)::BIGINT + 1] IS NULL THEN s[floor(pos)::BIGINT + 2] "
    "WHEN typeof(s[1]) LIKE 'DECIMAL%' THEN s[floor(pos)::BIGINT + 1] "
    "+ (s[floor(pos)::BIGINT + 2] - s[floor(pos)::BIGINT + 1]) * (pos - floor(pos)) "
    "ELSE s[floor(pos)::BIGINT + 1] * (1 - (pos - floor(pos))) "
    "+ s[floor(pos)::BIGINT + 2] * (pos - floor(pos)) END",
    "CREATE OR REPLACE MACRO bq_percentile_cont(l, p, respect) AS "
    "bq_percentile_at(bq_percentile_sorted(l, respect), p * (len(bq_percentile_sorted(l, respect)) - 1))",
    # n+1 quantile boundaries of the list ``l``, exact (APPROX_QUANTILES).
    "CREATE OR REPLACE MACRO bq_quantiles_of(s, n) AS CASE WHEN len(s) = 0 THEN NULL ELSE "
    "list_transform(range(n + 1), lambda i: s[floor(i * (len(s) - 1) / n)::BIGINT + 1]) END",
    "CREATE OR REPLACE MACRO bq_approx_quantiles(l, n, respect) AS "
    "bq_quantiles_of(bq_percentile_sorted(l, respect), n)",
    # The n most frequent values of a histogram (a MAP value -> count), most frequent first.
    "CREATE OR REPLACE MACRO bq_approx_top_count(h, n) AS list_transform(list_slice(list_sort("
    "list_transform(map_entries(h), lambda e: {'c': -CAST(e.value AS BIGINT), 'v': e.key})), 1, n), "
    "lambda e: {'value': e.v, 'count': -e.c})",
    # The n values of largest summed weight of a list of {v, w}, largest first.
    "CREATE OR REPLACE MACRO bq_approx_top_sum(l, n) AS list_transform(list_slice(list_sort("
    "list_transform(list_distinct(list_transform(l, lambda e: e.v)), lambda d: {'s': -list_sum("
    "list_transform(list_filter(l, lambda e: e.v IS NOT DISTINCT FROM d), lambda e: e.w)), 'v': d})), "
    "1, n), lambda e: {'value': e.v, 'sum': -e.s})",
    # A window SUM, refused where BigQuery's overflows; written to bind whatever the sum's type.
    "CREATE OR REPLACE MACRO bq_window_sum(s, has_inf) AS CASE "
    "WHEN typeof(s) = 'HUGEINT' AND TRY_CAST(CAST(s AS VARCHAR) AS BIGINT) IS NULL "
    "AND s IS NOT NULL THEN error('int64 overflow') "
    "WHEN typeof(s) = 'DOUBLE' AND CAST(s AS VARCHAR) IN ('inf', '-inf') AND NOT coalesce(has_inf, false) "
    "THEN error('double overflow') ELSE s END",
    # A statistic over ``n`` non-NULL rows (``minimum`` needed), ``special`` if one is ±inf or NaN;
    # ``scaled`` is the same statistic of the values times 2^-600, to use where ``s`` overflowed.
    "CREATE OR REPLACE MACRO bq_window_stat(s, n, minimum, special, scaled) AS CASE "
    "WHEN n < minimum THEN NULL WHEN special THEN CAST('nan' AS DOUBLE) "
    "WHEN isinf(s) AND scaled IS NOT NULL THEN scaled ELSE s END",
)
"""DuckDB macros the rewrites call."""

_SCALE_EXP = 600
"""Huge values are scaled by 2^-600 before their variance is taken (squares stay finite)."""

_STATS: dict[type[exp.Expression], tuple[int, str | None]] = {
    exp.VariancePop: (1, "var"),
    exp.Variance: (2, "var"),
    exp.StddevPop: (1, "stddev"),
    exp.Stddev: (2, "stddev"),
    exp.StddevSamp: (2, "stddev"),
    exp.CovarPop: (1, None),
    exp.CovarSamp: (2, None),
    exp.Corr: (2, None),
}
"""Statistics: the fewest non-NULL rows (pairs) with a result, and how a scaled result unscales."""


def aggregate_like_bigquery(window: exp.Window) -> exp.Expression:
    """The replacement of the window call ``window`` (``window`` itself when it needs none)."""
    func = window.this
    if isinstance(func, exp.IgnoreNulls | exp.RespectNulls) and isinstance(func.this, exp.PercentileCont):
        return _percentile_cont(window, func.this, respect=isinstance(func, exp.RespectNulls))
    if isinstance(func, exp.PercentileCont):
        return _percentile_cont(window, func, respect=False)
    if isinstance(func, exp.Sum) and not func.meta.get("bq_safe_sum"):  # SAFE.SUM: safe_sums
        return _checked_sum(window)
    if isinstance(func, exp.IgnoreNulls | exp.RespectNulls) and isinstance(func.this, exp.ApproxQuantiles):
        return _approx_quantiles(window, func.this, respect=isinstance(func, exp.RespectNulls))
    if isinstance(func, exp.ApproxQuantiles):
        return _approx_quantiles(window, func, respect=False)
    if isinstance(func, exp.ApproxTopK):
        top = _over(window, _call("histogram", func.this.copy()))
        return _call("bq_approx_top_count", top, func.expression.copy())
    if isinstance(func, exp.ApproxTopSum):
        pair = exp.Struct(
            expressions=[
                exp.PropertyEQ(this=exp.to_identifier("v"), expression=func.this.copy()),
                exp.PropertyEQ(this=exp.to_identifier("w"), expression=func.expression.copy()),
            ]
        )
        return _call("bq_approx_top_sum", _over(window, _call("list", pair)), func.args["count"].copy())
    if isinstance(func, exp.Dot) and func.this.name.upper() == "HLL_COUNT":
        return _hll(window, func.expression)
    if isinstance(func, exp.Dot) and func.this.name.upper() == "KLL_QUANTILES":
        return _kll(window, func.expression)
    if isinstance(func, exp.ArrayConcatAgg):
        return _call("flatten", _over(window, _call("list", func.this.copy())))
    if type(func) in _STATS:
        return _statistic(window)
    return window


_VARCHAR = exp.DataType.build("VARCHAR")
_DOUBLE = exp.DataType.build("DOUBLE")
"""Types the rewrites cast to, parsed once (``exp.cast`` copies them; it would parse a name)."""


def _over(window: exp.Window, func: exp.Expression) -> exp.Window:
    """``func`` over the same window as ``window``: the window copied without its own function,
    which ``func`` replaces (copying that too cost as much again)."""
    own = window.args["this"]
    window.args["this"] = None  # left out of the copy, put back as it was
    try:
        other = window.copy()
    finally:
        window.args["this"] = own
    other.set("this", func)
    return other


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _percentile_cont(window: exp.Window, func: exp.Expression, *, respect: bool) -> exp.Expression:
    """``PERCENTILE_CONT(x, p) OVER w`` → ``bq_percentile_cont(list(x) OVER w, p, respect)``."""
    listed = _over(window, _call("list", func.this.copy()))
    return _call("bq_percentile_cont", listed, func.expression.copy(), exp.Boolean(this=respect))


_HLL_INIT_UNSUPPORTED = (
    "HLL_COUNT.INIT over a window is not supported by the BigQuery fake (it needs BigQuery's "
    "Fingerprint2011 hashing)"
)


_KLL_TYPES = {
    "INIT_INT64": "BLOB",
    "INIT_FLOAT64": "BLOB",
    "MERGE_PARTIAL": "BLOB",
    "MERGE_INT64": "BIGINT[]",
    "MERGE_FLOAT64": "DOUBLE[]",
    "MERGE_POINT_INT64": "BIGINT",
    "MERGE_POINT_FLOAT64": "DOUBLE",
}
"""BigQuery's KLL_QUANTILES aggregates (its names: FLOAT64, not GoogleSQL's DOUBLE) and the DuckDB type
of their result."""


def _kll(window: exp.Window, call: exp.Expression) -> exp.Expression:
    """``KLL_QUANTILES.<f>(x, ...) OVER w``: NULL over a window of NULLs, else refused."""
    name = call.name.upper() if isinstance(call, exp.Anonymous) else ""
    if name not in _KLL_TYPES or not call.expressions:
        return window
    message = f"KLL_QUANTILES.{name} is not supported by the BigQuery fake (it has no KLL sketch format)"
    return _null_or_refused(window, call.expressions[0], _KLL_TYPES[name], message)


def _null_or_refused(window: exp.Window, arg: exp.Expression, type_name: str, message: str) -> exp.Expression:
    """NULL of ``type_name`` where the window holds no non-NULL ``arg``, else ``error(message)``."""
    values = _over(window, exp.Count(this=arg.copy()))
    is_empty = exp.EQ(this=values, expression=exp.Literal.number(0))
    null = exp.cast(exp.Null(), exp.DataType.build(type_name, dialect="duckdb"))
    return exp.Case(
        ifs=[exp.If(this=is_empty, true=null)], default=_call("error", exp.Literal.string(message))
    )


def _hll(window: exp.Window, call: exp.Expression) -> exp.Expression:
    """``HLL_COUNT.<f>(x) OVER w`` → ``bq_hll_<f>(list(x) OVER w)`` (INIT: NULL or refused)."""
    name = call.name.upper() if isinstance(call, exp.Anonymous) else ""
    args = call.expressions if isinstance(call, exp.Anonymous) else []
    if not args or name not in ("MERGE_PARTIAL", "MERGE", "INIT"):
        return window
    if name == "INIT":
        return _null_or_refused(window, args[0], "BLOB", _HLL_INIT_UNSUPPORTED)
    listed = _over(window, _call("list", args[0].copy()))
    return _call("bq_hll_merge_partial" if name == "MERGE_PARTIAL" else "bq_hll_merge", listed)


def _approx_quantiles(window: exp.Window, func: exp.Expression, *, respect: bool) -> exp.Expression:
    listed = _over(window, _call("list", func.this.copy()))
    return _call("bq_approx_quantiles", listed, func.expression.copy(), exp.Boolean(this=respect))


def _checked_sum(window: exp.Window) -> exp.Expression:
    """``SUM(x) OVER w`` → ``bq_window_sum(SUM(x) OVER w, bool_or(x is ±inf) OVER w)``."""
    summed = window.this.this
    if isinstance(summed, exp.Distinct):
        summed = summed.expressions[0]
    text = exp.cast(summed.copy(), _VARCHAR)
    infinite = exp.In(this=text, expressions=[exp.Literal.string("inf"), exp.Literal.string("-inf")])
    return _call("bq_window_sum", window.copy(), _over(window, _call("bool_or", infinite)))


def _statistic(window: exp.Window) -> exp.Expression:
    """``F(a[, b]) OVER w`` → ``bq_window_stat(F OVER w, rows OVER w, minimum, special OVER w,
    scaled)`` (see the module docstring)."""
    func = window.this
    minimum, unscale = _STATS[type(func)]
    args = [arg for arg in (func.this, func.args.get("expression")) if arg is not None]
    present = exp.and_(*(exp.Not(this=exp.Is(this=arg.copy(), expression=exp.Null())) for arg in args))
    finite = exp.and_(*(_call("isfinite", exp.cast(arg.copy(), _DOUBLE)) for arg in args))
    rows = _over(window, exp.Count(this=exp.If(this=present, true=exp.Literal.number(1))))
    special = _over(window, _call("bool_or", exp.If(this=present.copy(), true=exp.Not(this=finite))))
    scaled: exp.Expression = exp.Null()
    if unscale is not None:
        factor = exp.Pow(this=exp.Literal.number(2), expression=exp.Literal.number(_SCALE_EXP))
        shrunk = func.copy()
        shrunk.set("this", exp.Div(this=exp.cast(func.this.copy(), _DOUBLE), expression=factor.copy()))
        scaled = _over(window, shrunk)
        scaled = exp.Mul(this=scaled, expression=factor.copy())
        if unscale == "var":
            scaled = exp.Mul(this=exp.Paren(this=scaled), expression=factor.copy())
    return _call("bq_window_stat", window.copy(), rows, exp.Literal.number(minimum), special, scaled)
