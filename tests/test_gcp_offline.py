"""The gcp tier, proved offline: its real credential code (a service-account key file, google-auth's
JWT-bearer grant, token refresh on a 401), its project and key-name settings, its adapters and its
clients' retries, against emulators that authenticate like Google (``Emulators(auth=True)``).

One set of authenticating emulators serves the whole module, on a manual clock; every run makes
its own org, so the tests share them safely. The key file's ``token_uri`` points at the local
token endpoint; nothing here uses AnonymousCredentials.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.auth import jwt as google_jwt
from google.auth.crypt import RSASigner
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from fakes.google_oauth import TOKEN_LIFETIME, ServiceAccountKey, TokenAuthority, generate_key
from fakes.google_oauth.exceptions import (
    AccessTokenExpired,
    AccountNotFound,
    CredentialsMissing,
    InvalidCredentials,
    InvalidJwtSignature,
    InvalidJwtTimeframe,
    MalformedAssertion,
    UnsupportedGrantType,
)
from fakes.google_oauth.keys import GOOGLE_TOKEN_URI
from fakes.google_oauth.models import CLOCK_SKEW, JWT_BEARER
from fakes.google_oauth.services import bigquery_method, kms_method
from harness.backends.gcp import GcpConfigError, build_gcp
from harness.clock import ManualClock
from harness.emulators import Emulators
from harness.faults.backend import BackendFault, Port
from harness.scenario.loader import load_scenario
from harness.scenario.model import Tier
from harness.scenario.runner import run_scenario
from harness.services.settings import Settings

pytestmark = pytest.mark.slow  # deselected by --quick: the gcp tier through local token and API servers

REPO = Path(__file__).resolve().parent.parent
FULL_FLOW = REPO / "scenarios" / "full_onboarding.yml"
PROJECT = "cloudact-e2e-offline"
KMS_KEY = f"projects/{PROJECT}/locations/global/keyRings/cloudact/cryptoKeys/org-secrets"
ROOT_KEY = "root-key-for-the-offline-gcp-run"
WEBHOOK_SECRET = "whsec_offline_gcp_run"
HANG_GUARD = 600
"""Seconds after which a child process is taken for hung: a guard, not a time limit on the run."""
SEE = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class Google:
    """The module's authenticating emulators, their registered key file and the gcp settings."""

    def __init__(self, emulators: Emulators, key_file: Path, openai_key: str) -> None:
        self.emulators = emulators
        self.key_file = key_file
        self.openai_key = openai_key

    @property
    def clock(self) -> ManualClock:
        return self.emulators.clock  # type: ignore[return-value]

    @property
    def grants(self) -> int:
        """Tokens the local token endpoint has issued so far."""
        assert self.emulators.authority is not None
        return len(self.emulators.authority.grants)

    def env(self, key_file: Path | None = None) -> dict[str, str]:
        """What a nightly job exports, with Google's endpoints redirected to the emulators."""
        emulators = self.emulators
        return {
            "GCP_PROJECT_ID": PROJECT,
            "KMS_KEY_NAME": KMS_KEY,
            "GOOGLE_APPLICATION_CREDENTIALS": str(key_file or self.key_file),
            "CA_ROOT_API_KEY": ROOT_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "OPENAI_API_KEY": self.openai_key,
            **emulators.env(),
        }

    def settings(self, key_file: Path | None = None) -> Settings:
        return Settings(**{name.lower(): value for name, value in self.env(key_file).items()})


@pytest.fixture(scope="module")
def google(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Google]:
    settings = Settings(gcp_project_id=PROJECT, kms_key_name=KMS_KEY)
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    with Emulators(settings=settings, clock=clock, seed=16, auth=True) as emulators:
        key_file = tmp_path_factory.mktemp("gcp") / "service-account.json"
        emulators.new_service_account_key(key_file)
        assert emulators.openai is not None
        # The provider emulator's admin key: what OPENAI_API_KEY holds on a real nightly run.
        yield Google(emulators, key_file, emulators.openai.issue_admin_key())


