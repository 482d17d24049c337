"""Proto3 JSON as Google's REST endpoints speak it for Cloud KMS: enum numbers, and encoding and
decoding the model's values.

Kept apart from the routes (``rest``) because it is the one place that knows the wire encoding:
``bytes`` are base64 (standard or URL-safe alphabet), ``int64`` (the ``*Crc32c`` wrappers) are
strings, timestamps are RFC 3339 UTC, durations are ``"<seconds>s"``, enums are names or (with
``$alt=json;enum-encoding=int``) their proto numbers. A value the parser refuses raises
:class:`~fakes.kms.exceptions.InvalidJsonValue`, Google's JSON-parsing error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fakes.kms.exceptions import InvalidJsonValue

# ----------------------------------------------------------------------------------- enums
# Proto numbers from google/cloud/kms/v1/resources.proto (checked against google.cloud.kms_v1 in
# tests/test_kms_rest.py; the emulator itself does not import the client library).
CRYPTO_KEY_VERSION_STATE = {
    "CRYPTO_KEY_VERSION_STATE_UNSPECIFIED": 0,
    "PENDING_GENERATION": 5,
    "ENABLED": 1,
    "DISABLED": 2,
    "DESTROYED": 3,
    "DESTROY_SCHEDULED": 4,
    "PENDING_IMPORT": 6,
    "IMPORT_FAILED": 7,
    "GENERATION_FAILED": 8,
    "PENDING_EXTERNAL_DESTRUCTION": 9,
    "EXTERNAL_DESTRUCTION_FAILED": 10,
}
PROTECTION_LEVEL = {
    "PROTECTION_LEVEL_UNSPECIFIED": 0,
    "SOFTWARE": 1,
    "HSM": 2,
    "EXTERNAL": 3,
    "EXTERNAL_VPC": 4,
    "HSM_SINGLE_TENANT": 5,
}
CRYPTO_KEY_PURPOSE = {
    "CRYPTO_KEY_PURPOSE_UNSPECIFIED": 0,
    "ENCRYPT_DECRYPT": 1,
    "ASYMMETRIC_SIGN": 5,
    "ASYMMETRIC_DECRYPT": 6,
    "RAW_ENCRYPT_DECRYPT": 7,
    "MAC": 9,
}
CRYPTO_KEY_VERSION_ALGORITHM = {
    "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED": 0,
    "GOOGLE_SYMMETRIC_ENCRYPTION": 1,
    "AES_128_GCM": 41,
    "AES_256_GCM": 19,
    "AES_128_CBC": 42,
    "AES_256_CBC": 43,
    "AES_128_CTR": 44,
    "AES_256_CTR": 45,
    "RSA_SIGN_PSS_2048_SHA256": 2,
    "RSA_SIGN_PSS_3072_SHA256": 3,
    "RSA_SIGN_PSS_4096_SHA256": 4,
    "RSA_SIGN_PSS_4096_SHA512": 15,
    "RSA_SIGN_PKCS1_2048_SHA256": 5,
    "RSA_SIGN_PKCS1_3072_SHA256": 6,
    "RSA_SIGN_PKCS1_4096_SHA256": 7,
    "RSA_SIGN_PKCS1_4096_SHA512": 16,
    "RSA_SIGN_RAW_PKCS1_2048": 28,
    "RSA_SIGN_RAW_PKCS1_3072": 29,
    "RSA_SIGN_RAW_PKCS1_4096": 30,
    "RSA_DECRYPT_OAEP_2048_SHA256": 8,
    "RSA_DECRYPT_OAEP_3072_SHA256": 9,
    "RSA_DECRYPT_OAEP_4096_SHA256": 10,
    "RSA_DECRYPT_OAEP_4096_SHA512": 17,
    "RSA_DECRYPT_OAEP_2048_SHA1": 37,
    "RSA_DECRYPT_OAEP_3072_SHA1": 38,
    "RSA_DECRYPT_OAEP_4096_SHA1": 39,
    "EC_SIGN_P256_SHA256": 12,
    "EC_SIGN_P384_SHA384": 13,
    "EC_SIGN_SECP256K1_SHA256": 31,
    "EC_SIGN_ED25519": 40,
    "HMAC_SHA256": 32,
    "HMAC_SHA1": 33,
    "HMAC_SHA384": 34,
    "HMAC_SHA512": 35,
    "HMAC_SHA224": 36,
    "EXTERNAL_SYMMETRIC_ENCRYPTION": 18,
    "ML_KEM_768": 47,
    "ML_KEM_1024": 48,
    "KEM_XWING": 63,
    "PQ_SIGN_ML_DSA_44": 68,
    "PQ_SIGN_ML_DSA_65": 56,
    "PQ_SIGN_ML_DSA_87": 69,
    "PQ_SIGN_SLH_DSA_SHA2_128S": 57,
    "PQ_SIGN_HASH_SLH_DSA_SHA2_128S_SHA256": 60,
    "PQ_SIGN_ML_DSA_44_EXTERNAL_MU": 70,
    "PQ_SIGN_ML_DSA_65_EXTERNAL_MU": 67,
    "PQ_SIGN_ML_DSA_87_EXTERNAL_MU": 71,
}
"""Every algorithm of the discovery document: the model supports those in ``fakes.kms.algorithms``
and refuses the others as unsupported (never as an invalid enum value)."""
PUBLIC_KEY_FORMAT = {
    "PUBLIC_KEY_FORMAT_UNSPECIFIED": 0,
    "PEM": 1,
    "DER": 2,
    "NIST_PQC": 3,
    "XWING_RAW_BYTES": 4,
}

IMPORT_METHOD = {
    "IMPORT_METHOD_UNSPECIFIED": 0,
    "RSA_OAEP_3072_SHA1_AES_256": 1,
    "RSA_OAEP_4096_SHA1_AES_256": 2,
    "RSA_OAEP_3072_SHA256_AES_256": 3,
    "RSA_OAEP_4096_SHA256_AES_256": 4,
    "RSA_OAEP_3072_SHA256": 5,
    "RSA_OAEP_4096_SHA256": 6,
}
IMPORT_JOB_STATE = {"IMPORT_JOB_STATE_UNSPECIFIED": 0, "PENDING_GENERATION": 1, "ACTIVE": 2, "EXPIRED": 3}

_ENUM_FIELDS: dict[str, dict[str, int]] = {
    "state": CRYPTO_KEY_VERSION_STATE,
    "protectionLevel": PROTECTION_LEVEL,
    "purpose": CRYPTO_KEY_PURPOSE,
    "algorithm": CRYPTO_KEY_VERSION_ALGORITHM,
    "publicKeyFormat": PUBLIC_KEY_FORMAT,
    "importMethod": IMPORT_METHOD,
}

_INT32_FIELDS = {"totalSize", "tagLength", "version"}


def _invalid(proto_name: str, kind: str, detail: str) -> InvalidJsonValue:
    return InvalidJsonValue(field=proto_name, kind=kind, detail=detail)


# ---------------------------------------------------------------------------- JSON encoding
def _timestamp(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def _duration(delta: timedelta) -> str:
    micros = delta // timedelta(microseconds=1)
    seconds, rest = divmod(micros, 1_000_000)
    return f"{seconds}.{rest:06d}s" if rest else f"{seconds}s"


def to_json(value: Any, *, int_enums: bool, key: str | None = None) -> Any:
    """A model value (dict with camelCase keys and Python values) as proto3 JSON."""
    if isinstance(value, Mapping):
        return {k: to_json(v, int_enums=int_enums, key=k) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v, int_enums=int_enums) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, int):
        # int32 fields are JSON numbers; every other int is an int64 (the *Crc32c wrappers): a string
        return value if key in _INT32_FIELDS else str(value)
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, str) and key in _ENUM_FIELDS:
        if not int_enums:
            return value
        return _ENUM_FIELDS[key].get(value, IMPORT_JOB_STATE.get(value, value) if key == "state" else value)
    return value


# ---------------------------------------------------------------------------- JSON decoding
def field(body: Mapping[str, Any], camel: str) -> Any:
    """proto3 JSON parsers accept the lowerCamel name and the original snake_case one."""
    if camel in body:
        return body[camel]
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)
    return body.get(snake)


def bytes_field(body: Mapping[str, Any], camel: str, proto_name: str) -> bytes:
    value = field(body, camel)
    if value is None:
        return b""
    if not isinstance(value, str):
        raise _invalid(proto_name, "TYPE_BYTES", json.dumps(value))
    text = value.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(proto_name, "TYPE_BYTES", f'Base64 decoding failed for "{value}"') from None


def int64_field(body: Mapping[str, Any], camel: str, proto_name: str) -> int | None:
    value = field(body, camel)
    if value is None:
        return None
    if isinstance(value, Mapping):  # a wrapper written as {"value": ...}
        value = value.get("value", 0)
    if isinstance(value, bool):
        raise _invalid(proto_name, "TYPE_INT64", f"{json.dumps(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise _invalid(proto_name, "TYPE_INT64", f"{json.dumps(value)}")


def enum_field(value: Any, table: Mapping[str, int], proto_name: str, enum_name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in table:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        for name, number in table.items():
            if number == value:
                return name
    raise _invalid(
        proto_name, "TYPE_ENUM", f'Invalid value for enum type: "{enum_name}": {json.dumps(value)}'
    )


def duration_field(value: Any, proto_name: str) -> timedelta | None:
    if value is None:
        return None
    match = re.fullmatch(r"(-?\d+)(?:\.(\d{1,9}))?s", value) if isinstance(value, str) else None
    if match is None:
        raise _invalid(proto_name, "TYPE_MESSAGE", "Illegal duration format; duration must end with 's'")
    fraction = (match.group(2) or "").ljust(9, "0")
    return timedelta(seconds=int(match.group(1)), microseconds=int(fraction) // 1000)


def timestamp_field(value: Any, proto_name: str) -> datetime | None:
    """An RFC 3339 timestamp (``Z`` or an offset, up to nanoseconds) as an aware datetime."""
    if value is None:
        return None
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", str(value))
    if match is None:
        raise _invalid(proto_name, "TYPE_MESSAGE", f"Invalid time format: {json.dumps(value)}")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    moment = datetime.fromisoformat(match.group(1) + zone)
    return moment.replace(microsecond=int((match.group(2) or "").ljust(9, "0")) // 1000).astimezone(UTC)
