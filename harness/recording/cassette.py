"""Cassettes: the HTTP exchanges of a run on a real-client tier, their record modes and matching.

One format for both layers (the httpx transport of the provider clients, the requests adapter of
the Google clients): a JSON file (``cassette.json`` beside the run record) holding, in the order
they happened, every exchange as ``{service, request: {method, url, headers, body}, response:
{status, headers, body}}`` or, instead of a response, the transport error (``"ReadTimeout: ..."``).
A body is stored as ``json`` when it parses, else as ``text``, else as ``base64``.

**Record modes** (pytest-recording's vocabulary):

* ``none``: replay only. A request with no recording left raises :class:`CassetteMiss`, naming
  the method, the URL and the match rule; it is never sent anywhere.
* ``once``: a cassette that exists is replayed as with ``none``; without one, every request is
  sent and recorded.
* ``new_episodes``: a request that matches a recording is answered from it; any other is sent and
  recorded (appended to what was loaded).
* ``all``: every request is sent and recorded; a loaded cassette is ignored (overwritten).

**Matching** (``match_on``, any of ``method, path, query, body``; default ``method, path``). The
key is always scoped by the scenario step that made the request (:func:`step_scope`: the
sub-steps of a ``parallel`` step send at once, so their requests interleave differently on every
run, but each sub-step's own sequence does not) and by service (``bigquery``, ``kms``,
``openai``, ``anthropic``: OpenAI and Anthropic share ``/v1/models``), never by host (a replay
has no emulator ports). The *n*-th request
for a key is served the *n*-th recording for that key (as the fake tier's tape does). ``query``
compares the decoded parameters as a sorted list; ``body`` compares the JSON bodies with the values
a client regenerates on every run left out (:data:`VOLATILE_BODY_FIELDS`) and KMS plaintext
scrubbed like the recording was, or else the text.

**Volatile values.** A replay's clients and services regenerate what was random in the run:
google-cloud-bigquery names its jobs (a uuid4 in ``jobs.insert``), an org API key is fresh, so its
SHA-256 hash in the ``org_api_keys`` row and in the lookup query's parameter is too (and on a gcp
replay every timestamp). Rule: when a request is answered from the cassette, its JSON body is
compared with the recorded request's, leaf by leaf at the same place; each pair of differing
strings that look generated (16 characters or more, no whitespace, not a placeholder) becomes an
alias. Later requests are matched with their live values put back to the recorded ones (a job id
in ``/jobs/<jobId>`` and ``/queries/<jobId>``, a hash in a query parameter), and every response
served afterwards has the recorded values replaced by the live ones, as the real service, which
echoes what it was sent, would have answered (a Cloud KMS ``plaintextCrc32c`` is recomputed for
a rewritten ``plaintext``). Ids the server chose (``jobs.query``) come from the cassette itself.

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
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import google_crc32c

CASSETTE_FORMAT = 1
CASSETTE_FILE = "cassette.json"
MATCH_FIELDS = ("method", "path", "query", "body")
DEFAULT_MATCH_ON = ("method", "path")
VOLATILE_BODY_FIELDS = frozenset({"requestId", "insertId", "jobId"})
"""Body fields a client fills with a fresh random value on every run (BigQuery's ``jobs.query``
``requestId``, ``insertAll`` rows' ``insertId``, a client-named ``jobReference.jobId``)."""
KEPT_REQUEST_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key", "content-type"})
_DROPPED_RESPONSE_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "date", "set-cookie", "connection", "server"}
)
_GENERATED = re.compile(r"^[^\s<>]{16,}$")
"""A string that may have been generated (an id, a hash, a key, a timestamp): long, no spaces,
no placeholder brackets."""


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


class RecordMode(StrEnum):
    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"


class Scrub(Protocol):
    """What a cassette needs from the run's scrubber (``harness.scenario.records.Scrubber``)."""

    def add(self, secret: Any, kind: str) -> str | None: ...

    def learn(self, data: Any) -> None: ...

    def headers(self, headers: dict[str, str]) -> dict[str, str]: ...

    def text(self, text: str) -> str: ...

    def __call__(self, data: Any) -> Any: ...


class CassetteMiss(Exception):
    """A request the cassette cannot answer in a mode that may not send it. Deliberately not an
    ``OSError`` nor a client library's retryable error: no retry loop may swallow it."""


class CassetteError(ValueError):
    """A cassette file that cannot be read, or a record mode / match rule that does not exist."""


