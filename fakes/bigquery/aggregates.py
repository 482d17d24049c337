"""Aggregate-call clauses DuckDB lacks, rewritten before the per-node semantic fixes run.

These rewrites restructure a whole aggregate call (they move its arguments into a subquery), so
they run as one pass over the tree ahead of :func:`fakes.bigquery.functions.apply_semantic_fixes`;
the aggregate they leave behind is then fixed like any other (``LIMIT`` in ``ARRAY_AGG``, ...).

* ``HAVING MAX`` / ``HAVING MIN`` (``ARRAY_AGG(x HAVING MAX y)``): the aggregate sees only the
  group's rows whose ``y`` equals the group's maximum (minimum) ``y``. DuckDB has no such clause,
  and a filter cannot compare a row with an aggregate of its group, so the rows are collected
  into a list of structs (``LIST(STRUCT_PACK(...))``, an aggregate of the outer query) and the
  original aggregate runs over that list, unnested and filtered against the outer ``MAX(y)``, in a
  correlated scalar subquery. The key is compared with SQL ``=``, so when the extreme is NaN (MIN
  and MAX are NaN as soon as one value is) no row qualifies;
* ``MIN`` of FLOAT64 is NaN when any value is NaN (DuckDB's MIN skips NaN, which it orders last;
  its MAX is already NaN then).
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_ROW = "__hx_row"
_NAN_CHECKED = "bq_min_nan"
_TYPE = "bq_type"
"""The meta key where :mod:`fakes.bigquery.functions` records a node's known BigQuery type."""
_BYTES_TYPES = {exp.DataType.Type.BINARY, exp.DataType.Type.VARBINARY, exp.DataType.Type.BLOB}
"""The struct column the subquery's unnested rows are read through."""


def rewrite_aggregates(tree: exp.Expression) -> exp.Expression:
    """The tree with every aggregate call's ``HAVING MAX`` / ``HAVING MIN`` rewritten."""
    for having in reversed(list(tree.find_all(exp.HavingMax))):
        aggregate = having.find_ancestor(exp.AggFunc)
        if aggregate is None:
            continue
        rewritten = _restricted_to_extreme_rows(aggregate, having)
        if aggregate is tree:
            return rewritten
        aggregate.replace(rewritten)
    return tree


def _restricted_to_extreme_rows(aggregate: exp.Expression, having: exp.HavingMax) -> exp.Expression:
    """``AGG(args HAVING MAX h)`` as ``(SELECT AGG(args') FROM UNNEST(LIST(row)) AS u(r)
    WHERE h' = MAX(h))`` where ``row`` packs every column the call reads and ``args'`` / ``h'``
    read them from ``r``. ``MAX(h)`` ignores NULLs, so rows whose ``h`` is NULL never qualify."""
    key = having.expression
    extreme: exp.Expression = exp.Max(this=key.copy()) if having.args.get("max") else exp.Min(this=key.copy())
    having.replace(having.this)
    if not any(True for _ in key.find_all(exp.Column)):
        # A constant key: every row holds the extreme, unless it is NULL (MAX(x HAVING MIN 1)).
        extreme = key.copy()
    condition = exp.EQ(this=key.copy(), expression=extreme)
    fields: dict[str, str] = {}
    packed: list[exp.Expression] = []
    inner = aggregate.copy()
    for holder in (inner, condition.this):
        for column in list(holder.find_all(exp.Column)):
            nested = column.find_ancestor(exp.Subquery, exp.Select) is not None
            if nested or isinstance(column.this, exp.Star):
                continue
            text = column.sql()
            if text not in fields:
                fields[text] = f"c{len(fields)}"
                packed.append(exp.PropertyEQ(this=exp.to_identifier(fields[text]), expression=column.copy()))
            field = exp.Dot(this=exp.column(_ROW), expression=exp.to_identifier(fields[text]))
            if column is holder:
                condition.set("this", field)
            else:
                column.replace(field)
    if not packed:  # no column anywhere (MAX(1 HAVING MIN 1)): every row qualifies, count them all
        packed.append(exp.PropertyEQ(this=exp.to_identifier("c0"), expression=exp.true()))
    rows = exp.Anonymous(this="LIST", expressions=[exp.Anonymous(this="STRUCT_PACK", expressions=packed)])
    source = exp.Unnest(
        expressions=[rows],
        alias=exp.TableAlias(this=exp.to_identifier("__hx_rows"), columns=[exp.to_identifier(_ROW)]),
    )
    query = exp.select(inner).from_(source).where(exp.and_(condition, exp.not_(_is_nan(extreme))))
    return exp.Subquery(this=query)


