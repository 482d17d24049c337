"""The OpenAI and Anthropic fakes answer with the real shapes, and the in-process mount is strict.

Fidelity sources for the bodies asserted here (real responses quoted in public issues/docs):
OpenAI 401 missing key — openai/openai-python#1434; 401 incorrect key — chatanywhere/GPT_API_free#427;
429 shape — many reports (type "requests", code "rate_limit_exceeded"); 503 — ikechan8370/chatgpt-plugin#125;
404 "Invalid URL (GET /v1/...)". Anthropic "invalid x-api-key" — abi/screenshot-to-code#272;
"x-api-key header is required" — n8n-io/n8n#37930; "anthropic-version: header is required" —
envoyproxy/ai-gateway#1909; invalid version — directus-labs/extensions#285; 529 "Overloaded" —
anthropics/claude-code#35792; 500 "Internal server error" — anthropics/claude-code#61368; 429 —
gsd-build/gsd-2#32. The official SDK tests at the bottom prove the shapes parse as the SDKs expect.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import anthropic
import httpx
import httpx2
import openai
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from fakes.anthropic import AnthropicState
from fakes.anthropic import create_app as create_anthropic_app
from fakes.anthropic import exceptions as anthropic_errors
from fakes.errors import error_classes, text_is_confirmed
from fakes.openai import OpenAIState
from fakes.openai import create_app as create_openai_app
from fakes.openai import exceptions as openai_errors
from fakes.provider_mocks import ProviderMocks
from fakes.providers.keys import mask_key
from harness.clock import ManualClock

OPENAI_KEY_URL = "https://platform.openai.com/account/api-keys"


pytestmark = pytest.mark.usefixtures("no_sockets")


@pytest.fixture
def openai_app() -> Iterator[tuple[OpenAIState, TestClient]]:
    state = OpenAIState(seed=1, clock=ManualClock())
    with TestClient(create_openai_app(state), base_url="https://api.openai.com") as client:
        yield state, client


@pytest.fixture
def anthropic_app() -> Iterator[tuple[AnthropicState, TestClient]]:
    state = AnthropicState(seed=1, clock=ManualClock())
    with TestClient(create_anthropic_app(state), base_url="https://api.anthropic.com") as client:
        yield state, client


@pytest.fixture
def mocks() -> Iterator[ProviderMocks]:
    with ProviderMocks(OpenAIState(seed=7), AnthropicState(seed=7)) as active:
        yield active


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def anthropic_headers(key: str, version: str = "2023-06-01") -> dict[str, str]:
    return {"x-api-key": key, "anthropic-version": version}


# ----------------------------------------------------------------------------------- state


class TestKeys:
    def test_openai_keys_look_real_and_are_deterministic(self) -> None:
        first, again = OpenAIState(seed=3), OpenAIState(seed=3)
        key = first.issue_key()
        assert re.fullmatch(r"sk-proj-[A-Za-z0-9_-]{74}T3BlbkFJ[A-Za-z0-9_-]{74}", key)
        assert again.issue_key() == key
        assert OpenAIState(seed=4).issue_key() != key
        assert first.issue_key() != key

    def test_anthropic_keys_look_real_and_are_deterministic(self) -> None:
        key = AnthropicState(seed=3).issue_key()
        assert re.fullmatch(r"sk-ant-api03-[A-Za-z0-9_-]{93}AA", key)
        assert len(key) == 108
        assert AnthropicState(seed=3).issue_key() == key

    def test_reset_forgets_everything_and_replays_the_same_keys(self) -> None:
        state = OpenAIState(seed=5)
        key = state.issue_key()
        state.revoke(key)
        state.add_fault(500)
        state.models.clear()
        state.reset()
        assert state.valid_keys == set() and state.revoked_keys == set()
        assert state.pending_faults == [] and state.requests == []
        assert state.models[0]["id"] == "gpt-4o"
        assert state.issue_key() == key

    def test_revoke_and_add_key(self) -> None:
        state = AnthropicState()
        key = state.issue_key()
        state.revoke(key)
        assert not state.is_valid(key) and state.is_revoked(key)
        state.add_key(key)
        assert state.is_valid(key) and not state.is_revoked(key)

    def test_faults_queue_in_order_and_count_down(self) -> None:
        state = OpenAIState()
        state.add_fault(429, times=2, retry_after=2)
        state.add_timeout()
        taken = [state.take_fault() for _ in range(4)]
        assert [f.status if f else "none" for f in taken] == [429, 429, None, "none"]
        assert taken[2] is not None and taken[2].delay == float("inf")

    @pytest.mark.parametrize(
        "kwargs", [{"status": 200}, {"status": 500, "times": 0}, {"status": None, "delay": -1.0}]
    )
    def test_bad_faults_are_refused(self, kwargs: dict) -> None:
        with pytest.raises(ValueError):
            OpenAIState().add_fault(**kwargs)


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        # 51-character legacy key: first 8, 39 stars, last 4 — as in real 401 bodies.
        ("sk-4sJHr" + "x" * 39 + "w8ZP", "sk-4sJHr" + "*" * 39 + "w8ZP"),
        ("test-openai-key", "test-ope***-key"),
        ("test-key", "test-key"),
        ("", ""),
    ],
)
def test_mask_key_matches_openai(key: str, masked: str) -> None:
    assert mask_key(key) == masked


# ------------------------------------------------------------------------------- OpenAI app


class TestOpenAIApp:
    def test_list_models_shape(self, openai_app: tuple[OpenAIState, TestClient]) -> None:
        state, client = openai_app
        response = client.get("/v1/models", headers=bearer(state.issue_key()))
        assert response.status_code == 200
        body = response.json()
        assert body["object"] == "list"
        assert body["data"][0] == {
            "id": "gpt-4o",
            "object": "model",
            "created": 1715367049,
            "owned_by": "system",
        }
        for model in body["data"]:
            assert set(model) == {"id", "object", "created", "owned_by"}
            assert model["object"] == "model" and isinstance(model["created"], int)
        assert re.fullmatch(r"req_[0-9a-f]{32}", response.headers["x-request-id"])
        assert response.headers["openai-version"] == "2020-10-01"

    def test_incorrect_key_body(self, openai_app: tuple[OpenAIState, TestClient]) -> None:
        _, client = openai_app
        key = "sk-proj-" + "a" * 40 + "wxyz"
        response = client.get("/v1/models", headers=bearer(key))
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "message": f"Incorrect API key provided: sk-proj-{'*' * 40}wxyz. "
                f"You can find your API key at {OPENAI_KEY_URL}.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }

    def test_revoked_key_is_rejected_like_an_unknown_one(
        self, openai_app: tuple[OpenAIState, TestClient]
    ) -> None:
        state, client = openai_app
        key = state.issue_key()
        state.revoke(key)
        response = client.get("/v1/models", headers=bearer(key))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"

    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Token abc"}])
    def test_missing_key_body(self, openai_app: tuple[OpenAIState, TestClient], headers: dict) -> None:
        _, client = openai_app
        response = client.get("/v1/models", headers=headers)
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["message"].startswith(
            "You didn't provide an API key. You need to provide your API key in an "
        )
        assert error["message"].endswith(f"You can obtain an API key from {OPENAI_KEY_URL}.")
        assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", None, None)

    def test_injected_429_has_retry_headers_and_rate_limit_body(
        self, openai_app: tuple[OpenAIState, TestClient]
    ) -> None:
        state, client = openai_app
        state.add_fault(429, retry_after=2, retry_after_ms=2000)
        response = client.get("/v1/models", headers=bearer(state.issue_key()))
        assert response.status_code == 429
        assert response.headers["retry-after"] == "2"
        assert response.headers["retry-after-ms"] == "2000"
        assert response.headers["x-ratelimit-remaining-requests"] == "0"
        error = response.json()["error"]
        assert (error["type"], error["code"], error["param"]) == ("requests", "rate_limit_exceeded", None)
        assert error["message"].startswith("Rate limit reached for ")
        assert "Please try again in 2s." in error["message"]

    def test_injected_500_and_503(self, openai_app: tuple[OpenAIState, TestClient]) -> None:
        state, client = openai_app
        state.add_fault(500)
        state.add_fault(503)
        first = client.get("/v1/models")
        assert first.status_code == 500
        assert first.json() == {
            "error": {
                "message": "The server had an error while processing your request. Sorry about that!",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        }
        second = client.get("/v1/models")
        assert second.status_code == 503
        assert second.json()["error"]["type"] == "server_error"
        assert (
            f"(Please include the request ID {second.headers['x-request-id']} in your message.)"
            in (second.json()["error"]["message"])
        )

    def test_rate_limited_key(self, openai_app: tuple[OpenAIState, TestClient]) -> None:
        state, client = openai_app
        key = state.issue_key()
        state.rate_limit(key, retry_after=5)
        assert client.get("/v1/models", headers=bearer(key)).headers["retry-after"] == "5"
        state.clear_rate_limit(key)
        assert client.get("/v1/models", headers=bearer(key)).status_code == 200

    def test_retrieve_and_unknown_path(self, openai_app: tuple[OpenAIState, TestClient]) -> None:
        state, client = openai_app
        key = state.issue_key()
        assert client.get("/v1/models/gpt-4o", headers=bearer(key)).json()["id"] == "gpt-4o"
        assert client.get("/v1/models/nope", headers=bearer(key)).json()["error"]["code"] == "model_not_found"
        unknown = client.get("/v1/nope", headers=bearer(key))
        assert unknown.status_code == 404
        assert unknown.json()["error"] == {
            "message": "Invalid URL (GET /v1/nope)",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }

    def test_request_log_masks_the_key(self, openai_app: tuple[OpenAIState, TestClient]) -> None:
        state, client = openai_app
        key = state.issue_key()
        client.get("/v1/models?x=1", headers=bearer(key))
        [entry] = state.requests
        assert (entry.method, entry.path, entry.query, entry.status) == ("GET", "/v1/models", "x=1", 200)
        assert key not in entry.headers["authorization"]
        assert entry.headers["authorization"] == f"Bearer {mask_key(key)}"
        assert entry.at == state.now()

    def test_basic_auth_password_is_accepted(self, openai_app: tuple[OpenAIState, TestClient]) -> None:
        state, client = openai_app
        key = state.issue_key()
        assert client.get("/v1/models", auth=("", key)).status_code == 200

    @given(key=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
    def test_any_unissued_key_is_rejected(self, key: str) -> None:
        state = OpenAIState()
        state.issue_key()
        with TestClient(create_openai_app(state), base_url="https://api.openai.com") as client:
            response = client.get("/v1/models", headers=bearer(key))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


# ---------------------------------------------------------------------------- Anthropic app


class TestAnthropicApp:
    def test_list_models_shape(self, anthropic_app: tuple[AnthropicState, TestClient]) -> None:
        state, client = anthropic_app
        response = client.get("/v1/models", headers=anthropic_headers(state.issue_key()))
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"data", "has_more", "first_id", "last_id"}
        assert body["has_more"] is False
        assert body["first_id"] == body["data"][0]["id"] and body["last_id"] == body["data"][-1]["id"]
        assert body["data"][1] == {
            "type": "model",
            "id": "claude-sonnet-4-20250514",
            "display_name": "Claude Sonnet 4",
            "created_at": "2025-05-22T00:00:00Z",
        }
        created = [m["created_at"] for m in body["data"]]
        assert created == sorted(created, reverse=True)  # most recent first
        assert re.fullmatch(r"req_011C[A-Za-z0-9]{20}", response.headers["request-id"])
        assert response.headers["anthropic-organization-id"] == state.organization_id

    def test_pagination(self, anthropic_app: tuple[AnthropicState, TestClient]) -> None:
        state, client = anthropic_app
        headers = anthropic_headers(state.issue_key())
        first = client.get("/v1/models", params={"limit": 2}, headers=headers).json()
        assert len(first["data"]) == 2 and first["has_more"] is True
        rest = client.get(
            "/v1/models", params={"limit": 2, "after_id": first["last_id"]}, headers=headers
        ).json()
        assert [m["id"] for m in rest["data"]] == ["claude-3-5-haiku-20241022"] and rest["has_more"] is False
        back = client.get(
            "/v1/models", params={"limit": 1, "before_id": rest["first_id"]}, headers=headers
        ).json()
        assert back["data"][0]["id"] == first["last_id"] and back["has_more"] is True
        bad = client.get("/v1/models", params={"limit": 0}, headers=headers)
        assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"

    def test_invalid_key_body(self, anthropic_app: tuple[AnthropicState, TestClient]) -> None:
        _, client = anthropic_app
        response = client.get("/v1/models", headers=anthropic_headers("sk-ant-api03-nope"))
        assert response.status_code == 401
        assert response.json() == {
            "type": "error",
            "error": {"type": "authentication_error", "message": "invalid x-api-key"},
            "request_id": response.headers["request-id"],
        }

    def test_missing_key(self, anthropic_app: tuple[AnthropicState, TestClient]) -> None:
        _, client = anthropic_app
        response = client.get("/v1/models", headers={"anthropic-version": "2023-06-01"})
        assert response.status_code == 401
        assert response.json()["error"] == {
            "type": "authentication_error",
            "message": "x-api-key header is required",
        }

    def test_version_header_is_required_and_checked(
        self, anthropic_app: tuple[AnthropicState, TestClient]
    ) -> None:
        state, client = anthropic_app
        key = state.issue_key()
        missing = client.get("/v1/models", headers={"x-api-key": key})
        assert missing.status_code == 400
        assert missing.json()["error"] == {
            "type": "invalid_request_error",
            "message": "anthropic-version: header is required",
        }
        wrong = client.get("/v1/models", headers=anthropic_headers(key, "2023-10-01"))
        assert wrong.status_code == 400
        assert wrong.json()["error"]["message"] == 'anthropic-version: "2023-10-01" is not a valid version'
        assert client.get("/v1/models", headers=anthropic_headers(key, "2026-10-21")).status_code == 200

    def test_bearer_auth_is_accepted(self, anthropic_app: tuple[AnthropicState, TestClient]) -> None:
        state, client = anthropic_app
        headers = {**bearer(state.issue_key()), "anthropic-version": "2026-10-21"}
        assert client.get("/v1/models", headers=headers).status_code == 200

    @pytest.mark.parametrize(
        ("status", "type_", "message"),
        [
            (
                429,
                "rate_limit_error",
                "This request would exceed your account's rate limit. Please try again later.",
            ),
            (500, "api_error", "Internal server error"),
            (529, "overloaded_error", "Overloaded"),
        ],
    )
    def test_injected_faults(
        self, anthropic_app: tuple[AnthropicState, TestClient], status: int, type_: str, message: str
    ) -> None:
        state, client = anthropic_app
        state.add_fault(status, retry_after=3)
        response = client.get("/v1/models", headers=anthropic_headers(state.issue_key()))
        assert response.status_code == status
        assert response.json() == {
            "type": "error",
            "error": {"type": type_, "message": message},
            "request_id": response.headers["request-id"],
        }
        assert response.headers["retry-after"] == "3"

    def test_rate_limited_key_and_retrieve(self, anthropic_app: tuple[AnthropicState, TestClient]) -> None:
        state, client = anthropic_app
        key = state.issue_key()
        assert (
            client.get("/v1/models/claude-opus-4-20250514", headers=anthropic_headers(key)).status_code == 200
        )
        assert client.get("/v1/models/nope", headers=anthropic_headers(key)).json()["error"]["type"] == (
            "not_found_error"
        )
        state.rate_limit(key, retry_after=4)
        limited = client.get("/v1/models", headers=anthropic_headers(key))
        assert limited.status_code == 429 and limited.headers["retry-after"] == "4"
        assert limited.headers["anthropic-ratelimit-requests-remaining"] == "0"

    def test_request_log_masks_the_key(self, anthropic_app: tuple[AnthropicState, TestClient]) -> None:
        state, client = anthropic_app
        key = state.issue_key()
        client.get("/v1/models", headers=anthropic_headers(key))
        [entry] = state.requests
        assert entry.headers["x-api-key"] == mask_key(key) and key not in entry.headers["x-api-key"]
        assert entry.headers["anthropic-version"] == "2023-06-01"

    @given(key=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
    def test_any_unissued_key_is_rejected(self, key: str) -> None:
        state = AnthropicState()
        state.issue_key()
        with TestClient(create_anthropic_app(state), base_url="https://api.anthropic.com") as client:
            response = client.get("/v1/models", headers=anthropic_headers(key))
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"


# ------------------------------------------------------------------------------------ mount


class TestMount:
    def test_httpx_reaches_both_fakes(self, mocks: ProviderMocks) -> None:
        openai_key, anthropic_key = mocks.openai.issue_key(), mocks.anthropic.issue_key()
        assert httpx.get("https://api.openai.com/v1/models", headers=bearer(openai_key)).status_code == 200
        response = httpx.get("https://api.anthropic.com/v1/models", headers=anthropic_headers(anthropic_key))
        assert response.status_code == 200
        assert [call.request.url.host for call in mocks.calls] == ["api.openai.com", "api.anthropic.com"]

    def test_unmatched_host_is_an_error_for_httpx_and_httpx2(self, mocks: ProviderMocks) -> None:
        with pytest.raises(respx.models.AllMockedAssertionError):
            httpx.get("https://api.example.com/v1/models")
        with pytest.raises(respx.models.AllMockedAssertionError):
            httpx2.get("https://api.example.com/v1/models")
        # Same host, other scheme or port: not the provider either.
        with pytest.raises(respx.models.AllMockedAssertionError):
            httpx.get("http://api.openai.com/v1/models")
        with pytest.raises(respx.models.AllMockedAssertionError):
            httpx.get("https://api.openai.com.evil.test/v1/models")

    def test_timeout_fault_raises_read_timeout_without_waiting(self, mocks: ProviderMocks) -> None:
        key = mocks.openai.issue_key()
        mocks.openai.add_timeout()
        with pytest.raises(httpx.ReadTimeout):
            httpx.get("https://api.openai.com/v1/models", headers=bearer(key), timeout=30)
        mocks.openai.add_timeout()
        with pytest.raises(httpx2.ReadTimeout):
            httpx2.get("https://api.openai.com/v1/models", headers=bearer(key), timeout=30)
        assert [r.delay for r in mocks.openai.requests] == [float("inf")] * 2

    def test_slow_response_within_the_timeout_is_delivered(self, mocks: ProviderMocks) -> None:
        key = mocks.anthropic.issue_key()
        mocks.anthropic.add_fault(None, delay=3.0)
        mocks.anthropic.add_fault(None, delay=3.0)
        url, headers = "https://api.anthropic.com/v1/models", anthropic_headers(key)
        assert httpx.get(url, headers=headers, timeout=5).status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(url, headers=headers, timeout=2)
        assert [r.delay for r in mocks.anthropic.requests] == [3.0, 3.0]

    def test_decorator_form(self) -> None:
        state = OpenAIState()
        key = state.issue_key()

        @ProviderMocks(state)
        def call() -> int:
            return httpx.get("https://api.openai.com/v1/models", headers=bearer(key)).status_code

        assert call() == 200
        assert len(state.requests) == 1

    def test_custom_base_url_with_path_prefix(self) -> None:
        state = OpenAIState()
        key = state.issue_key()
        with ProviderMocks(state, openai_base_url="https://gateway.test/openai"):
            response = httpx.get("https://gateway.test/openai/v1/models", headers=bearer(key))
            assert response.status_code == 200
            with pytest.raises(respx.models.AllMockedAssertionError):
                httpx.get("https://api.openai.com/v1/models", headers=bearer(key))
        assert state.requests[0].path == "/v1/models"

    def test_mocks_in_turn_each_serve_their_own_state(self) -> None:
        """The provider apps are kept from one mocks to the next; each serves the state of the
        mocks it is lent to."""
        first, second = OpenAIState(seed=1), OpenAIState(seed=2)
        key_one, key_two = first.issue_key(), second.issue_key()
        url = "https://api.openai.com/v1/models"
        for state, mine, other in (
            (first, key_one, key_two),
            (second, key_two, key_one),
            (first, key_one, key_two),
        ):
            with ProviderMocks(state):
                assert httpx.get(url, headers=bearer(mine)).status_code == 200
                assert httpx.get(url, headers=bearer(other)).status_code == 401
        assert [len(first.requests), len(second.requests)] == [4, 2]

    def test_not_reentrant_and_inactive_after_exit(self) -> None:
        mocks = ProviderMocks()
        with mocks, pytest.raises(RuntimeError):
            mocks.__enter__()
        with pytest.raises(AssertionError, match="socket connection was attempted"):
            httpx.get("https://api.openai.com/v1/models")


# ------------------------------------------------------------------------- official SDKs


class TestOfficialSDKs:
    """The SDKs (which run on httpx2) parse the fakes' answers: proof of shape fidelity."""

    @pytest.mark.parametrize("explicit_client", [False, True])
    def test_openai_models_list(self, mocks: ProviderMocks, explicit_client: bool) -> None:
        extra = {"http_client": httpx2.Client()} if explicit_client else {}
        client = openai.OpenAI(api_key=mocks.openai.issue_key(), max_retries=0, **extra)
        page = client.models.list()
        assert [m.id for m in page] == ["gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo", "text-embedding-3-small"]
        assert page.data[0].owned_by == "system" and page.data[0].created == 1715367049

    def test_openai_invalid_key_is_authentication_error(self, mocks: ProviderMocks) -> None:
        client = openai.OpenAI(api_key="sk-proj-not-issued-0000", max_retries=0, http_client=httpx2.Client())
        with pytest.raises(openai.AuthenticationError) as caught:
            client.models.list()
        assert caught.value.status_code == 401
        assert caught.value.code == "invalid_api_key" and caught.value.type == "invalid_request_error"
        assert caught.value.request_id == mocks.openai.requests[-1].request_id

    def test_openai_rate_limit_and_server_error(self, mocks: ProviderMocks) -> None:
        client = openai.OpenAI(api_key=mocks.openai.issue_key(), max_retries=0)
        mocks.openai.add_fault(429, retry_after=1)
        with pytest.raises(openai.RateLimitError):
            client.models.list()
        mocks.openai.add_fault(500)
        with pytest.raises(openai.InternalServerError):
            client.models.list()

    def test_openai_async_client(self, mocks: ProviderMocks) -> None:
        key = mocks.openai.issue_key()

        async def ids() -> list[str]:
            async with openai.AsyncOpenAI(api_key=key, max_retries=0) as client:
                return [m.id async for m in client.models.list()]

        assert asyncio.run(ids())[0] == "gpt-4o"

    @pytest.mark.parametrize("explicit_client", [False, True])
    def test_anthropic_models_list(self, mocks: ProviderMocks, explicit_client: bool) -> None:
        extra = {"http_client": httpx2.Client()} if explicit_client else {}
        client = anthropic.Anthropic(api_key=mocks.anthropic.issue_key(), max_retries=0, **extra)
        models = list(client.models.list(limit=2))  # auto-pagination follows has_more / last_id
        assert [m.id for m in models] == [
            "claude-opus-4-20250514",
            "claude-sonnet-4-20250514",
            "claude-3-5-haiku-20241022",
        ]
        assert models[1].display_name == "Claude Sonnet 4"
        assert mocks.anthropic.requests[-1].query == "limit=2&after_id=claude-sonnet-4-20250514"

    def test_anthropic_invalid_key_is_authentication_error(self, mocks: ProviderMocks) -> None:
        client = anthropic.Anthropic(
            api_key="sk-ant-api03-not-issued", max_retries=0, http_client=httpx2.Client()
        )
        with pytest.raises(anthropic.AuthenticationError) as caught:
            client.models.list()
        assert caught.value.status_code == 401
        assert caught.value.body == {
            "type": "error",
            "error": {"type": "authentication_error", "message": "invalid x-api-key"},
            "request_id": caught.value.request_id,
        }

    def test_anthropic_overloaded(self, mocks: ProviderMocks) -> None:
        client = anthropic.Anthropic(api_key=mocks.anthropic.issue_key(), max_retries=0)
        mocks.anthropic.add_fault(529)
        with pytest.raises(anthropic.APIStatusError) as caught:
            client.models.list()
        assert caught.value.status_code == 529


