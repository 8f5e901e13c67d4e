"""The client side before auth: Uvicorn's httptools protocol with limits on a request's
head. A client has ``gateway.header_timeout`` seconds to send its request line and headers
(408, then the connection is closed; a connection that sends nothing is closed), at most
``gateway.max_header_bytes`` of them and ``gateway.max_headers`` headers (431). Uvicorn has
neither for httptools (its ``h11_max_incomplete_event_size`` covers only h11), and one
32 MB header or 100k headers would otherwise be held and forwarded."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from agent.gateway.access import Record, write
from agent.gateway.routing import masked_query

#: The attribute of the gateway's app that carries the limits (the app is found through
#: Uvicorn's wrappers, each with ``.app``).
LIMITS_ATTRIBUTE = "head_limits"
_REASONS = {408: "Request Timeout", 431: "Request Header Fields Too Large"}


def gateway_app(app: Any) -> Any:
    """The gateway's own app under Uvicorn's wrappers (None if it is not there)."""
    for _ in range(10):
        if hasattr(app, LIMITS_ATTRIBUTE):
            return app
        app = getattr(app, "app", None)
    return None


class GuardedProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with a head timeout and head size and count limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = gateway_app(self.app)
        limits: tuple[float, int, int] = getattr(self._owner, LIMITS_ATTRIBUTE, None) or (
            (10.0, 65_536, 100)
        )
        self._timeout, self._max_bytes, self._max_headers = limits
        self._timer: asyncio.TimerHandle | None = None
        self._in_head = True
        self._head_bytes = 0
        self._count = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._in_head, self._head_bytes, self._count = True, 0, 0
        self._timer = self.loop.call_later(self._timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def data_received(self, data: bytes) -> None:
        while data and not self._refused:
            if not self._in_head:
                super().data_received(data)
                return
            room = self._max_bytes - self._head_bytes
            if room <= 0:
                self._refuse(431, f"request head over gateway.max_header_bytes ({self._max_bytes})")
                return
            part, data = data[:room], data[room:]
            self._head_bytes += len(part)
            super().data_received(part)
            if self.transport.is_closing():
                return

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._timer is None:
            self._arm()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count += 1
        if self._count <= self._max_headers:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._count > self._max_headers:
            self._refuse(431, f"more than gateway.max_headers ({self._max_headers}) headers")
            return
        self._disarm()
        self._in_head = False
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        super().on_message_complete()
        self._in_head, self._head_bytes, self._count = True, 0, 0

    def _too_slow(self) -> None:
        self._timer = None
        if self.transport.is_closing() or not self._in_head:
            return
        if self._head_bytes == 0:  # nothing asked: only an idle connection to close
            self.transport.close()
            return
        self._refuse(
            408, f"request head not received within gateway.header_timeout ({self._timeout:g} s)"
        )

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with a JSON error, log it, and close the connection."""
        self._refused = True
        self._disarm()
        body = json.dumps(
            {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
        ).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()
        record = Record(method=self._method(), path=self._path(), request_id=uuid.uuid4().hex)
        record.status, record.error, record.bytes_out = status, message, len(body)
        record.bytes_in = self._head_bytes
        record.limit = "header_timeout" if status == 408 else "max_header_bytes"
        if self._count > self._max_headers:
            record.limit = "max_headers"
        write(record, getattr(self._owner, "on_line", None))

    def _method(self) -> str:
        try:
            return str(self.parser.get_method().decode("ascii"))[:16]
        except Exception:  # the request line is not complete
            return "?"

    def _path(self) -> str:
        url = getattr(self, "url", b"") or b""
        path, _, query = bytes(url[:512]).partition(b"?")
        return path.decode("latin-1").encode("unicode_escape").decode("ascii") + masked_query(query)
