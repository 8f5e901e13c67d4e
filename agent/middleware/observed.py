"""What an observed response holds for the store, per wire: the thinking blocks (Anthropic)
or the reasoning carriers (chat) of one answer, with the ids it is found again by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.body import THINKING_TYPES, plain_json, thought_signature, tool_call_ids
from agent.families.dialects import OPAQUE, STRING_FIELDS
from agent.middleware.chat_carriers import PAIR, TEXT
from agent.middleware.chat_fields import chunk_text
from agent.store import Origin, StoredTurn


def observed_anthropic(origin: Origin, body: Mapping[str, Any]) -> StoredTurn | None:
    """The thinking of an Anthropic ``message`` response, with each block's position."""
    content = body.get("content")
    if not isinstance(content, list):
        return None
    blocks: list[tuple[Mapping[str, Any], int]] = []
    ids: list[str] = []
    for index, block in enumerate(content):  # one pass: it runs after every call
        if type(block) is not dict and not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind in THINKING_TYPES:
            if plain_json(block):  # what cannot be sent as JSON is not kept to be sent again
                blocks.append((block, index))
        elif kind == "tool_use" and isinstance(tool_id := block.get("id"), str):
            ids.append(tool_id)
    if not blocks:
        return None
    return StoredTurn(origin, tuple(blocks), None, tuple(ids), len(content))


def observed_chat(origin: Origin, body: Mapping[str, Any]) -> StoredTurn | None:
    """The reasoning of a chat completion (``reasoning_content`` or the alias its host
    answers in: ``reasoning`` on vLLM, Cerebras, OpenRouter; Mistral's thinking chunks), its
    opaque carriers (OpenRouter's reasoning_details, Copilot's reasoning_text +
    reasoning_opaque pair), with its tool call ids."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return None
    message = choices[0].get("message")
    if not isinstance(message, Mapping):
        return None
    found = (message.get(f) for f in STRING_FIELDS)
    reasoning = next((r for r in found if isinstance(r, str) and r), None) or chunk_text(message)
    details = message.get("reasoning_details")  # OpenRouter
    items = (
        tuple(d for d in details if isinstance(d, Mapping) and plain_json(d))
        if isinstance(details, list)
        else ()
    )
    text, opaque = message.get(TEXT), message.get(OPAQUE)
    if isinstance(text, str) and isinstance(opaque, str) and opaque:  # Copilot: one unit
        items = (*items, {"type": PAIR, "text": text, "signature": opaque})
    calls = message.get("tool_calls")
    ids = tool_call_ids(calls)
    signatures = (
        tuple(thought_signature(c) for c in calls if _has_id(c)) if isinstance(calls, list) else ()
    )
    if reasoning is None and not items and not any(signatures):
        return None
    return StoredTurn(
        origin, (), reasoning, ids, details=items, signatures=signatures if any(signatures) else ()
    )


def _has_id(call: object) -> bool:
    return isinstance(call, Mapping) and isinstance(call.get("id"), str)
