"""Set operations that match columns by name (``CORRESPONDING``, ``BY NAME``) in the BigQuery fake.

The expected results follow BigQuery's query-syntax page (set operators: column matching by name,
the FULL / LEFT / INNER / strict propagation modes, ``CORRESPONDING BY``) and the worked examples
of GoogleSQL's analyzer (google/zetasql ``set_operation_resolver_base.h``: FULL gives ``[A, B, C,
D]`` for ``SELECT 1 AS A, 2 AS B`` and ``SELECT 3 AS C, 4 AS A, 5 AS D``, INNER gives ``[A, B]``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from real_errors import assert_real_error

from fakes.bigquery import exceptions as bq
from fakes.bigquery.warehouse import FakeWarehouse
from harness.ports import InvalidRequestError
from harness.schema.spec import FieldSpec, FieldType, TableSpec


def run(warehouse: FakeWarehouse, sql: str, params: dict[str, Any] | None = None) -> tuple[list[str], list]:
    """The result's column names and its rows as tuples, sorted (set operations keep no order)."""
    result = warehouse.query(sql, params)
    names = [field.name for field in result.schema]
    rows = [tuple(row[name] for name in names) for row in result.rows]
    return names, sorted(rows, key=repr)


@pytest.mark.parametrize(
    ("sql", "names", "rows"),
    [
        pytest.param(
            "SELECT 1 AS A, 2 AS B FULL UNION ALL CORRESPONDING SELECT 3 AS C, 4 AS A, 5 AS D",
            ["A", "B", "C", "D"],
            [(1, 2, None, None), (4, None, 3, 5)],
            id="full: every column, in order of first appearance, missing ones NULL",
        ),
        pytest.param(
            "SELECT 1 AS A, 2 AS B, 3 AS C INNER UNION ALL CORRESPONDING SELECT 4 AS B, 5 AS A, 6 AS D",
            ["A", "B"],
            [(1, 2), (5, 4)],
            id="inner: the common columns, in the first input's order",
        ),
        pytest.param(
            "SELECT 1 AS A, 2 AS B, 3 AS C UNION ALL CORRESPONDING SELECT 4 AS B, 5 AS A, 6 AS D",
            ["A", "B"],
            [(1, 2), (5, 4)],
            id="a bare CORRESPONDING is INNER",
        ),
        pytest.param(
            "SELECT 1 AS A, 2 AS B LEFT OUTER UNION ALL CORRESPONDING SELECT 3 AS B, 4 AS A, 5 AS D",
            ["A", "B"],
            [(1, 2), (4, 3)],
            id="left: the first input's columns",
        ),
        pytest.param(
            "SELECT 1 AS a, 2 AS b UNION ALL STRICT CORRESPONDING SELECT 20 AS B, 10 AS A",
            ["a", "b"],
            [(1, 2), (10, 20)],
            id="strict: same columns in any order, names case-insensitive, first spelling kept",
        ),
        pytest.param(
            "SELECT 1 AS a, 2 AS b UNION ALL BY NAME SELECT 20 AS b, 10 AS a",
            ["a", "b"],
            [(1, 2), (10, 20)],
            id="BY NAME",
        ),
        pytest.param(
            "SELECT 1 AS a, 2 AS b, 3 AS c UNION DISTINCT CORRESPONDING BY (c, a) SELECT 1 AS a, 3 AS c",
            ["c", "a"],
            [(3, 1)],
            id="CORRESPONDING BY: the listed columns in the list's order",
        ),
        pytest.param(
            "SELECT 1 AS a FULL UNION ALL CORRESPONDING BY (a, c) SELECT 2 AS a "
            "FULL UNION ALL CORRESPONDING BY (a, c) SELECT 3 AS c",
            ["a", "c"],
            [(1, None), (2, None), (None, 3)],
            id="a chain is one operation over all its inputs",
        ),
        pytest.param(
            "WITH t AS (SELECT 1 AS a UNION ALL SELECT 1) "
            "SELECT a FROM t FULL EXCEPT ALL CORRESPONDING SELECT 2 AS b",
            ["a", "b"],
            [(1, None), (1, None)],
            id="EXCEPT ALL over padded NULLs",
        ),
        pytest.param(
            "WITH t AS (SELECT 1 AS a, 2 AS b INTERSECT ALL CORRESPONDING SELECT 2 AS b, 1 AS a), "
            "u AS (SELECT * FROM t LEFT UNION ALL CORRESPONDING SELECT 3 AS a) "
            "SELECT * FROM u ORDER BY a",
            ["a", "b"],
            [(1, 2), (3, None)],
            id="CTEs built on one another",
        ),
        pytest.param(
            "(SELECT 1 UNION ALL SELECT 2) EXCEPT DISTINCT SELECT 2",
            ["f0_"],
            [(1,)],
            id="a parenthesized first input names the anonymous column f0_",
        ),
        pytest.param(
            "SELECT STRUCT(3 AS a, 5 AS b).b UNION ALL SELECT 4",
            ["b"],
            [(4,), (5,)],
            id="a field access is named after the field",
        ),
    ],
)
def test_set_operations_by_name(warehouse: FakeWarehouse, sql: str, names: list[str], rows: list) -> None:
    assert run(warehouse, sql) == (names, sorted(rows, key=repr))


