"""The Cloud KMS REST v1 emulator: a FastAPI face on the same :class:`KmsBackend` as the fake.

It speaks what ``google-cloud-kms``'s REST transport sends and expects, so the real client (and the
adapter built on it) runs unchanged against it::

    KeyManagementServiceClient(transport="rest", credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": "http://127.0.0.1:PORT"})

Wire format (proto3 JSON, as Google's REST endpoints use it; the codec is ``fakes.kms.protojson``):

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
path-parameter routing. A path or verb the emulator does not serve answers 404 ``NOT_FOUND`` in the
same error format; the Cloud KMS methods it does not implement answer a 400 naming the method
(``fakes.kms.surface_routes``).

KMS faults armed on the app's queue (``encrypt``, ``decrypt``, ``get_crypto_key``) are answered on
the wire with the real error, so the real client applies its own retry; ``crc32c_mismatch`` answers
the call with a response checksum that does not match its bytes (a GetCryptoKey response carries
no checksum, so there it changes nothing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from fakes.google_oauth.guard import GoogleAuthGuard
from fakes.google_oauth.models import TokenAuthority
from fakes.google_oauth.services import KMS
from fakes.kms import exceptions as errors
from fakes.kms import key_type_routes, surface_routes
from fakes.kms.faults import CORRUPTED, error_for
from fakes.kms.list_filters import filtered
from fakes.kms.models import KmsBackend
from fakes.kms.protojson import (
    CRYPTO_KEY_PURPOSE,
    CRYPTO_KEY_VERSION_ALGORITHM,
    CRYPTO_KEY_VERSION_STATE,
    PROTECTION_LEVEL,
    bytes_field,
    duration_field,
    enum_field,
    field,
    int64_field,
    to_json,
)
from harness.faults.backend import FaultQueue, Port, PortCall
from harness.ports import KeyManagerError

# ----------------------------------------------------------------------------------- names
_LOCATION = r"projects/[^/:]+/locations/[^/:]+"
_KEY_RING = _LOCATION + r"/keyRings/[^/:]+"
_CRYPTO_KEY = _KEY_RING + r"/cryptoKeys/[^/:]+"
_VERSION = _CRYPTO_KEY + r"/cryptoKeyVersions/[^/:]+"
_CRYPTO_KEY_NAME = re.compile(_CRYPTO_KEY)

# ---------------------------------------------------------------------------------- routing
Handler = Callable[["_Call"], Any]


class _Call:
    """One request: the resource name, query parameters and JSON body."""

    def __init__(self, name: str, params: Mapping[str, str], body: Mapping[str, Any]) -> None:
        self.name = name
        self.params = params
        self.body = body


def _page(items: list[dict[str, Any]], key: str, call: _Call) -> dict[str, Any]:
    """ListXxxResponse: ``filter`` and ``orderBy`` (:mod:`fakes.kms.list_filters`), ``pageSize`` /
    ``pageToken`` (an offset), ``totalSize`` (of the filtered list)."""
    items = filtered(items, call.params.get("filter"), call.params.get("orderBy"))
    try:
        size = int(call.params.get("pageSize") or 0)
        start = int(call.params.get("pageToken") or 0)
    except ValueError:
        raise errors.InvalidPageToken() from None
    if size < 0 or start < 0:
        raise errors.InvalidPageToken()
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
        purpose = enum_field(
            call.body.get("purpose"),
            CRYPTO_KEY_PURPOSE,
            "crypto_key.purpose",
            "google.cloud.kms.v1.CryptoKey.CryptoKeyPurpose",
        )
        template = field(call.body, "versionTemplate") or {}
        algorithm = enum_field(
            template.get("algorithm"),
            CRYPTO_KEY_VERSION_ALGORITHM,
            "crypto_key.version_template.algorithm",
            "google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm",
        )
        protection = enum_field(
            field(template, "protectionLevel"),
            PROTECTION_LEVEL,
            "crypto_key.version_template.protection_level",
            "google.cloud.kms.v1.ProtectionLevel",
        )
        kwargs: dict[str, Any] = {"labels": call.body.get("labels") or {}}
        kwargs.update(key_type_routes.create_fields(call.body, algorithm, protection))
        if purpose not in (None, "CRYPTO_KEY_PURPOSE_UNSPECIFIED"):
            kwargs["purpose"] = purpose
        duration = duration_field(
            field(call.body, "destroyScheduledDuration"), "crypto_key.destroy_scheduled_duration"
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
            raise errors.UpdateMaskMissing()
        unsupported = [p for p in mask if p != "state"]
        if unsupported:
            raise errors.UpdateMaskInvalid(paths=", ".join(unsupported))  # only `state` is updatable
        state = enum_field(
            call.body.get("state"),
            CRYPTO_KEY_VERSION_STATE,
            "crypto_key_version.state",
            "google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionState",
        )
        return backend.update_version_state(call.name, state or "CRYPTO_KEY_VERSION_STATE_UNSPECIFIED")

    def update_primary(call: _Call) -> Any:
        return backend.update_primary_version(call.name, str(field(call.body, "cryptoKeyVersionId") or ""))

    def encrypt(call: _Call) -> Any:
        return backend.encrypt(
            call.name,
            bytes_field(call.body, "plaintext", "plaintext"),
            bytes_field(call.body, "additionalAuthenticatedData", "additional_authenticated_data"),
            plaintext_crc32c=int64_field(call.body, "plaintextCrc32c", "plaintext_crc32c"),
            aad_crc32c=int64_field(
                call.body, "additionalAuthenticatedDataCrc32c", "additional_authenticated_data_crc32c"
            ),
        )

    def decrypt(call: _Call) -> Any:
        return backend.decrypt(
            call.name,
            bytes_field(call.body, "ciphertext", "ciphertext"),
            bytes_field(call.body, "additionalAuthenticatedData", "additional_authenticated_data"),
            ciphertext_crc32c=int64_field(call.body, "ciphertextCrc32c", "ciphertext_crc32c"),
            aad_crc32c=int64_field(
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
        *key_type_routes.routes(backend, (_LOCATION, _KEY_RING, _CRYPTO_KEY, _VERSION), _page),
        *surface_routes.routes(backend, (_LOCATION, _KEY_RING, _CRYPTO_KEY, _VERSION), _page),
    ]


def _operation(method: str, name: str, verb: str) -> str | None:
    """The KMS fault vocabulary's name for a request, None for one faults do not aim at."""
    if method == "POST" and verb in ("encrypt", "decrypt"):
        return verb
    if method == "GET" and not verb and _CRYPTO_KEY_NAME.fullmatch(name):
        return "get_crypto_key"
    return None


