"""Shared fixtures for the harness's own tests."""

from __future__ import annotations

import socket

import pytest

from fakes.bigquery import queries
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock

PROJECT = "test-project"


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(manual_clock: ManualClock) -> BigQueryEngine:
    engine = BigQueryEngine(manual_clock)
    yield engine
    engine.close()


@pytest.fixture
def warehouse(engine: BigQueryEngine) -> FakeWarehouse:
    return FakeWarehouse(engine, PROJECT)


@pytest.fixture
def translations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the fake BigQuery translated with sqlglot (from empty caches): what no cache
    answered."""
    queries.clear_statement_caches()
    translated: list[str] = []
    real = queries.to_duckdb

    def counting(statement, **kwargs):  # type: ignore[no-untyped-def]
        translated.append(statement.sql)
        return real(statement, **kwargs)

    monkeypatch.setattr(queries, "to_duckdb", counting)
    return translated


@pytest.fixture
def backends(harness_backends):  # type: ignore[no-untyped-def]
    """The tier's backends (``--backend``; this repository runs fake and emulator), bootstrapped:
    the onboarding, pipeline and service tests take this, so they run on every tier."""
    return harness_backends


@pytest.fixture
def api(backends):  # type: ignore[no-untyped-def]
    """A TestClient of the api-service over ``backends``; the app holds nothing but the platform
    it is lent, so one built for an earlier test is lent again (:mod:`harness.services.app_pool`)."""
    from fastapi.testclient import TestClient

    from harness.services.api import create_api_app
    from harness.services.app_pool import lent_app

    with lent_app(create_api_app, backends.platform, None) as app, TestClient(app) as client:
        yield client


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to connect anywhere fails the test: in-process fakes must open no socket."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a socket connection was attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line with the number of fault plans tests/test_fault_plans.py explored, and one with the
    conformance cases that pass but are not in the ratchet yet (both from the reports' user
    properties, so they also count what ran on xdist workers)."""
    per_test: dict[str, int] = {}
    newly: set[str] = set()
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name == "fault_plans":
                    per_test[report.nodeid] = int(value)
                if name == "conformance_newly_passing":
                    newly.update(str(value).split())
    if per_test:
        terminalreporter.write_line(
            f"fault plans explored: {sum(per_test.values())} distinct plans in {len(per_test)} steps"
        )
    if newly:
        shown = ", ".join(sorted(newly)[:20]) + (", ..." if len(newly) > 20 else "")
        terminalreporter.write_line(
            f"conformance: {len(newly)} cases pass that the ratchet does not hold yet "
            f"(add them with `harness conformance --update-ratchet`): {shown}"
        )
