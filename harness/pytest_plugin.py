"""pytest plugin: options, markers, hypothesis profiles and fixtures for the harness.

Registered as the ``harness`` pytest11 entry point, so every pytest run in an environment where
the project is installed loads it (pytester runs included).

Options
    ``--backend {fake,emulator,gcp}[,...]``  tier(s) the tests run against (default:
    ``$HARNESS_BACKEND`` or ``fake``); with several, tier-aware tests and scenario items run on each.
    ``--run-integration``  enable tests that need real cloud services; ``--backend gcp`` without it
    is a usage error. ``--api-url URL --pipeline-url URL``  point ``api_client``,
    ``pipeline_client``, ``onboarded_org`` and the scenario items at running services instead of
    in-process apps (the two go together). ``--scenario PATTERN``  run only the scenario items whose
    name or path matches (a glob, else a substring; repeatable); other tests are unaffected.

Markers
    ``gcp``, ``integration`` (skipped unless ``--run-integration``; ``gcp`` also needs
    ``--backend gcp``), ``emulator``, ``requires_docker`` (when no Docker daemon answers: an error,
    or a skip with ``HARNESS_SKIP_DOCKER=1``),
    ``slow``, ``scenario`` (set on every scenario item).

Fixtures (for the harness's tests and a user's own suite)
    ``harness_tier``   the tier a test runs on; with several ``--backend`` tiers, every test that
                       uses it (directly or through the fixtures below) runs once per tier.
    ``harness_backends``  the tier's backends (:func:`harness.backends.build_backends`), bootstrapped,
                       fresh per test, on the ``clock`` fixture's clock (not on gcp); skipped
                       against live services.
    ``api_client``, ``pipeline_client``  httpx clients of the two services: ``TestClient`` over the
                       shared ``harness_backends``, or clients of ``--api-url``/``--pipeline-url``.
    ``onboarded_org``  factory: ``onboarded_org(plan="STARTER", slug=None)`` onboards an org and
                       returns an :class:`OnboardedOrg` (``slug``, ``api_key``, ``headers``); every
                       org it made is offboarded (``DELETE`` with the root key) at teardown.
    ``clock``          a :class:`~harness.clock.ManualClock`; the backends' clock when
                       ``harness_backends`` is used, so ``clock.advance(...)`` moves quotas, TTLs and
                       the streaming buffer.
    ``openai_fake``, ``anthropic_fake``  the provider fakes' state (mint keys, inject faults); the
                       emulators' on the emulator tier; skipped on gcp.
    ``harness_settings``  the service :class:`~harness.services.settings.Settings` (from the env).
    ``harness_emulators``  session-wide :class:`~harness.emulators.Emulators` on free ports in a
                       background thread, for a user's own clients (``.env()``).

Scenario files
    :func:`collect_scenario_file` turns a scenario YAML file into a :class:`ScenarioItem` that loads
    it (:mod:`harness.scenario.loader`), runs it (:func:`harness.scenario.runner.run_scenario`) on
    the selected tier and shows the run's failure report when it fails. The repository's root
    ``conftest.py`` uses it for ``scenarios/**/*.yml``; a user's conftest can do the same.

Hypothesis profiles (registered at import, chosen with ``$HARNESS_HYPOTHESIS_PROFILE``)
    ``default``  50 examples, no deadline, ``too_slow`` health check suppressed.
    ``ci``       ``default`` + ``derandomize=True``, no example database, failure blobs printed:
                 the same examples on every run, so CI never fails on a draw a developer cannot
                 reproduce. Used when the variable is unset and Hypothesis detects a CI
                 environment (``CI`` etc.); otherwise ``default`` is.
    ``nightly``  ``default`` with 1000 examples, for the scheduled deep run.
    ``--hypothesis-profile`` (Hypothesis's own option) still wins when given.
"""

from __future__ import annotations

import fnmatch
import os
import secrets
import socket
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import pytest
from hypothesis import HealthCheck, settings

from harness.clock import ManualClock

if TYPE_CHECKING:
    from fakes.anthropic import AnthropicState
    from fakes.openai import OpenAIState
    from harness.backends import TierBackends
    from harness.emulators import Emulators
    from harness.scenario.model import Scenario
    from harness.services.settings import Settings

BACKENDS = ("fake", "emulator", "gcp")
BACKEND_ENV = "HARNESS_BACKEND"
PROFILE_ENV = "HARNESS_HYPOTHESIS_PROFILE"
DOCKER_SOCKET = "/var/run/docker.sock"
SKIP_DOCKER_ENV = "HARNESS_SKIP_DOCKER"

