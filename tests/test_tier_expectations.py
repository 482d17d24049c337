"""Expectations that depend on the tier (``expect_on``), and a data-quality step that says when it
had nothing to check: what lets ``full_onboarding`` and ``pipeline_flow`` hold on a real account
that had no usage, while the fake and emulator tiers still demand rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from fakes.anthropic import AnthropicState
from fakes.openai import OpenAIState
from harness.backends.fake import FakeBackends, build_fake
from harness.clock import ManualClock
from harness.scenario.expectations import check_response
from harness.scenario.loader import lint_scenario, load_scenario, parse_scenario
from harness.scenario.model import Expect, Step, Tier
from harness.scenario.outcome import RunOutcome, step_detail
from harness.scenario.records import read_record
from harness.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[1]
QUIET = date(2026, 1, 5)

SCENARIO = """\
name: quiet_day
variables: {org: 'quiet_{run_id}'}
org: {slug: "{org}"}
steps:
  - bootstrap: {}
  - onboard: {}
  - setup_integration: {provider: openai}
  - name: pipeline
    run_pipeline: {provider: openai, %(days)s}
    expect:
      status: 201
      body: {status: SUCCESS, rows_processed: ">= 1", data_quality.status: PASSED}
    expect_on:
      gcp:
        body:
          rows_processed: ">= 0"
          data_quality.status: "matches ^(PASSED|SKIPPED)$"
          data_quality.reason: "matches ^([0-9]+ checks passed|no usage rows for .+)$"
