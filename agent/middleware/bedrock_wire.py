"""ThinkingRoundTrip on AWS Bedrock Converse: ``reasoningContent`` blocks, run as Anthropic's.

Converse carries Claude's thinking as ``{"reasoningContent": {"reasoningText": {"text",
"signature"}}}`` (or ``{"redactedContent": ...}``) beside ``{"toolUse": {...}}`` and
``{"toolResult": {...}}`` blocks, and Bedrock enforces Anthropic's rules for Claude models
(``ValidationException ... messages.1.content.0.thinking.signature: Field required``, the
"Expected `thinking`" 400; https://github.com/NousResearch/hermes-agent/issues/36260,
https://github.com/run-llama/llama_index/issues/20851), while other reasoning models that return
reasoning want it echoed. So this pass maps each message onto the Anthropic wire's view
(``reasoningText`` -> ``thinking``, ``toolUse`` -> ``tool_use``, ...), runs the Anthropic pass
with the request's one family answer, and maps the result back: every block the pass kept is
the agent's own object again, only new blocks (a restored turn, a pad) are written in
Converse's form. Paths in explain are the same indices in ``messages``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import evolve

from agent.body import THINKING_TYPES as THINKING
from agent.body import with_messages
from agent.explain import Action
from agent.middleware.anthropic_wire import run as run_anthropic
from agent.middleware.context import Call
from agent.middleware.observed import observed_anthropic
from agent.request import Request
from agent.store import Origin, StoredTurn

#: The view's type for a Converse block the Anthropic pass does not read (passes as it is).
OTHER = "converse_block"


def view_block(block: object) -> dict[str, Any]:
    """One Converse content block as the Anthropic wire would carry it."""
    if not isinstance(block, Mapping):
        return {"type": OTHER}
    if "text" in block and isinstance(block["text"], str):
        return {"type": "text", "text": block["text"]}
    use = block.get("toolUse")
    if isinstance(use, Mapping):
        return {
            "type": "tool_use",
            "id": use.get("toolUseId"),
            "name": use.get("name"),
            "input": use.get("input"),
        }
    result = block.get("toolResult")
    if isinstance(result, Mapping):
        return {"type": "tool_result", "tool_use_id": result.get("toolUseId")}
    reasoning = block.get("reasoningContent")
    if isinstance(reasoning, Mapping):
        text = reasoning.get("reasoningText")
        if isinstance(text, Mapping):
            out: dict[str, Any] = {"type": "thinking", "thinking": text.get("text", "")}
            if "signature" in text:
                out["signature"] = text["signature"]
            return out
        if "redactedContent" in reasoning:
            return {"type": "redacted_thinking", "data": reasoning["redactedContent"]}
    return {"type": OTHER}


def converse_block(block: Mapping[str, Any]) -> dict[str, Any]:
    """An Anthropic-wire block in Converse's form (what the pass made: restored or padded
    thinking; and the emulators' replies)."""
    if block.get("type") == "redacted_thinking":
        return {"reasoningContent": {"redactedContent": block.get("data")}}
    if block.get("type") == "thinking":
        text: dict[str, Any] = {"text": block.get("thinking", "")}
        if block.get("signature"):
            text["signature"] = block["signature"]
        return {"reasoningContent": {"reasoningText": text}}
    if block.get("type") == "tool_use":
        use = {"toolUseId": block.get("id"), "name": block.get("name"), "input": block.get("input")}
        return {"toolUse": use}
    return {"text": str(block.get("text", ""))}


def view(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[int, Any]]:
    """The body as the Anthropic pass reads it, and each view block's Converse original."""
    originals: dict[int, Any] = {}
    messages = []
    for message in body.get("messages") or []:
        if not isinstance(message, Mapping) or not isinstance(message.get("content"), list):
            messages.append(message)
            continue
        content = []
        for block in message["content"]:
            seen = view_block(block)
            originals[id(seen)] = block
            content.append(seen)
        messages.append({"role": message.get("role"), "content": content})
    fields = body.get("additionalModelRequestFields")
    out: dict[str, Any] = {"model": body.get("modelId", body.get("model")), "messages": messages}
    if isinstance(fields, Mapping) and "thinking" in fields:
        out["thinking"] = fields["thinking"]
    return out, originals


def run(call: Call) -> Request:
    """The Converse request with its reasoning fitted to the target's (Anthropic) contract."""
    request = call.request
    body = request.body
    if not isinstance(body.get("messages"), list):
        return request
    seen, originals = view(body)
    refuses = call.family.anthropic.refuses_prefill(call.match.model)
    first = _thinking_first(call, seen) if refuses else seen
    seen_request = evolve(request, api="anthropic_messages", body=first, resolved=call.match)
    out = run_anthropic(Call(call.options, seen_request, call.notes, call.view))
    messages = out.body["messages"]
    merged = _no_prefill(call, messages, first) if refuses else messages
    if out is seen_request and merged is messages and first is seen:
        return request
    return call.finish(None, _back(body, seen, with_messages(out.body, merged), originals))


