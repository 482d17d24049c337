"""Onboarding is all or nothing: a failure injected at any step leaves zero rows for the org."""

from __future__ import annotations

from dataclasses import replace

import pytest
from meta_rows import org_row_counts

from harness.faults import Fault, FaultPlan, FaultyKeyManager, FaultyWarehouse
from harness.onboarding import orgs
from harness.onboarding.audit import SYSTEM
from harness.onboarding.errors import Conflict
from harness.onboarding.models import OnboardRequest
from harness.ports import KeyManagerUnavailableError, NotFoundError, TransientError

REQUEST = OnboardRequest(org_slug="atomic_org", company_name="Atomic", admin_email="ops@atomic.io")


def rows_for(platform, org_slug: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return org_row_counts(platform, org_slug)


def nothing_left(backends) -> None:  # type: ignore[no-untyped-def]
    platform = backends.platform
    assert set(rows_for(platform, REQUEST.org_slug).values()) == {0}
    with pytest.raises(NotFoundError):
        platform.warehouse.get_dataset(platform.org_dataset(REQUEST.org_slug))


WAREHOUSE_STEPS = [
    ("create_dataset", ""),
    ("insert_rows", "org_profiles"),
    ("insert_rows", "org_api_keys"),
    ("insert_rows", "org_subscriptions"),
    ("insert_rows", "org_usage_quotas"),
    ("insert_rows", "org_kms_keys"),
    ("insert_rows", "org_audit_logs"),
]


@pytest.mark.parametrize(
    ("operation", "table"), WAREHOUSE_STEPS, ids=[f"{o}:{t}" for o, t in WAREHOUSE_STEPS]
)
def test_warehouse_failure_at_each_step_leaves_nothing(backends, operation: str, table: str) -> None:  # type: ignore[no-untyped-def]
    plan = FaultPlan()
    plan.add(Fault(operation, lambda: TransientError("backendError injected"), match=table))
    platform = replace(backends.platform, warehouse=FaultyWarehouse(backends.platform.warehouse, plan))
    with pytest.raises(TransientError, match="injected"):
        orgs.onboard(platform, REQUEST, SYSTEM)
    assert plan.faults[0].fired == 1
    nothing_left(backends)
    # A retry after the fault clears starts clean and succeeds.
    result = orgs.onboard(backends.platform, REQUEST, SYSTEM)
    assert result.org.org_slug == REQUEST.org_slug
    assert rows_for(backends.platform, REQUEST.org_slug)["org_profiles"] == 1


def test_kms_failure_leaves_nothing(backends) -> None:  # type: ignore[no-untyped-def]
    plan = FaultPlan()
    plan.add(Fault("encrypt", lambda: KeyManagerUnavailableError("UNAVAILABLE injected")))
    platform = replace(backends.platform, keys=FaultyKeyManager(backends.platform.keys, plan))
    with pytest.raises(KeyManagerUnavailableError):
        orgs.onboard(platform, REQUEST, SYSTEM)
    nothing_left(backends)


def test_duplicate_slug_is_409_and_changes_nothing(backends) -> None:  # type: ignore[no-untyped-def]
    orgs.onboard(backends.platform, REQUEST, SYSTEM)
    before = rows_for(backends.platform, REQUEST.org_slug)
    with pytest.raises(Conflict) as info:
        orgs.onboard(backends.platform, replace_request(company_name="Other"), SYSTEM)
    assert (info.value.status, info.value.code) == (409, "ORG_ALREADY_EXISTS")
    assert rows_for(backends.platform, REQUEST.org_slug) == before
    assert orgs.get(backends.platform, REQUEST.org_slug).company_name == "Atomic"


def test_leftover_dataset_is_a_conflict_not_an_overwrite(backends) -> None:  # type: ignore[no-untyped-def]
    backends.platform.warehouse.create_dataset(backends.platform.org_dataset(REQUEST.org_slug))
    with pytest.raises(Conflict) as info:
        orgs.onboard(backends.platform, REQUEST, SYSTEM)
    assert info.value.code == "ORG_DATASET_EXISTS"
    assert set(rows_for(backends.platform, REQUEST.org_slug).values()) == {0}
    assert backends.platform.warehouse.get_dataset(backends.platform.org_dataset(REQUEST.org_slug))


def replace_request(**changes: object) -> OnboardRequest:
    return REQUEST.model_copy(update=changes)
