"""The built wheel works on its own: installed with no extras in a fresh virtual environment that
holds only it and its runtime dependency closure, ``harness --version``, ``harness run`` of the
onboarding scenario and a user's own pytest suite on the plugin's fixtures all work, from a
directory outside the checkout.

All offline: the wheel is built with the dev environment's setuptools (``--no-build-isolation``),
and the closure of the wheel's own ``Requires-Dist`` (no extras) is linked from the dev environment
(tests/freshenv.py), never the dev extra or this checkout. A runtime dependency missing from
pyproject.toml therefore fails here, as it would for a user.
"""

from __future__ import annotations

import email
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import Distribution
from pathlib import Path

import pytest
from freshenv import FreshEnv
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.distribution import PACKAGES, PROJECT, requirement_closure

pytestmark = pytest.mark.slow  # deselected by --quick: builds and installs the wheel in a fresh environment

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "harness", "fakes")
"""What the wheel is built from (pyproject: readme, ``packages.find include harness*, fakes*``)."""

if sys.prefix == sys.base_prefix:
    pytest.skip(
        "not running in a virtual environment: nothing to link a fresh one from", allow_module_level=True
    )

USER_SUITE = """
from datetime import timedelta

from harness.clock import ManualClock


def test_an_org_through_the_api(onboarded_org, api_client):
    org = onboarded_org(plan="PROFESSIONAL")
    profile = api_client.get(f"/api/v1/organizations/{org.slug}", headers=org.headers)
    assert profile.status_code == 200, profile.text


def test_backends_run_on_the_clock_fixture(harness_backends, clock, harness_tier):
    assert harness_tier == "fake"  # the default tier, with no option or variable set
    assert isinstance(clock, ManualClock) and harness_backends.clock is clock
    before = clock.now()
    clock.advance(timedelta(days=1))
    assert harness_backends.clock.now() - before == timedelta(days=1)


def test_my_tables(bigquery_client, bigquery_dataset):
    table = f"{bigquery_dataset.project}.{bigquery_dataset.dataset_id}.events"
    bigquery_client.query(f"CREATE TABLE `{table}` (name STRING, n INT64)").result()
    assert bigquery_client.insert_rows_json(table, [{"name": "a", "n": 2}, {"name": "b", "n": 3}]) == []
    rows = bigquery_client.query(f"SELECT SUM(n) AS total FROM `{table}`").result()
    assert [row.total for row in rows] == [5]


def test_my_secrets(kms_client, kms_key_name):
    sealed = kms_client.encrypt(request={"name": kms_key_name, "plaintext": b"s3cret"}).ciphertext
    assert kms_client.decrypt(request={"name": kms_key_name, "ciphertext": sealed}).plaintext == b"s3cret"


def test_my_models(openai_client):
    assert [model.id for model in openai_client.models.list()]
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built once per module from a copy of the sources (so the build's ``build/`` and
    ``*.egg-info`` never land in the checkout a parallel worker is reading)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert build.returncode == 0, f"pip wheel failed:\n{build.stdout}\n{build.stderr}"
    (built,) = out.glob("*.whl")
    return built


def wheel_requirements(wheel: Path) -> list[str]:
    """The wheel's own ``Requires-Dist`` lines (the dev environment's editable install may differ)."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        message = email.message_from_bytes(archive.read(metadata))
    return message.get_all("Requires-Dist") or []


@pytest.fixture(scope="module")
def runtime(wheel: Path) -> dict[str, Distribution]:
    closure = requirement_closure(wheel_requirements(wheel))
    assert canonicalize_name(PROJECT) not in closure
    return closure


def _fresh(root: Path, wheel: Path, *closures: dict[str, Distribution]) -> FreshEnv:
    env = FreshEnv(root)
    for closure in closures:
        env.link(closure.values())
    env.install_wheel(wheel)
    return env


