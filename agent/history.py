"""The one walk: the facts about a conversation every middleware needs, found in one scan.

``Request.history`` scans the body once (validating every message and block on the way) and
keeps the answer on the request, so ToolPairing and ThinkingRoundTrip read the same facts
instead of each walking and validating the whole history again. Only the tail decides the
turn structure, but every block is looked at once: a malformed body fails here, with its path.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from agent.body import block_type, content_of, message_list, role_of
from agent.errors import InvalidRequest, json_kind


class History:
    """The facts of one request body's conversation.

    Attributes:
        messages: the body's message list (the same object).
        assistants: indices of the assistant messages, in order.
        thinking: Anthropic wire: assistant message -> positions of its thinking blocks.
        calls: assistant message -> the ids of its tool calls (``tool_use`` / ``tool_calls``),
            as sent (an id may be malformed; pairing compares them as they are);
            ``tool_ids(i)`` gives the string ones, the ids a turn is found again by.
        answers: Anthropic: user message -> its ``tool_result`` ids; chat: tool message ->
            ``[tool_call_id]``.
        last_assistant: the index of the last assistant message (-1: none).
        loop_start: the first message of the active tool loop (after the last user message
            that carries anything other than tool results; chat: after the last user message).
        latest_start: the first message of the latest assistant turn (after the last real
            user message before the last assistant message).
        continuing_loop: the body continues a tool loop (its tail is a user message after an
            assistant message of the active loop).
        paired: every tool call has its result right after it, and every result its call.
        partial: the body continues a server-held conversation (``thread: {type: continue}``):
            its history starts mid-conversation, so a result whose call the server holds is
            no orphan, and the latest assistant turn is not in the body.
    """

    __slots__ = (
        "_ids",
        "_walk",
        "answers",
        "assistants",
        "calls",
        "continuing_loop",
        "last_assistant",
        "latest_start",
        "loop_start",
        "messages",
        "paired",
        "partial",
        "thinking",
    )

    def __init__(self, messages: list[Any]) -> None:
        self.messages = messages
        self.assistants: list[int] = []
        self.thinking: dict[int, list[int]] = {}
        self.calls: dict[int, list[Any]] = {}
        self.answers: dict[int, list[Any]] = {}
        self.last_assistant = -1
        self.loop_start = 0
        self.latest_start = 0
        self.continuing_loop = False
        self.paired = True
        self.partial = False
        self._ids: dict[int, tuple[str, ...]] = {}
        self._walk: tuple[Any, ...] | None = None  # (api, the walk's state after the last)

    def tool_ids(self, i: int) -> tuple[str, ...]:
        """The ids of assistant message ``i``'s tool calls that are strings, in order: the
        ids its turn is found again by (a malformed id pairs with nothing and finds nothing);
        made once per message."""
        ids = self._ids.get(i)
        if ids is None:
            ids = self._ids[i] = tuple([x for x in self.calls.get(i, ()) if isinstance(x, str)])
        return ids


def scan(api: str, body: Mapping[str, Any]) -> History:
    """The facts of ``body`` on wire ``api`` (raises InvalidRequest naming the path)."""
    if api in ("responses", "bedrock_converse", "gemini"):  # their own passes walk them
        items = body.get("input")
        if items is not None and not isinstance(items, str | list):
            raise InvalidRequest("input", f"expected a list of items, got {json_kind(items)}")
        return History([])
    messages = body.get("messages")  # (``message_list``'s check, inline: on every call)
    if not isinstance(messages, list):
        messages = message_list(body)  # (raises, naming what it is)
    history = History(messages)
    thread = body.get("thread")
    if thread is not None:  # (most bodies have none: no abstract isinstance on every call)
        history.partial = isinstance(thread, Mapping) and thread.get("type") == "continue"
    if api == "anthropic_messages":
        _facts_anthropic(history, 0, (-1, -1, None))
    else:
        _scan_chat(history)
    return history


def grown(api: str, body: Mapping[str, Any], before: History | None) -> History:
    """The facts of ``body``, as ``scan`` finds them; where its messages start with the very
    objects ``before`` is the facts of (a history read before plus what is new: objects no
    one changes, ``agent.integrations.resent``), only the new messages are walked."""
    walk = before._walk if before is not None else None
    messages = body.get("messages")
    if (
        before is None
        or walk is None
        or walk[0] != api
        or type(messages) is not list
        or len(messages) < len(before.messages)
        or not all(map(operator.is_, messages, before.messages))
    ):
        return scan(api, body)
    h = History(messages)
    h.assistants = list(before.assistants)
    h.thinking, h.calls, h.answers = dict(before.thinking), dict(before.calls), dict(before.answers)
    h.last_assistant, h.paired = before.last_assistant, walk[1]
    thread = body.get("thread")
    h.partial = isinstance(thread, Mapping) and thread.get("type") == "continue"
    start = len(before.messages)
    if api == "anthropic_messages":
        _facts_anthropic(h, start, walk[2:])
    else:
        _scan_chat(h, start, walk[2:])
    return h


class _Malformed(Exception):
    """The fast path met something that is not plain well-formed JSON."""


def _facts_anthropic(h: History, start: int, state: tuple[Any, ...]) -> None:
    """The facts, in one pass over every block from message ``start`` on (``state``: the
    walk's after the ones before it); on anything malformed ``_validate_anthropic`` says what
    is wrong where. The hot loop of every call: both block loops are written inline."""
    last_real_user, latest_real_user, pending = state  # pending: the previous turn's tool ids
    last_assistant, paired = h.last_assistant, h.paired
    try:
        for i, message in enumerate(h.messages[start:] if start else h.messages, start):
            role, content = message["role"], message.get("content")
            if type(content) is not list:
                if content is not None and type(content) is not str:
                    raise _Malformed
                content = ()
            if role == "user":
                results: list[Any] | None = None
                real = not content
                for block in content:
                    kind = block["type"]
                    if kind == "tool_result":
                        (results := results or []).append(block.get("tool_use_id"))
                    elif type(kind) is str:
                        real = True
                    else:
                        raise _Malformed
                if results is not None:
                    h.answers[i] = results
                    paired = paired and (results == pending or not _differ(pending, results))
                elif pending:
                    paired = False
                last_real_user = i if real else last_real_user
                pending = None
                continue
            if type(role) is not str:
                raise _Malformed
            uses: list[Any] | None = None
            thinking: list[int] | None = None
            for j, block in enumerate(content):
                kind = block["type"]
                if kind == "thinking" or kind == "redacted_thinking":
                    (thinking := thinking or []).append(j)
                elif kind == "tool_use":
                    (uses := uses or []).append(block.get("id"))
                elif type(kind) is not str:
                    raise _Malformed
                elif kind == "tool_result":
                    paired = False  # a result outside a user message pairs with nothing
            paired, pending = paired and not pending, None
            if role == "assistant":
                h.assistants.append(i)
                last_assistant, latest_real_user = i, last_real_user
                if thinking is not None:
                    h.thinking[i] = thinking
                if uses is not None:
                    h.calls[i] = pending = uses
    except (TypeError, KeyError, AttributeError, _Malformed):
        _validate_anthropic(h.messages)
        raise InvalidRequest("messages", "malformed") from None  # pragma: no cover
    h._walk = ("anthropic_messages", paired, last_real_user, latest_real_user, pending)
    h.paired = paired and not pending
    _bounds(h, last_assistant, last_real_user, latest_real_user)


def _bounds(h: History, last_assistant: int, last_real_user: int, latest_real_user: int) -> None:
    """The turn structure, from the indices the walk found."""
    h.last_assistant = last_assistant
    h.loop_start = last_real_user + 1
    h.latest_start = latest_real_user + 1
    tail = h.messages[-1] if h.messages else None
    h.continuing_loop = (
        last_assistant >= h.loop_start and tail is not None and tail.get("role") == "user"
    )


def _validate_anthropic(messages: list[Any]) -> None:
    """Raise InvalidRequest naming the first malformed message, content or block."""
    for i, message in enumerate(messages):
        role_of(message, i)
        content = content_of(message, i)
        for j, block in enumerate(content if isinstance(content, list) else ()):
            block_type(block, i, j)


def _differ(calls: list[Any] | None, answers: list[Any] | None) -> bool:
    if calls == answers:
        return False
    try:
        return set(calls or ()) != set(answers or ())
    except TypeError:  # an unhashable id pairs with nothing
        return True


def _scan_chat(h: History, start: int = 0, state: tuple[Any, ...] = (-1, None, ())) -> None:
    last_user, pending, answered = state[0], state[1], set(state[2])
    # pending: the ids of the open assistant message's tool calls
    for i, message in enumerate(h.messages[start:] if start else h.messages, start):
        role = role_of(message, i)
        if role == "tool":
            answer = message.get("tool_call_id")
            h.answers[i] = [answer]
            if pending is None or not _member(answer, pending):
                h.paired = False
            else:
                answered.add(answer)
            continue
        if pending is not None and answered != pending:
            h.paired = False
        pending = None
        if role == "user":
            last_user = i
        elif role == "assistant":
            h.assistants.append(i)
            h.last_assistant = i
            _check_chat_assistant(message, i)
            calls = message.get("tool_calls")
            if calls:
                ids = [c.get("id") if isinstance(c, Mapping) else None for c in calls]
                h.calls[i] = ids
                pending = {x for x in ids if _hashable(x)}
                if not all(_hashable(x) for x in ids):
                    h.paired = False
                answered = set()
    h._walk = ("chat_completions", h.paired, last_user, pending, frozenset(answered))
    if pending is not None and answered != pending:
        h.paired = False
    h.loop_start = h.latest_start = last_user + 1


def _check_chat_assistant(message: Mapping[str, Any], i: int) -> None:
    reasoning = message.get("reasoning_content")
    if reasoning is not None and not isinstance(reasoning, str):
        raise InvalidRequest(
            f"messages[{i}].reasoning_content", f"expected a string, got {json_kind(reasoning)}"
        )
    calls = message.get("tool_calls")
    if calls is not None and not isinstance(calls, list):
        raise InvalidRequest(
            f"messages[{i}].tool_calls", f"expected a list, got {json_kind(calls)}"
        )


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _member(value: object, items: set[Any]) -> bool:
    return _hashable(value) and value in items
