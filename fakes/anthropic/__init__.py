"""Fake Anthropic API: :class:`AnthropicState` (keys, faults, request log) + ``create_app(state)``.

The app is plain FastAPI: :mod:`fakes.providers_mount` mounts it in-process through respx, the
emulator tier serves it on a port. Paths and bodies are the real ones, so the official
``anthropic`` SDK works against it.
"""

from fakes.anthropic.app import create_app
from fakes.anthropic.state import DEFAULT_MODELS, SUPPORTED_VERSIONS, AnthropicState

__all__ = ["DEFAULT_MODELS", "SUPPORTED_VERSIONS", "AnthropicState", "create_app"]
