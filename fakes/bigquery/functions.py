"""Where sqlglot's BigQuery → DuckDB translation keeps the syntax but changes the meaning.

Each fix is an AST rewrite applied after sqlglot has parsed BigQuery SQL and before DuckDB SQL is
generated. ``tests/test_bigquery_functions.py`` holds the table of BigQuery functions the project
uses, with the results BigQuery's documentation gives, that keeps these honest.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

Fix = Callable[[exp.Expression], exp.Expression]


def _dayofweek_sunday_is_one(node: exp.Expression) -> exp.Expression:
    """BigQuery's DAYOFWEEK runs 1 (Sunday) .. 7; DuckDB's runs 0 (Sunday) .. 6."""
    if isinstance(node, exp.Extract) and node.this.name.upper() == "DAYOFWEEK" and not node.meta.get("fixed"):
        node.meta["fixed"] = True
        return exp.Paren(this=exp.Add(this=node, expression=exp.Literal.number(1)))
    if isinstance(node, exp.DayOfWeek) and not node.meta.get("fixed"):
        node.meta["fixed"] = True
        return exp.Paren(this=exp.Add(this=node, expression=exp.Literal.number(1)))
    return node


FIXES: list[Fix] = [_dayofweek_sunday_is_one]


def apply_semantic_fixes(tree: exp.Expression) -> exp.Expression:
    for fix in FIXES:
        tree = tree.transform(fix)
    return tree
