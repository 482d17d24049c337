"""The TLS context every harness HTTP client shares (harness.tls): built without reading the CA
bundle, which its first handshake loads, and verifying exactly as httpx's own context does."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import certifi
import httpx
import pytest


def test_the_shared_tls_context_reads_its_ca_bundle_at_its_first_handshake() -> None:
    """A fake-tier run never shakes hands (respx answers in-process), so it never pays for the
    bundle; the first handshake, sync (a socket) or async (a BIO), loads what httpx would have."""
    from harness.tls import _tls_context

    expected = httpx.create_ssl_context()
    for handshake in ("bio", "socket"):
        # A fresh one (not the process's) for the CA source httpx reads from this environment.
        context = _tls_context.__wrapped__(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        assert context.cert_store_stats()["x509_ca"] == 0
        assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
        assert (context.options, context.minimum_version) == (expected.options, expected.minimum_version)
        if handshake == "bio":
            context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="api.example")
        else:
            with socket.socket() as raw, context.wrap_socket(raw, server_hostname="api.example"):
                pass  # never connected: wrapping is enough
        assert context.cert_store_stats() == expected.cert_store_stats()
        assert context.cert_store_stats()["x509_ca"] > 0


HOST = "127.0.0.1"


def _tls_server(tmp_path: Path) -> tuple[socket.socket, Path, ssl.SSLContext]:
    """A listening socket on loopback, the PEM of its self-signed certificate (for 127.0.0.1)
    and the server context presenting it."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "server.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = tmp_path / "server.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pem, key_file)
    listener = socket.create_server((HOST, 0))
    listener.settimeout(60)  # a client that never connects fails the test instead of hanging it
    return listener, pem, server


@pytest.mark.parametrize("trusted", [False, True])
def test_the_deferred_tls_context_verifies_the_server_it_shakes_hands_with(
    tmp_path: Path, trusted: bool
) -> None:
    """Loading the bundle late loosens nothing: an untrusted certificate fails the handshake, the
    same certificate named by ``SSL_CERT_FILE`` passes it."""
    from harness.tls import _tls_context

    listener, pem, server = _tls_server(tmp_path)
    context = _tls_context.__wrapped__(str(pem) if trusted else certifi.where(), None)

    def serve() -> None:
        with contextlib.suppress(OSError):  # ssl.SSLError too: the client refusing the handshake
            conn, _ = listener.accept()
            with conn:
                server.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(listener.getsockname()) as raw:
            if trusted:
                with context.wrap_socket(raw, server_hostname=HOST) as tls:
                    assert tls.version() is not None
            else:
                with pytest.raises(ssl.SSLCertVerificationError):
                    context.wrap_socket(raw, server_hostname=HOST)
    finally:
        thread.join()
        listener.close()
