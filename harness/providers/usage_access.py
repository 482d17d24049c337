"""Whether a provider key can read the usage and cost reports the pipelines pull: one cheap read
(one day of the usage report) before a run creates anything, and a line that names the variable
and what kind of key it is when it cannot.

The usage reports take only an **admin key**, which a regular key is not (each answer below is
what the providers' fakes send, with its provenance in ``fakes/<provider>/exceptions.py``):

* OpenAI: a project key (``sk-proj-...``) gets 403 with the bare-string error "You have
  insufficient permissions for this operation. Missing scopes: api.usage.read." (quoted as the
  live answer on ``/v1/organization/usage/*`` and ``/v1/organization/costs`` by several public
  clients; older reports show a 401 naming the scope). Admin keys start ``sk-admin-``.
* Anthropic: a regular key (``sk-ant-api...``) gets 401 ``authentication_error`` "invalid
  x-api-key" on ``/v1/organizations/usage_report/messages``, the same answer as an unknown key, so
  the key's prefix tells them apart (Admin API keys start ``sk-ant-admin``, as Anthropic's console
  and cookbook say). That a regular key gets exactly this answer is searched, not confirmed.
"""

from __future__ import annotations

from datetime import date

from harness.ports import (
    Provider,
    ProviderAuthError,
    ProviderResponseError,
    ProviderUnavailableError,
    UsageSource,
)

ADMIN_KEY_PREFIXES: dict[Provider, str] = {Provider.OPENAI: "sk-admin-", Provider.ANTHROPIC: "sk-ant-admin"}
"""How each provider's admin keys start (OpenAI's admin-keys page, Anthropic's Admin API docs)."""

KEY_VARIABLES: dict[Provider, str] = {
    Provider.OPENAI: "OPENAI_API_KEY",
    Provider.ANTHROPIC: "ANTHROPIC_API_KEY",
}


def usage_access_problem(source: UsageSource, provider: Provider, api_key: str, day: date) -> str | None:
    """None when ``api_key`` reads ``day``'s usage report, else one line naming the variable."""
    variable = KEY_VARIABLES[provider]
    try:
        source.usage(api_key, day, day)
    except ProviderAuthError as exc:
        answer = f"{provider.value} answered {exc.status}: {exc.message}"
        if _not_admin(provider, exc, api_key):
            return (
                f"{variable} is not an admin key ({answer}); the usage and cost reports need an "
                f"Admin API key ({ADMIN_KEY_PREFIXES[provider]}...)"
            )
        return f"{variable} was refused by {provider.value} ({answer})"
    except ProviderUnavailableError as exc:
        return f"{variable}: {provider.value} did not answer the usage report ({exc.message})"
    except ProviderResponseError as exc:
        return f"{variable}: {provider.value}'s usage report could not be read ({exc})"
    return None


def _not_admin(provider: Provider, error: ProviderAuthError, api_key: str) -> bool:
    """OpenAI says so (403, or a 401 naming the missing scope); Anthropic answers a regular key
    like an unknown one, so a 401 for a key without the admin prefix is taken for a regular key."""
    if provider is Provider.OPENAI:
        return error.status == 403 or "api.usage.read" in error.message
    return not api_key.strip().startswith(ADMIN_KEY_PREFIXES[provider])


__all__ = ["ADMIN_KEY_PREFIXES", "KEY_VARIABLES", "usage_access_problem"]
