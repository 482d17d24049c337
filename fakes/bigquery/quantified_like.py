"""``x [NOT] LIKE ANY|SOME|ALL (patterns)``, ``... UNNEST(array)`` and ``... (subquery)`` as BigQuery
means them.

sqlglot renders a pattern list as an ``OR`` / ``AND`` chain (right for STRING, but BYTES patterns do
not bind in DuckDB) and an ``UNNEST`` or a subquery as ``x LIKE UNNEST(...)``, which DuckDB turns
into one row per pattern. Here every form becomes one scalar subquery over the patterns, with
BigQuery's three-valued result: ANY is TRUE when one pattern matches, else NULL when a match was
NULL, else FALSE (so FALSE for no patterns); ALL is FALSE when one does not match, else NULL when
one was NULL, else TRUE. ``NOT LIKE ANY`` is true when *some* pattern does not match (BigQuery
applies NOT to each comparison). A case-insensitive collation on the value or on any pattern applies
to all of them (case-folded, ignorable characters dropped). BYTES are compared as byte strings (see
:mod:`fakes.bigquery.string_functions`).
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.collation import folded_sql, uncollated
from fakes.bigquery.functions import DType, _duck, _is_done, _type_of

_BYTES = (DType.BINARY, DType.VARBINARY)

_ANY = (
    "(SELECT CASE WHEN bool_or(_m) THEN TRUE WHEN bool_or(_m IS NULL) THEN NULL ELSE FALSE END "
    "FROM (SELECT {test} AS _m FROM UNNEST(_src_) AS _p(_pattern)))"
)
_ALL = (
    "(SELECT CASE WHEN bool_or(NOT _m) THEN FALSE WHEN bool_or(_m IS NULL) THEN NULL ELSE TRUE END "
    "FROM (SELECT {test} AS _m FROM UNNEST(_src_) AS _p(_pattern)))"
)


@handles(exp.Like)
def quantified_like(node: exp.Expression) -> exp.Expression:
    """The fix (see the module docstring)."""
    if not isinstance(node, exp.Like) or _is_done(node):
        return node
    quantifier = node.expression
    if not isinstance(quantifier, exp.Any | exp.All):
        return node
    case_insensitive = uncollated(node)
    source = quantifier.this
    if isinstance(source, exp.Paren):
        source = exp.Tuple(expressions=[source.this])
    patterns = source.expressions if isinstance(source, exp.Tuple) else []
    on_bytes = any(_type_of(e) in _BYTES for e in [node.this, *patterns])
    if isinstance(source, exp.Tuple):
        listed: exp.Expression = exp.Array(expressions=list(source.expressions))
    elif isinstance(source, exp.Subquery):
        listed = exp.Array(expressions=[source.this])
    elif isinstance(source, exp.Unnest) and len(source.expressions) == 1:
        listed = source.expressions[0]
    else:
        return node
    known_text = all(_type_of(e) in exp.DataType.TEXT_TYPES for e in [node.this, *patterns]) and patterns
    if on_bytes:
        value, pattern = "bq_b2s(_v_)", "bq_b2s(_pattern)"
    elif known_text:
        value, pattern = "_v_", "_pattern"
    else:  # types unknown (a column): read either type, decided when DuckDB binds
        value, pattern = "bq_text(_v_)", "bq_text(_pattern)"
    if case_insensitive:
        value, pattern = folded_sql(value), folded_sql(pattern)
    test = f"{value} LIKE {pattern} ESCAPE '\\'"  # BigQuery's escape character
    if node.args.get("negate"):
        test = f"NOT ({test})"
    template = _ANY if isinstance(quantifier, exp.Any) else _ALL
    return _duck(template.format(test=test), DType.BOOLEAN, v=node.this, src=listed)
