"""The engine's kept table sizes against a fresh scan, after every kind of write.

``tables.get`` (``numRows``, the streaming buffer), ``numBytes`` and ``totalBytesProcessed`` read a
per-table size record kept until a write changes the table (:mod:`fakes.bigquery.table_sizes`). A
stale record is a fidelity bug, so after each write every figure is compared with the same figure
computed by the scan the engine ran before it kept them (the SQL of that scan is repeated here,
on the engine's storage, past the record). A state machine runs random sequences of writes (inserts,
streaming, DML, MERGE, TRUNCATE, copies, CTAS, ALTER, loads, query destinations, drop and
re-create, partition deletes, scripts, the clock moving past partition expiry and the buffer);
the tests below it take the paths a sequence cannot (rollback, restore, undelete, a reopened
file, a kept database) one by one.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fakes.bigquery import queries, table_sizes
from fakes.bigquery.catalog import STREAM_COL, Table
from fakes.bigquery.dataset_undelete import DeletedDatasets
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.load_options import load_options
from fakes.bigquery.loads import run_load
from fakes.bigquery.query_destination import write_destination
from fakes.bigquery.sql import TableRef
from fakes.bigquery.table_history import history_of
from fakes.bigquery.table_sizes import RowsWritten, TableSize
from fakes.bigquery.table_sizes import measure as fresh_measure
from fakes.bigquery.types import as_utc, quote_ident
from harness.clock import ManualClock
from harness.ports import StreamingBufferError, WarehouseError
from harness.schema.spec import DatasetSpec, FieldMode, FieldSpec, FieldType, TableSpec, TimePartitioning

P = "p"
DS = "ds"
START = datetime(2025, 3, 10, 12, tzinfo=UTC)
SCHEMA = (
    FieldSpec("name", FieldType.STRING),
    FieldSpec("n", FieldType.INTEGER),
    FieldSpec("blob", FieldType.BYTES),
    FieldSpec("tags", FieldType.STRING, FieldMode.REPEATED),
    FieldSpec("price", FieldType.NUMERIC),
    FieldSpec(
        "rec", FieldType.RECORD, fields=(FieldSpec("a", FieldType.STRING), FieldSpec("x", FieldType.INTEGER))
    ),
    FieldSpec("day", FieldType.DATE),
)
#: ``t``: partitioned by ``day``, partitions expire two days after they end.
PARTITIONED = TableSpec(
    "t", SCHEMA, time_partitioning=TimePartitioning(field="day", expiration_ms=2 * 24 * 3600 * 1000)
)
PLAIN = TableSpec("u", SCHEMA)

ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.one_of(st.none(), st.text(max_size=6)),
            "n": st.one_of(st.none(), st.integers(-5, 5)),
            "blob": st.one_of(st.none(), st.binary(max_size=5)),
            "tags": st.lists(st.text(max_size=3), max_size=3),
            "price": st.one_of(st.none(), st.decimals(-100, 100, places=2)),
            "rec": st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {"a": st.one_of(st.none(), st.text(max_size=4)), "x": st.integers(0, 9)}
                ),
            ),
            "day": st.one_of(st.none(), st.integers(-4, 1).map(lambda d: (START + timedelta(days=d)).date())),
        }
    ),
    min_size=1,
    max_size=4,
)


# ---------------------------------------------------------------------------------------- the oracle


def fresh_bytes(engine: BigQueryEngine, table_id: str, names: set[str] | None) -> int:
    """``totalBytesProcessed`` of the columns ``names`` (all: None) as the engine measured it
    before it kept sizes: one scan with BigQuery's per-type sizes."""
    table = engine._tables[(P, DS, table_id)]
    columns = [f for f in table.spec.schema if names is None or f.name.lower() in names]
    if not columns:
        return 0
    fixed = [f for f in columns if f.type in table_sizes.FIXED_BYTES and not f.is_repeated]
    variable = [f for f in columns if f not in fixed]
    sums = [f"coalesce(sum({_length(f)} + 2), 0)" for f in variable]
    with engine._lock:
        counts = engine._conn.execute(
            f"SELECT {', '.join(['count(*)', *sums])} FROM {engine._storage_sql(table.ref)}"
        ).fetchone()
    assert counts is not None
    return int(counts[0]) * sum(table_sizes.FIXED_BYTES[f.type] for f in fixed) + sum(
        int(v) for v in counts[1:]
    )


