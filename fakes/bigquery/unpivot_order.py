"""``SELECT *`` over ``UNPIVOT`` lists the value columns before the name column, as BigQuery does.

BigQuery's ``UNPIVOT (cnt FOR animal IN (...))`` gives the kept columns, then ``cnt``, then
``animal``; DuckDB gives ``animal`` before ``cnt``. A lone ``*`` becomes ``* EXCLUDE (animal),
animal``; a select list that names its columns already has BigQuery's order.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles


@handles(exp.Select)
def rewrite(node: exp.Expression) -> exp.Expression:
    """Move an UNPIVOT's name column to the end of a lone ``*``."""
    if not isinstance(node, exp.Select) or len(node.expressions) != 1 or node.args.get("joins"):
        return node
    star = node.expressions[0]
    source = node.args.get("from_")
    if not isinstance(star, exp.Star) or any(star.args.get(k) for k in exp.Star.arg_types) or source is None:
        return node
    pivots = source.this.args.get("pivots") or []
    if len(pivots) != 1 or not pivots[0].args.get("unpivot"):
        return node
    fields = pivots[0].args.get("fields") or []
    if (
        len(fields) != 1
        or not isinstance(fields[0], exp.In)
        or not isinstance(fields[0].this, exp.Identifier)
    ):
        return node
    name = fields[0].this
    node.set(
        "expressions",
        [exp.Star(except_=[exp.Column(this=name.copy())]), exp.Column(this=name.copy())],
    )
    return node
