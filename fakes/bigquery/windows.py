"""Window (analytic) functions: where DuckDB's windows differ from BigQuery's.

One rewrite per ``SELECT`` (its own windows, named ``WINDOW`` definitions included, not those of
nested queries), applied with the other semantic fixes of :mod:`fakes.bigquery.functions`:

* RANGE frames with an offset bound: DuckDB computes ``key ± offset`` in the key's type and fails
  with "Overflow in addition of INT64" near the INT64 limits, where BigQuery computes the bound
  exactly. The key is widened to HUGEINT (``key + 0::HUGEINT`` keeps a DOUBLE a DOUBLE);
* NaN in a window ORDER BY: GoogleSQL orders NaN before every other non-NULL value (ascending),
  DuckDB after ``+inf``. A key gets a leading NaN flag; a RANGE frame with an offset allows one
  key only, so there the key is negated and its direction flipped instead (same frames, and
  DuckDB's "NaN is largest" then lands where BigQuery puts NaN);
* ``COLLATE`` on a window ORDER BY key: BigQuery's two collations, ``'und:ci'`` (DuckDB's
  ``NOCASE``) and ``''`` (binary, DuckDB's default); other names are left for DuckDB to refuse;
* checks BigQuery makes that DuckDB does not: framing on a numbering or navigation function, a
  LAG/LEAD default that is not constant (both when the query is analysed), and a NULL, negative
  or NaN frame offset, LAG/LEAD offset or NTILE bucket count given as a query parameter (when the
  query runs, through DuckDB's ``error``), and a +inf RANGE offset facing an infinite key of the
  wrong sign (BigQuery's bound would be ``inf - inf``);
* a RANGE frame with an offset, on a row whose key is ±inf or NaN: the bound ``key ± offset`` is
  the key itself, so the frame ends at the row's peers, as ``CURRENT ROW`` does. DuckDB's search
  for such a bound sometimes reads the slots of the NULL keys before it and drops peers (about one
  run in twenty when the partition holds NULL keys and two frames differ only in their offsets:
  the conformance corpus's ``analytic_sum_range_unbounded_and_preceding_*`` cases). Those rows get
  the same window with each offset bound written ``CURRENT ROW``.

Aggregate functions over a window that need more than the window itself (PERCENTILE_CONT, SUM,
the statistics, APPROX_*, ARRAY_CONCAT_AGG, the HLL_COUNT / KLL_QUANTILES sketches) are
:mod:`fakes.bigquery.window_aggregates`'.
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.exceptions import LagDefaultNotConstant, WindowFramingNotAllowed
from fakes.bigquery.window_aggregates import aggregate_like_bigquery

_WIDENED = "bq_window_widened"
"""Meta flag on an ORDER BY key this module already rewrote (the fixes may see a node twice)."""

_NO_FRAMING = {
    exp.RowNumber: "row_number",
    exp.Rank: "rank",
    exp.DenseRank: "dense_rank",
    exp.PercentRank: "percent_rank",
    exp.CumeDist: "cume_dist",
    exp.Ntile: "ntile",
    exp.Lag: "lag",
    exp.Lead: "lead",
}
"""Numbering and navigation functions, which BigQuery refuses a window frame for."""


@handles(exp.Select)
def windows_like_bigquery(node: exp.Expression) -> exp.Expression:
    """The fix for one ``SELECT``: see the module docstring."""
    if not isinstance(node, exp.Select):
        return node
    named = {
        window.this.name.lower(): window
        for window in node.args.get("windows") or []
        if isinstance(window.this, exp.Identifier)
    }

    def nested(other: exp.Expression) -> bool:
        """A nested query's SELECT, whose windows are its own: its subtree is not walked."""
        return isinstance(other, exp.Select) and other is not node

    own = [w for w in node.walk(prune=nested) if isinstance(w, exp.Window)]
    calls = [w for w in own if not _is_definition(w, named)]
    range_orders: set[int] = set()
    checked_specs: set[int] = set()
    guards: dict[int, list[exp.Expression]] = {}
    keys: dict[int, exp.Expression] = {}
    for window in calls:
        _check_call(window, named)
        spec = _spec(window, named)
        if spec is not None and _has_range_offset(spec):
            order = _order(window, named)
            if order is not None:
                range_orders.add(id(order))
                guards[id(window)] = _infinity_guards(window, named, spec, order)
                if len(order.expressions) == 1 and _may_be_float(order.expressions[0].this):
                    keys[id(window)] = order.expressions[0].this.copy()
        if spec is not None and id(spec) not in checked_specs:
            checked_specs.add(id(spec))
            _check_frame_offsets(spec)
    for window in own:
        order = window.args.get("order")
        if not isinstance(order, exp.Order):
            continue
        _collations(order)
        if id(order) in range_orders:
            _widen_range_key(order)
        else:
            _nan_first(order)
    for window in calls:
        peers = _peer_frame(window, named) if id(window) in keys else None
        replacement = aggregate_like_bigquery(window)
        if peers is not None:
            replacement = exp.Case(
                ifs=[
                    exp.If(
                        this=_substitute("NOT isfinite(CAST(_v_ AS DOUBLE))", keys[id(window)]), true=peers
                    )
                ],
                default=replacement if replacement is not window else window.copy(),
            )
        whens = guards.get(id(window))
        if whens:
            replacement = exp.Case(
                ifs=whens, default=replacement if replacement is not window else window.copy()
            )
        if replacement is not window:
            window.replace(replacement)
    return node


