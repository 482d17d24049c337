"""The Google clients' layer: a ``requests`` adapter that sends through a :class:`Recorder`.

google-cloud-bigquery and google-cloud-kms (REST transport) send through google-auth's
``AuthorizedSession``, a ``requests.Session``; :func:`mount` puts a :class:`RecordingAdapter` on
one for ``http://`` and ``https://``. The session adds the ``Authorization`` header before the
adapter sees the request (the cassette scrubs it); google-auth fetches tokens on a session of its
own, so the token endpoint never reaches this adapter.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

from harness.recording.cassette import RecordedError, Request, Response
from harness.recording.recorder import Recorder


class RecordingAdapter(HTTPAdapter):
    """Sends through ``inner`` (another adapter, e.g. an in-memory one in tests) when given,
    else over the network as ``HTTPAdapter`` does."""

    def __init__(self, recorder: Recorder, service: str, inner: BaseAdapter | None = None) -> None:
        super().__init__()
        self.recorder = recorder
        self.service = service
        self._inner = inner

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body or b""
        seen = Request(
            service=self.service,
            method=request.method or "GET",
            url=request.url or "",
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body.encode("utf-8") if isinstance(body, str) else bytes(body),
        )

        def send() -> Response:
            sender = self._inner.send if self._inner is not None else super(RecordingAdapter, self).send
            response = sender(request, *args, **kwargs)
            return Response(response.status_code, dict(response.headers.items()), response.content)

        try:
            answer = self.recorder.exchange(seen, send)
        except RecordedError as exc:
            error = getattr(requests.exceptions, exc.name, None)
            if not (isinstance(error, type) and issubclass(error, requests.exceptions.RequestException)):
                error = requests.exceptions.ConnectionError
            raise error(str(exc), request=request) from None
        return _response(request, answer)


def _response(request: requests.PreparedRequest, answer: Response) -> requests.Response:
    response = requests.Response()
    response.status_code = answer.status
    response.headers = CaseInsensitiveDict(
        {k: v for k, v in answer.headers.items() if k.lower() not in ("content-encoding", "content-length")}
    )
    response._content = answer.body
    response.url = request.url or ""
    response.request = request
    response.encoding = "utf-8"
    try:
        response.reason = HTTPStatus(answer.status).phrase
    except ValueError:
        response.reason = ""
    return response


def mount(session: requests.Session, adapter: HTTPAdapter) -> None:
    """Every request of ``session`` through ``adapter``."""
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)


__all__ = ["RecordingAdapter", "mount"]
