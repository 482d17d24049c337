"""Copy and extract jobs, job management and query-job configuration through the real client.

Written from google-cloud-bigquery's documentation and samples (``copy_table``,
``extract_table``, ``list_jobs``, ``cancel_job``, ``delete_job_metadata``, ``QueryJobConfig``)
against the REST emulator; the errors are the emulator's classes, texts compared only where they
are confirmed from the real service.
"""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import google.auth.credentials
import httpx
import pytest
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from served_app import served
from test_bigquery_rest import DISCOVERY, validate

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.jobs_extract import Buckets
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock
from harness.emulators import Emulators

PROJECT = "test-project"


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    engine = BigQueryEngine(clock)
    app = create_app(engine)
    with served(app) as url:
        yield url, app, clock
    engine.close()


@pytest.fixture(scope="module")
def client(server) -> bigquery.Client:  # type: ignore[no-untyped-def]
    return bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": server[0]},
    )


@pytest.fixture
def dataset(client: bigquery.Client, request: pytest.FixtureRequest) -> str:
    name = f"ds_{request.node.name.replace('[', '_').replace(']', '_').replace('-', '_')}"
    client.create_dataset(bigquery.Dataset(f"{PROJECT}.{name}"))
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


SCHEMA = [bigquery.SchemaField("name", "STRING"), bigquery.SchemaField("n", "INTEGER")]


def _table(client: bigquery.Client, dataset: str, table: str, rows: list[tuple[str, int]]) -> str:
    table_id = f"{PROJECT}.{dataset}.{table}"
    client.create_table(bigquery.Table(table_id, schema=SCHEMA))
    if rows:
        values = ", ".join(f"('{name}', {n})" for name, n in rows)
        client.query(f"INSERT INTO `{table_id}` (name, n) VALUES {values}").result()
    return table_id


def _rows(client: bigquery.Client, table_id: str) -> list[tuple[object, ...]]:
    return sorted(tuple(row.values()) for row in client.list_rows(table_id))


# ----------------------------------------------------------------------------------- copy jobs


def test_copy_table_copies_rows_and_reports_statistics(client: bigquery.Client, dataset: str) -> None:
    source = _table(client, dataset, "src", [("a", 1), ("b", 2)])
    job = client.copy_table(source, f"{PROJECT}.{dataset}.dest")
    job.result()
    assert job.job_type == "copy" and job.state == "DONE"
    assert job._properties["statistics"]["copy"]["copiedRows"] == "2"
    assert _rows(client, f"{PROJECT}.{dataset}.dest") == [("a", 1), ("b", 2)]
    assert client.get_table(f"{PROJECT}.{dataset}.dest").streaming_buffer is None


def test_copy_of_several_sources_appends_them(client: bigquery.Client, dataset: str) -> None:
    one = _table(client, dataset, "one", [("a", 1)])
    two = _table(client, dataset, "two", [("b", 2)])
    dest = _table(client, dataset, "dest", [("z", 0)])
    config = bigquery.CopyJobConfig(write_disposition=bigquery.WriteDisposition.WRITE_APPEND)
    client.copy_table([one, two], dest, job_config=config).result()
    assert _rows(client, dest) == [("a", 1), ("b", 2), ("z", 0)]


def test_copy_truncate_replaces_the_destination(client: bigquery.Client, dataset: str) -> None:
    source = _table(client, dataset, "src", [("a", 1)])
    dest = _table(client, dataset, "dest", [("old", 9), ("older", 8)])
    config = bigquery.CopyJobConfig(write_disposition="WRITE_TRUNCATE")
    client.copy_table(source, dest, job_config=config).result()
    assert _rows(client, dest) == [("a", 1)]


def test_copy_write_empty_into_a_table_with_rows_fails_the_job(client: bigquery.Client, dataset: str) -> None:
    source = _table(client, dataset, "src", [("a", 1)])
    dest = _table(client, dataset, "dest", [("b", 2)])
    job = client.copy_table(source, dest)
    with pytest.raises(gexc.Conflict):
        job.result()
    assert job.error_result["reason"] == bq.DestinationNotEmpty.reason
    assert _rows(client, dest) == [("b", 2)]


def test_copy_create_never_needs_the_destination(client: bigquery.Client, dataset: str) -> None:
    source = _table(client, dataset, "src", [("a", 1)])
    config = bigquery.CopyJobConfig(create_disposition="CREATE_NEVER")
    with pytest.raises(gexc.NotFound, match=f"Not found: Table {PROJECT}:{dataset}.missing"):
        client.copy_table(source, f"{PROJECT}.{dataset}.missing", job_config=config).result()


