"""The gateway's ASGI app: each checked request through its provider's pipeline to the
upstream, with the whole call bounded in time and every answer closed on every path."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import unquote

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request as HTTPRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agent.config import Config, ProviderConfig
from agent.errors import shown
from agent.gateway.access import (
    SCOPE_KEY,
    AccessLog,
    Record,
    failed,
    quiet_dependencies,
)
from agent.gateway.metrics import Metrics
from agent.gateway.reading import (
    asks_stream,
    model_of,
    read_body,
    read_request,
)
from agent.gateway.relay import CLOCK, Relayed, Timed, relay
from agent.gateway.routing import (
    TOKEN_HEADER,
    BadPath,
    checked_path,
    client_scope,
    end_to_end,
    kept_query,
    upstream_headers,
    upstream_url,
)
from agent.integrations.answers import LimitExceeded, ReadLimits
from agent.integrations.resent import Resent
from agent.integrations.transport import EXTENSION, AsyncPipelineTransport, is_stream
from agent.pipeline import Pipeline

#: No cap on concurrent upstream calls (httpx2's default of 100 would queue the 101st of a
#: fleet's long streams); up to 100 idle connections kept per provider for reuse.
UPSTREAM_LIMITS = httpx2.Limits(max_connections=None, max_keepalive_connections=100)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class Gateway:
    """The gateway of one loaded config: one upstream client per provider."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._clients: dict[str, httpx2.AsyncClient] = {}
        self._pipelines: dict[str, Pipeline] = {}
        spec = config.gateway
        self.limits = ReadLimits(
            spec.max_response_bytes,
            spec.max_decode_ratio,
            spec.max_event_bytes,
            spec.max_observed_bytes,
        )
        self.metrics = Metrics(list(config.providers)) if spec.metrics else None
        self.resent = Resent(spec.max_resent_bytes)

    def pipeline(self, name: str) -> Pipeline:
        """The provider's pipeline (the one its transport runs; made once)."""
        if name not in self._pipelines:
            self._pipelines[name] = self.config.pipeline(name)
        return self._pipelines[name]

    def client(self, name: str) -> httpx2.AsyncClient:
        """The provider's upstream client, its pipeline in the transport (made once)."""
        if name not in self._clients:
            transport = AsyncPipelineTransport(
                self.pipeline(name),
                Timed(httpx2.AsyncHTTPTransport(limits=UPSTREAM_LIMITS)),
                provider=name,
                count=self.config.gateway.decisions,
                limits=self.limits,
                resent_bytes=0,  # (the gateway keeps them per client: ``self.resent``)
            )
            timeout = httpx2.Timeout(self.timeout(name))
            self._clients[name] = httpx2.AsyncClient(transport=transport, timeout=timeout)
        return self._clients[name]

    def timeout(self, name: str) -> float:
        """Seconds an upstream call to ``name`` may take (its own, or the gateway's)."""
        own = self.config.providers[name].timeout
        return self.config.gateway.timeout if own is None else own

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        if self.metrics is not None:
            self.metrics.close()

    def authorized(self, request: HTTPRequest, forward_client_key: bool) -> bool:
        """Whether the request presents a gateway token (always, when none is configured):
        in ``x-gateway-token``, or as the client's api key unless that key goes upstream."""
        tokens = self.config.gateway.tokens
        if not tokens:
            return True
        presented = request.headers.get(TOKEN_HEADER) or ""
        if not forward_client_key:
            bearer = request.headers.get("authorization") or ""
            if bearer.lower().startswith("bearer "):
                bearer = bearer[7:].strip()
            presented = presented or request.headers.get("x-api-key") or bearer
        return any(hmac.compare_digest(presented.encode(), t.encode()) for t in tokens)

    async def dispatch(self, request: HTTPRequest) -> Response | Relayed:
        """Any request: its path checked, then health, metrics or a provider."""
        record: Record = request.scope[SCOPE_KEY]
        try:
            segments = checked_path(request.scope.get("raw_path") or request.url.path.encode())
        except BadPath as exc:
            return _error(400, "invalid_request_error", str(exc), record)
        if segments == ["health"] and request.method in ("GET", "HEAD"):
            if not self.authorized(request, False):  # (the names say who holds its keys)
                return JSONResponse({"status": "ok"})
            return JSONResponse({"status": "ok", "providers": sorted(self.config.providers)})
        if segments == ["metrics"] and self.metrics is not None:
            if not self.authorized(request, False):
                return _error(401, "authentication_error", "a valid gateway token is required")
            body, kind = self.metrics.text()
            return Response(body, headers={"content-type": kind})
        name = unquote(segments[0])
        if name not in self.config.providers:
            return _error(404, "not_found_error", f"no provider {shown(name)} in the config")
        record.provider = name
        try:
            return await self.forward(request, record, name, "/".join(segments[1:]))
        except RecursionError:
            return _error(
                400, "invalid_request_error", "request body nested too deeply to read", record
            )
        except Exception as exc:  # a bug of ours: a clear 500, no traceback
            failed(exc)
            message = "internal gateway error"
            return _error(
                500, "api_error", message, record, error=f"internal: {type(exc).__name__}"
            )

    async def forward(
        self, request: HTTPRequest, record: Record, name: str, path: str
    ) -> Response | Relayed:
        """One client request, through the provider's pipeline to its upstream."""
        provider = self.config.providers[name]
        if not self.authorized(request, provider.forward_client_key):
            return _error(401, "authentication_error", "a valid gateway token is required")
        limit = self.config.gateway.max_body_bytes
        declared = request.headers.get("content-length")
        too_large = f"request body over gateway.max_body_bytes ({limit} bytes)"
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _error(413, "request_too_large", too_large, record, "max_body_bytes")
        body = await read_body(request, limit)
        if body is None:
            return _error(413, "request_too_large", too_large, record, "max_body_bytes")
        try:
            query = kept_query(
                request.scope.get("query_string") or b"", provider.forward_client_key
            )
            url = upstream_url(provider, path, query)
        except BadPath as exc:
            return _error(400, "invalid_request_error", str(exc), record)
        upstream = self.client(name).build_request(
            request.method,
            url,
            headers=upstream_headers(request.headers.items(), provider),
            content=body,
        )
        upstream.extensions[CLOCK] = record.upstream_s
        scope = f"{name}\0{client_scope(request.headers.items())}"
        read = read_request(upstream, body, self.resent, scope)
        stream_asked = asks_stream(body, read) or "streamGenerateContent" in path
        answered = await self.answer(name, provider, upstream, record, stream_asked)
        if record.model is None:  # a call the pipeline did not read
            record.model = model_of(read)
        return answered

    async def answer(
        self,
        name: str,
        provider: ProviderConfig,
        upstream: httpx2.Request,
        record: Record,
        stream_asked: bool,
    ) -> Response | Relayed:
        """Send, and hand the answer on: whole when the transport read it to observe it,
        else chunk by chunk within the deadlines."""
        spec = self.config.gateway
        loop = asyncio.get_running_loop()
        total = self.timeout(name)
        first = spec.first_byte_timeout if spec.first_byte_timeout is not None else total
        start = loop.time()
        head_by = start + (first if stream_asked else total)
        try:
            async with asyncio.timeout_at(head_by):
                response = await self.client(name).send(upstream, stream=True)
        except (TimeoutError, httpx2.TimeoutException):
            which = "first_byte_timeout" if stream_asked and first != total else "timeout"
            waited = first if which == "first_byte_timeout" else total
            message = f"upstream did not answer within {waited:g} s (gateway.{which})"
            return _error(504, "upstream_timeout", message, record, which)
        except LimitExceeded as exc:
            message = f"upstream answer over gateway.{exc.limit} ({exc.value})"
            return _error(502, "upstream_error", message, record, exc.limit)
        except httpx2.HTTPError as exc:
            message = f"upstream unreachable ({type(exc).__name__})"
            return _error(502, "upstream_error", message, record)
        try:
            return await self._handed_on(response, record, start + total, head_by)
        except BaseException:
            await response.aclose()
            raise

    async def _handed_on(
        self, response: httpx2.Response, record: Record, total_by: float, head_by: float
    ) -> Response | Relayed:
        _tagged(record, response)
        headers = end_to_end(response.headers.items())
        stream = is_stream(response)
        if EXTENSION in response.extensions and not stream:
            # the transport read this answer whole to observe it: sent in one piece
            # (its raw bytes: a compressed answer reaches the client as upstream sent it)
            content = b"".join([chunk async for chunk in response.aiter_raw()])
            await response.aclose()
            return Response(content, status_code=response.status_code, headers=headers)
        chunks = response.aiter_raw().__aiter__()
        first = b""
        if stream:
            try:
                async with asyncio.timeout_at(head_by):
                    first = await anext(chunks, b"")
            except TimeoutError:
                await response.aclose()
                message = "upstream stream sent nothing in time (gateway.first_byte_timeout)"
                return _error(504, "upstream_timeout", message, record, "first_byte_timeout")
        idle = self.config.gateway.idle_timeout if stream else None
        chunks = relay(response, chunks, first, record, idle, total_by)
        return Relayed(chunks, response.status_code, headers)


