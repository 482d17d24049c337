"""Regressions for issue 14's data-loss defects at the warehouse and KMS ports, one test per defect.

Each test wraps the tier's ports in ``harness.faults`` wrappers, makes one chosen call fail (or
lands another request just before it, with a ``Hook``), and then asks the warehouse itself what
was left behind: rows in any of the meta tables for the org, an org dataset, a run that is still
RUNNING. Then it retries the same request with the fault gone and checks that it reaches the
same end state as a run without the fault. The loops at the end fail every port call of
onboarding and of integration setup in turn, so a step added later is covered without a new
test. Time is the manual clock; nothing sleeps and nothing runs in a thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from meta_rows import org_row_counts
from shared_backends import SharedBackends, shared_backends

from harness.backends import TierBackends
from harness.faults import ANY, Fault, FaultPlan, FaultyKeyManager, FaultyWarehouse, Hook
from harness.onboarding import billing, integrations, orgs, subscriptions
from harness.onboarding.audit import SYSTEM
from harness.onboarding.errors import DomainError
from harness.onboarding.models import IntegrationSetup, OnboardRequest
from harness.onboarding.offboarding import offboard
from harness.onboarding.platform import Platform
from harness.pipelines import runner
from harness.pipelines.models import RunRequest
from harness.ports import KeyManagerUnavailableError, NotFoundError, Provider, TransientError
from harness.schema.loader import load_config
from harness.services.api import create_api_app

CONFIG = load_config()
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
YESTERDAY = date(2025, 3, 9)
SLUG = "fault_org"
REQUEST = OnboardRequest(org_slug=SLUG, company_name="Fault", admin_email="ops@fault.example")
ROOT = {"X-CA-Root-Key": "local-root-key"}
PIPELINE = runner.find("openai", "cost", "usage_cost")


def backend_error() -> TransientError:
    return TransientError("backendError: injected")


@dataclass
class Env:
    backends: TierBackends

    @property
    def platform(self) -> Platform:
        return self.backends.platform

    def faulty(self, plan: FaultPlan) -> Platform:
        """The same platform, its warehouse and key manager consulting ``plan`` first."""
        return replace(
            self.platform,
            warehouse=FaultyWarehouse(self.platform.warehouse, plan),
            keys=FaultyKeyManager(self.platform.keys, plan),
        )

    def rows(self, org_slug: str = SLUG) -> dict[str, int]:
        """Rows for the org in each meta table that has any (every table counted, in one query)."""
        counts = org_row_counts(self.platform, org_slug, (spec.table_id for spec in CONFIG.tables))
        return {table: n for table, n in counts.items() if n}

    def has_dataset(self, org_slug: str = SLUG) -> bool:
        try:
            self.platform.warehouse.get_dataset(self.platform.org_dataset(org_slug))
        except NotFoundError:
            return False
        return True

    def runs(self, *statuses: str) -> list[dict[str, Any]]:
        """The org's runs in any of ``statuses``."""
        return self.platform.select(
            f"SELECT run_id FROM {self.platform.table('org_meta_pipeline_runs')} "
            "WHERE org_slug = @s AND status IN UNNEST(@statuses)",
            {"s": SLUG, "statuses": list(statuses)},
        ).rows

    def onboarded(self) -> str:
        """Onboard the org with an OpenAI integration; its credential."""
        orgs.onboard(self.platform, REQUEST, SYSTEM)
        return self.integrate(self.platform)

    def integrate(self, platform: Platform) -> str:
        credential = self.backends.openai.issue_admin_key()
        integrations.setup(platform, SLUG, Provider.OPENAI, IntegrationSetup(credential=credential), SYSTEM)
        return credential


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedBackends]:
    """One set of backends per tier for the module, bootstrapped once (tests/shared_backends.py)."""
    with shared_backends(now=NOW, seed=14, config=CONFIG) as opened:
        yield opened


@pytest.fixture
def env(shared: SharedBackends, harness_tier: str) -> Env:
    """The tier's backends, bootstrapped with no row, no org dataset and no fault, at ``NOW``."""
    return Env(shared.fresh(harness_tier))


