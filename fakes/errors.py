"""What every imitated error of every fake says about itself: where its text was seen, or not.

Each fake keeps its service's errors in its own ``exceptions.py``, one class per real error (moto's
discipline). Every such class mixes in :class:`RealError` and states its provenance: ``confirmed``
names where the exact text was observed (a public issue, a pasted response, the service's docs),
or is ``None`` when no real text was found, and then ``searched`` says what was looked for. A user
who matches on an unconfirmed text passes offline and may fail on the real service, so tests
compare a message only when its class is confirmed (:func:`text_is_confirmed`), and the README
lists the unconfirmed ones (:func:`unconfirmed`).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import ModuleType
from typing import ClassVar


class RealError:
    """Mixin for an exception class that imitates one real error of a real service."""

    #: Where the exact text was observed; ``None`` when it could not be confirmed.
    confirmed: ClassVar[str | None] = None
    #: For an unconfirmed text: what was searched, and what the wording follows instead.
    searched: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.confirmed is None and not cls.searched and not inspect.isabstract(cls):
            own = vars(cls)
            if "confirmed" in own or "searched" in own:
                raise TypeError(f"{cls.__name__}: an unconfirmed error must say what was searched")


def text_is_confirmed(error: BaseException | type[BaseException]) -> bool:
    """True when the error's class names where its text was observed."""
    cls = error if isinstance(error, type) else type(error)
    return issubclass(cls, RealError) and cls.confirmed is not None


def error_classes(module: ModuleType) -> Iterator[type[RealError]]:
    """The error classes a service's ``exceptions`` module defines that state a provenance."""
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, RealError)
            and value.__module__ == module.__name__
            and ("confirmed" in vars(value) or "searched" in vars(value))
        ):
            yield value


def unconfirmed(module: ModuleType) -> list[type[RealError]]:
    """The classes of ``module`` whose text nobody has seen the real service send."""
    return [cls for cls in error_classes(module) if cls.confirmed is None]
