"""Which key purposes, algorithms and protection levels the KMS model has, and their key material.

Kept apart from the keyring model because it is the one place that knows what an algorithm *is*:
its purpose, its hash and key size, and how its material is made. A version's material is bytes:
the AES or HMAC key itself, or the private key as PKCS#8 DER for the asymmetric algorithms.

HSM keys behave like SOFTWARE keys here (same algorithms, same material); they are only reported
as HSM. An algorithm or protection level Cloud KMS has but this model does not is refused as
unsupported (a limit of the emulator), never as an invalid value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes

from fakes.kms import exceptions as errors

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
ASYMMETRIC_SIGN = "ASYMMETRIC_SIGN"
ASYMMETRIC_DECRYPT = "ASYMMETRIC_DECRYPT"
MAC = "MAC"
RAW_ENCRYPT_DECRYPT = "RAW_ENCRYPT_DECRYPT"
SYMMETRIC = "GOOGLE_SYMMETRIC_ENCRYPTION"
PROTECTION_LEVELS = ("SOFTWARE", "HSM")


@dataclass(frozen=True)
class Algorithm:
    """One CryptoKeyVersionAlgorithm: ``kind`` picks the primitive, ``hash`` its digest."""

    name: str
    purpose: str
    kind: str  # symmetric | rsa_pss | rsa_pkcs1 | rsa_oaep | ec | ed25519 | hmac | aes_{gcm,cbc,ctr}
    bits: int = 0
    hash: str = ""

    def hash_algorithm(self) -> hashes.HashAlgorithm:
        return _HASHES[self.hash]()


_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _rsa(kind: str, purpose: str, prefix: str, sizes: tuple[tuple[int, str], ...]) -> list[Algorithm]:
    return [
        Algorithm(f"{prefix}_{bits}_{digest.upper()}", purpose, kind, bits, digest) for bits, digest in sizes
    ]


_SIGN_SIZES = ((2048, "sha256"), (3072, "sha256"), (4096, "sha256"), (4096, "sha512"))
_OAEP_SIZES = (*_SIGN_SIZES, (2048, "sha1"), (3072, "sha1"), (4096, "sha1"))
ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in [
        Algorithm(SYMMETRIC, ENCRYPT_DECRYPT, "symmetric"),
        *_rsa("rsa_pss", ASYMMETRIC_SIGN, "RSA_SIGN_PSS", _SIGN_SIZES),
        *_rsa("rsa_pkcs1", ASYMMETRIC_SIGN, "RSA_SIGN_PKCS1", _SIGN_SIZES),
        *_rsa("rsa_oaep", ASYMMETRIC_DECRYPT, "RSA_DECRYPT_OAEP", _OAEP_SIZES),
        Algorithm("EC_SIGN_P256_SHA256", ASYMMETRIC_SIGN, "ec", hash="sha256"),
        Algorithm("EC_SIGN_P384_SHA384", ASYMMETRIC_SIGN, "ec", hash="sha384"),
        Algorithm("EC_SIGN_SECP256K1_SHA256", ASYMMETRIC_SIGN, "ec", hash="sha256"),
        Algorithm("EC_SIGN_ED25519", ASYMMETRIC_SIGN, "ed25519"),
        *(Algorithm(f"HMAC_{h.upper()}", MAC, "hmac", hash=h) for h in _HASHES),
        *(
            Algorithm(f"AES_{bits}_{mode.upper()}", RAW_ENCRYPT_DECRYPT, f"aes_{mode}", bits)
            for mode in ("gcm", "cbc", "ctr")
            for bits in (128, 256)
        ),
    ]
}
PURPOSES = (ENCRYPT_DECRYPT, ASYMMETRIC_SIGN, ASYMMETRIC_DECRYPT, MAC, RAW_ENCRYPT_DECRYPT)


def version_template(purpose: str, algorithm: str | None, protection_level: str | None) -> tuple[str, str]:
    """The (algorithm, protection level) a new key's versions get, as CreateCryptoKey checks them."""
    if purpose not in PURPOSES:
        raise errors.UnsupportedPurpose(purpose=purpose)
    protection = protection_level or "SOFTWARE"
    if protection not in PROTECTION_LEVELS:
        raise errors.UnsupportedVersionTemplate(field="protection_level", value=protection)
    if algorithm is None:
        if purpose != ENCRYPT_DECRYPT:
            raise errors.AlgorithmRequired(purpose=purpose)
        algorithm = SYMMETRIC
    spec = ALGORITHMS.get(algorithm)
    if spec is None:
        raise errors.UnsupportedVersionTemplate(field="algorithm", value=algorithm)
    if spec.purpose != purpose:
        raise errors.AlgorithmPurposeMismatch(algorithm=algorithm, purpose=purpose)
    return algorithm, protection


def curve(algorithm: str) -> ec.EllipticCurve:
    """The curve of an EC_SIGN_* algorithm."""
    return _curves()[algorithm][0]


@cache
def _curves() -> dict[str, tuple[ec.EllipticCurve, int]]:
    """Each EC_SIGN_* algorithm's curve and the curve's order. Built on first use, with the
    asymmetric primitives: a run that only encrypts (the symmetric keys) never loads them."""
    from cryptography.hazmat.primitives.asymmetric import ec

    p384 = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973"
    return {
        "EC_SIGN_P256_SHA256": (
            ec.SECP256R1(),
            0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        ),
        "EC_SIGN_P384_SHA384": (ec.SECP384R1(), int(p384, 16)),
        "EC_SIGN_SECP256K1_SHA256": (
            ec.SECP256K1(),
            0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
        ),
    }


def material(algorithm: str, derive: Callable[[int], bytes]) -> bytes:
    """New key material; ``derive(n)`` gives n bytes (seeded or random), RSA keys are always random."""
    spec = ALGORITHMS[algorithm]
    if spec.kind == "symmetric":
        return derive(32)
    if spec.kind == "hmac":
        return derive(spec.hash_algorithm().digest_size)
    if spec.kind.startswith("aes_"):
        return derive(spec.bits // 8)  # the raw AES key (fakes.kms.raw)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if spec.kind == "ed25519":
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
        key = ed25519.Ed25519PrivateKey.from_private_bytes(derive(32))
    elif spec.kind == "ec":
        curve, order = _curves()[algorithm]
        key = ec.derive_private_key(int.from_bytes(derive(64)) % (order - 1) + 1, curve)
    else:
        # RSA primes cannot be drawn from a seed with `cryptography`: RSA keys differ between runs.
        key = rsa.generate_private_key(public_exponent=65537, key_size=spec.bits)
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
