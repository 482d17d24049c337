"""The scenario runner: steps against the in-process services, expectations, save and templates,
faults, cleanup policies (after failures and Ctrl-C), run records without secrets, live mode."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness.backends.fake import build_fake
from harness.onboarding import orgs
from harness.onboarding.bootstrap import bootstrap
from harness.scenario import actions
from harness.scenario.expectations import MISSING, compare, resolve_path
from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario, Tier
from harness.scenario.outcome import FAILED, INTERRUPTED, PASSED, SKIPPED, RunInterrupted, ScenarioUsageError
from harness.scenario.records import read_record
from harness.scenario.runner import run_scenario
from harness.scenario.templates import TemplateError, render, resolve_variables
from harness.services.settings import Settings

ROOT_KEY = Settings().ca_root_api_key.get_secret_value()

FLOW = """
name: {name}
variables:
  org: t_{{run_id}}
org: {{slug: "{{org}}", company_name: Test Co, admin_email: t@example.com, plan: STARTER}}
cleanup: {cleanup}
steps:
  - bootstrap: {{}}
  - onboard: {{}}
    expect: {{status: 201, body: {{org.org_slug: "{{org}}", api_key: "matches ^{{org}}_api_"}}}}
  - setup_integration: {{provider: openai}}
    expect: {{status: 201, body: {{validation_status: VALID}}}}
  - name: pipeline
    run_pipeline: {{provider: openai}}
    expect: {{status: 201, body: {{status: SUCCESS, rows_processed: ">= 1", steps: "len >= 1"}}}}
  - name: quota
    check_quota: {{}}
    expect: {{body: {{pipelines_run_today: {today}}}}}
{tail}"""


def scenario_file(tmp_path: Path, text: str, name: str = "scenario.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def flow(
    tmp_path: Path, *, name: str = "flow", cleanup: str = "always", today: int = 1, tail: str = ""
) -> Path:
    text = FLOW.format(name=name, cleanup=cleanup, today=today, tail=tail)
    return scenario_file(tmp_path, text, f"{name}.yml")


@pytest.fixture
def backends():  # type: ignore[no-untyped-def]
    fake = build_fake(seed=11)
    bootstrap(fake.platform.warehouse, fake.platform.config)
    yield fake
    fake.close()


# --------------------------------------------------------------------------------- passing


def test_a_whole_flow_passes_on_the_fake_tier(tmp_path: Path) -> None:
    path = flow(tmp_path, tail="  - offboard: {}\n    expect: {body: {dataset_deleted: true}}\n")
    seen: list[str] = []
    outcome = run_scenario(
        load_scenario(path),
        source=path,
        runs_dir=tmp_path / "runs",
        on_step=lambda s: seen.append(s.name),
    )
    assert outcome.status == PASSED, outcome.failure_report()
    assert seen == ["bootstrap", "onboard", "setup_integration", "pipeline", "quota", "offboard"]
    assert outcome.org == f"t_{outcome.run_id}"
    assert len(outcome.run_id) == 8 and int(outcome.run_id, 16) >= 0
    assert outcome.cleanup is not None and not outcome.cleanup.ran  # the flow offboarded itself
    record = read_record(outcome.record_path)  # type: ignore[arg-type]
    assert record.outcome == PASSED and record.run_id == outcome.run_id and record.seed == outcome.seed
    assert [s.name for s in record.steps] == seen
    assert record.steps[3].exchange is not None and record.steps[3].exchange.status == 201
    assert {call.path for call in record.provider_calls} >= {"/v1/models"}
    assert (outcome.record_path.parent / "scenario.yml").read_text() == path.read_text()  # type: ignore[union-attr]


def test_a_scenario_for_other_tiers_is_skipped(tmp_path: Path) -> None:
    only_gcp = Scenario.model_validate({"name": "x", "tiers": ["gcp"], "steps": [{"bootstrap": {}}]})
    assert run_scenario(only_gcp, runs_dir=None).status == SKIPPED


def test_on_the_emulator_tier_the_services_reach_emulators_over_http(tmp_path: Path) -> None:
    """Same steps, same seed: the emulator run goes through the real clients (no respx tape) and
    moves the emulators' clock with advance_clock, as the fake tier moves its own."""
    tail = "  - advance_clock: {days: 1}\n  - check_quota: {}\n    expect: {body: {pipelines_run_today: 0}}\n"
    path = flow(tmp_path, tail=tail)
    outcome = run_scenario(load_scenario(path), source=path, tier=Tier.EMULATOR, runs_dir=tmp_path / "runs")
    assert outcome.ok, outcome.failure_report()
    assert outcome.tier is Tier.EMULATOR
    record = read_record(outcome.record_path)  # type: ignore[arg-type]
    assert record.tier == "emulator" and record.provider_calls == []