# ------------------------------------------------------------------------------ error classes
@pytest.mark.parametrize(
    ("module", "base"),
    [(openai_errors, openai_errors.OpenAIError), (anthropic_errors, anthropic_errors.AnthropicError)],
)
def test_every_provider_error_class_states_its_provenance(module: object, base: type) -> None:
    classes = list(error_classes(module))  # type: ignore[arg-type]
    assert len(classes) >= 10
    for cls in classes:
        assert issubclass(cls, base), cls
        assert cls.confirmed or cls.searched, cls
        assert cls.template, cls


def test_the_bodies_asserted_verbatim_here_are_confirmed() -> None:
    """This module writes out these classes' texts; each must be one seen from the real API."""
    for cls in (
        openai_errors.MissingApiKey,
        openai_errors.IncorrectApiKey,
        openai_errors.RateLimitReached,
        openai_errors.ServerError,
        openai_errors.Overloaded,
        openai_errors.InvalidUrl,
        anthropic_errors.MissingApiKey,
        anthropic_errors.InvalidApiKey,
        anthropic_errors.MissingVersion,
        anthropic_errors.InvalidVersion,
        anthropic_errors.RateLimited,
        anthropic_errors.ApiError,
        anthropic_errors.Overloaded,
    ):
        assert text_is_confirmed(cls), cls
