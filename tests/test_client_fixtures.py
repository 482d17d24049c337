"""The fixtures a user's own suite gets for its own clients: ``bigquery_client``,
``bigquery_dataset``, ``kms_client`` + ``kms_key_name``, ``openai_client``, ``anthropic_client``; their
isolation modes; and the ``@pytest.mark.harness(tier=, seed=, data=)`` marker.

Each test runs an outside project with pytester, which reaches the plugin through its pytest11 entry
point as a user's run does, and uses no set-up of its own: the fixtures are the whole set-up. The
module is over 400 lines because each test carries the outside project's test file inline, so what
a user writes is read next to what it proves.
"""

from __future__ import annotations

import json
from pathlib import Path

import anthropic
import google.cloud.bigquery
import google.cloud.kms_v1
import httpcore2
import openai
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import harness.emulators

pytestmark = pytest.mark.slow  # deselected by --quick: the official clients against the session emulators

# In-process pytester runs drop the modules first imported during a run when it ends; importing the
# clients and the emulators here, in the outer session, keeps them loaded across runs (and saves
# importing them again for every run). httpcore2 above all: httpx2 imports it on the first request
# and caches its exception classes, so a copy dropped and imported again afterwards raises classes
# httpx2 no longer maps (the SDKs' later timeouts escape as raw httpcore2.ReadTimeout).
assert (
    google.cloud.bigquery and google.cloud.kms_v1 and httpcore2 and openai and anthropic and harness.emulators
)

pytest_plugins = ["pytester"]

