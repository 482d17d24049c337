"""Loads from ``gs://`` URIs (``load_table_from_uri``) read the emulated buckets the extract jobs
write, and a query job's ``destinationEncryptionConfiguration`` stays on its destination table.

Written from Google's documentation of load jobs: ``sourceUris`` with at most one ``*`` wildcard
after the bucket name, every matching object loaded by one job, and a URI that names no object
failing the job with ``Not found: URI gs://...``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import google.auth.credentials
import pytest
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from served_app import served

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock

PROJECT = "test-project"
SCHEMA = [bigquery.SchemaField("name", "STRING"), bigquery.SchemaField("n", "INT64")]


@pytest.fixture(scope="module")
def served_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("bq")
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)), path=data)
    with served(create_app(engine)) as url:
        yield url, data / "gcs"
    engine.close()


@pytest.fixture(scope="module")
def client(served_engine: tuple[str, Path]) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": served_engine[0]},
    )


@pytest.fixture
def bucket(served_engine: tuple[str, Path], request: pytest.FixtureRequest) -> Path:
    """A bucket of this test's own: ``gs://<name>/`` is this directory."""
    path = served_engine[1] / "".join(c if c.isalnum() else "-" for c in request.node.name)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def dataset(client: bigquery.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "ds_" + "".join(c if c.isalnum() else "_" for c in request.node.name)
    client.create_dataset(name)
    yield f"{PROJECT}.{name}"
    client.delete_dataset(name, delete_contents=True)


def _rows(client: bigquery.Client, table: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in client.query(f"SELECT * FROM `{table}` ORDER BY 1").result()]


def test_extract_then_load_round_trips_csv(client: bigquery.Client, dataset: str, bucket: Path) -> None:
    source = f"{dataset}.source"
    client.create_table(bigquery.Table(source, schema=SCHEMA))
    client.insert_rows_json(source, [{"name": "a", "n": 1}, {"name": "b", "n": 2}])
    uri = f"gs://{bucket.name}/export/rows-*.csv"
    client.extract_table(source, uri).result()
    config = bigquery.LoadJobConfig(source_format="CSV", skip_leading_rows=1, schema=SCHEMA)
    job = client.load_table_from_uri(uri, f"{dataset}.copy", job_config=config)
    job.result()
    assert job.state == "DONE" and job.output_rows == 2 and job.input_files == 1
    assert job.source_uris == [uri]
    assert _rows(client, f"{dataset}.copy") == [("a", 1), ("b", 2)]


def test_extract_then_load_round_trips_newline_delimited_json(
    client: bigquery.Client, dataset: str, bucket: Path
) -> None:
    source = f"{dataset}.source"
    client.create_table(bigquery.Table(source, schema=SCHEMA))
    client.insert_rows_json(source, [{"name": "x", "n": 7}])
    uri = f"gs://{bucket.name}/rows.json"
    extract = bigquery.ExtractJobConfig(destination_format="NEWLINE_DELIMITED_JSON")
    client.extract_table(source, uri, job_config=extract).result()
    config = bigquery.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON", autodetect=True)
    client.load_table_from_uri(uri, f"{dataset}.copy", job_config=config).result()
    assert _rows(client, f"{dataset}.copy") == [("x", 7)]


def test_a_wildcard_loads_every_matching_object_in_one_job(
    client: bigquery.Client, dataset: str, bucket: Path
) -> None:
    (bucket / "in" / "2025").mkdir(parents=True)
    (bucket / "in" / "part-1.csv").write_text("name,n\na,1\n")
    (bucket / "in" / "2025" / "part-2.csv").write_text("name,n\nb,2")
    (bucket / "in" / "other.txt").write_text("name,n\nz,9\n")
    config = bigquery.LoadJobConfig(source_format="CSV", skip_leading_rows=1, schema=SCHEMA)
    job = client.load_table_from_uri(f"gs://{bucket.name}/in/*.csv", f"{dataset}.t", job_config=config)
    job.result()
    assert job.input_files == 2
    assert _rows(client, f"{dataset}.t") == [("a", 1), ("b", 2)]


def test_several_uris_load_into_one_table(client: bigquery.Client, dataset: str, bucket: Path) -> None:
    (bucket / "one.csv").write_text("a,1\n")
    (bucket / "two.csv").write_text("b,2\n")
    uris = [f"gs://{bucket.name}/one.csv", f"gs://{bucket.name}/two.csv"]
    config = bigquery.LoadJobConfig(source_format="CSV", schema=SCHEMA)
    client.load_table_from_uri(uris, f"{dataset}.t", job_config=config).result()
    assert _rows(client, f"{dataset}.t") == [("a", 1), ("b", 2)]


def test_autodetected_headers_of_later_files_are_not_rows(
    client: bigquery.Client, dataset: str, bucket: Path
) -> None:
    (bucket / "a.csv").write_text("name,n\na,1\n")
    (bucket / "b.csv").write_text("name,n\nb,2\n")
    config = bigquery.LoadJobConfig(source_format="CSV", autodetect=True)
    client.load_table_from_uri(f"gs://{bucket.name}/*.csv", f"{dataset}.t", job_config=config).result()
    assert _rows(client, f"{dataset}.t") == [("a", 1), ("b", 2)]


def test_write_truncate_from_a_uri_replaces_the_rows(
    client: bigquery.Client, dataset: str, bucket: Path
) -> None:
    (bucket / "rows.csv").write_text("c,3\n")
    table = f"{dataset}.t"
    client.create_table(bigquery.Table(table, schema=SCHEMA))
    client.load_table_from_file(
        io.BytesIO(b"old,0\n"), table, job_config=bigquery.LoadJobConfig(source_format="CSV")
    ).result()
    config = bigquery.LoadJobConfig(source_format="CSV", write_disposition="WRITE_TRUNCATE")
    client.load_table_from_uri(f"gs://{bucket.name}/rows.csv", table, job_config=config).result()
    assert _rows(client, table) == [("c", 3)]


def test_a_uri_with_no_object_fails_the_job_not_found(
    client: bigquery.Client, dataset: str, bucket: Path
) -> None:
    config = bigquery.LoadJobConfig(source_format="CSV", schema=SCHEMA)
    for uri in (f"gs://{bucket.name}/missing.csv", f"gs://{bucket.name}/none-*.csv", "gs://no-bucket/x.csv"):
        job = client.load_table_from_uri(uri, f"{dataset}.t", job_config=config)
        with pytest.raises(gexc.NotFound) as got:
            job.result()
        assert job.error_result["reason"] == bq.SourceUriNotFound.reason
        assert job.error_result["message"] == f"Not found: URI {uri}"
        assert got.value.code == 404
    with pytest.raises(gexc.NotFound):
        client.get_table(f"{dataset}.t")


@pytest.mark.parametrize("uri", ["gs://bucket", "gs://bucket/a*b*.csv", "s3://bucket/x.csv"])
def test_a_uri_the_emulator_cannot_read_is_a_400_naming_it(
    client: bigquery.Client, dataset: str, uri: str
) -> None:
    config = bigquery.LoadJobConfig(source_format="CSV", schema=SCHEMA)
    with pytest.raises(gexc.BadRequest, match="gs://bucket/object"):
        client.load_table_from_uri(uri, f"{dataset}.t", job_config=config)


def test_several_parquet_objects_in_one_job_are_refused_by_name(
    client: bigquery.Client, dataset: str, bucket: Path
) -> None:
    source = f"{dataset}.source"
    client.create_table(bigquery.Table(source, schema=SCHEMA))
    client.insert_rows_json(source, [{"name": "p", "n": 1}])
    parquet = bigquery.ExtractJobConfig(destination_format="PARQUET")
    for name in ("a", "b"):
        client.extract_table(source, f"gs://{bucket.name}/{name}.parquet", job_config=parquet).result()
    config = bigquery.LoadJobConfig(source_format="PARQUET")
    one = client.load_table_from_uri(f"gs://{bucket.name}/a.parquet", f"{dataset}.t", job_config=config)
    one.result()
    assert _rows(client, f"{dataset}.t") == [("p", 1)]
    with pytest.raises(gexc.BadRequest, match="sourceUris"):
        client.load_table_from_uri(f"gs://{bucket.name}/*.parquet", f"{dataset}.t", job_config=config)


def test_query_destination_keeps_the_encryption_key(client: bigquery.Client, dataset: str) -> None:
    key = "projects/p/locations/us/keyRings/ring/cryptoKeys/key"
    config = bigquery.QueryJobConfig(
        destination=f"{dataset}.encrypted",
        destination_encryption_configuration=bigquery.EncryptionConfiguration(kms_key_name=key),
    )
    client.query("SELECT 17 AS my_col", job_config=config).result()
    table = client.get_table(f"{dataset}.encrypted")
    assert table.encryption_configuration.kms_key_name == key
    assert _rows(client, f"{dataset}.encrypted") == [(17,)]


def test_a_load_the_emulator_refuses_is_a_400_before_any_job(client: bigquery.Client, dataset: str) -> None:
    config = bigquery.LoadJobConfig(source_format="AVRO")
    with pytest.raises(gexc.BadRequest, match="AVRO"):
        client.load_table_from_uri("gs://bucket/missing.avro", f"{dataset}.t", job_config=config)
    timed = bigquery.LoadJobConfig(source_format="CSV", schema=SCHEMA, job_timeout_ms=1000)
    with pytest.raises(gexc.BadRequest, match="jobTimeoutMs"):
        client.load_table_from_uri("gs://bucket/x.csv", f"{dataset}.t", job_config=timed)