def run(platform: Platform) -> Any:
    return runner.run_pipeline(platform, SLUG, PIPELINE, RunRequest(date=YESTERDAY), SYSTEM)


# ----------------------------------------------------------------------------------- the defects
def test_onboarding_read_back_failure_leaves_no_org_and_a_retry_succeeds(env: Env) -> None:
    """The read-back of the new org (after every row is written) fails: before the fix the org
    stayed, the caller never got its API key, and every retry answered 409 ORG_ALREADY_EXISTS."""
    plan = FaultPlan()
    # The first SELECT on org_profiles is the existence check; the second is the read-back.
    fault = plan.add(Fault("query", backend_error, match="org_profiles", after=1))
    with pytest.raises(TransientError, match="injected"):
        orgs.onboard(env.faulty(plan), REQUEST, SYSTEM)
    assert fault.fired == 1
    assert env.rows() == {}
    assert not env.has_dataset()

    result = orgs.onboard(env.platform, REQUEST, SYSTEM)
    assert result.org.org_slug == SLUG
    assert result.api_key
    assert env.rows() == {
        "org_profiles": 1,
        "org_api_keys": 1,
        "org_subscriptions": 1,
        "org_usage_quotas": 1,
        "org_kms_keys": 1,
        "org_audit_logs": 1,
    }


def test_onboarding_read_back_failure_over_http_is_a_503_and_the_retry_is_201(env: Env) -> None:
    """The same defect as the caller saw it: a structured 503, then the retry is 201 with a key,
    not 409 ORG_ALREADY_EXISTS."""
    plan = FaultPlan()
    plan.add(Fault("query", backend_error, match="org_profiles", after=1))
    body = {"org_slug": SLUG, "company_name": "Fault", "admin_email": "ops@fault.example"}
    with TestClient(create_api_app(env.faulty(plan))) as api:
        failed = api.post("/api/v1/organizations/onboard", headers=ROOT, json=body)
        assert failed.status_code == 503, failed.text
        assert failed.json()["error"] == "WAREHOUSE_UNAVAILABLE"
        retried = api.post("/api/v1/organizations/onboard", headers=ROOT, json=body)
        assert retried.status_code == 201, retried.text
        assert retried.json()["api_key"]
        org = api.get(f"/api/v1/organizations/{SLUG}", headers={"X-API-Key": retried.json()["api_key"]})
        assert org.status_code == 200, org.text


def test_integration_audit_failure_keeps_no_credential(env: Env) -> None:
    """Writing the setup's audit row fails: before the fix the 5xx kept the credential row."""
    orgs.onboard(env.platform, REQUEST, SYSTEM)
    before = env.rows()
    plan = FaultPlan()
    fault = plan.add(Fault("insert_rows", backend_error, match="org_audit_logs"))
    with pytest.raises(TransientError, match="injected"):
        env.integrate(env.faulty(plan))
    assert fault.fired == 1
    assert env.rows() == before
    assert integrations.list_integrations(env.platform, SLUG) == []

    env.integrate(env.platform)
    assert [i.provider for i in integrations.list_integrations(env.platform, SLUG)] == [Provider.OPENAI]


def test_integration_replacement_failure_keeps_the_old_credential(env: Env) -> None:
    """Replacing a credential fails at the audit row: the old credential stays, alone and usable."""
    old = env.onboarded()
    (before,) = integrations.list_integrations(env.platform, SLUG)
    plan = FaultPlan()
    plan.add(Fault("insert_rows", backend_error, match="org_audit_logs"))
    with pytest.raises(TransientError, match="injected"):
        env.integrate(env.faulty(plan))
    assert integrations.list_integrations(env.platform, SLUG) == [before]
    assert integrations.decrypt_credential(env.platform, SLUG, Provider.OPENAI) == old


