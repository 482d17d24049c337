"""Provider pipelines end to end on the fake tier, through the pipeline-service's HTTP API.

Orgs are onboarded and integrated through the api-service, runs are started and read back through
the pipeline-service, and every claim is checked against the warehouse rows behind it
(``org_meta_pipeline_runs``, ``org_meta_step_logs``, ``org_meta_dq_results``, ``org_cost_tracking``,
``org_usage_quotas`` and the org's ``llm_usage_daily`` / ``llm_cost_daily``). Loaded data is
compared with the provider fakes' own truth (``expected_usage`` / ``expected_costs``), computed from
their generator and never from the HTTP layer.

Time is the manual clock, set to 2025-03-10 12:00 UTC before the backends are built; the fake
tier's retry waits advance it, so retry tests assert the waits exactly without sleeping.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fakes.providers.base import ProviderState
from fakes.providers.usage import CORRUPTION_KINDS
from harness.backends import TierBackends, build_backends
from harness.clock import ManualClock
from harness.onboarding import audit, quotas, subscriptions
from harness.onboarding.bootstrap import bootstrap
from harness.onboarding.plans import SubscriptionStatus
from harness.pipelines import runner, usage_cost
from harness.pipelines.lifecycle import RunRecorder
from harness.pipelines.metering import MIN_BILLED_BYTES, PRICE_PER_TIB_USD, TIB
from harness.pipelines.models import RunRequest
from harness.ports import Provider, WarehouseError
from harness.schema.loader import load_config
from harness.services.api import create_api_app
from harness.services.app_pool import lent_app
from harness.services.pipeline import create_pipeline_app

CONFIG = load_config()  # parsed once: the YAML is the expensive part of build_fake
ROOT = {"X-CA-Root-Key": "local-root-key"}
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
YESTERDAY = date(2025, 3, 9)
TOMORROW_MIDNIGHT = datetime(2025, 3, 11, tzinfo=UTC)
STEPS = [
    "decrypt_credential",
    "fetch_usage",
    "fetch_costs",
    "ensure_tables",
    "load_usage",
    "load_costs",
    "data_quality",
]
DQ_CHECKS = {
    ("rows_present_for_active_days", "llm_usage_daily"),
    ("non_negative_values", "llm_usage_daily,llm_cost_daily"),
    ("unique_date_provider_model", "llm_usage_daily"),
    ("unique_date_provider_model", "llm_cost_daily"),
    ("cost_total_matches_provider", "llm_cost_daily"),
}
ERROR_KEYS = {"error", "message", "error_id"}


# ------------------------------------------------------------------------------------------ helpers
@dataclass
class Org:
    slug: str
    api_key: str
    credentials: dict[str, str]

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


@dataclass
class Env:
    backends: TierBackends
    api: TestClient
    pipe: TestClient

    @property
    def clock(self) -> ManualClock:
        return self.backends.clock

    @property
    def platform(self) -> Any:
        return self.backends.platform

    def state(self, provider: str) -> ProviderState:
        return self.backends.openai if provider == "openai" else self.backends.anthropic

    # ---- setup through the api-service
    def org(
        self, slug: str = "acme", *, providers: tuple[str, ...] = ("openai",), plan: str = "PROFESSIONAL"
    ) -> Org:
        response = self.api.post(
            "/api/v1/organizations/onboard",
            headers=ROOT,
            json={
                "org_slug": slug,
                "company_name": slug.title(),
                "admin_email": f"ops@{slug}.example",
                "plan": plan,
            },
        )
        assert response.status_code == 201, response.text
        org = Org(slug, response.json()["api_key"], {})
        for provider in providers:
            self.integrate(org, provider)
        return org

    def integrate(self, org: Org, provider: str) -> str:
        credential = self.state(provider).issue_admin_key()
        response = self.api.post(
            f"/api/v1/integrations/{org.slug}/{provider}/setup",
            headers=org.headers,
            json={"credential": credential},
        )
        assert response.status_code == 201, response.text
        org.credentials[provider] = credential
        return credential

    # ---- the pipeline-service
    def run(
        self,
        org: Org,
        provider: str = "openai",
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        path: str | None = None,
    ) -> Any:
        url = f"/api/v1/pipelines/run/{org.slug}/{path or f'{provider}/cost/usage_cost'}"
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        return self.pipe.post(url, headers=org.headers if headers is None else headers, **kwargs)

    def run_ok(
        self, org: Org, provider: str = "openai", body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = self.run(org, provider, body)
        assert response.status_code == 201, response.text
        return response.json()

    def quota(self, org: Org) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/organizations/{org.slug}/quota", headers=org.headers)
        assert response.status_code == 200, response.text
        return response.json()

    # ---- the warehouse
    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        return self.platform.warehouse.query(sql, params).rows

    def meta(self, table: str, org: Org, where: str = "", **params: Any) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM {self.platform.table(table)} WHERE org_slug = @org_slug {where}"
        return self.rows(sql, org_slug=org.slug, **params)

    def run_row(self, org: Org, run_id: str) -> dict[str, Any]:
        (row,) = self.meta("org_meta_pipeline_runs", org, "AND run_id = @run_id", run_id=run_id)
        return row

    def data(self, org: Org, table: str, provider: str) -> list[dict[str, Any]]:
        ref = f"`{self.platform.warehouse.project}.{self.platform.org_dataset(org.slug)}.{table}`"
        return self.rows(
            f"SELECT * FROM {ref} WHERE provider = @provider ORDER BY usage_date, model",
            provider=provider.upper(),
        )


@pytest.fixture
def env(manual_clock: ManualClock, harness_tier: str) -> Iterator[Env]:
    manual_clock.set(NOW)
    with ExitStack() as stack:
        backends = stack.enter_context(
            build_backends(harness_tier, clock=manual_clock, seed=7, config=CONFIG)
        )
        bootstrap(backends.platform.warehouse, backends.platform.config)
        # The services' apps hold nothing but the platform they are lent: built once, lent per test.
        api = stack.enter_context(
            TestClient(stack.enter_context(lent_app(create_api_app, backends.platform, None)))
        )
        pipe = stack.enter_context(
            TestClient(stack.enter_context(lent_app(create_pipeline_app, backends.platform, None)))
        )
        yield Env(backends, api, pipe)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"details"}, body
    assert body["error"] == code, body
    assert body["message"]
    uuid.UUID(body["error_id"])
    return body


def step(run: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in run["steps"] if s["step_name"] == name]
    return found


def running_row(org: Org, run_date: date, start_time: datetime, **overrides: Any) -> dict[str, Any]:
    """A run row as a live (or dead) process left it: RUNNING, no end."""
    row = {
        "run_id": str(uuid.uuid4()),
        "org_slug": org.slug,
        "pipeline_id": "openai/cost/usage_cost",
        "provider": "OPENAI",
        "domain": "cost",
        "status": "RUNNING",
        "trigger_type": "API",
        "triggered_by": None,
        "run_date": run_date,
        "parameters": [
            {"name": "end_date", "value": run_date.isoformat()},
            {"name": "start_date", "value": run_date.isoformat()},
        ],
        "start_time": start_time,
        "end_time": None,
        "duration_ms": None,
        "rows_processed": None,
        "error_code": None,
        "error_message": None,
    }
    return {**row, **overrides}


def assert_loaded_exactly(env: Env, org: Org, provider: str, start: date, end: date, run_id: str) -> None:
    """The org's tables hold exactly the fake's truth for ``start``..``end``: every (day, model)
    with its token counts and exact Decimal dollars, loaded by ``run_id``."""
    state, credential = env.state(provider), org.credentials[provider]
    expected_usage = state.expected_usage(credential, start, end)
    expected_costs = state.expected_costs(credential, start, end)
    usage = env.data(org, "llm_usage_daily", provider)
    costs = env.data(org, "llm_cost_daily", provider)
    loaded_usage = {
        (r["usage_date"], r["model"]): (
            r["input_tokens"],
            r["output_tokens"],
            r["cached_input_tokens"],
            r["requests"],
        )
        for r in usage
    }
    assert len(loaded_usage) == len(usage) == len(expected_usage)
    assert loaded_usage == {
        k: (u.input_tokens, u.output_tokens, u.cached_input_tokens, u.requests)
        for k, u in expected_usage.items()
    }
    loaded_costs = {(r["usage_date"], r["model"]): r["cost_usd"] for r in costs}
    assert len(loaded_costs) == len(costs) == len(expected_costs)
    assert all(isinstance(c, Decimal) for c in loaded_costs.values())
    assert loaded_costs == expected_costs
    assert {r["run_id"] for r in usage + costs} == {run_id}
    # Totals through SQL too: what a dashboard would read.
    ref = f"`{env.platform.warehouse.project}.{env.platform.org_dataset(org.slug)}"
    (totals,) = env.rows(
        f"SELECT SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(cached_input_tokens) AS c "
        f"FROM {ref}.llm_usage_daily` WHERE provider = @p",
        p=provider.upper(),
    )
    assert totals == {
        "i": sum(u.input_tokens for u in expected_usage.values()),
        "o": sum(u.output_tokens for u in expected_usage.values()),
        "c": sum(u.cached_input_tokens for u in expected_usage.values()),
    }
    (cost_total,) = env.rows(
        f"SELECT SUM(cost_usd) AS t FROM {ref}.llm_cost_daily` WHERE provider = @p", p=provider.upper()
    )
    assert cost_total["t"] == sum(expected_costs.values(), Decimal(0))


# ------------------------------------------------------------------------------ full pipeline, exact
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_full_pipeline_30_days_20_models_paged_matches_fake_exactly(env: Env, provider: str) -> None:
    state = env.state(provider)
    state.usage_model_count = 20
    org = env.org(providers=(provider,))
    env.platform.usage_sources[Provider(provider)].page_size = 7  # 30 day buckets -> 5 pages
    start, end = date(2025, 2, 7), date(2025, 3, 8)

    run = env.run_ok(org, provider, {"start_date": start.isoformat(), "end_date": end.isoformat()})

    assert run["status"] == "SUCCESS", run
    assert run["provider"] == provider.upper() and run["pipeline_id"] == f"{provider}/cost/usage_cost"
    assert run["parameters"] == {"start_date": "2025-02-07", "end_date": "2025-03-08"}
    for name in ("fetch_usage", "fetch_costs"):
        assert step(run, name)["metadata"] == {"pages": 5, "requests": 5}, name
    expected = state.expected_usage(org.credentials[provider], start, end)
    assert {model for _, model in expected} == set(state.usage_models())  # all 20 models show up
    assert {day for day, _ in expected} == {start + timedelta(days=n) for n in range(30)}
    assert step(run, "load_usage")["rows_processed"] == len(expected)
    # The run counts what it loaded (usage + cost rows), not what it fetched and then loaded.
    assert (
        run["rows_processed"]
        == step(run, "load_usage")["rows_processed"] + step(run, "load_costs")["rows_processed"]
    )
    assert_loaded_exactly(env, org, provider, start, end, run["run_id"])
    if provider == "anthropic":
        # Cents on the wire, exact dollars in the table: sub-cent amounts survive unrounded.
        costs = [r["cost_usd"] for r in env.data(org, "llm_cost_daily", provider)]
        assert any(c != c.quantize(Decimal("0.01")) for c in costs)
        assert all(r["requests"] is None for r in env.data(org, "llm_usage_daily", provider))


def test_long_range_follows_the_endpoints_own_page_limit(env: Env) -> None:
    """93 days at OpenAI's maxima: usage pages hold 31 day buckets (3 pages), costs 180 (1 page)."""
    org = env.org()
    start, end = date(2024, 12, 1), date(2025, 3, 3)
    run = env.run_ok(org, "openai", {"start_date": start.isoformat(), "end_date": end.isoformat()})
    assert run["status"] == "SUCCESS", run
    assert step(run, "fetch_usage")["metadata"] == {"pages": 3, "requests": 3}
    assert step(run, "fetch_costs")["metadata"] == {"pages": 1, "requests": 1}
    assert_loaded_exactly(env, org, "openai", start, end, run["run_id"])


