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

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import unquote

import httpx2

from agent.errors import InvalidRequest
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
)
from agent.pipeline import Pipeline
from agent.request import Request
from agent.wire import Api

log = logging.getLogger("agent")

#: Statuses a thinking error comes back with (relays wrap a provider's 400 in a 5xx; the
#: Responses API answers a lost item with 404).
RETRIED = frozenset({400, 404, 422, 500, 502})
#: Path endings -> the wire they speak.
ENDPOINTS = (
    ("/chat/completions", "chat_completions"),
    ("/messages", "anthropic_messages"),
    ("/responses", "responses"),
)


#: Wires that carry the model in the path: Gemini's ``.../models/{model}:generateContent``
#: (``:streamGenerateContent``), Bedrock Converse's ``.../model/{modelId}/converse``.
_IN_PATH = (
    (re.compile(r"^(.*)/models/([^/:]+):(?:stream)?[gG]enerateContent$"), "gemini"),
    (re.compile(r"^(.*)/model/([^/]+)/converse$"), "bedrock_converse"),
)


def api_of(request: httpx2.Request) -> tuple[str, str] | None:
    """(the wire, the base URL) of a request the pipeline knows, or None."""
    target = target_of(request)
    return None if target is None else (target[0], target[1])


def target_of(request: httpx2.Request) -> tuple[str, str, str | None] | None:
    """(the wire, the base URL, the model id the path carries) of a request the pipeline
    knows, or None."""
    if request.method != "POST":
        return None
    path = request.url.path.rstrip("/")
    for ending, api in ENDPOINTS:
        if path.endswith(ending):
            base = str(request.url.copy_with(path=path[: -len(ending)], query=None))
            return api, base.rstrip("/"), None
    for pattern, api in _IN_PATH:
        found = pattern.match(path)
        if found:
            base = str(request.url.copy_with(path=found.group(1), query=None))
            return api, base.rstrip("/"), unquote(found.group(2))
    return None


class _Core:
    """What both transports share: preparing a request, recovering, observing."""

    def __init__(self, pipeline: Pipeline, provider: str | None, count: bool = False) -> None:
        self.pipeline = pipeline
        self.provider = provider
        self.count = count
        self._learned: dict[str, str] = {}  # model id -> family, learned from an error

    def prepare(
        self, request: httpx2.Request, raw: bytes
    ) -> tuple[httpx2.Request, Request, Request, dict[str, int] | None] | None:
        known = target_of(request)
        body = loads(raw) if known else None
        if known is None or not isinstance(body, dict):
            return None
        api, base_url, in_path = known
        added = in_path is not None and "model" not in body
        if added:  # the pipeline reads the model from the body on every wire
            body = {**body, "model": in_path}
        model = body.get("model")
        try:
            ours = self.pipeline.resolve(
                Request(
                    api=cast(Api, api),
                    base_url=base_url,
                    body=body,
                    provider=self.provider,
                    family=self._learned.get(model) if isinstance(model, str) else None,
                )
            )
            if self.count:
                sent, counts = self.pipeline.counted(ours)
            else:
                sent, counts = self.pipeline(ours), None
        except InvalidRequest as exc:
            log.warning("request body not read by the pipeline, sent as is (%s)", exc.where)
            return None
        if sent.body is body:
            return request, ours, sent, counts
        out = {k: v for k, v in sent.body.items() if k != "model"} if added else sent.body
        return rebuilt(request, out), ours, sent, counts

    def wire(self, corrected: Request, raw: bytes) -> Mapping[str, Any]:
        """A corrected body as it goes out: without the model the path already carries (when
        the agent's body did not have it)."""
        agent_body = loads(raw)
        if corrected.api in ("gemini", "bedrock_converse") and not (
            isinstance(agent_body, dict) and "model" in agent_body
        ):
            return {k: v for k, v in corrected.body.items() if k != "model"}
        return corrected.body

    def recover(self, ours: Request, sent: Request, status: int, raw: bytes) -> Request | None:
        body = loads(raw)
        error = raw.decode("utf-8", "replace") if body is None else body
        corrected = self.pipeline.recover(ours, sent, status, error)
        if corrected is not None and corrected.family and corrected.family != ours.family:
            self._learned[ours.model] = corrected.family
        return corrected

    def observe(self, sent: Request, answer: Any) -> None:
        if not isinstance(answer, Mapping):
            return
        try:
            self.pipeline.observe(sent, answer)
        except Exception:  # observing must never break the agent's call
            log.exception("observing a response failed")

    def accumulator(self, sent: Request, max_event: int) -> Any:
        if sent.api == "chat_completions":
            return ChatAccumulator(max_event)
        if sent.api == "responses":
            return ResponsesAccumulator(max_event)
        if sent.api == "gemini":
            return GeminiAccumulator(max_event)
        return MessageAccumulator(max_event)

    def streamed(self, sent: Request) -> Callable[[Any], None]:
        """What to do with a finished stream's accumulator: observe what it rebuilt."""

        def report(acc: Any) -> None:
            if isinstance(acc, ChatAccumulator):
                self.observe(sent, acc.completion)
            elif isinstance(acc, ResponsesAccumulator | GeminiAccumulator):
                self.observe(sent, acc.response)
            elif acc.message is not None:
                self.observe(sent, acc.message)

        return report


