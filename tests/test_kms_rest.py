"""The Cloud KMS REST v1 emulator driven by the real ``google-cloud-kms`` client (REST transport).

The flows follow Google's official Python samples (create_key_ring, create_key_symmetric_encrypt_
decrypt, encrypt_symmetric / decrypt_symmetric with the data-integrity CRC32C checks,
create_key_version, update_key_set_primary, disable_key_version, destroy_key_version /
restore_key_version). Not validated against real Cloud KMS: the assertions are on what the client
library parses and on the model's messages (see fakes/kms/exceptions.py for their provenance).

Over REST the client picks its exception class from the HTTP status alone
(``google.api_core.exceptions.from_http_response``), so both INVALID_ARGUMENT and FAILED_PRECONDITION
(HTTP 400 in Google's mapping) arrive as ``google.api_core.exceptions.BadRequest`` -- never as the
``InvalidArgument`` / ``FailedPrecondition`` subclasses the gRPC transport raises; the canonical code
is in the JSON error body's ``status``, which the tests read from the response.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import google_crc32c
import httpx
import pytest
import uvicorn
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import kms_v1
from google.protobuf import field_mask_pb2

from fakes.kms.keymanager import FakeKeyManager
from fakes.kms.models import KmsBackend
from fakes.kms.protojson import (
    CRYPTO_KEY_PURPOSE,
    CRYPTO_KEY_VERSION_ALGORITHM,
    CRYPTO_KEY_VERSION_STATE,
    PROTECTION_LEVEL,
)
from fakes.kms.rest import create_app
from harness.backends.kms import CloudKmsKeyManager, map_google_error
from harness.clock import ManualClock
from harness.ports import (
    DecryptionError,
    KeyManager,
    KeyManagerError,
    KeyManagerUnavailableError,
    KeyNotFoundError,
    KeyStateError,
)

PROJECT = "test-project"
LOCATION = "global"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"
State = kms_v1.CryptoKeyVersion.CryptoKeyVersionState


class _Emulator:
    def __init__(self, backend: KmsBackend, clock: ManualClock) -> None:
        self.backend = backend
        self.clock = clock
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(backend), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> _Emulator:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("KMS emulator did not start within 10 s")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def emulator() -> Iterator[_Emulator]:
    clock = ManualClock()
    with _Emulator(KmsBackend(clock, seed=7), clock) as running:
        yield running


def fresh_client(emulator: _Emulator) -> kms_v1.KeyManagementServiceClient:
    """The emulator emptied, and google-cloud-kms's REST client pointed at it (the KMS test
    modules' ``client`` fixtures start here)."""
    emulator.backend.reset()
    return kms_v1.KeyManagementServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulator.url},
    )


@pytest.fixture
def client(emulator: _Emulator) -> kms_v1.KeyManagementServiceClient:
    return fresh_client(emulator)


def crc32c(data: bytes) -> int:
    return google_crc32c.value(data)


def _error_body(exc: gexc.GoogleAPICallError) -> dict:
    return exc.response.json()["error"]


@pytest.fixture
def key_name(client: kms_v1.KeyManagementServiceClient) -> str:
    client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    key = client.create_crypto_key(
        request={
            "parent": f"{PARENT}/keyRings/ring",
            "crypto_key_id": "key",
            "crypto_key": {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT},
        }
    )
    return key.name


# Google's encrypt_symmetric / decrypt_symmetric samples, data-integrity checks included.
def _encrypt(
    client: kms_v1.KeyManagementServiceClient, name: str, plaintext: bytes, aad: bytes = b""
) -> kms_v1.EncryptResponse:
    request = {"name": name, "plaintext": plaintext, "plaintext_crc32c": crc32c(plaintext)}
    if aad:
        request |= {"additional_authenticated_data": aad, "additional_authenticated_data_crc32c": crc32c(aad)}
    response = client.encrypt(request=request)
    assert response.verified_plaintext_crc32c, "The request sent to the server was corrupted in-transit."
    assert response.verified_additional_authenticated_data_crc32c == bool(aad)
    assert response.ciphertext_crc32c == crc32c(response.ciphertext), "response corrupted in-transit"
    return response


