"""The gateway against a bare reverse proxy: CPU per call and added latency, as ratios.

Three kinds of process on 127.0.0.1: an upstream that answers every call at once with a fixed
tool call (plain JSON, or the same as Server-Sent Events when the body asks to stream), a
proxy in front of it, and this one (the client). The proxy is, in alternating rounds so both
see the same machine:

- bare: a few lines of Starlette and httpx2 that read the body, forward it and pass the answer
  back chunk by chunk (what any reverse proxy that must read the body costs at least);
- gateway: ``python -m agent serve`` with its defaults (the access log and the chain's decision
  counts on; the log written to a file).

The bodies are agent histories of 10 and 200 turns (``bench_pipeline.conversation``: ~2 KB of
thinking, text, tool calls and 5-20 KB tool results per turn), for two targets: Claude with its
own signed thinking (nothing to change: the gateway forwards the client's bytes) and MiMo with
its thinking kept without a signature field (every turn rewritten). Each proxy's CPU time
(its threads' time on a CPU, from /proc) is read around its rounds; latency is each call's
wall time. Printed per history and target: CPU ms per call both ways and their ratio, the
median latency both ways and the gateway's added median, and each proxy's page faults per
call (fresh pages its allocator took from the kernel again: a 4.5 MB body can cost either
proxy a millisecond of them, which explains most of the spread between runs). Every round
runs every case on both proxies, which one goes first alternating, so no case depends on the
order it ran in.

Every call of a case sends the same body, as a client resending its history does (the gateway
keeps what it read, ``gateway.max_resent_bytes``); ``--ladder K`` sends an agent loop's last K
bodies in turn instead, each one turn longer, back to the shortest after the longest (so 1 in
K calls reads a history the gateway has not read before, and 1 in K finds where its messages
lie: the cost of a cold history, counted in).

Usage: python bench/bench_proxy.py [--turns 10 200] [--calls 200] [--rounds 3] [--stream]
                                   [--stream-only] [--ladder K]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import conversation

_UPSTREAM = r"""
import json, sys
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
import uvicorn

MESSAGE = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
           "content": [{"type": "tool_use", "id": "toolu_next", "name": "run", "input": {}}],
           "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 1}}
PLAIN = json.dumps(MESSAGE).encode()
def sse(kind, data):
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()
EVENTS = [
    sse("message_start", {"type": "message_start", "message": {**MESSAGE, "content": []}}),
    sse("content_block_start", {"type": "content_block_start", "index": 0,
        "content_block": MESSAGE["content"][0]}),
    sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
    sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}}),
    sse("message_stop", {"type": "message_stop"}),
]

async def messages(request):
    body = await request.body()
    if b'"stream":true' in body or b'"stream": true' in body:
        async def events():
            for e in EVENTS:
                yield e
        return StreamingResponse(events(), media_type="text/event-stream")
    return Response(PLAIN, media_type="application/json")

app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

_BARE = r"""
import sys
import httpx2
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route
import uvicorn

UPSTREAM = sys.argv[2]
client = httpx2.AsyncClient(timeout=60)
DROP = {"host", "content-length", "connection", "transfer-encoding"}

async def forward(request):
    body = await request.body()
    headers = {k: v for k, v in request.headers.items() if k not in DROP}
    upstream = client.build_request(request.method, UPSTREAM + "/" + request.path_params["path"],
                                    headers=headers, content=body)
    response = await client.send(upstream, stream=True)
    async def relay():
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        finally:
            await response.aclose()
    kept = {k: v for k, v in response.headers.items() if k not in DROP}
    return StreamingResponse(relay(), status_code=response.status_code, headers=kept)

app = Starlette(routes=[Route("/p/{path:path}", forward, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx2.post(url, content=b"{}", timeout=1)
            return
        except httpx2.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _cpu(pid: int) -> float:
    """Seconds a process's threads have run on a CPU, to the nanosecond (``schedstat``; the
    user + system ticks of ``stat`` count in 10 ms steps, too coarse for a few calls), or
    from ``stat`` where the kernel keeps no schedstat."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    except (FileNotFoundError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total / 1e9


def _faults(pid: int) -> int:
    """The page faults a process has taken that read no disk (``minflt``): each is a fresh
    page of memory touched for the first time, the cost of an allocator that gave memory
    back to the kernel and takes it again."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])


def _bodies(turns: int, stream: bool, ladder: int = 1) -> dict[str, list[bytes]]:
    """The two targets' request bodies, as a client sends them: the same body on every call
    (``ladder`` 1), or an agent loop's last ``ladder`` calls, each history one turn longer,
    up to ``turns`` (sent in turn: back to the shortest after the longest)."""
    out: dict[str, list[bytes]] = {}
    for name, model, signed in (
        ("claude", "claude-opus-4-6", True),
        ("mimo", "mimo-v2.5-pro", False),
    ):
        messages = conversation(turns, signed=signed)
        out[name] = []
        for upto in range(max(1, turns - ladder + 1), turns + 1):
            body: dict[str, Any] = {"model": model, "max_tokens": 1024}
            body["messages"] = messages[: 3 * upto]  # (a turn: a prompt, a call, its result)
            body["thinking"] = {"type": "enabled", "budget_tokens": 512}
            if stream:
                body["stream"] = True
            out[name].append(json.dumps(body).encode())
    return out


def _round(
    client: httpx2.Client, url: str, bodies: list[bytes], calls: int, pid: int
) -> tuple[float, int, list[float]]:
    """CPU seconds the proxy spent on ``calls`` calls (the bodies in turn), the page faults
    it took, and each call's wall time."""
    times = []
    before, faults = _cpu(pid), _faults(pid)
    for i in range(calls):
        body = bodies[i % len(bodies)]
        start = time.perf_counter()
        response = client.post(url, content=body, headers={"content-type": "application/json"})
        response.read()
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:200]
    return _cpu(pid) - before, _faults(pid) - faults, times


