"""A provider fake's ``create_app``, imported when first asked for.

A process that only needs a provider's state (a run that never calls that provider) should not
build its app module's routes and models, so each provider package sets its module
``__getattr__`` to :func:`create_app_on_first_use` instead of importing ``rest`` at the top.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def create_app_on_first_use(package: str) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``create_app`` from ``<package>.rest``."""

    def __getattr__(name: str) -> Any:
        if name == "create_app":
            return importlib.import_module(f"{package}.rest").create_app
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
