"""Fake Anthropic API: :class:`AnthropicState` (keys, faults, request log) + ``create_app(state)``.

The app is plain FastAPI: :mod:`fakes.provider_mocks` mounts it in-process through respx, the
emulator tier serves it on a port. Paths and bodies are the real ones, so the official
``anthropic`` SDK works against it.
"""

from typing import TYPE_CHECKING

from fakes.anthropic.models import DEFAULT_MODELS, SUPPORTED_VERSIONS, AnthropicState
from fakes.lazy_app import create_app_on_first_use

if TYPE_CHECKING:
    from fakes.anthropic.rest import create_app


__getattr__ = create_app_on_first_use(__name__)

__all__ = ["DEFAULT_MODELS", "SUPPORTED_VERSIONS", "AnthropicState", "create_app"]
