"""ThinkingRoundTrip on the Chat Completions wire: each assistant message's reasoning.

The family decides *what*: a family that drops reasoning (strict servers, Claude's own
OpenAI-compatible layer) gets none; an unknown one gets what the agent sent, minus reasoning
known to be another target's; a family that keeps it gets its own reasoning passed back,
``""`` turned into its pad where it rejects an empty text, another family's reasoning not
replayed, and a message that must carry reasoning and lost it gets its own observed reasoning
back (restore, by tool call id) or the documented pad. The host's dialect decides *how*
(``chat_fields``): the field it reads, the fields it rejects, Mistral's thinking chunks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.body import rebuild
from agent.explain import Action
from agent.middleware.chat_carriers import carriers, turn_for
from agent.middleware.chat_fields import (
    DETAILS,
    REASONING_FIELDS,
    as_chunk,
    chunk_text,
    field_of,
    fitted,
    own_fields,
    rejected,
    write_field,
)
from agent.middleware.context import HOW_TO_SET, Call
from agent.request import Request

__all__ = ["REASONING_FIELDS", "run"]


def run(call: Call) -> Request:
    """The request with every assistant message's reasoning fitted to the target's contract."""
    history = call.request.history
    messages = history.messages
    changes: dict[int, Any] = {}
    writes = write_field(call, messages, history.assistants)
    for i in history.assistants:
        message = messages[i]
        current = i >= history.loop_start
        new = carriers(call, i, _message(call, i, message, current, writes), current)
        new = rejected(call, i, new)
        if new is not message:
            changes[i] = new
    return call.finish(rebuild(messages, changes) if changes else None)


def _message(
    call: Call, i: int, message: Mapping[str, Any], in_loop: bool, writes: str
) -> Mapping[str, Any]:
    mode = call.family.chat.reasoning_content
    if mode == "drop":
        return _dropped(call, i, message)
    message = fitted(call, i, message, keeps=mode == "keep")
    if mode == "pass":
        return _pass(call, i, message)
    if call.dialect.carrier == "chunks":
        if chunk_text(message) is not None:  # its reasoning is where the host reads it
            return as_chunk(call, i, message)
        return as_chunk(call, i, _keep(call, i, message, in_loop, writes))
    return _keep(call, i, message, in_loop, writes)


def _keep(
    call: Call, i: int, message: Mapping[str, Any], in_loop: bool, writes: str
) -> Mapping[str, Any]:
    """A family that wants its own reasoning back in the message's field (or ``writes``)."""
    contract = call.family.chat
    field = field_of(call, message)
    path = f"messages[{i}].{field or writes}"
    reasoning = message.get(field) if field is not None else None
    if isinstance(reasoning, str) and not reasoning.strip():
        restored = _restored(call, i, path, message, field or writes)
        if restored is not None:  # the real reasoning beats a blank one
            return restored
    if reasoning == "" and field is not None:
        if contract.empty_to_pad and contract.pad:
            call.notes.add(
                path,
                Action.PADDED,
                "'' becomes the pad {!r} ({} rejects an empty {})",
                contract.pad,
                call.family.name,
                field,
            )
            return {**message, field: contract.pad}
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
    return _back_fill(call, i, message, in_loop, foreign_removed, field or writes)


def _dropped(call: Call, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
    """The message without its reasoning fields, for a family that takes none
    (reasoning_details are their own carrier: kept where OpenRouter needs them; Copilot's
    reasoning_text + reasoning_opaque are a signed pair, kept where Copilot carries them)."""
    pair = call.dialect.carrier == "pair"
    present = [
        f
        for f in REASONING_FIELDS
        if f in message
        and (f != DETAILS or call.family.chat.details == "drop")
        and not (pair and f not in own_fields(call) and f != DETAILS)
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


def _pass(call: Call, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
    """An unknown target: the reasoning goes as the agent sent it, unless it is known to be
    another target's."""
    field = field_of(call, message)
    if field is None:
        return message
    path = f"messages[{i}].{field}"
    origin = call.foreign_origin(None, message[field])
    if origin is None:
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
    return {k: v for k, v in message.items() if k != field}


def _restored(
    call: Call, i: int, path: str, message: Mapping[str, Any], field: str
) -> Mapping[str, Any] | None:
    """The message with its own observed reasoning in ``field``, found by tool call id."""
    if not call.options.restore:
        return None
    found = turn_for(call, i)
    if found is None:
        return None
    turn, key = found
    if not turn.reasoning or not turn.reasoning.strip():
        return None
    call.notes.add(
        path,
        Action.RESTORED,
        "this turn's own reasoning, observed from {}, found again by tool call id {}",
        turn.origin,
        key,
    )
    return {**message, field: turn.reasoning}


def _back_fill(
    call: Call,
    i: int,
    message: Mapping[str, Any],
    in_loop: bool,
    foreign_removed: bool,
    field: str,
) -> Mapping[str, Any]:
    """A message without (own) reasoning: restored by tool call id, padded, or left without."""
    path = f"messages[{i}].{field}"
    contract = call.family.chat
    restored = _restored(call, i, path, message, field)
    if restored is not None:
        return restored
    calls = message.get("tool_calls")
    needed = (
        (bool(calls) and "tool_calls" in contract.pad_on)
        or (in_loop and "active_loop" in contract.pad_on)
        or call.every_message
    )
    if needed and contract.pad is not None:
        call.notes.add(
            path,
            Action.PADDED,
            "{} needs {} here and it had {}; inserted the documented pad {!r} ({})",
            call.family.name,
            field,
            "only foreign" if foreign_removed else "none",
            contract.pad,
            call.family.why,
        )
        return {**message, field: contract.pad}
    if foreign_removed:
        return {k: v for k, v in message.items() if k != field}
    return message
