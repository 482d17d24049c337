"""Idempotent requests through the api-service: ``Idempotency-Key`` replays, reuse, expiry.

A repeated key replays the first response (``Idempotent-Replayed: true``) without running the
request again; the same key with another request is a 422 ``IDEMPOTENCY_KEY_REUSED`` that writes
nothing; keys live 24 h on the injected clock; the stored response (which can hold an API key)
is never plaintext at rest.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from meta_rows import table_row_counts

from harness.onboarding import api_keys

ROOT = {"X-CA-Root-Key": "local-root-key"}
ONBOARD = "/api/v1/organizations/onboard"
REPLAYED = "Idempotent-Replayed"


def onboard_body(slug: str = "acme", **overrides: Any) -> dict[str, Any]:
    return {"org_slug": slug, "company_name": "Acme Inc", "admin_email": "ops@acme.test", **overrides}


def onboard(api, slug: str = "acme", key: str | None = None, **overrides: Any):  # type: ignore[no-untyped-def]
    headers = dict(ROOT)
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.post(ONBOARD, json=onboard_body(slug, **overrides), headers=headers)


def rows(backends, table: str, where: str = "TRUE", **params: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    platform = backends.platform
    return platform.select(f"SELECT * FROM {platform.table(table)} WHERE {where}", params).rows


def counts(backends) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Row count of every meta table, to prove a refused request wrote nothing anywhere."""
    platform = backends.platform
    return table_row_counts(
        platform, (t.table_id for t in platform.warehouse.list_tables(platform.meta_dataset))
    )


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert body["message"]
    assert body["error_id"]


# ------------------------------------------------------------------------------ onboarding replay


def test_onboard_replay_returns_the_first_response_and_writes_once(api, backends) -> None:
    first = onboard(api, key="onboard-acme-1")
    assert first.status_code == 201, first.text
    assert first.headers[REPLAYED] == "false"

    second = onboard(api, key="onboard-acme-1")
    assert second.status_code == 201, second.text
    assert second.headers[REPLAYED] == "true"
    assert second.json() == first.json()
    assert second.json()["api_key"] == first.json()["api_key"]

    for table in ("org_profiles", "org_api_keys", "org_subscriptions", "org_usage_quotas", "org_kms_keys"):
        assert len(rows(backends, table, "org_slug = @s", s="acme")) == 1, table
    assert len(rows(backends, "org_audit_logs", "action = 'org.onboard'")) == 1
    assert len(rows(backends, "org_idempotency_keys")) == 1
    # The replayed key is the one that works.
    got = api.get("/api/v1/organizations/acme", headers={"X-API-Key": second.json()["api_key"]})
    assert got.status_code == 200


