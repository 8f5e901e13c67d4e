"""ThinkingRoundTrip on the Chat Completions wire: ``reasoning_content`` per assistant message.

A family that drops it (strict OpenAI-compatible servers answer 422 to unknown fields) gets it
removed; a family that keeps it gets its own reasoning passed back, ``""`` turned into its pad
where it rejects an empty text, another family's reasoning not replayed, and a message that
must carry reasoning and lost it gets its own observed reasoning back (restore, by tool call
id) or the documented pad.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.body import rebuild, without
from agent.explain import Action
from agent.middleware.chat_carriers import DETAILS, carriers
from agent.middleware.context import HOW_TO_SET, Call
from agent.request import Request

_RC = "reasoning_content"
#: Every field a chat message carries reasoning in (providers and relays differ).
REASONING_FIELDS = ("reasoning_content", "reasoning", "reasoning_text", "reasoning_details")


def run(call: Call) -> Request:
    """The request with every assistant message's reasoning fitted to the target's contract."""
    history = call.request.history
    messages = history.messages
    changes: dict[int, Any] = {}
    for i in history.assistants:
        message = messages[i]
        current = i >= history.loop_start
        new = carriers(call, i, _message(call, i, message, in_loop=current), current)
        if new is not message:
            changes[i] = new
    return call.finish(rebuild(messages, changes) if changes else None)


def _message(call: Call, i: int, message: Mapping[str, Any], in_loop: bool) -> Mapping[str, Any]:
    path = f"messages[{i}].{_RC}"
    contract = call.family.chat
    reasoning = message.get(_RC)
    if contract.reasoning_content == "drop":
        return _dropped(call, i, message)
    if contract.reasoning_content == "pass":
        return _pass(call, path, message, reasoning)
    renamed = _renamed(call, i, message)
    if renamed is not message:  # decide on the renamed message; send it even if unchanged
        return _message(call, i, renamed, in_loop)
    if isinstance(reasoning, str) and not reasoning.strip():
        restored = _restored(call, path, message)  # the real reasoning beats a blank one
        if restored is not None:
            return restored
    if reasoning == "":
        if contract.empty_to_pad and contract.pad:
            call.notes.add(
                path,
                Action.PADDED,
                "'' becomes the pad {!r} ({} rejects an empty reasoning_content)",
                contract.pad,
                call.family.name,
            )
            return {**message, _RC: contract.pad}
        call.notes.add(path, Action.KEPT, "'' is accepted by {}", call.family.name)
        return message
    foreign_removed = False
    if reasoning:
        origin = call.foreign_origin(None, reasoning)
        if origin is None or call.options.foreign == "keep_text":
            if origin is not None:
                call.notes.add(
                    path, Action.KEPT, "observed from {}, kept as text (foreign=keep_text)", origin
                )
            else:
                call.notes.add(path, Action.KEPT, "passed back ({})", call.family.why)
            return message
        call.notes.add(
            path,
            Action.DROPPED,
            "reasoning observed from {} is another vendor's; not replayed to {} (foreign={})",
            origin,
            call.family.name,
            call.options.foreign,
        )
        foreign_removed = True
    return _back_fill(call, i, message, in_loop, foreign_removed)


def _dropped(call: Call, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
    """The message without its reasoning fields, for a family that takes none
    (reasoning_details are their own carrier: kept where OpenRouter needs them)."""
    present = [
        f
        for f in REASONING_FIELDS
        if f in message and (f != DETAILS or call.family.chat.details == "drop")
    ]
    if not present:
        return message
    for field in present:
        call.notes.add(
            f"messages[{i}].{field}",
            Action.DROPPED,
            "{}; reasoning fields are not sent ({})",
            call.match.describe(),
            call.family.why,
        )
    return {k: v for k, v in message.items() if k not in present}


#: Aliases aggregators use for reasoning_content (vLLM, OpenRouter, Together, ZenMux).
ALIASES = ("reasoning", "reasoning_text")


def _renamed(call: Call, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
    """An alias carried instead of reasoning_content, renamed to the field the family accepts
    (DeepSeek takes only reasoning_content: can1357/oh-my-pi #972, #810)."""
    if _RC in message:
        return message
    alias = next((a for a in ALIASES if isinstance(message.get(a), str)), None)
    if alias is None:
        return message
    call.notes.add(
        f"messages[{i}].{alias}",
        Action.CONVERTED,
        "renamed to reasoning_content, the field {} accepts",
        call.family.name,
    )
    return {**{k: v for k, v in message.items() if k != alias}, _RC: message[alias]}


def _pass(
    call: Call, path: str, message: Mapping[str, Any], reasoning: object
) -> Mapping[str, Any]:
    """An unknown target: the reasoning goes as the agent sent it, unless it is known to be
    another target's."""
    origin = call.foreign_origin(None, reasoning) if isinstance(reasoning, str) else None
    if origin is None:
        if _RC in message:
            call.notes.add(
                path,
                Action.KEPT,
                "passed through as the agent sent it ({}; {})",
                call.match.describe(),
                HOW_TO_SET,
            )
        return message
    call.notes.add(
        path,
        Action.DROPPED,
        "observed from {}, another target; not sent to an unknown target",
        origin,
    )
    return without(message, _RC)


def _restored(call: Call, path: str, message: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The message with its own observed reasoning, found by tool call id, or None."""
    calls = message.get("tool_calls")
    ids = [c.get("id") for c in calls or () if isinstance(c, Mapping)]
    if not (ids and call.options.restore and isinstance(ids[0], str)):
        return None
    turn = call.turn_for_tool(ids[0])
    if (
        turn is None
        or not turn.reasoning
        or not turn.reasoning.strip()
        or turn.tool_ids != tuple(ids)
        or not call.options.trusts(turn.origin, call.match)
    ):
        return None
    call.notes.add(
        path,
        Action.RESTORED,
        "this turn's own reasoning, observed from {}, found again by tool call id {}",
        turn.origin,
        ids[0],
    )
    return {**message, _RC: turn.reasoning}


def _back_fill(
    call: Call, i: int, message: Mapping[str, Any], in_loop: bool, foreign_removed: bool
) -> Mapping[str, Any]:
    """A message without (own) reasoning: restored by tool call id, padded, or left without."""
    path = f"messages[{i}].{_RC}"
    contract = call.family.chat
    restored = _restored(call, path, message)
    if restored is not None:
        return restored
    calls = message.get("tool_calls")
    needed = (bool(calls) and "tool_calls" in contract.pad_on) or (
        in_loop and "active_loop" in contract.pad_on
    )
    if needed and contract.pad is not None:
        call.notes.add(
            path,
            Action.PADDED,
            "{} needs reasoning_content here and it had {}; inserted the documented pad {!r} ({})",
            call.family.name,
            "only foreign" if foreign_removed else "none",
            contract.pad,
            call.family.why,
        )
        return {**message, _RC: contract.pad}
    if foreign_removed:
        return without(message, _RC)
    return message