def _version_of(backend: KmsBackend, name: str) -> str:
    """The version a request on ``name`` uses: the named one, else the key's primary."""
    if "/cryptoKeyVersions/" in name:
        return name
    try:
        primary = backend.get_crypto_key(name).get("primary")
    except KeyManagerError:
        return name
    return primary["name"] if primary else name


def _corrupted(result: Any) -> Any:
    """The response with its checksum off by one: what bytes changed in transit look like."""
    for checksum in ("ciphertextCrc32c", "plaintextCrc32c"):
        if checksum in result:
            return {**result, checksum: (result[checksum] + 1) % 2**32}
    return result


def _parent(call: _Call) -> _Call:
    """For collection URLs (``.../keyRings``): the parent is the path without the collection."""
    return _Call(call.name.rpartition("/")[0], call.params, call.body)


def _error(exc: KeyManagerError) -> JSONResponse:
    """Google's JSON error body with the error's HTTP status, canonical code and message."""
    body = {"error": {"code": exc.status, "message": exc.message, "status": exc.code}}
    return JSONResponse(body, status_code=exc.status)


def create_app(
    backend: KmsBackend, faults: FaultQueue | None = None, auth: TokenAuthority | None = None
) -> FastAPI:
    """The Cloud KMS REST v1 app over ``backend``, answering the KMS faults armed on ``faults``;
    with ``auth`` every request needs a bearer credential it accepts, as on Google."""
    app = FastAPI(title="CloudAct Cloud KMS emulator", openapi_url=None, docs_url=None, redoc_url=None)
    if auth is not None:
        app.add_middleware(GoogleAuthGuard, authority=auth, profile=KMS)
    app.state.backend = backend
    routes = [(m, re.compile(p), verb, h) for m, p, verb, h in _routes(backend)]

    def dispatch(method: str, path: str, params: Mapping[str, str], raw: bytes) -> JSONResponse:
        name, _, verb = path.partition(":")
        known = [r for r in routes if r[1].fullmatch(name) and r[2] == verb]
        if not known:
            return _error(errors.MethodNotFound(method="", path=path))
        handler = next((h for m, _, _, h in known if m == method), None)
        if handler is None:
            # Google's front end answers an HTTP method a path does not have like an unknown path.
            return _error(errors.MethodNotFound(method=f"{method} ", path=path))
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(errors.InvalidJsonPayload(detail=exc))
        if not isinstance(body, dict):
            return _error(errors.InvalidJsonPayload(detail="Expected an object."))
        operation = _operation(method, name, verb)
        request = PortCall(Port.KMS, frozenset({operation})) if operation else None
        fault = faults.take(request) if faults is not None and request is not None else None
        if fault is not None and fault.error != CORRUPTED:
            return _error(error_for(fault, request, version=_version_of(backend, name)))
        try:
            result = handler(_Call(name, params, body))
        except KeyManagerError as exc:
            return _error(exc)
        if fault is not None:
            result = _corrupted(result)
        alt = params.get("$alt", "")
        return JSONResponse(to_json(result, int_enums="enum-encoding=int" in alt))

    async def endpoint(request: Request, path: str) -> JSONResponse:
        raw = await request.body()
        # The backend is synchronous and holds a lock; run it off the event loop.
        return await run_in_threadpool(dispatch, request.method, path, dict(request.query_params), raw)

    app.add_api_route("/v1/{path:path}", endpoint, methods=["GET", "POST", "PATCH", "DELETE", "PUT"])
    return app


__all__ = ["create_app"]
