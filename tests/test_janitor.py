"""The janitor: runs killed at every step of the nightly flow leave labelled datasets and meta rows
behind; ``harness janitor`` (the clock moved past the TTL) removes exactly those, a dry run lists
the same without removing, and nothing unlabelled or of another org is ever touched.

A kill is the run stopping with no cleanup and no undo: the ``on_step`` hook raises a
``BaseException`` the runner does not catch, on a copy of the scenario whose cleanup policy is
``never`` (the runner's ``finally`` would otherwise offboard the org, which a killed process never
does). One test sends a real ``kill -9`` to a ``harness run`` process against ``harness emulators
up --data-dir``.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from meta_rows import org_row_counts
from typer.testing import CliRunner

from harness.backends import Backend, build_backends
from harness.cli import app
from harness.cli.janitor import parse_duration
from harness.clock import ManualClock
from harness.faults.proxy import PortProxy
from harness.onboarding import orgs
from harness.onboarding.audit import SYSTEM
from harness.onboarding.bootstrap import bootstrap
from harness.onboarding.models import OnboardRequest
from harness.onboarding.platform import Platform
from harness.ports import DatasetInfo
from harness.scenario.janitor import RUN_ORG_PREFIX, Sweep, sweep
from harness.scenario.labels import (
    CREATED_LABEL,
    DEFAULT_TTL,
    RUN_ID_LABEL,
    RUN_LABEL,
    TTL_LABEL,
    RunLabels,
    RunStamp,
    check_labels,
    label_value,
)
from harness.scenario.loader import load_scenario
from harness.scenario.model import CleanupPolicy, Tier
from harness.scenario.outcome import StepOutcome
from harness.scenario.runner import run_scenario
from harness.services.settings import Settings

pytestmark = pytest.mark.slow  # deselected by --quick: killed runs on the emulators and harness processes

REPO = Path(__file__).resolve().parents[1]
FLOW = REPO / "scenarios" / "full_onboarding.yml"
SCENARIO = load_scenario(FLOW)
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
RUN_ID = "0a1b2c3d"
ORG = f"e2e_{RUN_ID}"
PAST_TTL = DEFAULT_TTL + timedelta(minutes=1)
EMULATOR_VARIABLES = ("BIGQUERY_EMULATOR_HOST", "KMS_ENDPOINT", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")


class Killed(BaseException):
    """The process died: nothing in the runner catches it."""


@pytest.fixture
def no_emulator_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in EMULATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emulator(no_emulator_env: None) -> Iterator[Any]:
    """Emulator-tier backends on a manual clock (the embedded emulators are pooled and reset, so
    every test shares one set of servers)."""
    with build_backends(Backend.EMULATOR, clock=ManualClock(NOW), seed=7) as backends:
        yield backends


def killed_run(backends: Any, kill_after: int) -> None:
    """The nightly flow, killed as step ``kill_after`` finishes: no cleanup, no undo."""

    def kill(step: StepOutcome) -> None:
        assert step.ok, f"step {step.index} {step.name} failed before the kill: {step.detail}"
        if step.index == kill_after:
            raise Killed

    scenario = SCENARIO.model_copy(update={"cleanup": CleanupPolicy.NEVER})
    with pytest.raises(Killed):
        run_scenario(
            scenario, tier=Tier.EMULATOR, runs_dir=None, on_step=kill, backends=backends, run_id=RUN_ID
        )


def labelled(platform: Platform) -> list[DatasetInfo]:
    return [d for d in platform.warehouse.list_datasets() if d.labels.get(RUN_LABEL) == "true"]


def rows_of(platform: Platform, slug: str) -> dict[str, int]:
    """The org's rows in every meta table that exists (counted in one query)."""
    present = {t.table_id for t in platform.warehouse.list_tables(platform.meta_dataset)}
    tables = (spec.table_id for spec in platform.config.tables if spec.table_id in present)
    return {table: n for table, n in org_row_counts(platform, slug, tables).items() if n}