def test_copy_of_sources_with_different_schemas_is_refused(client: bigquery.Client, dataset: str) -> None:
    one = _table(client, dataset, "one", [("a", 1)])
    other = f"{PROJECT}.{dataset}.other"
    client.create_table(bigquery.Table(other, schema=[bigquery.SchemaField("x", "DATE")]))
    job = client.copy_table([one, other], f"{PROJECT}.{dataset}.dest")
    with pytest.raises(gexc.BadRequest) as raised:
        job.result()
    expected = bq.IncompatibleCopySchemas(
        first=f"{PROJECT}:{dataset}.one", second=f"{PROJECT}:{dataset}.other"
    )
    assert expected.message in str(raised.value)


def test_snapshot_clone_and_restore(client: bigquery.Client, dataset: str, server) -> None:  # type: ignore[no-untyped-def]
    clock: ManualClock = server[2]
    base = _table(client, dataset, "base", [("a", 1)])
    snapshot_config = bigquery.CopyJobConfig(operation_type=bigquery.OperationType.SNAPSHOT)
    client.copy_table(base, f"{PROJECT}.{dataset}.snap", job_config=snapshot_config).result()
    snap = client.get_table(f"{PROJECT}.{dataset}.snap")
    assert snap.table_type == "SNAPSHOT"
    assert snap.snapshot_definition.base_table_reference.table_id == "base"
    assert snap.snapshot_definition.snapshot_time == clock.now()

    clone_config = bigquery.CopyJobConfig(operation_type=bigquery.OperationType.CLONE)
    client.copy_table(base, f"{PROJECT}.{dataset}.clone", job_config=clone_config).result()
    clone = client.get_table(f"{PROJECT}.{dataset}.clone")
    assert clone.table_type == "TABLE"
    assert clone.clone_definition.base_table_reference.table_id == "base"

    restore_config = bigquery.CopyJobConfig(operation_type=bigquery.OperationType.RESTORE)
    client.copy_table(snap, f"{PROJECT}.{dataset}.restored", job_config=restore_config).result()
    restored = client.get_table(f"{PROJECT}.{dataset}.restored")
    assert restored.table_type == "TABLE" and restored.snapshot_definition is None
    assert _rows(client, restored) == [("a", 1)]

    # A table deleted and created again under the snapshot's id is a plain table.
    client.delete_table(snap)
    client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.snap", schema=SCHEMA))
    assert client.get_table(f"{PROJECT}.{dataset}.snap").table_type == "TABLE"


def test_clone_with_write_truncate_is_refused(client: bigquery.Client, dataset: str) -> None:
    base = _table(client, dataset, "base", [("a", 1)])
    config = bigquery.CopyJobConfig(operation_type="CLONE", write_disposition="WRITE_TRUNCATE")
    with pytest.raises(gexc.BadRequest) as raised:
        client.copy_table(base, f"{PROJECT}.{dataset}.clone", job_config=config)
    assert bq.CloneWriteDisposition(disposition="WRITE_TRUNCATE").message in str(raised.value)


def test_copy_field_the_emulator_cannot_honour_is_a_400_naming_it(
    client: bigquery.Client, dataset: str
) -> None:
    base = _table(client, dataset, "base", [("a", 1)])
    config = bigquery.CopyJobConfig(destination_expiration_time="2030-01-01T00:00:00Z")
    with pytest.raises(gexc.BadRequest, match="destinationExpirationTime"):
        client.copy_table(base, f"{PROJECT}.{dataset}.snap", job_config=config)
    with pytest.raises(gexc.BadRequest, match="jobTimeoutMs"):
        client.copy_table(
            base, f"{PROJECT}.{dataset}.copy", job_config=bigquery.CopyJobConfig(job_timeout_ms=5)
        )
    with pytest.raises(gexc.NotFound):
        client.get_table(f"{PROJECT}.{dataset}.copy")
    labelled = client.copy_table(
        base, f"{PROJECT}.{dataset}.copy", job_config=bigquery.CopyJobConfig(labels={"a": "b"})
    )
    assert client.get_job(labelled.job_id).labels == {"a": "b"}


# -------------------------------------------------------------------------------- extract jobs


