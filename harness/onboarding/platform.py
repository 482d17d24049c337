"""What the domain logic runs on: the ports, the clock, the meta-table config and a few settings.

One ``Platform`` is built per tier (fake, emulator, gcp) by ``harness.backends``; the onboarding,
pipeline and service code only ever sees this object.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache

from harness.ports import (
    Clock,
    CredentialValidator,
    InsertMode,
    KeyManager,
    Provider,
    QueryResult,
    UsageSource,
    Warehouse,
)
from harness.schema.loader import load_config
from harness.schema.spec import BootstrapConfig

ENVIRONMENT_PATTERN = re.compile(r"^[a-z0-9_]{1,20}$")


@dataclass
class Platform:
    warehouse: Warehouse
    keys: KeyManager
    clock: Clock
    validators: Mapping[Provider, CredentialValidator]
    config: BootstrapConfig = field(default_factory=load_config)
    usage_sources: Mapping[Provider, UsageSource] = field(default_factory=dict)
    environment: str = "local"
    api_key_cache_ttl_seconds: float = 60.0
    api_key_cache: TTLCache = field(init=False, repr=False)
    run_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    """Serialises the "is a run of this pipeline already RUNNING?" check with the run's creation."""

    def __post_init__(self) -> None:
        if not ENVIRONMENT_PATTERN.match(self.environment):
            raise ValueError(f"environment {self.environment!r} must match {ENVIRONMENT_PATTERN.pattern}")
        # The cache's clock is the injected one; expiry happens on access, with no background thread.
        self.api_key_cache = TTLCache(
            maxsize=10_000, ttl=self.api_key_cache_ttl_seconds, timer=lambda: self.clock.now().timestamp()
        )

    @property
    def meta_dataset(self) -> str:
        return self.config.dataset.dataset_id

    def table(self, name: str) -> str:
        """A meta table as a fully qualified, backticked BigQuery reference."""
        return f"`{self.warehouse.project}.{self.meta_dataset}.{name}`"

    def org_dataset(self, org_slug: str) -> str:
        return f"{org_slug}_{self.environment}"

    # Meta-table access. Rows are written with DML, never streamed, so cleanup can delete them
    # at once (BigQuery refuses DELETE over rows still in the streaming buffer).

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        self.warehouse.insert_rows(self.meta_dataset, table, rows, mode=InsertMode.DML)

    def select(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        return self.warehouse.query(sql, params)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return self.warehouse.execute(sql, params)

    def delete_org_rows(self, table: str, org_slug: str) -> int:
        return self.execute(
            f"DELETE FROM {self.table(table)} WHERE org_slug = @org_slug", {"org_slug": org_slug}
        )
