"""BigQuery multi-statement scripts on the fake: the examples of BigQuery's procedural-language and
user-defined-function documentation, with the results the documentation gives."""

from __future__ import annotations

import pytest

from fakes.bigquery import exceptions as bq
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


def test_a_script_returns_its_last_select_as_a_script_job(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "DECLARE x INT64 DEFAULT 0;\nLOOP\n  SET x = x + 1;\n  IF x >= 10 THEN LEAVE; "
        "END IF;\nEND LOOP;\nSELECT x;"
    )
    assert result.statement_type == "SCRIPT"
    assert [f.name for f in result.schema] == ["x"]
    assert values(result) == [(10,)]


def test_while_repeat_continue_and_set_of_several_variables(run) -> None:  # type: ignore[no-untyped-def]
    assert values(
        run("DECLARE x INT64 DEFAULT 0; REPEAT SET x = x + 1; SELECT x; UNTIL x >= 3 END REPEAT;")
    ) == [(3,)]
    script = """
        DECLARE i INT64 DEFAULT 0;
        DECLARE odd INT64 DEFAULT 0;
        WHILE i < 6 DO
          SET i = i + 1;
          IF MOD(i, 2) = 0 THEN CONTINUE; END IF;
          SET odd = odd + i;
        END WHILE;
        SELECT odd"""
    assert values(run(script)) == [(9,)]
    assert values(
        run(
            "DECLARE a INT64; DECLARE b STRING; DECLARE c BOOL; SET (a, b, c) = (1 + 3, "
            "'foo', false); SELECT a, b, c"
        )
    ) == [(4, "foo", False)]


def test_for_in_iterates_the_rows_of_a_query(run) -> None:  # type: ignore[no-untyped-def]
    script = """
        DECLARE total INT64 DEFAULT 0;
        FOR record IN (SELECT n, n * 10 AS tens FROM UNNEST([1, 2, 3]) AS n) DO
          SET total = total + record.tens;
        END FOR;
        SELECT total"""
    assert values(run(script)) == [(60,)]


def test_exception_handler_sees_the_error_message(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "BEGIN\n  SELECT 1/0;\nEXCEPTION WHEN ERROR THEN\n  SELECT @@error.message AS message;\nEND;"
    )
    assert "division by zero" in values(result)[0][0]


def test_raise_fails_the_script_with_its_message(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRequestError) as info:
        run(
            "DECLARE n INT64 DEFAULT 3; IF n > 2 THEN RAISE USING MESSAGE = CONCAT('too "
            "many: ', CAST(n AS STRING)); END IF;"
        )
    assert isinstance(info.value, bq.ScriptRaised) and str(info.value) == "too many: 3"


def test_temporary_sql_functions_typed_templated_and_aggregate(run) -> None:  # type: ignore[no-untyped-def]
    typed = run(
        "CREATE TEMP FUNCTION AddFourAndDivide(x INT64, y INT64) RETURNS FLOAT64 AS ((x + 4) / y);\n"
        "SELECT val, AddFourAndDivide(val, 2) FROM UNNEST([2, 3, 5, 8]) AS val ORDER BY val"
    )
    assert values(typed) == [(2, 3.0), (3, 3.5), (5, 4.5), (8, 6.0)]
    templated = run(
        "CREATE TEMP FUNCTION addFourAndDivideAny(x ANY TYPE, y ANY TYPE) AS ((x + 4) / y);\n"
        "SELECT addFourAndDivideAny(3, 4) AS integer_input, addFourAndDivideAny(1.59, "
        "3.14) AS floating_point_input"
    )
    assert values(templated)[0][0] == 1.75
    assert values(templated)[0][1] == pytest.approx(1.7802547770700636)
    aggregate = run(
        "CREATE TEMP AGGREGATE FUNCTION ScaledSum(dividend FLOAT64, divisor FLOAT64 NOT AGGREGATE)\n"
        "RETURNS FLOAT64 AS (SUM(dividend) / divisor);\n"
        "SELECT ScaledSum(col1, 2) AS scaled_sum FROM (SELECT 1 AS col1 UNION ALL SELECT "
        "3 UNION ALL SELECT 5)"
    )
    assert values(aggregate) == [(4.5,)]


def test_a_temporary_function_lives_only_in_its_script(run) -> None:  # type: ignore[no-untyped-def]
    run("CREATE TEMP FUNCTION twice(x INT64) AS (2 * x); SELECT twice(2)")
    with pytest.raises(InvalidRequestError):
        run("SELECT twice(2)")


def test_javascript_functions_are_refused_as_a_limit_of_the_fake(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(bq.UnsupportedByFake):
        run("CREATE TEMP FUNCTION f(x FLOAT64) RETURNS FLOAT64 LANGUAGE js AS 'return x;'; SELECT f(1)")


def test_temporary_tables_are_gone_after_the_script(run, engine: BigQueryEngine) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "CREATE TEMP TABLE Example (x INT64, y STRING);\nINSERT INTO Example VALUES (5, "
        "'foo');\nSELECT * FROM Example;"
    )
    assert values(result) == [(5, "foo")]
    assert [d.dataset_id for d in engine.list_datasets(P)] == ["ds"]


def test_a_single_statement_with_a_trailing_semicolon_is_not_a_script(run) -> None:  # type: ignore[no-untyped-def]
    assert run("SELECT 1 AS one;").statement_type == "SELECT"
