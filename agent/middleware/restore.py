"""Restore: a turn's own observed thinking, found by tool-call id, put back where it was.

Also the frameworks' downgrades: reasoning a client could not send as thinking, turned into
text (hermes: the unsigned thinking as a text block; pydantic-ai: a ``<thinking>`` text block,
or a separate user message ``<assistant_thinking>...</assistant_thinking>``). When such a copy
is exactly a turn's observed reasoning and the target wants thinking back, the thinking is
restored in its place and the copy is not sent (the reasoning would otherwise go twice).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from agent.body import REMOVE, THINKING_TYPES, block_key
from agent.explain import Action
from agent.middleware.context import Call
from agent.middleware.policies import pad_empty, unsigned_form
from agent.store import StoredTurn

_WRAPPED = re.compile(r"^\s*<(thinking|assistant_thinking)>\s*(.*?)\s*</\1>\s*$", re.S)
_COPY = (
    "a copy of this turn's reasoning as text (a framework's downgrade); restored as thinking "
    "in its place, so it is not sent twice"
)


def restore_turn(
    call: Call, i: int, content: Sequence[Any], tool_ids: Sequence[str]
) -> list[Any] | None:
    """The message with its own observed thinking put back in original order, or None.

    Signed (``verify``): only when the message's other blocks line up with the observed
    response (same tool calls, same count), so each block goes back exactly where the model
    put it. Unsigned (``carry``): the turn is found by any of its tool ids (an agent or
    ToolPairing may have left some calls, or a short text, out), and where it no longer
    lines up, its reasoning goes first in the message.
    """
    contract = call.family.anthropic
    signed = call.mode.checks_signatures
    found = observed_turn(call, tool_ids, exact=signed)
    if found is None:
        return None
    turn, key = found
    if signed:
        # all or nothing: a partial turn is a modified turn
        if any((k := block_key(b)) is None or k in call.dead for b, _ in turn.blocks):
            return None
        at = {position: _sendable(block) for block, position in turn.blocks}
    else:  # shaped like any other unsigned block of this family
        at = {
            position: _sendable(unsigned_form(contract, pad_empty(contract, block)))
            if block.get("type") == "thinking" and not block.get("signature")
            else _sendable(block)
            for block, position in turn.blocks
        }
    if len(content) + len(at) == turn.size:
        others = iter(content)
        out = [at[p] if p in at else next(others) for p in range(turn.size)]
        where = "where the model put them"
    elif call.mode.carries_unsigned:  # its own reasoning beats a pad, wherever it goes
        out = [at[p] for p in sorted(at)] + list(content)
        where = "first in the message (the turn no longer lines up with the observed one)"
    else:
        return None  # signed: the agent's turn does not line up with the observed one
    if signed and out[0].get("type") not in THINKING_TYPES:
        return None  # Anthropic: a turn with thinking must start with it
    call.notes.add(
        f"messages[{i}].content",
        Action.RESTORED,
        "{} thinking block(s) of this turn, observed from {}, put back {} (found by tool_use "
        "id {})",
        len(turn.blocks),
        turn.origin,
        where,
        key,
    )
    return out


def observed_turn(
    call: Call, tool_ids: Sequence[str], exact: bool
) -> tuple[StoredTurn, str] | None:
    """The observed turn a message's tool calls came from (with thinking), trusted at the
    target, and the id that found it: any of the ids, as long as each is one of that turn's
    (``exact``: all of them, in order: signed blocks are bound to the whole turn)."""
    for key in tool_ids[:1] if exact else tool_ids:
        turn = call.turn_for_tool(key)
        if turn is None:
            continue
        if (turn.tool_ids != tuple(tool_ids)) if exact else not set(tool_ids) <= set(turn.tool_ids):
            return None
        if not turn.blocks or not call.options.trusts(turn.origin, call.match):
            return None
        return turn, key
    return None


def _sendable(block: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a stored block as any kept block is sent: no block of the output is the
    store's own object, and ``cache_control`` (which thinking cannot carry) is left out."""
    return {k: v for k, v in block.items() if k != "cache_control"}


def undo_downgrade(call: Call, i: int, changes: dict[int, Any]) -> bool:
    """Turn a text copy of assistant message ``i``'s observed reasoning back into thinking,
    recording the message changes (the turn, and a neighbouring user message holding the
    copy) in ``changes``; whether it did. Only for a tool turn without thinking."""
    ids = call.request.history.tool_ids(i)
    if not ids or not call.options.restore:
        return False
    found = observed_turn(call, ids, exact=call.mode.checks_signatures)
    turn = found[0] if found is not None else None
    texts = {
        b["thinking"].strip()
        for b, _ in (turn.blocks if turn is not None else ())
        if isinstance(b.get("thinking"), str) and b["thinking"].strip()
    }
    return bool(texts) and _undo_turn(call, i, ids, texts, changes)


def _undo_turn(
    call: Call, i: int, ids: Sequence[str], texts: set[str], changes: dict[int, Any]
) -> bool:
    messages = call.request.history.messages
    content = messages[i]["content"]
    copies = [j for j, b in enumerate(content) if _is_copy(b, texts)]
    kept = [b for j, b in enumerate(content) if j not in copies]
    neighbours = {k: _copies_in(messages[k], texts) for k in (i - 1, i + 1) if _user(messages, k)}
    if not copies and not any(neighbours.values()):
        return False
    restored = restore_turn(call, i, kept, ids)
    if restored is None:
        return False
    changes[i] = {**messages[i], "content": restored}
    for j in copies:
        call.notes.add(f"messages[{i}].content[{j}]", Action.DROPPED, _COPY)
    for k, found in neighbours.items():
        if found:
            changes[k] = _without_copies(call, messages, k, found)
    return True


def _user(messages: Sequence[Any], k: int) -> bool:
    return 0 <= k < len(messages) and messages[k].get("role") == "user"


def _is_copy(block: object, texts: set[str]) -> bool:
    if not isinstance(block, Mapping) or block.get("type") != "text":
        return False
    return _unwrapped(block.get("text")) in texts


def _unwrapped(text: object) -> str | None:
    if not isinstance(text, str):
        return None
    found = _WRAPPED.match(text)
    return (found.group(2) if found else text).strip()


def _copies_in(message: Mapping[str, Any], texts: set[str]) -> list[int]:
    """Positions of text copies in a user message (-1: the whole string content)."""
    content = message.get("content")
    if isinstance(content, str):
        found = _WRAPPED.match(content)
        return [-1] if found and found.group(2).strip() in texts else []
    if not isinstance(content, list):
        return []
    return [j for j, b in enumerate(content) if _is_copy(b, texts) and _wrapped(b)]


def _wrapped(block: Mapping[str, Any]) -> bool:
    return bool(_WRAPPED.match(str(block.get("text"))))


def _without_copies(call: Call, messages: Sequence[Any], k: int, found: list[int]) -> Any:
    """A user message without the copies, REMOVE when nothing else is in it (and the messages
    around it still alternate), else the message as it is."""
    message = messages[k]
    content = message["content"]
    rest = [] if found == [-1] else [b for j, b in enumerate(content) if j not in found]
    before = messages[k - 1].get("role") if k > 0 else None
    after = messages[k + 1].get("role") if k + 1 < len(messages) else None
    if not rest and before == after == "assistant":
        return message  # removing it would put two assistant messages side by side
    for j in found:
        where = f"messages[{k}]" if j < 0 else f"messages[{k}].content[{j}]"
        call.notes.add(where, Action.DROPPED, _COPY)
    return {**message, "content": rest} if rest else REMOVE
