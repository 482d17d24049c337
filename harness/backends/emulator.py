"""The ``emulator`` tier: the REAL adapters (google-cloud-bigquery, google-cloud-kms over REST, the
httpx provider clients) pointed at local emulators over HTTP.

Two ways to get them:

* **embedded** (default): :func:`build_emulator` starts :class:`harness.emulators.Emulators` on free
  loopback ports in a background thread, on the caller's manual clock and seed, so scenarios and
  tests can move time, arm provider faults and mint provider keys exactly as on the fake tier, and
  arm warehouse and KMS faults (``faults``), which the emulators answer on the wire to the real
  clients, whose retries wait on that clock;
* **external**: with ``BIGQUERY_EMULATOR_HOST`` set (e.g. ``eval "$(harness emulators up
  --print-env)"``), the platform talks to emulators some other process serves, found through
  ``BIGQUERY_EMULATOR_HOST``, ``KMS_ENDPOINT``, ``OPENAI_BASE_URL`` and ``ANTHROPIC_BASE_URL``.
  Nothing behind them is reachable from here (no clock, no provider fakes, no fault queue: arm
  faults through their control plane).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from google.auth.credentials import AnonymousCredentials

from harness.backends.held_responses import HeldResponseTransport
from harness.backends.real import build_real_platform
from harness.clock import ManualClock, SystemClock
from harness.onboarding.platform import Platform
from harness.ports import Clock, Provider
from harness.schema.spec import BootstrapConfig
from harness.services.settings import Settings

if TYPE_CHECKING:
    from harness.datadir import DataDir
    from harness.emulators import Emulators
    from harness.faults.backend import FaultQueue
    from harness.recording.recorder import Recorder


class EmulatorConfigError(ValueError):
    """The external emulators are named only in part (e.g. BigQuery without KMS)."""


@dataclass
class EmulatorBackends:
    """The emulator tier's parts. ``emulators`` is None when they are served by another process."""

    clock: Clock
    platform: Platform
    emulators: Emulators | None = None
    _closed: bool = field(default=False, repr=False)

    @property
    def faults(self) -> FaultQueue | None:
        """The warehouse and KMS faults the emulators answer on the wire (None for external ones:
        arm those through their control plane)."""
        return self.emulators.faults if self.emulators is not None else None

    @property
    def openai(self) -> Any:
        """The OpenAI emulator's state (keys, faults), or None for external emulators."""
        return self.emulators.openai if self.emulators is not None else None

    @property
    def anthropic(self) -> Any:
        return self.emulators.anthropic if self.emulators is not None else None

    def close(self) -> None:
        """Embedded emulators go back to this process's idle pool, still serving (the next
        :func:`build_emulator` resets their state instead of starting new servers); those on a
        data directory stop, releasing it, since a reset would empty it."""
        if not self._closed:
            self._closed = True
            if self.emulators is not None and self.emulators.data_dir is not None:
                self.emulators.stop()
            elif self.emulators is not None:
                _IDLE.append(self.emulators)

    def __enter__(self) -> EmulatorBackends:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def build_emulator(
    settings: Settings | None = None,
    *,
    clock: ManualClock | None = None,
    seed: int | None = None,
    config: BootstrapConfig | None = None,
    data_dir: DataDir | None = None,
    recorder: Recorder | None = None,
) -> EmulatorBackends:
    """Emulator-tier backends: embedded emulators, or the external ones the settings name.
    Embedded emulators on a ``data_dir`` are started for these backends alone (never pooled).
    ``recorder`` records the real clients' exchanges."""
    settings = settings or Settings()
    if settings.bigquery_emulator_host:
        if data_dir is not None:
            raise ValueError("external emulators keep their own state; start them with --data-dir")
        return EmulatorBackends(SystemClock(), _external_platform(settings, config, recorder))
    from harness.emulators import Emulators

    clock = clock or ManualClock(datetime.now(UTC).replace(microsecond=0))
    if data_dir is not None:
        emulators = Emulators(settings=settings, clock=clock, seed=seed, data_dir=data_dir).start()
    else:
        emulators = (
            _reuse(settings, clock, seed) or Emulators(settings=settings, clock=clock, seed=seed).start()
        )
    try:
        platform = build_emulator_platform(settings, emulators, config=config, recorder=recorder)
    except BaseException:
        emulators.stop()
        raise
    return EmulatorBackends(clock, platform, emulators)


# Started emulators no longer used by anyone: starting and stopping four servers per test costs
# more than the test, so closed backends leave theirs here (daemon threads: they end with the
# process). Each is reset to fresh state before it is handed out again.
_IDLE: list[Emulators] = []


def _reuse(settings: Settings, clock: ManualClock, seed: int | None) -> Emulators | None:
    while _IDLE:
        emulators = _IDLE.pop()
        if emulators.running and emulators.settings.kms_key_name == settings.kms_key_name:
            emulators.settings = settings
            return emulators.reset(clock=clock, seed=seed)
        emulators.stop()
    return None


def build_emulator_platform(
    settings: Settings | None,
    emulators: Emulators,
    *,
    config: BootstrapConfig | None = None,
    recorder: Recorder | None = None,
) -> Platform:
    """A Platform whose every backend is reached over HTTP on the emulators' ports. A retry wait
    advances the emulators' clock, as on the fake tier, instead of sleeping."""
    clock = emulators.clock

    def advance(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    return build_real_platform(
        settings or emulators.settings,
        clock=clock,
        credentials=AnonymousCredentials(),
        bigquery_endpoint=emulators.bigquery_url,
        kms_endpoint=emulators.kms_url,
        provider_urls={Provider.OPENAI: emulators.openai_url, Provider.ANTHROPIC: emulators.anthropic_url},
        sleep=advance,
        # The provider clients keep their production timeouts (providers/http.py DEFAULT_TIMEOUT).
        # A 1 s read timeout here once made a loaded machine's slow but correct answer a timeout
        # and a retry (``requests 6 != 5``): the limit decides how long a real answer may take,
        # and that must not be a race with the machine's load. A timeout fault's held response
        # is told at once instead of waited out (harness.faults.held).
        config=config,
        recorder=recorder,
        provider_transport=HeldResponseTransport,
        # The embedded emulators serve on loopback from this process, where no proxy of the
        # environment applies; requests would read the environment's proxy settings again on
        # every request (a fifth of the client's own time per call).
        trust_env=False,
    )


def _external_platform(
    settings: Settings, config: BootstrapConfig | None, recorder: Recorder | None = None
) -> Platform:
    missing = [
        name
        for name, value in (
            ("KMS_ENDPOINT", settings.kms_endpoint),
            ("OPENAI_BASE_URL", settings.openai_base_url),
            ("ANTHROPIC_BASE_URL", settings.anthropic_base_url),
        )
        if not value
    ]
    if missing:
        raise EmulatorConfigError(
            f"BIGQUERY_EMULATOR_HOST is set but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
            'not: export all four, e.g. eval "$(harness emulators up --print-env)"'
        )
    host = settings.bigquery_emulator_host or ""
    return build_real_platform(
        settings,
        clock=SystemClock(),
        credentials=AnonymousCredentials(),
        bigquery_endpoint=host if "://" in host else f"http://{host}",
        kms_endpoint=settings.kms_endpoint,
        provider_urls={
            Provider.OPENAI: settings.openai_base_url,
            Provider.ANTHROPIC: settings.anthropic_base_url,
        },
        config=config,
        recorder=recorder,
    )


__all__ = ["EmulatorBackends", "EmulatorConfigError", "build_emulator", "build_emulator_platform"]
