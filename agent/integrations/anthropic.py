"""The anthropic SDK adapter: run the pipeline on every ``/v1/messages`` call the client makes.

    client = anthropic.Anthropic(base_url=..., api_key=...,
                                 middleware=[PipelineMiddleware(pipe, base_url=...)])

The adapter resolves the target once per call, runs the pipeline on the body of each
``POST /v1/messages`` (plain, ``stream=True`` and ``client.messages.stream(...)`` alike), sends
the result, and feeds the provider's response to ``pipeline.observe`` with the same resolved
request (a streamed one is observed as its events pass through, without buffering the stream
for the caller). Every other request passes through untouched. The body is never
deep-copied: the new request shares every unchanged message.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import anthropic
import httpx2  # the anthropic SDK's own HTTP layer; its stream types are checked by class
from anthropic import APIRequest, APIResponse, AsyncAPIResponse, AsyncCallNext, CallNext

from agent.config import Config, ProviderConfig, load_config
from agent.errors import ConfigError, InvalidRequest
from agent.inputs import read_bytes
from agent.integrations._sse import MessageAccumulator, loads
from agent.integrations._tee import AsyncTeeStream, TeeStream, decoder
from agent.integrations.offloop import SharedStores, Then
from agent.pipeline import Pipeline
from agent.request import Request
from agent.wire import safe_url

log = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Statuses whose body may hold a thinking error worth one retry (relays answer 5xx for a
#: provider's wrapped 400; strict servers 422).
RETRIED = frozenset({400, 422, 500, 502})

__all__ = [
    "MessageAccumulator",
    "PipelineMiddleware",
    "anthropic_client",
    "async_anthropic_client",
]


@functools.lru_cache(maxsize=256)  # asked on every call, of the few URLs a client calls
def _messages_call(method: str, url: str) -> bool:
    """Whether ``method url`` is a ``POST .../v1/messages``."""
    path = url.split("?", 1)[0].rstrip("/")
    return method.lower() == "post" and path.endswith("/v1/messages")


class PipelineMiddleware(anthropic.Middleware):
    """An ``anthropic.Middleware`` that runs a Pipeline on Messages requests.

    Attributes:
        pipeline: the chain to run.
        base_url: where the client sends requests (the client's ``base_url``); family
            detection by host uses it. None means the official endpoint.
        provider: the configured provider name, carried on each Request.
    """

    def __init__(
        self, pipeline: Pipeline, *, base_url: str | None = None, provider: str | None = None
    ) -> None:
        self.pipeline = pipeline
        self.base_url = base_url
        self.provider = provider
        # model id -> family, learned from a provider's "must be passed back" error
        self._learned: dict[str, str] = {}
        # a store outside the process: the async client's chain, observing and recovering
        # run on a worker thread, so its event loop never waits for the store
        self._off_loop = bool(SharedStores(pipeline))

    def __repr__(self) -> str:
        return (
            f"PipelineMiddleware(base_url={safe_url(self.base_url)!r}, provider={self.provider!r})"
        )

    def _prepare(self, request: APIRequest) -> tuple[APIRequest, Request, Request] | None:
        """(the request to send, ours resolved, what the pipeline made of it), or None."""
        body = request.json
        if not _messages_call(request.method, request.url):
            return None
        if type(body) is not dict and not isinstance(body, Mapping):
            return None
        model = body.get("model")
        try:
            ours = self.pipeline.resolve(
                Request(
                    "anthropic_messages",
                    body,
                    self.base_url,
                    self.provider,
                    self._learned.get(model) if isinstance(model, str) else None,
                )
            )
            out = self.pipeline(ours)  # ``ours`` itself when nothing changes: still resolved
        except InvalidRequest as exc:
            # a body the pipeline cannot read goes as the agent wrote it: the provider, not
            # this library, answers it (do no harm); the path, never the value, is logged
            log.warning("request body not read by the pipeline, sent as is (%s)", exc.where)
            return None
        if out is ours:  # (nothing to copy: no call to ``_with_body``)
            return request, ours, out
        return _with_body(request, out.body), ours, out

    def _recover(self, ours: Request, sent: Request, status: int, raw: bytes) -> Request | None:
        body = loads(raw)  # some providers answer raw text (MiMo: ``data:{...}``)
        error = raw.decode("utf-8", "replace") if body is None else body
        corrected = self.pipeline.recover(ours, sent, status, error)
        if corrected is not None and corrected.family and corrected.family != ours.family:
            self._learned[ours.model] = corrected.family
        return corrected

    def _observe(self, sent: Request, message: Any) -> None:
        mapping = type(message) is dict or isinstance(message, Mapping)
        if not mapping or message.get("type") != "message":
            return
        try:
            self.pipeline.observe(sent, message)
        except Exception:  # observing must never break the agent's call
            log.exception("observing a response failed")

    def _observe_raw(self, sent: Request, raw: bytes) -> None:
        """Observe a plain answer; one with no thinking block is not even parsed (the store
        keeps only thinking: most calls without thinking cost a substring search)."""
        if b"thinking" not in raw:
            return
        try:  # (``read_bytes`` itself, not ``loads``: two calls fewer after every call)
            message = read_bytes(raw)[0]
        except ValueError:  # no JSON, or nested past the bound: nothing to observe
            return
        if type(message) is dict and message.get("type") == "message":
            try:  # (``_observe``'s work, written here: it runs after every plain call)
                self.pipeline.observe(sent, message)
            except Exception:  # observing must never break the agent's call
                log.exception("observing a response failed")

    def _settle(self, response: Any, stream: bool, sent: Request) -> bool:
        """Observe a successful stream as it is read (True), or say it failed (False)."""
        http = response.http_response
        if not 200 <= http.status_code < 300:  # (is_success: a slow class attribute lookup)
            return False
        decode = decoder(http.headers.get("content-encoding")) if stream else None
        if decode is None:  # (None: a coding this process cannot undo, not observed)
            return True
        if not isinstance(http.stream, httpx2.AsyncByteStream):
            report = lambda a: self._observe(sent, a.message)  # noqa: E731
            http.stream = TeeStream(http.stream, MessageAccumulator(), report, decode)
        elif not self._off_loop:
            report = lambda a: self._observe(sent, a.message)  # noqa: E731
            http.stream = AsyncTeeStream(http.stream, MessageAccumulator(), report, decode)
        else:  # observed on a worker thread; the stream ends once that is done
            pending: list[asyncio.Future[None]] = []

            def started(acc: MessageAccumulator) -> None:
                pending.append(
                    asyncio.ensure_future(self._athread(self._observe, sent, acc.message))
                )

            async def written() -> None:
                if pending:
                    await pending[0]

            tee = AsyncTeeStream(http.stream, MessageAccumulator(), started, decode)
            http.stream = Then(tee, written)
        return True

    async def _athread(self, work: Callable[..., _T], *args: Any) -> _T:
        """``work(*args)``: on a worker thread when the chain has a store outside the process
        (it waits for the store there), else here."""
        if self._off_loop:
            return await asyncio.to_thread(work, *args)
        return work(*args)

    def handle(self, request: APIRequest, call_next: CallNext) -> APIResponse[Any]:
        """Run the pipeline on a Messages request, send it, observe the response; after a
        thinking error, retry once with what the error taught."""
        prepared = self._prepare(request)
        if prepared is None:
            return call_next(request)
        outgoing, ours, sent = prepared
        response = call_next(outgoing)
        if self._settle(response, outgoing.stream, sent):
            if not outgoing.stream:
                self._observe_raw(sent, response.http_response.read())
            return response
        status = response.http_response.status_code
        if status in RETRIED:
            corrected = self._recover(ours, sent, status, response.http_response.read())
            if corrected is not None:
                response.http_response.close()
                response = call_next(_with_body(request, corrected.body))
                if self._settle(response, outgoing.stream, corrected) and not outgoing.stream:
                    self._observe_raw(corrected, response.http_response.read())
        return response

    async def handle_async(
        self, request: APIRequest, call_next: AsyncCallNext
    ) -> AsyncAPIResponse[Any]:
        """The async twin of ``handle`` (with a store outside the process, what waits for it
        runs on a worker thread: the event loop goes on)."""
        prepared = await self._athread(self._prepare, request)
        if prepared is None:
            return await call_next(request)
        outgoing, ours, sent = prepared
        response = await call_next(outgoing)
        if self._settle(response, outgoing.stream, sent):
            if not outgoing.stream:
                await self._athread(self._observe_raw, sent, await response.http_response.aread())
            return response
        status = response.http_response.status_code
        if status in RETRIED:
            raw = await response.http_response.aread()
            corrected = await self._athread(self._recover, ours, sent, status, raw)
            if corrected is not None:
                await response.http_response.aclose()
                response = await call_next(_with_body(request, corrected.body))
                if self._settle(response, outgoing.stream, corrected) and not outgoing.stream:
                    raw = await response.http_response.aread()
                    await self._athread(self._observe_raw, corrected, raw)
        return response


def _with_body(request: APIRequest, body: Mapping[str, Any]) -> APIRequest:
    """``request`` carrying ``body`` (the same object when the body did not change).

    Not APIRequest.copy(): it deep-copies the whole body first. A shallow copy of the options
    with the new body shares every message the pipeline did not change.
    """
    if body is request.json:
        return request
    options = request.options.model_copy(update={"json_data": body})
    return APIRequest(
        options=options,
        cast_to=request.cast_to,
        stream=request.stream,
        stream_cls=request.stream_cls,
        retries_taken=request.retries_taken,
    )


ConfigSource = Config | str | os.PathLike[str]


def _client_parts(config: ConfigSource, provider: str) -> tuple[ProviderConfig, PipelineMiddleware]:
    loaded = config if isinstance(config, Config) else load_config(config)
    entry = loaded.provider(provider)
    if entry.api_mode != "anthropic_messages":
        raise ConfigError(
            loaded.path,
            f"api_mode is {entry.api_mode!r}; an anthropic client needs a provider with "
            "api_mode: anthropic_messages",
            entry=entry.where,
        )
    pipeline = loaded.pipeline(provider)
    return entry, PipelineMiddleware(pipeline, base_url=entry.base_url, provider=provider)


def anthropic_client(config: ConfigSource, provider: str, **options: Any) -> anthropic.Anthropic:
    """An ``anthropic.Anthropic`` for one configured provider, with its pipeline installed.

    ``config`` is a loaded Config or a path; ``options`` go to the client (``max_retries``,
    ``timeout``, ...). The provider's base_url and api key are used.
    """
    entry, middleware = _client_parts(config, provider)
    return anthropic.Anthropic(
        base_url=entry.base_url,
        api_key=entry.api_key,
        middleware=[middleware],
        **entry.client_options(options),
    )


def async_anthropic_client(
    config: ConfigSource, provider: str, **options: Any
) -> anthropic.AsyncAnthropic:
    """The async twin of ``anthropic_client``."""
    entry, middleware = _client_parts(config, provider)
    return anthropic.AsyncAnthropic(
        base_url=entry.base_url,
        api_key=entry.api_key,
        middleware=[middleware],
        **entry.client_options(options),
    )
