"""What the gateway reads of a client's request body: the bytes (bounded), its JSON (read
once: the pipeline's transport takes the value from the request's extensions), whether it
asks for a stream, and the model it names (for the access line)."""

from __future__ import annotations

import re

import httpx2
from starlette.requests import Request as HTTPRequest

from agent.inputs import read_bytes
from agent.integrations.core import PARSED, target_of
from agent.integrations.resent import Resent
from agent.integrations.spliced import SPANS

#: The largest body read as JSON only for the access line (the pipeline reads all it knows).
PARSED_FOR_LOG = 1_000_000
_STREAM_KEY = b'"stream"'
_ASKS_STREAM = re.compile(rb'"stream"\s*:\s*true')


def parsed(body: bytes) -> tuple[object, bool] | None:
    """The body's JSON value and whether only the standard library could read it
    (``read_bytes``; the library's one nesting bound), or None for no JSON."""
    if not body:
        return None
    try:
        return read_bytes(body)
    except ValueError:
        return None


def read_request(
    upstream: httpx2.Request, body: bytes, resent: Resent, scope: str
) -> tuple[object, bool] | None:
    """The body's JSON value and whether only the standard library could read it, read once
    for the pipeline (in the request's extensions) and the access line: as the history it
    grew from plus what is new where this worker read that before (``Resent``: the request
    then carries the ``SPANS`` of its messages), else whole; None for a large body the
    pipeline will not read (not read at all) and for no JSON."""
    target = target_of(upstream)
    if target is None and len(body) > PARSED_FOR_LOG:
        return None
    if target is None or not body:
        read = upstream.extensions[PARSED] = parsed(body)  # the pipeline's too
        return read
    try:
        read, spans = resent.read(body, target[0], scope)
    except ValueError:
        read = upstream.extensions[PARSED] = None
        return None
    upstream.extensions[PARSED] = read
    if spans is not None:
        upstream.extensions[SPANS] = spans
    return read


def model_of(read: tuple[object, bool] | None) -> str | None:
    """The model a request names, for the access line (a body the pipeline may not read)."""
    value = read[0] if read is not None else None
    model = value.get("model") if isinstance(value, dict) else None
    return model[:200] if isinstance(model, str) else None


def asks_stream(body: bytes, read: tuple[object, bool] | None) -> bool:
    """Whether a body asks for a stream: its ``stream`` is true; in a body that is no JSON
    object, ``"stream": true`` found in its bytes (the upstream will say what it is)."""
    if read is not None and isinstance(read[0], dict):
        return read[0].get("stream") is True
    at = body.find(_STREAM_KEY)
    while at >= 0:
        if _ASKS_STREAM.match(body, at):
            return True
        at = body.find(_STREAM_KEY, at + 1)
    return False


async def read_body(request: HTTPRequest, limit: int) -> bytes | None:
    """The request body, or None as soon as it passes ``limit`` (read no further)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


__all__ = [
    "PARSED",
    "PARSED_FOR_LOG",
    "asks_stream",
    "model_of",
    "parsed",
    "read_body",
    "read_request",
]
