"""Fake OpenAI API: :class:`OpenAIState` (keys, faults, request log) + ``create_app(state)``.

The app is plain FastAPI: :mod:`fakes.provider_mocks` mounts it in-process through respx, the
emulator tier serves it on a port. Paths and bodies are the real ones, so the official ``openai``
SDK works against it.
"""

from typing import TYPE_CHECKING, Any

from fakes.openai.models import DEFAULT_MODELS, OpenAIState

if TYPE_CHECKING:
    from fakes.openai.rest import create_app


def __getattr__(name: str) -> Any:
    """``create_app`` is imported on first use: a process that only needs the state (a run that
    never calls this provider) does not build the app module's routes and models."""
    if name == "create_app":
        from fakes.openai.rest import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_MODELS", "OpenAIState", "create_app"]