def test_columns_come_from_the_tables_as_they_are_now(warehouse: FakeWarehouse) -> None:
    """``SELECT *`` sides: the rewrite depends on the tables' columns, so a changed schema is seen."""
    warehouse.create_dataset("ds")
    warehouse.create_table("ds", TableSpec("t1", (FieldSpec("a", FieldType.INTEGER),)))
    two = (FieldSpec("b", FieldType.STRING), FieldSpec("a", FieldType.INTEGER))
    warehouse.create_table("ds", TableSpec("t2", two))
    warehouse.insert_rows("ds", "t1", [{"a": 1}])
    warehouse.insert_rows("ds", "t2", [{"a": 2, "b": "x"}])
    sql = "SELECT * FROM ds.t1 FULL UNION ALL CORRESPONDING SELECT * FROM ds.t2"
    assert run(warehouse, sql) == (["a", "b"], [(1, None), (2, "x")])
    grown = (FieldSpec("a", FieldType.INTEGER), FieldSpec("c", FieldType.BOOLEAN))
    warehouse.patch_table("ds", "t1", schema=list(grown))
    assert run(warehouse, sql) == (["a", "c", "b"], [(1, None, None), (2, None, "x")])


def test_query_parameters_inside_an_input(warehouse: FakeWarehouse) -> None:
    sql = "SELECT @x AS a, 1 AS b UNION ALL CORRESPONDING SELECT 2 AS a"
    assert run(warehouse, sql, {"x": 7}) == (["a"], [(2,), (7,)])
    with pytest.raises(InvalidRequestError) as info:
        warehouse.query(sql)
    assert_real_error(info.value, bq.QueryParameterNotFound)


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        (
            "SELECT 1 AS col1, 2 AS col2 UNION DISTINCT CORRESPONDING SELECT 3 AS col3, 4 AS col4",
            bq.CorrespondingNoCommonColumns,
            "Queries of the set operation using CORRESPONDING do not have any columns in common",
        ),
        (
            "SELECT 1 AS a LEFT UNION ALL CORRESPONDING SELECT 2 AS b",
            bq.CorrespondingNoCommonColumns,
            "Queries of the set operation using CORRESPONDING do not have any columns in common",
        ),
        (
            "SELECT 1 AS col1, 2 AS col2 EXCEPT DISTINCT CORRESPONDING SELECT 3 AS col2, 4 AS col2",
            bq.CorrespondingDuplicateColumn,
            "Duplicate columns found when using CORRESPONDING in set operations: col2 in query 2",
        ),
        (
            "SELECT 1 AS a, 2 AS b UNION ALL STRICT CORRESPONDING SELECT 1 AS a",
            bq.CorrespondingColumnsDiffer,
            "Column b is missing from query 2 of a set operation using CORRESPONDING",
        ),
        (
            "SELECT 1 AS a UNION ALL CORRESPONDING BY (a, b) SELECT 1 AS a, 2 AS b",
            bq.CorrespondingColumnsDiffer,
            "Column b is missing from query 1 of a set operation using CORRESPONDING",
        ),
    ],
)
def test_refused_like_bigquery(warehouse: FakeWarehouse, sql: str, error: type, message: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        warehouse.query(sql)
    assert_real_error(info.value, error, message)
    assert info.value.message == message  # the fake's wording, whether or not confirmed


def test_duplicates_outside_a_by_list_are_allowed(warehouse: FakeWarehouse) -> None:
    sql = (
        "SELECT 1 AS a, 2 AS b, 2 AS b, 1 AS c UNION ALL CORRESPONDING BY (c, a) "
        "SELECT 2 AS b, 1 AS a, 1 AS c"
    )
    assert run(warehouse, sql) == (["c", "a"], [(1, 1), (1, 1)])


def test_a_string_literal_takes_the_date_or_time_type_of_its_column(warehouse: FakeWarehouse) -> None:
    sql = (
        "SELECT DATE '2014-01-17' AS d, TIMESTAMP '2014-01-17 00:00:02.098+00' AS ts "
        "UNION ALL SELECT '2015-01-17', '2015-01-17 00:00:00.123456 UTC' "
        "UNION ALL SELECT '2016-01-17', '2016-01-17 00:00:00 UTC'"
    )
    result = warehouse.query(sql)
    assert [(f.name, f.type) for f in result.schema] == [("d", FieldType.DATE), ("ts", FieldType.TIMESTAMP)]
    assert sorted(row["d"] for row in result.rows) == [
        date(2014, 1, 17),
        date(2015, 1, 17),
        date(2016, 1, 17),
    ]
    assert datetime(2015, 1, 17, 0, 0, 0, 123456, tzinfo=UTC) in [row["ts"] for row in result.rows]
    strings = warehouse.query("SELECT 'a' AS s UNION ALL SELECT 'b'")
    assert [f.type for f in strings.schema] == [FieldType.STRING]


def test_the_coercion_follows_the_parameter_types_of_each_run(warehouse: FakeWarehouse) -> None:
    sql = "SELECT @v AS v UNION ALL SELECT '2020-01-01'"
    assert [f.type for f in warehouse.query(sql, {"v": date(2021, 1, 1)}).schema] == [FieldType.DATE]
    assert [f.type for f in warehouse.query(sql, {"v": "x"}).schema] == [FieldType.STRING]