def test_pipeline_finalise_failure_leaves_no_running_run_and_a_retry_runs(env: Env) -> None:
    """The UPDATE that ends the run fails once: before the fix the run stayed RUNNING and every
    retry of that date answered 409 PIPELINE_ALREADY_RUNNING."""
    env.onboarded()
    plan = FaultPlan()
    # UPDATEs of the run row: RUNNING first, then the end of the run.
    fault = plan.add(Fault("execute", backend_error, match="org_meta_pipeline_runs` SET", after=1))
    result = run(env.faulty(plan))
    assert fault.fired == 1
    assert result.status == "SUCCESS"
    assert env.runs("RUNNING") == []

    again = run(env.platform)
    assert again.status == "SUCCESS"
    assert len(env.runs("SUCCESS")) == 2


def test_pipeline_failure_to_mark_running_leaves_no_live_run(env: Env) -> None:
    """The UPDATE to RUNNING fails (found by failing each call): the PENDING row blocked every
    retry for an hour. Now the run ends FAILED, saying the warehouse failed, and the retry runs."""
    env.onboarded()
    plan = FaultPlan()
    plan.add(Fault("execute", backend_error, match="org_meta_pipeline_runs` SET"))
    result = run(env.faulty(plan))
    assert (result.status, result.error_code) == ("FAILED", "WAREHOUSE_UNAVAILABLE")
    assert env.runs("RUNNING", "PENDING") == []
    assert run(env.platform).status == "SUCCESS"


def pipeline_calls(env: Env) -> int:
    """How many warehouse / KMS calls one run of the pipeline makes (a real run, counted)."""
    plan = FaultPlan()
    run(env.faulty(plan))
    return plan.calls


def test_offboarding_during_a_pipeline_run_leaves_no_rows(env: Env) -> None:
    """Offboarding lands in the middle of a run, before each of the run's port calls in turn:
    before the fix up to 5 rows (quota, run, step logs, audit, cost tracking) stayed behind."""
    env.onboarded()
    calls = pipeline_calls(env)
    assert calls > 10
    left: dict[int, dict[str, int]] = {}
    for n in range(1, calls + 1):
        if n > 1:
            env.onboarded()
        plan = FaultPlan()
        hook = plan.add(Hook(ANY, lambda: offboard(env.platform, SLUG, SYSTEM), after=n - 1))
        try:
            run(env.faulty(plan))
        except DomainError as exc:  # a structured refusal; which one depends on where it landed
            assert exc.status < 500, exc
            # The org is gone, not unconfigured (found by the two-instance scenario under load).
            assert exc.code != "INTEGRATION_NOT_CONFIGURED", (n, exc)
        assert hook.fired == 1
        remaining = env.rows()
        if remaining or env.has_dataset():
            left[n] = remaining
            offboard(env.platform, SLUG, SYSTEM)  # the hook's offboarding left nothing otherwise
    assert left == {}


# ------------------------------------------------------------------- every port call, in turn
def onboarding_calls(env: Env) -> int:
    plan = FaultPlan()
    orgs.onboard(env.faulty(plan), REQUEST, SYSTEM)
    offboard(env.platform, SLUG, SYSTEM)
    return plan.calls


@pytest.mark.parametrize("error", [backend_error, lambda: KeyManagerUnavailableError("UNAVAILABLE")])
def test_onboarding_failing_at_every_port_call_leaves_nothing(env: Env, error: Any) -> None:
    calls = onboarding_calls(env)
    assert calls > 8
    left: dict[int, dict[str, int]] = {}
    for n in range(1, calls + 1):
        plan = FaultPlan()
        fault = plan.add(Fault(ANY, error, after=n - 1))
        with pytest.raises(type(error())):
            orgs.onboard(env.faulty(plan), REQUEST, SYSTEM)
        assert fault.fired == 1
        remaining = env.rows()
        if remaining or env.has_dataset():
            left[n] = remaining
            offboard(env.platform, SLUG, SYSTEM)
            continue
        assert orgs.onboard(env.platform, REQUEST, SYSTEM).api_key
        offboard(env.platform, SLUG, SYSTEM)
    assert left == {}


