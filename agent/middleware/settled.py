"""The settled call: a request the default chain would leave as it is, recognized in one walk.

An agent that keeps its history sends, call after call, a conversation in which every tool
call has its result and every assistant turn starts with its own signed thinking. On a Claude
target the default chain (ToolPairing, then ThinkingRoundTrip) changes nothing in it, yet
finding that out takes the conversation's scan, the pairing check and the pass over every
turn: on a short call most of what the chain costs. ``settled`` reads only what could make
either middleware change anything, in one walk, and answers True only where both would leave
the request as it is; whatever it does not recognize it leaves to the chain (which also says
what is wrong with a malformed body). ``Pipeline.__call__`` asks it first. The chain stays the
reference: ``tests/test_settled.py`` holds the two to the same answer on generated
conversations, one change away from settled.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from agent.families import FamilyMatch
from agent.families.contracts import BlockMode
from agent.middleware.thinking_round_trip import ThinkingRoundTrip
from agent.middleware.tool_pairing import ToolPairing
from agent.request import Request, walked
from agent.store import is_local

_VERIFY = BlockMode.VERIFY


def settled_check(chain: Sequence[object]) -> Callable[[Request], bool] | None:
    """The check for ``chain`` when it is the default one (``ToolPairing()`` then a
    ``ThinkingRoundTrip`` whose store answers from memory and that sets no host switch),
    else None (the chain always runs)."""
    if len(chain) != 2 or type(chain[0]) is not ToolPairing:
        return None
    last = chain[1]
    if type(last) is not ThinkingRoundTrip or last.preserve_reasoning or not is_local(last.store):
        return None
    return functools.partial(settled, last)


def settled(options: ThinkingRoundTrip, request: Request) -> bool:
    """Whether ToolPairing and ``options`` leave ``request`` as it is: a resolved Anthropic
    request to a signature-checking family that keeps every turn's thinking, its host
    rejecting no block field, whose every tool call has its results in the next message and
    every assistant turn starts with thinking that is all own, signed, alive and plain
    (``verify``'s common case). A request whose facts are known already (a history read
    before, only its new messages walked) is left to the chain, which does not walk it
    again. A body that continues a server-held thread is no different: ToolPairing
    leaves it alone, and this walk calls it settled only when it is paired as it stands."""
    match = request.resolved
    if match is None or request.api != "anthropic_messages" or walked(request):
        return False
    contract = match.family.anthropic
    rejects = match.dialect.rejects
    if contract.thinking is not _VERIFY or (rejects and any("." in f for f in rejects)):
        return False
    body = request.body
    messages = body.get("messages")
    if type(messages) is not list:
        return False
    if not contract.keeps_all_turns(match.model):
        return False
    try:
        return _walk(options, request, match, messages)
    except (TypeError, KeyError, AttributeError):  # not plain well-formed JSON: the chain's
        return False


def _walk(
    options: ThinkingRoundTrip, request: Request, match: FamilyMatch, messages: list[Any]
) -> bool:
    """The one walk: pairing as ToolPairing finds it (stricter: results in the order of their
    calls) and every assistant turn as ``verify``'s plain path keeps it."""
    store = options.store
    rejected = store.rejected()
    dead = request.dead_signatures | rejected if rejected else request.dead_signatures
    origin_of = store.origin_of_signature
    trusted = None  # the last origin found trusted: most blocks share one
    pending: list[Any] | None = None  # the previous assistant turn's tool call ids
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "user":
            if type(content) is str and pending is None:
                continue
            if type(content) is not list:
                return False
            results: list[Any] | None = None
            for block in content:
                kind = block["type"]
                if kind == "tool_result":
                    (results := results or []).append(block.get("tool_use_id"))
                elif type(kind) is not str:
                    return False
            if results != pending:
                return False
            pending = None
            continue
        if role != "assistant" or pending is not None or type(content) is not list:
            return False
        if not content or content[0]["type"] != "thinking":
            return False
        for block in content:
            kind = block["type"]
            if kind == "thinking":
                signature = block.get("signature")
                if (
                    type(signature) is not str
                    or not signature
                    or signature in dead
                    or type(block.get("thinking")) is not str
                    or "cache_control" in block
                ):
                    return False
                origin = origin_of(signature)
                if origin is not None and origin is not trusted:
                    if not options.trusts(origin, match):
                        return False
                    trusted = origin
            elif kind == "tool_use":
                (pending := pending or []).append(block.get("id"))
            elif type(kind) is not str or kind in ("redacted_thinking", "tool_result"):
                return False
    return pending is None
