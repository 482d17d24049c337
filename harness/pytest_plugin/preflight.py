"""The gcp tier's preflight in a pytest run: once per session, before the first gcp test builds
the tier (:mod:`harness.scenario.gcp_preflight`), and every gcp test after a failed one fails with
the same lines, without sending anything again."""

from __future__ import annotations

import pytest

_RESULT = pytest.StashKey[list[str]]()


def require_gcp_preflight(config: pytest.Config) -> None:
    """Fail the calling test (``pytest.fail``, one line per problem) unless the settings,
    credentials, project, KMS key and set provider keys passed the preflight."""
    if _RESULT not in config.stash:
        from harness.ports import Provider
        from harness.scenario.gcp_preflight import gcp_preflight
        from harness.services.settings import SettingsError, settings_from_environment

        try:
            settings = settings_from_environment()
        except SettingsError as exc:
            config.stash[_RESULT] = exc.problems
        else:
            keys = {"openai": settings.openai_api_key, "anthropic": settings.anthropic_api_key}
            providers = [Provider(name) for name, key in keys.items() if key is not None]
            config.stash[_RESULT] = gcp_preflight(settings, providers)
    problems = config.stash[_RESULT]
    if problems:
        pytest.fail("gcp preflight failed:\n" + "\n".join(f"  {line}" for line in problems), pytrace=False)
