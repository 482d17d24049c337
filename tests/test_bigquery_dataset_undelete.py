"""Time travel of deleted objects: ``datasets.undelete`` brings a dataset deleted within its time
travel window back whole, and a copy job from a snapshot decorator (``t@<ms>``) a deleted table.

Google documents the method (POST ``.../datasets/{id}:undelete``, an optional ``deletionTime``)
and the window (``maxTimeTravelHours``, seven days unless set). The client library has no wrapper
for it, so it is called over HTTP; everything around it goes through the real client. The window
runs on the injected clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import google.auth.credentials
import httpx
import pytest
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from real_errors import assert_wire_error
from served_app import served

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock

PROJECT = "test-project"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ManualClock]]:
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    engine = BigQueryEngine(clock)
    with served(create_app(engine)) as url:
        yield url, clock
    engine.close()


@pytest.fixture(scope="module")
def client(server: tuple[str, ManualClock]) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": server[0]},
    )


@pytest.fixture(scope="module")
def http(server: tuple[str, ManualClock]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server[0]}/bigquery/v2/projects/{PROJECT}") as http:
        yield http


@pytest.fixture
def clock(server: tuple[str, ManualClock]) -> ManualClock:
    return server[1]


def _populated(client: bigquery.Client, name: str) -> None:
    dataset = bigquery.Dataset(f"{PROJECT}.{name}")
    dataset.description = "kept"
    dataset.labels = {"team": "data"}
    client.create_dataset(dataset)
    client.query(f"CREATE TABLE `{name}.t` (id INT64 NOT NULL, name STRING)").result()
    client.query(f"INSERT `{name}.t` VALUES (1, 'a'), (2, 'b')").result()
    client.query(f"CREATE VIEW `{name}.v` AS SELECT name FROM `{name}.t` WHERE id > 1").result()
    client.query(f"CREATE FUNCTION `{name}.twice`(x INT64) AS (x * 2)").result()


def test_a_deleted_dataset_comes_back_with_its_tables_rows_views_and_routines(
    client: bigquery.Client, http: httpx.Client
) -> None:
    _populated(client, "restored")
    client.delete_dataset("restored", delete_contents=True)
    answer = http.post("/datasets/restored:undelete", json={})
    assert answer.status_code == 200
    assert answer.json()["datasetReference"] == {"projectId": PROJECT, "datasetId": "restored"}
    dataset = client.get_dataset("restored")
    assert dataset.description == "kept" and dataset.labels == {"team": "data"}
    assert sorted(t.table_id for t in client.list_tables("restored")) == ["t", "v"]
    rows = client.query("SELECT id, name FROM `restored.t` ORDER BY id").result()
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b")]
    assert [tuple(r) for r in client.query("SELECT * FROM `restored.v`").result()] == [("b",)]
    assert [tuple(r) for r in client.query("SELECT restored.twice(4)").result()] == [(8,)]
    with pytest.raises(gexc.BadRequest, match="cannot be null"):  # the column is REQUIRED still
        client.query("INSERT `restored.t` (name) VALUES ('c')").result()
    client.delete_dataset("restored", delete_contents=True)


def test_undelete_of_a_live_dataset_is_its_409(client: bigquery.Client, http: httpx.Client) -> None:
    client.create_dataset("alive")
    answer = http.post("/datasets/alive:undelete", json={})
    assert answer.status_code == 409
    assert_wire_error(answer.json()["error"]["errors"][0], bq.DatasetAlreadyExists)
    client.delete_dataset("alive")


def test_undelete_of_a_dataset_never_deleted_is_its_404(http: httpx.Client) -> None:
    answer = http.post("/datasets/never_was:undelete", json={})
    assert answer.status_code == 404
    assert_wire_error(
        answer.json()["error"]["errors"][0], bq.DatasetNotFound, f"Not found: Dataset {PROJECT}:never_was"
    )


def test_the_default_window_is_seven_days(
    client: bigquery.Client, http: httpx.Client, clock: ManualClock
) -> None:
    client.create_dataset("week")
    client.delete_dataset("week")
    clock.advance(timedelta(hours=167))
    assert http.post("/datasets/week:undelete", json={}).status_code == 200
    client.delete_dataset("week")
    clock.advance(timedelta(hours=168, seconds=1))
    assert http.post("/datasets/week:undelete", json={}).status_code == 404


def test_max_time_travel_hours_sets_the_window(
    client: bigquery.Client, http: httpx.Client, clock: ManualClock
) -> None:
    dataset = bigquery.Dataset(f"{PROJECT}.short")
    dataset.max_time_travel_hours = 48
    client.create_dataset(dataset)
    client.delete_dataset("short")
    clock.advance(timedelta(hours=49))
    assert http.post("/datasets/short:undelete", json={}).status_code == 404


def test_deletion_time_picks_the_version_deleted_then(
    client: bigquery.Client, http: httpx.Client, clock: ManualClock
) -> None:
    first = bigquery.Dataset(f"{PROJECT}.versions")
    first.description = "first"
    client.create_dataset(first)
    client.delete_dataset("versions")
    first_deleted = clock.now()
    clock.advance(timedelta(hours=1))
    second = bigquery.Dataset(f"{PROJECT}.versions")
    second.description = "second"
    client.create_dataset(second)
    client.delete_dataset("versions")
    clock.advance(timedelta(hours=1))
    when = first_deleted.isoformat().replace("+00:00", "Z")
    assert http.post("/datasets/versions:undelete", json={"deletionTime": when}).status_code == 200
    assert client.get_dataset("versions").description == "first"
    client.delete_dataset("versions")
    other = http.post("/datasets/versions:undelete", json={"deletionTime": "2020-01-01T00:00:00Z"})
    assert other.status_code == 404
    assert http.post("/datasets/versions:undelete", json={}).status_code == 200
    assert client.get_dataset("versions").description == "first"  # the last deleted version
    client.delete_dataset("versions")


def test_a_refused_delete_keeps_nothing_to_undelete(client: bigquery.Client, http: httpx.Client) -> None:
    client.create_dataset("busy")
    client.query("CREATE TABLE `busy.t` (x INT64)").result()
    with pytest.raises(gexc.BadRequest, match="is still in use"):
        client.delete_dataset("busy")
    assert http.post("/datasets/busy:undelete", json={}).status_code == 409
    client.delete_dataset("busy", delete_contents=True)


def test_a_bad_deletion_time_is_a_400_naming_it(http: httpx.Client) -> None:
    answer = http.post("/datasets/x:undelete", json={"deletionTime": "yesterday"})
    assert answer.status_code == 400 and "deletionTime" in answer.json()["error"]["message"]


# ------------------------------------------------- a deleted table, copied from a snapshot decorator


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _deleted_table(client: bigquery.Client, clock: ManualClock, dataset: str) -> tuple[str, int]:
    """A table with two rows, deleted an hour after they were written; the moment they were there."""
    client.create_dataset(dataset)
    table = f"{PROJECT}.{dataset}.t"
    client.query(f"CREATE TABLE `{table}` (id INT64, name STRING)").result()
    client.query(f"INSERT `{table}` VALUES (1, 'a'), (2, 'b')").result()
    clock.advance(timedelta(minutes=30))
    moment = _ms(clock.now())
    clock.advance(timedelta(minutes=30))
    client.delete_table(table)
    return table, moment


def test_a_deleted_table_is_copied_back_from_its_snapshot(
    client: bigquery.Client, clock: ManualClock
) -> None:
    table, moment = _deleted_table(client, clock, "tt_restore")
    job = client.copy_table(f"{table}@{moment}", f"{PROJECT}.tt_restore.recovered")
    job.result()
    rows = client.query("SELECT id, name FROM `tt_restore.recovered` ORDER BY id").result()
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b")]
    assert "_time_travel" not in {d.dataset_id for d in client.list_datasets()}
    assert not any(t.table_id.startswith("t_at_") for t in client.list_tables(f"{PROJECT}._time_travel"))
    client.delete_dataset("tt_restore", delete_contents=True)


def test_a_relative_decorator_counts_back_from_now(client: bigquery.Client, clock: ManualClock) -> None:
    table, _ = _deleted_table(client, clock, "tt_relative")
    client.copy_table(f"{table}@-{45 * 60 * 1000}", f"{PROJECT}.tt_relative.back").result()
    assert client.get_table(f"{PROJECT}.tt_relative.back").num_rows == 2
    client.delete_dataset("tt_relative", delete_contents=True)


def test_a_moment_after_the_deletion_finds_no_table(client: bigquery.Client, clock: ManualClock) -> None:
    table, _ = _deleted_table(client, clock, "tt_after")
    job = client.copy_table(f"{table}@{_ms(clock.now())}", f"{PROJECT}.tt_after.late")
    with pytest.raises(gexc.NotFound):
        job.result()
    client.delete_dataset("tt_after", delete_contents=True)


def test_past_the_window_the_deleted_table_is_gone(client: bigquery.Client, clock: ManualClock) -> None:
    table, moment = _deleted_table(client, clock, "tt_gone")
    clock.advance(timedelta(days=8))
    job = client.copy_table(f"{table}@{moment}", f"{PROJECT}.tt_gone.late")
    with pytest.raises(gexc.NotFound):
        job.result()
    client.delete_dataset("tt_gone", delete_contents=True)


def test_a_live_table_is_read_when_unchanged_since_and_refused_when_changed(
    client: bigquery.Client, clock: ManualClock
) -> None:
    client.create_dataset("tt_live")
    table = f"{PROJECT}.tt_live.t"
    before = _ms(clock.now()) - 1000
    clock.advance(timedelta(seconds=5))
    client.query(f"CREATE TABLE `{table}` AS SELECT 1 AS id").result()
    clock.advance(timedelta(seconds=5))
    client.copy_table(f"{table}@{_ms(clock.now())}", f"{PROJECT}.tt_live.same").result()
    assert client.get_table(f"{PROJECT}.tt_live.same").num_rows == 1
    earlier = _ms(clock.now())
    clock.advance(timedelta(seconds=5))
    client.query(f"INSERT `{table}` VALUES (2)").result()
    with pytest.raises(gexc.BadRequest, match="keeps no history"):
        client.copy_table(f"{table}@{earlier}", f"{PROJECT}.tt_live.changed").result()
    with pytest.raises(gexc.BadRequest) as got:
        client.copy_table(f"{table}@{before}", f"{PROJECT}.tt_live.early").result()
    assert got.value.errors[0]["reason"] == bq.InvalidSnapshotTime.reason
    assert "Invalid snapshot time" in got.value.message
    with pytest.raises(gexc.BadRequest, match="@0"):
        client.copy_table(f"{table}@0", f"{PROJECT}.tt_live.oldest").result()
    client.delete_dataset("tt_live", delete_contents=True)
