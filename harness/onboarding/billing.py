"""Billing webhooks: Stripe-style signed subscription events, each applied exactly once.

Signature: ``Stripe-Signature: t=<unix>,v1=<hex>`` where ``v1`` is HMAC-SHA256 of ``t.payload``
under the endpoint secret; the timestamp must be within 300 s of the injected clock and the
comparison is constant-time. A bad signature changes nothing.

Stripe delivers at least once and in no guaranteed order, and retries an undelivered event with
exponential backoff for up to three days (docs.stripe.com/webhooks, "Event ordering" and
"Automatic retries"; docs.stripe.com/webhooks/process-undelivered-events: "automatically resends
the undelivered events to your endpoint for up to three days"). So:

* an event is applied only if its ``created`` time (Event.created, seconds since the epoch) is not
  older than the newest event already applied to the same Stripe subscription; an older one is
  acknowledged (2xx, so Stripe stops retrying) and changes nothing;
* de-duplication outlives the retries. Each applied event's id, ``created`` and Stripe
  subscription id are kept in its audit row (``org_audit_logs``, kept for the org's life), which
  is therefore the record of what was applied: no new meta table and no schema change. The
  ``org_idempotency_keys`` row (source ``BILLING_WEBHOOK``, 24 h) stays as the fast path and the
  check that a reused event id carries the same payload.

A delivery first claims the event id in ``org_idempotency_keys`` (a row with no response yet, as an
API request claims its ``Idempotency-Key``), so concurrent deliveries of one event, on one service
process or several, apply it once: the others get a 409 ``IDEMPOTENCY_KEY_IN_USE`` and Stripe's
retry then finds it applied. The audit row is written before the claim is completed: if either
write fails the claim is released, and Stripe's retry finds the event unrecorded (or recorded in
the audit) and re-applies the same absolute state or acknowledges it, never a half-recorded event
that is later taken for new. An event that fails before its audit row is written is taken back
(the subscription as it was), so a delivery answered with an error changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.onboarding import audit, idempotency, orgs, subscriptions
from harness.onboarding.audit import Actor, ActorType
from harness.onboarding.errors import InvalidRequest
from harness.onboarding.models import SubscriptionView
from harness.onboarding.plans import SubscriptionStatus, get_plan
from harness.onboarding.platform import Platform

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
SOURCE = "BILLING_WEBHOOK"
ACTION_PREFIX = "billing."
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
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise _bad_signature("Unable to extract timestamp and signatures from header")
    expected = sign(payload, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in signatures):
        raise _bad_signature("No signatures found matching the expected signature for payload")
    if abs(int(now.timestamp()) - timestamp) > TOLERANCE_SECONDS:
        raise _bad_signature("Timestamp outside the tolerance zone")


def _bad_signature(message: str) -> InvalidRequest:
    return InvalidRequest(message, code="INVALID_SIGNATURE")


def handle(platform: Platform, payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    verify(payload, signature, secret, platform.clock.now())
    try:
        event = _Event.model_validate_json(payload)
    except ValidationError as exc:
        raise InvalidRequest(
            f"Webhook payload is not a Stripe event: {_first_problem(exc)}", code="INVALID_EVENT"
        ) from exc
    event_id, event_type = event.id, event.type
    if event_type not in HANDLED:
        return {
            "received": True,
            "event_id": event_id,
            "applied": False,
            "reason": f"{event_type} is not handled",
        }
    try:
        subscription = _Subscription.model_validate(event.data.object)
    except ValidationError as exc:
        raise InvalidRequest(
            f"Malformed subscription object: {_first_problem(exc)}", code="INVALID_EVENT"
        ) from exc
    obj = subscription
    org_slug = obj.metadata.get("org_slug")
    if not org_slug:
        raise InvalidRequest("Subscription metadata.org_slug is missing", code="INVALID_EVENT")
    orgs.get(platform, org_slug)  # 404 for an unknown org, so the sender retries visibly
    fingerprint = hashlib.sha256(payload).hexdigest()
    duplicate = {"received": True, "event_id": event_id, "applied": False, "duplicate": True}
    where = {"scope": org_slug, "source": SOURCE, "key": event_id}
    # The claim (not a lock in one process) makes concurrent deliveries of one event on several
    # service processes apply it once; a delivery that finds it in flight gets a 409, and Stripe's
    # retry then finds it applied.
    if idempotency.claim(platform, **where, fingerprint=fingerprint):
        return duplicate
    try:
        result = _apply_once(platform, event, obj, org_slug)
        idempotency.finish(platform, **where, status=200, body=result)
    except BaseException:
        idempotency.release(platform, **where)
        raise
    return result


def _apply_once(platform: Platform, event: _Event, obj: _Subscription, org_slug: str) -> dict[str, Any]:
    """Apply the event unless its audit rows say it (or a newer one) already was."""
    event_id, event_type = event.id, event.type
    duplicate = {"received": True, "event_id": event_id, "applied": False, "duplicate": True}
    applied = _applied_events(platform, org_slug, obj.id)
    if any(item.get("event_id") == event_id for item in applied):
        return duplicate
    newest = max(applied, key=lambda item: int(item["event_created"]), default=None)
    if newest is not None and event.created < int(newest["event_created"]):
        return {
            "received": True,
            "event_id": event_id,
            "applied": False,
            "reason": f"older than {newest['event_id']}, already applied to {obj.id}",
        }
    previous = subscriptions.get(platform, org_slug)
    try:
        updated = _apply(platform, org_slug, event_type, obj)
        _record(platform, org_slug, event_id, event_type, event.created, obj.id, updated)
    except BaseException:
        # Unrecorded, the event must not stay half applied: a newer event applied before its
        # redelivery would otherwise be overwritten by what is left of it.
        _put_back(platform, org_slug, previous)
        raise
    result = {
        "received": True,
        "event_id": event_id,
        "applied": True,
        "plan": updated.plan_name,
        "status": updated.status,
    }
    return result


def _record(
    platform: Platform,
    org_slug: str,
    event_id: str,
    event_type: str,
    created: int,
    subscription_id: str,
    updated: SubscriptionView,
) -> None:
    """The audit row that records the event as applied (see the module docstring)."""
    audit.record(
        platform,
        org_slug=org_slug,
        actor=Actor(ActorType.WEBHOOK, "stripe"),
        action=f"{ACTION_PREFIX}{event_type}",
        target_type="SUBSCRIPTION",
        target_id=updated.subscription_id,
        details={
            "event_id": event_id,
            "event_created": created,
            "billing_subscription_id": subscription_id,
            "plan": updated.plan_name,
            "status": updated.status,
        },
    )


def _put_back(platform: Platform, org_slug: str, previous: SubscriptionView) -> None:
    """Best effort: the error that stopped the event is what Stripe sees, and it redelivers."""
    try:
        subscriptions.restore(platform, org_slug, previous)
    except Exception:
        log.exception("could not put back the subscription of %s after a failed billing event", org_slug)


def _applied_events(platform: Platform, org_slug: str, subscription_id: str) -> list[dict[str, Any]]:
    """The audit details of every event applied to this Stripe subscription of the org. A
    subscription sees a handful of events a month, so they are read whole and filtered here
    rather than with JSON functions that the warehouse tiers spell differently."""
    found = platform.select(
        f"SELECT details FROM {platform.table('org_audit_logs')} WHERE org_slug = @org_slug "
        "AND actor_type = @actor_type AND STARTS_WITH(action, @prefix)",
        {"org_slug": org_slug, "actor_type": ActorType.WEBHOOK.value, "prefix": ACTION_PREFIX},
    ).rows
    details = (_as_dict(row["details"]) for row in found)
    return [item for item in details if item.get("billing_subscription_id") == subscription_id]


def _as_dict(value: Any) -> dict[str, Any]:
    """A JSON column comes back parsed from some clients and as text from others."""
    parsed = json.loads(value) if isinstance(value, str) else value
    return parsed if isinstance(parsed, dict) else {}


def _apply(platform: Platform, org_slug: str, event_type: str, obj: _Subscription) -> SubscriptionView:
    if event_type == "customer.subscription.deleted":
        status = SubscriptionStatus.CANCELED
    else:
        status = STATUSES.get(obj.status.lower())
        if status is None:
            raise InvalidRequest(f"Unknown subscription status {obj.status!r}", code="INVALID_EVENT")
    plan_name = obj.metadata.get("plan") or next(
        (item.price.lookup_key for item in obj.items.data if item.price and item.price.lookup_key), None
    )
    plan = get_plan(plan_name) if plan_name else None
    first_item = obj.items.data[0] if obj.items.data else None
    start = obj.current_period_start or (first_item.current_period_start if first_item else None)
    end = obj.current_period_end or (first_item.current_period_end if first_item else None)
    return subscriptions.update(
        platform,
        org_slug,
        plan=plan,
        status=status,
        period=(_from_unix(start), _from_unix(end)) if start and end else None,
        cancel_at_period_end=obj.cancel_at_period_end,
        billing_ids=(obj.customer, obj.id),
    )


def _from_unix(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc']) or 'payload'}: {error['msg']}"


UnixTime = Annotated[int, Field(ge=0, le=253_402_300_799)]
"""Seconds since the epoch, up to the end of year 9999 (what a datetime can hold)."""


class _Loose(BaseModel):
    """Stripe objects carry many more fields than these; only the ones read here are typed."""

    model_config = ConfigDict(extra="ignore", strict=True)


class _Price(_Loose):
    lookup_key: str | None = None


class _Item(_Loose):
    price: _Price | None = None
    current_period_start: UnixTime | None = None
    current_period_end: UnixTime | None = None


class _Items(_Loose):
    data: list[_Item] = []


class _Subscription(_Loose):
    id: str
    customer: str | None = None
    status: str
    metadata: dict[str, str] = {}
    items: _Items = _Items()
    current_period_start: UnixTime | None = None
    current_period_end: UnixTime | None = None
    cancel_at_period_end: bool = False


class _EventData(_Loose):
    object: dict[str, Any]


class _Event(_Loose):
    id: str = Field(min_length=1, max_length=255)
    type: str
    created: UnixTime
    data: _EventData
