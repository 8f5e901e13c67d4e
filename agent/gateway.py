"""``python -m agent serve``: the pipeline as an HTTP gateway, for agents nobody can change.

Point an agent's base URL at ``http://127.0.0.1:8787/{provider}`` (Anthropic SDKs) or
``http://127.0.0.1:8787/{provider}/v1`` (OpenAI SDKs): each request goes to the configured
provider's ``base_url`` with its key, after the provider's chain. Upstream URLs follow each
SDK's convention: Messages go to ``{base_url}/v1/messages`` (a base URL without ``/v1``, like the
anthropic SDK's), Chat Completions and Responses to ``{base_url}/chat/completions`` (a base URL
with ``/v1``, like the openai SDK's). The pipeline runs in ``AsyncPipelineTransport``, so a stream
is passed on chunk by chunk and observed as it passes, a plain answer is observed, and a
classified thinking error is retried once; provider errors reach the client unchanged.

Starlette (routing, streaming responses) on Uvicorn (an ASGI server) because both are small,
maintained and what the Python ecosystem's own gateways use; upstream calls go through
``httpx2``, the SDKs' HTTP layer. Needs the ``gateway`` extra.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request as HTTPRequest
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent.config import Config, ProviderConfig
from agent.errors import shown
from agent.integrations._tee import decodable
from agent.integrations.transport import EXTENSION, AsyncPipelineTransport, is_stream
from agent.pipeline import Pipeline
from agent.wire import OFFICIAL_HOSTS

log = logging.getLogger("agent.gateway")

#: Headers that belong to one hop, never forwarded (RFC 9110 §7.6.1), plus the ones the
#: gateway sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
#: The client's credentials: for the gateway, never for the provider (unless the provider
#: says ``forward_client_key``).
CLIENT_KEYS = frozenset({"authorization", "x-api-key"})
#: Where a client presents a gateway token when its own key goes upstream; never forwarded.
TOKEN_HEADER = "x-gateway-token"
_DECODABLE = decodable()
#: No cap on concurrent upstream calls (httpx2's default of 100 would queue the 101st of a
#: fleet's long streams); up to 100 idle connections kept per provider for reuse.
UPSTREAM_LIMITS = httpx2.Limits(max_connections=None, max_keepalive_connections=100)
#: The largest body parsed again only to log its model (the pipeline's calls carry it).
_PARSED_FOR_LOG = 1_000_000


class Gateway:
    """The gateway of one loaded config: one upstream client per provider."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._clients: dict[str, httpx2.AsyncClient] = {}
        self._pipelines: dict[str, Pipeline] = {}

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
                httpx2.AsyncHTTPTransport(limits=UPSTREAM_LIMITS),  # (the client's are unused)
                provider=name,
                count=self.config.gateway.decisions,
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

    def authorized(self, request: HTTPRequest, provider: ProviderConfig | None) -> bool:
        """Whether the request presents a gateway token (always, when none is configured):
        in ``x-gateway-token``, or as the client's api key unless that key goes upstream
        (``provider`` None: a request for no provider, such as ``/health``)."""
        tokens = self.config.gateway.tokens
        if not tokens:
            return True
        presented = request.headers.get(TOKEN_HEADER) or ""
        if provider is None or not provider.forward_client_key:
            bearer = request.headers.get("authorization") or ""
            if bearer.lower().startswith("bearer "):
                bearer = bearer[7:].strip()
            presented = presented or request.headers.get("x-api-key") or bearer
        return any(hmac.compare_digest(presented.encode(), t.encode()) for t in tokens)

    def access(
        self,
        name: str,
        body: bytes,
        response: httpx2.Response | None,
        started: float,
        failed: int = 502,
    ) -> None:
        """One structured access line (provider, model, family, whether the pipeline changed
        the body or retried, its decisions counted by action, how the store fared, status,
        the worker's process id, latency): no body, no key."""
        if not log.isEnabledFor(logging.INFO):
            return
        done = response.extensions.get(EXTENSION, {}) if response is not None else {}
        model = done.get("model")
        if model is None and len(body) <= _PARSED_FOR_LOG:  # a call the pipeline did not read
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            model = parsed.get("model") if isinstance(parsed, dict) else None
        log.info(
            "%s",
            json.dumps(
                {
                    "provider": name,
                    "model": model if isinstance(model, str) else None,
                    "family": done.get("family"),
                    "changed": done.get("changed"),
                    "retried": done.get("retried"),
                    "decisions": done.get("decisions"),
                    "store": done.get("store"),
                    "status": failed if response is None else response.status_code,
                    "worker": os.getpid(),
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
            ),
        )

    async def health(self, request: HTTPRequest) -> Response:
        """``ok``; with the providers' names only for a caller with a token, when tokens are
        set (their names say which vendors hold the gateway's keys)."""
        if not self.authorized(request, None):
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "ok", "providers": sorted(self.config.providers)})

    async def forward(self, request: HTTPRequest) -> Response:
        """One client request, through the provider's pipeline to its upstream."""
        started = time.perf_counter()
        name = request.path_params["provider"]
        if name not in self.config.providers:
            return _error(404, "not_found_error", f"no provider {shown(name)} in the config")
        provider = self.config.providers[name]
        if not self.authorized(request, provider):
            return _error(401, "authentication_error", "a valid gateway token is required")
        limit = self.config.gateway.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _error(413, "request_too_large", f"request body over {limit} bytes")
        body = await _read(request, limit)
        if body is None:
            return _error(413, "request_too_large", f"request body over {limit} bytes")
        upstream = httpx2.Request(
            request.method,
            upstream_url(provider, request.path_params["path"], request.url.query),
            headers=_upstream_headers(request, provider),
            content=body,
        )
        try:
            response = await self.client(name).send(upstream, stream=True)
        except httpx2.TimeoutException:
            self.access(name, body, None, started, 504)
            seconds = f"{self.timeout(name):g}"
            return _error(504, "upstream_timeout", f"upstream did not answer within {seconds} s")
        except httpx2.HTTPError as exc:
            self.access(name, body, None, started)
            return _error(502, "upstream_error", f"upstream unreachable ({type(exc).__name__})")
        self.access(name, body, response, started)
        headers = end_to_end(response.headers.items())
        if EXTENSION in response.extensions and not is_stream(response):
            # the transport read this answer whole to observe it: sent in one piece
            # (its raw bytes: a compressed answer reaches the client as upstream sent it)
            try:
                content = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
            return Response(content, status_code=response.status_code, headers=headers)
        return StreamingResponse(
            _relay(response), status_code=response.status_code, headers=headers
        )


