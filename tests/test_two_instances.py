"""Issue 14, part 4: two service processes over one warehouse (``tests/instances.py``; scenarios
say ``instances: 2``). What must hold across them is decided in the warehouse, never by a lock or
a cache in one process:

* a key revoked by a rotation on one instance is refused on the other at once;
* of two concurrent starts of one pipeline over the same days, one runs and the other gets
  409 PIPELINE_ALREADY_RUNNING, and the loser's quota is given back;
* one Idempotency-Key sent to both at once creates one org;
* one webhook event delivered to both at once is applied once.

The races are forced, not hoped for: a barrier holds both requests just before the warehouse
call that decides between them (the claim), so both have passed every check before it. The
barrier's timeout only keeps a broken build from hanging. Every test runs on the fake and the
emulator tier.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from instances import Instance, service_instances

from harness.backends import TierBackends, build_backends
from harness.clock import ManualClock
from harness.onboarding.platform import Platform
from harness.schema.loader import load_config

ROOT = {"X-CA-Root-Key": "local-root-key"}
SLUG = "two_inst"
ONBOARD = "/api/v1/organizations/onboard"
ONBOARD_BODY = {
    "org_slug": SLUG,
    "company_name": "Two Instances",
    "admin_email": "ops@two.example",
    "plan": "PROFESSIONAL",
}
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
DAY = date(2025, 3, 9)
RUN = f"/api/v1/pipelines/run/{SLUG}/openai/cost/usage_cost"
SAFETY_TIMEOUT = 60
"""Seconds the barrier waits before declaring the build broken; no test outcome depends on it."""
WEBHOOK_SECRET = "whsec_local_harness"


class HeldWarehouse:
    """The warehouse, with ``hold()`` run before each ``execute`` whose SQL mentions ``marker``."""

    def __init__(self, inner: Any, marker: str, hold: Callable[[], None]) -> None:
        self._inner = inner
        self._marker = marker
        self._hold = hold
        self.project = inner.project

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> int:
        if self._marker in sql:
            self._hold()
        return self._inner.execute(sql, *args, **kwargs)


@pytest.fixture
def backends(manual_clock: ManualClock, harness_tier: str) -> Iterator[TierBackends]:
    manual_clock.set(NOW)
    with build_backends(harness_tier, clock=manual_clock, seed=4, config=load_config()) as built:
        from harness.onboarding.bootstrap import bootstrap

        bootstrap(built.platform.warehouse, built.platform.config)
        yield built


def racing(platform: Platform, marker: str) -> tuple[Platform, Platform]:
    """Two instances whose ``execute`` calls mentioning ``marker`` wait for each other once: both
    requests reach the deciding statement before either runs it."""
    barrier = threading.Barrier(2)
    released = threading.Event()

    def hold() -> None:
        if not released.is_set():
            barrier.wait(SAFETY_TIMEOUT)
            released.set()

    return tuple(  # type: ignore[return-value]
        replace(instance, warehouse=HeldWarehouse(platform.warehouse, marker, hold))
        for instance in (platform.instance(), platform.instance())
    )


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def rows(platform: Platform, table: str, where: str = "", **params: Any) -> list[dict[str, Any]]:
    return platform.select(
        f"SELECT * FROM {platform.table(table)} WHERE org_slug = @org {where}", {"org": SLUG, **params}
    ).rows


def onboarded(instance: Instance) -> str:
    response = instance.api.post(ONBOARD, json=ONBOARD_BODY, headers=ROOT)
    assert response.status_code == 201, response.text
    return response.json()["api_key"]


# ------------------------------------------------------------------------------------ the tests


def test_instances_share_the_backends_and_nothing_in_memory(backends: TierBackends) -> None:
    platform = backends.platform
    other = platform.instance()
    assert other is not platform
    assert (other.warehouse, other.keys, other.clock) == (platform.warehouse, platform.keys, platform.clock)
    assert (other.config, other.environment) == (platform.config, platform.environment)


def test_a_key_rotated_on_one_instance_is_refused_on_the_other_at_once(backends: TierBackends) -> None:
    """Before: instance 2's 60 s cache of valid keys kept the revoked key working."""
    platform = backends.platform
    with service_instances(platform, platform.instance()) as (first, second):
        old_key = onboarded(first)
        org = f"/api/v1/organizations/{SLUG}"
        assert second.api.get(org, headers={"X-API-Key": old_key}).status_code == 200
        rotated = first.api.post(f"{org}/api-key/rotate", headers={"X-API-Key": old_key})
        assert rotated.status_code == 200, rotated.text
        refused = second.api.get(org, headers={"X-API-Key": old_key})
        assert (refused.status_code, refused.json()["error"]) == (401, "UNAUTHENTICATED")
        new_key = {"X-API-Key": rotated.json()["api_key"]}
        assert second.api.get(org, headers=new_key).status_code == 200

        offboarded = second.api.delete(org, headers=ROOT)
        assert offboarded.status_code == 200, offboarded.text
        assert first.api.get(org, headers=new_key).status_code == 401


