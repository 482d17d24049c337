"""Offboarding (cleanup): remove an org from every meta table and drop its dataset.

The tables come from the bootstrap config, so a table added there is cleaned up too. Running it
twice is safe: the second run deletes nothing and says so, and one that failed half-way is
finished by its retry. The profile row goes first: it is what a pipeline run still in flight
checks after its last write to know it must remove its own rows (harness.pipelines.runner).
"""

from __future__ import annotations

from harness.onboarding import audit
from harness.onboarding.audit import PLATFORM_ORG, Actor
from harness.onboarding.errors import InvalidRequest
from harness.onboarding.models import RESERVED_PREFIX, OffboardResult
from harness.onboarding.platform import Platform
from harness.ports import NotFoundError

PROFILES = "org_profiles"


def offboard(platform: Platform, org_slug: str, actor: Actor) -> OffboardResult:
    if org_slug.startswith(RESERVED_PREFIX):
        raise InvalidRequest(f"'{org_slug}' is reserved for the platform's own records", code="RESERVED_SLUG")
    deleted, dataset_deleted = erase(platform, org_slug)
    audit.record(
        platform,
        org_slug=PLATFORM_ORG,
        actor=actor,
        action="org.offboard",
        target_type="ORGANIZATION",
        target_id=org_slug,
        details={"deleted_rows": deleted, "dataset_deleted": dataset_deleted},
    )
    return OffboardResult(org_slug=org_slug, deleted_rows=deleted, dataset_deleted=dataset_deleted)


def erase(platform: Platform, org_slug: str) -> tuple[dict[str, int], bool]:
    """The org's rows in every meta table (deleted counts) and its dataset (whether it existed),
    without an audit entry: offboarding records one; undoing an onboarding whose response could
    not be stored must leave nothing at all."""
    # The profile goes first: a pipeline run in flight checks it after its last write and, once
    # it is gone, removes its own rows (harness.pipelines.runner), so no interleaving leaves any.
    tables = sorted((spec.table_id for spec in platform.config.tables), key=lambda t: t != PROFILES)
    deleted = {table: platform.delete_org_rows(table, org_slug) for table in tables}
    try:
        platform.warehouse.delete_dataset(platform.org_dataset(org_slug), delete_contents=True)
        dataset_deleted = True
    except NotFoundError:
        dataset_deleted = False
    return deleted, dataset_deleted
