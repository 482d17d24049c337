"""The edge port: one URL for every emulator and the control plane. Proved with the real clients
(google-cloud-bigquery, google-cloud-kms over REST, the openai and anthropic SDKs) each given only
the edge URL, and with ``harness emulators up --edge-port`` run as a user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, kms_v1

from harness.control_client import ControlClient
from harness.edge import route
from harness.emulators import Emulators
from harness.services.settings import Settings

REPO = Path(__file__).resolve().parents[1]
PROJECT = Settings().gcp_project_id


@pytest.fixture(scope="module")
def emulators() -> Iterator[Emulators]:
    with Emulators(seed=9, edge_port=0) as served:
        yield served


def test_env_names_the_edge_url_for_every_service(emulators: Emulators) -> None:
    edge = emulators.edge_url
    assert edge is not None and edge not in {emulators.url(n) for n in ("bigquery", "kms", "openai")}
    assert emulators.env() == {
        "BIGQUERY_EMULATOR_HOST": edge,
        "KMS_ENDPOINT": edge,
        "OPENAI_BASE_URL": f"{edge}/v1",
        "ANTHROPIC_BASE_URL": edge,
        "HARNESS_EDGE_URL": edge,
    }


def test_all_four_real_clients_and_the_controls_on_one_url(emulators: Emulators) -> None:
    env = emulators.env()
    with ControlClient(env["HARNESS_EDGE_URL"]) as control:
        control.reset()
        openai_key = control.mint_key("openai", admin=False)
        anthropic_key = control.mint_key("anthropic", admin=False)

        bq = bigquery.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": env["BIGQUERY_EMULATOR_HOST"]},
        )
        bq.create_dataset("edge")
        table = bq.create_table(
            bigquery.Table(f"{PROJECT}.edge.t", schema=[bigquery.SchemaField("n", "INT64")])
        )
        assert bq.insert_rows_json(table, [{"n": 1}, {"n": 2}]) == []
        assert [row.total for row in bq.query("SELECT SUM(n) AS total FROM edge.t").result()] == [3]
        bq.close()
        assert control.rows("edge", "t").rows == [{"n": 1}, {"n": 2}]

        kms = kms_v1.KeyManagementServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": env["KMS_ENDPOINT"]},
        )
        key = kms.get_crypto_key(request={"name": Settings().kms_key_name})
        sealed = kms.encrypt(request={"name": key.name, "plaintext": b"edge secret"}).ciphertext
        assert kms.decrypt(request={"name": key.name, "ciphertext": sealed}).plaintext == b"edge secret"
        kms.transport.close()

        with openai.OpenAI(api_key=openai_key, base_url=env["OPENAI_BASE_URL"], max_retries=0) as sdk:
            assert sdk.models.list().data
        with anthropic.Anthropic(
            api_key=anthropic_key, base_url=env["ANTHROPIC_BASE_URL"], max_retries=0
        ) as sdk:
            assert sdk.models.list().data
        control.add_fault("anthropic", status=529)
        with (
            anthropic.Anthropic(
                api_key=anthropic_key, base_url=env["ANTHROPIC_BASE_URL"], max_retries=0
            ) as sdk,
            pytest.raises(anthropic.APIStatusError) as err,
        ):
            sdk.models.list()
        assert err.value.status_code == 529
        assert control.faults("openai") == []  # the fault went to the Anthropic emulator only


def test_a_request_no_service_claims_is_a_structured_404(emulators: Emulators) -> None:
    response = httpx.get(f"{emulators.edge_url}/v1/models")  # no credentials: neither provider
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "NOT_FOUND" and body["error_id"] and "Authorization: Bearer" in body["message"]


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/_harness", {}, "control"),
        ("/_harness/reset", {"authorization": "Bearer x"}, "control"),
        ("/_harnessing", {}, None),
        ("/bigquery/v2/projects/p/datasets", {"authorization": "Bearer x"}, "bigquery"),
        ("/upload/bigquery/v2/projects/p/jobs", {}, "bigquery"),
        ("/v1/projects/p/locations/global/keyRings", {"authorization": "Bearer x"}, "kms"),
        ("/v1/messages", {"x-api-key": "k", "anthropic-version": "2023-06-01"}, "anthropic"),
        ("/v1/models", {"anthropic-version": "2023-06-01", "authorization": "Bearer k"}, "anthropic"),
        ("/v1/chat/completions", {"authorization": "Bearer k"}, "openai"),
        ("/v1/models", {}, None),
    ],
)
def test_routing_rules(path: str, headers: dict[str, str], expected: str | None) -> None:
    assert route(path, headers) == expected


def test_emulators_up_edge_port_prints_it_and_serves_the_controls() -> None:
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "harness"),
            "emulators",
            "up",
            "--port-base",
            "0",
            "--edge-port",
            "0",
            "--print-env",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        exported: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while len(exported) < 5 and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            name, _, value = line.strip().removeprefix("export ").partition("=")
            exported[name] = value
        edge = exported.get("HARNESS_EDGE_URL")
        assert edge and exported["BIGQUERY_EMULATOR_HOST"] == edge, exported
        with ControlClient(edge) as control:
            assert control.info().tier == "emulator"
            control.add_fault("openai", status=503)
            control.reset()
            assert control.faults("openai") == []
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
