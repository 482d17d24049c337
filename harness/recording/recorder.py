"""Record modes and matching: what a run does with each request of the real clients.

**Record modes** (pytest-recording's vocabulary):

* ``none``: replay only. A request with no recording left raises :class:`CassetteMiss`, naming
  the method, the URL and the match rule; it is never sent anywhere.
* ``once``: a cassette that exists is replayed as with ``none``; without one, every request is
  sent and recorded.
* ``new_episodes``: a request that matches a recording is answered from it; any other is sent and
  recorded (appended to what was loaded).
* ``all``: every request is sent and recorded; a loaded cassette is ignored (overwritten).

**Matching** (``match_on``, any of ``method, path, query, body``; default ``method, path``). The
key is always scoped by the scenario step that made the request (``cassette.step_scope``: the
sub-steps of a ``parallel`` step send at once, so their requests interleave differently on every
run, but each sub-step's own sequence does not) and by service (``bigquery``, ``kms``,
``openai``, ``anthropic``: OpenAI and Anthropic share ``/v1/models``), never by host (a replay
has no emulator ports). The *n*-th request for a key is served the *n*-th recording for that key
(as the fake tier's tape does). ``query`` compares the decoded parameters as a sorted list;
``body`` compares the JSON bodies (KMS plaintext scrubbed like the recording was) with every
generated-looking string (see below: ids, hashes, keys, timestamps; they differ on every run, and
a replay only learns their aliases from a match) read as ``<generated>``, or else the text. It
is strict: a value measured in real time (a step's ``duration_ms``) differs between a run and its
replay, so a whole scenario replays on the default rule; ``body`` is for exchanges whose bodies
are fixed.

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
Aliases are only as good as the match: once a replay has gone another way than the run, its first
miss or failing step is the finding, not what follows.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from harness.recording.cassette import (
    Cassette,
    CassetteError,
    Interaction,
    RecordedError,
    Request,
    Response,
    Scrub,
    body_json,
    fix_kms_checksum,
    scrub_kms_plaintext,
)

MATCH_FIELDS = ("method", "path", "query", "body")
DEFAULT_MATCH_ON = ("method", "path")
_GENERATED = re.compile(r'^(?:(?![<>"\\])[!-~]){16,}$')
"""A string that may have been generated (an id, a hash, a key, a timestamp): 16 or more visible
ASCII characters, no placeholder brackets, nothing JSON escapes (it reads the same in JSON text)."""


class RecordMode(StrEnum):
    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"


class CassetteMiss(Exception):
    """A request the cassette cannot answer in a mode that may not send it. Deliberately not an
    ``OSError`` nor a client library's retryable error: no retry loop may swallow it."""


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
            aliases = dict(self._aliases)  # other threads may add to them meanwhile
        if recorded is not None:
            if recorded.error is not None:
                name, _, message = recorded.error.partition(": ")
                raise RecordedError(name, message)
            assert recorded.response is not None
            return _live_response(recorded.response, aliases)
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
        shaped = body_json(body)
        if live:
            if self.scrub is not None:
                shaped = self.scrub(scrub_kms_plaintext(shaped, self.scrub))
            shaped = json.loads(self._recorded_text(json.dumps(shaped)))
        if "json" in shaped:
            return json.dumps(_masked(shaped["json"]), sort_keys=True, separators=(",", ":"))
        return json.dumps(shaped, sort_keys=True)

    def _alias(self, live: Request, recorded: Request) -> None:
        live_body, recorded_body = body_json(live.body), body_json(recorded.body)
        if "json" in live_body and "json" in recorded_body:
            for new, old in _differing(live_body["json"], recorded_body["json"]):
                self._aliases[new] = old

    def _recorded_text(self, text: str) -> str:
        """``text`` of a live request with its aliased values put back to the recorded ones."""
        for new in sorted(self._aliases, key=len, reverse=True):
            if new in text:
                text = text.replace(new, self._aliases[new])
        return text

    def _miss_message(self, request: Request) -> str:
        rule = ", ".join(self.match_on)
        where = f"cassette {self.source}" if self.source is not None else "no cassette"
        left = sum(len(q) for q in self._queues.values())
        return (
            f"no recording for {request.method} {request.url} ({request.service}; matching on {rule}; "
            f"record mode {self.mode.value}, {where}, {left} recording(s) left unused): "
            "a replay never sends a request the cassette does not hold"
        )


def _live_response(recorded: Response, aliases: dict[str, str]) -> Response:
    """A recorded response with the recorded values this run replaced by live ones."""
    if not aliases or not recorded.body:
        return recorded
    try:
        body = recorded.body.decode("utf-8")
    except UnicodeDecodeError:
        return recorded
    changed = body
    for new, old in sorted(aliases.items(), key=lambda item: len(item[1]), reverse=True):
        if old in changed:
            changed = changed.replace(old, new)
    if changed == body:
        return recorded
    return Response(recorded.status, recorded.headers, fix_kms_checksum(changed).encode("utf-8"))


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


def _masked(data: Any) -> Any:
    """``data`` with every generated-looking string read as ``<generated>``."""
    if isinstance(data, dict):
        return {k: _masked(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_masked(item) for item in data]
    if isinstance(data, str) and _GENERATED.match(data):
        return "<generated>"
    return data


__all__ = [
    "DEFAULT_MATCH_ON",
    "MATCH_FIELDS",
    "CassetteMiss",
    "RecordMode",
    "Recorder",
    "parse_match_on",
    "parse_mode",
]