def _length(spec: FieldSpec) -> str:
    column = quote_ident(spec.name)
    if spec.type is FieldType.BYTES and not spec.is_repeated:
        return f"octet_length({column})"
    return f"strlen(CAST({column} AS VARCHAR))"


def fresh_info(engine: BigQueryEngine, table_id: str) -> tuple[int, int, datetime | None]:
    """Rows, rows in the streaming buffer and the oldest one's horizon, by a scan at the clock's now."""
    table = engine._tables[(P, DS, table_id)]
    stream = quote_ident(STREAM_COL)
    now = engine.clock.now()
    with engine._lock:
        found = engine._conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {stream} > ?), "
            f"min({stream}) FILTER (WHERE {stream} > ?) FROM {engine._storage_sql(table.ref)}",
            [now, now],
        ).fetchone()
    assert found is not None
    return int(found[0]), int(found[1]), as_utc(found[2]) if found[2] is not None else None


def assert_sizes_fresh(engine: BigQueryEngine, table_id: str) -> None:
    """Every kept figure of ``table_id`` equals a fresh scan's: rows, the streaming buffer,
    ``numBytes`` (each read twice: the second reading is the kept record's) and each column's
    ``totalBytesProcessed``."""
    for _ in range(2):
        info = engine.get_table(P, DS, table_id)
        rows, buffered, oldest = fresh_info(engine, table_id)
        assert info.num_rows == rows
        if buffered:
            assert info.streaming_buffer is not None
            assert info.streaming_buffer.estimated_rows == buffered
            assert oldest is not None
            assert info.streaming_buffer.oldest_entry_time == oldest - timedelta(minutes=30)
        else:
            assert info.streaming_buffer is None
        assert engine.num_bytes(P, DS, table_id) == fresh_bytes(engine, table_id, None)
    for field in info.spec.schema:
        sql = f"SELECT `{field.name}` FROM `{DS}.{table_id}`"
        estimated = engine.dry_run(P, sql).total_bytes_processed
        assert estimated == fresh_bytes(engine, table_id, {field.name.lower()}), field.name


def table_ids(engine: BigQueryEngine) -> list[str]:
    return [info.spec.table_id for info in engine.list_tables(P, DS)]


# --------------------------------------------------------------------------------- random sequences