# ---------------------------------------------------------------------- run, steps, DQ, cost rows
def test_run_records_run_steps_dq_and_cost_rows(env: Env) -> None:
    org = env.org()
    response = env.run(org)  # no body: yesterday (UTC)
    assert response.status_code == 201, response.text
    run = response.json()

    assert run["status"] == "SUCCESS" and run["error_code"] is None and run["error_message"] is None
    assert run["run_date"] == YESTERDAY.isoformat()
    assert run["parameters"] == {"start_date": "2025-03-09", "end_date": "2025-03-09"}
    assert run["trigger_type"] == "API" and run["triggered_by"]
    assert [s["step_name"] for s in run["steps"]] == STEPS
    assert [s["step_index"] for s in run["steps"]] == list(range(len(STEPS)))
    assert {(d["check_name"], d["target_table"]) for d in run["dq_results"]} == DQ_CHECKS
    assert all(d["passed"] for d in run["dq_results"])

    # Read back through GET: the same run.
    got = env.pipe.get(f"/api/v1/pipelines/runs/{org.slug}/{run['run_id']}", headers=org.headers)
    assert got.status_code == 200, got.text
    assert got.json() == run

    row = env.run_row(org, run["run_id"])
    assert row["status"] == "SUCCESS" and row["error_code"] is None and row["error_message"] is None
    assert row["start_time"] == NOW and row["end_time"] == NOW
    assert row["duration_ms"] is not None and row["duration_ms"] >= 0
    assert row["rows_processed"] == run["rows_processed"] > 0
    assert row["pipeline_id"] == "openai/cost/usage_cost" and row["run_date"] == YESTERDAY

    logs = env.meta(
        "org_meta_step_logs", org, "AND run_id = @run_id ORDER BY step_index", run_id=run["run_id"]
    )
    assert [s["step_name"] for s in logs] == STEPS
    for log in logs:
        assert log["status"] == "SUCCESS", log
        assert log["start_time"] is not None and log["end_time"] is not None
        assert log["end_time"] >= log["start_time"]
        assert log["duration_ms"] is not None and log["duration_ms"] >= 0
        assert log["error_message"] is None
    expected = env.backends.openai.expected_usage(org.credentials["openai"], YESTERDAY, YESTERDAY)
    for name in ("fetch_usage", "fetch_costs", "load_usage", "load_costs"):
        assert next(s for s in logs if s["step_name"] == name)["rows_processed"] == len(expected), name

    dq = env.meta("org_meta_dq_results", org, "AND run_id = @run_id", run_id=run["run_id"])
    assert {(d["check_name"], d["target_table"]) for d in dq} == DQ_CHECKS
    assert all(d["passed"] is True and d["ingestion_date"] == YESTERDAY for d in dq)

    (cost,) = env.meta("org_cost_tracking", org, "AND run_id = @run_id", run_id=run["run_id"])
    assert cost["pipeline_id"] == "openai/cost/usage_cost" and cost["resource_type"] == "BIGQUERY_QUERY"
    assert cost["bytes_processed"] > 0
    assert cost["bytes_billed"] >= MIN_BILLED_BYTES and cost["bytes_billed"] >= cost["bytes_processed"]
    expected_cost = (Decimal(cost["bytes_billed"]) * PRICE_PER_TIB_USD / TIB).quantize(Decimal("0.000000001"))
    assert cost["estimated_cost"] == expected_cost > 0
    assert cost["currency"] == "USD" and cost["usage_date"] == NOW.date()

    (entry,) = env.meta("org_audit_logs", org, "AND action = 'pipeline.run'")
    assert entry["target_id"] == run["run_id"] and entry["outcome"] == "SUCCESS"


