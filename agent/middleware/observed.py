"""What an observed response holds for the store, per wire: the thinking blocks (Anthropic)
or the reasoning carriers (chat) of one answer, with the ids it is found again by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.body import THINKING_TYPES, plain_json, thought_signature, tool_call_ids, tool_use_ids
from agent.store import Origin, StoredTurn


def observed_anthropic(origin: Origin, body: Mapping[str, Any]) -> StoredTurn | None:
    """The thinking of an Anthropic ``message`` response, with each block's position."""
    content = body.get("content")
    if not isinstance(content, list):
        return None
    blocks = tuple(
        (block, index)
        for index, block in enumerate(content)
        if isinstance(block, Mapping)
        and block.get("type") in THINKING_TYPES
        and plain_json(block)  # what cannot be sent as JSON is not kept to be sent again
    )
    if not blocks:
        return None
    return StoredTurn(origin, blocks, None, tool_use_ids(content), len(content))


def observed_chat(origin: Origin, body: Mapping[str, Any]) -> StoredTurn | None:
    """The ``reasoning_content`` of a chat completion, with its tool call ids."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return None
    message = choices[0].get("message")
    if not isinstance(message, Mapping):
        return None
    reasoning = message.get("reasoning_content")
    if not isinstance(reasoning, str) or not reasoning:
        reasoning = message.get("reasoning")  # the alias vLLM, OpenRouter, Together answer in
    if not isinstance(reasoning, str) or not reasoning:
        reasoning = None
    details = message.get("reasoning_details")  # OpenRouter
    items = (
        tuple(d for d in details if isinstance(d, Mapping) and plain_json(d))
        if isinstance(details, list)
        else ()
    )
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
