"""One call's dealings with its shared stores: their answers (read once), the writes it could
not make on the event loop, how the stores fared, and at most one warning.

A transport opens one ``Lookups`` per call and makes it ``CURRENT`` while the chain runs, so a
retry after a classified error reads nothing again. The async transport reads each store's
batch before the chain runs (``prefetch``, off the event loop, within the store's time limit),
and the chain then only reads answers; a sync caller's chain reads its batch itself, once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from agent.store.batch import STATES, Found, State, Wanted
from agent.store.guard import aread, guard_of, read_now, worst
from agent.store.turns import ThinkingStore

log = logging.getLogger(__name__)


class Lookups:
    """One call's store answers and fate.

    Attributes:
        sync: whether the chain may read a store itself (a sync caller); in an async
            transport it only reads what was fetched before it ran.
        warned: whether this call has logged its one store warning.
    """

    def __init__(self, sync: bool) -> None:
        self.sync = sync
        self.warned = False
        self._found: dict[int, tuple[ThinkingStore, Found]] = {}
        self._writes: list[tuple[ThinkingStore, Callable[[], None]]] = []
        self._write_state: State = "ok"

    def found(self, store: ThinkingStore, gather: Callable[[], Wanted]) -> Found:
        """The call's answers from ``store``: read once (sync), or what was fetched (async;
        a store not fetched answers nothing, and every key the pass asks is a miss)."""
        hit = self._found.get(id(store))
        if hit is not None:
            return hit[1]
        found = read_now(store, gather()) if self.sync else Found(Wanted())
        self._keep(store, found)
        return found

    def _keep(self, store: ThinkingStore, found: Found) -> None:
        self._found[id(store)] = (store, found)
        if found.state != "ok":
            self.warn(store, found.state)

    async def prefetch(self, store: ThinkingStore, wanted: Wanted) -> None:
        """Read ``store``'s answers to ``wanted`` before the chain runs."""
        self._keep(store, await aread(store, wanted))

    def missed(self) -> bool:
        """Whether the chain asked for keys that were not fetched."""
        return any(f.missed for _, f in self._found.values() if f.state == "ok")

    async def fetch_missed(self) -> None:
        """Fetch, in one more batch per store, what the chain asked for and was not fetched."""
        for store, found in list(self._found.values()):
            if found.missed and found.state == "ok":
                more = await aread(store, found.missed)
                found.merge(more)
                if more.state != "ok":
                    self.warn(store, more.state)

    def defer(self, store: ThinkingStore, write: Callable[[], None]) -> None:
        """A write the chain made on the event loop, to be made off it (``flush``)."""
        self._writes.append((store, write))

    async def flush(self) -> None:
        """Make the deferred writes on each store's threads, within its time limit."""
        writes, self._writes = self._writes, []
        for store, write in writes:
            guard = guard_of(store)
            try:
                await guard.run(write)
            except TimeoutError:
                guard.trip()
                self.failed_write(store, "timeout")
            except Exception:  # the write says why in its own StoreError; one warning per call
                self.failed_write(store, "unavailable")

    def failed_write(self, store: ThinkingStore, state: State) -> None:
        """A write of this call failed (counted with the reads, warned about once)."""
        self._write_state = worst(self._write_state, state)
        self.warn(store, state, "write")

    def warn(self, store: ThinkingStore, state: State, what: str = "read") -> None:
        """The call's one store warning: later failures of the same call are only counted."""
        if self.warned:
            return
        self.warned = True
        log.warning(
            "thinking store %s: %s %s; this call goes on as if nothing had been observed "
            "(the pad and pass-through rules apply)",
            type(store).__name__,
            what,
            "timed out" if state == "timeout" else "unavailable",
        )

    @property
    def state(self) -> State:
        """How the call's stores fared, reads and writes together."""
        return worst(self._write_state, *(f.state for _, f in self._found.values()))

    def summary(self) -> dict[str, Any]:
        """The store's fate for the call, as the access log shows it:
        ``{"state": "ok" | "timeout" | "unavailable", "unrestored": turns}``."""
        unrestored = sum(len(f.unrestored) for _, f in self._found.values())
        return {"state": self.state, "unrestored": unrestored}


def fate(agent: Mapping[str, Any] | None) -> tuple[State, int] | None:
    """How the store fared for one call, from a response's ``extensions["agent"]``: (state,
    turns it could not give back), or None for a call the pipeline did not run. What a metrics
    endpoint counts: calls by state, and the turns not restored."""
    store = agent.get("store") if isinstance(agent, Mapping) else None
    if not isinstance(store, Mapping) or store.get("state") not in STATES:
        return None
    return store["state"], int(store.get("unrestored") or 0)


#: The call the chain runs for (set by the transports).
CURRENT: ContextVar[Lookups | None] = ContextVar("agent_store_lookups", default=None)


@contextlib.contextmanager
def current(lookups: Lookups) -> Iterator[Lookups]:
    """Make ``lookups`` the call the chain runs for, for the block's length."""
    token = CURRENT.set(lookups)
    try:
        yield lookups
    finally:
        CURRENT.reset(token)
