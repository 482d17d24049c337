"""The fixtures the harness offers a test suite: its own, and a user's.

``clock``, ``harness_settings``, ``harness_backends`` (the tier's backends, bootstrapped, fresh per
test), ``api_client`` / ``pipeline_client`` (in-process ``TestClient`` or clients of live services),
``openai_fake`` / ``anthropic_fake``, the ``onboarded_org`` factory (every org it makes is
offboarded at teardown) and the session-wide ``harness_emulators``. ``harness_tier`` is in
:mod:`harness.pytest_plugin.tiers`, with the parametrisation that runs these once per tier.
Backends, services and emulators are imported when a fixture is first used, so a suite that uses
none of them does not pay for them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from harness.clock import ManualClock
from harness.pytest_plugin.options import live_urls
from harness.pytest_plugin.preflight import require_gcp_preflight

if TYPE_CHECKING:
    from fakes.anthropic import AnthropicState
    from fakes.openai import OpenAIState
    from harness.backends import TierBackends
    from harness.emulators import Emulators
    from harness.services.settings import Settings

ROOT_HEADER = "X-CA-Root-Key"
ORG_HEADER = "X-API-Key"
_LIVE_BOOTSTRAPPED = pytest.StashKey[bool]()


@pytest.fixture
def clock() -> ManualClock:
    """A fresh ManualClock (2025-01-01T00:00:00Z) that only moves when the test advances it.

    ``harness_backends`` runs on this clock, so advancing it moves the fakes' time (quotas, TTLs,
    the streaming buffer) too."""
    return ManualClock()


@pytest.fixture(scope="session")
def harness_settings() -> Settings:
    """The services' settings, from the environment (``CA_ROOT_API_KEY``, ``ENVIRONMENT``...); a
    refused variable (the local root key with ``HARNESS_BACKEND=gcp``...) fails naming it."""
    from harness.services.settings import SettingsError, settings_from_environment

    try:
        return settings_from_environment()
    except SettingsError as exc:
        pytest.fail("settings refused:\n" + "\n".join(f"  {p}" for p in exc.problems), pytrace=False)


@pytest.fixture(scope="session")
def harness_emulators() -> Iterator[Emulators]:
    """The BigQuery, Cloud KMS, OpenAI and Anthropic emulators on free loopback ports, served from a
    background thread for the whole session: ``.env()`` gives ``BIGQUERY_EMULATOR_HOST`` and the
    rest for your own clients, ``.openai`` / ``.anthropic`` the provider fakes' state. They run on a
    manual clock (``.clock``), which moves only when a test moves it; the client fixtures
    (:mod:`~harness.pytest_plugin.clients`) reset them onto the test's ``clock``. Their control
    plane (``/_harness`` on every port) takes seed files too. When the session ends they keep
    serving, for the next session of this process, which gets them reset to fresh state."""
    from harness.seeding import serve_seed_files

    emulators = serve_seed_files(_session_emulators())
    try:
        yield emulators
    finally:
        emulators.seeder = None
        _KEPT_EMULATORS.append(emulators)


# The session emulators of an ended session, still serving, for the next session of this process
# (pytester's in-process runs, each a session of its own): starting four servers and stopping them
# costs more than most of those runs. They are reset to what new ones would serve before reuse.
_KEPT_EMULATORS: list[Emulators] = []


def _session_emulators() -> Emulators:
    """Kept emulators reset onto a new manual clock (no seed, no fault, fresh state), if they still
    run on the settings new ones would take; else new ones."""
    from harness.emulators import Emulators
    from harness.services.settings import Settings

    while _KEPT_EMULATORS:
        kept = _KEPT_EMULATORS.pop()
        if kept.running and kept.settings == Settings():
            return kept.reset(clock=ManualClock(), seed=None)
        kept.stop()
    return Emulators(clock=ManualClock()).start()


@pytest.fixture
def harness_backends(
    request: pytest.FixtureRequest, harness_tier: str, harness_settings: Settings, harness_seed: int
) -> Iterator[TierBackends]:
    """The tier's backends, bootstrapped (15 meta tables), fresh for each test: the in-process
    fakes, embedded emulators reached through the real Google clients, or real GCP.

    On fake and emulator they run on the ``clock`` fixture's clock and seed with ``harness_seed``
    (the marker's, else one from the test's node id: the same provider keys on every run); a test
    that uses ``clock`` is skipped on gcp, which keeps real time."""
    config = request.config
    if live_urls(config)[0]:
        pytest.skip(
            "harness_backends are in-process, but this run targets live services "
            f"(--api-url {live_urls(config)[0]}), which have backends of their own"
        )
    from harness.backends import build_backends
    from harness.onboarding.bootstrap import bootstrap

    if harness_tier == "gcp":
        if "clock" in request.fixturenames:
            pytest.skip("this test moves the manual clock; the gcp tier runs on real time")
        require_gcp_preflight(config)
        backends = build_backends("gcp", harness_settings)
    else:
        clock: ManualClock = request.getfixturevalue("clock")
        backends = build_backends(harness_tier, harness_settings, clock=clock, seed=harness_seed)
    try:
        bootstrap(backends.platform.warehouse, backends.platform.config)
        yield backends
    finally:
        backends.close()


@pytest.fixture
def api_client(request: pytest.FixtureRequest, harness_settings: Settings) -> Iterator[httpx.Client]:
    """An httpx client of the api-service: in-process over ``harness_backends``, or ``--api-url``."""
    yield from _service_client(request, harness_settings, "api")


@pytest.fixture
def pipeline_client(request: pytest.FixtureRequest, harness_settings: Settings) -> Iterator[httpx.Client]:
    """An httpx client of the pipeline-service, sharing ``api_client``'s backends (or ``--pipeline-url``)."""
    yield from _service_client(request, harness_settings, "pipeline")


