"""Window (analytic) function calls through the fake, against BigQuery's documentation.

Sources: the GoogleSQL for BigQuery reference ("<page> › <function>"); "rule" means the value
follows from the page's text rather than a worked example. The rewrites under test are
:mod:`fakes.bigquery.windows` and :mod:`fakes.bigquery.window_aggregates`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from fakes.bigquery import hll
from fakes.bigquery.exceptions import LagDefaultNotConstant, UnsupportedByFake, WindowFramingNotAllowed
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.ports import InvalidRequestError

INT64_MAX = 9223372036854775807


@pytest.fixture
def wh() -> Iterator[FakeWarehouse]:
    warehouse = FakeWarehouse.in_memory(ManualClock())
    yield warehouse
    warehouse.engine.close()  # its prepared database goes back for the next test


def _rows(wh: FakeWarehouse, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return wh.query(sql, params).rows


def test_percentile_cont_ignores_nulls_by_default(wh: FakeWarehouse) -> None:
    """Navigation functions › PERCENTILE_CONT: the documented example, IGNORE NULLS."""
    rows = _rows(
        wh,
        "SELECT PERCENTILE_CONT(x, 0) OVER () AS min, PERCENTILE_CONT(x, 0.01) OVER () AS p1, "
        "PERCENTILE_CONT(x, 0.5) OVER () AS median, PERCENTILE_CONT(x, 0.9) OVER () AS p90, "
        "PERCENTILE_CONT(x, 1) OVER () AS max FROM UNNEST([0, 3, NULL, 1, 2]) AS x LIMIT 1",
    )
    assert rows == [
        {"min": 0.0, "p1": pytest.approx(0.03), "median": 1.5, "p90": pytest.approx(2.7), "max": 3.0}
    ]


def test_percentile_cont_respect_nulls_puts_nulls_first(wh: FakeWarehouse) -> None:
    """Navigation functions › PERCENTILE_CONT: the documented example, RESPECT NULLS."""
    rows = _rows(
        wh,
        "SELECT PERCENTILE_CONT(x, 0 RESPECT NULLS) OVER () AS min, "
        "PERCENTILE_CONT(x, 0.01 RESPECT NULLS) OVER () AS p1, "
        "PERCENTILE_CONT(x, 0.5 RESPECT NULLS) OVER () AS median, "
        "PERCENTILE_CONT(x, 0.9 RESPECT NULLS) OVER () AS p90, "
        "PERCENTILE_CONT(x, 1 RESPECT NULLS) OVER () AS max FROM UNNEST([0, 3, NULL, 1, 2]) AS x LIMIT 1",
    )
    assert rows == [{"min": None, "p1": 0.0, "median": 1.0, "p90": pytest.approx(2.6), "max": 3.0}]


def test_range_frame_near_the_int64_limit_is_computed(wh: FakeWarehouse) -> None:
    """Window function calls › RANGE: the frame holds the rows whose key is within the offset;
    BigQuery computes the bounds exactly (rule), where DuckDB's INT64 arithmetic overflows."""
    rows = _rows(
        wh,
        "SELECT k, COUNT(*) OVER (ORDER BY k RANGE BETWEEN 9223372036854775807 PRECEDING "
        "AND 2 FOLLOWING) AS n "
        "FROM UNNEST([9223372036854775807, 5, -9223372036854775807]) AS k ORDER BY k",
    )
    assert [(r["k"], r["n"]) for r in rows] == [(-INT64_MAX, 1), (5, 1), (INT64_MAX, 2)]


_NON_FINITE_KEYS = (
    "FROM UNNEST([STRUCT(CAST(NULL AS FLOAT64) AS k, 1 AS v), (NULL, 10), (CAST('-inf' AS FLOAT64), 9), "
    "(CAST('-inf' AS FLOAT64), 14), (CAST('nan' AS FLOAT64), 4), (CAST('nan' AS FLOAT64), 6), (1, 3), "
    "(2, 8), (CAST('inf' AS FLOAT64), 5), (CAST('inf' AS FLOAT64), 7)])"
)


