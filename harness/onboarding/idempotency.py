"""Idempotent requests: a repeated ``Idempotency-Key`` replays the first response.

Stored in ``org_idempotency_keys``: the key, a hash of the request it was first used with, and
the response. The same key with a different request is refused (as Stripe does); keys live 24 h
on the injected clock (the table's partition expiration removes them for good). Responses can
hold secrets (a new org's API key is in its onboarding response), so the stored body is
KMS-encrypted with the scope and key as additional authenticated data. An API request first
claims its key with a row that has no response yet (see :func:`claim`); that row, not a lock in
memory, is what makes concurrent requests with one key run once across service processes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from harness.onboarding.errors import Conflict, DomainError, InvalidRequest
from harness.onboarding.platform import Platform

log = logging.getLogger(__name__)

TTL = timedelta(hours=24)
LEASE = timedelta(hours=1)
"""A claim with no response after this long belongs to a request that died; it is taken over."""
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


def claim(
    platform: Platform, *, scope: str, source: str, key: str, fingerprint: str
) -> StoredResponse | None:
    """Take the key for this request (``None``: run it, then :func:`finish` or :func:`release`),
    or return the finished first response to replay.

    The claim is a conditional INSERT of a row with no response yet, so of concurrent requests
    with one key exactly one runs, also across api-service processes sharing the warehouse. The
    others get what Stripe answers for a key whose first request is still in flight: a 409
    ``IDEMPOTENCY_KEY_IN_USE`` (Stripe's error code ``idempotency_key_in_use``, as the official
    stripe-go SDK lists it among its ``ErrorCode`` constants; docs.stripe.com/idempotency: a
    request that conflicts with a concurrent one saves no result, so it is safe to retry), and the
    replay once the first one finished. A claim left by
    a request that died (older than ``LEASE``) is taken over.
    """
    table = platform.table("org_idempotency_keys")
    now = platform.clock.now()
    where = "org_slug = @scope AND source = @source AND idempotency_key = @key"
    params = {"scope": scope, "source": source, "key": key}
    platform.execute(
        f"DELETE FROM {table} WHERE {where} AND response_status IS NULL AND created_at <= @stale",
        {**params, "stale": now - LEASE},
    )
    claimed = platform.execute(
        f"INSERT INTO {table} (idempotency_key, org_slug, source, request_hash, response_status, "
        "response_body, created_at, expires_at) "
        "SELECT @key, @scope, @source, @fingerprint, NULL, NULL, @now, @expires FROM UNNEST([1]) "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {where} AND expires_at > CURRENT_TIMESTAMP())",
        {**params, "fingerprint": fingerprint, "now": now, "expires": now + TTL},
    )
    if claimed:
        return None
    row = _live_row(platform, scope=scope, source=source, key=key)
    if row is not None and row["response_status"] is not None:
        return _decode(platform, row, scope=scope, source=source, key=key, fingerprint=fingerprint)
    if row is not None and row["request_hash"] != fingerprint:
        raise _reused()
    # Still in flight (or released a moment ago: retrying is just as safe then).
    raise Conflict(
        "There is another request with this Idempotency-Key still in progress; "
        "retry later with the same key to get its result",
        code="IDEMPOTENCY_KEY_IN_USE",
    )


def finish(platform: Platform, *, scope: str, source: str, key: str, status: int, body: Any) -> None:
    """Store the response of the request holding the claim, for replays."""
    sealed = _seal(platform, body, scope=scope, source=source, key=key)
    platform.execute(
        f"UPDATE {platform.table('org_idempotency_keys')} "
        "SET response_status = @status, response_body = PARSE_JSON(@body) "
        "WHERE org_slug = @scope AND source = @source AND idempotency_key = @key "
        "AND response_status IS NULL",
        {"scope": scope, "source": source, "key": key, "status": status, "body": json.dumps(sealed)},
    )


def release(platform: Platform, *, scope: str, source: str, key: str) -> None:
    """Give the claim up after the request failed, so a retry runs it again. Best effort: the
    caller is already failing with the error that matters, and ``LEASE`` ends a claim anyway."""
    try:
        platform.execute(
            f"DELETE FROM {platform.table('org_idempotency_keys')} "
            "WHERE org_slug = @scope AND source = @source AND idempotency_key = @key "
            "AND response_status IS NULL",
            {"scope": scope, "source": source, "key": key},
        )
    except Exception:
        log.exception("could not release Idempotency-Key claim in scope %s", scope)


def _live_row(platform: Platform, *, scope: str, source: str, key: str) -> dict[str, Any] | None:
    rows = platform.select(
        f"SELECT request_hash, response_status, response_body FROM {platform.table('org_idempotency_keys')} "
        "WHERE org_slug = @scope AND source = @source AND idempotency_key = @key "
        "AND expires_at > CURRENT_TIMESTAMP() ORDER BY created_at DESC LIMIT 1",
        {"scope": scope, "source": source, "key": key},
    ).rows
    return rows[0] if rows else None


def _decode(
    platform: Platform, row: dict[str, Any], *, scope: str, source: str, key: str, fingerprint: str
) -> StoredResponse:
    if row["request_hash"] != fingerprint:
        raise _reused()
    sealed = base64.b64decode(row["response_body"]["ciphertext"])
    body = json.loads(platform.keys.decrypt(sealed, aad=_aad(scope, source, key)))
    return StoredResponse(status=row["response_status"], body=body)


def _reused() -> DomainError:
    return DomainError(
        "Keys for idempotent requests can only be used with the same parameters they were first used with",
        code="IDEMPOTENCY_KEY_REUSED",
        status=422,
    )


def _aad(scope: str, source: str, key: str) -> bytes:
    return json.dumps([scope, source, key]).encode("utf-8")


def _seal(platform: Platform, body: Any, *, scope: str, source: str, key: str) -> dict[str, str]:
    plaintext = json.dumps(body, default=str, separators=(",", ":")).encode("utf-8")
    sealed = platform.keys.encrypt(plaintext, aad=_aad(scope, source, key)).ciphertext
    return {"ciphertext": base64.b64encode(sealed).decode("ascii")}
