"""What each load user saw of its org's pipeline quota, and the audit of the server's counter.

Every accepted run (201) and every refusal (429) a user gets is written here as it happens, so at
the end of the run the daily counter the server keeps (``pipelines_run_today``) can be compared
with the runs it actually accepted: exact, or the run fails. A run still in flight when a user
was stopped by force may or may not have been counted; such orgs are audited with that slack and
listed, never silently passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class OrgTally:
    """One org's runs as its user saw them."""

    accepted: int = 0
    refused: int = 0
    refused_unclean: int = 0
    """429s without a usable ``Retry-After`` or without the ``QUOTA_EXCEEDED`` body."""
    accepted_after_refusal: int = 0
    """201s after a 429 on the same day: the quota let a run through it had refused."""
    in_flight: bool = False


@dataclass
class Audit:
    """One org's counter checked against its tally."""

    org_slug: str
    accepted: int
    counted: int | None
    daily_limit: int | None
    problem: str | None = None


@dataclass
class Ledger:
    """The tallies of every org of this process's users (one per user)."""

    orgs: dict[str, OrgTally] = field(default_factory=dict)
    audits: list[Audit] = field(default_factory=list)

    def tally(self, org_slug: str) -> OrgTally:
        return self.orgs.setdefault(org_slug, OrgTally())

    def check(self, org_slug: str, quota: dict[str, Any] | None, error: str | None = None) -> Audit:
        """Compare the server's quota view of ``org_slug`` with what its user saw; keep the result."""
        tally = self.tally(org_slug)
        counted = quota.get("pipelines_run_today") if quota else None
        limit = quota.get("daily_limit") if quota else None
        problem = error
        if problem is None and counted is None:
            problem = "the quota view has no pipelines_run_today"
        elif problem is None and counted not in (
            (tally.accepted, tally.accepted + 1) if tally.in_flight else (tally.accepted,)
        ):
            problem = f"the server counted {counted} runs, the user was given {tally.accepted}"
        elif problem is None and limit is not None and tally.accepted > limit:
            problem = f"{tally.accepted} runs accepted over a daily limit of {limit}"
        elif problem is None and tally.accepted_after_refusal:
            problem = f"{tally.accepted_after_refusal} runs accepted after the quota refused one"
        audit = Audit(org_slug, tally.accepted, counted, limit, problem)
        self.audits.append(audit)
        return audit

    def summary(self) -> dict[str, Any]:
        tallies = self.orgs.values()
        audited = {audit.org_slug for audit in self.audits}
        mismatches = [audit for audit in self.audits if audit.problem]
        return {
            "orgs": len(self.orgs),
            "orgs_audited": len(audited),
            "orgs_not_audited": sorted(set(self.orgs) - audited),
            "orgs_refused": sum(1 for tally in tallies if tally.refused),
            "runs_accepted": sum(tally.accepted for tally in tallies),
            "runs_refused": sum(tally.refused for tally in tallies),
            "refusals_without_retry_after": sum(tally.refused_unclean for tally in tallies),
            "runs_in_flight_at_stop": sorted(slug for slug, tally in self.orgs.items() if tally.in_flight),
            "counter_mismatches": [
                {
                    "org_slug": audit.org_slug,
                    "accepted": audit.accepted,
                    "counted": audit.counted,
                    "problem": audit.problem,
                }
                for audit in mismatches
            ],
        }


LEDGER = Ledger()
"""This process's ledger: Locust runs every user of a process (or of a worker) in it."""
