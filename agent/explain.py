"""What ``Pipeline.explain`` reports: one entry per decision, and how middleware record them.

A middleware records a decision with ``notes.add(path, action, reason, *args)``. The reason is
a ``str.format`` template filled only when someone listens: during a plain call the notes are
``SILENT`` and recording costs one method call, no formatting, no allocation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from attrs import frozen

if TYPE_CHECKING:
    from agent.families import FamilyMatch

#: A JSON object as the wire carries it: plain dicts, lists, strings, numbers.
JSONObject = Mapping[str, Any]


class Action(StrEnum):
    """What a middleware did at one JSON path."""

    KEPT = "kept"
    DROPPED = "dropped"
    UNSIGNED = "unsigned"
    PADDED = "padded"
    CONVERTED = "converted"
    RESTORED = "restored"
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


class Notes:
    """Collects the ``Change`` entries of one middleware while ``explain`` runs it."""

    __slots__ = ("changes", "middleware")

    #: Whether anyone reads these notes (False only for ``SILENT``).
    listening = True

    def __init__(self, middleware: str) -> None:
        self.middleware = middleware
        self.changes: list[Change] = []

    def add(self, path: object, action: Action, reason: str, *args: object) -> None:
        """Record one decision; ``reason`` is formatted with ``args`` (``str.format``)."""
        text = reason.format(*args) if args else reason
        self.changes.append(Change(self.middleware, str(path), action, text))


class _Silent(Notes):
    """Notes nobody reads: every ``add`` is a no-op."""

    __slots__ = ()
    listening = False

    def add(self, path: object, action: Action, reason: str, *args: object) -> None:
        """Ignore the decision."""


#: The notes of a plain call: nothing is recorded or formatted.
SILENT: Notes = _Silent("")


class Tally(Notes):
    """Notes that only count the decisions by action (the gateway's access log): nothing is
    formatted or kept. One Tally may be shared by every middleware of a chain."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        super().__init__("")
        self.counts: dict[str, int] = {}

    def add(self, path: object, action: Action, reason: str, *args: object) -> None:
        """Count the decision."""
        key = _VALUES[action]
        self.counts[key] = self.counts.get(key, 0) + 1

    def count(self, action: Action, times: int) -> None:
        """Count ``times`` decisions of one kind at once (the chain's common cases)."""
        if times:
            key = _VALUES[action]
            self.counts[key] = self.counts.get(key, 0) + times


#: Each action's value, looked up (``.value`` is a slow descriptor, on every turn counted).
_VALUES: dict[Action, str] = {action: action.value for action in Action}


@frozen
class Explanation:
    """What ``Pipeline.explain`` returns: the target, every change, and the body that results.

    Attributes:
        api: the wire.
        target: the family detection answer for the request.
        changes: one entry per decision, in chain order.
        body: the outgoing body (the same object as the input's when nothing changed).
        provider: the configured provider the request was for, if named.
    """

    api: str
    target: FamilyMatch
    changes: tuple[Change, ...]
    body: JSONObject
    provider: str | None = None

    @property
    def changed(self) -> bool:
        """Whether any middleware changed the body."""
        return any(c.action not in (Action.KEPT, Action.WARNING) for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON (without the body)."""
        return {
            "api": self.api,
            "provider": self.provider,
            "family": self.target.family.name,
            "rule": self.target.rule,
            "model": self.target.model,
            "host": self.target.host,
            "dialect": self.target.dialect.name,
            "detection": self.target.describe_target(),
            "changes": [c.to_dict() for c in self.changes],
        }

    def __str__(self) -> str:
        where = f"wire: {self.api}, host: {self.target.host}"
        if self.provider is not None:
            where += f", provider: {self.provider}"
        lines = [self.target.describe_target(), where]
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