def test_started_runs_consume_quota_and_count_outcomes(env: Env) -> None:
    org = env.org()
    before = env.quota(org)
    assert (
        before["pipelines_run_today"],
        before["pipelines_succeeded_today"],
        before["pipelines_failed_today"],
    ) == (
        0,
        0,
        0,
    )
    assert env.run_ok(org)["status"] == "SUCCESS"
    env.backends.openai.add_fault(500, times=100)
    assert env.run_ok(org)["status"] == "FAILED"
    after = env.quota(org)
    assert after["pipelines_run_today"] == 2 and after["pipelines_run_month"] == 2
    assert after["pipelines_succeeded_today"] == 1 and after["pipelines_failed_today"] == 1
    assert after["daily_remaining"] == before["daily_remaining"] - 2


# -------------------------------------------------------------------------------------- quotas
def test_quota_exhausted_at_exactly_the_plan_limit_then_resets_at_utc_midnight(env: Env) -> None:
    org = env.org(plan="STARTER")  # 6 a day
    for n in range(6):
        run = env.run_ok(org, body={"date": (YESTERDAY - timedelta(days=n)).isoformat()})
        assert run["status"] == "SUCCESS", run
    assert env.quota(org)["pipelines_run_today"] == 6 and env.quota(org)["daily_remaining"] == 0

    refused = env.run(org)
    body = assert_error(refused, 429, "QUOTA_EXCEEDED")
    assert body["details"]["limit"] == 6 and body["details"]["used"] == 6
    assert datetime.fromisoformat(body["details"]["resets_at"]) == TOMORROW_MIDNIGHT
    assert refused.headers["Retry-After"] == str(12 * 3600)
    assert len(env.meta("org_meta_pipeline_runs", org)) == 6  # a refused start writes no run
    assert env.quota(org)["pipelines_run_today"] == 6  # and consumes nothing

    env.clock.set(TOMORROW_MIDNIGHT - timedelta(seconds=1))  # still the same UTC day
    refused = env.run(org, body={"date": YESTERDAY.isoformat()})
    assert_error(refused, 429, "QUOTA_EXCEEDED")
    assert refused.headers["Retry-After"] == "1"

    env.clock.set(TOMORROW_MIDNIGHT)
    run = env.run_ok(org)
    assert run["status"] == "SUCCESS" and run["run_date"] == "2025-03-10"
    quota = env.quota(org)
    assert quota["usage_date"] == "2025-03-11"
    assert quota["pipelines_run_today"] == 1 and quota["pipelines_run_month"] == 7