MARKERS = {
    "gcp": "needs real GCP (BigQuery, Cloud KMS); runs only with --run-integration and --backend gcp",
    "integration": "talks to real external services; runs only with --run-integration",
    "emulator": "needs the emulator tier (real google-cloud clients against the local REST emulators)",
    "requires_docker": "needs a Docker daemon; when none answers it errors, or is skipped with "
    "HARNESS_SKIP_DOCKER=1",
    "slow": "slow test; deselect with -m 'not slow'",
    "scenario": "a scenario file run as a test (select with --scenario PATTERN or -m scenario)",
}
SCENARIO_SUFFIXES = (".yml", ".yaml")

# --------------------------------------------------------------------------- hypothesis profiles
# Registered at import time (pytest imports entry-point plugins before collecting anything). The
# parent is Hypothesis's own built-in default, explicitly, so the result does not depend on
# whichever profile Hypothesis auto-loaded (it loads its "ci" profile when it detects CI).
_DEFAULT = settings(
    settings.get_profile("default"),
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILES: dict[str, settings] = {
    "default": _DEFAULT,
    "ci": settings(_DEFAULT, derandomize=True, database=None, print_blob=True),
    "nightly": settings(_DEFAULT, max_examples=1000),
}
_HYPOTHESIS_DETECTED_CI = settings.get_current_profile_name() == "ci"
for _name, _profile in PROFILES.items():
    settings.register_profile(_name, _profile)

_PREVIOUS_PROFILE = pytest.StashKey[str]()
_TIERS = pytest.StashKey[list[str]]()


def _profile_name() -> str:
    name = os.environ.get(PROFILE_ENV, "").strip()
    if not name:
        return "ci" if _HYPOTHESIS_DETECTED_CI else "default"
    if name not in PROFILES:
        raise pytest.UsageError(
            f"{PROFILE_ENV}={name!r} is not a harness hypothesis profile; "
            f"valid profiles: {', '.join(sorted(PROFILES))}"
        )
    return name


# ------------------------------------------------------------------------------- options & config
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "CloudAct harness")
    group.addoption(
        "--backend",
        dest="harness_backend",
        default=os.environ.get(BACKEND_ENV) or "fake",
        metavar="TIER[,TIER]",
        help=f"tier(s) to run against: {', '.join(BACKENDS)}, or several comma-separated "
        "(fake,emulator runs every tier-aware test and scenario on both) (default: "
        f"${BACKEND_ENV} or fake)",
    )
    group.addoption(
        "--run-integration",
        dest="harness_run_integration",
        action="store_true",
        default=False,
        help="run tests marked gcp/integration (they need real cloud services and credentials)",
    )
    group.addoption(
        "--api-url",
        dest="harness_api_url",
        default=None,
        metavar="URL",
        help="run against a running api-service (e.g. http://127.0.0.1:8000) instead of in-process; "
        "needs --pipeline-url too",
    )
    group.addoption(
        "--pipeline-url",
        dest="harness_pipeline_url",
        default=None,
        metavar="URL",
        help="run against a running pipeline-service (e.g. http://127.0.0.1:8001); needs --api-url too",
    )
    group.addoption(
        "--scenario",
        dest="harness_scenario",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only the scenario items whose name or path matches PATTERN: a glob "
        "(full_*, regressions/*) or else a substring; repeatable; other tests are not affected",
    )


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin, so --hypothesis-profile still wins
def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")

    config.stash[_TIERS] = tiers = _parse_tiers(config.getoption("harness_backend"))
    if "gcp" in tiers and not config.getoption("harness_run_integration"):
        hint = f" ({BACKEND_ENV}=gcp is set in the environment)" if os.environ.get(BACKEND_ENV) else ""
        raise pytest.UsageError(
            "--backend gcp talks to real BigQuery and Cloud KMS, so it needs --run-integration too" + hint
        )

    api_url, pipeline_url = _live_urls(config)
    if (api_url is None) != (pipeline_url is None):
        given, missing = ("--api-url", "--pipeline-url") if api_url else ("--pipeline-url", "--api-url")
        raise pytest.UsageError(
            f"{given} needs {missing} too: both services must share one set of backends, so both run "
            "live or both in-process"
        )

    profile = _profile_name()
    config.stash[_PREVIOUS_PROFILE] = settings.get_current_profile_name()
    settings.load_profile(profile)


