"""BigQuery query forms sqlglot + DuckDB got wrong or refused, with the results BigQuery's
documentation gives: KEYS/AEAD encryption, PIVOT, UPDATE of struct fields, pipe SET/DROP and
DELETE without FROM."""

from __future__ import annotations

import json

import pytest

from fakes.bigquery.engine import BigQueryEngine
from harness.ports import InvalidRequestError, QueryResult
from harness.schema.spec import DatasetSpec

P = "test-project"


@pytest.fixture
def run(engine: BigQueryEngine):  # type: ignore[no-untyped-def]
    engine.create_dataset(P, DatasetSpec(dataset_id="ds"))

    def query(sql: str) -> QueryResult:
        return engine.query(P, sql, default_dataset="ds")

    return query


def values(result: QueryResult) -> list[tuple[object, ...]]:
    return [tuple(row.values()) for row in result.rows]


# ----------------------------------------------------------------------------- KEYS and AEAD


def test_aead_round_trip_with_a_new_keyset(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "WITH k AS (SELECT KEYS.NEW_KEYSET('AEAD_AES_GCM_256') AS keyset) "
        "SELECT AEAD.DECRYPT_STRING(keyset, AEAD.ENCRYPT(keyset, 'plaintext', 'aad'), 'aad'), "
        "AEAD.DECRYPT_BYTES(keyset, AEAD.ENCRYPT(keyset, b'\\x00\\x01', b'aad'), b'aad') FROM k"
    )
    assert [f.name for f in result.schema] == ["f0_", "f1_"]
    assert values(result) == [("plaintext", b"\x00\x01")]


def test_aead_refuses_other_additional_data_and_safe_returns_null(run) -> None:  # type: ignore[no-untyped-def]
    sql = (
        "WITH k AS (SELECT KEYS.NEW_KEYSET('AEAD_AES_GCM_256') AS keyset) "
        "SELECT {f}AEAD.DECRYPT_STRING(keyset, AEAD.ENCRYPT(keyset, 'plaintext', 'aad'), 'other') FROM k"
    )
    with pytest.raises(InvalidRequestError, match="decryption failed"):
        run(sql.format(f=""))
    assert values(run(sql.format(f="SAFE."))) == [(None,)]


def test_keysets_rotate_and_round_trip_through_json(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "WITH k AS (SELECT KEYS.ROTATE_KEYSET(KEYS.NEW_KEYSET('AEAD_AES_GCM_256'), "
        "'AEAD_AES_GCM_256') AS keyset) "
        "SELECT KEYS.KEYSET_LENGTH(keyset), KEYS.KEYSET_TO_JSON(keyset), "
        "KEYS.KEYSET_FROM_JSON(KEYS.KEYSET_TO_JSON(keyset)) = keyset FROM k"
    )
    length, text, same = values(result)[0]
    document = json.loads(str(text))
    assert length == 2 and same is True
    assert document["primaryKeyId"] == document["key"][1]["keyId"]
    assert document["key"][0]["keyData"]["typeUrl"] == "type.googleapis.com/google.crypto.tink.AesGcmKey"


def test_deterministic_encryption_is_deterministic(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "WITH k AS (SELECT KEYS.NEW_KEYSET('DETERMINISTIC_AEAD_AES_SIV_CMAC_256') AS keyset) "
        "SELECT DETERMINISTIC_ENCRYPT(keyset, 'x', 'a') = DETERMINISTIC_ENCRYPT(keyset, 'x', 'a'), "
        "DETERMINISTIC_DECRYPT_STRING(keyset, DETERMINISTIC_ENCRYPT(keyset, 'x', 'a'), 'a') FROM k"
    )
    assert values(result) == [(True, "x")]


def test_a_raw_key_of_a_bad_size_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRequestError, match="Unsupported key size: 5 bytes"):
        run("SELECT KEYS.ADD_KEY_FROM_RAW_BYTES(KEYS.NEW_KEYSET('AEAD_AES_GCM_256'), 'AES_GCM', b'12345')")


# -------------------------------------------------------------------------------------- PIVOT

PRODUCE = (
    "(SELECT 'Kale' AS product, 51 AS sales, 'Q1' AS quarter UNION ALL SELECT 'Kale', 23, 'Q2' "
    "UNION ALL SELECT 'Kale', 45, 'Q3' UNION ALL SELECT 'Apple', 77, 'Q1' UNION ALL SELECT 'Apple', 0, 'Q2')"
)


