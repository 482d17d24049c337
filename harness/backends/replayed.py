"""A real-client tier replayed offline: the emulator or gcp tier's adapters (google-cloud-bigquery,
google-cloud-kms over REST, the httpx provider clients) answered from a cassette.

``harness replay`` of a record made on the emulator or gcp tier builds these: the same clients
and the same platform as the run had, every exchange served by a :class:`Recorder` in mode
``none`` (nothing is sent, no port is opened, a request the cassette does not hold fails), static
dummy credentials (no token is fetched), and a manual clock that retry waits advance. What the
original run did behind the clients (armed faults, minted provider keys) is already in the
cassette's answers, so arming a fault here changes nothing and a minted key is a stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from google.oauth2.credentials import Credentials

from harness.backends.real import build_real_platform
from harness.clock import ManualClock
from harness.onboarding.platform import Platform
from harness.ports import Provider
from harness.recording.recorder import Recorder
from harness.schema.spec import BootstrapConfig
from harness.services.settings import Settings

# Never contacted: a replay matches requests by service and path, not by host.
REPLAY_ENDPOINTS = {
    "bigquery": "http://bigquery.replay.invalid",
    "kms": "http://kms.replay.invalid",
    Provider.OPENAI: "http://openai.replay.invalid",
    Provider.ANTHROPIC: "http://anthropic.replay.invalid",
}


@dataclass
class _Handle:
    """An armed fault whose firing this replay cannot see (the recorded answers carry it)."""

    fired: int | None = None


class ReplayedFaults:
    def arm(self, spec: Any) -> _Handle:
        return _Handle()


@dataclass
class ReplayedProvider:
    """Stands in for a provider emulator's state: faults are in the cassette; a minted admin key
    is a deterministic stand-in (provider-key shaped, so the run's scrubber hides it)."""

    name: str
    minted: int = 0

    def issue_admin_key(self) -> str:
        self.minted += 1
        return f"sk-admin-replay{self.name}{self.minted:016d}"

    def add_fault(self, *args: Any, **kwargs: Any) -> None:
        """Recorded: the cassette holds the fault's answer."""

    def add_timeout(self, *args: Any, **kwargs: Any) -> None:
        """Recorded: the cassette holds the timeout."""


@dataclass
class ReplayedBackends:
    clock: ManualClock
    platform: Platform
    recorder: Recorder
    openai: ReplayedProvider = field(default_factory=lambda: ReplayedProvider("openai"))
    anthropic: ReplayedProvider = field(default_factory=lambda: ReplayedProvider("anthropic"))
    faults: ReplayedFaults = field(default_factory=ReplayedFaults)

    def close(self) -> None:
        """Nothing runs behind a cassette."""

    def __enter__(self) -> ReplayedBackends:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def build_replayed(
    settings: Settings,
    *,
    clock: ManualClock,
    recorder: Recorder,
    config: BootstrapConfig | None = None,
) -> ReplayedBackends:
    """Real-client backends served by ``recorder`` (give it mode ``none`` to stay offline)."""

    def advance(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    platform = build_real_platform(
        settings,
        clock=clock,
        credentials=Credentials(token="replay-token"),
        bigquery_endpoint=REPLAY_ENDPOINTS["bigquery"],
        kms_endpoint=REPLAY_ENDPOINTS["kms"],
        provider_urls={p: REPLAY_ENDPOINTS[p] for p in Provider},
        sleep=advance,
        config=config,
        recorder=recorder,
    )
    return ReplayedBackends(clock, platform, recorder)


__all__ = ["ReplayedBackends", "build_replayed"]