def _parse_tiers(value: str) -> list[str]:
    tiers = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [tier for tier in tiers if tier not in BACKENDS]
    if unknown or not tiers:
        source = (
            f"--backend {value!r}" if value != os.environ.get(BACKEND_ENV) else f"{BACKEND_ENV}={value!r}"
        )
        raise pytest.UsageError(
            f"{source}: {', '.join(map(repr, unknown)) or 'no tier'} is not a backend; choose from "
            f"{', '.join(BACKENDS)} (several comma-separated)"
        )
    return tiers


def harness_tiers(config: pytest.Config) -> list[str]:
    """The tiers this run covers (``--backend``), in the order given."""
    return config.stash[_TIERS]


def pytest_unconfigure(config: pytest.Config) -> None:
    # Restore the process-wide profile so in-process pytester runs do not leak theirs.
    previous = config.stash.get(_PREVIOUS_PROFILE, None)
    if previous is not None:
        settings.load_profile(previous)


def pytest_report_header(config: pytest.Config) -> str:
    integration = "on" if config.getoption("harness_run_integration") else "off"
    header = (
        f"harness: backend={','.join(harness_tiers(config))}, integration={integration}, "
        f"hypothesis profile={settings.get_current_profile_name()}"
    )
    api_url, pipeline_url = _live_urls(config)
    if api_url:
        header += f", live services: api={api_url} pipeline={pipeline_url}"
    return header


def _live_urls(config: pytest.Config) -> tuple[str | None, str | None]:
    return config.getoption("harness_api_url"), config.getoption("harness_pipeline_url")


# ------------------------------------------------------------------------------------ collection
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _select_scenarios(config, items)
    run_integration = config.getoption("harness_run_integration")
    tiers = harness_tiers(config)

    if not run_integration:
        skip_gcp = pytest.mark.skip(
            reason="needs real GCP: pass --run-integration --backend gcp and set GCP_PROJECT_ID "
            "(and GOOGLE_APPLICATION_CREDENTIALS or application-default credentials)"
        )
        skip_integration = pytest.mark.skip(
            reason="integration test: needs real external services; pass --run-integration to run it"
        )
    elif "gcp" not in tiers:
        skip_gcp = pytest.mark.skip(
            reason=f"needs real GCP: pass --backend gcp (this run uses --backend {','.join(tiers)})"
        )
        skip_integration = None
    else:
        skip_gcp = skip_integration = None

    for item in items:
        if skip_gcp is not None and item.get_closest_marker("gcp"):
            item.add_marker(skip_gcp)
        elif skip_integration is not None and item.get_closest_marker("integration"):
            item.add_marker(skip_integration)
        if item.get_closest_marker("requires_docker"):
            problem = _docker_problem()
            if problem is not None and os.environ.get(SKIP_DOCKER_ENV) == "1":
                item.add_marker(
                    pytest.mark.skip(reason=f"needs a Docker daemon: {problem}; {SKIP_DOCKER_ENV}=1 skips it")
                )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A ``requires_docker`` test with no daemon is an error, not a silent skip, so a machine that
    should run it notices; ``HARNESS_SKIP_DOCKER=1`` made it a skip at collection instead."""
    if item.get_closest_marker("requires_docker") and (problem := _docker_problem()) is not None:
        pytest.fail(
            f"needs a Docker daemon: {problem}. Start Docker, or set {SKIP_DOCKER_ENV}=1 to skip "
            "the container tests",
            pytrace=False,
        )


@cache
def _docker_problem() -> str | None:
    """None when a Docker daemon answers a ping, else why not. Asked once per process."""
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return _socket_problem()
    try:
        client = docker.from_env(timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"none answered (docker.from_env().ping() failed: {type(exc).__name__})"
    return None


def _socket_problem() -> str | None:
    if not os.path.exists(DOCKER_SOCKET):
        return f"none found ({DOCKER_SOCKET} does not exist and the docker package is not installed)"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(DOCKER_SOCKET)
    except OSError as exc:
        return f"none answered on {DOCKER_SOCKET} ({exc.strerror or exc})"
    return None


# -------------------------------------------------------------------------------------- fixtures
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
    """The services' settings, from the environment (``CA_ROOT_API_KEY``, ``ENVIRONMENT``...)."""
    from harness.services.settings import Settings

    return Settings()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Several tiers (``--backend fake,emulator``): every test that uses ``harness_tier`` (through
    ``harness_backends``, ``api_client``, ``onboarded_org``...) runs once per tier."""
    tiers = harness_tiers(metafunc.config)
    if len(tiers) > 1 and "harness_tier" in metafunc.fixturenames:
        metafunc.parametrize("harness_tier", tiers, indirect=True, ids=tiers)


@pytest.fixture(scope="session")
def harness_emulators() -> Iterator[Emulators]:
    """The BigQuery, Cloud KMS, OpenAI and Anthropic emulators on free loopback ports, served from a
    background thread for the whole session: ``.env()`` gives ``BIGQUERY_EMULATOR_HOST`` and the
    rest for your own clients, ``.openai`` / ``.anthropic`` the provider fakes' state."""
    from harness.emulators import Emulators

    with Emulators() as emulators:
        yield emulators


