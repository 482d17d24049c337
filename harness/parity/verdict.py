"""What a recording means for its snapshot, by tier: write it, or compare with it.

The one entry point for every caller — the pytest plugin's ``@pytest.mark.snapshot`` and, later,
a scenario's ``snapshot: <name>`` — so a snapshot means the same whoever made it:

* ``gcp``: written, ``validated: true``, with when and where;
* ``emulator`` with ``update``: written ``validated: false``, unless the stored one is validated,
  which is compared instead and never overwritten (the verdict's ``note`` says so);
* otherwise compared: the whole normalized exchanges on the emulator, the error outcomes only on
  the fake tier (``outcomes``: it makes no HTTP call).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.parity import compare, store
from harness.parity.exchange import Exchange, Outcome, error_outcomes
from harness.parity.normalize import Normalizer, mask_project, renumber

UPDATE_HINT = "record it with --backend emulator --parity-update (unvalidated) or on gcp (validated)"


@dataclass(frozen=True)
class Recording:
    """What one test or scenario run captured, ready to be judged against snapshot ``name``."""

    name: str
    tier: str
    project: str
    exchanges: Sequence[Exchange] = ()
    outcomes: Sequence[Outcome] = ()
    """The fake tier's errors (status, reason, message), in the order they were raised."""
    provenance: Sequence[store.Provenance] = ()
    clients: Mapping[str, str] = field(default_factory=dict)
    """Versions of the Google client libraries that made the calls."""


@dataclass(frozen=True)
class Verdict:
    """``written`` (a path), or ``compared`` with its ``differences``, or ``missing``."""

    action: str
    path: Path
    differences: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.action != "missing" and not self.differences

    def message(self, name: str) -> str:
        if self.action == "missing":
            return f"no snapshot {name} in {self.path.parent.parent}: {UPDATE_HINT}"
        return compare.report(name, self.differences)


def settle(
    root: Path,
    recording: Recording,
    normalizer: Normalizer,
    *,
    update: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Verdict:
    """Write or compare ``recording`` (see the module doc). ``normalizer`` holds the run's
    registered volatile values; ``now`` stamps a validated snapshot."""
    path = store.path_of(root, recording.name)
    stored = store.load(root, recording.name)
    note = None
    if recording.tier == "gcp":
        return _write(root, recording, normalizer, validated_at=now().isoformat(timespec="seconds"))
    if recording.tier == "emulator" and update:
        if stored is None or not stored.validated:
            return _write(root, recording, normalizer, validated_at=None)
        note = (
            f"snapshot {recording.name} was validated on GCP ({stored.validated_at}); an emulator "
            "update does not overwrite it, it is compared instead"
        )
    if stored is None:
        return Verdict("missing", path)
    if recording.tier == "fake":
        expected: Any = renumber([item.as_dict() for item in error_outcomes(stored.exchanges)])
        actual: Any = renumber([normalizer.outcome(item).as_dict() for item in recording.outcomes])
        found = compare.differences(expected, actual, "errors")
    else:
        found = compare.differences(stored.exchanges, normalizer.exchanges(recording.exchanges), "exchanges")
    return Verdict("compared", path, found, note)


def _write(root: Path, recording: Recording, normalizer: Normalizer, *, validated_at: str | None) -> Verdict:
    snapshot = store.Snapshot(
        name=recording.name,
        exchanges=normalizer.exchanges(recording.exchanges),
        validated=validated_at is not None,
        validated_at=validated_at,
        where={
            "tier": recording.tier,
            "project": mask_project(recording.project),
            "clients": dict(recording.clients),
        },
        provenance=list(recording.provenance),
    )
    return Verdict("written", store.write(root, snapshot))
