"""A shared store's guard: a time limit, a circuit breaker, and threads of its own.

A store that lives in another process (Redis, a SQLite file) is never waited on longer than its
time limit, and never on an event loop: the async transport runs its reads and writes on the
guard's threads and gives up on them after ``timeout`` seconds (the call then goes on as "not
seen"). After a failure the store is left alone for ``cool_off`` seconds: calls in between do
not try it (state ``unavailable``), so a frozen store costs one call the time limit, not every
call. The guard also keeps the rejections this process has seen (a bounded set), so an outage
does not send a rejected signature again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from agent.store.batch import Found, Recent, State, Wanted, read
from agent.store.turns import ThinkingStore

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a store is not tried after it failed.
COOL_OFF = 1.0
#: The threads that wait on one store (a frozen store holds each for at most its time limit).
THREADS = 16


class Guard:
    """The time limit, circuit breaker, threads and seen rejections of one shared store.

    Attributes:
        timeout: seconds a read or write may take before the call goes on without it.
        cool_off: seconds the store is not tried after a failure.
        rejections: the rejected signatures this process has seen (bounded).
    """

    def __init__(self, timeout: float, cool_off: float = COOL_OFF, remembered: int = 10_000):
        self.timeout = timeout
        self.cool_off = cool_off
        self.rejections = Recent(remembered)
        self._down_until = 0.0
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def down(self) -> bool:
        """Whether the store failed less than ``cool_off`` seconds ago (then it is not tried)."""
        return self._down_until > 0 and time.monotonic() < self._down_until

    def trip(self) -> None:
        """The store failed: leave it alone for ``cool_off`` seconds."""
        self._down_until = time.monotonic() + self.cool_off

    def reset(self) -> None:
        """The store answered."""
        self._down_until = 0.0

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(THREADS, thread_name_prefix="agent-store")
            return self._executor

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the guard's threads, given up on after ``timeout`` seconds
        (TimeoutError; the thread finishes on its own, within the store's socket time-out)."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool(), functools.partial(fn, *args))
        return await asyncio.wait_for(future, self.timeout)

    def close(self) -> None:
        """Let the threads go (those still waiting finish on their own)."""
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None


#: The guard of stores that bring none (a ThinkingStore of one's own).
_SHARED = Guard(timeout=1.0)


def guard_of(store: object) -> Guard:
    """The store's own guard (the built-in shared stores have one), else a shared one."""
    guard = getattr(store, "guard", None)
    return guard if isinstance(guard, Guard) else _SHARED


def read_now(store: ThinkingStore, wanted: Wanted) -> Found:
    """The store's answers, read on this thread (never raises: a store that cannot be read
    answers nothing, with its state)."""
    guard = guard_of(store)
    if guard.down():
        return Found.failed(wanted, "unavailable", guard.rejections)
    try:
        return read(store, wanted)
    except Exception as exc:  # a store of one's own that raises must not fail the call
        guard.trip()
        log.debug("thinking store lookup failed: %s", type(exc).__name__)
        return Found.failed(wanted, "unavailable", guard.rejections)


async def aread(store: ThinkingStore, wanted: Wanted) -> Found:
    """The store's answers, read on the guard's threads within its time limit (nothing
    asked: nothing read, no thread)."""
    guard = guard_of(store)
    if not wanted:
        return Found(wanted, remembered=guard.rejections)
    if guard.down():
        return Found.failed(wanted, "unavailable", guard.rejections)
    try:
        return await guard.run(read_now, store, wanted)
    except TimeoutError:
        guard.trip()
        return Found.failed(wanted, "timeout", guard.rejections)


def reject_all(store: ThinkingStore, keys: list[str]) -> None:
    """Remember rejected keys in ``store``: in one write where it can (``reject_all``)."""
    many = getattr(store, "reject_all", None)
    if callable(many):
        many(keys)
        return
    for key in keys:
        store.reject(key)


def worst(*states: State) -> State:
    """The worst of some states (``timeout`` over ``unavailable`` over ``ok``)."""
    if "timeout" in states:
        return "timeout"
    return "unavailable" if "unavailable" in states else "ok"
