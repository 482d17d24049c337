"""``CAST(x AS STRING(L))``: BigQuery's parameterized STRING type refuses a longer value.

DuckDB accepts ``VARCHAR(L)`` and ignores the length, so the cast checks it: a longer value is
BigQuery's out-of-range error (``SAFE_CAST``: NULL), and the same holds for each element of an
``ARRAY<STRING(L)>``.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_TEXT = (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR)


@handles(exp.Cast)
def string_length_parameters(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.Cast) or node.meta.get("bq_length_checked"):
        return node
    kind = node.to
    element = kind.expressions[0] if kind.is_type(exp.DataType.Type.ARRAY) and kind.expressions else None
    target = element if isinstance(element, exp.DataType) else kind
    limit = _length(target)
    if limit is None:
        return node
    target.set("expressions", [])
    longest = "length(CAST(_v_ AS VARCHAR))"
    if target is not kind:
        longest = "(SELECT max(length(CAST(bq_e AS VARCHAR))) FROM unnest(_v_) AS bq_t(bq_e))"
    failure = (
        "NULL"
        if isinstance(node, exp.TryCast)
        else (
            f"error('STRING({limit}) has maximum length {limit} but got a value with length ' || {longest})"
        )
    )
    template = sqlglot.parse_one(f"CASE WHEN {longest} > {limit} THEN {failure} ELSE _v_ END", read="duckdb")
    value = node.this
    node.set(
        "this",
        template.transform(lambda n: value.copy() if isinstance(n, exp.Column) and n.name == "_v_" else n),
    )
    node.meta["bq_length_checked"] = True
    return node


def _length(kind: exp.DataType) -> int | None:
    if not kind.is_type(*_TEXT) or len(kind.expressions) != 1:
        return None
    param = kind.expressions[0]
    value = param.this if isinstance(param, exp.DataTypeParam) else param
    return int(value.name) if isinstance(value, exp.Literal) and value.is_int else None
