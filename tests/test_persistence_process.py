"""Persistence end to end: ``harness emulators up --data-dir D`` (and ``harness serve --data-dir D``)
as a separate process, written to through the official clients and the control client, killed with
SIGKILL, started again on D, and read back.

Readiness is the ``--print-env`` lines (the banner for ``serve``), which the command prints only
once every server accepts connections; every wait has a bounded deadline, nothing sleeps."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, kms_v1

from harness.control_client import ControlClient

pytestmark = pytest.mark.slow  # deselected by --quick: separate harness processes, killed and restarted

REPO = Path(__file__).resolve().parents[1]
HARNESS = str(Path(sys.executable).parent / "harness")
PROJECT = "persist-project"
LOCATION = f"projects/{PROJECT}/locations/global"
STARTUP_DEADLINE = 30.0


class Served:
    """A ``harness`` command serving in a child process; its stdout read line by line, each wait
    bounded by :data:`STARTUP_DEADLINE`."""

    def __init__(self, *argv: str) -> None:
        self.proc = subprocess.Popen(
            [HARNESS, *argv],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None
        threading.Thread(target=lambda: [self._lines.put(line) for line in stdout], daemon=True).start()

    def line(self) -> str:
        try:
            return self._lines.get(timeout=STARTUP_DEADLINE)
        except queue.Empty:
            self.kill()
            pytest.fail(f"{self.proc.args} did not start: {self.proc.stderr.read()}")  # type: ignore[union-attr]

    def kill(self) -> None:
        """SIGKILL: no clean stop, no final save."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STARTUP_DEADLINE)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()  # type: ignore[union-attr]