Case = tuple[bool, str, list[bytes]]
Figures = tuple[dict[str, float], dict[str, float], dict[str, float]]


def _measure(
    client: httpx2.Client,
    cases: list[Case],
    ports: dict[str, int],
    pids: dict[str, int],
    calls: int,
    rounds: int,
) -> list[Figures]:
    """Per case, each proxy's CPU ms per call, median ms per call and page faults per call.
    Every round runs every
    case on both proxies (which goes first alternates), so no case or proxy sees the
    machine, or the other's warm state, in a different order than its counterpart."""
    cpu = [{"bare": 0.0, "gateway": 0.0} for _ in cases]
    faults = [{"bare": 0.0, "gateway": 0.0} for _ in cases]
    lat: list[dict[str, list[float]]] = [{"bare": [], "gateway": []} for _ in cases]

    def url(name: str, target: str) -> str:
        path = "p" if name == "bare" else target
        return f"http://127.0.0.1:{ports[name]}/{path}/v1/messages"

    for _, target, body in cases:  # warm up both
        for name in ports:
            _round(client, url(name, target), body, 3, pids[name])
    for r in range(rounds):
        order = ("bare", "gateway") if r % 2 == 0 else ("gateway", "bare")
        for n, (_, target, body) in enumerate(cases):
            for name in order:
                spent, took, times = _round(client, url(name, target), body, calls, pids[name])
                cpu[n][name] += spent
                faults[n][name] += took
                lat[n][name] += times
    return [
        (
            {k: v / (calls * rounds) * 1000 for k, v in c.items()},
            {k: statistics.median(v) * 1000 for k, v in t.items()},
            {k: v / (calls * rounds) for k, v in f.items()},
        )
        for c, t, f in zip(cpu, lat, faults, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[10, 200])
    parser.add_argument("--calls", type=int, default=200, help="calls per round at 10 turns")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stream", action="store_true", help="also the streamed answers")
    parser.add_argument("--stream-only", action="store_true", help="only the streamed answers")
    parser.add_argument(
        "--ladder", type=int, default=1, help="histories per case, one turn longer each"
    )
    args = parser.parse_args()
    procs: list[subprocess.Popen[bytes]] = []
    folder = tempfile.mkdtemp()
    try:
        up, bare, gw = _port(), _port(), _port()
        upstream = f"http://127.0.0.1:{up}"
        procs.append(subprocess.Popen([sys.executable, "-c", _UPSTREAM, str(up)]))
        _wait(f"{upstream}/v1/messages")
        procs.append(subprocess.Popen([sys.executable, "-c", _BARE, str(bare), upstream]))
        config = Path(folder, "gw.yaml")
        config.write_text(
            "providers:\n"
            f"  claude:\n    base_url: {upstream}\n    api_mode: anthropic_messages\n"
            "    api_key: bench\n"
            f"  mimo:\n    base_url: {upstream}\n    api_mode: anthropic_messages\n"
            "    api_key: bench\n"
        )
        log = open(Path(folder, "access.log"), "wb")  # noqa: SIM115 (closed with the process)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "agent",
                    "serve",
                    "--config",
                    str(config),
                    "--port",
                    str(gw),
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        )
        _wait(f"http://127.0.0.1:{bare}/p/v1/messages")
        _wait(f"http://127.0.0.1:{gw}/claude/v1/messages")
        pids = {"bare": procs[1].pid, "gateway": procs[2].pid}
        client = httpx2.Client(timeout=120)
        print(
            f"{'turns':>5} {'target':<7} {'answer':<6} {'MB':>5} {'bare ms':>8} "
            f"{'gw ms':>8} {'CPU ratio':>9} {'bare p50':>9} {'gw p50':>8} {'added p50':>9} "
            f"{'bare flt':>8} {'gw flt':>7}"
        )
        for turns in args.turns:
            calls = max(10, args.calls * 10 // turns)
            kinds = (True,) if args.stream_only else (False, True) if args.stream else (False,)
            cases = [(s, t, b) for s in kinds for t, b in _bodies(turns, s, args.ladder).items()]
            ports = {"bare": bare, "gateway": gw}
            results = _measure(client, cases, ports, pids, calls, args.rounds)
            for (stream, target, body), (per, p50, flt) in zip(cases, results, strict=True):
                print(
                    f"{turns:>5} {target:<7} {'stream' if stream else 'plain':<6} "
                    f"{len(body[-1]) / 1e6:>5.2f} {per['bare']:>8.3f} {per['gateway']:>8.3f} "
                    f"{per['gateway'] / per['bare']:>8.2f}x {p50['bare']:>9.2f} "
                    f"{p50['gateway']:>8.2f} {p50['gateway'] - p50['bare']:>9.2f} "
                    f"{flt['bare']:>8.0f} {flt['gateway']:>7.0f}",
                    flush=True,
                )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
