"""The per-call state of one ThinkingRoundTrip run (never kept on the middleware)."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple, Protocol

from attrs import evolve

from agent.body import block_key, with_messages
from agent.explain import Action, Notes
from agent.families import FamilyMatch
from agent.families.contracts import BlockMode, keeps_every
from agent.request import Request
from agent.store import Origin, StoredTurn, ThinkingStore


class Note(NamedTuple):
    """One explain entry waiting for its path (a named tuple: a pass makes one per block on
    its hot path, where an attrs instance costs several times as much)."""

    suffix: str
    action: Action
    reason: str
    args: tuple[Any, ...] = ()


@functools.lru_cache(maxsize=256)
def _kept_own(family: str) -> tuple[Note, ...]:
    """The explain entry of an own signed block kept (made once per family, not per call)."""
    reason = ("own signed thinking passed back verbatim, in order", family)
    return (Note("", Action.KEPT, "{} ({})", reason),)


HOW_TO_SET = (
    "set `family:` on the provider in config (or Request(family=...)) if this endpoint "
    "wants reasoning back"
)


class View(Protocol):
    """What one call reads from the store: a store that answers from memory, or the
    answers a shared store gave for the call's keys (``agent.store.Found``)."""

    def turn_for_tool(self, tool_id: str) -> StoredTurn | None:
        """The observed turn that made the tool call ``tool_id``, if any."""

    def origin_of_signature(self, signature: str) -> Origin | None:
        """The origin of a signature or redacted data, if observed."""

    def origin_of_text(self, text: str) -> Origin | None:
        """The origin of a reasoning text, if observed."""

    def rejected(self) -> frozenset[str]:
        """The rejected signatures the call may meet."""


class Options(Protocol):
    """The options a run reads (ThinkingRoundTrip's fields)."""

    @property
    def unsigned_to_anthropic(self) -> str:
        """``drop`` or ``text``."""

    @property
    def foreign(self) -> str:
        """``pad``, ``keep_text`` or ``drop``."""

    @property
    def on_missing_loop_thinking(self) -> str:
        """``send``, ``raise`` or ``drop_param``."""

    @property
    def reasoning_field(self) -> str:
        """``auto`` (the host dialect decides) or the chat field reasoning travels in."""

    @property
    def preserve_reasoning(self) -> bool:
        """Whether the host's own switch to keep earlier reasoning is set."""

    @property
    def restore(self) -> bool:
        """Whether lost thinking is put back from the store."""

    @property
    def store(self) -> ThinkingStore:
        """Where observed thinking lives."""

    def trusts(self, origin: Origin, match: FamilyMatch) -> bool:
        """Whether a signature minted at ``origin`` verifies at the target of ``match``."""

    def view(self, request: Request) -> View:
        """What the call reads from the store (a shared store's answers read in one batch)."""


class Held(Notes):
    """Notes held back from ``inner`` until ``replay`` (a pass that may be run again)."""

    __slots__ = ("held", "inner")

    def __init__(self, inner: Notes) -> None:
        super().__init__(inner.middleware)
        self.inner = inner
        self.held: list[tuple[object, Action, str, tuple[object, ...]]] = []

    def add(self, path: object, action: Action, reason: str, *args: object) -> None:
        """Hold the decision."""
        self.held.append((path, action, reason, args))

    def replay(self) -> None:
        """Give ``inner`` the held decisions, in order."""
        for path, action, reason, args in self.held:
            self.inner.add(path, action, reason, *args)


