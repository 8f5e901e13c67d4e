"""What the gateway reads of a client's request body: the bytes (bounded), whether it asks
for a stream, and the model it names (for the access line)."""

from __future__ import annotations

import re

from starlette.requests import Request as HTTPRequest

from agent.inputs import loads

#: The largest body parsed again only to log its model (the pipeline's calls carry it).
_PARSED_FOR_LOG = 1_000_000
_STREAM_KEY = b'"stream"'
_ASKS_STREAM = re.compile(rb'"stream"\s*:\s*true')


def model_of(body: bytes) -> str | None:
    """The model a request names, for the access line (a body the pipeline may not read)."""
    if not body or len(body) > _PARSED_FOR_LOG:
        return None
    try:
        parsed = loads(body)  # the library's one nesting bound
    except ValueError:
        return None
    model = parsed.get("model") if isinstance(parsed, dict) else None
    return model[:200] if isinstance(model, str) else None


def asks_stream(body: bytes) -> bool:
    """Whether a body asks for a stream (``"stream": true``), found by its key (the byte
    search is C's; a regular expression over an agent's history is not)."""
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
