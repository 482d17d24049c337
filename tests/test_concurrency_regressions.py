"""Issue 14 regressions: concurrent key rotations, concurrent requests sharing an Idempotency-Key,
an onboarding or key rotation whose response cannot be stored (or whose audit row fails).

Concurrency is driven deterministically: a gate around the warehouse holds a request at a chosen
port call (a barrier or an event), so the interleaving that broke is forced, not hoped for; the
waits' timeouts only keep a broken build from hanging. Port failures come from
``harness.faults``. Every test runs on the fake and the emulator tier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from meta_rows import org_row_counts

from harness.faults import Fault, FaultPlan, FaultyKeyManager, FaultyWarehouse
from harness.onboarding import api_keys, idempotency
from harness.onboarding.errors import Conflict
from harness.ports import KeyManagerUnavailableError, NotFoundError, TransientError
from harness.services.api import create_api_app

ROOT = {"X-CA-Root-Key": "local-root-key"}
ONBOARD = "/api/v1/organizations/onboard"
REPLAYED = "Idempotent-Replayed"
SAFETY_TIMEOUT = 60
"""Seconds a gate waits before declaring the build broken; no test outcome depends on it."""


class GatedWarehouse:
    """A warehouse that runs ``hold(operation, args)`` before each call, to pause requests there."""

    def __init__(self, inner: Any, hold: Callable[[str, tuple[Any, ...]], None]) -> None:
        self._inner = inner
        self._hold = hold
        self.project = inner.project

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._hold(name, args)
            return attribute(*args, **kwargs)

        return call


def client_for(platform) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_api_app(platform))


def onboard_body(slug: str) -> dict[str, str]:
    return {"org_slug": slug, "company_name": "Acme Inc", "admin_email": "ops@acme.test"}


def onboard(client: TestClient, slug: str, key: str, **body: str):  # type: ignore[no-untyped-def]
    return client.post(ONBOARD, json={**onboard_body(slug), **body}, headers={**ROOT, "Idempotency-Key": key})


def org_rows(platform, slug: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return org_row_counts(platform, slug)


def idempotency_rows(platform) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return platform.select(
        f"SELECT idempotency_key, response_status FROM {platform.table('org_idempotency_keys')}"
    ).rows


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert body["message"] and body["error_id"], body


def works(client: TestClient, slug: str, api_key: str) -> bool:
    response = client.get(f"/api/v1/organizations/{slug}", headers={"X-API-Key": api_key})
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


# ------------------------------------------------------------------------ concurrent rotations

ROTATIONS = 20


def test_concurrent_rotations_leave_exactly_the_winners_key_working(backends) -> None:  # type: ignore[no-untyped-def]
    """Every rotation has written its new key before any revokes: the interleaving that locked
    the org out. Exactly one wins; the others are refused and leave nothing behind."""
    with client_for(backends.platform) as plain:
        first = onboard(plain, "rotor", "onboard-rotor")
        assert first.status_code == 201, first.text
    original = first.json()["api_key"]

    all_written = threading.Barrier(ROTATIONS, timeout=SAFETY_TIMEOUT)

    def hold(operation: str, args: tuple[Any, ...]) -> None:
        if operation == "execute" and str(args[0]).startswith("UPDATE") and "org_api_keys" in str(args[0]):
            all_written.wait()

    # Two api-service instances (each its own Platform: own key cache, own locks) over one
    # warehouse, as in a deployment: the rotations alternate between them.
    def instance() -> TestClient:
        gated = GatedWarehouse(backends.platform.warehouse, hold)
        return client_for(replace(backends.platform, warehouse=gated))

    url = "/api/v1/organizations/rotor/api-key/rotate"
    with instance() as one, instance() as two, ThreadPoolExecutor(ROTATIONS) as pool:
        clients = (one, two)
        responses = list(pool.map(lambda i: clients[i % 2].post(url, headers=ROOT), range(ROTATIONS)))

    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, [r.status_code for r in responses]
    for loser in (r for r in responses if r.status_code != 200):
        assert_error(loser, 409, "ROTATION_CONFLICT")
    with client_for(backends.platform) as client:
        assert works(client, "rotor", winners[0].json()["api_key"])
        assert not works(client, "rotor", original)
    table = backends.platform.table("org_api_keys")
    keys = backends.platform.select(
        f"SELECT org_api_key_id, is_active FROM {table} WHERE org_slug = 'rotor'"
    ).rows
    assert sorted((row["org_api_key_id"], row["is_active"]) for row in keys) == sorted(
        [(first.json()["api_key_id"], False), (winners[0].json()["api_key_id"], True)]
    )
    assert org_rows(backends.platform, "rotor")["org_audit_logs"] == 2  # onboard + one rotation


def test_sequential_rotations_still_chain(api, backends) -> None:  # type: ignore[no-untyped-def]
    created = onboard(api, "chain", "onboard-chain")
    key = created.json()["api_key"]
    for _ in range(3):
        rotated = api.post("/api/v1/organizations/chain/api-key/rotate", headers={"X-API-Key": key})
        assert rotated.status_code == 200, rotated.text
        assert not works(api, "chain", key)
        key = rotated.json()["api_key"]
        assert works(api, "chain", key)


# ------------------------------------------------------------ one Idempotency-Key, two requests


def test_a_key_whose_first_request_is_in_flight_is_409_in_use_then_replays(backends) -> None:  # type: ignore[no-untyped-def]
    """The second request arrives while the first one is between its writes (before its audit
    row): it is told to retry later, not that the org already exists; then it gets the replay."""
    inside, resume = threading.Event(), threading.Event()
    held = []

    def hold(operation: str, args: tuple[Any, ...]) -> None:
        if operation == "insert_rows" and args[1] == "org_audit_logs" and not held:
            held.append(args)
            inside.set()
            assert resume.wait(SAFETY_TIMEOUT)

    gated = replace(backends.platform, warehouse=GatedWarehouse(backends.platform.warehouse, hold))
    with client_for(gated) as client, ThreadPoolExecutor(1) as pool:
        first = pool.submit(onboard, client, "twin", "onboard-twin")
        assert inside.wait(SAFETY_TIMEOUT)
        with client_for(backends.platform) as other_instance:  # a second api-service instance
            second = onboard(other_instance, "twin", "onboard-twin")
            assert_error(second, 409, "IDEMPOTENCY_KEY_IN_USE")
            other_body = onboard(other_instance, "twin", "onboard-twin", company_name="Other")
            assert_error(other_body, 422, "IDEMPOTENCY_KEY_REUSED")
        resume.set()
        done = first.result(SAFETY_TIMEOUT)
        assert done.status_code == 201, done.text

        retry = onboard(client, "twin", "onboard-twin")
        assert retry.status_code == 201, retry.text
        assert retry.headers[REPLAYED] == "true"
        assert retry.json() == done.json()
        assert works(client, "twin", retry.json()["api_key"])
    assert org_rows(backends.platform, "twin")["org_profiles"] == 1
    stored = idempotency_rows(backends.platform)
    assert stored == [{"idempotency_key": "onboard-twin", "response_status": 201}]


def test_a_failed_request_releases_its_key_for_the_retry(api, backends) -> None:  # type: ignore[no-untyped-def]
    taken = onboard(api, "taken", "onboard-taken-1")
    assert taken.status_code == 201
    refused = onboard(api, "taken", "onboard-taken-2")
    assert_error(refused, 409, "ORG_ALREADY_EXISTS")
    assert [row["idempotency_key"] for row in idempotency_rows(backends.platform)] == ["onboard-taken-1"]


def test_a_claim_left_by_a_request_that_died_is_taken_over(backends) -> None:  # type: ignore[no-untyped-def]
    platform = backends.platform
    where = {"scope": "_platform", "source": "API", "key": "died", "fingerprint": "f"}
    assert idempotency.claim(platform, **where) is None
    with pytest.raises(Conflict) as in_use:
        idempotency.claim(platform, **where)
    assert in_use.value.code == "IDEMPOTENCY_KEY_IN_USE"
    platform.clock.advance(idempotency.LEASE + timedelta(seconds=1))
    assert idempotency.claim(platform, **where) is None
    assert idempotency_rows(platform) == [{"idempotency_key": "died", "response_status": None}]


# ----------------------------------------------- onboarding response that cannot be stored


def test_kms_failure_storing_the_onboarding_response_undoes_the_org_and_the_retry_creates_it(
    backends,
) -> None:  # type: ignore[no-untyped-def]
    """The org was created, then sealing its response (which holds the API key) failed: the
    caller gets a 503 and never saw the key, so nothing may stay; the retry gets a working org."""
    platform = backends.platform
    plan = FaultPlan()
    unavailable = KeyManagerUnavailableError("UNAVAILABLE injected")
    plan.add(Fault("encrypt", lambda: unavailable, match="onboard-kms"))
    faulty = replace(platform, keys=FaultyKeyManager(platform.keys, plan))
    with client_for(faulty) as client:
        failed = onboard(client, "sealed", "onboard-kms")
        assert_error(failed, 503, "KMS_ERROR")
        assert "UNAVAILABLE" in failed.json()["message"]
        assert plan.faults[0].fired == 1
        assert set(org_rows(platform, "sealed").values()) == {0}
        with pytest.raises(NotFoundError):
            platform.warehouse.get_dataset(platform.org_dataset("sealed"))
        assert idempotency_rows(platform) == []

        retry = onboard(client, "sealed", "onboard-kms")
        assert retry.status_code == 201, retry.text
        assert retry.headers[REPLAYED] == "false"
        assert works(client, "sealed", retry.json()["api_key"])
        again = onboard(client, "sealed", "onboard-kms")
        assert again.headers[REPLAYED] == "true" and again.json() == retry.json()
    counts = org_rows(platform, "sealed")
    for table in ("org_profiles", "org_api_keys", "org_subscriptions", "org_usage_quotas", "org_kms_keys"):
        assert counts[table] == 1, table


# ------------------------------------------------ a rotation whose response the caller never gets


def rotate(client: TestClient, slug: str, api_key: str, key: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-API-Key": api_key} | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/api/v1/organizations/{slug}/api-key/rotate", headers=headers)


def active_key_ids(platform, slug: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [row["org_api_key_id"] for row in api_keys.active_keys(platform, slug)]


def test_kms_failure_storing_the_rotation_response_keeps_the_old_key(backends) -> None:  # type: ignore[no-untyped-def]
    """The new key was swapped in, then sealing the response that carries it failed: the caller
    never saw it, so the old key must still be the one that works, and the retry rotates."""
    platform = backends.platform
    with client_for(platform) as plain:
        created = onboard(plain, "keeper", "onboard-keeper").json()
    plan = FaultPlan()
    unavailable = KeyManagerUnavailableError("UNAVAILABLE injected")
    plan.add(Fault("encrypt", lambda: unavailable, match="rotate-keeper"))
    faulty = replace(platform, keys=FaultyKeyManager(platform.keys, plan))
    with client_for(faulty) as client:
        failed = rotate(client, "keeper", created["api_key"], key="rotate-keeper")
        assert_error(failed, 503, "KMS_ERROR")
        assert plan.faults[0].fired == 1
        assert works(client, "keeper", created["api_key"])
        assert active_key_ids(platform, "keeper") == [created["api_key_id"]]
        assert org_rows(platform, "keeper")["org_api_keys"] == 1

        retry = rotate(client, "keeper", created["api_key"], key="rotate-keeper")
        assert retry.status_code == 200, retry.text
        assert retry.json()["revoked_key_ids"] == [created["api_key_id"]]
        assert works(client, "keeper", retry.json()["api_key"])
        assert not works(client, "keeper", created["api_key"])


def test_audit_failure_after_a_rotation_keeps_the_old_key(backends) -> None:  # type: ignore[no-untyped-def]
    platform = backends.platform
    with client_for(platform) as plain:
        created = onboard(plain, "audited", "onboard-audited").json()
    plan = FaultPlan()
    plan.add(Fault("insert_rows", lambda: TransientError("backendError injected"), match="org_audit_logs"))
    faulty = replace(platform, warehouse=FaultyWarehouse(platform.warehouse, plan))
    with client_for(faulty) as client:
        failed = rotate(client, "audited", created["api_key"])
        assert failed.status_code >= 500, failed.text
        assert failed.json()["error_id"]
        assert plan.faults[0].fired == 1
        assert works(client, "audited", created["api_key"])
    assert active_key_ids(platform, "audited") == [created["api_key_id"]]
    assert org_rows(platform, "audited")["org_api_keys"] == 1
