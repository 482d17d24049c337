"""The janitor: find and remove what scenario runs left behind in a project — a nightly job killed
half-way never reaches its own cleanup.

What belongs to a run, and nothing else, is swept:

* **datasets** carrying the run labels (:mod:`harness.scenario.labels`) whose age, by their
  ``harness-created`` label, has reached the limit (``older_than``, else the dataset's own
  ``harness-ttl``). A dataset without ``harness-run: "true"`` is never touched.
* **the meta rows of the runs' orgs**, in every table of the bootstrap config, removed with
  offboarding's own :func:`~harness.onboarding.offboarding.erase` (org_integration_credentials
  holds the KMS-encrypted provider credentials, org_kms_keys the key records: both go with the
  org). A run's orgs are known two ways: the ``org_slug`` label onboarding puts on every org
  dataset (an org dataset is created before any of its rows, so every onboarded org has one),
  and :data:`RUN_ORG_PREFIX`, which catches an org whose dataset is already gone (an offboarding
  killed half-way): such an org is swept when its profile is older than the limit, or has no
  profile left. An org named by a labelled dataset that is not old enough yet is kept (a run in
  flight), whatever its prefix.
* **the meta dataset**, when a run created it (labelled) and it is old enough, only once no org
  but the platform's own records (``__platform__`` audit rows) has rows in it: a meta dataset
  other runs or real orgs use stays, and only their swept rows leave it.

Nothing is deleted on a dry run; the report says what would go. Time comes from the clock given
(cutoff = now - limit), so tests move it instead of waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from harness.onboarding.audit import PLATFORM_ORG
from harness.onboarding.models import RESERVED_PREFIX
from harness.onboarding.offboarding import erase
from harness.onboarding.platform import Platform
from harness.ports import Clock, DatasetInfo, NotFoundError
from harness.scenario.labels import DEFAULT_TTL, ORG_SLUG_LABEL, RunStamp

RUN_ORG_PREFIX = "e2e_"
"""Org slugs starting with this are a harness run's (``scenarios/full_onboarding.yml``, the
nightly flow, names its org ``e2e_{run_id}``): the janitor may sweep their meta rows even when
no labelled dataset names them any more."""

PROFILES = "org_profiles"
"""The meta table whose rows' ``created_at`` dates an org."""
CREDENTIAL_TABLES = ("org_integration_credentials", "org_kms_keys")
"""The meta tables holding KMS-encrypted credentials and key records, counted apart in reports."""


@dataclass(frozen=True)
class DatasetEntry:
    """One labelled dataset: swept (``due``) or kept, and why."""

    dataset_id: str
    run_id: str
    created: datetime
    age: timedelta
    due: bool
    reason: str = ""


@dataclass(frozen=True)
class OrgEntry:
    """One run org whose meta rows the janitor removes (or would, on a dry run)."""

    org_slug: str
    run_id: str
    rows: dict[str, int]
    """Rows per meta table (tables with none are left out)."""

    @property
    def credentials(self) -> int:
        return sum(self.rows.get(table, 0) for table in CREDENTIAL_TABLES)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass
class Sweep:
    """What one janitor pass found, and removed unless ``dry_run``."""

    now: datetime
    dry_run: bool
    older_than: timedelta | None
    datasets: list[DatasetEntry] = field(default_factory=list)
    orgs: list[OrgEntry] = field(default_factory=list)

    @property
    def removed_datasets(self) -> list[DatasetEntry]:
        return [entry for entry in self.datasets if entry.due]

    @property
    def kept_datasets(self) -> list[DatasetEntry]:
        return [entry for entry in self.datasets if not entry.due]

    def to_dict(self) -> dict[str, object]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "older_than_seconds": None if self.older_than is None else int(self.older_than.total_seconds()),
            "datasets": [
                {
                    "dataset_id": e.dataset_id,
                    "run_id": e.run_id,
                    "created": e.created.isoformat(),
                    "age_seconds": int(e.age.total_seconds()),
                    "action": ("would delete" if self.dry_run else "deleted") if e.due else "kept",
                    "reason": e.reason,
                }
                for e in self.datasets
            ],
            "orgs": [
                {
                    "org_slug": o.org_slug,
                    "run_id": o.run_id,
                    "rows": dict(o.rows),
                    "credentials": o.credentials,
                    "action": "would delete" if self.dry_run else "deleted",
                }
                for o in self.orgs
            ],
        }