def _harness(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process, with this checkout's code and only ``env`` on top of a
    clean environment (no HARNESS_* or PYTEST_* of the caller)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PYTEST_", "GOOGLE_"))}
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import app; app()", *args],
        cwd=REPO,
        env={**base, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )


# ------------------------------------------------------------------------------ (a) full flow


def test_the_full_flow_passes_on_the_gcp_tier_through_the_cli(google: Google, tmp_path: Path) -> None:
    before = google.grants
    result = _harness(
        ["run", str(FULL_FLOW), "--backend", "gcp", "--runs-dir", str(tmp_path / "runs")], google.env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 scenario(s): 1 passed" in result.stdout
    assert "gcp tier" in result.stdout
    # The child loaded the key file and fetched its token from the local endpoint.
    assert google.grants > before
    private_key = json.loads(google.key_file.read_text())["private_key"]
    body = private_key.splitlines()[1]
    records = "".join(path.read_text() for path in (tmp_path / "runs").rglob("*") if path.is_file())
    assert body not in result.stdout + result.stderr + records


def test_a_gcp_run_replays_offline_from_its_recording(google: Google, tmp_path: Path) -> None:
    """The gcp tier records by default; its record replays with record mode none, every Google and
    provider exchange answered from the cassette, nothing reaching the emulators."""
    runs = tmp_path / "runs"
    ran = _harness(["run", str(FULL_FLOW), "--backend", "gcp", "--runs-dir", str(runs)], google.env())
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (directory,) = [path.parent for path in runs.glob("*/record.json")]
    record = json.loads((directory / "record.json").read_text())
    assert (record["tier"], record["recording"]["mode"]) == ("gcp", "all")
    assert record["recording"]["interactions"] > 0 and (directory / "cassette.json").is_file()

    grants = google.grants
    offline = {  # what a developer has who downloaded the artifact: no endpoint, no key file
        "CA_ROOT_API_KEY": ROOT_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    replayed = _harness(["replay", str(directory), "--runs-dir", str(tmp_path / "replays")], offline)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "passed full_onboarding" in replayed.stdout, replayed.stdout
    (again,) = list((tmp_path / "replays").glob("*/record.json"))
    recording = json.loads(again.read_text())["recording"]
    assert recording["mode"] == "none" and recording["misses"] == []
    assert recording["served"] == record["recording"]["interactions"]
    assert google.grants == grants  # no token was fetched: the replay never left the process


def test_a_scenario_snapshot_made_on_gcp_is_validated_and_the_emulator_tier_matches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``snapshot:`` on gcp writes a validated snapshot (here from the authenticating emulators, under
    another project name); the emulator tier's run of the same scenario compares equal to it and to
    the snapshot the repository holds, and a changed answer fails the run with the difference."""
    scenario = load_scenario(REPO / "scenarios" / "bootstrap_only.yml")
    assert scenario.snapshot == "bootstrap"
    committed = json.loads((REPO / "tests/parity/snapshots/scenarios/bootstrap.json").read_text())
    monkeypatch.chdir(tmp_path)  # snapshots are written under ./tests/parity/snapshots
    monkeypatch.delenv("HARNESS_PARITY_UPDATE", raising=False)
    settings = Settings(gcp_project_id=PROJECT, kms_key_name=KMS_KEY)
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    with Emulators(settings=settings, clock=clock, seed=17, auth=True) as emulators:
        emulators.new_service_account_key(tmp_path / "sa.json")
        assert emulators.openai is not None
        fresh = Google(emulators, tmp_path / "sa.json", emulators.openai.issue_admin_key())
        outcome = run_scenario(scenario, tier=Tier.GCP, settings=fresh.settings(), runs_dir=None)
    assert outcome.ok, outcome.failure_report()
    written = json.loads(Path("tests/parity/snapshots/scenarios/bootstrap.json").read_text())
    assert written["validated"] is True and written["validated_at"]
    assert written["where"]["tier"] == "gcp" and PROJECT not in json.dumps(written)
    assert written["exchanges"] == committed["exchanges"]

    emulator = run_scenario(scenario, tier=Tier.EMULATOR, runs_dir=None)
    assert emulator.ok, emulator.failure_report()

    text = Path("tests/parity/snapshots/scenarios/bootstrap.json").read_text()
    Path("tests/parity/snapshots/scenarios/bootstrap.json").write_text(
        text.replace("Not found: Dataset <project>:organizations", "Not found: dataset organizations", 1)
    )
    changed = run_scenario(scenario, tier=Tier.EMULATOR, runs_dir=None)
    assert changed.status == "failed"
    assert "Not found: dataset organizations" in changed.reason
    assert "Not found: Dataset <project>:organizations" in changed.reason


# --------------------------------------------------------------------------- (b) token refresh


def test_an_expired_token_mid_flow_is_refreshed_and_the_flow_passes(google: Google) -> None:
    backends = build_gcp(google.settings())
    fetched = google.grants  # the token build_gcp proved the credentials with
    moved: list[datetime] = []

    def past_expiry(step: Any) -> None:
        if step.name == "onboard" and not moved:
            moved.append(google.clock.advance(TOKEN_LIFETIME + timedelta(seconds=1)))

    outcome = run_scenario(
        load_scenario(FULL_FLOW),
        tier=Tier.GCP,
        settings=google.settings(),
        backends=backends,
        runs_dir=None,
        on_step=past_expiry,
    )
    assert outcome.ok, outcome.failure_report()
    assert moved, "the clock was never advanced"
    assert google.emulators.authority is not None
    second = google.emulators.authority.grants[fetched:]
    assert len(second) == 1, "the client should fetch exactly one new token after the 401"
    assert second[0].issued_at >= moved[0]
    assert second[0].client_email.startswith("harness-e2e@")


# -------------------------------------------------------------------------- (c) wrong credentials


def test_a_key_the_endpoint_never_saw_gets_invalid_grant_and_the_cli_exits_cleanly(
    google: Google, tmp_path: Path
) -> None:
    # The same service account, another key: signed by a private key Google holds no public half of.
    stranger = generate_key(PROJECT, token_uri=google.emulators.token_uri).write(tmp_path / "stranger.json")
    result = _harness(
        ["run", str(FULL_FLOW), "--backend", "gcp", "--runs-dir", str(tmp_path / "runs")],
        google.env(stranger),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        f"Google refused the credentials in {stranger}: invalid_grant: Invalid JWT Signature."
        in result.stderr
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_a_tampered_key_or_an_unknown_account_is_refused_with_googles_words(
    google: Google, tmp_path: Path
) -> None:
    info = json.loads(google.key_file.read_text())
    tampered = dict(info, private_key=generate_key(PROJECT, token_uri=info["token_uri"]).private_pem)
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    with pytest.raises(GcpConfigError, match=r"invalid_grant: Invalid JWT Signature\.$"):
        build_gcp(google.settings(tmp_path / "tampered.json"))
    ghost = generate_key(PROJECT, token_uri=info["token_uri"], account="ghost").write(tmp_path / "ghost.json")
    with pytest.raises(GcpConfigError, match=r"invalid_grant: Invalid grant: account not found$"):
        build_gcp(google.settings(ghost))


def test_the_token_endpoint_answers_a_bad_signature_as_google_does(google: Google) -> None:
    stranger = generate_key(PROJECT, token_uri=google.emulators.token_uri)
    credentials = service_account.Credentials.from_service_account_info(
        stranger.info(), scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    assertion = credentials._make_authorization_grant_assertion().decode()
    response = httpx.post(
        google.emulators.token_uri,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    assert InvalidJwtSignature.confirmed and AccountNotFound.confirmed


def test_a_wrong_key_gets_googles_401_from_cloud_kms_through_the_client(google: Google) -> None:
    """google-cloud-kms signs its own JWT with the key (no token endpoint): a key Google never
    registered reaches Cloud KMS, which answers 401, and the gcp tier's adapter maps it."""
    from google.api_core import exceptions as google_exceptions
    from google.cloud import kms_v1

    from harness.backends.kms import CloudKmsKeyManager
    from harness.ports import KeyManagerError

    stranger = generate_key(PROJECT, token_uri=google.emulators.token_uri)
    credentials = service_account.Credentials.from_service_account_info(
        stranger.info(), scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    client = kms_v1.KeyManagementServiceClient(
        credentials=credentials, transport="rest", client_options={"api_endpoint": google.emulators.kms_url}
    )
    with pytest.raises(google_exceptions.Unauthorized) as caught:  # REST: the class follows HTTP 401
        client.get_crypto_key(name=KMS_KEY)
    assert caught.value.code == 401
    assert caught.value.message.endswith(f": Request had invalid authentication credentials. {SEE}")
    keys = CloudKmsKeyManager(KMS_KEY, credentials=credentials, endpoint=google.emulators.kms_url)
    with pytest.raises(KeyManagerError) as mapped:
        keys.encrypt(b"secret")
    assert mapped.value.status == 401


def _bigquery_401(message: str, item: str, reason: str, info: str | None, method: str) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": 401,
        "message": message,
        "errors": [
            {
                "message": item,
                "domain": "global",
                "reason": reason,
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
    if info is not None:
        metadata = {"method": method, "service": "bigquery.googleapis.com"}
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": info,
                "domain": "googleapis.com",
                "metadata": metadata,
            }
        ]
    return {"error": error}


def _fresh_token(google: Google) -> str:
    credentials = service_account.Credentials.from_service_account_file(
        str(google.key_file), scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    credentials.refresh(Request())
    return str(credentials.token)


def test_bigquery_answers_a_missing_garbage_or_expired_bearer_with_googles_401(google: Google) -> None:
    url = f"{google.emulators.bigquery_url}/bigquery/v2/projects/{PROJECT}/datasets"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="https://accounts.google.com/"'
    assert missing.json() == _bigquery_401(
        f"Request is missing required authentication credential. {SEE}",
        "Login Required.",
        "required",
        "CREDENTIALS_MISSING",
        "google.cloud.bigquery.v2.DatasetService.ListDatasets",
    )

    garbage = httpx.post(url, headers={"Authorization": "Bearer ya29.not-a-token-anyone-issued"}, json={})
    assert garbage.status_code == 401
    assert (
        garbage.headers["www-authenticate"]
        == 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
    )
    assert garbage.json() == _bigquery_401(
        f"Request had invalid authentication credentials. {SEE}", "Invalid Credentials", "authError", None, ""
    )

    token = _fresh_token(google)
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    google.clock.advance(TOKEN_LIFETIME)
    expired = httpx.post(
        f"{google.emulators.bigquery_url}/bigquery/v2/projects/{PROJECT}/jobs",
        headers={"Authorization": f"Bearer {token}"},
        json={},
    )
    assert expired.status_code == 401
    assert (
        expired.headers["www-authenticate"]
        == 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
    )
    assert expired.json() == _bigquery_401(
        f"Request had invalid authentication credentials. {SEE}",
        "Invalid Credentials",
        "authError",
        "ACCESS_TOKEN_EXPIRED",
        "google.cloud.bigquery.v2.JobService.InsertJob",
    )
    assert all(cls.confirmed for cls in (CredentialsMissing, InvalidCredentials, AccessTokenExpired))


def _self_signed(google: Google, *, issued: datetime) -> str:
    """A self-signed JWT of the registered key, as google-cloud-kms sends it (AIP-4111)."""
    info = json.loads(google.key_file.read_text())
    signer = RSASigner.from_service_account_info(info)
    claims = {
        "iss": info["client_email"],
        "sub": info["client_email"],
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(hours=1)).timestamp()),
        "scope": "https://www.googleapis.com/auth/cloud-platform",
    }
    return google_jwt.encode(signer, claims).decode()


def test_cloud_kms_answers_a_missing_garbage_or_expired_bearer_with_its_v1_401(google: Google) -> None:
    url = f"{google.emulators.kms_url}/v1/{KMS_KEY}:decrypt"
    missing = httpx.post(url, json={"ciphertext": "AAAA"})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="https://accounts.google.com/"'
    assert missing.json() == {
        "error": {
            "code": 401,
            "message": f"Request is missing required authentication credential. {SEE}",
            "status": "UNAUTHENTICATED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "CREDENTIALS_MISSING",
                    "domain": "googleapis.com",
                    "metadata": {
                        "method": "google.cloud.kms.v1.KeyManagementService.Decrypt",
                        "service": "cloudkms.googleapis.com",
                    },
                }
            ],
        }
    }
    garbage = httpx.post(url, headers={"Authorization": "Bearer garbage"}, json={"ciphertext": "AAAA"})
    assert garbage.status_code == 401
    assert garbage.json() == {
        "error": {
            "code": 401,
            "message": f"Request had invalid authentication credentials. {SEE}",
            "status": "UNAUTHENTICATED",
        }
    }
    # A self-signed JWT is judged on the signer's clock (the real one): two hours old is expired.
    stale = _self_signed(google, issued=datetime.now(UTC) - timedelta(hours=2))
    expired = httpx.post(url, headers={"Authorization": f"Bearer {stale}"}, json={"ciphertext": "AAAA"})
    assert expired.status_code == 401
    assert expired.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"
    assert expired.json()["error"]["details"][0]["metadata"]["method"] == (
        "google.cloud.kms.v1.KeyManagementService.Decrypt"
    )
    fresh = _self_signed(google, issued=datetime.now(UTC))
    key = httpx.get(f"{google.emulators.kms_url}/v1/{KMS_KEY}", headers={"Authorization": f"Bearer {fresh}"})
    assert key.status_code == 200, key.text


def test_the_harness_controls_stay_open_in_authenticating_mode(google: Google) -> None:
    for url in (google.emulators.bigquery_url, google.emulators.kms_url, google.emulators.url("oauth")):
        response = httpx.get(f"{url}/_harness", headers={"X-CA-Root-Key": "local-root-key"})
        assert response.status_code == 200, response.text
        assert response.json()["auth"] is True


# ---------------------------------------------------------------------------------- (d) retries


def test_warehouse_and_kms_faults_are_retried_by_the_gcp_clients(google: Google) -> None:
    waits: list[float] = []
    backends = build_gcp(google.settings(), sleep=waits.append)
    faults = google.emulators.faults
    warehouse = faults.arm(
        BackendFault(Port.WAREHOUSE, "service_unavailable", operation="create_dataset", times=2)
    )
    kms = faults.arm(BackendFault(Port.KMS, "unavailable", operation="encrypt", times=1))
    outcome = run_scenario(
        load_scenario(FULL_FLOW), tier=Tier.GCP, settings=google.settings(), backends=backends, runs_dir=None
    )
    assert outcome.ok, outcome.failure_report()
    assert (warehouse.fired, kms.fired) == (2, 1)
    # google-cloud-bigquery's DEFAULT_RETRY waits 1 s then 2 s; google-cloud-kms's first wait is 0.1 s.
    assert waits == [1.0, 2.0, 0.1], waits


# ------------------------------------------------------------------------ harness emulators up


def test_emulators_up_auth_writes_a_key_file_and_prints_only_its_path(tmp_path: Path) -> None:
    key_file = tmp_path / "sa.json"
    command = [sys.executable, "-c", "from harness.cli import app; app()", "emulators", "up"]
    command += ["--port-base", "0", "--print-env", "--auth", "--key-file", str(key_file)]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PYTEST_"))}
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**base, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        exports: dict[str, str] = {}
        deadline = time.monotonic() + HANG_GUARD
        while "GCP_PROJECT_ID" not in exports and time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            name, _, value = line.strip().removeprefix("export ").partition("=")
            exports[name] = value
        assert exports["GOOGLE_APPLICATION_CREDENTIALS"] == str(key_file.resolve()), exports
        assert key_file.stat().st_mode & 0o777 == 0o600
        info = json.loads(key_file.read_text())
        assert info["type"] == "service_account"
        credentials = service_account.Credentials.from_service_account_file(
            str(key_file), scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        credentials.refresh(Request())  # the printed key file works against the served endpoint
        listed = httpx.get(
            f"{exports['BIGQUERY_EMULATOR_HOST']}/bigquery/v2/projects/{exports['GCP_PROJECT_ID']}/datasets",
            headers={"Authorization": f"Bearer {credentials.token}"},
        )
        assert listed.status_code == 200, listed.text
        assert (
            httpx.get(f"{exports['BIGQUERY_EMULATOR_HOST']}/bigquery/v2/projects/p/datasets").status_code
            == 401
        )
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=HANG_GUARD)
        assert process.returncode == 0, stderr
        assert f"written to {key_file.resolve()}" in stderr
        assert info["private_key"].splitlines()[1] not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_the_token_endpoint_checks_audience_timeframe_and_scope(google: Google) -> None:
    info = json.loads(google.key_file.read_text())
    signer = RSASigner.from_service_account_info(info)
    now = int(datetime.now(UTC).timestamp())
    good = {"iss": info["client_email"], "aud": GOOGLE_TOKEN_URI, "iat": now, "exp": now + 3600, "scope": "s"}

    def grant(claims: dict[str, Any], grant_type: str = "urn:ietf:params:oauth:grant-type:jwt-bearer") -> Any:
        assertion = google_jwt.encode(signer, claims).decode()
        response = httpx.post(
            google.emulators.token_uri, data={"grant_type": grant_type, "assertion": assertion}
        )
        return response.status_code, response.json()

    status, body = grant(good)
    assert (status, body["token_type"], body["expires_in"]) == (200, "Bearer", 3599)
    assert grant(good, "password") == (
        400,
        {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: password"},
    )
    assert grant({**good, "aud": "https://example.com/token"}) == (
        400,
        {
            "error": "invalid_grant",
            "error_description": "Invalid JWT: Failed audience check. The right audience is "
            "https://oauth2.googleapis.com/token",
        },
    )
    assert grant({**good, "exp": now + 7200}) == (
        400,
        {
            "error": "invalid_grant",
            "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
            "reasonable timeframe. Check your iat and exp values in the JWT claim.",
        },
    )
    assert grant({**good, "scope": ""}) == (
        400,
        {"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience provided."},
    )
    assert grant({**good, "iss": "not-an-email"}) == (
        400,
        {"error": "invalid_grant", "error_description": "Not a valid email or user ID."},
    )


# ------------------------------------------------------------- the authority alone, on two clocks


@pytest.fixture
def authority_and_key() -> tuple[TokenAuthority, ServiceAccountKey, ManualClock, ManualClock]:
    emulators_clock = ManualClock(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
    client_clock = ManualClock(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
    authority = TokenAuthority(lambda: emulators_clock, client_clock=client_clock, token_uri="http://x/token")
    key = generate_key(PROJECT, token_uri="http://x/token")
    authority.register(key)
    return authority, key, emulators_clock, client_clock


def _assertion(key: ServiceAccountKey, at: datetime, **claims: Any) -> str:
    signer = RSASigner.from_service_account_info(key.info())
    payload = {
        "iss": key.client_email,
        "aud": GOOGLE_TOKEN_URI,
        "iat": int(at.timestamp()),
        "exp": int(at.timestamp()) + 3600,
        "scope": "https://www.googleapis.com/auth/cloud-platform",
        **claims,
    }
    return google_jwt.encode(signer, payload).decode()


def test_assertions_are_judged_on_the_clients_clock_and_tokens_expire_on_the_emulators(
    authority_and_key: tuple[TokenAuthority, ServiceAccountKey, ManualClock, ManualClock],
) -> None:
    authority, key, emulators_clock, client_clock = authority_and_key
    grant = {"grant_type": JWT_BEARER}
    issued = authority.grant({**grant, "assertion": _assertion(key, client_clock.now())})
    token = f"Bearer {issued['access_token']}"
    assert authority.authenticate(token).client_email == key.client_email
    emulators_clock.advance(TOKEN_LIFETIME - timedelta(seconds=1))
    assert authority.authenticate(token).client_email == key.client_email
    emulators_clock.advance(timedelta(seconds=1))
    with pytest.raises(AccessTokenExpired):
        authority.authenticate(token)
    # An assertion signed more than the tolerated skew ago (or ahead) is out of its timeframe.
    stale = _assertion(key, client_clock.now() - timedelta(hours=1) - CLOCK_SKEW - timedelta(seconds=1))
    with pytest.raises(InvalidJwtTimeframe):
        authority.grant({**grant, "assertion": stale})
    early = _assertion(key, client_clock.now() + CLOCK_SKEW + timedelta(seconds=1))
    with pytest.raises(InvalidJwtTimeframe):
        authority.grant({**grant, "assertion": early})
    # The emulators' clock moving does not make the client's fresh assertion stale.
    emulators_clock.advance(timedelta(days=3))
    assert authority.grant({**grant, "assertion": _assertion(key, client_clock.now())})["expires_in"] == 3599


def test_a_self_signed_jwt_expires_on_the_clock_that_signed_it(
    authority_and_key: tuple[TokenAuthority, ServiceAccountKey, ManualClock, ManualClock],
) -> None:
    authority, key, emulators_clock, client_clock = authority_and_key
    jwt = _assertion(key, client_clock.now(), aud=None, sub=key.client_email)
    assert authority.authenticate(f"Bearer {jwt}").scopes == (
        "https://www.googleapis.com/auth/cloud-platform",
    )
    emulators_clock.advance(timedelta(days=1))
    assert authority.authenticate(f"Bearer {jwt}").client_email == key.client_email
    client_clock.advance(timedelta(hours=1) + CLOCK_SKEW + timedelta(seconds=1))
    with pytest.raises(AccessTokenExpired):
        authority.authenticate(f"Bearer {jwt}")
    stranger = generate_key(PROJECT, token_uri="http://x/token")
    with pytest.raises(InvalidCredentials) as refused:
        authority.authenticate(f"Bearer {_assertion(stranger, client_clock.now())}")
    assert type(refused.value) is InvalidCredentials
    with pytest.raises(InvalidCredentials):
        authority.authenticate(f"Bearer {_assertion(key, client_clock.now(), scope='', aud=None)}")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, UnsupportedGrantType),
        ({"grant_type": JWT_BEARER}, MalformedAssertion),
        ({"grant_type": JWT_BEARER, "assertion": "a.b.c"}, MalformedAssertion),
    ],
)
def test_grants_without_a_signed_assertion_are_refused(
    authority_and_key: tuple[TokenAuthority, ServiceAccountKey, ManualClock, ManualClock],
    form: dict[str, str],
    error: type[Exception],
) -> None:
    authority = authority_and_key[0]
    with pytest.raises(error):
        authority.grant(form)
    assert not authority.grants


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("POST", f"/bigquery/v2/projects/{PROJECT}/jobs", "google.cloud.bigquery.v2.JobService.InsertJob"),
        ("POST", f"/bigquery/v2/projects/{PROJECT}/queries", "google.cloud.bigquery.v2.JobService.Query"),
        (
            "POST",
            f"/bigquery/v2/projects/{PROJECT}/datasets/d/tables/t/insertAll",
            "google.cloud.bigquery.v2.TableDataService.InsertAll",
        ),
        (
            "DELETE",
            f"/bigquery/v2/projects/{PROJECT}/datasets/d",
            "google.cloud.bigquery.v2.DatasetService.DeleteDataset",
        ),
        ("GET", "/bigquery/v2/nowhere", None),
    ],
)
def test_bigquery_401s_name_the_rpc_method(method: str, path: str, name: str | None) -> None:
    assert bigquery_method(method, path) == name


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("POST", f"/v1/{KMS_KEY}:encrypt", "google.cloud.kms.v1.KeyManagementService.Encrypt"),
        ("GET", f"/v1/{KMS_KEY}", "google.cloud.kms.v1.KeyManagementService.GetCryptoKey"),
        (
            "GET",
            f"/v1/{KMS_KEY}/cryptoKeyVersions",
            "google.cloud.kms.v1.KeyManagementService.ListCryptoKeyVersions",
        ),
        (
            "POST",
            f"/v1/projects/{PROJECT}/locations/global/keyRings",
            "google.cloud.kms.v1.KeyManagementService.CreateKeyRing",
        ),
        ("GET", f"/v1/projects/{PROJECT}/locations/global", None),
    ],
)
def test_kms_401s_name_the_rpc_method(method: str, path: str, name: str | None) -> None:
    assert kms_method(method, path) == name
