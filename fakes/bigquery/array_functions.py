"""BigQuery's array subscripts and array functions where DuckDB's differ or are missing.

* ``a[OFFSET(i)]`` / ``a[ORDINAL(i)]`` out of bounds raise "Array index i is out of bounds" (DuckDB:
  NULL, and a negative index counts from the end); ``SAFE_OFFSET`` / ``SAFE_ORDINAL`` give NULL for
  any index out of bounds. sqlglot also forgot the ``+ 1`` for a non-literal ``OFFSET(i)``: the
  index is computed here for every form.
* ``GENERATE_ARRAY`` / ``GENERATE_DATE_ARRAY`` / ``GENERATE_TIMESTAMP_ARRAY`` with a zero step raise
  "Sequence step cannot be 0." (DuckDB returns an empty list).
* ``UNNEST(a) AS x WITH OFFSET AS o`` numbers from 0 (DuckDB's ``WITH ORDINALITY``, which sqlglot
  renders, from 1): the unnest becomes a subquery that subtracts 1.
* Missing in DuckDB, created as macros under BigQuery's names: ``ARRAY_IS_DISTINCT`` (NULLs are
  equal to each other), ``ARRAY_FIRST`` / ``ARRAY_LAST`` (an error for an empty array).

Errors go through :mod:`fakes.bigquery.string_functions`' ``bq_raise`` (a failing cast, so
``SAFE.`` — DuckDB's ``TRY`` — can catch it).
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.functions import _DONE as _DONE_KEY
from fakes.bigquery.functions import DType, _duck, _is_done, _type_of

MACROS = """
CREATE OR REPLACE MACRO bq_index(n, i, base) AS CASE
    WHEN i < base OR i >= n + base THEN bq_raise('Array index ' || i || ' is out of bounds')
    ELSE i + 1 - base END;
CREATE OR REPLACE MACRO bq_safe_index(n, i, base) AS CASE
    WHEN i < base OR i >= n + base THEN NULL ELSE i + 1 - base END;
CREATE OR REPLACE MACRO bq_step(s) AS CASE
    WHEN s = 0 THEN bq_raise('Sequence step cannot be 0.') ELSE s END;
CREATE OR REPLACE MACRO array_is_distinct(a) AS
    len(a) = len(list_distinct(a)) + least(len(list_filter(a, lambda e: e IS NULL)), 1);
CREATE OR REPLACE MACRO array_first(a) AS CASE WHEN len(a) = 0
    THEN a[bq_raise('ARRAY_FIRST cannot get the first element of an empty array')] ELSE a[1] END;
CREATE OR REPLACE MACRO array_last(a) AS CASE WHEN len(a) = 0
    THEN a[bq_raise('ARRAY_LAST cannot get the last element of an empty array')] ELSE a[-1] END;
"""
"""The DuckDB macros the rewrites call (created by :mod:`fakes.bigquery.function_passes`)."""

_SEQUENCES = (exp.GenerateSeries, exp.GenerateDateArray, exp.GenerateTimestampArray)


@handles(exp.Bracket, *_SEQUENCES, exp.Unnest)
def array_functions_like_bigquery(node: exp.Expression) -> exp.Expression:
    """The fix (see the module docstring)."""
    if _is_done(node):
        return node
    if isinstance(node, exp.Bracket) and node.args.get("offset") is not None and len(node.expressions) == 1:
        guard = "bq_safe_index" if node.args.get("safe") else "bq_index"
        base = exp.Literal.number(int(node.args["offset"]))
        return _duck(f"_a_[{guard}(len(_a_), _i_, _b_)]", a=node.this, i=node.expressions[0], b=base)
    if isinstance(node, _SEQUENCES) and node.args.get("step") is not None:
        step = node.args["step"]
        if isinstance(step, exp.Interval):
            zero = exp.Interval(this=exp.Literal.string("0"), unit=step.args.get("unit"))
            raised = "to_days(bq_raise('Sequence step cannot be 0.'))"
            guarded = _duck(f"CASE WHEN _s_ = _z_ THEN {raised} ELSE _s_ END", s=step, z=zero)
        elif _type_of(step) in (None, DType.BIGINT, DType.INT, DType.DOUBLE, DType.DECIMAL):
            guarded = _duck("bq_step(_s_)", s=step)
        else:
            return node
        node.set("step", guarded)
        return node
    if isinstance(node, exp.Unnest) and isinstance(node.args.get("offset"), exp.Identifier):
        return _offset_from_zero(node)
    return node


def _offset_from_zero(node: exp.Unnest) -> exp.Expression:
    """``UNNEST(a) AS x WITH OFFSET AS o`` as ``(SELECT _v AS x, _o - 1 AS o FROM UNNEST(a) WITH
    ORDINALITY ...)`` under a fresh alias (so ``x.field`` still reads a field of the value ``x``).
    Without ``AS x`` the value is an anonymous column, which BigQuery names ``f0_``."""
    alias = node.args.get("alias")
    columns = alias.columns if isinstance(alias, exp.TableAlias) else []
    if alias is None and len(node.expressions) == 1:
        columns = [exp.to_identifier("f0_")]
    if len(columns) != 1 or len(node.expressions) != 1:
        return node
    value, offset = columns[0], node.args["offset"]
    inner = exp.Unnest(
        expressions=[node.expressions[0]],
        alias=exp.TableAlias(this=exp.to_identifier("_bq_u"), columns=[exp.to_identifier("_v")]),
        offset=exp.to_identifier("_o"),
    )
    inner.meta[_DONE_KEY] = True
    select = exp.select(
        exp.alias_(exp.column("_v"), value.copy()),
        exp.alias_(exp.Sub(this=exp.column("_o"), expression=exp.Literal.number(1)), offset.copy()),
    ).from_(inner)
    fresh = exp.to_identifier(f"_bq_unnest_{value.name}")  # BigQuery refuses a repeated alias
    return exp.Subquery(this=select, alias=exp.TableAlias(this=fresh))