def _peer_frame(window: exp.Window, named: dict[str, exp.Window]) -> exp.Expression:
    """The call over the same window with each offset bound ``CURRENT ROW`` (a named window's
    partition and order inlined), rewritten as :func:`aggregate_like_bigquery` rewrites the call."""
    base = _base(window, named)
    spec = _spec(window, named)
    frame = spec.copy() if spec is not None else exp.WindowSpec()
    for bound in ("start", "end"):
        if str(frame.args.get(f"{bound}_side") or "").upper() in ("PRECEDING", "FOLLOWING") and isinstance(
            frame.args.get(bound), exp.Expression
        ):
            frame.set(bound, "CURRENT ROW")
            frame.set(f"{bound}_side", None)
    partition = window.args.get("partition_by") or (base.args.get("partition_by") if base else None)
    order = _order(window, named)
    peers = exp.Window(
        this=window.this.copy(),
        partition_by=[p.copy() for p in partition or []],
        order=order.copy() if order is not None else None,
        spec=frame,
        over="OVER",
    )
    return aggregate_like_bigquery(peers)


def _infinity_guards(
    window: exp.Window, named: dict[str, exp.Window], spec: exp.WindowSpec, order: exp.Order
) -> list[exp.Expression]:
    """BigQuery refuses a +inf RANGE offset whose bound would be ``inf - inf`` (an infinite key of
    the wrong sign in the partition); DuckDB computes NaN. One ``WHEN`` raising that error per
    offset that is not a number literal."""
    if len(order.expressions) != 1 or not isinstance(order.expressions[0], exp.Ordered):
        return []
    key = order.expressions[0].this
    descending = bool(order.expressions[0].args.get("desc"))
    partition = window.args.get("partition_by")
    if not partition and (base := _base(window, named)) is not None:
        partition = base.args.get("partition_by")
    whens: list[exp.Expression] = []
    for bound in ("start", "end"):
        offset = spec.args.get(bound)
        side = str(spec.args.get(f"{bound}_side") or "").upper()
        if not isinstance(offset, exp.Expression) or isinstance(offset, exp.Literal) or not side:
            continue
        negative = (side == "FOLLOWING") != descending
        sign = "negative" if negative else "positive"
        direction = "a descending" if descending else "an ascending"
        message = (
            f"Offset value cannot be positive infinity when there exists a {sign} infinity order key "
            f"for an offset {side} on {direction} partition"
        )
        infinite = _substitute(f"_v_ = CAST('{'-' if negative else ''}inf' AS DOUBLE)", key)
        exists = exp.Window(
            this=exp.Anonymous(this="bool_or", expressions=[infinite]),
            partition_by=[p.copy() for p in partition or []],
            over="OVER",
        )
        condition = exp.and_(_substitute("_v_ = CAST('inf' AS DOUBLE)", offset), exists)
        raised = exp.Anonymous(this="error", expressions=[exp.Literal.string(message)])
        whens.append(exp.If(this=condition, true=raised))
    return whens


