"""Recording at the HTTP layer (harness.recording): record modes and matching on both layers (the
providers' httpx transport, the Google clients' requests adapter), scrubbing, and an emulator-tier
run recorded and replayed offline from its cassette."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import google_crc32c
import httpx
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.transport.requests import AuthorizedSession
from google.auth.transport.requests import Request as AuthRequest
from google.oauth2 import service_account
from pydantic import SecretStr
from requests.adapters import BaseAdapter
from typer.testing import CliRunner

from harness.cli import app
from harness.recording import (
    CASSETTE_FILE,
    GOOGLE_SERVICES,
    CassetteError,
    CassetteMiss,
    Recorder,
    RecordingOptions,
    RecordMode,
    parse_match_on,
    recorded_exchanges,
)
from harness.recording.cassette import step_scope
from harness.recording.httpx_transport import RecordingTransport
from harness.recording.requests_adapter import RecordingAdapter, mount
from harness.scenario.loader import load_scenario
from harness.scenario.model import Tier
from harness.scenario.outcome import FAILED, PASSED
from harness.scenario.records import PROVIDER_KEY, Scrubber, read_record
from harness.scenario.replay import replay
from harness.scenario.runner import run_scenario
from harness.services.settings import Settings

REPO = Path(__file__).resolve().parents[1]
EMULATOR_VARIABLES = ("BIGQUERY_EMULATOR_HOST", "KMS_ENDPOINT", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")
PLANTED_ROOT_KEY = "planted-root-key-0123456789abcdef"
PLANTED_OPENAI_KEY = "sk-proj-PLANTEDplantedPLANTED0123456789"


# ---------------------------------------------------------------------------- httpx layer


class Upstream:
    """An in-memory provider: answers ``GET /v1/things`` with a counter, counts what reached it."""

    def __init__(self, fail: type[Exception] | None = None) -> None:
        self.calls: list[str] = []
        self.fail = fail

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
        if self.fail is not None:
            raise self.fail("upstream went away", request=request)
        return httpx.Response(200, json={"n": len(self.calls), "path": request.url.path})


def _client(recorder: Recorder, upstream: Upstream, service: str = "openai") -> httpx.Client:
    transport = RecordingTransport(recorder, service, inner=httpx.MockTransport(upstream))
    return httpx.Client(base_url="http://provider.test", transport=transport)


def _record(path: Path, *requests_: str, mode: RecordMode = RecordMode.ALL) -> Upstream:
    upstream = Upstream()
    recorder = Recorder(mode, cassette=path)
    with _client(recorder, upstream) as client:
        for url in requests_:
            client.get(url)
    recorder.save(path, Scrubber())
    return upstream


def test_all_records_and_none_replays_without_sending(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    _record(cassette, "/v1/things", "/v1/things")
    upstream = Upstream()
    with _client(Recorder(RecordMode.NONE, cassette=cassette), upstream) as client:
        first, second = client.get("/v1/things"), client.get("/v1/things")
    assert (first.json()["n"], second.json()["n"]) == (1, 2)  # the n-th request gets the n-th recording
    assert upstream.calls == []


def test_none_fails_a_request_with_no_recording_naming_method_url_and_rule(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    _record(cassette, "/v1/things")
    upstream = Upstream()
    recorder = Recorder(RecordMode.NONE, cassette=cassette)
    with _client(recorder, upstream) as client:
        client.get("/v1/things")
        with pytest.raises(CassetteMiss) as raised:
            client.get("/v1/things")  # one recording only
        with pytest.raises(CassetteMiss):
            client.post("/v1/things")
    message = str(raised.value)
    assert "no recording for GET http://provider.test/v1/things" in message
    assert "matching on method, path" in message and "record mode none" in message
    assert upstream.calls == [] and len(recorder.misses) == 2


def test_none_without_a_cassette_never_sends() -> None:
    upstream = Upstream()
    with _client(Recorder(RecordMode.NONE), upstream) as client, pytest.raises(CassetteMiss):
        client.get("/v1/things")
    assert upstream.calls == []


def test_once_records_without_a_cassette_and_replays_only_with_one(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    first = _record(cassette, "/v1/things", mode=RecordMode.ONCE)
    assert len(first.calls) == 1 and cassette.is_file()
    upstream = Upstream()
    recorder = Recorder(RecordMode.ONCE, cassette=cassette)
    assert not recorder.recording
    with _client(recorder, upstream) as client:
        assert client.get("/v1/things").json()["n"] == 1
        with pytest.raises(CassetteMiss, match="record mode once"):
            client.get("/v1/other")
    assert upstream.calls == []


def test_new_episodes_replays_matches_and_records_the_rest(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    _record(cassette, "/v1/things")
    upstream = Upstream()
    recorder = Recorder(RecordMode.NEW_EPISODES, cassette=cassette)
    with _client(recorder, upstream) as client:
        assert client.get("/v1/things").json() == {"n": 1, "path": "/v1/things"}  # recorded
        assert client.get("/v1/other").json() == {"n": 1, "path": "/v1/other"}  # sent
    assert upstream.calls == ["GET /v1/other?"]
    recorder.save(cassette, Scrubber())
    paths = [e.path for e in recorded_exchanges(cassette)]
    assert paths == ["/v1/things", "/v1/other"]


def test_all_sends_everything_and_overwrites(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    _record(cassette, "/v1/things", "/v1/old")
    upstream = _record(cassette, "/v1/things")
    assert upstream.calls == ["GET /v1/things?"]
    assert [e.path for e in recorded_exchanges(cassette)] == ["/v1/things"]


def test_query_is_ignored_by_default_and_matched_when_asked(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    _record(cassette, "/v1/things?day=1")
    with _client(Recorder(RecordMode.NONE, cassette=cassette), Upstream()) as client:
        assert client.get("/v1/things?day=2").status_code == 200
    strict = Recorder(RecordMode.NONE, cassette=cassette, match_on=("method", "path", "query"))
    with _client(strict, Upstream()) as client:
        with pytest.raises(CassetteMiss, match="matching on method, path, query"):
            client.get("/v1/things?day=2")
        assert client.get("/v1/things?day=1").status_code == 200


def test_services_never_share_recordings(tmp_path: Path) -> None:
    """OpenAI and Anthropic both answer /v1/models: the key is scoped by service."""
    cassette = tmp_path / CASSETTE_FILE
    _record(cassette, "/v1/models")
    recorder = Recorder(RecordMode.NONE, cassette=cassette)
    with _client(recorder, Upstream(), "anthropic") as client, pytest.raises(CassetteMiss, match="anthropic"):
        client.get("/v1/models")


def test_exchanges_are_scoped_by_step(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    recorder = Recorder(RecordMode.ALL)
    with _client(recorder, Upstream()) as client:
        for step in ("7.0", "7.1"):
            with step_scope(step):
                client.get(f"/v1/things?from={step}")
    recorder.save(cassette, Scrubber())
    with _client(Recorder(RecordMode.NONE, cassette=cassette), Upstream()) as client:
        with step_scope("7.1"):  # the sub-steps' order changed: each still gets its own
            assert client.get("/v1/things").json()["n"] == 2
        with step_scope("7.0"):
            assert client.get("/v1/things").json()["n"] == 1


def test_a_transport_error_is_recorded_and_replayed_as_the_same_exception(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    recorder = Recorder(RecordMode.ALL)
    with _client(recorder, Upstream(fail=httpx.ReadTimeout)) as client, pytest.raises(httpx.ReadTimeout):
        client.get("/v1/things")
    recorder.save(cassette, Scrubber())
    replaying = Recorder(RecordMode.NONE, cassette=cassette)
    with _client(replaying, Upstream()) as client, pytest.raises(httpx.ReadTimeout, match="recorded"):
        client.get("/v1/things")


def test_provider_keys_in_headers_and_bodies_are_scrubbed(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    key = "sk-admin-" + "k" * 40
    recorder = Recorder(RecordMode.ALL)

    def echo(request: httpx.Request) -> httpx.Response:
        masked = key[:8] + "*" * (len(key) - 12) + key[-4:]  # how OpenAI quotes a wrong key
        return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {masked}"}})

    transport = RecordingTransport(recorder, "openai", inner=httpx.MockTransport(echo))
    with httpx.Client(transport=transport) as client:
        client.get("http://provider.test/v1/models", headers={"Authorization": f"Bearer {key}"})
    recorder.save(cassette, Scrubber())
    text = cassette.read_text(encoding="utf-8")
    assert key not in text and key[:8] + "*" not in text
    assert "Bearer <credential:1>" in text and "provided: <credential:1:masked>" in text


# ---------------------------------------------------------------------------- requests layer


class Responder(BaseAdapter):
    """An in-memory HTTP server for a requests session: ``handler(request) -> (status, json)``."""

    def __init__(self, handler: Callable[[requests.PreparedRequest], tuple[int, Any]]) -> None:
        super().__init__()
        self.handler = handler
        self.calls: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append(request)
        status, body = self.handler(request)
        response = requests.Response()
        response.status_code = status
        response.headers["content-type"] = "application/json"
        response._content = json.dumps(body).encode("utf-8")
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        """Nothing to release."""


def _bigquery(request: requests.PreparedRequest) -> tuple[int, Any]:
    """jobs.insert echoes the client's job id; jobs.getQueryResults answers for the id in the path."""
    path = request.path_url.split("?")[0]
    if request.method == "POST" and path.endswith("/jobs"):
        body = json.loads(request.body or b"{}")
        return 200, {"jobReference": body["jobReference"], "status": {"state": "DONE"}}
    job = path.rsplit("/", 1)[-1]
    return 200, {"jobReference": {"jobId": job}, "jobComplete": True, "rows": [{"f": [{"v": "1"}]}]}


