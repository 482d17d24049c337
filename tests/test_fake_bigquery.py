"""The BigQuery fake: every fidelity rule in the design, with BigQuery's status, reason and message."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from real_errors import assert_real_error

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.types import row_to_storage
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.ports import (
    AlreadyExistsError,
    InsertMode,
    InsertRowsError,
    InvalidRequestError,
    NotFoundError,
    QueryParam,
    ResourceInUseError,
    StreamingBufferError,
    WarehouseError,
)
from harness.schema.spec import FieldMode, FieldSpec, FieldType, TableSpec, TimePartitioning

P = "test-project"

EVENTS = TableSpec(
    table_id="events",
    schema=(
        FieldSpec("org_slug", FieldType.STRING, FieldMode.REQUIRED, "tenant"),
        FieldSpec("created_at", FieldType.TIMESTAMP, FieldMode.REQUIRED),
        FieldSpec("amount", FieldType.NUMERIC),
        FieldSpec("tags", FieldType.STRING, FieldMode.REPEATED),
        FieldSpec(
            "meta",
            FieldType.RECORD,
            fields=(FieldSpec("k", FieldType.INTEGER), FieldSpec("v", FieldType.STRING)),
        ),
        FieldSpec("payload", FieldType.JSON),
    ),
    time_partitioning=TimePartitioning(field="created_at"),
    clustering_fields=("org_slug",),
)


@pytest.fixture
def ds(warehouse: FakeWarehouse) -> FakeWarehouse:
    warehouse.create_dataset("ds")
    warehouse.create_table("ds", EVENTS)
    return warehouse


def event(slug: str, clock: ManualClock, **extra: object) -> dict[str, object]:
    return {"org_slug": slug, "created_at": clock.now(), **extra}


# ------------------------------------------------------------------------------ datasets / tables


def test_duplicate_dataset_is_409_duplicate(warehouse: FakeWarehouse) -> None:
    warehouse.create_dataset("ds")
    with pytest.raises(AlreadyExistsError) as info:
        warehouse.create_dataset("ds")
    assert_real_error(info.value, bq.DatasetAlreadyExists, f"Already Exists: Dataset {P}:ds")
    assert warehouse.create_dataset("ds", exists_ok=True).dataset_id == "ds"


def test_duplicate_table_is_409(ds: FakeWarehouse) -> None:
    with pytest.raises(AlreadyExistsError) as info:
        ds.create_table("ds", EVENTS)
    assert_real_error(info.value, bq.TableAlreadyExists, f"Already Exists: Table {P}:ds.events")


def test_missing_table_and_dataset_are_404(ds: FakeWarehouse) -> None:
    with pytest.raises(NotFoundError) as info:
        ds.get_table("ds", "nope")
    assert_real_error(info.value, bq.TableNotFound, f"Not found: Table {P}:ds.nope")
    with pytest.raises(NotFoundError) as info:
        ds.get_dataset("nods")
    assert_real_error(info.value, bq.DatasetNotFound, f"Not found: Dataset {P}:nods")
    with pytest.raises(NotFoundError) as info:
        ds.query("SELECT * FROM ds.nope")
    assert_real_error(
        info.value, bq.QueryTableNotFound, f"Not found: Table {P}:ds.nope was not found in location US"
    )


def test_delete_dataset_in_use_then_with_contents(ds: FakeWarehouse) -> None:
    with pytest.raises(ResourceInUseError) as info:
        ds.delete_dataset("ds")
    assert_real_error(info.value, bq.DatasetInUse, f"Dataset {P}:ds is still in use")
    assert ds.get_table("ds", "events")  # nothing was dropped
    ds.delete_dataset("ds", delete_contents=True)
    with pytest.raises(NotFoundError):
        ds.get_dataset("ds")
    ds.delete_dataset("ds", not_found_ok=True)
    with pytest.raises(NotFoundError):
        ds.delete_dataset("ds")


@pytest.mark.parametrize("bad", ["has-dash", "sp ace", "", "x" * 1025, "dot.ted"])
def test_invalid_dataset_ids_are_refused(warehouse: FakeWarehouse, bad: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        warehouse.create_dataset(bad)
    assert_real_error(info.value, bq.InvalidDatasetId)
    assert info.value.message.startswith(f'Invalid dataset ID "{bad}".')  # confirmed text
    assert warehouse.list_datasets() == []


def test_partition_field_missing_creates_nothing(ds: FakeWarehouse) -> None:
    spec = TableSpec(
        "subs",
        (FieldSpec("org_slug", FieldType.STRING),),
        time_partitioning=TimePartitioning(field="effective_date"),
    )
    with pytest.raises(InvalidRequestError) as info:
        ds.create_table("ds", spec)
    assert_real_error(
        info.value,
        bq.PartitionFieldNotFound,
        "The field specified for partitioning cannot be found in the schema.",
    )
    assert [t.table_id for t in ds.list_tables("ds")] == ["events"]


def test_partition_field_of_wrong_type(ds: FakeWarehouse) -> None:
    spec = TableSpec(
        "t", (FieldSpec("day", FieldType.STRING),), time_partitioning=TimePartitioning(field="day")
    )
    with pytest.raises(InvalidRequestError) as info:
        ds.create_table("ds", spec)
    assert_real_error(
        info.value,
        bq.PartitionFieldType,
        "The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. "
        "The type found is: STRING.",
    )


def test_too_many_clustering_fields(ds: FakeWarehouse) -> None:
    cols = tuple(FieldSpec(f"c{i}", FieldType.STRING) for i in range(5))
    with pytest.raises(InvalidRequestError) as info:
        ds.create_table("ds", TableSpec("t", cols, clustering_fields=tuple(c.name for c in cols)))
    assert_real_error(
        info.value, bq.TooManyClusteringFields, "5 clustering fields specified, exceeding the limit of 4."
    )


def test_clustering_on_missing_or_unclusterable_field(ds: FakeWarehouse) -> None:
    cols = (FieldSpec("a", FieldType.STRING), FieldSpec("j", FieldType.JSON))
    with pytest.raises(InvalidRequestError) as info:
        ds.create_table("ds", TableSpec("t", cols, clustering_fields=("zzz",)))
    assert_real_error(
        info.value,
        bq.ClusteringFieldNotFound,
        "The field specified for clustering cannot be found in the schema. Invalid field: zzz.",
    )
    with pytest.raises(InvalidRequestError) as info:
        ds.create_table("ds", TableSpec("t", cols, clustering_fields=("j",)))
    assert_real_error(
        info.value, bq.ClusteringFieldType, "Field j has type JSON, which is not supported for clustering."
    )


def test_patch_adds_nullable_columns_only(ds: FakeWarehouse, manual_clock: ManualClock) -> None:
    ds.insert_rows("ds", "events", [event("a", manual_clock)])
    grown = [*EVENTS.schema, FieldSpec("note", FieldType.STRING)]
    info = ds.patch_table("ds", "events", schema=grown)
    assert info.spec.column_names[-1] == "note"
    assert ds.query("SELECT note FROM ds.events").rows == [{"note": None}]
    with pytest.raises(bq.RequiredFieldAdded) as info:
        ds.patch_table(
            "ds", "events", schema=[*grown, FieldSpec("req", FieldType.STRING, FieldMode.REQUIRED)]
        )
    assert_real_error(
        info.value,
        bq.RequiredFieldAdded,
        f"Provided Schema does not match Table {P}:ds.events. Cannot add required fields to an existing "
        "schema. (field: req)",
    )
    with pytest.raises(bq.FieldTypeChanged):
        changed = [FieldSpec("org_slug", FieldType.INTEGER, FieldMode.REQUIRED), *grown[1:]]
        ds.patch_table("ds", "events", schema=changed)


# ------------------------------------------------------------------------------------ values


def test_rows_round_trip_as_plain_python_values(ds: FakeWarehouse, manual_clock: ManualClock) -> None:
    row = event(
        "acme",
        manual_clock,
        amount=Decimal("12.5"),
        tags=["a", "b"],
        meta={"k": 1, "v": "x"},
        payload={"n": [1]},
    )
    ds.insert_rows("ds", "events", [row])
    (got,) = ds.query("SELECT * FROM ds.events").rows
    assert got == row
    assert got["created_at"].tzinfo is UTC


def test_streaming_insert_reports_per_row_errors_and_inserts_nothing(
    ds: FakeWarehouse, manual_clock: ManualClock
) -> None:
    rows = [
        event("ok", manual_clock),
        {"org_slug": "x"},
        event("y", manual_clock, nope=1),
        event("z", manual_clock, amount="abc"),
    ]
    with pytest.raises(InsertRowsError) as info:
        ds.insert_rows("ds", "events", rows, mode=InsertMode.STREAMING)
    errors = {e.index: (e.reason, e.location, e.message) for e in info.value.row_errors}
    assert errors[1][:2] == ("invalid", "created_at")  # bq.MissingRequiredField: text unconfirmed
    assert errors[2] == ("invalid", "nope", "no such field: nope.")  # bq.NoSuchField: confirmed
    assert errors[3][0:2] == ("invalid", "amount")
    assert 0 not in errors
    assert ds.get_table("ds", "events").num_rows == 0


def test_row_refusals_read_as_bigquery_words_them() -> None:
    """The confirmed insertAll texts: the leaf field's name in the message and the indexed path in
    ``location`` (glific/glific#3477), "floating point" for FLOAT (DataflowTemplates#22)."""
    fields = FieldSpec(
        name="fields",
        type=FieldType.RECORD,
        mode=FieldMode.REPEATED,
        fields=(FieldSpec(name="value", type=FieldType.STRING),),
    )
    schema = (fields, FieldSpec(name="n", type=FieldType.INTEGER), FieldSpec(name="x", type=FieldType.FLOAT))
    with pytest.raises(bq.ArrayForNonRepeatedField) as array:
        row_to_storage(schema, {"fields": [{"value": ["a"]}]})
    assert (array.value.location, array.value.message) == (
        "fields[0].value",
        "Array specified for non-repeated field: value.",
    )
    with pytest.raises(bq.CannotConvert) as integer:
        row_to_storage(schema, {"n": "abc"})
    assert integer.value.message == "Cannot convert value to integer (bad value): abc"
    with pytest.raises(bq.CannotConvert) as double:
        row_to_storage(schema, {"x": "abc"})
    assert double.value.message == "Cannot convert value to floating point (bad value): abc"


def test_query_parameters_typed_like_the_google_client(ds: FakeWarehouse, manual_clock: ManualClock) -> None:
    ds.insert_rows(
        "ds", "events", [event("a", manual_clock, amount=Decimal("1.25")), event("b", manual_clock)]
    )
    result = ds.query(
        "SELECT org_slug FROM ds.events WHERE org_slug IN UNNEST(@slugs) AND created_at >= @since ORDER BY 1",
        {"slugs": ["a", "b"], "since": QueryParam("TIMESTAMP", "2024-12-31 00:00:00")},
    )
    assert [r["org_slug"] for r in result] == ["a", "b"]
    total = ds.query("SELECT SUM(amount) AS s FROM ds.events WHERE org_slug = @s", {"s": "a"}).scalar()
    assert total == Decimal("1.25")


def test_missing_parameter_and_bad_sql_are_invalid_query(ds: FakeWarehouse) -> None:
    for sql, error, message in [
        ("SELECT * FROM ds.events WHERE org_slug = @slug", bq.QueryParameterNotFound, None),
        ("SELEC 1", bq.QuerySyntaxError, None),
        ("SELECT nope FROM ds.events", bq.UnrecognizedName, None),
        (
            "SELECT * FROM events",
            bq.UnqualifiedTable,
            'Table "events" must be qualified with a dataset (e.g. dataset.table).',
        ),
    ]:
        with pytest.raises(InvalidRequestError) as info:
            ds.query(sql)
        assert_real_error(info.value, error, message)


def test_untranslatable_construct_is_a_clear_400_not_a_traceback(ds: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError) as info:
        ds.query("CREATE TEMP FUNCTION f(x INT64) RETURNS INT64 LANGUAGE js AS 'return x;'; SELECT f(1)")
    assert_real_error(info.value, bq.UnsupportedByFake)
    with pytest.raises(InvalidRequestError) as info:
        ds.query("GRANT `roles/bigquery.dataViewer` ON SCHEMA ds TO 'user:a@b.c'")
    assert isinstance(info.value, bq.UnsupportedByFake | bq.QuerySyntaxError)
    assert info.value.status == 400 and info.value.reason == "invalidQuery"


def test_client_errors_are_never_5xx(ds: FakeWarehouse) -> None:
    for sql in ["SELECT 1/0", "SELECT CAST('x' AS INT64)", "SELECT ERROR('boom')", "SELECT [1,2][OFFSET(5)]"]:
        try:
            ds.query(sql)
        except WarehouseError as exc:
            assert 400 <= exc.status < 500, (sql, exc)


# --------------------------------------------------------------------------- streaming buffer


def test_streamed_rows_block_update_delete_merge_for_30_minutes(
    ds: FakeWarehouse, manual_clock: ManualClock
) -> None:
    ds.insert_rows("ds", "events", [event("streamed", manual_clock)], mode=InsertMode.STREAMING)
    message = (
        f"UPDATE or DELETE statement over table {P}.ds.events would affect rows in the streaming buffer, "
        "which is not supported"
    )
    for sql in [
        "UPDATE ds.events SET amount = 1 WHERE org_slug = 'streamed'",
        "DELETE FROM ds.events WHERE TRUE",
        "MERGE ds.events T USING (SELECT 'streamed' AS s) S ON T.org_slug = S.s WHEN MATCHED THEN DELETE",
    ]:
        with pytest.raises(StreamingBufferError) as info:
            ds.execute(sql)
        assert_real_error(info.value, bq.StreamingBufferRefusal, message)
    assert ds.get_table("ds", "events").num_rows == 1
    assert ds.get_table("ds", "events").streaming_buffer is not None
    manual_clock.advance(timedelta(minutes=29, seconds=59))
    with pytest.raises(StreamingBufferError):
        ds.execute("DELETE FROM ds.events WHERE TRUE")
    manual_clock.advance(timedelta(seconds=1))
    assert ds.get_table("ds", "events").streaming_buffer is None
    assert ds.execute("UPDATE ds.events SET amount = 2 WHERE TRUE") == 1
    assert ds.execute("DELETE FROM ds.events WHERE TRUE") == 1


def test_dml_on_other_rows_and_dml_inserts_are_not_blocked(
    ds: FakeWarehouse, manual_clock: ManualClock
) -> None:
    ds.insert_rows("ds", "events", [event("dml", manual_clock)])
    ds.insert_rows("ds", "events", [event("streamed", manual_clock)], mode=InsertMode.STREAMING)
    assert (
        ds.execute("INSERT INTO ds.events (org_slug, created_at) VALUES ('more', CURRENT_TIMESTAMP())") == 1
    )
    assert ds.execute("UPDATE ds.events SET amount = 3 WHERE org_slug = 'dml'") == 1
    assert ds.execute("DELETE FROM ds.events WHERE org_slug = 'more'") == 1
    assert ds.query("SELECT amount FROM ds.events WHERE org_slug = 'dml'").scalar() == Decimal(3)


# ------------------------------------------------------------------ partitions and filters


def test_partition_expiration_on_the_injected_clock(
    warehouse: FakeWarehouse, manual_clock: ManualClock
) -> None:
    warehouse.create_dataset("ds")
    spec = TableSpec(
        "keys",
        (FieldSpec("k", FieldType.STRING), FieldSpec("created_at", FieldType.TIMESTAMP)),
        time_partitioning=TimePartitioning(field="created_at", expiration_ms=86_400_000),
    )
    warehouse.create_table("ds", spec)
    warehouse.insert_rows("ds", "keys", [{"k": "old", "created_at": manual_clock.now()}])
    # The 2025-01-01 partition ends at 01-02 00:00 and expires 24 h later.
    manual_clock.set(datetime(2025, 1, 2, 23, 59, 59, tzinfo=UTC))
    assert warehouse.query("SELECT k FROM ds.keys").rows == [{"k": "old"}]
    manual_clock.set(datetime(2025, 1, 3, tzinfo=UTC))
    assert warehouse.query("SELECT k FROM ds.keys").rows == []
    assert warehouse.get_table("ds", "keys").num_rows == 0


def test_require_partition_filter(warehouse: FakeWarehouse, manual_clock: ManualClock) -> None:
    warehouse.create_dataset("ds")
    spec = TableSpec(
        "t",
        (FieldSpec("a", FieldType.STRING), FieldSpec("day", FieldType.DATE)),
        time_partitioning=TimePartitioning(field="day"),
        require_partition_filter=True,
    )
    warehouse.create_table("ds", spec)
    with pytest.raises(InvalidRequestError) as info:
        warehouse.query("SELECT * FROM ds.t WHERE a = 'x'")
    assert_real_error(
        info.value,
        bq.PartitionFilterRequired,
        f"Cannot query over table '{P}.ds.t' without a filter over column(s) 'day' "
        "that can be used for partition elimination",
    )
    assert warehouse.query("SELECT * FROM ds.t AS x WHERE x.day = @d", {"d": date(2025, 1, 1)}).rows == []
    assert warehouse.execute("INSERT INTO ds.t (a, day) VALUES ('x', CURRENT_DATE())") == 1


# ----------------------------------------------------------------------------------- SQL


def test_dml_affected_rows_and_statement_types(ds: FakeWarehouse, manual_clock: ManualClock) -> None:
    ds.insert_rows("ds", "events", [event(s, manual_clock) for s in "abc"])
    update = ds.query("UPDATE ds.events SET amount = 1 WHERE org_slug IN ('a', 'b')")
    assert (update.statement_type, update.affected_rows) == ("UPDATE", 2)
    merge = ds.query(
        "MERGE ds.events T USING (SELECT 'c' AS s UNION ALL SELECT 'd') S ON T.org_slug = S.s "
        "WHEN MATCHED THEN UPDATE SET amount = 9 "
        "WHEN NOT MATCHED THEN INSERT (org_slug, created_at) VALUES (S.s, CURRENT_TIMESTAMP())"
    )
    assert (merge.statement_type, merge.affected_rows) == ("MERGE", 2)
    assert ds.query("SELECT COUNT(*) AS n FROM ds.events").scalar() == 4
    assert ds.query("SELECT * FROM ds.events").total_bytes_processed > 0


def test_ddl_goes_through_the_same_rules(warehouse: FakeWarehouse) -> None:
    warehouse.query("CREATE SCHEMA IF NOT EXISTS ds")
    created = warehouse.query(
        "CREATE TABLE ds.t (org_slug STRING NOT NULL, ts TIMESTAMP, n NUMERIC) "
        "PARTITION BY DATE(ts) CLUSTER BY org_slug OPTIONS(description='d', partition_expiration_days=1)"
    )
    assert created.statement_type == "CREATE_TABLE"
    spec = warehouse.get_table("ds", "t").spec
    assert spec.time_partitioning == TimePartitioning(field="ts", expiration_ms=86_400_000)
    assert spec.clustering_fields == ("org_slug",) and spec.description == "d"
    assert spec.schema[0].mode is FieldMode.REQUIRED
    with pytest.raises(bq.PartitionFieldNotFound):
        warehouse.query("CREATE TABLE ds.t2 (a STRING) PARTITION BY DATE(effective_date)")
    warehouse.query("ALTER TABLE ds.t ADD COLUMN note STRING")
    assert warehouse.get_table("ds", "t").spec.column_names[-1] == "note"
    with pytest.raises(ResourceInUseError):
        warehouse.query("DROP SCHEMA ds")
    warehouse.query("DROP TABLE ds.t")
    warehouse.query("DROP SCHEMA ds")
    assert warehouse.list_datasets() == []


def test_current_timestamp_comes_from_the_injected_clock(
    warehouse: FakeWarehouse, manual_clock: ManualClock
) -> None:
    manual_clock.set(datetime(2030, 6, 1, 12, tzinfo=UTC))
    row = warehouse.query("SELECT CURRENT_TIMESTAMP() AS now, CURRENT_DATE() AS today").rows[0]
    assert row == {"now": datetime(2030, 6, 1, 12, tzinfo=UTC), "today": date(2030, 6, 1)}


def test_required_column_null_in_dml(ds: FakeWarehouse) -> None:
    with pytest.raises(InvalidRequestError) as info:
        ds.execute("INSERT INTO ds.events (org_slug) VALUES ('x')")
    assert_real_error(info.value, bq.RequiredFieldNull, "Required field created_at cannot be null")


# ------------------------------------------------------------------------------- persistence


def test_file_backed_engine_keeps_data_and_metadata(tmp_path, manual_clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    first = FakeWarehouse(BigQueryEngine(manual_clock, tmp_path), P)
    first.create_dataset("ds", description="kept")
    first.create_table("ds", EVENTS)
    first.insert_rows("ds", "events", [event("s", manual_clock)], mode=InsertMode.STREAMING)
    first.engine.close()
    reopened = FakeWarehouse(BigQueryEngine(manual_clock, tmp_path), P)
    assert reopened.get_dataset("ds").description == "kept"
    assert reopened.get_table("ds", "events").spec == EVENTS
    assert reopened.query("SELECT org_slug FROM ds.events").rows == [{"org_slug": "s"}]
    with pytest.raises(StreamingBufferError):
        reopened.execute("DELETE FROM ds.events WHERE TRUE")
    reopened.engine.close()


def test_ddl_datetime_column_is_a_datetime(warehouse: FakeWarehouse) -> None:
    warehouse.create_dataset("ds")
    warehouse.query("CREATE TABLE ds.t (dt DATETIME, ts TIMESTAMP)")
    types = [f.type for f in warehouse.get_table("ds", "t").spec.schema]
    assert types == [FieldType.DATETIME, FieldType.TIMESTAMP]