def _is_definition(window: exp.Window, named: dict[str, exp.Window]) -> bool:
    return isinstance(window.this, exp.Identifier) and named.get(window.this.name.lower()) is window


def _base(window: exp.Window, named: dict[str, exp.Window]) -> exp.Window | None:
    """The named window ``window`` refers to (``OVER w`` or ``OVER (w ...)``), if any."""
    alias = window.args.get("alias")
    return named.get(alias.name.lower()) if isinstance(alias, exp.Identifier) else None


def _spec(window: exp.Window, named: dict[str, exp.Window]) -> exp.WindowSpec | None:
    spec = window.args.get("spec")
    if spec is None and (base := _base(window, named)) is not None:
        spec = base.args.get("spec")
    return spec


def _order(window: exp.Window, named: dict[str, exp.Window]) -> exp.Order | None:
    order = window.args.get("order")
    if order is None and (base := _base(window, named)) is not None:
        order = base.args.get("order")
    return order


def _function(window: exp.Window) -> exp.Expression:
    func = window.this
    while isinstance(func, exp.IgnoreNulls | exp.RespectNulls):
        func = func.this
    return func


def _check_call(window: exp.Window, named: dict[str, exp.Window]) -> None:
    """Analysis-time refusals, and run-time checks of parameter arguments."""
    func = _function(window)
    name = _NO_FRAMING.get(type(func))
    if name is not None and _spec(window, named) is not None:
        raise WindowFramingNotAllowed(function=name)
    if isinstance(func, exp.Lag | exp.Lead):
        default = func.args.get("default")
        if default is not None and any(default.find_all(exp.Column)):
            raise LagDefaultNotConstant(function=name.upper() if name else "LAG")
        offset = func.args.get("offset")
        if offset is not None and not isinstance(offset, exp.Literal):
            label = (name or "lag").upper()
            func.set(
                "offset",
                _checked(
                    offset,
                    (f"The offset to the function {label} must not be null", None),
                    (f"The offset to the function {label} must not be negative", "_v_ < 0"),
                ),
            )
    if isinstance(func, exp.Ntile) and not isinstance(func.this, exp.Literal):
        func.set(
            "this",
            _checked(
                func.this,
                ("The N value (number of buckets) for the NTILE function must not be NULL", None),
                ("The N value (number of buckets) for the NTILE function must be positive", "_v_ <= 0"),
            ),
        )


def _check_frame_offsets(spec: exp.WindowSpec) -> None:
    for key in ("start", "end"):
        bound = spec.args.get(key)
        if not isinstance(bound, exp.Expression) or isinstance(bound, exp.Literal):
            continue
        spec.set(
            key,
            _checked(
                bound,
                ("The boundary offset value cannot be null", None),
                (
                    "'Window frame offset for PRECEDING or FOLLOWING must be non-negative, but was ' "
                    "|| CAST(_v_ AS VARCHAR)",
                    "_v_ < 0 OR isnan(_v_)",
                ),
            ),
        )


def _checked(value: exp.Expression, *rules: tuple[str, str | None]) -> exp.Expression:
    """``value``, or a DuckDB ``error(message)`` where a rule's condition holds (``None``: the
    value is NULL). A message that is not already a SQL expression is quoted."""
    whens = []
    for message, condition in rules:
        text = message if message.startswith("'") else exp.Literal.string(message).sql()
        whens.append(f"WHEN {condition or '_v_ IS NULL'} THEN error({text})")
    return _substitute(f"CASE {' '.join(whens)} ELSE _v_ END", value)


