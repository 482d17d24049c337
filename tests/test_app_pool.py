"""Service apps are built once and lent to one run at a time (harness.services.app_pool)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from harness.services.app_pool import Factory, lent_app
from harness.services.settings import Settings


def service(built: list[FastAPI]) -> Factory:
    """A factory of apps shaped like the services' (platform and settings on ``app.state``, read
    per request); each test has its own, so its own pool."""

    def factory(platform: Any, settings: Settings | None) -> FastAPI:
        app = FastAPI()
        app.state.platform, app.state.settings = platform, settings or Settings()
        built.append(app)

        @app.get("/whose")
        def whose() -> str:
            return app.state.platform

        return app

    return factory


def test_a_returned_app_serves_the_next_run_with_its_own_platform() -> None:
    built: list[FastAPI] = []
    factory = service(built)
    with lent_app(factory, "run-1", None) as first, TestClient(first) as client:
        assert client.get("/whose").json() == "run-1"
    assert first.state.platform is None and first.state.settings is None  # nothing of run 1 kept
    settings = Settings()
    with lent_app(factory, "run-2", settings) as second, TestClient(second) as client:
        assert second is first and second.state.settings is settings
        assert client.get("/whose").json() == "run-2"
    assert built == [first]


def test_runs_at_the_same_time_get_apps_of_their_own() -> None:
    built: list[FastAPI] = []
    factory = service(built)
    with lent_app(factory, "a", None) as one, lent_app(factory, "b", None) as two:
        assert one is not two
        assert (one.state.platform, two.state.platform) == ("a", "b")
    with lent_app(factory, "c", None) as again:
        assert again in (one, two)
    assert len(built) == 2
