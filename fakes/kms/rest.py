"""The Cloud KMS REST v1 emulator: a FastAPI face on the same :class:`KmsBackend` as the fake.

It speaks what ``google-cloud-kms``'s REST transport sends and expects, so the real client (and the
adapter built on it) runs unchanged against it::

    KeyManagementServiceClient(transport="rest", credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": "http://127.0.0.1:PORT"})

Wire format (proto3 JSON, as Google's REST endpoints use it):

* requests carry ``$alt=json;enum-encoding=int``: enums are then answered as integers (their proto
  numbers), otherwise as names; in requests both are accepted;
* ``bytes`` are base64 (standard or URL-safe alphabet), ``int64`` (the ``*Crc32c`` wrappers) are
  strings, timestamps are RFC 3339 UTC, durations are ``"<seconds>s"``;
* errors are Google's JSON error body ``{"error": {"code", "message", "status"}}``, with the model's
  HTTP status, canonical code and message (``FAILED_PRECONDITION`` is HTTP 400, as in Google's
  mapping, so the Python REST client raises ``BadRequest`` for it; the canonical code is in
  ``error.status``).

The routes are one catch-all under ``/v1/`` dispatched on the resource-name shape and the
``:verb`` suffix, since Cloud KMS's custom methods (``...cryptoKeys/k:encrypt``) do not fit
path-parameter routing. A path or verb the emulator does not serve (including Cloud KMS methods
the model lacks, e.g. ``:asymmetricSign``) answers 404 ``NOT_FOUND`` in the same error format.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fakes.kms.models import KmsBackend
from harness.ports import KeyManagerError

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
}
"""Only the algorithm the model has; other numbers are passed through as numbers."""

_ENUM_FIELDS: dict[str, dict[str, int]] = {
    "state": CRYPTO_KEY_VERSION_STATE,
    "protectionLevel": PROTECTION_LEVEL,
    "purpose": CRYPTO_KEY_PURPOSE,
    "algorithm": CRYPTO_KEY_VERSION_ALGORITHM,
}

_INT32_FIELDS = {"totalSize"}

# ----------------------------------------------------------------------------------- names
_LOCATION = r"projects/[^/:]+/locations/[^/:]+"
_KEY_RING = _LOCATION + r"/keyRings/[^/:]+"
_CRYPTO_KEY = _KEY_RING + r"/cryptoKeys/[^/:]+"
_VERSION = _CRYPTO_KEY + r"/cryptoKeyVersions/[^/:]+"


class RestError(KeyManagerError):
    """An error of the REST layer itself (bad JSON, bad field value, unknown method)."""


def _invalid_value(field: str, kind: str, detail: str) -> RestError:
    # Google's JSON-parsing error shape, e.g. `Invalid value at 'plaintext' (TYPE_BYTES), Base64
    # decoding failed for "..."` (seen in public issue threads for several Google REST APIs).
    return RestError(f"Invalid value at '{field}' ({kind}), {detail}")


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
        return _ENUM_FIELDS[key].get(value, value) if int_enums else value
    return value


# ---------------------------------------------------------------------------- JSON decoding
def _field(body: Mapping[str, Any], camel: str) -> Any:
    """proto3 JSON parsers accept the lowerCamel name and the original snake_case one."""
    if camel in body:
        return body[camel]
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)
    return body.get(snake)


def _bytes_field(body: Mapping[str, Any], camel: str, proto_name: str) -> bytes:
    value = _field(body, camel)
    if value is None:
        return b""
    if not isinstance(value, str):
        raise _invalid_value(proto_name, "TYPE_BYTES", json.dumps(value))
    text = value.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid_value(proto_name, "TYPE_BYTES", f'Base64 decoding failed for "{value}"') from None


def _int64_field(body: Mapping[str, Any], camel: str, proto_name: str) -> int | None:
    value = _field(body, camel)
    if value is None:
        return None
    if isinstance(value, Mapping):  # a wrapper written as {"value": ...}
        value = value.get("value", 0)
    if isinstance(value, bool):
        raise _invalid_value(proto_name, "TYPE_INT64", f"{json.dumps(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise _invalid_value(proto_name, "TYPE_INT64", f"{json.dumps(value)}")


def _enum_field(value: Any, table: Mapping[str, int], proto_name: str, enum_name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in table:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        for name, number in table.items():
            if number == value:
                return name
    raise _invalid_value(
        proto_name, "TYPE_ENUM", f'Invalid value for enum type: "{enum_name}": {json.dumps(value)}'
    )


def _duration_field(value: Any, proto_name: str) -> timedelta | None:
    if value is None:
        return None
    match = re.fullmatch(r"(-?\d+)(?:\.(\d{1,9}))?s", value) if isinstance(value, str) else None
    if match is None:
        raise _invalid_value(
            proto_name, "TYPE_MESSAGE", "Illegal duration format; duration must end with 's'"
        )
    fraction = (match.group(2) or "").ljust(9, "0")
    return timedelta(seconds=int(match.group(1)), microseconds=int(fraction) // 1000)


# ---------------------------------------------------------------------------------- routing
Handler = Callable[["_Call"], Any]


class _Call:
    """One request: the resource name, query parameters and JSON body."""

    def __init__(self, name: str, params: Mapping[str, str], body: Mapping[str, Any]) -> None:
        self.name = name
        self.params = params
        self.body = body


def _page(items: list[dict[str, Any]], key: str, call: _Call) -> dict[str, Any]:
    """ListXxxResponse: ``pageSize`` / ``pageToken`` (an offset), ``totalSize``."""
    try:
        size = int(call.params.get("pageSize") or 0)
        start = int(call.params.get("pageToken") or 0)
    except ValueError:
        raise RestError("Invalid page token or page size.") from None  # not confirmed: our wording
    if size < 0 or start < 0:
        raise RestError("Invalid page token or page size.")
    size = size or 1000
    chunk = items[start : start + size]
    response: dict[str, Any] = {}
    if chunk:
        response[key] = chunk
    if start + size < len(items):
        response["nextPageToken"] = str(start + size)
    response["totalSize"] = len(items)
    return response


def _routes(backend: KmsBackend) -> list[tuple[str, str, str, Handler]]:
    """(HTTP method, name pattern, verb, handler); the pattern is matched against the URL path."""

    def create_key_ring(call: _Call) -> Any:
        return backend.create_key_ring(call.name, call.params.get("keyRingId", ""))

    def create_crypto_key(call: _Call) -> Any:
        purpose = _enum_field(
            call.body.get("purpose"),
            CRYPTO_KEY_PURPOSE,
            "crypto_key.purpose",
            "google.cloud.kms.v1.CryptoKey.CryptoKeyPurpose",
        )
        template = _field(call.body, "versionTemplate") or {}
        algorithm = _enum_field(
            template.get("algorithm"),
            CRYPTO_KEY_VERSION_ALGORITHM,
            "crypto_key.version_template.algorithm",
            "google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm",
        )
        protection = _enum_field(
            _field(template, "protectionLevel"),
            PROTECTION_LEVEL,
            "crypto_key.version_template.protection_level",
            "google.cloud.kms.v1.ProtectionLevel",
        )
        if algorithm not in (None, "GOOGLE_SYMMETRIC_ENCRYPTION") or protection not in (None, "SOFTWARE"):
            raise RestError(  # a limit of the emulator, not a Cloud KMS error
                "The CloudAct KMS emulator supports only SOFTWARE GOOGLE_SYMMETRIC_ENCRYPTION versions."
            )
        kwargs: dict[str, Any] = {"labels": call.body.get("labels") or {}}
        if purpose not in (None, "CRYPTO_KEY_PURPOSE_UNSPECIFIED"):
            kwargs["purpose"] = purpose
        duration = _duration_field(
            _field(call.body, "destroyScheduledDuration"), "crypto_key.destroy_scheduled_duration"
        )
        if duration is not None:
            kwargs["destroy_scheduled_duration"] = duration
        skip = call.params.get("skipInitialVersionCreation", "false").lower() == "true"
        return backend.create_crypto_key(
            call.name, call.params.get("cryptoKeyId", ""), skip_initial_version=skip, **kwargs
        )

    def update_version(call: _Call) -> Any:
        mask = [p.strip() for p in call.params.get("updateMask", "").split(",") if p.strip()]
        if not mask:
            # Not confirmed: our wording for a missing update mask.
            raise RestError("The request must specify update_mask.")
        unsupported = [p for p in mask if p != "state"]
        if unsupported:
            # Not confirmed: our wording; only `state` is updatable in the model.
            raise RestError(f"Invalid update_mask paths: {', '.join(unsupported)}.")
        state = _enum_field(
            call.body.get("state"),
            CRYPTO_KEY_VERSION_STATE,
            "crypto_key_version.state",
            "google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionState",
        )
        return backend.update_version_state(call.name, state or "CRYPTO_KEY_VERSION_STATE_UNSPECIFIED")

    def update_primary(call: _Call) -> Any:
        return backend.update_primary_version(call.name, str(_field(call.body, "cryptoKeyVersionId") or ""))

    def encrypt(call: _Call) -> Any:
        return backend.encrypt(
            call.name,
            _bytes_field(call.body, "plaintext", "plaintext"),
            _bytes_field(call.body, "additionalAuthenticatedData", "additional_authenticated_data"),
            plaintext_crc32c=_int64_field(call.body, "plaintextCrc32c", "plaintext_crc32c"),
            aad_crc32c=_int64_field(
                call.body, "additionalAuthenticatedDataCrc32c", "additional_authenticated_data_crc32c"
            ),
        )

    def decrypt(call: _Call) -> Any:
        return backend.decrypt(
            call.name,
            _bytes_field(call.body, "ciphertext", "ciphertext"),
            _bytes_field(call.body, "additionalAuthenticatedData", "additional_authenticated_data"),
            ciphertext_crc32c=_int64_field(call.body, "ciphertextCrc32c", "ciphertext_crc32c"),
            aad_crc32c=_int64_field(
                call.body, "additionalAuthenticatedDataCrc32c", "additional_authenticated_data_crc32c"
            ),
        )

    return [
        ("POST", _LOCATION + "/keyRings", "", lambda c: create_key_ring(_parent(c))),
        (
            "GET",
            _LOCATION + "/keyRings",
            "",
            lambda c: _page(backend.list_key_rings(_parent(c).name), "keyRings", c),
        ),
        ("GET", _KEY_RING, "", lambda c: backend.get_key_ring(c.name)),
        ("POST", _KEY_RING + "/cryptoKeys", "", lambda c: create_crypto_key(_parent(c))),
        (
            "GET",
            _KEY_RING + "/cryptoKeys",
            "",
            lambda c: _page(backend.list_crypto_keys(_parent(c).name), "cryptoKeys", c),
        ),
        ("GET", _CRYPTO_KEY, "", lambda c: backend.get_crypto_key(c.name)),
        (
            "POST",
            _CRYPTO_KEY + "/cryptoKeyVersions",
            "",
            lambda c: backend.create_crypto_key_version(_parent(c).name),
        ),
        (
            "GET",
            _CRYPTO_KEY + "/cryptoKeyVersions",
            "",
            lambda c: _page(backend.list_crypto_key_versions(_parent(c).name), "cryptoKeyVersions", c),
        ),
        ("GET", _VERSION, "", lambda c: backend.get_crypto_key_version(c.name)),
        ("PATCH", _VERSION, "", update_version),
        ("POST", _VERSION, "destroy", lambda c: backend.destroy_version(c.name)),
        ("POST", _VERSION, "restore", lambda c: backend.restore_version(c.name)),
        ("POST", _CRYPTO_KEY, "updatePrimaryVersion", update_primary),
        ("POST", _CRYPTO_KEY, "encrypt", encrypt),
        ("POST", _VERSION, "encrypt", encrypt),
        ("POST", _CRYPTO_KEY, "decrypt", decrypt),
    ]


def _parent(call: _Call) -> _Call:
    """For collection URLs (``.../keyRings``): the parent is the path without the collection."""
    return _Call(call.name.rpartition("/")[0], call.params, call.body)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "status": code}}, status_code=status)


def create_app(backend: KmsBackend) -> FastAPI:
    """The Cloud KMS REST v1 app over ``backend``."""
    app = FastAPI(title="CloudAct Cloud KMS emulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.backend = backend
    routes = [(m, re.compile(p), verb, h) for m, p, verb, h in _routes(backend)]

    def dispatch(method: str, path: str, params: Mapping[str, str], raw: bytes) -> JSONResponse:
        name, _, verb = path.partition(":")
        known = [r for r in routes if r[1].fullmatch(name) and r[2] == verb]
        if not known:
            return _error(404, "NOT_FOUND", f"The CloudAct KMS emulator has no method at /v1/{path}.")
        handler = next((h for m, _, _, h in known if m == method), None)
        if handler is None:
            # Google's front end answers an HTTP method a path does not have like an unknown path.
            return _error(
                404, "NOT_FOUND", f"The CloudAct KMS emulator has no {method} method at /v1/{path}."
            )
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, "INVALID_ARGUMENT", f"Invalid JSON payload received. {exc}")
        if not isinstance(body, dict):
            return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object.")
        try:
            result = handler(_Call(name, params, body))
        except KeyManagerError as exc:
            return _error(exc.status, exc.code, exc.message)
        alt = params.get("$alt", "")
        return JSONResponse(to_json(result, int_enums="enum-encoding=int" in alt))

    async def endpoint(request: Request, path: str) -> JSONResponse:
        raw = await request.body()
        # The backend is synchronous and holds a lock; run it off the event loop.
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(dispatch, request.method, path, dict(request.query_params), raw)

    app.add_api_route("/v1/{path:path}", endpoint, methods=["GET", "POST", "PATCH", "DELETE", "PUT"])
    return app


__all__ = ["create_app", "to_json"]
