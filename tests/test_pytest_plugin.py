"""The harness pytest plugin: options, markers, skips, hypothesis profiles, the fixtures a user's
suite uses (harness_backends, api_client, pipeline_client, onboarded_org, clock, provider fakes),
and scenario files collected as test items by the root conftest.

Each test runs an inner pytest session with pytester; the plugin reaches it through its pytest11
entry point, exactly as it reaches a user's run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings
from typer.testing import CliRunner

import harness.backends.emulator
import harness.backends.fake
from harness.cli import app
from harness.pytest_plugin import markers, probes
from harness.serve import ServiceProcess

# In-process pytester runs drop the modules first imported during a run when it ends; a second
# import of cryptography's Python layer then no longer matches its native bindings. Importing
# every tier's backends here, in the outer session, keeps those modules loaded across runs.
assert harness.backends.emulator

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The inner runs must not inherit the outer run's choices, and must load entry-point plugins.
    for name in ("HARNESS_BACKEND", "HARNESS_HYPOTHESIS_PROFILE", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)


# Any of these makes Hypothesis (and so the plugin's default profile choice) treat the run as CI.
CI_VARIABLES = (
    "CI",
    "TF_BUILD",
    "BUILDKITE",
    "CIRCLECI",
    "CIRRUS_CI",
    "CODEBUILD_BUILD_ID",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "HEROKU_TEST_RUN_ID",
    "TEAMCITY_VERSION",
    "bamboo.buildKey",
    "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI",
)

MARKED_TESTS = """
import pytest

@pytest.mark.gcp
def test_gcp(): pass

@pytest.mark.integration
def test_integration(): pass

@pytest.mark.emulator
def test_emulator(): pass

@pytest.mark.slow
def test_slow(): pass

@pytest.mark.requires_docker
def test_docker(): pass

def test_plain(): pass
"""


def test_markers_are_registered_under_strict_markers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probes, "docker_problem", lambda: None)  # pretend a daemon answers
    pytester.makepyfile(test_marked=MARKED_TESTS)
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=4, skipped=2)
    assert "is not a registered marker" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.OK


def test_markers_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    for marker in markers.MARKERS:
        result.stdout.fnmatch_lines([f"@pytest.mark.{marker}[:(]*"])  # harness(tier=...): its signature


def test_gcp_and_integration_are_skipped_without_run_integration(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=MARKED_TESTS)
    result = pytester.runpytest("-rs", "-k", "gcp or integration")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED * needs real GCP: pass --run-integration --backend gcp and set GCP_PROJECT_ID*",
            "SKIPPED * integration test: *pass --run-integration to run it*",
        ]
    )


def test_run_integration_runs_integration_but_gcp_still_needs_backend_gcp(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=MARKED_TESTS)
    result = pytester.runpytest("-rs", "--run-integration", "-k", "gcp or integration")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["SKIPPED * needs real GCP: pass --backend gcp (this run uses --backend fake)*"]
    )


def test_gcp_tests_run_with_run_integration_and_backend_gcp(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=MARKED_TESTS)
    result = pytester.runpytest("--run-integration", "--backend", "gcp", "-k", "gcp or integration")
    result.assert_outcomes(passed=2)


def test_backend_gcp_without_run_integration_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--backend", "gcp")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--backend gcp*needs --run-integration*"])


def test_backend_gcp_from_the_environment_is_a_usage_error_too(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_BACKEND", "gcp")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*needs --run-integration*HARNESS_BACKEND=gcp is set*"])


def test_unknown_backend_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile("def test_x(): pass")
    assert pytester.runpytest("--backend", "aws").ret == pytest.ExitCode.USAGE_ERROR
    monkeypatch.setenv("HARNESS_BACKEND", "aws")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*HARNESS_BACKEND='aws': 'aws' is not a backend*fake, emulator, gcp*"])
    result = pytester.runpytest("--backend", "fake,moon")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--backend 'fake,moon': 'moon' is not a backend*"])


@pytest.mark.parametrize(("env", "expected"), [(None, "fake"), ("emulator", "emulator")])
def test_backend_default_comes_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, env: str | None, expected: str
) -> None:
    if env is not None:
        monkeypatch.setenv("HARNESS_BACKEND", env)
    pytester.makepyfile(
        f"""
        def test_backend(request):
            assert request.config.getoption("harness_backend") == {expected!r}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"harness: backend={expected}, integration=off, *"])


