"""``@pytest.mark.harness(data=...)``: a user's test names seed files (relative to the test file) and
the emulators behind its client fixtures hold that data, after the reset, on fake and emulator.

Each test runs an outside project with pytester, as ``test_client_fixtures.py`` does.
"""

from __future__ import annotations

import anthropic
import google.cloud.bigquery
import google.cloud.kms_v1
import httpcore2
import openai
import pytest

import harness.emulators

# Kept loaded across the in-process pytester runs (see test_client_fixtures.py for why httpcore2).
assert (
    google.cloud.bigquery and google.cloud.kms_v1 and httpcore2 and openai and anthropic and harness.emulators
)

pytest_plugins = ["pytester"]

INNER = ("-p", "no:randomly", "-p", "no:cacheprovider")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The inner runs must not inherit the outer run's tier, emulators or keys.
    for name in ("HARNESS_BACKEND", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "OPENAI_API_KEY", "GCP_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


RING = "projects/cloudact-local/locations/global/keyRings/seeded"

SEED = f"""\
bigquery:
  projects:
    cloudact-local:
      datasets:
        shop:
          tables:
            customers:
              schema: [{{name: id, type: INT64}}, {{name: name, type: STRING}}]
              rows: [{{id: 1, name: acme}}, {{id: 2, name: globex}}]
kms:
  key_rings:
    - name: {RING}
      keys: [{{id: app}}]
"""

MORE = """\
openai:
  keys: [{key: sk-test-from-the-seed-file-0001}]
"""

USER_TESTS = f"""
import openai
import pytest


@pytest.mark.harness(data="seeds/shop.yml")
def test_seeded(bigquery_client, kms_client):
    rows = bigquery_client.query("SELECT name FROM `cloudact-local.shop.customers` ORDER BY id").result()
    assert [row.name for row in rows] == ["acme", "globex"]
    key = "{RING}/cryptoKeys/app"
    ciphertext = kms_client.encrypt(request={{"name": key, "plaintext": b"x"}}).ciphertext
    assert kms_client.decrypt(request={{"name": key, "ciphertext": ciphertext}}).plaintext == b"x"


def test_unmarked_sees_nothing(bigquery_client):
    assert list(bigquery_client.list_datasets()) == []


@pytest.mark.harness(data=["seeds/shop.yml", "seeds/more.yml"])
def test_two_files(bigquery_client, openai_client):
    assert bigquery_client.get_table("cloudact-local.shop.customers").num_rows == 2
    seeded = openai.OpenAI(api_key="sk-test-from-the-seed-file-0001", base_url=openai_client.base_url)
    assert seeded.models.list().data
"""


def test_the_markers_data_seeds_the_emulators_behind_the_client_fixtures(pytester: pytest.Pytester) -> None:
    pytester.mkdir("seeds")
    pytester.path.joinpath("seeds", "shop.yml").write_text(SEED)
    pytester.path.joinpath("seeds", "more.yml").write_text(MORE)
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*INNER, "-v", "--backend", "fake,emulator")
    result.assert_outcomes(passed=6)


def test_a_bad_seed_file_fails_the_test_with_file_line_and_field(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("seed.yml").write_text(
        "bigquery:\n  projects:\n    p:\n      datasets:\n        d: []\n"
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.harness(data="seed.yml")
        def test_x(bigquery_client):
            pass
        """
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*test_x: @pytest.mark.harness(data=...): *seed.yml:5: bigquery.projects.p.datasets.d: "
            "expected a mapping, got a list"
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_the_markers_data_under_session_isolation_is_refused(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("seed.yml").write_text(MORE)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.harness(data="seed.yml")
        def test_x(openai_client):
            pass
        """
    )
    result = pytester.runpytest(*INNER, "--harness-isolation=session")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_x: @pytest.mark.harness(data=...) needs function isolation*"])


def test_data_on_a_test_that_reaches_no_emulator_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("seed.yml").write_text(MORE)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.harness(data="seed.yml")
        def test_x(harness_tier):
            pass
        """
    )
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*test_x: @pytest.mark.harness(data=...): the seed files go into the emulators behind *; "
            "this test uses none of them"
        ]
    )


def test_a_seeded_test_is_skipped_on_gcp_where_nothing_is_seeded(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai")
    pytester.path.joinpath("seed.yml").write_text(MORE)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.harness(data="seed.yml")
        def test_seeded(openai_client):
            pass

        def test_plain(openai_client):
            assert openai_client.api_key == "sk-real-openai"
        """
    )
    result = pytester.runpytest(*INNER, "-rs", "--run-integration", "--backend", "gcp")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["SKIPPED * @pytest.mark.harness(data=...) seeds the emulators; on gcp nothing is seeded"]
    )