def test_the_gcp_tier_refuses_what_real_services_cannot_do_before_anything_runs() -> None:
    moves_time = Scenario.model_validate(
        {
            "name": "x",
            "faults": [{"provider": "openai", "status": 503}],
            "steps": [
                {"bootstrap": {}},
                {"advance_clock": {"days": 1}},
                {"setup_integration": {"provider": "openai"}},
            ],
        }
    )
    with pytest.raises(ScenarioUsageError) as caught:
        run_scenario(moves_time, tier=Tier.GCP, runs_dir=None, settings=Settings(openai_api_key=None))
    message = str(caught.value)
    assert "cannot run on gcp" in message
    assert "advance_clock needs a tier with a manual clock" in message
    assert "OPENAI_API_KEY" in message and "faults" in message
    pinned = Scenario.model_validate(
        {"name": "x", "clock": "2025-01-01T00:00:00Z", "steps": [{"bootstrap": {}}]}
    )
    assert "real time" in (run_scenario(pinned, tier=Tier.GCP, runs_dir=None).reason or "")


# ------------------------------------------------------------------------- failure + record


def test_a_failing_expectation_reports_step_expected_actual_and_replay(tmp_path: Path) -> None:
    path = flow(tmp_path, today=2, tail="  - get_org: {}\n")
    outcome = run_scenario(load_scenario(path), source=path, runs_dir=tmp_path / "runs")
    assert outcome.status == FAILED
    failed = outcome.failed_step
    assert failed is not None and failed.name == "quota" and failed.index == 4
    assert failed.failures == ["body.pipelines_run_today: expected 2, got 1"]
    assert len(outcome.steps) == 5  # stopped at the failing step
    report = outcome.failure_report()
    assert "step 5/6: quota [check_quota]" in report
    assert "expected 2, got 1" in report
    assert f"harness replay {outcome.record_path}" in report or "harness replay .harness" not in report
    assert outcome.replay_command is not None and outcome.replay_command in report
    assert outcome.cleanup is not None and outcome.cleanup.ran and outcome.cleanup.ok


def test_the_record_reads_without_any_plaintext_secret(tmp_path: Path) -> None:
    path = flow(tmp_path, today=2)
    outcome = run_scenario(load_scenario(path), source=path, runs_dir=tmp_path / "runs", record=True)
    onboard, integration = outcome.steps[1], outcome.steps[2]
    api_key = onboard.body["api_key"]
    credential = integration.request.json["credential"]  # type: ignore[union-attr]
    assert api_key.startswith(outcome.org) and credential.startswith("sk-admin-")
    text = outcome.record_path.read_text()  # type: ignore[union-attr]
    for secret in (api_key, credential, ROOT_KEY):
        assert secret not in text
    assert api_key not in outcome.failure_report()
    data = json.loads(text)
    assert data["steps"][1]["exchange"]["response"]["api_key"] == "<api_key:1>"
    assert data["steps"][2]["exchange"]["json_body"] == {"credential": "<credential:1>"}
    assert data["steps"][2]["exchange"]["headers"]["X-API-Key"] == "<api_key:1>"
    assert data["steps"][0]["exchange"]["headers"]["X-CA-Root-Key"] == "<root_key:1>"
    models = next(c for c in data["provider_calls"] if c["path"] == "/v1/models")
    assert models["request_headers"]["authorization"] == "Bearer <credential:1>"
    assert models["body"] and models["status"] == 200
    assert data["failure"]["messages"] == ["body.pipelines_run_today: expected 2, got 1"]
    assert {"<api_key:1>", "<credential:1>", "<root_key:1>"} <= set(data["placeholders"])


