"""``datasets.undelete``: a dataset deleted within its time travel window comes back whole.

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
