"""Several service processes over one set of backends, for tests: what ``instances: N`` gives a
scenario. Each instance is its own :meth:`~harness.onboarding.platform.Platform.instance` (no
in-memory state shared with the others) with its own api-service and pipeline-service apps;
the warehouse, keys, clock and provider fakes are the tier's, shared."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from fastapi.testclient import TestClient

from harness.onboarding.platform import Platform
from harness.services.api import create_api_app
from harness.services.pipeline import create_pipeline_app


@dataclass(frozen=True)
class Instance:
    platform: Platform
    api: TestClient
    pipeline: TestClient


@contextmanager
def service_instances(*platforms: Platform) -> Iterator[list[Instance]]:
    """One instance per platform given (build them with ``platform.instance()``, wrapped as a test
    needs); clients raise no server exceptions, so a 500 is an answer to assert on."""
    with ExitStack() as stack:
        yield [
            Instance(
                platform,
                stack.enter_context(TestClient(create_api_app(platform), raise_server_exceptions=False)),
                stack.enter_context(TestClient(create_pipeline_app(platform), raise_server_exceptions=False)),
            )
            for platform in platforms
        ]
