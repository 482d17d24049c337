"""The provider clients' layer: an ``httpx`` transport that sends through a :class:`Recorder`.

``build_client(transport=RecordingTransport(recorder, "openai"))`` gives a provider client whose
every request is recorded, replayed or refused as the recorder's mode says; the wrapped transport
(a plain ``httpx.HTTPTransport`` by default) is only reached when a request is really sent.
"""

from __future__ import annotations

import httpx

from harness.recording.cassette import RecordedError, Request, Response
from harness.recording.recorder import Recorder
from harness.tls import shared_tls_context


class RecordingTransport(httpx.BaseTransport):
    def __init__(self, recorder: Recorder, service: str, inner: httpx.BaseTransport | None = None) -> None:
        self.recorder = recorder
        self.service = service
        self._inner = inner
        """Closed with this transport: it is handed over, not lent."""

    def _transport(self) -> httpx.BaseTransport:
        if self._inner is None:
            self._inner = httpx.HTTPTransport(verify=shared_tls_context())
        return self._inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        seen = Request(
            service=self.service,
            method=request.method,
            url=str(request.url),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.read(),
        )

        def send() -> Response:
            response = self._transport().handle_request(request)
            try:
                body = response.read()
            finally:
                response.close()
            return Response(response.status_code, dict(response.headers.items()), body)

        try:
            answer = self.recorder.exchange(seen, send)
        except RecordedError as exc:
            error = getattr(httpx, exc.name, None)
            if not (isinstance(error, type) and issubclass(error, httpx.TransportError)):
                error = httpx.TransportError
            raise error(str(exc), request=request) from None
        headers = {
            k: v for k, v in answer.headers.items() if k.lower() not in ("content-encoding", "content-length")
        }
        return httpx.Response(answer.status, headers=headers, content=answer.body, request=request)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()


__all__ = ["RecordingTransport"]
