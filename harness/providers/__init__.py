"""Provider clients: credential validators for OpenAI and Anthropic over httpx.

``validator_for(Provider.OPENAI, base_url=..., client=..., sleep=...)`` builds the validator the
domain asks for; tests point it at the fakes (``fakes.providers.mount.ProviderMocks``) and pass a
recording ``sleep`` so retries are asserted without waiting.
"""

from __future__ import annotations

from typing import Any

from harness.ports import CredentialValidator, Provider
from harness.providers.anthropic import ANTHROPIC_BASE_URL, ANTHROPIC_VERSION, AnthropicValidator
from harness.providers.http import (
    DEFAULT_TIMEOUT,
    ModelsEndpointValidator,
    RetryPolicy,
    build_client,
    parse_retry_after,
    send_with_retries,
)
from harness.providers.openai import OPENAI_BASE_URL, OpenAIValidator

VALIDATORS: dict[Provider, type[ModelsEndpointValidator]] = {
    Provider.OPENAI: OpenAIValidator,
    Provider.ANTHROPIC: AnthropicValidator,
}


def validator_for(provider: Provider | str, **options: Any) -> CredentialValidator:
    """The validator for ``provider``; ``options`` go to its constructor."""
    return VALIDATORS[Provider(provider)](**options)


__all__ = [
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_VERSION",
    "DEFAULT_TIMEOUT",
    "OPENAI_BASE_URL",
    "VALIDATORS",
    "AnthropicValidator",
    "ModelsEndpointValidator",
    "OpenAIValidator",
    "RetryPolicy",
    "build_client",
    "parse_retry_after",
    "send_with_retries",
    "validator_for",
]
