"""Where a started emulator container publishes the four emulators: host-side URLs and the
environment variables :meth:`harness.emulators.Emulators.env` gives, for Docker's port mapping.

Kept apart from the container class so the mapping is a pure function of "host, and which host
port each container port is published on", testable without Docker or testcontainers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from harness.containers.extra import http_url
from harness.emulators import DEFAULT_PORT_BASE, EMULATORS

CONTAINER_PORTS: dict[str, int] = {name: DEFAULT_PORT_BASE + i for i, name in enumerate(EMULATORS)}
"""Where the image serves each emulator inside the container (its CMD uses ``--port-base 9050``)."""


class MappedPorts(Protocol):
    """What the address mapping needs from a started container (a testcontainers ``DockerContainer``
    has both methods): the host to reach it on and the host port a container port is published on."""

    def get_container_host_ip(self) -> str: ...

    def get_exposed_port(self, port: int) -> int: ...


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
        urls = {name: http_url(host, int(container.get_exposed_port(ports[name]))) for name in EMULATORS}
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