def _is_nan(value: exp.Expression) -> exp.Expression:
    """Whether ``value`` is a floating-point NaN, for a value of any type (false otherwise)."""
    kind = exp.Anonymous(this="TYPEOF", expressions=[value.copy()])
    text = exp.cast(value.copy(), exp.DataType.build("VARCHAR"))
    return exp.paren(
        exp.and_(
            exp.In(this=kind, expressions=[exp.Literal.string("DOUBLE"), exp.Literal.string("FLOAT")]),
            exp.In(this=text, expressions=[exp.Literal.string("nan"), exp.Literal.string("-nan")]),
        )
    )


@handles(exp.Min)
def min_is_nan_when_any_value_is(node: exp.Expression) -> exp.Expression:
    """``MIN(x)`` as ``CASE WHEN MAX(x) is NaN THEN MAX(x) ELSE MIN(x) END`` (DuckDB orders NaN
    above every number, so its MAX is NaN exactly when a value is). Window calls are left alone."""
    if not isinstance(node, exp.Min) or node.expressions or isinstance(node.parent, exp.Window):
        return node
    if node.meta.get(_NAN_CHECKED):
        return node
    node.meta[_NAN_CHECKED] = True
    largest = exp.Max(this=node.this.copy())
    return exp.Case(ifs=[exp.If(this=_is_nan(largest), true=largest.copy())], default=node)


@handles(exp.LT, exp.LTE, exp.GT, exp.GTE)
def nan_is_not_above_a_number(node: exp.Expression) -> exp.Expression:
    """``x > 0`` / ``x >= 0`` are false for a NaN ``x`` in BigQuery (every ordered comparison with
    NaN is); DuckDB orders NaN above every number, so ``WHERE double_val > 0`` kept NaN rows. Only
    comparisons with a number literal are rewritten (the other side's type is unknown)."""
    if isinstance(node, exp.LT | exp.LTE):
        value, bound = node.expression, node.this
    elif isinstance(node, exp.GT | exp.GTE):
        value, bound = node.this, node.expression
    else:
        return node
    if node.meta.get(_NAN_CHECKED) or not _is_number(bound) or _is_number(value):
        return node
    node.meta[_NAN_CHECKED] = True
    return exp.paren(exp.and_(node, exp.not_(_is_nan(value))))


def _is_number(node: exp.Expression) -> bool:
    inner = node.this if isinstance(node, exp.Cast | exp.Neg) else node
    return isinstance(inner, exp.Literal) and not inner.is_string


@handles(exp.RespectNulls)
def respect_nulls_is_the_default(node: exp.Expression) -> exp.Expression:
    """``ARRAY_AGG(x RESPECT NULLS)`` keeps NULLs, as ``ARRAY_AGG(x)`` does (and a NULL in the result
    array is then refused on output); sqlglot refuses to write RESPECT NULLS for DuckDB outside a
    window, so the modifier is dropped there (window calls keep it)."""
    if isinstance(node, exp.RespectNulls) and not isinstance(node.parent, exp.Window):
        return node.this
    return node


