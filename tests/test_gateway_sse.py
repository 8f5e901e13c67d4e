"""Reading a stream to observe it is linear in its size and bounded: one event (or line) is
held up to max_event_bytes, decoding stops at its size and ratio caps, and a chunk that
decodes to much gives the event loop a turn between pieces. Main took 5.4 s of event loop
for a 169-byte gzip of 128 KiB of blank lines, and 2.66 s for 100k text deltas."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from agent.integrations._sse import ChatAccumulator, Events, MessageAccumulator
from agent.integrations._tee import AsyncTeeStream, LimitExceeded, TeeStream, decoder


def _seconds(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _growth(make: Callable[[int], Callable[[], Any]], n: int) -> float:
    """How much longer ``make(8n)`` takes than ``make(n)`` (best of three each): about 8
    when linear, about 64 when quadratic."""
    small = min(_seconds(make(n)) for _ in range(3))
    large = min(_seconds(make(8 * n)) for _ in range(3))
    return large / small


def _tee_of(chunk: bytes, coding: str | None) -> Callable[[], Any]:
    def run() -> None:
        tee = TeeStream([chunk], MessageAccumulator(), lambda acc: None, decoder(coding))
        for _ in tee:
            pass

    return run


class TestLinear:
    def test_blank_lines_in_one_compressed_chunk(self) -> None:
        """A gzip chunk of blank lines (every one an empty event): time grows with the size."""
        growth = _growth(lambda n: _tee_of(gzip.compress(b"\n\n" * n), "gzip"), 8_192)

        assert growth < 24

    def test_text_deltas(self) -> None:
        """Many small text deltas (Messages and Chat Completions): joined once, not each
        time."""

        def messages(n: int) -> Callable[[], Any]:
            start = {"type": "message_start", "message": {"content": []}}
            block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}
            delta = {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "ab"},
            }
            events = [start, block] + [delta] * n
            raw = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)

            def run() -> None:
                acc = MessageAccumulator()
                acc.feed(raw)
                assert acc.message is not None
                assert 2 * n == len(acc.message["content"][0]["text"])

            return run

        def chat(n: int) -> Callable[[], Any]:
            chunk = {"choices": [{"delta": {"content": "ab", "reasoning_content": "cd"}}]}
            raw = (b"data: " + json.dumps(chunk).encode() + b"\n\n") * n

            def run() -> None:
                acc = ChatAccumulator()
                acc.feed(raw)
                assert 2 * n == len(acc.completion["choices"][0]["message"]["content"])

            return run

        assert _growth(messages, 4_000) < 24
        assert _growth(chat, 4_000) < 24

    def test_a_long_line_fed_in_small_chunks(self) -> None:
        """A line without an end, fed 4 KiB at a time: each byte searched once."""

        def run(n: int) -> Callable[[], Any]:
            def feed() -> None:
                events = Events(max_event=10**9)
                for _ in range(n):
                    events.feed(b"y" * 4096)

            return feed

        assert _growth(run, 1_000) < 24


class TestBounds:
    def test_one_event_is_held_up_to_max_event_bytes(self) -> None:
        """A 20 MB line: LimitExceeded at the cap, and nothing held after it."""
        events = Events(max_event=1_000_000)

        def feed() -> None:
            for _ in range(320):
                events.feed(b"y" * 65_536)

        with pytest.raises(LimitExceeded) as caught:
            feed()

        assert "max_event_bytes" == caught.value.limit
        assert 0 == len(events._buffer)

    def test_decoding_stops_at_the_ratio(self) -> None:
        """A gzip of 64 MB of zeros: stopped by max_decode_ratio past the first MB."""
        decode = decoder("gzip", max_bytes=10**12, max_ratio=100)
        assert decode is not None
        packed = gzip.compress(bytes(64_000_000))

        with pytest.raises(LimitExceeded) as caught:
            b"".join(decode.pieces(packed))

        assert "max_decode_ratio" == caught.value.limit
        assert decode.decoded < 2_000_000

    def test_decoding_stops_at_the_size(self) -> None:
        decode = decoder("gzip", max_bytes=100_000, max_ratio=10**6, limit="max_response_bytes")
        assert decode is not None

        with pytest.raises(LimitExceeded) as caught:
            decode(gzip.compress(bytes(1_000_000)))

        assert ("max_response_bytes", 100_000) == (caught.value.limit, caught.value.value)

    def test_pieces_are_bounded(self) -> None:
        """However much one chunk decodes to, it comes in pieces of at most 64 KiB."""
        decode = decoder("gzip")
        assert decode is not None

        sizes = [len(p) for p in decode.pieces(gzip.compress(b"x" * 900_000))]

        assert 900_000 == sum(sizes)
        assert max(sizes) <= 65_536


class TestEventLoop:
    def test_a_chunk_that_decodes_to_much_yields_between_pieces(self) -> None:
        """The async tee gives the event loop a turn between the pieces of one chunk: a
        task scheduled meanwhile runs before the chunk is done."""
        chunk = gzip.compress(b"data: {}\n\n" * 100_000)  # 1 MB decoded, 16 pieces
        ran: list[str] = []

        async def source() -> AsyncIterator[bytes]:
            yield chunk

        class Inner:
            def __aiter__(self) -> AsyncIterator[bytes]:
                return source()

            async def aclose(self) -> None:
                pass

        async def main() -> None:
            tee = AsyncTeeStream(Inner(), MessageAccumulator(), lambda acc: None, decoder("gzip"))

            async def other() -> None:
                ran.append("other")

            task = asyncio.get_running_loop().create_task(other())
            async for _ in tee:
                ran.append("chunk")
            await task

        asyncio.run(main())

        assert ["other", "chunk"] == ran