def test_monthly_quota_exhausted_then_resets_with_the_month(env: Env) -> None:
    org = env.org(plan="STARTER")  # 180 a month
    earlier = quotas.new_row(env.platform, org.slug, (6, 180))
    env.platform.insert(
        "org_usage_quotas", [{**earlier, "usage_date": date(2025, 3, 1), "pipelines_run_today": 179}]
    )
    assert env.run_ok(org)["status"] == "SUCCESS"  # the 180th

    refused = env.run(org, body={"date": "2025-03-08"})
    body = assert_error(refused, 429, "QUOTA_EXCEEDED")
    assert body["details"]["scope"] == "monthly"
    assert body["details"]["limit"] == 180 and body["details"]["used"] == 180
    april = datetime(2025, 4, 1, tzinfo=UTC)
    assert datetime.fromisoformat(body["details"]["resets_at"]) == april
    assert refused.headers["Retry-After"] == str(int((april - NOW).total_seconds()))

    env.clock.set(april)
    assert env.run_ok(org)["status"] == "SUCCESS"
    assert env.quota(org)["pipelines_run_month"] == 1


# ---------------------------------------------------------------------------------- preconditions
@pytest.mark.parametrize("status", [SubscriptionStatus.PAST_DUE, SubscriptionStatus.CANCELED])
def test_subscription_not_active_is_refused(env: Env, status: SubscriptionStatus) -> None:
    org = env.org()
    subscriptions.update(env.platform, org.slug, status=status)
    body = assert_error(env.run(org), 403, "SUBSCRIPTION_NOT_ACTIVE")
    assert status.value in body["message"]
    assert env.meta("org_meta_pipeline_runs", org) == []
    assert env.quota(org)["pipelines_run_today"] == 0

    subscriptions.update(env.platform, org.slug, status=SubscriptionStatus.ACTIVE)
    assert env.run_ok(org)["status"] == "SUCCESS"


