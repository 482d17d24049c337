"""Snapshot files: ``<root>/<service>/<name>.json``, one per behaviour, kept in the repository.

A snapshot holds the normalized exchanges of one test and says how far to trust them:
``validated`` (true only when recorded against real GCP), ``validated_at`` (when), ``where`` (the
tier, the project masked, the Google client versions) and ``provenance`` (for each imitated error
the test expects, where our text for it was seen: ``confirmed`` or ``searched``). The files are
written sorted and indented, so a re-recording shows up as a readable diff.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.parity.exchange import Exchange, check

NAME = re.compile(r"[a-z][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*")
"""``<service>/<name>``: the service's directory and the file's stem."""


class SnapshotError(ValueError):
    """A snapshot name or file that cannot be used; the message names the file and field."""


@dataclass(frozen=True)
class Provenance:
    """Where the text of one expected error was seen (``confirmed``), or what was searched for it."""

    error: str
    confirmed: str | None = None
    searched: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.error, "confirmed": self.confirmed, "searched": self.searched}


@dataclass(frozen=True)
class Snapshot:
    """One stored behaviour: its normalized exchanges plus how far they are to be trusted."""

    name: str
    exchanges: list[Exchange]
    validated: bool = False
    validated_at: str | None = None
    where: dict[str, Any] = field(default_factory=dict)
    provenance: list[Provenance] = field(default_factory=list)

    @property
    def service(self) -> str:
        return self.name.partition("/")[0]

    @property
    def unconfirmed(self) -> list[str]:
        """The expected errors whose text nobody has seen the real service send."""
        return [item.error for item in self.provenance if item.confirmed is None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "validated": self.validated,
            "validated_at": self.validated_at,
            "where": self.where,
            "provenance": [item.as_dict() for item in self.provenance],
            "exchanges": self.exchanges,
        }


def check_name(name: str) -> str:
    """``name`` if it is ``<service>/<name>`` in lowercase letters, digits, ``_`` and ``-``."""
    if not NAME.fullmatch(name):
        raise SnapshotError(
            f"snapshot name {name!r}: write it <service>/<name>, e.g. bigquery/partition_field_not_found "
            "(lowercase letters, digits, _ and -)"
        )
    return name


def path_of(root: Path, name: str) -> Path:
    return root / f"{check_name(name)}.json"


def load(root: Path, name: str) -> Snapshot | None:
    """The stored snapshot ``name``, ``None`` when there is none."""
    path = path_of(root, name)
    if not path.is_file():
        return None
    return read(path, name)


def read(path: Path, name: str | None = None) -> Snapshot:
    """A snapshot file, checked; a :class:`SnapshotError` naming the file and field otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{path}: not a readable JSON snapshot: {exc}") from None
    if not isinstance(data, dict):
        raise SnapshotError(f"{path}: a snapshot is a JSON object")
    stored = data.get("name")
    if name is not None and stored != name:
        raise SnapshotError(f"{path}: name: {stored!r}, but the file is snapshot {name!r}")
    if not isinstance(stored, str):
        raise SnapshotError(f"{path}: name: missing")
    if not isinstance(data.get("validated"), bool):
        raise SnapshotError(f"{path}: validated: true or false, got {data.get('validated')!r}")
    exchanges = data.get("exchanges")
    if not isinstance(exchanges, list):
        raise SnapshotError(f"{path}: exchanges: a list")
    try:
        checked = [check(item, f"exchanges[{i}]") for i, item in enumerate(exchanges)]
    except ValueError as exc:
        raise SnapshotError(f"{path}: {exc}") from None
    provenance = [
        Provenance(str(item.get("error")), item.get("confirmed"), str(item.get("searched") or ""))
        for item in data.get("provenance") or []
        if isinstance(item, dict)
    ]
    return Snapshot(
        name=check_name(stored),
        exchanges=checked,
        validated=data["validated"],
        validated_at=data.get("validated_at"),
        where=dict(data.get("where") or {}),
        provenance=provenance,
    )


def write(root: Path, snapshot: Snapshot) -> Path:
    """Store ``snapshot`` (creating its service's directory); returns the file written."""
    path = path_of(root, snapshot.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(snapshot.as_dict(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def load_all(root: Path) -> list[Snapshot]:
    """Every snapshot under ``root``, by name."""
    if not root.is_dir():
        return []
    found = [read(path, f"{path.parent.name}/{path.stem}") for path in sorted(root.glob("*/*.json"))]
    return sorted(found, key=lambda snapshot: snapshot.name)
