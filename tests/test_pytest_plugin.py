"""The harness pytest plugin: options, markers, skips, hypothesis profiles and the clock fixture.

Each test runs an inner pytest session with pytester; the plugin reaches it through its pytest11
entry point, exactly as it reaches a user's run.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from harness import pytest_plugin

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
    monkeypatch.setattr(pytest_plugin, "_docker_problem", lambda: None)  # pretend a daemon answers
    pytester.makepyfile(test_marked=MARKED_TESTS)
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=4, skipped=2)
    assert "is not a registered marker" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.OK


def test_markers_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    for marker in pytest_plugin.MARKERS:
        result.stdout.fnmatch_lines([f"@pytest.mark.{marker}: *"])


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
    result.stderr.fnmatch_lines(["*HARNESS_BACKEND='aws' is not a backend*fake, emulator, gcp*"])


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


def test_requires_docker_is_skipped_with_a_reason_when_no_daemon_answers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytest_plugin, "_docker_problem", lambda: "none answered (test)")
    pytester.makepyfile(test_marked=MARKED_TESTS)
    result = pytester.runpytest("-rs", "-k", "docker")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * needs a Docker daemon: none answered (test)*"])


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
