"""The process-wide translation cache, optionally kept on disk so the next process starts warm.

Translating a statement to DuckDB SQL (sqlglot's generator and the fake's rewrites) is most of
what a fresh process pays on its first queries, and it depends on nothing but the cache key
(:meth:`fakes.bigquery.queries.StatementRunner._translate`: the SQL text or its shape and what the
translation reads: schemas, column types, parameters) and on the translator's code. So ``harness
run`` opens a file (:meth:`Translations.open`) under its runs directory, and a later run of the
same code answers from it instead of translating again.

Safe as a ``.pyc`` is: the file's name is a digest of the translator's version (size and mtime
of every ``fakes/bigquery`` source file, as Python's own bytecode check uses, and the sqlglot,
DuckDB and Python versions), so a change to any of them reads a new, empty file. An entry is
found by the digest of its pickled key, so only an equal key finds it; each line carries a
checksum of its content, and a line that does not parse or does not match it (a torn write, a
hand edit) is ignored. Any error reading or writing the file turns the disk off for the process:
the cache is an optimisation, never a reason to fail. A file past :data:`MAX_BYTES` (statements
over many orgs' datasets, which no later run asks for again) is started afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import sys
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from fakes.bigquery.sql import Translation

log = logging.getLogger(__name__)

FORMAT = 1
"""Bumped when the line format changes (part of the version digest)."""

MAX_BYTES = 1_000_000
"""A file larger than this when opened is truncated: loading it would cost more than it saves."""

KEEP_VERSIONS = 4
"""Files of other translator versions kept beside the open one (other checkouts or branches)."""

_SOURCES = Path(__file__).resolve().parent
_SUFFIX = ".jsonl"


def translator_version() -> str:
    """A digest of what a translation depends on besides its key: every ``fakes/bigquery`` source
    file (name, size, mtime in ns) and the sqlglot, DuckDB and Python versions."""
    import duckdb
    import sqlglot

    digest = hashlib.sha256(f"{FORMAT}|{sqlglot.__version__}|{duckdb.__version__}|{sys.version}".encode())
    for path in sorted(_SOURCES.glob("*.py")):
        stat = path.stat()
        digest.update(f"|{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def key_digest(key: tuple[Any, ...]) -> str | None:
    """The digest an entry is stored under, or None for a key that does not pickle (kept in
    memory only). Equal pickles mean equal keys; a key whose pickle varies between processes
    (a set's order) is merely never found again."""
    try:
        return hashlib.sha256(pickle.dumps(key, protocol=5)).hexdigest()
    except Exception:  # any object pickle refuses: the entry stays in memory only
        return None


def _checksum(digest: str, sql: str, placeholders: list[str]) -> str:
    return hashlib.sha256(json.dumps([digest, sql, placeholders]).encode()).hexdigest()[:16]


def _line(digest: str, translation: Translation) -> bytes:
    placeholders = sorted(translation.placeholders)
    entry = {"k": digest, "s": translation.sql, "p": placeholders}
    entry["c"] = _checksum(digest, translation.sql, placeholders)
    return (json.dumps(entry, separators=(",", ":")) + "\n").encode()


def _entry(line: bytes) -> tuple[str, Translation] | None:
    """A line's (digest, translation), or None for a line that is not an intact entry."""
    try:
        entry = json.loads(line)
        digest, sql, placeholders, check = entry["k"], entry["s"], entry["p"], entry["c"]
    except (ValueError, TypeError, KeyError):
        return None
    if not (
        isinstance(digest, str)
        and isinstance(sql, str)
        and isinstance(placeholders, list)
        and all(isinstance(p, str) for p in placeholders)
    ):
        return None
    if check != _checksum(digest, sql, placeholders):
        return None
    return digest, Translation(sql, frozenset(placeholders))


def read_entries(path: Path) -> dict[str, Translation]:
    """Every intact entry of the file at ``path`` (the last one of a digest wins)."""
    entries: dict[str, Translation] = {}
    for line in path.read_bytes().splitlines():
        if (found := _entry(line)) is not None:
            entries[found[0]] = found[1]
    return entries


class Translations:
    """A mapping of translation keys to :class:`Translation` for the one process-wide cache:
    ``memory`` (a bounded LRU) first, then, once :meth:`open` named a directory, its file. Only
    ``get``, item assignment and ``clear`` are used; the caller holds its own lock around each,
    and this class holds one too for the disk."""

    def __init__(self, memory: MutableMapping[tuple[Any, ...], Translation]) -> None:
        self._memory = memory
        self._lock = threading.Lock()
        self._directory: Path | None = None
        self._path: Path | None = None
        self._disk: dict[str, Translation] | None = None
        self._fd: int | None = None

    def open(self, directory: Path) -> None:
        """Keep translations in ``directory`` (created if absent; read lazily, on the first key
        the memory does not hold). Reopening another directory closes the first."""
        with self._lock:
            if self._directory != directory:
                self._close()
                self._directory = directory

    def close(self) -> None:
        """Stop using the disk (what is in memory stays)."""
        with self._lock:
            self._close()
            self._directory = None

    @property
    def path(self) -> Path | None:
        """The open file, once read (None before the first miss, or with the disk off)."""
        return self._path

    def get(self, key: tuple[Any, ...], default: Translation | None = None) -> Translation | None:
        found = self._memory.get(key)
        if found is not None or self._directory is None:
            return found if found is not None else default
        digest = key_digest(key)
        with self._lock:
            disk = self._load()
            found = disk.get(digest) if disk is not None and digest is not None else None
        if found is None:
            return default
        self._memory[key] = found
        return found

    def __setitem__(self, key: tuple[Any, ...], value: Translation) -> None:
        self._memory[key] = value
        if self._directory is None:
            return
        digest = key_digest(key)
        if digest is None:
            return
        with self._lock:
            disk = self._load()
            if disk is None or self._fd is None or disk.get(digest) == value:
                return
            disk[digest] = value
            try:
                os.write(self._fd, _line(digest, value))
            except OSError as exc:
                self._off(exc)

    def clear(self) -> None:
        """Empty the memory (the file is the next process's, and stays)."""
        self._memory.clear()

    # ------------------------------------------------------------------------------------ disk

    def _load(self) -> dict[str, Translation] | None:
        """The file's entries, read once; None with the disk off. Called under the lock."""
        if self._disk is not None or self._directory is None:
            return self._disk
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            path = self._directory / (translator_version() + _SUFFIX)
            fresh = not path.exists()
            if not fresh and path.stat().st_size > MAX_BYTES:
                path.unlink()
                fresh = True
            self._disk = {} if fresh else read_entries(path)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._path = path
            if fresh:
                _prune(self._directory, keep=path)
        except OSError as exc:
            self._off(exc)
        return self._disk

    def _off(self, exc: OSError) -> None:
        log.debug("translation cache on disk turned off: %s", exc)
        self._close()
        self._directory = None

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._disk, self._path = None, None, None


CACHE = Translations(LRUCache(maxsize=4096))
"""The process's translations (:mod:`fakes.bigquery.queries` reads and fills it; ``harness run``
opens its file)."""


def _prune(directory: Path, *, keep: Path) -> None:
    """Remove all but the newest :data:`KEEP_VERSIONS` other versions' files."""
    others = sorted(
        (p for p in directory.glob("*" + _SUFFIX) if p != keep), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for stale in others[KEEP_VERSIONS:]:
        stale.unlink(missing_ok=True)


__all__ = ["CACHE", "Translations", "key_digest", "read_entries", "translator_version"]
