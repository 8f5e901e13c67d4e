"""The emulators' scripted conversation: a tool loop of ``rounds`` rounds, then an answer.

Each reply counts the rounds of the active tool loop in the request and answers with the
next tool call (thinking first, signed the way the family signs) or, after the last round,
a final text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from agent.testing.emulators.rules import Signer, is_real_user, prefix_bound


@frozen
class Script:
    """What the emulated model does.

    Attributes:
        family: the family (decides how thinking is signed).
        rounds: tool rounds before the final answer.
        tools_per_round: tool calls per round.
        interleaved: thinking before every tool call of a round (Claude's interleaved thinking).
        redacted: Claude: open each tool round with a redacted_thinking block.
    """

    family: str
    rounds: int = 4
    tools_per_round: int = 1
    interleaved: bool = False
    redacted: bool = False

    def thinking(
        self, text: str, message_id: str, signer: Signer, prefix: list[Any] | None = None
    ) -> dict[str, Any]:
        """A thinking block signed the way the family signs (bound to ``prefix`` if given)."""
        if prefix is not None:
            signature = signer.sign_bound(text, prefix)
        elif self.family in ("anthropic", "minimax"):
            signature = signer.sign(text)
        elif self.family == "deepseek":
            signature = message_id  # DeepSeek's signature is the message id
        else:
            signature = ""  # MiMo and Kimi send unsigned thinking with signature ""
        return {"type": "thinking", "thinking": text, "signature": signature}

    def anthropic(
        self, body: Mapping[str, Any], n: int, signer: Signer, sent: dict[str, Any]
    ) -> dict[str, Any]:
        """The ``n``-th reply on the Anthropic wire; a tool round is remembered in ``sent``."""
        message_id = (
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.family}/{n}"))
            if self.family == "deepseek"
            else f"msg_{self.family}_{n:04d}"
        )
        k = anthropic_round(body)
        if k < self.rounds:
            content = self._tool_round(body, n, k, message_id, signer)
            sent[next(b["id"] for b in content if b["type"] == "tool_use")] = content
            stop = "tool_use"
        else:
            text = f"[{self.family}] all {k} rounds done: summarise"
            content = [
                self.thinking(text, message_id, signer, _bound_prefix(self.family, body)),
                {"type": "text", "text": f"Done after {k} tool calls."},
            ]
            stop = "end_turn"
        return {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "emulated"),
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10 * len(body["messages"]), "output_tokens": 20},
        }

    def _tool_round(
        self, body: Mapping[str, Any], n: int, k: int, message_id: str, signer: Signer
    ) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = []
        for t in range(self.tools_per_round):
            if t == 0 or self.interleaved:
                text = f"[{self.family}] round {k + 1}, call {t + 1}: decide the next step"
                prefix = _bound_prefix(self.family, body)
                content.append(self.thinking(text, message_id, signer, prefix))
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{self.family}_{n:04d}_{t}",
                    "name": tool_name(body),
                    "input": {"step": k + 1, "call": t + 1},
                }
            )
        if self.redacted and self.family == "anthropic":
            nonce = f"n{n:04d}"
            content.insert(
                0, {"type": "redacted_thinking", "data": f"redacted_{nonce}.{signer.sign(nonce)}"}
            )
        return content

    def chat(self, body: Mapping[str, Any], n: int, signer: Signer | None = None) -> dict[str, Any]:
        """The ``n``-th reply on the chat wire (Gemini signs each step's first tool call)."""
        k = chat_round(body)
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if self.family not in ("strict", "gemini"):
            message["reasoning_content"] = f"[{self.family}] round {k + 1}: decide the next step"
        if k < self.rounds:
            message["tool_calls"] = [
                {
                    "id": f"call_{self.family}_{n:04d}_{t}",
                    "type": "function",
                    "function": {
                        "name": tool_name(body),
                        "arguments": json.dumps({"step": k + 1, "call": t + 1}),
                    },
                }
                for t in range(self.tools_per_round)
            ]
            if self.family == "gemini" and signer is not None:  # the step's first call only
                first = message["tool_calls"][0]
                first["extra_content"] = {"google": {"thought_signature": signer.sign(first["id"])}}
            finish = "tool_calls"
        else:
            message["content"] = f"Done after {k} tool calls."
            finish = "stop"
        prompt = 10 * len(body["messages"])
        return {
            "id": f"chatcmpl_{self.family}_{n:04d}",
            "object": "chat.completion",
            "created": 1_700_000_000 + n,
            "model": body.get("model", "emulated"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": 20,
                "total_tokens": prompt + 20,
            },
        }


def _bound_prefix(family: str, body: Mapping[str, Any]) -> list[Any] | None:
    """The conversation a Claude model with prefix binding binds its new thinking to."""
    if family == "anthropic" and prefix_bound(body.get("model")):
        return list(body["messages"])
    return None


def anthropic_round(body: Mapping[str, Any]) -> int:
    """How many tool rounds the conversation's active loop has had (Anthropic wire)."""
    messages = body["messages"]
    start = max((i for i, m in enumerate(messages) if is_real_user(m)), default=-1)
    return sum(1 for m in messages[start + 1 :] if m.get("role") == "assistant")


def chat_round(body: Mapping[str, Any]) -> int:
    """How many tool rounds the conversation's active loop has had (chat wire)."""
    messages = body["messages"]
    start = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return sum(1 for m in messages[start + 1 :] if m.get("role") == "assistant")


def tool_name(body: Mapping[str, Any]) -> str:
    """The name of the first tool the request offers ('run' when none)."""
    tools = body.get("tools")
    if isinstance(tools, list) and tools and isinstance(tools[0], Mapping):
        name = tools[0].get("name") or tools[0].get("function", {}).get("name")
        if isinstance(name, str):
            return name
    return "run"
