"""Datasets and tables through the real google-cloud-bigquery client: no 5xx for a valid request,
all-or-nothing writes, honest patches (patch merges, update replaces, kept fields stay) and
expirations on the injected clock. Written from the client's documented methods and samples."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import google.auth.credentials
import httpx
import pytest
import uvicorn
from fastapi import Request
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from google.cloud.bigquery.enums import UpdateMode

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock
from harness.ports import WarehouseError
from harness.schema.spec import DatasetSpec, FieldMode, FieldSpec, FieldType, TableSpec

PROJECT = "breadth-project"
START = datetime(2025, 1, 1, tzinfo=UTC)
KMS_KEY = "projects/p/locations/us/keyRings/r/cryptoKeys/k"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    """One emulator on a port, with every response status it gave."""

    def __init__(self, engine: BigQueryEngine, clock: ManualClock) -> None:
        self.engine = engine
        self.clock = clock
        self.statuses: list[tuple[str, str, int]] = []
        app = create_app(engine)

        @app.middleware("http")
        async def _record(request: Request, call_next: Any) -> Any:
            response = await call_next(request)
            self.statuses.append((request.method, request.url.path, response.status_code))
            return response

        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        self.client = bigquery.Client(
            project=PROJECT,
            credentials=google.auth.credentials.AnonymousCredentials(),
            client_options={"api_endpoint": self.url},
        )

    def server_errors(self) -> list[tuple[str, str, int]]:
        return [entry for entry in self.statuses if entry[2] >= 500]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    clock = ManualClock(START)
    engine = BigQueryEngine(clock, tmp_path_factory.mktemp("bq"))
    running = Emulator(engine, clock)
    yield running
    running.stop()
    engine.close()


@pytest.fixture
def client(emulator: Emulator) -> bigquery.Client:
    return emulator.client


@pytest.fixture
def dataset(client: bigquery.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    name = re.sub(r"\W", "_", f"ds_{request.node.name}")
    client.create_dataset(bigquery.Dataset(f"{PROJECT}.{name}"))
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


# ------------------------------------------------------------------------ tables with no schema


def test_a_table_with_no_schema_is_created_and_grows_by_a_patch(
    client: bigquery.Client, dataset: str
) -> None:
    table_id = f"{PROJECT}.{dataset}.empty"
    created = client.create_table(bigquery.Table(table_id))
    assert created.schema == []
    assert client.get_table(table_id).num_rows == 0
    with pytest.raises(gexc.Conflict):
        client.create_table(bigquery.Table(table_id))
    assert client.create_table(bigquery.Table(table_id), exists_ok=True).table_id == "empty"
    assert list(client.list_rows(table_id)) == []

    table = client.get_table(table_id)
    table.schema = [bigquery.SchemaField("name", "STRING")]
    client.update_table(table, ["schema"])
    assert client.insert_rows_json(table_id, [{"name": "a"}]) == []
    rows = client.query(f"SELECT name FROM `{table_id}`").result()
    assert [row.name for row in rows] == ["a"]


# ----------------------------------------------------------------------- all-or-nothing writes


class FailingConnection:
    """The engine's DuckDB connection, failing the first statement that contains ``marker``."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, marker: str) -> None:
        self._conn = conn
        self._marker = marker
        self.failed = False

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        if not self.failed and self._marker in sql:
            self.failed = True
            raise RuntimeError(f"injected failure before: {sql[:40]}")
        return self._conn.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[BigQueryEngine]:
    engine = BigQueryEngine(ManualClock(START), tmp_path)
    engine.create_dataset(PROJECT, DatasetSpec(dataset_id="d"))
    yield engine
    engine.close()


def _inject(engine: BigQueryEngine, marker: str) -> FailingConnection:
    """Fail the engine's storage writes and its metadata writes (the store holds the connection too)."""
    failing = FailingConnection(engine._conn, marker)
    engine._conn = failing  # type: ignore[assignment]
    engine._stores[PROJECT]._conn = failing  # type: ignore[assignment]
    return failing


def _heal(engine: BigQueryEngine, failing: FailingConnection) -> None:
    assert failing.failed, "the failure was never injected"
    engine._conn = failing._conn
    engine._stores[PROJECT]._conn = failing._conn


