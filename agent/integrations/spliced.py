"""A changed body written back with the client's own bytes wherever it did not change.

When the chain rewrites a few messages of a long history, the rest are the very objects it was
given (the chain copies only what it changes). Where the reader kept where each message lay in
the client's bytes (``Spans``, the gateway's ``Resent``), those messages go out as those bytes
and only the new ones are encoded: the same JSON value as encoding the whole body, at the cost
of a copy instead of an encoding of every tool result again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import Factory, frozen

#: Where a request carries the ``Spans`` of the body it was built from.
SPANS = "agent.spans"


@frozen(eq=False)
class Spans:
    """Where each message of a body's history lies in the bytes it was read from.

    Attributes:
        raw: the body's bytes, as the client sent them.
        key: the history's key (``messages``, ``contents``, ``input``).
        messages: the decoded messages, the very objects the body's value holds.
        bounds: each message's start and end in ``raw``.
        before: the facts of the conversation it grew from (an ``agent.history.History`` of
            the messages its first ones are), found on an earlier call; None when not known.
        facts: where the facts of this body's conversation go once found (kept with the body,
            for the next body that grows from it).
    """

    raw: bytes
    key: str
    messages: list[Any]
    bounds: list[tuple[int, int]]
    before: Any = None
    facts: list[Any] = Factory(lambda: [None])


def spliced(body: Mapping[str, Any], spans: Spans) -> bytes | None:
    """``body`` as compact JSON, each message that is one of ``spans``' (the same object)
    written as its original bytes; None where this cannot be done (no msgspec, or the history
    is no list), for the caller's whole encoding."""
    out = body.get(spans.key)
    if _ENCODE is None or _RAW is None or not isinstance(out, list):
        return None
    view = memoryview(spans.raw)
    parts: list[Any] = [b"["]
    try:
        for message, bound in zip(out, _bounds_of(out, spans), strict=True):
            parts.append(_ENCODE(message) if bound is None else view[bound[0] : bound[1]])
            parts.append(b",")
        parts[-1] = b"]"
        # the body around its history, the history a NUL (no JSON text holds one: a string
        # escapes it), then everything in one buffer: a body of many MB is copied once
        mark = _RAW(b"\0")
        around = _ENCODE({k: mark if k == spans.key else v for k, v in body.items()})
        before, after = around.split(b"\0")
    except (TypeError, ValueError, OverflowError):  # (what only the standard library writes)
        return None
    return b"".join((before, *parts, after)) if out else before + b"[]" + after


def _bounds_of(out: list[Any], spans: Spans) -> list[tuple[int, int] | None]:
    """Where each message of ``out`` lies in ``spans.raw`` (None: not one of its own, to be
    encoded): found by position where the chain replaced messages in place (as long as the
    history), else by identity (``spans`` holds each, so an id is that object's)."""
    messages, bounds = spans.messages, spans.bounds
    if len(out) == len(messages):
        return [b if m is o else None for m, o, b in zip(messages, out, bounds, strict=True)]
    at = {id(m): bound for m, bound in zip(messages, bounds, strict=True)}
    return [at.get(id(m)) for m in out]


def _fast() -> tuple[Any, Any]:
    try:
        import msgspec
    except ImportError:
        return None, None
    return msgspec.json.Encoder().encode, msgspec.Raw


_ENCODE, _RAW = _fast()
