"""The request side both transports share: which requests the pipeline knows (by method and
path), the chain run on their bodies, a classified error's retry, and what is observed.

On an event loop (``AsyncPipelineTransport``, the gateway) the chain never waits for a store
that lives outside the process: each shared store's answers to the call's keys are read
before the chain runs, on the store's own threads and within its time limit, and its writes
are made there too (``agent.integrations.offloop``); the chain then only reads answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, NamedTuple, cast
from urllib.parse import unquote

import httpx2

from agent.errors import InvalidRequest
from agent.history import grown
from agent.inputs import dumps, read_bytes
from agent.integrations._sse import loads
from agent.integrations.offloop import SharedStores
from agent.integrations.resent import FAST, Resent, scope_of
from agent.integrations.spliced import SPANS, Spans, spliced
from agent.pipeline import Pipeline
from agent.request import Request, with_history
from agent.store.lookups import CURRENT, Lookups, current
from agent.wire import Api

log = logging.getLogger(__name__)

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


#: Where a request keeps what ``target_of`` found (a URL is parsed again for each base URL).
_TARGET = "agent.target"


def target_of(request: httpx2.Request) -> tuple[str, str, str | None] | None:
    """(the wire, the base URL, the model id the path carries) of a request the pipeline
    knows, or None (found once per request: kept in its extensions)."""
    if request.method != "POST":
        return None
    key = (request.method, request.url)
    kept = request.extensions.get(_TARGET)
    if kept is not None and kept[0] == key:
        return kept[1]  # type: ignore[no-any-return]
    found = _target(request)
    request.extensions[_TARGET] = (key, found)
    return found


def _target(request: httpx2.Request) -> tuple[str, str, str | None] | None:
    """``target_of`` of a URL (the few a process calls are kept: parsing one takes longer
    than the rest of a small call's reading)."""
    url = str(request.url)
    found = _TARGETS.get(url, _UNSEEN)
    if found is _UNSEEN:
        if len(_TARGETS) >= _KEPT_TARGETS:
            _TARGETS.clear()
        found = _TARGETS[url] = _parsed_target(request)
    return found  # type: ignore[return-value]


_UNSEEN = object()
_KEPT_TARGETS = 256
_TARGETS: dict[str, tuple[str, str, str | None] | None] = {}


def _parsed_target(request: httpx2.Request) -> tuple[str, str, str | None] | None:
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


#: The request extension holding its body's JSON already read: ``(value, exotic)`` as
#: ``agent.inputs.read_bytes`` returns it, or None for a body that is no JSON.
PARSED = "agent.parsed"


class Read(NamedTuple):
    """How the agent's body was read: whether the model was put in it for the pipeline (the
    path carries it), whether only the standard library could read it (``NaN``), and where
    its messages lie in its bytes (read as a history read before plus what is new)."""

    added: bool
    exotic: bool
    spans: Spans | None = None


#: What a prepared call is: the request to send, the pipeline's request before and after the
#: chain, the chain's decisions counted (or None), and the call's dealings with its stores.
Prepared = tuple[httpx2.Request, Request, Request, dict[str, int] | None, Lookups]


class Core:
    """What both transports share: preparing a request, recovering, observing."""

    def __init__(
        self, pipeline: Pipeline, provider: str | None, count: bool = False, resent_bytes: int = 0
    ) -> None:
        if type(resent_bytes) is not int or resent_bytes < 0:
            shown = repr(resent_bytes)[:40]
            raise ValueError(f"resent_bytes must be a whole number >= 0 (0 keeps none): {shown}")
        self.pipeline = pipeline
        # the histories read last (msgspec finds where their messages lie)
        self.resent = Resent(resent_bytes) if resent_bytes > 0 and FAST else None
        self.provider = provider
        self.count = count
        self._learned: dict[str, str] = {}  # model id -> family, learned from an error
        self.shared = SharedStores(pipeline)

    def _ours(self, request: httpx2.Request, raw: bytes) -> tuple[Request, Read] | None:
        """The pipeline's request for a body it knows (resolved), and how it was read; None
        for anything else."""
        known = target_of(request)
        if known is None:
            return None
        spans = None
        if PARSED in request.extensions:  # read by who built the request (the gateway)
            read = request.extensions[PARSED]
            if read is None:
                return None
            body, exotic = read
            spans = request.extensions.get(SPANS)
        else:
            try:
                if self.resent is not None:
                    scope = scope_of(request.headers.items())
                    (body, exotic), spans = self.resent.read(raw, known[0], scope)
                else:
                    body, exotic = read_bytes(raw)
            except ValueError:
                return None
        if not isinstance(body, dict):
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
            if spans is not None:  # a history read before: only its new messages are walked
                spans.facts[0] = with_history(ours, grown(api, ours.body, spans.before)).history
        except InvalidRequest as exc:
            log.warning("request body not read by the pipeline, sent as is (%s)", exc.where)
            return None
        return ours, Read(added, exotic, spans)

    def _chain(
        self, request: httpx2.Request, ours: Request, read: Read, lookups: Lookups
    ) -> Prepared | None:
        try:
            with current(lookups):
                if self.count:
                    sent, counts = self.pipeline.counted(ours)
                else:
                    sent, counts = self.pipeline(ours), None
        except InvalidRequest as exc:
            log.warning("request body not read by the pipeline, sent as is (%s)", exc.where)
            return None
        if sent.body is ours.body:
            return request, ours, sent, counts, lookups
        body = sent.body
        out = {k: v for k, v in body.items() if k != "model"} if read.added else body
        return rebuilt(request, out, read.exotic, read.spans), ours, sent, counts, lookups

    def prepare(self, request: httpx2.Request, raw: bytes) -> Prepared | None:
        """Run the chain; a shared store is read by the chain itself, once."""
        found = self._ours(request, raw)
        if found is None:
            return None
        return self._chain(request, *found, Lookups(sync=True))

    async def aprepare(self, request: httpx2.Request, raw: bytes) -> Prepared | None:
        """Run the chain on the event loop, every shared store's answers read first, off the
        loop and within the store's time limit (what the chain asked and was not read: read
        in one more batch, and the chain run again)."""
        found = self._ours(request, raw)
        if found is None:
            return None
        ours, read = found
        lookups = Lookups(sync=False)
        await self.shared.prefetch(lookups, ours)
        prepared = self._chain(request, ours, read, lookups)
        if prepared is not None and lookups.missed():
            await lookups.fetch_missed()
            prepared = self._chain(request, ours, read, lookups)
        return prepared

    def wire(self, corrected: Request, raw: bytes) -> Mapping[str, Any]:
        """A corrected body as it goes out: without the model the path already carries (when
        the agent's body did not have it)."""
        agent_body = loads(raw)
        if corrected.api in ("gemini", "bedrock_converse") and not (
            isinstance(agent_body, dict) and "model" in agent_body
        ):
            return {k: v for k, v in corrected.body.items() if k != "model"}
        return corrected.body

    def recover(
        self, ours: Request, sent: Request, status: int, raw: bytes, lookups: Lookups
    ) -> Request | None:
        """The corrected request after a classified error (the call's store answers reused;
        in an async transport, what it learned is written by ``arecover``)."""
        body = loads(raw)
        error = raw.decode("utf-8", "replace") if body is None else body
        with current(lookups):
            corrected = self.pipeline.recover(ours, sent, status, error)
        if corrected is not None and corrected.family and corrected.family != ours.family:
            self._learned[ours.model] = corrected.family
        return corrected

    async def arecover(
        self, ours: Request, sent: Request, status: int, raw: bytes, lookups: Lookups
    ) -> Request | None:
        """``recover`` on the event loop, then what it learned written off it."""
        corrected = self.recover(ours, sent, status, raw, lookups)
        await lookups.flush()
        return corrected

    def observe(self, sent: Request, answer: Any, lookups: Lookups | None = None) -> None:
        if not isinstance(answer, Mapping):
            return
        token = CURRENT.set(lookups)
        try:
            self.pipeline.observe(sent, answer)
        except Exception:  # observing must never break the agent's call
            log.exception("observing a response failed")
        finally:
            CURRENT.reset(token)

    async def aobserve(self, sent: Request, answer: Any, lookups: Lookups) -> None:
        """``observe``, off the event loop and within the time limit when a store is shared."""
        if self.shared:
            await self.shared.write(lookups, self.observe, sent, answer, lookups)
        else:
            self.observe(sent, answer, lookups)


def rebuilt(
    request: httpx2.Request,
    body: Mapping[str, Any],
    exotic: bool | None = None,
    spans: Spans | None = None,
) -> httpx2.Request:
    """A copy of ``request`` with a new JSON body (and its length), and its extensions but the
    old body's value and where its messages lay (``PARSED``, ``SPANS``: another transport
    must read the new one). ``exotic``: whether the agent's body may hold what only the
    standard library writes (``NaN``); None: look. Where ``spans`` say where the messages lay
    in the bytes the body was read from, the messages the chain did not change go out as
    those bytes (``spliced``)."""
    if exotic is None:
        original = request.content
        exotic = b"NaN" in original or b"Infinity" in original
    content = spliced(body, spans) if spans is not None and not exotic else None
    if content is None:
        content = dumps(body, exotic=exotic)
    headers = httpx2.Headers(request.headers)
    headers["content-length"] = str(len(content))
    return httpx2.Request(
        request.method,
        request.url,
        headers=headers,
        content=content,
        extensions={k: v for k, v in request.extensions.items() if k not in (PARSED, SPANS)},
    )
