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
from agent.integrations._tee import LimitExceeded


def loads(raw: bytes) -> Any:
    """JSON from bytes, or None when it is not JSON (or nests deeper than the library's bound)."""
    try:
        return inputs.loads(raw)
    except ValueError:
        return None


#: The largest event (or line without an end) held while waiting for its end; past it,
#: ``LimitExceeded`` (the stream is no longer observed).
MAX_EVENT = 8_000_000


def data_of(raw: bytes | bytearray) -> str:
    """The ``data:`` lines of one event, joined."""
    return "\n".join(
        line[5:].lstrip()
        for line in raw.decode("utf-8", "replace").splitlines()
        if line.startswith("data:")
    )


class Events:
    """Splits a byte stream into Server-Sent Events in time linear in its size, the
    splitting done by ``bytes.split`` (a flood of empty events costs little Python):
    ``\r\n`` line ends are made ``\n`` (a pair cut between two chunks included), each byte
    is searched once for the blank line that ends an event, and consumed bytes are dropped
    once per chunk.

    Attributes:
        max_event: the largest incomplete event held (``LimitExceeded`` past it).
    """

    def __init__(self, max_event: int = MAX_EVENT) -> None:
        self.max_event = max_event
        self._buffer = bytearray()
        self._scanned = 0  # no blank line ends before here
        self._carry = b""  # a \r that may begin a \r\n

    def feed(self, chunk: bytes) -> list[str]:
        """The data of each event ``chunk`` completes (events without data left out)."""
        data = self._carry + chunk
        self._carry = b""
        if data.endswith(b"\r"):
            data, self._carry = data[:-1], b"\r"
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        buffer = self._buffer
        buffer += data
        end = buffer.rfind(b"\n\n", max(0, self._scanned - 1))
        if end < 0:
            self._scanned = len(buffer)
            if len(buffer) > self.max_event:
                self.release()
                raise LimitExceeded("max_event_bytes", self.max_event)
            return []
        complete = bytes(buffer[:end])
        del buffer[: end + 2]
        self._scanned = 0
        if len(buffer) > self.max_event:
            self.release()
            raise LimitExceeded("max_event_bytes", self.max_event)
        out = [data_of(raw) for raw in complete.split(b"\n\n") if b"data:" in raw]
        return [d for d in out if d]

    def release(self) -> None:
        """Drop what is held (observing stopped)."""
        self._buffer = bytearray()
        self._scanned = 0
        self._carry = b""


#: Delta types whose text grows a block's field.
_GROWING = {"thinking_delta": "thinking", "signature_delta": "signature", "text_delta": "text"}


class MessageAccumulator:
    """Rebuilds the Messages API ``message`` from its Server-Sent Events.

    Attributes:
        message: the message so far (None before ``message_start``).
        done: whether ``message_stop`` arrived.
    """

    def __init__(self, max_event: int = MAX_EVENT) -> None:
        self._events = Events(max_event)
        self._message: dict[str, Any] | None = None
        self._growing: dict[tuple[int, str], list[str]] = {}
        self._partial: dict[int, list[str]] = {}
        self.done = False

    @property
    def message(self) -> dict[str, Any] | None:
        """The message so far, its growing texts joined."""
        if self._message is not None and self._growing:
            content = self._message["content"]
            for (index, key), pieces in self._growing.items():
                content[index][key] = content[index].get(key, "") + "".join(pieces)
            self._growing = {}
        return self._message

    def feed(self, chunk: bytes) -> None:
        """Take the next raw bytes of the stream."""
        for data in self._events.feed(chunk):
            event = loads(data.encode())
            if isinstance(event, dict):
                self.add(event)

    def release(self) -> None:
        """Drop what is held to rebuild the message (observing stopped)."""
        self._events.release()
        self._message, self._growing, self._partial = None, {}, {}

    def add(self, event: Mapping[str, Any]) -> None:
        """Take one parsed event (a dict, as the SSE data line carries it)."""
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), dict):
            self._message = {**event["message"], "content": list(event["message"]["content"])}
            self._growing = {}
        elif self._message is None:
            return
        elif kind == "content_block_start":
            self._message["content"].append(dict(event["content_block"]))
        elif kind == "content_block_delta":
            self._delta(event["index"], event["delta"])
        elif kind == "content_block_stop":
            index = event["index"]
            if index in self._partial:
                block = self._message["content"][index]
                block["input"] = loads("".join(self._partial.pop(index)).encode()) or {}
        elif kind == "message_delta":
            self._message.update(event.get("delta") or {})
        elif kind == "message_stop":
            self.done = True

    def _delta(self, index: int, delta: Mapping[str, Any]) -> None:
        assert self._message is not None
        if not isinstance(self._message["content"][index], dict):  # (out of range: raises)
            return
        kind = delta.get("type")
        key = _GROWING.get(kind) if isinstance(kind, str) else None
        if key is not None:
            piece = delta.get(key, "")
            if isinstance(piece, str):
                self._growing.setdefault((index, key), []).append(piece)
        elif kind == "input_json_delta":
            self._partial.setdefault(index, []).append(delta.get("partial_json", ""))