def test_missing_integration_is_refused(env: Env) -> None:
    org = env.org(providers=("openai",))
    assert_error(env.run(org, "anthropic"), 400, "INTEGRATION_NOT_CONFIGURED")
    deleted = env.api.delete(f"/api/v1/integrations/{org.slug}/openai", headers=org.headers)
    assert deleted.status_code == 200, deleted.text
    assert_error(env.run(org, "openai"), 400, "INTEGRATION_NOT_CONFIGURED")
    assert env.meta("org_meta_pipeline_runs", org) == []
    assert env.quota(org)["pipelines_run_today"] == 0


def test_unknown_pipeline_org_and_bad_dates_are_refused_without_consuming_quota(env: Env) -> None:
    org = env.org()
    for path in ("gemini/cost/usage_cost", "openai/billing/usage_cost", "openai/cost/nope"):
        assert_error(env.run(org, path=path), 404, "PIPELINE_NOT_FOUND")
    ghost = Org("ghost_org", "", {})
    assert_error(env.run(ghost, headers=ROOT), 404, "ORG_NOT_FOUND")
    assert_error(env.run(org, headers={}), 401, "UNAUTHENTICATED")

    # A future end date: tomorrow is refused whatever the form; today is allowed.
    for body in ({"date": "2025-03-11"}, {"start_date": "2025-03-09", "end_date": "2025-03-11"}):
        assert_error(env.run(org, body=body), 400, "INVALID_DATE_RANGE")
    for body in (
        {"date": "2025-03-09", "start_date": "2025-03-08", "end_date": "2025-03-09"},
        {"start_date": "2025-03-09"},
        {"start_date": "2025-03-09", "end_date": "2025-03-08"},
        {"start_date": "2024-12-01", "end_date": "2025-03-04"},  # 94 days
        {"date": "2025-03-09", "extra": 1},
        {"date": "yesterday"},
    ):
        assert_error(env.run(org, body=body), 422, "VALIDATION_ERROR")
    assert env.meta("org_meta_pipeline_runs", org) == []
    assert env.quota(org)["pipelines_run_today"] == 0


