"""Fake OpenAI API: :class:`OpenAIState` (keys, faults, request log) + ``create_app(state)``.

The app is plain FastAPI: :mod:`fakes.provider_mocks` mounts it in-process through respx, the
emulator tier serves it on a port. Paths and bodies are the real ones, so the official ``openai``
SDK works against it.
"""

from typing import TYPE_CHECKING

from fakes.lazy_app import create_app_on_first_use
from fakes.openai.models import DEFAULT_MODELS, OpenAIState

if TYPE_CHECKING:
    from fakes.openai.rest import create_app


__getattr__ = create_app_on_first_use(__name__)

__all__ = ["DEFAULT_MODELS", "OpenAIState", "create_app"]
