"""One translation serves a statement over any dataset (fakes.bigquery.statement_shapes), and only
when that is provably the same translation."""

from __future__ import annotations

import hashlib

import pytest
from sqlglot import exp

from fakes.bigquery.sql import ParsedStatement, StorageName, TableRef, parse, to_duckdb
from fakes.bigquery.statement_shapes import guessed_shape, parsed_shape, reparsed, shape_of
from fakes.bigquery.warehouse import FakeWarehouse
from harness.schema.spec import FieldSpec, FieldType, TableSpec

P = "test-project"
USAGE = TableSpec("usage", (FieldSpec("provider", FieldType.STRING), FieldSpec("n", FieldType.INTEGER)))


def _storage(ref: TableRef, write: bool) -> StorageName:
    schema = f"{ref.dataset}#{hashlib.sha1(ref.dataset.encode()).hexdigest()[:8]}"
    return StorageName(f"bq:{ref.project}", schema, ref.table + ("$data" if write else ""))


@pytest.mark.parametrize(
    "template",
    [
        "SELECT provider, SUM(n) AS n FROM `{p}.{d}.usage` WHERE provider = @p GROUP BY provider",
        "UPDATE `{p}.{d}.usage` SET n = n + 1 WHERE provider = @p",
        "DELETE FROM `{p}.{d}.usage` WHERE n < 0",
        "INSERT INTO `{p}.{d}.usage` (provider, n) SELECT provider, n FROM `{p}.{d}.usage`",
        "SELECT a.n FROM `{p}.{d}.usage` AS a JOIN `{p}.other.usage` AS b ON a.provider = b.provider",
    ],
)
def test_a_shape_instantiated_is_the_translation_of_the_statement(template: str) -> None:
    first = parse(template.format(p=P, d="org_one_local"), default_project=P)
    second = parse(template.format(p=P, d="org_two_local"), default_project=P)
    shape, other = shape_of(first), shape_of(second)
    assert shape is not None and other is not None and shape.sql == other.sql
    storage = {ref.dataset: _storage(ref, False).schema for ref in [*first.tables, first.target] if ref}
    shared = shape.template(to_duckdb(first, map_table=_storage), storage)
    assert shared is not None
    storage = {ref.dataset: _storage(ref, False).schema for ref in [*second.tables, second.target] if ref}
    assert other.instantiate(shared, storage) == to_duckdb(second, map_table=_storage)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 'org_x' AS dataset, n FROM `{p}.org_x.usage`",  # the id in a literal
        "SELECT n FROM `{p}.org_x.usage` -- org_x",  # in a comment
        "SELECT org_x FROM `{p}.org_x.usage` AS org_x",  # an alias
        "SELECT n FROM `{p}.org_x.org_x_usage`",  # inside the table's name
        "SELECT n FROM usage",  # the default dataset
    ],
)
def test_a_dataset_named_anywhere_but_its_table_paths_is_not_generalised(sql: str) -> None:
    statement = parse(sql.format(p=P), default_project=P, default_dataset="org_x")
    assert shape_of(statement) is None


def test_a_flow_over_a_new_dataset_translates_nothing_again(
    warehouse: FakeWarehouse, translations: list[str]
) -> None:
    for org in ("shape_a_local", "shape_b_local", "shape_c_local"):
        warehouse.create_dataset(org)
        warehouse.create_table(org, USAGE)
        warehouse.insert_rows(org, "usage", [{"provider": org, "n": 1}])
        table = f"`{P}.{org}.usage`"
        assert warehouse.execute(f"UPDATE {table} SET n = n + 1 WHERE provider = @p", {"p": org}) == 1
        rows = warehouse.query(f"SELECT provider, n FROM {table} WHERE provider = @p", {"p": org}).rows
        assert rows == [{"provider": org, "n": 2}]
    assert len(translations) == 2  # the first dataset's UPDATE and SELECT; the others reuse them


def test_a_literal_naming_the_dataset_is_translated_per_dataset(
    warehouse: FakeWarehouse, translations: list[str]
) -> None:
    for org in ("lit_a", "lit_b"):
        warehouse.create_dataset(org)
        warehouse.create_table(org, USAGE)
        warehouse.insert_rows(org, "usage", [{"provider": "openai", "n": 1}])
        rows = warehouse.query(f"SELECT '{org}' AS dataset, n FROM `{P}.{org}.usage`").rows
        assert rows == [{"dataset": org, "n": 1}]
    assert len(translations) == 2


def test_tables_of_one_name_with_other_collations_do_not_share_a_translation(
    warehouse: FakeWarehouse, translations: list[str]
) -> None:
    """A collated column is part of the table's storage name (the GROUP BY rewrites read it)."""
    found = {}
    for org, collation in (("coll_ci", "und:ci"), ("coll_binary", None)):
        spec = TableSpec("names", (FieldSpec("name", FieldType.STRING, collation=collation),))
        warehouse.create_dataset(org)
        warehouse.create_table(org, spec)
        warehouse.insert_rows(org, "names", [{"name": "a"}, {"name": "A"}])
        sql = f"SELECT COUNT(*) AS n FROM (SELECT name FROM `{P}.{org}.names` GROUP BY name)"
        found[org] = warehouse.query(sql).rows[0]["n"]
    assert found == {"coll_ci": 1, "coll_binary": 2}
    assert len(translations) == 2


def _described(statement: ParsedStatement) -> tuple[object, ...]:
    metas = [dict(node.meta) for node in statement.tree.find_all(exp.Table)]
    return (
        statement.kind,
        statement.tree.sql(dialect="bigquery"),
        repr(statement.tree),
        metas,
        statement.sql,
        statement.tables,
        statement.target,
        statement.target_alias,
        statement.params,
    )


@pytest.mark.parametrize(
    "template",
    [
        "SELECT provider, SUM(n) AS n FROM `{p}.{d}.usage` WHERE provider = @p GROUP BY provider",
        "UPDATE `{p}.{d}.usage` AS u SET n = n + 1 WHERE provider = @p",
        "INSERT INTO `{p}.{d}.usage` (provider, n) SELECT provider, n FROM `{p}.organizations.usage`",
        "SELECT a.n FROM `{p}`.`{d}`.`usage` AS a JOIN `{p}.{d}.other` AS b ON a.provider = b.provider",
    ],
)
def test_a_statement_parsed_from_its_shape_is_the_statement_parsed(template: str) -> None:
    first = parse(template.format(p=P, d="org_one_local"), default_project=P)
    shape = parsed_shape(first)
    assert shape is not None
    text = template.format(p=P, d="org_two_local")
    guess = guessed_shape(text, ["org_two_local", "organizations", "unrelated"])
    assert guess is not None and guess.sql == shape.sql
    assert _described(reparsed(first, shape, guess, text)) == _described(parse(text, default_project=P))


def test_an_unquoted_dataset_is_parsed_per_text() -> None:
    assert parsed_shape(parse("SELECT n FROM org_one.usage", default_project=P)) is None


def test_a_guess_unlike_any_parsed_shape_parses_the_text(
    warehouse: FakeWarehouse, translations: list[str]
) -> None:
    """A dataset id the engine knows, also in a literal: the guess names the literal too, matches
    no parsed shape, and the text is parsed as it is."""
    for org in ("guess_a", "guess_b"):
        warehouse.create_dataset(org)
        warehouse.create_table(org, USAGE)
        warehouse.insert_rows(org, "usage", [{"provider": "guess_a", "n": 1}])
        rows = warehouse.query(f"SELECT n FROM `{P}.{org}.usage` WHERE provider = 'guess_a'").rows
        assert rows == [{"n": 1}]
