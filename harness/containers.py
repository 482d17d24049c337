"""The emulators in Docker containers, through testcontainers: the harness's own four emulators from
an image built from the ``Dockerfile`` shipped in the package (``harness/image/``), and goccy's
BigQuery emulator for side-by-side comparisons of our BigQuery emulator against an independent
implementation.

    with EmulatorContainer() as emulators:       # builds the image (cached by Docker), starts it
        os.environ.update(emulators.env())       # the same variables as harness.emulators.Emulators

    with GoccyBigQueryContainer(project="cloudact-local") as goccy:
        client = bigquery.Client(..., client_options={"api_endpoint": goccy.url})

Why containers when :class:`harness.emulators.Emulators` serves the same emulators in-process: the
image is what a service under test (or a CI job in another language) runs, so it must build,
install without a checkout and answer on its published ports; only a container proves that.

The image's build context is assembled from the installed package (:func:`emulator_build_context`:
the Dockerfile, a wheel of the installed harness, pins of its installed runtime dependencies), not
taken from a checkout, so it builds the same from an installed wheel as from the repository.

Nothing here needs a Docker daemon until :meth:`start`: testcontainers is imported lazily (it is the
``containers`` extra) and the testcontainers container object is only made when starting, so this
module imports, and its address mapping is testable, on a machine without Docker.

goccy's image: ``$HARNESS_GOCCY_IMAGE``, else ``goccy/bigquery-emulator:latest``. Upstream publishes
it on GitHub's container registry, not Docker Hub, so point the variable at the full reference of
wherever you pull or mirror it from (testcontainers' ``TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX``
also applies to it). testcontainers also starts its Ryuk reaper container unless
``TESTCONTAINERS_RYUK_DISABLED=true``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self

from harness.distribution import pack_wheel, pins, runtime_closure
from harness.emulators import DEFAULT_PORT_BASE, EMULATORS

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import WaitStrategy

DOCKERFILE = Path(__file__).resolve().with_name("image") / "Dockerfile"
"""The emulator image's Dockerfile, package data (so it is in the wheel)."""
EMULATOR_IMAGE_TAG = "cloudact-harness-emulators:dev"
"""The tag :class:`EmulatorContainer` gives the image it builds (kept, so Docker's cache reuses it)."""

GOCCY_IMAGE_ENV = "HARNESS_GOCCY_IMAGE"
GOCCY_DEFAULT_IMAGE = "goccy/bigquery-emulator:latest"
GOCCY_HTTP_PORT = 9050
GOCCY_GRPC_PORT = 9060

CONTAINER_PORTS: dict[str, int] = {name: DEFAULT_PORT_BASE + i for i, name in enumerate(EMULATORS)}
"""Where the image serves each emulator inside the container (its CMD uses ``--port-base 9050``)."""

READY_LOG = r"^export ANTHROPIC_BASE_URL="
"""``harness emulators up`` prints the ``export`` lines once all four servers are up; the Anthropic
line is the last. Waiting on it (not only on the ports) also turns a container that exits at once,
e.g. on a bad option, into an immediate error with its logs instead of a port time-out."""


class MappedPorts(Protocol):
    """What the address mapping needs from a started container (a testcontainers ``DockerContainer``
    has both methods): the host to reach it on and the host port a container port is published on."""

    def get_container_host_ip(self) -> str: ...

    def get_exposed_port(self, port: int) -> int: ...


def _http_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 literal bracketed."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass(frozen=True)
class EmulatorEndpoints:
    """The host-side URLs of the four emulators of a started container."""

    bigquery_url: str
    kms_url: str
    openai_url: str
    """Root URL, no ``/v1`` (as :attr:`harness.emulators.Emulators.openai_url`)."""
    anthropic_url: str

    @classmethod
    def of(cls, container: MappedPorts, ports: dict[str, int] | None = None) -> EmulatorEndpoints:
        """The URLs at which ``container`` publishes the emulators served on ``ports`` inside it
        (default :data:`CONTAINER_PORTS`): Docker maps each to a random host port."""
        ports = ports or CONTAINER_PORTS
        host = container.get_container_host_ip()
        urls = {name: _http_url(host, int(container.get_exposed_port(ports[name]))) for name in EMULATORS}
        return cls(
            bigquery_url=urls["bigquery"],
            kms_url=urls["kms"],
            openai_url=urls["openai"],
            anthropic_url=urls["anthropic"],
        )

    def env(self) -> dict[str, str]:
        """The variables :meth:`harness.emulators.Emulators.env` gives, for these URLs: the same
        names and shapes (``BIGQUERY_EMULATOR_HOST`` a whole URL, ``OPENAI_BASE_URL`` ending
        in ``/v1``, ``ANTHROPIC_BASE_URL`` the root), so code configured from either works alike."""
        return {
            "BIGQUERY_EMULATOR_HOST": self.bigquery_url,
            "KMS_ENDPOINT": self.kms_url,
            "OPENAI_BASE_URL": self.openai_url + "/v1",
            "ANTHROPIC_BASE_URL": self.anthropic_url,
        }