# ----------------------------------------------------------------------------------- cleanup


@pytest.mark.parametrize(("policy", "kept"), [("always", False), ("on_success", True), ("never", True)])
def test_cleanup_after_a_failing_step_follows_the_policy(
    tmp_path: Path, backends, policy: str, kept: bool
) -> None:  # type: ignore[no-untyped-def]
    path = flow(tmp_path, cleanup=policy, today=5)
    outcome = run_scenario(load_scenario(path), backends=backends, runs_dir=None)
    assert outcome.status == FAILED
    assert orgs.exists(backends.platform, outcome.org) is kept
    assert outcome.cleanup is not None and outcome.cleanup.ran is not kept
    if kept:
        assert outcome.org in outcome.cleanup.reason


def test_on_success_cleans_up_a_passing_run(tmp_path: Path, backends) -> None:  # type: ignore[no-untyped-def]
    path = flow(tmp_path, cleanup="on_success")
    outcome = run_scenario(load_scenario(path), backends=backends, runs_dir=None)
    assert outcome.status == PASSED
    assert outcome.cleanup is not None and outcome.cleanup.orgs == {outcome.org: "offboarded"}
    assert not orgs.exists(backends.platform, outcome.org)


@pytest.mark.parametrize(("policy", "kept"), [("always", False), ("on_success", True)])
def test_cleanup_runs_after_ctrl_c(
    tmp_path: Path, backends, monkeypatch: pytest.MonkeyPatch, policy: str, kept: bool
) -> None:  # type: ignore[no-untyped-def]
    def interrupt(*args: object) -> actions.Request:
        raise KeyboardInterrupt

    monkeypatch.setitem(actions._BUILDERS, "check_quota", interrupt)
    path = flow(tmp_path, cleanup=policy)
    with pytest.raises(KeyboardInterrupt) as caught:
        run_scenario(load_scenario(path), backends=backends, runs_dir=tmp_path / "runs")
    assert isinstance(caught.value, RunInterrupted)
    outcome = caught.value.outcome
    assert outcome.status == INTERRUPTED and len(outcome.steps) == 4
    assert orgs.exists(backends.platform, outcome.org) is kept
    assert read_record(outcome.record_path).outcome == INTERRUPTED  # type: ignore[arg-type]