def _storage_tables(engine: BigQueryEngine) -> list[str]:
    rows = engine._conn.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()
    return sorted(name for (name,) in rows if not name.startswith(("datasets", "tables")))


SPEC = TableSpec(table_id="t", schema=(FieldSpec("a", FieldType.INTEGER, FieldMode.REQUIRED),))


def test_a_create_table_failing_between_its_writes_leaves_nothing(
    engine: BigQueryEngine, tmp_path: Path
) -> None:
    failing = _inject(engine, "CREATE OR REPLACE VIEW")  # after the storage table, before the catalog
    with pytest.raises(RuntimeError):
        engine.create_table(PROJECT, "d", SPEC)
    _heal(engine, failing)
    with pytest.raises(bq.TableNotFound):
        engine.get_table(PROJECT, "d", "t")
    assert _storage_tables(engine) == []
    engine.create_table(PROJECT, "d", SPEC)  # the retry is not tripped by leftovers
    assert engine.get_table(PROJECT, "d", "t").spec == SPEC


def test_a_create_dataset_failing_between_its_writes_leaves_nothing(
    engine: BigQueryEngine, tmp_path: Path
) -> None:
    failing = _inject(engine, "INSERT INTO")  # the metadata row, after the schema
    with pytest.raises(RuntimeError):
        engine.create_dataset(PROJECT, DatasetSpec(dataset_id="e"))
    _heal(engine, failing)
    with pytest.raises(bq.DatasetNotFound):
        engine.get_dataset(PROJECT, "e")
    engine.create_dataset(PROJECT, DatasetSpec(dataset_id="e"))
    engine.close()
    reopened = BigQueryEngine(ManualClock(START), tmp_path)
    assert [d.dataset_id for d in reopened.list_datasets(PROJECT)] == ["d", "e"]
    reopened.close()


def test_a_schema_patch_failing_between_its_writes_leaves_the_table_as_it_was(engine: BigQueryEngine) -> None:
    engine.create_table(PROJECT, "d", SPEC)
    engine.insert_rows(PROJECT, "d", "t", [{"a": 1}])
    grown = (*SPEC.schema, FieldSpec("b", FieldType.STRING))
    failing = _inject(engine, "CREATE OR REPLACE VIEW")  # after ALTER TABLE ADD COLUMN
    with pytest.raises(RuntimeError):
        engine.patch_table(PROJECT, "d", "t", schema=grown, description="new")
    _heal(engine, failing)
    info = engine.get_table(PROJECT, "d", "t")
    assert info.spec == SPEC
    assert engine.query(PROJECT, "SELECT * FROM d.t").rows == [{"a": 1}]
    engine.patch_table(PROJECT, "d", "t", schema=grown)
    assert engine.query(PROJECT, "SELECT * FROM d.t").rows == [{"a": 1, "b": None}]


def test_a_delete_failing_between_its_writes_keeps_the_table(engine: BigQueryEngine, tmp_path: Path) -> None:
    engine.create_table(PROJECT, "d", SPEC)
    engine.insert_rows(PROJECT, "d", "t", [{"a": 1}])
    failing = _inject(engine, "DROP TABLE")  # after the view is dropped
    with pytest.raises(RuntimeError):
        engine.delete_table(PROJECT, "d", "t")
    _heal(engine, failing)
    assert engine.query(PROJECT, "SELECT * FROM d.t").rows == [{"a": 1}]
    failing = _inject(engine, "DROP SCHEMA")
    with pytest.raises(RuntimeError):
        engine.delete_dataset(PROJECT, "d", delete_contents=True)
    _heal(engine, failing)
    assert engine.get_table(PROJECT, "d", "t").num_rows == 1
    engine.close()
    reopened = BigQueryEngine(ManualClock(START), tmp_path)
    assert reopened.get_table(PROJECT, "d", "t").num_rows == 1
    reopened.close()


# -------------------------------------------------------------------------------- honest patches


