"""The control plane of ``harness emulators up`` (:class:`harness.emulators.Emulators`), driven by
the Python :class:`~harness.control_client.ControlClient` over real HTTP, with the real Google and
provider clients writing and reading the state it resets, faults and reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import openai
import pytest
from fastapi.testclient import TestClient
from google.api_core.exceptions import NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, kms_v1

from harness.clock import ManualClock, SystemClock
from harness.control.app import control_app
from harness.control.target import Controlled
from harness.control_client import ControlClient, ControlError
from harness.emulators import EMULATORS, Emulators
from harness.seeding import serve_seed_files
from harness.services.settings import Settings

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
SEED = 5
PROJECT = Settings().gcp_project_id
LOCATION = f"projects/{PROJECT}/locations/global"


@pytest.fixture(scope="module")
def emulators() -> Iterator[Emulators]:
    with Emulators(clock=ManualClock(NOW), seed=SEED) as served:
        yield served


@pytest.fixture
def control(emulators: Emulators) -> Iterator[ControlClient]:
    """The client on the BigQuery port, with state reset before the test (through itself)."""
    with ControlClient(emulators.bigquery_url) as client:
        client.reset()
        yield client


@pytest.fixture
def bq(emulators: Emulators) -> Iterator[bigquery.Client]:
    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulators.bigquery_url},
    )
    yield client
    client.close()


@pytest.fixture
def kms(emulators: Emulators) -> Iterator[kms_v1.KeyManagementServiceClient]:
    client = kms_v1.KeyManagementServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulators.kms_url},
    )
    yield client
    client.transport.close()


def _events_table(bq: bigquery.Client) -> bigquery.Table:
    bq.create_dataset("sales")
    table = bigquery.Table(
        f"{PROJECT}.sales.events",
        schema=[
            bigquery.SchemaField("ts", "TIMESTAMP", mode="REQUIRED"),
            bigquery.SchemaField("customer", "STRING"),
            bigquery.SchemaField("amount", "NUMERIC"),
            bigquery.SchemaField("blob", "BYTES"),
        ],
    )
    table.time_partitioning = bigquery.TimePartitioning(field="ts")
    table.clustering_fields = ["customer"]
    return bq.create_table(table)


# ---------------------------------------------------------------------------------- every port
def test_every_port_answers_the_same_controls(emulators: Emulators) -> None:
    for name in EMULATORS:
        with ControlClient(emulators.url(name)) as client:
            info = client.info()
        assert info.tier == "emulator" and info.seed == SEED
        assert info.urls == {n: emulators.url(n) for n in EMULATORS}
        assert info.clock == emulators.clock.now()


def test_the_root_key_is_required_and_errors_are_structured(emulators: Emulators) -> None:
    for name in EMULATORS:
        missing = httpx.get(f"{emulators.url(name)}/_harness/clock")
        assert missing.status_code == 401
        assert missing.json()["error"] == "UNAUTHENTICATED" and missing.json()["error_id"]
    wrong = ControlClient(emulators.kms_url, root_key="not-the-key")
    with wrong, pytest.raises(ControlError) as err:
        wrong.info()
    assert err.value.status == 401 and err.value.message == "Invalid root key"
    assert "not-the-key" not in json.dumps(err.value.body)


def test_no_control_route_is_in_any_openapi_document(emulators: Emulators) -> None:
    for name in EMULATORS:
        document = httpx.get(f"{emulators.url(name)}/openapi.json")
        if document.status_code == 200:
            assert not [path for path in document.json()["paths"] if path.startswith("/_harness")]
        controls_doc = httpx.get(f"{emulators.url(name)}/_harness/openapi.json")
        assert controls_doc.status_code in (401, 404)
        authorised = httpx.get(
            f"{emulators.url(name)}/_harness/openapi.json", headers={"X-CA-Root-Key": "local-root-key"}
        )
        assert authorised.status_code == 404 and authorised.json()["error"] == "NOT_FOUND"


def test_bad_requests_name_the_field(control: ControlClient) -> None:
    with pytest.raises(ControlError) as err:
        control.add_fault("openai", times=1)
    assert err.value.status == 400 and "exactly one of status or timeout" in err.value.message
    with pytest.raises(ControlError) as err:
        control.add_fault("openai", status=200)
    assert err.value.status == 400 and "4xx or 5xx" in err.value.message
    with pytest.raises(ControlError) as err:
        control.mint_key("mistral")
    assert err.value.status == 422 and err.value.code == "VALIDATION_ERROR"
    with pytest.raises(ControlError) as err:
        control.rows("sales", "events", max_results=0)
    assert err.value.status == 422 and "max_results" in err.value.message


# ------------------------------------------------------------------------------------- reset
def test_reset_wipes_bigquery_kms_and_provider_state(
    emulators: Emulators,
    control: ControlClient,
    bq: bigquery.Client,
    kms: kms_v1.KeyManagementServiceClient,
) -> None:
    table = _events_table(bq)
    assert bq.insert_rows_json(table, [{"ts": "2025-03-10T00:00:00Z", "customer": "a"}]) == []
    kms.create_key_ring(request={"parent": LOCATION, "key_ring_id": "scratch", "key_ring": {}})
    key = control.mint_key("openai", admin=False)
    control.add_fault("anthropic", status=529)
    configured_ring = Settings().kms_key_name.partition("/cryptoKeys/")[0]
    assert {r.name for r in control.key_rings()} == {configured_ring, f"{LOCATION}/keyRings/scratch"}

    control.reset()

    assert control.datasets() == []
    with pytest.raises(NotFound):
        bq.get_table(table.reference)
    assert [r.name for r in control.key_rings()] == [configured_ring]
    assert control.keys("openai") == [] and control.faults("anthropic") == []
    sdk = openai.OpenAI(api_key=key, base_url=emulators.openai_url + "/v1", max_retries=0)
    with sdk, pytest.raises(openai.AuthenticationError):
        sdk.models.list()
    assert control.info().seed == SEED  # the same seed: the same keys get minted again
    assert control.mint_key("openai", admin=False) == key


# ------------------------------------------------------------------------------------- clock
def test_advancing_the_clock_moves_the_emulators_time(
    emulators: Emulators, control: ControlClient, kms: kms_v1.KeyManagementServiceClient
) -> None:
    before = control.now()
    assert before == emulators.clock.now()
    moved = control.advance(timedelta(days=2, hours=3))
    assert moved == before + timedelta(days=2, hours=3) == emulators.clock.now()
    ring = kms.create_key_ring(request={"parent": LOCATION, "key_ring_id": "later", "key_ring": {}})
    assert ring.create_time == moved
    backwards = httpx.post(
        f"{emulators.kms_url}/_harness/clock/advance",
        headers={"X-CA-Root-Key": "local-root-key"},
        json={"seconds": -1},
    )
    assert backwards.status_code == 422 and "seconds" in backwards.json()["message"]
    assert control.now() == moved


# ----------------------------------------------------------------------------------- providers
def test_minted_keys_work_with_the_real_sdk_and_are_listed_masked(
    emulators: Emulators, control: ControlClient
) -> None:
    key = control.mint_key("openai", admin=False)
    admin = control.mint_key("openai")
    with openai.OpenAI(api_key=key, base_url=emulators.openai_url + "/v1", max_retries=0) as sdk:
        assert [model.id for model in sdk.models.list()]
    stranger = openai.OpenAI(api_key="sk-never-minted-0000", base_url=emulators.openai_url + "/v1")
    with stranger, pytest.raises(openai.AuthenticationError):
        stranger.with_options(max_retries=0).models.list()
    listed = control.keys("openai")
    assert sorted(k.admin for k in listed) == [False, True]
    assert all(k.key not in (key, admin) and "*" in k.key for k in listed)
    assert {k.key[:8] for k in listed} == {key[:8], admin[:8]}


def test_faults_queue_list_and_clear(emulators: Emulators, control: ControlClient) -> None:
    key = control.mint_key("openai", admin=False)
    assert control.add_fault("openai", status=503, times=3, retry_after=2) == 1
    assert control.add_fault("openai", timeout=True) == 2
    faults = control.faults("openai")
    assert [(f.status, f.timeout, f.remaining) for f in faults] == [(503, False, 3), (None, True, 1)]
    assert faults[0].retry_after == 2
    with openai.OpenAI(api_key=key, base_url=emulators.openai_url + "/v1", max_retries=0) as sdk:
        with pytest.raises(openai.InternalServerError):
            sdk.models.list()
        assert control.faults("openai")[0].remaining == 2
        assert control.clear_faults("openai") == 2
        assert control.faults("openai") == []
        assert sdk.models.list().data


# ---------------------------------------------------------------------------------- state reads
def test_bigquery_reads_match_what_the_real_client_wrote(control: ControlClient, bq: bigquery.Client) -> None:
    table = _events_table(bq)
    written = [
        {"ts": f"2025-03-0{day}T10:00:00Z", "customer": f"c{day}", "amount": "12.50", "blob": "AAE="}
        for day in range(1, 6)
    ]
    assert bq.insert_rows_json(table, written) == []

    assert control.datasets() == ["sales"]
    [listed] = control.tables("sales")
    described = control.table("sales", "events")
    assert listed == described
    assert [(f["name"], f["type"], f["mode"]) for f in described.schema] == [
        ("ts", "TIMESTAMP", "REQUIRED"),
        ("customer", "STRING", "NULLABLE"),
        ("amount", "NUMERIC", "NULLABLE"),
        ("blob", "BYTES", "NULLABLE"),
    ]
    assert described.time_partitioning is not None and described.time_partitioning["field"] == "ts"
    assert described.clustering_fields == ["customer"]

    first = control.rows("sales", "events", max_results=2)
    assert first.total_rows == 5 and first.next_start == 2
    assert first.rows[0] == {
        "ts": "2025-03-01T10:00:00+00:00",
        "customer": "c1",
        "amount": "12.5",
        "blob": "AAE=",
    }
    rest = control.rows("sales", "events", start=first.next_start or 0, max_results=10)
    assert rest.next_start is None
    customers = [row["customer"] for row in first.rows + rest.rows]
    assert customers == [row["customer"] for row in bq.list_rows(table)] == ["c1", "c2", "c3", "c4", "c5"]

    with pytest.raises(ControlError) as err:
        control.rows("sales", "missing")
    assert err.value.status == 404 and err.value.code == "NOT_FOUND" and "missing" in err.value.message
    assert control.datasets(project="another-project") == []


def test_kms_reads_show_rings_keys_and_version_states_but_no_material(
    emulators: Emulators, control: ControlClient, kms: kms_v1.KeyManagementServiceClient
) -> None:
    ring = kms.create_key_ring(request={"parent": LOCATION, "key_ring_id": "app", "key_ring": {}})
    key = kms.create_crypto_key(
        request={
            "parent": ring.name,
            "crypto_key_id": "data",
            "crypto_key": {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT},
        }
    )
    second = kms.create_crypto_key_version(request={"parent": key.name, "crypto_key_version": {}})
    kms.destroy_crypto_key_version(request={"name": second.name})

    [read] = [r for r in control.key_rings() if r.name == ring.name]
    [data] = read.keys
    assert data.name == key.name and data.purpose == "ENCRYPT_DECRYPT"
    assert data.primary == f"{key.name}/cryptoKeyVersions/1"
    assert [(v.name.rsplit("/", 1)[1], v.state) for v in data.versions] == [
        ("1", "ENABLED"),
        ("2", "DESTROY_SCHEDULED"),
    ]
    assert {v.algorithm for v in data.versions} == {"GOOGLE_SYMMETRIC_ENCRYPTION"}

    raw = httpx.get(
        f"{emulators.kms_url}/_harness/kms/keyRings", headers={"X-CA-Root-Key": "local-root-key"}
    ).json()
    version_fields = {name for r in raw["key_rings"] for k in r["keys"] for v in k["versions"] for name in v}
    assert version_fields <= {"name", "state", "algorithm", "protectionLevel", "createTime", "destroyTime"}
    with pytest.raises(ControlError) as err:
        control.key_rings(location="projects/x")
    assert err.value.status == 422


# ------------------------------------------------------------------------------- nothing to control
def test_a_process_with_nothing_of_ours_behind_it_answers_409() -> None:
    """The gcp tier's shape: real time, no emulator state. Every control that would need some says
    so with a 409 rather than pretending."""
    controlled = Controlled(
        info=lambda: {"tier": "gcp", "seed": None, "urls": {}},
        clock=SystemClock,
        bigquery=lambda: None,
        kms=lambda: None,
        providers=lambda: {},
        reset=None,
        project=PROJECT,
        kms_location=LOCATION,
    )
    with TestClient(control_app(controlled, Settings())) as http:
        root = {"X-CA-Root-Key": "local-root-key"}
        assert http.get("/_harness", headers=root).json()["tier"] == "gcp"
        for method, path in [
            ("POST", "/_harness/reset"),
            ("POST", "/_harness/clock/advance"),
            ("POST", "/_harness/providers/openai/keys"),
            ("DELETE", "/_harness/providers/anthropic/faults"),
            ("GET", "/_harness/bigquery/datasets"),
            ("GET", "/_harness/kms/keyRings"),
            ("POST", "/_harness/seed"),
            ("GET", "/_harness/faults"),
            ("DELETE", "/_harness/faults"),
            ("DELETE", "/_harness/faults/kms"),
        ]:
            response = http.request(method, path, headers=root, json={} if method == "POST" else None)
            assert response.status_code == 409, (path, response.text)
            assert response.json()["error"] == "CONFLICT" and response.json()["error_id"]
        armed = http.post("/_harness/faults/warehouse", headers=root, json={"error": "backend_error"})
        assert armed.status_code == 409 and armed.json()["error"] == "CONFLICT"
        assert http.get("/openapi.json").status_code == 404


SEED = f"""
bigquery:
  projects:
    {PROJECT}:
      datasets:
        shop:
          tables:
            orders:
              schema: [{{name: id, type: INT64, mode: REQUIRED}}, {{name: customer, type: STRING}}]
              rows: [{{id: 1, customer: acme}}, {{id: 2, customer: globex}}]