class SizeMachine(RuleBasedStateMachine):
    """Random writes on a partitioned table ``t`` and a plain one ``u`` of the same columns."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.engine = BigQueryEngine(self.clock)
        self.engine.create_dataset(P, DatasetSpec(DS))
        self.engine.create_table(P, DS, PARTITIONED)
        self.engine.create_table(P, DS, PLAIN)

    def teardown(self) -> None:
        self.engine.close()

    def _dml(self, sql: str) -> None:
        """A DML statement; refused while a row it touches is in the streaming buffer."""
        with contextlib.suppress(StreamingBufferError):
            self.engine.query(P, sql)

    @rule(table=st.sampled_from(["t", "u"]), rows=ROWS, streaming=st.booleans())
    def insert_rows(self, table: str, rows: list[dict[str, object]], streaming: bool) -> None:
        self.engine.insert_rows(P, DS, table, rows, streaming=streaming)

    @rule(table=st.sampled_from(["t", "u"]), n=st.integers(-5, 5), days=st.integers(-3, 0))
    def dml_insert(self, table: str, n: int, days: int) -> None:
        day = (START + timedelta(days=days)).date().isoformat()
        self.engine.query(
            P, f"INSERT INTO {DS}.{table} (name, n, tags, day) VALUES ('dml', {n}, ['a', 'bb'], DATE '{day}')"
        )

    @rule(table=st.sampled_from(["t", "u"]), n=st.integers(-5, 5))
    def update(self, table: str, n: int) -> None:
        self._dml(
            f"UPDATE {DS}.{table} SET name = CONCAT(COALESCE(name, ''), 'xyz'), tags = [] WHERE n >= {n}"
        )

    @rule(table=st.sampled_from(["t", "u"]), n=st.integers(-5, 5))
    def delete(self, table: str, n: int) -> None:
        self._dml(f"DELETE FROM {DS}.{table} WHERE n < {n}")

    @rule()
    def merge(self) -> None:
        self._dml(
            f"MERGE {DS}.t T USING {DS}.u S ON T.n = S.n "
            "WHEN MATCHED THEN UPDATE SET name = S.name, blob = S.blob "
            "WHEN NOT MATCHED THEN INSERT (name, n, tags, day) VALUES (S.name, S.n, S.tags, S.day)"
        )

    @rule(table=st.sampled_from(["t", "u"]))
    def truncate(self, table: str) -> None:
        self.engine.query(P, f"TRUNCATE TABLE {DS}.{table}")

    @rule()
    def copy_rows(self) -> None:
        self.engine.copy_rows(TableRef(P, DS, "u"), TableRef(P, DS, "t"))

    @rule()
    def create_table_as_select(self) -> None:
        self.engine.query(P, f"CREATE OR REPLACE TABLE {DS}.u AS SELECT * FROM {DS}.t WHERE n IS NOT NULL")

    @rule()
    def alter_add_column(self) -> None:
        self.engine.query(P, f"ALTER TABLE {DS}.t ADD COLUMN IF NOT EXISTS note STRING")
        self._dml(f"UPDATE {DS}.t SET note = 'added' WHERE n = 0")

    @rule(rows=ROWS, truncate=st.booleans())
    def load_job(self, rows: list[dict[str, object]], truncate: bool) -> None:
        text = "\n".join(json.dumps(_json_row(row)) for row in rows).encode()
        load = {
            "destinationTable": {"projectId": P, "datasetId": DS, "tableId": "u"},
            "sourceFormat": "NEWLINE_DELIMITED_JSON",
            "writeDisposition": "WRITE_TRUNCATE" if truncate else "WRITE_APPEND",
        }
        run_load(self.engine, load_options(P, load), text)

    @rule(truncate=st.booleans())
    def query_destination(self, truncate: bool) -> None:
        result = self.engine.query(P, f"SELECT name, n, blob, tags, price, rec, day FROM {DS}.t")
        query = {
            "destinationTable": {"projectId": P, "datasetId": DS, "tableId": "u"},
            "writeDisposition": "WRITE_TRUNCATE" if truncate else "WRITE_APPEND",
        }
        write_destination(self.engine, P, query, result)

    @rule(rows=ROWS)
    def drop_and_recreate(self, rows: list[dict[str, object]]) -> None:
        self.engine.delete_table(P, DS, "u")
        self.engine.create_table(P, DS, PLAIN)
        self.engine.insert_rows(P, DS, "u", rows)

    @rule(data=st.data())
    def delete_partition(self, data: st.DataObject) -> None:
        """``tables.delete`` of a partition of ``t`` that has rows (``t$YYYYMMDD``)."""
        found = self.engine.query(P, f"SELECT DISTINCT day FROM {DS}.t WHERE day IS NOT NULL ORDER BY day")
        if not found.rows:  # not a precondition: filtered rule draws make Hypothesis give up runs
            return
        day = data.draw(st.sampled_from([row["day"] for row in found.rows]))
        self.engine.delete_table(P, DS, f"t${day:%Y%m%d}")

    @rule(n=st.integers(-5, 5))
    def script(self, n: int) -> None:
        script = (
            f"DECLARE k INT64 DEFAULT {n}; "
            f"INSERT INTO {DS}.u (name, n) VALUES ('script', k); "
            f"DELETE FROM {DS}.u WHERE n > k + 3; "
            f"SELECT COUNT(*) FROM {DS}.u;"
        )
        with contextlib.suppress(StreamingBufferError):  # the DELETE, while a row it hits is buffered
            self.engine.query(P, script)

    @rule(minutes=st.sampled_from([0, 1, 29, 31, 60 * 24, 60 * 49]))
    def advance_clock(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    @invariant()
    def sizes_are_fresh(self) -> None:
        for table_id in table_ids(self.engine):
            assert_sizes_fresh(self.engine, table_id)


SizeMachine.TestCase.settings = settings(
    max_examples=max(10, settings.default.max_examples // 4), stateful_step_count=12, deadline=None
)
TestSizesAfterRandomWrites = SizeMachine.TestCase


def _json_row(row: dict[str, object]) -> dict[str, object]:
    """A row as a JSON load carries it (bytes in base64, dates and numerics as text)."""
    out: dict[str, object] = {}
    for key, value in row.items():
        if isinstance(value, bytes):
            out[key] = base64.b64encode(value).decode()
        elif isinstance(value, date):
            out[key] = value.isoformat()
        elif value is not None and key == "price":
            out[key] = str(value)
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------------------------- path by path


@pytest.fixture
def sized() -> Iterator[tuple[BigQueryEngine, ManualClock]]:
    """An engine with ``t`` (partitioned) and ``u`` (plain), each with rows of every column type."""
    clock = ManualClock(START)
    engine = BigQueryEngine(clock)
    engine.create_dataset(P, DatasetSpec(DS))
    for spec in (PARTITIONED, PLAIN):
        engine.create_table(P, DS, spec)
        engine.insert_rows(P, DS, spec.table_id, [SAMPLE, {**SAMPLE, "n": 2, "name": "second"}])
    yield engine, clock
    engine.close()


SAMPLE: dict[str, object] = {
    "name": "first",
    "n": 1,
    "blob": b"\x00\x01",
    "tags": ["a", "bcd"],
    "price": "1.25",
    "rec": {"a": "inner", "x": 3},
    "day": START.date().isoformat(),
}


def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The scans the size records run from now on: ``rows`` (a new record: rows, the streaming
    buffer and the columns asked for) or ``columns`` (more columns' bytes for a kept record)."""
    seen: list[str] = []
    for kind, name in (("rows", "measure"), ("columns", "measure_columns")):
        real = getattr(table_sizes, name)

        def counting(*args, _kind=kind, _real=real):  # type: ignore[no-untyped-def]
            seen.append(_kind)
            return _real(*args)

        monkeypatch.setattr(table_sizes, name, counting)
    return seen


