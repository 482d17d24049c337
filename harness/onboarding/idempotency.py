"""Idempotent requests: a repeated ``Idempotency-Key`` replays the first response.

Stored in ``org_idempotency_keys``: the key, a hash of the request it was first used with, and
the response. The same key with a different request is refused (as Stripe does); keys live 24 h
on the injected clock (the table's partition expiration removes them for good). Responses can
hold secrets (a new org's API key is in its onboarding response), so the stored body is
KMS-encrypted with the scope and key as additional authenticated data.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from harness.onboarding.errors import DomainError, InvalidRequest
from harness.onboarding.platform import Platform

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters", code="INVALID_IDEMPOTENCY_KEY"
        )
    return key


def lookup(
    platform: Platform, *, scope: str, source: str, key: str, fingerprint: str
) -> StoredResponse | None:
    """The stored response for a live key, ``None`` for a new one; a reused key with another
    request is a 422 ``IDEMPOTENCY_KEY_REUSED``."""
    rows = platform.select(
        f"SELECT request_hash, response_status, response_body FROM {platform.table('org_idempotency_keys')} "
        "WHERE org_slug = @scope AND source = @source AND idempotency_key = @key "
        "AND expires_at > CURRENT_TIMESTAMP() ORDER BY created_at DESC LIMIT 1",
        {"scope": scope, "source": source, "key": key},
    ).rows
    if not rows:
        return None
    row = rows[0]
    if row["request_hash"] != fingerprint:
        raise DomainError(
            "Keys for idempotent requests can only be used with the same parameters "
            "they were first used with",
            code="IDEMPOTENCY_KEY_REUSED",
            status=422,
        )
    sealed = base64.b64decode(row["response_body"]["ciphertext"])
    body = json.loads(platform.keys.decrypt(sealed, aad=_aad(scope, source, key)))
    return StoredResponse(status=row["response_status"], body=body)


def _aad(scope: str, source: str, key: str) -> bytes:
    return json.dumps([scope, source, key]).encode("utf-8")


def store(
    platform: Platform, *, scope: str, source: str, key: str, fingerprint: str, status: int, body: Any
) -> None:
    now = platform.clock.now()
    plaintext = json.dumps(body, default=str, separators=(",", ":")).encode("utf-8")
    sealed = platform.keys.encrypt(plaintext, aad=_aad(scope, source, key)).ciphertext
    platform.insert(
        "org_idempotency_keys",
        [
            {
                "idempotency_key": key,
                "org_slug": scope,
                "source": source,
                "request_hash": fingerprint,
                "response_status": status,
                "response_body": {"ciphertext": base64.b64encode(sealed).decode("ascii")},
                "created_at": now,
                "expires_at": now + TTL,
            }
        ],
    )
