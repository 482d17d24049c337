"""The harness's four emulators in a Docker container, a testcontainers ``DockerContainer``:

    with EmulatorContainer() as emulators:            # builds the image (cached by Docker), starts it
        os.environ.update(emulators.get_client_env())  # the variables Emulators.env() gives
        client = bigquery.Client(..., client_options={"api_endpoint": emulators.get_bigquery_url()})

Why a container when :class:`harness.emulators.Emulators` serves the same emulators in-process: the
image is what a service under test (or a CI job in another language) runs, so it must build,
install without a checkout and answer on its published ports; only a container proves that.

The image: ``image=`` when given, else ``$HARNESS_EMULATOR_IMAGE`` (an image built once per CI
job, say), else one built at :meth:`EmulatorContainer.start` from the packaged Dockerfile
(:func:`harness.containers.context.emulator_build_context`) and tagged :data:`EMULATOR_IMAGE_TAG`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from harness.containers.context import emulator_build_context
from harness.containers.endpoints import CONTAINER_PORTS, EmulatorEndpoints
from harness.containers.extra import DockerContainer, all_of, answers, build_image, http_url, logged

if TYPE_CHECKING:
    from harness.containers.extra import WaitStrategy

EMULATOR_IMAGE_ENV = "HARNESS_EMULATOR_IMAGE"
EMULATOR_IMAGE_TAG = "cloudact-harness-emulators:dev"
"""The tag :class:`EmulatorContainer` gives the image it builds (kept, so Docker's cache reuses it)."""

CONTROL_PREFIX = "/_harness"
"""Where the emulators' HTTP control plane is served, on the BigQuery emulator's port."""

READY_LOG = r"^export ANTHROPIC_BASE_URL="
"""``harness emulators up`` prints the ``export`` lines once all four servers are up; the Anthropic
line is the last. Waiting on it (not only on the ports) also turns a container that exits at once,
e.g. on a bad option, into an immediate error instead of a port time-out."""


def emulator_image() -> str | None:
    """``$HARNESS_EMULATOR_IMAGE`` when set (non-blank): an image to run instead of building one."""
    return os.environ.get(EMULATOR_IMAGE_ENV, "").strip() or None


def emulator_readiness(timeout: float) -> WaitStrategy:
    """Ready once the CLI has printed its ``export`` lines (:data:`READY_LOG`) and each of the four
    published ports answers HTTP; ``timeout`` seconds for each step."""
    return all_of(logged(READY_LOG), *(answers(port) for port in CONTAINER_PORTS.values()), timeout=timeout)


class EmulatorContainer(DockerContainer):
    """BigQuery, Cloud KMS, OpenAI and Anthropic emulators in one container, on
    :data:`~harness.containers.endpoints.CONTAINER_PORTS` inside it, each published on a free host port.

    ``image`` runs an existing image; without it (and without ``$HARNESS_EMULATOR_IMAGE``)
    :meth:`start` builds ``context`` (a directory with ``dockerfile`` in it) when given, else a
    context assembled in a temporary directory, and tags the image ``tag``. The command is the
    image's own. Other keyword arguments go to testcontainers' ``DockerContainer``.
    """

    def __init__(
        self,
        image: str | None = None,
        *,
        context: str | Path | None = None,
        dockerfile: str = "Dockerfile",
        tag: str = EMULATOR_IMAGE_TAG,
        startup_timeout: float = 60.0,
        **kwargs: Any,
    ) -> None:
        image = image or emulator_image()
        super().__init__(image or tag, **kwargs)
        self.builds = image is None
        """Whether :meth:`start` builds the image (no image was named)."""
        if self.builds:
            # DockerContainer prepends TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX (meant for pulls from a
            # mirror); a tag built here is run as is.
            self.image = tag
        self.context = None if context is None else Path(context)
        self.dockerfile = dockerfile
        self.with_exposed_ports(*CONTAINER_PORTS.values())
        self.waiting_for(emulator_readiness(startup_timeout))

    def build_image(self) -> str:
        """Build the image from :attr:`context` (else from an assembled one) and return its tag."""
        if self.context is None:
            with tempfile.TemporaryDirectory(prefix="harness-image-") as tmp:
                return build_image(emulator_build_context(tmp), tag=self.image, dockerfile="Dockerfile")
        if not (self.context / self.dockerfile).is_file():
            raise FileNotFoundError(
                f"no {self.dockerfile} in {self.context}: pass a context from emulator_build_context(), "
                "image=, or neither"
            )
        return build_image(self.context, tag=self.image, dockerfile=self.dockerfile)

    def start(self) -> Self:
        """Build the image if need be, start the container and wait until it is ready. A failed
        start removes the container; the error carries its logs (testcontainers adds them to a
        time-out only, not to "exited before ready")."""
        if self.builds:
            self.build_image()
        try:
            return super().start()
        except BaseException as exc:
            if not isinstance(exc, TimeoutError) and self._container is not None:
                with contextlib.suppress(Exception):
                    out, err = (stream.decode() for stream in self.get_logs())
                    exc.add_note(f"container stdout:\n{out}\ncontainer stderr:\n{err}")
            with contextlib.suppress(Exception):  # keep the start-up error, not a clean-up one
                self.stop()
            raise

    # ------------------------------------------------------------------ accessors

    def get_endpoints(self) -> EmulatorEndpoints:
        """The host-side URLs of the four emulators (the container must be started)."""
        return EmulatorEndpoints.of(self)

    def _url(self, emulator: str) -> str:
        """One emulator's host-side URL: one port lookup, not four."""
        return http_url(self.get_container_host_ip(), int(self.get_exposed_port(CONTAINER_PORTS[emulator])))

    def get_bigquery_url(self) -> str:
        """For ``bigquery.Client(client_options={"api_endpoint": ...})``."""
        return self._url("bigquery")

    def get_kms_url(self) -> str:
        """For ``KeyManagementServiceClient(transport="rest", client_options={"api_endpoint": ...})``."""
        return self._url("kms")

    def get_openai_url(self) -> str:
        """The root URL; the OpenAI SDK's ``base_url`` is this plus ``/v1``."""
        return self._url("openai")

    def get_anthropic_url(self) -> str:
        """The Anthropic SDK's ``base_url``."""
        return self._url("anthropic")

    def get_control_url(self) -> str:
        """The emulators' HTTP control plane (reset, keys, faults, clock, seed, state)."""
        return self.get_bigquery_url() + CONTROL_PREFIX

    def get_client_env(self) -> dict[str, str]:
        """``BIGQUERY_EMULATOR_HOST``, ``KMS_ENDPOINT``, ``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``
        for the published ports, as :meth:`harness.emulators.Emulators.env` gives them. Not
        ``env()``: testcontainers' ``env`` attribute is the container's own environment."""
        return self.get_endpoints().env()
