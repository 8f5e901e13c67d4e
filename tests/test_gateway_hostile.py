"""A hostile or broken upstream (a relay is a third party): decompression bombs, an endless
body, a 20 MB line, bytes that trickle, a stream that goes silent. The gateway runs in its
own process, so its peak resident memory (``VmHWM``) is its own; ``/health`` is asked while
each attack runs."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx2
import pytest

from tests.upstreams import GIB, MESSAGE, STREAM, Behaviour, gzip_of_repeated, upstream

#: The bound the docs promise for each attack (the process starts near 50 MB).
PEAK_RSS_KB = 200_000


def _head(handler: BaseHTTPRequestHandler, kind: str, coding: str | None = None) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", kind)
    if coding:
        handler.send_header("Content-Encoding", coding)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()


def _chunk(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


def _end(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"0\r\n\r\n")


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


class GatewayProcess:
    """``python -m agent serve`` in its own process; its peak memory read from /proc."""

    def __init__(self, tmp_path: Path, upstream_url: str, gateway: str = "") -> None:
        config = tmp_path / "gateway.yaml"
        config.write_text(
            f"providers:\n  p:\n    base_url: {upstream_url}\n    api_mode: anthropic_messages\n"
            + (f"gateway:\n{gateway}" if gateway else "")
        )
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "gateway.log"
        command = [sys.executable, "-m", "agent", "serve", "--config", str(config)]
        with self.log.open("wb") as errors:  # (the process writes to its own copy)
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=errors
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(f"{self.url}/health").status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError("the gateway did not start")

    def peak_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM")

    def stop(self) -> None:
        """SIGTERM; SIGKILL if it has not ended in 20 s (never left running)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


@contextlib.contextmanager
def health_probe(url: str) -> Iterator[list[int]]:
    """Asks ``/health`` over and over while the block runs; the statuses it got."""
    statuses: list[int] = []
    done = threading.Event()

    def probe() -> None:
        with httpx2.Client(timeout=30) as client:
            while not done.is_set() or not statuses:  # (one at least, however fast the attack)
                statuses.append(client.get(f"{url}/health").status_code)
                time.sleep(0.01)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    try:
        yield statuses
    finally:
        done.set()
        thread.join(timeout=30)


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    """POST through the gateway; the status and the raw (undecoded) body."""
    with (
        httpx2.Client(timeout=60) as client,
        client.stream(
            "POST",
            f"{url}/p/v1/messages",
            content=body,
            headers={"content-type": "application/json", "accept-encoding": "gzip"},
        ) as answer,
    ):
        raw = b"".join(answer.iter_raw())
    return answer.status_code, raw


@pytest.fixture(scope="module")
def zero_bomb() -> bytes:
    """gzip of 1 GiB of zeros (about 1 MB)."""
    return gzip_of_repeated(bytes(1 << 20), GIB)


@pytest.fixture(scope="module")
def blank_line_bomb() -> bytes:
    """gzip of 1 GiB of blank lines, ``\\n\\n`` (about 1 MB): a billion empty events."""
    return gzip_of_repeated(b"\n\n" * (1 << 19), GIB)


class TestMemory:
    """Each attack leaves the gateway under 200 MB peak RSS, and /health answers while it
    runs (main: a 1 GiB body bomb peaked at 2.16 GB, a stream bomb at 2.1 GB)."""

    def _attack(self, tmp_path: Path, behave: Behaviour, body: bytes) -> tuple[int, bytes, int]:
        with upstream(behave) as up:
            gateway = GatewayProcess(tmp_path, up)
            try:
                with health_probe(gateway.url) as statuses:
                    status, raw = _post(gateway.url, body)
                peak = gateway.peak_kb()
            finally:
                gateway.stop()
        assert {200} == set(statuses)
        return status, raw, peak

    def test_a_gzip_bomb_body_is_a_502_naming_the_limit(
        self, tmp_path: Path, zero_bomb: bytes
    ) -> None:
        """A plain answer of 1 GiB of zeros gzipped: decoding stops at the ratio cap."""

        def behave(handler: BaseHTTPRequestHandler) -> None:
            _head(handler, "application/json", "gzip")
            for at in range(0, len(zero_bomb), 65_536):
                _chunk(handler, zero_bomb[at : at + 65_536])
            _end(handler)

        status, raw, peak = self._attack(tmp_path, behave, MESSAGE)

        assert 502 == status
        assert b"gateway.max_decode_ratio" in raw
        assert peak < PEAK_RSS_KB

    def test_a_gzip_bomb_stream_passes_unobserved(
        self, tmp_path: Path, blank_line_bomb: bytes
    ) -> None:
        """A stream of 1 GiB of blank lines gzipped: the client gets every byte as sent, the
        gateway stops observing at the ratio cap, and the access line says so."""

        def behave(handler: BaseHTTPRequestHandler) -> None:
            _head(handler, "text/event-stream", "gzip")
            for at in range(0, len(blank_line_bomb), 65_536):
                _chunk(handler, blank_line_bomb[at : at + 65_536])
            _end(handler)

        status, raw, peak = self._attack(tmp_path, behave, STREAM)

        assert 200 == status
        assert blank_line_bomb == raw
        assert peak < PEAK_RSS_KB
        log = (tmp_path / "gateway.log").read_text()
        assert '"observed": false, "limit": "max_decode_ratio"' in log

    def test_an_endless_body_is_a_502_naming_the_limit(self, tmp_path: Path) -> None:
        """A plain answer that never ends: cut at gateway.max_response_bytes."""
        piece = b'{"a":"' + b"x" * 65_530

        def behave(handler: BaseHTTPRequestHandler) -> None:
            _head(handler, "application/json")
            for _ in range(100_000):  # 6.5 GB if nobody stops reading
                _chunk(handler, piece)

        status, raw, peak = self._attack(tmp_path, behave, MESSAGE)

        assert 502 == status
        assert b"gateway.max_response_bytes (32000000)" in raw
        assert peak < PEAK_RSS_KB

    def test_a_20_mb_line_passes_unobserved(self, tmp_path: Path) -> None:
        """One 20 MB line without a blank line: observing stops at max_event_bytes; the
        client gets it all."""
        line = b"data: " + b"y" * 20_000_000

        def behave(handler: BaseHTTPRequestHandler) -> None:
            _head(handler, "text/event-stream")
            for at in range(0, len(line), 65_536):
                _chunk(handler, line[at : at + 65_536])
            _end(handler)

        status, raw, peak = self._attack(tmp_path, behave, STREAM)

        assert 200 == status
        assert line == raw
        assert peak < PEAK_RSS_KB
        log = (tmp_path / "gateway.log").read_text()
        assert '"observed": false, "limit": "max_event_bytes"' in log


