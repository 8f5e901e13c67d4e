"""The pipeline as an HTTP transport, for any client built on the SDKs' HTTP layer (httpx2):

    client = openai.OpenAI(base_url=URL, api_key=KEY,
                           http_client=httpx2.Client(transport=PipelineTransport(pipe)))

It recognises the endpoints it knows by method and path (``POST .../messages``,
``.../chat/completions``, ``.../responses``, Gemini's ``.../models/{model}:generateContent``
and Bedrock's ``.../model/{modelId}/converse``, whose model it reads from the path), learns
the base URL from the request itself, runs the pipeline on the JSON body (the model put in
the body for it, and taken out again before sending), sends it on through ``inner`` (a plain
``httpx2.HTTPTransport`` by default), feeds each successful answer to ``pipeline.observe``
(a streamed one as its events pass, without buffering the caller's stream), and after a
classified thinking error retries once with what the error taught, like the anthropic
adapter. Every other request, and a body
the pipeline cannot read, goes through untouched. Observing never raises into the call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx2

from agent.integrations._sse import (
    ChatAccumulator,
    GeminiAccumulator,
    MessageAccumulator,
    ResponsesAccumulator,
    loads,
)
from agent.integrations._tee import AsyncTeeStream, TeeStream
from agent.integrations.answers import (
    OBSERVING,
    ReadLimits,
    abody,
    adecoded,
    aloads,
    body,
    decoded,
    error_text,
    teed,
    unread,
)
from agent.integrations.core import ENDPOINTS as ENDPOINTS
from agent.integrations.core import Core, rebuilt
from agent.integrations.core import api_of as api_of
from agent.integrations.core import target_of as target_of
from agent.integrations.httpx2_only import CLIENT, expect
from agent.integrations.offloop import Then
from agent.pipeline import Pipeline
from agent.request import Request
from agent.store.lookups import Lookups

log = logging.getLogger(__name__)

#: Statuses a thinking error comes back with (relays wrap a provider's 400 in a 5xx; the
#: Responses API answers a lost item with 404).
RETRIED = frozenset({400, 404, 422, 500, 502})


class _Core(Core):
    """The request side, and how a response is read to be observed."""

    def accumulator(self, sent: Request, max_event: int) -> Any:
        if sent.api == "chat_completions":
            return ChatAccumulator(max_event)
        if sent.api == "responses":
            return ResponsesAccumulator(max_event)
        if sent.api == "gemini":
            return GeminiAccumulator(max_event)
        return MessageAccumulator(max_event)

    def streamed(self, sent: Request, lookups: Lookups | None = None) -> Callable[[Any], None]:
        """What to do with a finished stream's accumulator: observe what it rebuilt."""

        def report(acc: Any) -> None:
            if isinstance(acc, ChatAccumulator):
                self.observe(sent, acc.completion, lookups)
            elif isinstance(acc, ResponsesAccumulator | GeminiAccumulator):
                self.observe(sent, acc.response, lookups)
            elif acc.message is not None:
                self.observe(sent, acc.message, lookups)

        return report

    def astreamed(self, sent: Request, lookups: Lookups) -> tuple[Callable[[Any], None], Any]:
        """What to do with a finished stream's accumulator on an event loop (a shared store's
        write made off it), and what the stream waits for at its end (or None)."""
        return self.shared.streamed(self.streamed(sent, lookups), lookups)


def _again(response: httpx2.Response, raw: bytes, request: httpx2.Request) -> httpx2.Response:
    """A response the transport read, handed on with the same raw bytes."""
    return httpx2.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx2.ByteStream(raw),
        request=request,
        extensions=response.extensions,
    )


#: What a transport keeps of the bodies it read last, by default (``resent_bytes``).
RESENT_BYTES = 32_000_000


#: The response extension that says what the pipeline did (read by the gateway's access log).
EXTENSION = "agent"


def tagged(
    response: httpx2.Response,
    ours: Request,
    sent: Request,
    retried: bool,
    counts: dict[str, int] | None,
    lookups: Lookups | None = None,
) -> httpx2.Response:
    """``response`` carrying, in ``extensions["agent"]``, the family the call was sent as,
    whether the pipeline changed the body, whether it retried, (when the transport counts)
    its decisions by action, and how the store fared (``{"state": "ok" | "timeout" |
    "unavailable", "unrestored": turns the store could not give back}``)."""
    response.extensions[EXTENSION] = {
        "model": sent.model,
        "family": sent.match.family.name,
        "changed": sent.body is not ours.body,
        "retried": retried,
        "decisions": counts,
        "store": None if lookups is None else lookups.summary(),
        "observing": response.extensions.get(OBSERVING),
    }
    return response


def is_stream(response: httpx2.Response) -> bool:
    """Whether the answer is a Server-Sent Events stream."""
    return response.headers.get("content-type", "").startswith("text/event-stream")


