"""The bottom-up rewrite that applies the translator's fixes (:mod:`fakes.bigquery.bottom_up`).

A fix is offered only the node classes it declares; these tests hold the rewrite to the order the
fixes are listed in, and each declaration to what its fix does: on a node of any other class, every
fix must return the node untouched, or the dispatch would skip a rewrite the fix should have made.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from fakes.bigquery.bottom_up import _HANDLES, Fix, _preorder, handles, is_tree, rewrite_bottom_up
from fakes.bigquery.function_passes import PASSES
from fakes.bigquery.functions import FIXES
from fakes.bigquery.json_functions import FIXES as JSON_FIXES
from tests.test_bigquery_functions import ROWS

ALL_FIXES = [*JSON_FIXES, *FIXES, *PASSES]

STATEMENTS = [
    "SELECT SUM(x) OVER (PARTITION BY g ORDER BY x RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t",
    "SELECT LAG(x, 2) OVER w, NTILE(@n) OVER (ORDER BY x) FROM t WINDOW w AS (ORDER BY x)",
    "SELECT * FROM t PIVOT (SUM(v) FOR k IN ('a', 'b'))",
    "SELECT * FROM t UNPIVOT (v FOR k IN (a, b))",
    "SELECT * FROM a JOIN b USING (id)",
    "SELECT g, COUNTIF(x > 0) FROM t GROUP BY ALL",
    "SELECT g, h, SUM(x) FROM t GROUP BY ROLLUP (g, h)",
    "UPDATE t SET s.a = 1, c = DEFAULT WHERE TRUE",
    "INSERT INTO t (a, b) VALUES (1, 'x')",
    "SELECT ARRAY_AGG(x IGNORE NULLS LIMIT 2), STRING_AGG(s, ',' LIMIT 1) FROM t",
    "SELECT SAFE.SUM(x) OVER (), SAFE.PARSE_DATE('%Y', s), HLL_COUNT.MERGE(h) FROM t",
    "SELECT j.a.b, j['c'], JSON_VALUE(j, '$.d') FROM t LIMIT @n OFFSET @m",
    "SELECT x FROM t WHERE s LIKE ANY ('a%', 'b%') AND s COLLATE 'und:ci' = 'A' LIMIT ALL",
    "SELECT (1, 2), [STRUCT(1 AS a, 2 AS b), (3, 4)], CAST(NULL AS STRUCT<INT64, STRING>)",
    "SELECT RANGE(DATE '2024-01-01', NULL), CAST(b AS BIGNUMERIC) + 1, INTERVAL '1-2' YEAR TO MONTH",
    "SELECT KEYS.NEW_KEYSET('AEAD_AES_GCM_256'), CORR(x, y), VAR_SAMP(x) FROM t",
    "SELECT x FROM t UNION ALL (SELECT y FROM u UNION DISTINCT SELECT z FROM v)",
    "SELECT x FROM t WHERE x >= 1 AND y <= 2.5 AND z > -1 AND w < 0",
]


def _statements() -> list[str]:
    """Every SQL text of the function table (as its test runs it) and the statements above."""
    texts = [param.values[0] for param in ROWS]
    queries = [t if re.match(r"\s*SELECT\b", t, re.IGNORECASE) else f"SELECT {t} AS v" for t in texts]
    return queries + STATEMENTS


def test_a_fix_sees_only_its_classes_and_a_replacement_goes_on_to_the_later_fixes() -> None:
    seen: list[tuple[str, str]] = []

    @handles(exp.Literal)
    def literal_to_cast(node: exp.Expression) -> exp.Expression:
        seen.append(("literal_to_cast", node.sql()))
        return exp.cast(node, exp.DataType.build("DOUBLE")) if not node.is_string else node

    @handles(exp.Cast)
    def marks_casts(node: exp.Expression) -> exp.Expression:
        seen.append(("marks_casts", node.sql()))
        return node

    @handles(exp.Literal)
    def later_literal(node: exp.Expression) -> exp.Expression:
        seen.append(("later_literal", node.sql()))
        return node

    def every_node(node: exp.Expression) -> exp.Expression:
        seen.append(("every_node", type(node).__name__))
        return node

    tree = sqlglot.parse_one("SELECT 1 + 2", read="bigquery")
    fixes: list[Fix] = [literal_to_cast, every_node, marks_casts, later_literal]
    out = rewrite_bottom_up(tree, fixes)

    assert out.sql() == "SELECT CAST(1 AS DOUBLE) + CAST(2 AS DOUBLE)"
    # Children first; a literal replaced by a cast goes on to the fixes after literal_to_cast that
    # handle casts (and the undeclared one), not to later_literal.
    assert seen == [
        ("literal_to_cast", "2"),
        ("every_node", "Cast"),
        ("marks_casts", "CAST(2 AS DOUBLE)"),
        ("literal_to_cast", "1"),
        ("every_node", "Cast"),
        ("marks_casts", "CAST(1 AS DOUBLE)"),
        ("every_node", "Add"),
        ("every_node", "Select"),
    ]


def test_every_fix_of_the_translator_declares_the_classes_it_handles() -> None:
    assert [fix.__qualname__ for fix in ALL_FIXES if fix not in _HANDLES] == []


def test_a_fix_leaves_every_node_outside_its_classes_untouched() -> None:
    """Over every statement of the function table and the ones above (one test: a few seconds)."""
    broken: list[str] = []
    for sql in _statements():
        try:
            tree = sqlglot.parse_one(sql, read="bigquery")
        except sqlglot.errors.SqlglotError:
            continue  # a row about a syntax error
        before = tree.sql(dialect="bigquery")
        broken += [
            f"{fix.__qualname__} replaced a {type(node).__name__} in {sql}"
            for node in list(tree.walk())
            for fix in ALL_FIXES
            if not isinstance(node, _HANDLES[fix]) and fix(node) is not node
        ]
        if tree.sql(dialect="bigquery") != before:
            broken.append(f"a fix changed a node outside its classes in {sql}")
    assert broken == []


def test_the_rewrite_lists_the_nodes_as_sqlglots_dfs_does() -> None:
    for sql in STATEMENTS:
        tree = sqlglot.parse_one(sql, read="bigquery")
        assert [id(node) for node in _preorder(tree)] == [id(node) for node in tree.dfs()], sql


def test_a_tree_is_one_whose_nodes_are_each_in_one_place() -> None:
    """A node a rewrite placed twice makes generating without a copy unsafe (is_tree's use)."""
    tree = sqlglot.parse_one("SELECT a + 1, b FROM t", read="bigquery")
    assert is_tree(tree)
    assert not is_tree(tree.expressions[0])  # it has a parent: a copy would not
    shared = tree.expressions[1]
    tree.expressions[0].set("expression", shared)  # b is now in two places
    assert not is_tree(tree)