@pytest.fixture
def harness_tier(request: pytest.FixtureRequest) -> str:
    """The tier this test runs on: ``fake``, ``emulator`` or ``gcp``."""
    return str(getattr(request, "param", harness_tiers(request.config)[0]))


@pytest.fixture
def harness_backends(
    request: pytest.FixtureRequest, harness_tier: str, harness_settings: Settings
) -> Iterator[TierBackends]:
    """The tier's backends, bootstrapped (15 meta tables), fresh for each test: the in-process
    fakes, embedded emulators reached through the real Google clients, or real GCP.

    On fake and emulator they run on the ``clock`` fixture's clock and their seed comes from the
    test's node id (the same provider keys on every run); a test that uses ``clock`` is skipped
    on gcp, which keeps real time."""
    config = request.config
    if _live_urls(config)[0]:
        pytest.skip(
            "harness_backends are in-process, but this run targets live services "
            f"(--api-url {_live_urls(config)[0]}), which have backends of their own"
        )
    from harness.backends import build_backends
    from harness.onboarding.bootstrap import bootstrap

    if harness_tier == "gcp":
        if "clock" in request.fixturenames:
            pytest.skip("this test moves the manual clock; the gcp tier runs on real time")
        backends = build_backends("gcp", harness_settings)
    else:
        clock: ManualClock = request.getfixturevalue("clock")
        seed = zlib.crc32(request.node.nodeid.encode())
        backends = build_backends(harness_tier, harness_settings, clock=clock, seed=seed)
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
    api_url, pipeline_url = _live_urls(request.config)
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
        if _live_urls(request.config)[0]:
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


# -------------------------------------------------------------------------------- scenario items
def collect_scenario_file(file_path: Path, parent: pytest.Collector, root: Path) -> ScenarioFile | None:
    """For a ``pytest_collect_file`` hook: a :class:`ScenarioFile` for a ``*.yml``/``*.yaml`` file
    under ``root``, else None. Directories whose names start with ``_`` or ``.`` hold what scenarios
    use (bootstrap configs, fixtures), not scenarios, and are skipped."""
    if file_path.suffix not in SCENARIO_SUFFIXES:
        return None
    try:
        relative = file_path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    if any(part.startswith(("_", ".")) for part in relative.parts[:-1]):
        return None
    file = ScenarioFile.from_parent(parent, path=file_path)
    file.scenario_root = root
    return file


class ScenarioFile(pytest.File):
    """One scenario file: collects one :class:`ScenarioItem` named after the scenario."""

    scenario_root: Path | None = None

    def collect(self) -> Iterator[ScenarioItem]:
        try:
            from harness.scenario.loader import ScenarioError, load_scenario
        except ImportError as exc:  # the loader is part of the product; say so rather than crash
            yield ScenarioItem.from_parent(
                self, name=self.path.stem, scenario=None, problem=f"cannot load scenarios: {exc}"
            )
            return
        try:
            scenario = load_scenario(self.path)
        except ScenarioError as exc:
            problems = getattr(exc, "errors", (exc,)) or (exc,)
            report = "\n".join(str(problem) for problem in problems)
            try:  # name the file as the run shows it: relative to the rootdir
                shown = self.path.relative_to(self.config.rootpath).as_posix()
                report = report.replace(str(self.path), shown)
            except ValueError:
                pass
            yield ScenarioItem.from_parent(self, name=self.path.stem, scenario=None, problem=report)
            return
        tiers = harness_tiers(self.config)
        for tier in tiers:
            name = scenario.name if len(tiers) == 1 else f"{scenario.name}[{tier}]"
            yield ScenarioItem.from_parent(self, name=name, scenario=scenario, tier=tier)


class ScenarioFailed(Exception):
    """A scenario run did not pass; carries the runner's outcome."""

    def __init__(self, outcome: Any) -> None:
        super().__init__("scenario failed")
        self.outcome = outcome