def test_ctrl_c_during_cleanup_says_what_was_left(
    tmp_path: Path, backends, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from harness.scenario import execution

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(execution.ScenarioRun, "_offboard", interrupt)
    path = flow(tmp_path, today=9)  # fails, then cleanup is interrupted
    with pytest.raises(RunInterrupted) as caught:
        run_scenario(load_scenario(path), backends=backends, runs_dir=None)
    outcome = caught.value.outcome
    assert outcome.status == INTERRUPTED
    assert outcome.cleanup is not None and not outcome.cleanup.ok
    assert outcome.cleanup.orgs == {outcome.org: "kept (cleanup interrupted)"}
    assert orgs.exists(backends.platform, outcome.org)


# ------------------------------------------------------------------------------------ faults


FAULTED = """
name: faulted
clock: 2025-03-10T09:00:00Z
faults:
  - {provider: openai, status: 503, times: 4, before_step: outage}
steps:
  - bootstrap: {}
  - onboard: {}
  - setup_integration: {provider: openai}
  - name: outage
    run_pipeline: {provider: openai, date: 2025-03-09}
    expect: {status: 201, body: {status: %s}}
  - run_pipeline: {provider: openai, date: 2025-03-09}
    expect: {body: {status: SUCCESS}}
"""


def test_a_fault_armed_before_a_step_fails_that_pipeline_run(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, FAULTED % "FAILED")
    outcome = run_scenario(load_scenario(path), runs_dir=tmp_path / "runs")
    assert outcome.status == PASSED, outcome.failure_report()
    run = outcome.steps[3].body
    assert run["status"] == "FAILED" and run["error_code"] == "PROVIDER_UNAVAILABLE"
    assert outcome.clock_start.isoformat() == "2025-03-10T09:00:00+00:00"
    record = read_record(outcome.record_path)  # type: ignore[arg-type]
    assert record.faults[0].armed_before_step == 3
    assert [c.status for c in record.provider_calls if c.step == 3] == [503, 503, 503, 503]


def test_an_unexpected_provider_outage_fails_the_step(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, FAULTED % "SUCCESS")
    outcome = run_scenario(load_scenario(path), runs_dir=None)
    assert outcome.status == FAILED
    assert outcome.failed_step.failures == ['body.status: expected "SUCCESS", got "FAILED"']  # type: ignore[union-attr]


# ----------------------------------------------------------------------- save and templates


def test_save_templates_and_builtins(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        """
        name: saving
        variables:
          org: s_{run_id}
          other: "{org}_b"
          greeting: hello {{literal}} {run_id}
        org: {slug: "{org}"}
        steps:
          - bootstrap: {}
          - onboard: {}
            save: {first_key: api_key, plan: subscription.plan_name}
          - onboard: {org_slug: "{other}"}
            save: {other_key: api_key}
          - name: own key still the default
            get_org: {}
            expect: {body: {org_slug: "{org}", subscription_plan: "{plan}"}}
          - name: other org's key on our org
            get_org: {auth: "{other_key}"}
            expect: {status: 403, error: FORBIDDEN}
          - rotate_key: {}
            expect: {body: {api_key: "!= {first_key}"}}
          - name: the old key is dead
            get_org: {auth: "{first_key}"}
            expect: {status: 401}
          - name: api_key follows the rotation
            http: {method: GET, path: "/api/v1/organizations/{org}/quota"}
            expect: {body: {org_slug: "{org}", daily_limit: "> 0"}}
          - send_webhook: {plan: PROFESSIONAL}
            expect: {body: {applied: true, event_id: "evt_{run_id}_1"}}
          - send_webhook: {plan: PROFESSIONAL, event_id: "{last_event_id}"}
            expect: {body: {duplicate: true}}
          - send_webhook: {signature: invalid}
            expect: {status: 400, error: INVALID_SIGNATURE}
          - send_webhook: {age_seconds: 3600}
            expect: {status: 400, error: INVALID_SIGNATURE}
          - check_subscription: {}
            expect: {body: {plan_name: PROFESSIONAL}}
          - advance_clock: {days: 1}
          - count_rows: {table: org_api_keys}
            expect: {rows: 2}
          - count_rows: {table: org_api_keys, org: "{other}"}
            expect: {rows: ">= 1"}
        """,
    )
    outcome = run_scenario(load_scenario(path), runs_dir=None)
    assert outcome.status == PASSED, outcome.failure_report()
    variables = outcome.variables
    assert variables["other"] == f"s_{outcome.run_id}_b"
    assert variables["greeting"] == f"hello {{literal}} {outcome.run_id}"
    assert variables["plan"] == "STARTER"
    assert variables["api_key"] != variables["first_key"]
    assert variables["last_event_id"] == f"evt_{outcome.run_id}_4"  # one id per send
    assert outcome.cleanup is not None and set(outcome.cleanup.orgs) == {outcome.org, variables["other"]}


def test_an_unknown_variable_fails_the_step_naming_it() -> None:
    scenario = Scenario.model_validate(
        {"name": "x", "steps": [{"get_org": {"org": "{nope}", "auth": "root"}}]}
    )
    outcome = run_scenario(scenario, runs_dir=None)
    assert outcome.status == FAILED
    assert "unknown variable {nope}" in (outcome.failed_step.error or "")  # type: ignore[union-attr]


def test_templates() -> None:
    scope = {"run_id": "ab12", "n": 3, "empty": None}
    assert render("x_{run_id}", scope) == "x_ab12"
    assert render("{n}", scope) == 3  # a whole-string template keeps its type
    assert render("{{n}} {n}", scope) == "{n} 3"
    assert render({"k_{run_id}": ["{n}", "^[0-9]{2}$"]}, scope) == {"k_ab12": [3, "^[0-9]{2}$"]}
    with pytest.raises(TemplateError, match="no value yet"):
        render("{empty}", scope)
    assert resolve_variables({"b": "{a}_b", "a": "a_{run_id}"}, {"run_id": "1"}) == {
        "run_id": "1",
        "a": "a_1",
        "b": "a_1_b",
    }
    with pytest.raises(TemplateError, match="cycle"):
        resolve_variables({"a": "{b}", "b": "{a}"}, {})


# ------------------------------------------------------------------------------ expectations


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (1, 1, True),
        (1, 1.0, True),
        (1, True, False),
        ("SUCCESS", "SUCCESS", True),
        (None, None, True),
        (">= 1", 1, True),
        ("> 1", 1, False),
        ("< 10", 3, True),
        ("<= 2", "2", False),  # not comparable
        ("!= null", "x", True),
        ("!= null", None, False),
        ("== null", None, True),
        ("contains ota", "quota", True),
        ("contains b", ["a", "b"], True),
        ("contains c", ["a", "b"], False),
        ("matches ^run_[0-9]+$", "run_42", True),
        ("matches ^x", 5, False),
        ("len 3", [1, 2, 3], True),
        ("len >= 1", [], False),
        ("exists", 0, True),
        ("exists", MISSING, False),
        ("missing", MISSING, True),
        ("missing", None, False),
        ({}, {}, True),
        ([1, 2], [1, 2], True),
        ("2025-03-09", "2025-03-09", True),
        (">= 2025-03-01", "2025-03-09", True),
    ],
)
def test_comparisons(expected: object, actual: object, ok: bool) -> None:
    assert (compare(expected, actual) is None) is ok