def test_requires_docker_without_a_daemon_errors_unless_skipping_is_asked_for(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probes, "docker_problem", lambda: "none answered (test)")
    monkeypatch.delenv("HARNESS_SKIP_DOCKER", raising=False)
    pytester.makepyfile(test_marked=MARKED_TESTS)
    result = pytester.runpytest("-rs", "-k", "docker")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs a Docker daemon: none answered (test)*HARNESS_SKIP_DOCKER=1*"])
    monkeypatch.setenv("HARNESS_SKIP_DOCKER", "1")
    result = pytester.runpytest("-rs", "-k", "docker")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["SKIPPED * needs a Docker daemon: none answered (test); HARNESS_SKIP_DOCKER=1*"]
    )


@pytest.mark.parametrize(
    ("profile", "max_examples", "derandomize"),
    [("default", 50, False), ("ci", 50, True), ("nightly", 1000, False)],
)
def test_hypothesis_profile_is_chosen_by_environment(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    profile: str,
    max_examples: int,
    derandomize: bool,
) -> None:
    monkeypatch.setenv("HARNESS_HYPOTHESIS_PROFILE", profile)
    pytester.makepyfile(
        f"""
        from hypothesis import settings

        def test_profile():
            assert settings.get_current_profile_name() == {profile!r}
            assert settings.default.max_examples == {max_examples}
            assert settings.default.deadline is None
            assert settings.default.derandomize is {derandomize}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_unset_profile_variable_means_default_outside_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A subprocess, because Hypothesis detects CI when it is first imported.
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(
        """
        from hypothesis import settings

        def test_profile():
            assert settings.get_current_profile_name() == "default"
            assert settings.default.max_examples == 50
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_unset_profile_variable_means_ci_in_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(
        """
        from hypothesis import settings

        def test_profile():
            assert settings.get_current_profile_name() == "ci"
            assert settings.default.derandomize is True
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_unknown_hypothesis_profile_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_HYPOTHESIS_PROFILE", "weekly")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*HARNESS_HYPOTHESIS_PROFILE='weekly' is not a harness hypothesis profile*ci, default, nightly*"]
    )


def test_in_process_runs_do_not_leak_their_profile(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = settings.get_current_profile_name()
    monkeypatch.setenv("HARNESS_HYPOTHESIS_PROFILE", "nightly" if before != "nightly" else "default")
    pytester.makepyfile("def test_x(): pass")
    pytester.runpytest().assert_outcomes(passed=1)
    assert settings.get_current_profile_name() == before


def test_clock_fixture_is_a_fresh_manual_clock(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from datetime import UTC, datetime, timedelta

        from harness.clock import ManualClock

        def test_clock(clock):
            assert isinstance(clock, ManualClock)
            assert clock.now() == datetime(2025, 1, 1, tzinfo=UTC)
            clock.advance(timedelta(minutes=31))
            assert clock.now() == datetime(2025, 1, 1, 0, 31, tzinfo=UTC)

        def test_clock_is_fresh_per_test(clock):
            assert clock.now() == datetime(2025, 1, 1, tzinfo=UTC)
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


# ------------------------------------------------------------------------ fixtures for user suites
ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"

USER_SUITE = """
import pytest
from datetime import timedelta

def test_a_whole_flow_through_the_fixtures(
    onboarded_org, api_client, pipeline_client, openai_fake, harness_backends, clock
):
    assert harness_backends.clock is clock
    org = onboarded_org(plan="PROFESSIONAL")
    assert org.slug.startswith("t_") and org.onboarding["subscription"]["plan_name"] == "PROFESSIONAL"

    setup = api_client.post(
        f"/api/v1/integrations/{org.slug}/openai/setup",
        headers=org.headers,
        json={"credential": openai_fake.issue_admin_key()},
    )
    assert setup.status_code == 201, setup.text
    url = f"/api/v1/pipelines/run/{org.slug}/openai/cost/usage_cost"
    run = pipeline_client.post(url, headers=org.headers)
    assert run.status_code == 201 and run.json()["status"] == "SUCCESS", run.text
    assert run.json()["run_date"] == "2024-12-31"  # yesterday on the clock fixture's 2025-01-01

    quota = api_client.get(f"/api/v1/organizations/{org.slug}/quota", headers=org.headers).json()
    assert quota["pipelines_run_today"] == 1
    clock.advance(timedelta(days=1))  # the fixture clock is the backends' clock
    quota = api_client.get(f"/api/v1/organizations/{org.slug}/quota", headers=org.headers).json()
    assert quota["pipelines_run_today"] == 0 and quota["usage_date"] == "2025-01-02"

def test_named_orgs_and_provider_faults(onboarded_org, api_client, anthropic_fake):
    org = onboarded_org(slug="acme_corp")
    assert org.slug == "acme_corp" and org.plan == "STARTER"
    assert api_client.get("/api/v1/organizations/acme_corp", headers=org.headers).status_code == 200
    anthropic_fake.add_fault(503, times=4)
    setup = api_client.post(
        "/api/v1/integrations/acme_corp/anthropic/setup",
        headers=org.headers,
        json={"credential": anthropic_fake.issue_admin_key()},
    )
    assert setup.status_code == 503 and setup.json()["error"] == "PROVIDER_UNAVAILABLE"

def test_each_test_gets_fresh_backends(onboarded_org):
    onboarded_org(slug="acme_corp")  # the org of the previous test is not there
"""

# An inner conftest fixture set up before onboarded_org, so it is torn down after it: it checks
# that the factory's teardown left none of the orgs in any meta table, and their datasets gone.
LEFTOVER_CHECK = """
import pytest
from harness.ports import NotFoundError

@pytest.fixture
def leftovers(harness_backends):
    slugs = []
    yield slugs
    platform = harness_backends.platform
    found = {}
    for table in platform.config.table_names:
        rows = platform.select(
            f"SELECT COUNT(*) AS n FROM {platform.table(table)} WHERE org_slug IN UNNEST(@slugs)",
            {"slugs": slugs},
        ).scalar()
        if rows:
            found[table] = rows
    datasets = []
    for slug in slugs:
        try:
            platform.warehouse.get_dataset(platform.org_dataset(slug))
            datasets.append(slug)
        except NotFoundError:
            pass
    orgs = " ".join(sorted(slugs))
    print(f"\\nLEFTOVERS of {orgs}: {len(found)} tables with rows, {len(datasets)} datasets")
    assert not found and not datasets
"""


def test_fixtures_serve_a_users_own_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_SUITE)
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)


def test_onboarded_org_offboards_every_org_it_made(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(LEFTOVER_CHECK)
    pytester.makepyfile(
        """
        def test_passes(leftovers, onboarded_org, api_client, openai_fake):
            for plan in ("STARTER", "SCALE"):
                org = onboarded_org(plan=plan)
                leftovers.append(org.slug)
                api_client.post(
                    f"/api/v1/integrations/{org.slug}/openai/setup",
                    headers=org.headers,
                    json={"credential": openai_fake.issue_admin_key()},
                )

        def test_fails_but_still_cleans_up(leftovers, onboarded_org):
            leftovers.append(onboarded_org(slug="doomed_org").slug)
            assert False, "the test fails"

        def test_already_offboarded_by_the_test(leftovers, onboarded_org, api_client, harness_settings):
            org = onboarded_org()
            leftovers.append(org.slug)
            root = {"X-CA-Root-Key": harness_settings.ca_root_api_key.get_secret_value()}
            assert api_client.delete(f"/api/v1/organizations/{org.slug}", headers=root).status_code == 200
        """
    )
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=2, failed=1, errors=0)
    result.stdout.fnmatch_lines(
        [
            "*LEFTOVERS of t_* t_*: 0 tables with rows, 0 datasets",
            "*LEFTOVERS of doomed_org: 0 tables with rows, 0 datasets",
            "*LEFTOVERS of t_*: 0 tables with rows, 0 datasets",
        ]
    )


def test_onboarding_failure_names_the_org_and_the_answer(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from harness.pytest_plugin.fixtures import OnboardingFailed

        def test_bad_plan(onboarded_org):
            expected = "onboarding 'gold_org' .GOLD. failed: HTTP 400: .*INVALID_PLAN"
            with pytest.raises(OnboardingFailed, match=expected):
                onboarded_org(plan="GOLD", slug="gold_org")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_failing_offboarding_fails_the_teardown_naming_the_org(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from harness.services import deps

        # monkeypatch first: it is undone after onboarded_org's teardown has run
        def test_root_key_changes_under_the_factory(monkeypatch, onboarded_org):
            onboarded_org(slug="stuck_org")
            # the services now refuse every root key, so offboarding fails
            monkeypatch.setattr(deps, "_is_root", lambda settings, given: False)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*onboarded_org could not offboard every org it made:*", "*stuck_org: HTTP 401:*Invalid root key*"]
    )


def test_several_tiers_run_every_tier_aware_test_once_per_tier(pytester: pytest.Pytester) -> None:
    """fake,emulator: the same test body runs on the in-process fakes and, through the real Google
    clients, on emulators; tests that do not use the tier fixtures run once."""
    pytester.makepyfile(
        """
        def test_org(harness_tier, harness_backends, onboarded_org, api_client, openai_fake, clock):
            org = onboarded_org()
            key = openai_fake.issue_admin_key()
            setup = api_client.post(
                f"/api/v1/integrations/{org.slug}/openai/setup", json={"credential": key}, headers=org.headers
            )
            assert setup.status_code == 201, setup.text
            kind = type(harness_backends).__name__
            assert kind == {"fake": "FakeBackends", "emulator": "EmulatorBackends"}[harness_tier]
            assert harness_backends.clock is clock

        def test_plain(): pass
        """
    )
    result = pytester.runpytest("-v", "--backend", "fake,emulator", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["*test_org?fake? PASSED*", "*test_org?emulator? PASSED*", "*test_plain PASSED*"]
    )
    result.stdout.fnmatch_lines(["harness: backend=fake,emulator, *"])


def test_on_gcp_tests_that_move_the_clock_or_need_a_provider_fake_are_skipped(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        def test_clock(harness_backends, clock): pass
        """
    )
    result = pytester.runpytest("-rs", "--backend", "gcp", "--run-integration")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * the gcp tier runs on real time"])


def test_live_urls_go_together(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--api-url", "http://127.0.0.1:8000")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--api-url needs --pipeline-url too*"])
    result = pytester.runpytest("--pipeline-url", "http://127.0.0.1:8001")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--pipeline-url needs --api-url too*"])


@pytest.fixture(scope="module")
def live_services() -> Iterator[ServiceProcess]:
    with ServiceProcess(seed=5) as services:
        yield services


def _live_args(services: ServiceProcess) -> tuple[str, ...]:
    return ("--api-url", services.api_url, "--pipeline-url", services.pipeline_url)


def test_clients_and_onboarded_org_target_live_services(
    pytester: pytest.Pytester, live_services: ServiceProcess
) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_live(onboarded_org, api_client, pipeline_client, request):
            assert str(api_client.base_url).rstrip("/") == request.config.getoption("harness_api_url")
            org = onboarded_org(slug="live_org")
            got = api_client.get("/api/v1/organizations/live_org", headers=org.headers)
            assert got.json()["status"] == "ACTIVE"
            assert pipeline_client.get("/health").json()["service"] == "pipeline-service"

        def test_in_process_fakes_are_skipped(openai_fake): pass
        """
    )
    result = pytester.runpytest("-rs", *_live_args(live_services))
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["harness: *live services: api=http://127.0.0.1:* pipeline=http://127.0.0.1:*", "SKIPPED *--api-url*"]
    )
    root = {"X-CA-Root-Key": live_services.root_key}
    with httpx.Client(base_url=live_services.api_url) as client:
        gone = client.get("/api/v1/organizations/live_org", headers=root)
    assert gone.status_code == 404 and gone.json()["error"] == "ORG_NOT_FOUND"


# -------------------------------------------------------------------------------- scenario items
PASSING_SCENARIO = """
name: {name}
description: Onboard an org and read it back.
tags: [smoke]
steps:
  - bootstrap: {{}}
  - onboard: {{}}
    expect: {{status: 201, body: {{subscription.plan_name: STARTER}}}}
  - get_org: {{}}
    expect: {{status: 200, body: {{status: ACTIVE}}}}
  - count_rows: {{table: org_profiles}}
    expect: {{rows: 1}}
"""

FAILING_SCENARIO = """
name: wrong_plan
description: Expects the wrong plan, so it fails at step 2.
steps:
  - bootstrap: {}
  - name: onboard expecting SCALE
    onboard: {}
    expect: {status: 201, body: {subscription.plan_name: SCALE}}
  - get_org: {}
"""


def _scenario_project(pytester: pytest.Pytester, files: dict[str, str]) -> None:
    """A project laid out like this repository: the root conftest and a scenarios/ directory."""
    pytester.makeconftest(ROOT_CONFTEST.read_text(encoding="utf-8"))
    for name, text in files.items():
        path = pytester.path / "scenarios" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip(), encoding="utf-8")


def test_every_scenario_file_is_a_test_item(pytester: pytest.Pytester) -> None:
    _scenario_project(
        pytester,
        {
            "alpha.yml": PASSING_SCENARIO.format(name="alpha"),
            "regressions/beta.yaml": PASSING_SCENARIO.format(name="beta"),
            "regressions/_configs/not_a_scenario.yml": "dataset: {id: x}\ntables: []\n",
        },
    )
    pytester.makepyfile(test_plain="def test_plain(): pass")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["scenarios/alpha.yml::alpha PASSED*", "scenarios/regressions/beta.yaml::beta PASSED*"],
        consecutive=False,
    )
    assert "not_a_scenario" not in result.stdout.str()
    records = list((pytester.path / ".harness" / "runs").glob("*/record.json"))
    assert len(records) == 2  # every scenario run leaves its run record


def test_scenario_items_are_selected_by_marker_and_tag(pytester: pytest.Pytester) -> None:
    _scenario_project(pytester, {"alpha.yml": PASSING_SCENARIO.format(name="alpha")})
    pytester.makepyfile(test_plain="def test_plain(): pass")
    for args, selected in (
        (["-m", "scenario"], "scenarios/alpha.yml::alpha"),
        (["-k", "smoke"], "scenarios/alpha.yml::alpha"),  # a tag
        (["-m", "not scenario"], "test_plain.py::test_plain"),
    ):
        result = pytester.runpytest("--collect-only", "-q", *args)
        result.stdout.fnmatch_lines([selected, "1/2 tests collected (1 deselected)*"])


@pytest.mark.parametrize(
    ("patterns", "selected"),
    [
        (["alpha"], ["alpha"]),  # substring of the name
        (["regressions/*"], ["beta", "gamma"]),  # glob on the path under scenarios/
        (["*mm*"], ["gamma"]),  # glob on the name
        (["gamma.yml", "alp"], ["alpha", "gamma"]),  # file name, several patterns
    ],
)
def test_scenario_option_filters_scenario_items_only(
    pytester: pytest.Pytester, patterns: list[str], selected: list[str]
) -> None:
    _scenario_project(
        pytester,
        {
            "alpha.yml": PASSING_SCENARIO.format(name="alpha"),
            "regressions/beta.yml": PASSING_SCENARIO.format(name="beta"),
            "regressions/gamma.yml": PASSING_SCENARIO.format(name="gamma"),
        },
    )
    pytester.makepyfile(test_plain="def test_plain(): pass")
    args = [arg for pattern in patterns for arg in ("--scenario", pattern)]
    result = pytester.runpytest("--collect-only", "-q", *args)
    collected = [line.split("::")[-1] for line in result.stdout.lines if line.startswith("scenarios/")]
    assert sorted(collected) == selected
    assert "test_plain.py::test_plain" in result.stdout.str()  # other tests are not filtered
    result.stdout.fnmatch_lines([f"*{len(selected) + 1}/4 tests collected ({3 - len(selected)} deselected)*"])


def test_scenario_option_matching_nothing_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _scenario_project(pytester, {"alpha.yml": PASSING_SCENARIO.format(name="alpha")})
    result = pytester.runpytest("--scenario", "fulll_onboarding")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--scenario fulll_onboarding: no scenario matches (scenarios: alpha)*"])


def test_a_failing_scenario_shows_the_failure_report(pytester: pytest.Pytester) -> None:
    _scenario_project(
        pytester, {"wrong_plan.yml": FAILING_SCENARIO, "alpha.yml": PASSING_SCENARIO.format(name="alpha")}
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ scenario: wrong_plan _*",
            "scenario wrong_plan FAILED (run *, org scn_*)*",
            "*failing step 2/3: onboard expecting SCALE*",
            '*body.subscription.plan_name: expected "SCALE", got "STARTER"*',
            "*response: 201 *",
            "*cleanup: scn_* offboarded*",
            "*replay: harness replay .harness/runs/*/record.json",
        ],
        consecutive=False,
    )
    output = result.stdout.str()
    assert "Traceback" not in output and "def runtest" not in output  # the report, not pytest's trace


def _step_lines(output: str) -> list[str]:
    """The step lines of an output, without what differs between two runs (timings, run ids)."""
    lines = [line.rstrip() for line in output.splitlines() if line.startswith(("  ok  ", "  FAIL "))]
    timeless = (re.sub(r" +\d+\.\d ms", " <t> ms", line) for line in lines)
    return [re.sub(r"scn_[0-9a-f]{8}", "scn_<run>", line) for line in timeless]


def test_a_failing_scenario_item_shows_the_step_lines_harness_run_prints(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    _scenario_project(pytester, {"wrong_plan.yml": FAILING_SCENARIO})
    item = pytester.runpytest()
    item.assert_outcomes(failed=1)
    path = pytester.path / "scenarios" / "wrong_plan.yml"
    cli = CliRunner().invoke(app, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert cli.exit_code == 1, cli.output
    # Only the failure report: under CI pytest repeats the whole message in its short summary.
    shown = _step_lines(item.stdout.str().split("short test summary info")[0])
    assert shown == _step_lines(cli.output)
    assert [line.split()[0] for line in shown] == ["ok", "FAIL", "ok"]  # bootstrap, onboard, cleanup
    assert "onboard expecting SCALE [onboard]" in shown[1] and 'expected "SCALE", got "STARTER"' in shown[1]


def test_scenario_items_are_skipped_outside_their_tiers(pytester: pytest.Pytester) -> None:
    only_gcp = PASSING_SCENARIO.format(name="nightly_only").replace("tags: [smoke]", "tiers: [gcp]")
    _scenario_project(pytester, {"nightly_only.yml": only_gcp})
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * scenario nightly_only runs on gcp; this run uses --backend fake"])


def test_a_malformed_scenario_fails_naming_file_line_and_field(pytester: pytest.Pytester) -> None:
    broken = PASSING_SCENARIO.format(name="broken").replace("get_org: {}", "get_org: {}\n    expcet: {}")
    _scenario_project(pytester, {"broken.yml": broken, "alpha.yml": PASSING_SCENARIO.format(name="alpha")})
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)  # the other scenarios still run
    result.stdout.fnmatch_lines(
        [
            "*scenario file does not load:",
            "scenarios/broken.yml:9: steps[[]2].expcet: unknown key 'expcet'; *(did you mean 'expect'?)",
        ]
    )


def test_scenario_items_run_against_live_services(
    pytester: pytest.Pytester, live_services: ServiceProcess
) -> None:
    _scenario_project(pytester, {"alpha.yml": PASSING_SCENARIO.format(name="alpha")})
    result = pytester.runpytest(*_live_args(live_services))
    result.assert_outcomes(passed=1)
    record = json.loads(next((pytester.path / ".harness" / "runs").glob("*/record.json")).read_text())
    assert record["mode"] == "live" and record["api_url"] == live_services.api_url


def test_scenario_items_run_once_per_tier(pytester: pytest.Pytester) -> None:
    _scenario_project(pytester, {"alpha.yml": PASSING_SCENARIO.format(name="alpha")})
    result = pytester.runpytest("-v", "--backend", "fake,emulator")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*alpha.yml::alpha?fake? PASSED*", "*alpha.yml::alpha?emulator? PASSED*"])
    records = [
        json.loads(path.read_text()) for path in (pytester.path / ".harness" / "runs").glob("*/record.json")
    ]
    assert sorted(record["tier"] for record in records) == ["emulator", "fake"]


def test_live_scenario_items_skip_what_live_services_cannot_do(
    pytester: pytest.Pytester, live_services: ServiceProcess
) -> None:
    pinned = PASSING_SCENARIO.format(name="pinned").replace("tags: [smoke]", "clock: 2025-03-10T09:00:00Z")
    _scenario_project(pytester, {"pinned.yml": pinned})
    result = pytester.runpytest("-rs", *_live_args(live_services))
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * scenario pinned pins the clock at 2025-03-10T09:00:00*"])


def test_the_next_sessions_emulators_are_the_same_servers_with_nothing_of_the_last_session(
    pytester: pytest.Pytester,
) -> None:
    """An ended session's emulators keep serving for the next session of the process (pytester's
    runs here), reset: the same ports, none of the last session's datasets, keys, faults or time."""
    pytester.makepyfile(
        """
        import json
        from datetime import timedelta
        from pathlib import Path

        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        SEEN = Path("seen.json")

        def test_session(harness_emulators):
            client = bigquery.Client(
                project="p",
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": harness_emulators.bigquery_url},
            )
            before = json.loads(SEEN.read_text()) if SEEN.exists() else None
            if before is not None:
                assert harness_emulators.ports == before["ports"]
                assert list(client.list_datasets()) == []
                assert harness_emulators.faults.pending() == []
                assert harness_emulators.openai.listed_keys() == []
                assert harness_emulators.clock.now().isoformat() == before["start"]
                assert harness_emulators.seeder is not None
            start = harness_emulators.clock.now().isoformat()
            client.create_dataset("ds")
            harness_emulators.openai.issue_key()
            harness_emulators.clock.advance(timedelta(days=3))
            SEEN.write_text(json.dumps({"ports": harness_emulators.ports, "start": start}))
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


def test_harness_emulators_serve_the_real_google_client_for_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        def client(emulators):
            return bigquery.Client(
                project="p",
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": emulators.env()["BIGQUERY_EMULATOR_HOST"]},
            )

        def test_create(harness_emulators):
            client(harness_emulators).create_dataset("ds")

        def test_same_emulators_later(harness_emulators):
            assert [d.dataset_id for d in client(harness_emulators).list_datasets()] == ["ds"]
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)
