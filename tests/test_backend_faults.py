"""Warehouse and KMS faults as scenarios arm them: the vocabulary, the aiming (operation, table,
count, clock window), and on the fake tier the Google clients' own retry policies deciding what a
fault does to a request (the emulator tier's wire faults: ``tests/test_backend_faults_wire.py``).

Time is the manual clock: a retry wait moves it, so "BigQuery is down for 20 s" is 20 s of the
clock and costs nothing here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fakes.bigquery import exceptions as bq
from fakes.bigquery import faults as bigquery_faults
from fakes.kms import exceptions as kms
from fakes.kms import faults as kms_faults
from harness.backends import build_backends
from harness.backends.client_retry import BIGQUERY_JOB_RETRY, BIGQUERY_RETRY, KMS_RETRY, backoff
from harness.clock import ManualClock
from harness.faults import BackendFault, FaultQueue, FaultSpecError, Port, PortCall
from harness.faults.backend import KMS_ERRORS, WAREHOUSE_ERRORS
from harness.faults.calls import sql_call, warehouse_call
from harness.ports import (
    InsertMode,
    InvalidRequestError,
    KeyManagerError,
    KeyManagerUnavailableError,
    KeyStateError,
    TransientError,
)
from harness.scenario.model import Scenario, Tier
from harness.scenario.outcome import ScenarioUsageError
from harness.scenario.preflight import check_scenario
from harness.services.settings import Settings
from tests.real_errors import assert_real_error as assert_error

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
VERSION = "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1"


def _queue() -> tuple[FaultQueue, ManualClock]:
    clock = ManualClock(NOW)
    return FaultQueue(lambda: clock), clock


def _call(*operations: str, tables: tuple[str, ...] = ()) -> PortCall:
    return PortCall(Port.WAREHOUSE, frozenset(operations), frozenset(tables))


# ----------------------------------------------------------------------------- vocabulary


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"error": "backend_eror"}, "unknown warehouse error 'backend_eror'"),
        ({"error": "backend_error", "operation": "select"}, "unknown warehouse operation 'select'"),
        ({"error": "backend_error", "times": 0}, "times must be at least 1"),
        ({"error": "backend_error", "after": -1}, "after must not be negative"),
        ({"error": "backend_error", "for_seconds": 0}, "for_seconds must be positive"),
    ],
)
def test_a_fault_that_cannot_fire_as_asked_is_refused(fields: dict, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        BackendFault(port=Port.WAREHOUSE, **fields)


@pytest.mark.parametrize(
    ("port", "kind"), [(Port.WAREHOUSE, k) for k in WAREHOUSE_ERRORS] + [(Port.KMS, k) for k in KMS_ERRORS]
)
def test_every_fault_kind_answers_the_services_error(port: Port, kind: str) -> None:
    fault = BackendFault(port=port, error=kind)
    if port is Port.WAREHOUSE:
        warehouse_error = bigquery_faults.error_for(fault)
        assert isinstance(warehouse_error, bq.BigQueryError) and warehouse_error.reason  # type: ignore[attr-defined]
    else:
        kms_error = kms_faults.error_for(fault, None, version=VERSION)
        assert isinstance(kms_error, KeyManagerError) and kms_error.code


def test_kms_faults_are_not_aimed_at_tables() -> None:
    with pytest.raises(FaultSpecError, match="table: aims warehouse faults only"):
        BackendFault(port=Port.KMS, error="unavailable", table="org_profiles")


@pytest.mark.parametrize(
    ("sql", "operations", "tables"),
    [
        ("SELECT * FROM `p.d.org_profiles` WHERE x = 1", {"query"}, {"org_profiles"}),
        ("  -- note\nWITH a AS (SELECT 1) SELECT * FROM a", {"query"}, set()),
        ("INSERT INTO `p.d.org_audit_logs` (a) VALUES (1)", {"dml", "insert_rows"}, {"org_audit_logs"}),
        ("update `p.d.org_meta_pipeline_runs` SET a = 1", {"dml"}, {"org_meta_pipeline_runs"}),
        ("DELETE FROM `p.d.t1` WHERE x IN (SELECT x FROM `p.d.t2`)", {"dml"}, {"t1", "t2"}),
        ("MERGE `p.d.t` USING `p.d.s` ON TRUE WHEN MATCHED THEN DELETE", {"dml"}, {"t", "s"}),
        ("CREATE TABLE `p.d.new` (a INT64)", {"ddl"}, {"new"}),
    ],
)
def test_sql_is_aimed_at_by_statement_kind_and_the_tables_it_names(
    sql: str, operations: set[str], tables: set[str]
) -> None:
    call = sql_call(sql)
    assert (set(call.operations), set(call.tables)) == (operations, tables)


def test_port_calls_use_the_same_words_as_the_wire() -> None:
    rows = warehouse_call("insert_rows", ("meta", "org_profiles", []), {"mode": InsertMode.DML})
    streamed = warehouse_call("insert_rows", ("meta", "org_profiles", []), {"mode": InsertMode.STREAMING})
    assert rows is not None and streamed is not None
    assert set(rows.operations) == {"insert_rows", "dml"} and set(rows.tables) == {"org_profiles"}
    assert set(streamed.operations) == {"insert_rows"}
    created = warehouse_call("create_dataset", ("acme_local",), {})
    assert created is not None and set(created.operations) == {"create_dataset"}
    assert warehouse_call("close", (), {}) is None


# ------------------------------------------------------------------------------- aiming


def test_after_and_times_pick_the_nth_matching_call_only() -> None:
    queue, _ = _queue()
    queue.arm(BackendFault(port=Port.WAREHOUSE, error="backend_error", operation="dml", after=1, times=2))
    hits = [queue.take(_call(op)) is not None for op in ("dml", "query", "dml", "dml", "dml", "dml")]
    assert hits == [False, False, True, True, False, False]


def test_a_table_aims_at_calls_that_touch_it() -> None:
    queue, _ = _queue()
    queue.arm(BackendFault(port=Port.WAREHOUSE, error="backend_error", table="org_audit_logs"))
    assert queue.take(_call("dml", tables=("org_profiles",))) is None
    assert queue.take(_call("dml", tables=("org_audit_logs",))) is not None
    assert queue.take(_call("dml", tables=("org_audit_logs",))) is None


def test_for_seconds_fails_every_call_until_that_much_clock_passed_since_the_first_failure() -> None:
    queue, clock = _queue()
    queue.arm(BackendFault(port=Port.WAREHOUSE, error="service_unavailable", for_seconds=20))
    clock.advance(timedelta(seconds=100))  # the window starts at the first failure, not at arming
    assert queue.take(_call("query")) is not None
    clock.advance(timedelta(seconds=19))
    assert queue.take(_call("query")) is not None
    clock.advance(timedelta(seconds=1))
    assert queue.take(_call("query")) is None
    assert queue.pending() == []


def test_pending_and_clear_report_what_is_still_armed() -> None:
    queue, _ = _queue()
    queue.arm(BackendFault(port=Port.WAREHOUSE, error="backend_error", times=2))
    queue.arm(BackendFault(port=Port.KMS, error="unavailable"))
    queue.take(_call("query"))
    assert [(f["port"], f["fired"]) for f in queue.pending()] == [("warehouse", 1), ("kms", 0)]
    assert queue.clear(Port.KMS) == 1
    assert [f["port"] for f in queue.pending()] == ["warehouse"]
    assert queue.clear() == 1 and queue.pending() == []


# ------------------------------------------------------- the fake tier, behind the client retry


@pytest.fixture
def fake():
    with build_backends(Tier.FAKE, Settings(), clock=ManualClock(NOW), seed=7) as backends:
        yield backends


def _arm(backends, port: Port, error: str, **aim) -> None:  # type: ignore[no-untyped-def]
    backends.faults.arm(BackendFault(port=port, error=error, **aim))


def assert_kms_error(error: BaseException, cls: type) -> None:
    """The fake tier raises the catalogue's own class, with Cloud KMS's status and code."""
    assert isinstance(error, cls), f"{type(error).__name__}: {error}"
    assert (error.status, error.code) == (cls.status, cls.code)  # type: ignore[attr-defined]


def _waits(policy, attempts: int) -> float:  # type: ignore[no-untyped-def]
    delays = backoff(policy)
    return sum(next(delays) for _ in range(attempts))


def test_a_twenty_second_outage_is_ridden_out_by_the_bigquery_retry(fake) -> None:  # type: ignore[no-untyped-def]
    _arm(fake, Port.WAREHOUSE, "service_unavailable", operation="create_dataset", for_seconds=20)
    fake.platform.warehouse.create_dataset("acme_local")
    assert fake.faults.armed[0].fired == 5  # waits 1+2+4+8+16: the sixth attempt is past the window
    assert fake.clock.now() - NOW == timedelta(seconds=_waits(BIGQUERY_RETRY, 5))
    assert fake.platform.warehouse.get_dataset("acme_local").dataset_id == "acme_local"


def test_an_outage_longer_than_the_deadline_makes_the_client_give_up(fake) -> None:  # type: ignore[no-untyped-def]
    _arm(fake, Port.WAREHOUSE, "backend_error", operation="create_dataset", for_seconds=700)
    with pytest.raises(TransientError) as info:
        fake.platform.warehouse.create_dataset("acme_local")
    assert_error(info.value, bq.BackendError)
    elapsed = (fake.clock.now() - NOW).total_seconds()
    assert elapsed <= BIGQUERY_RETRY.deadline < elapsed + 60  # the next wait would cross it


@pytest.mark.parametrize(("error", "cls"), [("quota_exceeded", bq.QuotaExceeded), ("timeout", bq.JobTimeout)])
def test_what_the_client_does_not_retry_reaches_the_domain_at_once(fake, error: str, cls: type) -> None:  # type: ignore[no-untyped-def]
    _arm(fake, Port.WAREHOUSE, error, operation="query")
    with pytest.raises((TransientError, InvalidRequestError)) as info:
        fake.platform.select("SELECT 1 AS x")
    assert_error(info.value, cls)
    assert fake.clock.now() == NOW and fake.faults.armed[0].fired == 1


def test_a_failed_query_job_is_run_again(fake) -> None:  # type: ignore[no-untyped-def]
    _arm(fake, Port.WAREHOUSE, "job_failed", operation="query", times=2)
    assert fake.platform.select("SELECT 1 AS x").scalar() == 1
    assert fake.clock.now() - NOW == timedelta(seconds=_waits(BIGQUERY_JOB_RETRY, 2))


def test_a_job_failure_outside_a_query_is_not_re_run(fake) -> None:  # type: ignore[no-untyped-def]
    _arm(fake, Port.WAREHOUSE, "job_failed", operation="create_dataset")
    with pytest.raises(TransientError):
        fake.platform.warehouse.create_dataset("acme_local")
    assert fake.clock.now() == NOW


def test_kms_unavailable_is_retried_and_resource_exhausted_is_not(fake) -> None:  # type: ignore[no-untyped-def]
    _arm(fake, Port.KMS, "unavailable", operation="encrypt", times=3)
    assert fake.platform.keys.encrypt(b"secret").ciphertext
    assert fake.clock.now() - NOW == timedelta(seconds=_waits(KMS_RETRY, 3))
    _arm(fake, Port.KMS, "resource_exhausted", operation="encrypt")
    with pytest.raises(KeyManagerUnavailableError) as info:
        fake.platform.keys.encrypt(b"secret")
    assert_kms_error(info.value, kms.QuotaExhausted)


@pytest.mark.parametrize("error", ["key_disabled", "key_destroyed"])
def test_a_disabled_or_destroyed_version_answers_the_real_precondition(fake, error: str) -> None:  # type: ignore[no-untyped-def]
    ciphertext = fake.platform.keys.encrypt(b"secret").ciphertext
    _arm(fake, Port.KMS, error, operation="decrypt")
    with pytest.raises(KeyStateError) as info:
        fake.platform.keys.decrypt(ciphertext)
    assert_kms_error(info.value, kms.VersionNotEnabled)
    assert info.value.message.endswith("DISABLED." if error == "key_disabled" else "DESTROYED.")
    assert fake.platform.keys.decrypt(ciphertext) == b"secret"


def test_a_corrupted_answer_is_discarded_not_retried(fake) -> None:  # type: ignore[no-untyped-def]
    _arm(fake, Port.KMS, "crc32c_mismatch", operation="encrypt")
    with pytest.raises(KeyManagerUnavailableError) as info:
        fake.platform.keys.encrypt(b"secret")
    assert (info.value.code, info.value.message) == ("DATA_LOSS", "Encrypt: response corrupted in-transit")


# ------------------------------------------------------------------------- scenario files


def _scenario(faults: list[dict]) -> Scenario:
    return Scenario.model_validate(
        {"name": "s", "tiers": ["fake", "emulator", "gcp"], "faults": faults, "steps": [{"onboard": {}}]}
    )


def test_scenario_faults_of_every_kind_parse_and_provider_faults_need_no_kind() -> None:
    scenario = _scenario(
        [
            {"provider": "openai", "status": 503},
            {
                "kind": "warehouse",
                "error": "rate_limit_exceeded",
                "operation": "dml",
                "table": "org_profiles",
            },
            {"kind": "kms", "error": "deadline_exceeded", "for_seconds": 5},
        ]
    )
    assert [fault.kind for fault in scenario.faults] == ["provider", "warehouse", "kms"]
    spec = scenario.faults[2].spec()  # type: ignore[union-attr]
    assert (spec.port, spec.times, spec.for_seconds) == (Port.KMS, None, 5.0)


def test_the_gcp_tier_refuses_backend_faults_naming_them() -> None:
    scenario = _scenario(
        [{"kind": "warehouse", "error": "backend_error"}, {"kind": "kms", "error": "unavailable"}]
    )
    with pytest.raises(
        ScenarioUsageError, match="kms and warehouse faults are armed in the fakes and emulators"
    ):
        check_scenario(scenario, tier=Tier.GCP, settings=Settings())


@pytest.mark.parametrize(
    ("fault", "line", "message"),
    [
        (
            "  - kind: warehouse\n    error: backend_error\n    times: 2\n    for_seconds: 5\n",
            3,
            "faults[0]: give times or for_seconds, not both",
        ),
        (
            "  - kind: kms\n    error: unavailable\n    operation: query\n",
            5,
            "faults[0].operation: 'query' is not one of *, encrypt, decrypt, get_crypto_key",
        ),
    ],
)
def test_a_bad_fault_in_a_file_names_line_and_field(
    tmp_path: Path, fault: str, line: int, message: str
) -> None:
    from harness.scenario.loader import load_scenario
    from harness.scenario.problems import ScenarioError

    path = tmp_path / "bad.yml"
    path.write_text(f"name: bad\nfaults:\n{fault}steps:\n  - onboard: {{}}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert f"{path}:{line}: {message}" in str(info.value)
