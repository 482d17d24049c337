"""Stripe-style billing webhooks: signature, tolerance, de-duplication and status mapping.

``POST /api/v1/billing/webhook`` with ``Stripe-Signature: t=<unix>,v1=<hex>``. A valid event for
``customer.subscription.*`` changes the org's plan / status (and today's quota limits) once; a
redelivered event id is acknowledged as a duplicate; anything with a bad signature is a 400
``INVALID_SIGNATURE`` that changes nothing. Timestamps are judged against the injected clock.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.onboarding.billing import sign
from harness.services.api import create_api_app
from harness.services.app_pool import lent_app

SECRET = "whsec_local_harness"
URL = "/api/v1/billing/webhook"
ROOT = {"X-CA-Root-Key": "local-root-key"}


# ---------------------------------------------------------------------------------- helpers


@pytest.fixture
def client(backends):  # type: ignore[no-untyped-def]
    """The api app over the fake tier; server errors come back as 500 responses, not exceptions,
    so a test can assert that no input produces a 5xx. The app holds nothing but the platform it
    is lent, so one is built for the module and lent to each test."""
    with (
        lent_app(create_api_app, backends.platform, None) as app,
        TestClient(app, raise_server_exceptions=False) as test_client,
    ):
        yield test_client


@pytest.fixture
def org_key(client) -> str:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/organizations/onboard",
        json={"org_slug": "acme", "company_name": "Acme Inc", "admin_email": "ops@acme.test"},
        headers=ROOT,
    )
    assert response.status_code == 201, response.text
    return response.json()["api_key"]


def subscription_object(
    org_slug: str = "acme", *, status: str = "active", plan: str | None = "PROFESSIONAL", **extra: Any
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"org_slug": org_slug}
    if plan is not None:
        metadata["plan"] = plan
    return {
        "id": "sub_123",
        "object": "subscription",
        "customer": "cus_123",
        "status": status,
        "metadata": metadata,
        **extra,
    }


CREATED = 1_780_000_000
"""Stripe's ``Event.created`` of the helper's events unless a test says otherwise (seconds since
the epoch); only the order of two events' ``created`` matters to the handler."""


def event(
    obj: Any = None,
    *,
    event_type: str = "customer.subscription.updated",
    event_id: str = "evt_1",
    created: int = CREATED,
) -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": created,
        "data": {"object": subscription_object() if obj is None else obj},
    }
    return json.dumps(body).encode()


def now_ts(backends) -> int:  # type: ignore[no-untyped-def]
    return int(backends.clock.now().timestamp())


def deliver(
    client, backends, payload: bytes, *, secret: str = SECRET, age: int = 0, header: str | None = None
):  # type: ignore[no-untyped-def]
    """POST ``payload`` signed ``age`` seconds before the injected clock's now (or with ``header``)."""
    signature = header if header is not None else sign(payload, secret, now_ts(backends) - age)
    return client.post(
        URL, content=payload, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
    )