def test_dataset_patch_keeps_what_it_does_not_name(
    client: bigquery.Client, request: pytest.FixtureRequest
) -> None:
    ds = bigquery.Dataset(f"{PROJECT}.kept_dataset")
    ds.description = "desc"
    ds.friendly_name = "Friendly"
    ds.labels = {"team": "a"}
    ds.default_table_expiration_ms = 3_600_000 * 24
    ds.default_partition_expiration_ms = 3_600_000 * 48
    ds.default_encryption_configuration = bigquery.EncryptionConfiguration(kms_key_name=KMS_KEY)
    ds.access_entries = [
        bigquery.AccessEntry("OWNER", "specialGroup", "projectOwners"),
        bigquery.AccessEntry("READER", "userByEmail", "reader@example.com"),
    ]
    created = client.create_dataset(ds)
    request.addfinalizer(lambda: client.delete_dataset("kept_dataset", delete_contents=True))
    assert created.friendly_name == "Friendly"

    fetched = client.get_dataset("kept_dataset")
    fetched.labels = {"env": "test"}
    updated = client.update_dataset(fetched, ["labels"])
    assert updated.labels == {"team": "a", "env": "test"}
    for got in (updated, client.get_dataset("kept_dataset")):
        assert got.description == "desc"
        assert got.friendly_name == "Friendly"
        assert got.default_table_expiration_ms == 3_600_000 * 24
        assert got.default_partition_expiration_ms == 3_600_000 * 48
        assert got.default_encryption_configuration.kms_key_name == KMS_KEY
        assert {(e.role, e.entity_id) for e in got.access_entries} == {
            ("OWNER", "projectOwners"),
            ("READER", "reader@example.com"),
        }

    got = client.get_dataset("kept_dataset")
    got.access_entries = [
        *got.access_entries,
        bigquery.AccessEntry("WRITER", "groupByEmail", "w@example.com"),
    ]
    got.description = None
    got.default_table_expiration_ms = None
    after = client.update_dataset(got, ["access_entries", "description", "default_table_expiration_ms"])
    assert len(after.access_entries) == 3
    assert after.description is None
    assert after.default_table_expiration_ms is None
    assert after.friendly_name == "Friendly"


def test_dataset_update_replaces_the_resource(
    client: bigquery.Client, emulator: Emulator, dataset: str
) -> None:
    url = f"{emulator.url}/bigquery/v2/projects/{PROJECT}/datasets/{dataset}"
    httpx.patch(url, json={"description": "d", "friendlyName": "F", "labels": {"a": "1"}}).raise_for_status()
    body = httpx.put(url, json={"labels": {"b": "2"}}).json()
    assert body["labels"] == {"b": "2"}
    assert "description" not in body
    assert "friendlyName" not in body
    assert body["access"]  # BigQuery's default access list, not none


def test_a_stale_etag_is_refused_with_bigquerys_412(client: bigquery.Client, dataset: str) -> None:
    table = client.create_table(
        bigquery.Table(f"{PROJECT}.{dataset}.t", schema=[bigquery.SchemaField("a", "STRING")])
    )
    first = client.get_table(table)
    second = client.get_table(table)
    first.description = "one"
    client.update_table(first, ["description"])
    second.description = "two"
    with pytest.raises(gexc.PreconditionFailed, match=r"Precondition check failed\."):
        client.update_table(second, ["description"])
    ds_one, ds_two = client.get_dataset(dataset), client.get_dataset(dataset)
    ds_one.description = "one"
    client.update_dataset(ds_one, ["description"])
    ds_two.description = "two"
    with pytest.raises(gexc.PreconditionFailed):
        client.update_dataset(ds_two, ["description"])


def test_table_patch_keeps_expiration_encryption_labels_and_description(
    client: bigquery.Client, emulator: Emulator, dataset: str
) -> None:
    expires = emulator.clock.now() + timedelta(days=30)
    table = bigquery.Table(f"{PROJECT}.{dataset}.kept", schema=[bigquery.SchemaField("a", "STRING")])
    table.description = "desc"
    table.friendly_name = "Kept"
    table.labels = {"team": "a"}
    table.expires = expires
    table.encryption_configuration = bigquery.EncryptionConfiguration(kms_key_name=KMS_KEY)
    client.create_table(table)
    got = client.get_table(table)
    got.labels = {"env": "x"}
    updated = client.update_table(got, ["labels"])
    for seen in (updated, client.get_table(table)):
        assert seen.labels == {"team": "a", "env": "x"}
        assert seen.description == "desc"
        assert seen.friendly_name == "Kept"
        assert seen.expires == expires
        assert seen.encryption_configuration.kms_key_name == KMS_KEY
    seen.expires = None
    assert client.update_table(seen, ["expires"]).expires is None