def test_integration_setup_failing_at_every_port_call_changes_nothing(env: Env) -> None:
    old = env.onboarded()
    plan = FaultPlan()
    env.integrate(env.faulty(plan))
    calls = plan.calls
    assert calls > 5
    changed: dict[int, str] = {}
    # Each attempt is compared with the state just before it: the previous attempt's "after"
    # (nothing writes in between), so each state is read once.
    before = (env.rows(), integrations.list_integrations(env.platform, SLUG))
    current = integrations.decrypt_credential(env.platform, SLUG, Provider.OPENAI)
    for n in range(1, calls + 1):
        plan = FaultPlan()
        fault = plan.add(Fault(ANY, backend_error, after=n - 1))
        with pytest.raises(TransientError):
            env.integrate(env.faulty(plan))
        assert fault.fired == 1
        after = (env.rows(), integrations.list_integrations(env.platform, SLUG))
        credential = integrations.decrypt_credential(env.platform, SLUG, Provider.OPENAI)
        if after != before or credential != current:
            changed[n] = repr(after)
        before, current = after, credential
    assert changed == {}
    assert old


def quota_used(env: Env) -> int:
    return int(
        env.platform.select(
            "SELECT COALESCE(SUM(pipelines_run_today), 0) AS n "
            f"FROM {env.platform.table('org_usage_quotas')} WHERE org_slug = @s",
            {"s": SLUG},
        ).scalar()
    )


def test_pipeline_failing_at_every_port_call_leaves_no_live_run(env: Env) -> None:
    """Invariant (d) of issue 14 at every port call of a run: the request ends in a result or an
    error, and afterwards no run of the org is PENDING or RUNNING, so a retry is never refused."""
    env.onboarded()
    calls = pipeline_calls(env)
    live: dict[int, int] = {}
    for n in range(1, calls + 1):
        env.platform.delete_org_rows("org_usage_quotas", SLUG)  # each attempt starts with quota left
        plan = FaultPlan()
        fault = plan.add(Fault(ANY, backend_error, after=n - 1))
        with suppress(TransientError):
            run(env.faulty(plan))
        assert fault.fired == 1
        if still_live := env.runs("RUNNING", "PENDING"):
            live[n] = len(still_live)
    assert live == {}
    assert run(env.platform).status == "SUCCESS"


def test_a_start_whose_quota_row_went_after_the_check_is_still_counted(env: Env) -> None:
    """Counting a start reads today's quota row once, for the limit check, and counts in it. If
    the row goes between the two (a concurrent start gave back the row it had made), the count's
    UPDATE finds nothing: the start then makes the day's row itself rather than count nowhere."""
    env.onboarded()
    assert run(env.platform).status == "SUCCESS"
    assert quota_used(env) == 1
    plan = FaultPlan()
    hook = plan.add(
        Hook(
            "execute",
            lambda: env.platform.delete_org_rows("org_usage_quotas", SLUG),
            match="SET pipelines_run_today = pipelines_run_today + 1",
        )
    )
    assert run(env.faulty(plan)).status == "SUCCESS"
    assert hook.fired == 1
    rows = env.platform.select(
        f"SELECT pipelines_run_today, pipelines_run_month FROM {env.platform.table('org_usage_quotas')} "
        "WHERE org_slug = @s",
        {"s": SLUG},
    ).rows
    assert rows == [{"pipelines_run_today": 1, "pipelines_run_month": 2}]


@pytest.mark.parametrize("earlier_runs_today", [0, 1])
def test_pipeline_start_failure_does_not_consume_quota(env: Env, earlier_runs_today: int) -> None:
    """Found by the loop: a start that failed after the quota was counted (writing its run row, or
    in the count's own read-back) burnt one start each time, until the org hit its 429. The count
    is now the start's last fallible call before the run row, and a failed run row gives it back
    (deleting the day's row it made, or lowering the counters it raised)."""
    env.onboarded()
    for _ in range(earlier_runs_today):
        run(env.platform)
    plan = FaultPlan()
    plan.add(Fault("execute", backend_error, match="org_meta_pipeline_runs` (run_id"))
    used = quota_used(env)
    with pytest.raises(TransientError):
        run(env.faulty(plan))
    assert quota_used(env) == used