@pytest.fixture(scope="module")
def fresh(
    tmp_path_factory: pytest.TempPathFactory, wheel: Path, runtime: dict[str, Distribution]
) -> FreshEnv:
    """A venv with the wheel and its runtime closure only."""
    return _fresh(tmp_path_factory.mktemp("venv"), wheel, runtime)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working directory outside the checkout, so nothing is imported from it."""
    assert not tmp_path.resolve().is_relative_to(REPO)
    return tmp_path


# ============================================================================ what the wheel holds


def test_the_wheel_ships_every_data_file_of_the_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    data = {
        path.relative_to(REPO).as_posix()
        for package in PACKAGES
        for path in (REPO / package).rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    }
    assert "harness/schema/bootstrap.yml" in data and "harness/onboarding/plans.yml" in data
    assert data <= names, sorted(data - names)
    modules = {p.relative_to(REPO).as_posix() for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    assert modules <= names, sorted(modules - names)


def test_the_wheel_needs_no_extra_for_the_provider_mount_and_declares_its_entry_points(wheel: Path) -> None:
    requirements = wheel_requirements(wheel)
    runtime = [req for req in requirements if "extra ==" not in req]
    assert {"respx", "httpx2"} <= {Requirement(req).name for req in runtime}
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = (n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        text = archive.read(entry_points).decode()
    assert "harness = harness.cli:app" in text and "harness = harness.pytest_plugin" in text


# ======================================================================== the fresh environment


def test_the_fresh_environment_holds_only_the_wheel_and_its_runtime_closure(
    fresh: FreshEnv, runtime: dict[str, Distribution]
) -> None:
    assert fresh.installed() == {*runtime, canonicalize_name(PROJECT)}
    for leak in ("pytest", "ruff", "openai", "anthropic", "testcontainers", "docker", "jsonschema"):
        assert leak not in runtime, f"{leak} is not a runtime dependency"
    where = fresh.run(
        "python", "-c", "import harness, fakes; print(harness.__file__, fakes.__file__)", cwd=fresh.root
    )
    assert where.returncode == 0, where.stderr
    assert all(Path(p).is_relative_to(fresh.site_packages) for p in where.stdout.split())


def test_harness_version_from_the_wheel(fresh: FreshEnv, wheel: Path, outside: Path) -> None:
    result = fresh.run("harness", "--version", cwd=outside)
    assert result.returncode == 0, result.stderr
    version = wheel.name.split("-")[1]  # name-version-python-abi-platform.whl
    assert result.stdout == f"harness {version}\n"


def test_harness_run_of_the_onboarding_scenario_from_the_wheel(fresh: FreshEnv, outside: Path) -> None:
    scenario = outside / "full_onboarding.yml"
    shutil.copy2(REPO / "scenarios" / "full_onboarding.yml", scenario)
    result = fresh.run("harness", "run", scenario.name, cwd=outside, timeout=300)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert re.search(r"passed full_onboarding: (\d+)/\1 steps .*fake tier", result.stdout), result.stdout


# ============================================================== a user's own suite on the plugin


@pytest.fixture(scope="module")
def user_env(
    tmp_path_factory: pytest.TempPathFactory, wheel: Path, runtime: dict[str, Distribution]
) -> FreshEnv:
    """The wheel, its runtime closure, and a user's own tools with theirs: pytest and the openai SDK
    (the harness does not depend on the SDK; the ``openai_client`` fixture uses the user's)."""
    tools = requirement_closure(["pytest", "openai"])
    return _fresh(tmp_path_factory.mktemp("user-venv"), wheel, runtime, tools)


def test_a_user_suite_runs_on_the_plugin_and_client_fixtures(user_env: FreshEnv, outside: Path) -> None:
    (outside / "test_user_suite.py").write_text(USER_SUITE)
    result = user_env.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=outside, timeout=300)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "5 passed" in result.stdout


# ================================================== the emulator image's context, from the wheel

CONTEXT_PROBE = """
import sys
from harness.containers import emulator_build_context
print(emulator_build_context(sys.argv[1]))
"""


def test_the_image_context_assembled_from_the_installed_wheel_is_complete(
    fresh: FreshEnv, wheel: Path, runtime: dict[str, Distribution], tmp_path: Path
) -> None:
    """What :class:`harness.containers.EmulatorContainer` builds, assembled where only the wheel is
    installed: the packaged Dockerfile, the wheel rebuilt from the installed files (the same files as
    the built one, and installable: the image pip-installs it) and the pins of the runtime closure."""
    result = fresh.run("python", "-c", CONTEXT_PROBE, tmp_path / "context", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    context = Path(result.stdout.strip())
    (rebuilt,) = context.glob("cloudact_harness-*.whl")
    assert rebuilt.name == wheel.name
    with zipfile.ZipFile(wheel) as built_archive, zipfile.ZipFile(rebuilt) as rebuilt_archive:
        built_files = {n for n in built_archive.namelist() if ".dist-info/" not in n}
        rebuilt_files = {n for n in rebuilt_archive.namelist() if ".dist-info/" not in n}
        assert rebuilt_files == built_files
        assert all(rebuilt_archive.read(n) == built_archive.read(n) for n in built_files)
    assert "harness/image/Dockerfile" in built_files
    pinned = {line.split("==")[0] for line in (context / "constraints.txt").read_text().splitlines()}
    assert pinned == set(runtime)
    copied = (context / "Dockerfile").read_text()
    assert "COPY constraints.txt cloudact_harness-*.whl /tmp/build/" in copied

    image_like = _fresh(tmp_path / "image-venv", rebuilt, runtime)  # as the image's pip install does
    version = image_like.run("harness", "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"harness {wheel.name.split('-')[1]}\n"


def test_containers_without_the_extra_say_which_extra_to_install(fresh: FreshEnv, tmp_path: Path) -> None:
    # testcontainers is the containers extra: importing harness.containers needs none of it, and
    # starting a container says what to install instead of failing on an import deep inside.
    program = "from harness.containers import EmulatorContainer\nEmulatorContainer().start()\n"
    result = fresh.run("python", "-c", program, cwd=tmp_path)
    assert result.returncode == 1
    assert "RuntimeError: harness.containers needs testcontainers" in result.stderr
    assert "pip install 'cloudact-harness[containers]'" in result.stderr