def test_schema_patches_allow_what_bigquery_allows(client: bigquery.Client, dataset: str) -> None:
    table_id = f"{PROJECT}.{dataset}.schema"
    client.create_table(
        bigquery.Table(
            table_id,
            schema=[
                bigquery.SchemaField("id", "INT64", mode="REQUIRED"),
                bigquery.SchemaField("tag", "STRING"),
            ],
        )
    )
    table = client.get_table(table_id)
    table.schema = [
        bigquery.SchemaField("id", "INTEGER", mode="NULLABLE"),  # relaxed
        bigquery.SchemaField("tag", "STRING"),
        bigquery.SchemaField("notes", "STRING", mode="REPEATED"),  # added
        bigquery.SchemaField("extra", "STRING"),  # added
    ]
    updated = client.update_table(table, ["schema"])
    assert [(f.name, f.mode) for f in updated.schema] == [
        ("id", "NULLABLE"),
        ("tag", "NULLABLE"),
        ("notes", "REPEATED"),
        ("extra", "NULLABLE"),
    ]
    assert client.insert_rows_json(table_id, [{"id": None, "notes": ["x"]}]) == []

    refused = [
        [*updated.schema, bigquery.SchemaField("must", "STRING", mode="REQUIRED")],
        updated.schema[1:],  # a column removed
        [bigquery.SchemaField("id", "STRING"), *updated.schema[1:]],  # a type changed
        [bigquery.SchemaField("id", "INTEGER", mode="REQUIRED"), *updated.schema[1:]],  # tightened
    ]
    for schema in refused:
        table = client.get_table(table_id)
        table.schema = schema
        with pytest.raises(gexc.BadRequest, match="Provided Schema does not match Table"):
            client.update_table(table, ["schema"])


def test_partitioning_patches_change_only_the_expiration(client: bigquery.Client, dataset: str) -> None:
    plain = client.create_table(
        bigquery.Table(f"{PROJECT}.{dataset}.plain", schema=[bigquery.SchemaField("d", "DATE")])
    )
    plain.time_partitioning = bigquery.TimePartitioning(field="d")
    with pytest.raises(gexc.BadRequest, match=r"Cannot convert non-partitioned table to partitioned table\."):
        client.update_table(plain, ["time_partitioning"])
    table = bigquery.Table(f"{PROJECT}.{dataset}.part", schema=[bigquery.SchemaField("d", "DATE")])
    table.time_partitioning = bigquery.TimePartitioning(field="d")
    table = client.create_table(table)
    table.time_partitioning = bigquery.TimePartitioning(field="d", expiration_ms=86_400_000)
    table = client.update_table(table, ["time_partitioning"])
    assert table.time_partitioning.expiration_ms == 86_400_000
    table.time_partitioning = bigquery.TimePartitioning(type_="MONTH", field="d")
    with pytest.raises(gexc.BadRequest):
        client.update_table(table, ["time_partitioning"])


def test_fields_the_emulator_cannot_honour_are_refused_by_name(client: bigquery.Client, dataset: str) -> None:
    table = bigquery.Table(f"{PROJECT}.{dataset}.collated", schema=[bigquery.SchemaField("a", "STRING")])
    table._properties["defaultCollation"] = "und:ci"
    with pytest.raises(gexc.BadRequest, match="defaultCollation"):
        client.create_table(table)
    sized = bigquery.Table(
        f"{PROJECT}.{dataset}.sized", schema=[bigquery.SchemaField("a", "STRING", max_length=5)]
    )
    with pytest.raises(gexc.BadRequest, match="maxLength"):
        client.create_table(sized)


# ----------------------------------------------------------------------- expirations on the clock


def test_an_expired_table_is_gone(client: bigquery.Client, emulator: Emulator, dataset: str) -> None:
    table = bigquery.Table(f"{PROJECT}.{dataset}.brief", schema=[bigquery.SchemaField("a", "STRING")])
    table.expires = emulator.clock.now() + timedelta(hours=1)
    client.create_table(table)
    emulator.clock.advance(timedelta(hours=2))
    with pytest.raises(gexc.NotFound, match=f"Not found: Table {PROJECT}:{dataset}.brief"):
        client.get_table(table)
    assert [t.table_id for t in client.list_tables(dataset)] == []
    client.create_table(table.__class__(table.reference))  # the name is free again