kms:
  key_rings:
    - name: {LOCATION}/keyRings/seeded
      keys: [{{id: payments}}]
openai:
  keys: [{{name: billing, admin: true}}]
"""


def test_seed_files_over_http_are_read_back_and_their_keys_work(
    emulators: Emulators, control: ControlClient
) -> None:
    with pytest.raises(ControlError) as refused:
        control.seed(SEED)
    assert refused.value.status == 409, "emulators nothing wired seeding to refuse seed files"

    serve_seed_files(emulators)
    try:
        report = control.seed(SEED)
    finally:
        emulators.seeder = None
    assert report["tables"] == {f"{PROJECT}:shop.orders": 2}
    assert report["crypto_keys"] == [f"{LOCATION}/keyRings/seeded/cryptoKeys/payments"]
    assert [row["customer"] for row in control.rows("shop", "orders").rows] == ["acme", "globex"]
    assert any(
        key.name.startswith(report["crypto_keys"][0]) for ring in control.key_rings() for key in ring.keys
    )
    minted = report["minted"]["openai"]["billing"]
    client = openai.OpenAI(api_key=minted, base_url=f"{emulators.openai_url}/v1", max_retries=0)
    assert [model.id for model in client.models.list()]


def test_a_broken_seed_over_http_is_a_structured_400_naming_the_line_and_creates_nothing(
    emulators: Emulators, control: ControlClient
) -> None:
    broken = SEED.replace("rows: [{id: 1,", "rows: [{id: x,")
    serve_seed_files(emulators)
    try:
        with pytest.raises(ControlError) as refused:
            control.seed(broken)
        with pytest.raises(ControlError) as refused_json:
            control.seed(
                json.dumps({"bigquery": {"projects": {PROJECT: {"datasets": {"shop": {"nope": 1}}}}}}),
                json=True,
            )
    finally:
        emulators.seeder = None
    assert (refused.value.status, refused.value.code) == (400, "SEED_INVALID")
    assert refused.value.message.startswith("POST /_harness/seed body.yml:10: ")
    assert "rows[0].id" in refused.value.message and refused.value.error_id
    assert refused_json.value.code == "SEED_INVALID" and "body.json:1: " in refused_json.value.message
    assert control.datasets() == []
    assert [ring.name for ring in control.key_rings() if ring.name.endswith("/seeded")] == []