def test_one_pipeline_started_on_two_instances_at_once_runs_once(backends: TierBackends) -> None:
    """Both starts pass the read-only overlap check before either claims the day (the barrier
    holds them at the claim): before, each process's own lock let both run."""
    platform = backends.platform
    with service_instances(platform) as (setup,):
        key = {"X-API-Key": onboarded(setup)}
        credential = backends.openai.issue_admin_key()
        setup_response = setup.api.post(
            f"/api/v1/integrations/{SLUG}/openai/setup", headers=key, json={"credential": credential}
        )
        assert setup_response.status_code == 201, setup_response.text
    first, second = racing(platform, "org_meta_pipeline_runs` (run_id")
    with service_instances(first, second) as instances:
        answers = at_once(
            *(
                lambda i=i: i.pipeline.post(RUN, headers=key, json={"date": DAY.isoformat()})
                for i in instances
            )
        )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["error"] == "PIPELINE_ALREADY_RUNNING"
    assert [r["status"] for r in rows(platform, "org_meta_pipeline_runs")] == ["SUCCESS"]
    quota = rows(platform, "org_usage_quotas")
    assert [(q["pipelines_run_today"], q["pipelines_succeeded_today"]) for q in quota] == [(1, 1)]


def test_the_first_start_of_the_day_on_two_instances_writes_one_quota_row(backends: TierBackends) -> None:
    """Two pipelines (no overlap) start at once on two instances, both the org's first of the day:
    before, both inserted today's quota row, and a start giving its count back deleted both."""
    platform = backends.platform
    with service_instances(platform) as (setup,):
        key = {"X-API-Key": onboarded(setup)}
        for provider in ("openai", "anthropic"):
            state = backends.openai if provider == "openai" else backends.anthropic
            response = setup.api.post(
                f"/api/v1/integrations/{SLUG}/{provider}/setup",
                headers=key,
                json={"credential": state.issue_admin_key()},
            )
            assert response.status_code == 201, response.text
    platform.delete_org_rows("org_usage_quotas", SLUG)
    first, second = racing(platform, "INSERT INTO")
    with service_instances(first, second) as instances:
        answers = at_once(
            *(
                lambda i=i, provider=provider: i.pipeline.post(
                    f"/api/v1/pipelines/run/{SLUG}/{provider}/cost/usage_cost",
                    headers=key,
                    json={"date": DAY.isoformat()},
                )
                for i, provider in zip(instances, ("openai", "anthropic"), strict=True)
            )
        )
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    quota = rows(platform, "org_usage_quotas")
    assert [(q["pipelines_run_today"], q["pipelines_succeeded_today"]) for q in quota] == [(2, 2)]


def test_one_idempotency_key_sent_to_two_instances_at_once_creates_one_org(backends: TierBackends) -> None:
    platform = backends.platform
    first, second = racing(platform, "org_idempotency_keys")
    headers = {**ROOT, "Idempotency-Key": "onboard-once"}
    with service_instances(first, second) as instances:
        answers = at_once(
            *(lambda i=i: i.api.post(ONBOARD, json=ONBOARD_BODY, headers=headers) for i in instances)
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses in ([201, 201], [201, 409]), [a.text for a in answers]
        assert all(a.json().get("error") != "ORG_ALREADY_EXISTS" for a in answers)
        if statuses == [201, 409]:
            assert (
                next(a for a in answers if a.status_code == 409).json()["error"] == "IDEMPOTENCY_KEY_IN_USE"
            )
        created = next(a for a in answers if a.status_code == 201).json()
        assert len(rows(platform, "org_profiles")) == len(rows(platform, "org_api_keys")) == 1
        for instance in instances:
            replay = instance.api.post(ONBOARD, json=ONBOARD_BODY, headers=headers)
            assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (201, "true")
            assert replay.json()["api_key"] == created["api_key"]


def webhook(event_id: str, now: datetime) -> tuple[bytes, dict[str, str]]:
    body = {
        "id": event_id,
        "type": "customer.subscription.updated",
        "created": int(now.timestamp()),
        "data": {
            "object": {
                "id": "sub_two",
                "object": "subscription",
                "status": "active",
                "metadata": {"org_slug": SLUG, "plan": "STARTER"},
            }
        },
    }
    payload = json.dumps(body).encode()
    timestamp = int(now.timestamp())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"}


def test_one_webhook_event_delivered_to_two_instances_at_once_applies_once(backends: TierBackends) -> None:
    """Before: each delivery checked, applied and then stored the event id, so both applied it."""
    platform = backends.platform
    with service_instances(platform) as (setup,):
        onboarded(setup)
    first, second = racing(platform, "org_idempotency_keys")
    payload, headers = webhook("evt_twice", platform.clock.now())
    url = "/api/v1/billing/webhook"
    with service_instances(first, second) as instances:
        answers = at_once(*(lambda i=i: i.api.post(url, content=payload, headers=headers) for i in instances))
        bodies = [a.json() for a in answers]
        applied = [b for b in bodies if b.get("applied")]
        assert len(applied) == 1, bodies
        other = next(a for a in answers if not a.json().get("applied"))
        assert (other.status_code, other.json().get("error") or "duplicate") in (
            (409, "IDEMPOTENCY_KEY_IN_USE"),
            (200, "duplicate"),
        )
        again = instances[1].api.post(url, content=payload, headers=headers)
        assert (again.status_code, again.json().get("duplicate")) == (200, True)
    billing = rows(platform, "org_audit_logs", "AND STARTS_WITH(action, 'billing.')")
    assert len(billing) == 1
    assert len(rows(platform, "org_idempotency_keys")) == 1
    assert rows(platform, "org_subscriptions")[0]["plan_name"] == "STARTER"