def test_a_datasets_default_partition_expiration_applies_to_new_tables(client: bigquery.Client) -> None:
    ds = bigquery.Dataset(f"{PROJECT}.defaults")
    ds.default_partition_expiration_ms = 7_200_000
    client.create_dataset(ds)
    try:
        table = bigquery.Table(f"{PROJECT}.defaults.t", schema=[bigquery.SchemaField("d", "DATE")])
        table.time_partitioning = bigquery.TimePartitioning(field="d")
        assert client.create_table(table).time_partitioning.expiration_ms == 7_200_000
    finally:
        client.delete_dataset("defaults", delete_contents=True)


# ------------------------------------------------------------------- the walk: no 5xx, ever


def test_the_documented_dataset_and_table_methods_never_answer_5xx(
    client: bigquery.Client, emulator: Emulator
) -> None:
    before = len(emulator.statuses)
    ds = bigquery.Dataset(f"{PROJECT}.walk")
    ds.location = "US"
    ds.description = "walk"
    ds.friendly_name = "Walk"
    ds.labels = {"color": "red"}
    ds.default_table_expiration_ms = 86_400_000
    ds.default_partition_expiration_ms = 86_400_000
    ds.default_encryption_configuration = bigquery.EncryptionConfiguration(kms_key_name=KMS_KEY)
    ds.max_time_travel_hours = 48
    ds.storage_billing_model = "LOGICAL"
    client.create_dataset(ds)
    client.create_dataset(ds, exists_ok=True)
    client.create_dataset(f"{PROJECT}.walk_other")
    client.create_dataset(f"{PROJECT}._hidden")
    assert [d.dataset_id for d in client.list_datasets(filter="labels.color:red")] == ["walk"]
    assert "_hidden" not in {d.dataset_id for d in client.list_datasets()}
    assert "_hidden" in {d.dataset_id for d in client.list_datasets(include_all=True)}
    listed = list(client.list_datasets(page_size=1))
    assert len(listed) >= 2

    fetched = client.get_dataset("walk")
    fetched.description = "walked"
    fetched.labels = {"color": None, "shape": "round"}
    fetched = client.update_dataset(fetched, ["description", "labels", "friendly_name"])
    assert fetched.labels == {"shape": "round"}

    schema = [
        bigquery.SchemaField("id", "INT64", mode="REQUIRED", description="the id"),
        bigquery.SchemaField("ts", "TIMESTAMP"),
        bigquery.SchemaField("tags", "STRING", mode="REPEATED"),
        bigquery.SchemaField("rec", "RECORD", fields=[bigquery.SchemaField("x", "FLOAT64")]),
        bigquery.SchemaField("name", "STRING"),
    ]
    for index in range(3):
        table = bigquery.Table(f"{PROJECT}.walk.t{index}", schema=schema)
        table.description = "table"
        table.friendly_name = "Table"
        table.labels = {"n": str(index)}
        table.expires = emulator.clock.now() + timedelta(days=1)
        table.encryption_configuration = bigquery.EncryptionConfiguration(kms_key_name=KMS_KEY)
        table.time_partitioning = bigquery.TimePartitioning(field="ts", expiration_ms=86_400_000)
        table.clustering_fields = ["name", "id"]
        table.require_partition_filter = True
        client.create_table(table)
        client.create_table(table, exists_ok=True)
    client.create_table(f"{PROJECT}.walk.bare")
    tables = list(client.list_tables("walk", page_size=2))
    assert [t.table_id for t in tables] == ["bare", "t0", "t1", "t2"]
    assert tables[1].friendly_name == "Table"

    table = client.get_table(f"{PROJECT}.walk.t0")
    table.description = None
    table.friendly_name = "Renamed"
    table.labels = {"n": None, "m": "1"}
    table.require_partition_filter = False
    table.clustering_fields = ["name"]
    table.schema = [*table.schema, bigquery.SchemaField("added", "BOOL")]
    table.expires = emulator.clock.now() + timedelta(days=2)
    updated = client.update_table(
        table,
        [
            "description",
            "friendly_name",
            "labels",
            "require_partition_filter",
            "clustering_fields",
            "schema",
            "expires",
        ],
    )
    assert updated.labels == {"m": "1"}
    assert updated.clustering_fields == ["name"]
    assert updated.schema[-1].name == "added"
    assert (
        client.insert_rows_json(updated, [{"id": 1, "ts": "2025-01-01T00:00:00Z", "rec": {"x": 1.5}}]) == []
    )
    assert [row["id"] for row in client.list_rows(updated, max_results=10)] == [1]

    client.delete_table(f"{PROJECT}.walk.t2")
    client.delete_table(f"{PROJECT}.walk.t2", not_found_ok=True)
    with pytest.raises(gexc.BadRequest):
        client.delete_dataset("walk")  # still in use
    client.delete_dataset("walk", delete_contents=True)
    client.delete_dataset("walk", not_found_ok=True)
    client.delete_dataset("walk_other")
    client.delete_dataset("_hidden")
    assert emulator.statuses[before:], "the walk made no requests"
    assert emulator.server_errors() == []


