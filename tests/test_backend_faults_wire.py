"""Warehouse and KMS faults on the wire of the emulators, seen by the real google-cloud-bigquery and
google-cloud-kms clients, whose own retries wait on the injected clock (no real sleep anywhere).

Each fault kind is checked twice: the raw HTTP answer of the emulator (status, reason, message, as
BigQuery and Cloud KMS give them) and the port error the adapter raises after the client's retry
policy. The cases the fake tier can answer too run on both tiers, which must agree on the attempts
made and the time the clock moved.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fakes.bigquery import faults as bigquery_faults
from fakes.kms import faults as kms_faults
from harness.backends.emulator import EmulatorBackends, build_emulator
from harness.backends.fake import build_fake
from harness.backends.kms import crc32c
from harness.clock import ManualClock
from harness.control_client import ControlClient, ControlError
from harness.emulators import Emulators
from harness.faults import BackendFault, FaultQueue
from harness.faults.backend import WAREHOUSE_ERRORS
from harness.ports import (
    InsertMode,
    InvalidRequestError,
    KeyManagerError,
    KeyManagerUnavailableError,
    KeyStateError,
    TransientError,
    WarehouseError,
)
from harness.schema.spec import FieldSpec, FieldType, TableSpec
from harness.serve import ServiceProcess
from harness.services.settings import Settings

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
SETTINGS = Settings()
PROJECT = SETTINGS.gcp_project_id
KEY = SETTINGS.kms_key_name
REFUSED = sorted(set(WAREHOUSE_ERRORS) - bigquery_faults.JOB_FAILURES)
RETRIED = {"rate_limit_exceeded", "backend_error", "service_unavailable"}
BQ_DEADLINE_ATTEMPTS, BQ_DEADLINE_MOVE = 15, timedelta(seconds=543)
"""Waits 1, 2, 4, ... 32, then 60 each: the attempt at 543 s is the last one before 600 s."""


class Tier:
    """One tier's backends as these tests drive them: the platform, its fault queue and clock."""

    def __init__(self, name: str, backends: Any, faults: FaultQueue) -> None:
        self.name = name
        self.backends = backends
        self.platform = backends.platform
        self.faults = faults
        self.clock: ManualClock = backends.clock

    def arm(self, port: str, error: str, **spec: Any) -> BackendFault:
        fault = BackendFault(port, error, **spec)  # type: ignore[arg-type]
        self.faults.arm(fault)
        return fault

    def attempts(self) -> int:
        """How many calls the last armed fault has seen (the client's attempts at it)."""
        return self.faults.armed[-1].seen


def _tier(name: str) -> Iterator[Tier]:
    if name == "fake":
        backends: Any = build_fake(clock=ManualClock(NOW))
        faults = backends.faults
    else:
        backends = build_emulator(clock=ManualClock(NOW))
        faults = backends.faults
    with backends:
        yield Tier(name, backends, faults)


@pytest.fixture(params=["fake", "emulator"])
def tier(request: pytest.FixtureRequest) -> Iterator[Tier]:
    yield from _tier(request.param)


@pytest.fixture
def emulator() -> Iterator[Tier]:
    yield from _tier("emulator")


def _bq(tier: Tier) -> str:
    emulators = tier.backends.emulators
    assert isinstance(tier.backends, EmulatorBackends) and emulators is not None
    return f"{emulators.bigquery_url}/bigquery/v2/projects/{PROJECT}"


def _kms(tier: Tier) -> str:
    return f"{tier.backends.emulators.kms_url}/v1/{KEY}"


def _port_class(error: BaseException) -> type:
    """The ``harness.ports`` class of an error: the adapters raise it, the fakes a subclass."""
    return next(cls for cls in type(error).__mro__ if cls.__module__ == "harness.ports")


def _moved(tier: Tier, action: Callable[[], Any]) -> tuple[timedelta, Any]:
    before = tier.clock.now()
    try:
        outcome: Any = action()
    except (WarehouseError, KeyManagerError) as exc:
        outcome = exc
    return tier.clock.now() - before, outcome


