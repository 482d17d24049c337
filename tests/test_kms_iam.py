"""IAM policies on Cloud KMS key rings, keys and import jobs through the real client (REST).

Written from the IAM v1 reference (getIamPolicy / setIamPolicy / testIamPermissions) and Cloud
KMS's access-control docs: the documented read-modify-write (get the policy, add or remove a member
in a binding, set it back with the etag read) works; a stale etag is refused as a concurrent change
(ABORTED, HTTP 409); conditional bindings need policy version 3. Policies are stored, not enforced.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from google.api_core import exceptions as gexc
from google.cloud import kms_v1
from google.iam.v1 import policy_pb2

from fakes.kms.models import KmsBackend
from harness.clock import ManualClock
from tests.test_kms_rest import _Emulator, fresh_client

PARENT = "projects/test-project/locations/global"
RING = f"{PARENT}/keyRings/ring"
KEY = f"{RING}/cryptoKeys/key"
ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@pytest.fixture(scope="module")
def emulator() -> Iterator[_Emulator]:
    clock = ManualClock()
    with _Emulator(KmsBackend(clock, seed=5), clock) as running:
        yield running


@pytest.fixture
def client(emulator: _Emulator) -> kms_v1.KeyManagementServiceClient:
    client = fresh_client(emulator)
    client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    client.create_crypto_key(
        request={
            "parent": RING,
            "crypto_key_id": "key",
            "crypto_key": {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT},
        }
    )
    return client


def _members(policy: policy_pb2.Policy, role: str = ROLE) -> list[str]:
    return [m for b in policy.bindings if b.role == role for m in b.members]


def test_a_resource_without_a_policy_has_the_empty_one(client: kms_v1.KeyManagementServiceClient) -> None:
    for resource in (RING, KEY):
        policy = client.get_iam_policy(request={"resource": resource})
        assert policy.version == 1
        assert list(policy.bindings) == []
        assert policy.etag == base64.b64decode("ACAB")


def test_add_then_remove_a_member_with_the_read_modify_write(
    client: kms_v1.KeyManagementServiceClient,
) -> None:
    policy = client.get_iam_policy(request={"resource": KEY})
    policy.bindings.add(role=ROLE, members=["group:ops@example.com", "user:ann@example.com"])
    updated = client.set_iam_policy(request={"resource": KEY, "policy": policy})
    assert _members(updated) == ["group:ops@example.com", "user:ann@example.com"]
    assert updated.etag != policy.etag
    assert client.get_iam_policy(request={"resource": KEY}) == updated

    current = client.get_iam_policy(request={"resource": KEY})
    for binding in current.bindings:
        if binding.role == ROLE and "group:ops@example.com" in binding.members:
            binding.members.remove("group:ops@example.com")
    after = client.set_iam_policy(request={"resource": KEY, "policy": current})
    assert _members(after) == ["user:ann@example.com"]
    # The key ring's policy is its own.
    assert list(client.get_iam_policy(request={"resource": RING}).bindings) == []


def test_a_stale_etag_is_refused_as_a_concurrent_change(client: kms_v1.KeyManagementServiceClient) -> None:
    read = client.get_iam_policy(request={"resource": RING})
    first = policy_pb2.Policy()
    first.CopyFrom(read)
    first.bindings.add(role=ROLE, members=["user:a@example.com"])
    client.set_iam_policy(request={"resource": RING, "policy": first})
    read.bindings.add(role=ROLE, members=["user:b@example.com"])
    with pytest.raises(gexc.Conflict) as conflict:
        client.set_iam_policy(request={"resource": RING, "policy": read})
    assert conflict.value.response.json()["error"]["status"] == "ABORTED"
    assert _members(client.get_iam_policy(request={"resource": RING})) == ["user:a@example.com"]


def test_conditional_bindings_need_policy_version_3(client: kms_v1.KeyManagementServiceClient) -> None:
    policy = policy_pb2.Policy()
    binding = policy.bindings.add(role=ROLE, members=["user:a@example.com"])
    binding.condition.expression = 'request.time < timestamp("2030-01-01T00:00:00Z")'
    binding.condition.title = "until 2030"
    with pytest.raises(gexc.BadRequest):
        client.set_iam_policy(request={"resource": KEY, "policy": policy})
    policy.version = 3
    stored = client.set_iam_policy(request={"resource": KEY, "policy": policy})
    assert stored.version == 3
    assert stored.bindings[0].condition.title == "until 2030"
    fetched = client.get_iam_policy(request={"resource": KEY, "options": {"requested_policy_version": 3}})
    assert fetched == stored


def test_import_job_policies_and_missing_resources(client: kms_v1.KeyManagementServiceClient) -> None:
    job = client.create_import_job(
        request={
            "parent": RING,
            "import_job_id": "job",
            "import_job": {
                "import_method": kms_v1.ImportJob.ImportMethod.RSA_OAEP_3072_SHA1_AES_256,
                "protection_level": kms_v1.ProtectionLevel.HSM,
            },
        }
    )
    policy = client.get_iam_policy(request={"resource": job.name})
    policy.bindings.add(role="roles/cloudkms.importer", members=["user:a@example.com"])
    assert _members(
        client.set_iam_policy(request={"resource": job.name, "policy": policy}), "roles/cloudkms.importer"
    )
    for missing in (f"{PARENT}/keyRings/none", f"{RING}/cryptoKeys/none", f"{RING}/importJobs/none"):
        with pytest.raises(gexc.NotFound):
            client.get_iam_policy(request={"resource": missing})


def test_test_iam_permissions_grants_what_is_asked(client: kms_v1.KeyManagementServiceClient) -> None:
    asked = ["cloudkms.cryptoKeyVersions.useToEncrypt", "cloudkms.cryptoKeys.get"]
    answer = client.test_iam_permissions(request={"resource": KEY, "permissions": asked})
    assert list(answer.permissions) == asked
    assert list(client.test_iam_permissions(request={"resource": RING, "permissions": []}).permissions) == []