def test_extract_csv_to_a_readable_file(client: bigquery.Client, dataset: str, server) -> None:  # type: ignore[no-untyped-def]
    root: Path = server[1].state.buckets.root
    source = _table(client, dataset, "src", [("a", 1), ("b", 2)])
    job = client.extract_table(source, f"gs://bucket/{dataset}/out-*.csv")
    job.result()
    assert job.destination_uri_file_counts == [1]
    assert int(job._properties["statistics"]["extract"]["inputBytes"]) > 0
    path = root / "bucket" / dataset / "out-000000000000.csv"
    with path.open(newline="") as handle:
        assert sorted(csv.reader(handle)) == [["a", "1"], ["b", "2"], ["name", "n"]]

    config = bigquery.ExtractJobConfig(field_delimiter="|", print_header=False, compression="GZIP")
    client.extract_table(source, f"gs://bucket/{dataset}/plain.csv.gz", job_config=config).result()
    text = gzip.decompress((root / "bucket" / dataset / "plain.csv.gz").read_bytes()).decode()
    assert sorted(text.split()) == ["a|1", "b|2"]


def test_extract_json_and_parquet(client: bigquery.Client, dataset: str, server) -> None:  # type: ignore[no-untyped-def]
    root: Path = server[1].state.buckets.root
    source = _table(client, dataset, "src", [("a", 1)])
    config = bigquery.ExtractJobConfig(destination_format=bigquery.DestinationFormat.NEWLINE_DELIMITED_JSON)
    client.extract_table(source, f"gs://b/{dataset}/rows.json", job_config=config).result()
    lines = (root / "b" / dataset / "rows.json").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"name": "a", "n": 1}]

    config = bigquery.ExtractJobConfig(destination_format="PARQUET")
    client.extract_table(source, f"gs://b/{dataset}/rows.parquet", job_config=config).result()
    parquet = str(root / "b" / dataset / "rows.parquet")
    assert duckdb.connect().execute(f"SELECT name, n FROM read_parquet('{parquet}')").fetchall() == [("a", 1)]


def test_extract_refusals_name_what_is_missing(client: bigquery.Client, dataset: str) -> None:
    source = _table(client, dataset, "src", [("a", 1)])
    config = bigquery.ExtractJobConfig(destination_format="AVRO")
    with pytest.raises(gexc.BadRequest, match="destinationFormat AVRO"):
        client.extract_table(source, "gs://b/x.avro", job_config=config)
    with pytest.raises(gexc.BadRequest, match="Invalid extract destination URI"):
        client.extract_table(source, "gs://b/../escape.csv")
    job = client.extract_table(f"{PROJECT}.{dataset}.missing", "gs://b/missing.csv")
    with pytest.raises(gexc.NotFound):
        job.result()


def test_file_backed_engine_keeps_buckets_under_its_directory(tmp_path: Path) -> None:
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)), tmp_path)
    try:
        assert (
            Buckets(engine).path_of("gs://b/dir/f*.csv")
            == tmp_path / "gcs" / "b" / "dir" / "f000000000000.csv"
        )
    finally:
        engine.close()


# ---------------------------------------------------------------------------------- job management


def test_list_jobs_filters_and_pages(client: bigquery.Client, dataset: str, server) -> None:  # type: ignore[no-untyped-def]
    clock: ManualClock = server[2]
    clock.advance(timedelta(days=1))
    start = clock.now()
    ids = []
    for _ in range(3):
        clock.advance(timedelta(seconds=1))
        ids.append(client.query("SELECT 1", job_id_prefix=f"{dataset}_").result().job_id)
    listed = [job.job_id for job in client.list_jobs(min_creation_time=start, all_users=True)]
    assert listed == list(reversed(ids))
    pages = client.list_jobs(min_creation_time=start, max_results=2, page_size=2)
    assert [job.job_id for job in pages] == list(reversed(ids))[:2]
    latest = [
        j.job_id
        for j in client.list_jobs(min_creation_time=start, max_creation_time=start + timedelta(seconds=1))
    ]
    assert latest == ids[:1]
    assert [j.job_id for j in client.list_jobs(min_creation_time=start, state_filter="done")] == list(
        reversed(ids)
    )
    assert list(client.list_jobs(min_creation_time=start, state_filter="running")) == []
    assert list(client.list_jobs(parent_job=ids[0])) == []
    same_instant = [client.query("SELECT 3").result().job_id for _ in range(2)]
    assert [j.job_id for j in client.list_jobs(min_creation_time=clock.now(), max_results=2)] == same_instant[
        ::-1
    ]
    job = next(iter(client.list_jobs(min_creation_time=start)))
    assert job.query == "SELECT 3" and job.created == clock.now()