def emulator_build_context(dest: str | Path) -> Path:
    """Write the emulator image's build context into ``dest`` (created if need be) and return it:
    ``Dockerfile`` (:data:`DOCKERFILE`), a wheel of the installed harness
    (:func:`harness.distribution.pack_wheel`) and ``constraints.txt`` pinning the installed versions
    of its runtime dependencies, so the image runs what this environment runs."""
    context = Path(dest)
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_bytes(DOCKERFILE.read_bytes())
    (context / "constraints.txt").write_text(pins(runtime_closure()))
    pack_wheel(context)
    return context


def goccy_image() -> str:
    """goccy's image reference: ``$HARNESS_GOCCY_IMAGE`` when set (non-blank), else the default."""
    return os.environ.get(GOCCY_IMAGE_ENV, "").strip() or GOCCY_DEFAULT_IMAGE


def _require_testcontainers() -> None:
    try:
        import testcontainers  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the extra is installed in the dev setup
        raise RuntimeError(
            "harness.containers needs testcontainers: pip install 'cloudact-harness[containers]'"
        ) from exc


def _answers(port: int, path: str = "/") -> WaitStrategy:
    """Ready when ``path`` on ``port`` gets any HTTP answer below 500 through the published host
    port: a 401 or 404 still proves the server is listening and reachable from here."""
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    return HttpWaitStrategy(port, path).for_status_code_matching(lambda status: status < 500)


def _timed(strategy: WaitStrategy, timeout: float) -> WaitStrategy:
    """``strategy`` with ``timeout`` (per step of a composite) and a quick poll: the emulators start
    in well under a second, so testcontainers' one-second default poll would dominate."""
    return strategy.with_startup_timeout(timedelta(seconds=timeout)).with_poll_interval(0.2)