def _decrypt(
    client: kms_v1.KeyManagementServiceClient, name: str, ciphertext: bytes, aad: bytes = b""
) -> bytes:
    request = {"name": name, "ciphertext": ciphertext, "ciphertext_crc32c": crc32c(ciphertext)}
    if aad:
        request |= {"additional_authenticated_data": aad, "additional_authenticated_data_crc32c": crc32c(aad)}
    response = client.decrypt(request=request)
    assert response.plaintext_crc32c == crc32c(response.plaintext), "response corrupted in-transit"
    return response.plaintext


# ------------------------------------------------------------------------------------- enums
@pytest.mark.parametrize(
    ("table", "enum"),
    [
        (CRYPTO_KEY_VERSION_STATE, kms_v1.CryptoKeyVersion.CryptoKeyVersionState),
        (PROTECTION_LEVEL, kms_v1.ProtectionLevel),
        (CRYPTO_KEY_PURPOSE, kms_v1.CryptoKey.CryptoKeyPurpose),
    ],
)
def test_enum_numbers_match_the_client_library(table: dict[str, int], enum: type) -> None:
    """Every number the emulator knows is the client's (newer clients may add members)."""
    assert {name: enum[name].value for name in table} == table


def test_algorithm_numbers_match_the_client_library() -> None:
    enum = kms_v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm
    assert {name: enum[name].value for name in CRYPTO_KEY_VERSION_ALGORITHM} == CRYPTO_KEY_VERSION_ALGORITHM


# ---------------------------------------------------------------------------- key rings / keys
def test_create_get_list_key_rings_and_keys(client: kms_v1.KeyManagementServiceClient) -> None:
    ring = client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    assert ring.name == f"{PARENT}/keyRings/ring"
    assert ring.create_time.year == 2025
    client.create_key_ring(request={"parent": PARENT, "key_ring_id": "other", "key_ring": {}})
    assert client.get_key_ring(name=ring.name).name == ring.name
    assert sorted(r.name for r in client.list_key_rings(request={"parent": PARENT})) == [
        f"{PARENT}/keyRings/other",
        ring.name,
    ]

    key = client.create_crypto_key(
        request={
            "parent": ring.name,
            "crypto_key_id": "key",
            "crypto_key": {
                "purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
                "version_template": {
                    "algorithm": kms_v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm.GOOGLE_SYMMETRIC_ENCRYPTION
                },
                "labels": {"team": "platform"},
            },
        }
    )
    assert key.name == f"{ring.name}/cryptoKeys/key"
    assert key.purpose == kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT
    assert key.primary.name == f"{key.name}/cryptoKeyVersions/1"
    assert key.primary.state == State.ENABLED
    assert key.primary.protection_level == kms_v1.ProtectionLevel.SOFTWARE
    assert key.labels == {"team": "platform"}
    assert key.destroy_scheduled_duration.days == 30
    assert client.get_crypto_key(name=key.name).primary.name == key.primary.name
    assert [k.name for k in client.list_crypto_keys(request={"parent": ring.name})] == [key.name]


def test_already_exists_and_not_found_carry_the_model_messages(
    client: kms_v1.KeyManagementServiceClient,
) -> None:
    client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    with pytest.raises(gexc.Conflict) as exists:
        client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    assert _error_body(exists.value) == {
        "code": 409,
        "message": f"KeyRing {PARENT}/keyRings/ring already exists.",
        "status": "ALREADY_EXISTS",
    }
    missing = f"{PARENT}/keyRings/ring/cryptoKeys/nope"
    with pytest.raises(gexc.NotFound) as not_found:
        client.get_crypto_key(name=missing)
    assert f"CryptoKey {missing} not found." in str(not_found.value)
    assert _error_body(not_found.value)["status"] == "NOT_FOUND"


def test_list_pages_with_page_tokens(client: kms_v1.KeyManagementServiceClient) -> None:
    for i in range(5):
        client.create_key_ring(request={"parent": PARENT, "key_ring_id": f"r{i}", "key_ring": {}})
    pager = client.list_key_rings(request={"parent": PARENT, "page_size": 2})
    pages = list(pager.pages)
    assert [len(p.key_rings) for p in pages] == [2, 2, 1]
    assert pages[0].total_size == 5
    assert [
        r.name.rsplit("/", 1)[1] for r in client.list_key_rings(request={"parent": PARENT, "page_size": 2})
    ] == [f"r{i}" for i in range(5)]


