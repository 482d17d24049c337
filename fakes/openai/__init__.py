"""Fake OpenAI API: :class:`OpenAIState` (keys, faults, request log) + ``create_app(state)``.

The app is plain FastAPI: :mod:`fakes.providers_mount` mounts it in-process through respx, the
emulator tier serves it on a port. Paths and bodies are the real ones, so the official ``openai``
SDK works against it.
"""

from fakes.openai.app import create_app
from fakes.openai.state import DEFAULT_MODELS, OpenAIState

__all__ = ["DEFAULT_MODELS", "OpenAIState", "create_app"]
