"""What the gateway adds per call, and whether its memory stays flat.

N concurrent clients (default 1, 8, 64) each run MiMo tool loops (the originating
conversation, four tool calls, the agent keeping no thinking) against the MiMo emulator, both
ways in the same run, in alternating rounds so both see the same machine:

- direct: straight to the emulator, the pipeline in the client (``AsyncPipelineTransport``);
- gateway: through ``python -m agent serve``, the pipeline in the gateway.

Three processes on 127.0.0.1: the emulator, the gateway, and this one (the clients). The
emulator answers after ``--model-ms`` on average (default: 0 and 50; each answer takes between
half and one and a half times it, as a model's time varies): at 0 the clients send back to back
and keep every CPU busy, so the figure at 64 clients is mostly the gateway's share of a
saturated machine; a model that takes time to answer, as real ones do, leaves the CPUs free
and shows the latency the gateway adds to a call (the clients then start at random moments
within one model time, not all at once). Each call's time is taken minus the
emulator's own time for it (which the emulator reports in the answer), so the varying model
time does not blur the comparison. Printed per model time and N: median and p99 of that
overhead both ways, the differences (the gateway's added latency), failed calls, and the
chain's own time per call (the pipeline with its decisions counted, as the gateway runs it,
on the loop's last body), and the gateway's CPU time per call (user and system, read from
/proc around its rounds: robust to a busy machine where latency is not).

Then ``--calls`` calls (default 10,000) through the gateway with 8 clients, its resident memory
read after every batch.

``--workers N`` runs the gateway with N worker processes (then on a SQLite store, which they
share). The gateway runs with every bound at its default and ``/metrics`` on
(``--no-metrics``: off); see ``bench_hostile.py`` for the bounds under attack, and
``bench_proxy.py`` for the gateway against a bare reverse proxy (CPU per call as a ratio, at
10 and 200 turns, plain and streamed).

Usage: python bench/bench_gateway.py [--clients 1 8 64] [--model-ms 0 50] [--calls 10000]
                                     [--workers 1] [--no-metrics]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import httpx2

from agent import Pipeline, Request
from agent.integrations.transport import AsyncPipelineTransport
from agent.middleware import ThinkingRoundTrip, ToolPairing

TOOLS = [{"name": "run", "input_schema": {"type": "object"}}]
ROUNDS = 4  # rounds per (N, path): direct and gateway alternate

_EMULATOR = """
import random, sys, time
from agent.testing.emulators import Emulator

class Varying(Emulator):
    # a model's time to answer varies: uniform between half and one and a half times the
    # given one (a fixed time would keep every client in lockstep, all arriving at once)
    def handle(self, path, body):
        start = time.perf_counter()
        time.sleep(random.uniform(0.5, 1.5) * float(sys.argv[1]))
        status, answer, stream = super().handle(path, body)
        if isinstance(answer, dict):  # the emulator's own time, so the client can take it out
            answer = {**answer, "bench_upstream_s": time.perf_counter() - start}
        return status, answer, stream

with Varying("mimo", rounds=4) as mimo:
    print(mimo.base_url, flush=True)
    sys.stdin.read()