def test_org_isolation_for_runs(env: Env) -> None:
    alpha, beta = env.org("alpha"), env.org("beta")
    run = env.run_ok(alpha)

    # beta's key on alpha's paths: 403, and nothing runs for alpha.
    assert_error(env.run(alpha, headers=beta.headers), 403, "FORBIDDEN")
    forbidden = env.pipe.get(f"/api/v1/pipelines/runs/{alpha.slug}/{run['run_id']}", headers=beta.headers)
    assert_error(forbidden, 403, "FORBIDDEN")
    assert len(env.meta("org_meta_pipeline_runs", alpha)) == 1

    # alpha's run id under beta's own path: 404, not a leak (root included).
    for headers in (beta.headers, ROOT):
        missing = env.pipe.get(f"/api/v1/pipelines/runs/{beta.slug}/{run['run_id']}", headers=headers)
        body = assert_error(missing, 404, "RUN_NOT_FOUND")
        assert alpha.slug not in missing.text and "openai" not in body["message"].lower()
    unknown = env.pipe.get(f"/api/v1/pipelines/runs/{alpha.slug}/{uuid.uuid4()}", headers=alpha.headers)
    assert_error(unknown, 404, "RUN_NOT_FOUND")
    # The root key may read any org's run.
    assert env.pipe.get(f"/api/v1/pipelines/runs/{alpha.slug}/{run['run_id']}", headers=ROOT).json() == run


# ---------------------------------------------------------------------------------- concurrency
def test_a_running_run_of_the_same_date_blocks_until_it_is_stale(env: Env) -> None:
    org = env.org()
    live = running_row(org, YESTERDAY, NOW - timedelta(minutes=10))
    env.platform.insert("org_meta_pipeline_runs", [live])

    body = assert_error(env.run(org), 409, "PIPELINE_ALREADY_RUNNING")
    assert body["details"]["run_id"] == live["run_id"]
    assert env.quota(org)["pipelines_run_today"] == 0  # a refused start consumes nothing
    # Another date, or another pipeline, is not blocked.
    assert env.run_ok(org, body={"date": "2025-03-08"})["status"] == "SUCCESS"

    env.clock.advance(timedelta(minutes=49))  # 59 minutes old: still live
    assert_error(env.run(org), 409, "PIPELINE_ALREADY_RUNNING")

    env.clock.advance(timedelta(minutes=2))  # 61 minutes old: its process is gone
    run = env.run_ok(org)
    assert run["status"] == "SUCCESS"
    stale = env.run_row(org, live["run_id"])
    assert stale["status"] == "FAILED" and stale["error_code"] == "STALE_RUN"
    assert stale["error_message"] and stale["end_time"] == env.clock.now()


def test_a_pending_run_blocks_too(env: Env) -> None:
    org = env.org()
    env.platform.insert("org_meta_pipeline_runs", [running_row(org, YESTERDAY, NOW, status="PENDING")])
    assert_error(env.run(org), 409, "PIPELINE_ALREADY_RUNNING")


def test_a_running_range_blocks_an_overlapping_date(env: Env) -> None:
    org = env.org()
    week = running_row(
        org,
        date(2025, 3, 1),
        NOW - timedelta(minutes=5),
        parameters=[
            {"name": "end_date", "value": "2025-03-07"},
            {"name": "start_date", "value": "2025-03-01"},
        ],
    )
    env.platform.insert("org_meta_pipeline_runs", [week])
    assert_error(env.run(org, body={"date": "2025-03-03"}), 409, "PIPELINE_ALREADY_RUNNING")


# ------------------------------------------------------------------------------ provider failures
def test_revoked_key_fails_the_run_and_marks_the_integration_invalid(env: Env) -> None:
    org = env.org()
    env.backends.openai.revoke(org.credentials["openai"])

    run = env.run_ok(org)
    assert run["status"] == "FAILED" and run["error_code"] == "PROVIDER_AUTH_FAILED"
    assert "INVALID" in run["error_message"]
    assert [s["step_name"] for s in run["steps"]] == ["decrypt_credential", "fetch_usage"]
    assert step(run, "fetch_usage")["status"] == "FAILED" and step(run, "fetch_usage")["error_message"]
    assert env.run_row(org, run["run_id"])["status"] == "FAILED"

    listed = env.api.get(f"/api/v1/integrations/{org.slug}", headers=org.headers)
    assert listed.status_code == 200, listed.text
    (integration,) = listed.json()["integrations"]
    assert integration["validation_status"] == "INVALID" and integration["validation_error"]

    assert_error(env.run(org), 400, "INTEGRATION_INVALID")
    assert len(env.meta("org_meta_pipeline_runs", org)) == 1
    quota = env.quota(org)
    assert quota["pipelines_run_today"] == 1 and quota["pipelines_failed_today"] == 1

    # Setting it up again with a valid key brings the pipeline back.
    env.integrate(org, "openai")
    assert env.run_ok(org)["status"] == "SUCCESS"


