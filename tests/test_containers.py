"""The emulators in containers (:mod:`harness.containers`), the plugin's container fixtures and the
packaged ``Dockerfile`` they come from.

Two groups:

* ``requires_docker`` tests (through the plugin's ``harness_emulator_container`` and
  ``harness_goccy_container``) build and run the image and drive it with the real google-cloud
  clients, and run goccy's BigQuery emulator side by side with ours over a fixed list of cases
  (:data:`CASES`). Known differences between the two are explicit :data:`EXPECTED_DIFFERENCES`
  entries: each says what each side returns and why, and is asserted exactly, so a difference that
  goes away (or a new one) fails instead of hiding.
* everything else runs without Docker: the Dockerfile reads sensibly and the build context
  assembled from the installed package holds what it copies (tests/test_wheel.py assembles one
  from an installed wheel); the containers made with a stand-in Docker client (exposed ports,
  command, image choice, wait strategies, accessors over a stubbed port mapping, a failed start);
  the address mapping gives ``Emulators.env()``'s variables; the fixtures mark their tests and skip
  without a daemon (pytester); the readiness strategy works against the real ``harness emulators
  up`` process; and the case list holds on our in-process emulator (so the side-by-side has a
  checked baseline).

Why one file of this length: every part reads the same Dockerfile, container classes and case
list, and the Docker tests are the Docker-free ones' counterparts; split, each half would import the
other's helpers.
"""

from __future__ import annotations

import builtins
import fnmatch
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from harness import containers
from harness.containers import (
    CONTAINER_PORTS,
    EMULATOR_IMAGE_ENV,
    EMULATOR_IMAGE_TAG,
    GOCCY_DEFAULT_IMAGE,
    GOCCY_GRPC_PORT,
    GOCCY_HTTP_PORT,
    GOCCY_IMAGE_ENV,
    EmulatorContainer,
    EmulatorEndpoints,
    GoccyBigQueryContainer,
    emulator_image,
    emulator_readiness,
    goccy_image,
)
from harness.containers.emulators import READY_LOG
from harness.distribution import runtime_closure
from harness.emulators import DEFAULT_PORT_BASE, EMULATORS, Emulators
from harness.pytest_plugin import probes
from harness.pytest_plugin.markers import SKIP_DOCKER_ENV
from harness.services.settings import Settings

