"""rawEncrypt / rawDecrypt, locations and the refused methods through the real client (REST).

Written from the rawEncrypt / rawDecrypt references and ``gcloud kms raw-encrypt``'s help: a
RAW_ENCRYPT_DECRYPT key's version encrypts with AES-GCM (AAD allowed, the service's 12-byte IV,
a 16-byte tag appended), AES-CBC (no padding: whole blocks) or AES-CTR (16-byte IVs, the caller's
or the service's), with the CRC32C integrity fields; from locations.get/list with Cloud KMS's
LocationMetadata; and the methods the emulator does not implement answer a 400 naming them.
"""

from __future__ import annotations

from collections.abc import Iterator

import google_crc32c
import httpx
import pytest
from google.api_core import exceptions as gexc
from google.cloud import kms_v1
from google.cloud.location import locations_pb2

from fakes.kms.models import KmsBackend
from harness.clock import ManualClock
from tests.test_kms_rest import _Emulator, fresh_client

PROJECT = "projects/test-project"
PARENT = f"{PROJECT}/locations/us-east1"
RING = f"{PARENT}/keyRings/ring"
Algorithm = kms_v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm


@pytest.fixture(scope="module")
def emulator() -> Iterator[_Emulator]:
    clock = ManualClock()
    with _Emulator(KmsBackend(clock, seed=13), clock) as running:
        yield running


@pytest.fixture
def client(emulator: _Emulator) -> kms_v1.KeyManagementServiceClient:
    client = fresh_client(emulator)
    client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    return client


def _raw_key(client: kms_v1.KeyManagementServiceClient, algorithm: Algorithm) -> str:
    key = client.create_crypto_key(
        request={
            "parent": RING,
            "crypto_key_id": algorithm.name.lower().replace("_", "-"),
            "crypto_key": {
                "purpose": kms_v1.CryptoKey.CryptoKeyPurpose.RAW_ENCRYPT_DECRYPT,
                "version_template": {"algorithm": algorithm},
            },
        }
    )
    assert not key.primary.name  # only ENCRYPT_DECRYPT keys have a primary
    return f"{key.name}/cryptoKeyVersions/1"


def crc32c(data: bytes) -> int:
    return google_crc32c.value(data)


@pytest.mark.parametrize("algorithm", [Algorithm.AES_128_GCM, Algorithm.AES_256_GCM])
def test_aes_gcm_round_trip_with_aad_and_integrity_fields(
    client: kms_v1.KeyManagementServiceClient, algorithm: Algorithm
) -> None:
    version = _raw_key(client, algorithm)
    plaintext, aad = b"card 4111 1111 1111 1111", b"tenant=acme"
    encrypted = client.raw_encrypt(
        request={
            "name": version,
            "plaintext": plaintext,
            "plaintext_crc32c": crc32c(plaintext),
            "additional_authenticated_data": aad,
            "additional_authenticated_data_crc32c": crc32c(aad),
        }
    )
    assert encrypted.name == version
    assert encrypted.verified_plaintext_crc32c and encrypted.verified_additional_authenticated_data_crc32c
    assert not encrypted.verified_initialization_vector_crc32c
    assert len(encrypted.initialization_vector) == 12 and encrypted.tag_length == 16
    assert len(encrypted.ciphertext) == len(plaintext) + 16
    assert encrypted.ciphertext_crc32c == crc32c(encrypted.ciphertext)
    assert encrypted.initialization_vector_crc32c == crc32c(encrypted.initialization_vector)

    request = {
        "name": version,
        "ciphertext": encrypted.ciphertext,
        "ciphertext_crc32c": crc32c(encrypted.ciphertext),
        "initialization_vector": encrypted.initialization_vector,
        "tag_length": encrypted.tag_length,
        "additional_authenticated_data": aad,
    }
    decrypted = client.raw_decrypt(request=request)
    assert decrypted.plaintext == plaintext
    assert decrypted.plaintext_crc32c == crc32c(plaintext)
    assert decrypted.verified_ciphertext_crc32c
    with pytest.raises(gexc.BadRequest):
        client.raw_decrypt(request=request | {"additional_authenticated_data": b"tenant=other"})


