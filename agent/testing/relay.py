"""A TCP relay on 127.0.0.1 in front of a server (a Redis, say): it can hold every chunk
for a while each way, as a network between two hosts would, and it counts round trips.

A round trip is counted each time a client sends after the relay has passed it something back
(or sends for the first time) on a connection: a pipeline of a hundred commands is one, a
hundred commands each waiting for its answer are a hundred. (A client that writes one pipeline
in two writes while the first part's answers already come back is counted twice; with a delay
of a millisecond the two writes are seen as one.) What clients send can be kept
(``keep=True``), to see which commands went out.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any


class Relay:
    """A TCP relay from an ephemeral 127.0.0.1 port to ``host:port``; a context manager.

    Attributes:
        delay: seconds each chunk is held before it is passed on, each way (a round trip
            takes ``2 * delay`` more).
        keep: keep the bytes clients send (``sent``).
        round_trips: round trips so far, over all connections.
        sent: what clients sent, per connection, in order (with ``keep``).
    """

    def __init__(self, host: str, port: int, delay: float = 0.0, keep: bool = False) -> None:
        self.host = host
        self.port = port
        self.delay = delay
        self.keep = keep
        self.round_trips = 0
        self.sent: list[bytearray] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def listening(self) -> int:
        """The port clients connect to."""
        assert self._server is not None, "the relay is not running"
        return int(self._server.sockets[0].getsockname()[1])

    def __enter__(self) -> Relay:
        self._thread = threading.Thread(target=self._run, name="relay", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the relay did not start")
        return self

    def __exit__(self, *_: object) -> None:
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def reset(self) -> None:
        """Count from zero again, and forget what was sent."""
        with self._lock:
            self.round_trips = 0
            for kept in self.sent:
                del kept[:]

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for writer in self._writers:  # every pump then reads its end, and finishes
                writer.close()
            tasks = asyncio.all_tasks(loop)
            loop.run_until_complete(asyncio.wait(tasks, timeout=5) if tasks else asyncio.sleep(0))
            loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        state = {"heard": True}  # the client heard back: its next chunk opens a round trip
        kept = bytearray()
        if self.keep:
            with self._lock:
                self.sent.append(kept)
        await asyncio.gather(
            self._pump(reader, up_writer, state, "client", kept),
            self._pump(up_reader, writer, state, "server", None),
            return_exceptions=True,
        )
        self._writers -= {writer, up_writer}

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        state: dict[str, bool],
        side: str,
        kept: bytearray | None,
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        heard = state if side == "server" else None  # what passing a chunk on tells
        forward = asyncio.ensure_future(self._forward(queue, writer, heard))
        try:
            while chunk := await reader.read(65536):
                if side == "client" and state["heard"]:
                    state["heard"] = False
                    with self._lock:
                        self.round_trips += 1
                if kept is not None and self.keep:
                    with self._lock:
                        kept.extend(chunk)
                queue.put_nowait((time.monotonic() + self.delay, chunk))
        finally:
            queue.put_nowait((0.0, b""))
            await forward

    async def _forward(
        self, queue: asyncio.Queue[tuple[float, bytes]], writer: Any, heard: dict[str, bool] | None
    ) -> None:
        while True:
            due, chunk = await queue.get()
            if not chunk:
                writer.close()
                return
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if writer.is_closing():
                continue
            writer.write(chunk)
            await writer.drain()
            if heard is not None:
                heard["heard"] = True


def commands(sent: bytes) -> list[list[bytes]]:
    """The Redis commands (RESP arrays of bulk strings) in what a client sent."""
    out: list[list[bytes]] = []
    at = 0
    while at < len(sent) and sent[at : at + 1] == b"*":
        end = sent.index(b"\r\n", at)
        count, at = int(sent[at + 1 : end]), end + 2
        parts = []
        for _ in range(count):
            end = sent.index(b"\r\n", at)
            size = int(sent[at + 1 : end])
            parts.append(bytes(sent[end + 2 : end + 2 + size]))
            at = end + 2 + size + 2
        out.append(parts)
    return out
