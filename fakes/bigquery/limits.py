"""``LIMIT ALL``: GoogleSQL's explicit "no limit" (with or without ``OFFSET``).

sqlglot reads ``ALL`` as a column named ALL, which DuckDB cannot resolve; DuckDB itself accepts
``LIMIT ALL``, so the column becomes the keyword again.
"""

from __future__ import annotations

from sqlglot import exp


def limit_all_is_no_limit(node: exp.Expression) -> exp.Expression:
    count = node.expression if isinstance(node, exp.Limit) else None
    bare = isinstance(count, exp.Column) and not count.table and not count.this.quoted
    if bare and count.name.upper() == "ALL":
        node.set("expression", exp.var("ALL"))
    return node
