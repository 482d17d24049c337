"""Kept DuckDB databases (fakes/bigquery/databases.py): an engine built on a database another
engine gave back sees nothing of it, an engine used after ``close()`` still fails, and a database
that does not come back as it was prepared is closed, not lent again."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from fakes.bigquery import exceptions as bq
from fakes.bigquery.databases import PreparedDatabases
from fakes.bigquery.dataset_undelete import DeletedDatasets
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.limits_runtime import RuntimeLimits
from fakes.bigquery.table_history import history_of
from harness.clock import ManualClock
from harness.schema.spec import DatasetSpec

PROJECT = "p"


def _engine() -> BigQueryEngine:
    return BigQueryEngine(ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))


def _fill(engine: BigQueryEngine) -> None:
    engine.create_dataset(PROJECT, DatasetSpec("ds"))
    engine.query(PROJECT, "CREATE TABLE ds.t (x INT64)")
    engine.query(PROJECT, "INSERT INTO ds.t (x) VALUES (1), (2)")
    engine.create_dataset("other-project", DatasetSpec("ds2"))


def test_the_next_engine_sees_nothing_of_the_one_before() -> None:
    for _ in range(3):  # every round reuses a database the round before gave back
        engine = _engine()
        try:
            assert engine.list_datasets(PROJECT) == []
            assert engine.list_datasets("other-project") == []
            with pytest.raises(bq.QueryDatasetNotFound):
                engine.query(PROJECT, "SELECT x FROM ds.t")
            _fill(engine)
            assert engine.query(PROJECT, "SELECT sum(x) AS s FROM ds.t").rows == [{"s": 3}]
        finally:
            engine.close()


def test_an_engine_that_kept_deleted_tables_gives_its_database_back_clean() -> None:
    """Deleted tables and datasets are kept (undelete, snapshot decorators) in the database's own
    catalog; closing the engine drops them, so the next engine is lent the same database, bare."""
    engine = _engine()
    base = engine._base
    _fill(engine)
    engine.query(PROJECT, "CREATE TABLE ds.u (y INT64)")
    history_of(engine).delete(PROJECT, "ds", "u")
    DeletedDatasets(engine).delete(PROJECT, "ds", delete_contents=True)
    graves = engine._conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'memory'"
    ).fetchone()
    assert graves == (2,)  # ds.u for its snapshot decorators, ds.t with its dataset
    engine.close()
    successor = _engine()
    try:
        assert successor._base is base
        assert successor._conn.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)
        assert successor.list_datasets(PROJECT) == []
    finally:
        successor.close()


def test_an_engine_used_after_close_fails_and_reaches_no_other_engine() -> None:
    closed = _engine()
    _fill(closed)
    closed.close()
    successor = _engine()
    try:
        with pytest.raises(duckdb.ConnectionException):
            closed._conn.execute("SELECT 1")
        assert successor.list_datasets(PROJECT) == []
    finally:
        successor.close()


def test_an_engine_gets_its_own_thread_setting_not_the_last_engines() -> None:
    default = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    BigQueryEngine(clock, limits=RuntimeLimits(threads=1)).close()
    engine = BigQueryEngine(clock, limits=RuntimeLimits())
    try:
        assert engine._conn.execute("SELECT current_setting('threads')").fetchone() == default
    finally:
        engine.close()


def _prepare(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("CREATE MACRO plus_one(x) AS x + 1")


def test_a_database_given_back_as_prepared_is_lent_again_with_its_macros() -> None:
    databases = PreparedDatabases(_prepare, keep=1)
    base = databases.take()
    cursor = base.cursor()
    cursor.execute("ATTACH ':memory:' AS \"bq:x\"")
    cursor.execute('CREATE TABLE "bq:x".main.t AS SELECT 1 AS a')
    cursor.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS a")
    cursor.close()
    databases.give_back(base)
    again = databases.take()
    assert again is base
    assert again.execute("SELECT plus_one(1)").fetchone() == (2,)
    names = {row[0] for row in again.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    assert "bq:x" not in names
    assert again.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)


@pytest.mark.parametrize(
    "stray",
    ["CREATE TABLE main.leftover (a INT)", "CREATE SCHEMA leftover", "CREATE VIEW v AS SELECT 1 AS a"],
)
def test_a_database_with_anything_left_in_its_shared_catalog_is_closed(stray: str) -> None:
    databases = PreparedDatabases(_prepare, keep=1)
    base = databases.take()
    base.execute(stray)
    databases.give_back(base)
    with pytest.raises(duckdb.ConnectionException):
        base.execute("SELECT 1")
    fresh = databases.take()
    assert fresh is not base
    assert fresh.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)


def test_no_more_databases_are_kept_than_asked() -> None:
    databases = PreparedDatabases(_prepare, keep=1)
    first, second = databases.take(), databases.take()
    databases.give_back(first)
    databases.give_back(second)
    with pytest.raises(duckdb.ConnectionException):
        second.execute("SELECT 1")
    assert databases.take() is first


def test_an_engine_nobody_closed_lets_go_of_its_files_once_dropped(tmp_path: Path) -> None:
    """No reference cycle keeps an engine alive: dropping the last reference closes its database
    and files at once, without waiting for the cyclic collector (``harness bootstrap --data-dir``
    run twice in one process relies on it)."""
    engine = BigQueryEngine(ManualClock(), tmp_path)
    engine.create_dataset("p", DatasetSpec(dataset_id="ds"))
    engine.query("p", "SELECT 1")
    gc.disable()
    try:
        del engine
        reopened = BigQueryEngine(ManualClock(), tmp_path)  # attaching a file still attached fails
    finally:
        gc.enable()
    assert [d.dataset_id for d in reopened.list_datasets("p")] == ["ds"]
    reopened.close()
