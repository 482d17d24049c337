"""Persistence (``--data-dir``), in process: each service built on a directory, written to, closed
and built again from it serves the same state; nothing secret is in the files; a damaged file, a
directory in use or another seed is a clear error naming the file."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from fakes.anthropic import AnthropicState
from fakes.kms.persistence import PersistentKmsBackend
from fakes.openai import OpenAIState
from fakes.statefile import StateFileError, read_state, write_state
from harness.backends import Backend, build_backends
from harness.cli import app
from harness.clock import ManualClock, WallClock
from harness.containers import DOCKERFILE
from harness.datadir import DataDir, SavingWallClock
from harness.emulators import Emulators
from harness.schema.spec import (
    DatasetSpec,
    FieldSpec,
    FieldType,
    PartitionType,
    TableSpec,
    TimePartitioning,
)
from harness.serve import ServiceProcess
from harness.servers import ServeError
from harness.services.settings import Settings

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
RING = "projects/p/locations/global/keyRings/ring"
KEY = f"{RING}/cryptoKeys/key"
TABLE = TableSpec(
    table_id="events",
    schema=(FieldSpec("id", FieldType.INTEGER), FieldSpec("at", FieldType.TIMESTAMP)),
    time_partitioning=TimePartitioning(PartitionType.DAY, "at"),
    clustering_fields=("id",),
)


# ------------------------------------------------------------------------------------- state files
def test_a_state_file_is_replaced_whole_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert read_state(path) is None
    write_state(path, {"a": 1})
    write_state(path, {"a": 2})
    assert read_state(path) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"format": 1, "a": ', "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"format": 99}', "not a harness state file of format 1"),
    ],
)
def test_a_damaged_state_file_is_an_error_naming_it(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "kms.json"
    path.write_text(text)
    with pytest.raises(StateFileError, match=reason) as caught:
        read_state(path)
    assert str(caught.value).startswith(str(path))


# -------------------------------------------------------------------------------------------- KMS
def test_kms_keyring_reopens_with_its_keys_and_old_ciphertexts_decrypt(tmp_path: Path) -> None:
    path, clock = tmp_path / "kms.json", ManualClock(NOW)
    kms = PersistentKmsBackend(clock, 7, path)
    kms.create_key_ring("projects/p/locations/global", "ring")
    kms.create_crypto_key(RING, "key", labels={"team": "a"})
    old = kms.encrypt(KEY, b"written before", aad=b"ctx")["ciphertext"]
    kms.rotate(KEY)
    kms.update_version_state(f"{KEY}/cryptoKeyVersions/1", "DISABLED")
    kms.update_version_state(f"{KEY}/cryptoKeyVersions/1", "ENABLED")
    kms.create_crypto_key_version(KEY)
    kms.destroy_version(f"{KEY}/cryptoKeyVersions/3")
    before = (
        kms.get_crypto_key(KEY),
        kms.list_crypto_key_versions(KEY),
        kms.list_key_rings("projects/p/locations/global"),
    )

    again = PersistentKmsBackend(clock, 7, path)
    assert (
        again.get_crypto_key(KEY),
        again.list_crypto_key_versions(KEY),
        again.list_key_rings("projects/p/locations/global"),
    ) == before
    assert again.decrypt(KEY, old, aad=b"ctx")["plaintext"] == b"written before"
    # The nonce counter survived: the next ciphertext under version 1 is not the one written before.
    assert again.encrypt(f"{KEY}/cryptoKeyVersions/1", b"written before", aad=b"ctx")["ciphertext"] != old
    clock.advance(timedelta(days=31))  # the scheduled destruction still completes after a restart
    assert (
        PersistentKmsBackend(clock, 7, path).get_crypto_key_version(f"{KEY}/cryptoKeyVersions/3")["state"]
        == "DESTROYED"
    )


def test_kms_state_file_of_the_wrong_shape_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "kms.json"
    write_state(path, {"key_rings": {}, "crypto_keys": [{"name": KEY}]})
    with pytest.raises(StateFileError, match="invalid KMS keyring") as caught:
        PersistentKmsBackend(ManualClock(NOW), 7, path)
    assert caught.value.path == path


# -------------------------------------------------------------------------------------- providers
@pytest.mark.parametrize("cls", [OpenAIState, AnthropicState])
def test_provider_state_reopens_and_minting_goes_on_where_it_was(tmp_path: Path, cls: type) -> None:
    path = tmp_path / "provider.json"
    state = cls(seed=3, state_path=path)
    issued, admin = state.issue_key(), state.issue_admin_key()
    chosen = state.add_key("test-chosen-key")
    state.add_key("short-key")  # listed all stars: mask_key would show it whole
    assert ("*********", False) in state.listed_keys()
    revoked = state.issue_key()
    state.revoke(revoked)
    state.rate_limit(chosen, retry_after=7)
    state.corrupt(date(2025, 3, 1), "duplicate_row")
    setattr(state, state.organization_attribute, "org-kept")
    state.usage_model_count, state.activity_rate = 2, 0.25
    state.save()  # attributes set directly are saved on request

    again = cls(seed=3, state_path=path)
    assert getattr(again, again.organization_attribute) == "org-kept"
    assert (again.usage_model_count, again.activity_rate) == (2, 0.25)
    assert again.listed_keys() == state.listed_keys()
    assert sorted(admin for _, admin in again.listed_keys()) == [False, False, False, True]
    assert again.is_valid(issued) and again.is_valid(chosen) and again.is_admin(admin)
    assert again.is_revoked(revoked) and not again.is_valid(revoked)
    assert again.rate_limit_for(chosen).retry_after == 7  # type: ignore[union-attr]
    assert again.corruptions == state.corruptions
    uninterrupted = cls(seed=3)
    minted = [uninterrupted.issue_key() for _ in range(3)]
    assert again.issue_key() == minted[2]  # the third key, not the first again
    again.reset()
    assert not cls(seed=3, state_path=path).is_valid(issued)


# ------------------------------------------------------------------------------ the emulators
def _write_everything(emulators: Emulators) -> dict[str, object]:
    """Writes to every service; returns what must come back, and the secrets that must not be on disk."""
    assert emulators.engine and emulators.kms and emulators.openai and emulators.anthropic
    emulators.engine.create_dataset("p", DatasetSpec("sales", labels={"env": "test"}))
    emulators.engine.create_table("p", "sales", TABLE)
    emulators.engine.insert_rows("p", "sales", "events", [{"id": 1, "at": NOW}, {"id": 2, "at": NOW}])
    key_name = emulators.settings.kms_key_name
    ciphertext = emulators.kms.encrypt(key_name, b"tenant secret")["ciphertext"]
    return {
        "ciphertext": ciphertext,
        "openai_key": emulators.openai.issue_key(),
        "openai_admin": emulators.openai.issue_admin_key(),
        "anthropic_key": emulators.anthropic.issue_key(),
        "material": emulators.kms._crypto_keys[key_name].versions[1].material,
    }


def test_emulators_on_a_data_dir_serve_what_they_had_and_store_no_secret(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    with Emulators(data_dir=tmp_path, clock=clock) as emulators:
        written = _write_everything(emulators)
        clock.advance(timedelta(hours=5))
        seed = emulators.seed

    later = ManualClock(NOW)
    with Emulators(data_dir=tmp_path, clock=later) as emulators:
        assert emulators.seed == seed and later.now() == NOW + timedelta(hours=5)  # the clock resumed
        assert emulators.engine and emulators.kms and emulators.openai and emulators.anthropic
        table = emulators.engine.get_table("p", "sales", "events")
        assert (
            table.spec.clustering_fields == ("id",)
            and table.spec.time_partitioning == TABLE.time_partitioning
        )
        assert emulators.engine.get_dataset("p", "sales").labels == {"env": "test"}
        assert [r["id"] for r in emulators.engine.list_rows("p", "sales", "events")[0]] == [1, 2]
        key_name = emulators.settings.kms_key_name
        assert (
            len(emulators.kms.list_crypto_keys(key_name.rpartition("/cryptoKeys/")[0])) == 1
        )  # not made twice
        assert emulators.kms.decrypt(key_name, written["ciphertext"])["plaintext"] == b"tenant secret"  # type: ignore[arg-type]
        assert emulators.openai.is_valid(written["openai_key"])  # type: ignore[arg-type]
        assert emulators.openai.is_admin(written["openai_admin"])  # type: ignore[arg-type]
        assert emulators.anthropic.is_valid(written["anthropic_key"])  # type: ignore[arg-type]

    material = written["material"]
    assert isinstance(material, bytes)
    secrets = [
        *(str(written[k]).encode() for k in ("openai_key", "openai_admin", "anthropic_key")),
        material,
        material.hex().encode(),
        base64.b64encode(material),
        base64.urlsafe_b64encode(material),
    ]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {
        "emulators.json",
        "kms.json",
        "openai.json",
        "anthropic.json",
        "p.duckdb",
    }
    for path in files:
        content = path.read_bytes()
        assert not [s for s in secrets if s in content], f"a secret is stored in {path}"


def test_reset_on_a_data_dir_empties_it(tmp_path: Path) -> None:
    with Emulators(data_dir=tmp_path, clock=ManualClock(NOW)) as emulators:
        written = _write_everything(emulators)
        emulators.reset(seed=11)
    with Emulators(data_dir=tmp_path, clock=ManualClock(NOW)) as emulators:
        assert emulators.seed == 11 and emulators.engine and emulators.openai
        assert emulators.engine.list_datasets("p") == []
        assert not emulators.openai.is_valid(written["openai_key"])  # type: ignore[arg-type]


def test_a_second_process_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with Emulators(data_dir=tmp_path), pytest.raises(ServeError, match="is in use by process"):
        Emulators(data_dir=tmp_path).start()
    Emulators(data_dir=tmp_path).start().stop()  # the first one's stop released it


def test_another_seed_on_an_existing_data_dir_is_refused(tmp_path: Path) -> None:
    Emulators(data_dir=tmp_path, seed=1).start().stop()
    with pytest.raises(ServeError, match="written with seed 1, not 2"):
        Emulators(data_dir=tmp_path, seed=2).start()
    Emulators(data_dir=tmp_path).start().stop()  # the refusal released the lock


def test_a_wall_clock_keeps_its_lead_across_a_restart(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    clock = SavingWallClock(data_dir)
    data_dir.open(None, clock)
    clock.advance(timedelta(days=2))  # saved at once: no clean stop is needed
    data_dir._lock.release()  # what a kill -9 does to the lock

    restarted = WallClock()
    DataDir(tmp_path).open(None, restarted)
    assert restarted.now() - datetime.now(UTC) > timedelta(days=2) - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("kms.json", b'{"format": 1, "key_rings": {'),
        ("openai.json", b""),
        ("emulators.json", b'{"format": 1, "seed": "x"}'),
        ("bigquery/p.duckdb", b"this is not a duckdb file" * 100),
    ],
)
def test_a_damaged_file_fails_the_start_with_exit_2_naming_it(
    tmp_path: Path, name: str, content: bytes
) -> None:
    Emulators(data_dir=tmp_path, clock=ManualClock(NOW)).start().stop()
    (tmp_path / name).parent.mkdir(exist_ok=True)
    (tmp_path / name).write_bytes(content)
    result = CliRunner().invoke(app, ["emulators", "up", "--port-base", "0", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {tmp_path}") and str(tmp_path / name) in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_state_files_hold_digests_not_keys(tmp_path: Path) -> None:
    state = OpenAIState(seed=1, state_path=tmp_path / "openai.json")
    key = state.issue_key()
    stored = json.loads((tmp_path / "openai.json").read_text())
    assert key not in json.dumps(stored) and len(stored["valid_keys"][0]) == 64


def test_harness_data_dir_in_the_environment_is_the_data_dir(tmp_path: Path) -> None:
    """What the container image documents: ``-e HARNESS_DATA_DIR=/data`` (here: a damaged dir, so
    the command stops at once, naming the file it read)."""
    (tmp_path / "kms.json").write_text("{")
    env = {"HARNESS_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["emulators", "up", "--port-base", "0"], env=env)
    assert result.exit_code == 2 and result.output.startswith(f"error: {tmp_path / 'kms.json'}")


def test_the_image_declares_a_data_volume_the_user_owns() -> None:
    lines = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    instructions = [line.split(None, 1) for line in lines if line.strip() and not line.startswith("#")]
    keywords = [keyword for keyword, _ in instructions]
    volume = keywords.index("VOLUME")
    assert json.loads(instructions[volume][1]) == ["/data"]
    user = instructions[keywords.index("USER")][1]
    made = [args for keyword, args in instructions[:volume] if keyword == "RUN" and "mkdir /data" in args]
    assert made and f"chown {user}:{user} /data" in made[0]
    assert "HARNESS_DATA_DIR=/data" in DOCKERFILE.read_text()  # documented, off by default
    assert not [args for keyword, args in instructions if keyword == "ENV" and "HARNESS_DATA_DIR" in args]


def test_serve_on_the_emulator_tier_keeps_an_org_in_its_data_dir(tmp_path: Path) -> None:
    root = {"X-CA-Root-Key": "local-root-key"}
    body = {"org_slug": "kept_em", "company_name": "Kept", "admin_email": "k@example.com"}
    with ServiceProcess(tier=Backend.EMULATOR, data_dir=tmp_path) as services:
        onboarded = httpx.post(f"{services.api_url}/api/v1/organizations/onboard", headers=root, json=body)
        assert onboarded.status_code == 201, onboarded.text
    org = {"X-API-Key": onboarded.json()["api_key"]}
    with ServiceProcess(tier=Backend.EMULATOR, data_dir=tmp_path) as services:
        got = httpx.get(f"{services.api_url}/api/v1/organizations/kept_em", headers=org)
        assert got.status_code == 200 and got.json()["status"] == "ACTIVE"


def test_gcp_takes_no_data_dir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="takes no data dir"):
        build_backends(Backend.GCP, Settings(gcp_project_id="p"), data_dir=DataDir(tmp_path))


def test_a_data_dir_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ServeError, match="cannot be used as a data dir"):
        Emulators(data_dir=tmp_path / "a-file" / "data").start()


def test_a_write_killed_before_its_rename_leaves_the_old_state_and_its_temp_file_is_dropped(
    tmp_path: Path,
) -> None:
    Emulators(data_dir=tmp_path, clock=ManualClock(NOW)).start().stop()
    before = (tmp_path / "kms.json").read_bytes()
    (tmp_path / ".kms.json.abc123.tmp").write_bytes(b'{"format": 1, "key_ri')  # half of a next write
    with Emulators(data_dir=tmp_path, clock=ManualClock(NOW)) as emulators:
        assert emulators.kms and emulators.kms.get_crypto_key(emulators.settings.kms_key_name)
    assert not list(tmp_path.glob(".*.tmp"))
    assert (tmp_path / "kms.json").read_bytes() == before
