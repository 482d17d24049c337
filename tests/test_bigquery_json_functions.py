"""BigQuery's JSON converters, accessors and extractors on the fake, with the results BigQuery's JSON
functions page gives (https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.ports import InvalidRequestError


@pytest.fixture
def wh() -> Iterator[FakeWarehouse]:
    warehouse = FakeWarehouse.in_memory(ManualClock())
    yield warehouse
    warehouse.engine.close()  # its prepared database goes back for the next test


def _value(wh: FakeWarehouse, expr: str) -> Any:
    return wh.query(f"SELECT {expr} AS v").rows[0]["v"]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("BOOL(JSON 'true')", True),
        ("INT64(JSON '2005')", 2005),
        ("INT64(JSON '10.0')", 10),
        ("FLOAT64(JSON '9.8')", 9.8),
        ("FLOAT64(JSON '18446744073709551615', wide_number_mode=>'round')", 1.8446744073709552e19),
        ("STRING(JSON '\"purple\"')", "purple"),
        ("JSON_TYPE(JSON '\"apple\"')", "string"),
        ("JSON_TYPE(JSON '10.0')", "number"),
        ("JSON_TYPE(JSON '{\"a\": 1}')", "object"),
        ("JSON_TYPE(JSON 'null')", "null"),
        ("SAFE.INT64(JSON '\"hello\"')", None),
        ("SAFE.FLOAT64(JSON '18446744073709551615', wide_number_mode=>'exact')", None),
    ],
)
def test_converters_follow_the_documented_examples(wh: FakeWarehouse, expr: str, expected: Any) -> None:
    actual = _value(wh, expr)
    assert actual == expected and type(actual) is type(expected)


@pytest.mark.parametrize(
    "expr",
    [
        "BOOL(JSON '\"true\"')",
        "INT64(JSON '10.1')",
        "STRING(JSON '123')",
        "FLOAT64(JSON '18446744073709551615', wide_number_mode=>'exact')",
        "FLOAT64(JSON '1', wide_number_mode=>'roundish')",
    ],
)
def test_converters_refuse_the_wrong_json_type(wh: FakeWarehouse, expr: str) -> None:
    with pytest.raises(InvalidRequestError):
        _value(wh, expr)


def test_json_keys_by_depth_and_mode(wh: FakeWarehouse) -> None:
    assert _value(wh, """JSON_KEYS(JSON '{"a": {"b": 1}}')""") == ["a", "a.b"]
    assert _value(wh, """JSON_KEYS(JSON '{"a": {"b": 1}}', 1)""") == ["a"]
    assert _value(wh, """JSON_KEYS(JSON '[{"a": 1}]', mode => 'strict')""") == []
    assert _value(wh, """JSON_KEYS(JSON '[{"a": 1}]', mode => 'lax')""") == ["a"]
    assert _value(wh, """JSON_KEYS(JSON '[[{"a": 1}]]', mode => 'lax recursive')""") == ["a"]


def test_json_flatten_reaches_through_nested_arrays(wh: FakeWarehouse) -> None:
    assert _value(wh, """JSON_FLATTEN(JSON '[[[1, 2], 3], {"a": [4]}]')""") == [1, 2, 3, {"a": [4]}]


def test_lax_json_query_unwraps_arrays(wh: FakeWarehouse) -> None:
    data = """JSON '{"a": [{"b": 1}, [{"b": 2}], [[{"b": 3}]]]}'"""
    assert _value(wh, f"JSON_QUERY({data}, 'lax $.a.b')") == [1]
    assert _value(wh, f"JSON_QUERY({data}, 'lax recursive $.a.b')") == [1, 2, 3]
    with pytest.raises(InvalidRequestError):
        _value(wh, f"JSON_QUERY({data}, 'recursive $.a.b')")


def test_legacy_bracket_paths_and_quoted_names(wh: FakeWarehouse) -> None:
    data = """JSON '{"a": [1, {"b.c": [10, 20]}]}'"""
    assert _value(wh, f"""JSON_EXTRACT({data}, "$[a][1]['b.c']")""") == [10, 20]
    assert _value(wh, f"""JSON_VALUE({data}, '$.a[1]."b.c"[0]')""") == "10"


def test_array_extractors_of_json_and_of_strings(wh: FakeWarehouse) -> None:
    assert _value(wh, """JSON_QUERY_ARRAY('{"fruits": ["apples", "oranges"]}', '$.fruits')""") == [
        '"apples"',
        '"oranges"',
    ]
    assert _value(wh, """JSON_VALUE_ARRAY(JSON '{"fruits": ["apples", "oranges"]}', '$.fruits')""") == [
        "apples",
        "oranges",
    ]
    # NULL where the path reaches no array, or a non-scalar: a NULL array reads as [] in a result
    assert _value(wh, """JSON_QUERY_ARRAY(JSON '{"a": {"b": 1}}', '$.a')""") == []
    assert _value(wh, """JSON_VALUE_ARRAY(JSON '[1, [2]]')""") == []


def test_a_json_field_path_is_named_after_its_field(wh: FakeWarehouse) -> None:
    result = wh.query("""SELECT (JSON '{"a": "foo"}').a""")
    assert [spec.name for spec in result.schema] == ["a"]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("""JSON_SET(JSON '{"a": 1}', '$', JSON '{"b": 2}')""", {"b": 2}),
        ("""JSON_SET(JSON '{"a": 1}', '$.b.c', 'foo')""", {"a": 1, "b": {"c": "foo"}}),
        ("""JSON_SET(JSON '{"a": 1}', '$.b', 2, create_if_missing => false)""", {"a": 1}),
        ("""JSON_SET(JSON '["a", ["b", "c"], "d"]', '$[1][0]', 'foo')""", ["a", ["foo", "c"], "d"]),
        ("""JSON_SET(JSON '{"a": []}', '$.a[2]', 1)""", {"a": [None, None, 1]}),
        ("""JSON_REMOVE(JSON '["a", ["b", "c"], "d"]', '$[1]', '$[1]')""", ["a"]),
        ("""JSON_REMOVE(JSON '{"a": {"b": 10, "c": 20}}', '$.a.b')""", {"a": {"c": 20}}),
        ("""JSON_ARRAY_APPEND(JSON '["a", "b", "c"]', '$', [1, 2])""", ["a", "b", "c", 1, 2]),
        (
            """JSON_ARRAY_APPEND(JSON '["a", "b"]', '$', [1, 2], append_each_element => false)""",
            ["a", "b", [1, 2]],
        ),
        ("""JSON_ARRAY_INSERT(JSON '["a", ["b", "c"], "d"]', '$[1][1]', 1)""", ["a", ["b", 1, "c"], "d"]),
        ("""JSON_ARRAY_INSERT(JSON '["a", "b"]', '$[4]', 1)""", ["a", "b", None, None, 1]),
    ],
)
def test_mutators_follow_the_documented_examples(wh: FakeWarehouse, expr: str, expected: Any) -> None:
    assert _value(wh, expr) == expected


def test_named_arguments_come_last(wh: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError):
        _value(wh, """JSON_ARRAY_APPEND(JSON '[1]', '$', append_each_element => false, 10)""")


def test_members_are_read_by_exact_name(wh: FakeWarehouse) -> None:
    assert _value(wh, """(JSON '{"": 1, "a.b": 2}')['']""") == 1
    assert _value(wh, """(JSON '{"a.b": {"c\\\\"d": 3}}')['a.b']['c"d']""") == 3
    assert _value(wh, """(JSON '{"x": {"b.c": 4}}').x.`b.c`""") == 4


def test_json_object_keeps_the_first_value_of_a_key(wh: FakeWarehouse) -> None:
    assert _value(wh, "JSON_OBJECT('c', 1, 'a', 2, 'c', 3)") == {"a": 2, "c": 1}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("""JSON_STRIP_NULLS(JSON '{"a": null, "b": "c"}')""", {"b": "c"}),
        ("""JSON_STRIP_NULLS(JSON '[1, null, 2, null]')""", [1, 2]),
        ("""JSON_STRIP_NULLS(JSON '[1, null, 2, null]', include_arrays => false)""", [1, None, 2, None]),
        (
            """JSON_STRIP_NULLS(JSON '{"a": {"b": {"c": null}}, "d": [null], "e": [], "f": 1}',
                                remove_empty => true)""",
            {"f": 1},
        ),
        (
            """JSON_STRIP_NULLS(JSON '{"a": {"b": null}, "c": {"d": null}}', '$.a')""",
            {"a": {}, "c": {"d": None}},
        ),
    ],
)
def test_strip_nulls_follows_the_documented_examples(wh: FakeWarehouse, expr: str, expected: Any) -> None:
    assert _value(wh, expr) == expected


def test_strip_nulls_of_an_empty_result_is_json_null(wh: FakeWarehouse) -> None:
    assert _value(wh, """TO_JSON_STRING(JSON_STRIP_NULLS(JSON '[null]', remove_empty => true))""") == "null"
