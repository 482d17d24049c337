"""One set of backends per tier for a whole test module, bootstrapped once and put back to the
freshly bootstrapped state before each test.

Building a tier's backends and bootstrapping the 15 meta tables costs a fifth of a second on the
fake tier and over half a second on the emulator tier (the tables go over HTTP) for every test;
the tests of a module that all start from "bootstrapped, empty" can share one set instead. The
reset works on the engine behind the ports, in-process, in milliseconds: every meta table
emptied (``TRUNCATE``), every other dataset dropped, every armed warehouse or KMS fault cleared,
the provider fakes back to their seed (the same keys are issued again). No test sees another's
rows: a row of any table is gone before the next test. A test that moved the clock leaves its
successor new backends instead (a manual clock never goes back). Only the fake and embedded
emulator tiers have an engine to reset this way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fakes.bigquery.engine import BigQueryEngine
from harness.backends import TierBackends, build_backends
from harness.backends.fake import FakeBackends
from harness.clock import ManualClock
from harness.onboarding.bootstrap import bootstrap
from harness.schema.spec import BootstrapConfig


class SharedBackends:
    """Each tier's backends, built and bootstrapped on first use, reset on every later one. The
    tiers of a module's tests alternate (``test_x[fake]``, ``test_x[emulator]``, ...), so every
    tier stays open; the fake tier's provider mocks (respx), which would catch every httpx request
    of the process, the emulator tier's included, are active only while the fake tier is in use."""

    def __init__(self, *, now: datetime, seed: int, config: BootstrapConfig) -> None:
        self._now, self._seed, self._config = now, seed, config
        self._built: dict[str, TierBackends] = {}
        self._paused: set[str] = set()
        """Fake tiers whose provider mocks are off while another tier is in use."""

    def fresh(self, tier: str) -> TierBackends:
        """The tier's backends as a fresh build and bootstrap would leave them, at ``now``: reset,
        or built again when the last test moved the clock (a manual clock never goes back, and
        the engine, the key ring, the provider fakes and the retries all hold this one)."""
        for other, backends in self._built.items():
            if other != tier and other not in self._paused and isinstance(backends, FakeBackends):
                backends.mocks.__exit__(None, None, None)
                self._paused.add(other)
        backends = self._built.get(tier)
        if backends is not None and backends.clock.now() == self._now:
            if tier in self._paused and isinstance(backends, FakeBackends):
                backends.mocks.__enter__()
                self._paused.discard(tier)
            reset(backends)
            return backends
        if backends is not None:
            self._built.pop(tier).close()
            self._paused.discard(tier)
        clock = ManualClock(self._now)
        backends = build_backends(tier, clock=clock, seed=self._seed, config=self._config)
        self._built[tier] = backends
        bootstrap(backends.platform.warehouse, backends.platform.config)
        return backends

    def close(self) -> None:
        for backends in self._built.values():
            backends.close()  # the fake tier's mocks stop once, paused or not
        self._built.clear()
        self._paused.clear()


@contextmanager
def shared_backends(*, now: datetime, seed: int, config: BootstrapConfig) -> Iterator[SharedBackends]:
    shared = SharedBackends(now=now, seed=seed, config=config)
    try:
        yield shared
    finally:
        shared.close()


def reset(backends: TierBackends) -> None:
    """Back to bootstrapped and empty: the meta tables kept and emptied, every other dataset gone,
    no fault armed, the provider fakes as seeded."""
    platform = backends.platform
    project = platform.warehouse.project
    engine = engine_of(backends)
    meta = platform.meta_dataset
    datasets = [info.dataset_id for info in engine.list_datasets(project)]
    for dataset_id in datasets:
        if dataset_id != meta:
            engine.delete_dataset(project, dataset_id, delete_contents=True)
    tables = [t.table_id for t in engine.list_tables(project, meta)] if meta in datasets else []
    if sorted(tables) == sorted(spec.table_id for spec in platform.config.tables):
        for table_id in tables:
            engine.truncate(project, meta, table_id)
    else:  # a test changed the meta tables themselves: bootstrap them again
        engine.delete_dataset(project, meta, delete_contents=True, not_found_ok=True)
        bootstrap(platform.warehouse, platform.config)
    backends.faults.clear()  # type: ignore[union-attr]
    backends.faults.fired.clear()  # type: ignore[union-attr]
    backends.openai.reset()
    backends.anthropic.reset()
    if isinstance(backends, FakeBackends):
        backends.mocks.router.reset()  # respx's log of the provider calls


def engine_of(backends: TierBackends) -> BigQueryEngine:
    """The DuckDB engine behind the tier's warehouse: the fake's own, or the embedded emulators'."""
    if isinstance(backends, FakeBackends):
        return backends.engine
    emulators = getattr(backends, "emulators", None)
    if emulators is None or emulators.engine is None:
        raise TypeError(f"{type(backends).__name__} has no engine of ours to reset")
    return emulators.engine
