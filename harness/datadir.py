"""The data directory of an emulator process started with ``--data-dir``: its layout, its lock,
its seed and its clock.

::

    DIR/.lock            held (flock) while a process serves from DIR; a second one refuses
    DIR/emulators.json   the seed the fakes derive keys and key material from, and the clock
    DIR/bigquery/        one DuckDB file per project (DuckDB's own WAL makes it crash-safe)
    DIR/kms.json         key rings, keys, versions: metadata only (material comes from the seed)
    DIR/openai.json      provider keys as SHA-256 digests, mint counts, rate limits, corruptions
    DIR/anthropic.json

The seed is fixed when the directory is first used (the one given, else a random one) and read
back at every start, so a restarted KMS derives the same key material and old ciphertexts decrypt;
starting on an existing directory with a different seed is refused. The clock is saved with its
lead over wall time whenever it is moved and at a clean stop, so a restarted process's clock
resumes from where it was and never goes back. Every problem is a
:class:`~harness.servers.ServeError` naming the file.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from fakes.anthropic import AnthropicState
from fakes.bigquery.engine import BigQueryEngine
from fakes.kms.persistence import PersistentKmsBackend
from fakes.openai import OpenAIState
from fakes.statefile import (
    DataDirLock,
    StateFileError,
    discard_temporary_files,
    field,
    read_state,
    write_state,
)
from harness.clock import ManualClock, WallClock
from harness.servers import ServeError

PROVIDERS = ("openai", "anthropic")


@dataclass
class PersistedState:
    """Every service's state, opened from a data directory."""

    engine: BigQueryEngine
    kms: PersistentKmsBackend
    openai: OpenAIState
    anthropic: AnthropicState


class SavingWallClock(WallClock):
    """A :class:`WallClock` that saves itself to the data directory every time it is moved."""

    def __init__(self, data_dir: DataDir) -> None:
        super().__init__()
        self._data_dir = data_dir

    def advance(self, delta: timedelta) -> datetime:
        moment = super().advance(delta)
        self._data_dir.save_clock(self)
        return moment

    def set(self, moment: datetime) -> datetime:
        moment = super().set(moment)
        self._data_dir.save_clock(self)
        return moment


class DataDir:
    """One emulator process's persistent state on disk (see the module docstring for the layout)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).absolute()
        self.manifest = self.path / "emulators.json"
        self.bigquery = self.path / "bigquery"
        self.kms = self.path / "kms.json"
        self._lock = DataDirLock(self.path)
        self.seed: int | None = None
        self.fresh = False
        """Whether :meth:`open` found no state here (a new directory): what seed files wait for."""

    def provider(self, name: str) -> Path:
        return self.path / f"{name}.json"

    def open(self, seed: int | None, clock: ManualClock) -> int:
        """Lock the directory, settle the seed, move ``clock`` to where the last run left it."""
        if self.path.exists() and not self.path.is_dir():
            raise ServeError(f"--data-dir {self.path} is not a directory")
        try:
            self._lock.acquire()
            discard_temporary_files(self.path)
            saved = read_state(self.manifest)
            self.fresh = saved is None
            if saved is not None:
                stored = field(self.manifest, saved, "seed", int)
                if seed is not None and seed != stored:
                    raise StateFileError(
                        self.manifest,
                        f"was written with seed {stored}, not {seed}; use it or another dir",
                    )
                seed = stored
                _restore_clock(clock, self.manifest, field(self.manifest, saved, "clock", dict))
        except StateFileError as exc:
            self._lock.release()
            raise ServeError(str(exc)) from None
        self.seed = seed if seed is not None else secrets.randbits(63)
        self.save_clock(clock)
        return self.seed

    def open_state(self, clock: ManualClock) -> PersistedState:
        """Every service's state from the directory (empty the first time); a file that cannot be
        read is a :class:`ServeError` naming it, never a silently empty service."""
        if self.seed is None:
            raise RuntimeError("DataDir.open() first: the seed is settled there")
        try:
            engine = BigQueryEngine(clock, self.bigquery)
        except duckdb.Error as exc:
            raise ServeError(f"{self.bigquery}: the BigQuery data cannot be opened ({exc})") from None
        try:
            return PersistedState(
                engine=engine,
                kms=PersistentKmsBackend(clock, self.seed, self.kms),
                openai=OpenAIState(clock=clock, seed=self.seed, state_path=self.provider("openai")),
                anthropic=AnthropicState(clock=clock, seed=self.seed, state_path=self.provider("anthropic")),
            )
        except StateFileError as exc:
            engine.close()
            raise ServeError(str(exc)) from None

    def save_clock(self, clock: ManualClock) -> None:
        if self.seed is None or not self._lock.held:  # not (or no longer) this process's directory
            return
        clock_data = {"now": clock.now().isoformat(), "wall": datetime.now(UTC).isoformat()}
        write_state(self.manifest, {"seed": self.seed, "clock": clock_data})

    def clear(self, seed: int | None) -> int:
        """Forget every service's state (a reset): the BigQuery files and the state files go; the
        lock is kept. Returns the seed now in force (``seed``, else a fresh random one)."""
        shutil.rmtree(self.bigquery, ignore_errors=True)
        for path in (self.kms, *(self.provider(name) for name in PROVIDERS)):
            path.unlink(missing_ok=True)
        self.seed = seed if seed is not None else secrets.randbits(63)
        return self.seed

    def close(self, clock: ManualClock) -> None:
        """Save the clock and release the directory; idempotent (nothing is written once released,
        when another process may own the directory)."""
        if self._lock.held:
            self.save_clock(clock)
            self._lock.release()


def _restore_clock(clock: ManualClock, path: Path, data: dict[str, Any]) -> None:
    """A wall clock gets its saved lead over wall time back; any clock is moved up to the saved
    time if it is behind it (a manual clock resumes exactly, a wall clock never goes back)."""
    try:
        now = datetime.fromisoformat(field(path, data, "now", str))
        wall = datetime.fromisoformat(field(path, data, "wall", str))
    except ValueError as exc:
        raise StateFileError(path, f"field 'clock' holds an invalid time ({exc})") from None
    if isinstance(clock, WallClock) and now > wall:
        clock.advance(now - wall)
    if clock.now() < now:
        clock.set(now)


__all__ = ["DataDir", "PersistedState", "SavingWallClock"]
