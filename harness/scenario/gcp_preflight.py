"""The gcp tier's preflight: prove the settings before a run creates anything on real services.

Run by ``harness run --backend gcp`` before the first scenario and by the pytest plugin before the
first gcp test that builds the tier (once per session). In order, each problem one line naming the
variable to fix:

1. the settings: a real ``GCP_PROJECT_ID``, and no public local default for ``CA_ROOT_API_KEY`` or
   ``STRIPE_WEBHOOK_SECRET``;
2. the credentials load and yield an access token (without them nothing else can be read);
3. one cheap read each through the tier's own clients: the project's datasets (at most one), the
   KMS key (``cryptoKeys.get``), and for each provider whose key the run uses, one day of the usage
   report the pipelines pull (a key that is not an admin key is named as such).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from harness.backends.bigquery import BigQueryWarehouse
from harness.backends.gcp import build_gcp, gcp_settings_problems
from harness.backends.gcp_access import credentials_problem, kms_key_problem, project_problem
from harness.onboarding.platform import Platform
from harness.ports import Provider
from harness.providers.usage_access import usage_access_problem
from harness.scenario.drivers import env_credential
from harness.scenario.model import Scenario
from harness.scenario.preflight import each_step
from harness.services.settings import Settings


def gcp_preflight(settings: Settings, providers: Iterable[Provider], *, day: date | None = None) -> list[str]:
    """Every problem found, in the order above; empty when the run may start. ``day`` is the usage
    report's day (default yesterday, UTC: the day the nightly pipeline reads)."""
    problems = gcp_settings_problems(settings)
    credentials, problem = credentials_problem(settings)
    if problem is not None:
        problems.append(problem)
    if problems:
        return problems
    backends = build_gcp(settings, credentials=credentials)
    try:
        keys = {p: key for p in providers if (key := env_credential(settings, p.value)) is not None}
        return platform_problems(backends.platform, settings.kms_key_name, keys, day=day)
    finally:
        backends.close()


def platform_problems(
    platform: Platform, kms_key_name: str, provider_keys: Mapping[Provider, str], *, day: date | None = None
) -> list[str]:
    """The cheap reads of step 3 through ``platform``'s clients (any tier built on the real
    adapters: gcp, or the emulator tier in tests)."""
    problems: list[str | None] = []
    if isinstance(platform.warehouse, BigQueryWarehouse):
        problems.append(project_problem(platform.warehouse))
    problems.append(kms_key_problem(platform.keys, kms_key_name))
    day = day or (datetime.now(UTC) - timedelta(days=1)).date()
    for provider, key in provider_keys.items():
        problems.append(usage_access_problem(platform.usage_sources[provider], provider, key, day))
    return [problem for problem in problems if problem is not None]


def providers_used(scenarios: Iterable[Scenario]) -> set[Provider]:
    """The providers whose real key (``valid`` credential) the scenarios set up integrations with."""
    return {
        step.setup_integration.provider
        for scenario in scenarios
        for _, step in each_step(scenario)
        if step.setup_integration is not None and step.setup_integration.credential == "valid"
    }


__all__ = ["gcp_preflight", "platform_problems", "providers_used"]