# ------------------------------------------------------------------------- warehouse, on the wire
@pytest.mark.parametrize("kind", REFUSED)
def test_each_refusing_warehouse_kind_answers_bigquerys_error_on_the_wire(emulator: Tier, kind: str) -> None:
    fault = emulator.arm("warehouse", kind, operation="get_dataset")
    expected = bigquery_faults.error_for(fault)
    response = httpx.get(f"{_bq(emulator)}/datasets/anything")
    assert response.status_code == expected.status
    error = response.json()["error"]
    assert error["code"] == expected.status and error["message"] == expected.message
    assert error["errors"] == [{"message": expected.message, "domain": "global", "reason": expected.reason}]
    assert error["status"] == {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED"}.get(
        expected.status, {500: "INTERNAL", 503: "UNAVAILABLE"}.get(expected.status)
    )
    # The next request is through: a fault answers once unless told otherwise.
    assert (
        httpx.get(f"{_bq(emulator)}/datasets/anything").json()["error"]["errors"][0]["reason"] == "notFound"
    )


@pytest.mark.parametrize("kind", REFUSED)
def test_the_adapter_raises_the_fakes_port_error_after_the_clients_own_retries(tier: Tier, kind: str) -> None:
    """Every call fails: retried kinds are retried until the client's 600 s deadline, the others
    fail at once; both tiers raise the same port error after the same attempts."""
    tier.platform.warehouse.create_dataset("kept")
    fault = tier.arm("warehouse", kind, operation="get_dataset", times=None)
    expected = bigquery_faults.error_for(fault)
    moved, error = _moved(tier, lambda: tier.platform.warehouse.get_dataset("kept"))
    assert _port_class(error) is _port_class(expected)
    assert (error.status, error.reason, error.message) == (expected.status, expected.reason, expected.message)
    if kind in RETRIED:
        assert (tier.attempts(), moved) == (BQ_DEADLINE_ATTEMPTS, BQ_DEADLINE_MOVE)
    else:
        assert (tier.attempts(), moved) == (1, timedelta(0))


def test_down_for_20_seconds_the_client_outlasts_it_on_the_clock(tier: Tier) -> None:
    tier.arm("warehouse", "service_unavailable", operation="create_dataset", for_seconds=20)
    moved, info = _moved(tier, lambda: tier.platform.warehouse.create_dataset("late"))
    assert info.dataset_id == "late"
    assert moved == timedelta(seconds=1 + 2 + 4 + 8 + 16) and tier.attempts() == 6


def test_down_for_700_seconds_the_client_gives_up_at_its_deadline(tier: Tier) -> None:
    tier.arm("warehouse", "service_unavailable", operation="create_dataset", for_seconds=700)
    moved, error = _moved(tier, lambda: tier.platform.warehouse.create_dataset("never"))
    assert isinstance(error, TransientError) and error.status == 503 and error.reason == "backendError"
    assert error.message == "Error encountered during execution. Retrying may solve the problem."
    assert (tier.attempts(), moved) == (BQ_DEADLINE_ATTEMPTS, BQ_DEADLINE_MOVE)
    assert tier.platform.warehouse.list_datasets() == []


def test_a_job_that_fails_with_job_backend_error_is_run_again(tier: Tier) -> None:
    tier.arm("warehouse", "job_failed", operation="query")
    moved, result = _moved(tier, lambda: tier.platform.warehouse.query("SELECT 7 AS n"))
    assert result.rows == [{"n": 7}]
    assert (tier.attempts(), moved) == (2, timedelta(seconds=1))


def test_a_failed_ddl_job_is_run_again_on_the_clock(emulator: Tier) -> None:
    """Query jobs (jobs.insert, here a CREATE TABLE) are re-run by the job retry as well."""
    emulator.platform.warehouse.create_dataset("ddl")
    emulator.arm("warehouse", "job_failed", operation="ddl")
    sql = f"CREATE TABLE `{PROJECT}.ddl.made` (id INT64)"
    moved, result = _moved(emulator, lambda: emulator.platform.warehouse.query(sql))
    assert result.statement_type == "CREATE_TABLE"
    assert (emulator.attempts(), moved) == (2, timedelta(seconds=1))
    assert emulator.platform.warehouse.get_table("ddl", "made").table_id == "made"


def test_a_job_that_times_out_fails_at_once_and_for_good(tier: Tier) -> None:
    tier.arm("warehouse", "timeout", operation="query")
    moved, error = _moved(tier, lambda: tier.platform.warehouse.query("SELECT 1"))
    expected = bigquery_faults.error_for(BackendFault("warehouse", "timeout"))  # type: ignore[arg-type]
    assert _port_class(error) is InvalidRequestError and (error.status, error.reason) == (400, "timeout")
    assert error.message == expected.message
    assert (tier.attempts(), moved) == (1, timedelta(0))