REPO = Path(__file__).resolve().parents[1]
HARNESS = str(Path(sys.executable).parent / "harness")
PROJECT = Settings().gcp_project_id
pytest_plugins = ["pytester"]
ENV_NAMES = ["BIGQUERY_EMULATOR_HOST", "KMS_ENDPOINT", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"]


# ======================================================================== the Dockerfile, read here


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs: comments dropped, ``\\`` continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions(containers.DOCKERFILE.read_text())


def _only(instructions: list[tuple[str, str]], keyword: str) -> str:
    found = [args for kw, args in instructions if kw == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)  # exec (JSON) form: no shell, signals reach the process
    assert isinstance(value, list) and all(isinstance(part, str) for part in value), args
    return value


def test_dockerfile_parser_joins_continuations_and_drops_comments() -> None:
    text = "# c\nFROM x\n\nRUN a \\\n    b\nENV A=1 \\\n  B=2\n"
    assert dockerfile_instructions(text) == [("FROM", "x"), ("RUN", "a b"), ("ENV", "A=1 B=2")]


def test_dockerfile_base_image_is_python_311_slim_by_its_plain_name(
    dockerfile: list[tuple[str, str]],
) -> None:
    # The plain name, no registry host in front: the daemon's own registry or mirror serves it.
    assert _only(dockerfile, "FROM") == "python:3.11-slim"


def test_dockerfile_cmd_serves_emulators_up_on_all_interfaces(dockerfile: list[tuple[str, str]]) -> None:
    cmd = _exec_form(_only(dockerfile, "CMD"))
    assert cmd[:3] == ["harness", "emulators", "up"]
    options = dict(zip(cmd[3::2], cmd[4::2], strict=True))
    assert options == {"--host": "0.0.0.0", "--port-base": str(DEFAULT_PORT_BASE)}


def test_dockerfile_exposes_the_four_emulator_ports(dockerfile: list[tuple[str, str]]) -> None:
    exposed = {int(port) for port in _only(dockerfile, "EXPOSE").split()}
    assert exposed == {DEFAULT_PORT_BASE + offset for offset in range(len(EMULATORS))}
    assert exposed == set(CONTAINER_PORTS.values())  # what EmulatorContainer publishes


def test_dockerfile_installs_with_the_constraints_and_runs_unprivileged(
    dockerfile: list[tuple[str, str]],
) -> None:
    runs = [args for kw, args in dockerfile if kw == "RUN"]
    pip = [args.split() for args in runs if args.startswith("pip install")]
    assert len(pip) == 1
    assert pip[0][pip[0].index("-c") + 1] == "/tmp/build/constraints.txt"
    assert "/tmp/build/cloudact_harness-*.whl" in pip[0]  # the wheel alone: no extra
    user = _only(dockerfile, "USER")
    assert user not in ("root", "0")
    keywords = [kw for kw, _ in dockerfile]
    last_run = max(i for i, kw in enumerate(keywords) if kw == "RUN")
    assert keywords.index("USER") > last_run  # install as root, serve as the user
    assert keywords.index("CMD") > keywords.index("USER")


def copy_sources(instructions: list[tuple[str, str]]) -> list[str]:
    """The source patterns of every ``COPY`` (its last argument is the destination)."""
    return [source for args in (a for kw, a in instructions if kw == "COPY") for source in args.split()[:-1]]


@pytest.fixture(scope="module")
def build_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return containers.emulator_build_context(tmp_path_factory.mktemp("context"))


def test_the_assembled_context_holds_what_the_dockerfile_copies_and_nothing_else(
    build_context: Path, dockerfile: list[tuple[str, str]]
) -> None:
    files = sorted(path.name for path in build_context.iterdir())
    assert files[0] == "Dockerfile" and files[2] == "constraints.txt"
    assert re.fullmatch(r"cloudact_harness-[^-]+-py3-none-any\.whl", files[1]) and len(files) == 3
    assert (build_context / "Dockerfile").read_text() == containers.DOCKERFILE.read_text()
    for source in copy_sources(dockerfile):
        assert fnmatch.filter(files, source), f"COPY {source}: nothing in the context matches"


def test_the_context_pins_the_installed_runtime_closure(build_context: Path) -> None:
    pinned = dict(line.split("==") for line in (build_context / "constraints.txt").read_text().splitlines())
    closure = runtime_closure()
    assert set(pinned) == set(closure) and "google-cloud-bigquery" in pinned
    assert all(pinned[name] == dist.version for name, dist in closure.items())


def test_the_context_wheel_holds_the_packages_their_data_and_entry_points(build_context: Path) -> None:
    (wheel,) = build_context.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert archive.testzip() is None
        (info,) = {name.split("/")[0] for name in names if ".dist-info/" in name}
        record = archive.read(f"{info}/RECORD").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert {"harness/emulators.py", "fakes/bigquery/rest.py", "harness/schema/bootstrap.yml"} <= names
    assert "harness/image/Dockerfile" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert {line.split(",")[0] for line in record.splitlines()} == names  # RECORD lists every file
    assert "harness = harness.cli:app" in entry_points


def test_the_context_is_the_same_bytes_each_time(build_context: Path, tmp_path: Path) -> None:
    # Docker's layer cache keys COPY on the bytes: an unchanged package must not re-run pip install.
    again = containers.emulator_build_context(tmp_path)
    for name in (path.name for path in build_context.iterdir()):
        assert (again / name).read_bytes() == (build_context / name).read_bytes(), name


def test_build_image_assembles_a_context_and_builds_it(
    no_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The docker build as testcontainers runs it, with a stand-in for its DockerImage.
    from testcontainers.core import image

    builds: list[dict[str, object]] = []

    class Recorder:
        def __init__(self, *, path: Path, tag: str, dockerfile_path: str, clean_up: bool) -> None:
            self.args = {"tag": tag, "dockerfile": dockerfile_path, "clean_up": clean_up}
            self.path = Path(path)

        def build(self) -> None:
            builds.append({**self.args, "files": sorted(p.name for p in self.path.iterdir())})

    monkeypatch.setattr(image, "DockerImage", Recorder)
    assert EmulatorContainer().build_image() == containers.EMULATOR_IMAGE_TAG
    (build,) = builds
    assert build["tag"] == "cloudact-harness-emulators:dev" and build["dockerfile"] == "Dockerfile"
    assert build["clean_up"] is False  # kept, so Docker's layer cache serves the next build
    files = build["files"]
    assert isinstance(files, list) and files[0] == "Dockerfile" and files[2] == "constraints.txt"


def test_build_image_from_a_given_context_needs_its_dockerfile(no_daemon: None, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no Dockerfile in"):
        EmulatorContainer(context=tmp_path).build_image()
    with pytest.raises(FileNotFoundError, match="no Containerfile in"):
        EmulatorContainer(context=tmp_path, dockerfile="Containerfile").build_image()


def test_dockerfile_healthcheck_connects_to_the_four_ports_without_curl(
    dockerfile: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    options, _, command = _only(dockerfile, "HEALTHCHECK").partition(" CMD ")
    argv = _exec_form(command.strip())
    assert argv[:2] == ["python", "-c"] and "curl" not in " ".join(argv)
    assert "--interval" in options and "--timeout" in options
    tried: list[tuple[str, int]] = []

    class Connection:
        def close(self) -> None:
            pass

    def create_connection(address: tuple[str, int], timeout: float | None = None) -> Connection:
        tried.append(address)
        return Connection()

    monkeypatch.setattr(socket, "create_connection", create_connection)
    exec(compile(argv[2], "HEALTHCHECK", "exec"), {"__builtins__": builtins})
    assert tried == [("127.0.0.1", port) for port in CONTAINER_PORTS.values()]


# ============================================================== address mapping (stand-in container)


class Published:
    """A stand-in for a started container: the host it is reached on and where Docker published
    each container port. An unpublished port raises, as Docker's port lookup does."""

    def __init__(self, host: str, ports: dict[int, int]) -> None:
        self.host = host
        self.ports = ports
        self.asked: list[int] = []

    def get_container_host_ip(self) -> str:
        return self.host

    def get_exposed_port(self, port: int) -> int:
        self.asked.append(port)
        if port not in self.ports:
            raise KeyError(f"port {port} is not published")
        return self.ports[port]


def test_endpoints_map_each_emulator_to_its_published_port() -> None:
    # Host ports deliberately out of order: the mapping must follow the container port, not an offset.
    published = Published("localhost", {9050: 32771, 9051: 32768, 9052: 32790, 9053: 32769})
    endpoints = EmulatorEndpoints.of(published)
    assert endpoints.env() == {
        "BIGQUERY_EMULATOR_HOST": "http://localhost:32771",
        "KMS_ENDPOINT": "http://localhost:32768",
        "OPENAI_BASE_URL": "http://localhost:32790/v1",
        "ANTHROPIC_BASE_URL": "http://localhost:32769",
    }
    assert endpoints.openai_url == "http://localhost:32790"
    assert sorted(published.asked) == [9050, 9051, 9052, 9053]


def test_endpoints_bracket_an_ipv6_docker_host() -> None:
    endpoints = EmulatorEndpoints.of(
        Published("::1", {port: port + 1000 for port in CONTAINER_PORTS.values()})
    )
    assert endpoints.bigquery_url == "http://[::1]:10050"
    assert endpoints.env()["KMS_ENDPOINT"] == "http://[::1]:10051"


def test_endpoints_of_other_container_ports() -> None:
    ports = {"bigquery": 19050, "kms": 19051, "openai": 19052, "anthropic": 19053}
    published = Published("10.0.0.5", {19050: 1, 19051: 2, 19052: 3, 19053: 4})
    assert EmulatorEndpoints.of(published, ports).env()["ANTHROPIC_BASE_URL"] == "http://10.0.0.5:4"
    with pytest.raises(KeyError, match="9050 is not published"):
        EmulatorEndpoints.of(published)  # the default container ports are not published here


def test_container_env_matches_the_in_process_emulators_env() -> None:
    """Same variables, same shapes: code configured from ``EmulatorContainer.env()`` sees exactly
    what it would from ``Emulators.env()`` for the same host and ports."""
    with Emulators() as emulators:
        published = Published(
            "127.0.0.1", {CONTAINER_PORTS[name]: emulators.ports[name] for name in EMULATORS}
        )
        assert EmulatorEndpoints.of(published).env() == emulators.env()
        assert list(EmulatorEndpoints.of(published).env()) == ENV_NAMES


# ======================================= the containers, configured (a stand-in for the Docker client)


class StubDockerClient:
    """Stands in for testcontainers' ``DockerClient`` (which asks the daemon for its API version when
    made): containers can be made and inspected here, never started."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


@pytest.fixture
def no_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    from testcontainers.core import container

    monkeypatch.setattr(container, "DockerClient", StubDockerClient)
    monkeypatch.delenv(EMULATOR_IMAGE_ENV, raising=False)
    monkeypatch.delenv(GOCCY_IMAGE_ENV, raising=False)


def _publish(container: Any, published: Published, monkeypatch: pytest.MonkeyPatch) -> None:
    """Docker's port mapping for ``container``, from ``published``."""
    monkeypatch.setattr(container, "get_container_host_ip", published.get_container_host_ip)
    monkeypatch.setattr(container, "get_exposed_port", published.get_exposed_port)


def test_emulator_container_is_a_testcontainers_container_on_the_images_command(no_daemon: None) -> None:
    from testcontainers.core.container import DockerContainer

    container = EmulatorContainer()
    assert isinstance(container, DockerContainer)
    assert container.ports == {str(port): None for port in CONTAINER_PORTS.values()}  # free host ports
    assert container._command is None  # the image's CMD (read above: emulators up on 0.0.0.0:9050+)
    assert container.env == {}  # the container's own environment: nothing set


def test_emulator_container_waits_for_the_cli_and_each_port(no_daemon: None) -> None:
    from testcontainers.core.wait_strategies import (
        CompositeWaitStrategy,
        HttpWaitStrategy,
        LogMessageWaitStrategy,
    )

    strategy = EmulatorContainer(startup_timeout=12)._wait_strategy
    assert isinstance(strategy, CompositeWaitStrategy)
    log, *http = strategy._strategies
    assert isinstance(log, LogMessageWaitStrategy) and log._message.pattern == READY_LOG
    assert log._message.search("serving\nexport ANTHROPIC_BASE_URL=http://0.0.0.0:9053\n")
    assert all(isinstance(each, HttpWaitStrategy) for each in http)
    assert [(each._port, each._path) for each in http] == [(port, "/") for port in CONTAINER_PORTS.values()]
    assert [http[0]._status_code_predicate(code) for code in (200, 401, 404, 500, 503)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    for each in (strategy, *strategy._strategies):
        assert (each._startup_timeout, each._poll_interval) == (12, 0.2)


def test_emulator_container_builds_its_own_tag_unless_an_image_is_named(
    no_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testcontainers.core.config import testcontainers_config

    monkeypatch.setattr(testcontainers_config, "hub_image_name_prefix", "mirror/")
    built = EmulatorContainer()
    assert built.builds and built.image == EMULATOR_IMAGE_TAG  # a tag built here: no mirror prefix
    assert EmulatorContainer(tag="mine:1").image == "mine:1"
    named = EmulatorContainer("team/emulators:1")
    assert not named.builds and named.image == "mirror/team/emulators:1"  # pulled: the prefix applies
    monkeypatch.setenv(EMULATOR_IMAGE_ENV, "ci/emulators:abc")
    assert emulator_image() == "ci/emulators:abc"
    assert not EmulatorContainer().builds and EmulatorContainer().image == "mirror/ci/emulators:abc"
    assert EmulatorContainer("explicit:2").image == "mirror/explicit:2"  # an explicit image wins
    monkeypatch.setenv(EMULATOR_IMAGE_ENV, "  ")
    assert emulator_image() is None and EmulatorContainer().builds  # blank is unset


def test_start_builds_first_and_only_when_no_image_is_named(
    no_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testcontainers.core.container import DockerContainer

    events: list[str] = []
    monkeypatch.setattr(EmulatorContainer, "build_image", lambda self: events.append("build") or self.image)
    monkeypatch.setattr(DockerContainer, "start", lambda self: events.append(f"start {self.image}") or self)
    container = EmulatorContainer()
    assert container.start() is container
    assert events == ["build", f"start {EMULATOR_IMAGE_TAG}"]
    events.clear()
    EmulatorContainer("team/emulators:1").start()
    assert events == ["start team/emulators:1"]


class Exited:
    """A docker-py container that exited at once on a bad option."""

    def logs(self, stdout: bool = True, stderr: bool = True) -> bytes:
        return (b"usage: harness emulators up\n" if stdout else b"") + (
            b"Error: No such option: --bad\n" if stderr else b""
        )


def test_a_failed_start_removes_the_container_and_reports_its_logs(
    no_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testcontainers.core.container import DockerContainer

    stopped: list[str] = []

    def exits(self: DockerContainer) -> DockerContainer:
        self._container = Exited()  # type: ignore[assignment]
        raise RuntimeError("Container exited (status: exited, exit code: 2) before emitting logs")

    monkeypatch.setattr(DockerContainer, "start", exits)
    monkeypatch.setattr(DockerContainer, "stop", lambda self: stopped.append(self.image))
    container = EmulatorContainer("team/emulators:1")
    with pytest.raises(RuntimeError, match="Container exited") as raised:
        container.start()
    assert stopped == ["team/emulators:1"]
    (note,) = raised.value.__notes__
    assert "usage: harness emulators up" in note and "Error: No such option: --bad" in note


def test_a_start_time_out_keeps_testcontainers_logs_note(
    no_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testcontainers.core.container import DockerContainer

    def times_out(self: DockerContainer) -> DockerContainer:
        self._container = Exited()  # type: ignore[assignment]
        error = TimeoutError("Container did not emit logs")
        error.add_note("the logs, added by testcontainers")
        raise error

    monkeypatch.setattr(DockerContainer, "start", times_out)
    monkeypatch.setattr(DockerContainer, "stop", lambda self: None)
    with pytest.raises(TimeoutError) as raised:
        EmulatorContainer("team/emulators:1").start()
    assert raised.value.__notes__ == ["the logs, added by testcontainers"]  # not twice


def test_emulator_container_accessors_follow_the_port_mapping(
    no_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = EmulatorContainer()
    published = Published("127.0.0.1", {9050: 32771, 9051: 32768, 9052: 32790, 9053: 32769})
    _publish(container, published, monkeypatch)
    assert container.get_bigquery_url() == "http://127.0.0.1:32771"
    assert container.get_kms_url() == "http://127.0.0.1:32768"
    assert container.get_openai_url() == "http://127.0.0.1:32790"
    assert container.get_anthropic_url() == "http://127.0.0.1:32769"
    assert container.get_control_url() == "http://127.0.0.1:32771/_harness"
    assert container.get_client_env() == EmulatorEndpoints.of(published).env()
    assert list(container.get_client_env()) == ENV_NAMES
    assert container.get_endpoints().openai_url == container.get_openai_url()
    assert container.env == {}  # testcontainers' own attribute, untouched


def test_goccy_image_defaults_to_the_plain_name(no_daemon: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert goccy_image() == GOCCY_DEFAULT_IMAGE == "goccy/bigquery-emulator:latest"
    assert GoccyBigQueryContainer().image == GOCCY_DEFAULT_IMAGE
    monkeypatch.setenv(GOCCY_IMAGE_ENV, "   ")
    assert goccy_image() == GOCCY_DEFAULT_IMAGE  # blank is unset


def test_goccy_image_from_the_environment_and_explicit_image_wins(
    no_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(GOCCY_IMAGE_ENV, "mirror/goccy-bigquery-emulator:0.6.6")
    assert goccy_image() == "mirror/goccy-bigquery-emulator:0.6.6"
    assert GoccyBigQueryContainer().image == "mirror/goccy-bigquery-emulator:0.6.6"
    assert GoccyBigQueryContainer(image="other/bq:1").image == "other/bq:1"


def test_goccy_container_serves_the_project_on_its_ports(no_daemon: None) -> None:
    from testcontainers.core.wait_strategies import HttpWaitStrategy, LogMessageWaitStrategy

    goccy = GoccyBigQueryContainer(project="p-1", startup_timeout=7)
    assert goccy._command == ["--project=p-1", "--port=9050", "--grpc-port=9060"]
    assert goccy.ports == {"9050": None, "9060": None}
    log, http = goccy._wait_strategy._strategies  # type: ignore[union-attr]
    assert isinstance(log, LogMessageWaitStrategy) and log._message.pattern == "REST server listening"
    assert isinstance(http, HttpWaitStrategy)
    assert (http._port, http._path) == (GOCCY_HTTP_PORT, "/bigquery/v2/projects/p-1/datasets")
    assert (http._startup_timeout, http._poll_interval) == (7, 0.2)


def test_goccy_container_accessors_follow_the_port_mapping(
    no_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    goccy = GoccyBigQueryContainer()
    _publish(goccy, Published("::1", {GOCCY_HTTP_PORT: 40001, GOCCY_GRPC_PORT: 40002}), monkeypatch)
    assert goccy.get_bigquery_url() == "http://[::1]:40001"
    assert goccy.get_client_env() == {"BIGQUERY_EMULATOR_HOST": "http://[::1]:40001"}


def test_without_the_extra_the_package_imports_and_a_container_says_what_to_install(tmp_path: Path) -> None:
    program = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('testcontainers', 'docker'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from harness.containers import GoccyBigQueryContainer, emulator_build_context\n"
        "print(emulator_build_context(sys.argv[1]).name)\n"
        "GoccyBigQueryContainer()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path / "ctx")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1 and result.stdout == "ctx\n"  # the build context needs none of it
    assert result.stderr.rstrip().splitlines()[-1] == (
        "RuntimeError: harness.containers needs testcontainers: pip install 'cloudact-harness[containers]'"
    )


# ================================================================= the plugin's container fixtures

CONTAINER_TESTS = """
def test_emulators(harness_emulator_container, request):
    assert request.node.get_closest_marker("requires_docker") is not None
    assert harness_emulator_container.image == "ci/emulators:1"

def test_goccy(harness_goccy_container):
    assert harness_goccy_container._command[0] == "--project=cloudact-local"

def test_plain(request):
    assert request.node.get_closest_marker("requires_docker") is None
"""


def test_container_fixtures_without_a_daemon_error_or_skip_before_touching_docker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testcontainers.core import container

    def no_docker(**kwargs: Any) -> None:
        raise AssertionError("a container was made")

    monkeypatch.setattr(container, "DockerClient", no_docker)
    monkeypatch.setattr(probes, "docker_problem", lambda: "none answered (test)")
    monkeypatch.delenv(SKIP_DOCKER_ENV, raising=False)
    pytester.makepyfile(test_user_containers=CONTAINER_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*needs a Docker daemon: none answered (test)*HARNESS_SKIP_DOCKER=1*"])
    assert "a container was made" not in result.stdout.str()

    monkeypatch.setenv(SKIP_DOCKER_ENV, "1")
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        ["*needs a Docker daemon: none answered (test); HARNESS_SKIP_DOCKER=1 skips it*"]
    )


def test_container_fixtures_start_once_per_session_and_stop_at_its_end(
    pytester: pytest.Pytester, no_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testcontainers.core.container import DockerContainer

    events: list[str] = []
    monkeypatch.setattr(DockerContainer, "start", lambda self: events.append(f"start {self.image}") or self)
    monkeypatch.setattr(DockerContainer, "stop", lambda self: events.append(f"stop {self.image}"))
    monkeypatch.setattr(probes, "docker_problem", lambda: None)  # pretend a daemon answers
    monkeypatch.setenv(EMULATOR_IMAGE_ENV, "ci/emulators:1")
    pytester.makepyfile(
        test_user_containers=CONTAINER_TESTS
        + "\ndef test_same_session(harness_emulator_container):\n    assert harness_emulator_container\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=4)
    assert sorted(events) == sorted(
        [
            "start ci/emulators:1",
            "stop ci/emulators:1",
            f"start {GOCCY_DEFAULT_IMAGE}",
            f"stop {GOCCY_DEFAULT_IMAGE}",
        ]
    )


# ============================================== readiness, against the real CLI in a local process


class LocalProcess:
    """The wait-strategy target (``testcontainers.core.waiting_utils.WaitStrategyTarget``) for a
    local ``harness emulators up`` process: its logs are the process's output, its "published" port
    for each container port is the port the CLI printed for that emulator, as Docker would map it."""

    def __init__(self, argv: list[str], tmp_path: Path) -> None:
        self.stdout = tmp_path / "stdout"
        self.stderr = tmp_path / "stderr"
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                argv, cwd=tmp_path, stdout=out, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"}
            )

    # WaitStrategyTarget
    def get_container_host_ip(self) -> str:
        return "127.0.0.1"

    def get_exposed_port(self, port: int) -> int:
        printed = dict(re.findall(r"^export (\w+)=(\S+)$", self.stdout.read_text(), re.MULTILINE))
        names = dict(zip(EMULATORS, ENV_NAMES, strict=True))
        name = next(name for name, inside in CONTAINER_PORTS.items() if inside == port)
        return int(re.search(r":(\d+)", printed[names[name]].split("//")[-1]).group(1))  # type: ignore[union-attr]

    def get_wrapped_container(self) -> LocalProcess:
        return self

    def get_logs(self) -> tuple[bytes, bytes]:
        return self.stdout.read_bytes(), self.stderr.read_bytes()

    def reload(self) -> None:
        pass

    @property
    def status(self) -> str:
        return "running" if self.process.poll() is None else "exited"

    @property
    def attrs(self) -> dict[str, Any]:
        return {"State": {"ExitCode": self.process.poll()}}

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def local_process(tmp_path: Path) -> Iterator[Any]:
    started: list[LocalProcess] = []

    def start(*args: str) -> LocalProcess:
        process = LocalProcess(list(args), tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def test_readiness_waits_for_the_cli_and_all_four_ports(local_process: Any) -> None:
    process = local_process(HARNESS, "emulators", "up", "--port-base", "0")
    emulator_readiness(30).wait_until_ready(process)
    env = EmulatorEndpoints.of(process).env()
    assert httpx.get(f"{env['KMS_ENDPOINT']}/v1/{Settings().kms_key_name}").status_code == 200
    assert process.stop() == 0


def test_readiness_fails_at_once_when_the_emulators_exit(local_process: Any) -> None:
    process = local_process(HARNESS, "emulators", "up", "--port-base", "0", "--no-such-option")
    with pytest.raises(RuntimeError, match="exited"):
        emulator_readiness(30).wait_until_ready(process)


def _dev_only_modules() -> set[str]:
    """Top-level modules of what pyproject lists only as extras (dev, containers): none of them is
    in the image."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {re.split(r"[<>=!~\[; ]", dep)[0].lower() for dep in project["dependencies"]}
    extras = {
        re.split(r"[<>=!~\[; ]", dep)[0].lower()
        for deps in project["optional-dependencies"].values()
        for dep in deps
    }
    modules = {"pytest-xdist": "xdist"}
    return {modules.get(name, name.replace("-", "_")) for name in extras - runtime}


def test_emulators_up_needs_only_the_runtime_dependencies(local_process: Any) -> None:
    """The image installs the package without extras: `harness emulators up` must start with every
    extra-only module unimportable (as it is in the image)."""
    blocked = sorted(_dev_only_modules())
    assert {"openai", "anthropic", "pytest", "testcontainers", "docker"} <= set(blocked)
    program = (
        "import sys\n"
        f"BLOCKED = {blocked!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(f'{name} is not installed in the image', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from harness.cli import app\n"
        "app(['emulators', 'up', '--port-base', '0'])\n"
    )
    process = local_process(sys.executable, "-c", program)
    emulator_readiness(30).wait_until_ready(process)
    assert process.stop() == 0


def test_the_dockerfile_cmd_runs_and_becomes_ready(
    dockerfile: list[tuple[str, str]], local_process: Any
) -> None:
    """The image's exact CMD (free ports instead of 9050, nothing else changed), run here."""
    cmd = _exec_form(_only(dockerfile, "CMD"))
    cmd[cmd.index("--port-base") + 1] = "0"
    process = local_process(HARNESS, *cmd[1:])
    emulator_readiness(30).wait_until_ready(process)
    assert process.stop() == 0


# ============================================================= BigQuery cases for the side-by-side


@dataclass(frozen=True)
class Outcome:
    """What the real client saw: result columns ``(name, type, mode)`` and rows, a DML job's
    ``(statement_type, num_dml_affected_rows)``, insertAll's per-row errors, or an error's
    ``(exception class, reason)``."""

    columns: tuple[tuple[str, str, str], ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    dml: tuple[str | None, int | None] | None = None
    insert_errors: tuple[str, ...] | None = None
    error: tuple[str, str | None] | None = None

    def __repr__(self) -> str:  # only what is set, so a mismatch report stays readable
        shown = [f"{name}={value!r}" for name, value in vars(self).items() if value not in ((), None)]
        if self.insert_errors == ():
            shown.append("insert_errors=()")
        return f"Outcome({', '.join(shown)})"


def result(columns: str, *rows: tuple[Any, ...]) -> Outcome:
    """``result("n:INTEGER tags:STRING:REPEATED", (1, ["a"]))``"""
    specs = []
    for column in columns.split():
        name, kind, *mode = column.split(":")
        specs.append((name, kind, mode[0] if mode else "NULLABLE"))
    return Outcome(columns=tuple(specs), rows=tuple(rows))


def dml(statement: str | None, affected: int | None) -> Outcome:
    return Outcome(dml=(statement, affected))


def error(exception: str, reason: str | None) -> Outcome:
    return Outcome(error=(exception, reason))


INSERTED = Outcome(insert_errors=())


@dataclass(frozen=True)
class Case:
    """One step run through the real client, in order (later cases see earlier DML). ``{ds}`` in
    ``sql`` is the dataset. ``expected`` is what BigQuery returns."""

    name: str
    sql: str
    expected: Outcome
    kind: Literal["query", "dml", "insert_all"] = "query"
    params: tuple[bigquery.ScalarQueryParameter, ...] = ()
    rows: tuple[dict[str, Any], ...] = ()
    """insert_all: the rows ``tabledata.insertAll`` streams into table ``sql``."""


SALES_SCHEMA = [
    bigquery.SchemaField("id", "INTEGER", mode="REQUIRED"),
    bigquery.SchemaField("region", "STRING"),
    bigquery.SchemaField("amount", "NUMERIC"),
    bigquery.SchemaField("qty", "INTEGER"),
    bigquery.SchemaField("sold_on", "DATE"),
    bigquery.SchemaField("note", "STRING"),
]
STREAM_SCHEMA = [bigquery.SchemaField("id", "INTEGER"), bigquery.SchemaField("name", "STRING")]
UTC_10H = datetime(2025, 1, 1, 10, tzinfo=UTC)

CASES: tuple[Case, ...] = (
    # --- expressions, no table
    Case(
        "arithmetic",
        "SELECT 7 / 2 AS d, DIV(7, 2) AS i, MOD(-7, 2) AS m, SAFE_DIVIDE(1, 0) AS z",
        result("d:FLOAT i:INTEGER m:INTEGER z:FLOAT", (3.5, 3, -1, None)),
    ),
    Case(
        "rounding half away from zero",
        "SELECT ROUND(2.5) AS r1, ROUND(-2.5) AS r2, ROUND(NUMERIC '2.25', 1) AS r3, TRUNC(2.7) AS t",
        result("r1:FLOAT r2:FLOAT r3:NUMERIC t:FLOAT", (3.0, -3.0, Decimal("2.3"), 2.0)),
    ),
    Case(
        "strings",
        "SELECT UPPER('abc') AS u, LENGTH('héllo') AS l, SUBSTR('abcdef', 2, 3) AS s, "
        "STRPOS('abc', 'c') AS p",
        result("u:STRING l:INTEGER s:STRING p:INTEGER", ("ABC", 5, "bcd", 3)),
    ),
    Case("concat with null", "SELECT CONCAT('a', NULL) AS c", result("c:STRING", (None,))),
    Case(
        "casts",
        "SELECT CAST('12' AS INT64) AS i, SAFE_CAST('x' AS INT64) AS bad, CAST(TRUE AS STRING) AS b",
        result("i:INTEGER bad:INTEGER b:STRING", (12, None, "true")),
    ),
    Case(
        "dates",
        "SELECT DATE_ADD(DATE '2025-01-31', INTERVAL 1 MONTH) AS a, "
        "DATE_DIFF(DATE '2025-03-01', DATE '2025-02-01', DAY) AS d, "
        "DATE_TRUNC(DATE '2025-02-15', MONTH) AS t, "
        "FORMAT_DATE('%Y-%m', DATE '2025-02-15') AS f, EXTRACT(DAYOFWEEK FROM DATE '2025-01-05') AS w",
        result(
            "a:DATE d:INTEGER t:DATE f:STRING w:INTEGER",
            (date(2025, 2, 28), 28, date(2025, 2, 1), "2025-02", 1),
        ),
    ),
    Case(
        "timestamps",
        "SELECT TIMESTAMP_TRUNC(TIMESTAMP '2025-01-01 10:20:30+00', HOUR) AS h, "
        "TIMESTAMP_DIFF(TIMESTAMP '2025-01-02 00:00:00+00', TIMESTAMP '2025-01-01 12:00:00+00', HOUR) AS d",
        result("h:TIMESTAMP d:INTEGER", (UTC_10H, 12)),
    ),
    Case(
        "null semantics",
        "SELECT NULL = NULL AS e, IFNULL(NULL, 3) AS i, COALESCE(NULL, NULL, 'x') AS c, NULL IS NULL AS n",
        result("e:BOOLEAN i:INTEGER c:STRING n:BOOLEAN", (None, 3, "x", True)),
    ),
    Case(
        "arrays",
        "SELECT ARRAY_LENGTH([1, 2, 3]) AS n, (SELECT SUM(x) FROM UNNEST([1, 2, 3]) AS x) AS s, "
        "ARRAY_TO_STRING(['a', 'b'], ',') AS j, GENERATE_ARRAY(1, 5, 2) AS g",
        result("n:INTEGER s:INTEGER j:STRING g:INTEGER:REPEATED", (3, 6, "a,b", [1, 3, 5])),
    ),
    Case("struct", "SELECT STRUCT(1 AS a, 'x' AS b) AS st", result("st:RECORD", ({"a": 1, "b": "x"},))),
    Case(
        "regular expressions",
        r"SELECT REGEXP_CONTAINS('abc123', r'\d+') AS c, REGEXP_EXTRACT('abc123', r'\d+') AS e, "
        r"REGEXP_REPLACE('a1b2', r'\d', '#') AS r",
        result("c:BOOLEAN e:STRING r:STRING", (True, "123", "a#b#")),
    ),
    Case(
        "named parameters",
        "SELECT @n + 1 AS x, @s AS s",
        result("x:INTEGER s:STRING", (42, "hi")),
        params=(
            bigquery.ScalarQueryParameter("n", "INT64", 41),
            bigquery.ScalarQueryParameter("s", "STRING", "hi"),
        ),
    ),
    # --- a table filled by DML
    Case(
        "insert rows with DML",
        "INSERT INTO `{ds}.sales` (id, region, amount, qty, sold_on, note) VALUES "
        "(1, 'eu', NUMERIC '10.50', 2, DATE '2025-01-31', 'a'), "
        "(2, 'eu', NUMERIC '4.25', 1, DATE '2025-02-01', NULL), "
        "(3, 'us', NUMERIC '7.00', 5, DATE '2025-02-15', 'b'), "
        "(4, 'apac', NUMERIC '1.10', 3, DATE '2025-03-01', 'c')",
        dml("INSERT", 4),
        kind="dml",
    ),
    Case(
        "group by",
        "SELECT region, COUNT(*) AS n, SUM(amount) AS total, SUM(qty) AS q FROM `{ds}.sales` GROUP BY region "
        "ORDER BY region",
        result(
            "region:STRING n:INTEGER total:NUMERIC q:INTEGER",
            ("apac", 1, Decimal("1.10"), 3),
            ("eu", 2, Decimal("14.75"), 3),
            ("us", 1, Decimal("7.00"), 5),
        ),
    ),
    Case(
        "window function",
        "SELECT id, region, ROW_NUMBER() OVER (PARTITION BY region ORDER BY id) AS rn "
        "FROM `{ds}.sales` ORDER BY id",
        result(
            "id:INTEGER region:STRING rn:INTEGER", (1, "eu", 1), (2, "eu", 2), (3, "us", 1), (4, "apac", 1)
        ),
    ),
    Case(
        "conditional aggregates",
        "SELECT COUNTIF(qty > 1) AS c, LOGICAL_AND(qty > 0) AS a, MAX(sold_on) AS latest, "
        "MIN(note) AS first_note FROM `{ds}.sales`",
        result("c:INTEGER a:BOOLEAN latest:DATE first_note:STRING", (3, True, date(2025, 3, 1), "a")),
    ),
    Case(
        "revenue by month",
        "SELECT FORMAT_DATE('%Y-%m', sold_on) AS month, SUM(amount * qty) AS revenue FROM `{ds}.sales` "
        "GROUP BY month ORDER BY month",
        result(
            "month:STRING revenue:NUMERIC",
            ("2025-01", Decimal("21.00")),
            ("2025-02", Decimal("39.25")),
            ("2025-03", Decimal("3.30")),
        ),
    ),
    Case(
        "is null filter",
        "SELECT id FROM `{ds}.sales` WHERE note IS NULL ORDER BY id",
        result("id:INTEGER", (2,)),
    ),
    Case(
        "update",
        "UPDATE `{ds}.sales` SET qty = qty + 1 WHERE region = 'eu'",
        dml("UPDATE", 2),
        kind="dml",
    ),
    Case("delete", "DELETE FROM `{ds}.sales` WHERE id = 4", dml("DELETE", 1), kind="dml"),
    Case(
        "rows after DML",
        "SELECT id, qty FROM `{ds}.sales` ORDER BY id",
        result("id:INTEGER qty:INTEGER", (1, 3), (2, 2), (3, 5)),
    ),
    # --- streaming inserts
    Case(
        "insertAll",
        "stream",
        INSERTED,
        kind="insert_all",
        rows=({"id": 1, "name": "a"}, {"id": 2, "name": "b"}),
    ),
    Case(
        "streamed rows are queryable",
        "SELECT id, name FROM `{ds}.stream` ORDER BY id",
        result("id:INTEGER name:STRING", (1, "a"), (2, "b")),
    ),
    Case(
        "DML over the streaming buffer",
        "DELETE FROM `{ds}.stream` WHERE id = 1",
        error("BadRequest", "invalidQuery"),
        kind="dml",
    ),
    # --- errors
    Case("syntax error", "SELEC 1", error("BadRequest", "invalidQuery")),
    Case("missing table", "SELECT * FROM `{ds}.missing`", error("NotFound", "notFound")),
    Case("division by zero", "SELECT 1 / 0 AS x", error("BadRequest", "invalidQuery")),
)


@dataclass(frozen=True)
class Difference:
    """A known difference for one case: what each side returns (None: what BigQuery returns, the
    case's ``expected``) and why. Asserted exactly, both sides."""

    why: str
    ours: Outcome | None = None
    goccy: Outcome | None = None


# goccy's side comes from reading its source (server/handler.go, server/error.go at the commit of
# 2026-06-15); no goccy image was run where these entries were written, so the first run with
# Docker confirms or corrects them.
_GOCCY_DML = "goccy reports every query job as statementType SELECT with no numDmlAffectedRows"
_GOCCY_ERRORS = "goccy answers every failed query with HTTP 400, reason jobInternalError"
EXPECTED_DIFFERENCES: dict[str, Difference] = {
    "insert rows with DML": Difference(_GOCCY_DML, goccy=dml("SELECT", None)),
    "update": Difference(_GOCCY_DML, goccy=dml("SELECT", None)),
    "delete": Difference(_GOCCY_DML, goccy=dml("SELECT", None)),
    "DML over the streaming buffer": Difference(
        "goccy has no streaming buffer, so DML over rows just streamed by insertAll succeeds; BigQuery "
        "(and ours) refuse it with 400 invalidQuery until the buffer is flushed",
        goccy=dml("SELECT", None),
    ),
    "syntax error": Difference(_GOCCY_ERRORS, goccy=error("BadRequest", "jobInternalError")),
    "missing table": Difference(
        _GOCCY_ERRORS + " (BigQuery: 404 notFound)", goccy=error("BadRequest", "jobInternalError")
    ),
    "division by zero": Difference(_GOCCY_ERRORS, goccy=error("BadRequest", "jobInternalError")),
}


def bigquery_client(url: str) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": url}
    )


def run_case(client: bigquery.Client, case: Case, dataset: str) -> Outcome:
    """One case through the real client. Retries off: a failed job is an outcome to compare, not
    something to retry (the client retries reason jobInternalError for minutes by default)."""
    sql = case.sql.replace("{ds}", dataset)
    config = bigquery.QueryJobConfig(query_parameters=list(case.params))
    try:
        if case.kind == "insert_all":
            table = client.get_table(f"{PROJECT}.{dataset}.{sql}")
            return Outcome(insert_errors=tuple(map(str, client.insert_rows(table, list(case.rows)))))
        if case.kind == "dml":
            job = client.query(sql, job_config=config, job_retry=None)
            job.result(job_retry=None)
            return dml(job.statement_type, job.num_dml_affected_rows)
        rows = client.query_and_wait(sql, job_config=config, job_retry=None)
        columns = tuple((f.name, f.field_type, f.mode) for f in rows.schema)
        return Outcome(columns=columns, rows=tuple(tuple(row.values()) for row in rows))
    except gexc.GoogleAPICallError as exc:
        reason = next((e.get("reason") for e in exc.errors or () if isinstance(e, dict)), None)
        return error(type(exc).__name__, reason)


def run_cases(url: str, dataset: str) -> dict[str, Outcome]:
    """Make ``dataset`` with the two tables the cases use, then run every case in order."""
    client = bigquery_client(url)
    try:
        client.create_dataset(f"{PROJECT}.{dataset}")
        client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.sales", schema=SALES_SCHEMA))
        client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.stream", schema=STREAM_SCHEMA))
        return {case.name: run_case(client, case, dataset) for case in CASES}
    finally:
        client.delete_dataset(f"{PROJECT}.{dataset}", delete_contents=True, not_found_ok=True)
        client.close()


def wanted(case: Case, side: Literal["ours", "goccy"]) -> Outcome:
    difference = EXPECTED_DIFFERENCES.get(case.name)
    return (getattr(difference, side) if difference else None) or case.expected


def test_expected_differences_name_cases_and_really_differ() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert set(EXPECTED_DIFFERENCES) <= set(names)
    for name, difference in EXPECTED_DIFFERENCES.items():
        case = next(case for case in CASES if case.name == name)
        assert difference.why and (difference.ours or difference.goccy), name
        assert wanted(case, "ours") != wanted(case, "goccy"), name


def test_the_cases_hold_on_our_in_process_emulator() -> None:
    """Our side of the side-by-side, checked here: what the Docker run compares goccy against."""
    with Emulators() as emulators:
        outcomes = run_cases(emulators.bigquery_url, "side_by_side")
    wrong = {case.name: outcomes[case.name] for case in CASES if outcomes[case.name] != wanted(case, "ours")}
    assert not wrong, wrong


# ================================================================= with Docker: the image, for real


@pytest.fixture
def emulator_container(harness_emulator_container: EmulatorContainer) -> EmulatorContainer:
    """The plugin's session container (:mod:`harness.pytest_plugin.containers`), which also marks
    these tests ``requires_docker``."""
    return harness_emulator_container


@pytest.mark.requires_docker
def test_image_serves_bigquery_to_the_real_client(emulator_container: EmulatorContainer) -> None:
    client = bigquery_client(emulator_container.get_bigquery_url())
    dataset = f"{PROJECT}.container_smoke"
    client.create_dataset(dataset)
    table = client.create_table(
        bigquery.Table(
            f"{dataset}.events",
            schema=[
                bigquery.SchemaField("id", "INTEGER", mode="REQUIRED"),
                bigquery.SchemaField("name", "STRING"),
                bigquery.SchemaField("amount", "NUMERIC"),
            ],
        )
    )
    assert (
        client.insert_rows(table, [{"id": 1, "name": "a", "amount": Decimal("1.50")}, {"id": 2, "name": "b"}])
        == []
    )
    rows = client.query_and_wait(f"SELECT id, name, amount FROM `{dataset}.events` ORDER BY id")
    assert [tuple(row.values()) for row in rows] == [(1, "a", Decimal("1.50")), (2, "b", None)]
    # Streamed rows sit in the streaming buffer (wall clock in the container): DML is refused.
    with pytest.raises(gexc.BadRequest, match="streaming buffer"):
        client.query_and_wait(f"DELETE FROM `{dataset}.events` WHERE id = 1", job_retry=None)

    client.query_and_wait(f"CREATE TABLE `{dataset}.ledger` (id INT64, amount NUMERIC)")
    insert = client.query(f"INSERT INTO `{dataset}.ledger` (id, amount) VALUES (1, 1.5), (2, 2.5), (3, 3.5)")
    insert.result()
    assert (insert.statement_type, insert.num_dml_affected_rows) == ("INSERT", 3)
    update = client.query(f"UPDATE `{dataset}.ledger` SET amount = amount * 2 WHERE id >= 2")
    update.result()
    assert update.num_dml_affected_rows == 2
    delete = client.query(f"DELETE FROM `{dataset}.ledger` WHERE id = 1")
    delete.result()
    assert delete.num_dml_affected_rows == 1
    total = next(iter(client.query_and_wait(f"SELECT SUM(amount) AS total FROM `{dataset}.ledger`")))
    assert total["total"] == Decimal("12")

    client.delete_table(f"{dataset}.events")
    with pytest.raises(gexc.NotFound):
        client.get_table(f"{dataset}.events")
    client.delete_dataset(dataset, delete_contents=True)
    with pytest.raises(gexc.NotFound):
        client.get_dataset(dataset)


@pytest.mark.requires_docker
def test_image_serves_kms_to_the_real_client(emulator_container: EmulatorContainer) -> None:
    from google.cloud import kms_v1

    from harness.backends.kms import CloudKmsKeyManager

    key_name = Settings().kms_key_name
    keys = CloudKmsKeyManager(
        key_name, credentials=AnonymousCredentials(), endpoint=emulator_container.get_kms_url()
    )
    sealed = keys.encrypt(b"org secret", aad=b"acme")
    assert keys.decrypt(sealed.ciphertext, aad=b"acme") == b"org secret"
    # And the client itself, without the harness's adapter.
    client = kms_v1.KeyManagementServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulator_container.get_kms_url()},
    )
    response = client.encrypt(request={"name": key_name, "plaintext": b"raw"})
    assert client.decrypt(request={"name": key_name, "ciphertext": response.ciphertext}).plaintext == b"raw"


@pytest.mark.requires_docker
def test_image_serves_the_provider_emulators(emulator_container: EmulatorContainer) -> None:
    env = emulator_container.get_client_env()
    openai = httpx.get(f"{env['OPENAI_BASE_URL']}/models")
    assert openai.status_code == 401 and "API key" in openai.json()["error"]["message"]
    anthropic = httpx.get(f"{env['ANTHROPIC_BASE_URL']}/v1/models")
    assert anthropic.status_code == 401 and anthropic.json()["error"]["type"] == "authentication_error"


@pytest.mark.requires_docker
def test_the_emulator_tier_runs_on_the_container_through_its_env(
    emulator_container: EmulatorContainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``os.environ.update(container.env())``, then the harness's own emulator tier (external
    emulators) bootstraps the 15 meta tables in the container's BigQuery emulator."""
    from harness.backends.emulator import build_emulator
    from harness.onboarding.bootstrap import bootstrap

    for name, value in emulator_container.get_client_env().items():
        monkeypatch.setenv(name, value)
    with build_emulator(Settings()) as backends:
        assert backends.emulators is None  # external: the container's
        report = bootstrap(backends.platform.warehouse, backends.platform.config)
        assert len(report.created) == 15


@pytest.mark.requires_docker
def test_image_is_healthy_and_unprivileged(emulator_container: EmulatorContainer) -> None:
    from testcontainers.core.wait_strategies import HealthcheckWaitStrategy

    HealthcheckWaitStrategy().with_startup_timeout(60).wait_until_ready(emulator_container)
    uid = emulator_container.exec(["id", "-u"])
    assert uid.exit_code == 0 and uid.output.decode().strip() not in ("", "0")


# ==================================================================== with Docker: goccy side by side


@pytest.fixture
def goccy(harness_goccy_container: GoccyBigQueryContainer) -> GoccyBigQueryContainer:
    return harness_goccy_container


@pytest.mark.requires_docker
def test_side_by_side_with_goccy(
    emulator_container: EmulatorContainer, goccy: GoccyBigQueryContainer
) -> None:
    """The same cases through the same client against both; every difference must be listed."""
    ours = run_cases(emulator_container.get_bigquery_url(), "side_by_side")
    theirs = run_cases(goccy.get_bigquery_url(), "side_by_side")
    report = []
    for case in CASES:
        if case.name in EXPECTED_DIFFERENCES:
            ok = ours[case.name] == wanted(case, "ours") and theirs[case.name] == wanted(case, "goccy")
        else:
            ok = ours[case.name] == theirs[case.name] == case.expected
        if not ok:
            report.append(
                f"{case.name}:\n    ours:     {ours[case.name]}\n    goccy:    {theirs[case.name]}\n"
                f"    expected: ours {wanted(case, 'ours')}, goccy {wanted(case, 'goccy')}"
            )
    assert not report, (
        "results differ from the expected (add or correct an EXPECTED_DIFFERENCES entry, saying why, "
        "only once you know which side is wrong):\n" + "\n".join(report)
    )
