"""``HLL_COUNT.INIT`` / ``MERGE`` / ``MERGE_PARTIAL`` / ``EXTRACT`` on DuckDB, with exact sketches.

BigQuery's sketches are HyperLogLog++ states (opaque BYTES) and its counts estimates. The fake's
sketch is BYTES too, but exact: ``hx-hll:<type>:<md5>,<md5>,...`` - the input type (INT64, NUMERIC,
STRING or BYTES; sketches of different types do not merge) and the sorted, distinct MD5 hashes of
the values. Counting the hashes gives the exact number of distinct values, which is what
BigQuery's estimate is for the small inputs tests use (HLL++ is exact in its sparse range). The
precision argument is checked (10 to 24, as documented; the message is the fake's own,
unconfirmed) and not otherwise used. Errors are BigQuery's: an empty or foreign BYTES
value is "Invalid sketch in HLL_COUNT.EXTRACT" / "Invalid or incompatible sketch in
HLL_COUNT.MERGE[_PARTIAL]" (so are sketches of different types); ``SAFE.`` gives NULL instead.
sqlglot reads ``HLL_COUNT.INIT(x)`` as a dotted name over an unknown function; DuckDB has none.
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_PREFIX = "hx-hll:"
_VALID = f"REGEXP_MATCHES(DECODE(_s_), '^{_PREFIX}[A-Z0-9]+:.')"
_HASHES = "STRING_SPLIT(SPLIT_PART(DECODE(_s_), ':', 3), ',')"
_TYPE = (
    "CASE WHEN TYPEOF(_v_) IN ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT') THEN 'INT64' "
    "WHEN TYPEOF(_v_) LIKE 'DECIMAL%' THEN 'NUMERIC' WHEN TYPEOF(_v_) = 'BLOB' THEN 'BYTES' ELSE 'STRING' END"
)
_DISTINCT_HASHES = "LIST(DISTINCT MD5(CAST(_v_ AS VARCHAR))) FILTER (WHERE _v_ IS NOT NULL)"
_INIT = (
    "CASE WHEN ANY_VALUE(_p_) NOT BETWEEN 10 AND 24 THEN _fail_ WHEN COUNT(_v_) = 0 THEN NULL "
    f"ELSE ENCODE('{_PREFIX}' || ANY_VALUE({_TYPE}) || ':' || "
    f"ARRAY_TO_STRING(LIST_SORT({_DISTINCT_HASHES}), ',')) END"
)
_MERGE_INVALID = f"BOOL_OR(NOT {_VALID}) OR COUNT(DISTINCT SPLIT_PART(DECODE(_s_), ':', 2)) > 1"
_UNION = f"LIST_DISTINCT(FLATTEN(LIST({_HASHES})))"
_MERGE = f"CASE WHEN {_MERGE_INVALID} THEN _fail_ ELSE COALESCE(LEN({_UNION}), 0) END"
_MERGE_PARTIAL = (
    f"CASE WHEN {_MERGE_INVALID} THEN _fail_ WHEN COUNT(_s_) = 0 THEN NULL "
    f"ELSE ENCODE('{_PREFIX}' || ANY_VALUE(SPLIT_PART(DECODE(_s_), ':', 2)) || ':' || "
    f"ARRAY_TO_STRING(LIST_SORT({_UNION}), ',')) END"
)
_EXTRACT = f"CASE WHEN _s_ IS NULL THEN 0 WHEN NOT {_VALID} THEN _fail_ ELSE LEN({_HASHES}) END"

_FUNCTIONS = {
    "INIT": (_INIT, "HLL_COUNT.INIT precision must be between 10 and 24"),
    "MERGE": (_MERGE, "Invalid or incompatible sketch in HLL_COUNT.MERGE"),
    "MERGE_PARTIAL": (_MERGE_PARTIAL, "Invalid or incompatible sketch in HLL_COUNT.MERGE_PARTIAL"),
    "EXTRACT": (_EXTRACT, "Invalid sketch in HLL_COUNT.EXTRACT"),
}


@handles(exp.Dot)
def hll_count_functions(node: exp.Expression) -> exp.Expression:
    """``[SAFE.]HLL_COUNT.<f>(...)`` as the DuckDB expressions above."""
    if not isinstance(node, exp.Dot) or not isinstance(node.expression, exp.Anonymous):
        return node
    if isinstance(node.parent, exp.Window):
        return node  # over a window: fakes.bigquery.window_aggregates (BigQuery's sketch format)
    qualifier = node.this
    safe = isinstance(qualifier, exp.Dot) and qualifier.this.name.upper() == "SAFE"
    if safe:
        qualifier = qualifier.expression
    if not isinstance(qualifier, exp.Identifier | exp.Column) or qualifier.name.upper() != "HLL_COUNT":
        return node
    call = node.expression
    known = _FUNCTIONS.get(call.name.upper())
    if known is None or not call.expressions:
        return node
    template, message = known
    fail: exp.Expression = exp.null()
    if message is not None and not safe:
        fail = exp.Anonymous(this="ERROR", expressions=[exp.Literal.string(message)])
    argument = call.expressions[0]
    precision = call.expressions[1] if len(call.expressions) > 1 else exp.Literal.number(15)
    return _filled(template, v=argument, s=argument, p=precision, fail=fail)


def _filled(template: str, **args: exp.Expression) -> exp.Expression:
    tree = _parsed(template).copy()
    for column in list(tree.find_all(exp.Column)):
        name = column.name
        if not column.table and name.startswith("_") and name.endswith("_") and name[1:-1] in args:
            column.replace(args[name[1:-1]].copy())
    return tree


@functools.lru_cache(maxsize=16)
def _parsed(template: str) -> exp.Expression:
    return sqlglot.parse_one(template, read="duckdb")
