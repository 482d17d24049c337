"""Cassettes: the HTTP exchanges of a run on a real-client tier, as a file.

One format for both layers (the httpx transport of the provider clients, the requests adapter of
the Google clients): a JSON file (``cassette.json`` beside the run record) holding, in the order
they happened, every exchange as ``{service, request: {method, url, headers, body}, response:
{status, headers, body}}`` or, instead of a response, the transport error (``"ReadTimeout: ..."``).
A body is stored as ``json`` when it parses, else as ``text``, else as ``base64``. Each exchange
names the scenario step that caused it (:func:`step_scope`). Record modes and matching are
:mod:`harness.recording.recorder`.

Secrets never reach the file: the scrubber (the run's, see ``harness.scenario.records.Scrubber``)
learns each secret header (``Authorization``, ``x-api-key``...) and provider-key-shaped strings and
replaces them with its placeholders on the way out; Cloud KMS plaintexts (base64 in ``encrypt``
requests and ``decrypt`` responses) are decoded, replaced by their placeholder, re-encoded and given
a matching CRC32C so a replayed decrypt still passes the client's integrity check. Only the
headers in :data:`KEPT_REQUEST_HEADERS` are kept from a request. The OAuth token endpoint never
passes through these layers (google-auth fetches tokens on a session of its own); an exchange
that looks like one (:func:`is_token_exchange`) is left out all the same.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import google_crc32c

CASSETTE_FORMAT = 1
CASSETTE_FILE = "cassette.json"
KEPT_REQUEST_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key", "content-type"})
_DROPPED_RESPONSE_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "date", "set-cookie", "connection", "server"}
)
_STEP: ContextVar[str | None] = ContextVar("harness_recording_step", default=None)


@contextlib.contextmanager
def step_scope(label: str) -> Iterator[None]:
    """Exchanges made inside (in this context: it follows the request into the services'
    threads) belong to step ``label`` (``"3"``, ``"7.2"`` for a ``parallel`` sub-step)."""
    token = _STEP.set(label)
    try:
        yield
    finally:
        _STEP.reset(token)


class Scrub(Protocol):
    """What a cassette needs from the run's scrubber (``harness.scenario.records.Scrubber``)."""

    def add(self, secret: Any, kind: str) -> str | None: ...

    def learn(self, data: Any) -> None: ...

    def headers(self, headers: dict[str, str]) -> dict[str, str]: ...

    def text(self, text: str) -> str: ...

    def __call__(self, data: Any) -> Any: ...


class CassetteError(ValueError):
    """A cassette file that cannot be read, or a record mode / match rule that does not exist."""


# ------------------------------------------------------------------------------ exchanges


@dataclass
class Request:
    """One request as either layer saw it (headers lower-cased)."""

    service: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""
    step: str | None = field(default_factory=_STEP.get)
    """The scenario step that caused it (:func:`step_scope`), None outside any step."""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        return urlsplit(self.url).query


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""