def end_to_end(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers that go on to the next hop (lower-cased names): not the hop-by-hop ones,
    nor any a ``Connection`` header names (RFC 9110 §7.6.1)."""
    items = [(k.lower(), v) for k, v in headers]
    named = {token.strip().lower() for k, v in items if k == "connection" for token in v.split(",")}
    return {k: v for k, v in items if k not in HOP_BY_HOP and k not in named}


def upstream_url(provider: ProviderConfig, path: str, query: str) -> str:
    """Where a client path goes: Messages under ``{base_url}/v1/...`` (anthropic SDK
    convention), the OpenAI wires under ``{base_url}/...`` with the client's ``v1/`` dropped
    (openai SDK convention: the base URL carries ``/v1``)."""
    base = (provider.base_url or f"https://{OFFICIAL_HOSTS[provider.api_mode]}").rstrip("/")
    openai_style = provider.api_mode in ("chat_completions", "responses")
    if provider.base_url is None and openai_style:
        base += "/v1"
    path = path.lstrip("/")
    if openai_style and path.startswith("v1/"):
        path = path[3:]  # (Gemini and Bedrock paths go on as the client wrote them)
    return f"{base}/{path}" + (f"?{query}" if query else "")


def _upstream_headers(request: HTTPRequest, provider: ProviderConfig) -> dict[str, str]:
    """The client's headers, minus hop-by-hop ones and the gateway token; the client's key
    only where the provider forwards it, else the provider's key."""
    dropped = {TOKEN_HEADER} if provider.forward_client_key else {TOKEN_HEADER, *CLIENT_KEYS}
    headers = {k: v for k, v in end_to_end(request.headers.items()).items() if k not in dropped}
    if "accept-encoding" in headers:
        headers["accept-encoding"] = accepted_codings(headers["accept-encoding"])
    if provider.forward_client_key and CLIENT_KEYS & headers.keys():
        return headers
    if provider.api_key:
        if provider.api_mode == "anthropic_messages":
            headers["x-api-key"] = provider.api_key
        else:
            headers["authorization"] = f"Bearer {provider.api_key}"
    return headers


def accepted_codings(accept_encoding: str) -> str:
    """The client's Accept-Encoding cut to the codings the gateway can decode: the answer
    still reaches the client as upstream sent it (in a coding the client accepts), and the
    gateway can read a compressed stream to observe it."""
    kept = [
        part.strip()
        for part in accept_encoding.split(",")
        if part.split(";")[0].strip().lower() in _DECODABLE
    ]
    return ", ".join(kept) or "identity"


async def _read(request: HTTPRequest, limit: int) -> bytes | None:
    """The request body, or None as soon as it passes ``limit`` (read no further)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _relay(response: httpx2.Response) -> AsyncIterator[bytes]:
    """The upstream body, chunk by chunk as it arrives (the transport observes it)."""
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"type": "error", "error": {"type": kind, "message": message}}, status_code=status
    )


def build_app(config: Config) -> Starlette:
    """The ASGI app serving ``config``'s providers."""
    gateway = Gateway(config)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await gateway.close()

    return Starlette(
        routes=[
            Route("/health", gateway.health, methods=["GET"]),
            Route("/{provider}/{path:path}", gateway.forward, methods=methods),
        ],
        lifespan=lifespan,
    )


def check_binding(config: Config, host: str) -> str | None:
    """Why the gateway must not start on ``host`` (None when it may)."""
    if host in ("127.0.0.1", "localhost", "::1") or config.gateway.tokens:
        return None
    return (
        f"binding {host} exposes the providers' keys to the network: set gateway.tokens in "
        "the config (clients present one as their api key)"
    )


def check_workers(config: Config, workers: int) -> str | None:
    """Why the gateway must not start ``workers`` processes (None when it may)."""
    if workers < 1:
        return "--workers must be 1 or more"
    if workers > 1 and config.store_spec.kind == "memory":
        return (
            f"--workers {workers} with the memory store: each worker would keep its own "
            "thinking, and a conversation continued through another worker could not be "
            "restored; use store: {sqlite: {path: ...}} or {redis: {url: ...}}"
        )
    return None


#: Where ``serve`` tells its worker processes which config to load.
CONFIG_ENV = "AGENT_GATEWAY_CONFIG"


def app_from_environment() -> Starlette:
    """The app of the config named in ``AGENT_GATEWAY_CONFIG`` (each worker loads it)."""
    from agent.config import load_config

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # a fresh process
    return build_app(load_config(os.environ[CONFIG_ENV]))


def serve(config: Config, host: str = "127.0.0.1", port: int = 8787, workers: int = 1) -> None:
    """Run the gateway (blocking) with Uvicorn; with ``workers`` > 1, that many processes on
    one port, sharing the config's store (SQLite or Redis)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    quiet: dict[str, Any] = {"log_level": "warning", "access_log": False}
    if workers == 1:
        uvicorn.run(build_app(config), host=host, port=port, **quiet)
        return
    os.environ[CONFIG_ENV] = str(Path(config.path).resolve())
    uvicorn.run(
        "agent.gateway:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **quiet,
    )
