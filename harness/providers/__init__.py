"""Provider clients for OpenAI and Anthropic over httpx: credential validators and usage sources.

``validator_for(Provider.OPENAI, base_url=..., client=..., sleep=...)`` builds the validator the
domain asks for, ``usage_source_for(...)`` the :class:`~harness.ports.UsageSource` (its shared
client is :mod:`harness.providers.reports`); tests point them at the fakes
(``fakes.provider_mocks.ProviderMocks``) and pass a recording ``sleep`` so retries are asserted
without waiting. The choice of class per provider lives here, above the provider modules, so no
provider module imports another's.
"""

from __future__ import annotations

from typing import Any

from harness.ports import CredentialValidator, Provider, UsageSource
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
from harness.providers.reports import ReportSource
from harness.providers.usage_anthropic import AnthropicUsageSource
from harness.providers.usage_openai import OpenAIUsageSource

VALIDATORS: dict[Provider, type[ModelsEndpointValidator]] = {
    Provider.OPENAI: OpenAIValidator,
    Provider.ANTHROPIC: AnthropicValidator,
}


USAGE_SOURCES: dict[Provider, type[ReportSource]] = {
    Provider.OPENAI: OpenAIUsageSource,
    Provider.ANTHROPIC: AnthropicUsageSource,
}


def validator_for(provider: Provider | str, **options: Any) -> CredentialValidator:
    """The validator for ``provider``; ``options`` go to its constructor."""
    return VALIDATORS[Provider(provider)](**options)


def usage_source_for(provider: Provider | str, **options: Any) -> UsageSource:
    """The usage source for ``provider``; ``options`` go to its constructor (``base_url``,
    ``client``, ``timeout``, ``retry``, ``sleep``, ``clock``, ``page_size``, ``group_by``)."""
    return USAGE_SOURCES[Provider(provider)](**options)


__all__ = [
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_VERSION",
    "DEFAULT_TIMEOUT",
    "OPENAI_BASE_URL",
    "USAGE_SOURCES",
    "VALIDATORS",
    "AnthropicValidator",
    "ModelsEndpointValidator",
    "OpenAIValidator",
    "RetryPolicy",
    "build_client",
    "parse_retry_after",
    "send_with_retries",
    "usage_source_for",
    "validator_for",
]
