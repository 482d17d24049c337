"""Grouping sets, GROUP BY ALL, pipe operators and UPDATE joins in the BigQuery fake.

Expected results follow BigQuery's query-syntax pages (GROUPING SETS / ROLLUP / CUBE, GROUP BY ALL,
the pipe syntax page's WITH / RENAME / WINDOW / WHERE operators) and its DML page (an UPDATE with a
FROM join may match each target row once).
"""

from __future__ import annotations

from typing import Any

import pytest
from real_errors import assert_real_error

from fakes.bigquery import exceptions as bq
from fakes.bigquery.warehouse import FakeWarehouse
from harness.ports import InvalidRequestError
from harness.schema.spec import FieldSpec, FieldType, TableSpec

ITEMS = "WITH items AS (SELECT 10 AS a, 'x' AS b UNION ALL SELECT 10, 'y' UNION ALL SELECT 20, 'x') "


def run(warehouse: FakeWarehouse, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The result's column names and its rows as tuples, sorted."""
    result = warehouse.query(sql)
    names = [field.name for field in result.schema]
    rows = [tuple(row[name] for name in names) for row in result.rows]
    return names, sorted(rows, key=repr)


@pytest.mark.parametrize(
    ("sql", "rows"),
    [
        pytest.param(
            ITEMS + "SELECT a, a + 1, COUNT(*) FROM items GROUP BY GROUPING SETS (a, a + 1)",
            [(10, 11, 2), (20, 21, 1), (None, None, 1), (None, None, 2)],
            id="a + 1 is computed from the grouped column a, NULL in the set without a",
        ),
        pytest.param(
            ITEMS + "SELECT a + 1 AS a1, GROUPING(a1) FROM items GROUP BY ROLLUP (1)",
            [(11, 0), (21, 0), (None, 1)],
            id="an ordinal in ROLLUP and GROUPING of a select alias",
        ),
        pytest.param(
            ITEMS + "SELECT b, COUNT(*) FROM items GROUP BY GROUPING SETS ((b), (b, b))",
            [("x", 2), ("x", 2), ("y", 1), ("y", 1)],
            id="equal grouping sets each give their rows",
        ),
    ],
)
def test_grouping_sets_keys(warehouse: FakeWarehouse, sql: str, rows: list[tuple[Any, ...]]) -> None:
    assert run(warehouse, sql)[1] == rows


def test_group_by_all_without_keys_is_one_group(warehouse: FakeWarehouse) -> None:
    assert run(warehouse, ITEMS + "SELECT 'k' AS x FROM items GROUP BY ALL")[1] == [("k",)]


def test_group_by_all_with_qualify(warehouse: FakeWarehouse) -> None:
    sql = ITEMS + (
        "SELECT b, SUM(a) AS s, RANK() OVER (ORDER BY SUM(a)) AS r FROM items GROUP BY ALL QUALIFY r = 1"
    )
    assert run(warehouse, sql)[1] == [("y", 10, 1)]


@pytest.mark.parametrize(
    ("sql", "names", "rows"),
    [
        pytest.param(
            "SELECT 1 AS k |> WITH t AS (SELECT 1 AS k, 'v' AS v) |> JOIN t USING (k)",
            ["k", "v"],
            [(1, "v")],
            id="WITH names a table for the rest of the pipe",
        ),
        pytest.param(
            "SELECT 1 AS a, 2 AS b |> RENAME a AS b2, b AS a2",
            ["b2", "a2"],
            [(1, 2)],
            id="RENAME keeps each column in its place",
        ),
        pytest.param(
            ITEMS + "FROM items |> WHERE RANK() OVER (ORDER BY a DESC) = 1 |> SELECT a, b",
            ["a", "b"],
            [(20, "x")],
            id="a pipe WHERE filters on a window function",
        ),
        pytest.param(
            ITEMS + "FROM items |> SELECT b, SUM(a) OVER w AS s WINDOW w AS (PARTITION BY b)",
            ["b", "s"],
            [("x", 30), ("x", 30), ("y", 10)],
            id="a named window in a pipe SELECT",
        ),
        pytest.param(
            "FROM (SELECT 1 AS k, 'l' AS x) AS l JOIN (SELECT 1 AS k, 'r' AS y) AS r USING (k)",
            ["k", "x", "y"],
            [(1, "l", "r")],
            id="FROM-first query keeps its join; USING columns come first",
        ),
        pytest.param(
            "SELECT 2000 AS year, 10 AS dogs, 12 AS cats |> UNPIVOT (cnt FOR animal IN (dogs, cats))",
            ["year", "cnt", "animal"],
            [(2000, 10, "dogs"), (2000, 12, "cats")],
            id="UNPIVOT gives the value column before the name column",
        ),
        pytest.param(
            "SELECT * FROM UNNEST(['a', 'b']) WITH OFFSET",
            ["f0_", "offset"],
            [("a", 0), ("b", 1)],
            id="an unaliased UNNEST value is anonymous; its offset counts from 0",
        ),
    ],
)
def test_pipe_operators(
    warehouse: FakeWarehouse, sql: str, names: list[str], rows: list[tuple[Any, ...]]
) -> None:
    assert run(warehouse, sql) == (names, rows)


@pytest.fixture
def joined(warehouse: FakeWarehouse) -> FakeWarehouse:
    schema = (FieldSpec("k", FieldType.INTEGER), FieldSpec("v", FieldType.STRING))
    warehouse.create_dataset("ds")
    warehouse.create_table("ds", TableSpec("target", schema))
    warehouse.create_table("ds", TableSpec("source", schema))
    warehouse.insert_rows("ds", "target", [{"k": 1, "v": "old"}, {"k": 2, "v": "old"}])
    warehouse.insert_rows("ds", "source", [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}, {"k": 2, "v": "c"}])
    return warehouse


def test_update_join_sets_from_one_matching_row(joined: FakeWarehouse) -> None:
    joined.query(
        "UPDATE ds.target t SET v = s.v FROM ds.source s JOIN ds.source s2 ON s.v = s2.v "
        "WHERE t.k = s.k AND t.k = 1"
    )
    assert run(joined, "SELECT k, v FROM ds.target")[1] == [(1, "a"), (2, "old")]


def test_update_join_matching_several_rows_is_refused(joined: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        joined.query("UPDATE ds.target t SET v = s.v FROM ds.source s WHERE t.k = s.k")
    assert_real_error(caught.value, bq.UpdateMatchesManyRows)
    assert run(joined, "SELECT k, v FROM ds.target")[1] == [(1, "old"), (2, "old")]
