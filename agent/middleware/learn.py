"""What a provider's signature error teaches ThinkingRoundTrip: which signatures, redacted
data or encrypted items it rejected, remembered so later calls (and the one retry) do not
send them again.

- Anthropic wire: the block the error names (``messages.N.content.M``); all of a turn's
  blocks when its thinking "cannot be modified"; for a model that binds thinking to the
  conversation prefix, the block and every later thinking block.
- Chat wire and Gemini natively (``Corrupted thought signature.`` / ``Thought signature is
  not valid``, which name no position): the thought signatures (and reasoning_details) the
  store does not know as the target's own; where all are, those of the current turn.
- Responses: the item whose encrypted content did not verify, by its id; with no id (``...
  was not issued to this caller``), the encrypted items the store does not know as the
  target's own, else the compaction items (stale, bound to another caller).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from agent.body import block_key, thought_signature
from agent.middleware.gemini_wire import SIGNATURE, current_start
from agent.recovery import ThinkingError
from agent.request import Request
from agent.store import Origin

#: Whether a key (a signature, encrypted content) was observed as the target's own.
Own = Callable[[str], bool]


def rejected_keys(sent: Request, error: ThinkingError, own: Own) -> tuple[list[str], str]:
    """The keys the error says the provider rejected, and where (for the log)."""
    if sent.api == "responses":
        return _items(sent, error, own)
    if sent.api == "gemini":
        return _native(sent, own), "in the request"
    if error.message is None:
        return (_chat(sent, own), "in the request") if sent.api == "chat_completions" else ([], "")
    messages = sent.body.get("messages")
    if not isinstance(messages, list) or not 0 <= error.message < len(messages):
        return [], ""
    message = messages[error.message]
    content = message.get("content") if isinstance(message, Mapping) else None
    if not isinstance(content, list):
        return [], ""
    blocks = content
    if error.kind == "bound_prefix" or sent.match.family.anthropic.binds_prefix(sent.match.model):
        # prefix binding: the block and every later thinking block no longer verify
        blocks = [
            *content[error.block or 0 :],
            *(
                b
                for m in messages[error.message + 1 :]
                if isinstance(m, Mapping) and isinstance(m.get("content"), list)
                for b in m["content"]
            ),
        ]
    elif error.kind == "invalid_signature" and error.block is not None:
        blocks = content[error.block : error.block + 1]
    keys = [k for b in blocks if isinstance(b, Mapping) and (k := block_key(b)) is not None]
    return keys, f"at messages[{error.message}]"


def _chat(sent: Request, own: Own) -> list[str]:
    """A chat error that names no position: the signatures not known as the target's own,
    else every signature of the current turn."""
    history = sent.history
    found = [(i, key) for i in history.assistants for key in _chat_keys(history.messages[i])]
    unknown = [key for _, key in found if not own(key)]
    return unknown or [key for i, key in found if i >= history.loop_start]


def _native(sent: Request, own: Own) -> list[str]:
    """Gemini natively (its errors name no position): the parts' signatures not known as the
    target's own, else those of the current turn."""
    contents = sent.body.get("contents")
    contents = contents if isinstance(contents, list) else []
    found = [
        (i, part[SIGNATURE])
        for i, content in enumerate(contents)
        if isinstance(content, Mapping) and isinstance(content.get("parts"), list)
        for part in content["parts"]
        if isinstance(part, Mapping) and isinstance(part.get(SIGNATURE), str) and part[SIGNATURE]
    ]
    unknown = [key for _, key in found if not own(key)]
    start = current_start(contents)
    return unknown or [key for i, key in found if i >= start]


def _chat_keys(message: Mapping[str, Any]) -> Iterator[str]:
    calls = message.get("tool_calls")
    for tool_call in calls if isinstance(calls, list) else ():
        signature = thought_signature(tool_call)
        if signature:
            yield signature
    details = message.get("reasoning_details")
    for item in details if isinstance(details, list) else ():
        key = item.get("signature") or item.get("data") if isinstance(item, Mapping) else None
        if isinstance(key, str) and key:
            yield key


def _items(sent: Request, error: ThinkingError, own: Own) -> tuple[list[str], str]:
    items = [i for i in sent.body.get("input") or () if isinstance(i, Mapping)]
    sealed = [(i, k) for i in items if isinstance(k := i.get("encrypted_content"), str) and k]
    if error.field is not None:
        return [k for i, k in sealed if i.get("id") == error.field], f"for {error.field}"
    stale = [k for _, k in sealed if not own(k)]
    if not stale:
        stale = [k for i, k in sealed if i.get("type") == "compaction"]
    return stale, "in the request (not issued to this caller)"


def own_key(origin_of: Callable[[str], Origin | None], trusted: Callable[[Origin], bool]) -> Own:
    """A test of whether a key was observed from the target (its own)."""

    def own(key: str) -> bool:
        origin = origin_of(key)
        return origin is not None and trusted(origin)

    return own