def _tagged(record: Record, response: httpx2.Response) -> None:
    """What the answer and the pipeline tell the access line."""
    record.upstream_status = response.status_code
    record.upstream_request_id = response.headers.get("x-request-id") or response.headers.get(
        "request-id"
    )
    if record.upstream_request_id is not None:
        record.upstream_request_id = record.upstream_request_id[:128]
    done = response.extensions.get(EXTENSION)
    if done is None:
        return
    record.model = done.get("model") if isinstance(done.get("model"), str) else record.model
    record.family = done.get("family")
    record.changed = done.get("changed")
    record.retried = done.get("retried")
    record.decisions = done.get("decisions")
    record.store = done.get("store")
    record.observing = done.get("observing")


def _error(
    status: int,
    kind: str,
    message: str,
    record: Record | None = None,
    limit: str | None = None,
    error: str | None = None,
) -> JSONResponse:
    if record is not None:
        record.error = error or message
        record.limit = limit
    return JSONResponse(
        {"type": "error", "error": {"type": kind, "message": message}}, status_code=status
    )


def build_app(config: Config, on_exit: Callable[[], None] | None = None) -> Any:
    """The ASGI app serving ``config``'s providers (with its access log); ``on_exit`` runs
    once it has stopped serving (its lifespan's end: the open calls drained)."""
    gateway = Gateway(config)
    quiet_dependencies()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        for name in config.providers:  # made before the first call, not during it
            gateway.client(name)
        yield
        await gateway.close()
        if on_exit is not None:
            on_exit()

    app = Starlette(
        routes=[Route("/{path:path}", gateway.dispatch, methods=METHODS)],
        lifespan=lifespan,
    )
    on_line = gateway.metrics.count if gateway.metrics is not None else None
    logged = AccessLog(app, on_line)
    spec = config.gateway
    logged.head_limits = (spec.header_timeout, spec.max_header_bytes, spec.max_headers)
    return logged