@pytest.mark.parametrize(
    "over",
    [
        "OVER (ORDER BY k RANGE BETWEEN UNBOUNDED PRECEDING AND {n} PRECEDING)",
        "OVER (ORDER BY k DESC RANGE BETWEEN UNBOUNDED PRECEDING AND {n} PRECEDING)",
        "OVER (w RANGE BETWEEN {n} PRECEDING AND {n} FOLLOWING)",
    ],
)
def test_a_range_offset_frame_of_a_non_finite_key_holds_its_peers_on_every_run(
    wh: FakeWarehouse, over: str
) -> None:
    """Window function calls › RANGE: a row's bound is ``key ± offset``, which for ±inf and NaN is
    the key itself (rule: floating point semantics), so the frame ends at the row's peers. DuckDB's
    search sometimes dropped them when NULL keys precede and two frames differ only in their
    offset (about one run in twenty), so the query runs many times; every run must give the one
    answer."""
    window = " WINDOW w AS (ORDER BY k)" if "(w " in over else ""
    sql = (
        f"SELECT k, v, SUM(v) {over.format(n=1)} AS one, SUM(v) {over.format(n=2)} AS two "
        f"{_NON_FINITE_KEYS}{window}"
    )
    answers = set()
    for _ in range(120):
        rows = _rows(wh, sql)
        answers.add(
            tuple(
                sorted(
                    (str(r["k"]), r["v"], r["one"], r["two"]) for r in rows if not math.isfinite(r["k"] or 0)
                )
            )
        )
    assert len(answers) == 1
    (answer,) = answers
    by_key = {(key, v): (one, two) for key, v, one, two in answer}
    if "FOLLOWING" in over:  # each non-finite row's frame is its peers alone
        assert (
            by_key[("-inf", 9)] == (23, 23)
            and by_key[("nan", 4)] == (10, 10)
            and by_key[("inf", 7)] == (12, 12)
        )
    elif "DESC" in over:  # +inf, ..., -inf, NaN, NULL
        assert (
            by_key[("inf", 5)] == (12, 12)
            and by_key[("-inf", 14)] == (46, 46)
            and by_key[("nan", 6)] == (56, 56)
        )
    else:  # NULL, NaN, -inf, ..., +inf
        assert (
            by_key[("nan", 4)] == (21, 21)
            and by_key[("-inf", 9)] == (44, 44)
            and by_key[("inf", 5)] == (67, 67)
        )


def test_nan_orders_before_every_other_value(wh: FakeWarehouse) -> None:
    """Data types › Floating point semantics: ordering is NULL, NaN, -inf, finite values, +inf."""
    rows = _rows(
        wh,
        "SELECT x, RANK() OVER (ORDER BY x) AS r "
        "FROM UNNEST([CAST('inf' AS FLOAT64), CAST('nan' AS FLOAT64), -1.5, CAST('-inf' AS FLOAT64)]) AS x",
    )
    ranks = {("nan" if math.isnan(r["x"]) else r["x"]): r["r"] for r in rows}
    assert ranks == {"nan": 1, -math.inf: 2, -1.5: 3, math.inf: 4}


def test_window_sum_of_int64_refuses_to_overflow(wh: FakeWarehouse) -> None:
    """Aggregate functions › SUM: "Returns an error if the result overflows" (rule)."""
    with pytest.raises(InvalidRequestError, match="int64 overflow"):
        _rows(wh, "SELECT SUM(x) OVER () AS s FROM UNNEST([9223372036854775807, 10]) AS x")


def test_numbering_and_navigation_functions_take_no_frame(wh: FakeWarehouse) -> None:
    """Window function calls: a window frame clause is not allowed for numbering and navigation
    functions such as LAG (rule)."""
    with pytest.raises(WindowFramingNotAllowed, match="analytic function lag"):
        _rows(
            wh,
            "SELECT LAG(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM UNNEST([1, 2]) x",
        )


def test_lag_default_must_be_constant(wh: FakeWarehouse) -> None:
    """Navigation functions › LAG: default_expression "must be a constant expression" (rule)."""
    with pytest.raises(LagDefaultNotConstant):
        _rows(wh, "SELECT LAG(x, 1, x) OVER (ORDER BY x) FROM UNNEST([1, 2]) AS x")