def parse_mode(text: str) -> RecordMode:
    try:
        return RecordMode(text.strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in RecordMode)
        raise CassetteError(f"record mode {text!r}: expected one of {choices}") from None


def parse_match_on(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"method,path,query"`` (or a list) as a checked tuple, in the order given."""
    items = text.split(",") if isinstance(text, str) else list(text)
    fields = tuple(dict.fromkeys(item.strip().lower() for item in items if item.strip()))
    unknown = [f for f in fields if f not in MATCH_FIELDS]
    if unknown or not fields:
        raise CassetteError(
            f"--match-on {','.join(items)!r}: expected a comma-separated subset of {', '.join(MATCH_FIELDS)}"
        )
    return fields


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
                "body": _scrub_kms(_body_json(request.body), scrub, "plaintext") if request.body else None,
            },
        }
        if response is not None:
            body = _body_json(response.body)
            if scrub is not None and "json" in body:
                scrub.learn(body["json"])
            data["response"] = {
                "status": response.status,
                "headers": {
                    k: v for k, v in response.headers.items() if k.lower() not in _DROPPED_RESPONSE_HEADERS
                },
                "body": _scrub_kms(body, scrub, "plaintext"),
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


def _body_json(body: bytes) -> dict[str, Any]:
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


def _scrub_kms(body: dict[str, Any], scrub: Scrub | None, name: str) -> dict[str, Any]:
    """A Cloud KMS ``plaintext`` (base64) replaced by the base64 of its placeholder, its CRC32C
    recomputed: the secret is gone and a replayed decrypt still passes the client's check."""
    payload = body.get("json")
    if scrub is None or not isinstance(payload, dict) or not isinstance(payload.get(name), str):
        return body
    try:
        plain = base64.b64decode(payload[name], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        plain = payload[name]
    hidden = scrub.text(plain)
    if hidden == plain:
        hidden = scrub.add(plain, "kms_plaintext") or plain  # None: a placeholder already
    encoded = hidden.encode("utf-8")
    payload = {**payload, name: base64.b64encode(encoded).decode("ascii")}
    if f"{name}Crc32c" in payload:
        payload[f"{name}Crc32c"] = str(google_crc32c.value(encoded))
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


# ------------------------------------------------------------------------------ recorder


class Recorder:
    """The record mode and matching of one run, shared by every transport of that run.

    Each layer calls :meth:`exchange` with the request and a ``send`` that really sends it (and
    raises its library's transport errors); thread-safe, since a ``parallel`` step sends from
    several threads."""

    def __init__(
        self,
        mode: RecordMode | str,
        *,
        match_on: Iterable[str] = DEFAULT_MATCH_ON,
        cassette: Path | None = None,
        scrub: Scrub | None = None,
    ) -> None:
        self.mode = RecordMode(mode)
        self.match_on = parse_match_on(list(match_on))
        self.source = cassette
        self.scrub = scrub
        existing = cassette is not None and cassette.is_file()
        loaded = Cassette.load(cassette) if existing and cassette is not None else Cassette()
        self.replay_only = self.mode is RecordMode.NONE or (self.mode is RecordMode.ONCE and existing)
        # What this run's cassette will hold: what it replays from, plus what it records.
        keep = self.replay_only or self.mode is RecordMode.NEW_EPISODES
        self.cassette = Cassette(list(loaded.interactions) if keep else [])
        self.served = 0
        self.misses: list[str] = []
        self._lock = threading.Lock()
        self._aliases: dict[str, str] = {}
        """live value -> recorded value (see "Volatile values")."""
        self._queues: dict[tuple[Any, ...], deque[Interaction]] = defaultdict(deque)
        if self.mode is not RecordMode.ALL:
            for interaction in loaded.interactions:
                self._queues[self._key(interaction.request, live=False)].append(interaction)

    @property
    def recording(self) -> bool:
        """Whether anything may be sent (and so written)."""
        return not self.replay_only

    def exchange(self, request: Request, send: Callable[[], Response]) -> Response:
        """The response to ``request``: a recording, or (modes permitting) the real one, recorded."""
        with self._lock:
            queue = self._queues.get(self._key(request, live=True))
            recorded = queue.popleft() if queue else None
            if recorded is None and self.replay_only:
                miss = self._miss_message(request)
                self.misses.append(miss)
                raise CassetteMiss(miss)
            if recorded is not None:
                self.served += 1
                self._alias(request, recorded.request)
        if recorded is not None:
            if recorded.error is not None:
                name, _, message = recorded.error.partition(": ")
                raise RecordedError(name, message)
            assert recorded.response is not None
            return self._live_response(recorded.response)
        interaction = Interaction(request)
        try:
            interaction.response = send()
        except Exception as exc:
            interaction.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            with self._lock:
                self.cassette.interactions.append(interaction)
        return interaction.response

    def save(self, path: Path, scrub: Scrub, **metadata: Any) -> Path:
        self.cassette.metadata = {
            **metadata,
            "record_mode": self.mode.value,
            "match_on": list(self.match_on),
        }
        with self._lock:
            return self.cassette.save(path, scrub)

    # ---------------------------------------------------------------------- matching

    def _key(self, request: Request, *, live: bool) -> tuple[Any, ...]:
        key: list[Any] = [request.step, request.service]
        if "method" in self.match_on:
            key.append(request.method.upper())
        if "path" in self.match_on:
            key.append(self._recorded_text(request.path) if live else request.path)
        if "query" in self.match_on:
            query = self._recorded_text(request.query) if live else request.query
            key.append(tuple(sorted(parse_qsl(query, keep_blank_values=True))))
        if "body" in self.match_on:
            key.append(self._body_key(request.body, live=live))
        return tuple(key)

    def _body_key(self, body: bytes, *, live: bool) -> str:
        shaped = _body_json(body)
        if live:
            if self.scrub is not None:
                shaped = self.scrub(_scrub_kms(shaped, self.scrub, "plaintext"))
            shaped = json.loads(self._recorded_text(json.dumps(shaped)))
        if "json" in shaped:
            return json.dumps(_without_volatile(shaped["json"]), sort_keys=True, separators=(",", ":"))
        return json.dumps(shaped, sort_keys=True)

    def _alias(self, live: Request, recorded: Request) -> None:
        live_body, recorded_body = _body_json(live.body), _body_json(recorded.body)
        if "json" in live_body and "json" in recorded_body:
            for new, old in _differing(live_body["json"], recorded_body["json"]):
                self._aliases[new] = old

    def _recorded_text(self, text: str) -> str:
        """``text`` of a live request with its aliased values put back to the recorded ones."""
        for new in sorted(self._aliases, key=len, reverse=True):
            if new in text:
                text = text.replace(new, self._aliases[new])
        return text

    def _live_response(self, recorded: Response) -> Response:
        """A recorded response with the recorded values this run replaced by live ones."""
        if not self._aliases:
            return recorded
        body = recorded.body.decode("utf-8", "replace") if recorded.body else ""
        changed = body
        for new, old in sorted(self._aliases.items(), key=lambda item: len(item[1]), reverse=True):
            if old in changed:
                changed = changed.replace(old, new)
        if changed == body:
            return recorded
        return Response(recorded.status, recorded.headers, _recheck_kms(changed).encode("utf-8"))

    def _miss_message(self, request: Request) -> str:
        rule = ", ".join(self.match_on)
        where = f"cassette {self.source}" if self.source is not None else "no cassette"
        left = sum(len(q) for q in self._queues.values())
        return (
            f"no recording for {request.method} {request.url} ({request.service}; matching on {rule}; "
            f"record mode {self.mode.value}, {where}, {left} recording(s) left unused): "
            "a replay never sends a request the cassette does not hold"
        )


def _differing(live: Any, recorded: Any) -> Iterator[tuple[str, str]]:
    """(live, recorded) pairs of generated-looking strings at the same place of two JSON bodies."""
    if isinstance(live, dict) and isinstance(recorded, dict):
        for key in live.keys() & recorded.keys():
            yield from _differing(live[key], recorded[key])
    elif isinstance(live, list) and isinstance(recorded, list):
        for new, old in zip(live, recorded, strict=False):
            yield from _differing(new, old)
    elif (
        isinstance(live, str)
        and isinstance(recorded, str)
        and live != recorded
        and _GENERATED.match(live)
        and _GENERATED.match(recorded)
    ):
        yield live, recorded


def _recheck_kms(body: str) -> str:
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


def _without_volatile(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_volatile(v) for k, v in data.items() if k not in VOLATILE_BODY_FIELDS}
    if isinstance(data, list):
        return [_without_volatile(item) for item in data]
    return data


__all__ = [
    "CASSETTE_FILE",
    "DEFAULT_MATCH_ON",
    "MATCH_FIELDS",
    "Cassette",
    "CassetteError",
    "CassetteMiss",
    "Interaction",
    "RecordMode",
    "RecordedError",
    "Recorder",
    "Request",
    "Response",
    "Scrub",
    "is_token_exchange",
    "parse_match_on",
    "parse_mode",
]
