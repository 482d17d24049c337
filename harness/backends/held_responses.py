"""The emulator tier's provider transport: a timeout fault's held response is a ``ReadTimeout`` at
once (:mod:`harness.faults.held` says why), every other exchange passes through untouched."""

from __future__ import annotations

import httpx

from harness.faults.held import HELD, REPORT, TIMEOUT_FAULT_HEADER
from harness.providers.http import tls_context


class HeldResponseTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        # The shared context: httpx's default one loads the CA bundle again, a tenth of a second
        # for each of the two provider clients of every emulator-tier platform.
        self._inner = inner or httpx.HTTPTransport(verify=tls_context())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers[TIMEOUT_FAULT_HEADER] = REPORT
        response = self._inner.handle_request(request)
        if response.headers.get(TIMEOUT_FAULT_HEADER) == HELD:
            response.close()
            raise httpx.ReadTimeout(
                "the provider emulator holds this response (a timeout fault)", request=request
            )
        return response

    def close(self) -> None:
        self._inner.close()
