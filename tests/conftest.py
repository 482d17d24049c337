"""Shared fixtures for the harness's own tests."""

from __future__ import annotations

import pytest

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock

PROJECT = "test-project"


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(manual_clock: ManualClock) -> BigQueryEngine:
    engine = BigQueryEngine(manual_clock)
    yield engine
    engine.close()


@pytest.fixture
def warehouse(engine: BigQueryEngine) -> FakeWarehouse:
    return FakeWarehouse(engine, PROJECT)