class RecordedError(Exception):
    """A transport error the cassette holds (``name``: the original exception's class name); each
    layer raises its own library's exception of that name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"(recorded) {message}")
        self.name = name


@dataclass
class Interaction:
    request: Request
    response: Response | None = None
    error: str | None = None
    """``"ReadTimeout: ..."``: an exception instead of a response."""

    def to_json(self, scrub: Scrub | None) -> dict[str, Any]:
        request, response = self.request, self.response
        headers = {k: v for k, v in request.headers.items() if k in KEPT_REQUEST_HEADERS}
        data: dict[str, Any] = {
            "service": request.service,
            "step": request.step,
            "request": {
                "method": request.method,
                "url": request.url,
                "headers": scrub.headers(headers) if scrub is not None else headers,
                "body": scrub_kms_plaintext(body_json(request.body), scrub) if request.body else None,
            },
        }
        if response is not None:
            body = body_json(response.body)
            if scrub is not None and "json" in body:
                scrub.learn(body["json"])
            data["response"] = {
                "status": response.status,
                "headers": {
                    k: v for k, v in response.headers.items() if k.lower() not in _DROPPED_RESPONSE_HEADERS
                },
                "body": scrub_kms_plaintext(body, scrub),
            }
        if self.error is not None:
            data["error"] = self.error
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Interaction:
        request = data["request"]
        response = data.get("response")
        return cls(
            Request(
                service=data["service"],
                method=request["method"],
                url=request["url"],
                headers=dict(request.get("headers") or {}),
                body=_body_bytes(request.get("body")),
                step=data.get("step"),
            ),
            Response(
                response["status"], dict(response.get("headers") or {}), _body_bytes(response.get("body"))
            )
            if response is not None
            else None,
            data.get("error"),
        )


def body_json(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}
    try:
        return {"json": json.loads(text)}
    except ValueError:
        return {"text": text}


def _body_bytes(body: dict[str, Any] | None) -> bytes:
    if not body:
        return b""
    if "json" in body:
        return json.dumps(body["json"], separators=(",", ":")).encode("utf-8")
    if "text" in body:
        return str(body["text"]).encode("utf-8")
    return base64.b64decode(body.get("base64", ""))


def scrub_kms_plaintext(body: dict[str, Any], scrub: Scrub | None) -> dict[str, Any]:
    """A Cloud KMS ``plaintext`` (base64) replaced by the base64 of its placeholder, its CRC32C
    recomputed: the secret is gone and a replayed decrypt still passes the client's check."""
    payload = body.get("json")
    if scrub is None or not isinstance(payload, dict) or not isinstance(payload.get("plaintext"), str):
        return body
    try:
        plain = base64.b64decode(payload["plaintext"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        plain = payload["plaintext"]
    hidden = scrub.text(plain)
    if hidden == plain:
        hidden = scrub.add(plain, "kms_plaintext") or plain  # None: a placeholder already
    encoded = hidden.encode("utf-8")
    payload = {**payload, "plaintext": base64.b64encode(encoded).decode("ascii")}
    if "plaintextCrc32c" in payload:
        payload["plaintextCrc32c"] = str(google_crc32c.value(encoded))
    return {"json": payload}


def is_token_exchange(request: Request) -> bool:
    """An OAuth2 token request (JWT-bearer or refresh grant): never written to a cassette."""
    return request.method == "POST" and request.path.endswith("/token") and b"grant_type=" in request.body


# ------------------------------------------------------------------------------ cassette


@dataclass
class Cassette:
    interactions: list[Interaction] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Cassette:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                [Interaction.from_json(item) for item in data["interactions"]],
                {k: v for k, v in data.items() if k != "interactions"},
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CassetteError(f"{path}: not a readable cassette: {exc}") from exc

    def save(self, path: Path, scrub: Scrub) -> Path:
        """Write the cassette, scrubbed (secrets learned while serialising are replaced too)."""
        items = [i.to_json(scrub) for i in self.interactions if not is_token_exchange(i.request)]
        data = scrub({**self.metadata, "format": CASSETTE_FORMAT, "interactions": items})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def fix_kms_checksum(body: str) -> str:
    """A Cloud KMS answer whose ``plaintext`` was rewritten, with the CRC32C that goes with it."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if not (isinstance(payload, dict) and isinstance(payload.get("plaintext"), str)):
        return body
    if "plaintextCrc32c" not in payload:
        return body
    try:
        plain = base64.b64decode(payload["plaintext"], validate=True)
    except binascii.Error:
        return body
    payload["plaintextCrc32c"] = str(google_crc32c.value(plain))
    return json.dumps(payload, separators=(",", ":"))


__all__ = [
    "CASSETTE_FILE",
    "KEPT_REQUEST_HEADERS",
    "Cassette",
    "CassetteError",
    "Interaction",
    "RecordedError",
    "Request",
    "Response",
    "Scrub",
    "body_json",
    "fix_kms_checksum",
    "is_token_exchange",
    "scrub_kms_plaintext",
    "step_scope",
]