def _substitute(template: str, value: exp.Expression) -> exp.Expression:
    """DuckDB ``template`` with each ``_v_`` replaced by a copy of ``value``."""
    snippet = _parsed(template).copy()
    simple = isinstance(value, exp.Column | exp.Literal | exp.Placeholder | exp.Parameter | exp.Paren)
    for column in list(snippet.find_all(exp.Column)):
        if column.name == "_v_" and not column.table:
            column.replace(value.copy() if simple else exp.Paren(this=value.copy()))
    return snippet


@functools.lru_cache(maxsize=64)
def _parsed(template: str) -> exp.Expression:
    """A template parsed once (copying it costs a fraction of parsing it again)."""
    return sqlglot.parse_one(template, read="duckdb")


_COLLATIONS = {"und:ci": "NOCASE", "": None}
"""BigQuery's collation names and DuckDB's collation for each (``None``: binary, no COLLATE)."""


def _collations(order: exp.Order) -> None:
    """``k COLLATE 'und:ci'`` → ``(k COLLATE NOCASE)``, ``k COLLATE ''`` → ``k``."""
    for ordered in order.expressions:
        collate = ordered.this if isinstance(ordered, exp.Ordered) else None
        if not isinstance(collate, exp.Collate) or not isinstance(collate.expression, exp.Literal):
            continue
        name = collate.expression.name.lower()
        if name not in _COLLATIONS:
            continue
        duck = _COLLATIONS[name]
        key = collate.this.copy()
        if duck is not None:
            key = exp.Paren(this=exp.Collate(this=key, expression=exp.Var(this=duck)))
        ordered.set("this", key)


def _has_range_offset(spec: exp.WindowSpec) -> bool:
    if str(spec.args.get("kind") or "").upper() != "RANGE":
        return False
    return any(
        isinstance(spec.args.get(key), exp.Expression)
        and str(spec.args.get(f"{key}_side") or "").upper() in ("PRECEDING", "FOLLOWING")
        for key in ("start", "end")
    )


def _widen_range_key(order: exp.Order) -> None:
    """``ORDER BY k`` → ``ORDER BY -(k + 0::HUGEINT)`` in the other direction (see the docstring)."""
    if len(order.expressions) != 1:
        return
    ordered = order.expressions[0]
    if not isinstance(ordered, exp.Ordered) or ordered.meta.get(_WIDENED):
        return
    wide = exp.Add(this=ordered.this.copy(), expression=exp.cast(exp.Literal.number(0), "HUGEINT"))
    ordered.set("this", exp.Neg(this=exp.Paren(this=wide)))
    ordered.set("desc", not ordered.args.get("desc"))
    ordered.set("nulls_first", bool(ordered.args.get("nulls_first")))
    ordered.meta[_WIDENED] = True


_NAN_FLAG = (
    "CASE WHEN _v_ IS NULL THEN NULL "
    "WHEN typeof(_v_) IN ('DOUBLE', 'FLOAT') AND CAST(_v_ AS VARCHAR) = 'nan' THEN 0 ELSE 1 END"
)


def _nan_first(order: exp.Order) -> None:
    """Each key ``k`` preceded by a flag that is 0 for NaN, 1 for other values, NULL for NULL."""
    keys: list[exp.Expression] = []
    for ordered in order.expressions:
        fresh = isinstance(ordered, exp.Ordered) and not ordered.meta.get(_WIDENED)
        if fresh and _may_be_float(ordered.this):
            flag = exp.Ordered(
                this=_substitute(_NAN_FLAG, ordered.this),
                desc=ordered.args.get("desc"),
                nulls_first=ordered.args.get("nulls_first"),
            )
            flag.meta[_WIDENED] = ordered.meta[_WIDENED] = True
            keys.append(flag)
        keys.append(ordered)
    order.set("expressions", keys)


def _may_be_float(key: exp.Expression) -> bool:
    """Whether ``key`` can be a FLOAT64 (literals and casts say; a column might be)."""
    key = key.unnest()
    if isinstance(key, exp.Literal | exp.Collate):
        return False
    if isinstance(key, exp.Cast):
        return key.to.this in (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)
    return True