def test_negative_frame_offset_from_a_parameter_is_refused(wh: FakeWarehouse) -> None:
    """Window function calls › frame: the offset must be a non-negative number (rule)."""
    with pytest.raises(InvalidRequestError, match="must be non-negative, but was -1"):
        _rows(wh, "SELECT SUM(x) OVER (ORDER BY x ROWS @n PRECEDING) FROM UNNEST([1, 2]) AS x", {"n": -1})


def test_corr_of_a_single_pair_is_null(wh: FakeWarehouse) -> None:
    """Statistical aggregate functions › CORR: fewer than two non-NULL pairs give NULL (rule)."""
    rows = _rows(wh, "SELECT CORR(y, x) OVER () AS c FROM UNNEST([STRUCT(1.0 AS y, 5.0 AS x)])")
    assert rows == [{"c": None}]


def test_approx_quantiles_over_a_window(wh: FakeWarehouse) -> None:
    """Approximate aggregate functions › APPROX_QUANTILES: the documented [1, 5, 10] example."""
    rows = _rows(
        wh,
        "SELECT APPROX_QUANTILES(x, 2) OVER () AS q "
        "FROM UNNEST([1, 1, 1, 4, 5, 6, 7, 8, 9, 10]) AS x LIMIT 1",
    )
    assert rows == [{"q": [1, 5, 10]}]


# ------------------------------------------------------------------ HLL++ sketches over a window


def _sketch(*sparse_values: int, num_values: int = 3) -> bytes:
    """A sparse BigQuery HLL++ sketch (precision 15, sparse precision 25) holding ``sparse_values``."""
    sketch = hll.Sketch(num_values=num_values, precision=15, sparse_precision=25)
    for value in sparse_values:
        sketch.sparse[value] = value
    return hll.serialize(sketch)


def test_hll_merge_partial_over_a_window_unions_the_sketches(wh: FakeWarehouse) -> None:
    """HyperLogLog++ functions › HLL_COUNT.MERGE_PARTIAL / MERGE: the merged sketch counts the
    union; NULL sketches are skipped (rule)."""
    a, b = _sketch(10, 20, 30), _sketch(20, 40, num_values=2)
    rows = _rows(
        wh,
        "SELECT HLL_COUNT.MERGE(s) OVER () AS n, HLL_COUNT.MERGE_PARTIAL(s) OVER () AS merged "
        "FROM UNNEST([@a, CAST(NULL AS BYTES), @b]) AS s LIMIT 1",
        {"a": a, "b": b},
    )
    assert rows[0]["n"] == 4
    merged = hll.parse(rows[0]["merged"])
    assert (sorted(merged.sparse), merged.num_values) == ([10, 20, 30, 40], 5)


def test_hll_merge_of_only_null_sketches_is_zero(wh: FakeWarehouse) -> None:
    """HyperLogLog++ functions › HLL_COUNT.MERGE: "If the input is NULL, returns 0" (rule)."""
    rows = _rows(wh, "SELECT HLL_COUNT.MERGE(s) OVER () AS n FROM UNNEST([CAST(NULL AS BYTES)]) AS s")
    assert rows == [{"n": 0}]


def test_a_bad_sketch_is_refused() -> None:
    with pytest.raises(hll.SketchError, match="Invalid or incompatible sketch"):
        hll.merge_partial([b"\x08p"])


def test_sketch_init_over_a_window_is_a_limit_of_the_fake(wh: FakeWarehouse) -> None:
    """HLL_COUNT.INIT needs BigQuery's hashing: the fake says it cannot, as its own limit."""
    assert _rows(wh, "SELECT HLL_COUNT.INIT(x) OVER () AS s FROM UNNEST([CAST(NULL AS INT64)]) AS x") == [
        {"s": None}
    ]
    with pytest.raises(UnsupportedByFake, match="not supported by the BigQuery fake"):
        _rows(wh, "SELECT HLL_COUNT.INIT(x) OVER () AS s FROM UNNEST([1]) AS x")


def test_und_ci_collation_ranks_case_insensitively(wh: FakeWarehouse) -> None:
    """Collation › 'und:ci' compares strings case-insensitively (rule)."""
    rows = _rows(
        wh, "SELECT x, RANK() OVER (ORDER BY x COLLATE 'und:ci') AS r FROM UNNEST(['b', 'A', 'a']) AS x"
    )
    assert sorted((r["x"], r["r"]) for r in rows) == [("A", 1), ("a", 1), ("b", 3)]