def test_reused_key_with_a_different_body_is_422_and_writes_nothing(api, backends) -> None:
    assert onboard(api, key="k-reuse").status_code == 201
    before = counts(backends)

    refused = onboard(api, key="k-reuse", company_name="Someone Else")
    assert_error(refused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert REPLAYED not in refused.headers

    assert counts(backends) == before
    assert rows(backends, "org_profiles", "org_slug = 'acme'")[0]["company_name"] == "Acme Inc"


def test_reused_key_for_another_org_is_422(api, backends) -> None:
    assert onboard(api, "acme", key="k-shared").status_code == 201
    before = counts(backends)

    refused = onboard(api, "beta", key="k-shared")

    assert_error(refused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert counts(backends) == before


def test_reused_key_on_another_endpoint_is_422(api, backends) -> None:
    org_key = onboard(api).json()["api_key"]
    headers = {"X-API-Key": org_key, "Idempotency-Key": "k-endpoint"}
    rotated = api.post("/api/v1/organizations/acme/api-key/rotate", headers=headers)
    assert rotated.status_code == 200
    headers["X-API-Key"] = rotated.json()["api_key"]
    before = counts(backends)

    refused = api.put("/api/v1/organizations/acme/subscription", json={"plan": "SCALE"}, headers=headers)

    assert_error(refused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert counts(backends) == before
    assert rows(backends, "org_subscriptions", "org_slug = 'acme'")[0]["plan_name"] == "STARTER"


def test_keys_are_scoped_per_org(api, backends) -> None:
    """The same key used by two orgs is two independent keys (each org is its own caller)."""
    keys = {slug: onboard(api, slug).json()["api_key"] for slug in ("acme", "beta")}
    for slug, key in keys.items():
        response = api.post(
            f"/api/v1/organizations/{slug}/api-key/rotate",
            headers={"X-API-Key": key, "Idempotency-Key": "same-key"},
        )
        assert response.status_code == 200, response.text
        assert response.headers[REPLAYED] == "false"
        assert response.json()["org_slug"] == slug
    assert len(rows(backends, "org_idempotency_keys", "idempotency_key = 'same-key'")) == 2


# -------------------------------------------------------------------------------------- expiry


def test_key_lives_24_hours_on_the_injected_clock(api, backends) -> None:
    first = onboard(api, key="k-ttl")
    assert first.status_code == 201

    backends.clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    replay = onboard(api, key="k-ttl")
    assert replay.status_code == 201
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()
    # Still live: another body with the key is still a reuse.
    assert_error(onboard(api, key="k-ttl", company_name="Other"), 422, "IDEMPOTENCY_KEY_REUSED")

    backends.clock.advance(timedelta(seconds=2))  # 24 h + 1 s after the first request
    again = onboard(api, key="k-ttl")
    # Treated as new: onboarding runs again and finds the org it created the first time.
    assert_error(again, 409, "ORG_ALREADY_EXISTS")
    assert REPLAYED not in again.headers
    assert len(rows(backends, "org_profiles", "org_slug = 'acme'")) == 1
    assert len(rows(backends, "org_api_keys", "org_slug = 'acme'")) == 1


# ---------------------------------------------------------------------------------- rotation


def test_idempotent_rotate_replays_the_new_key_and_revokes_once(api, backends) -> None:
    created = onboard(api).json()
    original = created["api_key"]
    url = "/api/v1/organizations/acme/api-key/rotate"

    first = api.post(url, headers={"X-API-Key": original, "Idempotency-Key": "rot-1"})
    assert first.status_code == 200, first.text
    assert first.headers[REPLAYED] == "false"
    new_key = first.json()["api_key"]
    assert new_key != original
    assert first.json()["revoked_key_ids"] == [created["api_key_id"]]

    # The retry, as the platform admin and as the new key: same response, nothing rotated again.
    for headers in (ROOT, {"X-API-Key": new_key}):
        replay = api.post(url, headers={**headers, "Idempotency-Key": "rot-1"})
        assert replay.status_code == 200, replay.text
        assert replay.headers[REPLAYED] == "true"
        assert replay.json() == first.json()

    keys = rows(backends, "org_api_keys", "org_slug = 'acme'")
    assert len(keys) == 2
    active = [k for k in keys if k["is_active"]]
    assert [k["org_api_key_id"] for k in active] == [first.json()["api_key_id"]]
    revoked = next(k for k in keys if not k["is_active"])
    assert revoked["org_api_key_id"] == created["api_key_id"]
    assert revoked["revoked_at"] == backends.clock.now()
    assert len(rows(backends, "org_audit_logs", "action = 'api_key.rotate'")) == 1

    assert api.get("/api/v1/organizations/acme", headers={"X-API-Key": new_key}).status_code == 200
    assert api.get("/api/v1/organizations/acme", headers={"X-API-Key": original}).status_code == 401


def test_revoked_key_cannot_replay_its_rotation_but_root_recovers(api, backends) -> None:
    """A revoked key is refused everywhere, replays included (a stolen old key must not be able to
    fetch the new one). A client that lost the rotation response recovers with the root key."""
    original = onboard(api).json()["api_key"]
    url = "/api/v1/organizations/acme/api-key/rotate"
    headers = {"X-API-Key": original, "Idempotency-Key": "rot-lost"}
    first = api.post(url, headers=headers)
    assert first.status_code == 200

    retry = api.post(url, headers=headers)  # the client never saw the first answer
    assert_error(retry, 401, "UNAUTHENTICATED")

    recovered = api.post(url, headers={**ROOT, "Idempotency-Key": "rot-recover"})
    assert recovered.status_code == 200
    new_key = recovered.json()["api_key"]
    assert api.get("/api/v1/organizations/acme", headers={"X-API-Key": new_key}).status_code == 200
    assert (
        api.get("/api/v1/organizations/acme", headers={"X-API-Key": first.json()["api_key"]}).status_code
        == 401
    )


# ------------------------------------------------------------------------------- integrations


def test_idempotent_integration_setup_validates_and_stores_once(api, backends) -> None:
    org_key = onboard(api).json()["api_key"]
    credential = backends.openai.issue_key()
    url = "/api/v1/integrations/acme/openai/setup"
    headers = {"X-API-Key": org_key, "Idempotency-Key": "setup-openai-1"}
    body = {"credential": credential, "credential_name": "prod"}

    first = api.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.headers[REPLAYED] == "false"
    provider_calls = len(backends.openai.requests)
    assert provider_calls >= 1

    replay = api.post(url, json=body, headers=headers)
    assert replay.status_code == 201, replay.text
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()

    assert len(backends.openai.requests) == provider_calls  # not validated again
    creds = rows(backends, "org_integration_credentials", "org_slug = 'acme'")
    assert [c["credential_id"] for c in creds] == [first.json()["credential_id"]]
    assert len(rows(backends, "org_audit_logs", "action = 'integration.setup'")) == 1
    assert credential not in first.text

    refused = api.post(url, json={**body, "credential_name": "other"}, headers=headers)
    assert_error(refused, 422, "IDEMPOTENCY_KEY_REUSED")


# ------------------------------------------------------------------------------- invalid keys


@pytest.mark.parametrize(
    "key",
    ["x" * 256, "x" * 300, "", "tab\there", "del\x7fchar"],
    ids=["256-chars", "300-chars", "empty", "tab", "control-char"],
)
def test_invalid_idempotency_key_is_400_and_writes_nothing(api, backends, key: str) -> None:
    before = counts(backends)
    response = onboard(api, key=key)
    assert_error(response, 400, "INVALID_IDEMPOTENCY_KEY")
    assert counts(backends) == before


def test_key_of_255_printable_characters_is_accepted(api, backends) -> None:
    key = "k" * 254 + "~"
    assert onboard(api, key=key).headers[REPLAYED] == "false"
    assert onboard(api, key=key).headers[REPLAYED] == "true"
    assert rows(backends, "org_idempotency_keys")[0]["idempotency_key"] == key


def test_requests_without_the_header_are_not_recorded(api, backends) -> None:
    first = onboard(api)
    assert first.status_code == 201
    assert REPLAYED not in first.headers
    assert_error(onboard(api), 409, "ORG_ALREADY_EXISTS")  # ran again, not replayed

    url = "/api/v1/organizations/acme/api-key/rotate"
    one = api.post(url, headers=ROOT)
    two = api.post(url, headers=ROOT)
    assert one.status_code == two.status_code == 200
    assert REPLAYED not in one.headers and REPLAYED not in two.headers
    assert one.json()["api_key"] != two.json()["api_key"]

    assert rows(backends, "org_idempotency_keys") == []


# ------------------------------------------------------------------------------ at rest


def test_stored_response_is_not_plaintext(api, backends) -> None:
    created = onboard(api, key="k-secret").json()
    rotated = api.post(
        "/api/v1/organizations/acme/api-key/rotate",
        headers={"X-API-Key": created["api_key"], "Idempotency-Key": "k-secret-rotate"},
    ).json()
    stored = rows(backends, "org_idempotency_keys")
    assert len(stored) == 2
    dumped = json.dumps(stored, default=str)
    for secret in (created["api_key"], rotated["api_key"]):
        assert secret not in dumped
        assert api_keys.hash_key(secret) not in dumped
    assert created["api_key_id"] not in dumped  # the whole body is sealed, not just the key field
    for row in stored:
        assert set(row["response_body"]) == {"ciphertext"}
        assert row["expires_at"] - row["created_at"] == timedelta(hours=24)
