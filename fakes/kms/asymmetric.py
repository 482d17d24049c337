"""AsymmetricSign, AsymmetricDecrypt and GetPublicKey on the keyring model's asymmetric keys.

Kept out of ``models`` so the keyring stays about resources and state: these functions ask the
backend for an ENABLED version of the right purpose (:meth:`KmsBackend.usable_version`) and do the
cryptography with ``cryptography``, exactly as Cloud KMS documents it, so signatures verify and
ciphertexts open with the code of Google's samples:

* RSA-PSS uses MGF1 with the algorithm's hash and a salt as long as the digest; RSA-PKCS#1 v1.5 and
  ECDSA (DER signature) sign the digest as given; Ed25519 signs the data itself;
* RSA-OAEP uses MGF1 and OAEP with the algorithm's hash and no label;
* every ``*Crc32c`` field of the request is checked and reported back as ``verified*``.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from fakes.kms import exceptions as errors
from fakes.kms.algorithms import ALGORITHMS, ASYMMETRIC_DECRYPT, ASYMMETRIC_SIGN, Algorithm
from fakes.kms.envelope import crc32c
from fakes.kms.models import KmsBackend, verify_checksum

MAX_DATA = 65536
PUBLIC_KEY_FORMATS = ("PEM", "DER")


def _private_key(material: bytes) -> Any:
    return serialization.load_der_private_key(material, password=None)


def asymmetric_sign(
    backend: KmsBackend,
    name: str,
    digest: dict[str, bytes] | None,
    data: bytes | None,
    digest_crc32c: int | None = None,
    data_crc32c: int | None = None,
) -> dict[str, Any]:
    """Sign a digest (or, for Ed25519 and when given, the data) with the version's private key."""
    version = backend.usable_version(name, ASYMMETRIC_SIGN)
    spec = ALGORITHMS[version.algorithm]
    if data is not None:
        if len(data) > MAX_DATA:
            raise errors.PlaintextTooLong(field="data", length=len(data))
        verify_checksum("data", data, data_crc32c)
    key = _private_key(version.material)
    if spec.kind == "ed25519":
        if data is None or digest is not None:
            raise errors.DigestMismatch(detail=f"{spec.name} signs data: set data, not digest.")
        signature = key.sign(data)
    else:
        signed = _digest_to_sign(spec, digest, data, digest_crc32c)
        signature = _sign(spec, key, signed)
    return {
        "signature": signature,
        "signatureCrc32c": crc32c(signature),
        "verifiedDigestCrc32c": digest_crc32c is not None and digest is not None,
        "verifiedDataCrc32c": data_crc32c is not None and data is not None,
        "name": version.name,
        "protectionLevel": version.protection_level,
    }


def _digest_to_sign(
    spec: Algorithm, digest: dict[str, bytes] | None, data: bytes | None, digest_crc32c: int | None
) -> bytes:
    if (digest is None) == (data is None):
        raise errors.DigestMismatch(detail="Exactly one of digest and data must be set.")
    if data is not None:
        hasher = hashes.Hash(spec.hash_algorithm())
        hasher.update(data)
        return hasher.finalize()
    assert digest is not None
    kinds = [k for k, v in digest.items() if v]
    if kinds != [spec.hash]:
        raise errors.DigestMismatch(
            detail=f"The digest type {', '.join(kinds) or 'none'} does not match algorithm {spec.name}, "
            f"which requires digest.{spec.hash}."
        )
    value = digest[spec.hash]
    size = spec.hash_algorithm().digest_size
    if len(value) != size:
        raise errors.DigestMismatch(detail=f"digest.{spec.hash} must be {size} bytes, got {len(value)}.")
    verify_checksum("digest", value, digest_crc32c)
    return value


def _sign(spec: Algorithm, key: Any, digest: bytes) -> bytes:
    prehashed = utils.Prehashed(spec.hash_algorithm())
    if spec.kind == "ec":
        return key.sign(digest, ec.ECDSA(prehashed))
    if spec.kind == "rsa_pss":
        pss = padding.PSS(mgf=padding.MGF1(spec.hash_algorithm()), salt_length=len(digest))
        return key.sign(digest, pss, prehashed)
    return key.sign(digest, padding.PKCS1v15(), prehashed)


def asymmetric_decrypt(
    backend: KmsBackend, name: str, ciphertext: bytes, ciphertext_crc32c: int | None = None
) -> dict[str, Any]:
    """Open an RSA-OAEP ciphertext made with the version's public key."""
    verify_checksum("ciphertext", ciphertext, ciphertext_crc32c)
    version = backend.usable_version(name, ASYMMETRIC_DECRYPT)
    spec = ALGORITHMS[version.algorithm]
    key: rsa.RSAPrivateKey = _private_key(version.material)
    oaep = padding.OAEP(mgf=padding.MGF1(spec.hash_algorithm()), algorithm=spec.hash_algorithm(), label=None)
    try:
        plaintext = key.decrypt(ciphertext, oaep)
    except (ValueError, UnsupportedAlgorithm):
        raise errors.AsymmetricDecryptionFailed() from None
    return {
        "plaintext": plaintext,
        "plaintextCrc32c": crc32c(plaintext),
        "verifiedCiphertextCrc32c": ciphertext_crc32c is not None,
        "protectionLevel": version.protection_level,
    }


def get_public_key(backend: KmsBackend, name: str, public_key_format: str | None = None) -> dict[str, Any]:
    """The version's public key as PEM (``pem`` + ``pemCrc32c``); with ``publicKeyFormat`` PEM or
    DER also in ``publicKey`` as checksummed data, as the v1 API added for its newer algorithms."""
    if public_key_format not in (None, "PUBLIC_KEY_FORMAT_UNSPECIFIED", *PUBLIC_KEY_FORMATS):
        raise errors.UnsupportedVersionTemplate(field="public_key_format", value=public_key_format)
    version = backend.usable_version(name, ASYMMETRIC_SIGN, ASYMMETRIC_DECRYPT)
    public = _private_key(version.material).public_key()
    info = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = public.public_bytes(serialization.Encoding.PEM, info).decode("ascii")
    result: dict[str, Any] = {
        "pem": pem,
        "algorithm": version.algorithm,
        "pemCrc32c": crc32c(pem.encode("ascii")),
        "name": version.name,
        "protectionLevel": version.protection_level,
    }
    if public_key_format in PUBLIC_KEY_FORMATS:
        data = (
            pem.encode("ascii")
            if public_key_format == "PEM"
            else public.public_bytes(serialization.Encoding.DER, info)
        )
        result["publicKey"] = {"data": data, "crc32cChecksum": crc32c(data)}
        result["publicKeyFormat"] = public_key_format
    return result


__all__ = ["asymmetric_decrypt", "asymmetric_sign", "get_public_key"]
