"""The conformance judge itself: reading the corpus format, judging results, deciding scope, and a
runner that survives a hanging case. A judge that is wrong makes every number it prints wrong."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.conformance.compare import Outcome, result_difference
from harness.conformance.corpus import read_file
from harness.conformance.printout import ArrayValue, JsonValue, read_printout
from harness.conformance.report import read_ratchet
from harness.conformance.runner import RunOptions, run_corpus
from harness.conformance.scope import Scope, ScopeError
from harness.schema.spec import FieldMode, FieldSpec, FieldType

CORPUS_FILE = """\
[default required_features=ANALYTIC_FUNCTIONS]
[prepare_database]
CREATE TABLE T AS SELECT 1 AS id, CAST(2 AS INT32) AS small
--
ARRAY<STRUCT<id INT64, small INT32>>[{1, 2}]
==
# a comment before the case
[name=plain]
SELECT id, id + 1 FROM T
--
ARRAY<STRUCT<id INT64, INT64>>[{1, 2}]
==
[name=reads_int32]
SELECT small FROM T
--
ARRAY<STRUCT<small INT64>>[{2}]
==
[name=wrong]
SELECT 2 AS x
--
ARRAY<STRUCT<x INT64>>[{3}]
==
[name=errs]
SELECT 1 / 0
--
ERROR: generic::out_of_range: division by zero: 1 / 0
==
[name=graph]
[required_features=SQL_GRAPH]
SELECT 1
--
ARRAY<STRUCT<INT64>>[{1}]
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    directory = tmp_path / "corpus"
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.test").write_text(text)
    return directory


# ------------------------------------------------------------------------------ corpus format


def test_sections_carry_options_defaults_sql_and_expected(tmp_path: Path) -> None:
    corpus = read_file(_write(tmp_path, "sample", CORPUS_FILE) / "sample.test")
    prepare, plain, *_ = corpus.sections
    assert prepare.prepares and prepare.sql.startswith("CREATE TABLE T")
    assert plain.case_id == "sample:plain"
    assert plain.sql == "SELECT id, id + 1 FROM T"
    assert plain.required_features == {"ANALYTIC_FUNCTIONS"}
    graph = corpus.sections[-1]
    assert graph.required_features == {"ANALYTIC_FUNCTIONS", "SQL_GRAPH"}
    assert corpus.sections[4].expects_error


def test_printouts_are_read_by_type() -> None:
    printout = read_printout(
        "ARRAY<STRUCT<a INT64, d DOUBLE, j JSON, s STRUCT<x STRING>, arr ARRAY<>>>[unknown order:\n"
        '  {1, nan, {"k":[1,2.5]}, {"a\\x01"}, ARRAY<INT64>[known order:1, NULL]},\n'
        "  {NULL, -inf, null, NULL, ARRAY<INT64>(NULL)}\n]"
    )
    rows = printout.value
    assert isinstance(rows, ArrayValue) and not rows.ordered
    first, second = rows.items
    assert first[0] == 1 and math.isnan(first[1])
    assert first[2] == JsonValue({"k": [1, Decimal("2.5")]})
    assert first[3] == ("a\x01",)
    assert first[4].items == (1, None) and first[4].ordered
    assert second == (None, -math.inf, JsonValue(None), None, None)


def test_timestamps_are_instants_in_utc() -> None:
    printout = read_printout("ARRAY<STRUCT<TIMESTAMP>>[{2001-01-01 00:00:00.5+00}]")
    assert printout.value.items[0][0] == datetime(2001, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)


# ------------------------------------------------------------------------------ judging


def _outcome(names: list[str], types: list[FieldType], rows: list[tuple]) -> Outcome:  # type: ignore[type-arg]
    return Outcome(tuple(FieldSpec(name=n, type=t) for n, t in zip(names, types, strict=True)), rows)


def test_anonymous_columns_must_be_named_like_bigquery() -> None:
    expected = read_printout("ARRAY<STRUCT<id INT64, INT64, INT64>>[{1, 2, 3}]")
    good = _outcome(["id", "f0_", "f1_"], [FieldType.INTEGER] * 3, [(1, 2, 3)])
    assert result_difference(expected, good, dml=False) is None
    named_by_text = _outcome(["id", "(id + 1)", "f1_"], [FieldType.INTEGER] * 3, [(1, 2, 3)])
    assert "f0_" in str(result_difference(expected, named_by_text, dml=False))


def test_unknown_order_is_a_multiset_and_known_order_is_not() -> None:
    unordered = read_printout("ARRAY<STRUCT<x INT64>>[unknown order:{1}, {2}, {2}]")
    ordered = read_printout("ARRAY<STRUCT<x INT64>>[known order:{1}, {2}, {2}]")
    shuffled = _outcome(["x"], [FieldType.INTEGER], [(2,), (1,), (2,)])
    assert result_difference(unordered, shuffled, dml=False) is None
    assert result_difference(ordered, shuffled, dml=False) is not None
    missing_duplicate = _outcome(["x"], [FieldType.INTEGER], [(1,), (2,), (3,)])
    assert result_difference(unordered, missing_duplicate, dml=False) is not None


