"""The chat wire's string reasoning fields, as the host dialect wants them.

The family says whether a model needs its reasoning back; the host's dialect says in which
field it reads it. Here: which string field a message carries its reasoning in, which field a
restore or a pad writes, renaming an alias only where the host is known to read another field
(never on a host nothing is known of: there the agent's own choice stands), leaving out the
fields the host rejects (and, on a strict schema, every reasoning field that is not its
carrier), and Mistral's carrier: reasoning as a ``thinking`` chunk at the start of ``content``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.explain import Action
from agent.families.dialects import OPAQUE, STRING_FIELDS
from agent.middleware.context import Call

DETAILS = "reasoning_details"
#: Every message field that carries reasoning on some host.
REASONING_FIELDS = (*STRING_FIELDS, DETAILS, OPAQUE)


def own_fields(call: Call) -> tuple[str, ...]:
    """The string fields that carry plain reasoning on this host (Copilot's reasoning_text is
    half of its signed pair, handled with the pair)."""
    if call.dialect.carrier == "pair":
        return ("reasoning_content", "reasoning")
    return STRING_FIELDS


def field_of(call: Call, message: Mapping[str, Any]) -> str | None:
    """The string field ``message`` carries its reasoning in (the host's own first), or None."""
    fields = own_fields(call)
    fixed = host_field(call)
    if fixed in fields and isinstance(message.get(fixed), str):
        return fixed
    return next((f for f in fields if isinstance(message.get(f), str)), None)


def host_field(call: Call) -> str | None:
    """The field the host reads, when it is fixed (``reasoning_field``, else the dialect's):
    ``none`` for no string field at all; None when the host has no fixed field."""
    chosen = call.options.reasoning_field
    if chosen != "auto":
        return chosen
    return call.dialect.field


def write_field(call: Call, messages: list[Any], assistants: list[int]) -> str:
    """The field a restore or a pad writes: the host's fixed field, else the one the agent
    uses elsewhere in this request, else the family's own (``reasoning_content``)."""
    fixed = host_field(call)
    if fixed is not None and fixed != "none":
        return fixed
    fields = own_fields(call)
    for i in assistants:
        used = next((f for f in fields if isinstance(messages[i].get(f), str)), None)
        if used is not None:
            return used
    return "reasoning_content"


def fitted(call: Call, i: int, message: Mapping[str, Any], keeps: bool) -> Mapping[str, Any]:
    """``message`` with its string reasoning in the field the host reads: an alias renamed
    where the host is known to read another field, and on a strict schema every reasoning
    field but its carrier left out. ``keeps``: the family wants reasoning back (Mistral's
    chunks then take it, so it is not left out here). The fields the host rejects go last
    (``rejected``), after anything a restore put back."""
    fixed = host_field(call)
    if fixed == "none":
        return _without(call, i, message, own_fields(call), "reasoning_field is none")
    if fixed is not None:
        message = _renamed(call, i, message, fixed)
    dialect = call.dialect
    if not dialect.strict:
        return message
    keep = {fixed, DETAILS} if dialect.carrier == "details" else {fixed}
    if dialect.carrier == "chunks" and keeps:
        keep |= set(STRING_FIELDS)  # turned into a thinking chunk by the caller
    drop = tuple(f for f in REASONING_FIELDS if f in message and f not in keep)
    return _without(call, i, message, drop, _host_says(call)) if drop else message


def rejected(call: Call, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
    """``message`` without the fields its host rejects (its dialect's, and what the host's
    own errors taught), whatever the family wanted."""
    drop = tuple(f for f in call.dialect.rejects if f in message)
    return _without(call, i, message, drop, _host_says(call)) if drop else message


def _host_says(call: Call) -> str:
    return f"host dialect {call.dialect.name} ({call.dialect.why})"


def _renamed(call: Call, i: int, message: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    """An alias carried instead of the host's field, renamed to it (once; other aliases a
    message also carries stay for the reject and strict rules)."""
    if field in message:
        return message
    alias = next(
        (a for a in own_fields(call) if a != field and isinstance(message.get(a), str)), None
    )
    if alias is None:
        return message
    call.notes.add(
        f"messages[{i}].{alias}",
        Action.CONVERTED,
        "renamed to {}, the field {} reads ({})",
        field,
        _reader(call),
        call.dialect.why if call.options.reasoning_field == "auto" else "reasoning_field",
    )
    return {**{k: v for k, v in message.items() if k != alias}, field: message[alias]}


def _reader(call: Call) -> str:
    if call.options.reasoning_field != "auto":
        return "this provider (reasoning_field)"
    return f"host dialect {call.dialect.name}"


def _without(
    call: Call, i: int, message: Mapping[str, Any], fields: tuple[str, ...], why: str
) -> Mapping[str, Any]:
    present = [f for f in fields if f in message]
    if not present:
        return message
    for name in present:
        call.notes.add(f"messages[{i}].{name}", Action.DROPPED, "not sent: {}", why)
    return {k: v for k, v in message.items() if k not in present}


# ---------------------------------------------------------------- Mistral: thinking chunks


def chunk_text(message: Mapping[str, Any]) -> str | None:
    """The reasoning of a message's ``thinking`` chunks (Mistral), or None when it has none."""
    content = message.get("content")
    if not isinstance(content, list):
        return None
    texts: list[str] = []
    for chunk in content:
        if not (isinstance(chunk, Mapping) and chunk.get("type") == "thinking"):
            continue
        parts = chunk.get("thinking")
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return "".join(texts) if texts else None


def as_chunk(call: Call, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
    """A message whose reasoning is held in a string field, with it moved into a ``thinking``
    chunk at the start of ``content`` (Mistral's carrier; its schema rejects the field)."""
    field = next((f for f in STRING_FIELDS if f in message), None)
    if field is None:
        return message
    text = message[field]
    rest = {k: v for k, v in message.items() if k not in STRING_FIELDS}
    if not isinstance(text, str) or not text.strip() or chunk_text(message) is not None:
        return rest
    content = message.get("content")
    parts: list[Any] = list(content) if isinstance(content, list) else []
    if isinstance(content, str) and content:
        parts = [{"type": "text", "text": content}]
    chunk = {"type": "thinking", "thinking": [{"type": "text", "text": text}], "closed": True}
    call.notes.add(
        f"messages[{i}].{field}",
        Action.CONVERTED,
        "sent as a thinking chunk at the start of content, the carrier host dialect {} reads ({})",
        call.dialect.name,
        call.dialect.why,
    )
    return {**rest, "content": [chunk, *parts]}
