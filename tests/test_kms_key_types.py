"""Cloud KMS key types beyond symmetric, driven through the real ``google-cloud-kms`` client (REST).

The flows follow Google's published Python samples: create_key_asymmetric_sign / _decrypt,
sign_asymmetric, verify_asymmetric_rsa / _ec (verification with ``cryptography`` exactly as the
samples do it), encrypt_asymmetric / decrypt_asymmetric, get_public_key, create_key_mac, sign_mac /
verify_mac, generate_random_bytes, create_key_hsm, update_key_update_labels, update_key_add_rotation
/ update_key_remove_rotation and create_key_rotation_schedule, with the samples' CRC32C checks.
Not validated against real Cloud KMS; error texts are asserted only where their class is confirmed.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import google_crc32c
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from google.api_core import exceptions as gexc
from google.cloud import kms_v1
from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2

from fakes.kms import exceptions as kms_errors
from fakes.kms.asymmetric import get_public_key
from fakes.kms.imports import create_import_job, import_crypto_key_version
from fakes.kms.mac import mac_sign, mac_verify
from fakes.kms.models import KmsBackend
from fakes.kms.persistence import PersistentKmsBackend
from harness.clock import ManualClock
from tests.test_kms_rest import _Emulator, fresh_client

PARENT = "projects/test-project/locations/us-east1"
RING = f"{PARENT}/keyRings/ring"
Purpose = kms_v1.CryptoKey.CryptoKeyPurpose
Algorithm = kms_v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm


def crc32c(data: bytes) -> int:
    return google_crc32c.value(data)


@pytest.fixture(scope="module")
def emulator() -> Iterator[_Emulator]:
    clock = ManualClock()
    with _Emulator(KmsBackend(clock, seed=17), clock) as running:
        yield running


@pytest.fixture
def client(emulator: _Emulator) -> kms_v1.KeyManagementServiceClient:
    client = fresh_client(emulator)
    client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    return client


def _error(exc: gexc.GoogleAPICallError) -> dict:
    return exc.response.json()["error"]


def _create(
    client: kms_v1.KeyManagementServiceClient,
    key_id: str,
    purpose: Purpose,
    algorithm: Algorithm,
    protection_level: kms_v1.ProtectionLevel = kms_v1.ProtectionLevel.SOFTWARE,
) -> str:
    key = client.create_crypto_key(
        request={
            "parent": RING,
            "crypto_key_id": key_id,
            "crypto_key": {
                "purpose": purpose,
                "version_template": {"algorithm": algorithm, "protection_level": protection_level},
            },
        }
    )
    return f"{key.name}/cryptoKeyVersions/1"


# ------------------------------------------------------------------------------ signing
def _sign(client: kms_v1.KeyManagementServiceClient, version: str, message: bytes, digest_kind: str) -> bytes:
    """Google's sign_asymmetric sample, its integrity checks included."""
    digest_bytes = hashlib.new(digest_kind, message).digest()
    response = client.asymmetric_sign(
        request={
            "name": version,
            "digest": {digest_kind: digest_bytes},
            "digest_crc32c": crc32c(digest_bytes),
        }
    )
    assert response.verified_digest_crc32c, "The request sent to the server was corrupted in-transit."
    assert response.name == version
    assert response.signature_crc32c == crc32c(response.signature)
    return response.signature


def _public_key(client: kms_v1.KeyManagementServiceClient, version: str):  # type: ignore[no-untyped-def]
    """Google's get_public_key sample, its integrity checks included."""
    public_key = client.get_public_key(request={"name": version})
    assert public_key.name == version
    assert public_key.pem_crc32c == crc32c(public_key.pem.encode("utf-8"))
    return serialization.load_pem_public_key(public_key.pem.encode("utf-8"))


