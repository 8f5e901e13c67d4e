"""Server-Sent Events rebuilt into the answer they carry, to observe a stream as it passes:
the Messages API's ``message``, a Chat Completion (its ``reasoning_content``,
``reasoning_details`` and tool calls with their thought signatures) and the Responses API's
completed ``response``.

Used by the SDK adapter and the transport (fed raw bytes) and by the test loop (fed parsed
events).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent import inputs


def loads(raw: bytes) -> Any:
    """JSON from bytes, or None when it is not JSON (or nests deeper than the library's bound)."""
    try:
        return inputs.loads(raw)
    except ValueError:
        return None


def event_end(buffer: bytes) -> tuple[int, int] | None:
    """Where the first complete event in ``buffer`` ends: (its end, where the next starts)."""
    found = [(buffer.find(sep), len(sep)) for sep in (b"\n\n", b"\r\n\r\n") if sep in buffer]
    if not found:
        return None
    at, size = min(found)
    return at, at + size


class MessageAccumulator:
    """Rebuilds the Messages API ``message`` from its Server-Sent Events.

    Attributes:
        message: the message so far (None before ``message_start``).
        done: whether ``message_stop`` arrived.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self.message: dict[str, Any] | None = None
        self._partial: dict[int, str] = {}
        self.done = False

    def feed(self, chunk: bytes) -> None:
        """Take the next raw bytes of the stream."""
        self._buffer += chunk
        while True:
            end = event_end(self._buffer)
            if end is None:
                return
            raw, self._buffer = self._buffer[: end[0]], self._buffer[end[1] :]
            data = "\n".join(
                line[5:].lstrip()
                for line in raw.decode("utf-8", "replace").splitlines()
                if line.startswith("data:")
            )
            event = loads(data.encode()) if data else None
            if isinstance(event, dict):
                self.add(event)

    def add(self, event: Mapping[str, Any]) -> None:
        """Take one parsed event (a dict, as the SSE data line carries it)."""
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), dict):
            self.message = {**event["message"], "content": list(event["message"]["content"])}
        elif self.message is None:
            return
        elif kind == "content_block_start":
            self.message["content"].append(dict(event["content_block"]))
        elif kind == "content_block_delta":
            self._delta(event["index"], event["delta"])
        elif kind == "content_block_stop":
            index = event["index"]
            if index in self._partial:
                block = self.message["content"][index]
                block["input"] = loads(self._partial.pop(index).encode()) or {}
        elif kind == "message_delta":
            self.message.update(event.get("delta") or {})
        elif kind == "message_stop":
            self.done = True

    def _delta(self, index: int, delta: Mapping[str, Any]) -> None:
        assert self.message is not None
        block = self.message["content"][index]
        kind = delta.get("type")
        if kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
        elif kind == "signature_delta":
            block["signature"] = block.get("signature", "") + delta.get("signature", "")
        elif kind == "text_delta":
            block["text"] = block.get("text", "") + delta.get("text", "")
        elif kind == "input_json_delta":
            self._partial[index] = self._partial.get(index, "") + delta.get("partial_json", "")


def _events(buffer: bytes) -> tuple[list[str], bytes]:
    """The data of each complete event in ``buffer``, and what is left of it."""
    out: list[str] = []
    while True:
        end = event_end(buffer)
        if end is None:
            return out, buffer
        raw, buffer = buffer[: end[0]], buffer[end[1] :]
        data = "\n".join(
            line[5:].lstrip()
            for line in raw.decode("utf-8", "replace").splitlines()
            if line.startswith("data:")
        )
        if data:
            out.append(data)


#: The string fields of a chat message a stream sends piece by piece (the hosts' reasoning
#: fields, Copilot's opaque signature included).
_TEXT_KEYS = ("content", "reasoning_content", "reasoning", "reasoning_text", "reasoning_opaque")


class ChatAccumulator:
    """Rebuilds a Chat Completion from its streamed chunks (up to ``data: [DONE]``).

    Attributes:
        completion: ``{"choices": [{"message": ...}], "model": ...}`` once anything arrived.
        done: whether ``[DONE]`` (or a finish reason) arrived.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._message: dict[str, Any] = {"role": "assistant", "content": None}
        self._calls: dict[int, dict[str, Any]] = {}
        self._model: Any = None
        self._provider: Any = None  # a router's upstream provider (OpenRouter)
        self.done = False

    def feed(self, chunk: bytes) -> None:
        """Take the next raw bytes of the stream."""
        events, self._buffer = _events(self._buffer + chunk)
        for data in events:
            if data.strip() == "[DONE]":
                self.done = True
                continue
            event = loads(data.encode())
            if isinstance(event, dict):
                self.add(event)

    def add(self, event: Mapping[str, Any]) -> None:
        """Take one parsed chunk."""
        self._model = event.get("model", self._model)
        self._provider = event.get("provider", self._provider)
        choices = event.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            return
        delta = choices[0].get("delta")
        if choices[0].get("finish_reason"):
            self.done = True
        if not isinstance(delta, Mapping):
            return
        message = self._message
        for key in (
            "content",
            "reasoning_content",
            "reasoning",
            "reasoning_text",
            "reasoning_opaque",
        ):
            piece = delta.get(key)
            if isinstance(piece, str):
                message[key] = (message.get(key) or "") + piece
        details = delta.get("reasoning_details")
        if isinstance(details, list):
            message.setdefault("reasoning_details", []).extend(details)
        for call in delta.get("tool_calls") or ():
            if isinstance(call, Mapping):
                self._call(call)

    def _call(self, delta: Mapping[str, Any]) -> None:
        index = delta.get("index", len(self._calls))
        call = self._calls.setdefault(
            index if isinstance(index, int) else len(self._calls),
            {"type": "function", "function": {"name": "", "arguments": ""}},
        )
        for key in ("id", "type", "extra_content"):
            if key in delta:
                call[key] = delta[key]
        function = delta.get("function")
        if isinstance(function, Mapping):
            for key in ("name", "arguments"):
                if isinstance(function.get(key), str):
                    call["function"][key] += function[key]

    @property
    def completion(self) -> dict[str, Any]:
        """The completion so far, shaped like a non-streamed one."""
        message = dict(self._message)
        if self._calls:
            message["tool_calls"] = [self._calls[i] for i in sorted(self._calls)]
        completion = {
            "object": "chat.completion",
            "model": self._model,
            "choices": [{"message": message}],
        }
        if self._provider is not None:
            completion["provider"] = self._provider
        return completion


class ResponsesAccumulator:
    """The Responses API's completed ``response``, from its ``response.completed`` event."""

    def __init__(self) -> None:
        self._buffer = b""
        self.response: dict[str, Any] | None = None
        self.done = False

    def feed(self, chunk: bytes) -> None:
        """Take the next raw bytes of the stream."""
        events, self._buffer = _events(self._buffer + chunk)
        for data in events:
            event = loads(data.encode())
            if isinstance(event, dict) and event.get("type") == "response.completed":
                response = event.get("response")
                if isinstance(response, dict):
                    self.response, self.done = response, True


class GeminiAccumulator:
    """Gemini's ``streamGenerateContent?alt=sse``: the parts of every chunk, as one answer."""

    def __init__(self) -> None:
        self._buffer = b""
        self._parts: list[Any] = []
        self.done = False

    def feed(self, chunk: bytes) -> None:
        """Take the next raw bytes of the stream."""
        events, self._buffer = _events(self._buffer + chunk)
        for data in events:
            event = loads(data.encode())
            candidates = event.get("candidates") if isinstance(event, dict) else None
            if not isinstance(candidates, list) or not candidates:
                continue
            first = candidates[0] if isinstance(candidates[0], dict) else {}
            content = first.get("content")
            parts = content.get("parts") if isinstance(content, dict) else None
            if isinstance(parts, list):
                self._parts.extend(parts)
            if first.get("finishReason"):
                self.done = True

    @property
    def response(self) -> dict[str, Any]:
        """The answer so far, shaped like a non-streamed one."""
        return {"candidates": [{"content": {"role": "model", "parts": list(self._parts)}}]}
