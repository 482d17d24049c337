"""The api-service's routes, end to end on each tier (fake, emulator), through the real FastAPI app.

Every route in DESIGN.md's "Public surface": its happy path and each documented error, checked
against the warehouse rows behind it (an error changes nothing; an org key never reaches another
org). Hypothesis drives the onboarding payloads and the org slug in the path; the clean-shutdown
test runs the app and the fake backends with logging pointed at a StringIO.

Each test builds its own backends (``make_env``). To keep the file fast, the bootstrap config
is parsed once per module (its YAML is the expensive part of ``build_fake``) and one app built by
``create_api_app`` is pointed at each test's fresh platform; the 500 and shutdown tests build their
own app. Hypothesis tests build one env per test, not per example.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.backends import TierBackends, build_backends
from harness.clock import ManualClock
from harness.onboarding import integrations, orgs
from harness.onboarding.billing import sign
from harness.onboarding.bootstrap import bootstrap
from harness.onboarding.plans import load_plans
from harness.ports import Provider
from harness.schema.loader import load_config
from harness.services.api import create_api_app

CONFIG = load_config()
META_TABLES = [spec.table_id for spec in CONFIG.tables]
PLANS = load_plans()
ROOT_KEY = "local-root-key"
ROOT = {"X-CA-Root-Key": ROOT_KEY}
START = datetime(2025, 1, 1, tzinfo=UTC)
ERROR_KEYS = {"error", "message", "error_id"}
WEBHOOK_SECRET = "whsec_local_harness"
ONBOARDING_TABLES = (
    "org_profiles",
    "org_api_keys",
    "org_subscriptions",
    "org_usage_quotas",
    "org_kms_keys",
    "org_audit_logs",
)
REPO = Path(__file__).resolve().parents[1]
SLUG_RE = re.compile(r"[a-z][a-z0-9_]{2,49}")
RESERVED = frozenset(yaml.safe_load((REPO / "harness/onboarding/reserved_slugs.yml").read_text())["reserved"])
"""Read from the data file, not from the validator, so the oracle stays independent of the code."""


# ------------------------------------------------------------------------------------------ helpers
def key(api_key: str) -> dict[str, str]:
    return {"X-API-Key": api_key}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape: ``{"error", "message", "error_id"}`` (+ ``details``), nothing else."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict), body
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"details"}, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    uuid.UUID(body["error_id"])
    if code is not None:
        assert body["error"] == code, body
    assert "Traceback" not in response.text
    return body


def onboard_body(slug: str, **overrides: Any) -> dict[str, Any]:
    return {
        "org_slug": slug,
        "company_name": f"{slug} Inc",
        "admin_email": f"admin@{slug}.example",
    } | overrides


@dataclass
class Env:
    backends: TierBackends
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)
    """The current API key of each org this env onboarded."""

    @property
    def clock(self) -> ManualClock:
        return self.backends.clock

    @property
    def warehouse(self) -> Any:
        return self.backends.platform.warehouse

    def onboard(self, slug: str, **overrides: Any) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/organizations/onboard", json=onboard_body(slug, **overrides), headers=ROOT
        )
        assert response.status_code == 201, response.text
        body = response.json()
        self.keys[slug] = body["api_key"]
        return body

    def h(self, slug: str) -> dict[str, str]:
        return key(self.keys[slug])

    def rows(self, table: str, slug: str) -> list[dict[str, Any]]:
        return self.warehouse.query(
            f"SELECT * FROM `{self.warehouse.project}.organizations.{table}` WHERE org_slug = @s",
            {"s": slug},
        ).rows

    def counts(self, slug: str) -> dict[str, int]:
        return {table: len(self.rows(table, slug)) for table in META_TABLES}

    def snapshot(self, slug: str) -> dict[str, list[str]]:
        """Every meta-table row of the org, comparable before/after."""
        return {
            table: sorted(repr(sorted(row.items())) for row in self.rows(table, slug))
            for table in META_TABLES
        }

    def total_rows(self) -> int:
        union = " + ".join(
            f"(SELECT COUNT(*) FROM `{self.warehouse.project}.organizations.{t}`)" for t in META_TABLES
        )
        return int(self.warehouse.query(f"SELECT {union} AS n").scalar())

    def onboarding_rows(self) -> int:
        """Rows in the tables onboarding writes: cheaper than all 15 for per-example checks."""
        union = " + ".join(
            f"(SELECT COUNT(*) FROM `{self.warehouse.project}.organizations.{t}`)" for t in ONBOARDING_TABLES
        )
        return int(self.warehouse.query(f"SELECT {union} AS n").scalar())

    def datasets(self) -> set[str]:
        return {d.dataset_id for d in self.warehouse.list_datasets()}

    def setup(self, slug: str, provider: str, credential: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            f"/api/v1/integrations/{slug}/{provider}/setup",
            json={"credential": credential},
            headers=self.h(slug) if headers is None else headers,
        )


_SHARED_APP: list[FastAPI] = []


@contextmanager
def make_env(
    tier: str = "fake",
    *,
    bootstrapped: bool = True,
    raise_server_exceptions: bool = True,
    fresh_app: bool = False,
) -> Iterator[Env]:
    """Fresh backends of the tier (seed 7, manual clock at 2025-01-01) and a TestClient on the api app.

    The app holds nothing but its platform (``app.state.platform``) and default settings, so tests
    share one app built by ``create_api_app`` and point it at their own fresh platform: building
    the FastAPI routes is half the cost of an env. ``fresh_app`` builds a dedicated one.
    """
    backends = build_backends(tier, clock=ManualClock(START), seed=7, config=CONFIG)
    try:
        if bootstrapped:
            bootstrap(backends.platform.warehouse, backends.platform.config)
        if fresh_app:
            app = create_api_app(backends.platform)
        else:
            if not _SHARED_APP:
                _SHARED_APP.append(create_api_app(backends.platform))
            app = _SHARED_APP[0]
            app.state.platform = backends.platform
        with TestClient(app, raise_server_exceptions=raise_server_exceptions) as client:
            yield Env(backends, client)
    finally:
        backends.close()


@pytest.fixture
def env(harness_tier: str) -> Iterator[Env]:
    with make_env(harness_tier) as e:
        yield e


@pytest.fixture
def two_orgs(env: Env) -> Env:
    env.onboard("org_a")
    env.onboard("org_b")
    return env


# ------------------------------------------------------------------------------------------- health
def test_health_answers_without_any_key(env: Env) -> None:
    response = env.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "api-service"}


def test_ready_is_503_before_bootstrap_and_200_after_the_bootstrap_route() -> None:
    with make_env(bootstrapped=False) as e:
        body = assert_error(e.client.get("/health/ready"), 503, "NOT_READY")
        assert body["details"]["warehouse"].startswith("failed:")
        assert body["details"]["kms"] == "ok"

        # Bootstrap is root only; refused attempts create nothing.
        assert_error(e.client.post("/api/v1/admin/bootstrap"), 401, "UNAUTHENTICATED")
        assert_error(
            e.client.post("/api/v1/admin/bootstrap", headers={"X-CA-Root-Key": "wrong"}),
            401,
            "UNAUTHENTICATED",
        )
        assert_error(
            e.client.post("/api/v1/admin/bootstrap", headers=key("org_a_api_nope")), 401, "UNAUTHENTICATED"
        )
        assert "organizations" not in e.datasets()
        assert_error(e.client.get("/health/ready"), 503, "NOT_READY")

        first = e.client.post("/api/v1/admin/bootstrap", headers=ROOT)
        assert first.status_code == 200, first.text
        report = first.json()
        assert report["dataset_id"] == "organizations"
        assert report["dataset_created"] is True
        assert report["created"] == META_TABLES
        assert report["existing"] == [] and report["drift"] == {} and report["added_columns"] == {}

        ready = e.client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ready",
            "service": "api-service",
            "checks": {"warehouse": "ok", "kms": "ok"},
        }

        again = e.client.post("/api/v1/admin/bootstrap", headers=ROOT)
        assert again.status_code == 200
        assert again.json()["created"] == []
        assert again.json()["dataset_created"] is False
        assert again.json()["existing"] == META_TABLES
        assert e.total_rows() == 0


# ------------------------------------------------------------------------------------------ onboard
def test_onboard_creates_the_org_and_shows_the_key_once(env: Env) -> None:
    body = env.onboard("acme", company_name="Acme Corp", admin_email="ops@acme.example")
    api_key = body["api_key"]
    assert api_key.startswith("acme_api_")
    assert body["api_key_prefix"] == api_key[: len("acme_api_") + 4]
    assert body["org"]["org_slug"] == "acme"
    assert body["org"]["company_name"] == "Acme Corp"
    assert body["org"]["status"] == "ACTIVE"
    assert body["org"]["subscription_plan"] == "STARTER"
    assert body["dataset_id"] == body["org"]["org_dataset_id"] == "acme_local"
    assert body["subscription"]["plan_name"] == "STARTER"
    assert body["quota"]["daily_limit"] == PLANS["STARTER"].daily_pipeline_limit

    counts = env.counts("acme")
    assert counts["org_profiles"] == counts["org_api_keys"] == counts["org_subscriptions"] == 1
    assert counts["org_usage_quotas"] == counts["org_kms_keys"] == counts["org_audit_logs"] == 1
    assert "acme_local" in env.datasets()

    (key_row,) = env.rows("org_api_keys", "acme")
    assert key_row["api_key_hash"] == hashlib.sha256(api_key.encode()).hexdigest()
    assert key_row["org_api_key_id"] == body["api_key_id"]
    # Shown once: the plaintext is in no stored row, and no later read returns it.
    assert api_key not in repr(env.snapshot("acme"))
    assert api_key.encode() not in key_row["encrypted_api_key"]
    get = env.client.get("/api/v1/organizations/acme", headers=key(api_key))
    assert get.status_code == 200 and api_key not in get.text
    (audit,) = env.rows("org_audit_logs", "acme")
    assert audit["action"] == "org.onboard" and audit["actor_type"] == "ROOT"


def test_onboard_plan_is_case_insensitive(env: Env) -> None:
    body = env.onboard("pro_org", plan="professional")
    assert body["subscription"]["plan_name"] == "PROFESSIONAL"
    assert body["subscription"]["provider_limit"] == PLANS["PROFESSIONAL"].provider_limit


def test_onboard_an_existing_slug_is_409_and_changes_nothing(env: Env) -> None:
    env.onboard("acme")
    before, datasets = env.snapshot("acme"), env.datasets()
    response = env.client.post(
        "/api/v1/organizations/onboard",
        json=onboard_body("acme", company_name="Impostor", plan="SCALE"),
        headers=ROOT,
    )
    assert_error(response, 409, "ORG_ALREADY_EXISTS")
    assert env.snapshot("acme") == before
    assert env.datasets() == datasets
    assert env.client.get("/api/v1/organizations/acme", headers=env.h("acme")).json()["company_name"] == (
        "acme Inc"
    )


INVALID_ONBOARD_BODIES: dict[str, Any] = {
    "slug too short": onboard_body("ab"),
    "slug too long": onboard_body("a" * 51),
    "slug uppercase": onboard_body("Acme"),
    "slug hyphen": onboard_body("ac-me"),
    "slug trailing newline": onboard_body("acme\n"),
    "slug space": onboard_body("ac me"),
    "slug not a string": onboard_body("acme") | {"org_slug": 123},
    "reserved prefix": onboard_body("__acme"),
    "reserved platform slug": onboard_body("__platform__"),
    "slug starts with a digit": onboard_body("1acme"),
    "slug starts with an underscore": onboard_body("_acme"),
    "slug hidden by BigQuery": onboard_body("_harness"),
    **{
        f"reserved name {name}": onboard_body(name)
        for name in ("organizations", "information_schema", "admin", "root", "null")
    },
    "bad email": onboard_body("acme", admin_email="not-an-email"),
    "email with space": onboard_body("acme", admin_email="a b@c.de"),
    "email without dot": onboard_body("acme", admin_email="a@localhost"),
    "email too long": onboard_body("acme", admin_email="a@b.c" + "o" * 260),
    "blank company": onboard_body("acme", company_name="   "),
    "empty company": onboard_body("acme", company_name=""),
    "company too long": onboard_body("acme", company_name="x" * 201),
    "unknown field": onboard_body("acme") | {"is_admin": True},
    "missing email": {"org_slug": "acme", "company_name": "Acme"},
    "missing everything": {},
    "plan not a string": onboard_body("acme", plan=3),
    "metadata not an object": onboard_body("acme", metadata=[1, 2]),
    "body is a list": [onboard_body("acme")],
    "body is a string": "acme",
}


def test_onboard_invalid_bodies_are_422_and_write_nothing(env: Env) -> None:
    datasets = env.datasets()
    for name, payload in INVALID_ONBOARD_BODIES.items():
        response = env.client.post("/api/v1/organizations/onboard", json=payload, headers=ROOT)
        body = assert_error(response, 422, "VALIDATION_ERROR")
        assert body["details"], name
        assert all(set(d) == {"field", "message"} for d in body["details"]), name
    for content, content_type in (
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"x", "text/plain"),
    ):
        response = env.client.post(
            "/api/v1/organizations/onboard", content=content, headers=ROOT | {"content-type": content_type}
        )
        assert_error(response, 422, "VALIDATION_ERROR")
    assert env.total_rows() == 0
    assert env.datasets() == datasets


def test_validation_errors_do_not_echo_submitted_values(env: Env) -> None:
    secret = "sk-do-not-echo-me-0123456789"
    for payload in (
        onboard_body("acme") | {"password": secret},
        onboard_body("acme", admin_email=secret),
        onboard_body(secret),
    ):
        response = env.client.post("/api/v1/organizations/onboard", json=payload, headers=ROOT)
        assert_error(response, 422, "VALIDATION_ERROR")
        assert secret not in response.text


def test_onboard_unknown_plan_is_400_and_writes_nothing(env: Env) -> None:
    datasets = env.datasets()
    for plan in ("ENTERPRISE", "", " STARTER", "free"):
        response = env.client.post(
            "/api/v1/organizations/onboard", json=onboard_body("acme", plan=plan), headers=ROOT
        )
        body = assert_error(response, 400, "INVALID_PLAN")
        assert body["details"] == {"plans": list(PLANS)}
    assert env.total_rows() == 0
    assert env.datasets() == datasets


def test_onboard_needs_the_root_key(env: Env) -> None:
    for headers in ({}, {"X-CA-Root-Key": "wrong"}, {"X-CA-Root-Key": ""}, {"X-CA-Root-Key": ROOT_KEY + " "}):
        response = env.client.post(
            "/api/v1/organizations/onboard", json=onboard_body("acme"), headers=headers
        )
        assert_error(response, 401, "UNAUTHENTICATED")
    assert env.total_rows() == 0


def test_onboard_with_an_org_key_is_401(env: Env) -> None:
    env.onboard("acme")
    response = env.client.post(
        "/api/v1/organizations/onboard", json=onboard_body("other"), headers=env.h("acme")
    )
    assert_error(response, 401, "UNAUTHENTICATED")
    assert env.counts("other") == dict.fromkeys(META_TABLES, 0)


def test_onboard_with_an_idempotency_key_replays_the_first_response(env: Env) -> None:
    headers = ROOT | {"Idempotency-Key": "onboard-acme-1"}
    first = env.client.post("/api/v1/organizations/onboard", json=onboard_body("acme"), headers=headers)
    assert first.status_code == 201 and first.headers["Idempotent-Replayed"] == "false"
    again = env.client.post("/api/v1/organizations/onboard", json=onboard_body("acme"), headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert env.counts("acme")["org_profiles"] == 1
    # The stored response holds the API key, so it is stored encrypted.
    stored = env.rows("org_idempotency_keys", "acme") + env.rows("org_idempotency_keys", "__platform__")
    assert stored and first.json()["api_key"] not in repr(stored)
    other = env.client.post(
        "/api/v1/organizations/onboard", json=onboard_body("acme", company_name="Other"), headers=headers
    )
    assert_error(other, 422, "IDEMPOTENCY_KEY_REUSED")


# ------------------------------------------------------------------------------ hypothesis: onboard
# Rust's regex (pydantic-core) \s is Unicode White_Space; Python's also counts \x1c-\x1f.
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
EMAIL_ORACLE = re.compile(rf"[^@{_WS}]+@[^@{_WS}]+\.[^@{_WS}]+")
FIELDS = ("org_slug", "company_name", "admin_email", "plan", "metadata")

CHARS = st.characters(exclude_categories=("Cs",))
TEXT = st.text(CHARS, max_size=20)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=8,
)
_FRESH_SLUGS = st.from_regex(SLUG_RE, fullmatch=True).filter(lambda s: s not in RESERVED)
VALID_SLUGS = st.one_of(
    st.sampled_from(["acme", "org_1", "x_x"]),  # repeats: the second onboarding is a 409
    _FRESH_SLUGS,
    _FRESH_SLUGS,
    _FRESH_SLUGS,
)
SLUGS = st.one_of(
    VALID_SLUGS,
    st.from_regex(r"[a-z0-9_A-Z\-. ]{0,52}", fullmatch=True),
    st.sampled_from(
        ["__x", "__platform__", "ab", "acme\n", "ACME", "a" * 51, "acme", "ünï", "1acme", "_acme"]
    ),
    st.sampled_from(sorted(RESERVED)),
    TEXT,
)
VALID_COMPANIES = st.text(CHARS, min_size=1, max_size=200).filter(str.strip)
COMPANIES = st.one_of(st.text(CHARS, max_size=205), st.sampled_from(["", "   ", "\u3000", "x" * 201]))
VALID_EMAILS = st.emails().filter(lambda e: len(e) <= 254)
EMAILS = st.one_of(TEXT, st.sampled_from(["a@b", "a b@c.d", "@b.c", "a@b.c\n", "a@@b.c", "é@ü.ß"]))
VALID_PLANS = st.sampled_from([*PLANS, "starter", "Scale", "pRoFeSsIoNaL"])
PLAN_NAMES = st.one_of(st.sampled_from(["ENTERPRISE", "", " SCALE", "free"]), TEXT)
MOSTLY = st.sampled_from([True, True, True, True, False])
"""Each field is valid four times in five, so about half the plain payloads are fully valid."""


@st.composite
def onboard_payloads(draw: st.DrawFn) -> Any:
    payload = {
        "org_slug": draw(VALID_SLUGS if draw(MOSTLY) else SLUGS),
        "company_name": draw(VALID_COMPANIES if draw(MOSTLY) else COMPANIES),
        "admin_email": draw(VALID_EMAILS if draw(MOSTLY) else EMAILS),
    }
    if draw(st.booleans()):
        payload["plan"] = draw(VALID_PLANS if draw(st.booleans()) else PLAN_NAMES)
    if draw(st.booleans()):
        payload["metadata"] = draw(st.none() | st.dictionaries(TEXT, JSONISH, max_size=3))
    kind = draw(st.sampled_from(["plain"] * 5 + ["field", "drop", "extra", "arbitrary", "not a dict"]))
    if kind == "field":
        payload[draw(st.sampled_from(FIELDS))] = draw(JSONISH)
    elif kind == "drop":
        payload.pop(draw(st.sampled_from(sorted(payload))))
    elif kind == "extra":
        payload[draw(TEXT.filter(lambda k: k not in FIELDS))] = draw(JSONISH)
    elif kind == "arbitrary":
        return draw(st.dictionaries(st.sampled_from(FIELDS) | TEXT, JSONISH, max_size=6))
    elif kind == "not a dict":
        return draw(JSONISH.filter(lambda v: not isinstance(v, dict)))
    return payload


def expected_onboard(payload: Any, existing: set[str]) -> tuple[int, str | None]:
    """What the contract says onboarding must answer, worked out independently of the app."""
    invalid = (422, "VALIDATION_ERROR")
    if not isinstance(payload, dict) or set(payload) - set(FIELDS):
        return invalid
    if not {"org_slug", "company_name", "admin_email"} <= set(payload):
        return invalid
    slug, company, email = payload["org_slug"], payload["company_name"], payload["admin_email"]
    if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug) or slug in RESERVED:
        return invalid
    if not isinstance(company, str) or not 1 <= len(company) <= 200 or not company.strip():
        return invalid
    if not isinstance(email, str) or len(email) > 254 or not EMAIL_ORACLE.fullmatch(email):
        return invalid
    plan = payload.get("plan", "STARTER")
    if not isinstance(plan, str) or not isinstance(payload.get("metadata"), dict | None):
        return invalid
    if plan.upper() not in PLANS:
        return 400, "INVALID_PLAN"
    if slug in existing:
        return 409, "ORG_ALREADY_EXISTS"
    return 201, None


def test_onboard_any_payload_is_created_or_a_structured_4xx_that_writes_nothing() -> None:
    with make_env() as e:
        existing: set[str] = set()

        @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
        @given(payload=onboard_payloads())
        def check(payload: Any) -> None:
            status, code = expected_onboard(payload, existing)
            before_rows, before_datasets = e.onboarding_rows(), e.datasets()
            response = e.client.post("/api/v1/organizations/onboard", json=payload, headers=ROOT)
            if status == 201:
                assert response.status_code == 201, (payload, response.text)
                slug = payload["org_slug"]
                existing.add(slug)
                assert response.json()["org"]["org_slug"] == slug
                assert response.json()["org"]["company_name"] == payload["company_name"]
                assert len(e.rows("org_profiles", slug)) == 1
                assert e.onboarding_rows() == before_rows + len(ONBOARDING_TABLES)
            else:
                assert_error(response, status, code)
                assert e.onboarding_rows() == before_rows, payload
                assert e.datasets() == before_datasets, payload

        check()


def test_org_routes_answer_any_path_slug_with_a_structured_4xx() -> None:
    with make_env() as e:
        rows = e.onboarding_rows()
        routes = [
            ("GET", "/api/v1/organizations/{}", None),
            ("GET", "/api/v1/organizations/{}/quota", None),
            ("PUT", "/api/v1/organizations/{}/subscription", {"plan": "SCALE"}),
            ("POST", "/api/v1/organizations/{}/api-key/rotate", None),
        ]

        @settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
        @given(slug=SLUGS, use_root=st.booleans())
        def check(slug: str, use_root: bool) -> None:
            headers = ROOT if use_root else key("someone_api_unknown")
            for method, template, payload in routes:
                url = template.format(quote(slug, safe=""))
                response = e.client.request(
                    method, url, headers=headers, json=payload, follow_redirects=False
                )
                assert 400 <= response.status_code < 500, (slug, url, response.text)
                body = assert_error(response, response.status_code)
                if not SLUG_RE.fullmatch(slug) and "/" not in slug and slug not in ("", ".", ".."):
                    assert body["error"] == "VALIDATION_ERROR", (slug, url, response.text)
                elif SLUG_RE.fullmatch(slug):
                    expected = (
                        ("ORG_NOT_FOUND", "SUBSCRIPTION_NOT_FOUND") if use_root else ("UNAUTHENTICATED",)
                    )
                    assert body["error"] in expected, (slug, url, response.text)
            assert e.onboarding_rows() == rows

        check()


def test_list_integrations_of_an_unknown_org_is_404(env: Env) -> None:
    assert_error(env.client.get("/api/v1/integrations/nobody", headers=ROOT), 404, "ORG_NOT_FOUND")


# ------------------------------------------------------------------------------------------ get org
def test_get_org_with_its_own_key_and_with_root(two_orgs: Env) -> None:
    env = two_orgs
    own = env.client.get("/api/v1/organizations/org_a", headers=env.h("org_a"))
    assert own.status_code == 200, own.text
    assert own.json()["org_slug"] == "org_a"
    assert "api_key" not in own.json()
    root = env.client.get("/api/v1/organizations/org_a", headers=ROOT)
    assert root.status_code == 200 and root.json() == own.json()


def test_get_org_errors(two_orgs: Env) -> None:
    env, url = two_orgs, "/api/v1/organizations/org_a"
    assert_error(env.client.get(url, headers=env.h("org_b")), 403, "FORBIDDEN")
    assert_error(env.client.get(url, headers=key("org_a_api_forged")), 401, "UNAUTHENTICATED")
    assert_error(env.client.get(url, headers=key("")), 401, "UNAUTHENTICATED")
    assert_error(env.client.get(url), 401, "UNAUTHENTICATED")
    assert_error(env.client.get(url, headers={"X-CA-Root-Key": "wrong"} | env.h("org_a")), 401)
    assert_error(env.client.get("/api/v1/organizations/Org-A", headers=ROOT), 422, "VALIDATION_ERROR")
    assert_error(env.client.get("/api/v1/organizations/ab", headers=env.h("org_a")), 422, "VALIDATION_ERROR")
    assert_error(env.client.get("/api/v1/organizations/nobody", headers=ROOT), 404, "ORG_NOT_FOUND")


def test_invalid_path_slug_is_reported_once(env: Env) -> None:
    body = assert_error(env.client.get("/api/v1/organizations/Org-A", headers=ROOT), 422)
    assert len(body["details"]) == 1, body["details"]


# ---------------------------------------------------------------------------------------- offboard
def test_offboard_is_root_only(two_orgs: Env) -> None:
    env = two_orgs
    before = env.snapshot("org_a")
    assert_error(
        env.client.delete("/api/v1/organizations/org_a", headers=env.h("org_a")), 401, "UNAUTHENTICATED"
    )
    assert_error(env.client.delete("/api/v1/organizations/org_a"), 401, "UNAUTHENTICATED")
    assert_error(env.client.delete("/api/v1/organizations/org_a", headers={"X-CA-Root-Key": "no"}), 401)
    assert env.snapshot("org_a") == before


def test_offboarding_the_reserved_platform_slug_is_refused(env: Env) -> None:
    env.onboard("acme")
    assert env.client.delete("/api/v1/organizations/acme", headers=ROOT).status_code == 200
    trail = env.snapshot("__platform__")
    assert trail["org_audit_logs"]
    response = env.client.delete("/api/v1/organizations/__platform__", headers=ROOT)
    assert 400 <= response.status_code < 500, response.text
    assert_error(response, response.status_code)
    assert env.snapshot("__platform__") == trail


def test_offboard_removes_every_row_twice_is_safe_and_the_key_dies_at_once(two_orgs: Env) -> None:
    env = two_orgs
    assert env.setup("org_a", "openai", env.backends.openai.issue_key()).status_code == 201
    for _ in range(2):
        rotated = env.client.post("/api/v1/organizations/org_a/api-key/rotate", headers=env.h("org_a"))
        assert rotated.status_code == 200, rotated.text
        env.keys["org_a"] = rotated.json()["api_key"]
    expected = env.counts("org_a")
    other = env.snapshot("org_b")
    # Use the key right before offboarding, so it is in the auth cache.
    assert env.client.get("/api/v1/organizations/org_a", headers=env.h("org_a")).status_code == 200

    response = env.client.delete("/api/v1/organizations/org_a", headers=ROOT)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["org_slug"] == "org_a" and result["dataset_deleted"] is True
    assert list(result["deleted_rows"]) == META_TABLES and len(META_TABLES) == 15
    assert result["deleted_rows"] == expected
    assert expected["org_api_keys"] == 3 and expected["org_integration_credentials"] == 1
    assert env.counts("org_a") == dict.fromkeys(META_TABLES, 0)
    assert "org_a_local" not in env.datasets()
    assert env.snapshot("org_b") == other
    platform_audit = [r for r in env.rows("org_audit_logs", "__platform__") if r["target_id"] == "org_a"]
    assert [r["action"] for r in platform_audit] == ["org.offboard"]

    assert_error(
        env.client.get("/api/v1/organizations/org_a", headers=env.h("org_a")), 401, "UNAUTHENTICATED"
    )
    assert_error(env.client.get("/api/v1/organizations/org_a", headers=ROOT), 404, "ORG_NOT_FOUND")

    again = env.client.delete("/api/v1/organizations/org_a", headers=ROOT)
    assert again.status_code == 200
    assert again.json()["deleted_rows"] == dict.fromkeys(META_TABLES, 0)
    assert again.json()["dataset_deleted"] is False

    # Cleanup is complete: the slug can be onboarded again, and the old key stays dead.
    old = env.keys["org_a"]
    env.onboard("org_a")
    assert env.client.get("/api/v1/organizations/org_a", headers=env.h("org_a")).status_code == 200
    assert_error(env.client.get("/api/v1/organizations/org_a", headers=key(old)), 401)


# -------------------------------------------------------------------------------------- key rotation
def test_rotation_new_key_works_at_once_and_the_cached_old_key_is_401_at_once(env: Env) -> None:
    old_body = env.onboard("acme")
    old = old_body["api_key"]
    url = "/api/v1/organizations/acme"
    # Cached: a successful request with the old key right before rotating.
    assert env.client.get(url, headers=key(old)).status_code == 200
    assert env.client.get(f"{url}/quota", headers=key(old)).status_code == 200

    response = env.client.post(f"{url}/api-key/rotate", headers=key(old))
    assert response.status_code == 200, response.text
    rotated = response.json()
    new = rotated["api_key"]
    assert new != old and new.startswith("acme_api_")
    assert rotated["org_slug"] == "acme"
    assert rotated["revoked_key_ids"] == [old_body["api_key_id"]]
    assert rotated["api_key_prefix"] == new[: len("acme_api_") + 4]

    assert env.client.get(url, headers=key(new)).status_code == 200
    assert_error(env.client.get(url, headers=key(old)), 401, "UNAUTHENTICATED")
    assert_error(env.client.get(f"{url}/quota", headers=key(old)), 401, "UNAUTHENTICATED")
    assert_error(env.client.post(f"{url}/api-key/rotate", headers=key(old)), 401, "UNAUTHENTICATED")

    rows = {r["org_api_key_id"]: r for r in env.rows("org_api_keys", "acme")}
    assert rows[rotated["api_key_id"]]["is_active"] is True
    assert rows[rotated["api_key_id"]]["rotated_from_key_id"] == old_body["api_key_id"]
    assert rows[old_body["api_key_id"]]["is_active"] is False
    assert rows[old_body["api_key_id"]]["revoked_at"] == START
    assert new not in repr(env.snapshot("acme"))
    actions = [r["action"] for r in env.rows("org_audit_logs", "acme")]
    assert actions.count("api_key.rotate") == 1


def test_rotation_by_root_and_for_an_unknown_org(env: Env) -> None:
    env.onboard("acme")
    response = env.client.post("/api/v1/organizations/acme/api-key/rotate", headers=ROOT)
    assert response.status_code == 200
    assert (
        env.client.get("/api/v1/organizations/acme", headers=key(response.json()["api_key"])).status_code
        == 200
    )
    assert_error(env.client.get("/api/v1/organizations/acme", headers=env.h("acme")), 401)
    missing = env.client.post("/api/v1/organizations/nobody/api-key/rotate", headers=ROOT)
    assert_error(missing, 404, "ORG_NOT_FOUND")
    assert env.counts("nobody") == dict.fromkeys(META_TABLES, 0)
    assert_error(env.client.post("/api/v1/organizations/acme/api-key/rotate"), 401, "UNAUTHENTICATED")


# ------------------------------------------------------------------------------------- subscription
def test_subscription_get_and_plan_change_flow_on_to_limits_and_today_quota(env: Env) -> None:
    env.onboard("acme")
    url = "/api/v1/organizations/acme/subscription"
    current = env.client.get(url, headers=env.h("acme"))
    assert current.status_code == 200
    starter = PLANS["STARTER"]
    assert current.json()["plan_name"] == "STARTER"
    assert current.json()["daily_pipeline_limit"] == starter.daily_pipeline_limit
    assert current.json()["monthly_pipeline_limit"] == starter.monthly_pipeline_limit
    assert current.json()["provider_limit"] == starter.provider_limit
    assert current.json()["status"] == "ACTIVE"

    env.clock.advance(timedelta(hours=3))
    changed = env.client.put(url, json={"plan": "PROFESSIONAL"}, headers=env.h("acme"))
    assert changed.status_code == 200, changed.text
    pro = PLANS["PROFESSIONAL"]
    view = changed.json()
    assert view["plan_name"] == "PROFESSIONAL"
    assert view["subscription_id"] == current.json()["subscription_id"]
    assert (view["daily_pipeline_limit"], view["monthly_pipeline_limit"], view["provider_limit"]) == (
        pro.daily_pipeline_limit,
        pro.monthly_pipeline_limit,
        pro.provider_limit,
    )
    assert env.client.get(url, headers=env.h("acme")).json() == view
    quota = env.client.get("/api/v1/organizations/acme/quota", headers=env.h("acme")).json()
    assert (quota["daily_limit"], quota["monthly_limit"]) == (
        pro.daily_pipeline_limit,
        pro.monthly_pipeline_limit,
    )
    assert quota["daily_remaining"] == pro.daily_pipeline_limit
    (quota_row,) = env.rows("org_usage_quotas", "acme")
    assert quota_row["daily_limit"] == pro.daily_pipeline_limit
    assert quota_row["monthly_limit"] == pro.monthly_pipeline_limit
    assert env.rows("org_profiles", "acme")[0]["subscription_plan"] == "PROFESSIONAL"
    (sub_row,) = env.rows("org_subscriptions", "acme")
    assert sub_row["plan_name"] == "PROFESSIONAL"
    audit = [r for r in env.rows("org_audit_logs", "acme") if r["action"] == "subscription.change_plan"]
    assert len(audit) == 1 and audit[0]["details"] == {"plan": "PROFESSIONAL"}

    by_root = env.client.put(url, json={"plan": "scale"}, headers=ROOT)
    assert by_root.status_code == 200 and by_root.json()["plan_name"] == "SCALE"


def test_subscription_errors_change_nothing(env: Env) -> None:
    env.onboard("acme")
    url = "/api/v1/organizations/acme/subscription"
    before = env.snapshot("acme")
    body = assert_error(
        env.client.put(url, json={"plan": "GOLD"}, headers=env.h("acme")), 400, "INVALID_PLAN"
    )
    assert body["details"] == {"plans": list(PLANS)}
    for payload in ({}, {"plan": None}, {"plan": "SCALE", "seats": 10}, ["SCALE"]):
        assert_error(env.client.put(url, json=payload, headers=env.h("acme")), 422, "VALIDATION_ERROR")
    assert_error(env.client.put(url, json={"plan": "SCALE"}), 401, "UNAUTHENTICATED")
    assert_error(env.client.get(url), 401, "UNAUTHENTICATED")
    assert env.snapshot("acme") == before
    missing = "/api/v1/organizations/nobody/subscription"
    assert_error(env.client.get(missing, headers=ROOT), 404, "ORG_NOT_FOUND")
    assert_error(env.client.put(missing, json={"plan": "SCALE"}, headers=ROOT), 404, "ORG_NOT_FOUND")
    assert env.counts("nobody") == dict.fromkeys(META_TABLES, 0)


# -------------------------------------------------------------------------------------------- quota
def _at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def test_quota_counters_start_at_zero_with_plan_limits_and_reset_at_next_utc_midnight(env: Env) -> None:
    env.onboard("acme")
    env.clock.set(datetime(2025, 1, 1, 13, 37, 5, tzinfo=UTC))
    response = env.client.get("/api/v1/organizations/acme/quota", headers=env.h("acme"))
    assert response.status_code == 200, response.text
    quota = response.json()
    starter = PLANS["STARTER"]
    assert quota["org_slug"] == "acme" and quota["usage_date"] == "2025-01-01"
    for counter in ("pipelines_run_today", "pipelines_succeeded_today", "pipelines_failed_today"):
        assert quota[counter] == 0
    assert quota["pipelines_run_month"] == 0
    assert (quota["daily_limit"], quota["monthly_limit"]) == (
        starter.daily_pipeline_limit,
        starter.monthly_pipeline_limit,
    )
    assert (quota["daily_remaining"], quota["monthly_remaining"]) == (
        starter.daily_pipeline_limit,
        starter.monthly_pipeline_limit,
    )
    assert _at(quota["daily_resets_at"]) == datetime(2025, 1, 2, tzinfo=UTC)
    assert _at(quota["monthly_resets_at"]) == datetime(2025, 2, 1, tzinfo=UTC)

    # A new UTC day (and year) without a usage row: zero counters, plan limits, next midnight.
    env.clock.set(datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC))
    quota = env.client.get("/api/v1/organizations/acme/quota", headers=ROOT).json()
    assert quota["usage_date"] == "2025-12-31" and quota["pipelines_run_today"] == 0
    assert quota["daily_limit"] == starter.daily_pipeline_limit
    assert _at(quota["daily_resets_at"]) == datetime(2026, 1, 1, tzinfo=UTC)
    assert _at(quota["monthly_resets_at"]) == datetime(2026, 1, 1, tzinfo=UTC)


def test_quota_errors(two_orgs: Env) -> None:
    env = two_orgs
    assert_error(env.client.get("/api/v1/organizations/org_a/quota"), 401, "UNAUTHENTICATED")
    assert_error(
        env.client.get("/api/v1/organizations/org_a/quota", headers=env.h("org_b")), 403, "FORBIDDEN"
    )
    assert_error(env.client.get("/api/v1/organizations/nobody/quota", headers=ROOT), 404)


# ------------------------------------------------------------------------------------- integrations
def test_integration_setup_validates_encrypts_and_never_returns_the_credential(env: Env) -> None:
    env.onboard("acme")
    credential = env.backends.openai.issue_key()
    response = env.client.post(
        "/api/v1/integrations/acme/openai/setup",
        json={"credential": credential, "credential_name": "prod key"},
        headers=env.h("acme"),
    )
    assert response.status_code == 201, response.text
    view = response.json()
    assert view["provider"] == "openai" and view["validation_status"] == "VALID"
    assert view["credential_name"] == "prod key" and view["is_active"] is True
    assert view["fingerprint"] == integrations.fingerprint(credential)
    assert credential not in response.text

    (row,) = env.rows("org_integration_credentials", "acme")
    assert row["provider"] == "OPENAI" and row["credential_id"] == view["credential_id"]
    assert credential not in repr(env.snapshot("acme"))
    assert credential.encode() not in row["encrypted_credential"]
    assert integrations.decrypt_credential(env.backends.platform, "acme", Provider.OPENAI) == credential

    listed = env.client.get("/api/v1/integrations/acme", headers=env.h("acme"))
    assert listed.status_code == 200
    assert credential not in listed.text
    assert listed.json()["org_slug"] == "acme"
    assert [i["credential_id"] for i in listed.json()["integrations"]] == [view["credential_id"]]
    by_root = env.client.get("/api/v1/integrations/acme", headers=ROOT)
    assert by_root.status_code == 200 and credential not in by_root.text

    audit = [r for r in env.rows("org_audit_logs", "acme") if r["action"] == "integration.setup"]
    assert [r["outcome"] for r in audit] == ["SUCCESS"]


@pytest.mark.parametrize(
    "credential",
    ["sk-" + "x" * 48, "revoked", "sk-bad"],
    ids=["unknown long key", "revoked key", "short key"],
)
def test_integration_setup_with_a_rejected_credential_is_400_and_stores_nothing(
    env: Env, credential: str
) -> None:
    env.onboard("acme")
    if credential == "revoked":
        credential = env.backends.openai.issue_key()
        env.backends.openai.revoke(credential)
    response = env.setup("acme", "openai", credential)
    body = assert_error(response, 400, "INTEGRATION_VALIDATION_FAILED")
    assert body["details"]["provider"] == "openai" and body["details"]["provider_status"] == 401
    assert env.rows("org_integration_credentials", "acme") == []
    if len(credential) > 12:  # OpenAI itself echoes short keys whole, longer ones masked
        assert credential not in response.text
    failures = [r for r in env.rows("org_audit_logs", "acme") if r["outcome"] == "FAILURE"]
    assert [r["error_code"] for r in failures] == ["INTEGRATION_VALIDATION_FAILED"]
    assert credential not in repr(env.snapshot("acme"))


def test_integration_setup_when_the_provider_stays_down_is_503_and_stores_nothing(env: Env) -> None:
    env.onboard("acme")
    credential = env.backends.openai.issue_key()
    env.backends.openai.add_fault(503, times=20)
    body = assert_error(env.setup("acme", "openai", credential), 503, "PROVIDER_UNAVAILABLE")
    assert body["details"] == {"provider": "openai", "provider_status": 503}
    assert env.rows("org_integration_credentials", "acme") == []
    assert credential not in repr(env.snapshot("acme"))


def test_integration_setup_survives_a_single_provider_blip(env: Env) -> None:
    env.onboard("acme")
    env.backends.openai.add_fault(503, times=1, retry_after=1)
    response = env.setup("acme", "openai", env.backends.openai.issue_key())
    assert response.status_code == 201, response.text
    assert len(env.rows("org_integration_credentials", "acme")) == 1


def test_integration_unknown_provider_is_400(env: Env) -> None:
    env.onboard("acme")
    body = assert_error(env.setup("acme", "gemini", "key-123"), 400, "UNKNOWN_PROVIDER")
    assert "openai" in body["message"] and "anthropic" in body["message"]
    assert_error(
        env.client.delete("/api/v1/integrations/acme/gemini", headers=env.h("acme")), 400, "UNKNOWN_PROVIDER"
    )
    assert env.rows("org_integration_credentials", "acme") == []


def test_integration_setup_body_errors_are_422_without_echo(env: Env) -> None:
    env.onboard("acme")
    url = "/api/v1/integrations/acme/openai/setup"
    secret = "sk-secret-in-a-bad-body-0123456789"
    for payload in ({}, {"credential": ""}, {"credential": secret, "extra": 1}, {"credential": 5}, [secret]):
        response = env.client.post(url, json=payload, headers=env.h("acme"))
        assert_error(response, 422, "VALIDATION_ERROR")
        assert secret not in response.text
    assert env.rows("org_integration_credentials", "acme") == []
    assert env.backends.openai.requests == []


def test_provider_limit_and_re_setup_replacing_the_credential(env: Env) -> None:
    env.onboard("acme")  # STARTER: one provider
    first_key, second_key = env.backends.openai.issue_key(), env.backends.openai.issue_key()
    first = env.setup("acme", "openai", first_key)
    assert first.status_code == 201

    calls = len(env.backends.anthropic.requests)
    body = assert_error(
        env.setup("acme", "anthropic", env.backends.anthropic.issue_key()), 403, "PROVIDER_LIMIT_EXCEEDED"
    )
    assert body["details"] == {"provider_limit": 1, "configured": ["OPENAI"]}
    assert len(env.backends.anthropic.requests) == calls  # refused before calling the provider
    assert [r["provider"] for r in env.rows("org_integration_credentials", "acme")] == ["OPENAI"]

    again = env.setup("acme", "OpenAI", second_key)
    assert again.status_code == 201, again.text
    (row,) = env.rows("org_integration_credentials", "acme")
    assert row["credential_id"] == again.json()["credential_id"] != first.json()["credential_id"]
    assert row["credential_fingerprint"] == integrations.fingerprint(second_key)
    assert integrations.decrypt_credential(env.backends.platform, "acme", Provider.OPENAI) == second_key

    # A bigger plan allows a second provider.
    env.client.put("/api/v1/organizations/acme/subscription", json={"plan": "PROFESSIONAL"}, headers=ROOT)
    assert env.setup("acme", "anthropic", env.backends.anthropic.issue_key()).status_code == 201
    listed = env.client.get("/api/v1/integrations/acme", headers=env.h("acme")).json()["integrations"]
    assert sorted(i["provider"] for i in listed) == ["anthropic", "openai"]


def test_integration_delete_then_404(env: Env) -> None:
    env.onboard("acme")
    assert env.setup("acme", "openai", env.backends.openai.issue_key()).status_code == 201
    url = "/api/v1/integrations/acme/openai"
    assert_error(env.client.delete(url), 401, "UNAUTHENTICATED")
    response = env.client.delete(url, headers=env.h("acme"))
    assert response.status_code == 200, response.text
    assert response.json() == {"org_slug": "acme", "provider": "openai", "deleted": 1}
    assert env.rows("org_integration_credentials", "acme") == []
    assert env.client.get("/api/v1/integrations/acme", headers=env.h("acme")).json()["integrations"] == []
    assert_error(env.client.delete(url, headers=env.h("acme")), 404, "INTEGRATION_NOT_FOUND")
    assert_error(
        env.client.delete("/api/v1/integrations/acme/anthropic", headers=ROOT), 404, "INTEGRATION_NOT_FOUND"
    )
    actions = [r["action"] for r in env.rows("org_audit_logs", "acme")]
    assert actions.count("integration.delete") == 1


# ---------------------------------------------------------------------------------------- cross-org
def test_an_org_key_never_reads_or_writes_another_org(two_orgs: Env) -> None:
    env = two_orgs
    assert env.setup("org_b", "openai", env.backends.openai.issue_key()).status_code == 201
    before_b, before_a = env.snapshot("org_b"), env.snapshot("org_a")
    provider_calls = len(env.backends.openai.requests)
    a = env.h("org_a")
    attempts = [
        ("GET", "/api/v1/organizations/org_b", None),
        ("POST", "/api/v1/organizations/org_b/api-key/rotate", None),
        ("GET", "/api/v1/organizations/org_b/subscription", None),
        ("PUT", "/api/v1/organizations/org_b/subscription", {"plan": "SCALE"}),
        ("GET", "/api/v1/organizations/org_b/quota", None),
        ("POST", "/api/v1/integrations/org_b/openai/setup", {"credential": env.backends.openai.issue_key()}),
        ("POST", "/api/v1/integrations/org_b/anthropic/setup", {"credential": "sk-ant-x"}),
        ("GET", "/api/v1/integrations/org_b", None),
        ("DELETE", "/api/v1/integrations/org_b/openai", None),
    ]
    for method, url, payload in attempts:
        for _ in range(2):  # the second try would hit a cached identity, if one were wrongly cached
            response = env.client.request(method, url, json=payload, headers=a)
            body = assert_error(response, 403, "FORBIDDEN")
            assert "org_b" in body["message"]
            assert env.keys["org_b"] not in response.text
    assert_error(env.client.delete("/api/v1/organizations/org_b", headers=a), 401, "UNAUTHENTICATED")

    assert env.snapshot("org_b") == before_b
    assert env.snapshot("org_a") == before_a
    assert len(env.backends.openai.requests) == provider_calls
    # Both keys still work on their own org.
    assert env.client.get("/api/v1/organizations/org_b", headers=env.h("org_b")).status_code == 200
    assert env.client.get("/api/v1/organizations/org_a", headers=a).status_code == 200


# ----------------------------------------------------------------------------------- billing webhook
def _webhook(env: Env, event: Any, *, secret: str = WEBHOOK_SECRET, signature: str | None = None) -> Any:
    payload = json.dumps(event).encode()
    if signature is None:
        signature = sign(payload, secret, int(env.clock.now().timestamp()))
    return env.client.post(
        "/api/v1/billing/webhook",
        content=payload,
        headers={"Stripe-Signature": signature, "content-type": "application/json"},
    )


def _event(event_id: str, obj: Any, event_type: str = "customer.subscription.updated") -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "created": 1_780_000_000, "data": {"object": obj}}


def _subscription(slug: str, **extra: Any) -> dict[str, Any]:
    return {"id": "sub_1", "customer": "cus_1", "status": "active", "metadata": {"org_slug": slug}} | extra


def test_billing_webhook_applies_a_signed_event_once(env: Env) -> None:
    env.onboard("acme")
    event = _event("evt_1", _subscription("acme", metadata={"org_slug": "acme", "plan": "SCALE"}))
    first = _webhook(env, event)
    assert first.status_code == 200, first.text
    assert first.json()["applied"] is True and first.json()["plan"] == "SCALE"
    sub = env.client.get("/api/v1/organizations/acme/subscription", headers=env.h("acme")).json()
    assert sub["plan_name"] == "SCALE" and sub["billing_customer_id"] == "cus_1"
    again = _webhook(env, event)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["applied"] is False


def test_billing_webhook_refuses_bad_signatures_and_changes_nothing(env: Env) -> None:
    env.onboard("acme")
    before = env.snapshot("acme")
    event = _event("evt_1", _subscription("acme", metadata={"org_slug": "acme", "plan": "SCALE"}))
    assert_error(_webhook(env, event, signature=""), 400, "INVALID_SIGNATURE")
    assert_error(_webhook(env, event, secret="whsec_wrong"), 400, "INVALID_SIGNATURE")
    assert_error(_webhook(env, event, signature="t=1,v1=00"), 400, "INVALID_SIGNATURE")
    assert env.snapshot("acme") == before


def test_billing_webhook_signed_but_malformed_events_are_400_and_change_nothing(env: Env) -> None:
    env.onboard("acme")
    assert _webhook(env, _event("evt_1", _subscription("acme"))).status_code == 200
    before = env.snapshot("acme")
    malformed = [
        _event("evt_2", "oops"),
        _event("evt_3", {"metadata": "acme"}),
        _event("evt_4", _subscription("acme", current_period_start="soon", current_period_end="later")),
        _event(5, _subscription("acme")),
        ["not", "an", "event"],
    ]
    for event in malformed:
        assert_error(_webhook(env, event), 400, "INVALID_EVENT")
    assert env.snapshot("acme") == before


# ------------------------------------------------------------------------------ routing and failures
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/nope"),
        ("GET", "/api/v1/organizations/acme/unknown"),
        ("POST", "/api/v1/integrations/acme/openai/teardown"),
        ("GET", "/api/v2/organizations/acme"),
    ],
)
def test_unknown_route_is_a_structured_404(env: Env, method: str, url: str) -> None:
    assert_error(env.client.request(method, url, headers=ROOT), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", "/health"),
        ("PATCH", "/api/v1/organizations/acme"),
        ("GET", "/api/v1/organizations/acme/api-key/rotate"),
        ("GET", "/api/v1/admin/bootstrap"),
        ("DELETE", "/api/v1/organizations/acme/subscription"),
    ],
)
def test_wrong_method_is_a_structured_405(env: Env, method: str, url: str) -> None:
    response = env.client.request(method, url, headers=ROOT)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers.get("allow")


def test_an_unexpected_exception_is_a_500_without_details_and_its_id_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom secret")

    with make_env(raise_server_exceptions=False, fresh_app=True) as e:
        e.onboard("acme")
        monkeypatch.setattr(orgs, "get", boom)
        caplog.set_level(logging.INFO, logger="harness.services")
        response = e.client.get("/api/v1/organizations/acme", headers=e.h("acme"))
        body = assert_error(response, 500, "INTERNAL_ERROR")
        assert "boom" not in response.text and "secret" not in response.text
        assert "RuntimeError" not in response.text and "Traceback" not in response.text
        assert body["error_id"] in caplog.text
        logged = [r for r in caplog.records if body["error_id"] in r.getMessage()]
        assert logged and logged[0].levelno == logging.ERROR
        assert logged[0].exc_info and "boom secret" in str(logged[0].exc_info[1])
        # The app keeps serving after the failure.
        monkeypatch.undo()
        assert e.client.get("/api/v1/organizations/acme", headers=e.h("acme")).status_code == 200


# ---------------------------------------------------------------------------------- clean shutdown
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_clean_shutdown_with_no_logging_errors(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        backends = build_backends("fake", clock=ManualClock(START), seed=7, config=CONFIG)
        bootstrap(backends.platform.warehouse, backends.platform.config)
        with TestClient(create_api_app(backends.platform)) as client:
            onboarded = client.post("/api/v1/organizations/onboard", json=onboard_body("acme"), headers=ROOT)
            headers = key(onboarded.json()["api_key"])
            client.post(
                "/api/v1/integrations/acme/openai/setup",
                json={"credential": backends.openai.issue_key()},
                headers=headers,
            )
            assert client.get("/nope").status_code == 404
            backends.openai.add_fault(503, times=20)
            assert (
                client.post(
                    "/api/v1/integrations/acme/openai/setup", json={"credential": "sk-x"}, headers=headers
                ).status_code
                == 503
            )
            assert client.get("/health/ready").status_code == 200
        backends.close()
        backends.close()  # closing twice is harmless
        logging.getLogger("harness.services").info("after shutdown")
        handler.flush()
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)

    captured = capsys.readouterr()
    logged = stream.getvalue()
    assert "after shutdown" in logged
    assert "PROVIDER_UNAVAILABLE" in logged  # the app's own logging reached the handler
    for text in (captured.out, captured.err, logged, caplog.text):
        assert "Logging error" not in text
        assert "I/O operation on closed file" not in text
        assert "Traceback" not in text
    assert not [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and "PROVIDER_UNAVAILABLE" not in r.getMessage()
    ]
