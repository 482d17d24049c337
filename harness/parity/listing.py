"""Which behaviours are validated against real GCP and which are not yet: the README's table.

Reads the snapshot files (:mod:`harness.parity.store`) and says, per service, how many were
recorded on real GCP (``validated``) and how many only on the emulator; each behaviour whose error
text is not confirmed is marked so, since those are the first a gcp run should look at.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from harness.parity.store import Snapshot


@dataclass(frozen=True)
class Counts:
    service: str
    validated: int
    total: int

    @property
    def unvalidated(self) -> int:
        return self.total - self.validated


def counts(snapshots: list[Snapshot]) -> list[Counts]:
    """Per service (alphabetical), then ``all``: validated and total snapshots."""
    totals = Counter(snapshot.service for snapshot in snapshots)
    validated = Counter(snapshot.service for snapshot in snapshots if snapshot.validated)
    rows = [Counts(service, validated[service], totals[service]) for service in sorted(totals)]
    return [*rows, Counts("all", sum(validated.values()), len(snapshots))]


def text_status(snapshot: Snapshot) -> str:
    """``confirmed``, ``not confirmed: <errors>`` or ``-`` (no error expected)."""
    if not snapshot.provenance:
        return "-"
    missing = snapshot.unconfirmed
    return f"not confirmed: {', '.join(missing)}" if missing else "confirmed"


def markdown(snapshots: list[Snapshot]) -> str:
    """The counts, then one row per behaviour, as Markdown tables (what the README shows)."""
    lines = ["| service | validated on GCP | not yet | total |", "|---|---|---|---|"]
    lines += [f"| {c.service} | {c.validated} | {c.unvalidated} | {c.total} |" for c in counts(snapshots)]
    lines += ["", "| snapshot | validated | where / when | error text |", "|---|---|---|---|"]
    for snapshot in snapshots:
        when = snapshot.validated_at or "-"
        where = f"{snapshot.where.get('tier', '?')} / {when}"
        mark = "yes" if snapshot.validated else "not yet"
        lines.append(f"| `{snapshot.name}` | {mark} | {where} | {text_status(snapshot)} |")
    return "\n".join(lines)