class _Container(ABC):
    """Start/stop and context management shared by the two containers. The testcontainers object is
    made in :meth:`start`, so constructing one of these needs neither testcontainers nor Docker."""

    def __init__(self, *, startup_timeout: float) -> None:
        self.startup_timeout = startup_timeout
        self._container: DockerContainer | None = None

    @abstractmethod
    def _make(self) -> DockerContainer:
        """The testcontainers object to start, configured but not started."""

    @property
    def container(self) -> DockerContainer:
        """The started testcontainers container (for logs, exec...)."""
        if self._container is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._container

    def start(self) -> Self:
        if self._container is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        _require_testcontainers()
        container = self._make()
        try:
            container.start()  # waits with the strategy _make set; a time-out carries the logs
        except BaseException:
            with contextlib.suppress(Exception):  # keep the start-up error, not a clean-up one
                container.stop()
            raise
        self._container = container
        return self

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class EmulatorContainer(_Container):
    """The harness's four emulators in a container from the packaged ``Dockerfile``.

    ``image`` runs an existing image (built elsewhere, e.g. once per CI job); without it
    :meth:`start` builds one and tags it ``tag``, kept afterwards so Docker's layer cache makes the
    next build quick. It builds ``context`` when given (a directory with ``dockerfile`` in it), else
    a context :func:`emulator_build_context` assembles in a temporary directory. Ready once the CLI
    has printed its ``export`` lines and all four published ports answer HTTP.
    """

    def __init__(
        self,
        image: str | None = None,
        *,
        context: str | Path | None = None,
        dockerfile: str = "Dockerfile",
        tag: str = EMULATOR_IMAGE_TAG,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self.image = image
        self.context = None if context is None else Path(context)
        self.dockerfile = dockerfile
        self.tag = tag

    def build_image(self) -> str:
        """Build the image from :attr:`context` (else from an assembled one) and return its tag."""
        if self.context is None:
            with tempfile.TemporaryDirectory(prefix="harness-image-") as tmp:
                return self._build(emulator_build_context(tmp), "Dockerfile")
        if not (self.context / self.dockerfile).is_file():
            raise FileNotFoundError(
                f"no {self.dockerfile} in {self.context}: pass a context from emulator_build_context(), "
                "image=, or neither"
            )
        return self._build(self.context, self.dockerfile)

    def _build(self, context: Path, dockerfile: str) -> str:
        from testcontainers.core.image import DockerImage

        DockerImage(path=context, tag=self.tag, dockerfile_path=dockerfile, clean_up=False).build()
        return self.tag

    def _make(self) -> DockerContainer:
        from testcontainers.core.container import DockerContainer

        image = self.image or self.build_image()
        container = DockerContainer(image).with_exposed_ports(*CONTAINER_PORTS.values())
        if self.image is None:
            # DockerContainer prepends TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX (meant for pulls from a
            # mirror); a tag just built locally must be run as is.
            container.image = image
        return container.waiting_for(self.readiness())

    def readiness(self) -> WaitStrategy:
        """Ready once the CLI has printed its ``export`` lines (:data:`READY_LOG`) and each of the
        four published ports answers HTTP."""
        from testcontainers.core.wait_strategies import CompositeWaitStrategy, LogMessageWaitStrategy

        strategy = CompositeWaitStrategy(
            LogMessageWaitStrategy(READY_LOG), *(_answers(port) for port in CONTAINER_PORTS.values())
        )
        return _timed(strategy, self.startup_timeout)

    # ------------------------------------------------------------------ addresses

    @property
    def endpoints(self) -> EmulatorEndpoints:
        return EmulatorEndpoints.of(self.container)

    def env(self) -> dict[str, str]:
        """``BIGQUERY_EMULATOR_HOST``, ``KMS_ENDPOINT``, ``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``
        for the published ports, as :meth:`harness.emulators.Emulators.env` gives them."""
        return self.endpoints.env()

    @property
    def bigquery_url(self) -> str:
        return self.endpoints.bigquery_url

    @property
    def kms_url(self) -> str:
        return self.endpoints.kms_url

    @property
    def openai_url(self) -> str:
        return self.endpoints.openai_url

    @property
    def anthropic_url(self) -> str:
        return self.endpoints.anthropic_url


class GoccyBigQueryContainer(_Container):
    """goccy's BigQuery emulator (goccy/bigquery-emulator on GitHub), an independent implementation
    on a GoogleSQL engine of its own, to run the same client calls against as against ours.

    Serves ``project`` (``--project``); REST on 9050, the Storage API's gRPC on 9060. The image is
    ``image``, else :func:`goccy_image` (``$HARNESS_GOCCY_IMAGE``). Ready once it logs that the
    REST server listens and a dataset listing of ``project`` answers.
    """

    def __init__(
        self, project: str = "cloudact-local", *, image: str | None = None, startup_timeout: float = 60.0
    ) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self.project = project
        self.image = image or goccy_image()

    @property
    def command(self) -> list[str]:
        """The emulator's arguments (the image's entrypoint is the emulator binary)."""
        return [f"--project={self.project}", f"--port={GOCCY_HTTP_PORT}", f"--grpc-port={GOCCY_GRPC_PORT}"]

    def _make(self) -> DockerContainer:
        from testcontainers.core.container import DockerContainer

        container = (
            DockerContainer(self.image)
            .with_command(self.command)
            .with_exposed_ports(GOCCY_HTTP_PORT, GOCCY_GRPC_PORT)
        )
        return container.waiting_for(self.readiness())

    def readiness(self) -> WaitStrategy:
        """Ready once it logs that the REST server listens and a dataset listing answers."""
        from testcontainers.core.wait_strategies import CompositeWaitStrategy, LogMessageWaitStrategy

        strategy = CompositeWaitStrategy(
            LogMessageWaitStrategy("REST server listening"),
            _answers(GOCCY_HTTP_PORT, f"/bigquery/v2/projects/{self.project}/datasets"),
        )
        return _timed(strategy, self.startup_timeout)

    @property
    def url(self) -> str:
        """The REST endpoint, for ``client_options={"api_endpoint": url}``."""
        return _http_url(
            self.container.get_container_host_ip(), int(self.container.get_exposed_port(GOCCY_HTTP_PORT))
        )

    def env(self) -> dict[str, str]:
        """``BIGQUERY_EMULATOR_HOST`` for this emulator (the google-cloud-bigquery client reads it)."""
        return {"BIGQUERY_EMULATOR_HOST": self.url}