def test_cancel_and_delete_job_metadata(client: bigquery.Client) -> None:
    job = client.query("SELECT 2")
    job.result()
    cancelled = client.cancel_job(job.job_id)
    assert cancelled.state == "DONE"
    client.delete_job_metadata(job.job_id)
    with pytest.raises(gexc.NotFound, match=job.job_id):
        client.get_job(job.job_id)
    with pytest.raises(gexc.NotFound):
        client.delete_job_metadata(job.job_id)


# ---------------------------------------------------------------------------- query configuration


def test_query_destination_and_dispositions(client: bigquery.Client, dataset: str) -> None:
    dest = f"{PROJECT}.{dataset}.dest"
    config = bigquery.QueryJobConfig(destination=dest)
    job = client.query("SELECT 'a' AS name, 1 AS n", job_config=config)
    job.result()
    assert job.destination.table_id == "dest"
    assert _rows(client, dest) == [("a", 1)]
    with pytest.raises(gexc.Conflict):
        client.query("SELECT 'b' AS name, 2 AS n", job_config=config).result()

    append = bigquery.QueryJobConfig(destination=dest, write_disposition="WRITE_APPEND")
    client.query("SELECT 'b' AS name, 2 AS n", job_config=append).result()
    assert _rows(client, dest) == [("a", 1), ("b", 2)]

    truncate = bigquery.QueryJobConfig(destination=dest, write_disposition="WRITE_TRUNCATE")
    client.query("SELECT 'c' AS name", job_config=truncate).result()
    table = client.get_table(dest)
    assert [f.name for f in table.schema] == ["name"] and _rows(client, dest) == [("c",)]

    never = bigquery.QueryJobConfig(
        destination=f"{PROJECT}.{dataset}.none", create_disposition="CREATE_NEVER"
    )
    with pytest.raises(gexc.NotFound):
        client.query("SELECT 1 AS x", job_config=never).result()


def test_query_truncate_refused_by_the_table_rules_keeps_the_table(
    client: bigquery.Client, dataset: str
) -> None:
    dest = f"{PROJECT}.{dataset}.dest"
    table = bigquery.Table(dest, schema=[*SCHEMA, bigquery.SchemaField("day", "DATE")])
    table.time_partitioning = bigquery.TimePartitioning(field="day")
    client.create_table(table)
    client.query(f"INSERT INTO `{dest}` (name, n, day) VALUES ('a', 1, DATE '2025-01-01')").result()
    truncate = bigquery.QueryJobConfig(destination=dest, write_disposition="WRITE_TRUNCATE")
    with pytest.raises(gexc.BadRequest, match="partitioning"):
        client.query("SELECT 'b' AS name", job_config=truncate).result()
    assert _rows(client, dest) == [("a", 1, date(2025, 1, 1))]


def test_copy_onto_itself_with_truncate_keeps_the_rows(client: bigquery.Client, dataset: str) -> None:
    source = _table(client, dataset, "src", [("a", 1)])
    config = bigquery.CopyJobConfig(write_disposition="WRITE_TRUNCATE")
    client.copy_table(source, source, job_config=config).result()
    assert _rows(client, source) == [("a", 1)]


def test_query_append_with_a_new_column_needs_field_addition(client: bigquery.Client, dataset: str) -> None:
    dest = _table(client, dataset, "dest", [("a", 1)])
    append = bigquery.QueryJobConfig(destination=dest, write_disposition="WRITE_APPEND")
    with pytest.raises(gexc.BadRequest) as raised:
        client.query("SELECT 'b' AS name, 2 AS n, TRUE AS flag", job_config=append).result()
    expected = bq.SchemaFieldAdditionRefused(
        project=PROJECT, dataset_id=dataset, table_id="dest", field="flag"
    )
    assert expected.message in str(raised.value)
    with pytest.raises(gexc.BadRequest, match="Field n has changed type"):
        client.query("SELECT 'b' AS name, 'x' AS n", job_config=append).result()
    append.schema_update_options = [bigquery.SchemaUpdateOption.ALLOW_FIELD_ADDITION]
    client.query("SELECT 'b' AS name, 2 AS n, TRUE AS flag", job_config=append).result()
    assert [f.name for f in client.get_table(dest).schema] == ["name", "n", "flag"]
    assert _rows(client, dest) == [("a", 1, None), ("b", 2, True)]


