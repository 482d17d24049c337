"""Tuple-syntax STRUCTs and STRUCT types with anonymous fields in the BigQuery fake.

BigQuery's data-types page: ``(expr1, expr2)`` constructs a ``STRUCT<expr1_type, expr2_type>``
with anonymous fields, and ``STRUCT<INT64, STRING>`` is a STRUCT type whose fields have no names;
a NULL STRUCT compared with ``IN`` gives NULL.
"""

from __future__ import annotations

from fakes.bigquery.warehouse import FakeWarehouse
from harness.schema.spec import FieldType


def test_a_selected_tuple_is_a_struct(warehouse: FakeWarehouse) -> None:
    result = warehouse.query("SELECT (1, 'a') AS x")
    (column,) = result.schema
    assert column.type is FieldType.RECORD
    assert [f.type for f in column.fields] == [FieldType.INTEGER, FieldType.STRING]
    assert list(result.rows[0]["x"].values()) == [1, "a"]


def test_tuple_structs_compare_with_in(warehouse: FakeWarehouse) -> None:
    sql = "SELECT x IN ((1, 1), (1, 2)) AS hit FROM (SELECT (1, 1) AS x UNION ALL SELECT (2, 2)) ORDER BY hit"
    assert [row["hit"] for row in warehouse.query(sql).rows] == [False, True]


def test_a_tuple_of_columns_keeps_anonymous_fields(warehouse: FakeWarehouse) -> None:
    sql = "SELECT (k, k) AS x FROM UNNEST([3]) AS k"
    assert list(warehouse.query(sql).rows[0]["x"].values()) == [3, 3]


def test_a_struct_type_with_anonymous_fields(warehouse: FakeWarehouse) -> None:
    result = warehouse.query("SELECT CAST(NULL AS STRUCT<INT64, STRUCT<STRING, INT64>>) AS s")
    assert result.rows == [{"s": None}]
    assert [f.type for f in result.schema[0].fields] == [FieldType.INTEGER, FieldType.RECORD]
    sql = "SELECT CAST(NULL AS STRUCT<INT64, INT64>) IN UNNEST([(1, 2), (3, 4)]) AS hit"
    assert warehouse.query(sql).rows == [{"hit": None}]
