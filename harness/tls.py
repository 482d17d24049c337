"""One verifying TLS context per CA source, shared by every httpx client and transport the harness
builds: loading a CA bundle costs tens of milliseconds (~20–45 ms here), and clients and transports
are built per credential check, per pipeline run and four per emulator-tier platform. An
``SSLContext`` is safe to share between connections and threads.

The bundle is read at the context's first TLS handshake, not when it is built: on the fake tier
every provider client is answered in-process (respx) and never shakes hands, so a run there never
reads it. The context is otherwise what ``httpx.create_ssl_context()`` builds: ``ssl``'s default
client context (certificates and host name verified) over ``SSL_CERT_FILE``, else
``SSL_CERT_DIR``, else certifi's bundle.
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
import threading
from typing import Any


class _DeferredCAContext(ssl.SSLContext):
    """A client context that loads its CA locations before its first handshake (both ways a
    handshake starts: a wrapped socket, httpx's sync transport; a wrapped BIO, its async one)."""

    _cafile: str | None
    _capath: str | None
    _loaded: bool
    _loading: threading.Lock

    def _load_ca(self) -> None:
        if not self._loaded:
            with self._loading:
                if not self._loaded:
                    self.load_verify_locations(self._cafile, self._capath)
                    self._loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._load_ca()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._load_ca()
        return super().wrap_bio(*args, **kwargs)


def shared_tls_context() -> ssl.SSLContext:
    """The context for the CA source the environment names now (httpx's own choice:
    ``SSL_CERT_FILE``, ``SSL_CERT_DIR``, else certifi), built the first time it is asked for."""
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """Keyed by the CA source so a changed environment gets its own context. Set up as
    ``ssl.create_default_context(cafile=..., capath=...)`` does, the loading left for later."""
    context = _DeferredCAContext(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    if cert_file:
        context._cafile, context._capath = cert_file, None
    elif cert_dir:
        context._cafile, context._capath = None, cert_dir
    else:
        import certifi

        context._cafile, context._capath = certifi.where(), None
    context._loaded = False
    context._loading = threading.Lock()
    return context


__all__ = ["shared_tls_context"]
