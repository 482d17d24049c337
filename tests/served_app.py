"""An ASGI app served on a free loopback port in a background thread, for a test module.

The REST emulator tests drive the real google-cloud clients, which need a URL: one helper starts
and stops the server instead of a copy of the same uvicorn start-up in every module.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

START_GUARD = 10.0
"""Seconds the server thread may take to start before the fixture gives up (a guard, not a limit
on any test)."""


@contextmanager
def served(app: Any, **config: Any) -> Iterator[str]:
    """``app`` served until the block ends; yields its URL. ``config`` goes to ``uvicorn.Config``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_GUARD
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
