"""A query's default zone reaches the engine's own connection only when the statement runs there
(:class:`fakes.bigquery.time_zone.ZoneOnDemand`): a SELECT runs on its read cursor, so it is spared
two ``SET TimeZone``; DML, DDL and scripts still run in the zone, and a bad zone is refused first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from harness.clock import ManualClock
from harness.schema.spec import DatasetSpec

LA = "America/Los_Angeles"
STAMP = "TIMESTAMP '2008-12-25 05:30:00+00'"  # 2008-12-24 in Los Angeles


class _Recording:
    """The engine's connection, with the statements run on it recorded."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.statements: list[str] = []

    def execute(self, sql: str, *args: Any) -> Any:
        self.statements.append(sql)
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@pytest.fixture
def engine() -> Iterator[BigQueryEngine]:
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, 3, 0, tzinfo=UTC)))
    engine.create_dataset("p", DatasetSpec("ds"))
    engine.query("p", "CREATE TABLE ds.t (d DATE)")
    yield engine
    engine.close()


def _zone_sets(recording: _Recording) -> list[str]:
    return [sql for sql in recording.statements if sql.startswith("SET TimeZone")]


def test_a_select_in_a_zone_sets_nothing_on_the_engines_connection(engine: BigQueryEngine) -> None:
    engine.query("p", f"SELECT DATE({STAMP})", time_zone=LA)  # the zone is known good from here
    recording = _Recording(engine._conn)
    engine._conn = recording  # type: ignore[assignment]
    result = engine.query("p", f"SELECT DATE({STAMP}) AS d, COUNT(*) AS n FROM ds.t", time_zone=LA)
    assert result.rows == [{"d": date(2008, 12, 24), "n": 0}]
    assert _zone_sets(recording) == []


def test_dml_still_runs_in_the_zone_and_the_connection_goes_back_to_utc(engine: BigQueryEngine) -> None:
    recording = _Recording(engine._conn)
    engine._conn = recording  # type: ignore[assignment]
    engine.query("p", f"INSERT ds.t (d) SELECT DATE({STAMP})", time_zone=LA)
    assert _zone_sets(recording)[-1] == "SET TimeZone = 'UTC'"
    engine._conn = recording._conn
    assert engine.query("p", "SELECT d FROM ds.t").rows == [{"d": date(2008, 12, 24)}]
    assert engine.query("p", f"SELECT DATE({STAMP}) AS d").rows == [{"d": date(2008, 12, 25)}]


def test_an_unknown_zone_is_refused_before_the_tables_are_looked_up(
    engine: BigQueryEngine,
) -> None:
    with pytest.raises(bq.InvalidTimeZone):
        engine.query("p", "SELECT * FROM ds.missing", time_zone="Mars/Olympus_Mons")
    with pytest.raises(bq.InvalidTimeZone):
        engine.query("p", "SELECT * FROM ds.missing", time_zone="Mars/Olympus_Mons")  # refused every time
