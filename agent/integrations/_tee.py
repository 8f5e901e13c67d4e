"""A byte stream that lets the client read as usual and feeds an accumulator on the way; the
answer it rebuilt is reported once, as soon as it is complete (or when the stream ends)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx2

log = logging.getLogger("agent")


class _Tee:
    def __init__(self, inner: Any, acc: Any, report: Callable[[Any], None]) -> None:
        self._inner = inner
        self._acc = acc
        self._report_to = report
        self._reported = False

    def _take(self, chunk: bytes) -> None:
        try:
            self._acc.feed(chunk)
        except Exception:  # a stream we cannot read is still the caller's to read
            log.exception("reading a stream to observe it failed")
            self._reported = True
            return
        if self._acc.done:
            self._report()

    def _report(self) -> None:
        if not self._reported:
            self._reported = True
            self._report_to(self._acc)


class TeeStream(_Tee, httpx2.SyncByteStream):
    """The sync stream."""

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._take(chunk)
            yield chunk
        self._report()

    def close(self) -> None:
        self._inner.close()


class AsyncTeeStream(_Tee, httpx2.AsyncByteStream):
    """The async twin of TeeStream."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._take(chunk)
            yield chunk
        self._report()

    async def aclose(self) -> None:
        await self._inner.aclose()