def test_types_are_bigquery_result_types() -> None:
    expected = read_printout("ARRAY<STRUCT<x DOUBLE, a ARRAY<INT64>>>[{1, ARRAY<INT64>[2]}]")
    repeated = FieldSpec("a", FieldType.INTEGER, mode=FieldMode.REPEATED)
    right = Outcome((FieldSpec("x", FieldType.FLOAT), repeated), [(1.0, [2])])
    assert result_difference(expected, right, dml=False) is None
    integer = Outcome((FieldSpec("x", FieldType.INTEGER), repeated), [(1, [2])])
    assert "expected DOUBLE" in str(result_difference(expected, integer, dml=False))


def test_doubles_compare_within_a_relative_margin_and_nan_equals_nan() -> None:
    expected = read_printout("ARRAY<STRUCT<x DOUBLE, y DOUBLE>>[{0.1, nan}]")
    close = _outcome(["x", "y"], [FieldType.FLOAT] * 2, [(0.1 + 1e-17, float("nan"))])
    assert result_difference(expected, close, dml=False) is None
    far = _outcome(["x", "y"], [FieldType.FLOAT] * 2, [(0.1001, float("nan"))])
    assert result_difference(expected, far, dml=False) is not None


# ------------------------------------------------------------------------------ scope


def test_scope_decides_by_feature_type_option_and_dropped_column(tmp_path: Path) -> None:
    scope = Scope.load()
    corpus = read_file(_write(tmp_path, "sample", CORPUS_FILE) / "sample.test")
    sections = {s.name: s for s in corpus.sections}
    from harness.conformance.tables import build_table

    tables = {"t": build_table(corpus.sections[0])}
    assert tables["t"].dropped == {"small": "INT32"}
    assert scope.out_of_scope(sections["plain"], None, tables) is None
    assert "SQL_GRAPH" in str(scope.out_of_scope(sections["graph"], None, tables))
    assert "T.small" in str(scope.out_of_scope(sections["reads_int32"], None, tables))
    uint = read_printout("ARRAY<STRUCT<x UINT64>>[{1}]")
    assert "UINT64" in str(scope.out_of_scope(sections["plain"], uint, tables))


def test_a_feature_the_scope_file_does_not_decide_is_an_error(tmp_path: Path) -> None:
    text = "[name=new]\n[required_features=SOME_FUTURE_FEATURE]\nSELECT 1\n--\nARRAY<STRUCT<INT64>>[{1}]\n"
    section = read_file(_write(tmp_path, "future", text) / "future.test").sections[0]
    with pytest.raises(ScopeError, match="SOME_FUTURE_FEATURE"):
        Scope.load().out_of_scope(section, None, {})


def test_every_feature_of_the_corpus_is_decided_with_a_reason() -> None:
    scope = Scope.load()
    corpus = Path(__file__).parent / "conformance" / "zetasql" / "testdata"
    for path in sorted(corpus.glob("*.test")):
        for section in read_file(path).sections:
            for name in section.required_features | section.forbidden_features:
                feature = scope._feature(name)
                assert feature.get("reason") or feature.get("bigquery"), name
    for section in (scope.types, scope.files, scope.options, scope.rules):
        assert all(entry["reason"] for entry in section.values())


# ------------------------------------------------------------------------------ the runner


def test_the_runner_judges_both_faces_and_survives_a_hanging_case(tmp_path: Path) -> None:
    hang = (
        "[name=hangs]\nSELECT COUNT(*) FROM UNNEST(GENERATE_ARRAY(1, 100000)) a, "
        "UNNEST(GENERATE_ARRAY(1, 100000)) b, UNNEST(GENERATE_ARRAY(1, 100000)) c\n--\n"
        "ARRAY<STRUCT<INT64>>[{1000000000000000}]\n==\n"
        "[name=after]\nSELECT 7 AS x\n--\nARRAY<STRUCT<x INT64>>[{7}]\n"
    )
    directory = _write(tmp_path, "sample", CORPUS_FILE)
    _write(tmp_path, "slow", hang)
    records = {r["id"]: r for r in run_corpus(RunOptions(directory, timeout=3.0, workers=2))}
    assert records["sample:plain"]["status"] == "pass"
    assert records["sample:plain"]["faces"] == {"engine": "pass", "rest": "pass"}
    assert records["sample:errs"]["status"] == "pass"
    assert records["sample:wrong"]["status"] == "fail"
    assert records["sample:graph"]["status"] == "out_of_scope"
    assert records["sample:reads_int32"]["status"] == "out_of_scope"
    assert records["slow#0"]["status"] == "timeout"
    assert records["slow:after"]["status"] == "pass"


def test_the_command_writes_results_and_fails_on_a_ratchet_regression(tmp_path: Path) -> None:
    directory = _write(tmp_path, "sample", CORPUS_FILE)
    ratchet = tmp_path / "passing.txt"
    results = tmp_path / "results.json"
    arguments = ["conformance", str(directory), "--results", str(results), "--ratchet", str(ratchet)]
    (tmp_path / "unstable.txt").write_text("# passes on some runs only\nsample:errs  why it is unstable\n")
    first = CliRunner().invoke(app, [*arguments, "--update-ratchet"])
    assert first.exit_code == 0, first.output
    assert read_ratchet(ratchet) == {"sample:plain"}, "an unstable case never enters the ratchet"
    body = json.loads(results.read_text())
    assert body["summary"]["in_scope"] == 3 and body["summary"]["passed"] == 2
    ratchet.write_text(ratchet.read_text() + "sample:wrong\n")
    second = CliRunner().invoke(app, arguments)
    assert second.exit_code == 1
    assert "REGRESSED sample:wrong" in second.output
