"""Is there a Docker daemon? Asked by the ``requires_docker`` marker and by ``run_e2e.sh``.

The container tests need a daemon that answers, not just a socket file; the answer is a reason
("none answered (...)") rather than a boolean, so a skip or an error can say why. The question is
asked once per process: probing costs up to a few seconds when nothing answers.
"""

from __future__ import annotations

import os
import socket
from functools import cache

DOCKER_SOCKET = "/var/run/docker.sock"


@cache
def docker_problem() -> str | None:
    """None when a Docker daemon answers a ping, else why not. Asked once per process."""
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return _socket_problem()
    try:
        client = docker.from_env(timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"none answered (docker.from_env().ping() failed: {type(exc).__name__})"
    return None


def _socket_problem() -> str | None:
    """Without the docker package: whether anything listens on the default socket."""
    if not os.path.exists(DOCKER_SOCKET):
        return f"none found ({DOCKER_SOCKET} does not exist and the docker package is not installed)"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(DOCKER_SOCKET)
    except OSError as exc:
        return f"none answered on {DOCKER_SOCKET} ({exc.strerror or exc})"
    return None