def test_integration_delete_failing_at_every_port_call_changes_nothing(env: Env) -> None:
    """Found by the loop: a failing audit write after the delete answered 5xx with the
    credential gone, and the retry then said 404. Now the audit row comes first and is taken
    back if the delete fails, so a failed delete changes nothing and its retry deletes."""
    env.onboarded()
    plan = FaultPlan()
    integrations.delete(env.faulty(plan), SLUG, Provider.OPENAI, SYSTEM)
    calls = plan.calls
    env.integrate(env.platform)
    changed: dict[int, dict[str, int]] = {}
    before = env.rows()  # then the previous attempt's "after": nothing writes in between
    for n in range(1, calls + 1):
        plan = FaultPlan()
        plan.add(Fault(ANY, backend_error, after=n - 1))
        with pytest.raises(TransientError):
            integrations.delete(env.faulty(plan), SLUG, Provider.OPENAI, SYSTEM)
        if (after := env.rows()) != before:
            changed[n] = after
        before = after
    assert changed == {}
    assert integrations.delete(env.platform, SLUG, Provider.OPENAI, SYSTEM) == 1
    assert integrations.list_integrations(env.platform, SLUG) == []


# ------------------------------------------- found by the fault plans (tests/test_fault_plans.py)
STORE_RESPONSE = ("execute", "SET response_status")
"""The UPDATE that stores an idempotent request's response, after the request did its work."""
AUDIT_ROW = ("insert_rows", "org_audit_logs")


def audit_actions(env: Env) -> list[str]:
    return [
        row["action"]
        for row in env.platform.select(
            f"SELECT action FROM {env.platform.table('org_audit_logs')} WHERE org_slug = @s ORDER BY action",
            {"s": SLUG},
        ).rows
    ]


def test_rotation_whose_response_cannot_be_stored_leaves_no_audit_row(env: Env) -> None:
    """Storing the rotation's response fails: the rotation was undone, but before the fix its
    audit row stayed, so the trail recorded a rotation that never took effect."""
    key = orgs.onboard(env.platform, REQUEST, SYSTEM).api_key
    before = audit_actions(env)
    plan = FaultPlan()
    plan.add(Fault(STORE_RESPONSE[0], backend_error, match=STORE_RESPONSE[1]))
    headers = {**ROOT, "Idempotency-Key": "rotate-once"}
    with TestClient(create_api_app(env.faulty(plan))) as api:
        failed = api.post(f"/api/v1/organizations/{SLUG}/api-key/rotate", headers=headers)
        assert failed.status_code == 503, failed.text
        assert audit_actions(env) == before
        assert api.get(f"/api/v1/organizations/{SLUG}", headers={"X-API-Key": key}).status_code == 200
        retried = api.post(f"/api/v1/organizations/{SLUG}/api-key/rotate", headers=headers)
        assert retried.status_code == 200, retried.text
    assert audit_actions(env) == sorted([*before, "api_key.rotate"])


