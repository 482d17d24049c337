"""The BigQuery fake against a plain in-memory model of one table, step by step.

Rules stream rows in, insert rows by DML, move the clock, DELETE and UPDATE one org's rows and
count them. The model knows, for every row, its org_slug, its value and until when it sits in
the streaming buffer (30 minutes after it was streamed; never for DML rows). DELETE and UPDATE
must fail exactly when the model says one of the rows they match is still buffered, and then
change nothing; contents, counts and the streaming-buffer statistics must always agree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from real_errors import assert_real_error

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.ports import InsertMode, StreamingBufferError
from harness.schema.spec import FieldMode, FieldSpec, FieldType, TableSpec

PROJECT = "test-project"
START = datetime(2025, 1, 1, tzinfo=UTC)
BUFFER = timedelta(minutes=30)
SPEC = TableSpec(
    "t",
    (
        FieldSpec("org_slug", FieldType.STRING, FieldMode.REQUIRED),
        FieldSpec("value", FieldType.INTEGER),
    ),
    clustering_fields=("org_slug",),
)
BUFFER_MESSAGE = (
    "UPDATE or DELETE statement over table test-project.ds.t would affect rows in the streaming "
    "buffer, which is not supported"
)

SLUGS = st.sampled_from(["acme", "globex", "initech"])
VALUES = st.integers(-(2**63), 2**63 - 1)
BATCHES = st.lists(VALUES, min_size=1, max_size=3)


@dataclass
class ModelRow:
    slug: str
    value: int
    streamed_at: datetime | None  # None: inserted by DML, never in the buffer


class StreamingBufferMachine(RuleBasedStateMachine):
    engine: BigQueryEngine | None = None  # shared by every run: a new DuckDB per run is the cost

    def __init__(self) -> None:
        super().__init__()
        if StreamingBufferMachine.engine is None:
            StreamingBufferMachine.engine = BigQueryEngine(ManualClock(START))
        engine = StreamingBufferMachine.engine
        engine.reset()
        self.clock = ManualClock(START)
        engine.clock = self.clock
        self.warehouse = FakeWarehouse(engine, PROJECT)
        self.warehouse.create_dataset("ds")
        self.warehouse.create_table("ds", SPEC)
        self.rows: list[ModelRow] = []

    # ------------------------------------------------------------------------------- model

    def buffered(self, slug: str | None = None) -> list[ModelRow]:
        now = self.clock.now()
        return [
            row
            for row in self.rows
            if row.streamed_at is not None
            and row.streamed_at + BUFFER > now
            and (slug is None or row.slug == slug)
        ]

    def _insert(self, slug: str, values: list[int], mode: InsertMode) -> None:
        inserted = self.warehouse.insert_rows(
            "ds", "t", [{"org_slug": slug, "value": v} for v in values], mode=mode
        )
        assert inserted == len(values)
        streamed_at = self.clock.now() if mode is InsertMode.STREAMING else None
        self.rows.extend(ModelRow(slug, v, streamed_at) for v in values)

    def _guarded(self, slug: str, sql: str, params: dict[str, object]) -> bool:
        """Run a DELETE/UPDATE; True if it ran, after checking it failed iff the model said so."""
        matching = [row for row in self.rows if row.slug == slug]
        if self.buffered(slug):
            event("DELETE/UPDATE refused: a matching row is buffered")
            with pytest.raises(StreamingBufferError) as refused:
                self.warehouse.execute(sql, params)
            assert_real_error(refused.value, bq.StreamingBufferRefusal, BUFFER_MESSAGE)
            return False
        event("DELETE/UPDATE ran" + (" while other rows were buffered" if self.buffered() else ""))
        assert self.warehouse.execute(sql, params) == len(matching)
        return True

    # ------------------------------------------------------------------------------- rules

    @rule(slug=SLUGS, values=BATCHES)
    def stream_insert(self, slug: str, values: list[int]) -> None:
        self._insert(slug, values, InsertMode.STREAMING)

    @rule(slug=SLUGS, values=BATCHES)
    def dml_insert(self, slug: str, values: list[int]) -> None:
        self._insert(slug, values, InsertMode.DML)

    @rule(slug=SLUGS, value=VALUES)
    def insert_statement(self, slug: str, value: int) -> None:
        """A DML INSERT statement is never refused, buffer or not."""
        sql = "INSERT INTO `ds.t` (org_slug, value) VALUES (@slug, @value)"
        assert self.warehouse.execute(sql, {"slug": slug, "value": value}) == 1
        self.rows.append(ModelRow(slug, value, None))

    @rule(minutes=st.integers(0, 40), seconds=st.sampled_from([0, 0, 0, 1, 59]))
    def advance(self, minutes: int, seconds: int) -> None:
        self.clock.advance(timedelta(minutes=minutes, seconds=seconds))

    @rule(data=st.data())
    def advance_to_buffer_edge(self, data: st.DataObject) -> None:
        """Straight to the moment a buffered row leaves the buffer, or a microsecond before."""
        buffered = self.buffered()
        if not buffered:  # not a precondition: filtered rule draws make Hypothesis give up runs
            return
        row = data.draw(st.sampled_from(buffered))
        edge = row.streamed_at + BUFFER  # type: ignore[operator]
        self.clock.set(edge - data.draw(st.sampled_from([timedelta(0), timedelta(microseconds=1)])))

    @rule(slug=SLUGS)
    def delete_org(self, slug: str) -> None:
        if self._guarded(slug, "DELETE FROM `ds.t` WHERE org_slug = @slug", {"slug": slug}):
            self.rows = [row for row in self.rows if row.slug != slug]

    @rule(slug=SLUGS, value=VALUES)
    def update_org(self, slug: str, value: int) -> None:
        sql = "UPDATE `ds.t` SET value = @value WHERE org_slug = @slug"
        if self._guarded(slug, sql, {"slug": slug, "value": value}):
            for row in self.rows:
                if row.slug == slug:
                    row.value = value

    @rule(slug=SLUGS)
    def count_org(self, slug: str) -> None:
        sql = "SELECT COUNT(*) AS n FROM `ds.t` WHERE org_slug = @slug"
        assert self.warehouse.query(sql, {"slug": slug}).scalar() == sum(r.slug == slug for r in self.rows)

    @rule()
    def contents_match(self) -> None:
        """Every row's org_slug and value, as a multiset (a rule, and again at teardown)."""
        found = self.warehouse.query("SELECT org_slug, value FROM `ds.t`").rows
        assert Counter((r["org_slug"], r["value"]) for r in found) == Counter(
            (row.slug, row.value) for row in self.rows
        )

    def teardown(self) -> None:
        self.contents_match()

    # -------------------------------------------------------------------------- invariants

    @invariant()
    def table_metadata_matches(self) -> None:
        """num_rows and the streaming-buffer statistics (tables.get), checked after every step."""
        info = self.warehouse.get_table("ds", "t")
        assert info.num_rows == len(self.rows)
        buffered = self.buffered()
        if not buffered:
            assert info.streaming_buffer is None
            return
        assert info.streaming_buffer is not None
        assert info.streaming_buffer.estimated_rows == len(buffered)
        assert info.streaming_buffer.oldest_entry_time == min(row.streamed_at for row in buffered)  # type: ignore[type-var]


StreamingBufferMachine.TestCase.settings = settings(
    max_examples=max(5, settings.default.max_examples // 2), stateful_step_count=30
)
TestStreamingBuffer = StreamingBufferMachine.TestCase
