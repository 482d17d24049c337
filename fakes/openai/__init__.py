"""Fake OpenAI API: :class:`OpenAIState` (keys, faults, request log) + ``create_app(state)``.

The app is plain FastAPI: :mod:`fakes.provider_mocks` mounts it in-process through respx, the
emulator tier serves it on a port. Paths and bodies are the real ones, so the official ``openai``
SDK works against it.
"""

from fakes.openai.models import DEFAULT_MODELS, OpenAIState
from fakes.openai.rest import create_app

__all__ = ["DEFAULT_MODELS", "OpenAIState", "create_app"]
