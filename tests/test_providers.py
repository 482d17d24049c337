"""Credential validators against the provider fakes, mounted in-process (no sockets, no sleeping).

Every validator gets a recording ``sleep``: retries are asserted by the waits they *would* take.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import certifi
import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from fakes.anthropic import AnthropicState
from fakes.openai import OpenAIState
from fakes.provider_mocks import ProviderMocks
from harness.clock import ManualClock
from harness.ports import CredentialCheck, CredentialValidator, Provider, ProviderUnavailableError
from harness.providers import (
    ANTHROPIC_VERSION,
    AnthropicValidator,
    OpenAIValidator,
    RetryPolicy,
    parse_retry_after,
    validator_for,
)
from harness.providers.http import MALFORMED_KEY_MESSAGE, ModelsEndpointValidator

VALIDATORS = [OpenAIValidator, AnthropicValidator]


pytestmark = pytest.mark.usefixtures("no_sockets")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def mocks(clock: ManualClock) -> Iterator[ProviderMocks]:
    with ProviderMocks(OpenAIState(seed=11, clock=clock), AnthropicState(seed=11, clock=clock)) as active:
        yield active


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make(cls: type[ModelsEndpointValidator], sleeps: list[float], clock: ManualClock, **kwargs: object):
    return cls(sleep=sleeps.append, clock=clock, **kwargs)


def state_for(mocks: ProviderMocks, cls: type[ModelsEndpointValidator]) -> OpenAIState | AnthropicState:
    return mocks.openai if cls is OpenAIValidator else mocks.anthropic


@pytest.mark.parametrize("cls", VALIDATORS)
class TestValidation:
    def test_is_a_credential_validator(self, cls: type[ModelsEndpointValidator]) -> None:
        assert isinstance(cls(), CredentialValidator)

    def test_valid_key(self, cls, mocks: ProviderMocks, sleeps: list[float], clock: ManualClock) -> None:
        state = state_for(mocks, cls)
        assert make(cls, sleeps, clock).validate(state.issue_key()) == CredentialCheck(valid=True, status=200)
        assert sleeps == []
        assert len(state.requests) == 1

    def test_surrounding_whitespace_is_ignored(self, cls, mocks, sleeps, clock) -> None:
        key = state_for(mocks, cls).issue_key()
        assert make(cls, sleeps, clock).validate(f"  {key}\n").valid

    def test_revoked_key(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        key = state.issue_key()
        state.revoke(key)
        check = make(cls, sleeps, clock).validate(key)
        assert not check.valid and check.status == 401
        assert sleeps == []  # a 401 is an answer, not a failure: never retried

    def test_429_with_retry_after_then_success(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        state.add_fault(429, retry_after=2)
        assert make(cls, sleeps, clock).validate(state.issue_key()).valid
        assert sleeps == [2.0]
        assert [r.status for r in state.requests] == [429, 200]

    def test_retry_after_ms_wins_over_retry_after(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        state.add_fault(429, retry_after=2, retry_after_ms=250)
        assert make(cls, sleeps, clock).validate(state.issue_key()).valid
        assert sleeps == [0.25]

    def test_three_500s_then_success_within_budget(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        state.add_fault(500, times=3)
        assert make(cls, sleeps, clock).validate(state.issue_key()).valid
        assert sleeps == [0.5, 1.0, 2.0]  # exponential backoff, no hint given
        assert [r.status for r in state.requests] == [500, 500, 500, 200]

    def test_persistent_503_is_unavailable_after_exactly_max_attempts(
        self, cls, mocks, sleeps, clock
    ) -> None:
        state = state_for(mocks, cls)
        state.add_fault(503, times=100)
        validator = make(cls, sleeps, clock, retry=RetryPolicy(max_attempts=5, max_backoff=3.0))
        with pytest.raises(ProviderUnavailableError) as caught:
            validator.validate(state.issue_key())
        assert len(state.requests) == 5
        assert sleeps == [0.5, 1.0, 2.0, 3.0]  # capped at max_backoff
        assert caught.value.provider is cls.provider
        assert caught.value.status == 503
        assert "failed 5 time(s)" in caught.value.message

    def test_timeouts_are_retried(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        state.add_timeout(times=2)
        assert make(cls, sleeps, clock).validate(state.issue_key()).valid
        assert sleeps == [0.5, 1.0]
        assert [r.delay for r in state.requests] == [float("inf"), float("inf"), 0.0]

    def test_persistent_timeouts_are_unavailable_without_status(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        state.add_timeout(times=10)
        with pytest.raises(ProviderUnavailableError) as caught:
            make(cls, sleeps, clock, retry=RetryPolicy(max_attempts=3)).validate(state.issue_key())
        assert caught.value.status is None
        assert "ReadTimeout" in caught.value.message
        assert len(state.requests) == 3

    def test_a_slow_answer_beyond_the_read_timeout_times_out(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        state.add_fault(None, delay=12.0)  # default read timeout is 10 s
        assert make(cls, sleeps, clock).validate(state.issue_key()).valid
        assert sleeps == [0.5]
        state.add_fault(None, delay=12.0)
        assert make(cls, sleeps, clock, timeout=15.0).validate(state.issue_key()).valid
        assert sleeps == [0.5]  # second validator: no retry needed

    def test_x_should_retry_is_honoured(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        key = state.issue_key()
        state.add_fault(500, headers={"x-should-retry": "false"})
        check = make(cls, sleeps, clock).validate(key)
        assert (check.valid, check.status) == (False, 500)
        assert check.error_type in ("server_error", "api_error")
        assert sleeps == []
        state.add_fault(400, headers={"x-should-retry": "true"})
        assert make(cls, sleeps, clock).validate(key).valid
        assert sleeps == [0.5]

    def test_other_client_errors_are_answers_not_retried(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        state.add_fault(403)
        check = make(cls, sleeps, clock).validate(state.issue_key())
        assert (check.valid, check.status) == (False, 403)
        assert sleeps == []

    def test_unsendable_key_is_rejected_locally(self, cls, mocks, sleeps, clock) -> None:
        check = make(cls, sleeps, clock).validate("sk-\u00e9t\u00e9")
        assert check == CredentialCheck(
            valid=False,
            status=0,
            error_type="malformed_api_key",
            message=MALFORMED_KEY_MESSAGE,
        )
        assert mocks.calls.call_count == 0

    def test_unmatched_host_raises_instead_of_touching_the_network(self, cls, mocks, sleeps, clock) -> None:
        validator = make(cls, sleeps, clock, base_url="https://api.elsewhere.test")
        with pytest.raises(respx.models.AllMockedAssertionError):
            validator.validate("sk-anything")
        assert sleeps == []  # a strict mock's refusal is not a transient failure

    def test_client_passed_in_is_used_and_left_open(self, cls, mocks, sleeps, clock) -> None:
        state = state_for(mocks, cls)
        with httpx.Client(headers={"x-trace": "abc"}) as client:
            with make(cls, sleeps, clock, client=client) as validator:
                assert validator.validate(state.issue_key()).valid
            assert not client.is_closed
        assert state.requests[-1].headers["x-trace"] == "abc"

    @given(key=st.text(max_size=200))
    def test_any_key_that_was_not_issued_is_rejected(self, cls, key: str) -> None:
        state_cls = OpenAIState if cls is OpenAIValidator else AnthropicState
        state = state_cls(seed=2)
        issued = state.issue_key()
        with ProviderMocks(state) if cls is OpenAIValidator else ProviderMocks(anthropic_state=state):
            check = cls(sleep=pytest.fail).validate(key)
        if key.strip() == issued:  # pragma: no cover - astronomically unlikely
            return
        assert not check.valid
        sendable = all(" " <= ch <= "~" for ch in key.strip())
        assert check.status == (401 if sendable else 0)


class TestErrorsAsTheProvidersWordThem:
    def test_openai_unknown_key(self, mocks: ProviderMocks, sleeps, clock) -> None:
        key = "sk-proj-" + "Z" * 30 + "9xQw"
        check = make(OpenAIValidator, sleeps, clock).validate(key)
        assert check == CredentialCheck(
            valid=False,
            status=401,
            error_type="invalid_request_error",
            message=f"Incorrect API key provided: sk-proj-{'*' * 30}9xQw. "
            "You can find your API key at https://platform.openai.com/account/api-keys.",
        )

    def test_openai_empty_key(self, mocks: ProviderMocks, sleeps, clock) -> None:
        check = make(OpenAIValidator, sleeps, clock).validate("")
        assert (check.valid, check.status, check.error_type) == (False, 401, "invalid_request_error")
        assert check.message is not None and check.message.startswith("You didn't provide an API key.")

    def test_anthropic_unknown_key(self, mocks: ProviderMocks, sleeps, clock) -> None:
        check = make(AnthropicValidator, sleeps, clock).validate("sk-ant-api03-nope")
        assert check == CredentialCheck(
            valid=False, status=401, error_type="authentication_error", message="invalid x-api-key"
        )

    def test_anthropic_empty_key(self, mocks: ProviderMocks, sleeps, clock) -> None:
        check = make(AnthropicValidator, sleeps, clock).validate("   ")
        assert check == CredentialCheck(
            valid=False, status=401, error_type="authentication_error", message="x-api-key header is required"
        )

    def test_rate_limited_key_is_unavailable_not_invalid(self, mocks: ProviderMocks, sleeps, clock) -> None:
        key = mocks.anthropic.issue_key()
        mocks.anthropic.rate_limit(key, retry_after=1)
        with pytest.raises(ProviderUnavailableError) as caught:
            make(AnthropicValidator, sleeps, clock).validate(key)
        assert caught.value.status == 429
        assert "rate_limit_error" in caught.value.message
        assert sleeps == [1.0, 1.0, 1.0]

    def test_non_json_error_body(self, sleeps, clock) -> None:
        with respx.mock:  # a corporate proxy answering instead of OpenAI
            respx.get("https://api.openai.com/v1/models").respond(403, text="<html>Forbidden by proxy</html>")
            check = make(OpenAIValidator, sleeps, clock).validate("sk-x")
        assert check == CredentialCheck(
            valid=False, status=403, error_type=None, message="<html>Forbidden by proxy</html>"
        )


class TestRequestsOnTheWire:
    def test_openai_headers(self, mocks: ProviderMocks, sleeps, clock) -> None:
        key = mocks.openai.issue_key()
        make(OpenAIValidator, sleeps, clock).validate(key)
        request = mocks.calls.last.request
        assert (request.method, str(request.url)) == ("GET", "https://api.openai.com/v1/models")
        assert request.headers["authorization"] == f"Bearer {key}"
        assert "x-api-key" not in request.headers

    def test_anthropic_headers(self, mocks: ProviderMocks, sleeps, clock) -> None:
        key = mocks.anthropic.issue_key()
        make(AnthropicValidator, sleeps, clock).validate(key)
        request = mocks.calls.last.request
        assert (request.method, str(request.url)) == ("GET", "https://api.anthropic.com/v1/models")
        assert request.headers["x-api-key"] == key
        assert request.headers["anthropic-version"] == ANTHROPIC_VERSION == "2023-06-01"
        assert "authorization" not in request.headers

    def test_timeouts_are_explicit(self, mocks: ProviderMocks, sleeps, clock) -> None:
        make(OpenAIValidator, sleeps, clock).validate(mocks.openai.issue_key())
        assert mocks.calls.last.request.extensions["timeout"] == {
            "connect": 5.0,
            "read": 10.0,
            "write": 10.0,
            "pool": 10.0,
        }

    @pytest.mark.parametrize("cls", VALIDATORS)
    def test_configurable_base_url(self, cls: type[ModelsEndpointValidator], sleeps, clock) -> None:
        state = OpenAIState() if cls is OpenAIValidator else AnthropicState()
        base = "http://127.0.0.1:8765/proxy"
        kwargs = {"openai_base_url": base} if cls is OpenAIValidator else {"anthropic_base_url": base}
        args = (state,) if cls is OpenAIValidator else (None, state)
        with ProviderMocks(*args, **kwargs) as mocks:
            assert make(cls, sleeps, clock, base_url=base + "/").validate(state.issue_key()).valid
            assert str(mocks.calls.last.request.url) == f"{base}/v1/models"

    def test_validator_for(self) -> None:
        assert isinstance(validator_for(Provider.OPENAI), OpenAIValidator)
        assert isinstance(validator_for("anthropic", base_url="https://x.test"), AnthropicValidator)
        assert validator_for("openai").base_url == "https://api.openai.com"  # type: ignore[attr-defined]


class TestRetryAfterParsing:
    NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            ({"retry-after": "2"}, 2.0),
            ({"retry-after": "1.5"}, 1.5),
            ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
            ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
            ({"retry-after": format_datetime(NOW + timedelta(seconds=30), usegmt=True)}, 30.0),
            ({"retry-after": "Wed, 21 Oct 2015 07:28:00"}, None),  # no zone: unusable
            ({"retry-after": "soon"}, None),
            ({"retry-after": "inf"}, None),
            ({}, None),
        ],
    )
    def test_parse(self, headers: dict[str, str], expected: float | None) -> None:
        assert parse_retry_after(httpx.Headers(headers), self.NOW) == expected

    def test_http_date_uses_the_injected_clock(
        self, mocks: ProviderMocks, sleeps, clock: ManualClock
    ) -> None:
        key = mocks.anthropic.issue_key()
        when = format_datetime(clock.now() + timedelta(seconds=7), usegmt=True)
        mocks.anthropic.add_fault(529, retry_after=when)
        assert make(AnthropicValidator, sleeps, clock).validate(key).valid
        assert sleeps == [7.0]

    @pytest.mark.parametrize("hint", ["0", "-3", "3600"])
    def test_unusable_hints_fall_back_to_backoff(
        self, hint: str, mocks: ProviderMocks, sleeps, clock
    ) -> None:
        mocks.openai.add_fault(429, retry_after=float(hint))
        assert make(OpenAIValidator, sleeps, clock).validate(mocks.openai.issue_key()).valid
        assert sleeps == [0.5]

    def test_policy_validation(self) -> None:
        with pytest.raises(ValueError):
            RetryPolicy(max_attempts=0)
        assert [RetryPolicy(initial_backoff=1, max_backoff=5).backoff(n) for n in (1, 2, 3, 4)] == [
            1,
            2,
            4,
            5,
        ]


def test_provider_clients_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle is the dearest part of building a client, and one is built per
    credential check: every client of one CA source verifies with the same, verifying, context."""
    from harness.providers import build_client

    def tls(client: httpx.Client) -> object:
        return client._transport._pool._ssl_context  # type: ignore[attr-defined]

    with build_client() as first, build_client("https://api.example") as second:
        assert tls(first) is tls(second)
        assert tls(first).verify_mode is ssl.CERT_REQUIRED and tls(first).check_hostname
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    with build_client() as other:
        assert tls(other) is not tls(first)


def test_the_emulator_tiers_held_response_transport_shares_that_tls_context() -> None:
    """Its own transport (a client given one ignores ``verify``) verifies with the same context
    instead of loading the CA bundle again for each provider client of each platform."""
    from harness.backends.held_responses import HeldResponseTransport
    from harness.providers import build_client

    held = HeldResponseTransport()
    with build_client() as client:
        shared = client._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert held._inner._pool._ssl_context is shared  # type: ignore[attr-defined]
        assert shared.verify_mode is ssl.CERT_REQUIRED
    held.close()
