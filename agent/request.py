"""Request: the outgoing call as a frozen value, and the records ``explain`` returns."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from attrs import Attribute, field, frozen

from agent.errors import InvalidRequest
from agent.families import APIS, FamilyMatch

#: A JSON object as the wire carries it: plain dicts, lists, strings, numbers.
JSONObject = Mapping[str, Any]


def _check_api(_: object, __: Attribute[str], value: object) -> None:
    if value not in APIS:
        raise InvalidRequest("api", f"expected one of {', '.join(APIS)}, got {value!r}")


def _check_body(_: object, __: Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise InvalidRequest("", f"the body must be a JSON object, got {type(value).__name__}")


def _check_base_url(_: object, __: Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidRequest("base_url", f"expected a URL string or None, got {value!r}")


def _signatures(items: Iterable[str]) -> frozenset[str]:
    return frozenset(items)


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

    api: str = field(validator=_check_api)
    body: JSONObject = field(validator=_check_body)
    base_url: str | None = field(default=None, validator=_check_base_url)
    provider: str | None = None
    family: str | None = None
    resolved: FamilyMatch | None = field(default=None, eq=False, repr=False)
    dead_signatures: frozenset[str] = field(default=frozenset(), converter=_signatures, repr=False)

    @property
    def model(self) -> str:
        """The ``model`` of the body ('' when absent)."""
        model = self.body.get("model")
        return model if isinstance(model, str) else ""


class Action(StrEnum):
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
