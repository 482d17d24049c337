"""The one module that imports testcontainers, the ``containers`` extra: its ``DockerContainer``,
which every container here subclasses, the wait strategies they are built from, and the image build.

Why one module: testcontainers (and docker, which it imports) is not a runtime dependency, so
``import harness.containers`` must work without it (tests/test_dependencies.py holds every optional
import to one module). Without the extra, ``DockerContainer`` is a stand-in whose constructor
says which extra to install, so the container classes still exist, can be imported and named in
type hints, and fail with that message the moment one is made, not with an import error deep
inside testcontainers.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testcontainers.core.waiting_utils import WaitStrategy

MISSING_EXTRA = "harness.containers needs testcontainers: pip install 'cloudact-harness[containers]'"

try:
    from testcontainers.core.container import DockerContainer
except ImportError:

    class DockerContainer:  # type: ignore[no-redef]
        """Stands in for testcontainers' ``DockerContainer`` when the extra is not installed."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError(MISSING_EXTRA)


__all__ = [
    "MISSING_EXTRA",
    "DockerContainer",
    "all_of",
    "answers",
    "build_image",
    "http_url",
    "logged",
]


def http_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 literal bracketed."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def answers(port: int, path: str = "/") -> WaitStrategy:
    """Ready when ``path`` on ``port`` gets any HTTP answer below 500 through the published host
    port: a 401 or 404 still proves the server is listening and reachable from here."""
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    return HttpWaitStrategy(port, path).for_status_code_matching(lambda status: status < 500)


def logged(pattern: str) -> WaitStrategy:
    """Ready once the container's output matches ``pattern`` (a regular expression, multi-line);
    a container that exits first fails at once instead of at the time-out."""
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    return LogMessageWaitStrategy(pattern)


def all_of(*strategies: WaitStrategy, timeout: float) -> WaitStrategy:
    """Ready once each of ``strategies`` is, in order, with ``timeout`` seconds for each and a quick
    poll: the emulators start in well under a second, so testcontainers' one-second default poll
    would dominate."""
    from testcontainers.core.wait_strategies import CompositeWaitStrategy

    composite = CompositeWaitStrategy(*strategies)
    return composite.with_startup_timeout(timedelta(seconds=timeout)).with_poll_interval(0.2)


def build_image(context: Path, *, tag: str, dockerfile: str) -> str:
    """``docker build`` of ``context`` as testcontainers runs it, tagged ``tag`` and kept afterwards
    (``clean_up=False``) so Docker's layer cache makes the next build quick; returns ``tag``."""
    from testcontainers.core.image import DockerImage

    DockerImage(path=context, tag=tag, dockerfile_path=dockerfile, clean_up=False).build()
    return tag