class EmulatorProcess(Served):
    """``harness emulators up --port-base 0 --print-env --data-dir D`` and the variables it printed."""

    def __init__(self, data_dir: Path, *options: str) -> None:
        super().__init__(
            "emulators", "up", "--port-base", "0", "--print-env", "--data-dir", str(data_dir), *options
        )
        self.env: dict[str, str] = {}
        while len(self.env) < 4:
            name, _, value = self.line().strip().removeprefix("export ").partition("=")
            self.env[name] = value

    def bigquery(self) -> bigquery.Client:
        return bigquery.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.env["BIGQUERY_EMULATOR_HOST"]},
        )

    def kms(self) -> kms_v1.KeyManagementServiceClient:
        return kms_v1.KeyManagementServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.env["KMS_ENDPOINT"]},
        )

    def openai(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(api_key=key, base_url=self.env["OPENAI_BASE_URL"], max_retries=0)


@pytest.fixture
def processes() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for process in started:
        if process.proc.poll() is None:
            process.kill()


def test_emulators_up_survives_kill_9_with_tables_keys_and_provider_keys(
    tmp_path: Path, processes: list[Served]
) -> None:
    first = EmulatorProcess(tmp_path)
    processes.append(first)
    with ControlClient(first.env["OPENAI_BASE_URL"].removesuffix("/v1")) as control:
        minted = control.mint_key("openai", admin=False)
    bq = first.bigquery()
    bq.create_dataset("sales")
    table = bigquery.Table(
        f"{PROJECT}.sales.orders",
        schema=[bigquery.SchemaField("id", "INTEGER"), bigquery.SchemaField("item", "STRING")],
    )
    bq.create_table(table)
    bq.query(f"INSERT INTO `{PROJECT}.sales.orders` (id, item) VALUES (1, 'tea'), (2, 'cake')").result()
    kms = first.kms()
    ring = kms.create_key_ring(request={"parent": LOCATION, "key_ring_id": "app", "key_ring": {}})
    key = kms.create_crypto_key(
        request={
            "parent": ring.name,
            "crypto_key_id": "tenants",
            "crypto_key": {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT},
        }
    )
    ciphertext = kms.encrypt(request={"name": key.name, "plaintext": b"tenant secret"}).ciphertext
    assert first.openai(minted).models.list().data
    bq.close()
    kms.transport.close()

    first.kill()
    second = EmulatorProcess(tmp_path)
    processes.append(second)

    bq = second.bigquery()
    rows = bq.query(f"SELECT id, item FROM `{PROJECT}.sales.orders` ORDER BY id").result()
    assert [(row["id"], row["item"]) for row in rows] == [(1, "tea"), (2, "cake")]
    assert [f.name for f in bq.get_table(f"{PROJECT}.sales.orders").schema] == ["id", "item"]
    kms = second.kms()
    assert kms.decrypt(request={"name": key.name, "ciphertext": ciphertext}).plaintext == b"tenant secret"
    assert [k.name for k in kms.list_crypto_keys(request={"parent": ring.name})] == [key.name]
    assert second.openai(minted).models.list().data  # the old key is accepted...
    with pytest.raises(openai.AuthenticationError):  # ...and an unknown one is not
        second.openai("sk-proj-never-minted").models.list()
    bq.close()
    kms.transport.close()

    # While it serves, a second process on the same directory refuses, naming it.
    refused = subprocess.run(
        [HARNESS, "emulators", "up", "--port-base", "0", "--data-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=STARTUP_DEADLINE,
        check=False,
    )
    assert refused.returncode == 2
    assert f"error: {tmp_path}" in refused.stderr and "in use by process" in refused.stderr
    assert "Traceback" not in refused.stderr
    # No file the runs wrote holds the provider key.
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and minted.encode() in p.read_bytes()]


class ServeProcess(Served):
    """``harness serve --data-dir D`` on free ports, and the URLs and keys its banner printed."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__("serve", "--api-port", "0", "--pipeline-port", "0", "--data-dir", str(data_dir))
        self.banner: dict[str, str] = {}
        # The banner is printed once both services accept connections.
        while not (line := self.line()).startswith("Press Ctrl-C"):
            label, _, value = line.strip().partition("  ")
            self.banner[label] = value.strip().split()[0] if value.strip() else ""


def test_harness_serve_survives_kill_9_with_an_onboarded_org(tmp_path: Path, processes: list[Served]) -> None:
    first = ServeProcess(tmp_path)
    processes.append(first)
    api, pipelines = first.banner["api-service"], first.banner["pipeline-service"]
    root = {"X-CA-Root-Key": "local-root-key"}
    with httpx.Client(timeout=30) as http:
        onboarded = http.post(
            f"{api}/api/v1/organizations/onboard",
            headers=root,
            json={"org_slug": "kept_co", "company_name": "Kept Co", "admin_email": "a@example.com"},
        )
        assert onboarded.status_code == 201, onboarded.text
        org = {"X-API-Key": onboarded.json()["api_key"]}
        setup = http.post(
            f"{api}/api/v1/integrations/kept_co/openai/setup",
            headers=org,
            json={"credential": first.banner["OpenAI admin key"]},
        )
        assert setup.status_code == 201, setup.text
    first.kill()

    second = ServeProcess(tmp_path)
    processes.append(second)
    api, pipelines = second.banner["api-service"], second.banner["pipeline-service"]
    with httpx.Client(timeout=30) as http:
        assert http.get(f"{api}/api/v1/organizations/kept_co", headers=org).json()["status"] == "ACTIVE"
        # The pipeline decrypts the credential stored before the kill and the provider fake accepts it.
        run = http.post(
            f"{pipelines}/api/v1/pipelines/run/kept_co/openai/cost/usage_cost", headers=org, json={}
        )
        assert run.status_code == 201, run.text
        assert run.json()["status"] == "SUCCESS", run.json()
    stored = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert not [c for c in stored if first.banner["OpenAI admin key"].encode() in c]
    assert not [c for c in stored if org["X-API-Key"].encode() in c]


SEED_FILE = f"""\
bigquery:
  projects:
    {PROJECT}:
      datasets:
        shop:
          tables:
            items:
              schema:
                - {{name: id, type: INT64, mode: REQUIRED}}
                - {{name: name, type: STRING}}
              rows:
                - {{id: 1, name: tea}}
                - {{id: 2, name: cake}}
kms:
  key_rings:
    - name: {LOCATION}/keyRings/seeded
      keys:
        - id: app
openai:
  keys:
    - key: sk-test-seeded-user-key-000000000001
"""


def test_the_seed_file_and_data_dir_flow_with_the_control_client(
    tmp_path: Path, processes: list[Served]
) -> None:
    """The issue's "done when": ``emulators up --seed-file F --data-dir D`` serves the seeded data,
    survives kill -9 and a restart with the same command (the seed is not applied twice), and is
    faulted, reset and seeded over HTTP by the Python control client."""
    seed_file, data = tmp_path / "seed.yml", tmp_path / "data"
    seed_file.write_text(SEED_FILE)
    first = EmulatorProcess(data, "--seed-file", str(seed_file))
    processes.append(first)
    with ControlClient(first.env["KMS_ENDPOINT"]) as control:
        minted = control.mint_key("openai", admin=False)
        assert [r["name"] for r in control.rows("shop", "items", project=PROJECT).rows] == ["tea", "cake"]
    kms = first.kms()
    key_name = f"{LOCATION}/keyRings/seeded/cryptoKeys/app"
    ciphertext = kms.encrypt(request={"name": key_name, "plaintext": b"kept"}).ciphertext
    kms.transport.close()
    first.kill()

    second = EmulatorProcess(data, "--seed-file", str(seed_file))  # the same command again
    processes.append(second)
    with ControlClient(second.env["BIGQUERY_EMULATOR_HOST"]) as control:
        assert [r["name"] for r in control.rows("shop", "items", project=PROJECT).rows] == ["tea", "cake"]
        kms = second.kms()
        assert kms.decrypt(request={"name": key_name, "ciphertext": ciphertext}).plaintext == b"kept"
        kms.transport.close()
        for key in (minted, "sk-test-seeded-user-key-000000000001"):
            assert second.openai(key).models.list().data

        control.add_fault("openai", status=503)
        with pytest.raises(openai.InternalServerError):
            second.openai(minted).models.list()
        control.reset()
        assert control.datasets(PROJECT) == []
        with pytest.raises(openai.AuthenticationError):
            second.openai(minted).models.list()
        control.seed(SEED_FILE)
        assert control.rows("shop", "items", project=PROJECT).total_rows == 2
