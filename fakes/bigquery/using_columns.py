"""``SELECT * FROM a JOIN b USING (k)`` lists ``k`` first, as BigQuery does.

BigQuery's ``*`` over a ``USING`` join gives the join columns first, then the other columns of each
side; DuckDB keeps the left side's order (``k`` where it stands in ``a``). The star becomes
``k, * EXCLUDE (k)`` (DuckDB's ``EXCLUDE`` drops both sides' ``k``). Only a single ``USING`` join
is rewritten: with more joins the order depends on how they nest.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles


@handles(exp.Select)
def rewrite(node: exp.Expression) -> exp.Expression:
    """Put a lone ``*``'s ``USING`` columns first."""
    if not isinstance(node, exp.Select) or len(node.expressions) != 1:
        return node
    star = node.expressions[0]
    joins = node.args.get("joins") or []
    if not isinstance(star, exp.Star) or any(star.args.get(k) for k in exp.Star.arg_types):
        return node
    if len(joins) != 1 or not joins[0].args.get("using"):
        return node
    names = [ident.copy() for ident in joins[0].args["using"]]
    columns = [exp.Column(this=name) for name in names]
    excluded = exp.Star(except_=[exp.Column(this=name.copy()) for name in names])
    node.set("expressions", [*columns, excluded])
    return node