def test_paths_and_failure_lines() -> None:
    body = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert resolve_path(body, "a.b.1.c") == 2
    assert resolve_path(body, "a.b.-1.c") == 2
    assert resolve_path(body, "a.x") is MISSING
    assert resolve_path(body, "a.b.9") is MISSING
    assert compare(">= 5", 3) == "expected >= 5, got 3"
    assert compare("SUCCESS", "FAILED") == 'expected "SUCCESS", got "FAILED"'
    assert compare(1, MISSING) == "expected 1, got <missing>"


# --------------------------------------------------------------------------------- live mode


def test_live_mode_against_harness_serve(tmp_path: Path) -> None:
    from harness.serve import ServiceProcess

    path = scenario_file(
        tmp_path,
        """
        name: live
        faults:
          - {provider: openai, status: 503, times: 4, before_step: outage}
          - {kind: warehouse, error: service_unavailable, operation: create_dataset, for_seconds: 20}
          - {kind: kms, error: resource_exhausted, operation: encrypt, before_step: kms over quota}
        steps:
          - bootstrap: {}
          - onboard: {}
          - name: kms over quota
            setup_integration: {provider: openai}
            expect: {status: 503, error: KMS_ERROR}
          - setup_integration: {provider: openai}
          - name: outage
            run_pipeline: {provider: openai}
            expect: {body: {status: FAILED, error_code: PROVIDER_UNAVAILABLE}}
          - advance_clock: {hours: 1}
          - count_rows: {table: org_integration_credentials}
            expect: {rows: 1}
          - send_webhook: {plan: SCALE}
            expect: {body: {applied: true}}
          - send_webhook: {plan: SCALE, event_id: "{last_event_id}"}
            expect: {body: {duplicate: true}}
        """,
    )
    in_process_only = Scenario.model_validate(
        {"name": "y", "steps": [{"count_rows": {"table": "llm_usage_daily"}}]}
    )
    with ServiceProcess() as services:
        urls = {"api_url": services.api_url, "pipeline_url": services.pipeline_url}
        outcome = run_scenario(load_scenario(path), runs_dir=tmp_path / "runs", **urls)
        assert outcome.status == PASSED, outcome.failure_report()
        assert outcome.mode == "live"
        fired = [(armed.spec.error, armed.fired) for armed in services.backends.faults.armed]  # type: ignore[union-attr]
        assert fired == [("service_unavailable", 5), ("resource_exhausted", 1)]  # over the control plane
        assert not orgs.exists(services.backends.platform, outcome.org)  # type: ignore[union-attr]
        with pytest.raises(ScenarioUsageError, match="needs an in-process run"):
            run_scenario(in_process_only, runs_dir=None, **urls)
    assert read_record(outcome.record_path).mode == "live"  # type: ignore[arg-type]


