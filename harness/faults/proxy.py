"""A port that stands in for another: every public method call goes through one hook, every other
attribute passes through. The fault wrappers and the clients' retry around the fake tier's ports
are all this, so domain code runs unchanged against them as against the real thing."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any


class PortProxy(ABC):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._call(name, attribute, args, kwargs)

        return call

    @abstractmethod
    def _call(
        self, name: str, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Run the port method ``name`` (``method`` is the inner port's) with its arguments."""


__all__ = ["PortProxy"]
