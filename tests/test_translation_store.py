"""Translations kept on disk (fakes.bigquery.translation_store): a later process reads back exactly
the translation sqlglot makes, never one of another translator version, and never a damaged line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cachetools import LRUCache

from fakes.bigquery import queries, translation_store
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.sql import Translation
from fakes.bigquery.translation_store import Translations, key_digest, read_entries, translator_version
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.schema.spec import FieldSpec, FieldType, TableSpec

P = "test-project"
USAGE = TableSpec(
    "usage",
    (
        FieldSpec("provider", FieldType.STRING),
        FieldSpec("n", FieldType.INTEGER),
        FieldSpec("cost", FieldType.BIGNUMERIC),
    ),
)
KEY = ("SELECT 1", P, None)
ONE = Translation('SELECT 1 AS "x"', frozenset({"__hx_now"}))


def _flow(warehouse: FakeWarehouse, org: str) -> list[object]:
    """Statements of several kinds over ``org`` (a shape, a column-less INSERT, a set operation,
    BIGNUMERIC columns, a clock placeholder): what each answered."""
    warehouse.create_dataset(org)
    warehouse.create_table(org, USAGE)
    table = f"`{P}.{org}.usage`"
    answers: list[object] = [
        warehouse.execute(f"INSERT INTO {table} VALUES ('openai', 1, 1.5), ('anthropic', 2, 2.25)"),
        warehouse.execute(f"UPDATE {table} SET n = n + 1 WHERE provider = @p", {"p": "openai"}),
    ]
    reads = (
        f"SELECT provider, n, cost FROM {table} WHERE provider = @p",
        f"SELECT provider FROM {table} UNION ALL SELECT 'x' ORDER BY provider",
        f"SELECT SUM(cost) AS total, CURRENT_DATE() AS today FROM {table}",
    )
    return answers + [warehouse.query(sql, {"p": "openai"}).rows for sql in reads]


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Translations:
    """A store of its own in place of the process's (its memory starts empty), closed afterwards."""
    memory: LRUCache[tuple[object, ...], Translation] = LRUCache(maxsize=4096)
    store = Translations(memory)
    monkeypatch.setattr(queries, "_TRANSLATIONS", store)
    yield store
    store.close()


def _fresh_warehouse() -> FakeWarehouse:
    return FakeWarehouse(BigQueryEngine(ManualClock()), P)


def _new_process(store: Translations, directory: Path | None) -> None:
    """What a new process starts with: nothing in memory, and the directory's file if named."""
    store.close()
    store.clear()
    queries.clear_statement_caches()
    if directory is not None:
        store.open(directory)


def test_a_new_process_translates_nothing_a_previous_one_did(
    tmp_path: Path, store: Translations, translations: list[str]
) -> None:
    store.open(tmp_path)
    first = _fresh_warehouse()
    expected = _flow(first, "org_one_local")
    first.engine.close()
    assert translations
    translations.clear()

    _new_process(store, tmp_path)
    again = _fresh_warehouse()
    assert _flow(again, "org_one_local") == expected  # the same texts: found by their own key
    other = _fresh_warehouse()
    assert _flow(other, "org_two_local") == expected  # another org's: found by its shape
    again.engine.close()
    other.engine.close()
    assert translations == []


def test_what_is_read_back_is_what_sqlglot_translates(
    tmp_path: Path, store: Translations, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every entry on disk equals the translation a process without the file makes for that key."""
    store.open(tmp_path)
    warehouse = _fresh_warehouse()
    _flow(warehouse, "org_one_local")
    warehouse.engine.close()
    assert store.path is not None
    kept = read_entries(store.path)

    _new_process(store, None)
    memory: LRUCache[tuple[object, ...], Translation] = LRUCache(maxsize=4096)
    monkeypatch.setattr(queries, "_TRANSLATIONS", Translations(memory))
    warehouse = _fresh_warehouse()
    _flow(warehouse, "org_one_local")
    warehouse.engine.close()
    fresh = {key_digest(key): value for key, value in memory.items()}
    assert len(kept) >= 5
    assert kept.keys() <= fresh.keys()
    assert {digest: fresh[digest] for digest in kept} == kept


def test_a_change_to_the_translator_reads_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    module = sources / "sql.py"
    module.write_text("A = 1\n")
    monkeypatch.setattr(translation_store, "_SOURCES", sources)
    kept = tmp_path / "kept"
    store = Translations(LRUCache(maxsize=8))
    store.open(kept)
    store[KEY] = ONE
    store.close()
    version = translator_version()
    assert Translations(LRUCache(maxsize=8)).get(KEY) is None  # nothing opened: memory only

    def found() -> Translation | None:
        reader = Translations(LRUCache(maxsize=8))
        reader.open(kept)
        try:
            return reader.get(KEY)
        finally:
            reader.close()

    assert found() == ONE
    stat = module.stat()
    module.write_text("A = 2\n")  # the same size: the mtime tells
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert translator_version() != version
    assert found() is None
    module.write_text("A = 1\n")
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert translator_version() == version  # back as it was: the old file serves again
    assert found() == ONE
    (sources / "new_pass.py").write_text("")
    assert translator_version() != version  # a module added
    import sqlglot

    (sources / "new_pass.py").unlink()
    monkeypatch.setattr(sqlglot, "__version__", "0.0.0-other")
    assert translator_version() != version  # another sqlglot


def test_a_damaged_or_altered_line_is_ignored(tmp_path: Path) -> None:
    digest = key_digest(KEY)
    assert digest is not None
    good = translation_store._line(digest, ONE).decode()
    altered = json.loads(good)
    altered["s"] = "DROP TABLE everything"
    other = key_digest(("SELECT 2", P, None))
    assert other is not None
    half = translation_store._line(other, Translation("SELECT 2", frozenset())).decode()[:25]
    path = tmp_path / (translator_version() + ".jsonl")
    path.write_text("\n".join(["not json", half, json.dumps(altered), '{"k": 1}', "[]", good]))
    assert read_entries(path) == {digest: ONE}
    path.write_text("\n".join([good.strip(), json.dumps(altered)]) + "\n")
    store = Translations(LRUCache(maxsize=8))
    store.open(tmp_path)
    assert store.get(KEY) == ONE  # the altered copy, though later, is not taken
    store.close()
    path.write_bytes(b"\xff\xfe garbage\n" + half.encode())
    store = Translations(LRUCache(maxsize=8))
    store.open(tmp_path)
    assert store.get(KEY) is None
    assert store.get(("SELECT 2", P, None)) is None
    store.close()


def test_a_directory_that_cannot_be_used_leaves_the_cache_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    store = Translations(LRUCache(maxsize=8))
    store.open(blocked / "translations")  # mkdir fails: the disk is turned off, nothing raised
    store[KEY] = ONE
    assert store.get(KEY) == ONE
    assert store.path is None
    store.close()


def test_a_file_grown_past_its_bound_is_started_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Translations(LRUCache(maxsize=64))
    store.open(tmp_path)
    for n in range(20):
        store[(f"SELECT {n}", P, None)] = Translation(f"SELECT {n}", frozenset())
    path = store.path
    store.close()
    assert path is not None and len(read_entries(path)) == 20
    monkeypatch.setattr(translation_store, "MAX_BYTES", path.stat().st_size - 1)
    reader = Translations(LRUCache(maxsize=64))
    reader.open(tmp_path)
    assert reader.get(("SELECT 0", P, None)) is None
    reader.close()
    assert read_entries(path) == {}
