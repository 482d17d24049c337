"""uvicorn servers on pre-bound sockets, run by one event loop in a background thread.

``harness serve`` (:class:`harness.serve.ServiceProcess`) and the emulator tier
(:class:`harness.emulators.Emulators`) both serve several ASGI apps from one process this way, so
the helpers live here rather than in either of them: binding up front turns a port in use into a
clear :class:`ServeError` before anything starts, and port 0 picks a free port.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

DEFAULT_HOST = "127.0.0.1"


class ServeError(Exception):
    """The servers could not start (a port in use, a failed bootstrap, a startup timeout)."""


def bind_socket(service: str, host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` for ``service`` (named in the error if it cannot be)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only when it does, and
    # without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        where = f"{host}:{port}" if family == socket.AF_INET else f"[{host}]:{port}"
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is already in use (another `harness serve`?); choose another port"
        elif exc.errno == errno.EACCES:
            reason = "permission denied (ports below 1024 need privileges)"
        else:
            reason = exc.strerror or str(exc)
        raise ServeError(f"{service}: cannot listen on {where}: {reason}") from exc
    return sock


def server_url(host: str, port: int) -> str:
    """The URL a client uses for a server listening on ``host:port`` (a wildcard address is shown
    as loopback, since a client cannot connect to 0.0.0.0)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


class ServerThread:
    """Several uvicorn servers on pre-bound sockets, run by one event loop in a background thread.
    Subclasses fill ``_servers`` / ``_sockets`` and name what they serve in ``what`` (for error
    messages)."""

    what = "services"
    _servers: dict[str, uvicorn.Server]
    _sockets: dict[str, socket.socket]
    _thread: threading.Thread | None
    _error: BaseException | None
    _startup_timeout: float

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def error(self) -> BaseException | None:
        """What ended the event loop, if anything did (reported when the servers die)."""
        return self._error

    def _launch(self, thread_name: str) -> None:
        self._thread = threading.Thread(target=self._thread_main, name=thread_name, daemon=True)
        self._thread.start()
        self._wait_started()

    def _stop_servers(self, timeout: float) -> None:
        """Graceful shutdown (in-flight requests finish), forced after ``timeout``; idempotent."""
        for server in self._servers.values():
            server.should_exit = True
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                self.force_exit()
                thread.join(5.0)
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()

    def force_exit(self) -> None:
        """Stop without waiting for open connections (a second Ctrl-C)."""
        for server in self._servers.values():
            server.should_exit = True
            server.force_exit = True

    def _thread_main(self) -> None:
        import asyncio  # here, not at the top: `harness --help` and the in-process tiers need no event loop

        try:
            asyncio.run(self._serve_all())
        except BaseException as exc:  # a uvicorn startup failure is a SystemExit
            self._error = exc

    async def _serve_all(self) -> None:
        import asyncio

        tasks = [
            asyncio.create_task(server.serve(sockets=[self._sockets[name]]), name=name)
            for name, server in self._servers.items()
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for server in self._servers.values():  # one ended: stop the others too
            server.should_exit = True
        await asyncio.gather(*tasks)

    def _wait_started(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while not all(server.started for server in self._servers.values()):
            thread = self._thread
            if thread is None or not thread.is_alive():
                raise ServeError(f"the {self.what} stopped while starting: {self._error!r}") from self._error
            if time.monotonic() > deadline:
                raise ServeError(f"the {self.what} did not start within {self._startup_timeout:g} s")
            time.sleep(0.01)


__all__ = ["DEFAULT_HOST", "ServeError", "ServerThread", "bind_socket", "server_url"]
