"""The in-process ``KeyManager``: the port bound to one crypto key of a :class:`KmsBackend`.

It checks CRC32C both ways as Google's data-integrity guidelines ask of every Cloud KMS client
(cloud.google.com/kms/docs/data-integrity-guidelines), so the fake tier runs the same integrity
checks as the real adapter. A failed check means the bytes changed on the way, which the guidelines
say to answer by discarding the response and retrying a limited number of times: hence the
retryable ``KeyManagerUnavailableError``.
"""

from __future__ import annotations

from fakes.kms.envelope import crc32c
from fakes.kms.exceptions import NoPrimaryVersion
from fakes.kms.models import KmsBackend
from harness.ports import Clock, EncryptResult, KeyManagerUnavailableError


class FakeKeyManager:
    """What the domain code sees on the ``fake`` tier; several key managers may share one backend."""

    def __init__(self, backend: KmsBackend, key_name: str) -> None:
        self.backend = backend
        self.key_name = key_name

    @classmethod
    def create(
        cls,
        clock: Clock,
        project: str = "cloudact-local",
        location: str = "global",
        key_ring: str = "cloudact",
        key: str = "org-secrets",
        seed: int | str | bytes | None = None,
        backend: KmsBackend | None = None,
    ) -> FakeKeyManager:
        """A fresh backend holding one key ring and one key with an ENABLED primary version; or
        ``backend`` (a persisted one), given them unless it already has them."""
        backend = backend if backend is not None else KmsBackend(clock, seed=seed)
        parent = f"projects/{project}/locations/{location}"
        ring_name, key_name = (
            f"{parent}/keyRings/{key_ring}",
            f"{parent}/keyRings/{key_ring}/cryptoKeys/{key}",
        )
        if ring_name not in {ring["name"] for ring in backend.list_key_rings(parent)}:
            backend.create_key_ring(parent, key_ring)
        if key_name not in {k["name"] for k in backend.list_crypto_keys(ring_name)}:
            backend.create_crypto_key(ring_name, key)
        return cls(backend, key_name)

    def encrypt(self, plaintext: bytes, *, aad: bytes = b"") -> EncryptResult:
        response = self.backend.encrypt(
            self.key_name, plaintext, aad, plaintext_crc32c=crc32c(plaintext), aad_crc32c=crc32c(aad)
        )
        if (
            not response["verifiedPlaintextCrc32c"]
            or not response["verifiedAdditionalAuthenticatedDataCrc32c"]
            or not response["name"].startswith(self.key_name + "/cryptoKeyVersions/")
        ):
            raise KeyManagerUnavailableError("Encrypt: request corrupted in-transit")
        if response["ciphertextCrc32c"] != crc32c(response["ciphertext"]):
            raise KeyManagerUnavailableError("Encrypt: response corrupted in-transit", code="DATA_LOSS")
        return EncryptResult(ciphertext=response["ciphertext"], key_version=response["name"])

    def decrypt(self, ciphertext: bytes, *, aad: bytes = b"") -> bytes:
        response = self.backend.decrypt(
            self.key_name, ciphertext, aad, ciphertext_crc32c=crc32c(ciphertext), aad_crc32c=crc32c(aad)
        )
        if response["plaintextCrc32c"] != crc32c(response["plaintext"]):
            raise KeyManagerUnavailableError("Decrypt: response corrupted in-transit", code="DATA_LOSS")
        return response["plaintext"]

    def primary_version(self) -> str:
        primary = self.backend.get_crypto_key(self.key_name).get("primary")
        if primary is None:
            raise NoPrimaryVersion(name=self.key_name)
        return primary["name"]