@pytest.mark.parametrize("failing", [AUDIT_ROW, STORE_RESPONSE], ids=["audit-row", "stored-response"])
def test_plan_change_that_fails_keeps_the_old_plan(env: Env, failing: tuple[str, str]) -> None:
    """A plan change fails after the subscription was updated: before the fix the org kept the
    new plan (its profile and quota too) though the caller got a 503, with no audit row, or with
    one for a change the retry then made again."""
    key = orgs.onboard(env.platform, REQUEST, SYSTEM).api_key
    before = (env.rows(), audit_actions(env))
    plan = FaultPlan()
    plan.add(Fault(failing[0], backend_error, match=failing[1]))
    headers = {"X-API-Key": key, "Idempotency-Key": "plan-once"}
    path = f"/api/v1/organizations/{SLUG}/subscription"
    with TestClient(create_api_app(env.faulty(plan))) as api:
        failed = api.put(path, headers=headers, json={"plan": "PROFESSIONAL"})
        assert failed.status_code == 503, failed.text
        assert (env.rows(), audit_actions(env)) == before
        assert api.get(path, headers={"X-API-Key": key}).json()["plan_name"] == "STARTER"
        assert orgs.get(env.platform, SLUG).subscription_plan == "STARTER"
        retried = api.put(path, headers=headers, json={"plan": "PROFESSIONAL"})
        assert retried.status_code == 200, retried.text
    assert orgs.get(env.platform, SLUG).subscription_plan == "PROFESSIONAL"
    assert audit_actions(env) == sorted([*before[1], "subscription.change_plan"])


@pytest.mark.parametrize("replacing", [False, True], ids=["new", "replacing"])
def test_integration_setup_whose_response_cannot_be_stored_changes_nothing(env: Env, replacing: bool) -> None:
    """Storing the setup's response fails: before the fix the new credential and its audit row
    stayed (the retry then set it up again, with a second audit row); now the setup is taken
    back, and a replaced credential returns."""
    key = orgs.onboard(env.platform, REQUEST, SYSTEM).api_key
    old = env.integrate(env.platform) if replacing else None
    before = (env.rows(), integrations.list_integrations(env.platform, SLUG))
    plan = FaultPlan()
    plan.add(Fault(STORE_RESPONSE[0], backend_error, match=STORE_RESPONSE[1]))
    headers = {"X-API-Key": key, "Idempotency-Key": "setup-once"}
    body = {"credential": env.backends.openai.issue_admin_key()}
    with TestClient(create_api_app(env.faulty(plan))) as api:
        failed = api.post(f"/api/v1/integrations/{SLUG}/openai/setup", headers=headers, json=body)
        assert failed.status_code == 503, failed.text
        assert (env.rows(), integrations.list_integrations(env.platform, SLUG)) == before
        if old is not None:
            assert integrations.decrypt_credential(env.platform, SLUG, Provider.OPENAI) == old
        retried = api.post(f"/api/v1/integrations/{SLUG}/openai/setup", headers=headers, json=body)
        assert retried.status_code == 201, retried.text
    assert integrations.decrypt_credential(env.platform, SLUG, Provider.OPENAI) == body["credential"]
    assert audit_actions(env).count("integration.setup") == 1 + replacing


def test_billing_event_failing_at_its_audit_row_changes_nothing(env: Env) -> None:
    """A subscription event fails at the audit row that records it: before the fix the plan had
    changed (profile and quota too) though Stripe got an error, and a newer event applied before
    the redelivery would have been overwritten by it. Now the event is taken back; the
    redelivery applies it."""
    orgs.onboard(env.platform, REQUEST, SYSTEM)
    subscription = {
        "id": "sub_fault",
        "customer": "cus_fault",
        "status": "active",
        "metadata": {"org_slug": SLUG, "plan": "PROFESSIONAL"},
    }
    event = {
        "id": "evt_fault",
        "type": "customer.subscription.updated",
        "created": int(NOW.timestamp()),
        "data": {"object": subscription},
    }
    payload = json.dumps(event).encode()
    secret = "whsec_regression"
    signature = billing.sign(payload, secret, int(NOW.timestamp()))
    before = env.rows()
    plan = FaultPlan()
    plan.add(Fault(AUDIT_ROW[0], backend_error, match=AUDIT_ROW[1]))
    with pytest.raises(TransientError):
        billing.handle(env.faulty(plan), payload, signature, secret)
    assert env.rows() == before
    assert subscriptions.get(env.platform, SLUG).plan_name == "STARTER"
    assert orgs.get(env.platform, SLUG).subscription_plan == "STARTER"

    assert billing.handle(env.platform, payload, signature, secret)["applied"] is True
    assert subscriptions.get(env.platform, SLUG).plan_name == "PROFESSIONAL"