def _session(recorder: Recorder, inner: BaseAdapter) -> requests.Session:
    session = requests.Session()
    mount(session, RecordingAdapter(recorder, "bigquery", inner=inner))
    return session


def _insert_then_read(session: requests.Session, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    base = "https://bigquery.googleapis.com/bigquery/v2/projects/p"
    inserted = session.post(f"{base}/jobs", json={"jobReference": {"projectId": "p", "jobId": job_id}})
    read = session.get(f"{base}/queries/{job_id}", params={"location": "US"})
    return inserted.json(), read.json()


def test_requests_adapter_records_and_replays_with_client_made_job_ids(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    recorder = Recorder(RecordMode.ALL)
    _insert_then_read(_session(recorder, Responder(_bigquery)), "job_first_run_0000000001")
    recorder.save(cassette, Scrubber())

    upstream = Responder(_bigquery)
    inserted, read = _insert_then_read(
        _session(Recorder(RecordMode.NONE, cassette=cassette), upstream), "job_replayed_run_00000002"
    )
    assert upstream.calls == []
    # The replay's own job id, as the real service would have echoed it, and /queries/<its id> matched.
    assert inserted["jobReference"]["jobId"] == "job_replayed_run_00000002"
    assert read["jobReference"]["jobId"] == "job_replayed_run_00000002" and read["jobComplete"] is True


def test_requests_adapter_none_fails_with_the_clear_error(tmp_path: Path) -> None:
    session = _session(Recorder(RecordMode.NONE, cassette=tmp_path / "absent.json"), Responder(_bigquery))
    with pytest.raises(CassetteMiss, match=r"no recording for GET https://bigquery\.googleapis\.com/"):
        session.get("https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets")


def test_requests_adapter_replays_a_connection_error_as_requests_raises_it(tmp_path: Path) -> None:
    def refuse(request: requests.PreparedRequest) -> tuple[int, Any]:
        raise requests.exceptions.ConnectionError("refused")

    cassette = tmp_path / CASSETTE_FILE
    recorder = Recorder(RecordMode.ALL)
    with pytest.raises(requests.exceptions.ConnectionError):
        _session(recorder, Responder(refuse)).get("https://kms.test/v1/x")
    recorder.save(cassette, Scrubber())
    with pytest.raises(requests.exceptions.ConnectionError, match="recorded"):
        _session(Recorder(RecordMode.NONE, cassette=cassette), Responder(_bigquery)).get(
            "https://kms.test/v1/x"
        )


def test_body_matching_leaves_out_what_the_client_regenerates(tmp_path: Path) -> None:
    cassette = tmp_path / CASSETTE_FILE
    rule = parse_match_on("method,path,body")
    recorder = Recorder(RecordMode.ALL, match_on=rule)
    url = "https://bigquery.googleapis.com/bigquery/v2/projects/p/queries"
    _session(recorder, Responder(lambda r: (200, {"ok": 1}))).post(
        url, json={"query": "SELECT 1", "requestId": "a" * 20}
    )
    recorder.save(cassette, Scrubber())
    session = _session(Recorder(RecordMode.NONE, cassette=cassette, match_on=rule), Responder(_bigquery))
    assert session.post(url, json={"query": "SELECT 1", "requestId": "b" * 20}).json() == {"ok": 1}
    with pytest.raises(CassetteMiss, match="matching on method, path, body"):
        session.post(url, json={"query": "SELECT 2", "requestId": "c" * 20})


def _service_account(token_uri: str) -> tuple[service_account.Credentials, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    info = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "planted-key-id",
        "private_key": pem,
        "client_email": "harness@p.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    return service_account.Credentials.from_service_account_info(info, scopes=scopes), pem


ACCESS_TOKEN = "ya29.planted-access-token-0123456789"


def _token(request: requests.PreparedRequest) -> tuple[int, Any]:
    return 200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}


def _pem_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def test_a_service_account_run_leaves_no_token_or_key_in_the_cassette(tmp_path: Path) -> None:
    """AuthorizedSession fetches its token on a session of its own (not recorded); the bearer token
    it then sends is scrubbed; nothing of the private key is anywhere."""
    credentials, pem = _service_account("https://oauth2.test/token")
    token_session = requests.Session()
    token_session.mount("https://", Responder(_token))
    recorder = Recorder(RecordMode.ALL)
    session = AuthorizedSession(credentials, auth_request=AuthRequest(token_session))
    upstream = Responder(
        lambda r: (200, {"kind": "bigquery#datasetList", "seen": r.headers["Authorization"]})
    )
    mount(session, RecordingAdapter(recorder, "bigquery", inner=upstream))
    session.get("https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets")
    assert upstream.calls[0].headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    path = recorder.save(tmp_path / CASSETTE_FILE, Scrubber())
    text = path.read_text(encoding="utf-8")
    assert ACCESS_TOKEN not in text
    assert not any(line in text for line in _pem_lines(pem))
    assert text.count("Bearer <credential:1>") == 2  # the request header, the echo in the body


def test_a_token_exchange_through_a_recording_session_is_never_written(tmp_path: Path) -> None:
    credentials, pem = _service_account("https://oauth2.test/token")
    recorder = Recorder(RecordMode.ALL)
    token_session = requests.Session()
    mount(token_session, RecordingAdapter(recorder, "oauth2", inner=Responder(_token)))
    credentials.refresh(AuthRequest(token_session))
    assert credentials.token == ACCESS_TOKEN and len(recorder.cassette.interactions) == 1
    text = recorder.save(tmp_path / CASSETTE_FILE, Scrubber()).read_text(encoding="utf-8")
    assert json.loads(text)["interactions"] == []
    assert ACCESS_TOKEN not in text and "assertion" not in text
    assert not any(line in text for line in _pem_lines(pem))


def test_kms_plaintext_is_scrubbed_with_a_matching_checksum(tmp_path: Path) -> None:
    secret = "sk-ant-admin01-" + "s" * 40

    def decrypt(request: requests.PreparedRequest) -> tuple[int, Any]:
        plain = secret.encode()
        return 200, {
            "plaintext": base64.b64encode(plain).decode(),
            "plaintextCrc32c": str(google_crc32c.value(plain)),
        }

    recorder = Recorder(RecordMode.ALL)
    session = _session(recorder, Responder(decrypt))
    url = "https://cloudkms.googleapis.com/v1/projects/p/locations/l/keyRings/r/cryptoKeys/k:decrypt"
    session.post(url, json={"ciphertext": "Y2lwaGVy"})
    scrub = Scrubber()
    scrub.add(secret, "credential")
    text = recorder.save(tmp_path / CASSETTE_FILE, scrub).read_text(encoding="utf-8")
    body = json.loads(text)["interactions"][0]["response"]["body"]["json"]
    plain = base64.b64decode(body["plaintext"])
    assert plain == b"<credential:1>" and body["plaintextCrc32c"] == str(google_crc32c.value(plain))
    assert base64.b64encode(secret.encode()).decode() not in text


# ---------------------------------------------------------------------------- options


def test_record_mode_defaults_by_tier_and_from_the_environment() -> None:
    default = RecordingOptions.from_env({})
    assert default.mode_for("gcp") is RecordMode.ALL and default.active("gcp")
    assert default.mode_for("emulator") is RecordMode.NONE and not default.active("emulator")
    nightly = RecordingOptions.from_env(
        {"HARNESS_RECORD_MODE": "new_episodes", "HARNESS_MATCH_ON": "method,path,query"}
    )
    assert nightly.mode_for("emulator") is RecordMode.NEW_EPISODES
    assert nightly.match_on == ("method", "path", "query")
    with pytest.raises(CassetteError, match="expected one of none, once, new_episodes, all"):
        RecordingOptions.from_env({"HARNESS_RECORD_MODE": "sometimes"})
    with pytest.raises(CassetteError, match="subset of method, path, query, body"):
        parse_match_on("method,headers")


def test_cli_refuses_an_unknown_record_mode_or_match_rule() -> None:
    runner = CliRunner()
    bad_mode = runner.invoke(app, ["run", "scenarios/bootstrap_only.yml", "--record-mode", "sometimes"])
    assert bad_mode.exit_code == 2 and "expected one of none, once, new_episodes, all" in bad_mode.output
    bad_rule = runner.invoke(app, ["run", "scenarios/bootstrap_only.yml", "--match-on", "host"])
    assert bad_rule.exit_code == 2 and "--match-on" in bad_rule.output


def test_a_record_mode_on_the_fake_tier_keeps_provider_bodies(tmp_path: Path) -> None:
    scenario = load_scenario(REPO / "scenarios" / "integration_only.yml")
    outcome = run_scenario(scenario, runs_dir=tmp_path, recording=RecordingOptions(mode=RecordMode.ALL))
    assert outcome.status == PASSED and outcome.record_path is not None
    record = read_record(outcome.record_path)
    assert record.recorded_provider_responses and record.recording is None
    assert not (outcome.record_path.parent / CASSETTE_FILE).exists()


# ---------------------------------------------------------------------------- emulator tier


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """full_onboarding recorded on the embedded emulators (mode all), with planted secrets."""
    saved = {name: os.environ.pop(name) for name in EMULATOR_VARIABLES if name in os.environ}
    try:
        settings = Settings(
            ca_root_api_key=SecretStr(PLANTED_ROOT_KEY), openai_api_key=SecretStr(PLANTED_OPENAI_KEY)
        )
        outcome = run_scenario(
            load_scenario(REPO / "scenarios" / "full_onboarding.yml"),
            source=REPO / "scenarios" / "full_onboarding.yml",
            tier=Tier.EMULATOR,
            settings=settings,
            runs_dir=tmp_path_factory.mktemp("runs"),
            recording=RecordingOptions(mode=RecordMode.ALL),
        )
    finally:
        os.environ.update(saved)
    assert outcome.status == PASSED, outcome.failure_report()
    assert outcome.record_path is not None
    yield outcome.record_path.parent


def _copy(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    return copy


@pytest.mark.emulator
def test_the_run_record_names_the_mode_and_the_cassette(recorded_run: Path) -> None:
    record = read_record(recorded_run)
    assert record.tier == "emulator" and record.recording is not None
    assert record.recording.mode == "all" and record.recording.cassette == CASSETTE_FILE
    assert record.recording.interactions == len(recorded_exchanges(recorded_run)) > 0
    services = {e.service for e in recorded_exchanges(recorded_run)}
    assert services == {"bigquery", "kms", "openai"}


@pytest.mark.emulator
def test_the_cassette_holds_no_planted_secret(recorded_run: Path) -> None:
    text = (recorded_run / CASSETTE_FILE).read_text(encoding="utf-8")
    assert PLANTED_ROOT_KEY not in text and PLANTED_OPENAI_KEY not in text
    assert PROVIDER_KEY.search(text) is None  # the provider key the scenario minted and stored
    for interaction in json.loads(text)["interactions"]:
        body = (interaction["request"].get("body") or {}).get("json") or {}
        if "plaintext" in body:  # KMS: the org API key and the provider credential, as placeholders
            assert re.fullmatch(r"<[a-z_]+:\d+>", base64.b64decode(body["plaintext"]).decode())


@pytest.mark.emulator
def test_google_exchanges_as_plain_objects(recorded_run: Path) -> None:
    google = recorded_exchanges(recorded_run, services=GOOGLE_SERVICES)
    assert {e.service for e in google} == {"bigquery", "kms"}
    created = next(e for e in google if e.method == "POST" and e.path.endswith("/datasets"))
    assert created.status == 200 and created.request_json["datasetReference"]["datasetId"]
    missing = next(e for e in google if e.status == 404)
    assert missing.response_json["error"]["errors"][0]["reason"] == "notFound"


@pytest.mark.emulator
def test_replay_of_an_emulator_record_sends_nothing(
    recorded_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a replay opened a connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    outcome = replay(_copy(recorded_run, tmp_path), runs_dir=tmp_path / "replays")
    assert outcome.status == PASSED, outcome.failure_report()
    assert outcome.tier is Tier.EMULATOR and outcome.record_path is not None
    recording = read_record(outcome.record_path).recording
    assert recording is not None and recording.mode == "none" and recording.misses == []
    assert recording.served == read_record(recorded_run).recording.interactions  # type: ignore[union-attr]


@pytest.mark.emulator
def test_harness_replay_passes_offline_in_a_fresh_process(recorded_run: Path, tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in EMULATOR_VARIABLES and not k.startswith("HARNESS_")
    }
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "replay",
            str(_copy(recorded_run, tmp_path)),
            "--runs-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "passed full_onboarding: 11/11 steps" in result.stdout and "emulator tier" in result.stdout


@pytest.mark.emulator
def test_a_request_missing_from_the_cassette_fails_the_step_with_the_clear_error(
    recorded_run: Path, tmp_path: Path
) -> None:
    copy = _copy(recorded_run, tmp_path)
    data = json.loads((copy / CASSETTE_FILE).read_text(encoding="utf-8"))
    data["interactions"] = [
        i
        for i in data["interactions"]
        if not (i["service"] == "openai" and i["request"]["url"].endswith("/v1/models"))
    ]
    (copy / CASSETTE_FILE).write_text(json.dumps(data), encoding="utf-8")
    outcome = replay(copy, runs_dir=tmp_path / "replays")
    assert outcome.status == FAILED
    failed = outcome.failed_step
    assert failed is not None and failed.action == "setup_integration"
    assert failed.status != 201  # not a fake's (or anyone's) answer
    expected = (
        "no recording for GET http://openai.replay.invalid/v1/models "
        "(openai; matching on method, path; record mode none"
    )
    assert any(expected in line for line in failed.failures), failed.failures
    assert outcome.record_path is not None
    assert any(expected in m for m in read_record(outcome.record_path).recording.misses)  # type: ignore[union-attr]


@pytest.mark.emulator
def test_a_gcp_tier_record_replays_the_same_way(recorded_run: Path, tmp_path: Path) -> None:
    """The tier is in the record: a gcp record replays on the gcp tier's clients, from its
    cassette, with the project, key and environment it ran with (never GCP_PROJECT_ID's)."""
    copy = _copy(recorded_run, tmp_path)
    data = json.loads((copy / "record.json").read_text(encoding="utf-8"))
    data["tier"] = "gcp"
    (copy / "record.json").write_text(json.dumps(data), encoding="utf-8")
    settings = Settings(  # no local default a gcp run would refuse
        gcp_project_id="elsewhere",
        ca_root_api_key=SecretStr(PLANTED_ROOT_KEY),
        stripe_webhook_secret=SecretStr("whsec_" + "w" * 32),
    )
    outcome = replay(copy, runs_dir=tmp_path / "replays", settings=settings)
    assert outcome.status == PASSED, outcome.failure_report()
    assert outcome.tier is Tier.GCP


@pytest.mark.emulator
def test_the_record_flag_on_the_emulator_tier_records_a_cassette(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in EMULATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # without its parity snapshot, which records the run's Google calls whatever the mode
    scenario = load_scenario(REPO / "scenarios" / "bootstrap_only.yml").model_copy(update={"snapshot": None})
    outcome = run_scenario(scenario, tier=Tier.EMULATOR, record=True, runs_dir=tmp_path)
    assert outcome.status == PASSED and outcome.record_path is not None
    recording = read_record(outcome.record_path).recording
    assert recording is not None and recording.mode == "all" and recording.interactions > 0
    quiet = run_scenario(scenario, tier=Tier.EMULATOR, runs_dir=tmp_path)
    assert quiet.record_path is not None and read_record(quiet.record_path).recording is None


@pytest.mark.emulator
def test_harness_run_replays_a_cassette_once_it_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in EMULATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    scenario = str(REPO / "scenarios" / "bootstrap_only.yml")
    common = [scenario, "--backend", "emulator", "--runs-dir"]
    first = runner.invoke(app, ["run", *common, str(tmp_path / "first"), "--record-mode", "once"])
    assert first.exit_code == 0, first.output
    (recorded,) = (tmp_path / "first").iterdir()
    again = runner.invoke(
        app,
        [
            "run",
            *common,
            str(tmp_path / "again"),
            "--record-mode",
            "once",
            "--cassette",
            str(recorded / CASSETTE_FILE),
        ],
    )
    assert again.exit_code == 0, again.output
    (replayed,) = (tmp_path / "again").iterdir()
    recording = read_record(replayed).recording
    assert recording is not None and recording.misses == []
    assert recording.served == recording.interactions == read_record(recorded).recording.interactions  # type: ignore[union-attr]
