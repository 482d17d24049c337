"""ImportJobs and ImportCryptoKeyVersion: bringing one's own key material into the KMS model.

An ImportJob holds an RSA wrapping key pair (3072 or 4096 bits) and is ACTIVE from its creation
until ``expireTime``, three days later on the injected clock, then EXPIRED (ImportJob reference
docs). ImportCryptoKeyVersion unwraps the key the way Cloud KMS documents it:

* ``RSA_OAEP_*_AES_256`` (``rsaAesWrappedKey``, or ``wrappedKey``): an ephemeral AES-256 key
  wrapped with RSA-OAEP (MGF1 and OAEP with SHA-1 or SHA-256, no label), followed by the target key
  wrapped with that AES key by AES key wrap with padding (RFC 5649);
* ``RSA_OAEP_3072_SHA256`` / ``RSA_OAEP_4096_SHA256``: the target key wrapped by RSA-OAEP alone.

The target key is the raw key for symmetric and HMAC algorithms and a PKCS#8 DER private key for
the asymmetric ones. As in Cloud KMS, material that cannot be unwrapped or does not fit the
algorithm does not fail the call: the new version is IMPORT_FAILED with an ``importFailureReason``
(texts from Cloud KMS's "Troubleshooting failed imports" page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from fakes.kms import algorithms
from fakes.kms import exceptions as errors
from fakes.kms.models import KmsBackend, require_id, require_name
from fakes.kms.resources import CryptoKeyVersionResource

EXPIRY = timedelta(days=3)
METHODS: dict[str, tuple[int, type[hashes.HashAlgorithm], bool]] = {
    "RSA_OAEP_3072_SHA1_AES_256": (3072, hashes.SHA1, True),
    "RSA_OAEP_4096_SHA1_AES_256": (4096, hashes.SHA1, True),
    "RSA_OAEP_3072_SHA256_AES_256": (3072, hashes.SHA256, True),
    "RSA_OAEP_4096_SHA256_AES_256": (4096, hashes.SHA256, True),
    "RSA_OAEP_3072_SHA256": (3072, hashes.SHA256, False),
    "RSA_OAEP_4096_SHA256": (4096, hashes.SHA256, False),
}
UNWRAP_FAILED = "The key material in the import request couldn't be unwrapped or wasn't formatted correctly"
TOO_SHORT = "Wrapped key is too short"


@dataclass(frozen=True)
class ImportJob:
    name: str
    method: str
    protection_level: str
    create_time: datetime
    private_key: rsa.RSAPrivateKey

    def expire_time(self) -> datetime:
        return self.create_time + EXPIRY

    def state(self, now: datetime) -> str:
        return "ACTIVE" if now < self.expire_time() else "EXPIRED"

    def resource(self, now: datetime) -> dict[str, Any]:
        pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        resource: dict[str, Any] = {
            "name": self.name,
            "importMethod": self.method,
            "protectionLevel": self.protection_level,
            "createTime": self.create_time,
            "generateTime": self.create_time,
            "expireTime": self.expire_time(),
            "state": self.state(now),
            "publicKey": {"pem": pem.decode("ascii")},
        }
        if resource["state"] == "EXPIRED":
            resource["expireEventTime"] = self.expire_time()
        return resource


def create_import_job(
    backend: KmsBackend, key_ring: str, import_job_id: str, method: str | None, protection_level: str | None
) -> dict[str, Any]:
    require_id("import_job_id", import_job_id)
    if method not in METHODS:
        raise errors.UnsupportedVersionTemplate(
            field="import_method", value=method or "IMPORT_METHOD_UNSPECIFIED"
        )
    protection = protection_level or "PROTECTION_LEVEL_UNSPECIFIED"
    if protection not in algorithms.PROTECTION_LEVELS:
        raise errors.UnsupportedVersionTemplate(field="protection_level", value=protection)
    backend.get_key_ring(key_ring)
    name = f"{key_ring}/importJobs/{import_job_id}"
    bits = METHODS[method][0]
    job = ImportJob(
        name,
        method,
        protection,
        backend.clock.now(),
        rsa.generate_private_key(public_exponent=65537, key_size=bits),
    )
    if backend.import_jobs.setdefault(name, job) is not job:
        raise errors.ImportJobAlreadyExists(name=name)
    return job.resource(backend.clock.now())


def _job(backend: KmsBackend, name: str) -> ImportJob:
    require_name(name.rpartition("/importJobs/")[0], "KeyRing")
    backend.get_key_ring(name.rpartition("/importJobs/")[0])
    job = backend.import_jobs.get(name)
    if job is None:
        raise errors.ImportJobNotFound(name=name)
    return job


def get_import_job(backend: KmsBackend, name: str) -> dict[str, Any]:
    return _job(backend, name).resource(backend.clock.now())


def list_import_jobs(backend: KmsBackend, key_ring: str) -> list[dict[str, Any]]:
    backend.get_key_ring(key_ring)
    now = backend.clock.now()
    prefix = key_ring + "/importJobs/"
    return [job.resource(now) for name, job in list(backend.import_jobs.items()) if name.startswith(prefix)]


def import_crypto_key_version(
    backend: KmsBackend, crypto_key: str, algorithm: str | None, import_job: str, wrapped: bytes
) -> CryptoKeyVersionResource:
    """A new version of ``crypto_key`` with the unwrapped material, or IMPORT_FAILED with the reason."""
    job = _job(backend, import_job)
    now = backend.clock.now()
    if job.state(now) != "ACTIVE":
        raise errors.ImportJobNotActive(name=job.name, state=job.state(now))
    key_algorithm = algorithm or "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED"
    if key_algorithm not in algorithms.ALGORITHMS:
        raise errors.UnsupportedVersionTemplate(field="algorithm", value=key_algorithm)
    material, reason = _unwrap(job, wrapped)
    if material is not None and not _fits(key_algorithm, material):
        material, reason = None, UNWRAP_FAILED
    imported: dict[str, Any] = {"importJob": job.name, "importTime": now}
    if reason is not None:
        imported = {"importJob": job.name, "importFailureReason": reason}
    return backend.add_imported_version(crypto_key, key_algorithm, material, imported)


def _unwrap(job: ImportJob, wrapped: bytes) -> tuple[bytes | None, str | None]:
    bits, hash_type, with_aes = METHODS[job.method]
    rsa_length = bits // 8
    if len(wrapped) < rsa_length + (16 if with_aes else 0):
        return None, TOO_SHORT
    oaep = padding.OAEP(mgf=padding.MGF1(hash_type()), algorithm=hash_type(), label=None)
    try:
        first = job.private_key.decrypt(wrapped[:rsa_length], oaep)
        if not with_aes:
            return (first, None) if len(wrapped) == rsa_length else (None, UNWRAP_FAILED)
        return keywrap.aes_key_unwrap_with_padding(first, wrapped[rsa_length:]), None
    except (ValueError, keywrap.InvalidUnwrap):
        return None, UNWRAP_FAILED


def _fits(algorithm: str, material: bytes) -> bool:
    """Whether the unwrapped bytes are a key of ``algorithm`` (raw length, or PKCS#8 key type and size)."""
    spec = algorithms.ALGORITHMS[algorithm]
    if spec.kind == "symmetric":
        return len(material) == 32
    if spec.kind == "hmac":
        return len(material) == spec.hash_algorithm().digest_size
    try:
        key = serialization.load_der_private_key(material, password=None)
    except (ValueError, TypeError):
        return False
    if spec.kind == "ed25519":
        return isinstance(key, ed25519.Ed25519PrivateKey)
    if spec.kind == "ec":
        return (
            isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == algorithms.curve(algorithm).name
        )
    return isinstance(key, rsa.RSAPrivateKey) and key.key_size == spec.bits


__all__ = ["create_import_job", "get_import_job", "import_crypto_key_version", "list_import_jobs"]
