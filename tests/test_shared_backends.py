"""tests/shared_backends.py: a reset leaves what a fresh build and bootstrap leave, so the tests
that share one set of backends never see each other's rows, datasets, faults or clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meta_rows import table_row_counts
from shared_backends import shared_backends

from harness.backends import TierBackends
from harness.faults.backend import BackendFault, Port
from harness.onboarding import integrations, orgs
from harness.onboarding.audit import SYSTEM
from harness.onboarding.models import IntegrationSetup, OnboardRequest
from harness.ports import Provider
from harness.schema.loader import load_config

CONFIG = load_config()
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
REQUEST = OnboardRequest(org_slug="left_org", company_name="Left", admin_email="ops@left.example")


def leave_things_behind(backends: TierBackends) -> str:
    """An org with an integration, a stray dataset and an armed fault; the first provider key."""
    platform = backends.platform
    key = backends.openai.issue_admin_key()
    orgs.onboard(platform, REQUEST, SYSTEM)
    integrations.setup(platform, REQUEST.org_slug, Provider.OPENAI, IntegrationSetup(credential=key), SYSTEM)
    platform.warehouse.create_dataset("stray")
    backends.faults.arm(BackendFault(Port.WAREHOUSE, "backend_error", after=1000))  # type: ignore[attr-defined]
    return key


def assert_fresh(backends: TierBackends, first_key: str) -> None:
    platform = backends.platform
    tables = [spec.table_id for spec in CONFIG.tables]
    assert table_row_counts(platform, tables) == dict.fromkeys(tables, 0)
    assert [d.dataset_id for d in platform.warehouse.list_datasets()] == [platform.meta_dataset]
    assert backends.faults.pending() == []  # type: ignore[attr-defined]
    assert backends.clock.now() == NOW
    assert backends.openai.issue_admin_key() == first_key, "the provider fakes are back to their seed"
    assert orgs.onboard(platform, REQUEST, SYSTEM).api_key, "the same org onboards again"


def test_a_reset_leaves_the_bootstrapped_tables_empty_and_nothing_else(harness_tier: str) -> None:
    with shared_backends(now=NOW, seed=5, config=CONFIG) as shared:
        backends = shared.fresh(harness_tier)
        first_key = leave_things_behind(backends)
        again = shared.fresh(harness_tier)
        assert again is backends, "the same backends, reset"
        assert_fresh(again, first_key)


def test_backends_whose_clock_moved_are_built_again(harness_tier: str) -> None:
    with shared_backends(now=NOW, seed=5, config=CONFIG) as shared:
        backends = shared.fresh(harness_tier)
        first_key = leave_things_behind(backends)
        backends.clock.advance(timedelta(hours=2))
        again = shared.fresh(harness_tier)
        assert again is not backends, "a manual clock never goes back: new backends"
        assert_fresh(again, first_key)


def test_alternating_tiers_keep_their_backends_and_each_reaches_its_own_providers() -> None:
    """A module's tests alternate tiers: both stay open, and the fake tier's provider mocks are
    off while the emulator tier runs (its credential check reaches the provider emulator over
    HTTP) and on again for the fake tier (its check reaches the mocked fake)."""
    with shared_backends(now=NOW, seed=5, config=CONFIG) as shared:
        fake = shared.fresh("fake")
        fake_key = leave_things_behind(fake)
        emulator = shared.fresh("emulator")
        emulator_key = leave_things_behind(emulator)
        assert shared.fresh("fake") is fake
        assert_fresh(fake, fake_key)
        credential = IntegrationSetup(credential=fake.openai.issue_admin_key())
        integrations.setup(fake.platform, REQUEST.org_slug, Provider.OPENAI, credential, SYSTEM)
        assert shared.fresh("emulator") is emulator
        assert_fresh(emulator, emulator_key)
