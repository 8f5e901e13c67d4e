"""One call's lookups in one batch: the keys a call may need (``Wanted``), gathered before its
pass runs, and the store's answers to all of them (``Found``), read in one go.

A pass never asks a shared store one key at a time: each wire declares what its pass may look
up (``agent.middleware.needs``), the store answers every key in one round trip (Redis: one
pipeline; SQLite: one query), and the pass reads the answers. A key the pass asks for that was
not gathered is a miss: answered "not seen", remembered, fetched with the other misses in one
more batch, and the pass run again (so a pass that forgets to declare a key costs a round trip,
never a wrong answer).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Literal, Protocol, runtime_checkable

from agent.errors import StoreError
from agent.store.turns import Origin, StoredTurn, ThinkingStore, block_keys

#: How a store fared for one call: answered, too slow (``timeout_ms``), or not reachable
#: (or known to be down: after a failure the store is not asked again for a second).
State = Literal["ok", "timeout", "unavailable"]
STATES: tuple[State, ...] = ("ok", "timeout", "unavailable")


class StoreTimeout(StoreError):
    """A shared store did not answer within its time limit."""


class Wanted:
    """The keys one call may look up.

    Attributes:
        tools: tool call id -> whether its turn is read (True) or only kept alive (False: a
            shared store refreshes its expiry, so a conversation that goes on keeps its turns).
        signatures: signatures, redacted data and encrypted content (their origin, and whether
            a provider rejected them).
        texts: reasoning texts (their origin).
    """

    __slots__ = ("signatures", "texts", "tools")

    def __init__(self) -> None:
        self.tools: dict[str, bool] = {}
        self.signatures: set[str] = set()
        self.texts: set[str] = set()

    def tool(self, tool_id: object, fetch: bool = True) -> None:
        """Want the turn that made the tool call ``tool_id`` (or, ``fetch=False``, only keep
        it alive); anything but a non-empty string is no key."""
        if isinstance(tool_id, str) and tool_id and not self.tools.get(tool_id):
            self.tools[tool_id] = fetch

    def signature(self, key: object) -> None:
        """Want the origin (and rejection) of a signature, redacted data or encrypted content."""
        if isinstance(key, str) and key:
            self.signatures.add(key)

    def text(self, text: object) -> None:
        """Want the origin of a reasoning text (a blank one is a pad, never a key)."""
        if isinstance(text, str) and text and not text.isspace():
            self.texts.add(text)

    def fetched(self) -> list[str]:
        """The tool ids whose turns are read."""
        return [t for t, fetch in self.tools.items() if fetch]

    def update(self, other: Wanted) -> None:
        """Add ``other``'s keys."""
        for tool_id, fetch in other.tools.items():
            self.tool(tool_id, fetch)
        self.signatures |= other.signatures
        self.texts |= other.texts

    def __len__(self) -> int:
        return len(self.tools) + len(self.signatures) + len(self.texts)

    def __bool__(self) -> bool:
        return bool(self.tools or self.signatures or self.texts)