_FIRST = (
    "thinking moved to the start of its message ({} on Bedrock: 'If an assistant message "
    "contains any thinking blocks, the first block must be thinking')"
)
_PREFILL = (
    "{} on Bedrock refuses an assistant message holding only reasoning ('This model does not "
    "support assistant message prefill')"
)
_MERGED = _PREFILL + "; merged into the next assistant message of its turn, reasoning first"
_LEFT_OUT = _PREFILL + "; left out: no assistant message of its turn follows to carry it"


def _thinking_first(call: Call, seen: dict[str, Any]) -> dict[str, Any]:
    """The view with each assistant message's reasoning blocks first, in their order (a
    client that wrote text first; Claude itself always starts with its thinking); the same
    view when every message already starts so."""
    messages = []
    moved = False
    for i, message in enumerate(seen["messages"]):
        content = message.get("content") if isinstance(message, Mapping) else None
        if message.get("role") != "assistant" or not isinstance(content, list):
            messages.append(message)
            continue
        thinking = [b for b in content if b.get("type") in THINKING]
        rest = [b for b in content if b.get("type") not in THINKING]
        if not thinking or content[: len(thinking)] == thinking:
            messages.append(message)
            continue
        call.notes.add(f"messages[{i}].content", Action.CONVERTED, _FIRST, call.match.model)
        messages.append({**message, "content": [*thinking, *rest]})
        moved = True
    return with_messages(seen, messages) if moved else seen


def _no_prefill(call: Call, messages: list[Any], seen: Mapping[str, Any]) -> list[Any]:
    """An assistant message holding only reasoning merged into the next assistant message of
    its turn (its reasoning first), else left out; the same list when there is none."""
    where = {id(m): i for i, m in enumerate(seen["messages"])}  # paths as the body came in
    out: list[Any] = []
    pending: tuple[Any, str] | None = None
    for message in messages:
        content = message.get("content") if isinstance(message, Mapping) else None
        if pending is not None:
            held, path = pending
            pending = None
            if message.get("role") == "assistant" and isinstance(content, list):
                message = {**message, "content": [*held["content"], *content]}
                call.notes.add(path, Action.CONVERTED, _MERGED, call.match.model)
            else:
                call.notes.add(path, Action.DROPPED, _LEFT_OUT, call.match.model)
        if message.get("role") == "assistant" and _reasoning_only(content):
            pending = (message, f"messages[{where.get(id(message), len(out))}]")
            continue
        out.append(message)
    if pending is not None:
        call.notes.add(pending[1], Action.DROPPED, _LEFT_OUT, call.match.model)
    return messages if len(out) == len(messages) else out


def _reasoning_only(content: object) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(b, Mapping) and b.get("type") in THINKING for b in content)
    )


def _back(
    body: Mapping[str, Any],
    seen: Mapping[str, Any],
    out: Mapping[str, Any],
    originals: Mapping[int, Any],
) -> dict[str, Any]:
    """The Converse body the Anthropic pass's output stands for."""
    view_messages = seen["messages"]
    converse = {id(v): c for v, c in zip(view_messages, body["messages"], strict=True)}
    messages = []
    for message in out["messages"]:
        original = converse.get(id(message))
        if original is not None:
            messages.append(original)
            continue
        source = next(
            (c for v, c in zip(view_messages, body["messages"], strict=True) if _same(v, message)),
            {"role": message.get("role")},
        )
        content = [
            originals[id(b)] if id(b) in originals else converse_block(b)
            for b in message["content"]
        ]
        messages.append({**source, "content": content})
    new = with_messages(body, messages)
    fields = body.get("additionalModelRequestFields")
    if "thinking" in seen and "thinking" not in out and isinstance(fields, Mapping):
        new["additionalModelRequestFields"] = {k: v for k, v in fields.items() if k != "thinking"}
    return new


def _same(view_message: Any, message: Mapping[str, Any]) -> bool:
    """Whether ``message`` (a copy the pass made) came from ``view_message``: it shares one of
    its blocks."""
    if not isinstance(view_message, Mapping) or not isinstance(view_message.get("content"), list):
        return False
    ids = {id(b) for b in view_message["content"]}
    return any(id(b) in ids for b in message.get("content") or ())


def observed_converse(origin: Origin, body: Mapping[str, Any]) -> StoredTurn | None:
    """The reasoning of a Converse response, as the Anthropic wire's observation records it."""
    output = body.get("output")
    message = output.get("message") if isinstance(output, Mapping) else None
    content = message.get("content") if isinstance(message, Mapping) else None
    if not isinstance(content, list):
        return None
    return observed_anthropic(origin, {"content": [view_block(b) for b in content]})
