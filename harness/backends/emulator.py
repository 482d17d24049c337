"""The ``emulator`` tier: the REAL adapters (google-cloud-bigquery, google-cloud-kms over REST, the
httpx provider clients) pointed at the local emulators of :class:`harness.emulators.Emulators`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.auth.credentials import AnonymousCredentials

from harness.backends.bigquery import BigQueryWarehouse
from harness.backends.kms import CloudKmsKeyManager
from harness.onboarding.platform import Platform
from harness.ports import Provider
from harness.providers import validator_for
from harness.providers.usage import usage_source_for
from harness.schema.loader import load_config
from harness.schema.spec import BootstrapConfig
from harness.services.settings import Settings

if TYPE_CHECKING:
    from harness.emulators import Emulators


def build_emulator_platform(
    settings: Settings | None,
    emulators: Emulators,
    *,
    config: BootstrapConfig | None = None,
) -> Platform:
    """A Platform whose every backend is reached over HTTP on the emulators' ports."""
    settings = settings or emulators.settings
    clock = emulators.clock
    base_urls = {Provider.OPENAI: emulators.openai_url, Provider.ANTHROPIC: emulators.anthropic_url}
    return Platform(
        warehouse=BigQueryWarehouse(
            settings.gcp_project_id, credentials=AnonymousCredentials(), endpoint=emulators.bigquery_url
        ),
        keys=CloudKmsKeyManager(
            settings.kms_key_name, credentials=AnonymousCredentials(), endpoint=emulators.kms_url
        ),
        clock=clock,
        validators={p: validator_for(p, base_url=base_urls[p], clock=clock) for p in Provider},
        usage_sources={p: usage_source_for(p, base_url=base_urls[p], clock=clock) for p in Provider},
        config=config or load_config(),
        environment=settings.environment,
        api_key_cache_ttl_seconds=settings.api_key_cache_ttl_seconds,
    )


__all__ = ["build_emulator_platform"]
