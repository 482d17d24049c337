"""Tier selection: the one place that knows which implementations back a tier.

* ``fake``: everything in-process (DuckDB BigQuery engine, local-crypto KMS, provider fakes
  mounted through respx); no socket.
* ``emulator``: the real google-cloud clients and provider clients over HTTP to the local
  emulators (embedded, or external ones named by ``BIGQUERY_EMULATOR_HOST`` and friends).
* ``gcp``: the same real clients against BigQuery, Cloud KMS and the providers.

Every tier's backends answer ``clock``, ``platform``, ``openai`` / ``anthropic`` (the provider
fakes' state, or None where there is none to reach) and ``close()``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harness.ports import Clock

if TYPE_CHECKING:
    from fakes.bigquery.warehouse import FakeWarehouse
    from harness.backends.bigquery import BigQueryWarehouse
    from harness.clock import ManualClock
    from harness.datadir import DataDir
    from harness.onboarding.platform import Platform
    from harness.recording.recorder import Recorder
    from harness.schema.spec import BootstrapConfig
    from harness.services.settings import Settings


class Backend(StrEnum):
    FAKE = "fake"
    EMULATOR = "emulator"
    GCP = "gcp"


DEFAULT_PROJECT = "cloudact-local"


class TierBackends(Protocol):
    clock: Any
    platform: Platform

    @property
    def openai(self) -> Any: ...

    @property
    def anthropic(self) -> Any: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc_info: object) -> None: ...


def build_backends(
    backend: Backend | str,
    settings: Settings | None = None,
    *,
    clock: ManualClock | None = None,
    seed: int | None = None,
    config: BootstrapConfig | None = None,
    data_dir: DataDir | None = None,
    recorder: Recorder | None = None,
) -> TierBackends:
    """Fresh backends for the tier. ``clock`` and ``seed`` apply to the fake and embedded-emulator
    tiers; gcp keeps real time and refuses a manual clock rather than silently ignoring it.
    ``data_dir`` (not yet opened) keeps the fake or embedded emulators' state across restarts;
    gcp keeps its state in Google Cloud and refuses one. ``recorder`` (emulator and gcp: the
    real clients' HTTP) records or replays every exchange (``harness.recording``)."""
    backend = Backend(backend)
    if backend is Backend.FAKE:
        from harness.backends.fake import build_fake

        return build_fake(settings, clock=clock, seed=seed, config=config, data_dir=data_dir)
    if backend is Backend.EMULATOR:
        from harness.backends.emulator import build_emulator

        return build_emulator(
            settings, clock=clock, seed=seed, config=config, data_dir=data_dir, recorder=recorder
        )
    if clock is not None:
        raise ValueError("the gcp tier runs on real time; it cannot take a manual clock")
    if data_dir is not None:
        raise ValueError("the gcp tier keeps its state in Google Cloud; it takes no data dir")
    from harness.backends.gcp import build_gcp

    return build_gcp(settings, config=config, recorder=recorder)


def build_warehouse(
    backend: Backend,
    *,
    clock: Clock,
    project: str | None = None,
    settings: Settings | None = None,
    data_dir: Path | None = None,
) -> FakeWarehouse | BigQueryWarehouse:
    """A warehouse alone (``harness bootstrap``), for the caller to close. On the fake tier
    ``data_dir`` makes it file-backed so data outlives the process; the emulator tier needs
    emulators served elsewhere (``BIGQUERY_EMULATOR_HOST``), since an embedded one would vanish
    with this process."""
    from harness.services.settings import Settings

    settings = settings or Settings()
    project = project or settings.gcp_project_id
    if backend is Backend.FAKE:
        from fakes.bigquery.engine import BigQueryEngine
        from fakes.bigquery.warehouse import FakeWarehouse

        return FakeWarehouse(BigQueryEngine(clock, data_dir), project)
    from harness.backends.bigquery import BigQueryWarehouse

    if backend is Backend.EMULATOR:
        from google.auth.credentials import AnonymousCredentials

        host = settings.bigquery_emulator_host
        if not host:
            raise ValueError(
                "--backend emulator needs running emulators: start `harness emulators up` and export "
                'what it prints (eval "$(harness emulators up --print-env)"), BIGQUERY_EMULATOR_HOST first'
            )
        endpoint = host if "://" in host else f"http://{host}"
        return BigQueryWarehouse(project, credentials=AnonymousCredentials(), endpoint=endpoint)
    from harness.backends.gcp import gcp_credentials

    return BigQueryWarehouse(project, credentials=gcp_credentials(settings))


__all__ = ["DEFAULT_PROJECT", "Backend", "TierBackends", "build_backends", "build_warehouse"]
