"""Persistence end to end: ``harness emulators up --data-dir D`` as a separate process, written to
through the official clients, killed with SIGKILL, started again on D, and read back.

Readiness is the ``--print-env`` lines, which the command prints only once every server accepts
connections; every wait has a bounded deadline, nothing sleeps."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, kms_v1

from harness.emulators import Emulators

REPO = Path(__file__).resolve().parents[1]
HARNESS = str(Path(sys.executable).parent / "harness")
PROJECT = "persist-project"
LOCATION = f"projects/{PROJECT}/locations/global"
STARTUP_DEADLINE = 30.0


class EmulatorProcess:
    """``harness emulators up --port-base 0 --print-env --data-dir D`` and the variables it printed."""

    def __init__(self, data_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [HARNESS, "emulators", "up", "--port-base", "0", "--print-env", "--data-dir", str(data_dir)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(line) for line in self.proc.stdout], daemon=True)  # type: ignore[union-attr]
        reader.start()
        self.env: dict[str, str] = {}
        while len(self.env) < 4:
            try:
                line = lines.get(timeout=STARTUP_DEADLINE)
            except queue.Empty:
                self.kill()
                pytest.fail(f"the emulators did not start: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            name, _, value = line.strip().removeprefix("export ").partition("=")
            self.env[name] = value

    def kill(self) -> None:
        """SIGKILL: no clean stop, no final save."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STARTUP_DEADLINE)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()  # type: ignore[union-attr]

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
def processes() -> Iterator[list[EmulatorProcess]]:
    started: list[EmulatorProcess] = []
    yield started
    for process in started:
        if process.proc.poll() is None:
            process.kill()


def test_emulators_up_survives_kill_9_with_tables_keys_and_provider_keys(
    tmp_path: Path, processes: list[EmulatorProcess]
) -> None:
    # A provider key minted into the directory (there is no HTTP mint on `emulators up` here).
    with Emulators(data_dir=tmp_path) as emulators:
        minted = emulators.openai.issue_key()  # type: ignore[union-attr]

    first = EmulatorProcess(tmp_path)
    processes.append(first)
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
