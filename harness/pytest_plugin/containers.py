"""A pytest fixture per container (:mod:`harness.containers`), session-scoped, as testcontainers'
own examples write them:

``harness_emulator_container``  a started :class:`~harness.containers.EmulatorContainer` (image from
                                ``$HARNESS_EMULATOR_IMAGE``, else built from the packaged Dockerfile).
``harness_goccy_container``     a started :class:`~harness.containers.GoccyBigQueryContainer`
                                serving the ``harness_settings`` project.

A test that uses either needs Docker: it gets the ``requires_docker`` marker at collection, so with
no daemon it is an error, or a skip with ``HARNESS_SKIP_DOCKER=1``
(:mod:`~harness.pytest_plugin.markers`), before any fixture touches Docker. The marking runs first
(``tryfirst``) so the markers module's collection hook sees it. testcontainers (the ``containers``
extra) is imported only when a fixture is set up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.containers import EmulatorContainer, GoccyBigQueryContainer
    from harness.services.settings import Settings

CONTAINER_FIXTURES = ("harness_emulator_container", "harness_goccy_container")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in CONTAINER_FIXTURES):
            item.add_marker(pytest.mark.requires_docker)


@pytest.fixture(scope="session")
def harness_emulator_container() -> Iterator[EmulatorContainer]:
    """The harness's four emulators in one container for the session (``get_bigquery_url()``,
    ``get_kms_url()``, ``get_openai_url()``, ``get_anthropic_url()``, ``get_client_env()``)."""
    from harness.containers import EmulatorContainer

    with EmulatorContainer() as container:
        yield container


@pytest.fixture(scope="session")
def harness_goccy_container(harness_settings: Settings) -> Iterator[GoccyBigQueryContainer]:
    """goccy's BigQuery emulator for the session, serving the settings' GCP project."""
    from harness.containers import GoccyBigQueryContainer

    with GoccyBigQueryContainer(project=harness_settings.gcp_project_id) as container:
        yield container
