"""One verifying TLS context per CA source, shared by every httpx client and transport the harness
builds: loading a CA bundle costs tens of milliseconds (~45 ms here), and clients and transports are
built per credential check, per pipeline run and four per emulator-tier platform. An
``SSLContext`` is safe to share between connections and threads."""

from __future__ import annotations

import functools
import os
import ssl

import httpx


def shared_tls_context() -> ssl.SSLContext:
    """The context for the CA source the environment names now (httpx's own choice:
    ``SSL_CERT_FILE``, ``SSL_CERT_DIR``, else certifi), built the first time it is asked for."""
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """Keyed by the CA source so a changed environment gets its own context."""
    return httpx.create_ssl_context()


__all__ = ["shared_tls_context"]