def listed(result: Sweep) -> tuple[list[str], dict[str, dict[str, int]]]:
    return [e.dataset_id for e in result.removed_datasets], {o.org_slug: o.rows for o in result.orgs}


# ------------------------------------------------------------------------------------- labels


def test_label_values_follow_bigquerys_rules() -> None:
    assert label_value("Run 2026-12-01T03:00:00Z") == "run-2026-12-01t03-00-00z"
    assert len(label_value("x" * 100)) == 63
    assert check_labels({"harness-run": "true", "org_slug": "e2e_0a1b2c3d", "empty": ""}) == []
    problems = check_labels({"Upper": "v", "9lead": "v", "ok": "UP", "k" * 64: "v"})
    assert len(problems) == 4
    assert check_labels({f"k{i}": "v" for i in range(65)})[0] == "65 labels: at most 64"


def test_run_labels_carry_the_run_its_creation_time_and_ttl_and_read_back() -> None:
    run = RunLabels("0A1B2C3D", ttl=timedelta(hours=2))
    labels = run.labels(NOW)
    assert labels == {
        RUN_LABEL: "true",
        RUN_ID_LABEL: "0a1b2c3d",
        CREATED_LABEL: str(int(NOW.timestamp())),
        TTL_LABEL: "7200",
    }
    assert check_labels(labels) == [] and run.table_expiration_ms == 7_200_000
    info = DatasetInfo("p", "d", "US", None, labels, NOW, NOW)
    assert RunStamp.of(info) == RunStamp("0a1b2c3d", NOW, timedelta(hours=2))
    with pytest.raises(ValueError, match="at least 1:00:00"):
        RunLabels("r", ttl=timedelta(minutes=59))


@pytest.mark.parametrize(
    "labels",
    [
        {},
        {RUN_LABEL: "false", CREATED_LABEL: "0"},
        {RUN_LABEL: "true"},
        {RUN_LABEL: "true", CREATED_LABEL: "x"},
    ],
)
def test_a_dataset_without_a_readable_run_stamp_is_never_a_runs(labels: dict[str, str]) -> None:
    assert RunStamp.of(DatasetInfo("p", "d", "US", None, labels, NOW, NOW)) is None


@pytest.mark.parametrize("tier", [Backend.FAKE, Backend.EMULATOR])
def test_the_warehouse_keeps_labels_and_the_default_table_expiration(
    tier: Backend, no_emulator_env: None
) -> None:
    with build_backends(tier, clock=ManualClock(NOW), seed=1) as backends:
        warehouse = backends.platform.warehouse
        created = warehouse.create_dataset("kept", labels={"a": "b"}, default_table_expiration_ms=3_600_000)
        read = warehouse.get_dataset("kept")
        listed_ = {d.dataset_id: d for d in warehouse.list_datasets()}["kept"]
        for info in (created, read, listed_):
            assert (dict(info.labels), info.default_table_expiration_ms) == ({"a": "b"}, 3_600_000)
        assert warehouse.create_dataset("plain").default_table_expiration_ms is None


# ------------------------------------------------------------------------- killed at every step


