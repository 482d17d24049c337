"""The REST rows for Cloud KMS's key types beyond symmetric, added to ``fakes.kms.rest``'s table.

asymmetricSign, asymmetricDecrypt, getPublicKey, macSign, macVerify (on CryptoKeyVersions),
UpdateCryptoKey (PATCH on a CryptoKey) and generateRandomBytes (on a Location). Each handler only
decodes the proto3 JSON request (``fakes.kms.protojson``) and calls the module that does the work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fakes.kms import asymmetric, imports, key_update, locations, mac
from fakes.kms.exceptions import InvalidJsonValue, UnsupportedVersionTemplate
from fakes.kms.models import KmsBackend
from fakes.kms.protojson import (
    CRYPTO_KEY_VERSION_ALGORITHM,
    IMPORT_METHOD,
    PROTECTION_LEVEL,
    PUBLIC_KEY_FORMAT,
    bytes_field,
    duration_field,
    enum_field,
    field,
    int64_field,
    timestamp_field,
)


class _Call(Protocol):
    """One request as ``fakes.kms.rest`` hands it to a handler (a protocol: no import circle)."""

    name: str
    params: Mapping[str, str]
    body: Mapping[str, Any]


Row = tuple[str, str, str, Callable[[_Call], Any]]
_DIGESTS = ("sha256", "sha384", "sha512")


def _digest(body: Mapping[str, Any]) -> dict[str, bytes] | None:
    digest = _message(field(body, "digest"), "digest")
    if digest is None:
        return None
    return {k: bytes_field(digest, k, f"digest.{k}") for k in _DIGESTS if field(digest, k) is not None}


def _message(value: Any, proto_name: str) -> Mapping[str, Any] | None:
    """A nested message field: a JSON object or absent (anything else is Google's parsing error)."""
    if value is None or isinstance(value, Mapping):
        return value
    raise InvalidJsonValue(field=proto_name, kind="TYPE_MESSAGE", detail=json.dumps(value))


def _optional_bytes(body: Mapping[str, Any], camel: str, proto_name: str) -> bytes | None:
    return None if field(body, camel) is None else bytes_field(body, camel, proto_name)


def routes(
    backend: KmsBackend,
    patterns: tuple[str, str, str, str],
    page: Callable[[list[dict[str, Any]], str, Any], Any],
) -> list[Row]:
    """(HTTP method, name pattern, verb, handler) rows, given ``rest``'s resource-name patterns
    (location, key ring, crypto key, version) and its list pagination."""
    location, key_ring, crypto_key, version = patterns

    def sign(call: _Call) -> Any:
        body = call.body
        return asymmetric.asymmetric_sign(
            backend,
            call.name,
            _digest(body),
            _optional_bytes(body, "data", "data"),
            digest_crc32c=int64_field(body, "digestCrc32c", "digest_crc32c"),
            data_crc32c=int64_field(body, "dataCrc32c", "data_crc32c"),
        )

    def decrypt(call: _Call) -> Any:
        return asymmetric.asymmetric_decrypt(
            backend,
            call.name,
            bytes_field(call.body, "ciphertext", "ciphertext"),
            int64_field(call.body, "ciphertextCrc32c", "ciphertext_crc32c"),
        )

    def public_key(call: _Call) -> Any:
        raw = call.params.get("publicKeyFormat")
        fmt = enum_field(
            int(raw) if raw is not None and raw.isdigit() else raw,  # query strings carry numbers as text
            PUBLIC_KEY_FORMAT,
            "public_key_format",
            "google.cloud.kms.v1.PublicKey.PublicKeyFormat",
        )
        return asymmetric.get_public_key(backend, call.name.removesuffix("/publicKey"), fmt)

    def mac_sign(call: _Call) -> Any:
        return mac.mac_sign(
            backend,
            call.name,
            bytes_field(call.body, "data", "data"),
            int64_field(call.body, "dataCrc32c", "data_crc32c"),
        )

    def mac_verify(call: _Call) -> Any:
        return mac.mac_verify(
            backend,
            call.name,
            bytes_field(call.body, "data", "data"),
            bytes_field(call.body, "mac", "mac"),
            data_crc32c=int64_field(call.body, "dataCrc32c", "data_crc32c"),
            mac_crc32c=int64_field(call.body, "macCrc32c", "mac_crc32c"),
        )

    def update_key(call: _Call) -> Any:
        paths = key_update.mask_paths(call.params.get("updateMask", ""))
        body = call.body
        parsers: dict[str, Callable[[], Any]] = {
            "labels": lambda: _labels(body.get("labels")),
            "rotation_period": lambda: duration_field(
                field(body, "rotationPeriod"), "crypto_key.rotation_period"
            ),
            "next_rotation_time": lambda: timestamp_field(
                field(body, "nextRotationTime"), "crypto_key.next_rotation_time"
            ),
            "version_template.algorithm": lambda: enum_field(
                (_message(field(body, "versionTemplate"), "crypto_key.version_template") or {}).get(
                    "algorithm"
                ),
                CRYPTO_KEY_VERSION_ALGORITHM,
                "crypto_key.version_template.algorithm",
                "google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm",
            ),
        }
        return key_update.update_crypto_key(backend, call.name, {p: parsers[p]() for p in paths})

    def random_bytes(call: _Call) -> Any:
        length = int64_field(call.body, "lengthBytes", "length_bytes") or 0
        protection = enum_field(
            field(call.body, "protectionLevel"),
            PROTECTION_LEVEL,
            "protection_level",
            "google.cloud.kms.v1.ProtectionLevel",
        )
        return locations.generate_random_bytes(backend, call.name, length, protection)

    def create_import_job(call: _Call) -> Any:
        parent = call.name.removesuffix("/importJobs")
        method = enum_field(
            field(call.body, "importMethod"),
            IMPORT_METHOD,
            "import_job.import_method",
            "google.cloud.kms.v1.ImportJob.ImportMethod",
        )
        protection = enum_field(
            field(call.body, "protectionLevel"),
            PROTECTION_LEVEL,
            "import_job.protection_level",
            "google.cloud.kms.v1.ProtectionLevel",
        )
        job_id = call.params.get("importJobId", "")
        return imports.create_import_job(backend, parent, job_id, method, protection)

    def import_version(call: _Call) -> Any:
        body = call.body
        if field(body, "cryptoKeyVersion"):
            raise UnsupportedVersionTemplate(
                field="crypto_key_version (re-import)", value=body["cryptoKeyVersion"]
            )
        algorithm = enum_field(
            field(body, "algorithm"),
            CRYPTO_KEY_VERSION_ALGORITHM,
            "algorithm",
            "google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm",
        )
        wrapped = _optional_bytes(body, "rsaAesWrappedKey", "rsa_aes_wrapped_key")
        if wrapped is None:
            wrapped = bytes_field(body, "wrappedKey", "wrapped_key")
        return imports.import_crypto_key_version(
            backend,
            call.name.removesuffix("/cryptoKeyVersions"),
            algorithm,
            str(field(body, "importJob") or ""),
            wrapped,
        )

    def list_import_jobs(call: _Call) -> Any:
        jobs = imports.list_import_jobs(backend, call.name.removesuffix("/importJobs"))
        return page(jobs, "importJobs", call)

    return [
        ("POST", key_ring + "/importJobs", "", create_import_job),
        ("GET", key_ring + "/importJobs", "", list_import_jobs),
        ("GET", key_ring + "/importJobs/[^/:]+", "", lambda c: imports.get_import_job(backend, c.name)),
        ("POST", crypto_key + "/cryptoKeyVersions", "import", import_version),
        ("POST", version, "asymmetricSign", sign),
        ("POST", version, "asymmetricDecrypt", decrypt),
        ("GET", version + "/publicKey", "", public_key),
        ("POST", version, "macSign", mac_sign),
        ("POST", version, "macVerify", mac_verify),
        ("PATCH", crypto_key, "", update_key),
        ("POST", location, "generateRandomBytes", random_bytes),
    ]


def create_fields(body: Mapping[str, Any], algorithm: str | None, protection: str | None) -> dict[str, Any]:
    """CreateCryptoKey's version template (the model checks it) and rotation schedule."""
    fields: dict[str, Any] = {
        "algorithm": None if algorithm == "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED" else algorithm,
        "protection_level": None if protection == "PROTECTION_LEVEL_UNSPECIFIED" else protection,
    }
    period = duration_field(field(body, "rotationPeriod"), "crypto_key.rotation_period")
    next_time = timestamp_field(field(body, "nextRotationTime"), "crypto_key.next_rotation_time")
    if period is not None:
        fields["rotation_period"] = period
    if next_time is not None:
        fields["next_rotation_time"] = next_time
    if field(body, "importOnly"):
        fields["import_only"] = True
    return fields


def _labels(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidJsonValue(field="crypto_key.labels", kind="TYPE_MESSAGE", detail=json.dumps(value))
    return value


__all__ = ["create_fields", "routes"]
