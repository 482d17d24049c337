"""Org API keys: shown once, stored only as a SHA-256 hash (lookup) and a KMS ciphertext.

Every request looks its key up in the warehouse: several api-service processes share it, and a
key one of them revokes (rotation, offboarding) must stop working on all of them at once. A
per-process cache of valid keys would keep a revoked key alive on the others until it expired
(it did: up to 60 s), and there is nothing about a key that is safe to cache and can be revoked.
The lookup is one indexed query by hash (about 1 ms on the fake tier).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass

from harness.onboarding.errors import Conflict, Forbidden, Unauthenticated
from harness.onboarding.platform import Platform
from harness.ports import QueryParam

log = logging.getLogger(__name__)

KEY_MARKER = "_api_"
PREFIX_CHARS = 4


@dataclass(frozen=True)
class IssuedKey:
    api_key: str
    """The plaintext, returned to the caller once and never stored."""
    key_id: str
    key_prefix: str
    key_version: str
    row: dict


@dataclass(frozen=True)
class Rotation:
    key: IssuedKey
    """The new, now only active key."""
    revoked: list[str]
    """Ids of the keys this rotation revoked."""


@dataclass(frozen=True)
class KeyIdentity:
    org_slug: str
    key_id: str


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def display_prefix(api_key: str) -> str:
    """``acme_api_AbCd…``: enough to tell keys apart in a UI, useless to an attacker."""
    marker = api_key.find(KEY_MARKER)
    end = marker + len(KEY_MARKER) + PREFIX_CHARS if marker >= 0 else PREFIX_CHARS
    return api_key[:end]


def issue(platform: Platform, org_slug: str, *, rotated_from: str | None = None) -> IssuedKey:
    """Mint a key and build its row; the caller inserts it (onboarding batches its writes)."""
    api_key = f"{org_slug}{KEY_MARKER}{secrets.token_urlsafe(32)}"
    encrypted = platform.keys.encrypt(api_key.encode("utf-8"), aad=org_slug.encode("utf-8"))
    key_id = str(uuid.uuid4())
    row = {
        "org_api_key_id": key_id,
        "org_slug": org_slug,
        "api_key_hash": hash_key(api_key),
        "encrypted_api_key": encrypted.ciphertext,
        "kms_key_name": platform.keys.key_name,
        "scopes": ["org:admin"],
        "is_active": True,
        "rotated_from_key_id": rotated_from,
        "created_at": platform.clock.now(),
        "expires_at": None,
        "revoked_at": None,
        "last_used_at": None,
    }
    return IssuedKey(api_key, key_id, display_prefix(api_key), encrypted.key_version, row)


def authenticate(platform: Platform, org_slug: str, api_key: str | None) -> KeyIdentity:
    """The org key in ``X-API-Key`` must be active and belong to ``org_slug`` (401 / 403 otherwise)."""
    if not api_key:
        raise Unauthenticated("Missing API key: send it in the X-API-Key header")
    identity = _lookup(platform, hash_key(api_key))
    if identity is None:
        raise Unauthenticated("Invalid or revoked API key")
    if not hmac.compare_digest(identity.org_slug.encode(), org_slug.encode()):
        raise Forbidden(f"This API key does not grant access to organization '{org_slug}'")
    return identity


def _lookup(platform: Platform, digest: str) -> KeyIdentity | None:
    rows = platform.select(
        f"SELECT org_slug, org_api_key_id, api_key_hash FROM {platform.table('org_api_keys')} "
        "WHERE api_key_hash = @digest AND is_active AND revoked_at IS NULL "
        "AND (expires_at IS NULL OR expires_at > CURRENT_TIMESTAMP())",
        {"digest": digest},
    ).rows
    for row in rows:
        if hmac.compare_digest(row["api_key_hash"], digest):
            return KeyIdentity(org_slug=row["org_slug"], key_id=row["org_api_key_id"])
    return None


def active_keys(platform: Platform, org_slug: str) -> list[dict]:
    return platform.select(
        f"SELECT org_api_key_id, created_at, rotated_from_key_id FROM {platform.table('org_api_keys')} "
        "WHERE org_slug = @org_slug AND is_active ORDER BY created_at",
        {"org_slug": org_slug},
    ).rows


def rotate(platform: Platform, org_slug: str) -> Rotation:
    """A new key; every previous key of the org is revoked at once, on every api-service process.

    Rotation is a compare-and-swap in the warehouse, so it holds across api-service processes
    that share it (an in-process lock would not): the new key is first written inactive, then one
    UPDATE activates it and revokes the previous keys *only if the org's active keys are still
    the ones read at the start*. Of concurrent rotations exactly one wins; the others find the
    set changed, delete their unused key and are refused with a 409 ``ROTATION_CONFLICT``, so the
    org always ends with one working key: the one the successful response returned. A failure
    before the swap leaves the previous key working.
    """
    previous = [row["org_api_key_id"] for row in active_keys(platform, org_slug)]
    issued = issue(platform, org_slug, rotated_from=previous[-1] if previous else None)
    pending = {**issued.row, "is_active": False}
    platform.insert("org_api_keys", [pending])
    try:
        swapped = platform.execute(
            f"UPDATE {platform.table('org_api_keys')} "
            "SET is_active = (org_api_key_id = @key_id), "
            "revoked_at = IF(org_api_key_id = @key_id, NULL, @now) "
            "WHERE org_slug = @org_slug AND (org_api_key_id = @key_id OR is_active) "
            f"AND (SELECT COUNT(*) FROM {platform.table('org_api_keys')} "
            "WHERE org_slug = @org_slug AND is_active) = @count "
            f"AND (SELECT COUNT(*) FROM {platform.table('org_api_keys')} "
            "WHERE org_slug = @org_slug AND is_active AND org_api_key_id IN UNNEST(@previous)) = @count",
            {
                "org_slug": org_slug,
                "key_id": issued.key_id,
                "now": platform.clock.now(),
                "previous": QueryParam("ARRAY<STRING>", previous),
                "count": len(previous),
            },
        )
    except Exception:
        _discard(platform, issued.key_id)
        raise
    if not swapped:
        _discard(platform, issued.key_id)
        raise Conflict(
            f"Another API-key rotation of organization '{org_slug}' finished first; "
            "its response holds the org's only valid key",
            code="ROTATION_CONFLICT",
        )
    return Rotation(key=issued, revoked=previous)


def undo_rotation(platform: Platform, org_slug: str, rotation: Rotation) -> None:
    """Put the revoked keys back and drop the new one, for a rotation whose response the caller
    will not get (a later step of the request failed): otherwise the only working key would be
    one nobody holds. A compare-and-swap like :func:`rotate`: it does nothing if the new key is no
    longer the org's only active key (a later rotation already replaced it)."""
    table = platform.table("org_api_keys")
    platform.execute(
        f"UPDATE {table} SET is_active = (org_api_key_id IN UNNEST(@previous)), revoked_at = NULL "
        "WHERE org_slug = @org_slug AND (org_api_key_id = @key_id OR org_api_key_id IN UNNEST(@previous)) "
        f"AND (SELECT COUNT(*) FROM {table} WHERE org_slug = @org_slug AND is_active) = 1 "
        f"AND (SELECT COUNT(*) FROM {table} WHERE org_api_key_id = @key_id AND is_active) = 1",
        {
            "org_slug": org_slug,
            "key_id": rotation.key.key_id,
            "previous": QueryParam("ARRAY<STRING>", rotation.revoked),
        },
    )
    _discard(platform, rotation.key.key_id)


def _discard(platform: Platform, key_id: str) -> None:
    """Remove a key that was never activated (a lost or failed rotation); best effort, since the
    caller is already failing with the error that matters, and an inactive key grants nothing."""
    try:
        platform.execute(
            f"DELETE FROM {platform.table('org_api_keys')} WHERE org_api_key_id = @key_id AND NOT is_active",
            {"key_id": key_id},
        )
    except Exception:
        log.exception("could not remove the unused API key %s", key_id)
