"""A byte stream that lets the client read as usual and feeds an accumulator on the way; the
answer it rebuilt is reported once, as soon as it is complete (or when the stream ends).

A compressed stream passes to the client as it came; the accumulator is fed the decoded
bytes. The Anthropic API answers streams gzip-compressed when the client accepts it (it goes
through Cloudflare; github/gh-aw-firewall#1550, Wei-Shaw/claude-relay-service#1028), and the
SDKs send ``Accept-Encoding: gzip, deflate``: without decoding, no streamed Claude answer
would be observed.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast

import httpx2

log = logging.getLogger("agent")

Decode = Callable[[bytes], bytes]


def _identity(chunk: bytes) -> bytes:
    return chunk


def _one(coding: str) -> Decode | None:
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress
    if coding == "deflate":
        return _Deflate().decompress
    for module_name, make in _OPTIONAL.get(coding, ()):  # where this process has them
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        return cast(Decode, make(module))
    return None


#: Codings httpx2 also decodes when a module is installed (brotli / brotlicffi, zstandard).
_OPTIONAL: dict[str, tuple[tuple[str, Callable[[Any], Any]], ...]] = {
    "br": (
        ("brotli", lambda m: m.Decompressor().process),
        ("brotlicffi", lambda m: m.Decompressor().decompress),
    ),
    "zstd": (("zstandard", lambda m: m.ZstdDecompressor().decompressobj().decompress),),
}


def decodable() -> frozenset[str]:
    """The content codings this process can decode to observe a stream."""
    found = {"gzip", "x-gzip", "deflate", "identity"}
    for coding, makers in _OPTIONAL.items():
        if any(importlib.util.find_spec(name) is not None for name, _ in makers):
            found.add(coding)
    return frozenset(found)


def decoder(content_encoding: str | None) -> Decode | None:
    """A chunk-by-chunk decoder for a response's ``Content-Encoding`` (codings applied in
    order, so undone in reverse); None for a coding this process cannot undo."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    steps = [_one(c) for c in reversed(codings) if c not in ("", "identity")]
    if not steps:
        return _identity
    if any(step is None for step in steps):
        return None
    if len(steps) == 1:
        return steps[0]

    def chained(chunk: bytes) -> bytes:
        for step in steps:
            assert step is not None
            chunk = step(chunk)
        return chunk

    return chained


class _Deflate:
    """``deflate``: zlib-wrapped as the RFC says, or raw deflate as some servers send (told
    apart by the zlib header's first two bytes)."""

    def __init__(self) -> None:
        self._inner: Any = None
        self._head = b""

    def decompress(self, chunk: bytes) -> bytes:
        if self._inner is None:
            self._head += chunk
            if len(self._head) < 2:
                return b""
            first, second = self._head[0], self._head[1]
            wrapped = first & 0x0F == 8 and (first << 8 | second) % 31 == 0
            self._inner = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            chunk, self._head = self._head, b""
        return bytes(self._inner.decompress(chunk))


class _Tee:
    def __init__(
        self, inner: Any, acc: Any, report: Callable[[Any], None], decode: Decode = _identity
    ) -> None:
        self._inner = inner
        self._acc = acc
        self._report_to = report
        self._reported = False
        self._decode = decode

    def _take(self, chunk: bytes) -> None:
        if self._reported:
            return  # reported, or given up on: the rest only passes through
        try:
            self._acc.feed(self._decode(chunk))
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
