"""Bedrock Converse's content blocks, read the way Bedrock reads them for a Claude model.

Bedrock runs Anthropic's own validation for Claude (its errors name Anthropic's paths:
``ValidationException ... messages.1.content.0.thinking.signature: Field required``), so the
emulator reads a Converse body as the Messages body Bedrock hands Claude and applies its
Anthropic rules to that; its replies are written back as Converse blocks. The reading follows
Bedrock's ContentBlock reference, written here apart from the pipeline's Converse pass (which
it judges): ``text``; ``toolUse`` (``toolUseId``, ``name``, ``input``); ``toolResult``
(``toolUseId``, ``content``); ``reasoningContent`` with ``reasoningText`` (``text`` and its
``signature``, which Bedrock passes on as the thinking block's, absent when absent) or
``redactedContent``; a ``cachePoint`` marks the block before it and is no block of its own;
anything else (an image, a document) is content the rules do not read.

https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html,
https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-extended-thinking.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def claude_block(block: object) -> dict[str, Any] | None:
    """One Converse block as Claude gets it (None: a cache point, no block of its own)."""
    if not isinstance(block, Mapping):
        return {"type": "unknown"}
    if "cachePoint" in block:
        return None
    if isinstance(block.get("text"), str):
        return {"type": "text", "text": block["text"]}
    if isinstance(block.get("toolUse"), Mapping):
        use = block["toolUse"]
        return {
            "type": "tool_use",
            "id": use.get("toolUseId"),
            "name": use.get("name"),
            "input": use.get("input"),
        }
    if isinstance(block.get("toolResult"), Mapping):
        return {"type": "tool_result", "tool_use_id": block["toolResult"].get("toolUseId")}
    reasoning = block.get("reasoningContent")
    if isinstance(reasoning, Mapping):
        if isinstance(reasoning.get("reasoningText"), Mapping):
            text = reasoning["reasoningText"]
            thinking = {"type": "thinking"}
            thinking.update({k: text[v] for k, v in _THINKING.items() if v in text})
            return thinking
        if "redactedContent" in reasoning:
            return {"type": "redacted_thinking", "data": reasoning["redactedContent"]}
    return {"type": next(iter(block), "unknown") if block else "unknown"}


_THINKING = {"thinking": "text", "signature": "signature"}


def claude_body(model: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A Converse body as the Messages body Claude gets: its messages' blocks, and
    ``thinking`` from ``additionalModelRequestFields``."""
    messages = []
    for message in body["messages"]:
        content = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(content, list):
            messages.append(message)
            continue
        read = [claude_block(b) for b in content]
        messages.append({"role": message.get("role"), "content": [b for b in read if b]})
    out: dict[str, Any] = {"model": model, "messages": messages}
    fields = body.get("additionalModelRequestFields")
    if isinstance(fields, Mapping) and "thinking" in fields:
        out["thinking"] = fields["thinking"]
    return out


def converse_block(block: Mapping[str, Any]) -> dict[str, Any]:
    """One block of Claude's reply, as Bedrock answers it."""
    kind = block.get("type")
    if kind == "thinking":
        return {
            "reasoningContent": {
                "reasoningText": {"text": block["thinking"], "signature": block["signature"]}
            }
        }
    if kind == "redacted_thinking":
        return {"reasoningContent": {"redactedContent": block["data"]}}
    if kind == "tool_use":
        return {
            "toolUse": {"toolUseId": block["id"], "name": block["name"], "input": block["input"]}
        }
    return {"text": block["text"]}
