"""Host emulation: what a host in front of a model does with reasoning on the chat wire.

The family rules (``rules``) say what a *model* needs back; a host decides where it reads it
and what it rejects, and answers with its own error. Each behaviour here is written from the
host's documentation and its users' reports, not from this library's dialect table:

- ``vllm``: reads prior reasoning only from ``reasoning``; ``reasoning_content`` on an
  assistant message is dropped without an error (vllm-project/vllm #38488); answers in
  ``reasoning``.
- ``cerebras``: takes ``reasoning`` back; ``reasoning_content`` or any other unknown message
  field is a 400 ``messages.N.assistant.<field>: property '<field>' is unsupported``
  (Kilo-Org/kilocode #10375; vercel/ai PR #15425); answers in ``reasoning``.
- ``fireworks``: reads ``reasoning_content``; its message schema forbids extra fields: 400
  ``Extra inputs are not permitted, field: 'messages[N].<field>'`` (BerriAI/litellm #41277,
  PR #39962); earlier turns' reasoning is discarded unless ``reasoning_history: preserved``
  (https://docs.fireworks.ai/guides/reasoning; BerriAI/litellm PR #30844).
- ``copilot``: answers ``reasoning_text`` plus an opaque signature ``reasoning_opaque``; a
  pair whose signature does not verify is a 400 ``Invalid signature in thinking block``
  (earendil-works/pi PR #1502).
- ``mistral``: reasoning travels as ``thinking`` chunks inside ``content``; any unknown
  message field is a 422 ``extra_forbidden`` (mistralai/client-python PR #511;
  charmbracelet/crush #1590).

``inbound`` checks a request as the host does and returns what reached the model: per
assistant message, the reasoning text the model saw (None: none). Tests read it from
``Emulator.reached`` to tell a silent loss (vLLM, a 200 all the same) from a real round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.testing.emulators.errors import HTTPError

HOSTS = ("vllm", "cerebras", "fireworks", "copilot", "mistral")

_BASE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id", "refusal"})
#: The message fields each strict host's schema knows.
_SCHEMA = {
    "cerebras": _BASE_KEYS | {"reasoning"},
    "fireworks": _BASE_KEYS | {"reasoning_content"},
    "mistral": _BASE_KEYS | {"prefix"},
}
#: Where each host reads a message's prior reasoning.
_READS = {"vllm": "reasoning", "cerebras": "reasoning", "fireworks": "reasoning_content"}


def inbound(host: str, body: Mapping[str, Any], sign: Any) -> list[str | None]:
    """Check a chat request as ``host`` does (HTTPError with its exact answer), and return
    the reasoning each assistant message carried to the model (Fireworks keeps earlier
    turns' reasoning only with ``reasoning_history: preserved``; the current turn's always)."""
    messages = body["messages"]
    current = max((i for i, m in enumerate(messages) if _role(m) == "user"), default=-1)
    keeps_all = host != "fireworks" or body.get("reasoning_history") == "preserved"
    reached: list[str | None] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            continue
        _schema(host, i, message)
        if message.get("role") != "assistant":
            continue
        seen = _seen(host, message, sign)
        reached.append(seen if keeps_all or i > current else None)
    return reached


def _role(message: object) -> object:
    return message.get("role") if isinstance(message, Mapping) else None


def _schema(host: str, i: int, message: Mapping[str, Any]) -> None:
    known = _SCHEMA.get(host)
    if known is None:
        return
    for key in message:
        if key in known:
            continue
        if host == "cerebras":
            raise HTTPError(
                400,
                {
                    "message": f"messages.{i}.{message.get('role')}.{key}: property '{key}' "
                    "is unsupported",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "wrong_api_format",
                },
            )
        if host == "fireworks":
            raise HTTPError(
                400,
                {
                    "error": {
                        "object": "error",
                        "type": "invalid_request_error",
                        "message": f"Extra inputs are not permitted, field: "
                        f"'messages[{i}].{key}', value: {str(message[key])[:60]}",
                    }
                },
            )
        raise HTTPError(
            422,
            {
                "object": "error",
                "message": {
                    "detail": [
                        {
                            "type": "extra_forbidden",
                            "loc": ["body", "messages", i, "assistant", key],
                            "msg": "Extra inputs are not permitted",
                            "input": str(message[key])[:60],
                        }
                    ]
                },
                "type": "invalid_request_message_error",
                "code": 3051,
            },
        )


def _seen(host: str, message: Mapping[str, Any], sign: Any) -> str | None:
    if host == "copilot":
        text, opaque = message.get("reasoning_text"), message.get("reasoning_opaque")
        if opaque is None:
            return None  # a readable half alone is shown to no model
        if not (isinstance(text, str) and isinstance(opaque, str) and sign(text) == opaque):
            raise HTTPError(
                400,
                {"error": {"message": "Invalid signature in thinking block", "code": "invalid"}},
            )
        return text
    if host == "mistral":
        content = message.get("content")
        texts = [
            part["text"]
            for chunk in (content if isinstance(content, list) else ())
            if isinstance(chunk, Mapping) and chunk.get("type") == "thinking"
            for part in chunk.get("thinking") or ()
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]
        return "".join(texts) if texts else None
    value = message.get(_READS[host])
    return value if isinstance(value, str) else None


def outbound(host: str, reply: dict[str, Any], sign: Any) -> dict[str, Any]:
    """A chat reply as ``host`` answers it: the model's reasoning in the host's carrier."""
    choice = reply["choices"][0]
    message = dict(choice["message"])
    reasoning = message.pop("reasoning_content", None)
    if isinstance(reasoning, str):
        if host in ("vllm", "cerebras"):
            message["reasoning"] = reasoning
        elif host == "fireworks":
            message["reasoning_content"] = reasoning
        elif host == "copilot":
            message["reasoning_text"] = reasoning
            message["reasoning_opaque"] = sign(reasoning)
        else:  # mistral: a thinking chunk, then the answer's text
            text = message.get("content")
            chunk = {"type": "thinking", "thinking": [{"type": "text", "text": reasoning}]}
            parts: list[Any] = [{**chunk, "closed": True}]
            if isinstance(text, str) and text:
                parts.append({"type": "text", "text": text})
            message["content"] = parts
    return {**reply, "choices": [{**choice, "message": message}]}
