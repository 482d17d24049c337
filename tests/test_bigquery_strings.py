"""STRING / BYTES functions, array subscripts and array functions, quantified LIKE and ``SAFE.``
through the fake, against BigQuery's documentation ("<page> › <function>"; "rule" means the value
follows from the section's text rather than a worked example).

These are the rewrites of :mod:`fakes.bigquery.function_passes`; the GoogleSQL compliance corpus
(``harness conformance``) covers them more widely.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from fakes.bigquery.exceptions import FunctionOutOfRange
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock

STR = "String functions"
ARR = "Array functions"
MATH = "Mathematical functions"
OPS = "Operators"
QUERY = "Query syntax"

ROWS = [
    # SUBSTR counts a negative position from the end; past either end it is clamped.
    ("SUBSTR('apple', 2)", "pple", f"{STR} › SUBSTR"),
    ("SUBSTR('apple', 2, 2)", "pp", f"{STR} › SUBSTR"),
    ("SUBSTR('apple', -2)", "le", f"{STR} › SUBSTR"),
    ("SUBSTR('apple', 1, 123)", "apple", f"{STR} › SUBSTR"),
    ("SUBSTR('apple', 123)", "", f"{STR} › SUBSTR"),
    ("SUBSTR('abc', 0, 1)", "a", f"{STR} › SUBSTR (rule: position 0 starts at 1)"),
    # INSTR with a position and an occurrence, searching backwards from a negative position.
    ("INSTR('abcabc', 'bc', 3)", 5, f"{STR} › INSTR"),
    ("INSTR('abcabc', 'bc', -1, 1)", 5, f"{STR} › INSTR"),
    ("INSTR('abcabc', 'bc', -1, 2)", 2, f"{STR} › INSTR"),
    ("INSTR('banana', 'an', 1, 2)", 4, f"{STR} › INSTR"),
    ("INSTR('banana', 'xx')", 0, f"{STR} › INSTR"),
    # SPLIT of an empty value is one empty element.
    ("SPLIT('', ',')", [""], f"{STR} › SPLIT (rule)"),
    ("SPLIT('a,b', ',')", ["a", "b"], f"{STR} › SPLIT"),
    ("SPLIT_SUBSTR('www.abc.xyz.com', '.', 2)", "abc.xyz.com", f"{STR} › SPLIT_SUBSTR"),
    ("SPLIT_SUBSTR('www.abc.xyz.com', '.', 1, 2)", "www.abc", f"{STR} › SPLIT_SUBSTR"),
    ("SPLIT_SUBSTR('www.abc.xyz.com', '.', -1, 1)", "com", f"{STR} › SPLIT_SUBSTR"),
    ("UNICODE('')", 0, f"{STR} › UNICODE (rule: 0 for an empty STRING)"),
    ("CODE_POINTS_TO_STRING([65, 255, 513, 1024])", "AÿȁЀ", f"{STR} › CODE_POINTS_TO_STRING"),
    # BYTES arguments: one byte is one unit; LOWER / UPPER touch ASCII letters only.
    ("LOWER(b'FOO\\xC0')", b"foo\xc0", f"{STR} › LOWER (rule: bytes over 127 left intact)"),
    ("UPPER(b'foo')", b"FOO", f"{STR} › UPPER"),
    ("SUBSTR(b'\\xE2\\x82\\xAC', 2, 1)", b"\x82", f"{STR} › SUBSTR (rule: BYTES count bytes)"),
    ("STRPOS(b'abc', b'c')", 3, f"{STR} › STRPOS"),
    ("STARTS_WITH(b'bar', b'b')", True, f"{STR} › STARTS_WITH"),
    ("TRIM(b'  x  ')", b"x", f"{STR} › TRIM"),
    ("REPLACE(b'abc', b'b', b'xy')", b"axyc", f"{STR} › REPLACE"),
    ("SPLIT(b'a,b', b',')", [b"a", b"b"], f"{STR} › SPLIT"),
    ("LPAD(b'abc', 5, b'-')", b"--abc", f"{STR} › LPAD"),
    ("REGEXP_EXTRACT(b'foo123', b'[0-9]+')", b"123", f"{STR} › REGEXP_EXTRACT"),
    ("CAST(b'\\xE2\\x82\\xAC' AS STRING)", "€", "Conversion functions › CAST AS STRING (UTF-8)"),
    # Array subscripts and functions.
    ("[1, 2, 3][OFFSET(1)]", 2, f"{OPS} › Array subscript operator"),
    ("[1, 2, 3][ORDINAL(1)]", 1, f"{OPS} › Array subscript operator"),
    ("[1, 2, 3][SAFE_OFFSET(3)]", None, f"{OPS} › Array subscript operator"),
    ("[1, 2, 3][SAFE_OFFSET(-1)]", None, f"{OPS} › Array subscript operator (rule)"),
    ("ARRAY_IS_DISTINCT([1, 2, 3])", True, f"{ARR} › ARRAY_IS_DISTINCT"),
    ("ARRAY_IS_DISTINCT([1, 1, 1])", False, f"{ARR} › ARRAY_IS_DISTINCT"),
    ("ARRAY_IS_DISTINCT([1, 2, NULL])", True, f"{ARR} › ARRAY_IS_DISTINCT"),
    ("ARRAY_IS_DISTINCT([1, 1, NULL])", False, f"{ARR} › ARRAY_IS_DISTINCT"),
    ("ARRAY_IS_DISTINCT([1, NULL, NULL])", False, f"{ARR} › ARRAY_IS_DISTINCT"),
    ("ARRAY_FIRST(['a', 'b', 'c'])", "a", f"{ARR} › ARRAY_FIRST"),
    ("ARRAY_LAST(['a', 'b', 'c'])", "c", f"{ARR} › ARRAY_LAST"),
    ("SAFE.ARRAY_FIRST(ARRAY<INT64>[])", None, f"{ARR} › ARRAY_FIRST (rule: error on an empty array)"),
    # LIKE ANY / SOME / ALL.
    ("'apple' LIKE ANY ('a%', '%z')", True, f"{OPS} › Quantified LIKE operator"),
    ("'apple' LIKE ALL ('a%', '%z')", False, f"{OPS} › Quantified LIKE operator"),
    ("'apple' NOT LIKE ANY ('a%', '%z')", True, f"{OPS} › Quantified LIKE operator"),
    ("'apple' LIKE ANY UNNEST(['%p%', 'x'])", True, f"{OPS} › Quantified LIKE operator"),
    ("'apple' LIKE ANY UNNEST(ARRAY<STRING>[])", False, f"{OPS} › Quantified LIKE operator (rule)"),
    ("'apple' LIKE ANY ('z%', NULL)", None, f"{OPS} › Quantified LIKE operator (rule)"),
    ("b'apple' LIKE ANY (b'a%', b'b%')", True, f"{OPS} › Quantified LIKE operator"),
    (
        "CAST('nan' AS FLOAT64) BETWEEN 0 AND CAST('inf' AS FLOAT64)",
        False,
        f"{OPS} › Comparison operators (NaN)",
    ),
    ("1.0 BETWEEN 0 AND CAST('nan' AS FLOAT64)", False, f"{OPS} › Comparison operators (NaN)"),
    ("1.0 BETWEEN 0 AND 2", True, f"{OPS} › BETWEEN"),
    ("SAFE_DIVIDE(1e300, 1e-300)", None, f"{MATH} › SAFE_DIVIDE (rule: NULL on overflow)"),
    # SAFE. turns these errors into NULL.
    ("SAFE.LEFT('abc', -1)", None, f"{STR} › LEFT (rule: error for a negative length)"),
    ("SAFE.CSC(0)", None, f"{MATH} › CSC (CSC(0) is an error)"),
    ("SAFE.ERROR('x')", None, "Debugging functions › ERROR with SAFE."),
]

ERRORS = [
    ("SELECT [1, 2, 3][OFFSET(3)] AS v", "Array index 3 is out of bounds"),
    ("SELECT [1, 2, 3][ORDINAL(0)] AS v", "Array index 0 is out of bounds"),
    ("SELECT SUBSTR('abc', 1, -1) AS v", "Third argument in SUBSTR() cannot be negative"),
    ("SELECT LEFT('abc', -1) AS v", "Second argument in LEFT() cannot be negative"),
    ("SELECT LPAD('abc', -1) AS v", "Second argument (output size) for LPAD/RPAD cannot be negative"),
    ("SELECT RPAD('abc', 1000000000) AS v", "Output of LPAD/RPAD exceeds max allowed output size of 1MB"),
    ("SELECT REPEAT('abc', 1000000000) AS v", "Output of REPEAT exceeds max allowed output size of 1MB"),
    ("SELECT GENERATE_ARRAY(1, 5, 0) AS v", "Sequence step cannot be 0."),
    ("SELECT ARRAY_FIRST(ARRAY<INT64>[]) AS v", "ARRAY_FIRST cannot get the first element of an empty array"),
]


@pytest.fixture
def wh() -> Iterator[FakeWarehouse]:
    warehouse = FakeWarehouse.in_memory(ManualClock())
    yield warehouse
    warehouse.engine.close()  # its prepared database goes back for the next test


def _run(wh: FakeWarehouse, sql: str) -> Any:
    query = sql if re.match(r"\s*SELECT\b", sql, re.IGNORECASE) else f"SELECT {sql} AS v"
    return wh.query(query).rows[0]["v"]


@pytest.mark.parametrize(("sql", "expected", "source"), ROWS, ids=[r[0] for r in ROWS])
def test_function_matches_bigquery_documentation(
    wh: FakeWarehouse, sql: str, expected: Any, source: str
) -> None:
    actual = _run(wh, sql)
    assert type(actual) is type(expected) and actual == expected, f"{sql}: got {actual!r} ({source})"


@pytest.mark.parametrize(("sql", "message"), ERRORS, ids=[e[1] for e in ERRORS])
def test_out_of_range_arguments_raise_bigquerys_error(wh: FakeWarehouse, sql: str, message: str) -> None:
    with pytest.raises(FunctionOutOfRange) as raised:
        wh.query(sql)
    assert str(raised.value) == message
    assert (raised.value.status, raised.value.reason) == (400, "invalidQuery")


def test_unnest_with_offset_numbers_from_zero(wh: FakeWarehouse) -> None:
    """Query syntax › UNNEST operator: "WITH OFFSET ... the offset starts at zero"."""
    rows = wh.query("SELECT x, o FROM UNNEST(['a', 'b']) AS x WITH OFFSET AS o ORDER BY o").rows
    assert rows == [{"x": "a", "o": 0}, {"x": "b", "o": 1}]


def test_safe_aggregate_and_analytic_calls_run(wh: FakeWarehouse) -> None:
    """``SAFE.`` is allowed on aggregate and analytic functions (Function calls › SAFE. prefix)."""
    total = wh.query("SELECT SAFE.SUM(x) AS v FROM UNNEST([1, 2, 3]) AS x").rows
    running = wh.query("SELECT SAFE.SUM(x) OVER (ORDER BY x) AS v FROM UNNEST([1, 2]) AS x ORDER BY v").rows
    assert total == [{"v": 6}]
    assert running == [{"v": 1}, {"v": 3}]
