"""One JSON access line for every request, whatever its fate (401, 404, 413, 431, 5xx
included), written when its answer has gone out: when, which request (``x-request-id``,
echoed), what was asked and of whom, what came back and how long it took; never a body, a
key or a query value. Nothing else is logged per request: httpx2's own ``HTTP Request:``
lines (which print URLs, with any password or ``?key=`` in them) are turned off."""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from attrs import define, field

from agent.gateway.routing import masked_query

log = logging.getLogger(__package__)  # the access log: "agent.gateway"
#: Where a failure inside the gateway is told (one line, no traceback).
errors = logging.getLogger(f"{__package__}.errors")
#: Where a request's record waits in the ASGI scope for the handler to fill in.
SCOPE_KEY = "agent.record"
#: A client's own request id is kept when it looks like one.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
#: The longest path logged.
_PATH_LOGGED = 512

Send = Callable[[dict[str, Any]], Any]
Receive = Callable[[], Any]


class Cut(Exception):
    """A stream cut short after its head went out (an idle upstream): the connection is
    closed without the last chunk, so the client sees the answer is incomplete."""


def _cut(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_cut(e) for e in exc.exceptions)
    return isinstance(exc, Cut)


@define
class Record:
    """What one access line says; the handler fills in what it learns."""

    method: str
    path: str
    request_id: str
    started: float = field(factory=time.perf_counter)
    ts: str = field(factory=lambda: datetime.datetime.now(datetime.UTC).isoformat())
    provider: str | None = None
    model: str | None = None
    family: str | None = None
    status: int | None = None
    upstream_status: int | None = None
    upstream_request_id: str | None = None
    bytes_in: int = 0
    bytes_out: int = 0
    decisions: dict[str, int] | None = None
    store: dict[str, Any] | None = None
    changed: bool | None = None
    retried: bool | None = None
    observing: dict[str, Any] | None = None
    limit: str | None = None
    error: str | None = None
    upstream_s: list[float] = field(factory=lambda: [0.0])  # added to by the upstream's reads
    answered_s: float | None = None  # when the answer's head went out

    def line(self) -> dict[str, Any]:
        observing = self.observing or {}
        return {
            "ts": self.ts,
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "provider": self.provider,
            "model": self.model,
            "family": self.family,
            "status": self.status,
            "upstream_status": self.upstream_status,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "ms": round((time.perf_counter() - self.started) * 1000, 1),
            "upstream_ms": round(self.upstream_s[0] * 1000, 1),
            "decisions": self.decisions,
            "store": self.store,
            "changed": self.changed,
            "retried": self.retried,
            "observed": None if self.observing is None else observing.get("stopped") is None,
            "limit": self.limit or observing.get("stopped"),
            "error": self.error,
            "upstream_request_id": self.upstream_request_id,
            "worker": os.getpid(),
        }


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's well-formed ``x-request-id``, or a new one."""
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


def new_record(scope: dict[str, Any]) -> Record:
    raw = scope.get("raw_path") or scope.get("path", "").encode()
    path = raw.decode("latin-1", "replace")[:_PATH_LOGGED]
    path = path.encode("unicode_escape").decode("ascii")  # control characters shown, not sent
    return Record(
        method=str(scope.get("method", "?"))[:16],
        path=path + masked_query(scope.get("query_string") or b""),
        request_id=request_id(scope.get("headers") or []),
    )


def write(record: Record, on_line: Callable[[Record], None] | None = None) -> None:
    """Log one access line (and hand the record to ``on_line``, the metrics)."""
    if on_line is not None:
        on_line(record)
    if log.isEnabledFor(logging.INFO):
        log.info("%s", json.dumps(record.line()))


class AccessLog:
    """ASGI middleware: a record per request (in ``scope["agent.record"]``), the request id
    echoed in ``x-request-id``, bytes counted both ways, one line when the answer is done;
    an exception the app did not handle is a 500 with a JSON body (and no traceback)."""

    def __init__(self, app: Any, on_line: Callable[[Record], None] | None = None) -> None:
        self.app = app
        self.on_line = on_line
        self.head_limits: tuple[float, int, int] | None = None  # (read by the protocol)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = new_record(scope)
        scope[SCOPE_KEY] = record
        started = False

        async def counted_receive() -> Any:
            message = await receive()
            record.bytes_in += len(message.get("body", b""))
            return message

        async def counted_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                record.status = message["status"]
                record.answered_s = time.perf_counter()
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", record.request_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                record.bytes_out += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counted_receive, counted_send)
        except Exception as exc:
            if not _cut(exc):
                record.error = record.error or f"internal: {type(exc).__name__}"
                failed(exc)
            if not started:
                await _internal_error(counted_send)
        finally:
            write(record, self.on_line)


async def _internal_error(send: Send) -> None:
    body = json.dumps(
        {"type": "error", "error": {"type": "api_error", "message": "internal gateway error"}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def failed(exc: BaseException) -> None:
    """Tell a failure inside the gateway: its type, never its text (it may hold data)."""
    errors.warning("a request failed inside the gateway (%s; a bug)", type(exc).__name__)


class _CutTold(logging.Filter):
    """Uvicorn's line for a response the app left unfinished: the gateway does that on
    purpose when it cuts a silent stream, and its access line already says so."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing response."


def quiet_dependencies() -> None:
    """No per-request lines from the HTTP client (httpx2 logs each request's URL at INFO),
    nor Uvicorn's for a stream the gateway cut."""
    for name in ("httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _CutTold) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(_CutTold())