class PipelineTransport(httpx2.BaseTransport):
    """An ``httpx2`` transport that runs the pipeline on the requests it knows.

    Attributes:
        pipeline: the chain to run.
        inner: the transport that sends (default ``httpx2.HTTPTransport()``).
        provider: the configured provider name, for explain and logs.
        count: count the chain's decisions by action, in the response's
            ``extensions["agent"]["decisions"]`` (the gateway's access log; the chain then
            costs up to about a quarter more than a plain one).
        resent_bytes: how much of the request bodies it read last it keeps (64 KB and larger
            ones, with their decoded messages, about as much again), so the next call of the
            same history decodes only its new messages and a changed body goes out with the
            unchanged ones as they came (needs msgspec, the ``gateway`` extra; 0: none).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        inner: httpx2.BaseTransport | None = None,
        *,
        provider: str | None = None,
        count: bool = False,
        limits: ReadLimits | None = None,
        resent_bytes: int = RESENT_BYTES,
    ) -> None:
        expect(inner, httpx2.BaseTransport, "inner", "httpx2.HTTPTransport()")
        self.pipeline = pipeline
        self.inner = inner if inner is not None else httpx2.HTTPTransport()
        self.provider = provider
        self.limits = limits if limits is not None else ReadLimits()
        self._core = _Core(pipeline, provider, count, resent_bytes)

    def __repr__(self) -> str:
        return f"PipelineTransport(provider={self.provider!r})"

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Run the pipeline, send, observe; retry once after a classified thinking error."""
        expect(request, httpx2.Request, "request", CLIENT.format(client="httpx2.Client"))
        if api_of(request) is None:
            return self.inner.handle_request(request)
        raw = request.read()
        prepared = self._core.prepare(request, raw)
        if prepared is None:
            return self.inner.handle_request(request)
        outgoing, ours, sent, counts, lookups = prepared
        response = unread(self.inner.handle_request(outgoing))
        if response.status_code < 400:
            settled = self._settled(response, sent, request, lookups)
            return tagged(settled, ours, sent, False, counts, lookups)
        if response.status_code not in RETRIED:
            return tagged(response, ours, sent, False, counts, lookups)
        data = body(response, self.limits)
        status, text = response.status_code, error_text(decoded(response, data, self.limits), data)
        corrected = self._core.recover(ours, sent, status, text, lookups)
        if corrected is None:
            return tagged(_again(response, data, request), ours, sent, False, counts, lookups)
        retry = unread(self.inner.handle_request(rebuilt(request, self._core.wire(corrected, raw))))
        if retry.status_code < 400:
            retry = self._settled(retry, corrected, request, lookups)
        return tagged(retry, ours, corrected, True, counts, lookups)

    def _settled(
        self, response: httpx2.Response, sent: Request, request: httpx2.Request, lookups: Lookups
    ) -> httpx2.Response:
        if is_stream(response):
            acc = self._core.accumulator(sent, self.limits.max_event_bytes)
            report = self._core.streamed(sent)
            return teed(response, request, acc, report, self.limits, TeeStream)
        data = body(response, self.limits)
        plain = decoded(response, data, self.limits)
        self._core.observe(sent, None if plain is None else loads(plain), lookups)
        return _again(response, data, request)

    def close(self) -> None:
        self.inner.close()


class AsyncPipelineTransport(httpx2.AsyncBaseTransport):
    """The async twin of PipelineTransport."""

    def __init__(
        self,
        pipeline: Pipeline,
        inner: httpx2.AsyncBaseTransport | None = None,
        *,
        provider: str | None = None,
        count: bool = False,
        limits: ReadLimits | None = None,
        resent_bytes: int = RESENT_BYTES,
    ) -> None:
        expect(inner, httpx2.AsyncBaseTransport, "inner", "httpx2.AsyncHTTPTransport()")
        self.pipeline = pipeline
        self.inner = inner if inner is not None else httpx2.AsyncHTTPTransport()
        self.provider = provider
        self.limits = limits if limits is not None else ReadLimits()
        self._core = _Core(pipeline, provider, count, resent_bytes)

    def __repr__(self) -> str:
        return f"AsyncPipelineTransport(provider={self.provider!r})"

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Run the pipeline, send, observe; retry once after a classified thinking error."""
        expect(request, httpx2.Request, "request", CLIENT.format(client="httpx2.AsyncClient"))
        if api_of(request) is None:
            return await self.inner.handle_async_request(request)
        raw = await request.aread()
        prepared = await self._core.aprepare(request, raw)
        if prepared is None:
            return await self.inner.handle_async_request(request)
        outgoing, ours, sent, counts, lookups = prepared
        response = unread(await self.inner.handle_async_request(outgoing))
        if response.status_code < 400:
            settled = await self._settled(response, sent, request, lookups)
            return tagged(settled, ours, sent, False, counts, lookups)
        if response.status_code not in RETRIED:
            return tagged(response, ours, sent, False, counts, lookups)
        data = await abody(response, self.limits)
        plain = await adecoded(response, data, self.limits)
        status, text = response.status_code, error_text(plain, data)
        corrected = await self._core.arecover(ours, sent, status, text, lookups)
        if corrected is None:
            return tagged(_again(response, data, request), ours, sent, False, counts, lookups)
        retry = unread(
            await self.inner.handle_async_request(rebuilt(request, self._core.wire(corrected, raw)))
        )
        if retry.status_code < 400:
            retry = await self._settled(retry, corrected, request, lookups)
        return tagged(retry, ours, corrected, True, counts, lookups)

    async def _settled(
        self, response: httpx2.Response, sent: Request, request: httpx2.Request, lookups: Lookups
    ) -> httpx2.Response:
        if is_stream(response):
            acc = self._core.accumulator(sent, self.limits.max_event_bytes)
            report, written = self._core.astreamed(sent, lookups)
            wrap = None if written is None else (lambda tee: Then(tee, written))
            return teed(response, request, acc, report, self.limits, AsyncTeeStream, wrap)
        data = await abody(response, self.limits)
        plain = await aloads(await adecoded(response, data, self.limits))
        await self._core.aobserve(sent, plain, lookups)
        return _again(response, data, request)

    async def aclose(self) -> None:
        await self.inner.aclose()