def test_a_failed_job_is_accepted_then_reported_when_polled(emulator: Tier) -> None:
    """jobs.query accepts the job; getQueryResults answers the error, jobs.get the DONE job with
    its errorResult; polling is not a call, so the fault (times 1) is spent on jobs.query alone."""
    emulator.arm("warehouse", "job_failed", operation="query")
    expected = bigquery_faults.error_for(BackendFault("warehouse", "job_failed"))  # type: ignore[arg-type]
    accepted = httpx.post(f"{_bq(emulator)}/queries", json={"query": "SELECT 1", "useLegacySql": False})
    assert accepted.status_code == 200
    body = accepted.json()
    assert body["jobComplete"] is False and "rows" not in body
    job_id = body["jobReference"]["jobId"]
    results = httpx.get(f"{_bq(emulator)}/queries/{job_id}")
    assert results.status_code == 400
    assert results.json()["error"]["errors"][0] == {
        "message": expected.message,
        "domain": "global",
        "reason": "jobBackendError",
    }
    status = httpx.get(f"{_bq(emulator)}/jobs/{job_id}").json()["status"]
    assert status["state"] == "DONE"
    assert status["errorResult"]["reason"] == "jobBackendError"
    assert status["errorResult"]["message"] == expected.message
    assert emulator.faults.pending() == [] and emulator.attempts() == 1


def test_a_failing_inserted_job_is_running_until_polled(emulator: Tier) -> None:
    emulator.arm("warehouse", "timeout", operation="query")
    job = {"configuration": {"query": {"query": "SELECT 1", "useLegacySql": False}}}
    inserted = httpx.post(f"{_bq(emulator)}/jobs", json=job).json()
    assert inserted["status"] == {"state": "RUNNING"}
    job_id = inserted["jobReference"]["jobId"]
    polled = httpx.get(f"{_bq(emulator)}/jobs/{job_id}").json()["status"]
    assert polled["state"] == "DONE" and polled["errorResult"]["reason"] == "timeout"
    cancelled = httpx.post(f"{_bq(emulator)}/jobs/{job_id}/cancel").json()
    assert cancelled["kind"] == "bigquery#jobCancelResponse" and cancelled["job"]["status"]["state"] == "DONE"


def test_streaming_inserts_and_tables_are_aimed_by_table(emulator: Tier) -> None:
    warehouse = emulator.platform.warehouse
    warehouse.create_dataset("aim")
    for name in ("a", "b"):
        warehouse.create_table("aim", TableSpec(name, (FieldSpec("id", FieldType.INTEGER),)))
    emulator.arm("warehouse", "quota_exceeded", operation="insert_rows", table="b")
    assert warehouse.insert_rows("aim", "a", [{"id": 1}], mode=InsertMode.STREAMING) == 1
    with pytest.raises(TransientError) as refused:
        warehouse.insert_rows("aim", "b", [{"id": 1}], mode=InsertMode.STREAMING)
    assert refused.value.reason == "quotaExceeded"
    assert warehouse.insert_rows("aim", "b", [{"id": 2}], mode=InsertMode.STREAMING) == 1


# ------------------------------------------------------------------------------------- KMS
def test_kms_unavailable_is_retried_by_the_client_on_the_clock(tier: Tier) -> None:
    tier.arm("kms", "unavailable", operation="encrypt", times=2)
    moved, result = _moved(tier, lambda: tier.platform.keys.encrypt(b"secret", aad=b"org"))
    assert tier.platform.keys.decrypt(result.ciphertext, aad=b"org") == b"secret"
    assert tier.attempts() == 3 and moved == timedelta(seconds=0.1 + 0.13)


def test_kms_resource_exhausted_is_not_retried(tier: Tier) -> None:
    tier.arm("kms", "resource_exhausted", operation="decrypt")
    ciphertext = tier.platform.keys.encrypt(b"secret").ciphertext
    moved, error = _moved(tier, lambda: tier.platform.keys.decrypt(ciphertext))
    assert _port_class(error) is KeyManagerUnavailableError
    assert (error.status, error.code) == (429, "RESOURCE_EXHAUSTED")
    assert "'cloudkms.googleapis.com/crypto_requests'" in error.message
    assert (tier.attempts(), moved) == (1, timedelta(0))