"""


def _rss_kb(pid: int) -> int:
    """The resident memory of a process and its children (the gateway's workers)."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total = int(line.split()[1])
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else ():
        total += _rss_kb(int(child))
    return total


def _cpu_s(pid: int) -> float:
    """The CPU time (user and system) a process and its children (the gateway's workers)
    have used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else ():
        total += _cpu_s(int(child))
    return total


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


async def _loop(
    client: httpx2.AsyncClient, url: str, times: list[float], failed: list[int]
) -> tuple[list[Any], list[Any]]:
    """One MiMo tool loop, the agent keeping no thinking; each call's latency recorded.
    Returns the last messages sent and the answers."""
    messages: list[Any] = [{"role": "user", "content": "go"}]
    replies: list[Any] = []
    for _ in range(6):
        body = {"model": "mimo-v2.5-pro", "max_tokens": 100, "messages": messages, "tools": TOOLS}
        start = time.perf_counter()
        response = await client.post(url, json=body, headers={"x-api-key": "k"})
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            failed.append(response.status_code)
            return messages, replies
        reply = response.json()
        times.append(elapsed - reply.get("bench_upstream_s", 0.0))  # the call minus the model
        replies.append(reply)
        kept = [b for b in reply["content"] if b["type"] != "thinking"]
        messages.append({"role": "assistant", "content": kept})
        uses = [b for b in kept if b["type"] == "tool_use"]
        if not uses:
            return messages, replies
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": u["id"], "content": "ok"} for u in uses
                ],
            }
        )
    return messages, replies


async def _run(
    url: str, clients: int, loops: int, direct: bool, spread: float = 0.0
) -> tuple[list[float], list[int], tuple[list[Any], list[Any]]]:
    """``clients`` concurrent workers running ``loops`` loops each; each worker starts at a
    random moment within ``spread`` seconds (agents do not start in lockstep)."""
    times: list[float] = []
    failed: list[int] = []
    last: tuple[list[Any], list[Any]] = ([], [])
    transport = (
        AsyncPipelineTransport(Pipeline([ToolPairing(), ThinkingRoundTrip()])) if direct else None
    )
    limits = httpx2.Limits(max_connections=clients * 2)
    async with httpx2.AsyncClient(transport=transport, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal last
            await asyncio.sleep(random.uniform(0, spread))
            for _ in range(loops):
                last = await _loop(client, url, times, failed)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return times, failed, last


def _chain_ms(upstream: str, loop: tuple[list[Any], list[Any]]) -> float:
    """The chain's time on a loop's last body, counting its decisions as the gateway does
    (best of several; the loop's answers observed first, as the gateway has them, so the
    lost thinking of every turn is put back)."""
    messages, replies = loop
    pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
    body = {"model": "mimo-v2.5-pro", "max_tokens": 100, "messages": messages, "tools": TOOLS}
    request = pipe.resolve(Request(api="anthropic_messages", base_url=upstream, body=body))
    for reply in replies:
        pipe.observe(request, reply)
    assert pipe.counted(request)[1].get("restored"), "the bench body has nothing to restore"
    return min(timeit.repeat(lambda: pipe.counted(request), number=200, repeat=5)) / 200 * 1000


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _started(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


def _gateway(config: Path, workers: int) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    process = _started(
        [
            *(sys.executable, "-m", "agent", "serve", "--config", str(config)),
            *("--port", str(port), "--workers", str(workers)),
        ]
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{base}/health").status_code == 200:
                return process, base
        except httpx2.HTTPError:
            time.sleep(0.05)
    raise SystemExit("the gateway did not start")


def _compare(
    emulator: str, through: str, clients: list[int], gateway_pid: int, model_s: float
) -> None:
    direct = f"{emulator}/v1/messages"
    print(
        f"{'N':>4} {'calls':>6} {'direct p50':>10} {'gw p50':>8} {'added p50':>9} "
        f"{'direct p99':>10} {'gw p99':>8} {'added p99':>9} {'failed':>6} {'chain ms':>8} "
        f"{'gw cpu/call':>11} {'rss KB':>13}"
    )
    for n in clients:
        loops = max(1, 60 // n)  # per round: about 300 calls at 1 client, 320 at 64
        before = _rss_kb(gateway_pid)
        d_times: list[float] = []
        g_times: list[float] = []
        failed: list[int] = []
        last: tuple[list[Any], list[Any]] = ([], [])
        cpu = 0.0
        for _ in range(ROUNDS):
            times, lost, last = asyncio.run(_run(direct, n, loops, True, model_s))
            d_times += times
            failed += lost
            cpu -= _cpu_s(gateway_pid)
            times, lost, _ = asyncio.run(_run(through, n, loops, False, model_s))
            cpu += _cpu_s(gateway_pid)
            g_times += times
            failed += lost
        after = _rss_kb(gateway_pid)
        d50, g50 = statistics.median(d_times) * 1000, statistics.median(g_times) * 1000
        d99, g99 = _ms(d_times, 0.99), _ms(g_times, 0.99)
        print(
            f"{n:>4} {len(g_times):>6} {d50:>8.2f}ms {g50:>6.2f}ms {g50 - d50:>7.2f}ms "
            f"{d99:>8.2f}ms {g99:>6.2f}ms {g99 - d99:>7.2f}ms {len(failed):>6} "
            f"{_chain_ms(emulator, last):>8.3f} {cpu / len(g_times) * 1000:>9.3f}ms "
            f"{before:>6}->{after:<6}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 8, 64])
    parser.add_argument("--model-ms", type=float, nargs="*", default=[0.0, 50.0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-metrics", dest="metrics", action="store_false")
    args = parser.parse_args()
    processes: list[subprocess.Popen[str]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for model_ms in args.model_ms:
                emulator = _started([sys.executable, "-c", _EMULATOR, str(model_ms / 1000)])
                processes.append(emulator)
                assert emulator.stdout is not None
                upstream = emulator.stdout.readline().strip()
                config = Path(folder) / f"gateway-{model_ms:g}.yaml"
                db = f"{folder}/thinking-{model_ms:g}.db"
                store = (  # bounded at 1,000 turns: flat memory once full
                    "{memory: {max_turns: 1000}}"
                    if args.workers == 1
                    else f"{{sqlite: {{path: '{db}', max_turns: 1000}}}}"
                )
                config.write_text(  # every bound at its default, metrics on
                    f"store: {store}\n"
                    + ("gateway:\n  metrics: true\n" if args.metrics else "")
                    + f"providers:\n  mimo:\n    base_url: {upstream}\n"
                    "    api_mode: anthropic_messages\n"
                )
                gateway, base = _gateway(config, args.workers)
                processes.append(gateway)
                print(f"model time {model_ms:g} ms")
                through = f"{base}/mimo/v1/messages"
                _compare(upstream, through, args.clients, gateway.pid, model_ms / 1000)
            if args.calls:
                through = f"{base}/mimo/v1/messages"
                done, failures, rss = 0, 0, [_rss_kb(gateway.pid)]
                while done < args.calls:
                    times, failed, _ = asyncio.run(_run(through, 8, 25, False))
                    done += len(times)
                    failures += len(failed)
                    rss.append(_rss_kb(gateway.pid))
                print(
                    f"{done} calls through the gateway, {failures} failed; resident memory KB: "
                    f"{rss[0]} at start, {rss[1]} after the first batch, {rss[-1]} at the end"
                )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
