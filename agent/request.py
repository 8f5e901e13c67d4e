"""Request: the outgoing call as a frozen value, and the records ``explain`` returns."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

from attrs import field, frozen
from attrs.validators import in_, instance_of, optional

from agent.families import APIS, FamilyMatch

#: A JSON object as the wire carries it: plain dicts, lists, strings, numbers.
JSONObject = Mapping[str, Any]


@frozen
class Request:
    """One outgoing API call.

    The body is plain JSON and is never mutated: a middleware that changes it builds a new body
    that shares every unchanged message and block with the old one.

    Attributes:
        api: the wire, ``anthropic_messages`` or ``chat_completions``.
        body: the JSON request body.
        base_url: where it goes; None means the official endpoint of the wire.
        provider: the name of a configured provider, if any.
        family: an explicit model family (a provider's ``family:`` in config); wins detection.
        resolved: the family detection answer, set once by the pipeline.
        dead_signatures: signatures (and ``redacted_thinking`` data) of turns whose structure a
            middleware changed; they no longer verify and must not be sent as signed thinking.
    """

    api: str = field(validator=in_(APIS))
    body: JSONObject = field(validator=instance_of(Mapping))
    base_url: str | None = field(default=None, validator=optional(instance_of(str)))
    provider: str | None = None
    family: str | None = None
    resolved: FamilyMatch | None = field(default=None, eq=False, repr=False)
    dead_signatures: frozenset[str] = field(default=frozenset(), converter=frozenset, repr=False)

    @property
    def model(self) -> str:
        """The ``model`` of the body ('' when absent)."""
        model = self.body.get("model")
        return model if isinstance(model, str) else ""


class Action(str, Enum):
    """What a middleware did at one JSON path."""

    KEPT = "kept"
    DROPPED = "dropped"
    UNSIGNED = "unsigned"
    PADDED = "padded"
    CONVERTED = "converted"
    RESTORED = "restored"
    MOVED = "moved"
    STRIPPED = "stripped"
    WARNING = "warning"


@frozen
class Change:
    """One entry of ``Pipeline.explain``: who did what where, and why.

    Attributes:
        middleware: the name of the middleware.
        path: the JSON path in the request body (``messages[3].content[0]``).
        action: what happened there.
        reason: the family rule or provider contract behind it, in words.
    """

    middleware: str
    path: str
    action: Action
    reason: str

    def to_dict(self) -> dict[str, str]:
        """The entry as plain JSON."""
        return {
            "middleware": self.middleware,
            "path": self.path,
            "action": self.action.value,
            "reason": self.reason,
        }


@frozen
class Explanation:
    """What ``Pipeline.explain`` returns: the target, every change, and the body that results.

    Attributes:
        api: the wire.
        target: the family detection answer for the request.
        changes: one entry per decision, in chain order.
        body: the outgoing body (the same object as the input's when nothing changed).
    """

    api: str
    target: FamilyMatch
    changes: tuple[Change, ...]
    body: JSONObject

    @property
    def changed(self) -> bool:
        """Whether any middleware changed the body."""
        return any(c.action not in (Action.KEPT, Action.WARNING) for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON (without the body)."""
        return {
            "api": self.api,
            "family": self.target.family.name,
            "rule": self.target.rule,
            "model": self.target.model,
            "host": self.target.host,
            "detection": self.target.describe(),
            "changes": [c.to_dict() for c in self.changes],
        }

    def __str__(self) -> str:
        lines = [f"{self.target.describe()}", f"wire: {self.api}, host: {self.target.host}"]
        if not self.changes:
            lines.append("no changes: the body goes out as it came in")
            return "\n".join(lines)
        width = max(len(c.path) for c in self.changes)
        act = max(len(c.action.value) for c in self.changes)
        for c in self.changes:
            lines.append(f"  {c.path:<{width}}  {c.action.value:<{act}}  {c.reason}")
        return "\n".join(lines)


def dumps(body: JSONObject) -> str:
    """Serialize a body the way the CLI prints it (stable, readable, non-ASCII kept)."""
    return json.dumps(body, indent=2, ensure_ascii=False)


class Notes:
    """Collects the ``Change`` entries of one middleware while ``explain`` runs it."""

    __slots__ = ("changes", "middleware")

    def __init__(self, middleware: str) -> None:
        self.middleware = middleware
        self.changes: list[Change] = []

    def add(self, path: str, action: Action, reason: str) -> None:
        """Record one decision."""
        self.changes.append(Change(self.middleware, path, action, reason))