class Recent:
    """A bounded set, the oldest entries forgotten first (thread-safe): the rejections a
    process has seen, so an outage of a shared store does not send one again."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._items: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str) -> None:
        with self._lock:
            self._items[key] = None
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def among(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` it holds."""
        items = self._items
        return {k for k in keys if k in items}

    def view(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


class Found:
    """A store's answers to one call's keys, and how the store fared.

    Attributes:
        wanted: what was asked.
        turns, signatures, texts: what was found (by tool id, signature, text).
        state: ``ok``, ``timeout`` or ``unavailable`` (then nothing was found: the call goes
            on as if nothing had been observed, and the pad or pass-through rules apply).
        missed: keys the pass asked for that were not in ``wanted``.
        unrestored: tool ids whose turn the pass asked for while the store was not there.
    """

    __slots__ = (
        "_rejected",
        "missed",
        "remembered",
        "signatures",
        "state",
        "texts",
        "turns",
        "unrestored",
        "wanted",
    )

    def __init__(
        self,
        wanted: Wanted,
        turns: dict[str, StoredTurn] | None = None,
        signatures: dict[str, Origin] | None = None,
        texts: dict[str, Origin] | None = None,
        rejected: Iterable[str] = (),
        state: State = "ok",
        remembered: Recent | None = None,
    ) -> None:
        self.wanted = wanted
        self.turns = turns if turns is not None else {}
        self.signatures = signatures if signatures is not None else {}
        self.texts = texts if texts is not None else {}
        self._rejected = set(rejected)
        self.state: State = state
        self.remembered = remembered
        self.missed = Wanted()
        self.unrestored: set[str] = set()

    def turn_for_tool(self, tool_id: str) -> StoredTurn | None:
        """The observed turn that made the tool call ``tool_id``, if found."""
        turn = self.turns.get(tool_id)
        if turn is not None:
            return turn
        if self.state != "ok":
            self.unrestored.add(tool_id)
        elif not self.wanted.tools.get(tool_id):
            self.missed.tool(tool_id)
        return None

    def origin_of_signature(self, signature: str) -> Origin | None:
        """The origin of a signature or redacted data, if found."""
        origin = self.signatures.get(signature)
        if origin is None and self.state == "ok" and signature not in self.wanted.signatures:
            self.missed.signature(signature)
        return origin

    def origin_of_text(self, text: str) -> Origin | None:
        """The origin of a reasoning text, if found."""
        origin = self.texts.get(text)
        if origin is None and self.state == "ok" and text not in self.wanted.texts:
            self.missed.text(text)
        return origin

    def rejected(self) -> frozenset[str]:
        """The rejected ones among the call's signatures and those of the turns found: what
        the store said, and what this process has seen itself."""
        if self.remembered is None or not len(self.remembered):
            return frozenset(self._rejected)
        keys = set(self.wanted.signatures)
        for turn in self.turns.values():
            keys.update(block_keys(turn))
        return frozenset(self._rejected | self.remembered.among(keys))

    def merge(self, other: Found) -> None:
        """Take ``other``'s answers (a second batch for the same call)."""
        self.wanted.update(other.wanted)
        self.turns.update(other.turns)
        self.signatures.update(other.signatures)
        self.texts.update(other.texts)
        self._rejected |= other._rejected
        if other.state != "ok":
            self.state = other.state
        self.missed = Wanted()

    @classmethod
    def failed(cls, wanted: Wanted, state: State, remembered: Recent | None = None) -> Found:
        """Nothing found: the store timed out or is unavailable."""
        rejected = remembered.among(wanted.signatures) if remembered is not None else ()
        return cls(wanted, rejected=rejected, state=state, remembered=remembered)


@runtime_checkable
class Batched(Protocol):
    """A store that answers a whole call's keys at once (the built-in stores do)."""

    def lookup(self, wanted: Wanted) -> Found:
        """Every key of ``wanted`` in one batch; never raises (a store that cannot be read
        answers with ``state`` set and nothing found)."""


def read(store: ThinkingStore, wanted: Wanted) -> Found:
    """``store``'s answers to ``wanted``: its own batch, or one lookup per key for a store
    that has only the per-key methods."""
    if isinstance(store, Batched):
        return store.lookup(wanted)
    turns = {t: turn for t in wanted.fetched() if (turn := store.turn_for_tool(t)) is not None}
    signatures = {s: origin for s in wanted.signatures if (origin := store.origin_of_signature(s))}
    texts = {t: origin for t in wanted.texts if (origin := store.origin_of_text(t)) is not None}
    return Found(wanted, turns, signatures, texts, store.rejected())


def is_local(store: object) -> bool:
    """Whether a store answers from this process's memory (no I/O: looked up key by key as
    the pass goes, with no batch gathered first)."""
    return getattr(store, "local", False) is True
