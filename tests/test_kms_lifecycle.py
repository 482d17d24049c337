"""Deleting Cloud KMS keys and key versions through the real ``google-cloud-kms`` client (REST).

Written from Cloud KMS's documentation (cloud.google.com/kms/docs/delete-kms-resources and the
cryptoKeys.delete / cryptoKeyVersions.delete / retiredResources references): a version can be
deleted once DESTROYED (or IMPORT_FAILED), never while ENABLED or merely DESTROY_SCHEDULED, nor
after a successful import; a key once all its versions are deleted; both answer a done long-running
Operation; a deleted key's name becomes a RetiredResource and cannot be taken again.

Over REST the client raises by HTTP status: FAILED_PRECONDITION arrives as ``BadRequest`` (the
canonical code is in the body's ``status``), ALREADY_EXISTS as ``Conflict``. The messages are the
model's, mostly unconfirmed (fakes/kms/exceptions.py), so only codes are asserted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from google.api_core import exceptions as gexc
from google.cloud import kms_v1
from google.longrunning import operations_pb2

from fakes.kms import exceptions as kms_errors
from fakes.kms import lifecycle
from fakes.kms.models import KmsBackend
from fakes.kms.persistence import PersistentKmsBackend
from harness.clock import ManualClock
from tests.test_kms_rest import _Emulator, fresh_client

PARENT = "projects/test-project/locations/us-east1"
RING = f"{PARENT}/keyRings/ring"
State = kms_v1.CryptoKeyVersion.CryptoKeyVersionState
AFTER_DESTRUCTION = timedelta(days=31)  # past the 30-day default destroy_scheduled_duration


@pytest.fixture(scope="module")
def emulator() -> Iterator[_Emulator]:
    clock = ManualClock()
    with _Emulator(KmsBackend(clock, seed=11), clock) as running:
        yield running


@pytest.fixture
def client(emulator: _Emulator) -> kms_v1.KeyManagementServiceClient:
    client = fresh_client(emulator)
    client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    return client


def _key(client: kms_v1.KeyManagementServiceClient, key_id: str = "key") -> str:
    return client.create_crypto_key(
        request={
            "parent": RING,
            "crypto_key_id": key_id,
            "crypto_key": {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT},
        }
    ).name


def _status(exc: gexc.GoogleAPICallError) -> str:
    return exc.response.json()["error"]["status"]


def _destroyed(client: kms_v1.KeyManagementServiceClient, emulator: _Emulator, version: str) -> None:
    client.destroy_crypto_key_version(request={"name": version})
    emulator.clock.advance(AFTER_DESTRUCTION)
    assert client.get_crypto_key_version(request={"name": version}).state == State.DESTROYED


def test_a_version_is_deletable_only_once_destroyed(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    version = f"{_key(client)}/cryptoKeyVersions/1"
    with pytest.raises(gexc.BadRequest) as enabled:
        client.delete_crypto_key_version(request={"name": version})
    assert _status(enabled.value) == "FAILED_PRECONDITION"

    client.destroy_crypto_key_version(request={"name": version})
    with pytest.raises(gexc.BadRequest) as scheduled:  # DESTROY_SCHEDULED is not DESTROYED yet
        client.delete_crypto_key_version(request={"name": version})
    assert _status(scheduled.value) == "FAILED_PRECONDITION"

    emulator.clock.advance(AFTER_DESTRUCTION)
    operation = client.delete_crypto_key_version(request={"name": version})
    operation.result()
    assert operation.done()
    assert isinstance(operation.metadata, kms_v1.DeleteCryptoKeyVersionMetadata)
    with pytest.raises(gexc.NotFound):
        client.get_crypto_key_version(request={"name": version})
    key = version.rpartition("/cryptoKeyVersions/")[0]
    assert list(client.list_crypto_key_versions(request={"parent": key})) == []


def test_a_deleted_version_number_is_never_given_again(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    key = _key(client)
    second = client.create_crypto_key_version(request={"parent": key, "crypto_key_version": {}}).name
    assert second.endswith("/cryptoKeyVersions/2")
    _destroyed(client, emulator, second)
    client.delete_crypto_key_version(request={"name": second}).result()
    third = client.create_crypto_key_version(request={"parent": key, "crypto_key_version": {}})
    assert third.name.endswith("/cryptoKeyVersions/3")


def test_a_key_is_deletable_once_its_versions_are_and_its_name_retires(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    key = _key(client)
    with pytest.raises(gexc.BadRequest) as has_versions:
        client.delete_crypto_key(request={"name": key})
    assert _status(has_versions.value) == "FAILED_PRECONDITION"

    version = f"{key}/cryptoKeyVersions/1"
    _destroyed(client, emulator, version)
    client.delete_crypto_key_version(request={"name": version}).result()
    operation = client.delete_crypto_key(request={"name": key})
    operation.result()
    retired_name = operation.metadata.retired_resource
    assert retired_name.startswith(f"{PARENT}/retiredResources/")

    with pytest.raises(gexc.NotFound):
        client.get_crypto_key(request={"name": key})
    assert [k.name for k in client.list_crypto_keys(request={"parent": RING})] == []

    retired = client.get_retired_resource(request={"name": retired_name})
    assert retired.original_resource == key
    assert retired.resource_type == "cloudkms.googleapis.com/CryptoKey"
    assert retired.delete_time == emulator.clock.now()
    listed = list(client.list_retired_resources(request={"parent": PARENT}))
    assert [r.name for r in listed] == [retired_name]

    with pytest.raises(gexc.Conflict) as reused:
        _key(client)
    assert _status(reused.value) == "ALREADY_EXISTS"


def test_the_operation_of_a_deletion_is_answered_again(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    key = _key(client)
    version = f"{key}/cryptoKeyVersions/1"
    _destroyed(client, emulator, version)
    client.delete_crypto_key_version(request={"name": version}).result()
    first = client.delete_crypto_key(request={"name": key}).operation
    again = client.get_operation(request=operations_pb2.GetOperationRequest(name=first.name))
    assert again.name.startswith(f"{PARENT}/operations/")
    assert again.done and again == first
    with pytest.raises(gexc.NotFound):
        client.get_operation(request=operations_pb2.GetOperationRequest(name=f"{PARENT}/operations/none"))


def test_missing_retired_resources_and_locations_without_any(
    client: kms_v1.KeyManagementServiceClient,
) -> None:
    assert list(client.list_retired_resources(request={"parent": PARENT})) == []
    with pytest.raises(gexc.NotFound):
        client.get_retired_resource(request={"name": f"{PARENT}/retiredResources/nope"})
    with pytest.raises(gexc.NotFound):
        client.delete_crypto_key(request={"name": f"{RING}/cryptoKeys/absent"})


def test_an_import_failed_version_is_deletable_a_successfully_imported_one_is_not(
    client: kms_v1.KeyManagementServiceClient, emulator: _Emulator
) -> None:
    key = _key(client)
    now = emulator.clock.now()
    job = f"{RING}/importJobs/job"
    failed = emulator.backend.add_imported_version(
        key, "GOOGLE_SYMMETRIC_ENCRYPTION", None, {"importJob": job}
    )
    imported = emulator.backend.add_imported_version(
        key, "GOOGLE_SYMMETRIC_ENCRYPTION", bytes(32), {"importJob": job, "importTime": now}
    )
    assert failed["state"] == "IMPORT_FAILED"
    client.delete_crypto_key_version(request={"name": failed["name"]}).result()

    client.destroy_crypto_key_version(request={"name": imported["name"]})
    emulator.clock.advance(AFTER_DESTRUCTION)
    with pytest.raises(gexc.BadRequest) as refused:
        client.delete_crypto_key_version(request={"name": imported["name"]})
    assert _status(refused.value) == "FAILED_PRECONDITION"


def test_a_persistent_keyring_keeps_deletions_and_retired_names(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "kms.json"
    backend = PersistentKmsBackend(clock, seed=3, path=path)
    backend.create_key_ring(PARENT, "ring")
    key = backend.create_crypto_key(RING, "key")["name"]
    gone = backend.create_crypto_key(RING, "gone")["name"]
    backend.create_crypto_key_version(key)
    for version in (f"{key}/cryptoKeyVersions/2", f"{gone}/cryptoKeyVersions/1"):
        backend.destroy_version(version)
    clock.advance(AFTER_DESTRUCTION)
    lifecycle.delete_crypto_key_version(backend, f"{key}/cryptoKeyVersions/2")
    lifecycle.delete_crypto_key_version(backend, f"{gone}/cryptoKeyVersions/1")
    lifecycle.delete_crypto_key(backend, gone)

    restarted = PersistentKmsBackend(clock, seed=3, path=path)
    assert [v["name"] for v in restarted.list_crypto_key_versions(key)] == [f"{key}/cryptoKeyVersions/1"]
    assert restarted.create_crypto_key_version(key)["name"] == f"{key}/cryptoKeyVersions/3"
    assert [r["originalResource"] for r in lifecycle.list_retired_resources(restarted, PARENT)] == [gone]
    with pytest.raises(kms_errors.CryptoKeyNameRetired):
        restarted.create_crypto_key(RING, "gone")
