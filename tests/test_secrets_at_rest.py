"""No secret is stored in plaintext, and a ciphertext only opens for the org it was sealed for.

After onboarding, provider integrations, a key rotation, idempotent requests and a billing
webhook, every value of every table of every dataset in the warehouse is turned into every text
form it could hide a secret in, and no org API key or provider credential may appear. The scan is
proved to see the key table: the API key's SHA-256 hash *is* found.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from harness.onboarding import api_keys, integrations
from harness.onboarding.billing import sign
from harness.ports import DecryptionError, Provider

ROOT = {"X-CA-Root-Key": "local-root-key"}
BASE64ISH = re.compile(r"^[A-Za-z0-9+/_-]{16,}={0,2}$")


# ---------------------------------------------------------------------------------- the scan


def text_forms(value: Any) -> Iterator[str]:
    """Every text a stored value could reveal a secret as: itself, bytes as latin-1, UTF-8, hex
    and base64, base64-looking strings decoded, records, arrays and JSON walked recursively."""
    if value is None:
        return
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        yield raw.decode("latin-1")
        yield raw.decode("utf-8", errors="ignore")
        yield raw.hex()
        yield base64.b64encode(raw).decode("ascii")
        yield base64.urlsafe_b64encode(raw).decode("ascii")
        return
    if isinstance(value, dict):
        yield json.dumps(value, default=str)
        for key, item in value.items():
            yield str(key)
            yield from text_forms(item)
        return
    if isinstance(value, list | tuple | set):
        for item in value:
            yield from text_forms(item)
        return
    text = str(value)
    yield text
    if isinstance(value, str):
        stripped = text.strip()
        if stripped[:1] in "{[":
            with contextlib.suppress(ValueError):
                yield from text_forms(json.loads(stripped))
        if BASE64ISH.match(stripped):
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                with contextlib.suppress(binascii.Error, ValueError):
                    yield from text_forms(decode(stripped + "=" * (-len(stripped) % 4)))


def warehouse_text(backends) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """``dataset.table`` → all text forms of all its rows, for every table of every dataset."""
    warehouse = backends.platform.warehouse
    found: dict[str, str] = {}
    for dataset in warehouse.list_datasets():
        for table in warehouse.list_tables(dataset.dataset_id):
            name = f"{dataset.dataset_id}.{table.table_id}"
            result = warehouse.query(f"SELECT * FROM `{warehouse.project}.{name}`")
            found[name] = "\n".join(form for row in result.rows for form in text_forms(row))
    return found


def test_text_forms_see_through_encodings() -> None:
    secret = "sk-proj-secret-value"
    for stored in (
        secret.encode(),
        base64.b64encode(secret.encode()).decode(),
        {"nested": [{"deep": json.dumps({"k": secret})}]},
        [secret.encode("utf-8")],
    ):
        assert any(secret in form for form in text_forms(stored)), stored
    assert any(secret.encode().hex() in form for form in text_forms(secret.encode()))


# ------------------------------------------------------------------------------- the journey


@pytest.fixture
def journey(api, backends) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two orgs onboarded (one idempotently), provider credentials set up, a key rotated
    idempotently and replayed, a billing webhook applied. Returns every secret handed out."""
    acme = api.post(
        "/api/v1/organizations/onboard",
        json={"org_slug": "acme", "company_name": "Acme Inc", "admin_email": "ops@acme.test"},
        headers={**ROOT, "Idempotency-Key": "onboard-acme"},
    )
    assert acme.status_code == 201, acme.text
    replay = api.post(
        "/api/v1/organizations/onboard",
        json={"org_slug": "acme", "company_name": "Acme Inc", "admin_email": "ops@acme.test"},
        headers={**ROOT, "Idempotency-Key": "onboard-acme"},
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    org_b = api.post(
        "/api/v1/organizations/onboard",
        json={"org_slug": "org_b", "company_name": "B Corp", "admin_email": "ops@b.test"},
        headers=ROOT,
    )
    assert org_b.status_code == 201, org_b.text

    openai_credential = backends.openai.issue_key()
    setup = api.post(
        "/api/v1/integrations/acme/openai/setup",
        json={"credential": openai_credential, "credential_name": "prod"},
        headers={"X-API-Key": acme.json()["api_key"], "Idempotency-Key": "setup-acme-openai"},
    )
    assert setup.status_code == 201, setup.text
    anthropic_credential = backends.anthropic.issue_key()
    setup_b = api.post(
        "/api/v1/integrations/org_b/anthropic/setup",
        json={"credential": anthropic_credential},
        headers={"X-API-Key": org_b.json()["api_key"]},
    )
    assert setup_b.status_code == 201, setup_b.text

    rotate = api.post(
        "/api/v1/organizations/acme/api-key/rotate",
        headers={"X-API-Key": acme.json()["api_key"], "Idempotency-Key": "rotate-acme"},
    )
    assert rotate.status_code == 200, rotate.text
    rotate_replay = api.post(
        "/api/v1/organizations/acme/api-key/rotate",
        headers={**ROOT, "Idempotency-Key": "rotate-acme"},
    )
    assert rotate_replay.headers["Idempotent-Replayed"] == "true"

    payload = json.dumps(
        {
            "id": "evt_secrets",
            "type": "customer.subscription.updated",
            "created": 1_780_000_000,
            "data": {
                "object": {
                    "id": "sub_1",
                    "status": "active",
                    "metadata": {"org_slug": "acme", "plan": "SCALE"},
                }
            },
        }
    ).encode()
    header = sign(payload, "whsec_local_harness", int(backends.clock.now().timestamp()))
    webhook = api.post("/api/v1/billing/webhook", content=payload, headers={"Stripe-Signature": header})
    assert webhook.status_code == 200, webhook.text
    backends.clock.advance(timedelta(minutes=5))

    return {
        "api_keys": {
            acme.json()["api_key_id"]: ("acme", acme.json()["api_key"]),
            org_b.json()["api_key_id"]: ("org_b", org_b.json()["api_key"]),
            rotate.json()["api_key_id"]: ("acme", rotate.json()["api_key"]),
        },
        "credentials": {"openai": openai_credential, "anthropic": anthropic_credential},
    }


def test_no_table_anywhere_holds_a_plaintext_secret(backends, journey) -> None:
    tables = warehouse_text(backends)
    meta = backends.platform.meta_dataset
    assert f"{meta}.org_api_keys" in tables
    assert f"{meta}.org_idempotency_keys" in tables
    assert len([name for name in tables if name.startswith(f"{meta}.")]) == 15
    # The org datasets are scanned too (whatever tables they hold by now).
    assert {"acme_local", "org_b_local"} <= {
        d.dataset_id for d in backends.platform.warehouse.list_datasets()
    }

    secrets = {f"api key {kid}": key for kid, (_, key) in journey["api_keys"].items()}
    secrets |= {f"{provider} credential": value for provider, value in journey["credentials"].items()}
    leaks = [
        f"{label} in {table}"
        for label, secret in secrets.items()
        for table, text in tables.items()
        if secret in text
    ]
    assert leaks == []

    # The scan does see the key table: each key's lookup hash is there, and only there.
    for _, key in journey["api_keys"].values():
        holding = [table for table, text in tables.items() if api_keys.hash_key(key) in text]
        assert holding == [f"{meta}.org_api_keys"]


def test_api_key_ciphertext_decrypts_to_the_issued_key_only_for_its_org(backends, journey) -> None:
    platform = backends.platform
    stored = platform.select(
        f"SELECT org_api_key_id, org_slug, encrypted_api_key FROM {platform.table('org_api_keys')}"
    ).rows
    assert {row["org_api_key_id"] for row in stored} == set(journey["api_keys"])
    for row in stored:
        slug, issued = journey["api_keys"][row["org_api_key_id"]]
        assert row["org_slug"] == slug
        assert isinstance(row["encrypted_api_key"], bytes)
        assert platform.keys.decrypt(row["encrypted_api_key"], aad=slug.encode()).decode() == issued
        other = "org_b" if slug == "acme" else "acme"
        with pytest.raises(DecryptionError):
            platform.keys.decrypt(row["encrypted_api_key"], aad=other.encode())


def test_credential_copied_to_another_org_does_not_decrypt(backends, journey) -> None:
    platform = backends.platform
    table = platform.table("org_integration_credentials")
    (row_a,) = platform.select(f"SELECT * FROM {table} WHERE org_slug = 'acme' AND provider = 'OPENAI'").rows
    stolen = {**row_a, "credential_id": str(uuid.uuid4()), "org_slug": "org_b"}
    platform.warehouse.insert_rows(platform.meta_dataset, "org_integration_credentials", [stolen])

    with pytest.raises(DecryptionError) as caught:
        integrations.decrypt_credential(platform, "org_b", Provider.OPENAI)
    assert caught.value.status == 400
    assert caught.value.code == "INVALID_ARGUMENT"
    assert journey["credentials"]["openai"] not in str(caught.value)

    # The owner's copy still opens, and org B's own credential is untouched.
    assert (
        integrations.decrypt_credential(platform, "acme", Provider.OPENAI) == journey["credentials"]["openai"]
    )
    assert (
        integrations.decrypt_credential(platform, "org_b", Provider.ANTHROPIC)
        == journey["credentials"]["anthropic"]
    )


def test_listing_integrations_shows_a_fingerprint_not_the_secret(api, backends, journey) -> None:
    org_b_key = next(key for slug, key in journey["api_keys"].values() if slug == "org_b")
    listed = api.get("/api/v1/integrations/org_b", headers={"X-API-Key": org_b_key})
    assert listed.status_code == 200, listed.text
    assert journey["credentials"]["anthropic"] not in listed.text
    (view,) = listed.json()["integrations"]
    assert view["fingerprint"] == integrations.fingerprint(journey["credentials"]["anthropic"])