@pytest.mark.parametrize("kill_after", range(len(SCENARIO.steps)), ids=[s.label for s in SCENARIO.steps])
def test_the_janitor_leaves_nothing_of_a_run_killed_at_any_step(emulator: Any, kill_after: int) -> None:
    platform, clock = emulator.platform, emulator.clock
    killed_run(emulator, kill_after)
    left = labelled(platform)
    assert left, "a killed run leaves its labelled datasets"
    for info in left:
        assert RunStamp.of(info) == RunStamp(RUN_ID, NOW, DEFAULT_TTL)
        assert info.default_table_expiration_ms == int(DEFAULT_TTL.total_seconds() * 1000)
    org_rows = rows_of(platform, ORG)

    young = sweep(platform, clock)
    assert (young.removed_datasets, young.orgs) == ([], []), "a run younger than its TTL is kept"
    assert len(young.kept_datasets) == len(left)

    clock.advance(PAST_TTL)
    dry = sweep(platform, clock, dry_run=True)
    assert sorted(listed(dry)[0]) == sorted(d.dataset_id for d in left)
    assert listed(dry)[1] == ({ORG: org_rows} if org_rows else {})
    if org_rows.get("org_integration_credentials"):
        assert dry.orgs[0].credentials == org_rows["org_integration_credentials"] + org_rows["org_kms_keys"]
    assert labelled(platform) == left, "a dry run deletes nothing"

    done = sweep(platform, clock)
    assert listed(done) == listed(dry), "the janitor removes what its dry run listed"
    assert labelled(platform) == []
    assert platform.warehouse.list_datasets() == [], "the run created every dataset there was"
    again = sweep(platform, clock, dry_run=True)
    assert (again.datasets, again.orgs) == ([], [])


STEP_INDEX = {s.label: i for i, s in enumerate(SCENARIO.steps)}


class WarehouseLost(Exception):
    """The process lost its warehouse: this call and every later one fail."""


