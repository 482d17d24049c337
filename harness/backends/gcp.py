"""The ``gcp`` tier: real BigQuery, real Cloud KMS, the real OpenAI / Anthropic APIs.

The same adapters as the emulator tier, with Google's endpoints and the service-account key named
by ``GOOGLE_APPLICATION_CREDENTIALS`` (Application Default Credentials when it is unset). Time is
the system clock and a provider retry wait really sleeps: nothing here can be moved or faulted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.backends.real import build_real_platform
from harness.clock import SystemClock
from harness.onboarding.platform import Platform
from harness.ports import Provider
from harness.recording.recorder import Recorder
from harness.schema.spec import BootstrapConfig
from harness.services.settings import Settings


class GcpConfigError(ValueError):
    """The settings do not name a usable project, key or credentials file."""


@dataclass
class GcpBackends:
    """Real services: no provider fakes to reach behind (``openai``/``anthropic`` are None)."""

    clock: SystemClock
    platform: Platform
    openai: Any = None
    anthropic: Any = None

    def close(self) -> None:
        """Nothing to stop: the clients hold no server of ours."""

    def __enter__(self) -> GcpBackends:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def gcp_credentials(settings: Settings) -> Any:
    """The service-account key file's credentials, or Application Default Credentials."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    try:
        if settings.google_application_credentials:
            credentials, _ = google.auth.load_credentials_from_file(
                settings.google_application_credentials, scopes=scopes
            )
        else:
            credentials, _ = google.auth.default(scopes=scopes)
    except DefaultCredentialsError as exc:
        raise GcpConfigError(f"no usable Google credentials: {exc}") from exc
    return credentials


def build_gcp(
    settings: Settings | None = None,
    *,
    credentials: Any = None,
    config: BootstrapConfig | None = None,
    recorder: Recorder | None = None,
) -> GcpBackends:
    """Backends on real GCP; ``credentials`` overrides the settings' (e.g. for a dry check);
    ``recorder`` records the exchanges."""
    settings = settings or Settings()
    if settings.gcp_project_id == Settings.model_fields["gcp_project_id"].default:
        raise GcpConfigError("GCP_PROJECT_ID is not set: the gcp tier needs a real project")
    if credentials is None:
        credentials = gcp_credentials(settings)
    clock = SystemClock()
    platform = build_real_platform(
        settings,
        clock=clock,
        credentials=credentials,
        provider_urls={
            Provider.OPENAI: settings.openai_base_url,
            Provider.ANTHROPIC: settings.anthropic_base_url,
        },
        config=config,
        recorder=recorder,
    )
    return GcpBackends(clock, platform)


__all__ = ["GcpBackends", "GcpConfigError", "build_gcp", "gcp_credentials"]
