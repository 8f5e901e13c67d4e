"""ToolPairing: remove tool calls without results and results without calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import evolve, frozen

from agent.body import REMOVE, THINKING_TYPES, block_key, rebuild, with_messages
from agent.explain import SILENT, Action, Notes
from agent.history import History
from agent.request import Request

_ORPHAN_USE = "tool_use without a matching tool_result in the next user message"
_ORPHAN_RESULT = "tool_result without a matching tool_use in the previous assistant message"
_ORPHAN_CALL = "tool call without a matching tool message after it"
_ORPHAN_TOOL = "tool message without a matching tool call"
_EMPTIED = "nothing left after removing orphans; left out"


@frozen
class ToolPairing:
    """Repairs orphaned tool calls, the way providers demand (both wires).

    Anthropic answers 400 to a ``tool_use`` whose ``tool_result`` is not in the next user
    message, and to a ``tool_result`` with no ``tool_use`` before it; Chat Completions servers
    answer 400 to ``tool_calls`` without ``tool`` messages. Removing a ``tool_use`` changes a
    signed turn, so the turn's signatures are marked dead on the request and ThinkingRoundTrip
    will not send them as signed thinking. Run it before ThinkingRoundTrip. It reads the
    request's one walk (``Request.history``): a paired history costs no second scan. A request
    that continues a server-held thread (the anthropic tool runner's default) is left alone:
    its first tool results answer calls the server holds.
    """

    def __call__(self, request: Request) -> Request:
        """The request with orphaned tool calls and results removed."""
        return self.transform(request, SILENT)

    def transform(self, request: Request, notes: Notes) -> Request:
        """Like ``__call__``, recording each removal in ``notes``."""
        history = request.history
        if history.paired or history.partial:
            return request  # a threaded request's calls live on the server: nothing is orphaned
        if request.api == "anthropic_messages":
            changes, dead = _pair_anthropic(history, notes)
        else:
            changes, dead = _pair_chat(history, notes), frozenset()
        if not changes:
            return request
        return evolve(
            request,
            body=with_messages(request.body, rebuild(history.messages, changes)),
            dead_signatures=request.dead_signatures | dead,
        )


def _partner(history: History, i: int, role: str) -> set[Any]:
    """The ids a message pairs with: the calls of the assistant message before a user message,
    the results of the user message after an assistant message."""
    if not 0 <= i < len(history.messages) or history.messages[i].get("role") != role:
        return set()
    if role == "assistant":
        return set(history.tool_ids(i))
    return {x for x in history.answers.get(i, ()) if isinstance(x, str)}


def _pair_anthropic(history: History, notes: Notes) -> tuple[dict[int, Any], frozenset[str]]:
    changes: dict[int, Any] = {}
    dead: set[str] = set()
    messages = history.messages
    for i, message in enumerate(messages):
        role = message["role"]
        if role == "assistant" and i in history.calls:
            kind, key, why = "tool_use", "id", _ORPHAN_USE
            partner = _partner(history, i + 1, "user")
        elif role == "user" and i in history.answers:
            kind, key, why = "tool_result", "tool_use_id", _ORPHAN_RESULT
            partner = _partner(history, i - 1, "assistant")
        else:
            continue
        content = message["content"]
        orphans = {
            j: REMOVE
            for j, block in enumerate(content)
            if block.get("type") == kind and not _id_in(block.get(key), partner)
        }
        if not orphans:
            continue
        for j in orphans:
            notes.add(f"messages[{i}].content[{j}]", Action.DROPPED, why)
        if role == "assistant":
            dead.update(
                k for b in content if b.get("type") in THINKING_TYPES and (k := block_key(b))
            )
        kept = rebuild(content, orphans)
        if kept:
            changes[i] = {**message, "content": kept}
        else:
            changes[i] = REMOVE
            notes.add(f"messages[{i}]", Action.DROPPED, _EMPTIED)
    return changes, frozenset(dead)


def _pair_chat(history: History, notes: Notes) -> dict[int, Any]:
    changes: dict[int, Any] = {}
    messages = history.messages
    for i, message in enumerate(messages):
        if i in history.calls:
            answered: set[str] = set()
            k = i + 1
            while k < len(messages) and messages[k]["role"] == "tool":
                answered.update(x for x in history.answers[k] if isinstance(x, str))
                k += 1
            calls = message["tool_calls"]
            kept = [c for c in calls if isinstance(c, Mapping) and _id_in(c.get("id"), answered)]
            if len(kept) == len(calls):
                continue
            for n, call in enumerate(calls):
                if not any(call is c for c in kept):
                    notes.add(f"messages[{i}].tool_calls[{n}]", Action.DROPPED, _ORPHAN_CALL)
            new = {key: v for key, v in message.items() if key != "tool_calls"}
            if kept:
                new["tool_calls"] = kept
            if kept or new.get("content"):
                changes[i] = new
            else:
                changes[i] = REMOVE
                notes.add(f"messages[{i}]", Action.DROPPED, _EMPTIED)
        elif message["role"] == "tool":
            k = i - 1
            while k >= 0 and messages[k]["role"] == "tool":
                k -= 1
            answer = history.answers[i][0]
            if k < 0 or not _id_in(answer, _partner(history, k, "assistant")):
                changes[i] = REMOVE
                notes.add(f"messages[{i}]", Action.DROPPED, _ORPHAN_TOOL)
    return changes


def _id_in(value: object, ids: set[str]) -> bool:
    """Whether a tool id (as sent; possibly malformed) is one of ``ids``."""
    return isinstance(value, str) and value in ids