def rows(backends, table: str, where: str = "TRUE", **params: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    platform = backends.platform
    return platform.select(f"SELECT * FROM {platform.table(table)} WHERE {where}", params).rows


def state(backends) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Everything a webhook may change."""
    return {
        table: sorted(json.dumps(row, default=str, sort_keys=True) for row in rows(backends, table))
        for table in (
            "org_profiles",
            "org_subscriptions",
            "org_usage_quotas",
            "org_idempotency_keys",
            "org_audit_logs",
        )
    }


def subscription(client, org_key: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/organizations/acme/subscription", headers={"X-API-Key": org_key})
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert body["message"]
    assert body["error_id"]


# ---------------------------------------------------------------------------------- applying


def test_signed_update_changes_plan_limits_and_quota_and_is_audited(client, backends, org_key) -> None:
    response = deliver(client, backends, event())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["received"] is True
    assert body["applied"] is True
    assert body["event_id"] == "evt_1"
    assert (body["plan"], body["status"]) == ("PROFESSIONAL", "ACTIVE")

    sub = subscription(client, org_key)
    assert sub["plan_name"] == "PROFESSIONAL"
    assert sub["status"] == "ACTIVE"
    assert (sub["daily_pipeline_limit"], sub["monthly_pipeline_limit"], sub["provider_limit"]) == (25, 750, 3)
    assert (sub["billing_customer_id"], sub["billing_subscription_id"]) == ("cus_123", "sub_123")

    quota = client.get("/api/v1/organizations/acme/quota", headers={"X-API-Key": org_key}).json()
    assert (quota["daily_limit"], quota["monthly_limit"]) == (25, 750)
    today = rows(backends, "org_usage_quotas", "org_slug = 'acme'")
    assert [(r["daily_limit"], r["monthly_limit"]) for r in today] == [(25, 750)]

    org = client.get("/api/v1/organizations/acme", headers={"X-API-Key": org_key}).json()
    assert org["subscription_plan"] == "PROFESSIONAL"

    audit = rows(backends, "org_audit_logs", "action = 'billing.customer.subscription.updated'")
    assert len(audit) == 1
    assert audit[0]["org_slug"] == "acme"
    assert audit[0]["actor_type"] == "WEBHOOK"
    assert audit[0]["outcome"] == "SUCCESS"
    assert audit[0]["target_id"] == sub["subscription_id"]
    assert audit[0]["details"]["event_id"] == "evt_1"


def test_plan_from_price_lookup_key_and_period_from_items(client, backends, org_key) -> None:
    start, end = now_ts(backends), now_ts(backends) + 30 * 86400
    items = {
        "data": [{"price": {"lookup_key": "scale"}, "current_period_start": start, "current_period_end": end}]
    }
    payload = event(subscription_object(plan=None, items=items, cancel_at_period_end=True))

    response = deliver(client, backends, payload)

    assert response.status_code == 200, response.text
    assert response.json()["plan"] == "SCALE"
    sub = subscription(client, org_key)
    assert sub["plan_name"] == "SCALE"
    assert sub["daily_pipeline_limit"] == 100
    assert sub["cancel_at_period_end"] is True
    assert sub["current_period_start"] == backends.clock.now().isoformat().replace("+00:00", "Z")
    assert sub["current_period_end"] == (backends.clock.now() + timedelta(days=30)).isoformat().replace(
        "+00:00", "Z"
    )


def test_event_without_a_plan_keeps_the_plan(client, backends, org_key) -> None:
    response = deliver(client, backends, event(subscription_object(plan=None, status="past_due")))
    assert response.status_code == 200, response.text
    sub = subscription(client, org_key)
    assert (sub["plan_name"], sub["status"]) == ("STARTER", "PAST_DUE")


def test_created_event_applies(client, backends, org_key) -> None:
    payload = event(subscription_object(plan="SCALE"), event_type="customer.subscription.created")
    response = deliver(client, backends, payload)
    assert response.status_code == 200, response.text
    assert response.json()["applied"] is True
    assert subscription(client, org_key)["plan_name"] == "SCALE"


STATUSES = {
    "active": "ACTIVE",
    "trialing": "ACTIVE",
    "past_due": "PAST_DUE",
    "unpaid": "PAST_DUE",
    "incomplete": "PAST_DUE",
    "paused": "PAST_DUE",
    "canceled": "CANCELED",
    "incomplete_expired": "CANCELED",
}


def test_status_mapping(client, backends, org_key) -> None:
    # One org, one event per status (distinct ids, so none is a duplicate); back to active between
    # them proves canceled_at is cleared again.
    for n, (stripe_status, expected) in enumerate([*STATUSES.items(), ("active", "ACTIVE")]):
        response = deliver(
            client, backends, event(subscription_object(status=stripe_status), event_id=f"evt_{n}")
        )
        assert response.status_code == 200, (stripe_status, response.text)
        assert response.json()["status"] == expected, stripe_status
        sub = subscription(client, org_key)
        assert sub["status"] == expected, stripe_status
        assert (sub["canceled_at"] is not None) is (expected == "CANCELED"), stripe_status


def test_deleted_event_cancels_with_canceled_at(client, backends, org_key) -> None:
    backends.clock.advance(timedelta(hours=3))
    payload = event(
        subscription_object(status="active", plan=None), event_type="customer.subscription.deleted"
    )

    response = deliver(client, backends, payload)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CANCELED"
    sub = subscription(client, org_key)
    assert sub["status"] == "CANCELED"
    assert sub["canceled_at"] == backends.clock.now().isoformat().replace("+00:00", "Z")
    assert sub["plan_name"] == "STARTER"


def test_unknown_status_is_400_and_changes_nothing(client, backends, org_key) -> None:
    before = state(backends)
    response = deliver(client, backends, event(subscription_object(status="bogus")))
    assert_error(response, 400, "INVALID_EVENT")
    assert state(backends) == before


def test_unknown_event_type_is_acknowledged_not_applied(client, backends, org_key) -> None:
    before = state(backends)
    response = deliver(
        client, backends, event({"id": "in_1", "object": "invoice"}, event_type="invoice.paid")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["received"] is True
    assert body["applied"] is False
    assert "invoice.paid" in body["reason"]
    assert state(backends) == before


def test_unknown_org_is_404_and_changes_nothing(client, backends, org_key) -> None:
    before = state(backends)
    response = deliver(client, backends, event(subscription_object("nobody_here")))
    assert_error(response, 404, "ORG_NOT_FOUND")
    assert state(backends) == before


def test_missing_org_slug_is_400(client, backends, org_key) -> None:
    obj = subscription_object()
    obj["metadata"] = {"plan": "SCALE"}
    response = deliver(client, backends, event(obj))
    assert_error(response, 400, "INVALID_EVENT")


MALFORMED_EVENTS = {
    "broken": b"{not json",
    "empty": b"",
    "array": b"[]",
    "string": b'"evt"',
    "no-type": b'{"id": "evt_1"}',
    "no-data": b'{"id": "e", "type": "customer.subscription.updated"}',
    "not-utf8": b"\xff\xfe",
}


def test_malformed_event_with_a_valid_signature_is_400(client, backends, org_key) -> None:
    before = state(backends)
    for name, payload in MALFORMED_EVENTS.items():
        response = deliver(client, backends, payload)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"] == "INVALID_EVENT", name
    assert state(backends) == before


# ---------------------------------------------------------------------------- de-duplication


def test_redelivery_is_a_duplicate_and_does_not_revert_later_changes(client, backends, org_key) -> None:
    payload = event()
    assert deliver(client, backends, payload).json()["applied"] is True

    changed = client.put(
        "/api/v1/organizations/acme/subscription", json={"plan": "SCALE"}, headers={"X-API-Key": org_key}
    )
    assert changed.status_code == 200, changed.text
    backends.clock.advance(timedelta(minutes=10))

    again = deliver(client, backends, payload)  # Stripe re-signs a redelivery with a fresh timestamp

    assert again.status_code == 200, again.text
    body = again.json()
    assert body["duplicate"] is True
    assert body["applied"] is False
    assert body["event_id"] == "evt_1"
    assert subscription(client, org_key)["plan_name"] == "SCALE"
    quota = client.get("/api/v1/organizations/acme/quota", headers={"X-API-Key": org_key}).json()
    assert quota["daily_limit"] == 100
    assert len(rows(backends, "org_audit_logs", "action LIKE 'billing.%'")) == 1
    assert len(rows(backends, "org_idempotency_keys", "idempotency_key = 'evt_1'")) == 1


def test_an_older_event_delivered_late_does_not_undo_a_newer_one(client, backends, org_key) -> None:
    """Stripe does not guarantee order: ``past_due`` (created first) arrives after ``active``."""
    newer = event(subscription_object(status="active", plan="SCALE"), event_id="evt_new", created=CREATED)
    older = event(
        subscription_object(status="past_due", plan="PROFESSIONAL"), event_id="evt_old", created=CREATED - 60
    )
    assert deliver(client, backends, newer).json()["applied"] is True

    late = deliver(client, backends, older)

    assert late.status_code == 200, late.text  # acknowledged, so Stripe stops retrying it
    body = late.json()
    assert (body["applied"], body["duplicate"]) == (False, None)
    assert "evt_new" in body["reason"]
    sub = subscription(client, org_key)
    assert (sub["plan_name"], sub["status"]) == ("SCALE", "ACTIVE")
    assert len(rows(backends, "org_audit_logs", "action LIKE 'billing.%'")) == 1


def test_events_of_the_same_second_apply_in_arrival_order(client, backends, org_key) -> None:
    """``created`` has one-second resolution; two events of one second cannot be ordered by it, so
    the later arrival wins (a strict ``<`` refuses only events known to be older)."""
    deliver(client, backends, event(subscription_object(plan="SCALE"), event_id="evt_a"))
    second = deliver(client, backends, event(subscription_object(plan="STARTER"), event_id="evt_b"))
    assert second.json()["applied"] is True
    assert subscription(client, org_key)["plan_name"] == "STARTER"


def test_order_is_per_stripe_subscription(client, backends, org_key) -> None:
    """A new subscription's first event is not compared with the events of the one it replaced."""
    deliver(client, backends, event(subscription_object(status="canceled"), event_id="evt_end"))
    replacement = subscription_object(status="active", plan="SCALE") | {"id": "sub_456"}
    response = deliver(client, backends, event(replacement, event_id="evt_new_sub", created=CREATED - 5))
    assert response.json()["applied"] is True
    assert subscription(client, org_key)["billing_subscription_id"] == "sub_456"


@pytest.mark.parametrize("hours", [25, 71])
def test_de_duplication_lasts_as_long_as_stripe_retries(client, backends, org_key, hours: int) -> None:
    """Stripe retries an event for up to three days; the 24 h idempotency row alone forgot it
    after a day, and the redelivered ``past_due`` undid the ``active`` that followed it."""
    lapsed = event(subscription_object(status="past_due"), event_id="evt_lapsed", created=CREATED)
    renewed = event(subscription_object(status="active"), event_id="evt_renewed", created=CREATED + 60)
    assert deliver(client, backends, lapsed).json()["applied"] is True
    assert deliver(client, backends, renewed).json()["applied"] is True
    backends.clock.advance(timedelta(hours=hours))

    again = deliver(client, backends, lapsed)

    assert again.status_code == 200, again.text
    assert (again.json()["applied"], again.json()["duplicate"]) == (False, True)
    assert subscription(client, org_key)["status"] == "ACTIVE"
    assert len(rows(backends, "org_audit_logs", "action LIKE 'billing.%'")) == 2


def test_a_failed_idempotency_write_is_still_de_duplicated_on_retry(client, backends, org_key) -> None:
    """The audit row, written first, is the record: an event whose idempotency row was never
    written (a failure after the audit) is a duplicate when Stripe retries it."""
    assert deliver(client, backends, event()).json()["applied"] is True
    platform = backends.platform
    platform.execute(f"DELETE FROM {platform.table('org_idempotency_keys')} WHERE TRUE", {})

    again = deliver(client, backends, event())

    assert (again.json()["applied"], again.json()["duplicate"]) == (False, True)
    assert len(rows(backends, "org_audit_logs", "action LIKE 'billing.%'")) == 1


def test_an_event_without_created_is_400(client, backends, org_key) -> None:
    payload = json.loads(event())
    del payload["created"]
    before = state(backends)
    assert_error(deliver(client, backends, json.dumps(payload).encode()), 400, "INVALID_EVENT")
    assert state(backends) == before


def test_distinct_event_ids_each_apply(client, backends, org_key) -> None:
    assert deliver(client, backends, event(event_id="evt_a")).json()["applied"] is True
    second = deliver(client, backends, event(subscription_object(plan="SCALE"), event_id="evt_b"))
    assert second.json()["applied"] is True
    assert subscription(client, org_key)["plan_name"] == "SCALE"
    assert len(rows(backends, "org_audit_logs", "action LIKE 'billing.%'")) == 2


def test_same_event_id_with_another_payload_changes_nothing(client, backends, org_key) -> None:
    assert deliver(client, backends, event()).status_code == 200
    before = state(backends)
    response = deliver(client, backends, event(subscription_object(plan="SCALE")))
    assert 400 <= response.status_code < 500, response.text
    assert state(backends) == before


# ------------------------------------------------------------------------------- signatures


def test_wrong_secret_is_400_and_changes_nothing(client, backends, org_key) -> None:
    before = state(backends)
    response = deliver(client, backends, event(), secret="whsec_someone_else")
    assert_error(response, 400, "INVALID_SIGNATURE")
    assert state(backends) == before
    assert subscription(client, org_key)["plan_name"] == "STARTER"


@pytest.mark.parametrize(
    ("age", "accepted"), [(0, True), (299, True), (300, True), (301, False), (3600, False)]
)
def test_timestamp_tolerance_on_the_injected_clock(
    client, backends, org_key, age: int, accepted: bool
) -> None:
    before = state(backends)
    response = deliver(client, backends, event(), age=age)
    if accepted:
        assert response.status_code == 200, response.text
        assert response.json()["applied"] is True
    else:
        assert_error(response, 400, "INVALID_SIGNATURE")
        assert state(backends) == before


@pytest.mark.parametrize(("ahead", "accepted"), [(299, True), (301, False)])
def test_timestamp_in_the_future(client, backends, org_key, ahead: int, accepted: bool) -> None:
    response = deliver(client, backends, event(), age=-ahead)
    assert (response.status_code == 200) is accepted, response.text


def test_tolerance_follows_the_clock_not_the_wall(client, backends, org_key) -> None:
    """Signed at the clock's now, then the clock moves: 299 s later still fine, 301 s later not."""
    payload = event()
    header = sign(payload, SECRET, now_ts(backends))
    backends.clock.advance(timedelta(seconds=301))
    assert_error(deliver(client, backends, payload, header=header), 400, "INVALID_SIGNATURE")

    header = sign(payload, SECRET, now_ts(backends))
    backends.clock.advance(timedelta(seconds=299))
    assert deliver(client, backends, payload, header=header).status_code == 200


def test_tampered_payload_is_400_and_changes_nothing(client, backends, org_key) -> None:
    signed = event()
    header = sign(signed, SECRET, now_ts(backends))
    tampered = event(subscription_object(plan="SCALE"))
    before = state(backends)
    assert_error(deliver(client, backends, tampered, header=header), 400, "INVALID_SIGNATURE")
    assert_error(deliver(client, backends, signed + b" ", header=header), 400, "INVALID_SIGNATURE")
    assert state(backends) == before


def test_missing_header_is_400(client, backends, org_key) -> None:
    before = state(backends)
    response = client.post(URL, content=event(), headers={"Content-Type": "application/json"})
    assert_error(response, 400, "INVALID_SIGNATURE")
    assert_error(deliver(client, backends, event(), header=""), 400, "INVALID_SIGNATURE")
    assert state(backends) == before


def test_one_valid_among_several_v1_signatures_is_accepted(client, backends, org_key) -> None:
    """Stripe sends one v1 per active secret while a secret is being rolled."""
    payload = event()
    ts = now_ts(backends)
    good = sign(payload, SECRET, ts).split("v1=", 1)[1]
    bad = sign(payload, "whsec_old", ts).split("v1=", 1)[1]
    header = f"t={ts},v1={bad},v1={good},v0=deadbeef"
    response = deliver(client, backends, payload, header=header)
    assert response.status_code == 200, response.text
    assert response.json()["applied"] is True


def test_malformed_signature_headers_are_400(client, backends, org_key) -> None:
    payload = event()
    ts = now_ts(backends)
    good = sign(payload, SECRET, ts).split("v1=", 1)[1]
    headers = {
        "no-t": f"v1={good}",
        "no-v1": f"t={ts}",
        "v0-only": f"t={ts},v0={good}",
        "uppercase-hex": f"t={ts},v1={good.upper()}",  # the digest is compared exactly
        "other-t": f"t={ts + 1},v1={good}",  # the signature is bound to its timestamp
        "negative-t": f"t=-{ts},v1={good}",
        "float-t": f"t={ts}.0,v1={good}",
        "truncated": f"t={ts},v1={good[:-1]}",
        "bare-digest": good,
        "json": json.dumps({"t": ts, "v1": good}),
    }
    before = state(backends)
    for name, header in headers.items():
        response = deliver(client, backends, payload, header=header)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"] == "INVALID_SIGNATURE", name
    assert state(backends) == before


# ------------------------------------------------------------------------- product bugs (5xx)


def _send_raw_header(app, value: bytes, payload: bytes) -> httpx.Response:  # type: ignore[no-untyped-def]
    """Send a header value byte for byte (the test client re-encodes non-ASCII values)."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as raw:
            return await raw.post(URL, content=payload, headers={"Stripe-Signature": value})

    return asyncio.run(go())


def test_non_ascii_digit_timestamp_is_400_not_500(backends) -> None:
    app = create_api_app(backends.platform)
    response = _send_raw_header(app, b"t=\xb2,v1=00", event())
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "INVALID_SIGNATURE"


def test_enormous_timestamp_is_400_not_500(client, backends, org_key) -> None:
    payload = event()
    response = deliver(client, backends, payload, header=sign(payload, SECRET, 10**400))
    assert_error(response, 400, "INVALID_SIGNATURE")


ILL_TYPED = {
    "object-is-a-list": event([]),
    "metadata-is-a-string": event({"status": "active", "metadata": "acme"}),
    "org-slug-is-a-number": event(subscription_object(plan=None) | {"metadata": {"org_slug": 5}}),
    "plan-is-a-number": event(subscription_object(plan=5)),  # type: ignore[arg-type]
    "items-is-a-string": event(subscription_object(plan=None, items="x")),
    "period-is-text": event(subscription_object(current_period_start="soon", current_period_end="later")),
    "period-out-of-range": event(subscription_object(current_period_start=10**20, current_period_end=10**20)),
    "period-is-nan": event(subscription_object()).replace(
        b'"status"', b'"current_period_start": NaN, "status"'
    ),
    "event-id-is-a-number": json.dumps(
        {"id": 123, "type": "customer.subscription.updated", "data": {"object": subscription_object()}}
    ).encode(),
    "event-id-is-an-object": json.dumps(
        {"id": {"a": 1}, "type": "customer.subscription.updated", "data": {"object": subscription_object()}}
    ).encode(),
}


@pytest.mark.parametrize("payload", list(ILL_TYPED.values()), ids=list(ILL_TYPED))
def test_ill_typed_signed_event_is_400_not_5xx(client, backends, org_key, payload: bytes) -> None:
    before = state(backends)
    response = deliver(client, backends, payload)
    assert 400 <= response.status_code < 500, response.text
    assert state(backends) == before


# ----------------------------------------------------------------------------------- property

# Every printable latin-1 character (headers reach the app decoded as latin-1) and tab, except the
# superscript digits ¹²³: they hit the bug pinned by test_non_ascii_digit_timestamp_is_400_not_500
# and would make this property fail only on the runs that happen to draw them.
HEADER_CHARS = st.characters(
    codec="latin-1",
    categories=("L", "M", "N", "P", "S", "Zs"),
    exclude_characters="\u00b9\u00b2\u00b3",
    include_characters="\t",
)
HEX = st.text(alphabet="0123456789abcdef", max_size=70)


@st.composite
def signature_headers(draw: st.DrawFn, now: int) -> str:
    """Free text, or structured ``t=..,v1=..`` headers with plausible but wrong parts."""
    if draw(st.booleans()):
        return draw(st.text(alphabet=HEADER_CHARS, max_size=200))
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        scheme = draw(st.sampled_from(["t", "v1", "v0", "T", "V1", " t", "v1 ", ""]))
        value = draw(
            st.one_of(
                HEX,
                st.integers(now - 400, now + 400).map(str),
                st.text(alphabet=HEADER_CHARS, max_size=20),
            )
        )
        parts.append(f"{scheme}={value}")
    return draw(st.sampled_from([",", ", ", ";"])).join(parts)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_signature_headers_are_never_2xx_or_5xx(
    client, backends, org_key, data: st.DataObject
) -> None:
    payload = event(event_id="evt_property")
    header = data.draw(signature_headers(now_ts(backends)), label="header")
    response = _send_raw_header(client.app, header.encode("latin-1"), payload)
    assert 400 <= response.status_code < 500, (header, response.status_code, response.text)
    assert response.json()["error"] == "INVALID_SIGNATURE"
