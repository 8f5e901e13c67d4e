"""A byte stream that lets the client read as usual and feeds an accumulator on the way; the
answer it rebuilt is reported once, as soon as it is complete (or when the stream ends).

A compressed stream passes to the client as it came; the accumulator is fed the decoded
bytes. The Anthropic API answers streams gzip-compressed when the client accepts it (it goes
through Cloudflare; github/gh-aw-firewall#1550, Wei-Shaw/claude-relay-service#1028), and the
SDKs send ``Accept-Encoding: gzip, deflate``: without decoding, no streamed Claude answer
would be observed.

Decoding is bounded: output comes in pieces of at most ``PIECE`` bytes, and stops with
``LimitExceeded`` past a size or a ratio to the compressed bytes taken (a gzip of 1 GiB of
zeros is 1 MB on the wire). Past a limit the stream still passes through untouched; it is
only no longer observed.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx2

log = logging.getLogger(__name__)

#: The most bytes one decoding step hands on at once.
PIECE = 65_536
#: Decoded bytes before the ratio is checked (a small answer may compress very well).
RATIO_FLOOR = 1_000_000
#: Defaults for a decoder made without limits (the gateway passes its configured ones).
MAX_DECODED = 32_000_000
MAX_RATIO = 100
#: Compressed bytes fed at once to a codec that cannot bound its own output.
_SLICE = 64


class LimitExceeded(httpx2.HTTPError):
    """A configured bound was reached while reading an answer.

    Attributes:
        limit: the setting's name (``max_response_bytes``, ``max_decode_ratio``, ...).
        value: its value.
    """

    def __init__(self, limit: str, value: int) -> None:
        super().__init__(f"upstream answer over {limit} ({value})")
        self.limit = limit
        self.value = value


class _Zlib:
    """gzip or zlib-wrapped / raw deflate, output bounded by ``max_length``."""

    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits  # None: deflate, told apart by the zlib header's first two bytes
        self._inner: Any = None if wbits is None else zlib.decompressobj(wbits)
        self._head = b""

    def pieces(self, data: bytes) -> Iterator[bytes]:
        if self._inner is None:
            self._head += data
            if len(self._head) < 2:
                return
            first, second = self._head[0], self._head[1]
            wrapped = first & 0x0F == 8 and (first << 8 | second) % 31 == 0
            self._inner = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        inner = self._inner
        out = b"-" * PIECE
        while (data or len(out) == PIECE) and not inner.eof:
            out = inner.decompress(data, PIECE)
            data = inner.unconsumed_tail
            if out:
                yield out

    def pending(self) -> int:
        return 0 if self._inner is None else len(self._inner.unconsumed_tail)


class _Sliced:
    """A codec without an output bound (brotli, zstandard), fed a few bytes at a time."""

    def __init__(self, decompress: Callable[[bytes], bytes]) -> None:
        self._decompress = decompress

    def pieces(self, data: bytes) -> Iterator[bytes]:
        for at in range(0, len(data), _SLICE):
            out = self._decompress(data[at : at + _SLICE])
            for cut in range(0, len(out), PIECE):
                yield out[cut : cut + PIECE]

    def pending(self) -> int:
        return 0


def _one(coding: str) -> Any:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(zlib.MAX_WBITS | 16)
    if coding == "deflate":
        return _Zlib(None)
    for module_name, make in _OPTIONAL.get(coding, ()):  # where this process has them
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        return _Sliced(make(module))
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


class Decoder:
    """Undoes a response's ``Content-Encoding`` chunk by chunk (codings applied in order,
    undone in reverse), in pieces of at most ``PIECE`` bytes; raises ``LimitExceeded`` once
    the output passes ``max_bytes`` (named ``limit``) or, past ``RATIO_FLOOR``, ``max_ratio``
    times the compressed bytes taken. Calling it returns a chunk's output joined."""

    def __init__(self, steps: list[Any], max_bytes: int, max_ratio: int, limit: str) -> None:
        self._steps = steps
        self._max_bytes = max_bytes
        self._max_ratio = max_ratio
        self._limit = limit
        self._taken = 0
        self.decoded = 0

    def __call__(self, chunk: bytes) -> bytes:
        return b"".join(self.pieces(chunk))

    def pieces(self, chunk: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next compressed chunk."""
        self._taken += len(chunk)
        if not self._steps:
            yield from self._counted(chunk[at : at + PIECE] for at in range(0, len(chunk), PIECE))
            return
        yield from self._counted(self._through(0, chunk))

    def _through(self, step: int, data: bytes) -> Iterator[bytes]:
        if step == len(self._steps):
            yield data
            return
        for piece in self._steps[step].pieces(data):
            yield from self._through(step + 1, piece)

    def _counted(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self.decoded += len(piece)
            if self.decoded > self._max_bytes:
                raise LimitExceeded(self._limit, self._max_bytes)
            taken = self._taken - (self._steps[0].pending() if self._steps else 0)
            if self.decoded > RATIO_FLOOR and self.decoded > self._max_ratio * max(taken, 1):
                raise LimitExceeded("max_decode_ratio", self._max_ratio)
            yield piece


def decoder(
    content_encoding: str | None,
    max_bytes: int = MAX_DECODED,
    max_ratio: int = MAX_RATIO,
    limit: str = "max_observed_bytes",
) -> Decoder | None:
    """A bounded chunk-by-chunk decoder for a response's ``Content-Encoding``; None for a
    coding this process cannot undo."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    steps = [_one(c) for c in reversed(codings) if c not in ("", "identity")]
    if any(step is None for step in steps):
        return None
    return Decoder(steps, max_bytes, max_ratio, limit)


class _Tee:
    """Feeds the decoded stream to the accumulator. ``state`` says how far it got:
    ``observed`` (decoded bytes fed) and ``stopped`` (the limit that ended observing, or
    ``error``)."""

    def __init__(
        self,
        inner: Any,
        acc: Any,
        report: Callable[[Any], None],
        decode: Callable[[bytes], bytes] | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self._inner = inner
        self._acc = acc
        self._report_to = report
        self._reported = False
        self._decode = decode if decode is not None else Decoder([], MAX_DECODED, MAX_RATIO, "")
        self.state = state if state is not None else {}
        self.state.update(observed=0, stopped=None)

    def _steps(self, chunk: bytes) -> Iterator[None]:
        """Feed one chunk, piece by piece: yields between pieces (the async stream gives
        the event loop a turn there)."""
        if self._reported:
            return  # reported, or given up on: the rest only passes through
        decode = self._decode
        pieces = decode.pieces(chunk) if isinstance(decode, Decoder) else [decode(chunk)]
        try:
            for n, piece in enumerate(pieces):
                if n:
                    yield
                self.state["observed"] += len(piece)
                self._acc.feed(piece)
                if self._acc.done:
                    self._report()
                    return
        except LimitExceeded as exc:
            self._stop(exc.limit)
        except Exception:  # a stream we cannot read is still the caller's to read
            log.warning("reading a stream to observe it failed; passed on unobserved")
            self._stop("error")

    def _stop(self, why: str) -> None:
        self.state["stopped"] = why
        self._reported = True
        release = getattr(self._acc, "release", None)
        if release is not None:
            release()

    def _take(self, chunk: bytes) -> None:
        for _ in self._steps(chunk):
            pass

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
    """The async twin of TeeStream: a chunk that decodes to many pieces gives the event
    loop a turn between them."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            for _ in self._steps(chunk):
                await asyncio.sleep(0)
            yield chunk
        self._report()

    async def aclose(self) -> None:
        await self._inner.aclose()