def test_retry_then_success_advances_the_clock_by_the_waits(env: Env) -> None:
    org = env.org()
    env.backends.openai.add_fault(429, times=2, retry_after=1)
    run = env.run_ok(org)
    assert run["status"] == "SUCCESS", run
    assert env.clock.now() == NOW + timedelta(seconds=2)  # two retry-after: 1 waits, on the clock
    assert step(run, "fetch_usage")["metadata"] == {"pages": 1, "requests": 3}
    assert step(run, "fetch_usage")["duration_ms"] == 2000
    assert run["duration_ms"] == 2000
    assert env.backends.openai.pending_faults == []
    assert_loaded_exactly(env, org, "openai", YESTERDAY, YESTERDAY, run["run_id"])


def test_retry_then_failure_fails_the_run_as_provider_unavailable(env: Env) -> None:
    org = env.org()
    env.backends.openai.add_fault(500, times=100)
    run = env.run_ok(org)
    assert run["status"] == "FAILED" and run["error_code"] == "PROVIDER_UNAVAILABLE"
    assert env.clock.now() == NOW + timedelta(seconds=0.5 + 1 + 2)  # backoff between 4 attempts
    assert env.backends.openai.pending_faults[0].remaining == 96
    assert [(s["step_name"], s["status"]) for s in run["steps"]] == [
        ("decrypt_credential", "SUCCESS"),
        ("fetch_usage", "FAILED"),
    ]
    row = env.run_row(org, run["run_id"])
    assert row["status"] == "FAILED" and row["error_code"] == "PROVIDER_UNAVAILABLE" and row["error_message"]
    assert row["end_time"] == env.clock.now() and row["duration_ms"] == 3500
    assert env.meta(
        "org_cost_tracking", org, "AND run_id = @r", r=run["run_id"]
    )  # even a failed run is costed
    # An outage is not the customer's key's fault: the integration stays VALID.
    listed = env.api.get(f"/api/v1/integrations/{org.slug}", headers=org.headers).json()
    assert [i["validation_status"] for i in listed["integrations"]] == ["VALID"]


