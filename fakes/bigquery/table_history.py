"""Snapshot decorators of copy jobs (``t@<epoch ms>``, ``t@-<ms ago>``): a deleted table restored.

BigQuery's documented way to undelete a table is a copy job whose source is the deleted table at
a moment it still existed, within the dataset's time travel window (``maxTimeTravelHours``, seven
days unless set). Here a table deleted over REST leaves a copy of its rows in a graveyard table of
the engine's in-memory database; a copy job reading ``t@ms`` from it gets a hidden scratch table
made from that copy (in the hidden dataset ``_time_travel``, gone when the job ends).

A live table has no history in the emulator: ``t@ms`` reads it when it has not changed since
``ms`` (then its rows are those of that moment), and is refused by name when it has. A moment
before the table existed is BigQuery's invalid snapshot time.
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from fakes.bigquery.catalog import Table
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import InvalidSnapshotTime, TableNotFound, UnsupportedByFake
from fakes.bigquery.sql import TableRef
from fakes.bigquery.types import quote_ident
from harness.schema.spec import DatasetSpec

#: BigQuery's default time travel window, when the dataset sets no ``maxTimeTravelHours``.
DEFAULT_WINDOW = timedelta(hours=168)
SCRATCH_DATASET = "_time_travel"
_DECORATOR = re.compile(r"^(?P<base>[^@]+)@(?P<ms>-?\d+)$")


@dataclass
class _Deleted:
    table: Table
    grave: str
    deleted: datetime
    window: timedelta


class TableHistory:
    """The deleted tables of one engine, by ``(project, dataset, table)``, newest last."""

    def __init__(self, engine: BigQueryEngine) -> None:
        self._engine = engine
        self._deleted: dict[tuple[str, str, str], list[_Deleted]] = {}
        self._names = itertools.count(1)
        self._lock = threading.Lock()

    def delete(self, project: str, dataset_id: str, table_id: str) -> None:
        """``tables.delete``, keeping the table's rows for its dataset's time travel window."""
        engine = self._engine
        key = (project, dataset_id, table_id)
        with engine._lock:
            table = engine._tables.get(key) if "$" not in table_id else None
            kept = None
            if table is not None and not table.expired(engine.clock.now()):
                grave = engine.grave(f"bq_deleted_table_{next(self._names)}")
                storage = engine._storage_sql(table.ref)
                engine._conn.execute(f"CREATE TABLE {grave} AS SELECT * FROM {storage}")
                hours = engine.dataset_kept(project, dataset_id).get("maxTimeTravelHours")
                window = timedelta(hours=int(hours)) if hours else DEFAULT_WINDOW
                kept = _Deleted(copy.deepcopy(table), grave, engine.clock.now(), window)
            try:
                engine.delete_table(project, dataset_id, table_id)
            except BaseException:
                if kept is not None:
                    engine._conn.execute(f"DROP TABLE IF EXISTS {kept.grave}")
                raise
            if kept is not None:
                with self._lock:
                    self._deleted.setdefault(key, []).append(kept)

    @contextmanager
    def readable(self, refs: list[TableRef]) -> Iterator[list[TableRef]]:
        """``refs`` with each snapshot decorator replaced by a table a copy job can read."""
        scratch: list[TableRef] = []
        try:
            yield [self._resolve(ref, scratch) for ref in refs]
        finally:
            for ref in scratch:
                self._engine.delete_table(ref.project, ref.dataset, ref.table, not_found_ok=True)

    def _resolve(self, ref: TableRef, scratch: list[TableRef]) -> TableRef:
        match = _DECORATOR.match(ref.table)
        if match is None:
            return ref
        engine = self._engine
        base, ms = match["base"], int(match["ms"])
        now = engine.clock.now()
        at = now + timedelta(milliseconds=ms) if ms < 0 else datetime.fromtimestamp(ms / 1000, UTC)
        if ms == 0:
            raise UnsupportedByFake(
                f"The emulator does not read the snapshot decorator @0 (oldest snapshot) of {ref.table}",
                reason="invalid",
            )
        with engine._lock:
            live = engine._tables.get((ref.project, ref.dataset, base))
            if live is not None and not live.expired(now) and live.created <= at:
                if live.modified > at:
                    raise UnsupportedByFake(
                        f"The emulator keeps no history of live tables: {base} changed after the "
                        f"snapshot time of {ref.table}",
                        reason="invalid",
                    )
                return TableRef(ref.project, ref.dataset, base)
            version = self._version((ref.project, ref.dataset, base), at, now)
            if version is None:
                if live is not None and at < live.created:
                    raise InvalidSnapshotTime(
                        at=_millis(at),
                        project=ref.project,
                        dataset_id=ref.dataset,
                        table_id=base,
                        created=_millis(live.created),
                    )
                raise TableNotFound(project=ref.project, dataset_id=ref.dataset, table_id=ref.table)
            engine.create_dataset(ref.project, DatasetSpec(dataset_id=SCRATCH_DATASET), exists_ok=True)
            name = f"{base}_at_{_millis(at)}_{next(self._names)}"
            spec = replace(version.table.spec, table_id=name)
            engine.create_table(ref.project, SCRATCH_DATASET, spec)
            target = TableRef(ref.project, SCRATCH_DATASET, name)
            scratch.append(target)
            columns = ", ".join(quote_ident(f.name) for f in spec.schema)
            engine._conn.execute(
                f"INSERT INTO {engine._storage_sql(target)} ({columns}) SELECT {columns} FROM {version.grave}"
            )
            engine._sizes.changed(target)
            return target

    def _version(self, key: tuple[str, str, str], at: datetime, now: datetime) -> _Deleted | None:
        with self._lock:
            versions = self._deleted.get(key, [])
            for expired in [v for v in versions if now - v.deleted > v.window]:
                versions.remove(expired)
                self._engine._conn.execute(f"DROP TABLE IF EXISTS {expired.grave}")
            found = [v for v in versions if v.table.created <= at < v.deleted]
            return found[-1] if found else None


_HISTORIES: weakref.WeakKeyDictionary[BigQueryEngine, TableHistory] = weakref.WeakKeyDictionary()
_HISTORIES_LOCK = threading.Lock()


def history_of(engine: BigQueryEngine) -> TableHistory:
    """The engine's table history (made on first use, shared by tables.delete and copy jobs)."""
    with _HISTORIES_LOCK:
        history = _HISTORIES.get(engine)
        if history is None:
            history = _HISTORIES[engine] = TableHistory(engine)
        return history


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
