"""Reading an upstream's answers within bounds, for the transports: a plain answer read
whole to observe it (at most ``max_response_bytes``, as sent and as decoded), and a stream
observed as it passes (each event at most ``max_event_bytes``, at most
``max_observed_bytes`` of it; past a limit it passes on untouched, unobserved). Decoding
and parsing give the event loop a turn between pieces.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx2
from attrs import frozen

from agent.integrations._sse import loads
from agent.integrations._tee import AsyncTeeStream, LimitExceeded, TeeStream, decoder

__all__ = ["OBSERVING", "LimitExceeded", "ReadLimits"]

#: The response extension of a stream being observed: how many decoded bytes were observed
#: (``observed``) and the limit that stopped observing it (``stopped``, or None).
OBSERVING = "agent.observing"


@frozen
class ReadLimits:
    """What the transports hold of an answer to observe it (the gateway's settings of the
    same names; every default is the gateway's).

    Attributes:
        max_response_bytes: a plain answer read to observe it, as sent and as decoded
            (``LimitExceeded`` above: the call fails rather than hold more).
        max_decode_ratio: how many times its compressed size an answer may decode to.
        max_event_bytes: one stream event held while waiting for its end.
        max_observed_bytes: how much of a stream is decoded and observed; past this or any
            other stream limit, the stream passes on untouched, unobserved.
    """

    max_response_bytes: int = 32_000_000
    max_decode_ratio: int = 100
    max_event_bytes: int = 8_000_000
    max_observed_bytes: int = 32_000_000


#: Decoded size above which a plain answer is parsed off the event loop.
PARSE_IN_THREAD = 1_000_000


def decoder_of(response: httpx2.Response, limits: ReadLimits) -> Any:
    return decoder(
        response.headers.get("content-encoding"),
        limits.max_response_bytes,
        limits.max_decode_ratio,
        "max_response_bytes",
    )


def _plain(response: httpx2.Response) -> bool:
    return response.headers.get("content-encoding", "identity").strip().lower() in (
        "",
        "identity",
    )


def decoded(response: httpx2.Response, raw: bytes, limits: ReadLimits) -> bytes | None:
    """The body's bytes as the client would read them (content-encoding undone, within the
    limits); None for a coding this process cannot undo."""
    if _plain(response):  # (its size already within max_response_bytes)
        return raw
    decode = decoder_of(response, limits)
    return None if decode is None else decode(raw)


async def adecoded(response: httpx2.Response, raw: bytes, limits: ReadLimits) -> bytes | None:
    """``decoded``, giving the event loop a turn between pieces."""
    if _plain(response):
        return raw
    decode = decoder_of(response, limits)
    if decode is None:
        return None
    pieces = []
    for n, piece in enumerate(decode.pieces(raw)):
        if n:
            await asyncio.sleep(0)
        pieces.append(piece)
    return b"".join(pieces)


#: Headers that describe bytes no longer there once a response was read (and decoded).
_READ_AWAY = ("content-encoding", "content-length", "transfer-encoding")


def unread(response: httpx2.Response) -> httpx2.Response:
    """A response the inner transport already read (httpx's ``MockTransport`` hands on what
    its handler built, and a response built with ``content=`` is read at once): the same
    answer, readable again, as the bytes it was read to (decoded, so without the coding's
    headers). Any other response: itself."""
    if not response.is_stream_consumed:
        return response
    content = response.content
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _READ_AWAY]
    return httpx2.Response(
        response.status_code,
        headers=[*headers, ("content-length", str(len(content)))],
        stream=httpx2.ByteStream(content),
        extensions=response.extensions,
    )


def body(response: httpx2.Response, limits: ReadLimits) -> bytes:
    """The raw body, read whole and closed; ``LimitExceeded`` past max_response_bytes."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > limits.max_response_bytes:
                raise LimitExceeded("max_response_bytes", limits.max_response_bytes)
            chunks.append(chunk)
    finally:
        response.close()
    return b"".join(chunks)


async def abody(response: httpx2.Response, limits: ReadLimits) -> bytes:
    """The async twin of ``_body``."""
    chunks, size = [], 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limits.max_response_bytes:
                raise LimitExceeded("max_response_bytes", limits.max_response_bytes)
            chunks.append(chunk)
    finally:
        await response.aclose()
    return b"".join(chunks)


async def aloads(data: bytes | None) -> Any:
    """JSON of a decoded answer (None when not JSON), a large one parsed off the loop."""
    if data is None:
        return None
    if len(data) > PARSE_IN_THREAD:
        return await asyncio.to_thread(loads, data)
    return loads(data)


def error_text(data: bytes | None, raw: bytes) -> bytes:
    return raw if data is None else data


def teed(
    response: httpx2.Response,
    request: httpx2.Request,
    acc: Any,
    report: Callable[[Any], None],
    limits: ReadLimits,
    tee: type[TeeStream] | type[AsyncTeeStream],
    wrap: Callable[[Any], Any] | None = None,
) -> httpx2.Response:
    """A streamed answer that feeds ``acc`` as the client reads it (within the limits; its
    ``agent.observing`` extension says how far observing went); ``wrap`` wraps the tee."""
    state: dict[str, Any] = {"observed": 0, "stopped": None}
    response.extensions[OBSERVING] = state
    decode = decoder(
        response.headers.get("content-encoding"),
        limits.max_observed_bytes,
        limits.max_decode_ratio,
        "max_observed_bytes",
    )
    if decode is None:  # a coding this process cannot undo: passed on unobserved
        state["stopped"] = "content-encoding"
        return response
    stream = tee(response.stream, acc, report, decode, state)
    return httpx2.Response(
        response.status_code,
        headers=response.headers,
        stream=stream if wrap is None else wrap(stream),
        request=request,
        extensions=response.extensions,
    )