@pytest.mark.parametrize(("operation", "method"), [("encrypt", "Encrypt"), ("decrypt", "Decrypt")])
def test_a_crc32c_mismatch_is_caught_by_the_adapters_own_check(
    tier: Tier, operation: str, method: str
) -> None:
    ciphertext = tier.platform.keys.encrypt(b"secret").ciphertext
    tier.arm("kms", "crc32c_mismatch", operation=operation)
    call = (
        (lambda: tier.platform.keys.encrypt(b"secret"))
        if operation == "encrypt"
        else (lambda: tier.platform.keys.decrypt(ciphertext))
    )
    _, error = _moved(tier, call)
    assert type(error) is KeyManagerUnavailableError and error.code == "DATA_LOSS"
    assert error.message == f"{method}: response corrupted in-transit"


def test_a_crc32c_mismatch_aimed_at_every_call_hits_the_first_checksummed_one(tier: Tier) -> None:
    """A GetCryptoKey response has no checksum to get wrong: the fault waits for encrypt."""
    tier.arm("kms", "crc32c_mismatch")
    version = tier.platform.keys.primary_version()
    _, error = _moved(tier, lambda: tier.platform.keys.encrypt(b"secret"))
    assert version.endswith("/cryptoKeyVersions/1") and error.code == "DATA_LOSS"
    with pytest.raises(ValueError, match="crc32c_mismatch hits only decrypt, encrypt"):
        BackendFault("kms", "crc32c_mismatch", operation="get_crypto_key")  # type: ignore[arg-type]


def test_a_crc32c_mismatch_on_the_wire_is_a_wrong_response_checksum(emulator: Tier) -> None:
    emulator.arm("kms", "crc32c_mismatch", operation="encrypt")
    answer = httpx.post(f"{_kms(emulator)}:encrypt", json={"plaintext": "c2VjcmV0"})
    assert answer.status_code == 200
    body = answer.json()
    assert int(body["ciphertextCrc32c"]) != crc32c(base64.b64decode(body["ciphertext"]))


@pytest.mark.parametrize(("kind", "state"), [("key_disabled", "DISABLED"), ("key_destroyed", "DESTROYED")])
def test_a_disabled_or_destroyed_key_is_failed_precondition_with_the_real_text(
    tier: Tier, kind: str, state: str
) -> None:
    version = tier.platform.keys.primary_version()
    tier.arm("kms", kind, operation="encrypt")
    _, error = _moved(tier, lambda: tier.platform.keys.encrypt(b"secret"))
    assert _port_class(error) is KeyStateError and (error.status, error.code) == (400, "FAILED_PRECONDITION")
    assert error.message == f"{version} is not enabled, current state is: {state}."


def test_kms_errors_on_the_wire_are_cloud_kms_json_errors(emulator: Tier) -> None:
    version = emulator.platform.keys.primary_version()
    for kind in ("unavailable", "deadline_exceeded", "resource_exhausted", "key_disabled"):
        fault = emulator.arm("kms", kind, operation="get_crypto_key")
        expected = kms_faults.error_for(fault, None, version=version)
        answer = httpx.get(_kms(emulator))
        assert answer.status_code == expected.status
        assert answer.json() == {
            "error": {"code": expected.status, "message": expected.message, "status": expected.code}
        }


def test_deadline_exceeded_over_rest_is_not_retried_by_the_real_client(emulator: Tier) -> None:
    """Over REST the client raises a 504 as ``GatewayTimeout``, which its predicate
    (``DeadlineExceeded`` or ``ServiceUnavailable``) does not retry: the adapter's transport."""
    emulator.arm("kms", "deadline_exceeded", operation="encrypt")
    moved, error = _moved(emulator, lambda: emulator.platform.keys.encrypt(b"secret"))
    assert type(error) is KeyManagerUnavailableError and (error.status, error.code) == (
        504,
        "DEADLINE_EXCEEDED",
    )
    assert (emulator.attempts(), moved) == (1, timedelta(0))


def test_kms_unavailable_past_the_deadline_is_the_last_real_error(emulator: Tier) -> None:
    emulator.arm("kms", "unavailable", operation="get_crypto_key", times=None)
    moved, error = _moved(emulator, emulator.platform.keys.primary_version)
    assert type(error) is KeyManagerUnavailableError and (error.status, error.code) == (503, "UNAVAILABLE")
    assert error.message == "The service is currently unavailable."
    assert timedelta(seconds=0) < moved <= timedelta(seconds=60)


# ------------------------------------------------------------------------------- control routes
@pytest.fixture(scope="module")
def served() -> Iterator[Emulators]:
    with Emulators(clock=ManualClock(NOW), settings=SETTINGS) as emulators:
        yield emulators