INNER = ("-p", "no:randomly", "-p", "no:cacheprovider")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The inner runs must not inherit the outer run's tier, emulators or keys.
    for name in (
        "HARNESS_BACKEND",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
        "BIGQUERY_EMULATOR_HOST",
        "KMS_ENDPOINT",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GCP_PROJECT_ID",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ):
        monkeypatch.delenv(name, raising=False)


USER_TESTS = """
from google.cloud import bigquery


def test_bigquery_table_insert_query(bigquery_client, bigquery_dataset):
    table = bigquery.Table(
        f"{bigquery_dataset.project}.{bigquery_dataset.dataset_id}.events",
        schema=[bigquery.SchemaField("name", "STRING"), bigquery.SchemaField("n", "INT64")],
    )
    bigquery_client.create_table(table)
    assert bigquery_client.insert_rows_json(table, [{"name": "a", "n": 1}, {"name": "b", "n": 2}]) == []
    query = f"SELECT SUM(n) AS total FROM `{table.project}.{table.dataset_id}.events`"
    assert [row.total for row in bigquery_client.query(query).result()] == [3]


def test_kms_round_trip(kms_client, kms_key_name):
    ciphertext = kms_client.encrypt(request={"name": kms_key_name, "plaintext": b"secret"}).ciphertext
    assert ciphertext and b"secret" not in ciphertext
    assert kms_client.decrypt(request={"name": kms_key_name, "ciphertext": ciphertext}).plaintext == b"secret"


def test_openai_models(openai_client):
    assert "gpt-4o" in [model.id for model in openai_client.models.list()]
"""


def test_a_users_three_tests_pass_on_fake_and_emulator_with_no_setup(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*INNER, "-v", "--backend", "fake,emulator")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines_random(
        [
            f"*test_{name}?{tier}? PASSED*"
            for name in ("kms_round_trip", "openai_models")
            for tier in ("fake", "emulator")
        ]
    )


README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readmes_example_test_file_passes_as_it_is_written(pytester: pytest.Pytester) -> None:
    section = README.read_text(encoding="utf-8").split("## Use it in your project", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert example.startswith("# tests/test_my_app.py: the whole file")
    pytester.makepyfile(test_my_app=example)
    pytester.runpytest(*INNER, "--backend", "fake,emulator").assert_outcomes(passed=6)


def test_anthropic_client_is_the_official_sdk_on_the_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import anthropic

        def test_models(anthropic_client):
            assert isinstance(anthropic_client, anthropic.Anthropic)
            assert [model.id for model in anthropic_client.models.list()]

        def test_a_revoked_key_is_refused(anthropic_client, harness_emulator_state):
            harness_emulator_state.anthropic.revoke(anthropic_client.api_key)
            try:
                anthropic_client.models.list()
            except anthropic.AuthenticationError as exc:
                assert exc.status_code == 401
            else:
                raise AssertionError("a revoked key was accepted")
        """
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=2)


def test_the_sdk_clients_keep_their_defaults_and_verify_with_the_shared_tls_context(
    pytester: pytest.Pytester,
) -> None:
    """On the emulators the SDKs' clients are built with their own default HTTP client (timeouts,
    redirects), verifying with the harness's one TLS context: no CA bundle is loaded per test."""
    pytester.makepyfile(
        """
        import anthropic
        import openai

        from harness.tls import shared_tls_context

        def test_clients(openai_client, anthropic_client):
            for sdk, client in ((openai, openai_client), (anthropic, anthropic_client)):
                http = client._client
                assert isinstance(http, sdk.DefaultHttpxClient)
                assert http.timeout == sdk.DEFAULT_TIMEOUT and http.follow_redirects
                assert http._transport._pool._ssl_context is shared_tls_context()
        """
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


ISOLATION_TESTS = """
import openai
import pytest
from google.api_core.exceptions import NotFound

LEFT = {{}}


def test_first(bigquery_client, kms_client, openai_client, harness_emulator_state):
    bigquery_client.create_dataset("left_behind")
    parent = f"projects/{{bigquery_client.project}}/locations/global"
    ring = kms_client.create_key_ring(request={{"parent": parent, "key_ring_id": "left", "key_ring": {{}}}})
    openai_client.models.list()
    harness_emulator_state.openai.add_fault(status=500, times=3)
    LEFT.update(ring=ring.name, key=openai_client.api_key)


def test_second(bigquery_client, kms_client, harness_emulator_state):
    datasets = [dataset.dataset_id for dataset in bigquery_client.list_datasets()]
    faults = len(harness_emulator_state.openai.pending_faults)
    requests = len(harness_emulator_state.openai.requests)
    key_valid = harness_emulator_state.openai.is_valid(LEFT["key"])
    try:
        kms_client.get_key_ring(name=LEFT["ring"])
        ring_kept = True
    except NotFound:
        ring_kept = False
    assert (datasets, ring_kept, key_valid, faults, requests) == {expected}
"""


@pytest.mark.parametrize(
    ("args", "ini", "expected"),
    [
        pytest.param((), None, ([], False, False, 0, 0), id="function-by-default"),
        pytest.param(
            ("--harness-isolation=session",), None, (["left_behind"], True, True, 1, 1), id="session-option"
        ),
        pytest.param((), "session", (["left_behind"], True, True, 1, 1), id="session-ini"),
        pytest.param(
            ("--harness-isolation=function",), "session", ([], False, False, 0, 0), id="option-beats-ini"
        ),
    ],
)
def test_state_from_one_test_is_gone_in_the_next_unless_isolation_is_session(
    pytester: pytest.Pytester, args: tuple[str, ...], ini: str | None, expected: tuple[object, ...]
) -> None:
    if ini:
        pytester.makeini(f"[pytest]\nharness_isolation = {ini}\n")
    pytester.makepyfile(ISOLATION_TESTS.format(expected=expected))
    result = pytester.runpytest(*INNER, *args)
    result.assert_outcomes(passed=2)


def test_a_bad_isolation_mode_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--harness-isolation=module")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--harness-isolation 'module': choose function or session*"])
    pytester.makeini("[pytest]\nharness_isolation = never\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the harness_isolation ini value 'never': choose function or session*"])


def test_bigquery_dataset_is_deleted_with_its_contents_after_the_test(pytester: pytest.Pytester) -> None:
    # Session isolation, so no reset hides whether the fixture itself deleted the dataset.
    pytester.makepyfile(
        """
        import pytest
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        MADE = []

        def test_uses_a_dataset(bigquery_client, bigquery_dataset):
            assert bigquery_dataset.dataset_id.startswith("harness_")
            assert bigquery_dataset.labels == {"harness-fixture": "bigquery_dataset"}
            table = f"{bigquery_dataset.project}.{bigquery_dataset.dataset_id}.t"
            bigquery_client.create_table(bigquery.Table(table, schema=[bigquery.SchemaField("x", "INT64")]))
            MADE.append(bigquery_dataset.dataset_id)

        def test_it_is_gone(bigquery_client):
            assert [d.dataset_id for d in bigquery_client.list_datasets()] == []
            with pytest.raises(NotFound):
                bigquery_client.get_dataset(MADE[0])

        def test_each_test_gets_its_own(bigquery_dataset):
            assert bigquery_dataset.dataset_id != MADE[0]
        """
    )
    result = pytester.runpytest(*INNER, "--harness-isolation=session")
    result.assert_outcomes(passed=3)


