"""Regression (issue 14): ``harness run`` under SIGTERM and Ctrl-C, with a real subprocess and real
signals.

SIGTERM (what ``timeout``, CI cancellation and ``docker stop`` send) killed the run on the spot: no
cleanup, no record, the org stayed. Ctrl-C while the onboard request was in flight recorded
"nothing to clean up" though the server had created the org. Ctrl-C during start-up printed a
``KeyboardInterrupt`` traceback. Now SIGTERM behaves like Ctrl-C (exit 143; Ctrl-C stays 130).

Synchronised on the server, never on time: the run talks (live mode) to a stub api-service in this
process whose chosen route holds the request and tells the test it arrived; the test sends the
signal while the CLI is blocked in that request, then reads what the stub received afterwards
(the cleanup's ``DELETE``). The waits have a generous bound only so a broken run cannot hang the
suite; nothing waits for time to pass.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # deselected by --quick: real subprocesses and signals

BOUND = 60.0
"""Upper bound on any wait: a safety net against a hung run, not a synchronisation."""


@dataclass
class Stub:
    """A stand-in api- and pipeline-service that holds the request to ``hold`` until released."""

    hold: str
    url: str = ""
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, object]:
        self.requests.append((method, path))
        if f"{method} {path}" == self.hold:
            self.arrived.set()
            self.release.wait(BOUND)
        if path == "/health":
            return 200, {"status": "ok"}
        if path == "/api/v1/organizations/onboard":
            slug = json.loads(body)["org_slug"]
            return 201, {"org_slug": slug, "api_key": f"{slug}_api_key_stub"}
        if method == "DELETE" and path.startswith("/api/v1/organizations/"):
            return 200, {"org_slug": path.rsplit("/", 1)[-1], "deleted": {}}
        if path == "/api/v1/admin/bootstrap":
            return 200, {"dataset_id": "organizations"}
        return 404, {"error": "NOT_FOUND", "message": "Not Found", "error_id": "stub"}


@pytest.fixture
def stub(request: pytest.FixtureRequest) -> Iterator[Stub]:
    state = Stub(hold=request.param)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload = state.handle(self.command, self.path, body)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the interrupted client hung up
                pass

        do_GET = do_POST = do_DELETE = do_PUT = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


SCENARIO = """\
name: signal_target
tiers: [fake]
org: {slug: "sig_{run_id}", company_name: Signal Co, admin_email: sig@example.com}
steps:
  - onboard: {}
    expect: {status: 201}
  - name: holds until the test sends a signal
    http: {method: GET, path: /hold, auth: root}
"""


def _interrupt(stub: Stub, tmp_path: Path, signum: int) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Start ``harness run`` live against the stub, send ``signum`` once the held request arrived,
    and return the finished process and its runs directory."""
    scenario = tmp_path / "signal_target.yml"
    scenario.write_text(SCENARIO)
    runs = tmp_path / "runs"
    command = [sys.executable, "-c", "from harness.cli import app; app()", "run", str(scenario)]
    command += ["--api-url", stub.url, "--pipeline-url", stub.url, "--runs-dir", str(runs)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert stub.arrived.wait(BOUND), "the run never reached the held request"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=BOUND)
    finally:
        stub.release.set()
        if process.poll() is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), runs


def _record(runs: Path) -> dict[str, object]:
    records = list(runs.glob("*/record.json"))
    assert len(records) == 1, records
    return json.loads(records[0].read_text())


def _slug(record: dict[str, object]) -> str:
    resolved = record["resolved"]
    assert isinstance(resolved, dict)
    return str(resolved["org"]["slug"])


@pytest.mark.parametrize(
    ("stub", "signum", "code"),
    [("GET /hold", signal.SIGTERM, 143), ("GET /hold", signal.SIGINT, 130)],
    indirect=["stub"],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_signal_mid_run_cleans_up_records_and_exits(
    stub: Stub, tmp_path: Path, signum: int, code: int
) -> None:
    result, runs = _interrupt(stub, tmp_path, signum)
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output, output
    deletes = [path for method, path in stub.requests if method == "DELETE"]
    assert [path.rsplit("/", 1)[-1] for path in deletes] == [_slug(_record(runs))], stub.requests
    record = _record(runs)
    assert record["outcome"] == "interrupted", record["outcome"]
    assert record["cleanup"]["orgs"] == {_slug(record): "offboarded"}, record["cleanup"]


@pytest.mark.parametrize(
    ("stub", "signum", "code"),
    [
        ("POST /api/v1/organizations/onboard", signal.SIGINT, 130),
        ("POST /api/v1/organizations/onboard", signal.SIGTERM, 143),
    ],
    indirect=["stub"],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_during_the_onboard_request_still_offboards_the_org(
    stub: Stub, tmp_path: Path, signum: int, code: int
) -> None:
    result, runs = _interrupt(stub, tmp_path, signum)
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "nothing to clean up" not in output, output
    record = _record(runs)
    assert [(m, p) for m, p in stub.requests if m == "DELETE"] == [
        ("DELETE", f"/api/v1/organizations/{_slug(record)}")
    ], stub.requests
    assert record["cleanup"]["orgs"] == {_slug(record): "offboarded"}, record["cleanup"]


@pytest.mark.parametrize(
    ("stub", "signum", "code"),
    [("GET /health", signal.SIGINT, 130), ("GET /health", signal.SIGTERM, 143)],
    indirect=["stub"],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_during_start_up_exits_cleanly_without_a_traceback(
    stub: Stub, tmp_path: Path, signum: int, code: int
) -> None:
    result, runs = _interrupt(stub, tmp_path, signum)
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "interrupted before any scenario started" in output, output
    assert not runs.exists() or not list(runs.glob("*/record.json"))
    assert all(method != "POST" for method, _ in stub.requests), stub.requests
