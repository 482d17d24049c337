"""Service settings, from environment variables (pydantic-settings).

The local defaults of the two shared secrets (``CA_ROOT_API_KEY``, ``STRIPE_WEBHOOK_SECRET``) are
printed in the README, so on the gcp tier, where the services guard real data, they are refused:
by the model when ``HARNESS_BACKEND=gcp``, and by :meth:`Settings.for_tier` wherever gcp is chosen
another way (``--backend gcp``, ``build_gcp``), so every entry point applies the same check.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_ROOT_KEY = "local-root-key"
LOCAL_WEBHOOK_SECRET = "whsec_local_harness"

GCP_FORBIDDEN_DEFAULTS: dict[str, tuple[str, str]] = {
    "ca_root_api_key": ("CA_ROOT_API_KEY", LOCAL_ROOT_KEY),
    "stripe_webhook_secret": ("STRIPE_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET),
}
"""Field -> (its variable, the public local default the gcp tier refuses)."""


class Settings(BaseSettings):
    """Names match the variables in the design: ``HARNESS_BACKEND``, ``GCP_PROJECT_ID`` and so on."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    harness_backend: str = Field(default="fake", pattern="^(fake|emulator|gcp)$")
    gcp_project_id: str = "cloudact-local"
    kms_key_name: str = "projects/cloudact-local/locations/global/keyRings/cloudact/cryptoKeys/org-secrets"
    google_application_credentials: str | None = None
    ca_root_api_key: SecretStr = SecretStr(LOCAL_ROOT_KEY)
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    environment: str = Field(default="local", pattern=r"^[a-z0-9_]{1,20}$")
    stripe_webhook_secret: SecretStr = SecretStr(LOCAL_WEBHOOK_SECRET)
    # Where the emulator tier finds emulators served by another process (``harness emulators up
    # --print-env``); unset, the emulator tier starts its own. The provider URLs also redirect gcp.
    bigquery_emulator_host: str | None = None
    kms_endpoint: str | None = None
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None

    @model_validator(mode="after")
    def _no_local_secrets_on_gcp(self) -> Settings:
        if self.harness_backend == "gcp":
            problems = gcp_default_problems(self)
            if problems:
                raise ValueError("; ".join(problems))
        return self

    def for_tier(self, tier: str) -> Settings:
        """These settings as if ``HARNESS_BACKEND`` named ``tier``: on gcp the same refusal of the
        local secrets as the environment gets (:class:`SettingsError` naming each variable)."""
        if tier == "gcp":
            problems = gcp_default_problems(self)
            if problems:
                raise SettingsError(problems)
        return self if self.harness_backend == tier else self.model_copy(update={"harness_backend": tier})


class SettingsError(ValueError):
    """Settings the environment gives that cannot be used; ``problems`` has one line each, naming
    the variable (never its value: it may be a secret)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def settings_from_environment(**overrides: Any) -> Settings:
    """``Settings()`` with its refusals as a :class:`SettingsError` of one line per variable, for
    the entry points to print (pydantic's own text shows the model's input, not the variable)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            where = ".".join(str(part) for part in error["loc"]).upper()
            problems.extend(message.split("; ") if not where else [f"{where}: {message}"])
        raise SettingsError(problems) from None


def gcp_default_problems(settings: Settings) -> list[str]:
    """One line per shared secret still at its public local default, naming the variable to set."""
    return [
        f"{variable} is the local default {default!r}, which the gcp tier refuses: set {variable} "
        "to a secret of your own"
        for field, (variable, default) in GCP_FORBIDDEN_DEFAULTS.items()
        if getattr(settings, field).get_secret_value() == default
    ]