"""


@pytest.fixture
def backends() -> Iterator[FakeBackends]:
    with build_fake(clock=ManualClock(datetime(2026, 1, 6, 9, tzinfo=UTC)), seed=7) as fake:
        yield fake


def _run(backends: FakeBackends, days: str) -> tuple[Step, RunOutcome]:
    scenario = parse_scenario(SCENARIO % {"days": days})
    outcome = run_scenario(scenario, tier=Tier.FAKE, backends=backends, runs_dir=None)
    return scenario.steps[3], outcome


def _failures(step: Step, tier: Tier, outcome: RunOutcome) -> list[str]:
    """How the pipeline step's answer fares against the step's expectations on ``tier``."""
    answer = outcome.steps[3]
    expect = step.expect_for(tier)
    return check_response(
        status=answer.status,
        body=answer.body,
        text=answer.text,
        expected_status=expect.status,
        expected_error=expect.error,
        expected_body=expect.body,
        absent=expect.absent,
    )


# --------------------------------------------------------------------------------- the format
def test_expect_on_lays_its_body_paths_and_keys_over_expect() -> None:
    step = Step.model_validate(
        {
            "run_pipeline": {"provider": "openai"},
            "expect": {"status": 201, "body": {"a": 1, "b": 2}, "absent": ["x"]},
            "expect_on": {"gcp": {"body": {"b": ">= 0", "c": 3}}, "emulator": {"status": [201, 409]}},
        }
    )
    assert step.expect_for(Tier.FAKE) == step.expect
    assert step.expect_for(Tier.GCP) == Expect(status=201, body={"a": 1, "b": ">= 0", "c": 3}, absent=["x"])
    assert step.expect_for(Tier.EMULATOR) == Expect(status=[201, 409], body={"a": 1, "b": 2}, absent=["x"])


def test_an_unknown_tier_and_a_tier_the_scenario_skips_are_errors_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "tiers.yml"
    path.write_text(
        "name: tiers\n"
        "tiers: [fake, emulator]\n"
        "steps:\n"
        "  - bootstrap: {}\n"
        "    expect_on:\n"
        "      gcq: {status: 200}\n"
        "  - bootstrap: {}\n"
        "    expect_on:\n"
        "      gcp: {status: 200}\n"
    )
    problems = [str(problem) for problem in lint_scenario(path)]
    assert problems == [
        f"{path}:6: steps[0].expect_on.gcq: 'gcq' is not one of fake, emulator, gcp (did you mean 'gcp'?)",
        f"{path}:9: steps[1].expect_on.gcp: the scenario does not run on gcp (tiers: fake, emulator), "
        "so this never applies",
    ]


def test_expect_on_rows_is_for_count_rows_only_as_expect_rows_is(tmp_path: Path) -> None:
    path = tmp_path / "rows.yml"
    path.write_text("name: rows\nsteps:\n  - bootstrap: {}\n    expect_on:\n      gcp: {rows: 3}\n")
    assert [str(p) for p in lint_scenario(path)] == [
        f"{path}:5: steps[0].expect_on.gcp.rows: expect.rows applies to count_rows only"
    ]


def test_expect_on_goes_on_each_sub_step_of_parallel() -> None:
    with pytest.raises(Exception, match="expect_on goes on each sub-step of parallel"):
        parse_scenario(
            "name: p\nsteps:\n  - parallel:\n      - bootstrap: {}\n      - bootstrap: {}\n"
            "    expect_on: {gcp: {status: 200}}\n"
        )


@pytest.mark.parametrize("name", ["full_onboarding", "pipeline_flow"])
def test_the_gcp_scenarios_accept_no_usage_on_gcp_only(name: str) -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yml")
    [step] = [s for s in scenario.steps if s.action == "run_pipeline" and s.expect_on]
    assert step.expect_for(Tier.FAKE).body["rows_processed"] == ">= 1"
    assert step.expect_for(Tier.EMULATOR).body["rows_processed"] == ">= 1"
    assert step.expect_for(Tier.GCP).body["rows_processed"] == ">= 0"
    assert "data_quality.reason" in step.expect_for(Tier.GCP).body


# --------------------------------------------------------------------- the data-quality verdict
def test_a_day_without_usage_skips_the_checks_and_says_why(backends: FakeBackends) -> None:
    backends.openai.quiet(QUIET)
    _, outcome = _run(backends, f"date: {QUIET}")
    body: dict[str, Any] = outcome.steps[3].body
    assert body["status"] == "SUCCESS" and body["rows_processed"] == 0
    assert body["data_quality"] == {
        "status": "SKIPPED",
        "checks": 0,
        "failed": [],
        "reason": f"no usage rows for {QUIET}",
    }
    dq_step = body["steps"][-1]
    assert (dq_step["step_name"], dq_step["status"]) == ("data_quality", "SKIPPED")
    assert body["dq_results"] == []  # no check rows made of nothing
    passing = dataclasses.replace(outcome.steps[3], failures=[])
    assert step_detail(passing, str).endswith(f"data quality skipped: no usage rows for {QUIET}")


def test_a_quiet_range_names_the_range(backends: FakeBackends) -> None:
    backends.openai.quiet(date(2026, 1, 4))
    backends.openai.quiet(QUIET)
    _, outcome = _run(backends, "start_date: 2026-01-04, end_date: 2026-01-05")
    assert outcome.steps[3].body["data_quality"]["reason"] == "no usage rows for 2026-01-04..2026-01-05"


def test_a_day_with_usage_runs_the_checks_and_says_so(backends: FakeBackends) -> None:
    step, outcome = _run(backends, f"date: {QUIET}")
    assert outcome.ok, outcome.failure_report()
    body = outcome.steps[3].body
    assert body["data_quality"] == {
        "status": "PASSED",
        "checks": 5,
        "failed": [],
        "reason": "5 checks passed",
    }
    assert len(body["dq_results"]) == 5 and body["steps"][-1]["status"] == "SUCCESS"
    assert _failures(step, Tier.GCP, outcome) == []


def test_a_quiet_day_fails_the_fake_tiers_expectations_and_holds_gcps(backends: FakeBackends) -> None:
    backends.openai.quiet(QUIET)
    step, outcome = _run(backends, f"date: {QUIET}")
    assert not outcome.ok
    assert _failures(step, Tier.FAKE, outcome) == [
        "body.rows_processed: expected >= 1, got 0",
        'body.data_quality.status: expected "PASSED", got "SKIPPED"',
    ]
    assert _failures(step, Tier.GCP, outcome) == []


def test_a_failed_check_is_a_failed_verdict(backends: FakeBackends) -> None:
    backends.openai.corrupt(QUIET, "negative_tokens")
    _, outcome = _run(backends, f"date: {QUIET}")
    body = outcome.steps[3].body
    assert body["error_code"] == "DATA_QUALITY_FAILED"
    assert body["data_quality"]["status"] == "FAILED"
    assert body["data_quality"]["failed"] == ["non_negative_values"]
    assert body["data_quality"]["reason"] == "data-quality checks failed: non_negative_values"


def test_a_replay_holds_a_record_to_its_own_tiers_expectations(
    backends: FakeBackends, tmp_path: Path
) -> None:
    """A replay runs on the fake tier; a nightly (gcp) record of a quiet day must replay as it
    passed there, not fail on the fake tier's demand for rows. (The replay here runs on quiet fake
    backends of the same seed, so it does not depend on the provider tape.)"""
    backends.openai.quiet(QUIET)
    scenario = parse_scenario(SCENARIO % {"days": f"date: {QUIET}"})
    first = run_scenario(scenario, tier=Tier.FAKE, backends=backends, runs_dir=tmp_path)
    assert first.record_path is not None and not first.ok
    recorded = read_record(first.record_path)
    for tier, passes in (("fake", False), ("gcp", True)):
        with build_fake(clock=ManualClock(datetime(2026, 1, 6, 9, tzinfo=UTC)), seed=7) as again:
            again.openai.quiet(QUIET)
            as_recorded = recorded.model_copy(update={"tier": tier})
            outcome = run_scenario(scenario, replay_from=as_recorded, backends=again, runs_dir=None)
        assert outcome.ok is passes, (tier, outcome.failure_report())


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_quiet_day_serves_empty_buckets_and_survives_a_restart(tmp_path: Path, provider: str) -> None:
    cls = OpenAIState if provider == "openai" else AnthropicState
    state = cls(seed=3, state_path=tmp_path / "provider.json")
    key = state.issue_admin_key()
    assert state.usage_rows(key, QUIET) and state.cost_rows(key, QUIET)
    state.quiet(QUIET)
    assert state.usage_rows(key, QUIET) == [] and state.cost_rows(key, QUIET) == []
    assert state.expected_usage(key, QUIET, QUIET) == {}
    assert state.usage_rows(key, date(2026, 1, 4))  # only that day
    again = cls(seed=3, state_path=tmp_path / "provider.json")
    assert again.quiet_days == [QUIET]
    assert again.usage_rows(key, QUIET) == []