# -------------------------------------------------------------------------------- encrypt/decrypt
def test_encrypt_decrypt_with_crc32c_as_in_the_data_integrity_sample(
    client: kms_v1.KeyManagementServiceClient, key_name: str
) -> None:
    encrypted = _encrypt(client, key_name, b"sk-secret", aad=b"acme_org")
    assert encrypted.name == f"{key_name}/cryptoKeyVersions/1"
    assert encrypted.protection_level == kms_v1.ProtectionLevel.SOFTWARE
    assert _decrypt(client, key_name, encrypted.ciphertext, aad=b"acme_org") == b"sk-secret"
    empty = _encrypt(client, key_name, b"")  # CRC32C of b"" is 0: the wrapper must still be sent
    assert _decrypt(client, key_name, empty.ciphertext) == b""


def test_wrong_aad_is_invalid_argument(client: kms_v1.KeyManagementServiceClient, key_name: str) -> None:
    encrypted = _encrypt(client, key_name, b"secret", aad=b"org_a")
    with pytest.raises(gexc.BadRequest) as info:
        _decrypt(client, key_name, encrypted.ciphertext, aad=b"org_b")
    body = _error_body(info.value)
    # Which decryption text Cloud KMS gives for a wrong AAD is not confirmed: status and code only.
    assert (body["code"], body["status"]) == (400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("field", ["plaintext_crc32c", "additional_authenticated_data_crc32c"])
def test_wrong_checksum_on_encrypt_is_invalid_argument(
    client: kms_v1.KeyManagementServiceClient, key_name: str, field: str
) -> None:
    request = {
        "name": key_name,
        "plaintext": b"secret",
        "plaintext_crc32c": crc32c(b"secret"),
        "additional_authenticated_data": b"aad",
        "additional_authenticated_data_crc32c": crc32c(b"aad"),
    }
    request[field] += 1
    with pytest.raises(gexc.BadRequest) as info:
        client.encrypt(request=request)
    data_field = field.removesuffix("_crc32c")
    assert _error_body(info.value) == {
        "code": 400,
        "message": f"The checksum in field {field} did not match the data in field {data_field}.",
        "status": "INVALID_ARGUMENT",
    }


def test_wrong_checksum_on_decrypt_is_invalid_argument(
    client: kms_v1.KeyManagementServiceClient, key_name: str
) -> None:
    ciphertext = _encrypt(client, key_name, b"secret").ciphertext
    with pytest.raises(gexc.BadRequest) as info:
        client.decrypt(
            request={"name": key_name, "ciphertext": ciphertext, "ciphertext_crc32c": crc32c(ciphertext) ^ 1}
        )
    assert _error_body(info.value) == {
        "code": 400,
        "message": "The checksum in field ciphertext_crc32c did not match the data in field ciphertext.",
        "status": "INVALID_ARGUMENT",
    }


# ------------------------------------------------------------------------------ version lifecycle
def test_rotate_by_creating_a_version_and_making_it_primary(
    client: kms_v1.KeyManagementServiceClient, key_name: str
) -> None:
    old = _encrypt(client, key_name, b"before rotation").ciphertext
    version = client.create_crypto_key_version(request={"parent": key_name, "crypto_key_version": {}})
    assert version.name == f"{key_name}/cryptoKeyVersions/2"
    assert version.state == State.ENABLED
    assert client.get_crypto_key(name=key_name).primary.name.endswith("/1")  # not primary by itself

    key = client.update_crypto_key_primary_version(request={"name": key_name, "crypto_key_version_id": "2"})
    assert key.primary.name == version.name
    assert _encrypt(client, key_name, b"after").name == version.name
    assert _decrypt(client, key_name, old) == b"before rotation"  # old versions still decrypt
    names = [v.name for v in client.list_crypto_key_versions(request={"parent": key_name})]
    assert names == [f"{key_name}/cryptoKeyVersions/1", version.name]
    assert client.get_crypto_key_version(name=version.name).state == State.ENABLED


def test_encrypt_with_an_explicit_version_name(
    client: kms_v1.KeyManagementServiceClient, key_name: str
) -> None:
    client.create_crypto_key_version(request={"parent": key_name, "crypto_key_version": {}})
    response = _encrypt(client, f"{key_name}/cryptoKeyVersions/2", b"x")
    assert response.name == f"{key_name}/cryptoKeyVersions/2"
    assert _decrypt(client, key_name, response.ciphertext) == b"x"


def test_disabled_version_cannot_decrypt_its_ciphertext(
    client: kms_v1.KeyManagementServiceClient, key_name: str
) -> None:
    ciphertext = _encrypt(client, key_name, b"secret").ciphertext
    version_name = f"{key_name}/cryptoKeyVersions/1"
    # disable_key_version sample: patch state with update_mask "state"
    disabled = client.update_crypto_key_version(
        request={
            "crypto_key_version": {"name": version_name, "state": State.DISABLED},
            "update_mask": field_mask_pb2.FieldMask(paths=["state"]),
        }
    )
    assert disabled.state == State.DISABLED
    with pytest.raises(gexc.BadRequest) as info:
        _decrypt(client, key_name, ciphertext)
    assert _error_body(info.value) == {
        "code": 400,
        "message": f"{version_name} is not enabled, current state is: DISABLED.",
        "status": "FAILED_PRECONDITION",
    }
    enabled = client.update_crypto_key_version(
        request={
            "crypto_key_version": {"name": version_name, "state": State.ENABLED},
            "update_mask": {"paths": ["state"]},
        }
    )
    assert enabled.state == State.ENABLED
    assert _decrypt(client, key_name, ciphertext) == b"secret"


def test_destroy_and_restore(
    client: kms_v1.KeyManagementServiceClient, key_name: str, emulator: _Emulator
) -> None:
    ciphertext = _encrypt(client, key_name, b"secret").ciphertext
    version_name = f"{key_name}/cryptoKeyVersions/1"
    destroyed = client.destroy_crypto_key_version(request={"name": version_name})
    assert destroyed.state == State.DESTROY_SCHEDULED
    assert destroyed.destroy_time.timestamp() > emulator.clock.now().timestamp()
    with pytest.raises(gexc.BadRequest) as info:
        client.destroy_crypto_key_version(request={"name": version_name})
    assert _error_body(info.value)["status"] == "FAILED_PRECONDITION"

    restored = client.restore_crypto_key_version(request={"name": version_name})
    assert restored.state == State.DISABLED  # restore brings a version back DISABLED
    client.update_crypto_key_version(
        request={
            "crypto_key_version": {"name": version_name, "state": State.ENABLED},
            "update_mask": {"paths": ["state"]},
        }
    )
    assert _decrypt(client, key_name, ciphertext) == b"secret"


def test_update_mask_other_than_state_is_rejected(
    client: kms_v1.KeyManagementServiceClient, key_name: str
) -> None:
    with pytest.raises(gexc.BadRequest) as info:
        client.update_crypto_key_version(
            request={
                "crypto_key_version": {"name": f"{key_name}/cryptoKeyVersions/1", "state": State.DISABLED},
                "update_mask": {"paths": ["state", "algorithm"]},
            }
        )
    assert _error_body(info.value)["status"] == "INVALID_ARGUMENT"
    assert client.get_crypto_key_version(name=f"{key_name}/cryptoKeyVersions/1").state == State.ENABLED


# ------------------------------------------------------------------------------------ raw wire
def test_wire_format_without_the_client(emulator: _Emulator, key_name: str) -> None:
    """String enums without enum-encoding=int, int64 as strings, snake_case request fields."""
    url = f"{emulator.url}/v1/{key_name}"
    key = httpx.get(url).json()
    assert key["purpose"] == "ENCRYPT_DECRYPT"
    assert key["primary"]["state"] == "ENABLED"
    assert key["destroyScheduledDuration"] == "2592000s"
    assert httpx.get(url, params={"$alt": "json;enum-encoding=int"}).json()["primary"]["state"] == 1

    plaintext = base64.b64encode(b"hi").decode()
    response = httpx.post(
        f"{url}:encrypt", json={"plaintext": plaintext, "plaintext_crc32c": str(crc32c(b"hi"))}
    )
    body = response.json()
    assert response.status_code == 200, body
    assert isinstance(body["ciphertextCrc32c"], str)
    assert body["verifiedPlaintextCrc32c"] is True
    assert body["verifiedAdditionalAuthenticatedDataCrc32c"] is False

    bad = httpx.post(f"{url}:encrypt", json={"plaintext": "***"})
    assert bad.status_code == 400
    assert bad.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert httpx.post(f"{url}:asymmetricSign", json={}).json()["error"]["status"] == "NOT_FOUND"


# ------------------------------------------------------------------ CloudKmsKeyManager adapter


@pytest.fixture
def adapter(emulator: _Emulator, key_name: str) -> CloudKmsKeyManager:
    return CloudKmsKeyManager(key_name, credentials=AnonymousCredentials(), endpoint=emulator.url)


def test_adapter_is_a_key_manager_and_round_trips(adapter: CloudKmsKeyManager, key_name: str) -> None:
    assert isinstance(adapter, KeyManager)
    result = adapter.encrypt(b"sk-live-123", aad=b"acme_org")
    assert result.key_version == f"{key_name}/cryptoKeyVersions/1"
    assert adapter.decrypt(result.ciphertext, aad=b"acme_org") == b"sk-live-123"
    assert adapter.decrypt(adapter.encrypt(b"").ciphertext) == b""
    assert adapter.primary_version() == f"{key_name}/cryptoKeyVersions/1"


def test_adapter_gives_the_same_bytes_and_errors_as_the_fake(
    adapter: CloudKmsKeyManager, key_name: str
) -> None:
    """Same seed, same calls: the real-client path and the in-process fake agree byte for byte."""
    fake = FakeKeyManager.create(
        ManualClock(), project=PROJECT, location=LOCATION, key_ring="ring", key="key", seed=7
    )
    assert fake.key_name == key_name
    for plaintext, aad in [(b"a", b"org_a"), (b"", b""), (b"x" * 1000, b"org_b")]:
        assert adapter.encrypt(plaintext, aad=aad) == fake.encrypt(plaintext, aad=aad)
    ciphertext = fake.encrypt(b"secret", aad=b"org_a").ciphertext
    errors = []
    for manager in (adapter, fake):
        with pytest.raises(KeyManagerError) as info:
            manager.decrypt(ciphertext, aad=b"org_b")
        assert isinstance(info.value, DecryptionError)
        errors.append((info.value.status, info.value.code, info.value.message))
    assert errors[0] == errors[1]


def test_adapter_maps_disabled_version_and_missing_key(
    adapter: CloudKmsKeyManager, client: kms_v1.KeyManagementServiceClient, key_name: str, emulator: _Emulator
) -> None:
    ciphertext = adapter.encrypt(b"secret").ciphertext
    version = f"{key_name}/cryptoKeyVersions/1"
    client.update_crypto_key_version(
        request={
            "crypto_key_version": {"name": version, "state": State.DISABLED},
            "update_mask": {"paths": ["state"]},
        }
    )
    with pytest.raises(KeyStateError) as info:
        adapter.decrypt(ciphertext)
    assert (info.value.status, info.value.code) == (400, "FAILED_PRECONDITION")
    assert info.value.message == f"{version} is not enabled, current state is: DISABLED."
    with pytest.raises(KeyStateError):
        adapter.encrypt(b"more")

    missing = CloudKmsKeyManager(
        f"{PARENT}/keyRings/ring/cryptoKeys/gone", AnonymousCredentials(), emulator.url
    )
    with pytest.raises(KeyNotFoundError) as not_found:
        missing.primary_version()
    assert not_found.value.message == f"CryptoKey {PARENT}/keyRings/ring/cryptoKeys/gone not found."
    assert (not_found.value.status, not_found.value.code) == (404, "NOT_FOUND")


def test_adapter_follows_rotation(
    adapter: CloudKmsKeyManager, client: kms_v1.KeyManagementServiceClient, key_name: str
) -> None:
    old = adapter.encrypt(b"old").ciphertext
    client.create_crypto_key_version(request={"parent": key_name, "crypto_key_version": {}})
    client.update_crypto_key_primary_version(request={"name": key_name, "crypto_key_version_id": "2"})
    assert adapter.primary_version() == f"{key_name}/cryptoKeyVersions/2"
    assert adapter.encrypt(b"new").key_version == f"{key_name}/cryptoKeyVersions/2"
    assert adapter.decrypt(old) == b"old"


def test_adapter_server_side_checksum_mismatch_is_retryable(
    client: kms_v1.KeyManagementServiceClient, key_name: str
) -> None:
    with pytest.raises(gexc.BadRequest) as info:
        client.encrypt(request={"name": key_name, "plaintext": b"x", "plaintext_crc32c": crc32c(b"y")})
    mapped = map_google_error(info.value)
    assert isinstance(mapped, KeyManagerUnavailableError) and mapped.retryable
    assert mapped.code == "INVALID_ARGUMENT"
    assert (
        mapped.message == "The checksum in field plaintext_crc32c did not match the data in field plaintext."
    )


class _CorruptingClient:
    """Wraps the real client and flips a byte of what comes back, as corruption in transit would."""

    def __init__(self, inner: kms_v1.KeyManagementServiceClient) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)  # the transport, whose default retries the adapter reads

    def encrypt(self, **kwargs):  # type: ignore[no-untyped-def]
        response = self.inner.encrypt(**kwargs)
        response.ciphertext = bytes([response.ciphertext[0] ^ 1]) + response.ciphertext[1:]
        return response

    def decrypt(self, **kwargs):  # type: ignore[no-untyped-def]
        response = self.inner.decrypt(**kwargs)
        response.plaintext = response.plaintext + b"!"
        return response


