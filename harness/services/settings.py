"""Service settings, from environment variables (pydantic-settings)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Names match the variables in the design: ``HARNESS_BACKEND``, ``GCP_PROJECT_ID`` and so on."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    harness_backend: str = Field(default="fake", pattern="^(fake|emulator|gcp)$")
    gcp_project_id: str = "cloudact-local"
    kms_key_name: str = "projects/cloudact-local/locations/global/keyRings/cloudact/cryptoKeys/org-secrets"
    google_application_credentials: str | None = None
    ca_root_api_key: SecretStr = SecretStr("local-root-key")
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    environment: str = Field(default="local", pattern=r"^[a-z0-9_]{1,20}$")
    stripe_webhook_secret: SecretStr = SecretStr("whsec_local_harness")
    # Where the emulator tier finds emulators served by another process (``harness emulators up
    # --print-env``); unset, the emulator tier starts its own. The provider URLs also redirect gcp.
    bigquery_emulator_host: str | None = None
    kms_endpoint: str | None = None
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
