"""Aggregate calls through the fake, with the results BigQuery's documentation gives.

Sources are the GoogleSQL for BigQuery reference pages: "Aggregate function calls" (HAVING MAX /
HAVING MIN), "Aggregate functions", "Statistical aggregate functions" (CORR, COVAR_*, VAR_*,
STDDEV_*: NULL below two non-NULL pairs or values, NaN for a NaN or infinite input), "HLL_COUNT
functions", "Query syntax" (LIMIT) and "Data types" (no nested arrays; NaN comparisons).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.ports import InvalidRequestError, QueryParam

PRECIPITATION = """
WITH Precipitation AS (
  SELECT 2009 AS year, 'spring' AS season, 3 AS inches UNION ALL
  SELECT 2001, 'winter', 4 UNION ALL
  SELECT 2003, 'fall', 1 UNION ALL
  SELECT 2002, 'spring', 4 UNION ALL
  SELECT 2005, 'summer', 1
)
"""


@pytest.fixture
def wh() -> Iterator[FakeWarehouse]:
    warehouse = FakeWarehouse.in_memory(ManualClock())
    yield warehouse
    warehouse.engine.close()  # its prepared database goes back for the next test


def value(wh: FakeWarehouse, sql: str, params: dict[str, Any] | None = None) -> Any:
    return next(iter(wh.query(sql, params).rows[0].values()))


def test_having_max_and_min_restrict_the_rows_an_aggregate_sees(wh: FakeWarehouse) -> None:
    # Aggregate function calls > HAVING MAX and HAVING MIN clause: the years with the most inches.
    row = wh.query(
        PRECIPITATION + "SELECT ARRAY_AGG(year HAVING MAX inches ORDER BY year) AS wettest, "
        "SUM(year HAVING MIN inches) AS driest, COUNT(* HAVING MAX inches) AS n FROM Precipitation"
    ).rows[0]
    assert row == {"wettest": [2001, 2002], "driest": 2003 + 2005, "n": 2}


def test_having_max_per_group_ignores_nulls_and_a_constant_key_keeps_every_row(wh: FakeWarehouse) -> None:
    rows = wh.query(
        "SELECT g, MAX(x HAVING MAX h) AS top, COUNT(x HAVING MIN 1) AS all_rows "
        "FROM UNNEST([STRUCT('a' AS g, 1 AS x, 5 AS h), ('a', 2, NULL), ('b', 3, NULL)]) "
        "GROUP BY g ORDER BY g"
    ).rows
    assert rows == [{"g": "a", "top": 1, "all_rows": 2}, {"g": "b", "top": None, "all_rows": 1}]


def test_min_and_max_are_nan_when_a_value_is(wh: FakeWarehouse) -> None:
    # Aggregate functions > MIN / MAX: "If any of the input values is NaN, returns NaN".
    row = wh.query(
        "SELECT MIN(x) AS lo, MAX(x) AS hi FROM UNNEST([1.0, CAST('nan' AS FLOAT64), -2.0]) AS x"
    ).rows[0]
    assert math.isnan(row["lo"]) and math.isnan(row["hi"])


def test_nan_is_not_greater_than_a_number(wh: FakeWarehouse) -> None:
    assert value(wh, "SELECT COUNT(*) FROM UNNEST([1.0, CAST('nan' AS FLOAT64)]) AS x WHERE x > 0") == 1


def test_statistics_follow_the_documented_null_and_nan_rules(wh: FakeWarehouse) -> None:
    row = wh.query(
        "SELECT CORR(y, x) AS corr_one_pair, VAR_POP(CAST('inf' AS FLOAT64)) AS var_inf, "
        "VAR_SAMP(x) AS var_one_row, COVAR_POP(y, x) AS covar FROM UNNEST([STRUCT(1.0 AS y, 2.0 AS x)])"
    ).rows[0]
    assert row["corr_one_pair"] is None and row["var_one_row"] is None
    assert math.isnan(row["var_inf"])
    assert row["covar"] == 0.0


def test_tuples_beside_a_struct_in_an_array_are_structs(wh: FakeWarehouse) -> None:
    total = value(wh, "SELECT SUM(y * x) FROM UNNEST([STRUCT(1 AS y, 2 AS x), (3, 4), (5, 6)])")
    assert total == 2 + 12 + 30


def test_string_agg_of_bytes_and_null_separators(wh: FakeWarehouse) -> None:
    assert value(wh, "SELECT STRING_AGG(b, b'|' ORDER BY b) FROM UNNEST([b'a', NULL, b'c']) AS b") == b"a|c"
    with pytest.raises(InvalidRequestError, match="Illegal NULL separator in STRING_AGG"):
        wh.query("SELECT STRING_AGG(s, @sep) FROM UNNEST(['a', 'b']) AS s", {"sep": None})


def test_sum_of_int64_fails_when_the_total_leaves_int64(wh: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError, match="INT64"):
        wh.query("SELECT SUM(x) FROM UNNEST([9223372036854775807, 1]) AS x")
    assert value(wh, "SELECT SUM(x) AS total FROM UNNEST([1, 2]) AS x HAVING total > 0") == 3


def test_array_agg_respect_nulls_keeps_the_null_which_a_result_refuses(wh: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError, match="Array cannot have a null element"):
        wh.query("SELECT ARRAY_AGG(x RESPECT NULLS) FROM UNNEST([1, NULL]) AS x")


def test_hll_count_counts_distinct_values_across_merged_sketches(wh: FakeWarehouse) -> None:
    # HLL_COUNT functions: INIT builds a sketch per group, MERGE / EXTRACT give the cardinality.
    merged = value(
        wh,
        "SELECT HLL_COUNT.MERGE(s) FROM ("
        "SELECT HLL_COUNT.INIT(x) AS s FROM UNNEST([1, 2, 3]) AS x UNION ALL "
        "SELECT HLL_COUNT.INIT(x) FROM UNNEST([3, 4]) AS x)",
    )
    assert merged == 4
    assert value(wh, "SELECT HLL_COUNT.EXTRACT(HLL_COUNT.INIT(x)) FROM UNNEST(['a', 'b', 'a']) AS x") == 2
    assert value(wh, "SELECT HLL_COUNT.EXTRACT(CAST(NULL AS BYTES))") == 0
    with pytest.raises(InvalidRequestError, match=r"Invalid sketch in HLL_COUNT\.EXTRACT"):
        wh.query("SELECT HLL_COUNT.EXTRACT(b'')")


def test_a_null_limit_parameter_is_an_error(wh: FakeWarehouse) -> None:
    # A NULL INT64 parameter (a bare None is a NULL STRING, as the client types it).
    with pytest.raises(InvalidRequestError, match="Limit requires non-null count and offset"):
        wh.query("SELECT x FROM UNNEST([1, 2]) AS x LIMIT @n", {"n": QueryParam("INT64", None)})
    assert wh.query("SELECT x FROM UNNEST([1, 2]) AS x ORDER BY x LIMIT @n", {"n": 1}).rows == [{"x": 1}]


def test_an_array_of_arrays_is_refused(wh: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError, match="nested arrays are not supported"):
        wh.query("SELECT [[1]] AS a")
