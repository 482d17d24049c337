"""Assertions on the fakes' imitated errors: the class always, the text only where it is confirmed.

A test that compared an unconfirmed text verbatim would pass offline and tell a user nothing about
the real service, so message checks go through :func:`fakes.errors.text_is_confirmed`.
"""

from __future__ import annotations

from typing import Any

from fakes.errors import RealError, text_is_confirmed


def port_class(error: BaseException | type[BaseException]) -> type[BaseException]:
    """The :mod:`harness.ports` class an error is (what every tier's backend raises)."""
    cls = error if isinstance(error, type) else type(error)
    return next(c for c in cls.__mro__ if c.__module__ == "harness.ports")


def assert_real_error(error: BaseException, cls: type[RealError], message: str | None = None) -> None:
    """``error`` is the real error ``cls`` imitates: the fake's own class, or on the real-client
    path the same port class with the same status and reason; ``message`` is compared only when
    ``cls``'s text is confirmed."""
    assert isinstance(error, port_class(cls)), f"{type(error).__name__}: {error}"
    if isinstance(error, RealError):
        assert isinstance(error, cls), f"{type(error).__name__} is not {cls.__name__}: {error}"
    actual: Any = error
    expected: Any = cls
    assert (actual.status, actual.reason) == (expected.status, expected.reason), error
    if message is not None and text_is_confirmed(cls):
        assert actual.message == message


def assert_wire_error(detail: dict[str, Any], cls: type[RealError], message: str | None = None) -> None:
    """One entry of a Google error body's ``errors`` (what the REST API sends) is ``cls``'s:
    its reason always, its message only when ``cls``'s text is confirmed."""
    expected: Any = cls
    assert detail["reason"] == expected.reason, detail
    if message is not None and text_is_confirmed(cls):
        assert detail["message"] == message
