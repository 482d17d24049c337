"""Views, materialized views, integer-range and ingestion-time partitioning, through the real
google-cloud-bigquery client against the REST emulator, written from the client's samples
(``create_view``, ``update_view``, ``create_materialized_view``, ``create_table_range_partitioned``,
``create_table_partitioned`` ingestion-time) and BigQuery's documentation of the pseudo-columns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import google.auth.credentials
import httpx
import pytest
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from real_errors import assert_wire_error
from served_app import served
from test_bigquery_rest import DISCOVERY, validate

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.range_partitioning import RangePartitioning
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock
from harness.schema.spec import DatasetSpec, FieldSpec, FieldType, PartitionType, TableSpec, TimePartitioning

PROJECT = "kinds-project"
START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, BigQueryEngine, ManualClock]]:
    clock = ManualClock(START)
    engine = BigQueryEngine(clock)
    with served(create_app(engine)) as url:
        yield url, engine, clock
    engine.close()


@pytest.fixture(scope="module")
def client(server: tuple[str, BigQueryEngine, ManualClock]) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": server[0]},
    )


@pytest.fixture
def clock(server: tuple[str, BigQueryEngine, ManualClock]) -> ManualClock:
    return server[2]


@pytest.fixture
def dataset(client: bigquery.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"ds_{request.node.name}".replace("[", "_").replace("]", "_").replace("-", "_")
    client.create_dataset(bigquery.Dataset(f"{PROJECT}.{name}"))
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


def _base_table(client: bigquery.Client, dataset: str) -> str:
    table_id = f"{PROJECT}.{dataset}.shakespeare"
    schema = [bigquery.SchemaField("word", "STRING"), bigquery.SchemaField("word_count", "INT64")]
    client.create_table(bigquery.Table(table_id, schema=schema))
    rows = [{"word": "a", "word_count": 3}, {"word": "b", "word_count": 5}, {"word": "c", "word_count": 1}]
    assert client.insert_rows_json(table_id, rows) == []
    return table_id


def _rows(client: bigquery.Client, sql: str) -> list[dict[str, object]]:
    return [dict(row.items()) for row in client.query(sql).result()]


def _wire_error(exc: gexc.GoogleAPICallError) -> dict[str, object]:
    return exc.errors[0]


# ------------------------------------------------------------------------------------ views


def test_view_created_queried_and_described(client: bigquery.Client, dataset: str) -> None:
    """The create_view sample: a ``bigquery.Table`` with ``view_query``, then queried like a table."""
    source = _base_table(client, dataset)
    view = bigquery.Table(f"{PROJECT}.{dataset}.frequent")
    view.view_query = f"SELECT word, word_count * 2 AS doubled FROM `{source}` WHERE word_count > 2"
    created = client.create_table(view)
    assert created.table_type == "VIEW"
    assert created.view_query == view.view_query
    assert created.view_use_legacy_sql is False
    fetched = client.get_table(created.reference)
    assert fetched.table_type == "VIEW"
    assert [(f.name, f.field_type) for f in fetched.schema] == [("word", "STRING"), ("doubled", "INTEGER")]
    found = _rows(client, f"SELECT * FROM `{PROJECT}.{dataset}.frequent` ORDER BY word")
    assert found == [{"word": "a", "doubled": 6}, {"word": "b", "doubled": 10}]
    listed = {t.table_id: t.table_type for t in client.list_tables(dataset)}
    assert listed == {"shakespeare": "TABLE", "frequent": "VIEW"}


def test_view_sees_later_rows_and_the_clock(
    client: bigquery.Client, dataset: str, clock: ManualClock
) -> None:
    source = _base_table(client, dataset)
    view = bigquery.Table(f"{PROJECT}.{dataset}.stamped")
    view.view_query = f"SELECT COUNT(*) AS n, CURRENT_DATE() AS today FROM `{source}`"
    client.create_table(view)
    today = clock.now().date()
    assert _rows(client, f"SELECT n, today FROM `{dataset}.stamped`") == [{"n": 3, "today": today}]
    client.query(f"INSERT `{source}` (word, word_count) VALUES ('d', 7)").result()
    clock.advance(timedelta(days=2))
    later = today + timedelta(days=2)
    assert _rows(client, f"SELECT n, today FROM `{dataset}.stamped`") == [{"n": 4, "today": later}]


def test_update_view_query(client: bigquery.Client, dataset: str) -> None:
    """The update_view sample: change ``view_query`` and ``update_table(view, ["view_query"])``."""
    source = _base_table(client, dataset)
    view = bigquery.Table(f"{PROJECT}.{dataset}.v")
    view.view_query = f"SELECT word FROM `{source}`"
    view = client.create_table(view)
    view.view_query = f"SELECT word_count FROM `{source}` WHERE word = 'b'"
    updated = client.update_table(view, ["view_query"])
    assert updated.view_query == view.view_query
    assert [f.name for f in client.get_table(view.reference).schema] == ["word_count"]
    assert _rows(client, f"SELECT * FROM `{dataset}.v`") == [{"word_count": 5}]


def test_ddl_views(client: bigquery.Client, dataset: str) -> None:
    source = _base_table(client, dataset)
    job = client.query(
        f"CREATE VIEW `{dataset}.short` OPTIONS (description = 'short words') AS "
        f"SELECT word FROM `{source}` WHERE LENGTH(word) = 1"
    )
    job.result()
    assert job.statement_type == "CREATE_VIEW"
    table = client.get_table(f"{dataset}.short")
    assert (table.table_type, table.description) == ("VIEW", "short words")
    client.query(f"CREATE OR REPLACE VIEW `{dataset}.short` AS SELECT 1 AS one").result()
    assert _rows(client, f"SELECT * FROM `{dataset}.short`") == [{"one": 1}]
    client.query(f"CREATE VIEW IF NOT EXISTS `{dataset}.short` AS SELECT 2 AS two").result()
    assert _rows(client, f"SELECT * FROM `{dataset}.short`") == [{"one": 1}]
    client.query(f"CREATE VIEW `{dataset}.named` (w, n) AS SELECT word, word_count FROM `{source}`").result()
    assert [f.name for f in client.get_table(f"{dataset}.named").schema] == ["w", "n"]
    assert _rows(client, f"SELECT w FROM `{dataset}.named` WHERE n = 5") == [{"w": "b"}]
    drop = client.query(f"DROP VIEW `{dataset}.short`")
    drop.result()
    assert drop.statement_type == "DROP_VIEW"
    with pytest.raises(gexc.NotFound):
        client.get_table(f"{dataset}.short")


def test_view_holds_no_rows(client: bigquery.Client, dataset: str) -> None:
    """tabledata.list, insertAll and DML refuse a view; a bad view query creates nothing."""
    source = _base_table(client, dataset)
    view = bigquery.Table(f"{PROJECT}.{dataset}.v")
    view.view_query = f"SELECT word FROM `{source}`"
    view = client.create_table(view)
    with pytest.raises(gexc.BadRequest) as listed:
        list(client.list_rows(view))
    assert_wire_error(_wire_error(listed.value), bq.CannotListView, "Cannot list a table of type VIEW.")
    with pytest.raises(gexc.BadRequest) as written:
        client.query(f"INSERT `{dataset}.v` (word) VALUES ('x')").result()
    assert_wire_error(_wire_error(written.value), bq.ViewNotWritable)
    broken = bigquery.Table(f"{PROJECT}.{dataset}.broken")
    broken.view_query = f"SELECT nope FROM `{source}`"
    with pytest.raises(gexc.BadRequest):
        client.create_table(broken)
    with pytest.raises(gexc.NotFound):
        client.get_table(broken.reference)


def test_legacy_sql_view_is_refused_by_name(client: bigquery.Client, dataset: str) -> None:
    view = bigquery.Table(f"{PROJECT}.{dataset}.legacy")
    view.view_query = "SELECT 1"
    view.view_use_legacy_sql = True
    with pytest.raises(gexc.BadRequest, match="useLegacySql"):
        client.create_table(view)


def test_materialized_view(client: bigquery.Client, dataset: str, clock: ManualClock) -> None:
    """The create_materialized_view sample; reads are recomputed, so they are always fresh."""
    source = _base_table(client, dataset)
    view = bigquery.Table(f"{PROJECT}.{dataset}.totals")
    view.mview_query = f"SELECT SUM(word_count) AS total FROM `{source}`"
    view.mview_enable_refresh = True
    view.mview_refresh_interval = timedelta(hours=1)
    created = client.create_table(view)
    assert created.table_type == "MATERIALIZED_VIEW"
    assert created.mview_query == view.mview_query
    assert created.mview_refresh_interval == timedelta(hours=1)
    assert created.mview_last_refresh_time == clock.now()
    assert _rows(client, f"SELECT total FROM `{dataset}.totals`") == [{"total": 9}]
    client.query(f"INSERT `{source}` (word, word_count) VALUES ('z', 10)").result()
    assert _rows(client, f"SELECT total FROM `{dataset}.totals`") == [{"total": 19}]
    job = client.query(f"CREATE MATERIALIZED VIEW `{dataset}.m2` AS SELECT word FROM `{source}`")
    job.result()
    assert job.statement_type == "CREATE_MATERIALIZED_VIEW"
    assert client.get_table(f"{dataset}.m2").table_type == "MATERIALIZED_VIEW"
    client.query(f"DROP MATERIALIZED VIEW `{dataset}.m2`").result()


# --------------------------------------------------------------------------- range partitioning


def _range_table(dataset: str, field: str = "zipcode", start: int = 0, end: int = 100000) -> bigquery.Table:
    schema = [bigquery.SchemaField("full_name", "STRING"), bigquery.SchemaField("zipcode", "INTEGER")]
    table = bigquery.Table(f"{PROJECT}.{dataset}.people", schema=schema)
    table.range_partitioning = bigquery.RangePartitioning(
        field=field, range_=bigquery.PartitionRange(start=start, end=end, interval=10)
    )
    return table


def test_range_partitioned_table(client: bigquery.Client, dataset: str) -> None:
    """The create_table_range_partitioned sample."""
    created = client.create_table(_range_table(dataset))
    fetched = client.get_table(created.reference)
    partitioning = fetched.range_partitioning
    assert partitioning is not None
    assert (partitioning.field, partitioning.range_.start, partitioning.range_.end) == ("zipcode", 0, 100000)
    assert partitioning.range_.interval == 10
    assert fetched.time_partitioning is None
    assert client.insert_rows_json(created, [{"full_name": "Ada", "zipcode": 94040}]) == []
    assert _rows(client, f"SELECT full_name FROM `{dataset}.people` WHERE zipcode > 0") == [
        {"full_name": "Ada"}
    ]


def test_range_partitioning_ddl(client: bigquery.Client, dataset: str) -> None:
    client.query(
        f"CREATE TABLE `{dataset}.r` (id INT64, v STRING) "
        "PARTITION BY RANGE_BUCKET(id, GENERATE_ARRAY(-10, 50, 5))"
    ).result()
    partitioning = client.get_table(f"{dataset}.r").range_partitioning
    assert partitioning is not None
    assert (partitioning.field, partitioning.range_.start, partitioning.range_.end) == ("id", -10, 50)
    assert partitioning.range_.interval == 5


@pytest.mark.parametrize(
    ("field", "start", "end", "error"),
    [
        ("nope", 0, 100, bq.RangePartitionFieldNotFound),
        ("full_name", 0, 100, bq.RangePartitionFieldType),
        ("zipcode", 100, 0, bq.InvalidRangePartitioning),
        ("zipcode", 0, 10 * 10_001, bq.InvalidRangePartitioning),
    ],
)
def test_range_partitioning_rules(
    client: bigquery.Client, dataset: str, field: str, start: int, end: int, error: type[bq.BigQueryError]
) -> None:
    with pytest.raises(gexc.BadRequest) as refused:
        client.create_table(_range_table(dataset, field, start, end))
    assert_wire_error(_wire_error(refused.value), error)
    with pytest.raises(gexc.NotFound):
        client.get_table(f"{dataset}.people")


# ----------------------------------------------------------------------- ingestion-time partitioning


def test_ingestion_time_pseudo_columns(client: bigquery.Client, dataset: str, clock: ManualClock) -> None:
    """Rows are stamped with the clock when they arrive; the pseudo-columns read and filter, and
    ``SELECT *`` leaves them out, as in BigQuery."""
    table = bigquery.Table(f"{PROJECT}.{dataset}.events", schema=[bigquery.SchemaField("n", "INT64")])
    table.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY)
    table.require_partition_filter = True
    created = client.create_table(table)
    assert created.time_partitioning.field is None
    day = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert client.insert_rows_json(created, [{"n": 1}]) == []
    clock.advance(timedelta(days=1))
    client.query(f"INSERT `{dataset}.events` (n) VALUES (2)").result()
    found = _rows(
        client,
        f"SELECT n, _PARTITIONTIME AS pt, _PARTITIONDATE AS pd FROM `{dataset}.events` "
        "WHERE _PARTITIONTIME IS NOT NULL ORDER BY n",
    )
    assert found == [
        {"n": 1, "pt": day, "pd": day.date()},
        {"n": 2, "pt": day + timedelta(days=1), "pd": day.date() + timedelta(days=1)},
    ]
    latest = _rows(
        client, f"SELECT * FROM `{dataset}.events` WHERE _PARTITIONDATE = '{day.date() + timedelta(days=1)}'"
    )
    assert latest == [{"n": 2}]
    with pytest.raises(gexc.BadRequest) as unfiltered:
        client.query(f"SELECT * FROM `{dataset}.events`").result()
    assert_wire_error(_wire_error(unfiltered.value), bq.PartitionFilterRequired)


def test_ingestion_time_ddl(client: bigquery.Client, dataset: str) -> None:
    client.query(f"CREATE TABLE `{dataset}.by_day` (n INT64) PARTITION BY _PARTITIONDATE").result()
    partitioning = client.get_table(f"{dataset}.by_day").time_partitioning
    assert partitioning is not None and partitioning.field is None and partitioning.type_ == "DAY"


def test_range_partitioned_table_requires_its_filter(client: bigquery.Client, dataset: str) -> None:
    table = _range_table(dataset)
    table.require_partition_filter = True
    client.create_table(table)
    client.query(f"INSERT `{dataset}.people` (full_name, zipcode) VALUES ('Ada', 5)").result()
    assert _rows(client, f"SELECT full_name FROM `{dataset}.people` WHERE zipcode < 10") == [
        {"full_name": "Ada"}
    ]
    with pytest.raises(gexc.BadRequest) as unfiltered:
        client.query(f"SELECT full_name FROM `{dataset}.people`").result()
    assert_wire_error(_wire_error(unfiltered.value), bq.PartitionFilterRequired)


# ------------------------------------------------------------------------------ file-backed engine


def test_kinds_survive_a_reopened_engine(tmp_path: Path) -> None:
    """A file-backed engine keeps views, range partitioning and ingestion times across restarts."""
    clock = ManualClock(START)
    engine = BigQueryEngine(clock, tmp_path)
    engine.create_dataset(PROJECT, DatasetSpec("ds"))
    schema = (FieldSpec("id", FieldType.INTEGER),)
    by_range = RangePartitioning(field="id", start=0, end=100, interval=10)
    engine.create_table(PROJECT, "ds", TableSpec("r", schema), range_partitioning=by_range)
    ingested = TableSpec("i", schema, time_partitioning=TimePartitioning(PartitionType.DAY))
    engine.create_table(PROJECT, "ds", ingested)
    engine.insert_rows(PROJECT, "ds", "i", [{"id": 7}])
    engine.query(PROJECT, "CREATE VIEW ds.v AS SELECT id + 1 AS next FROM ds.i")
    engine.close()
    reopened = BigQueryEngine(clock, tmp_path)
    assert reopened.kind_fields(PROJECT, "ds", "r") == {"rangePartitioning": by_range.to_api()}
    assert reopened.kind_fields(PROJECT, "ds", "v")["type"] == "VIEW"
    assert reopened.query(PROJECT, "SELECT next FROM ds.v").rows == [{"next": 8}]
    found = reopened.query(PROJECT, "SELECT _PARTITIONDATE AS d FROM ds.i").rows
    assert found == [{"d": START.date()}]
    reopened.close()


def test_kind_resources_match_discovery(
    client: bigquery.Client, dataset: str, server: tuple[str, BigQueryEngine, ManualClock]
) -> None:
    """tables.get and tables.list bodies of each kind validate against the discovery document."""
    source = _base_table(client, dataset)
    view = bigquery.Table(f"{PROJECT}.{dataset}.v")
    view.view_query = f"SELECT word FROM `{source}`"
    client.create_table(view)
    materialized = bigquery.Table(f"{PROJECT}.{dataset}.m")
    materialized.mview_query = f"SELECT COUNT(*) AS n FROM `{source}`"
    client.create_table(materialized)
    client.create_table(_range_table(dataset))
    discovery = json.loads(DISCOVERY.read_text())
    base = f"{server[0]}/bigquery/v2/projects/{PROJECT}/datasets/{dataset}/tables"
    kinds = {}
    for table_id in ("v", "m", "people"):
        body = httpx.get(f"{base}/{table_id}").json()
        validate(discovery, "Table", body)
        kinds[table_id] = body["type"]
    assert kinds == {"v": "VIEW", "m": "MATERIALIZED_VIEW", "people": "TABLE"}
    listing = httpx.get(base).json()
    validate(discovery, "TableList", listing)
    listed = {entry["tableReference"]["tableId"]: entry for entry in listing["tables"]}
    assert listed["v"]["view"] == {"useLegacySql": False}
    assert listed["people"]["rangePartitioning"]["field"] == "zipcode"


def test_view_column_descriptions(client: bigquery.Client, dataset: str) -> None:
    """Documenting a view's columns (what dbt's persist_docs does): the schema's descriptions are
    kept, sent with the view or patched later."""
    source = _base_table(client, dataset)
    view = bigquery.Table(
        f"{PROJECT}.{dataset}.v", schema=[bigquery.SchemaField("word", "STRING", description="w")]
    )
    view.view_query = f"SELECT word, word_count FROM `{source}`"
    created = client.create_table(view)
    assert [(f.name, f.description) for f in created.schema] == [("word", "w"), ("word_count", None)]
    created.schema = [
        bigquery.SchemaField("word", "STRING", description="w"),
        bigquery.SchemaField("word_count", "INTEGER", description="how often"),
    ]
    updated = client.update_table(created, ["schema"])
    assert [f.description for f in updated.schema] == ["w", "how often"]
    assert _rows(client, f"SELECT word_count FROM `{dataset}.v` WHERE word = 'a'") == [{"word_count": 3}]


# ------------------------------------------------------------------------------ partition decorators


def test_partition_decorators(client: bigquery.Client, dataset: str, clock: ManualClock) -> None:
    """Backfilling an ingestion-time table through ``t$YYYYMMDD``, reading and deleting one partition."""
    table = bigquery.Table(f"{PROJECT}.{dataset}.events", schema=[bigquery.SchemaField("n", "INT64")])
    table.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY)
    client.create_table(table)
    assert client.insert_rows_json(f"{PROJECT}.{dataset}.events$20251231", [{"n": 1}, {"n": 2}]) == []
    assert client.insert_rows_json(f"{PROJECT}.{dataset}.events", [{"n": 3}]) == []
    found = _rows(
        client,
        f"SELECT n, _PARTITIONDATE AS d FROM `{dataset}.events` "
        "WHERE _PARTITIONDATE < CURRENT_DATE() ORDER BY n",
    )
    assert found == [{"n": 1, "d": date(2025, 12, 31)}, {"n": 2, "d": date(2025, 12, 31)}]
    listed = client.list_rows(f"{PROJECT}.{dataset}.events$20251231")
    assert sorted(row["n"] for row in listed) == [1, 2]
    client.delete_table(f"{PROJECT}.{dataset}.events$20251231")
    assert [row["n"] for row in client.list_rows(f"{PROJECT}.{dataset}.events")] == [3]


def test_partition_decorator_refusals(client: bigquery.Client, dataset: str) -> None:
    plain = client.create_table(
        bigquery.Table(f"{PROJECT}.{dataset}.plain", schema=[bigquery.SchemaField("n", "INT64")])
    )
    with pytest.raises(gexc.BadRequest) as unpartitioned:
        client.insert_rows_json(f"{PROJECT}.{dataset}.plain$20260101", [{"n": 1}])
    message = (
        "Cannot read partition information from a table that is not partitioned: "
        f"{PROJECT}:{dataset}.plain$20260101"
    )
    assert_wire_error(_wire_error(unpartitioned.value), bq.NotPartitioned, message)
    by_column = bigquery.Table(f"{PROJECT}.{dataset}.by_day", schema=[bigquery.SchemaField("d", "DATE")])
    by_column.time_partitioning = bigquery.TimePartitioning(field="d")
    client.create_table(by_column)
    with pytest.raises(gexc.BadRequest) as streamed:
        client.insert_rows_json(f"{PROJECT}.{dataset}.by_day$20260101", [{"d": "2026-01-01"}])
    assert_wire_error(_wire_error(streamed.value), bq.StreamingToColumnPartition)
    with pytest.raises(gexc.BadRequest) as malformed:
        client.delete_table(f"{PROJECT}.{dataset}.by_day$2026")
    assert_wire_error(_wire_error(malformed.value), bq.InvalidPartitionDecorator)
    assert client.get_table(plain.reference).num_rows == 0


def test_replacing_keeps_the_partitioning_spec(client: bigquery.Client, dataset: str) -> None:
    """CREATE OR REPLACE TABLE may read the table it replaces, and may not change its partitioning."""
    client.query(
        f"CREATE TABLE `{dataset}.r` (id INT64) PARTITION BY RANGE_BUCKET(id, GENERATE_ARRAY(0, 100, 10))"
    ).result()
    client.query(f"INSERT `{dataset}.r` (id) VALUES (1), (2)").result()
    client.query(
        f"CREATE OR REPLACE TABLE `{dataset}.r` PARTITION BY RANGE_BUCKET(id, GENERATE_ARRAY(0, 100, 10)) "
        f"AS SELECT id * 10 AS id FROM `{dataset}.r`"
    ).result()
    assert sorted(row["id"] for row in client.list_rows(f"{dataset}.r")) == [10, 20]
    with pytest.raises(gexc.BadRequest) as changed:
        client.query(f"CREATE OR REPLACE TABLE `{dataset}.r` (id INT64)").result()
    message = (
        "Cannot replace a table with a different partitioning spec. "
        "Instead, DROP the table, and then recreate it."
    )
    assert_wire_error(_wire_error(changed.value), bq.PartitioningSpecChanged, message)
    assert client.get_table(f"{dataset}.r").range_partitioning is not None


def test_information_schema_tables_names_views_and_materialized_views_as_bigquery_does() -> None:
    """TABLES.table_type is 'BASE TABLE', 'VIEW' or 'MATERIALIZED VIEW' (a space), and a view is
    not insertable into."""
    engine = BigQueryEngine(ManualClock(datetime(2026, 1, 5, tzinfo=UTC)))
    engine.query("p", "CREATE SCHEMA d")
    engine.query("p", "CREATE TABLE d.t (x INT64)")
    engine.query("p", "CREATE VIEW d.v AS SELECT x FROM d.t")
    engine.query("p", "CREATE MATERIALIZED VIEW d.m AS SELECT x FROM d.t")
    rows = engine.query(
        "p", "SELECT table_name, table_type, is_insertable_into FROM d.INFORMATION_SCHEMA.TABLES ORDER BY 1"
    ).rows
    assert [tuple(row.values()) for row in rows] == [
        ("m", "MATERIALIZED VIEW", "NO"),
        ("t", "BASE TABLE", "YES"),
        ("v", "VIEW", "NO"),
    ]
