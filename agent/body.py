"""The request body as read-only JSON: validated accessors, block keys, paths, and rebuilds.

Every middleware reads the body through these helpers, so a malformed body raises the same
``InvalidRequest`` naming the same JSON path whichever middleware meets it first, and every
rebuild copies only what changes (copy-on-write: unchanged messages and blocks are shared).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from agent.errors import InvalidRequest, json_kind

THINKING_TYPES = ("thinking", "redacted_thinking")

#: A rebuild instruction meaning "leave this item out".
REMOVE: Any = object()

_T = TypeVar("_T")


def message_list(body: Mapping[str, Any]) -> list[Any]:
    """``body["messages"]``, which must be a list."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise InvalidRequest("messages", f"expected a list of messages, got {json_kind(messages)}")
    return messages


def role_of(message: object, i: int) -> str:
    """A message's role, validating that the message is an object with a string role."""
    if not isinstance(message, Mapping):
        raise InvalidRequest(f"messages[{i}]", f"expected an object, got {json_kind(message)}")
    role = message.get("role")
    if not isinstance(role, str):
        raise InvalidRequest(f"messages[{i}].role", f"expected a string, got {json_kind(role)}")
    return role


def content_of(message: Mapping[str, Any], i: int) -> list[Any] | str | None:
    """A message's content: a string, a list of blocks, or None."""
    content = message.get("content")
    if content is None or isinstance(content, (str, list)):
        return content
    raise InvalidRequest(
        f"messages[{i}].content", f"expected a string or a list of blocks, got {json_kind(content)}"
    )


def block_type(block: object, i: int, j: int) -> str:
    """A content block's type, validating that the block is an object with a string type."""
    if not isinstance(block, Mapping):
        raise InvalidRequest(
            str(BlockPath(i, j)), f"expected a content block object, got {json_kind(block)}"
        )
    kind = block.get("type")
    if not isinstance(kind, str):
        raise InvalidRequest(f"{BlockPath(i, j)}.type", f"expected a string, got {json_kind(kind)}")
    return kind


def block_key(block: Mapping[str, Any]) -> str | None:
    """What identifies a thinking block to its provider: the ``signature`` of a thinking block,
    the ``data`` of a redacted one; None when it has none (unsigned) or is no thinking block."""
    kind = block.get("type")
    key = (
        block.get("signature")
        if kind == "thinking"
        else block.get("data")
        if kind == "redacted_thinking"
        else None
    )
    return key if isinstance(key, str) and key else None


def tool_use_ids(content: Iterable[Any]) -> tuple[str, ...]:
    """The ids of the ``tool_use`` blocks of an Anthropic content list, in order."""
    return tuple(
        b["id"]
        for b in content
        if (type(b) is dict or isinstance(b, Mapping))
        and b.get("type") == "tool_use"
        and isinstance(b.get("id"), str)
    )


def tool_call_ids(calls: object) -> tuple[str, ...]:
    """The ids of a chat message's ``tool_calls``, in order."""
    if not isinstance(calls, list):
        return ()
    return tuple(c["id"] for c in calls if isinstance(c, Mapping) and isinstance(c.get("id"), str))


#: The JSON scalars but null (a tuple, not ``str | bool | ...``: a union is built anew each time
#: that expression runs, and ``plain_json`` runs on every observed block).
_SCALARS = (str, bool, int, float)


def plain_json(value: object, depth: int = 32) -> bool:
    """Whether ``value`` is plain JSON (str keys; str, number, bool, None, list, dict), at
    most ``depth`` levels deep: what a store may keep and a later request send."""
    if value is None or isinstance(value, _SCALARS):
        return True
    if depth <= 0:
        return False
    if type(value) is dict or isinstance(value, Mapping):
        for k, v in value.items():  # a thinking block: a few strings, checked inline
            if type(k) is not str or (type(v) is not str and not plain_json(v, depth - 1)):
                return False
        return True
    if isinstance(value, (list, tuple)):
        return all(plain_json(v, depth - 1) for v in value)
    return False


def thought_signature(call: object) -> str | None:
    """A chat tool call's Gemini thought signature
    (``extra_content.google.thought_signature``), or None."""
    if not isinstance(call, Mapping):
        return None
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, Mapping) else None
    signature = google.get("thought_signature") if isinstance(google, Mapping) else None
    return signature if isinstance(signature, str) and signature else None


def without(item: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A copy of ``item`` without ``key``."""
    return {k: v for k, v in item.items() if k != key}


def rebuild(items: Sequence[_T], changes: Mapping[int, Any]) -> list[_T]:
    """``items`` with ``changes`` applied: index -> new item, or ``REMOVE`` to leave it out.

    Only the list is new; every unchanged item is the very same object.
    """
    out = list(items)
    removed = False
    for index, new in changes.items():
        out[index] = new
        removed = removed or new is REMOVE
    if removed:
        out = [item for item in out if item is not REMOVE]
    return out


def with_messages(body: Mapping[str, Any], messages: list[Any]) -> dict[str, Any]:
    """A shallow copy of ``body`` carrying ``messages``."""
    return {**body, "messages": messages}


class BlockPath:
    """``messages[i].content[j]``, formatted only when someone reads it (explain, errors)."""

    __slots__ = ("i", "j")

    def __init__(self, i: int, j: int) -> None:
        self.i = i
        self.j = j

    def __str__(self) -> str:
        return f"messages[{self.i}].content[{self.j}]"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)