#: The string fields of a chat message a stream sends piece by piece (the hosts' reasoning
#: fields, Copilot's opaque signature included).
_TEXT_KEYS = ("content", "reasoning_content", "reasoning", "reasoning_text", "reasoning_opaque")


class ChatAccumulator:
    """Rebuilds a Chat Completion from its streamed chunks (up to ``data: [DONE]``).

    Attributes:
        completion: ``{"choices": [{"message": ...}], "model": ...}`` once anything arrived.
        done: whether ``[DONE]`` (or a finish reason) arrived.
    """

    def __init__(self, max_event: int = MAX_EVENT) -> None:
        self._events = Events(max_event)
        self._message: dict[str, Any] = {"role": "assistant", "content": None}
        self._texts: dict[str, list[str]] = {}
        self._calls: dict[int, dict[str, Any]] = {}
        self._arguments: dict[int, dict[str, list[str]]] = {}
        self._model: Any = None
        self._provider: Any = None  # a router's upstream provider (OpenRouter)
        self.done = False

    def feed(self, chunk: bytes) -> None:
        """Take the next raw bytes of the stream."""
        for data in self._events.feed(chunk):
            if data.strip() == "[DONE]":
                self.done = True
                continue
            event = loads(data.encode())
            if isinstance(event, dict):
                self.add(event)

    def release(self) -> None:
        """Drop what is held (observing stopped)."""
        self._events.release()
        self._texts, self._calls, self._arguments = {}, {}, {}

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
        for key in _TEXT_KEYS:
            piece = delta.get(key)
            if isinstance(piece, str):
                self._texts.setdefault(key, []).append(piece)
        details = delta.get("reasoning_details")
        if isinstance(details, list):
            self._message.setdefault("reasoning_details", []).extend(details)
        for call in delta.get("tool_calls") or ():
            if isinstance(call, Mapping):
                self._call(call)

    def _call(self, delta: Mapping[str, Any]) -> None:
        index = delta.get("index", len(self._calls))
        index = index if isinstance(index, int) else len(self._calls)
        call = self._calls.setdefault(
            index, {"type": "function", "function": {"name": "", "arguments": ""}}
        )
        for key in ("id", "type", "extra_content"):
            if key in delta:
                call[key] = delta[key]
        function = delta.get("function")
        if isinstance(function, Mapping):
            for key in ("name", "arguments"):
                if isinstance(function.get(key), str):
                    self._arguments.setdefault(index, {}).setdefault(key, []).append(function[key])

    @property
    def completion(self) -> dict[str, Any]:
        """The completion so far, shaped like a non-streamed one."""
        message = self._message
        for key, pieces in self._texts.items():
            message[key] = (message.get(key) or "") + "".join(pieces)
        self._texts = {}
        for index, grown in self._arguments.items():
            for key, pieces in grown.items():
                self._calls[index]["function"][key] += "".join(pieces)
        self._arguments = {}
        message = dict(message)
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

    def __init__(self, max_event: int = MAX_EVENT) -> None:
        self._events = Events(max_event)
        self.response: dict[str, Any] | None = None
        self.done = False

    def feed(self, chunk: bytes) -> None:
        """Take the next raw bytes of the stream."""
        for data in self._events.feed(chunk):
            event = loads(data.encode())
            if isinstance(event, dict) and event.get("type") == "response.completed":
                response = event.get("response")
                if isinstance(response, dict):
                    self.response, self.done = response, True

    def release(self) -> None:
        """Drop what is held (observing stopped)."""
        self._events.release()


class GeminiAccumulator:
    """Gemini's ``streamGenerateContent?alt=sse``: the parts of every chunk, as one answer."""

    def __init__(self, max_event: int = MAX_EVENT) -> None:
        self._events = Events(max_event)
        self._parts: list[Any] = []
        self.done = False

    def feed(self, chunk: bytes) -> None:
        """Take the next raw bytes of the stream."""
        for data in self._events.feed(chunk):
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

    def release(self) -> None:
        """Drop what is held (observing stopped)."""
        self._events.release()
        self._parts = []

    @property
    def response(self) -> dict[str, Any]:
        """The answer so far, shaped like a non-streamed one."""
        return {"candidates": [{"content": {"role": "model", "parts": list(self._parts)}}]}