class ScenarioNotLoadable(Exception):
    """The scenario file does not load; the message names file, line and field."""


class ScenarioNotRunnable(Exception):
    """The runner refused the scenario before running it (an unknown table, a fault naming no step)."""


class ScenarioItem(pytest.Item):
    """Runs one scenario on one tier (one item per ``--backend`` tier, named ``name[tier]`` when
    there are several), in-process or against ``--api-url``/``--pipeline-url``; a failure shows the
    runner's failure report (failing step, expected vs actual, replay command). Skipped when the
    scenario's ``tiers`` exclude the tier."""

    def __init__(
        self,
        *,
        scenario: Scenario | None,
        problem: str | None = None,
        tier: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.problem = problem
        self.tier = backend = tier or harness_tiers(self.config)[0]
        self.outcome: Any = None
        self.add_marker("scenario")
        if scenario is not None:
            # Tags are keywords (-k smoke), not markers: `tiers` says where a scenario may run, and
            # a tag such as `integration` must not pick up that marker's skip.
            self.extra_keyword_matches.update(scenario.tags)
            tiers = [str(tier) for tier in scenario.tiers]
            if backend not in tiers:
                self.add_marker(
                    pytest.mark.skip(
                        reason=f"scenario {scenario.name} runs on {', '.join(tiers)}; "
                        f"this run uses --backend {backend}"
                    )
                )

    @property
    def relative_path(self) -> str:
        """The file's path under the scenario root (``regressions/x.yml``), for ``--scenario``."""
        root = getattr(self.parent, "scenario_root", None)
        if root is not None:
            try:
                return self.path.resolve().relative_to(Path(root).resolve()).as_posix()
            except ValueError:
                pass
        return self.path.name

    def runtest(self) -> None:
        if self.problem is not None or self.scenario is None:
            raise ScenarioNotLoadable(self.problem or "scenario did not load")
        from harness.scenario.model import Tier
        from harness.scenario.runner import ScenarioUsageError, run_scenario

        api_url, pipeline_url = _live_urls(self.config)
        options: dict[str, Any] = {"source": self.path, "tier": Tier(self.tier)}
        if api_url:
            options.update(api_url=api_url, pipeline_url=pipeline_url)
        try:
            self.outcome = run_scenario(self.scenario, **options)
        except ScenarioUsageError as exc:
            if api_url:  # what the live services cannot do (pinned clock, reaching behind the API)
                _skip_at_item(f"scenario {self.name} cannot run against live services: {exc}")
            raise ScenarioNotRunnable(str(exc)) from exc
        if getattr(self.outcome, "status", None) == "skipped":
            _skip_at_item(f"scenario {self.name} {self.outcome.reason}")
        if not self.outcome.ok:
            raise ScenarioFailed(self.outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value.outcome.failure_report())
        if isinstance(excinfo.value, ScenarioNotLoadable):
            return f"scenario file does not load:\n{excinfo.value}"
        if isinstance(excinfo.value, ScenarioNotRunnable):
            return f"scenario cannot run: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.name}"  # a line number: skip reports need one


def _skip_at_item(reason: str) -> NoReturn:
    """``pytest.skip`` reported at the scenario file (as a skip marker is), not at this module."""
    try:
        error = pytest.skip.Exception(reason, _use_item_location=True)
    except TypeError:  # a pytest without the flag: the location is this module, the reason is intact
        pytest.skip(reason)
    raise error


def _select_scenarios(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--scenario PATTERN``: keep the scenario items whose name, file name or path under the
    scenario root matches any pattern (glob if it has ``*?[``, else substring); others stay."""
    patterns: list[str] = config.getoption("harness_scenario")
    if not patterns:
        return
    scenarios = [item for item in items if isinstance(item, ScenarioItem)]

    def matches(item: ScenarioItem) -> bool:
        names = (item.name, item.path.name, item.path.stem, item.relative_path)
        for pattern in patterns:
            if any(ch in pattern for ch in "*?["):
                if any(fnmatch.fnmatchcase(name, pattern) for name in names):
                    return True
            elif any(pattern in name for name in names):
                return True
        return False

    selected = [item for item in scenarios if matches(item)]
    if not selected:
        known = ", ".join(sorted(item.name for item in scenarios)) or "none were collected"
        raise pytest.UsageError(f"--scenario {' '.join(patterns)}: no scenario matches (scenarios: {known})")
    deselected = [item for item in scenarios if item not in selected]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        drop = set(map(id, deselected))
        items[:] = [item for item in items if id(item) not in drop]
