"""What the anthropic SDK adapter costs per call, as a share of the call it wraps.

For conversations of N turns (the same realistic turns as ``bench_pipeline.py``), the real
``anthropic.Anthropic`` client calls ``messages.create`` against a loopback server on
127.0.0.1 that answers every request with the same signed tool-use message, twice per round:

- bare: no middleware;
- adapted: ``PipelineMiddleware(Pipeline([ToolPairing(), ThinkingRoundTrip()]))``.

The adapter's own time is measured inside the adapted call itself: the time spent in
``PipelineMiddleware.handle`` minus the time spent in the SDK's ``call_next`` and in reading the
answer's body off the socket (which the SDK does anyway; the adapter only does it first, to
observe it), so network and server noise do not enter it. The ratio printed
is that own time against the median bare call, both measured in the same run.

Usage: python bench/bench_sdk.py [N ...]   (default: 10 100 1000)
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
from anthropic import APIRequest, APIResponse, CallNext
from bench_pipeline import conversation

from agent import Pipeline
from agent.integrations.anthropic import PipelineMiddleware
from agent.middleware import ThinkingRoundTrip, ToolPairing

MODEL = "claude-opus-4-6"
REPLY = json.dumps(
    {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [
            {"type": "thinking", "thinking": "decide the next step", "signature": "Eq-bench"},
            {"type": "tool_use", "id": "toolu_bench", "name": "bash", "input": {"cmd": "ls"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 20},
    }
).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls on loopback

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(REPLY)))
        self.end_headers()
        self.wfile.write(REPLY)


class _Timed(PipelineMiddleware):
    """The adapter, with its own time (handle minus call_next) recorded per call."""

    own: list[float]

    def handle(self, request: APIRequest, call_next: CallNext) -> APIResponse[Any]:
        inside = 0.0

        def timed_next(outgoing: APIRequest) -> APIResponse[Any]:
            nonlocal inside
            start = time.perf_counter()
            try:
                response = call_next(outgoing)
                if not outgoing.stream:
                    # reading the body off the socket is the call's, not the adapter's: the
                    # SDK reads it anyway (the adapter only reads it before the SDK does)
                    response.http_response.read()
                return response
            finally:
                inside += time.perf_counter() - start

        start = time.perf_counter()
        response = super().handle(request, timed_next)
        self.own.append(time.perf_counter() - start - inside)
        return response


def main(sizes: list[int]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    print(
        f"{'N':>5} {'body MB':>8} {'bare call ms':>13} {'adapter own ms':>15} "
        f"{'own/bare':>9} {'calls':>6}"
    )
    for n in sizes:
        messages = conversation(n, signed=True)  # ends with the tool results: the loop goes on
        calls = 30 if n <= 100 else 8
        timed = _Timed(Pipeline([ToolPairing(), ThinkingRoundTrip()]), base_url=base_url)
        timed.own = []
        plain = anthropic.Anthropic(base_url=base_url, api_key="bench", max_retries=0)
        adapted = anthropic.Anthropic(
            base_url=base_url, api_key="bench", max_retries=0, middleware=[timed]
        )
        params: dict[str, Any] = {
            "model": MODEL,
            "max_tokens": 1024,
            "messages": messages,
            "thinking": {"type": "adaptive"},
        }
        bare: list[float] = []
        for _ in range(calls + 2):  # alternate, so both see the same machine
            start = time.perf_counter()
            plain.messages.create(**params)
            bare.append(time.perf_counter() - start)
            adapted.messages.create(**params)
        bare, own = bare[2:], timed.own[2:]  # the first calls warm up both clients
        size_mb = len(json.dumps(messages)) / 1e6
        median_bare, median_own = statistics.median(bare), statistics.median(own)
        print(
            f"{n:>5} {size_mb:>8.2f} {median_bare * 1e3:>13.2f} {median_own * 1e3:>15.3f} "
            f"{median_own / median_bare:>8.2%} {calls:>6}"
        )
        plain.close()
        adapted.close()
    server.shutdown()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 1000])
