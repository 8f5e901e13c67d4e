"""Upstreams on 127.0.0.1 for the gateway's tests: one that records what reaches it, and a
hostile one with its payloads (also ``bench/bench_hostile.py``'s, which measures what the
tests assert)."""

from __future__ import annotations

import contextlib
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GIB = 1 << 30
MESSAGE = b'{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}]}'
STREAM = b'{"model":"m","max_tokens":1,"stream":true,"messages":[{"role":"user","content":"x"}]}'


def gzip_of_repeated(block: bytes, total: int) -> bytes:
    """gzip of ``block`` repeated up to ``total`` bytes, made fast: after a full flush a
    deflate block does not look back, so one compressed block is repeated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    one = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.flush()
    times = total // len(block)
    crc = 0
    for _ in range(times):
        crc = zlib.crc32(block, crc)
    head = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return head + one * times + end + struct.pack("<II", crc, (len(block) * times) & 0xFFFFFFFF)


Behaviour = Callable[[BaseHTTPRequestHandler], None]


@contextlib.contextmanager
def upstream(behave: Behaviour) -> Iterator[str]:
    """An upstream on 127.0.0.1 that answers every request with ``behave``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with contextlib.suppress(OSError):
                behave(self)
            self.close_connection = True

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def recorder(status: int = 200) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An upstream that records each request (method, path, headers) and answers a message
    (``status``), for any method."""
    seen: list[dict[str, Any]] = []
    answer = (
        b'{"id":"m","type":"message","role":"assistant","model":"m","content":'
        b'[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":'
        b'{"input_tokens":1,"output_tokens":1}}'
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def _any(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen.append({"method": self.command, "path": self.path, "headers": headers})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer)

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
