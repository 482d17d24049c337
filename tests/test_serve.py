"""``harness serve`` / :class:`harness.serve.ServiceProcess`: both services on real ports in one
process over one set of fake backends, reached over HTTP with httpx, and shut down cleanly."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from harness.clock import WallClock
from harness.serve import ServiceProcess
from harness.servers import ServeError

ROOT = Path(__file__).resolve().parent.parent
HARNESS = Path(sys.executable).parent / "harness"


@pytest.fixture(scope="module")
def services() -> Iterator[ServiceProcess]:
    with ServiceProcess(seed=11) as served:
        yield served


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def _root(services: ServiceProcess) -> dict[str, str]:
    return {"X-CA-Root-Key": services.root_key}


def _onboard(services: ServiceProcess, http: httpx.Client, slug: str) -> dict[str, str]:
    response = http.post(
        f"{services.api_url}/api/v1/organizations/onboard",
        headers=_root(services),
        json={"org_slug": slug, "company_name": "Serve Co", "admin_email": "serve@example.com"},
    )
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["api_key"]}


# ---------------------------------------------------------------------------------- the services
def test_both_services_answer_on_their_own_ports(services: ServiceProcess, http: httpx.Client) -> None:
    assert services.api_url != services.pipeline_url
    assert http.get(f"{services.api_url}/health").json() == {"status": "ok", "service": "api-service"}
    assert http.get(f"{services.pipeline_url}/health").json() == {
        "status": "ok",
        "service": "pipeline-service",
    }


@pytest.mark.parametrize("service", ["api", "pipeline"])
def test_ready_is_green_from_the_start(services: ServiceProcess, http: httpx.Client, service: str) -> None:
    url = services.api_url if service == "api" else services.pipeline_url
    response = http.get(f"{url}/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"warehouse": "ok", "kms": "ok"}


def test_the_meta_tables_are_bootstrapped_before_the_ports_open(
    services: ServiceProcess, http: httpx.Client
) -> None:
    assert services.tables_created == 15
    response = http.post(f"{services.api_url}/api/v1/admin/bootstrap", headers=_root(services))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == []
    assert len(response.json()["existing"]) == 15


def test_onboard_integrate_and_run_a_pipeline_over_http(services: ServiceProcess, http: httpx.Client) -> None:
    """Both services share one set of backends: an org onboarded on one runs pipelines on the other."""
    slug = "serve_flow"
    org = _onboard(services, http, slug)
    api, pipelines = services.api_url, services.pipeline_url

    assert http.get(f"{api}/api/v1/organizations/{slug}", headers=org).json()["status"] == "ACTIVE"
    credential = services.mint_admin_key("openai")
    setup = http.post(
        f"{api}/api/v1/integrations/{slug}/openai/setup", headers=org, json={"credential": credential}
    )
    assert setup.status_code == 201, setup.text
    assert setup.json()["validation_status"] == "VALID"

    run = http.post(f"{pipelines}/api/v1/pipelines/run/{slug}/openai/cost/usage_cost", headers=org, json={})
    assert run.status_code == 201, run.text
    assert run.json()["status"] == "SUCCESS"
    again = http.get(f"{pipelines}/api/v1/pipelines/runs/{slug}/{run.json()['run_id']}", headers=org)
    assert again.status_code == 200 and again.json()["status"] == "SUCCESS"
    quota = http.get(f"{api}/api/v1/organizations/{slug}/quota", headers=org)
    assert quota.json()["pipelines_run_today"] == 1
    params = {"org_slug": slug}
    loaded = http.get(f"{api}/_harness/rows/llm_usage_daily", headers=_root(services), params=params)
    assert loaded.json()["exists"] is True and loaded.json()["rows"] >= 1

    offboard = http.delete(f"{api}/api/v1/organizations/{slug}", headers=_root(services))
    assert offboard.status_code == 200, offboard.text
    assert http.get(f"{api}/api/v1/organizations/{slug}", headers=org).status_code == 401


# ------------------------------------------------------------------------------- test controls
def test_controls_need_the_root_key(services: ServiceProcess, http: httpx.Client) -> None:
    response = http.get(f"{services.api_url}/_harness")
    assert response.status_code == 401
    assert response.json()["error"] == "UNAUTHENTICATED"
    assert http.get(f"{services.pipeline_url}/_harness", headers=_root(services)).status_code == 404


def test_controls_describe_mint_keys_count_rows_and_advance_the_clock(
    services: ServiceProcess, http: httpx.Client
) -> None:
    api, root = services.api_url, _root(services)
    info = http.get(f"{api}/_harness", headers=root).json()
    assert info["tier"] == "fake" and info["seed"] == 11 and info["meta_tables"] == 15
    assert info["api_url"] == api and info["pipeline_url"] == services.pipeline_url

    minted = http.post(f"{api}/_harness/providers/anthropic/keys", headers=root, json={"admin": True})
    assert minted.status_code == 201
    assert minted.json()["key"].startswith("sk-ant-admin01-")
    assert http.post(f"{api}/_harness/providers/nope/keys", headers=root).status_code == 422

    slug = "serve_rows"
    _onboard(services, http, slug)
    rows = http.get(f"{api}/_harness/rows/org_profiles", headers=root, params={"org_slug": slug})
    assert rows.json() == {"table": "org_profiles", "org_slug": slug, "rows": 1, "exists": True}
    not_loaded = http.get(f"{api}/_harness/rows/llm_usage_daily", headers=root, params={"org_slug": slug})
    assert not_loaded.json()["rows"] == 0
    missing = http.get(f"{api}/_harness/rows/no_such_table", headers=root, params={"org_slug": slug})
    assert missing.json() == {"table": "no_such_table", "org_slug": slug, "rows": 0, "exists": False}
    injected = http.get(f"{api}/_harness/rows/x`; DROP", headers=root, params={"org_slug": slug})
    assert injected.status_code == 422

    before = datetime.fromisoformat(http.get(f"{api}/_harness/clock", headers=root).json()["now"])
    moved = http.post(f"{api}/_harness/clock/advance", headers=root, json={"days": 1})
    assert datetime.fromisoformat(moved.json()["now"]) - before >= timedelta(days=1)
    assert http.delete(f"{api}/api/v1/organizations/{slug}", headers=root).status_code == 200


def test_a_queued_provider_fault_reaches_the_live_services(
    services: ServiceProcess, http: httpx.Client
) -> None:
    api, root = services.api_url, _root(services)
    slug = "serve_fault"
    org = _onboard(services, http, slug)
    queued = http.post(
        f"{api}/_harness/providers/openai/faults", headers=root, json={"status": 503, "times": 50}
    )
    assert queued.status_code == 201 and queued.json()["pending_faults"] == 1
    setup = http.post(
        f"{api}/api/v1/integrations/{slug}/openai/setup",
        headers=org,
        json={"credential": services.mint_admin_key("openai")},
    )
    assert setup.status_code == 503, setup.text
    assert setup.json()["error"] == "PROVIDER_UNAVAILABLE"
    services.backends.openai.reset()  # type: ignore[union-attr]
    bad = http.post(f"{api}/_harness/providers/openai/faults", headers=root, json={"times": 1})
    assert bad.status_code == 400 and "exactly one of status or timeout" in bad.json()["message"]
    assert http.delete(f"{api}/api/v1/organizations/{slug}", headers=root).status_code == 200


# ------------------------------------------------------------------------------ start and stop
def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_stop_is_clean_and_releases_the_ports(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    served = ServiceProcess().start()
    ports = list(served.ports.values())
    with httpx.Client(timeout=30) as client:
        assert client.get(f"{served.api_url}/health").status_code == 200
    served.stop()
    served.stop()  # idempotent
    assert not served.running
    assert all(_port_is_free(port) for port in ports)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    with pytest.raises(httpx.ConnectError), httpx.Client(timeout=5) as client:
        client.get(f"http://127.0.0.1:{ports[0]}/health")


def test_listening_sockets_are_tcp_so_responses_are_not_held_back_by_nagle(services: ServiceProcess) -> None:
    """asyncio sets TCP_NODELAY on accepted connections only when the listening socket's proto is
    TCP; a bare socket(AF_INET, SOCK_STREAM) has proto 0 and every keep-alive response then waits
    ~40 ms for a delayed ACK."""
    assert {sock.proto for sock in services._sockets.values()} == {socket.IPPROTO_TCP}


def test_a_port_in_use_is_named_and_nothing_is_left_running() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        served = ServiceProcess(pipeline_port=port)
        with pytest.raises(
            ServeError, match=rf"pipeline-service: cannot listen on 127.0.0.1:{port}: .*in use"
        ):
            served.start()
        assert not served.running


def test_both_services_cannot_share_a_port() -> None:
    with pytest.raises(ServeError, match="cannot share port 8123"):
        ServiceProcess(api_port=8123, pipeline_port=8123)


def test_wall_clock_follows_real_time_moves_ahead_and_never_back() -> None:
    clock = WallClock()
    first = clock.now()
    assert abs(first - datetime.now(UTC)) < timedelta(seconds=5)
    assert clock.now() >= first
    assert clock.advance(timedelta(hours=2)) - first >= timedelta(hours=2)
    later = clock.now() + timedelta(days=3)
    assert clock.set(later) >= later
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="forward"):
        clock.set(first)


# --------------------------------------------------------------------------- the command itself
@pytest.mark.skipif(not HARNESS.exists(), reason="the harness script is not installed next to python")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_harness_serve_prints_urls_and_keys_and_stops_cleanly_on_a_signal(sig: signal.Signals) -> None:
    env = {**os.environ, "NO_COLOR": "1", "CA_ROOT_API_KEY": "serve-test-root"}
    proc = subprocess.Popen(
        [str(HARNESS), "serve", "--api-port", "0", "--pipeline-port", "0", "--seed", "5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(banner)
        assert "Press Ctrl-C to stop." in text, text
        urls = dict(re.findall(r"^\s+(api-service|pipeline-service)\s+(http://\S+)", text, re.MULTILINE))
        assert set(urls) == {"api-service", "pipeline-service"}, text
        assert "X-CA-Root-Key: ****" in text and "serve-test-root" not in text  # given, so masked
        assert re.search(r"OpenAI admin key\s+sk-admin-\S+", text)
        assert re.search(r"Anthropic admin key\s+sk-ant-admin01-\S+", text)
        with httpx.Client(timeout=30) as client:
            for service, url in urls.items():
                assert client.get(f"{url}/health").json()["service"] == service
            ready = client.get(f"{urls['api-service']}/health/ready")
            assert ready.status_code == 200
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err and "ERROR" not in err, err
