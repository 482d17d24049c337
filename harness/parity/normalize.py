"""Volatile values out, reference placeholders in: two recordings of one behaviour compare equal.

A snapshot recorded on real GCP and a run on the emulator differ in values nobody means to compare:
the project, generated names, job ids, timestamps, etags, ciphertexts, the host. Each is replaced by
a placeholder: ``<project>`` and ``<origin>`` (one value per run), and ``<kind:n>`` for the rest,
numbered per kind by first appearance (``<dataset:1>``, ``<job-id:2>``), so the same value keeps
its placeholder everywhere it appears, in paths, bodies and error messages alike. Timestamps are
numbered per occurrence instead (:data:`ORDINAL_KINDS`).

What is volatile is found three ways: values the test registers (:meth:`Normalizer.register`, e.g.
a generated dataset name), values under keys known to vary (``etag``, ``creationTime``, ``jobId``,
``ciphertext``...), and patterns (RFC 3339 timestamps, UUIDs, URL origins). The walk visits object
keys in sorted order, so numbering does not depend on the order a server writes its keys in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from harness.parity.exchange import Exchange, Outcome

PROJECT = "<project>"
ORIGIN = "<origin>"

VOLATILE_KEYS: dict[str, str] = {
    "etag": "etag",
    "creationTime": "timestamp",
    "lastModifiedTime": "timestamp",
    "createTime": "timestamp",
    "generateTime": "timestamp",
    "destroyTime": "timestamp",
    "destroyEventTime": "timestamp",
    "startTime": "timestamp",
    "endTime": "timestamp",
    "jobId": "job-id",
    "ciphertext": "ciphertext",
    "ciphertextCrc32c": "crc32c",
    "harness-created": "epoch",  # the run labels' creation time (harness.scenario.labels)
}
"""Keys whose value differs between two runs of the same calls, and the placeholder kind for it."""
ORDINAL_KINDS = frozenset({"timestamp"})
"""Kinds numbered per occurrence, not per value: two times equal on a manual clock differ by
milliseconds on a real service, so only where a time appears is compared."""

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("origin", re.compile(r"https?://[^/\s\"']+")),
    ("timestamp", re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")),
    ("uuid", re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")),
)
_NAME_CHARS = r"A-Za-z0-9_\-"
LONG = 512
"""Strings longer than this (a 64 KiB plaintext in base64) are stored as ``<N chars>``."""
_PLACEHOLDER = re.compile(r"<[a-z][a-z0-9-]*(?::\d+)?>")


class Normalizer:
    """Replaces volatile values by placeholders; one instance per recording, so numbering is shared
    by every exchange (and outcome) of one test."""

    def __init__(
        self, *, project: str | None = None, values: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        self._numbers: dict[str, dict[str, int]] = {}
        self._known: dict[str, str] = {}
        if project:
            self._known[project] = "project"
        for kind, items in (values or {}).items():
            for value in items:
                self.register(kind, value)

    def register(self, kind: str, value: str) -> None:
        """``value`` is volatile: wherever it appears it becomes ``<kind:n>``. Registering the
        same value again keeps its first kind."""
        if not re.fullmatch(r"[a-z][a-z0-9-]*", kind):
            raise ValueError(f"placeholder kind {kind!r}: lowercase letters, digits and dashes")
        if value and value not in self._known:
            self._known[value] = kind

    # ------------------------------------------------------------------------------- walking
    def exchanges(self, items: Sequence[Exchange]) -> list[Exchange]:
        """Every exchange normalized, numbering shared across them."""
        for item in items:
            self._collect(item)
        return [self.exchange(item) for item in items]

    def exchange(self, item: Exchange) -> Exchange:
        return {key: self.value(item[key]) for key in item}

    def outcome(self, outcome: Outcome) -> Outcome:
        message = self.text(outcome.message) if outcome.message is not None else None
        return Outcome(outcome.status, outcome.reason, message)

    def value(self, value: Any, key: str | None = None) -> Any:
        """``value`` with its volatile parts replaced (a copy; the input is not changed)."""
        if key in VOLATILE_KEYS and isinstance(value, str | int) and not isinstance(value, bool):
            return self._placeholder(VOLATILE_KEYS[key], str(value))
        if isinstance(value, Mapping):
            return {k: self.value(value[k], str(k)) for k in sorted(value, key=str)}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return f"<{len(value)} chars>" if len(value) > LONG else self.text(value)
        return value

    def text(self, text: str) -> str:
        """A string with every known value and pattern inside it replaced, left to right."""
        pattern = self._pattern()
        return pattern.sub(self._replace, text) if pattern is not None else text

    # ------------------------------------------------------------------------------ internals
    def _collect(self, value: Any, key: str | None = None) -> None:
        """First pass: values under volatile keys become known, so that they are replaced inside
        other strings too (a job id quoted in an error message)."""
        if key in VOLATILE_KEYS and isinstance(value, str | int) and not isinstance(value, bool):
            self.register(VOLATILE_KEYS[key], str(value))
        elif isinstance(value, Mapping):
            for k in sorted(value, key=str):
                self._collect(value[k], str(k))
        elif isinstance(value, list | tuple):
            for item in value:
                self._collect(item)

    def _pattern(self) -> re.Pattern[str] | None:
        known = sorted(self._known, key=len, reverse=True)
        parts = (
            [rf"(?<![{_NAME_CHARS}])(?P<known>{'|'.join(map(re.escape, known))})(?![{_NAME_CHARS}])"]
            if known
            else []
        )
        parts += [f"(?P<{kind}>{regex.pattern})" for kind, regex in _PATTERNS]
        parts.insert(0, f"(?P<placeholder>{_PLACEHOLDER.pattern})")
        return re.compile("|".join(parts))

    def _replace(self, match: re.Match[str]) -> str:
        kind = match.lastgroup or ""
        value = match.group(0)
        if kind == "placeholder":
            return value
        if kind == "known":
            kind = self._known[value]
        return self._placeholder(kind, value)

    def _placeholder(self, kind: str, value: str) -> str:
        if kind == "project":
            return PROJECT
        if kind == "origin":
            return ORIGIN
        if _PLACEHOLDER.fullmatch(value):
            return value
        numbers = self._numbers.setdefault(kind, {})
        if kind in ORDINAL_KINDS:
            value = f"{value}#{len(numbers)}"
        number = numbers.setdefault(value, len(numbers) + 1)
        return f"<{kind}:{number}>"


def mask_project(project: str) -> str:
    """A project id as a snapshot's metadata shows it: enough to tell two apart, not to reach one."""
    if len(project) <= 4:
        return "*" * len(project)
    return project[:2] + "*" * (len(project) - 4) + project[-2:]


def renumber(value: Any) -> Any:
    """``value`` with its numbered placeholders renumbered per kind by first appearance here.

    The fake tier is compared on error outcomes only, which may not mention every value the whole
    recording numbered (``<dataset:2>`` can be the first dataset a message names); renumbering both
    sides makes them comparable."""
    numbers: dict[str, dict[str, int]] = {}

    def one(match: re.Match[str]) -> str:
        kind, _, number = match.group(0)[1:-1].partition(":")
        if not number:
            return match.group(0)
        seen = numbers.setdefault(kind, {})
        return f"<{kind}:{seen.setdefault(number, len(seen) + 1)}>"

    def walk(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {k: walk(item[k]) for k in sorted(item, key=str)}
        if isinstance(item, list | tuple):
            return [walk(part) for part in item]
        return _PLACEHOLDER.sub(one, item) if isinstance(item, str) else item

    return walk(value)
