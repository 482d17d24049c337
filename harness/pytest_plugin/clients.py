"""Fixtures for a user's own clients: the official Google and provider SDKs, ready to use.

``bigquery_client``, ``kms_client`` (+ ``kms_key_name``), ``openai_client``, ``anthropic_client``
and ``bigquery_dataset`` are what a team's own code takes, built for the test's tier:

* ``fake`` and ``emulator``: the real clients on the session's embedded emulators
  (``harness_emulators``) with anonymous credentials and provider keys the emulators minted. The
  fake tier has no wire of its own to offer a user's client, so both tiers serve these the same
  way; the difference between them is in ``harness_backends``.
* ``gcp``: real BigQuery and Cloud KMS with ``GCP_PROJECT_ID`` and ``GOOGLE_APPLICATION_CREDENTIALS``
  (or Application Default Credentials), real providers with ``OPENAI_API_KEY`` /
  ``ANTHROPIC_API_KEY``.

Isolation (``--harness-isolation`` / ini ``harness_isolation``): ``function`` (default) resets the
emulators before every test that uses one of these fixtures — datasets, tables, jobs, KMS keys,
provider keys, faults and request logs are gone — onto the test's ``clock`` and ``harness_seed``;
``session`` resets nothing, for speed, so tests must not depend on each other's data. The marker's
``data=`` seed files are applied after the reset (function isolation only).

Nothing here is imported until a fixture is used; ``openai`` and ``anthropic`` are the user's
dependencies, not the harness's, and a test that asks for their client without them installed fails
saying what to install. On the emulators the SDKs' clients keep their own HTTP defaults but verify
with the harness's shared TLS context (:mod:`harness.tls`), so no CA bundle is loaded per test.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.pytest_plugin.mark import harness_mark
from harness.pytest_plugin.options import isolation

if TYPE_CHECKING:
    from google.cloud import bigquery, kms_v1

    from harness.emulators import Emulators
    from harness.services.settings import Settings

KEY_RING_ENV = "HARNESS_KMS_KEY_RING"
"""gcp: the key ring ``kms_key_name`` reuses (a full name); Cloud KMS cannot delete key rings or keys."""
KEY_ID_ENV = "HARNESS_KMS_KEY_ID"
"""gcp: the crypto key ``kms_key_name`` reuses in that ring."""
DEFAULT_KEY_RING_ID = "harness-tests"
DEFAULT_KEY_ID = "harness-test-key"
KMS_LOCATION = "global"


@pytest.fixture
def harness_emulator_state(request: pytest.FixtureRequest, harness_tier: str, harness_seed: int) -> Emulators:
    """The session's emulators, reset for this test under ``function`` isolation (onto the test's
    ``clock`` and ``harness_seed``), as they are under ``session`` isolation. ``.openai`` /
    ``.anthropic`` reach the provider fakes' state (``add_fault``, ``issue_key``...). Skipped on
    gcp, where there is nothing of ours behind the clients."""
    if harness_tier == "gcp":
        pytest.skip("the gcp tier talks to real services; there are no emulators to reach")
    emulators: Emulators = request.getfixturevalue("harness_emulators")
    mark = harness_mark(request.node)
    if isolation(request.config) == "session":
        for keyword, value in (("seed", mark.seed), ("data", mark.data or None)):
            if value is not None:
                pytest.fail(
                    f"{request.node.nodeid}: @pytest.mark.harness({keyword}=...) needs function isolation; "
                    "under --harness-isolation=session the emulators are shared by the whole session",
                    pytrace=False,
                )
        return emulators
    emulators.reset(clock=request.getfixturevalue("clock"), seed=harness_seed)
    _seed_from_files(request, emulators, mark.data)
    return emulators


def _seed_from_files(request: pytest.FixtureRequest, emulators: Emulators, paths: tuple[Path, ...]) -> None:
    """The marker's ``data=`` files, applied in order; a bad file fails the test with its
    ``path:line: field: message``."""
    if not paths:
        return
    from harness.seeding import SeedError, apply_seed, load_seed_file

    try:
        for path in paths:
            apply_seed(load_seed_file(path), emulators)
    except SeedError as exc:
        pytest.fail(f"{request.node.nodeid}: @pytest.mark.harness(data=...): {exc}", pytrace=False)


@pytest.fixture
def bigquery_client(
    request: pytest.FixtureRequest, harness_tier: str, harness_settings: Settings
) -> Iterator[bigquery.Client]:
    """google-cloud-bigquery's ``Client`` for ``GCP_PROJECT_ID``: on the BigQuery emulator with
    anonymous credentials, or real BigQuery with real credentials on gcp."""
    from google.cloud import bigquery

    if harness_tier == "gcp":
        _skip_seeded_on_gcp(request)
        client = bigquery.Client(
            project=_gcp_project(harness_settings), credentials=_gcp_credentials(harness_settings)
        )
    else:
        from google.auth.credentials import AnonymousCredentials

        emulators = _emulators(request)
        client = bigquery.Client(
            project=harness_settings.gcp_project_id,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulators.bigquery_url},
        )
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def bigquery_dataset(
    request: pytest.FixtureRequest, bigquery_client: bigquery.Client
) -> Iterator[bigquery.Dataset]:
    """A dataset made for this test (``harness_<hex>``, labelled ``harness-fixture``), deleted with
    its contents afterwards on every tier, so a failed test leaves nothing behind on gcp either."""
    from google.cloud import bigquery

    dataset = bigquery.Dataset(f"{bigquery_client.project}.harness_{secrets.token_hex(6)}")
    dataset.labels = {"harness-fixture": "bigquery_dataset"}
    dataset = bigquery_client.create_dataset(dataset)
    try:
        yield dataset
    finally:
        bigquery_client.delete_dataset(dataset, delete_contents=True, not_found_ok=True)


@pytest.fixture
def kms_client(
    request: pytest.FixtureRequest, harness_tier: str, harness_settings: Settings
) -> Iterator[kms_v1.KeyManagementServiceClient]:
    """google-cloud-kms's ``KeyManagementServiceClient`` (REST transport): on the KMS emulator with
    anonymous credentials, or real Cloud KMS with real credentials on gcp."""
    from google.cloud import kms_v1

    if harness_tier == "gcp":
        _skip_seeded_on_gcp(request)
        client = kms_v1.KeyManagementServiceClient(
            transport="rest", credentials=_gcp_credentials(harness_settings)
        )
    else:
        from google.auth.credentials import AnonymousCredentials

        client = kms_v1.KeyManagementServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": _emulators(request).kms_url},
        )
    try:
        yield client
    finally:
        client.transport.close()


@pytest.fixture
def kms_key_name(
    harness_tier: str, harness_settings: Settings, kms_client: kms_v1.KeyManagementServiceClient
) -> str:
    """The full name of a symmetric ENCRYPT_DECRYPT crypto key for this test.

    On the emulators: a new key ring and key (unique names). On gcp, where key rings and keys
    cannot be deleted, one key ring and key are reused across runs, created the first time:
    ``$HARNESS_KMS_KEY_RING`` (default ``projects/$GCP_PROJECT_ID/locations/global/keyRings/
    harness-tests``) and ``$HARNESS_KMS_KEY_ID`` (default ``harness-test-key``)."""
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import kms_v1

    if harness_tier == "gcp":
        location = f"projects/{_gcp_project(harness_settings)}/locations/{KMS_LOCATION}"
        ring = os.environ.get(KEY_RING_ENV) or f"{location}/keyRings/{DEFAULT_KEY_RING_ID}"
        key_id = os.environ.get(KEY_ID_ENV) or DEFAULT_KEY_ID
    else:
        location = f"projects/{harness_settings.gcp_project_id}/locations/{KMS_LOCATION}"
        ring = f"{location}/keyRings/harness-{secrets.token_hex(6)}"
        key_id = f"key-{secrets.token_hex(6)}"
    parent, _, ring_id = ring.rpartition("/keyRings/")
    with contextlib.suppress(AlreadyExists):  # gcp: the reused ring exists after the first run
        kms_client.create_key_ring(request={"parent": parent, "key_ring_id": ring_id, "key_ring": {}})
    key = {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT}
    try:
        return kms_client.create_crypto_key(
            request={"parent": ring, "crypto_key_id": key_id, "crypto_key": key}
        ).name
    except AlreadyExists:
        return f"{ring}/cryptoKeys/{key_id}"


@pytest.fixture
def openai_client(
    request: pytest.FixtureRequest, harness_tier: str, harness_settings: Settings
) -> Iterator[Any]:
    """The official ``openai.OpenAI`` client: on the OpenAI emulator with a key it minted, or the
    real API with ``OPENAI_API_KEY`` (and ``OPENAI_BASE_URL`` when set) on gcp."""
    openai = _sdk("openai", "openai_client")
    if harness_tier == "gcp":
        _skip_seeded_on_gcp(request)
        key = _provider_key(harness_settings.openai_api_key, "OPENAI_API_KEY", "openai_client")
        client = openai.OpenAI(api_key=key, base_url=harness_settings.openai_base_url)
    else:
        from harness.tls import shared_tls_context

        emulators = _emulators(request)
        client = openai.OpenAI(
            api_key=emulators.openai.issue_key(),
            base_url=emulators.openai_url + "/v1",
            http_client=openai.DefaultHttpxClient(verify=shared_tls_context()),
        )
    with client:
        yield client


@pytest.fixture
def anthropic_client(
    request: pytest.FixtureRequest, harness_tier: str, harness_settings: Settings
) -> Iterator[Any]:
    """The official ``anthropic.Anthropic`` client: on the Anthropic emulator with a key it minted,
    or the real API with ``ANTHROPIC_API_KEY`` (and ``ANTHROPIC_BASE_URL`` when set) on gcp."""
    anthropic = _sdk("anthropic", "anthropic_client")
    if harness_tier == "gcp":
        _skip_seeded_on_gcp(request)
        key = _provider_key(harness_settings.anthropic_api_key, "ANTHROPIC_API_KEY", "anthropic_client")
        client = anthropic.Anthropic(api_key=key, base_url=harness_settings.anthropic_base_url)
    else:
        from harness.tls import shared_tls_context

        emulators = _emulators(request)
        client = anthropic.Anthropic(
            api_key=emulators.anthropic.issue_key(),
            base_url=emulators.anthropic_url,
            http_client=anthropic.DefaultHttpxClient(verify=shared_tls_context()),
        )
    with client:
        yield client


def _emulators(request: pytest.FixtureRequest) -> Emulators:
    emulators: Emulators = request.getfixturevalue("harness_emulator_state")
    return emulators


def _skip_seeded_on_gcp(request: pytest.FixtureRequest) -> None:
    """Seed files go into the emulators; the real services behind the gcp clients hold none of it."""
    if harness_mark(request.node).data:
        pytest.skip("@pytest.mark.harness(data=...) seeds the emulators; on gcp nothing is seeded")


def _sdk(module: str, fixture: str) -> Any:
    """The provider SDK, imported when its fixture is used; a clear failure when not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.fail(
            f"{fixture} needs the {module} package, which is not installed: pip install {module}",
            pytrace=False,
        )


def _provider_key(secret: Any, variable: str, fixture: str) -> str:
    if secret is None or not secret.get_secret_value():
        pytest.fail(f"{fixture} on the gcp tier needs a real key: set {variable}", pytrace=False)
    return str(secret.get_secret_value())


def _gcp_project(settings: Settings) -> str:
    from harness.services.settings import Settings

    if settings.gcp_project_id == Settings.model_fields["gcp_project_id"].default:
        pytest.fail("the gcp tier needs a real project: set GCP_PROJECT_ID", pytrace=False)
    return settings.gcp_project_id


def _gcp_credentials(settings: Settings) -> Any:
    from harness.backends.gcp import GcpConfigError, gcp_credentials

    try:
        return gcp_credentials(settings)
    except GcpConfigError as exc:
        pytest.fail(f"the gcp tier needs Google credentials: {exc}", pytrace=False)
