"""Provider integrations: an org's OpenAI / Anthropic credential, validated, then KMS-encrypted.

The credential is validated with a real provider call before anything is stored, and encrypted
with the org slug as additional authenticated data: a ciphertext copied into another org's row
does not decrypt. Listing never returns the secret, only a fingerprint.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from harness.onboarding import audit, subscriptions
from harness.onboarding.audit import Actor
from harness.onboarding.errors import DomainError, InvalidRequest, NotFound, UpstreamUnavailable
from harness.onboarding.models import IntegrationSetup, IntegrationView
from harness.onboarding.platform import Platform
from harness.ports import CredentialCheck, Provider, ProviderUnavailableError

log = logging.getLogger(__name__)

VALID = "VALID"
INVALID = "INVALID"


def parse_provider(name: str) -> Provider:
    try:
        return Provider(name.lower())
    except ValueError as exc:
        raise InvalidRequest(
            f"Unknown provider '{name}'; expected one of {', '.join(p.value for p in Provider)}",
            code="UNKNOWN_PROVIDER",
        ) from exc


def fingerprint(credential: str) -> str:
    """Identifies which credential is stored without revealing it (first 16 hex of its SHA-256)."""
    return "sha256:" + hashlib.sha256(credential.encode("utf-8")).hexdigest()[:16]


def _view(row: dict[str, Any]) -> IntegrationView:
    return IntegrationView(
        provider=Provider(row["provider"].lower()),
        credential_id=row["credential_id"],
        credential_name=row["credential_name"],
        validation_status=row["validation_status"],
        validation_error=row["validation_error"],
        fingerprint=row["credential_fingerprint"],
        is_active=row["is_active"],
        last_validated_at=row["last_validated_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _rows(platform: Platform, org_slug: str, provider: Provider | None = None) -> list[dict[str, Any]]:
    sql = f"SELECT * FROM {platform.table('org_integration_credentials')} WHERE org_slug = @org_slug"
    params: dict[str, Any] = {"org_slug": org_slug}
    if provider is not None:
        sql += " AND provider = @provider"
        params["provider"] = provider.value.upper()
    return platform.select(sql + " ORDER BY created_at", params).rows


def list_integrations(platform: Platform, org_slug: str) -> list[IntegrationView]:
    return [_view(row) for row in _rows(platform, org_slug)]


def setup(
    platform: Platform,
    org_slug: str,
    provider: Provider,
    request: IntegrationSetup,
    actor: Actor,
    *,
    undo: list[Callable[[], None]] | None = None,
) -> IntegrationView:
    """Validate, encrypt and store the credential (replacing the provider's previous one).

    ``undo``, when given, receives the action that takes a successful setup back (the new row
    and its audit row go, the replaced rows return): for a caller that fails after it, e.g.
    because its response cannot be stored, so a retry meets the org as it was."""
    subscription = subscriptions.get(platform, org_slug)
    existing = _rows(platform, org_slug, provider)
    others = {row["provider"] for row in _rows(platform, org_slug) if row["is_active"]} - {
        provider.value.upper()
    }
    if not existing and len(others) >= subscription.provider_limit:
        raise DomainError(
            f"Plan {subscription.plan_name} allows {subscription.provider_limit} provider integration(s)",
            code="PROVIDER_LIMIT_EXCEEDED",
            status=403,
            details={"provider_limit": subscription.provider_limit, "configured": sorted(others)},
        )
    credential = request.credential.get_secret_value()
    check = _validate(platform, provider, credential)
    if not check.valid:
        audit.record(
            platform,
            org_slug=org_slug,
            actor=actor,
            action="integration.setup",
            target_type="INTEGRATION",
            target_id=provider.value,
            outcome="FAILURE",
            error_code="INTEGRATION_VALIDATION_FAILED",
            details={"provider_status": check.status, "provider_error": check.error_type},
        )
        raise InvalidRequest(
            f"{provider.value} rejected the credential: {check.message or check.error_type or check.status}",
            code="INTEGRATION_VALIDATION_FAILED",
            details={
                "provider": provider.value,
                "provider_status": check.status,
                "provider_error": check.error_type,
            },
        )
    encrypted = platform.keys.encrypt(credential.encode("utf-8"), aad=org_slug.encode("utf-8"))
    now = platform.clock.now()
    row = {
        "credential_id": str(uuid.uuid4()),
        "org_slug": org_slug,
        "provider": provider.value.upper(),
        "credential_name": request.credential_name,
        "encrypted_credential": encrypted.ciphertext,
        "kms_key_name": platform.keys.key_name,
        "credential_fingerprint": fingerprint(credential),
        "validation_status": VALID,
        "validation_error": None,
        "last_validated_at": now,
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }
    # New row, then its audit row, then the old rows go: a failure at any write undoes the
    # earlier ones, so the org keeps exactly what it had (old credential, no audit) or the new one.
    platform.insert("org_integration_credentials", [row])
    audit_log_id: str | None = None
    try:
        audit_log_id = audit.record(
            platform,
            org_slug=org_slug,
            actor=actor,
            action="integration.setup",
            target_type="INTEGRATION",
            target_id=provider.value,
            details={
                "credential_id": row["credential_id"],
                "replaced": len(existing),
                "kms_key_version": encrypted.key_version,
            },
        )
        if existing:
            platform.execute(
                f"DELETE FROM {platform.table('org_integration_credentials')} "
                "WHERE org_slug = @org_slug AND provider = @provider AND credential_id != @credential_id",
                {"org_slug": org_slug, "provider": row["provider"], "credential_id": row["credential_id"]},
            )
    except BaseException:
        _undo(
            org_slug,
            lambda: platform.execute(
                f"DELETE FROM {platform.table('org_integration_credentials')} "
                "WHERE org_slug = @org_slug AND credential_id = @credential_id",
                {"org_slug": org_slug, "credential_id": row["credential_id"]},
            ),
            (lambda: audit.retract(platform, org_slug, audit_log_id)) if audit_log_id else None,
        )
        raise
    if undo is not None:
        undo.append(lambda: _take_back(platform, org_slug, row["credential_id"], audit_log_id, existing))
    return _view(row)


def _take_back(
    platform: Platform,
    org_slug: str,
    credential_id: str,
    audit_log_id: str | None,
    replaced: list[dict[str, Any]],
) -> None:
    """Undo a finished setup: the replaced rows first (the provider is never left without a
    credential it had), then the new row and its audit row."""
    if replaced:
        platform.insert("org_integration_credentials", replaced)
    platform.execute(
        f"DELETE FROM {platform.table('org_integration_credentials')} "
        "WHERE org_slug = @org_slug AND credential_id = @credential_id",
        {"org_slug": org_slug, "credential_id": credential_id},
    )
    if audit_log_id is not None:
        audit.retract(platform, org_slug, audit_log_id)


def _validate(platform: Platform, provider: Provider, credential: str) -> CredentialCheck:
    validator = platform.validators.get(provider)
    if validator is None:
        raise InvalidRequest(f"No validator is configured for {provider.value}", code="UNKNOWN_PROVIDER")
    try:
        return validator.validate(credential)
    except ProviderUnavailableError as exc:
        raise UpstreamUnavailable(
            f"{provider.value} could not validate the credential: {exc.message}",
            code="PROVIDER_UNAVAILABLE",
            details={"provider": provider.value, "provider_status": exc.status},
        ) from exc


def delete(platform: Platform, org_slug: str, provider: Provider, actor: Actor) -> int:
    """Audit first, then delete, taking the audit row back if the delete fails: the trail never
    misses a delete that happened, and never claims one that did not."""
    if not _rows(platform, org_slug, provider):
        raise NotFound(f"No {provider.value} integration for '{org_slug}'", code="INTEGRATION_NOT_FOUND")
    audit_log_id = audit.record(
        platform,
        org_slug=org_slug,
        actor=actor,
        action="integration.delete",
        target_type="INTEGRATION",
        target_id=provider.value,
    )
    try:
        return platform.execute(
            f"DELETE FROM {platform.table('org_integration_credentials')} "
            "WHERE org_slug = @org_slug AND provider = @provider",
            {"org_slug": org_slug, "provider": provider.value.upper()},
        )
    except BaseException:
        _undo(org_slug, lambda: audit.retract(platform, org_slug, audit_log_id))
        raise


def _undo(org_slug: str, *actions: Callable[[], object] | None) -> None:
    """Best effort, in order: the caller re-raises the original error, which is what it sees."""
    for action in actions:
        if action is None:
            continue
        try:
            action()
        except Exception:
            log.exception("undoing a failed integration change for %s failed", org_slug)


def decrypt_credential(platform: Platform, org_slug: str, provider: Provider) -> str:
    """The decrypted credential, for pipelines; the org slug must match the ciphertext's AAD."""
    rows = [row for row in _rows(platform, org_slug, provider) if row["is_active"]]
    if not rows:
        raise InvalidRequest(
            f"No {provider.value} integration is configured for '{org_slug}'",
            code="INTEGRATION_NOT_CONFIGURED",
        )
    return platform.keys.decrypt(rows[-1]["encrypted_credential"], aad=org_slug.encode("utf-8")).decode(
        "utf-8"
    )


def mark_invalid(platform: Platform, org_slug: str, provider: Provider, reason: str) -> None:
    platform.execute(
        f"UPDATE {platform.table('org_integration_credentials')} SET validation_status = @invalid, "
        "validation_error = @reason, last_validated_at = @now, updated_at = @now "
        "WHERE org_slug = @org_slug AND provider = @provider",
        {
            "invalid": INVALID,
            "reason": reason,
            "now": platform.clock.now(),
            "org_slug": org_slug,
            "provider": provider.value.upper(),
        },
    )
