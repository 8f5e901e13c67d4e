"""ToolPairing: remove tool calls without results and results without calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import evolve, frozen

from agent.middleware.thinking_round_trip import (
    _block_type,
    _content,
    _kind,
    _message_list,
    _role,
)
from agent.request import Action, Notes, Request

_ORPHAN_USE = "tool_use without a matching tool_result in the next user message"
_ORPHAN_RESULT = "tool_result without a matching tool_use in the previous assistant message"


@frozen
class ToolPairing:
    """Repairs orphaned tool calls, the way providers demand (both wires).

    Anthropic answers 400 to a ``tool_use`` whose ``tool_result`` is not in the next user
    message, and to a ``tool_result`` with no ``tool_use`` before it; Chat Completions servers
    answer 400 to ``tool_calls`` without ``tool`` messages. Removing a ``tool_use`` changes a
    signed turn, so the turn's signatures are marked dead on the request and ThinkingRoundTrip
    will not send them as signed thinking. Run it before ThinkingRoundTrip.
    """

    def __call__(self, request: Request) -> Request:
        """The request with orphaned tool calls and results removed."""
        return self.transform(request, None)

    def transform(self, request: Request, notes: Notes | None) -> Request:
        """Like ``__call__``, recording each removal in ``notes`` when given."""
        messages = _message_list(request.body)
        if request.api == "anthropic_messages":
            if _paired_anthropic(messages):
                return request
            out, dead = _pair_anthropic(messages, notes)
        else:
            for i, message in enumerate(messages):
                _role(message, i)
            if _paired_chat(messages):
                return request
            out, dead = _pair_chat(messages, notes), frozenset()
        if out is None:
            return request
        return evolve(
            request,
            body={**request.body, "messages": out},
            dead_signatures=request.dead_signatures | dead,
        )


def _note(notes: Notes | None, path: str, why: str) -> None:
    if notes is not None:
        notes.add(path, Action.DROPPED, why)


def _ids(message: Mapping[str, Any] | None, i: int, kind: str, key: str) -> set[str]:
    if message is None:
        return set()
    content = _content(message, i)
    if not isinstance(content, list):
        return set()
    found = set()
    for j, block in enumerate(content):
        if _block_type(block, f"messages[{i}].content[{j}]") == kind:
            value = block.get(key)
            if isinstance(value, str):
                found.add(value)
    return found


def _paired_anthropic(messages: list[Any]) -> bool:
    """One validating scan: does every tool_use have its tool_result right after, and back?"""
    pending: list[Any] | None = None  # tool_use ids of the previous assistant message
    for i, message in enumerate(messages):
        role = message.get("role") if type(message) is dict else None
        if type(role) is not str:
            role = _role(message, i)
        content = message.get("content")
        if type(content) is not list:
            _content(message, i)  # validates a non-list content
            if pending:
                return False
            continue
        uses: list[Any] | None = None
        results: list[Any] | None = None
        for j, block in enumerate(content):
            kind = block.get("type") if type(block) is dict else None
            if type(kind) is not str:
                kind = _kind(block, i, j)
            if kind == "tool_use":
                uses = [*(uses or ()), block.get("id")]
            elif kind == "tool_result":
                results = [*(results or ()), block.get("tool_use_id")]
        if role == "user":
            if pending != results and set(pending or ()) != set(results or ()):
                return False
            pending = None
        elif pending or results:
            return False
        else:
            pending = uses if role == "assistant" else None
    return not pending


def _paired_chat(messages: list[Any]) -> bool:
    """One scan: is every tool call answered by a tool message right after it, and back?"""
    pending: set[Any] | None = None
    answered: set[Any] = set()
    for message in messages:
        if message["role"] == "tool":
            if pending is None or message.get("tool_call_id") not in pending:
                return False
            answered.add(message.get("tool_call_id"))
            continue
        if pending is not None and answered != pending:
            return False
        pending = None
        calls = message.get("tool_calls")
        if message["role"] == "assistant" and calls:
            if not isinstance(calls, list):
                return False
            pending = {c.get("id") if isinstance(c, Mapping) else None for c in calls}
            answered = set()
    return pending is None or answered == pending


def _pair_anthropic(
    messages: list[Any], notes: Notes | None
) -> tuple[list[Any] | None, frozenset[str]]:
    changed = False
    dead: set[str] = set()
    out: list[Any] = []
    n = len(messages)
    for i, message in enumerate(messages):
        role = _role(message, i)
        content = _content(message, i)
        if role not in ("assistant", "user") or not isinstance(content, list):
            out.append(message)
            continue
        for j, block in enumerate(content):
            _block_type(block, f"messages[{i}].content[{j}]")
        if role == "assistant":
            nxt = messages[i + 1] if i + 1 < n and _role(messages[i + 1], i + 1) == "user" else None
            partner = _ids(nxt, i + 1, "tool_result", "tool_use_id")
            kind, key, why = "tool_use", "id", _ORPHAN_USE
        else:
            prev = messages[i - 1] if i > 0 and messages[i - 1]["role"] == "assistant" else None
            partner = _ids(prev, i - 1, "tool_use", "id")
            kind, key, why = "tool_result", "tool_use_id", _ORPHAN_RESULT
        kept = [b for b in content if not (b.get("type") == kind and b.get(key) not in partner)]
        if len(kept) == len(content):
            out.append(message)
            continue
        changed = True
        for j, block in enumerate(content):
            if block.get("type") == kind and block.get(key) not in partner:
                _note(notes, f"messages[{i}].content[{j}]", why)
        if role == "assistant":
            for block in content:
                if block.get("type") == "thinking" and block.get("signature"):
                    dead.add(block["signature"])
                elif block.get("type") == "redacted_thinking" and block.get("data"):
                    dead.add(block["data"])
        if kept:
            out.append({**message, "content": kept})
        else:
            _note(notes, f"messages[{i}]", "nothing left after removing orphans; left out")
    return (out if changed else None), frozenset(dead)


def _pair_chat(messages: list[Any], notes: Notes | None) -> list[Any] | None:
    changed = False
    out: list[Any] = []
    n = len(messages)
    for i, message in enumerate(messages):
        role = message["role"]
        if role == "assistant" and isinstance(message.get("tool_calls"), list):
            answered: set[str] = set()
            j = i + 1
            while j < n and messages[j]["role"] == "tool":
                tool_call_id = messages[j].get("tool_call_id")
                if isinstance(tool_call_id, str):
                    answered.add(tool_call_id)
                j += 1
            calls = message["tool_calls"]
            kept = [c for c in calls if isinstance(c, Mapping) and c.get("id") in answered]
            if len(kept) != len(calls):
                changed = True
                for k, call in enumerate(calls):
                    if call not in kept:
                        _note(
                            notes,
                            f"messages[{i}].tool_calls[{k}]",
                            "tool call without a matching tool message after it",
                        )
                new = {k: v for k, v in message.items() if k != "tool_calls"}
                if kept:
                    new["tool_calls"] = kept
                if kept or new.get("content"):
                    out.append(new)
                else:
                    _note(notes, f"messages[{i}]", "nothing left after removing orphans; left out")
                continue
        elif role == "tool":
            k = i - 1
            while k >= 0 and messages[k]["role"] == "tool":
                k -= 1
            calls = messages[k].get("tool_calls") if k >= 0 else None
            ids = (
                {c.get("id") for c in calls if isinstance(c, Mapping)}
                if isinstance(calls, list)
                else set()
            )
            if messages[k]["role"] != "assistant" or message.get("tool_call_id") not in ids:
                changed = True
                _note(notes, f"messages[{i}]", "tool message without a matching tool call")
                continue
        out.append(message)
    return out if changed else None
