"""The platform on the real adapters: what the ``emulator`` and ``gcp`` tiers have in common.

Both tiers run google-cloud-bigquery, google-cloud-kms (REST transport) and the httpx provider
clients; they differ only in where those point (loopback emulators or Google and the providers)
and in how a retry wait passes (the emulators' manual clock is advanced; on gcp it is slept).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx
from google.auth.credentials import Credentials

from harness.backends.bigquery import BigQueryWarehouse
from harness.backends.kms import CloudKmsKeyManager
from harness.onboarding.platform import Platform
from harness.ports import Clock, Provider
from harness.providers import build_client, usage_source_for, validator_for
from harness.recording.httpx_transport import RecordingTransport
from harness.recording.recorder import Recorder
from harness.recording.requests_adapter import RecordingAdapter
from harness.schema.loader import load_config
from harness.schema.spec import BootstrapConfig
from harness.services.settings import Settings


def build_real_platform(
    settings: Settings,
    *,
    clock: Clock,
    credentials: Credentials | None,
    bigquery_endpoint: str | None = None,
    kms_endpoint: str | None = None,
    provider_urls: Mapping[Provider, str | None] | None = None,
    sleep: Callable[[float], None] | None = None,
    config: BootstrapConfig | None = None,
    recorder: Recorder | None = None,
    provider_transport: Callable[[], httpx.BaseTransport] | None = None,
    trust_env: bool = True,
) -> Platform:
    """A Platform on the real clients; ``None`` endpoints and URLs mean the real services. Every
    client's retries wait on ``clock`` by ``sleep`` (``None``: really sleep, as on gcp). With a
    ``recorder`` every exchange of every client goes through it (``harness.recording``);
    ``provider_transport`` makes the provider clients' transport (the emulator tier's);
    ``trust_env=False`` keeps the environment's proxies and ``.netrc`` off the Google clients'
    sessions."""
    # OPENAI_BASE_URL ends in /v1 by the openai SDK's convention; the harness's clients add it.
    urls = {
        provider: url.rstrip("/").removesuffix("/v1") if url else None
        for provider, url in (provider_urls or {}).items()
    }
    options: dict[str, Any] = {"clock": clock}
    if sleep is not None:
        options["sleep"] = sleep

    def adapter(service: str) -> RecordingAdapter | None:
        return RecordingAdapter(recorder, service) if recorder is not None else None

    def provider(p: Provider) -> dict[str, Any]:
        transport = provider_transport() if provider_transport is not None else None
        if recorder is not None:
            transport = RecordingTransport(recorder, p.value, transport)
        if transport is None:
            return {"base_url": urls.get(p), **options}
        return {"base_url": urls.get(p), "client": build_client(transport=transport), **options}

    return Platform(
        warehouse=BigQueryWarehouse(
            settings.gcp_project_id,
            credentials=credentials,
            endpoint=bigquery_endpoint,
            adapter=adapter("bigquery"),
            trust_env=trust_env,
            **options,
        ),
        keys=CloudKmsKeyManager(
            settings.kms_key_name,
            credentials=credentials,
            endpoint=kms_endpoint,
            adapter=adapter("kms"),
            trust_env=trust_env,
            **options,
        ),
        clock=clock,
        validators={p: validator_for(p, **provider(p)) for p in Provider},
        usage_sources={p: usage_source_for(p, **provider(p)) for p in Provider},
        config=config or load_config(),
        environment=settings.environment,
    )


__all__ = ["build_real_platform"]
