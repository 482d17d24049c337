"""Service apps built once and lent out, one run at a time, over each run's own platform.

Building the api-service app (its routes' dependency graphs, pydantic models, and on the first
request the effective route table of every included router) costs tens of milliseconds, a good
part of an in-process scenario run, and nothing in an app depends on the run: the platform and
the settings are read from ``app.state`` on every request (:mod:`harness.services.deps`). So an
app is built the first time and, when its run ends, kept for the next run, which sets its own
platform and settings on it. An app is lent to one run at a time; runs in parallel each get one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from harness.lending import Shelf
from harness.onboarding.platform import Platform
from harness.services.settings import Settings

Factory = Callable[[Platform, Settings | None], FastAPI]

_SHELF: Shelf[FastAPI] = Shelf()


@contextmanager
def lent_app(factory: Factory, platform: Platform, settings: Settings | None) -> Iterator[FastAPI]:
    """``factory(platform, settings)``'s app: a kept one set to ``platform`` and ``settings``, or a
    new one; kept again, holding neither, when the block ends."""
    with _SHELF.lend(factory, lambda: factory(platform, settings)) as app:
        app.state.platform = platform
        app.state.settings = settings or Settings()
        try:
            yield app
        finally:
            app.state.platform = app.state.settings = None  # a finished run's state is not kept alive