@handles(exp.GroupConcat)
def string_agg_like_bigquery(node: exp.Expression) -> exp.Expression:
    """``STRING_AGG`` of BYTES joins BYTES (DuckDB's ``string_agg`` takes VARCHAR only: the values
    and the separator go through ``HEX`` and the result back through ``UNHEX``; BYTES is known from
    a BYTES separator or a ``CAST(... AS BYTES)`` value), and a NULL separator is an error: BigQuery
    refuses a literal NULL when it analyses the query and a NULL parameter when it runs it."""
    if not isinstance(node, exp.GroupConcat) or node.meta.get(_NAN_CHECKED):
        return node
    node.meta[_NAN_CHECKED] = True
    separator = node.args.get("separator")
    holder, value = _aggregated_value(node)
    if _is_bytes(separator) or _is_bytes(value):
        if separator is None:
            separator = exp.cast(exp.Literal.string(","), exp.DataType.build("BLOB"))
        hexed = exp.Anonymous(this="HEX", expressions=[value.copy()])
        if holder is node:
            node.set("this", hexed)
        else:
            value.replace(hexed)
        node.set("separator", exp.Anonymous(this="HEX", expressions=[separator.copy()]))
        node = exp.Anonymous(this="UNHEX", expressions=[node])
        node.meta[_TYPE] = exp.DataType.Type.VARBINARY
    if isinstance(separator, exp.Null):
        return _failing_when_null(separator, "Argument 2 to STRING_AGG must be non-NULL", node)
    if isinstance(separator, exp.Placeholder | exp.Parameter):
        return _failing_when_null(separator, "Illegal NULL separator in STRING_AGG", node)
    return node


def _aggregated_value(call: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
    """The node holding an aggregate call's value (through ORDER BY and DISTINCT) and the value."""
    holder = call
    value = call.this
    while isinstance(value, exp.Order | exp.Distinct):
        holder = value
        value = value.this if isinstance(value, exp.Order) else value.expressions[0]
    return holder, value


def _is_bytes(node: exp.Expression | None) -> bool:
    if node is None:
        return False
    if isinstance(node, exp.ByteString) or node.meta.get(_TYPE) in _BYTES_TYPES:
        return True
    return isinstance(node, exp.Cast) and node.to.this in _BYTES_TYPES


def _failing_when_null(separator: exp.Expression, message: str, call: exp.Expression) -> exp.Expression:
    error = exp.Anonymous(this="ERROR", expressions=[exp.Literal.string(message)])
    check = exp.Is(this=separator.copy(), expression=exp.null())
    return exp.Case(ifs=[exp.If(this=check, true=error)], default=call)


@handles(exp.Sum)
def sum_of_int64_overflows(node: exp.Expression) -> exp.Expression:
    """``SUM`` of INT64 values whose total leaves INT64 fails; DuckDB sums integers into a 128-bit
    HUGEINT and returned the out-of-range total. The failure is DuckDB's own cast of the total to
    BIGINT (its "out of range for the destination type INT64" message: ``ERROR()`` would make
    the call volatile, and DuckDB refuses an alias of a volatile expression in HAVING / ORDER BY).
    The cast sits in a branch only a HUGEINT total reaches, added as ``* 0`` so the call keeps
    its type for every input. Window calls are left alone."""
    if not isinstance(node, exp.Sum) or node.meta.get(_NAN_CHECKED) or isinstance(node.parent, exp.Window):
        return node
    node.meta[_NAN_CHECKED] = True
    kind = exp.Anonymous(this="TYPEOF", expressions=[node.copy()])
    huge = exp.EQ(this=kind, expression=exp.Literal.string("HUGEINT"))
    bounds = {"low": exp.Literal.number(-(2**63)), "high": exp.Literal.number(2**63 - 1)}
    outside = exp.not_(exp.Between(this=node.copy(), **bounds))
    as_int64 = exp.Mul(
        this=exp.cast(node.copy(), exp.DataType.build("BIGINT")), expression=exp.Literal.number(0)
    )
    failing = exp.Add(this=node.copy(), expression=as_int64)
    return exp.Case(ifs=[exp.If(this=exp.and_(huge, outside), true=failing)], default=node)
