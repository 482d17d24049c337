"""The ``fake`` tier: every backend in-process, sharing one injected clock, no socket opened.

BigQuery is the DuckDB engine, Cloud KMS the local AES-GCM keyring, and the OpenAI / Anthropic
fakes are mounted through respx so the real httpx provider clients reach them in-process. A retry
wait on this tier advances the manual clock instead of sleeping. With a data directory
(``harness serve --data-dir``) the engine, the keyring and the provider fakes persist there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from fakes.anthropic import AnthropicState
from fakes.bigquery import faults as bigquery_faults
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.limits_runtime import RuntimeLimits
from fakes.bigquery.warehouse import FakeWarehouse
from fakes.kms import faults as kms_faults
from fakes.kms.keymanager import FakeKeyManager
from fakes.openai import OpenAIState
from fakes.provider_mocks import ProviderMocks
from harness.backends.client_retry import RetryingKeyManager, RetryingWarehouse
from harness.clock import ManualClock
from harness.datadir import DataDir
from harness.faults.backend import BackendFault, FaultQueue, PortCall
from harness.faults.wrappers import FaultingKeyManager, FaultingWarehouse
from harness.onboarding.platform import Platform
from harness.ports import Provider
from harness.providers import usage_source_for, validator_for
from harness.schema.loader import load_config
from harness.schema.spec import BootstrapConfig
from harness.services.settings import Settings

ENGINE_THREADS = 1
"""DuckDB worker threads of the fake tier's engine unless ``HARNESS_BIGQUERY_THREADS`` names
another number. The platform's statements are small (an org's meta rows, a day's usage rows) and
the engine runs one at a time: spreading each over threads costs more in scheduling than it
gains (about a tenth of an in-process ``full_onboarding`` run)."""


def engine_limits(environ: Mapping[str, str] | None = None) -> RuntimeLimits:
    """The fake tier engine's limits: the environment's (:class:`RuntimeLimits`), with
    :data:`ENGINE_THREADS` when it caps no threads."""
    limits = RuntimeLimits.from_env(environ)
    return limits if limits.threads is not None else replace(limits, threads=ENGINE_THREADS)


@dataclass
class FakeBackends:
    """The fake tier's parts, for tests and tools that want to reach behind the ports."""

    clock: ManualClock
    engine: BigQueryEngine
    keys: FakeKeyManager
    openai: OpenAIState
    anthropic: AnthropicState
    mocks: ProviderMocks
    platform: Platform
    faults: FaultQueue
    """Warehouse and KMS faults armed at the platform's ports (behind the clients' retry)."""
    data_dir: DataDir | None = None
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.mocks.__exit__(None, None, None)
            self.engine.close()
            if self.data_dir is not None:
                self.data_dir.close(self.clock)

    def __enter__(self) -> FakeBackends:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def build_fake(
    settings: Settings | None = None,
    *,
    clock: ManualClock | None = None,
    seed: int | None = None,
    data_dir: DataDir | None = None,
    config: BootstrapConfig | None = None,
) -> FakeBackends:
    """Fresh fake backends; the same ``seed`` gives the same KMS keys and provider keys. With
    ``data_dir`` (opened and locked here, released by ``close()``) they hold what it holds."""
    settings = settings or Settings()
    clock = clock or ManualClock(datetime.now(UTC).replace(microsecond=0))
    if data_dir is None:
        engine = BigQueryEngine(clock, limits=engine_limits())
        keys = FakeKeyManager.create(clock, project=settings.gcp_project_id, seed=seed)
        openai_state = OpenAIState(clock=clock, seed=seed or 0)
        anthropic_state = AnthropicState(clock=clock, seed=seed or 0)
    else:
        data_dir.open(seed, clock)
        try:
            state = data_dir.open_state(clock)
        except BaseException:
            data_dir.close(clock)
            raise
        engine, openai_state, anthropic_state = state.engine, state.openai, state.anthropic
        keys = FakeKeyManager.create(clock, project=settings.gcp_project_id, backend=state.kms)
    mocks = ProviderMocks(openai_state, anthropic_state).__enter__()

    def advance(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    validators = {p: validator_for(p, clock=clock, sleep=advance) for p in Provider}
    usage_sources = {p: usage_source_for(p, clock=clock, sleep=advance) for p in Provider}
    faults = FaultQueue(lambda: clock)

    def kms_error(fault: BackendFault, call: PortCall) -> BaseException:
        return kms_faults.error_for(fault, call, version=keys.primary_version())

    # Faults sit under the retry, as on the wire: the fake tier's "client" retries them too.
    warehouse = FaultingWarehouse(
        FakeWarehouse(engine, settings.gcp_project_id), faults, bigquery_faults.error_for
    )
    platform = Platform(
        warehouse=RetryingWarehouse(warehouse, clock, advance),
        keys=RetryingKeyManager(FaultingKeyManager(keys, faults, kms_error), clock, advance),
        clock=clock,
        validators=validators,
        usage_sources=usage_sources,
        config=config or load_config(),
        environment=settings.environment,
    )
    return FakeBackends(clock, engine, keys, openai_state, anthropic_state, mocks, platform, faults, data_dir)