def test_reads_share_the_measurements_until_a_write(sized, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a write that drops the record (an UPDATE), tables.get (rows), then numBytes (every
    column): two scans, and no more for the queries, dry runs and tables.get after them; an
    insert keeps the record (worked forward by its rows), an UPDATE makes the next reads scan
    again."""
    engine, _ = sized
    engine.query(P, f"UPDATE {DS}.u SET n = n WHERE TRUE")
    seen = scans(monkeypatch)
    engine.get_table(P, DS, "u")
    assert seen == ["rows"]
    engine.num_bytes(P, DS, "u")
    assert seen == ["rows", "columns"]
    name_bytes = (len("first") + 2) + (len("second") + 2)  # a STRING is its length + 2
    assert engine.query(P, f"SELECT name FROM {DS}.u").total_bytes_processed == name_bytes
    engine.dry_run(P, f"SELECT * FROM {DS}.u")
    engine.get_table(P, DS, "u")
    assert seen == ["rows", "columns"]
    engine.insert_rows(P, DS, "u", [SAMPLE])
    assert engine.query(P, f"SELECT name FROM {DS}.u").total_bytes_processed == name_bytes + len("first") + 2
    assert engine.get_table(P, DS, "u").num_rows == 3
    engine.num_bytes(P, DS, "u")
    assert seen == ["rows", "columns"]
    engine.query(P, f"UPDATE {DS}.u SET name = 'x' WHERE n = 2")
    assert engine.query(P, f"SELECT name FROM {DS}.u").total_bytes_processed == 2 * (len("first") + 2) + 3
    assert engine.get_table(P, DS, "u").num_rows == 3
    engine.num_bytes(P, DS, "u")
    assert seen == ["rows", "columns", "rows", "columns"]
    assert_sizes_fresh(engine, "u")


def test_the_streaming_buffer_follows_the_clock_without_a_scan(
    sized, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, clock = sized
    engine.insert_rows(P, DS, "u", [SAMPLE], streaming=True)
    clock.advance(timedelta(minutes=10))
    engine.insert_rows(P, DS, "u", [SAMPLE, SAMPLE], streaming=True)
    seen = scans(monkeypatch)
    buffer = engine.get_table(P, DS, "u").streaming_buffer
    assert buffer is not None
    assert (buffer.estimated_rows, buffer.oldest_entry_time) == (3, START)
    clock.advance(timedelta(minutes=25))  # the first row left the buffer, the other two not yet
    buffer = engine.get_table(P, DS, "u").streaming_buffer
    assert buffer is not None
    assert (buffer.estimated_rows, buffer.oldest_entry_time) == (2, START + timedelta(minutes=10))
    assert_sizes_fresh(engine, "u")
    clock.set(START + timedelta(minutes=40))  # the last two rows' horizon: out of the buffer
    assert engine.get_table(P, DS, "u").streaming_buffer is None
    assert_sizes_fresh(engine, "u")
    assert seen == ["rows", "columns"]  # the columns: assert_sizes_fresh's numBytes


def assert_record_is_a_fresh_measure(engine: BigQueryEngine, table_id: str) -> TableSize:
    """The kept record of ``table_id`` equals, field by field (rows, horizons, each column's
    bytes), what a scan measures now for the columns it holds; the record is returned."""
    table = engine._tables[(P, DS, table_id)]
    kept = engine._sizes._records[table.ref]
    assert kept[0] is table
    columns = [f for f in table.spec.schema if f.name in kept[1].variable_bytes]
    with engine._lock:
        assert kept[1] == fresh_measure(
            engine._conn, engine._storage_sql(table.ref), table.spec.schema, columns
        )
    return kept[1]


def test_inserts_and_deletes_work_the_record_forward_without_a_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new table's record is known (empty); inserted, streamed and DML-inserted rows add to it,
    and a DELETE takes its rows off it, horizons included, each exactly as a scan finds them,
    while a read comes between writes (each ``read()`` here: a tables.get)."""
    clock = ManualClock(START)
    engine = BigQueryEngine(clock)

    def read() -> None:
        engine.get_table(P, DS, "u")

    try:
        engine.create_dataset(P, DatasetSpec(DS))
        engine.create_table(P, DS, PLAIN)
        seen = scans(monkeypatch)
        variable = [f.name for f in SCHEMA if f.type not in table_sizes.FIXED_BYTES or f.is_repeated]
        assert assert_record_is_a_fresh_measure(engine, "u") == TableSize(
            SCHEMA, 0, (), dict.fromkeys(variable, 0)
        )
        engine.insert_rows(P, DS, "u", [SAMPLE, {**SAMPLE, "name": "ünï", "tags": []}])
        read()
        engine.insert_rows(P, DS, "u", [SAMPLE], streaming=True)
        read()
        clock.advance(timedelta(minutes=10))
        engine.insert_rows(P, DS, "u", [SAMPLE, {**SAMPLE, "n": 7, "name": None}], streaming=True)
        read()
        engine.query(P, f"INSERT INTO {DS}.u (name, n, tags) VALUES ('dml', 4, ['a', 'bb']) -- a comment")
        read()
        record = assert_record_is_a_fresh_measure(engine, "u")
        assert record.rows == 6
        assert record.horizons == ((START + timedelta(minutes=30), 1), (START + timedelta(minutes=40), 2))
        utf8 = len("ünï".encode()) + 2  # BigQuery's bytes of a STRING: its UTF-8 length + 2
        assert record.variable_bytes["name"] == 3 * (len("first") + 2) + utf8 + len("dml") + 2
        assert record.variable_bytes["blob"] == 5 * (2 + 2)
        clock.advance(timedelta(minutes=31))  # every streamed row out of the buffer: DELETE may touch them
        assert engine.query(P, f"DELETE FROM {DS}.u AS x WHERE x.n = 1").affected_rows == 4
        record = assert_record_is_a_fresh_measure(engine, "u")
        assert (record.rows, record.horizons) == (2, ((START + timedelta(minutes=40), 1),))
        assert record.variable_bytes["name"] == len("dml") + 2
        read()
        engine.query(P, f"DELETE FROM {DS}.u WHERE n > 100")  # no row: the record stays
        assert engine._sizes._records[engine._tables[(P, DS, "u")].ref][1] is record
        assert_sizes_fresh(engine, "u")
        assert seen == []
        engine.insert_rows(P, DS, "u", [SAMPLE])  # worked forward: a read came before it
        engine.insert_rows(P, DS, "u", [SAMPLE])  # none since the last: dropped, not kept up
        assert engine._tables[(P, DS, "u")].ref not in engine._sizes._records
        assert_sizes_fresh(engine, "u")
        assert seen == ["rows", "columns"]
        with pytest.raises(WarehouseError):
            engine.query(P, f"INSERT INTO {DS}.u (n) VALUES (CAST('x' AS INT64))")
        engine.get_table(P, DS, "u")
        assert seen == ["rows", "columns", "rows"]  # a failed INSERT drops the record: measured again
    finally:
        engine.close()


def _insert_late_row(engine: BigQueryEngine, table: Table, written: RowsWritten) -> None:
    """One row inserted with the statement's ``RETURNING`` and handed to the record as its rows."""
    returned = engine._conn.execute(
        f"INSERT INTO {engine._storage_sql(table.ref)} (name) VALUES ('late'){written.returning}"
    ).fetchall()
    engine._sizes.wrote(written, returned, removed=False)


def test_a_record_measured_further_between_a_write_and_its_rows_is_dropped(sized) -> None:
    """The rows a statement returns carry the bytes of the columns its record held when the
    statement was made; a column measured after that (before the rows went in) is not among
    them, so the record is not worked forward but measured again."""
    engine, _ = sized
    table = engine._tables[(P, DS, "u")]
    engine.query(P, f"UPDATE {DS}.u SET n = n WHERE TRUE")  # a record with no column measured
    engine.get_table(P, DS, "u")
    with engine._lock:
        written = engine._sizes.writing(table)
        assert written is not None and written.columns == ()
        engine._sizes.of(table, [SCHEMA[0]])  # measures ``name`` without the row to come
        _insert_late_row(engine, table, written)
        assert table.ref not in engine._sizes._records
    assert engine.get_table(P, DS, "u").num_rows == 3
    assert_sizes_fresh(engine, "u")


def test_a_record_dropped_between_a_write_and_its_rows_stays_dropped(sized) -> None:
    """Another write between a statement and its returned rows dropped the record: the rows do
    not bring back the record the statement started from."""
    engine, _ = sized
    table = engine._tables[(P, DS, "u")]
    engine.get_table(P, DS, "u")
    with engine._lock:
        written = engine._sizes.writing(table)
        assert written is not None
        engine._conn.execute(f"DELETE FROM {engine._storage_sql(table.ref)} WHERE n = 2")
        engine._sizes.changed(table.ref)
        _insert_late_row(engine, table, written)
        assert table.ref not in engine._sizes._records
    assert engine.get_table(P, DS, "u").num_rows == 2
    assert_sizes_fresh(engine, "u")


def test_the_columns_a_statement_reads_are_found_once_per_statement(
    sized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``totalBytesProcessed`` walks a statement's tree for the columns it reads; the REST
    emulator asks for it on every job, so a statement run again (parsed once) is not walked again."""
    engine, _ = sized
    sql = f"SELECT name FROM {DS}.u WHERE n > 0"
    first = engine.query(P, sql).total_bytes_processed
    walked: list[object] = []
    real = queries._columns_in
    monkeypatch.setattr(queries, "_columns_in", lambda tree: walked.append(tree) or real(tree))
    assert engine.query(P, sql).total_bytes_processed == first == fresh_bytes(engine, "u", {"name", "n"})
    assert walked == []
    assert engine.query(P, f"SELECT blob FROM {DS}.u").total_bytes_processed == fresh_bytes(
        engine, "u", {"blob"}
    )
    assert len(walked) == 1


def test_partition_expiry_on_the_clock(sized) -> None:
    """Partitions expire two days after they end: a read after that sees their rows gone."""
    engine, clock = sized
    engine.insert_rows(P, DS, "t", [{**SAMPLE, "day": (START - timedelta(days=1)).date().isoformat()}])
    assert engine.get_table(P, DS, "t").num_rows == 3
    clock.advance(timedelta(days=2))  # yesterday's partition ended a day ago + 2 days: expired
    assert engine.num_bytes(P, DS, "t") == fresh_bytes(engine, "t", None)
    assert engine.get_table(P, DS, "t").num_rows == 2
    assert_sizes_fresh(engine, "t")
    clock.advance(timedelta(days=3))
    assert engine.query(P, f"SELECT n FROM {DS}.t").total_bytes_processed == 0
    assert_sizes_fresh(engine, "t")


def test_a_deleted_partition(sized) -> None:
    engine, _ = sized
    engine.insert_rows(P, DS, "t", [{**SAMPLE, "day": (START - timedelta(days=1)).date().isoformat()}])
    assert engine.get_table(P, DS, "t").num_rows == 3
    engine.delete_table(P, DS, f"t${START.date():%Y%m%d}")
    assert engine.get_table(P, DS, "t").num_rows == 1
    assert_sizes_fresh(engine, "t")


def test_table_expiration_and_recreation(sized) -> None:
    engine, clock = sized
    assert engine.get_table(P, DS, "u").num_rows == 2
    engine.patch_table(P, DS, "u", expires=START + timedelta(hours=1))
    clock.advance(timedelta(hours=2))
    assert "u" not in table_ids(engine)
    engine.create_table(P, DS, replace_schema(PLAIN, SCHEMA[:2]))
    engine.insert_rows(P, DS, "u", [{"name": "new", "n": 5}])
    assert engine.get_table(P, DS, "u").num_rows == 1
    assert_sizes_fresh(engine, "u")


def test_drop_and_recreate_with_another_schema(sized) -> None:
    engine, _ = sized
    assert engine.num_bytes(P, DS, "u") == fresh_bytes(engine, "u", None)
    engine.delete_table(P, DS, "u")
    engine.create_table(P, DS, replace_schema(PLAIN, (FieldSpec("name", FieldType.BYTES),)))
    assert engine.num_bytes(P, DS, "u") == 0
    engine.insert_rows(P, DS, "u", [{"name": b"abc"}])
    assert engine.num_bytes(P, DS, "u") == 5
    assert_sizes_fresh(engine, "u")


def test_a_rolled_back_write_is_measured_again(sized) -> None:
    """A transaction that fails after a write and a read leaves its tables as they were, and
    their sizes as a fresh scan finds them."""
    engine, _ = sized
    before = engine.get_table(P, DS, "u").num_rows
    with pytest.raises(RuntimeError), engine._lock, engine._writes.atomic():
        engine.insert_rows(P, DS, "u", [SAMPLE, SAMPLE])
        assert engine.get_table(P, DS, "u").num_rows == before + 2
        raise RuntimeError("fails after the write")
    assert engine.get_table(P, DS, "u").num_rows == before
    assert_sizes_fresh(engine, "u")


def test_a_refused_update_is_rolled_back_and_measured_again(sized) -> None:
    engine, _ = sized
    engine.insert_rows(P, DS, "u", [{**SAMPLE, "n": 9}], streaming=True)
    assert engine.num_bytes(P, DS, "u") == fresh_bytes(engine, "u", None)
    with pytest.raises(StreamingBufferError):
        engine.query(P, f"UPDATE {DS}.u SET name = 'longer than before' WHERE TRUE")
    assert_sizes_fresh(engine, "u")
    engine.query(P, f"UPDATE {DS}.u SET name = 'longer than before' WHERE n < 9")
    assert_sizes_fresh(engine, "u")


def test_a_failed_create_table_as_select_leaves_sizes_fresh(sized) -> None:
    engine, _ = sized
    assert engine.num_bytes(P, DS, "u") == fresh_bytes(engine, "u", None)
    with pytest.raises(WarehouseError, match=r"(?i)division"):
        engine.query(P, f"CREATE OR REPLACE TABLE {DS}.u AS SELECT n / 0 AS n FROM {DS}.t")
    assert_sizes_fresh(engine, "u")
    engine.query(P, f"CREATE OR REPLACE TABLE {DS}.u AS SELECT name, tags FROM {DS}.t")
    assert_sizes_fresh(engine, "u")


def test_a_restored_snapshot_and_an_undeleted_dataset(sized) -> None:
    engine, clock = sized
    rows, size = engine.get_table(P, DS, "u").num_rows, engine.num_bytes(P, DS, "u")
    moment = int(clock.now().timestamp() * 1000)
    clock.advance(timedelta(minutes=1))
    history_of(engine).delete(P, DS, "u")
    with history_of(engine).readable([TableRef(P, DS, f"u@{moment}")]) as (restored,):
        assert engine.get_table(P, restored.dataset, restored.table).num_rows == rows
        assert engine.num_bytes(P, restored.dataset, restored.table) == size
    deleted = DeletedDatasets(engine)
    assert engine.num_bytes(P, DS, "t") == fresh_bytes(engine, "t", None)
    deleted.delete(P, DS, delete_contents=True)
    deleted.undelete(P, DS, None)
    assert_sizes_fresh(engine, "t")


def test_reset_and_the_next_engine_on_a_kept_database() -> None:
    clock = ManualClock(START)
    first = BigQueryEngine(clock)
    first.create_dataset(P, DatasetSpec(DS))
    first.create_table(P, DS, PLAIN)
    first.insert_rows(P, DS, "u", [SAMPLE])
    assert first.get_table(P, DS, "u").num_rows == 1
    first.reset()
    first.create_dataset(P, DatasetSpec(DS))
    first.create_table(P, DS, PLAIN)
    assert first.get_table(P, DS, "u").num_rows == 0
    first.insert_rows(P, DS, "u", [SAMPLE, SAMPLE])
    assert first.num_bytes(P, DS, "u") == fresh_bytes(first, "u", None)
    first.close()
    second = BigQueryEngine(clock)  # the database the first one handed back
    try:
        second.create_dataset(P, DatasetSpec(DS))
        second.create_table(P, DS, PLAIN)
        assert second.get_table(P, DS, "u").num_rows == 0
        assert second.num_bytes(P, DS, "u") == 0
        assert_sizes_fresh(second, "u")
    finally:
        second.close()


def test_a_reopened_file_backed_engine(tmp_path: Path) -> None:
    clock = ManualClock(START)
    engine = BigQueryEngine(clock, tmp_path)
    engine.create_dataset(P, DatasetSpec(DS))
    engine.create_table(P, DS, PLAIN)
    engine.insert_rows(P, DS, "u", [SAMPLE, SAMPLE], streaming=True)
    info, size = engine.get_table(P, DS, "u"), engine.num_bytes(P, DS, "u")
    engine.close()
    reopened = BigQueryEngine(clock, tmp_path)
    try:
        assert reopened.get_table(P, DS, "u") == info
        assert reopened.num_bytes(P, DS, "u") == size
        assert_sizes_fresh(reopened, "u")
    finally:
        reopened.close()


def replace_schema(spec: TableSpec, schema: tuple[FieldSpec, ...]) -> TableSpec:
    return TableSpec(spec.table_id, schema)
