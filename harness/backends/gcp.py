"""The ``gcp`` tier: real BigQuery, real Cloud KMS, the real OpenAI / Anthropic APIs.

The same adapters as the emulator tier, with the service-account key named by
``GOOGLE_APPLICATION_CREDENTIALS`` (Application Default Credentials when it is unset). Time is the
system clock and a retry wait really sleeps: nothing here can be moved or faulted.

The credentials are proved before anything is built: one token fetch (what the first API call
would do anyway), so a wrong, deleted or tampered key is a clear :class:`GcpConfigError` with
Google's own answer (``invalid_grant: Invalid JWT Signature.``) instead of a failure inside the
first step. ``BIGQUERY_EMULATOR_HOST`` / ``KMS_ENDPOINT`` (and ``OPENAI_BASE_URL`` /
``ANTHROPIC_BASE_URL``) send the calls elsewhere, still with these real credentials: that is how
the whole tier runs offline against emulators that authenticate like Google
(``harness emulators up --auth``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.backends.real import build_real_platform
from harness.clock import SystemClock
from harness.onboarding.platform import Platform
from harness.ports import Provider
from harness.recording.recorder import Recorder
from harness.schema.spec import BootstrapConfig
from harness.services.settings import Settings, SettingsError

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class GcpConfigError(ValueError):
    """The settings do not name a usable project, key or credentials file, or Google refused them."""


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

    try:
        if settings.google_application_credentials:
            credentials, _ = google.auth.load_credentials_from_file(
                settings.google_application_credentials, scopes=list(SCOPES)
            )
        else:
            credentials, _ = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as exc:
        raise GcpConfigError(f"no usable Google credentials: {exc}") from exc
    return credentials


def prove_credentials(credentials: Any, settings: Settings) -> None:
    """Fetch one access token; Google's refusal becomes a :class:`GcpConfigError` that says which
    credentials and quotes Google (never the key itself). The one token check of the tier: the
    preflight (:mod:`harness.backends.gcp_access`) and :func:`build_gcp` both go through it."""
    from google.auth.exceptions import GoogleAuthError, RefreshError
    from google.auth.transport.requests import Request

    source = settings.google_application_credentials or "Application Default Credentials"
    try:
        credentials.refresh(Request())
    except RefreshError as exc:
        raise GcpConfigError(f"Google refused the credentials in {source}: {exc.args[0]}") from None
    except (GoogleAuthError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GcpConfigError(f"could not obtain an access token: {first}") from None


def _endpoint(host: str | None) -> str | None:
    """``BIGQUERY_EMULATOR_HOST`` may be ``host:port`` (the client library's convention) or a URL."""
    if not host:
        return None
    return host if "://" in host else f"http://{host}"


def gcp_settings_problems(settings: Settings) -> list[str]:
    """What the settings lack for the gcp tier, one line per variable: a real project, and secrets
    of their own instead of the public local defaults."""
    problems = []
    if settings.gcp_project_id == Settings.model_fields["gcp_project_id"].default:
        problems.append("GCP_PROJECT_ID is not set: the gcp tier needs a real project")
    try:
        settings.for_tier("gcp")
    except SettingsError as exc:
        problems.extend(exc.problems)
    return problems


def build_gcp(
    settings: Settings | None = None,
    *,
    credentials: Any = None,
    config: BootstrapConfig | None = None,
    sleep: Callable[[float], None] | None = None,
    recorder: Recorder | None = None,
) -> GcpBackends:
    """Backends on real GCP (or wherever the settings redirect Google's endpoints).
    ``credentials`` overrides the settings' and is used as given (e.g. for a dry check);
    ``sleep`` replaces the real sleep of every client's retry wait (tests); ``recorder`` records
    the exchanges."""
    settings = settings or Settings()
    problems = gcp_settings_problems(settings)
    if problems:
        raise GcpConfigError("; ".join(problems))
    settings = settings.for_tier("gcp")
    if credentials is None:
        credentials = gcp_credentials(settings)
        prove_credentials(credentials, settings)
    clock = SystemClock()
    platform = build_real_platform(
        settings,
        clock=clock,
        credentials=credentials,
        bigquery_endpoint=_endpoint(settings.bigquery_emulator_host),
        kms_endpoint=settings.kms_endpoint,
        provider_urls={
            Provider.OPENAI: settings.openai_base_url,
            Provider.ANTHROPIC: settings.anthropic_base_url,
        },
        sleep=sleep,
        config=config,
        recorder=recorder,
    )
    return GcpBackends(clock, platform)


__all__ = [
    "SCOPES",
    "GcpBackends",
    "GcpConfigError",
    "build_gcp",
    "gcp_credentials",
    "gcp_settings_problems",
    "prove_credentials",
]