def sweep(
    platform: Platform, clock: Clock, *, older_than: timedelta | None = None, dry_run: bool = False
) -> Sweep:
    """Find what runs left behind in ``platform``'s project and, unless ``dry_run``, remove it."""
    now = clock.now()
    result = Sweep(now=now, dry_run=dry_run, older_than=older_than)
    warehouse = platform.warehouse
    labelled = [(info, stamp) for info in warehouse.list_datasets() if (stamp := RunStamp.of(info))]
    due_orgs: dict[str, str] = {}
    young_orgs: set[str] = set()
    due_datasets: list[tuple[DatasetInfo, RunStamp]] = []
    for info, stamp in labelled:
        limit = older_than if older_than is not None else (stamp.ttl or DEFAULT_TTL)
        org = info.labels.get(ORG_SLUG_LABEL)
        if now - stamp.created >= limit:
            due_datasets.append((info, stamp))
            if org:
                due_orgs[org] = stamp.run_id
        else:
            if org:
                young_orgs.add(org)
            result.datasets.append(_entry(info, stamp, now, due=False, reason=f"younger than {limit}"))

    meta = _MetaRows(platform)
    cutoff = now - (older_than if older_than is not None else DEFAULT_TTL)
    for slug, created in meta.prefixed_orgs(RUN_ORG_PREFIX):
        if slug not in due_orgs and slug not in young_orgs and (created is None or created <= cutoff):
            due_orgs[slug] = ""
    for slug in sorted(due_orgs):
        if slug in young_orgs or slug.startswith(RESERVED_PREFIX):
            continue
        rows = meta.rows_of(slug)
        if not dry_run:
            rows = {t: n for t, n in erase(meta.present_platform, slug)[0].items() if n}
        if rows:
            result.orgs.append(OrgEntry(org_slug=slug, run_id=due_orgs[slug], rows=rows))

    swept = {o.org_slug for o in result.orgs}
    for info, stamp in due_datasets:
        if info.dataset_id == platform.meta_dataset:
            others = meta.other_orgs(swept)
            if others:
                reason = f"holds rows of {len(others)} other org(s), e.g. {sorted(others)[0]}"
                result.datasets.append(_entry(info, stamp, now, due=False, reason=reason))
                continue
        if not dry_run:
            warehouse.delete_dataset(info.dataset_id, delete_contents=True, not_found_ok=True)
        result.datasets.append(_entry(info, stamp, now, due=True))
    result.datasets.sort(key=lambda e: (not e.due, e.dataset_id))
    return result


def _entry(info: DatasetInfo, stamp: RunStamp, now: datetime, *, due: bool, reason: str = "") -> DatasetEntry:
    return DatasetEntry(
        dataset_id=info.dataset_id,
        run_id=stamp.run_id,
        created=stamp.created,
        age=now - stamp.created,
        due=due,
        reason=reason,
    )


class _MetaRows:
    """Who has rows in the meta tables that exist (a bootstrap killed half-way leaves some out):
    one query per sweep, a ``GROUP BY org_slug`` per table joined with ``UNION ALL`` (one job and
    one round trip instead of one per table), which also carries each profile's creation time."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        try:
            present = {t.table_id for t in platform.warehouse.list_tables(platform.meta_dataset)}
        except NotFoundError:
            present = set()
        tables = tuple(spec for spec in platform.config.tables if spec.table_id in present)
        self.present_platform = replace(platform, config=replace(platform.config, tables=tables))
        """The platform with only the meta tables that exist, for offboarding's ``erase``."""
        self._counts: dict[str, dict[str, int]] = {spec.table_id: {} for spec in tables}
        self._profiles: dict[str, datetime | None] = {}
        if not tables:
            return
        per_table = " UNION ALL ".join(
            f"SELECT '{spec.table_id}' AS table_id, org_slug, COUNT(*) AS n, "
            f"{'MIN(created_at)' if spec.table_id == PROFILES else 'CAST(NULL AS TIMESTAMP)'} AS created "
            f"FROM {platform.table(spec.table_id)} GROUP BY org_slug"
            for spec in tables
        )
        for row in platform.select(per_table).rows:
            slug = str(row["org_slug"])
            self._counts[row["table_id"]][slug] = int(row["n"])
            if row["table_id"] == PROFILES:
                self._profiles[slug] = row["created"]

    def rows_of(self, slug: str) -> dict[str, int]:
        return {table: counts[slug] for table, counts in self._counts.items() if counts.get(slug)}

    def prefixed_orgs(self, prefix: str) -> Iterable[tuple[str, datetime | None]]:
        """Every org with rows whose slug starts with ``prefix``, and its profile's creation time
        (None when its profile is gone)."""
        slugs = {slug for counts in self._counts.values() for slug in counts if slug.startswith(prefix)}
        return sorted((slug, self._profiles.get(slug)) for slug in slugs)

    def other_orgs(self, swept: set[str]) -> set[str]:
        """Orgs other than ``swept`` and the platform's own records that have rows."""
        return {
            slug
            for counts in self._counts.values()
            for slug, n in counts.items()
            if n and slug not in swept and slug != PLATFORM_ORG
        }


__all__ = ["CREDENTIAL_TABLES", "RUN_ORG_PREFIX", "DatasetEntry", "OrgEntry", "Sweep", "sweep"]
