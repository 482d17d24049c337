"""The seed E2E flow, through the public HTTP API of the in-process services.

bootstrap → onboard → read the org back → OpenAI integration → list integrations → usage/cost
pipeline → quota consumed → subscription ACTIVE → offboard. Cleanup runs even when a step fails.
Each step is checked, timed and reported; the first failing check stops the flow. (Scenario
files will drive richer flows; this is the built-in smoke run behind ``./run_e2e.sh``.)
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient

from harness.backends.fake import FakeBackends, build_fake
from harness.services.api import create_api_app
from harness.services.pipeline import create_pipeline_app
from harness.services.settings import Settings


@dataclass
class StepResult:
    name: str
    ok: bool
    elapsed_ms: float
    detail: str


@dataclass
class FlowReport:
    org_slug: str
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def total_ms(self) -> float:
        return sum(step.elapsed_ms for step in self.steps)


class StepFailed(Exception):
    pass


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise StepFailed(f"expected HTTP {status}, got {response.status_code}: {response.text[:300]}")
    return response.json()


def run_seed_flow(
    settings: Settings | None = None,
    *,
    seed: int | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> FlowReport:
    settings = settings or Settings()
    with (
        build_fake(settings, seed=seed) as backends,
        TestClient(create_api_app(backends.platform, settings)) as api,
        TestClient(create_pipeline_app(backends.platform, settings)) as pipelines,
    ):
        return _run(backends, api, pipelines, settings, on_step or (lambda _: None))


def _run(
    backends: FakeBackends,
    api: TestClient,
    pipelines: TestClient,
    settings: Settings,
    on_step: Callable[[StepResult], None],
) -> FlowReport:
    slug = f"e2e_{secrets.token_hex(4)}"
    report = FlowReport(org_slug=slug)
    root = {"X-CA-Root-Key": settings.ca_root_api_key.get_secret_value()}
    context: dict[str, Any] = {}

    def step(name: str, action: Callable[[], str]) -> None:
        started = time.perf_counter()
        try:
            detail, ok = action(), True
        except StepFailed as exc:
            detail, ok = str(exc), False
        result = StepResult(name, ok, (time.perf_counter() - started) * 1000, detail)
        report.steps.append(result)
        on_step(result)
        if not ok:
            raise StepFailed(detail)

    def bootstrap() -> str:
        body = expect(api.post("/api/v1/admin/bootstrap", headers=root), 200)
        tables = len(body["created"]) + len(body["existing"])
        if tables != len(backends.platform.config):
            raise StepFailed(f"expected {len(backends.platform.config)} tables, got {tables}")
        return f"{len(body['created'])} tables created in dataset {body['dataset_id']}"

    def onboard() -> str:
        payload = {"org_slug": slug, "company_name": "E2E Test Co", "admin_email": "e2e@example.com"}
        body = expect(api.post("/api/v1/organizations/onboard", headers=root, json=payload), 201)
        context["org_key"] = {"X-API-Key": body["api_key"]}
        plan, prefix = body["subscription"]["plan_name"], body["api_key_prefix"]
        return f"org {slug}, plan {plan}, key {prefix}…, dataset {body['dataset_id']}"

    def read_org() -> str:
        body = expect(api.get(f"/api/v1/organizations/{slug}", headers=context["org_key"]), 200)
        return f"status {body['status']}"

    def integrate() -> str:
        credential = backends.openai.issue_admin_key()  # admin keys can also read usage and costs
        context["credential"] = credential
        url = f"/api/v1/integrations/{slug}/openai/setup"
        body = expect(api.post(url, headers=context["org_key"], json={"credential": credential}), 201)
        return f"openai {body['validation_status']}, {body['fingerprint']}"

    def list_integrations() -> str:
        response = api.get(f"/api/v1/integrations/{slug}", headers=context["org_key"])
        body = expect(response, 200)
        if context["credential"] in response.text:
            raise StepFailed("the integration listing returned the plaintext credential")
        return ", ".join(f"{i['provider']}={i['validation_status']}" for i in body["integrations"])

    def pipeline() -> str:
        url = f"/api/v1/pipelines/run/{slug}/openai/cost/usage_cost"
        body = expect(pipelines.post(url, headers=context["org_key"], json={}), 201)
        if body["status"] != "SUCCESS":
            raise StepFailed(
                f"run {body['run_id']} {body['status']}: {body['error_code']}: {body['error_message']}"
            )
        checks = body["dq_results"]
        passed = sum(1 for c in checks if c["passed"])
        return (
            f"run {body['status']} for {body['run_date']}: {body['rows_processed']} rows, "
            f"{len(body['steps'])} steps, DQ {passed}/{len(checks)} passed"
        )

    def quota() -> str:
        body = expect(api.get(f"/api/v1/organizations/{slug}/quota", headers=context["org_key"]), 200)
        if body["pipelines_run_today"] != 1:
            raise StepFailed(f"expected 1 pipeline run counted today, got {body['pipelines_run_today']}")
        today = f"{body['pipelines_run_today']}/{body['daily_limit']} today"
        return f"{today}, {body['pipelines_run_month']}/{body['monthly_limit']} this month"

    def subscription() -> str:
        body = expect(api.get(f"/api/v1/organizations/{slug}/subscription", headers=context["org_key"]), 200)
        if body["status"] != "ACTIVE":
            raise StepFailed(f"subscription status {body['status']}, expected ACTIVE")
        return f"{body['plan_name']} {body['status']}"

    def offboard() -> str:
        body = expect(api.delete(f"/api/v1/organizations/{slug}", headers=root), 200)
        leftover = backends.platform.select(
            " UNION ALL ".join(
                f"SELECT COUNT(*) AS n FROM {backends.platform.table(t)} WHERE org_slug = @s"
                for t in backends.platform.config.table_names
            ),
            {"s": slug},
        ).rows
        if any(row["n"] for row in leftover):
            raise StepFailed("rows remain after offboarding")
        return (
            f"{sum(body['deleted_rows'].values())} rows deleted, dataset dropped: {body['dataset_deleted']}"
        )

    steps = (
        ("bootstrap", bootstrap),
        ("onboard", onboard),
        ("get org", read_org),
        ("integration (openai)", integrate),
        ("list integrations", list_integrations),
        ("pipeline (openai usage_cost)", pipeline),
        ("quota consumed", quota),
        ("subscription", subscription),
    )
    try:
        with contextlib.suppress(StepFailed):
            for name, action in steps:
                step(name, action)
    finally:
        if "org_key" in context:
            with contextlib.suppress(StepFailed):
                step("cleanup (offboard)", offboard)
    return report
