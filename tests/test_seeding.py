"""Seeding the emulators from files (``harness.seeding``): the loader's errors name file, line and
field; a seeded emulator answers the real google-cloud-bigquery, google-cloud-kms and openai clients
with what the file declared; a seed that fails leaves nothing behind; ``harness emulators up
--seed-file`` seeds before it prints the environment and refuses a bad file before it starts.
The marker's ``data=`` is in ``test_seeding_marker.py``.

Over 400 lines because every bad file is written inline beside the exact ``line: field: message``
it must produce, so what a user writes is read next to what they are told."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import openai
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, kms_v1

from harness.clock import ManualClock
from harness.emulators import Emulators
from harness.schema.spec import DatasetSpec
from harness.seeding import SeedError, apply_seed, load_seed_file, load_seed_text

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
HARNESS = Path(sys.executable).parent / "harness"
RING = "projects/seed-proj/locations/global/keyRings/app"
USER_KEY = "sk-test-seeded-user-key-000000000001"

SEED = f"""\
bigquery:
  projects:
    seed-proj:
      datasets:
        sales:
          location: EU
          labels: {{team: data}}
          tables:
            orders:
              schema:
                - {{name: id, type: INT64, mode: REQUIRED}}
                - {{name: placed, type: DATE}}
                - {{name: customer, type: STRING}}
                - name: lines
                  type: RECORD
                  mode: REPEATED
                  fields: [{{name: sku, type: STRING}}, {{name: qty, type: INT64}}]
              timePartitioning: {{type: DAY, field: placed}}
              clustering: {{fields: [customer]}}
              rows:
                - {{id: 1, placed: 2025-01-02, customer: acme, lines: [{{sku: a, qty: 2}}]}}
                - {{id: 2, placed: "2025-01-03", customer: globex}}
kms:
  key_rings:
    - name: {RING}
      keys:
        - id: secrets
          labels: {{env: test}}
          versions: [{{}}, {{state: DISABLED}}, {{}}]
          primary: 1
openai:
  organization: org-seeded
  keys:
    - key: {USER_KEY}
    - key: sk-test-seeded-revoked-key-0000000002
      revoked: true
    - name: billing
      admin: true
  usage:
    models: 2
    corruptions: [{{day: 2025-01-02, kind: duplicate_row}}]