def test_a_table_without_columns_is_refused_by_queries_by_name_not_by_storage(
    client: bigquery.Client, dataset: str
) -> None:
    client.create_table(f"{PROJECT}.{dataset}.bare")
    with pytest.raises(gexc.BadRequest, match=f"{PROJECT}.{dataset}.bare until it has columns") as caught:
        client.query(f"SELECT COUNT(*) FROM `{PROJECT}.{dataset}.bare`").result()
    assert "#" not in str(caught.value)  # no storage name leaks


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "tables", {"tableReference": {"tableId": "m"}, "schema": "x"}),
        ("POST", "tables", {"tableReference": {"tableId": "m"}, "timePartitioning": "x"}),
        ("POST", "tables", {"tableReference": {"tableId": "m"}, "clustering": "x"}),
        ("POST", "tables", {"tableReference": {"tableId": "m"}, "schema": {"fields": [{"name": "a"}]}}),
        ("POST", "tables", {"tableReference": {"tableId": "m"}, "expirationTime": "soon"}),
        ("POST", "tables", {"tableReference": {"tableId": "m"}, "labels": "x"}),
        ("PATCH", "", {"labels": "x"}),
        ("PUT", "", {"defaultTableExpirationMs": "never"}),
        ("PATCH", "tables/t", {"timePartitioning": "x"}),
        ("PATCH", "tables/t", {"clustering": "x"}),
        ("PATCH", "tables/t", {"schema": {"fields": "x"}}),
        ("PUT", "tables/t", {"labels": ["x"]}),
    ],
)
def test_malformed_resources_are_the_clients_400(
    client: bigquery.Client, emulator: Emulator, dataset: str, method: str, path: str, body: dict[str, Any]
) -> None:
    client.create_table(
        bigquery.Table(f"{PROJECT}.{dataset}.t", schema=[bigquery.SchemaField("a", "STRING")])
    )
    url = f"{emulator.url}/bigquery/v2/projects/{PROJECT}/datasets/{dataset}" + (f"/{path}" if path else "")
    response = httpx.request(method, url, json=body)
    assert response.status_code == 400, response.text


def test_create_or_replace_that_fails_keeps_the_old_table(engine: BigQueryEngine) -> None:
    engine.create_table(PROJECT, "d", SPEC)
    engine.insert_rows(PROJECT, "d", "t", [{"a": 1}])
    with pytest.raises(WarehouseError):
        engine.query(PROJECT, "CREATE OR REPLACE TABLE d.t AS SELECT CAST('x' AS INT64) AS b")
    assert engine.query(PROJECT, "SELECT * FROM d.t").rows == [{"a": 1}]


def test_a_write_that_meets_an_expired_table_inside_another_write_commits_both(
    engine: BigQueryEngine,
) -> None:
    engine.create_table(PROJECT, "d", SPEC, expires=START + timedelta(minutes=1))
    engine.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    engine.query(PROJECT, "CREATE OR REPLACE TABLE d.t (b STRING)")  # drops the expired one inside
    engine.insert_rows(PROJECT, "d", "t", [{"b": "x"}])
    assert engine.query(PROJECT, "SELECT * FROM d.t").rows == [{"b": "x"}]
    assert len(_storage_tables(engine)) == 1  # the expired table's storage is gone


