"""``LIMIT`` / ``OFFSET`` where DuckDB reads them differently from BigQuery.

* ``LIMIT @n`` / ``OFFSET @n`` with a NULL parameter: BigQuery fails, DuckDB reads NULL as no
  limit. BigQuery's message is "Limit requires non-null count and offset" (the ZetaSQL compliance
  corpus's text, limit_queries.test; BigQuery runs the same evaluator, its exact wording
  unconfirmed). Only parameters are guarded: a literal is never NULL there, and BigQuery refuses
  other expressions.
* ``LIMIT ALL``, GoogleSQL's explicit "no limit" (with or without ``OFFSET``): sqlglot reads ``ALL``
  as a column named ALL, which DuckDB cannot resolve; DuckDB itself accepts ``LIMIT ALL``, so the
  column becomes the keyword again.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_MESSAGE = "Limit requires non-null count and offset"
_GUARDED = "bq_limit_guarded"
_DUCKDB_MAX = 2**62


@handles(exp.Limit, exp.Offset)
def limit_parameters_must_not_be_null(node: exp.Expression) -> exp.Expression:
    """The count or offset parameter, or the error when it is NULL."""
    if not isinstance(node, exp.Limit | exp.Offset) or node.meta.get(_GUARDED):
        return node
    count = node.expression
    if not isinstance(count, exp.Placeholder | exp.Parameter):
        return node
    node.meta[_GUARDED] = True
    error = exp.Anonymous(this="ERROR", expressions=[exp.Literal.string(_MESSAGE)])
    check = exp.Is(this=count.copy(), expression=exp.null())
    # DuckDB caps a computed LIMIT / OFFSET at 2^62 (a bare parameter is not checked); no table
    # comes near that many rows, so the cap changes no result.
    capped = exp.Least(this=count.copy(), expressions=[exp.Literal.number(_DUCKDB_MAX)])
    node.set("expression", exp.Case(ifs=[exp.If(this=check, true=error)], default=capped))
    return node


@handles(exp.Limit)
def limit_all_is_no_limit(node: exp.Expression) -> exp.Expression:
    count = node.expression if isinstance(node, exp.Limit) else None
    bare = isinstance(count, exp.Column) and not count.table and not count.this.quoted
    if bare and count.name.upper() == "ALL":
        node.set("expression", exp.var("ALL"))
    return node