class Call:
    """What one run knows: the options, the resolved target, the store's view, the notes.

    Attributes:
        options: the ThinkingRoundTrip being run (its fields are the options).
        request: the request, resolved.
        match: its one family answer.
        mode: what the family's prior thinking blocks get on the Anthropic wire (its
            contract's ``thinking``).
        dialect: how the host carries reasoning (the answer's dialect row).
        every_message: the target wants reasoning on every assistant message (preserved
            thinking), not only where the family's ``pad_on`` says.
        notes: where decisions are recorded (``SILENT`` on a plain call).
        dead: signatures and redacted data that must not be sent as signed thinking (the
            request's dead marks and the provider-rejected ones).
        rejected: the provider-rejected ones alone.
        plain_notes: explain entries a policy makes once per call (its common case's, the
            same for every block), by the policy's key.
        view: what the call reads from the store; ``turn_for_tool``, ``origin_of`` and
            ``origin_of_text`` are its lookups (a pass looks up through these, never through
            the store itself: a shared store answers the call's keys in one batch).
    """

    __slots__ = (
        "dead",
        "dialect",
        "every_message",
        "family",
        "kept_own",
        "last_origin",
        "listening",
        "match",
        "mode",
        "notes",
        "options",
        "origin_of",
        "origin_of_text",
        "plain_notes",
        "rejected",
        "request",
        "trusted",
        "turn_for_tool",
        "view",
    )

    def __init__(
        self, options: Options, request: Request, notes: Notes, view: View | None = None
    ) -> None:
        self.options = options
        self.request = request
        self.match: FamilyMatch = request.resolved or request.match
        self.family = self.match.family
        self.mode: BlockMode = self.family.anthropic.thinking
        self.dialect = self.match.dialect
        contract = (
            self.family.anthropic if request.api == "anthropic_messages" else self.family.chat
        )
        # preserved thinking: reasoning (or the pad) on every assistant message (Kimi)
        self.every_message = keeps_every(
            contract.pad_every, contract.keep_switch, self.match.model, request.body
        )
        self.notes = notes
        self.listening = notes.listening
        self.view = view if view is not None else options.view(request)
        self.rejected = self.view.rejected()
        dead = request.dead_signatures
        self.dead = dead | self.rejected if self.rejected else dead
        self.origin_of = self.view.origin_of_signature  # looked up once per call
        self.origin_of_text = self.view.origin_of_text
        self.turn_for_tool = self.view.turn_for_tool
        self.trusted: dict[Origin, bool] = {}  # per call: origins seen are few, blocks many
        self.last_origin: Origin | None = None  # most blocks share one origin: the last trusted
        # the explain entries of the common cases, made once per call (a policy's, by key)
        self.plain_notes: dict[object, tuple[Note, ...]] = {}
        self.kept_own = _kept_own(self.family.name)

    @property
    def target(self) -> str:
        """The target in words, for reasons."""
        return f"{self.match.model} at {self.match.host}"

    def foreign_origin(
        self, signature: str | None, text: str | None, message: int | None = None
    ) -> Origin | None:
        """The origin of a block if it was observed from a target it does not verify at.

        A block of assistant message ``message``'s own observed turn (found by its tool call
        ids, observed at a target trusted here) is that turn's own, whatever the store's index
        says of its signature or text: the same reasoning observed again at another target
        moves the index, not the turn (restore puts such a block back; a second run keeps it).
        """
        origin = None
        if signature:
            origin = self.origin_of(signature)
        elif text and not text.isspace():
            origin = self.origin_of_text(text)
        if origin is None or origin is self.last_origin:
            return None
        trusted = self.trusted.get(origin)
        if trusted is None:
            trusted = self.trusted[origin] = self.options.trusts(origin, self.match)
        if trusted:
            self.last_origin = origin
            return None
        if message is not None and self._in_own_turn(message, signature, text):
            return None
        return origin

    def _in_own_turn(self, i: int, signature: str | None, text: str | None) -> bool:
        """Whether a block (by its signature, else its unsigned text) is one of the observed
        turn of assistant message ``i``'s tool calls, from a trusted origin."""
        for tool_id in self.request.history.tool_ids(i):
            turn = self.turn_for_tool(tool_id)
            if turn is None or not self.options.trusts(turn.origin, self.match):
                continue
            for block, _ in turn.blocks:
                key = block_key(block)
                if (
                    (key == signature)
                    if signature
                    else (key is None and block.get("thinking") == text)
                ):
                    return True
        return False

    def dead_reason(self, key: str, what: str = "signature") -> str:
        """Why a dead signature (or redacted data) is not sent."""
        if key in self.rejected:
            return f"the provider rejected this {what} before (remembered from its 400)"
        return (
            f"its turn was restructured (a tool_use was removed), so its {what} no longer verifies"
        )

    def flush(self, path: object, notes: tuple[Note, ...]) -> None:
        """Record the notes of one JSON path."""
        for suffix, action, reason, args in notes:
            self.notes.add(f"{path}{suffix}", action, reason, *args)

    def finish(self, messages: list[Any] | None, body: Any = None) -> Request:
        """The request with new ``messages`` (or ``body``), or the very same one for None."""
        if body is None:
            if messages is None:
                return self.request
            body = with_messages(self.request.body, messages)
        return evolve(self.request, body=body, resolved=self.match)
