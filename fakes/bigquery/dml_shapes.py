"""BigQuery DML shapes sqlglot reads differently from BigQuery.

``DELETE t WHERE ...`` (BigQuery's ``FROM`` is optional) comes out of sqlglot as a multi-table
delete with no target; BigQuery means ``DELETE FROM t WHERE ...``.
"""

from __future__ import annotations

from sqlglot import exp


def normalize_dml(tree: exp.Expression) -> exp.Expression:
    """The tree with BigQuery's meaning of a ``FROM``-less ``DELETE``."""
    if isinstance(tree, exp.Delete) and not isinstance(tree.this, exp.Table):
        tables = tree.args.get("tables") or []
        if len(tables) == 1:
            tree.set("tables", None)
            tree.set("this", tables[0])
    return tree
