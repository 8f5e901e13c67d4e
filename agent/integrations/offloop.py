"""A chain's shared stores as a transport on an event loop deals with them: each call's keys
read before the chain runs, and every write, on the store's own threads and within its time
limit, so the loop (the gateway's health check, every other call) never waits for a store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx2

from agent.pipeline import Pipeline
from agent.request import Request
from agent.store import ThinkingStore, Wanted, guard_of, is_local
from agent.store.lookups import Lookups


class SharedStores:
    """The stores of a chain's middleware that live outside the process (each with what
    gathers a call's keys for it: ``ThinkingRoundTrip.wanted``)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.stores: list[tuple[Callable[[Request], Wanted], ThinkingStore]] = []
        for middleware in pipeline.middleware:
            gather, store = getattr(middleware, "wanted", None), getattr(middleware, "store", None)
            if callable(gather) and isinstance(store, ThinkingStore) and not is_local(store):
                self.stores.append((gather, store))

    def __bool__(self) -> bool:
        return bool(self.stores)

    async def prefetch(self, lookups: Lookups, request: Request) -> None:
        """Read each store's answers to the keys the chain may look up for ``request``."""
        for gather, store in self.stores:
            await lookups.prefetch(store, gather(request))

    async def write(self, lookups: Lookups, write: Callable[..., None], *args: Any) -> None:
        """``write(*args)`` on the first store's threads, given up on after its time limit."""
        store = self.stores[0][1]
        guard = guard_of(store)
        try:
            await guard.run(write, *args)
        except TimeoutError:
            guard.trip()
            lookups.failed_write(store, "timeout")

    def streamed(
        self, report: Callable[[Any], None], lookups: Lookups
    ) -> tuple[Callable[[Any], None], Callable[[], Awaitable[None]] | None]:
        """A stream's ``report`` made off the loop (started as soon as the answer is
        complete), and what the stream waits for at its end; ``report`` itself, and nothing
        to wait for, without a shared store."""
        if not self.stores:
            return report, None
        pending: list[asyncio.Future[None]] = []

        def started(acc: Any) -> None:
            pending.append(asyncio.ensure_future(self.write(lookups, report, acc)))

        async def written() -> None:
            if pending:
                await pending[0]

        return started, written


class Then(httpx2.AsyncByteStream):
    """A stream that, once read to its end, waits for ``then`` (the write of what it
    carried) before it ends: the client's next call finds the turn in a shared store."""

    def __init__(self, inner: httpx2.AsyncByteStream, then: Callable[[], Awaitable[None]]):
        self._inner = inner
        self._then = then

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk
        await self._then()

    async def aclose(self) -> None:
        await self._inner.aclose()