# ------------------------------------------------------------------------------------- crashes
def _crash_replace(*args: Any, **kwargs: Any) -> int:
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize("where", ["load_usage", "fetch_costs"])
def test_crash_mid_run_leaves_a_failed_run_never_running(
    env: Env, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    org = env.org()
    if where == "load_usage":
        monkeypatch.setattr(usage_cost, "_replace", _crash_replace)
    else:
        monkeypatch.setattr(env.platform.usage_sources[Provider.OPENAI], "costs", _crash_replace)

    run = env.run_ok(org)
    assert run["status"] == "FAILED" and run["error_code"] == "INTERNAL_ERROR"
    assert run["error_message"] == "RuntimeError: disk on fire"
    names = [s["step_name"] for s in run["steps"]]
    assert names == STEPS[: STEPS.index(where) + 1]
    assert all(s["status"] == "SUCCESS" for s in run["steps"][:-1])
    assert step(run, where)["status"] == "FAILED" and "disk on fire" in step(run, where)["error_message"]

    row = env.run_row(org, run["run_id"])
    assert row["status"] == "FAILED" and row["end_time"] is not None
    assert env.meta("org_meta_pipeline_runs", org, "AND status IN ('RUNNING', 'PENDING')") == []
    assert env.quota(org)["pipelines_failed_today"] == 1
    (entry,) = env.meta("org_audit_logs", org, "AND action = 'pipeline.run'")
    assert entry["outcome"] == "FAILURE"


def test_keyboard_interrupt_mid_run_fails_the_run_and_propagates(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = env.org()

    def interrupt(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(env.platform.usage_sources[Provider.OPENAI], "costs", interrupt)
    pipeline = runner.find("openai", "cost", "usage_cost")
    with pytest.raises(KeyboardInterrupt):
        runner.run_pipeline(env.platform, org.slug, pipeline, RunRequest(date=YESTERDAY), audit.SYSTEM)

    (row,) = env.meta("org_meta_pipeline_runs", org)
    assert row["status"] == "FAILED" and row["error_code"] == "INTERNAL_ERROR"
    assert row["error_message"] == "KeyboardInterrupt: KeyboardInterrupt"
    assert row["trigger_type"] == "SYSTEM" and row["end_time"] is not None
    logs = env.meta("org_meta_step_logs", org, "AND run_id = @r ORDER BY step_index", r=row["run_id"])
    assert [(s["step_name"], s["status"]) for s in logs] == [
        ("decrypt_credential", "SUCCESS"),
        ("fetch_usage", "SUCCESS"),
        ("fetch_costs", "FAILED"),
    ]
    assert env.quota(org)["pipelines_failed_today"] == 1


def test_failure_recording_the_run_cost_still_ends_the_run(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    org = env.org()

    def broken(self: RunRecorder, **kwargs: Any) -> None:
        raise WarehouseError("transient failure writing org_cost_tracking", reason="backendError", status=500)

    monkeypatch.setattr(RunRecorder, "record_cost", broken)
    pipeline = runner.find("openai", "cost", "usage_cost")
    with suppress(WarehouseError):
        runner.run_pipeline(env.platform, org.slug, pipeline, RunRequest(date=YESTERDAY), audit.SYSTEM)
    (row,) = env.meta("org_meta_pipeline_runs", org)
    assert row["status"] in ("SUCCESS", "FAILED"), row


# ------------------------------------------------------------------------------------- re-runs
def _without_lineage(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in ("run_id", "loaded_at")} for r in rows]


def test_rerun_minutes_later_replaces_only_its_own_range_and_provider(env: Env) -> None:
    org = env.org(providers=("openai", "anthropic"))
    first = env.run_ok(org, "openai", {"start_date": "2025-03-01", "end_date": "2025-03-03"})
    other = env.run_ok(org, "anthropic", {"date": "2025-03-02"})
    assert first["status"] == other["status"] == "SUCCESS"
    before = {t: env.data(org, t, "openai") for t in ("llm_usage_daily", "llm_cost_daily")}
    anthropic_before = env.data(org, "llm_usage_daily", "anthropic")

    env.clock.advance(timedelta(minutes=5))  # well inside BigQuery's 30 min streaming buffer
    second = env.run_ok(org, "openai", {"date": "2025-03-02"})
    assert second["status"] == "SUCCESS", second
    redone = [r for r in before["llm_usage_daily"] if r["usage_date"] == date(2025, 3, 2)]
    assert step(second, "load_usage")["metadata"] == {"replaced": len(redone)}

    for table, rows_before in before.items():
        after = env.data(org, table, "openai")
        assert len(after) == len(rows_before), table
        for row in after:
            if row["usage_date"] == date(2025, 3, 2):
                assert row["run_id"] == second["run_id"] and row["loaded_at"] == env.clock.now()
            else:
                assert row["run_id"] == first["run_id"] and row["loaded_at"] == NOW
        assert _without_lineage(after) == _without_lineage(rows_before), table
    assert env.data(org, "llm_usage_daily", "anthropic") == anthropic_before
    whole = env.run_ok(org, "openai", {"start_date": "2025-03-01", "end_date": "2025-03-03"})
    assert_loaded_exactly(env, org, "openai", date(2025, 3, 1), date(2025, 3, 3), whole["run_id"])


# ------------------------------------------------------------------------------------ data quality
@pytest.mark.parametrize(
    ("kind", "failing"),
    [
        ("negative_tokens", {("non_negative_values", "llm_usage_daily,llm_cost_daily")}),
        (
            "duplicate_row",
            {
                ("unique_date_provider_model", "llm_usage_daily"),
                ("unique_date_provider_model", "llm_cost_daily"),
            },
        ),
    ],
)
def test_dq_failures_fail_the_run_and_are_recorded(
    env: Env, kind: str, failing: set[tuple[str, str]]
) -> None:
    assert kind in CORRUPTION_KINDS
    org = env.org()
    env.backends.openai.corrupt(YESTERDAY, kind)
    run = env.run_ok(org)
    assert run["status"] == "FAILED" and run["error_code"] == "DATA_QUALITY_FAILED"
    for name, _ in failing:
        assert name in run["error_message"]
    assert step(run, "data_quality")["status"] == "FAILED"
    assert {(d["check_name"], d["target_table"]) for d in run["dq_results"] if not d["passed"]} == failing

    rows = env.meta("org_meta_dq_results", org, "AND run_id = @r", r=run["run_id"])
    assert {(d["check_name"], d["target_table"]) for d in rows} == DQ_CHECKS
    failed = [d for d in rows if d["passed"] is False]
    assert {(d["check_name"], d["target_table"]) for d in failed} == failing
    for check in failed:
        assert check["rows_failed"] >= 1 and check["severity"] == "ERROR"
        assert check["details"]["failing_columns"]
        assert check["ingestion_date"] == YESTERDAY
    assert env.run_row(org, run["run_id"])["error_code"] == "DATA_QUALITY_FAILED"
    assert env.quota(org)["pipelines_failed_today"] == 1
