"""RawEncrypt and RawDecrypt on RAW_ENCRYPT_DECRYPT keys: portable AES-GCM, AES-CBC and AES-CTR.

The rules are Cloud KMS's (rawEncrypt reference; ``gcloud kms raw-encrypt`` help):

* AES-GCM takes additional authenticated data, never an initialization vector: the service draws a
  12-byte IV and appends a 16-byte tag to the ciphertext (``tagLength``);
* AES-CBC and AES-CTR take no AAD; their IV is 16 bytes, the caller's or drawn by the service;
  CBC pads nothing, so its plaintext must be a multiple of the 16-byte block;
* plaintext and AAD are at most 64 KiB; every ``*Crc32c`` sent is checked and echoed as
  ``verified*``.

The IVs the service draws come from the backend's seeded entropy (a seeded run repeats them).
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fakes.kms import exceptions as errors
from fakes.kms.algorithms import ALGORITHMS, RAW_ENCRYPT_DECRYPT
from fakes.kms.envelope import crc32c
from fakes.kms.models import KmsBackend, verify_checksum

GCM_IV, GCM_TAG, BLOCK = 12, 16, 16
MAX_LENGTH = 65536


def _mode(algorithm: str) -> str:
    return ALGORITHMS[algorithm].kind.removeprefix("aes_")


def _check_inputs(mode: str, data_field: str, data: bytes, aad: bytes, iv: bytes | None) -> None:
    for name, value in ((data_field, data), ("additional_authenticated_data", aad)):
        if len(value) > MAX_LENGTH:
            raise errors.PlaintextTooLong(field=name, length=len(value))
    if mode == "gcm" and iv:
        raise errors.InvalidRawRequest(
            detail="initialization_vector is only supported for AES-CBC and AES-CTR keys."
        )
    if mode != "gcm" and aad:
        raise errors.InvalidRawRequest(
            detail="additional_authenticated_data is only supported for AES-GCM keys."
        )
    if mode != "gcm" and iv and len(iv) != BLOCK:
        raise errors.InvalidRawRequest(
            detail=f"initialization_vector must be {BLOCK} bytes for AES-{mode.upper()}, got {len(iv)}."
        )
    if mode == "cbc" and len(data) % BLOCK:
        raise errors.InvalidRawRequest(
            detail=f"{data_field} must be a multiple of {BLOCK} bytes for AES-CBC (no padding is done)."
        )


def _cipher(mode: str, key: bytes, iv: bytes) -> Cipher[Any]:
    return Cipher(algorithms.AES(key), modes.CBC(iv) if mode == "cbc" else modes.CTR(iv))


def raw_encrypt(
    backend: KmsBackend,
    name: str,
    plaintext: bytes,
    aad: bytes,
    iv: bytes | None,
    checksums: dict[str, int | None],
) -> dict[str, Any]:
    """``checksums``: the request's plaintext/aad/iv CRC32C values, each None when not sent."""
    verify_checksum("plaintext", plaintext, checksums["plaintext"])
    verify_checksum("additional_authenticated_data", aad, checksums["aad"])
    verify_checksum("initialization_vector", iv or b"", checksums["iv"])
    version = backend.usable_version(name, RAW_ENCRYPT_DECRYPT)
    mode = _mode(version.algorithm)
    _check_inputs(mode, "plaintext", plaintext, aad, iv)
    if mode == "gcm":
        iv = backend.random_bytes(GCM_IV)
        ciphertext = AESGCM(version.material).encrypt(iv, plaintext, aad or None)
    else:
        iv = iv or backend.random_bytes(BLOCK)
        encryptor = _cipher(mode, version.material, iv).encryptor()
        ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return {
        "ciphertext": ciphertext,
        "initializationVector": iv,
        "tagLength": GCM_TAG if mode == "gcm" else 0,
        "ciphertextCrc32c": crc32c(ciphertext),
        "initializationVectorCrc32c": crc32c(iv),
        "verifiedPlaintextCrc32c": checksums["plaintext"] is not None,
        "verifiedAdditionalAuthenticatedDataCrc32c": checksums["aad"] is not None,
        "verifiedInitializationVectorCrc32c": checksums["iv"] is not None,
        "name": version.name,
        "protectionLevel": version.protection_level,
    }


def raw_decrypt(
    backend: KmsBackend,
    name: str,
    ciphertext: bytes,
    aad: bytes,
    iv: bytes,
    tag_length: int,
    checksums: dict[str, int | None],
) -> dict[str, Any]:
    """``checksums``: the request's ciphertext/aad/iv CRC32C values, each None when not sent."""
    verify_checksum("ciphertext", ciphertext, checksums["ciphertext"])
    verify_checksum("additional_authenticated_data", aad, checksums["aad"])
    verify_checksum("initialization_vector", iv, checksums["iv"])
    version = backend.usable_version(name, RAW_ENCRYPT_DECRYPT)
    mode = _mode(version.algorithm)
    if mode == "gcm":
        if len(iv) != GCM_IV:
            raise errors.InvalidRawRequest(
                detail=f"initialization_vector must be the {GCM_IV} bytes rawEncrypt returned, got {len(iv)}."
            )
        if tag_length not in (0, GCM_TAG):
            raise errors.InvalidRawRequest(
                detail=f"tag_length must be {GCM_TAG} for AES-GCM, got {tag_length}."
            )
        try:
            plaintext = AESGCM(version.material).decrypt(iv, ciphertext, aad or None)
        except InvalidTag:
            raise errors.RawDecryptionFailed() from None
    else:
        _check_inputs(mode, "ciphertext", ciphertext, aad, iv or None)
        if not iv:
            raise errors.InvalidRawRequest(
                detail=f"initialization_vector is required for AES-{mode.upper()}."
            )
        decryptor = _cipher(mode, version.material, iv).decryptor()
        plaintext = decryptor.update(ciphertext) + decryptor.finalize()
    return {
        "plaintext": plaintext,
        "plaintextCrc32c": crc32c(plaintext),
        "protectionLevel": version.protection_level,
        "verifiedCiphertextCrc32c": checksums["ciphertext"] is not None,
        "verifiedAdditionalAuthenticatedDataCrc32c": checksums["aad"] is not None,
        "verifiedInitializationVectorCrc32c": checksums["iv"] is not None,
    }


__all__ = ["raw_decrypt", "raw_encrypt"]
