"""What the domain logic runs on: the ports, the clock, the meta-table config and a few settings.

One ``Platform`` is built per tier (fake, emulator, gcp) by ``harness.backends``; the onboarding,
pipeline and service code only ever sees this object. It is one service *process*: several of them
(:meth:`Platform.instance`) share the warehouse, keys and clock, so every state that must hold
across processes (API keys, running pipelines, idempotency claims) lives in the warehouse and
nothing here caches it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

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

    def __post_init__(self) -> None:
        if not ENVIRONMENT_PATTERN.match(self.environment):
            raise ValueError(f"environment {self.environment!r} must match {ENVIRONMENT_PATTERN.pattern}")

    def instance(self) -> Platform:
        """Another service process over the same warehouse, keys, clock and providers: what a
        deployment with several api-service (or pipeline-service) replicas looks like."""
        return Platform(**{f.name: getattr(self, f.name) for f in fields(self) if f.init})

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