def test_the_emulators_run_on_the_tests_clock(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from datetime import timedelta

        def test_clock(clock, harness_emulator_state, kms_client, kms_key_name):
            assert harness_emulator_state.clock is clock
            clock.advance(timedelta(days=3))
            key = kms_client.get_crypto_key(name=kms_key_name)
            assert key.create_time == clock.now() - timedelta(days=3)
        """
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


MARKED_TIERS = """
import pytest

@pytest.mark.harness(tier="emulator")
def test_on_emulator(harness_tier, bigquery_client):
    assert harness_tier == "emulator"

@pytest.mark.harness(tier=["fake", "emulator"])
def test_on_both(harness_tier):
    assert harness_tier in ("fake", "emulator")

@pytest.mark.harness(tier="gcp")
def test_on_gcp(harness_tier):
    raise AssertionError("must not run without --backend gcp")

def test_unmarked(harness_tier):
    pass
"""


def test_the_markers_tier_runs_the_test_on_that_tier_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MARKED_TIERS)
    result = pytester.runpytest(*INNER, "-v", "-rs", "--backend", "fake")
    result.assert_outcomes(passed=4, skipped=1)
    result.stdout.fnmatch_lines_random(
        [
            "*test_on_emulator?emulator? PASSED*",
            "*test_on_both?fake? PASSED*",
            "*test_on_both?emulator? PASSED*",
            "*test_unmarked PASSED*",
            "SKIPPED * marked @pytest.mark.harness(tier='gcp'): runs only with --run-integration*",
        ]
    )
    result = pytester.runpytest(*INNER, "-v", "--backend", "fake,emulator")
    result.assert_outcomes(passed=5, skipped=1)  # test_on_emulator once, test_unmarked twice
    assert "test_on_emulator[fake]" not in result.stdout.str()


def test_the_markers_seed_sets_the_fakes_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        KEYS = {}

        @pytest.mark.harness(seed=7)
        def test_a(openai_client, harness_seed):
            assert harness_seed == 7
            KEYS["a"] = openai_client.api_key

        @pytest.mark.harness(seed=7)
        def test_b(openai_client):
            KEYS["b"] = openai_client.api_key

        @pytest.mark.harness(seed=8)
        def test_c(openai_client):
            KEYS["c"] = openai_client.api_key

        @pytest.mark.harness(seed=7)
        def test_d_in_process_backends_too(openai_fake):
            KEYS["d"] = openai_fake.issue_key()

        def test_compare():
            assert KEYS["a"] == KEYS["b"] == KEYS["d"] != KEYS["c"]
        """
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=5)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            'data="nosuch.yml"',
            "*test_x: @pytest.mark.harness(data='nosuch.yml'): no such seed file: *nosuch.yml",
        ),
        ("data=3", "*test_x: @pytest.mark.harness(data=3): give a seed file's path or a list of them"),
        (
            'tier="aws"',
            "*test_x: @pytest.mark.harness(tier='aws'): 'aws' is not a tier; choose from fake, emulator, gcp",
        ),
        ("tier=[]", "*test_x: @pytest.mark.harness(tier=[]): give a tier name or a list of them*"),
        ('seed="x"', "*test_x: @pytest.mark.harness(seed='x'): the seed is a non-negative integer*"),
        ("sed=1", "*test_x: @pytest.mark.harness: unknown keyword 'sed'; it takes tier, seed, data*"),
        ('"fake"', "*test_x: @pytest.mark.harness takes keywords only (tier, seed, data), got ('fake',)*"),
    ],
)
@pytest.mark.parametrize("fixture", ["", "harness_tier"], ids=["plain-test", "tier-aware-test"])
def test_a_bad_marker_is_a_usage_error_naming_the_test(
    pytester: pytest.Pytester, marker: str, message: str, fixture: str
) -> None:
    # A plain test too: the marker is checked for every test, not only those it would affect.
    pytester.makepyfile(
        f"import pytest\n\n@pytest.mark.harness({marker})\ndef test_x({fixture}):\n    pass\n"
    )
    result = pytester.runpytest(*INNER, "--backend", "fake,emulator")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert "harness/pytest_plugin" not in result.stdout.str()