def test_ddl_options_are_kept_or_refused_never_dropped(
    client: bigquery.Client, emulator: Emulator, dataset: str
) -> None:
    table_id = f"{PROJECT}.{dataset}.ddl"
    client.query(
        f"CREATE TABLE `{table_id}` (a INT64 NOT NULL, d DATE) PARTITION BY d OPTIONS("
        "expiration_timestamp=TIMESTAMP '2025-06-01 00:00:00 UTC', friendly_name='Ddl', "
        f"kms_key_name='{KMS_KEY}', description='made by DDL')"
    ).result()
    table = client.get_table(table_id)
    assert table.expires == datetime(2025, 6, 1, tzinfo=UTC)
    assert table.friendly_name == "Ddl"
    assert table.encryption_configuration.kms_key_name == KMS_KEY
    client.query(
        f"ALTER TABLE `{table_id}` SET OPTIONS(expiration_timestamp=NULL, description='altered', "
        "labels=[('team', 'x')], partition_expiration_days=2)"
    ).result()
    client.query(f"ALTER TABLE `{table_id}` ALTER COLUMN a DROP NOT NULL").result()
    table = client.get_table(table_id)
    assert table.expires is None
    assert (table.description, table.labels, table.friendly_name) == ("altered", {"team": "x"}, "Ddl")
    assert table.time_partitioning.expiration_ms == 2 * 86_400_000
    assert table.schema[0].mode == "NULLABLE"
    with pytest.raises(gexc.BadRequest, match="max_staleness"):
        client.query(f"CREATE TABLE `{table_id}_x` (a INT64) OPTIONS(max_staleness=INTERVAL 1 HOUR)").result()


def test_a_schema_patch_adds_fields_inside_records(client: bigquery.Client, dataset: str) -> None:
    table_id = f"{PROJECT}.{dataset}.nested"
    record = bigquery.SchemaField("rec", "RECORD", fields=[bigquery.SchemaField("x", "FLOAT64")])
    items = bigquery.SchemaField(
        "items", "RECORD", mode="REPEATED", fields=[bigquery.SchemaField("y", "INT64")]
    )
    client.create_table(bigquery.Table(table_id, schema=[record, items]))
    assert client.insert_rows_json(table_id, [{"rec": {"x": 1.5}, "items": [{"y": 1}]}]) == []
    table = client.get_table(table_id)
    table.schema = [
        bigquery.SchemaField("rec", "RECORD", fields=[*record.fields, bigquery.SchemaField("z", "STRING")]),
        bigquery.SchemaField(
            "items", "RECORD", mode="REPEATED", fields=[*items.fields, bigquery.SchemaField("w", "STRING")]
        ),
    ]
    table = client.update_table(table, ["schema"])
    assert [f.name for f in table.schema[0].fields] == ["x", "z"]
    assert (
        client.insert_rows_json(table_id, [{"rec": {"x": 2.5, "z": "new"}, "items": [{"y": 2, "w": "v"}]}])
        == []
    )
    rows = client.query(f"SELECT rec.z, items[OFFSET(0)].w FROM `{table_id}` ORDER BY rec.x").result()
    assert [tuple(row.values()) for row in rows] == [(None, None), ("new", "v")]
    table.schema = [
        bigquery.SchemaField("rec", "RECORD", fields=[bigquery.SchemaField("z", "STRING"), *record.fields]),
        table.schema[1],
    ]
    with pytest.raises(gexc.BadRequest, match="Provided Schema does not match Table"):
        client.update_table(table, ["schema"])


def test_update_mode_limits_what_a_dataset_update_changes(client: bigquery.Client, dataset: str) -> None:
    got = client.get_dataset(dataset)
    got.description = "ignored"
    got.access_entries = [*got.access_entries, bigquery.AccessEntry("READER", "userByEmail", "r@example.com")]
    acl = client.update_dataset(got, ["description", "access_entries"], update_mode=UpdateMode.UPDATE_ACL)
    assert acl.description is None
    assert "r@example.com" in {e.entity_id for e in acl.access_entries}
    acl.description = "kept"
    acl.access_entries = []
    meta = client.update_dataset(
        acl, ["description", "access_entries"], update_mode=UpdateMode.UPDATE_METADATA
    )
    assert meta.description == "kept"
    assert "r@example.com" in {e.entity_id for e in meta.access_entries}
