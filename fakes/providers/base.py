"""The state every fake provider shares: keys, rate limits, faults, request log, usage data.

Both fakes answer the same questions — is this key issued, revoked or rate limited, must the
next request fail, what did clients send, what did this organization use — so the bookkeeping
lives here once (one small module per job, combined here) and each provider package only adds its
key format, its usage shapes (the abstract hooks), its error classes and its routes (moto's split:
state in ``models``, wire format in ``rest``). Nothing here knows about HTTP frameworks or respx,
so the same state drives the in-process mount and a fake served on a port. Thread-safe: one lock,
since the emulator serves threads.

Time: request timestamps come from the injected :class:`~harness.ports.Clock`.

Persistence: with ``state_path`` the keys (as digests), mint counts, rate limits and usage
corruptions are loaded from that file and saved to it after every change
(:mod:`fakes.providers.persistence`); queued faults and the request log stay in memory, they
describe the requests of one run.
"""

from __future__ import annotations

import threading
from abc import ABC
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fakes.providers.faults import FaultQueue
from fakes.providers.keys import KeyStore
from fakes.providers.persistence import PersistedState
from fakes.providers.ratelimits import RateLimits
from fakes.providers.requests import RequestLog
from fakes.providers.usage import UsageGenerator
from harness.ports import Clock


@dataclass
class ProviderState(KeyStore, RateLimits, FaultQueue, RequestLog, UsageGenerator, PersistedState, ABC):
    """Keys, faults, the request log and usage data of one fake provider. A provider subclasses it
    and implements the abstract hooks (key and request-id formats, usage rows, prices)."""

    seed: int = 0
    clock: Clock | None = None
    models: list[dict[str, Any]] = field(default_factory=list)
    usage_model_count: int = 4
    """How many models appear in the usage/cost reports (a test can ask for 20)."""
    activity_rate: float = 0.7
    """Chance that a model other than the first was used on a given day (per org)."""
    admin_keys_list_models: bool = True
    """Whether admin keys are accepted by ``GET /v1/models``. True so one credential both validates
    and pulls usage in our flow; both real providers document that admin keys work only on
    administration endpoints, so set False for the real behaviour."""
    state_path: Path | None = None
    """Where the state persists (loaded at start, saved at every change); None: in memory only."""

    def __post_init__(self) -> None:
        if self.usage_model_count < 1:
            raise ValueError("usage_model_count must be >= 1")
        if not 0.0 <= self.activity_rate <= 1.0:
            raise ValueError("activity_rate must be between 0 and 1")
        self._lock = threading.RLock()
        if not self.models:
            self.models = self.default_models()
        self._initial_models = [dict(m) for m in self.models]
        self._clear()
        if self.state_path is not None:
            self._load_state(self.state_path)

    def _changed(self) -> None:
        if self.state_path is not None:
            self._save_state(self.state_path)

    def save(self) -> None:
        """Persist now, after attributes were set directly (organization id, usage settings);
        every method that changes state saves by itself. Nothing to do in memory."""
        with self._lock:
            self._changed()

    def default_models(self) -> list[dict[str, Any]]:
        """The model catalogue ``GET /v1/models`` serves when none is given."""
        return []

    def _clear(self) -> None:
        self._clear_keys()
        self._clear_rate_limits()
        self._clear_faults()
        self._clear_requests()
        self._clear_usage()

    def reset(self) -> None:
        """Back to the freshly built state: same seed, so the same keys get issued again."""
        with self._lock:
            self.models = [dict(m) for m in self._initial_models]
            self._clear()
            self._changed()

    def now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)
