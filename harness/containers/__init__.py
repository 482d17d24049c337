"""The emulators in Docker containers, the testcontainers way: one module per container, each a
testcontainers ``DockerContainer`` subclass with ``get_*_url()`` accessors, and a pytest fixture
for each in :mod:`harness.pytest_plugin.containers`.

* :mod:`~harness.containers.emulators`: :class:`EmulatorContainer`, the harness's four emulators
  from an image built from the ``Dockerfile`` shipped in the package (or one you name);
* :mod:`~harness.containers.goccy`: :class:`GoccyBigQueryContainer`, goccy's BigQuery emulator,
  for side-by-side comparisons of ours against an independent implementation;
* :mod:`~harness.containers.context`: the image's build context, from the installed package;
* :mod:`~harness.containers.endpoints`: host-side URLs and ``Emulators.env()``'s variables for
  Docker's port mapping;
* :mod:`~harness.containers.extra`: the one module that imports testcontainers.

testcontainers is the ``containers`` extra: this package imports without it (and the build context
needs none of it), and making a container without it says which extra to install. As with every
testcontainers container, making one talks to the Docker daemon; testcontainers also starts its Ryuk
reaper container unless ``TESTCONTAINERS_RYUK_DISABLED=true``.
"""

from harness.containers.context import DOCKERFILE, emulator_build_context
from harness.containers.emulators import (
    CONTROL_PREFIX,
    EMULATOR_IMAGE_ENV,
    EMULATOR_IMAGE_TAG,
    EmulatorContainer,
    emulator_image,
    emulator_readiness,
)
from harness.containers.endpoints import CONTAINER_PORTS, EmulatorEndpoints
from harness.containers.goccy import (
    GOCCY_DEFAULT_IMAGE,
    GOCCY_GRPC_PORT,
    GOCCY_HTTP_PORT,
    GOCCY_IMAGE_ENV,
    GoccyBigQueryContainer,
    goccy_image,
)

__all__ = [
    "CONTAINER_PORTS",
    "CONTROL_PREFIX",
    "DOCKERFILE",
    "EMULATOR_IMAGE_ENV",
    "EMULATOR_IMAGE_TAG",
    "GOCCY_DEFAULT_IMAGE",
    "GOCCY_GRPC_PORT",
    "GOCCY_HTTP_PORT",
    "GOCCY_IMAGE_ENV",
    "EmulatorContainer",
    "EmulatorEndpoints",
    "GoccyBigQueryContainer",
    "emulator_build_context",
    "emulator_image",
    "emulator_readiness",
    "goccy_image",
]