def test_aes_gcm_takes_no_caller_iv(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _raw_key(client, Algorithm.AES_256_GCM)
    with pytest.raises(gexc.BadRequest):
        client.raw_encrypt(request={"name": version, "plaintext": b"x", "initialization_vector": bytes(12)})


def test_aes_cbc_needs_whole_blocks_and_keeps_the_callers_iv(
    client: kms_v1.KeyManagementServiceClient,
) -> None:
    version = _raw_key(client, Algorithm.AES_256_CBC)
    with pytest.raises(gexc.BadRequest):
        client.raw_encrypt(request={"name": version, "plaintext": b"not sixteen"})
    with pytest.raises(gexc.BadRequest):  # AAD is for AES-GCM only
        client.raw_encrypt(
            request={"name": version, "plaintext": bytes(16), "additional_authenticated_data": b"a"}
        )
    iv = bytes(range(16))
    plaintext = b"sixteen bytes!!!" * 2
    encrypted = client.raw_encrypt(
        request={
            "name": version,
            "plaintext": plaintext,
            "initialization_vector": iv,
            "initialization_vector_crc32c": crc32c(iv),
        }
    )
    assert encrypted.initialization_vector == iv and encrypted.verified_initialization_vector_crc32c
    assert encrypted.tag_length == 0 and len(encrypted.ciphertext) == len(plaintext)
    decrypted = client.raw_decrypt(
        request={"name": version, "ciphertext": encrypted.ciphertext, "initialization_vector": iv}
    )
    assert decrypted.plaintext == plaintext


def test_aes_ctr_draws_a_16_byte_iv(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _raw_key(client, Algorithm.AES_128_CTR)
    encrypted = client.raw_encrypt(request={"name": version, "plaintext": b"any length works"})
    assert len(encrypted.initialization_vector) == 16
    decrypted = client.raw_decrypt(
        request={
            "name": version,
            "ciphertext": encrypted.ciphertext,
            "initialization_vector": encrypted.initialization_vector,
        }
    )
    assert decrypted.plaintext == b"any length works"


def test_raw_keys_need_an_algorithm_and_refuse_the_symmetric_methods(
    client: kms_v1.KeyManagementServiceClient,
) -> None:
    with pytest.raises(gexc.BadRequest):
        client.create_crypto_key(
            request={
                "parent": RING,
                "crypto_key_id": "no-algorithm",
                "crypto_key": {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.RAW_ENCRYPT_DECRYPT},
            }
        )
    version = _raw_key(client, Algorithm.AES_256_GCM)
    symmetric = client.create_crypto_key(
        request={"parent": RING, "crypto_key_id": "sym", "crypto_key": {"purpose": 1}}
    )
    with pytest.raises(gexc.BadRequest):  # rawEncrypt needs a RAW_ENCRYPT_DECRYPT key
        client.raw_encrypt(request={"name": f"{symmetric.name}/cryptoKeyVersions/1", "plaintext": b"x"})
    with pytest.raises(gexc.BadRequest):  # and encrypt an ENCRYPT_DECRYPT one
        client.encrypt(request={"name": version, "plaintext": b"x"})


def test_locations_list_and_get(client: kms_v1.KeyManagementServiceClient) -> None:
    listed = client.list_locations(request=locations_pb2.ListLocationsRequest(name=PROJECT))
    ids = [location.location_id for location in listed.locations]
    assert {"global", "us-east1", "europe-west1"} <= set(ids)
    location = client.get_location(request=locations_pb2.GetLocationRequest(name=PARENT))
    assert location.name == PARENT and location.location_id == "us-east1"
    metadata = kms_v1.LocationMetadata.deserialize(location.metadata.value)
    assert metadata.hsm_available and not metadata.ekm_available
    with pytest.raises(gexc.NotFound):
        client.get_location(request=locations_pb2.GetLocationRequest(name=f"{PROJECT}/locations/moon-1"))


def test_the_methods_the_emulator_lacks_are_a_400_naming_them(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    with pytest.raises(gexc.BadRequest) as info:
        client.decapsulate(request={"name": f"{RING}/cryptoKeys/k/cryptoKeyVersions/1", "ciphertext": b"x"})
    assert "decapsulate" in info.value.message
    for method, path in (
        ("GET", f"{PARENT}/ekmConnections"),
        ("POST", f"{PARENT}/keyHandles"),
        ("GET", "folders/1/autokeyConfig"),
        ("GET", f"{PARENT}/singleTenantHsmInstances/i/proposals/p"),
    ):
        response = httpx.request(method, f"{emulator.url}/v1/{path}", json={} if method == "POST" else None)
        assert response.status_code == 400
        assert "does not implement" in response.json()["error"]["message"]


def test_hsm_versions_carry_no_attestation(client: kms_v1.KeyManagementServiceClient) -> None:
    """The emulator cannot produce a vendor-signed HSM attestation, so it sends none (README)."""
    key = client.create_crypto_key(
        request={
            "parent": RING,
            "crypto_key_id": "hsm",
            "crypto_key": {
                "purpose": 1,
                "version_template": {"protection_level": kms_v1.ProtectionLevel.HSM},
            },
        }
    )
    version = client.get_crypto_key_version(request={"name": f"{key.name}/cryptoKeyVersions/1"})
    assert version.protection_level == kms_v1.ProtectionLevel.HSM
    assert not version.attestation