def test_pivot_names_columns_after_the_values(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        f"SELECT * FROM {PRODUCE} PIVOT(SUM(sales) FOR quarter IN ('Q1', 'Q2', 'Q3')) ORDER BY product"
    )
    assert [f.name for f in result.schema] == ["product", "Q1", "Q2", "Q3"]
    assert values(result) == [("Apple", 77, 0, None), ("Kale", 51, 23, 45)]


def test_pivot_aliases_integer_values_and_null(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "SELECT * FROM (SELECT 1 AS g, 10 AS y, 5 AS v UNION ALL SELECT 1, NULL, 7) "
        "PIVOT(SUM(v) AS total, COUNT(*) AS n FOR y IN (10, NULL, 20 AS twenty))"
    )
    assert [f.name for f in result.schema] == [
        "g",
        "total_10",
        "n_10",
        "total_NULL",
        "n_NULL",
        "total_twenty",
        "n_twenty",
    ]
    assert values(result) == [(1, 5, 1, 7, 1, None, 0)]
    single = run("SELECT * FROM (SELECT 10 AS y, 5 AS v) PIVOT(SUM(v) FOR y IN (10))")
    assert [f.name for f in single.schema] == ["_10"]


# ----------------------------------------------------------------------------- UPDATE structs


def test_update_sets_struct_fields_in_place(run) -> None:  # type: ignore[no-untyped-def]
    run(
        "CREATE TABLE ds.inv AS SELECT 'washer' AS product, STRUCT('blue' AS color, "
        "STRUCT(10 AS depth, 5 AS width) AS dims) AS spec"
    )
    result = run("UPDATE ds.inv SET spec.color = 'white', spec.dims.depth = 17 WHERE product = 'washer'")
    assert result.affected_rows == 1
    assert values(run("SELECT spec FROM ds.inv")) == [
        ({"color": "white", "dims": {"depth": 17, "width": 5}},)
    ]


def test_update_of_a_field_of_a_null_struct_fails(run) -> None:  # type: ignore[no-untyped-def]
    run("CREATE TABLE ds.n AS SELECT 1 AS id, CAST(NULL AS STRUCT<a INT64>) AS s")
    with pytest.raises(InvalidRequestError, match="Cannot set field of NULL STRUCT"):
        run("UPDATE ds.n SET s.a = 1 WHERE TRUE")


# ------------------------------------------------------------------------------ pipes, DELETE


def test_pipe_set_and_drop_keep_the_column_order(run) -> None:  # type: ignore[no-untyped-def]
    result = run("FROM (SELECT 1 AS a, 'x' AS b, 3 AS c) |> SET a = a * 10 |> DROP b")
    assert [f.name for f in result.schema] == ["a", "c"]
    assert values(result) == [(10, 3)]


def test_delete_without_from(run) -> None:  # type: ignore[no-untyped-def]
    run("CREATE TABLE ds.t AS SELECT x FROM UNNEST([1, 2, 3]) AS x")
    assert run("DELETE ds.t WHERE x > 1").affected_rows == 2
    assert values(run("SELECT x FROM ds.t")) == [(1,)]


# ----------------------------------------------------------------------- functions and TVFs


def test_dataset_functions_and_table_functions(run) -> None:  # type: ignore[no-untyped-def]
    run("CREATE TABLE ds.items AS SELECT n AS id, n * 10 AS price FROM UNNEST([1, 2, 3]) AS n")
    assert run("CREATE FUNCTION ds.plus_tax(x INT64) RETURNS FLOAT64 AS (x * 1.5)").statement_type == (
        "CREATE_FUNCTION"
    )
    run(
        "CREATE TABLE FUNCTION ds.cheap(limit_price INT64) AS "
        "(SELECT id, price FROM ds.items WHERE price <= limit_price)"
    )
    result = run("SELECT id, plus_tax(price) AS gross FROM cheap(20) ORDER BY id")
    assert values(result) == [(1, 15.0), (2, 30.0)]
    run("CREATE TABLE FUNCTION ds.twice(t ANY TABLE) AS (SELECT a.id FROM t AS a JOIN t AS b USING (id))")
    assert values(run("SELECT * FROM twice(TABLE ds.items) ORDER BY id")) == [(1,), (2,), (3,)]


def test_pipe_call_passes_the_input_table_first(run) -> None:  # type: ignore[no-untyped-def]
    run("CREATE TABLE FUNCTION ds.tagged(t ANY TABLE, tag STRING) AS (SELECT *, tag AS label FROM t)")
    result = run("FROM (SELECT 1 AS x) |> CALL tagged('a') |> WHERE x = 1")
    assert [f.name for f in result.schema] == ["x", "label"]
    assert values(result) == [(1, "a")]
