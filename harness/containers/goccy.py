"""goccy's BigQuery emulator (goccy/bigquery-emulator on GitHub) in a container, a testcontainers
``DockerContainer``: an independent implementation on a GoogleSQL engine of its own, to run the
same client calls against as against ours (tests/test_containers.py's side-by-side).

    with GoccyBigQueryContainer(project="cloudact-local") as goccy:
        client = bigquery.Client(..., client_options={"api_endpoint": goccy.get_bigquery_url()})

The image: ``image=``, else ``$HARNESS_GOCCY_IMAGE``, else ``goccy/bigquery-emulator:latest``.
Upstream publishes it on GitHub's container registry, not Docker Hub, so point the variable at the
full reference of wherever you pull or mirror it from (testcontainers'
``TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX`` also applies to it).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from harness.containers.extra import DockerContainer, all_of, answers, http_url, logged

if TYPE_CHECKING:
    from harness.containers.extra import WaitStrategy

GOCCY_IMAGE_ENV = "HARNESS_GOCCY_IMAGE"
GOCCY_DEFAULT_IMAGE = "goccy/bigquery-emulator:latest"
GOCCY_HTTP_PORT = 9050
GOCCY_GRPC_PORT = 9060


def goccy_image() -> str:
    """goccy's image reference: ``$HARNESS_GOCCY_IMAGE`` when set (non-blank), else the default."""
    return os.environ.get(GOCCY_IMAGE_ENV, "").strip() or GOCCY_DEFAULT_IMAGE


def goccy_command(project: str) -> list[str]:
    """The emulator's arguments (the image's entrypoint is the emulator binary)."""
    return [f"--project={project}", f"--port={GOCCY_HTTP_PORT}", f"--grpc-port={GOCCY_GRPC_PORT}"]


def goccy_readiness(project: str, timeout: float) -> WaitStrategy:
    """Ready once it logs that the REST server listens and a dataset listing of ``project``
    answers; ``timeout`` seconds for each step."""
    return all_of(
        logged("REST server listening"),
        answers(GOCCY_HTTP_PORT, f"/bigquery/v2/projects/{project}/datasets"),
        timeout=timeout,
    )


class GoccyBigQueryContainer(DockerContainer):
    """goccy's emulator serving ``project``: REST on 9050, the Storage API's gRPC on 9060, each
    published on a free host port. Other keyword arguments go to testcontainers' ``DockerContainer``."""

    def __init__(
        self,
        project: str = "cloudact-local",
        *,
        image: str | None = None,
        startup_timeout: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(image or goccy_image(), **kwargs)
        self.project = project
        self.with_command(goccy_command(project))
        self.with_exposed_ports(GOCCY_HTTP_PORT, GOCCY_GRPC_PORT)
        self.waiting_for(goccy_readiness(project, startup_timeout))

    def get_bigquery_url(self) -> str:
        """The REST endpoint, for ``client_options={"api_endpoint": ...}``."""
        return http_url(self.get_container_host_ip(), int(self.get_exposed_port(GOCCY_HTTP_PORT)))

    def get_client_env(self) -> dict[str, str]:
        """``BIGQUERY_EMULATOR_HOST`` for this emulator (the google-cloud-bigquery client reads it)."""
        return {"BIGQUERY_EMULATOR_HOST": self.get_bigquery_url()}