"""


@pytest.fixture(scope="module")
def served() -> Iterator[Emulators]:
    with Emulators(clock=ManualClock(NOW), seed=3) as emulators:
        yield emulators


@pytest.fixture
def emulators(served: Emulators) -> Emulators:
    return served.reset(clock=ManualClock(NOW), seed=3)


@pytest.fixture
def bq(emulators: Emulators) -> Iterator[bigquery.Client]:
    client = bigquery.Client(
        project="seed-proj",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulators.bigquery_url),
    )
    yield client
    client.close()


@pytest.fixture
def kms(emulators: Emulators) -> Iterator[kms_v1.KeyManagementServiceClient]:
    client = kms_v1.KeyManagementServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulators.kms_url),
    )
    yield client
    client.transport.close()


# ---------------------------------------------------------------------------------- the loader


def _error(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SeedError) as caught:
        load_seed_file(path)
    return str(caught.value).removeprefix(f"{path}:")


TABLE = "bigquery:\n  projects:\n    p:\n      datasets:\n        ds:\n          tables:\n            t:\n"
WHERE = "bigquery.projects.p.datasets.ds.tables.t"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "syntax.yml",
            "bigquery:\n  projects: [\n",
            "3: invalid YAML: expected the node content, but found '<stream end>'",
        ),
        (
            "unknown.yml",
            "bigquery:\n  projects:\n    p:\n      datasets:\n        ds:\n          tabels: {}\n",
            "6: bigquery.projects.p.datasets.ds.tabels: unknown key 'tabels'; expected one of location, "
            "description, labels, tables (did you mean 'tables'?)",
        ),
        (
            "section.yml",
            "bigquerry: {}\n",
            "1: bigquerry: unknown key 'bigquerry'; expected one of bigquery, kms, "
            "openai, anthropic (did you mean 'bigquery'?)",
        ),
        (
            "type.yml",
            "kms:\n  key_rings:\n    - name: "
            + RING
            + "\n      keys:\n        - id: k\n          versions: 3\n",
            "6: kms.key_rings[0].keys[0].versions: expected a list, got an integer",
        ),
        (
            "coltype.yml",
            TABLE + "              schema: [{name: id, type: INT65}]\n",
            f"8: {WHERE}.schema[0].type: 'INT65' is not one of STRING, BYTES, INTEGER, FLOAT, NUMERIC, "
            "BIGNUMERIC, BOOLEAN, TIMESTAMP, DATE, TIME, DATETIME, GEOGRAPHY, JSON, INTERVAL, RANGE, RECORD",
        ),
        (
            "duplicate.yml",
            TABLE
            + "              schema: [{name: id, type: INT64}]\n            t:\n              schema: []\n",
            f"9: {WHERE}: duplicate key 't'",
        ),
        (
            "partition.yml",
            TABLE + "              schema: [{name: id, type: INT64}]\n"
            "              timePartitioning: {type: DAY, field: created}\n",
            f"9: {WHERE}.timePartitioning.field: The field specified for partitioning cannot be found in "
            "the schema. (BigQuery: 400 invalid)",
        ),
        (
            "cluster.yml",
            TABLE + "              schema:\n                - {name: id, type: INT64}\n"
            "                - {name: score, type: FLOAT}\n              clustering: {fields: [id, score]}\n",
            f"11: {WHERE}.clustering.fields[1]: Field score has type FLOAT, which is not supported for "
            "clustering. (BigQuery: 400 invalid)",
        ),
        (
            "column.yml",
            TABLE + "              schema:\n                - {name: id, type: INT64}\n"
            "                - {name: ID, type: STRING}\n",
            f"10: {WHERE}.schema[1].name: Field ID already exists in schema (BigQuery: 400 invalid)",
        ),
        (
            "dataset.json",
            '{"bigquery": {"projects": {"p": {"datasets": {\n  "bad-id": {}}}}}}\n',
            '2: bigquery.projects.p.datasets.bad-id: Invalid dataset ID "bad-id". Dataset IDs must be '
            "alphanumeric (plus underscores and dashes) and must be at most 1024 characters long. "
            "(BigQuery: 400 invalid)",
        ),
        ("syntax.json", '{"kms": {\n  "key_rings": [,]}}\n', "2: invalid JSON: Expecting value"),
        (
            "row-type.yml",
            TABLE + "              schema: [{name: id, type: INT64}]\n"
            "              rows:\n                - {id: 1}\n                - {id: x}\n",
            f"11: {WHERE}.rows[1].id: BigQuery refuses the row: "
            "Cannot convert value to integer (bad value): x",
        ),
        (
            "row-field.yml",
            TABLE + "              schema: [{name: r, type: RECORD, fields: [{name: a, type: INT64}]}]\n"
            "              rows:\n                - r:\n                    a: 1\n                    b: 2\n",
            f"12: {WHERE}.rows[0].r.b: BigQuery refuses the row: no such field: b.",
        ),
        (
            "row-required.yml",
            TABLE + "              schema: [{name: id, type: INT64, mode: REQUIRED}]\n"
            "              rows:\n                - {}\n",
            f"10: {WHERE}.rows[0].id: BigQuery refuses the row: Missing required field: id.",
        ),
        (
            "ring.yml",
            "kms:\n  key_rings:\n    - name: projects/p/keyRings/r\n",
            "3: kms.key_rings[0].name: 'projects/p/keyRings/r' is not a key ring name: projects/<project>/"
            "locations/<location>/keyRings/<id>, the id of letters, digits, _ and - (1 to 63)",
        ),
        (
            "primary.yml",
            "kms:\n  key_rings:\n    - name: "
            + RING
            + "\n      keys:\n        - id: k\n          primary: 2\n",
            "6: kms.key_rings[0].keys[0].primary: version 2 does not exist: the key has 1",
        ),
        (
            "primary-asymmetric.yml",
            "kms:\n  key_rings:\n    - name: "
            + RING
            + "\n      keys:\n        - {id: s, purpose: ASYMMETRIC_SIGN, algorithm: EC_SIGN_P256_SHA256,"
            " primary: 1}\n",
            "5: kms.key_rings[0].keys[0]: a ASYMMETRIC_SIGN key has no primary version; primary is for "
            "ENCRYPT_DECRYPT keys",
        ),
        (
            "key.yml",
            "openai:\n  keys:\n    - {name: a}\n    - {key: sk-abc, name: b}\n",
            "4: openai.keys[1]: give either key (a key to accept) or name (a key to mint), not both",
        ),
        (
            "corruption.yml",
            "anthropic:\n  usage:\n    corruptions:\n      - {day: 2025-01-01, kind: bad_row}\n",
            "4: anthropic.usage.corruptions[0].kind: Input should be 'negative_tokens', 'duplicate_row' or "
            "'cost_mismatch'",
        ),
        (
            "empty.yml",
            "",
            " the file is empty; a seed file has one or more of bigquery, kms, openai, anthropic",
        ),
    ],
)
def test_a_bad_seed_file_names_file_line_and_field(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    message = _error(tmp_path, name, text)
    assert message == expected
    assert "Traceback" not in message


def test_a_key_written_in_a_file_never_appears_in_an_error(tmp_path: Path) -> None:
    secret = "sk-test-very-secret-0123456789"
    message = _error(tmp_path, "secret.yml", f"openai:\n  keys:\n    - {{key: {secret}, admin: maybe}}\n")
    assert message.startswith("3: openai.keys[0].admin: expected a boolean, got a string"), message
    assert secret not in message


def test_a_missing_file_is_a_seed_error(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match=r"nosuch\.yml: cannot read file"):
        load_seed_file(tmp_path / "nosuch.yml")


# ---------------------------------------------------------------- seeded, read by the real clients


def test_seeded_bigquery_is_what_the_real_client_reads(emulators: Emulators, bq: bigquery.Client) -> None:
    report = apply_seed(load_seed_text(SEED, "seed.yml"), emulators)
    assert report.tables == {"seed-proj:sales.orders": 2}
    dataset = bq.get_dataset("seed-proj.sales")
    assert (dataset.location, dataset.labels) == ("EU", {"team": "data"})
    table = bq.get_table("seed-proj.sales.orders")
    assert table.time_partitioning.field == "placed"
    assert table.clustering_fields == ["customer"]
    assert [(f.name, f.field_type, f.mode) for f in table.schema][:2] == [
        ("id", "INTEGER", "REQUIRED"),
        ("placed", "DATE", "NULLABLE"),
    ]
    rows = [dict(row) for row in bq.list_rows(table)]
    assert rows == [
        {"id": 1, "placed": date(2025, 1, 2), "customer": "acme", "lines": [{"sku": "a", "qty": 2}]},
        {"id": 2, "placed": date(2025, 1, 3), "customer": "globex", "lines": []},
    ]
    # Loaded, not streamed: DML may change seeded rows at once.
    bq.query("UPDATE `seed-proj.sales.orders` SET customer = 'initech' WHERE id = 2").result()
    assert [
        row.customer for row in bq.query("SELECT customer FROM `seed-proj.sales.orders` ORDER BY id")
    ] == [
        "acme",
        "initech",
    ]


def test_seeded_kms_keys_are_what_the_real_client_reads_and_encrypt(
    emulators: Emulators, kms: kms_v1.KeyManagementServiceClient
) -> None:
    report = apply_seed(load_seed_text(SEED, "seed.yml"), emulators)
    name = f"{RING}/cryptoKeys/secrets"
    assert (report.key_rings, report.crypto_keys) == ([RING], [name])
    key = kms.get_crypto_key(name=name)
    assert dict(key.labels) == {"env": "test"}
    assert key.primary.name == f"{name}/cryptoKeyVersions/1"
    states = [v.state.name for v in kms.list_crypto_key_versions(parent=name)]
    assert states == ["ENABLED", "DISABLED", "ENABLED"]
    ciphertext = kms.encrypt(name=name, plaintext=b"seeded").ciphertext
    assert kms.decrypt(name=name, ciphertext=ciphertext).plaintext == b"seeded"


def test_seeded_keys_of_every_purpose_sign_verify_and_mac_through_the_real_client(
    emulators: Emulators, kms: kms_v1.KeyManagementServiceClient
) -> None:
    text = (
        f"kms:\n  key_rings:\n    - name: {RING}\n      keys:\n"
        "        - {id: signer, purpose: ASYMMETRIC_SIGN, algorithm: EC_SIGN_P256_SHA256,"
        " protection_level: HSM}\n"
        "        - {id: mac, purpose: MAC, algorithm: HMAC_SHA256}\n"
    )
    report = apply_seed(load_seed_text(text, "keys.yml"), emulators)
    signer, mac = report.crypto_keys
    version = f"{signer}/cryptoKeyVersions/1"
    assert kms.get_crypto_key_version(name=version).protection_level.name == "HSM"
    digest = hashlib.sha256(b"seeded").digest()
    signature = kms.asymmetric_sign(request={"name": version, "digest": {"sha256": digest}}).signature
    public = serialization.load_pem_public_key(kms.get_public_key(name=version).pem.encode())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))  # raises if wrong
    tag = kms.mac_sign(request={"name": f"{mac}/cryptoKeyVersions/1", "data": b"seeded"}).mac
    verified = kms.mac_verify(request={"name": f"{mac}/cryptoKeyVersions/1", "data": b"seeded", "mac": tag})
    assert verified.success


def test_a_key_the_emulator_refuses_names_its_place_in_the_seed_file(emulators: Emulators) -> None:
    text = f"kms:\n  key_rings:\n    - name: {RING}\n      keys:\n        - {{id: s, purpose: MAC}}\n"
    with pytest.raises(SeedError) as caught:
        apply_seed(load_seed_text(text, "keys.yml"), emulators)
    assert str(caught.value).startswith("keys.yml:5: kms.key_rings[0].keys[0]: ")


def test_seeded_provider_keys_are_accepted_revoked_or_minted_for_the_openai_sdk(emulators: Emulators) -> None:
    report = apply_seed(load_seed_text(SEED, "seed.yml"), emulators)
    base_url = emulators.openai_url + "/v1"
    with openai.OpenAI(api_key=USER_KEY, base_url=base_url, max_retries=0) as client:
        assert "gpt-4o" in [model.id for model in client.models.list()]
    with (
        openai.OpenAI(
            api_key="sk-test-seeded-revoked-key-0000000002", base_url=base_url, max_retries=0
        ) as client,
        pytest.raises(openai.AuthenticationError),
    ):
        client.models.list()
    state = emulators.openai
    assert state is not None
    minted = report.minted["openai"]["billing"]
    assert minted.startswith("sk-admin-") and state.is_admin(minted)
    assert (state.organization, state.usage_models()) == ("org-seeded", state.usage_models()[:2])
    assert len(state.usage_models()) == 2
    assert [(c.day, c.kind) for c in state.corruptions] == [(date(2025, 1, 2), "duplicate_row")]
    # The summary a terminal shows masks the minted key.
    assert minted not in report.summary() and minted not in repr(report)
    assert f"billing={minted[:8]}...{minted[-4:]}" in report.summary()


# ---------------------------------------------------------------------------------- all or nothing


def _snapshot(emulators: Emulators) -> tuple[object, ...]:
    assert emulators.engine and emulators.kms and emulators.openai
    return (
        [d.dataset_id for d in emulators.engine.list_datasets("seed-proj")],
        [r["name"] for r in emulators.kms.list_key_rings("projects/seed-proj/locations/global")],
        set(emulators.openai.valid_keys),
        emulators.openai.organization,
        emulators.openai.usage_model_count,
    )


def test_a_conflict_found_before_creating_leaves_everything_as_it_was(emulators: Emulators) -> None:
    assert emulators.engine is not None
    emulators.engine.create_dataset("seed-proj", DatasetSpec("sales"))
    before = _snapshot(emulators)
    apply_seed(load_seed_text(SEED, "first.yml"), emulators)  # an existing dataset is used as it is
    after_first = _snapshot(emulators)
    with pytest.raises(SeedError) as caught:
        apply_seed(load_seed_text(SEED, "again.yml"), emulators)
    assert str(caught.value) == (
        "again.yml:9: bigquery.projects.seed-proj.datasets.sales.tables.orders: "
        "Already Exists: Table seed-proj:sales.orders (on the emulator)"
    )
    assert _snapshot(emulators) == after_first != before


def test_a_failure_while_creating_undoes_what_the_seed_created(emulators: Emulators) -> None:
    # The usage model can only be checked against the fake once its model count is set, after the
    # BigQuery tables and the provider keys were created: all of them must go again.
    text = SEED.replace(
        "corruptions: [{day: 2025-01-02, kind: duplicate_row}]",
        "corruptions: [{day: 2025-01-02, kind: cost_mismatch, model: gpt-5}]",
    )
    before = _snapshot(emulators)
    with pytest.raises(SeedError) as caught:
        apply_seed(load_seed_text(text, "seed.yml"), emulators)
    assert str(caught.value) == (
        "seed.yml:41: openai.usage.corruptions[0].model: 'gpt-5' is not one of the fake's usage models: "
        "gpt-4o-2024-08-06, gpt-4o-mini-2024-07-18"
    )
    assert _snapshot(emulators) == before
    assert emulators.openai is not None and not emulators.openai.corruptions


def test_an_existing_crypto_key_is_a_conflict_naming_the_key(emulators: Emulators) -> None:
    apply_seed(
        load_seed_text("kms:\n  key_rings:\n    - name: " + RING + "\n      keys: [{id: k}]\n"), emulators
    )
    with pytest.raises(
        SeedError, match=r"<seed>:4: kms.key_rings\[0\].keys\[0\].id: crypto key 'k' already exists"
    ):
        apply_seed(
            load_seed_text("kms:\n  key_rings:\n    - name: " + RING + "\n      keys: [{id: k}]\n"), emulators
        )


# ---------------------------------------------------------------------------------- the README


README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_section() -> str:
    return README.read_text(encoding="utf-8").split("## Seeding from files", 1)[1].split("\n## ", 1)[0]


def test_the_readmes_example_seed_file_seeds_what_it_says(emulators: Emulators, bq: bigquery.Client) -> None:
    example = _readme_section().split("```yaml\n", 1)[1].split("```", 1)[0]
    report = apply_seed(load_seed_text(example, "seeds/shop.yml"), emulators)
    assert report.summary().startswith(
        "seeded seeds/shop.yml: 1 dataset, 1 table (2 rows), 1 key ring, 1 crypto key, openai 3 keys; "
        "minted openai billing=sk-admin..."
    )
    assert [row.customer for row in bq.list_rows("cloudact-local.shop.orders")] == ["acme", "globex"]
    # The README's two error lines are what the loader says for those two mistakes in that file.
    shown = [line for line in _readme_section().splitlines() if line.startswith("seeds/shop.yml:")]
    said = []
    for wrong, written in (("field: placed,", "field: created,"), ("{id: 2,", "{id: x,")):
        with pytest.raises(SeedError) as caught:
            load_seed_text(example.replace(wrong, written), "seeds/shop.yml")
        said.append(str(caught.value))
    assert shown == said


# ---------------------------------------------------------------------------- the CLI's --seed-file


def test_emulators_up_seed_file_serves_the_seeded_data(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yml"
    seed.write_text(SEED)
    proc = subprocess.Popen(
        [str(HARNESS), "emulators", "up", "--port-base", "0", "--print-env", "--seed-file", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        env = {}
        deadline = time.monotonic() + 30
        while len(env) < 4 and time.monotonic() < deadline:  # readiness: the env is printed after seeding
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            name, _, value = line.strip().removeprefix("export ").partition("=")
            env[name] = value
        assert set(env) == {"BIGQUERY_EMULATOR_HOST", "KMS_ENDPOINT", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"}
        client = bigquery.Client(
            project="seed-proj",
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=env["BIGQUERY_EMULATOR_HOST"]),
        )
        assert [row.id for row in client.list_rows("seed-proj.sales.orders")] == [1, 2]
        with openai.OpenAI(api_key=USER_KEY, base_url=env["OPENAI_BASE_URL"], max_retries=0) as sdk:
            assert sdk.models.list().data
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        stderr = proc.stderr.read()  # type: ignore[union-attr]
        assert f"# seeded {seed}: 1 dataset, 1 table (2 rows), 1 key ring, 1 crypto key" in stderr
        assert USER_KEY not in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_emulators_up_refuses_a_bad_seed_file_before_starting(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(SEED)
    bad = tmp_path / "bad.yml"
    bad.write_text("kms:\n  key_rings:\n    - nmae: x\n")
    result = subprocess.run(
        [
            str(HARNESS),
            "emulators",
            "up",
            "--port-base",
            "0",
            "--seed-file",
            str(good),
            "--seed-file",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""  # nothing started, nothing printed
    assert result.stderr.startswith(f"error: {bad}:3: kms.key_rings[0].nmae: unknown key 'nmae'"), (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_undo_keeps_a_dataset_that_was_there_and_drops_the_tables_the_seed_added(
    emulators: Emulators,
) -> None:
    assert emulators.engine is not None
    emulators.engine.create_dataset("seed-proj", DatasetSpec("sales"))
    text = SEED.replace("kind: duplicate_row}", "kind: cost_mismatch, model: gpt-5}")
    with pytest.raises(SeedError, match=r"openai\.usage\.corruptions\[0\]\.model"):
        apply_seed(load_seed_text(text, "seed.yml"), emulators)
    assert [d.dataset_id for d in emulators.engine.list_datasets("seed-proj")] == ["sales"]
    assert emulators.engine.list_tables("seed-proj", "sales") == []


def test_a_json_seed_file_loads_like_yaml(tmp_path: Path, emulators: Emulators) -> None:
    path = tmp_path / "seed.json"
    path.write_text(
        json.dumps(
            {
                "anthropic": {
                    "keys": [{"key": "sk-ant-test-json-key-0001", "admin": True}],
                    "usage": {"models": 1, "corruptions": [{"day": "2025-01-02", "kind": "negative_tokens"}]},
                }
            },
            indent=2,
        )
    )
    report = apply_seed(load_seed_file(path), emulators)
    state = emulators.anthropic
    assert state is not None
    assert report.provider_keys == {"anthropic": 1}
    assert state.is_admin("sk-ant-test-json-key-0001")
    # No model given: the fake's first usage model, the one active every day.
    assert [(c.day, c.kind, c.model) for c in state.corruptions] == [
        (date(2025, 1, 2), "negative_tokens", "claude-sonnet-4-20250514")
    ]
