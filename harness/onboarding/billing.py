"""Billing webhooks: Stripe-style signed subscription events, each applied exactly once.

Signature: ``Stripe-Signature: t=<unix>,v1=<hex>`` where ``v1`` is HMAC-SHA256 of ``t.payload``
under the endpoint secret; the timestamp must be within 300 s of the injected clock and the
comparison is constant-time. A bad signature changes nothing. Event ids are recorded in
``org_idempotency_keys`` (source ``stripe``), so a redelivered event is acknowledged, not re-applied.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from harness.onboarding import audit, idempotency, orgs, subscriptions
from harness.onboarding.audit import Actor, ActorType
from harness.onboarding.errors import InvalidRequest
from harness.onboarding.plans import SubscriptionStatus, get_plan
from harness.onboarding.platform import Platform

TOLERANCE_SECONDS = 300
SOURCE = "stripe"
HANDLED = ("customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted")
STATUSES: dict[str, SubscriptionStatus] = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "incomplete": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete_expired": SubscriptionStatus.CANCELED,
}


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header a sender would attach (used by tests and scenarios)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(payload: bytes, header: str | None, secret: str, now: datetime) -> None:
    if not header:
        raise _bad_signature("Missing Stripe-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise _bad_signature("Unable to extract timestamp and signatures from header")
    expected = sign(payload, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in signatures):
        raise _bad_signature("No signatures found matching the expected signature for payload")
    if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        raise _bad_signature("Timestamp outside the tolerance zone")


def _bad_signature(message: str) -> InvalidRequest:
    return InvalidRequest(message, code="INVALID_SIGNATURE")


def handle(platform: Platform, payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    verify(payload, signature, secret, platform.clock.now())
    try:
        event = json.loads(payload)
        event_id, event_type = event["id"], event["type"]
        obj = event["data"]["object"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest("Webhook payload is not a Stripe event", code="INVALID_EVENT") from exc
    if event_type not in HANDLED:
        return {
            "received": True,
            "event_id": event_id,
            "applied": False,
            "reason": f"{event_type} is not handled",
        }
    org_slug = (obj.get("metadata") or {}).get("org_slug")
    if not org_slug:
        raise InvalidRequest("Subscription metadata.org_slug is missing", code="INVALID_EVENT")
    orgs.get(platform, org_slug)  # 404 for an unknown org, so the sender retries visibly
    fingerprint = hashlib.sha256(payload).hexdigest()
    if idempotency.lookup(platform, scope=org_slug, source=SOURCE, key=event_id, fingerprint=fingerprint):
        return {"received": True, "event_id": event_id, "applied": False, "duplicate": True}
    updated = _apply(platform, org_slug, event_type, obj)
    result = {
        "received": True,
        "event_id": event_id,
        "applied": True,
        "plan": updated.plan_name,
        "status": updated.status,
    }
    idempotency.store(
        platform,
        scope=org_slug,
        source=SOURCE,
        key=event_id,
        fingerprint=fingerprint,
        status=200,
        body=result,
    )
    audit.record(
        platform,
        org_slug=org_slug,
        actor=Actor(ActorType.WEBHOOK, SOURCE),
        action=f"billing.{event_type}",
        target_type="SUBSCRIPTION",
        target_id=updated.subscription_id,
        details={"event_id": event_id, "plan": updated.plan_name, "status": updated.status},
    )
    return result


def _apply(
    platform: Platform, org_slug: str, event_type: str, obj: dict[str, Any]
) -> subscriptions.SubscriptionView:
    if event_type == "customer.subscription.deleted":
        status = SubscriptionStatus.CANCELED
    else:
        status = STATUSES.get(str(obj.get("status", "")).lower())
        if status is None:
            raise InvalidRequest(f"Unknown subscription status {obj.get('status')!r}", code="INVALID_EVENT")
    plan_name = (obj.get("metadata") or {}).get("plan") or _price_lookup_key(obj)
    start, end = _period(obj)
    return subscriptions.update(
        platform,
        org_slug,
        plan=get_plan(plan_name) if plan_name else None,
        status=status,
        period=(start, end) if start and end else None,
        cancel_at_period_end=bool(obj.get("cancel_at_period_end", False)),
        billing_ids=(obj.get("customer"), obj.get("id")),
    )


def _price_lookup_key(obj: dict[str, Any]) -> str | None:
    for item in (obj.get("items") or {}).get("data") or []:
        key = (item.get("price") or {}).get("lookup_key")
        if key:
            return str(key)
    return None


def _period(obj: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """Stripe moved the period onto subscription items in newer API versions; read either."""
    items = (obj.get("items") or {}).get("data") or [{}]
    start = obj.get("current_period_start") or items[0].get("current_period_start")
    end = obj.get("current_period_end") or items[0].get("current_period_end")
    return _from_unix(start), _from_unix(end)


def _from_unix(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None
