"""Ctrl-C and SIGTERM for the commands that serve until stopped (``serve``, ``emulators up``).

The first signal asks for a graceful stop (the command's loop sees the event and stops its
servers); a second one, while that stop is under way, forces the servers down. The previous
handlers come back when the command ends.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def stop_on_signals(force_exit: Callable[[], None]) -> Iterator[threading.Event]:
    """An event that SIGINT / SIGTERM set; a second signal calls ``force_exit``."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():
            force_exit()
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)


__all__ = ["stop_on_signals"]