@pytest.fixture
def control(served: Emulators) -> Iterator[ControlClient]:
    with ControlClient(served.kms_url) as client:
        client.reset()
        yield client


def test_control_arms_lists_and_clears_backend_faults(served: Emulators, control: ControlClient) -> None:
    armed = control.add_backend_fault(
        "warehouse", error="rate_limit_exceeded", operation="get_dataset", times=2
    )
    assert armed == {
        "port": "warehouse",
        "pending": [
            {
                "port": "warehouse",
                "error": "rate_limit_exceeded",
                "operation": "get_dataset",
                "times": 2,
                "after": 0,
                "seen": 0,
                "fired": 0,
                "done": False,
            }
        ],
    }
    control.add_backend_fault("kms", error="unavailable", for_seconds=20)
    control.add_fault("openai", status=503)
    refused = httpx.get(f"{served.bigquery_url}/bigquery/v2/projects/{PROJECT}/datasets/x")
    assert (
        refused.status_code == 403 and refused.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    )
    listed = control.faults()
    assert [(f["port"], f["fired"]) for f in listed["backend"]] == [("warehouse", 1), ("kms", 0)]
    assert listed["backend"][1]["for_seconds"] == 20 and "times" not in listed["backend"][1]
    assert [f["status"] for f in listed["providers"]["openai"]] == [503]
    assert listed["providers"]["anthropic"] == []
    assert control.clear_faults("kms") == 1
    assert [f["port"] for f in control.faults()["backend"]] == ["warehouse"]
    assert control.clear_faults() == 2  # the warehouse fault and the provider's
    assert control.faults() == {"backend": [], "providers": {"openai": [], "anthropic": []}}
    assert httpx.get(f"{served.bigquery_url}/bigquery/v2/projects/{PROJECT}/datasets/x").status_code == 404


def test_a_reset_drops_armed_faults(served: Emulators, control: ControlClient) -> None:
    control.add_backend_fault("kms", error="key_destroyed")
    control.reset()
    assert control.faults()["backend"] == [] and served.faults.pending() == []


def test_bad_backend_faults_are_refused_naming_the_choices(control: ControlClient) -> None:
    with pytest.raises(ControlError) as err:
        control.add_backend_fault("warehouse", error="meteor_strike")
    assert err.value.status == 400 and err.value.code == "INVALID_REQUEST"
    assert "meteor_strike" in err.value.message and "service_unavailable" in err.value.message
    with pytest.raises(ControlError) as err:
        control.add_backend_fault("kms", error="unavailable", operation="sign")
    assert err.value.status == 400 and "get_crypto_key" in err.value.message
    with pytest.raises(ControlError) as err:
        control.add_backend_fault("kms", error="unavailable", table="org_profiles")
    assert err.value.status == 400 and "table" in err.value.message
    with pytest.raises(ControlError) as err:
        control.add_backend_fault("bigtable", error="unavailable")
    assert err.value.status == 422 and "warehouse" in err.value.message
    with pytest.raises(ControlError) as err:
        control.add_backend_fault("kms", error="unavailable", retries=3)
    assert err.value.status == 422 and "retries" in err.value.message
    with pytest.raises(ControlError) as err:
        control.add_backend_fault("kms", error="unavailable", for_seconds=0)
    assert err.value.status == 422 and "for_seconds" in err.value.message


def test_serves_control_arms_faults_at_the_fake_tiers_ports() -> None:
    with ServiceProcess(seed=2) as services, ControlClient(services.api_url) as control:
        control.add_backend_fault("warehouse", error="quota_exceeded", operation="query")
        counted = httpx.get(
            f"{services.api_url}/_harness/rows/org_profiles",
            params={"org_slug": "nobody"},
            headers={"X-CA-Root-Key": services.root_key},
        )
        assert counted.status_code == 503
        assert (
            counted.json()["error"] == "WAREHOUSE_UNAVAILABLE"
            and "Quota exceeded" in counted.json()["message"]
        )
        assert control.faults()["backend"] == []  # spent
        control.add_backend_fault("kms", error="unavailable", times=3)
        assert [f["error"] for f in control.faults()["backend"]] == ["unavailable"]
        assert control.clear_faults("kms") == 1 and control.faults()["backend"] == []
        control.add_backend_fault("warehouse", error="backend_error")
        control.reset()
        assert control.faults()["backend"] == []