@pytest.mark.parametrize(
    ("algorithm", "pad"),
    [
        (
            Algorithm.RSA_SIGN_PSS_2048_SHA256,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH),
        ),
        (Algorithm.RSA_SIGN_PSS_2048_SHA256, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)),
        (Algorithm.RSA_SIGN_PKCS1_2048_SHA256, padding.PKCS1v15()),
    ],
)
def test_rsa_signatures_verify_as_in_verify_asymmetric_rsa(
    client: kms_v1.KeyManagementServiceClient, algorithm: Algorithm, pad: padding.AsymmetricPadding
) -> None:
    version = _create(client, "rsa-signer", Purpose.ASYMMETRIC_SIGN, algorithm)
    message = b"Hello, world!"
    signature = _sign(client, version, message, "sha256")
    rsa_key = _public_key(client, version)
    rsa_key.verify(signature, hashlib.sha256(message).digest(), pad, utils.Prehashed(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        rsa_key.verify(signature, hashlib.sha256(b"other").digest(), pad, utils.Prehashed(hashes.SHA256()))


@pytest.mark.parametrize(
    ("algorithm", "kind", "hash_"),
    [
        (Algorithm.EC_SIGN_P256_SHA256, "sha256", hashes.SHA256()),
        (Algorithm.EC_SIGN_P384_SHA384, "sha384", hashes.SHA384()),
    ],
)
def test_ec_signatures_verify_as_in_verify_asymmetric_ec(
    client: kms_v1.KeyManagementServiceClient, algorithm: Algorithm, kind: str, hash_: hashes.HashAlgorithm
) -> None:
    version = _create(client, "ec-signer", Purpose.ASYMMETRIC_SIGN, algorithm)
    message = b"Hello, world!"
    signature = _sign(client, version, message, kind)
    ec_key = _public_key(client, version)
    ec_key.verify(signature, hashlib.new(kind, message).digest(), ec.ECDSA(utils.Prehashed(hash_)))


def test_signing_data_instead_of_a_digest(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _create(client, "data-signer", Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P256_SHA256)
    response = client.asymmetric_sign(
        request={"name": version, "data": b"abc", "data_crc32c": crc32c(b"abc")}
    )
    assert response.verified_data_crc32c and not response.verified_digest_crc32c
    _public_key(client, version).verify(response.signature, b"abc", ec.ECDSA(hashes.SHA256()))


def test_asymmetric_keys_have_no_primary_and_report_their_template(
    client: kms_v1.KeyManagementServiceClient,
) -> None:
    _create(client, "signer", Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P256_SHA256)
    key = client.get_crypto_key(request={"name": f"{RING}/cryptoKeys/signer"})
    assert key.purpose == Purpose.ASYMMETRIC_SIGN
    assert key.version_template.algorithm == Algorithm.EC_SIGN_P256_SHA256
    assert not key.primary.name
    version = client.get_crypto_key_version(request={"name": f"{key.name}/cryptoKeyVersions/1"})
    assert version.algorithm == Algorithm.EC_SIGN_P256_SHA256
    assert version.state == kms_v1.CryptoKeyVersion.CryptoKeyVersionState.ENABLED


# --------------------------------------------------------------------------- decrypting
def test_encrypt_asymmetric_then_decrypt_asymmetric(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _create(
        client, "rsa-decrypter", Purpose.ASYMMETRIC_DECRYPT, Algorithm.RSA_DECRYPT_OAEP_2048_SHA256
    )
    rsa_key = _public_key(client, version)
    sha256 = hashes.SHA256()
    pad = padding.OAEP(mgf=padding.MGF1(algorithm=sha256), algorithm=sha256, label=None)
    ciphertext = rsa_key.encrypt(b"Hello, world!", pad)

    response = client.asymmetric_decrypt(
        request={"name": version, "ciphertext": ciphertext, "ciphertext_crc32c": crc32c(ciphertext)}
    )
    assert response.verified_ciphertext_crc32c
    assert response.plaintext_crc32c == crc32c(response.plaintext)
    assert response.plaintext == b"Hello, world!"


def test_asymmetric_decrypt_of_garbage_is_decryption_failed(
    client: kms_v1.KeyManagementServiceClient,
) -> None:
    version = _create(
        client, "rsa-decrypter", Purpose.ASYMMETRIC_DECRYPT, Algorithm.RSA_DECRYPT_OAEP_2048_SHA1
    )
    with pytest.raises(gexc.BadRequest) as info:
        client.asymmetric_decrypt(request={"name": version, "ciphertext": b"\x01" * 256})
    assert _error(info.value) == {"code": 400, "message": "Decryption failed.", "status": "INVALID_ARGUMENT"}


def test_public_key_in_der_format(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _create(client, "signer", Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P384_SHA384)
    public_key = client.get_public_key(
        request={"name": version, "public_key_format": kms_v1.PublicKey.PublicKeyFormat.DER}
    )
    assert public_key.public_key.crc32c_checksum == crc32c(public_key.public_key.data)
    assert public_key.public_key_format == kms_v1.PublicKey.PublicKeyFormat.DER
    der = serialization.load_der_public_key(public_key.public_key.data)
    assert der == serialization.load_pem_public_key(public_key.pem.encode())


# ----------------------------------------------------------------------------------- MAC
def test_sign_mac_and_verify_mac(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _create(client, "mac", Purpose.MAC, Algorithm.HMAC_SHA256)
    data = b"Hello, world!"
    signed = client.mac_sign(request={"name": version, "data": data, "data_crc32c": crc32c(data)})
    assert signed.verified_data_crc32c
    assert signed.mac_crc32c == crc32c(signed.mac)
    assert len(signed.mac) == 32

    verified = client.mac_verify(
        request={
            "name": version,
            "data": data,
            "data_crc32c": crc32c(data),
            "mac": signed.mac,
            "mac_crc32c": crc32c(signed.mac),
        }
    )
    assert verified.success and verified.verified_data_crc32c and verified.verified_mac_crc32c
    assert verified.verified_success_integrity
    assert not client.mac_verify(request={"name": version, "data": b"other", "mac": signed.mac}).success


# ----------------------------------------------------------------------- random bytes, HSM
def test_generate_random_bytes(client: kms_v1.KeyManagementServiceClient) -> None:
    response = client.generate_random_bytes(
        request={"location": PARENT, "length_bytes": 256, "protection_level": kms_v1.ProtectionLevel.HSM}
    )
    assert len(response.data) == 256
    assert response.data_crc32c == crc32c(response.data)


def test_generate_random_bytes_needs_hsm(client: kms_v1.KeyManagementServiceClient) -> None:
    with pytest.raises(gexc.BadRequest) as info:
        client.generate_random_bytes(request={"location": PARENT, "length_bytes": 32})
    assert _error(info.value)["status"] == "INVALID_ARGUMENT"


def test_hsm_keys_behave_like_software_keys_and_report_hsm(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _create(
        client,
        "hsm",
        Purpose.ENCRYPT_DECRYPT,
        Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION,
        kms_v1.ProtectionLevel.HSM,
    )
    key_name = version.rpartition("/cryptoKeyVersions/")[0]
    key = client.get_crypto_key(request={"name": key_name})
    assert key.version_template.protection_level == kms_v1.ProtectionLevel.HSM
    assert key.primary.protection_level == kms_v1.ProtectionLevel.HSM
    encrypted = client.encrypt(request={"name": key_name, "plaintext": b"secret"})
    assert encrypted.protection_level == kms_v1.ProtectionLevel.HSM
    decrypted = client.decrypt(request={"name": key_name, "ciphertext": encrypted.ciphertext})
    assert decrypted.plaintext == b"secret"
    assert decrypted.protection_level == kms_v1.ProtectionLevel.HSM


# ------------------------------------------------------------------------ UpdateCryptoKey
def test_update_key_update_labels(client: kms_v1.KeyManagementServiceClient) -> None:
    key_name = _create(
        client, "key", Purpose.ENCRYPT_DECRYPT, Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION
    ).rpartition("/cryptoKeyVersions/")[0]
    key = client.update_crypto_key(
        request={
            "crypto_key": {"name": key_name, "labels": {"new_label": "new_value"}},
            "update_mask": field_mask_pb2.FieldMask(paths=["labels"]),
        }
    )
    assert dict(key.labels) == {"new_label": "new_value"}
    assert dict(client.get_crypto_key(request={"name": key_name}).labels) == {"new_label": "new_value"}


def test_rotation_schedule_rotates_on_the_clock(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    """create_key_rotation_schedule: rotate every 30 days, first in 24 hours."""
    now = emulator.clock.now()
    key = client.create_crypto_key(
        request={
            "parent": RING,
            "crypto_key_id": "rotating",
            "crypto_key": {
                "purpose": Purpose.ENCRYPT_DECRYPT,
                "version_template": {"algorithm": Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION},
                "rotation_period": duration_pb2.Duration(seconds=60 * 60 * 24 * 30),
                "next_rotation_time": timestamp_pb2.Timestamp(seconds=int(now.timestamp()) + 60 * 60 * 24),
            },
        }
    )
    assert key.rotation_period.total_seconds() == 60 * 60 * 24 * 30
    assert key.primary.name.endswith("/cryptoKeyVersions/1")
    ciphertext = client.encrypt(request={"name": key.name, "plaintext": b"old"}).ciphertext

    emulator.clock.advance(datetime.timedelta(days=31, hours=1))
    key = client.get_crypto_key(request={"name": key.name})
    assert key.primary.name.endswith("/cryptoKeyVersions/3")  # at +1 day and at +31 days
    assert key.next_rotation_time.timestamp() == pytest.approx(now.timestamp() + 86400 * 61)
    versions = list(client.list_crypto_key_versions(request={"parent": key.name}))
    assert [v.create_time.timestamp() for v in versions[1:]] == pytest.approx(
        [now.timestamp() + 86400, now.timestamp() + 86400 * 31]
    )
    assert client.decrypt(request={"name": key.name, "ciphertext": ciphertext}).plaintext == b"old"


def test_update_key_add_then_remove_rotation(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    key_name = _create(
        client, "key", Purpose.ENCRYPT_DECRYPT, Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION
    ).rpartition("/cryptoKeyVersions/")[0]
    now = int(emulator.clock.now().timestamp())
    key = client.update_crypto_key(
        request={
            "crypto_key": {
                "name": key_name,
                "rotation_period": {"seconds": 60 * 60 * 24 * 30},
                "next_rotation_time": {"seconds": now + 60 * 60 * 24},
            },
            "update_mask": {"paths": ["rotation_period", "next_rotation_time"]},
        }
    )
    assert key.next_rotation_time.timestamp() == now + 86400
    key = client.update_crypto_key(
        request={
            "crypto_key": {"name": key_name},
            "update_mask": {"paths": ["rotation_period", "next_rotation_time"]},
        }
    )
    assert not key.rotation_period and not key.next_rotation_time
    emulator.clock.advance(datetime.timedelta(days=2))
    assert client.get_crypto_key(request={"name": key_name}).primary.name.endswith("/1")


def test_update_key_refuses_other_fields_by_name(client: kms_v1.KeyManagementServiceClient) -> None:
    key_name = _create(
        client, "key", Purpose.ENCRYPT_DECRYPT, Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION
    ).rpartition("/cryptoKeyVersions/")[0]
    with pytest.raises(gexc.BadRequest) as info:
        client.update_crypto_key(
            request={
                "crypto_key": {"name": key_name, "purpose": Purpose.MAC},
                "update_mask": {"paths": ["purpose"]},
            }
        )
    assert "purpose" in _error(info.value)["message"]


def test_asymmetric_keys_cannot_rotate_automatically(client: kms_v1.KeyManagementServiceClient) -> None:
    key_name = _create(client, "signer", Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P256_SHA256).rpartition(
        "/cryptoKeyVersions/"
    )[0]
    with pytest.raises(gexc.BadRequest):
        client.update_crypto_key(
            request={
                "crypto_key": {"name": key_name, "rotation_period": {"seconds": 86400 * 30}},
                "update_mask": {"paths": ["rotation_period"]},
            }
        )


# ------------------------------------------------------------------------------ errors
def test_wrong_purpose_is_failed_precondition_with_the_real_text(
    client: kms_v1.KeyManagementServiceClient,
) -> None:
    symmetric = _create(client, "key", Purpose.ENCRYPT_DECRYPT, Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION)
    with pytest.raises(gexc.BadRequest) as info:
        client.asymmetric_sign(request={"name": symmetric, "digest": {"sha256": bytes(32)}})
    assert _error(info.value) == {
        "code": 400,
        "message": f"Operation requested for Key {symmetric} has incorrect key purpose: ENCRYPT_DECRYPT",
        "status": "FAILED_PRECONDITION",
    }
    with pytest.raises(gexc.BadRequest) as info:
        client.get_public_key(request={"name": symmetric})
    assert _error(info.value)["status"] == "FAILED_PRECONDITION"

    signer = _create(client, "signer", Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P256_SHA256)
    with pytest.raises(gexc.BadRequest) as info:
        client.mac_sign(request={"name": signer, "data": b"x"})
    assert _error(info.value)["message"].endswith("has incorrect key purpose: ASYMMETRIC_SIGN")
    with pytest.raises(gexc.BadRequest) as info:
        client.encrypt(request={"name": signer.rpartition("/cryptoKeyVersions/")[0], "plaintext": b"x"})
    assert _error(info.value)["status"] == "FAILED_PRECONDITION"


def test_digest_of_the_wrong_hash_or_size_is_refused(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _create(client, "signer", Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P256_SHA256)
    for digest in ({"sha384": bytes(48)}, {"sha256": bytes(20)}):
        with pytest.raises(gexc.BadRequest) as info:
            client.asymmetric_sign(request={"name": version, "digest": digest})
        assert _error(info.value)["status"] == "INVALID_ARGUMENT"


def test_digest_checksum_mismatch_is_the_real_text(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _create(client, "signer", Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P256_SHA256)
    digest = hashlib.sha256(b"x").digest()
    with pytest.raises(gexc.BadRequest) as info:
        client.asymmetric_sign(
            request={"name": version, "digest": {"sha256": digest}, "digest_crc32c": crc32c(digest) ^ 1}
        )
    assert _error(info.value)["message"] == (
        "The checksum in field digest_crc32c did not match the data in field digest."
    )


def test_unsupported_algorithms_are_refused_as_unsupported(client: kms_v1.KeyManagementServiceClient) -> None:
    with pytest.raises(gexc.BadRequest) as info:
        _create(client, "kem", Purpose.ASYMMETRIC_DECRYPT, Algorithm.ML_KEM_768)
    message = _error(info.value)["message"]
    assert "ML_KEM_768" in message and "not support" in message
    with pytest.raises(gexc.BadRequest):
        _create(client, "mismatch", Purpose.MAC, Algorithm.EC_SIGN_P256_SHA256)


def test_a_disabled_version_cannot_sign(client: kms_v1.KeyManagementServiceClient) -> None:
    version = _create(client, "signer", Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P256_SHA256)
    client.update_crypto_key_version(
        request={
            "crypto_key_version": {
                "name": version,
                "state": kms_v1.CryptoKeyVersion.CryptoKeyVersionState.DISABLED,
            },
            "update_mask": {"paths": ["state"]},
        }
    )
    with pytest.raises(gexc.BadRequest) as info:
        client.asymmetric_sign(request={"name": version, "digest": {"sha256": bytes(32)}})
    assert _error(info.value)["message"] == f"{version} is not enabled, current state is: DISABLED."


# ------------------------------------------------------------------------- restart, model
def test_ec_mac_and_schedules_survive_a_restart(tmp_path: Path) -> None:
    """Key material is derived from the seed again (never stored), so an EC public key and an HMAC
    are the same after a restart; the template and rotation schedule are kept in the state file."""
    clock = ManualClock()
    first = PersistentKmsBackend(clock, 5, tmp_path / "kms.json")
    first.create_key_ring("projects/p/locations/global", "r")
    ring = "projects/p/locations/global/keyRings/r"
    first.create_crypto_key(ring, "ec", purpose="ASYMMETRIC_SIGN", algorithm="EC_SIGN_P256_SHA256")
    first.create_crypto_key(ring, "mac", purpose="MAC", algorithm="HMAC_SHA512", protection_level="HSM")
    first.create_crypto_key(
        ring, "sym", rotation_period=datetime.timedelta(days=7), next_rotation_time=clock.now()
    )
    ec_version, mac_version = (
        f"{ring}/cryptoKeys/ec/cryptoKeyVersions/1",
        f"{ring}/cryptoKeys/mac/cryptoKeyVersions/1",
    )
    pem = get_public_key(first, ec_version)["pem"]
    tag = mac_sign(first, mac_version, b"data")["mac"]

    second = PersistentKmsBackend(clock, 5, tmp_path / "kms.json")
    assert get_public_key(second, ec_version)["pem"] == pem
    assert mac_verify(second, mac_version, b"data", tag)["success"]
    assert mac_sign(second, mac_version, b"data")["protectionLevel"] == "HSM"
    sym = second.get_crypto_key(f"{ring}/cryptoKeys/sym")
    assert sym["rotationPeriod"] == datetime.timedelta(days=7)
    assert sym["primary"]["name"].endswith("/cryptoKeyVersions/2")  # the rotation due at creation


def test_the_model_refuses_unknown_purposes_and_unsupported_algorithms() -> None:
    kms = KmsBackend(ManualClock(), seed=1)
    kms.create_key_ring("projects/p/locations/global", "r")
    ring = "projects/p/locations/global/keyRings/r"
    with pytest.raises(kms_errors.UnsupportedPurpose):
        kms.create_crypto_key(ring, "kem", purpose="KEY_ENCAPSULATION")
    with pytest.raises(kms_errors.UnsupportedVersionTemplate):
        kms.create_crypto_key(ring, "pq", purpose="ASYMMETRIC_SIGN", algorithm="PQ_SIGN_ML_DSA_65")
    with pytest.raises(kms_errors.UnsupportedVersionTemplate):
        kms.create_crypto_key(ring, "ext", protection_level="EXTERNAL")


# ---------------------------------------------------------------------------- key import
def _import_job(
    client: kms_v1.KeyManagementServiceClient, method: kms_v1.ImportJob.ImportMethod
) -> kms_v1.ImportJob:
    """Google's create_import_job and check_state_import_job samples."""
    created = client.create_import_job(
        {
            "parent": RING,
            "import_job_id": "job",
            "import_job": {"import_method": method, "protection_level": kms_v1.ProtectionLevel.HSM},
        }
    )
    job = client.get_import_job(name=created.name)
    assert job.state == kms_v1.ImportJob.ImportJobState.ACTIVE
    assert job.public_key.pem.startswith("-----BEGIN PUBLIC KEY-----")
    return job


def _key_for_import(client: kms_v1.KeyManagementServiceClient, purpose: Purpose, algorithm: Algorithm) -> str:
    """Google's create_key_for_import sample."""
    key = client.create_crypto_key(
        {
            "parent": RING,
            "crypto_key_id": "imported",
            "crypto_key": {
                "purpose": purpose,
                "version_template": {"algorithm": algorithm},
                "import_only": True,
            },
            "skip_initial_version_creation": True,
        }
    )
    assert key.import_only
    return key.name


def test_import_manually_wrapped_key(client: kms_v1.KeyManagementServiceClient) -> None:
    """Google's import_manually_wrapped_key sample: an EC key, AES-KWP under RSA-OAEP SHA-1."""
    key_name = _key_for_import(client, Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P256_SHA256)
    job = _import_job(client, kms_v1.ImportJob.ImportMethod.RSA_OAEP_3072_SHA1_AES_256)

    key = ec.generate_private_key(ec.SECP256R1())
    formatted_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kwp_key = os.urandom(32)
    wrapped_target_key = keywrap.aes_key_wrap_with_padding(kwp_key, formatted_key)
    import_job_pub = serialization.load_pem_public_key(bytes(job.public_key.pem, "UTF-8"))
    wrapped_kwp_key = import_job_pub.encrypt(
        kwp_key, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    )
    version = client.import_crypto_key_version(
        {
            "parent": key_name,
            "import_job": job.name,
            "algorithm": Algorithm.EC_SIGN_P256_SHA256,
            "rsa_aes_wrapped_key": wrapped_kwp_key + wrapped_target_key,
        }
    )
    assert version.state == kms_v1.CryptoKeyVersion.CryptoKeyVersionState.ENABLED
    assert version.import_job == job.name

    signature = _sign(client, version.name, b"imported", "sha256")
    key.public_key().verify(signature, b"imported", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(gexc.BadRequest):
        client.create_crypto_key_version(parent=key_name, crypto_key_version={})


def test_import_a_symmetric_key_wrapped_by_rsa_oaep_alone(client: kms_v1.KeyManagementServiceClient) -> None:
    key_name = _key_for_import(client, Purpose.ENCRYPT_DECRYPT, Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION)
    job = _import_job(client, kms_v1.ImportJob.ImportMethod.RSA_OAEP_3072_SHA256)
    public = serialization.load_pem_public_key(job.public_key.pem.encode())
    material = os.urandom(32)
    wrapped = public.encrypt(
        material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    )
    version = client.import_crypto_key_version(
        {
            "parent": key_name,
            "import_job": job.name,
            "algorithm": Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION,
            "wrapped_key": wrapped,
        }
    )
    client.update_crypto_key_primary_version(name=key_name, crypto_key_version_id="1")
    ciphertext = client.encrypt(request={"name": key_name, "plaintext": b"byok"}).ciphertext
    assert client.decrypt(request={"name": key_name, "ciphertext": ciphertext}).plaintext == b"byok"
    assert version.name.endswith("/cryptoKeyVersions/1")


def test_a_key_that_does_not_unwrap_is_import_failed(client: kms_v1.KeyManagementServiceClient) -> None:
    key_name = _key_for_import(client, Purpose.ASYMMETRIC_SIGN, Algorithm.EC_SIGN_P256_SHA256)
    job = _import_job(client, kms_v1.ImportJob.ImportMethod.RSA_OAEP_3072_SHA256_AES_256)
    version = client.import_crypto_key_version(
        {
            "parent": key_name,
            "import_job": job.name,
            "algorithm": Algorithm.EC_SIGN_P256_SHA256,
            "rsa_aes_wrapped_key": os.urandom(384 + 48),
        }
    )
    assert version.state == kms_v1.CryptoKeyVersion.CryptoKeyVersionState.IMPORT_FAILED
    assert version.import_failure_reason == (
        "The key material in the import request couldn't be unwrapped or wasn't formatted correctly"
    )
    short = client.import_crypto_key_version(
        {
            "parent": key_name,
            "import_job": job.name,
            "algorithm": Algorithm.EC_SIGN_P256_SHA256,
            "wrapped_key": b"x",
        }
    )
    assert short.import_failure_reason == "Wrapped key is too short"


def test_import_jobs_expire_after_three_days(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    key_name = _key_for_import(client, Purpose.ENCRYPT_DECRYPT, Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION)
    job = _import_job(client, kms_v1.ImportJob.ImportMethod.RSA_OAEP_3072_SHA256)
    assert [j.name for j in client.list_import_jobs(parent=RING)] == [job.name]
    emulator.clock.advance(datetime.timedelta(days=3))
    assert client.get_import_job(name=job.name).state == kms_v1.ImportJob.ImportJobState.EXPIRED
    with pytest.raises(gexc.BadRequest) as info:
        client.import_crypto_key_version(
            {
                "parent": key_name,
                "import_job": job.name,
                "algorithm": Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION,
                "wrapped_key": bytes(384),
            }
        )
    assert _error(info.value)["status"] == "FAILED_PRECONDITION"


def test_an_imported_version_is_import_failed_after_a_restart(tmp_path: Path) -> None:
    """The state file never holds key material and no seed gives imported material back."""
    clock = ManualClock()
    first = PersistentKmsBackend(clock, 5, tmp_path / "kms.json")
    first.create_key_ring("projects/p/locations/global", "r")
    ring = "projects/p/locations/global/keyRings/r"
    first.create_crypto_key(ring, "byok", skip_initial_version=True, import_only=True)
    job = create_import_job(first, ring, "job", "RSA_OAEP_3072_SHA256", "SOFTWARE")
    public = serialization.load_pem_public_key(job["publicKey"]["pem"].encode())
    wrapped = public.encrypt(
        os.urandom(32), padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    )
    key = f"{ring}/cryptoKeys/byok"
    version = import_crypto_key_version(first, key, "GOOGLE_SYMMETRIC_ENCRYPTION", job["name"], wrapped)
    assert version["state"] == "ENABLED"
    first.update_primary_version(key, "1")

    second = PersistentKmsBackend(clock, 5, tmp_path / "kms.json")
    restarted = second.get_crypto_key_version(version["name"])
    assert restarted["state"] == "IMPORT_FAILED" and restarted["importJob"] == job["name"]
    assert second.get_crypto_key(key)["importOnly"] is True
