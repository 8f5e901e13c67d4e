"""Server-Sent Events of the Messages API, rebuilt into the ``message`` they carry.

Used by the SDK adapter (to observe a stream as it passes, fed raw bytes) and by the test
loop (fed parsed events).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def loads(raw: bytes) -> Any:
    """JSON from bytes, or None when it is not JSON."""
    try:
        return json.loads(raw)
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