def rebuilt(request: httpx2.Request, body: Mapping[str, Any]) -> httpx2.Request:
    """A copy of ``request`` with a new JSON body (and its length)."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = httpx2.Headers(request.headers)
    headers["content-length"] = str(len(content))
    return httpx2.Request(
        request.method,
        request.url,
        headers=headers,
        content=content,
        extensions=request.extensions,
    )


def _again(response: httpx2.Response, raw: bytes, request: httpx2.Request) -> httpx2.Response:
    """A response the transport read, handed on with the same raw bytes."""
    return httpx2.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx2.ByteStream(raw),
        request=request,
        extensions=response.extensions,
    )


#: The response extension that says what the pipeline did (read by the gateway's access log).
EXTENSION = "agent"


def tagged(
    response: httpx2.Response,
    ours: Request,
    sent: Request,
    retried: bool,
    counts: dict[str, int] | None,
) -> httpx2.Response:
    """``response`` carrying, in ``extensions["agent"]``, the family the call was sent as,
    whether the pipeline changed the body, whether it retried, and (when the transport
    counts) its decisions by action."""
    response.extensions[EXTENSION] = {
        "model": sent.model,
        "family": sent.match.family.name,
        "changed": sent.body is not ours.body,
        "retried": retried,
        "decisions": counts,
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
        limits: what is held of an answer to observe it (``ReadLimits``).
        count: count the chain's decisions by action, in the response's
            ``extensions["agent"]["decisions"]`` (the gateway's access log; the chain then
            takes its explaining path, a few times slower than a plain call).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        inner: httpx2.BaseTransport | None = None,
        *,
        provider: str | None = None,
        count: bool = False,
        limits: ReadLimits | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.inner = inner if inner is not None else httpx2.HTTPTransport()
        self.provider = provider
        self.limits = limits if limits is not None else ReadLimits()
        self._core = _Core(pipeline, provider, count)

    def __repr__(self) -> str:
        return f"PipelineTransport(provider={self.provider!r})"

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Run the pipeline, send, observe; retry once after a classified thinking error."""
        if api_of(request) is None:
            return self.inner.handle_request(request)
        raw = request.read()
        prepared = self._core.prepare(request, raw)
        if prepared is None:
            return self.inner.handle_request(request)
        outgoing, ours, sent, counts = prepared
        response = self.inner.handle_request(outgoing)
        if response.status_code < 400:
            return tagged(self._settled(response, sent, request), ours, sent, False, counts)
        if response.status_code not in RETRIED:
            return tagged(response, ours, sent, False, counts)
        data = body(response, self.limits)
        text = error_text(decoded(response, data, self.limits), data)
        corrected = self._core.recover(ours, sent, response.status_code, text)
        if corrected is None:
            return tagged(_again(response, data, request), ours, sent, False, counts)
        retry = self.inner.handle_request(rebuilt(request, self._core.wire(corrected, raw)))
        if retry.status_code < 400:
            retry = self._settled(retry, corrected, request)
        return tagged(retry, ours, corrected, True, counts)

    def _settled(
        self, response: httpx2.Response, sent: Request, request: httpx2.Request
    ) -> httpx2.Response:
        if is_stream(response):
            return teed(response, request, self._core, sent, self.limits, TeeStream)
        data = body(response, self.limits)
        plain = decoded(response, data, self.limits)
        self._core.observe(sent, None if plain is None else loads(plain))
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
    ) -> None:
        self.pipeline = pipeline
        self.inner = inner if inner is not None else httpx2.AsyncHTTPTransport()
        self.provider = provider
        self.limits = limits if limits is not None else ReadLimits()
        self._core = _Core(pipeline, provider, count)

    def __repr__(self) -> str:
        return f"AsyncPipelineTransport(provider={self.provider!r})"

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Run the pipeline, send, observe; retry once after a classified thinking error."""
        if api_of(request) is None:
            return await self.inner.handle_async_request(request)
        raw = await request.aread()
        prepared = self._core.prepare(request, raw)
        if prepared is None:
            return await self.inner.handle_async_request(request)
        outgoing, ours, sent, counts = prepared
        response = await self.inner.handle_async_request(outgoing)
        if response.status_code < 400:
            return tagged(await self._settled(response, sent, request), ours, sent, False, counts)
        if response.status_code not in RETRIED:
            return tagged(response, ours, sent, False, counts)
        data = await abody(response, self.limits)
        text = error_text(await adecoded(response, data, self.limits), data)
        corrected = self._core.recover(ours, sent, response.status_code, text)
        if corrected is None:
            return tagged(_again(response, data, request), ours, sent, False, counts)
        retry = await self.inner.handle_async_request(
            rebuilt(request, self._core.wire(corrected, raw))
        )
        if retry.status_code < 400:
            retry = await self._settled(retry, corrected, request)
        return tagged(retry, ours, corrected, True, counts)

    async def _settled(
        self, response: httpx2.Response, sent: Request, request: httpx2.Request
    ) -> httpx2.Response:
        if is_stream(response):
            return teed(response, request, self._core, sent, self.limits, AsyncTeeStream)
        data = await abody(response, self.limits)
        self._core.observe(sent, await aloads(await adecoded(response, data, self.limits)))
        return _again(response, data, request)

    async def aclose(self) -> None:
        await self.inner.aclose()