def test_adapter_detects_corrupted_responses(
    client: kms_v1.KeyManagementServiceClient, key_name: str
) -> None:
    good = CloudKmsKeyManager(key_name, client=client).encrypt(b"secret").ciphertext
    corrupting = CloudKmsKeyManager(key_name, client=_CorruptingClient(client))  # type: ignore[arg-type]
    with pytest.raises(KeyManagerUnavailableError, match="Encrypt: response corrupted in-transit"):
        corrupting.encrypt(b"secret")
    with pytest.raises(KeyManagerUnavailableError, match="Decrypt: response corrupted in-transit"):
        corrupting.decrypt(good)


def test_adapter_unreachable_endpoint_is_unavailable(key_name: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        manager = CloudKmsKeyManager(key_name, AnonymousCredentials(), f"http://127.0.0.1:{port}", timeout=2)
        started = time.monotonic()
        with pytest.raises(KeyManagerUnavailableError) as info:
            manager.primary_version()
    assert info.value.retryable
    assert time.monotonic() - started < 5


def test_scheduled_destruction_completes_on_the_injected_clock(
    client: kms_v1.KeyManagementServiceClient, key_name: str, emulator: _Emulator
) -> None:
    ciphertext = _encrypt(client, key_name, b"secret").ciphertext
    version_name = f"{key_name}/cryptoKeyVersions/1"
    destroy_time = client.destroy_crypto_key_version(request={"name": version_name}).destroy_time
    emulator.clock.advance(timedelta(days=30, seconds=1))
    version = client.get_crypto_key_version(name=version_name)
    assert version.state == State.DESTROYED
    assert version.destroy_event_time == destroy_time
    with pytest.raises(gexc.BadRequest) as info:
        _decrypt(client, key_name, ciphertext)
    assert (
        _error_body(info.value)["message"] == f"{version_name} is not enabled, current state is: DESTROYED."
    )


def test_key_without_initial_version_has_no_primary(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    key = client.create_crypto_key(
        request={
            "parent": f"{PARENT}/keyRings/ring",
            "crypto_key_id": "empty",
            "crypto_key": {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT},
            "skip_initial_version_creation": True,
        }
    )
    assert not key.primary.name
    assert list(client.list_crypto_key_versions(request={"parent": key.name})) == []
    adapter = CloudKmsKeyManager(key.name, AnonymousCredentials(), emulator.url)
    # "has no primary CryptoKeyVersion" is not a confirmed Cloud KMS text (NoPrimaryVersion).
    with pytest.raises(KeyStateError) as info:
        adapter.primary_version()
    assert info.value.code == "FAILED_PRECONDITION"
    with pytest.raises(KeyStateError) as info:
        adapter.encrypt(b"x")
    assert info.value.code == "FAILED_PRECONDITION"