class TestTime:
    """upstream_timeout bounds the whole call, not each read (main: with a timeout of 3 s,
    an upstream sending a byte a second gave a 200 after 12 s)."""

    def test_a_trickling_plain_answer_is_a_504(self, tmp_path: Path) -> None:
        def behave(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "40")
            handler.end_headers()
            for _ in range(40):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.25)

        with upstream(behave) as up:
            gateway = GatewayProcess(tmp_path, up, "  timeout: 1\n")
            try:
                status, raw = _post(gateway.url, MESSAGE)
            finally:
                gateway.stop()

        assert 504 == status
        assert b"within 1 s (gateway.timeout)" in raw

    def test_a_silent_stream_is_cut_after_the_idle_timeout(self, tmp_path: Path) -> None:
        """A stream that sends its first event, then nothing: the client's read ends in an
        error (the answer is visibly incomplete), and the access line names idle_timeout."""
        released = threading.Event()

        def behave(handler: BaseHTTPRequestHandler) -> None:
            _head(handler, "text/event-stream")
            _chunk(handler, b'event: ping\ndata: {"type":"ping"}\n\n')
            handler.wfile.flush()
            released.wait(timeout=30)

        with upstream(behave) as up:
            gateway = GatewayProcess(tmp_path, up, "  idle_timeout: 1\n")
            try:
                with pytest.raises(httpx2.RemoteProtocolError):
                    _post(gateway.url, STREAM)
            finally:
                released.set()
                gateway.stop()

        log = (tmp_path / "gateway.log").read_text()
        assert '"limit": "idle_timeout"' in log
        assert 1 == len([line for line in log.splitlines() if "/p/v1/messages" in line])
        assert "ASGI callable" not in log  # (Uvicorn's own line for it: the access line says it)

    def test_a_stream_that_never_starts_is_a_504(self, tmp_path: Path) -> None:
        """first_byte_timeout: the head came, no event did."""
        released = threading.Event()

        def behave(handler: BaseHTTPRequestHandler) -> None:
            _head(handler, "text/event-stream")
            handler.wfile.flush()
            released.wait(timeout=30)

        with upstream(behave) as up:
            gateway = GatewayProcess(tmp_path, up, "  first_byte_timeout: 1\n")
            try:
                status, raw = _post(gateway.url, STREAM)
            finally:
                released.set()
                gateway.stop()

        assert 504 == status
        assert b"gateway.first_byte_timeout" in raw


class TestClientGone:
    def test_a_client_that_leaves_a_stream_ends_the_upstream_call(self, tmp_path: Path) -> None:
        """A client that hangs up mid-stream: the gateway stops reading the upstream and
        closes its connection (a model would go on generating, and billing, for nobody)."""
        gone = threading.Event()

        def behave(handler: BaseHTTPRequestHandler) -> None:
            _head(handler, "text/event-stream")
            try:
                for _ in range(600):  # an event every 50 ms, for up to 30 s
                    _chunk(handler, b'event: ping\ndata: {"type":"ping"}\n\n')
                    handler.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                gone.set()

        with upstream(behave) as up:
            gateway = GatewayProcess(tmp_path, up)
            try:
                with (
                    httpx2.Client(timeout=30) as client,
                    client.stream("POST", f"{gateway.url}/p/v1/messages", content=STREAM) as answer,
                ):
                    next(answer.iter_raw())  # the first event came: the client leaves
                assert gone.wait(timeout=10), "the upstream call went on after the client left"
            finally:
                gateway.stop()
        log = (tmp_path / "gateway.log").read_text()
        assert 1 == len([line for line in log.splitlines() if "/p/v1/messages" in line])