def _service_client(
    request: pytest.FixtureRequest, harness_settings: Settings, service: str
) -> Iterator[httpx.Client]:
    api_url, pipeline_url = live_urls(request.config)
    url = api_url if service == "api" else pipeline_url
    if url:
        with httpx.Client(base_url=url, timeout=httpx.Timeout(60.0, connect=5.0)) as client:
            yield client
        return
    from fastapi.testclient import TestClient

    from harness.services.api import create_api_app
    from harness.services.pipeline import create_pipeline_app

    backends: TierBackends = request.getfixturevalue("harness_backends")
    create = create_api_app if service == "api" else create_pipeline_app
    with TestClient(create(backends.platform, harness_settings)) as client:
        yield client


@pytest.fixture
def openai_fake(harness_backends: TierBackends) -> OpenAIState:
    """The fake OpenAI's state: ``issue_admin_key()``, ``add_fault(...)``, ``revoke(...)``... (the
    in-process fake, or the emulator's); skipped on gcp, which talks to the real OpenAI."""
    return _provider_state(harness_backends.openai, "OpenAI")


@pytest.fixture
def anthropic_fake(harness_backends: TierBackends) -> AnthropicState:
    """The fake Anthropic's state (same interface as ``openai_fake``)."""
    return _provider_state(harness_backends.anthropic, "Anthropic")


def _provider_state(state: Any, provider: str) -> Any:
    if state is None:
        pytest.skip(f"needs the {provider} fake; this tier talks to the real {provider}")
    return state


@dataclass(frozen=True)
class OnboardedOrg:
    """An org made by the ``onboarded_org`` factory."""

    slug: str
    api_key: str
    plan: str
    onboarding: dict[str, Any] = field(repr=False, default_factory=dict)
    """The onboarding response body (subscription, quota, dataset_id...)."""

    @property
    def headers(self) -> dict[str, str]:
        """The org key header, for requests as the org: ``api_client.get(url, headers=org.headers)``."""
        return {ORG_HEADER: self.api_key}

    @property
    def dataset_id(self) -> str:
        return str(self.onboarding.get("dataset_id", ""))


class OnboardingFailed(Exception):
    """The ``onboarded_org`` factory could not onboard (the service refused or did not answer)."""


@pytest.fixture
def onboarded_org(
    request: pytest.FixtureRequest, api_client: httpx.Client, harness_settings: Settings
) -> Iterator[Callable[..., OnboardedOrg]]:
    """Factory: ``onboarded_org(plan="STARTER", slug=None)`` onboards an org through the API.

    ``slug`` defaults to a fresh ``t_<hex>``; ``company_name`` and ``admin_email`` may be given as
    keywords. At teardown every org the factory made is offboarded (``DELETE`` with the root key);
    an org that cannot be removed fails the test's teardown, naming it, so nothing is left behind
    silently. Offboarding an org the test already removed is harmless."""
    root = {ROOT_HEADER: harness_settings.ca_root_api_key.get_secret_value()}
    created: list[str] = []

    def onboard(
        plan: str = "STARTER",
        slug: str | None = None,
        *,
        company_name: str | None = None,
        admin_email: str | None = None,
    ) -> OnboardedOrg:
        if live_urls(request.config)[0]:
            _bootstrap_live_once(request.config, api_client, root)
        slug = slug or f"t_{secrets.token_hex(6)}"
        body = {
            "org_slug": slug,
            "company_name": company_name or f"Test org {slug}",
            "admin_email": admin_email or f"{slug}@example.com",
            "plan": plan,
        }
        response = api_client.post("/api/v1/organizations/onboard", headers=root, json=body)
        if response.status_code != 201:
            raise OnboardingFailed(
                f"onboarding {slug!r} ({plan}) failed: HTTP {response.status_code}: {response.text[:500]}"
            )
        created.append(slug)
        data = response.json()
        return OnboardedOrg(slug=slug, api_key=data["api_key"], plan=plan, onboarding=data)

    yield onboard

    problems: list[str] = []
    for slug in reversed(created):
        try:
            response = api_client.delete(f"/api/v1/organizations/{slug}", headers=root)
        except Exception as exc:
            problems.append(f"{slug}: {type(exc).__name__}: {exc}")
            continue
        if response.status_code != 200:
            problems.append(f"{slug}: HTTP {response.status_code}: {response.text[:300]}")
    if problems:
        pytest.fail(
            "onboarded_org could not offboard every org it made:\n  " + "\n  ".join(problems), pytrace=False
        )


def _bootstrap_live_once(config: pytest.Config, client: httpx.Client, root: dict[str, str]) -> None:
    """Live services may not be bootstrapped yet; bootstrap is idempotent, so do it once per session."""
    if config.stash.get(_LIVE_BOOTSTRAPPED, False):
        return
    response = client.post("/api/v1/admin/bootstrap", headers=root)
    if response.status_code != 200:
        raise OnboardingFailed(
            f"bootstrapping {client.base_url} failed: HTTP {response.status_code}: {response.text[:500]}"
        )
    config.stash[_LIVE_BOOTSTRAPPED] = True
