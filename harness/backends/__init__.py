"""Tier selection: the one place that knows which implementations back a tier.

Only the ``fake`` tier exists so far (in-process DuckDB BigQuery engine, local-crypto KMS, the
provider fakes mounted through respx); the ``emulator`` and ``gcp`` tiers plug in here with the
real google-cloud adapters.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from harness.ports import Clock, Warehouse


class Backend(StrEnum):
    FAKE = "fake"


DEFAULT_PROJECT = "cloudact-local"


def build_warehouse(
    backend: Backend, *, clock: Clock, project: str = DEFAULT_PROJECT, data_dir: Path | None = None
) -> Warehouse:
    """A warehouse for the tier; ``data_dir`` makes the fake file-backed so data outlives the process."""
    from fakes.bigquery.engine import BigQueryEngine
    from fakes.bigquery.warehouse import FakeWarehouse

    return FakeWarehouse(BigQueryEngine(clock, data_dir), project)
