"""MemoryStore: the round-trip store in this process's memory, bounded by turns and bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import ClassVar

from attrs import define, field

from agent.errors import InvalidOption, shown
from agent.store.batch import Found, Wanted
from agent.store.turns import Origin, StoredTurn, keys_of

#: MemoryStore's default byte bound: 256 MB of kept texts, signatures and data.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def _whole(name: str, value: object) -> None:
    if type(value) is not int or value < 1:
        raise InvalidOption(name, f"must be a whole number >= 1, got {shown(value)}")


@define
class MemoryStore:
    """A bounded in-memory ThinkingStore: the oldest turns are forgotten past ``max_turns``
    turns or ``max_bytes`` bytes, with every index entry that points at them.

    Attributes:
        max_turns: how many observed turns to keep.
        max_bytes: about how much memory the kept turns may take: the characters of their
            texts, signatures, data and tool ids, plus a fixed charge per block (default
            256 MB). A turn larger than the whole bound is not kept.
    """

    #: Answers from memory: the pass looks keys up as it goes, with no batch gathered first.
    local: ClassVar[bool] = True

    max_turns: int = 10_000
    max_bytes: int = DEFAULT_MAX_BYTES
    _turns: OrderedDict[int, StoredTurn] = field(init=False, factory=OrderedDict)
    _sizes: dict[int, int] = field(init=False, factory=dict)
    _bytes: int = field(init=False, default=0)
    # signature -> (turn key, origin): the origin right in the index, as ThinkingRoundTrip
    # looks one up for every signed block it sends
    _by_signature: dict[str, tuple[int, Origin]] = field(init=False, factory=dict)
    _by_text: dict[str, tuple[int, Origin]] = field(init=False, factory=dict)
    _by_tool: dict[str, int] = field(init=False, factory=dict)
    _rejected: OrderedDict[str, None] = field(init=False, factory=OrderedDict)
    _rejected_view: frozenset[str] = field(init=False, default=frozenset())
    _lock: threading.Lock = field(init=False, factory=threading.Lock)
    _next: int = field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        _whole("max_turns", self.max_turns)
        _whole("max_bytes", self.max_bytes)

    def __len__(self) -> int:
        return len(self._turns)

    def __bool__(self) -> bool:
        """A store is a store, empty or not (``store or MemoryStore()`` must keep it)."""
        return True

    @property
    def nbytes(self) -> int:
        """The size the bound counts of the turns kept now."""
        return self._bytes

    def record(self, turn: StoredTurn) -> None:
        """Remember one observed turn, evicting the oldest past either bound."""
        # copies of the blocks: what the agent later does to its response objects does not
        # change what is kept; counted as their strings' lengths plus a charge per block
        size = _BLOCK_CHARGE + len(turn.reasoning or "") + 64 * len(turn.tool_ids)
        for text in (*turn.tool_ids, *turn.signatures):
            size += len(text) if text else 0
        blocks = tuple([(dict(block), position) for block, position in turn.blocks])
        details = tuple([dict(item) for item in turn.details])
        for item in (*[block for block, _ in blocks], *details):
            size += _BLOCK_CHARGE
            for value in item.values():
                if isinstance(value, str):
                    size += len(value)
        turn = StoredTurn(
            turn.origin,
            blocks,
            turn.reasoning,
            turn.tool_ids,
            turn.size,
            details,
            turn.signatures,
        )
        if size > self.max_bytes:
            return  # larger than the whole bound: keeping it would evict everything
        origin = turn.origin
        with self._lock:
            key = self._next
            self._next = key + 1
            self._turns[key] = turn
            self._sizes[key] = size
            self._bytes += size
            for sig, text in keys_of(turn):
                if sig:
                    self._by_signature[sig] = (key, origin)
                if text:
                    self._by_text[text] = (key, origin)
            for tool_id in turn.tool_ids:
                self._by_tool[tool_id] = key
            while len(self._turns) > self.max_turns or self._bytes > self.max_bytes:
                old_key, old = self._turns.popitem(last=False)
                self._forget(old_key, old)

    def _forget(self, key: int, turn: StoredTurn) -> None:
        self._bytes -= self._sizes.pop(key)
        for sig, text in keys_of(turn):
            if sig and self._by_signature.get(sig, (None,))[0] == key:
                del self._by_signature[sig]
            if text and self._by_text.get(text, (None,))[0] == key:
                del self._by_text[text]
        for tool_id in turn.tool_ids:
            if self._by_tool.get(tool_id) == key:
                del self._by_tool[tool_id]

    def _turn(self, index: dict[str, int], key: str) -> StoredTurn | None:
        # dict reads are atomic under the GIL; a turn evicted meanwhile reads as "not seen"
        at = index.get(key)
        return None if at is None else self._turns.get(at)

    def origin_of_signature(self, signature: str) -> Origin | None:
        """The origin of a signature or redacted ``data``, if observed."""
        hit = self._by_signature.get(signature)  # on the hot path: one per signed block
        return None if hit is None else hit[1]

    def origin_of_text(self, text: str) -> Origin | None:
        """The origin of a reasoning text, if observed."""
        hit = self._by_text.get(text)  # on the hot path: one per unsigned block
        return None if hit is None else hit[1]

    def turn_for_tool(self, tool_id: str) -> StoredTurn | None:
        """The observed turn that made the tool call ``tool_id``, if any."""
        return self._turn(self._by_tool, tool_id)

    def reject(self, key: str) -> None:
        """Remember a rejected signature (as many as ``max_turns``, the oldest forgotten)."""
        with self._lock:
            self._rejected[key] = None
            while len(self._rejected) > self.max_turns:
                self._rejected.popitem(last=False)
            self._rejected_view = frozenset(self._rejected)

    def rejected(self) -> frozenset[str]:
        """The rejected signatures, as a set read once per call."""
        return self._rejected_view

    def lookup(self, wanted: Wanted) -> Found:
        """Every key of ``wanted`` at once (what a batched store answers)."""
        turns = {t: turn for t in wanted.fetched() if (turn := self.turn_for_tool(t))}
        signatures = {
            s: origin for s in wanted.signatures if (origin := self.origin_of_signature(s))
        }
        texts = {t: origin for t in wanted.texts if (origin := self.origin_of_text(t))}
        return Found(wanted, turns, signatures, texts, self._rejected_view)


#: what a kept block costs beyond its strings (the dict, the tuple, the index entries)
_BLOCK_CHARGE = 256
