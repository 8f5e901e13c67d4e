"""Small builders for request bodies in the notation of shared/cases.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent import Request

Block = dict[str, Any]
Message = dict[str, Any]

RELAY = "https://open.markhub.top"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SECRET = "sk-live-THIS-MUST-NEVER-SHOW-4242"
#: The example configs' key variables, set to recognisable secrets.
ENV = {
    "MIMO_RELAY_API_KEY": SECRET,
    "DEEPSEEK_API_KEY": SECRET + "-ds",
    "ANTHROPIC_API_KEY": SECRET + "-an",
    "KIMI_API_KEY": SECRET + "-ki",
}


def U(text: str = "go") -> Message:
    """A user text message."""
    return {"role": "user", "content": text}


def A(*blocks: Block) -> Message:
    """An assistant message with content blocks."""
    return {"role": "assistant", "content": list(blocks)}


def T(*ids: str) -> Message:
    """A user message holding tool_results for ``ids``."""
    return {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": i, "content": f"result of {i}"} for i in ids
        ],
    }


def th_s(text: str, sig: str) -> Block:
    """Signed thinking."""
    return {"type": "thinking", "thinking": text, "signature": sig}


def th_u(text: str, sig: str | None = None) -> Block:
    """Unsigned thinking: no signature, or ``signature: ""`` with sig=""."""
    block: Block = {"type": "thinking", "thinking": text}
    if sig is not None:
        block["signature"] = sig
    return block


def rth(data: str | None = "opaque-redacted") -> Block:
    """Redacted thinking (without data when data is None)."""
    return {"type": "redacted_thinking", "data": data} if data else {"type": "redacted_thinking"}


def tu(id_: str, name: str = "run") -> Block:
    """A tool_use block."""
    return {"type": "tool_use", "id": id_, "name": name, "input": {"cmd": f"step {id_}"}}


def text(t: str) -> Block:
    """A text block."""
    return {"type": "text", "text": t}


def anthropic_body(model: str, *messages: Message, **extra: Any) -> dict[str, Any]:
    """An Anthropic Messages body with tools and thinking on."""
    return {
        "model": model,
        "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "tools": [{"name": "run", "description": "run a step", "input_schema": {"type": "object"}}],
        "messages": list(messages),
        **extra,
    }


def call(id_: str) -> dict[str, Any]:
    """A chat tool call."""
    return {"id": id_, "type": "function", "function": {"name": "run", "arguments": "{}"}}


def CA(rc: str | None = None, *ids: str, content: str | None = None) -> Message:
    """A chat assistant message; ``rc`` None leaves reasoning_content out."""
    message: Message = {"role": "assistant", "content": content}
    if rc is not None:
        message["reasoning_content"] = rc
    if ids:
        message["tool_calls"] = [call(i) for i in ids]
    return message


def CT(id_: str) -> Message:
    """A chat tool message."""
    return {"role": "tool", "tool_call_id": id_, "content": f"result of {id_}"}


def CU(t: str = "go") -> Message:
    """A chat user message."""
    return {"role": "user", "content": t}


def chat_body(model: str, *messages: Message) -> dict[str, Any]:
    """A Chat Completions body with a tool."""
    return {
        "model": model,
        "messages": list(messages),
        "tools": [{"type": "function", "function": {"name": "run", "parameters": {}}}],
    }


def claude(*messages: Message, **extra: Any) -> Any:
    """A Request to claude-opus-4-6 at the official endpoint (Anthropic wire)."""

    return Request(
        api="anthropic_messages", body=anthropic_body("claude-opus-4-6", *messages, **extra)
    )