def test_destination_with_dml_is_refused(client: bigquery.Client, dataset: str) -> None:
    dest = _table(client, dataset, "dest", [])
    config = bigquery.QueryJobConfig(destination=dest)
    with pytest.raises(gexc.BadRequest, match=bq.DestinationWithDml().message):
        client.query(f"INSERT INTO `{dest}` (name, n) VALUES ('a', 1)", job_config=config).result()
    assert _rows(client, dest) == []


def test_maximum_bytes_billed(client: bigquery.Client, dataset: str) -> None:
    source = _table(client, dataset, "src", [("a", 1)])
    limited = bigquery.QueryJobConfig(maximum_bytes_billed=1000)
    job = client.query(f"SELECT * FROM `{source}`", job_config=limited)
    # The client maps a job's reason it does not know to a 500, as with BigQuery's own answer.
    with pytest.raises(gexc.GoogleAPICallError) as raised:
        job.result()
    assert job.error_result["reason"] == "bytesBilledLimitExceeded"
    assert bq.BytesBilledLimitExceeded(limit=1000, required=10485760).message in str(raised.value)
    with pytest.raises(gexc.BadRequest, match="Query exceeded limit for bytes billed: 1000"):
        client.query_and_wait(f"SELECT * FROM `{source}`", job_config=limited)
    assert [tuple(r.values()) for r in client.query("SELECT 1", job_config=limited).result()] == [(1,)]
    with pytest.raises(gexc.BadRequest, match="cannot honour maximumBytesBilled"):
        client.query("DECLARE x INT64 DEFAULT 1; SELECT x;", job_config=limited).result()
    enough = bigquery.QueryJobConfig(maximum_bytes_billed=10 * 1024 * 1024)
    assert len(list(client.query(f"SELECT * FROM `{source}`", job_config=enough).result())) == 1


def test_labels_statistics_and_dry_run(client: bigquery.Client, dataset: str, server) -> None:  # type: ignore[no-untyped-def]
    clock: ManualClock = server[2]
    source = _table(client, dataset, "src", [("a", 1)])
    job = client.query(f"SELECT * FROM `{source}`", job_config=bigquery.QueryJobConfig(labels={"team": "x"}))
    job.result()
    fetched = client.get_job(job.job_id)
    assert fetched.labels == {"team": "x"}
    assert fetched.created == fetched.started == fetched.ended == clock.now()
    assert fetched.statement_type == "SELECT" and fetched.total_bytes_processed > 0
    assert fetched.total_bytes_billed == 10 * 1024 * 1024  # on-demand minimum once a table is read
    update = client.query(f"UPDATE `{source}` SET n = 2 WHERE TRUE")
    update.result()
    assert update.num_dml_affected_rows == 1
    dry = client.query(f"SELECT * FROM `{source}`", job_config=bigquery.QueryJobConfig(dry_run=True))
    assert dry.total_bytes_processed > 0


def test_query_fields_the_emulator_cannot_honour_are_400s_naming_them(client: bigquery.Client) -> None:
    with pytest.raises(gexc.BadRequest, match=r"query\.flattenResults"):
        client.query("SELECT 1", job_config=bigquery.QueryJobConfig(flatten_results=False)).result()


def test_bodies_match_discovery(client: bigquery.Client, dataset: str, server) -> None:  # type: ignore[no-untyped-def]
    discovery = json.loads(DISCOVERY.read_text())
    base = f"{server[0]}/bigquery/v2/projects/{PROJECT}"
    source = _table(client, dataset, "src", [("a", 1)])
    snapshot = bigquery.CopyJobConfig(operation_type="SNAPSHOT")
    copy = client.copy_table(source, f"{PROJECT}.{dataset}.snap", job_config=snapshot)
    extract = client.extract_table(source, f"gs://b/{dataset}/x.csv")
    with httpx.Client() as http:
        validate(discovery, "Job", http.get(f"{base}/jobs/{copy.job_id}").json())
        validate(discovery, "Job", http.get(f"{base}/jobs/{extract.job_id}").json())
        validate(discovery, "JobList", http.get(f"{base}/jobs", params={"projection": "full"}).json())
        validate(discovery, "Table", http.get(f"{base}/datasets/{dataset}/tables/snap").json())


def test_emulators_say_where_extracts_land(tmp_path: Path) -> None:
    with Emulators(clock=ManualClock(datetime(2025, 1, 1, tzinfo=UTC)), data_dir=tmp_path) as served:
        assert served.extract_root == tmp_path / "bigquery" / "gcs"
