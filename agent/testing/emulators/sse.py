"""SSE encoders: a reply as the Messages API and Chat Completions stream it, event by event."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


def sse(event: str | None, data: Any) -> bytes:
    """One Server-Sent Event."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def _chunks(text: str, size: int = 16) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _block_start(index: int, block: Mapping[str, Any]) -> bytes:
    return sse(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def _delta(index: int, payload: Mapping[str, Any]) -> bytes:
    return sse(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": payload}
    )


def _block_events(index: int, block: Mapping[str, Any]) -> Iterator[bytes]:
    kind = block["type"]
    if kind == "thinking":
        yield _block_start(index, {"type": "thinking", "thinking": "", "signature": ""})
        for piece in _chunks(block["thinking"]):
            yield _delta(index, {"type": "thinking_delta", "thinking": piece})
        if block["signature"]:
            yield _delta(index, {"type": "signature_delta", "signature": block["signature"]})
    elif kind == "text":
        yield _block_start(index, {"type": "text", "text": ""})
        for piece in _chunks(block["text"]):
            yield _delta(index, {"type": "text_delta", "text": piece})
    elif kind == "tool_use":
        yield _block_start(index, {**block, "input": {}})
        for piece in _chunks(json.dumps(block["input"]), 8):
            yield _delta(index, {"type": "input_json_delta", "partial_json": piece})
    else:
        yield _block_start(index, block)
    yield sse("content_block_stop", {"type": "content_block_stop", "index": index})


def anthropic_events(message: Mapping[str, Any]) -> Iterator[bytes]:
    """The message as the Messages API streams it, event by event."""
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**message["usage"], "output_tokens": 1},
    }
    yield sse("message_start", {"type": "message_start", "message": start})
    for index, block in enumerate(message["content"]):
        yield from _block_events(index, block)
    yield sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": message["usage"]["output_tokens"]},
        },
    )
    yield sse("message_stop", {"type": "message_stop"})


def chat_events(response: Mapping[str, Any]) -> Iterator[bytes]:
    """The completion as Chat Completions streams it, chunk by chunk, ending with [DONE]."""
    message = response["choices"][0]["message"]
    base = {
        "id": response["id"],
        "object": "chat.completion.chunk",
        "created": response["created"],
        "model": response["model"],
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse(
            None, {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        )

    yield chunk({"role": "assistant", "content": None})
    for key in ("reasoning_content", "reasoning", "reasoning_text"):  # the host's own field
        for piece in _chunks(message.get(key) or ""):
            if piece:
                yield chunk({key: piece})
    if message.get("reasoning_opaque"):  # Copilot's signature, whole
        yield chunk({"reasoning_opaque": message["reasoning_opaque"]})
    if message.get("reasoning_details"):  # OpenRouter streams its items whole
        yield chunk({"reasoning_details": message["reasoning_details"]})
    for index, call in enumerate(message.get("tool_calls") or ()):
        head = {"index": index, "id": call["id"], "type": "function"}
        if "extra_content" in call:  # Gemini's thought signature rides on the first chunk
            head["extra_content"] = call["extra_content"]
        yield chunk(
            {
                "tool_calls": [
                    {**head, "function": {"name": call["function"]["name"], "arguments": ""}}
                ]
            }
        )
        for piece in _chunks(call["function"]["arguments"], 8):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    if message.get("content"):
        for piece in _chunks(message["content"]):
            yield chunk({"content": piece})
    yield chunk({}, response["choices"][0]["finish_reason"])
    yield b"data: [DONE]\n\n"