def test_in_process_driver_describes_datasets_and_bootstraps_other_configs() -> None:
    """What ``describe_dataset`` and ``bootstrap: {config: PATH}`` steps use (the regression
    scenarios for a config BigQuery refuses)."""
    from datetime import UTC, datetime

    from harness.scenario.drivers import InProcess
    from harness.schema.loader import default_config_path

    settings = Settings()
    driver = InProcess(settings, 5, datetime(2025, 1, 1, tzinfo=UTC))
    try:
        assert driver.describe_dataset("organizations") == {
            "dataset_id": "organizations",
            "exists": False,
            "table_count": 0,
            "tables": [],
            "columns": {},
        }
        request = actions.Request("api", "POST", "/api/v1/admin/bootstrap", {"X-CA-Root-Key": ROOT_KEY})
        response = driver.bootstrap_config(default_config_path(), request, settings)
        assert response.status_code == 200 and len(response.json()["created"]) == 15
        described = driver.describe_dataset("organizations")
        assert described["exists"] and described["table_count"] == 15
        assert "org_idempotency_keys" in described["tables"]
        assert "daily_pipeline_limit" in described["columns"]["org_subscriptions"]
    finally:
        driver.close()


def test_one_step_line_plain_and_coloured() -> None:
    """``harness run`` prints the coloured line and a failing pytest item shows the plain one: once
    rich renders the markup, they read the same, even when a label or a detail holds ``[...]``."""
    from io import StringIO

    from rich.console import Console

    from harness.scenario.outcome import StepOutcome
    from harness.scenario.progress import step_line

    steps = [
        StepOutcome(
            index=1, name="onboard [STARTER]", action="onboard", ok=True, elapsed_ms=12.34, status=201
        ),
        StepOutcome(
            index=2, name="get_org", action="get_org", ok=False, elapsed_ms=4.0, status=404, detail="[x] gone"
        ),
        StepOutcome(
            index=0, name="cleanup: offboard t_1", action="offboard", ok=True, elapsed_ms=1.0, cleanup=True
        ),
    ]
    for step in steps:
        out = StringIO()
        Console(file=out, width=200, color_system=None).print(
            step_line(step, markup=True), highlight=False, soft_wrap=True
        )
        assert out.getvalue().rstrip() == step_line(step)
    assert step_line(steps[0]).split() == [
        "ok",
        "2",
        "onboard",
        "[STARTER]",
        "[onboard]",
        "201",
        "12.3",
        "ms",
    ]
    assert step_line(steps[1]).startswith("  FAIL   3 get_org ")
    assert step_line(steps[2]).split() == ["ok", "cleanup:", "offboard", "t_1", "—", "1.0", "ms"]  # no number
