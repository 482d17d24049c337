"""Request and response models of the onboarding domain (pydantic, framework-free).

The api-service uses them as its request bodies and response models, so validation and the
OpenAPI document come from one definition.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from harness.ports import Provider

SLUG_PATTERN = r"^[a-z][a-z0-9_]{2,49}$"
"""A letter first: BigQuery hides datasets whose id starts with '_'; a digit-first slug reads as a number."""
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
RESERVED_PREFIX = "__"
"""The platform's own rows (audit trail of offboarded orgs) live under slugs with this prefix."""
RESERVED_SLUGS_FILE = Path(__file__).with_name("reserved_slugs.yml")


class _ReservedSlugsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reserved: frozenset[str]


@cache
def reserved_slugs(path: Path = RESERVED_SLUGS_FILE) -> frozenset[str]:
    """The names onboarding refuses; kept as data so adding one is a one-line change to the YAML file."""
    return _ReservedSlugsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).reserved


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OnboardRequest(_Model):
    org_slug: str = Field(
        pattern=SLUG_PATTERN,
        description="A lowercase letter, then lowercase letters, digits, underscore; 3-50; not reserved.",
    )
    company_name: str = Field(min_length=1, max_length=200)
    admin_email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    plan: str = Field(default="STARTER", description="STARTER, PROFESSIONAL or SCALE.")
    metadata: dict[str, Any] | None = None

    @field_validator("org_slug")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in reserved_slugs():
            raise ValueError(f"reserved_slug: '{value}' is a reserved name ({RESERVED_SLUGS_FILE.name})")
        return value

    @field_validator("company_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("company_name must not be blank")
        return value


class OrgView(_Model):
    org_slug: str
    company_name: str
    admin_email: str
    status: str
    subscription_plan: str
    org_dataset_id: str
    environment: str
    created_at: datetime
    updated_at: datetime | None = None


class SubscriptionView(_Model):
    subscription_id: str
    org_slug: str
    plan_name: str
    status: str
    daily_pipeline_limit: int
    monthly_pipeline_limit: int
    provider_limit: int
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    canceled_at: datetime | None = None
    billing_customer_id: str | None = None
    billing_subscription_id: str | None = None
    updated_at: datetime | None = None


class SubscriptionUpdate(_Model):
    plan: str


class QuotaView(_Model):
    org_slug: str
    usage_date: date
    pipelines_run_today: int
    pipelines_succeeded_today: int
    pipelines_failed_today: int
    pipelines_run_month: int
    daily_limit: int
    monthly_limit: int
    daily_remaining: int
    monthly_remaining: int
    daily_resets_at: datetime
    monthly_resets_at: datetime


class OnboardResult(_Model):
    org: OrgView
    api_key: str = Field(description="Shown once; only its hash and a KMS ciphertext are stored.")
    api_key_id: str
    api_key_prefix: str
    subscription: SubscriptionView
    quota: QuotaView
    dataset_id: str
    kms_key_version: str


class RotatedKey(_Model):
    org_slug: str
    api_key: str
    api_key_id: str
    api_key_prefix: str
    revoked_key_ids: list[str]


class IntegrationSetup(_Model):
    credential: SecretStr = Field(min_length=1, max_length=4096)
    credential_name: str | None = Field(default=None, max_length=200)


class IntegrationView(_Model):
    provider: Provider
    credential_id: str
    credential_name: str | None
    validation_status: str
    validation_error: str | None = None
    fingerprint: str | None
    is_active: bool
    last_validated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime | None = None


class OffboardResult(_Model):
    org_slug: str
    deleted_rows: dict[str, int]
    dataset_deleted: bool