class Dying(PortProxy):
    """The run's warehouse, gone from the ``n``-th call of ``method`` whose arguments mention
    ``about``: a kill inside a step, where nothing after it (no undo either) reaches BigQuery.
    (A ``BaseException`` inside an app breaks the in-process test client, so the loss is what
    stands in for the process's death there.)"""

    def __init__(self, inner: Any, method: str, about: str, n: int) -> None:
        super().__init__(inner)
        self.project = inner.project
        self._method, self._about, self._left = method, about, n
        self.dead = False

    def _call(self, name: str, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not self.dead and name == self._method and self._about in repr(args[:2]):
            self._left -= 1
            self.dead = self._left == 0
        if self.dead:
            raise WarehouseLost(f"{name}: the process is gone")
        return method(*args, **kwargs)


@pytest.mark.parametrize(
    ("method", "about", "n"),
    [
        ("create_table", "organizations", 4),  # bootstrap half-way: 3 of 15 meta tables
        ("insert_rows", "org_profiles", 1),  # onboarding: the org dataset, no row yet
        ("insert_rows", "org_usage_quotas", 1),  # onboarding half-way: 3 of its 6 rows
        ("insert_rows", "org_audit_logs", 2),  # integration: the credential written, not audited
        ("insert_rows", "llm_cost_daily", 1),  # the pipeline half-way
        ("execute", "DELETE FROM `cloudact-local.organizations.org_api_keys`", 1),  # offboarding half-way
        ("delete_dataset", "_local", 1),  # offboarding: every row gone, the dataset not yet
    ],
    ids=[
        "bootstrap",
        "onboard-empty",
        "onboard-half",
        "integration",
        "pipeline",
        "offboard-rows",
        "offboard-ds",
    ],
)
def test_the_janitor_leaves_nothing_of_a_run_killed_inside_a_step(
    emulator: Any, method: str, about: str, n: int
) -> None:
    platform, clock = emulator.platform, emulator.clock
    real = platform.warehouse
    platform.warehouse = dying = Dying(real, method, about, n)
    outcome = run_scenario(
        SCENARIO.model_copy(update={"cleanup": CleanupPolicy.NEVER}),
        tier=Tier.EMULATOR,
        runs_dir=None,
        backends=emulator,
        run_id=RUN_ID,
    )
    platform.warehouse = real
    assert dying.dead and outcome.status == "failed"
    assert labelled(platform)
    clock.advance(PAST_TTL)
    dry = sweep(platform, clock, dry_run=True)
    done = sweep(platform, clock)
    assert listed(done) == listed(dry)
    assert platform.warehouse.list_datasets() == []


@pytest.mark.parametrize("kill_after", ["onboard", "pipeline", "cleanup"])
def test_the_janitor_never_touches_an_unlabelled_dataset_or_another_org(
    emulator: Any, kill_after: str
) -> None:
    platform, clock = emulator.platform, emulator.clock
    bootstrap(platform.warehouse, platform.config)  # the meta dataset is not the run's
    platform.warehouse.create_dataset("customer_data")
    customer = "acme_corp"
    orgs.onboard(
        platform,
        OnboardRequest(org_slug=customer, company_name="Acme", admin_email="ops@acme.example"),
        SYSTEM,
    )
    customer_rows = rows_of(platform, customer)
    assert customer_rows
    killed_run(emulator, STEP_INDEX[kill_after])

    clock.advance(PAST_TTL)
    result = sweep(platform, clock, older_than=timedelta(hours=1))
    assert [e.dataset_id for e in result.removed_datasets] == (
        [] if kill_after == "cleanup" else [f"{ORG}_{platform.environment}"]
    )
    assert rows_of(platform, ORG) == {}
    assert rows_of(platform, customer) == customer_rows
    remaining = {d.dataset_id for d in platform.warehouse.list_datasets()}
    assert remaining == {"customer_data", platform.meta_dataset, platform.org_dataset(customer)}


def test_a_labelled_meta_dataset_other_orgs_use_is_kept_with_their_rows(emulator: Any) -> None:
    platform, clock = emulator.platform, emulator.clock
    killed_run(emulator, STEP_INDEX["onboard"])  # the run created the meta dataset, labelled
    clock.advance(PAST_TTL)
    orgs.onboard(
        platform,
        OnboardRequest(org_slug="acme_corp", company_name="Acme", admin_email="ops@acme.example"),
        SYSTEM,
    )
    result = sweep(platform, clock)
    kept = {e.dataset_id: e.reason for e in result.kept_datasets}
    assert kept == {platform.meta_dataset: "holds rows of 1 other org(s), e.g. acme_corp"}
    assert rows_of(platform, ORG) == {} and rows_of(platform, "acme_corp")


def test_a_prefixed_org_whose_dataset_is_gone_is_swept_by_its_prefix(emulator: Any) -> None:
    """An offboarding killed after it dropped the org dataset... or an org onboarded before labels:
    no labelled dataset names it, its ``e2e_`` prefix and profile age do."""
    platform, clock = emulator.platform, emulator.clock
    bootstrap(platform.warehouse, platform.config)
    slug = f"{RUN_ORG_PREFIX}old"
    orgs.onboard(
        platform,
        OnboardRequest(org_slug=slug, company_name="Old", admin_email="ops@old.example"),
        SYSTEM,
    )
    platform.warehouse.delete_dataset(platform.org_dataset(slug), delete_contents=True)
    assert sweep(platform, clock).orgs == [], "its profile is younger than the limit"
    clock.advance(PAST_TTL)
    result = sweep(platform, clock)
    assert [o.org_slug for o in result.orgs] == [slug] and rows_of(platform, slug) == {}


# --------------------------------------------------------------------------------- kill -9


HARNESS = str(Path(sys.executable).parent / "harness")
DEADLINE = 60.0


class Process:
    """A ``harness`` command in a child process, its stdout read line by line (bounded waits)."""

    def __init__(self, *argv: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [HARNESS, *argv],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        )
        self._lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None
        threading.Thread(target=lambda: [self._lines.put(line) for line in stdout], daemon=True).start()

    def line(self) -> str:
        try:
            return self._lines.get(timeout=DEADLINE)
        except queue.Empty:
            self.kill()
            pytest.fail(f"{self.proc.args}: no output: {self.proc.stderr.read()}")  # type: ignore[union-attr]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=DEADLINE)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()  # type: ignore[union-attr]


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.kill()


def janitor(env: dict[str, str], *options: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["janitor", "--backend", "emulator", "--json", *options], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_harness_run_killed_with_sigkill_is_swept_by_the_janitor_command(
    tmp_path: Path, processes: list[Process], no_emulator_env: None
) -> None:
    served = Process(
        "emulators", "up", "--port-base", "0", "--print-env", "--data-dir", str(tmp_path / "d"), env={}
    )
    processes.append(served)
    env: dict[str, str] = {}
    while len(env) < 4:
        name, _, value = served.line().strip().removeprefix("export ").partition("=")
        env[name] = value
    from harness.control_client import ControlClient

    with ControlClient(env["OPENAI_BASE_URL"].removesuffix("/v1")) as control:
        env["OPENAI_API_KEY"] = control.mint_key("openai", admin=True)
    run = Process("run", str(FLOW), "--backend", "emulator", "--runs-dir", str(tmp_path / "runs"), env=env)
    processes.append(run)
    while "connect OpenAI" not in (line := run.line()):
        assert "FAIL" not in line, line
    run.kill()  # kill -9: no cleanup, no undo, no record

    dry = janitor(env, "--dry-run", "--older-than", "0s")
    datasets = {d["dataset_id"] for d in dry["datasets"] if d["action"] == "would delete"}
    assert "organizations" in datasets and len(datasets) == 2
    (org,) = dry["orgs"]
    assert org["org_slug"].startswith(RUN_ORG_PREFIX) and org["credentials"] == 2
    assert org["rows"]["org_integration_credentials"] == 1

    done = janitor(env, "--older-than", "0s")
    assert {d["dataset_id"] for d in done["datasets"] if d["action"] == "deleted"} == datasets
    assert [o["rows"] for o in done["orgs"]] == [org["rows"]]
    after = janitor(env, "--dry-run", "--older-than", "0s")
    assert (after["datasets"], after["orgs"]) == ([], [])


# ------------------------------------------------------------------------------------- command


def test_durations_read_as_a_number_and_a_unit() -> None:
    assert parse_duration("6h") == timedelta(hours=6)
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2d") == timedelta(days=2)
    import typer

    with pytest.raises(typer.BadParameter):
        parse_duration("6 hours")


def test_the_command_without_emulators_says_how_to_get_them(no_emulator_env: None) -> None:
    result = CliRunner().invoke(app, ["janitor", "--backend", "emulator", "--json"])
    assert result.exit_code == 2
    body = json.loads(result.output)
    assert set(body) == {"error", "message", "error_id"} and body["error"] == "NO_EMULATORS"
    plain = CliRunner().invoke(app, ["janitor", "--backend", "emulator"])
    assert plain.exit_code == 2 and "harness emulators up" in plain.output and "Traceback" not in plain.output


def test_the_command_prints_a_table_and_a_refused_call_is_an_error_a_rerun_finishes(
    no_emulator_env: None,
) -> None:
    from harness.emulators import Emulators
    from harness.faults.backend import BackendFault, Port

    with Emulators(seed=3) as served:
        env = served.env()
        with build_backends(Backend.EMULATOR, Settings(**{k.lower(): v for k, v in env.items()})) as backends:
            warehouse = backends.platform.warehouse
            old = datetime.now(UTC) - PAST_TTL
            warehouse.create_dataset("e2e_old_local", labels=RunLabels("feedf00d").labels(old))
            warehouse.create_dataset("customer_data")
            served.faults.arm(BackendFault(Port.WAREHOUSE, "quota_exceeded", operation="delete_dataset"))
            refused = CliRunner().invoke(app, ["janitor", "--json"], env=env)
            assert refused.exit_code == 1
            body = json.loads(refused.output)
            assert body["error"] == "quotaExceeded" and set(body) == {"error", "message", "error_id"}

            done = CliRunner().invoke(app, ["janitor"], env=env)
            assert done.exit_code == 0, done.output
            assert "e2e_old_local" in done.output and "feedf00d" in done.output and "deleted" in done.output
            assert "1 dataset(s), 0 org(s), 0 meta row(s) deleted" in done.output
            assert [d.dataset_id for d in warehouse.list_datasets()] == ["customer_data"]
            again = CliRunner().invoke(app, ["janitor"], env=env)
            assert "Nothing left behind by harness runs." in again.output
