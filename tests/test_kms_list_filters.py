"""``filter`` and ``orderBy`` on the Cloud KMS list methods through the real ``google-cloud-kms``
client (REST), written from the KMS docs' "Sorting and filtering list results" page and the list
methods' references: a filter keeps the matching resources (``state != DESTROYED AND ...``,
``labels.env=prod``, ``purpose=ENCRYPT_DECRYPT``, ``OR``, ``NOT``, ``:``), ``orderBy`` sorts them
(``name desc``), and what the emulator cannot read is a 400 naming the parameter, never ignored.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api_core import exceptions as gexc
from google.cloud import kms_v1

from fakes.kms.exceptions import InvalidListFilter
from fakes.kms.list_filters import filtered
from fakes.kms.models import KmsBackend
from harness.clock import ManualClock
from tests.test_kms_rest import _Emulator, fresh_client

PARENT = "projects/test-project/locations/us-east1"
RING = f"{PARENT}/keyRings/ring"
Purpose = kms_v1.CryptoKey.CryptoKeyPurpose


@pytest.fixture(scope="module")
def emulator() -> Iterator[_Emulator]:
    clock = ManualClock()
    with _Emulator(KmsBackend(clock, seed=5), clock) as running:
        yield running


@pytest.fixture
def client(emulator: _Emulator) -> kms_v1.KeyManagementServiceClient:
    client = fresh_client(emulator)
    client.create_key_ring(request={"parent": PARENT, "key_ring_id": "ring", "key_ring": {}})
    for key_id, env in (("alpha", "prod"), ("beta", "dev"), ("gamma", "prod")):
        client.create_crypto_key(
            request={
                "parent": RING,
                "crypto_key_id": key_id,
                "crypto_key": {"purpose": Purpose.ENCRYPT_DECRYPT, "labels": {"env": env}},
            }
        )
    client.create_crypto_key(
        request={
            "parent": RING,
            "crypto_key_id": "signer",
            "crypto_key": {
                "purpose": Purpose.ASYMMETRIC_SIGN,
                "version_template": {"algorithm": "EC_SIGN_P256_SHA256"},
            },
        }
    )
    return client


def _keys(client: kms_v1.KeyManagementServiceClient, **request: str) -> list[str]:
    return [
        key.name.rsplit("/", 1)[1] for key in client.list_crypto_keys(request={"parent": RING, **request})
    ]


def test_a_label_filter_keeps_the_matching_keys(client: kms_v1.KeyManagementServiceClient) -> None:
    assert _keys(client, filter="labels.env=prod") == ["alpha", "gamma"]
    assert _keys(client, filter='labels.env="dev" OR labels.env=prod') == ["alpha", "beta", "gamma"]
    assert _keys(client, filter="labels.env:*") == ["alpha", "beta", "gamma"]
    assert _keys(client, filter="NOT labels.env=prod") == ["beta", "signer"]


def test_enum_fields_and_snake_case_paths_filter(client: kms_v1.KeyManagementServiceClient) -> None:
    assert _keys(client, filter="purpose=ASYMMETRIC_SIGN") == ["signer"]
    assert _keys(client, filter="version_template.algorithm=EC_SIGN_P256_SHA256") == ["signer"]
    assert _keys(client, filter="purpose=ENCRYPT_DECRYPT AND labels.env!=prod") == ["beta"]


def test_the_samples_cleanup_filter_skips_destroyed_versions(
    client: kms_v1.KeyManagementServiceClient,
) -> None:
    key = f"{RING}/cryptoKeys/alpha"
    client.create_crypto_key_version(request={"parent": key, "crypto_key_version": {}})
    client.destroy_crypto_key_version(request={"name": f"{key}/cryptoKeyVersions/1"})
    live = client.list_crypto_key_versions(
        request={"parent": key, "filter": "state != DESTROYED AND state != DESTROY_SCHEDULED"}
    )
    assert [version.name.rsplit("/", 1)[1] for version in live] == ["2"]


def test_order_by_sorts_and_descends(client: kms_v1.KeyManagementServiceClient) -> None:
    assert _keys(client, order_by="name desc") == ["signer", "gamma", "beta", "alpha"]
    assert _keys(client, order_by="purpose desc, name") == ["alpha", "beta", "gamma", "signer"]
    assert _keys(client, order_by="purpose, name desc", filter="labels.env:*") == ["gamma", "beta", "alpha"]


@pytest.mark.parametrize("bad", ["labels.env=", "(purpose=ENCRYPT_DECRYPT", "labels.env == prod", "purpose"])
def test_a_filter_the_emulator_cannot_read_is_refused_naming_it(
    client: kms_v1.KeyManagementServiceClient, bad: str
) -> None:
    with pytest.raises(gexc.BadRequest, match="Invalid filter"):
        _keys(client, filter=bad)


def test_an_order_by_the_emulator_cannot_read_is_refused_naming_it() -> None:
    with pytest.raises(InvalidListFilter, match="Invalid orderBy"):
        filtered([{"name": "a"}], None, "name sideways")
