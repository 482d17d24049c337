"""Crash-safe state files and the data-directory lock, shared by the fakes that persist themselves.

A fake that keeps state outside DuckDB (the KMS keyring, the provider fakes) writes one JSON file
per change: to a temporary file in the same directory, fsynced, renamed over the old one, and the
directory fsynced, so a ``kill -9`` at any moment leaves either the old file or the new one, never
half of one. A file that is nonetheless unreadable at start-up (truncated by hand, edited into
invalid JSON, of another format version) is a :class:`StateFileError` naming the file: starting
silently empty would lose a user's data without a word.

Two processes on one data directory would overwrite each other's files; :class:`DataDirLock`
(an advisory ``flock`` on ``DIR/.lock``, released by the kernel even on ``kill -9``) makes the
second one refuse. ``fcntl`` is POSIX-only, like the emulators' container image.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1
"""The version of every state file's layout; a file of another version is refused, not guessed."""


class StateFileError(Exception):
    """A state file (or the data directory) that cannot be used; the message names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def write_state(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` (plus the format version) as JSON, atomically and durably."""
    body = json.dumps({"format": FORMAT, **data}, indent=1, sort_keys=True).encode()
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def discard_temporary_files(directory: Path) -> list[Path]:
    """Remove what a write killed before its rename left behind (never read: the rename is the
    commit). Only safe under the data-dir lock, when no other writer can be mid-write."""
    stale = sorted(directory.glob(".*.tmp"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def read_state(path: Path) -> dict[str, Any] | None:
    """The data in ``path`` without the format field; None if there is no such file yet."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(path, f"cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StateFileError(path, f"is not valid JSON ({exc}); it is corrupt or half-written") from None
    if not isinstance(data, dict):
        raise StateFileError(path, "is not a JSON object; it is not a harness state file")
    if data.pop("format", None) != FORMAT:
        raise StateFileError(path, f"is not a harness state file of format {FORMAT}")
    return data


def field(path: Path, data: dict[str, Any], name: str, kind: type) -> Any:
    """``data[name]`` checked to be a ``kind``: a damaged file is an error naming file and field."""
    value = data.get(name)
    if not isinstance(value, kind):
        raise StateFileError(path, f"field {name!r} is missing or not a {kind.__name__}")
    return value


class DataDirLock:
    """One process per data directory: an exclusive, non-blocking ``flock`` on ``DIR/.lock``."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / ".lock"
        self._fd: int | None = None

    def acquire(self) -> DataDirLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateFileError(self.path.parent, f"cannot be used as a data dir ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StateFileError(
                self.path.parent,
                f"is in use by process {holder} (lock {self.path}); one process per data dir",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


__all__ = [
    "FORMAT",
    "DataDirLock",
    "StateFileError",
    "discard_temporary_files",
    "field",
    "read_state",
    "write_state",
]
