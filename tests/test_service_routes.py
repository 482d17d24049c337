"""The services' routes are declared on their apps (harness/services/routes.py), not on included
routers, whose routes FastAPI builds a second time for the app at its first request; each keeps
what the router gave it: its prefixed path, its tag, the app's error responses and dependency
overrides."""

from __future__ import annotations

from collections.abc import Callable
from unittest.mock import MagicMock

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from harness.services.api import create_api_app
from harness.services.deps import get_platform
from harness.services.pipeline import create_pipeline_app


@pytest.mark.parametrize("create", [create_api_app, create_pipeline_app])
def test_every_service_route_is_the_apps_own(create: Callable[..., FastAPI]) -> None:
    app = create(MagicMock())
    own = [route for route in app.routes if isinstance(route, APIRoute)]
    assert {route.path for route in own} >= {"/health", "/health/ready"}
    assert [route for route in app.routes if not hasattr(route, "path")] == []  # no included router
    assert len(own) == len({(route.path, *sorted(route.methods)) for route in own})


def test_a_route_keeps_its_prefix_tag_and_the_apps_error_responses() -> None:
    app = create_api_app(MagicMock())
    quota = next(route for route in app.routes if getattr(route, "name", None) == "get_quota")
    assert isinstance(quota, APIRoute)
    assert quota.path == "/api/v1/organizations/{org_slug}/quota"
    assert quota.tags == ["organizations"]
    assert {400, 401, 403, 404, 409, 422} <= set(quota.responses)


def test_the_apps_dependency_overrides_reach_its_routes() -> None:
    app = create_pipeline_app(MagicMock())
    unready = MagicMock()
    unready.warehouse.get_dataset.side_effect = RuntimeError("down")
    app.dependency_overrides[get_platform] = lambda: unready
    with TestClient(app) as client:
        answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["details"]["warehouse"] == "failed: RuntimeError: down"
