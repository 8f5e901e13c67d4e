"""How the gateway holds up against a hostile upstream: for each attack, the gateway's peak
resident memory and how long ``GET /health`` took while the attack ran.

Attacks (each against a fresh ``python -m agent serve`` process, defaults on): a plain answer
that is gzip of 1 GiB of zeros, a stream that is gzip of 1 GiB of blank lines, a plain answer
that never ends, a stream that is one 20 MB line, and a client sending 40 different 4.5 MB
histories twice each (what the gateway keeps of them is bounded by ``max_resent_bytes``).
``/health`` is asked every 5 ms from another process while the attack runs; printed are the
number of probes, their median and worst time, and the gateway's ``VmHWM``. The README
promises under 200 MB peak and ``/health`` within 50 ms.

Usage: python bench/bench_hostile.py
"""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import conversation

from tests.upstreams import GIB, MESSAGE, STREAM, Behaviour, gzip_of_repeated, upstream

#: Asks /health every 5 ms from its own process (so the attacking client's work does not
#: delay it) until its stdin closes; prints each answer's time.
_PROBE = """
import sys, threading, time
import httpx2

done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
times = []
with httpx2.Client() as client:
    client.get(sys.argv[1] + "/health")
    print("probing", flush=True)
    while not done.is_set():
        started = time.perf_counter()
        client.get(sys.argv[1] + "/health")
        times.append(time.perf_counter() - started)
        time.sleep(0.005)
print(" ".join(f"{t:.6f}" for t in times))
"""


def _send(handler: BaseHTTPRequestHandler, kind: str, coding: str | None, parts: Any) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", kind)
    if coding:
        handler.send_header("Content-Encoding", coding)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for data in parts:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    handler.wfile.write(b"0\r\n\r\n")


def _pieces(data: bytes) -> Iterator[bytes]:
    return (data[at : at + 65_536] for at in range(0, len(data), 65_536))


def _attack(
    folder: Path, behave: Behaviour, bodies: bytes | list[bytes]
) -> tuple[int, list[float], int]:
    with upstream(behave) as upstream_url:
        config = folder / "gateway.yaml"
        config.write_text(
            f"providers:\n  p:\n    base_url: {upstream_url}\n    api_mode: anthropic_messages\n"
        )
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        gateway = subprocess.Popen(
            [sys.executable, "-m", "agent", "serve", "--config", str(config), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                with contextlib.suppress(httpx2.HTTPError):
                    if httpx2.get(f"{url}/health").status_code == 200:
                        break
                time.sleep(0.05)
            prober = subprocess.Popen(
                [sys.executable, "-c", _PROBE, url],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert prober.stdout is not None
            prober.stdout.readline()  # (probing)
            headers = {"content-type": "application/json", "accept-encoding": "gzip"}
            with httpx2.Client(timeout=120) as client:
                for body in [bodies] if isinstance(bodies, bytes) else bodies:
                    with client.stream(
                        "POST", f"{url}/p/v1/messages", content=body, headers=headers
                    ) as answer:
                        for _ in answer.iter_raw():
                            pass
            out, _ = prober.communicate("")
            times = [float(t) for t in out.split()]
            status = answer.status_code
            peak = 0
            for line in Path(f"/proc/{gateway.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1])
        finally:
            gateway.kill()
            gateway.wait(timeout=30)
    return status, times, peak


def _history(n: int) -> bytes:
    """A 4.5 MB agent history of 200 turns, its own from the first message on."""
    messages = conversation(200, signed=True, seed=n)
    return json.dumps({"model": "m", "max_tokens": 1, "messages": messages}).encode()


def main() -> None:
    zeros = gzip_of_repeated(bytes(1 << 20), GIB)
    blanks = gzip_of_repeated(b"\n\n" * (1 << 19), GIB)
    line = b"data: " + b"y" * 20_000_000
    endless = b'{"a":"' + b"x" * 65_530
    reply = b'{"type":"message","role":"assistant","content":[{"type":"text","text":"ok"}]}'
    attacks: list[tuple[str, Behaviour, bytes | list[bytes]]] = [
        (
            "gzip bomb, plain (1 GiB)",
            lambda h: _send(h, "application/json", "gzip", _pieces(zeros)),
            MESSAGE,
        ),
        (
            "gzip bomb, stream (1 GiB)",
            lambda h: _send(h, "text/event-stream", "gzip", _pieces(blanks)),
            STREAM,
        ),
        (
            "endless plain answer",
            lambda h: _send(h, "application/json", None, (endless for _ in range(100_000))),
            MESSAGE,
        ),
        (
            "20 MB line, stream",
            lambda h: _send(h, "text/event-stream", None, _pieces(line)),
            STREAM,
        ),
        (  # what the gateway keeps of them stays within gateway.max_resent_bytes (32 MB)
            "40 long histories, twice",
            lambda h: _send(h, "application/json", None, [reply]),
            [history for n in range(40) for history in [_history(n)] * 2],
        ),
    ]
    print(
        f"{'attack':<28} {'status':>6} {'probes':>6} {'health p50':>10} {'worst':>8} "
        f"{'peak RSS':>10}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name, behave, body in attacks:
            status, times, peak = _attack(Path(folder), behave, body)
            p50 = statistics.median(times) * 1000 if times else float("nan")
            worst = max(times) * 1000 if times else float("nan")
            print(
                f"{name:<28} {status:>6} {len(times):>6} {p50:>8.1f}ms {worst:>6.1f}ms {peak:>7} KB"
            )


if __name__ == "__main__":
    main()