def test_a_marker_seed_under_session_isolation_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.harness(seed=3)
        def test_x(openai_client):
            pass
        """
    )
    result = pytester.runpytest(*INNER, "--harness-isolation=session")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_x: @pytest.mark.harness(seed=...) needs function isolation*"])
    assert "Traceback" not in result.stdout.str()


def test_the_harness_marker_is_registered_under_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("import pytest\n\n@pytest.mark.harness(tier='fake')\ndef test_x():\n    pass\n")
    pytester.runpytest(*INNER, "--strict-markers").assert_outcomes(passed=1)
    pytester.runpytest("--markers").stdout.fnmatch_lines(
        ["@pytest.mark.harness(tier=..., seed=..., data=...): *"]
    )


def test_a_missing_provider_sdk_fails_saying_what_to_install(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import sys\n\nsys.modules['anthropic'] = None  # as if not installed\n")
    pytester.makepyfile("def test_x(anthropic_client):\n    pass\n")
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*anthropic_client needs the anthropic package, which is not installed: pip install anthropic*"]
    )


# ------------------------------------------------------------------------------------------ gcp


NO_NETWORK = """
import socket

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(self, address):
        raise AssertionError(f"a fixture connected to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
"""

GCP_TESTS = """
from google.oauth2 import service_account


def test_bigquery(bigquery_client):
    assert bigquery_client.project == "acme-prod"
    assert isinstance(bigquery_client._credentials, service_account.Credentials)
    assert bigquery_client._credentials.service_account_email == "ci@acme-prod.iam.gserviceaccount.com"
    assert bigquery_client._connection.API_BASE_URL == "https://bigquery.googleapis.com"


def test_kms(kms_client):
    assert kms_client.transport.kind == "rest"
    assert kms_client.transport._host == "https://cloudkms.googleapis.com"
    assert kms_client.transport._credentials.service_account_email == "ci@acme-prod.iam.gserviceaccount.com"


def test_openai(openai_client):
    assert openai_client.api_key == "sk-real-openai"
    assert str(openai_client.base_url) == "https://api.openai.com/v1/"


def test_anthropic(anthropic_client):
    assert anthropic_client.api_key == "sk-ant-real"
    assert str(anthropic_client.base_url) == "https://api.anthropic.com"


def test_no_emulators_on_gcp(harness_emulator_state):
    pass
"""


def _service_account_file(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "0" * 40,
        "private_key": pem,
        "client_email": "ci@acme-prod.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info))
    return path


def test_on_gcp_the_clients_take_the_real_project_credentials_and_keys_and_send_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GCP_PROJECT_ID", "acme-prod")
    monkeypatch.setenv(
        "GOOGLE_APPLICATION_CREDENTIALS", str(_service_account_file(pytester.path / "sa.json"))
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-real")
    pytester.makeconftest(NO_NETWORK)
    pytester.makepyfile(GCP_TESTS)
    result = pytester.runpytest(*INNER, "-rs", "--run-integration", "--backend", "gcp")
    result.assert_outcomes(passed=4, skipped=1)
    result.stdout.fnmatch_lines(
        ["SKIPPED * the gcp tier talks to real services; there are no emulators to reach"]
    )


def test_on_gcp_a_missing_project_or_key_fails_naming_the_variable(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "GOOGLE_APPLICATION_CREDENTIALS", str(_service_account_file(pytester.path / "sa.json"))
    )
    pytester.makeconftest(NO_NETWORK)
    pytester.makepyfile(GCP_TESTS)
    result = pytester.runpytest(*INNER, "--run-integration", "--backend", "gcp", "-k", "bigquery or openai")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*the gcp tier needs a real project: set GCP_PROJECT_ID*",
            "*openai_client on the gcp tier needs a real key: set OPENAI_API_KEY*",
        ]
    )
