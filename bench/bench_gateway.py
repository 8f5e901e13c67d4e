"""What the gateway adds per call, and whether its memory stays flat.

N concurrent clients (default 1, 8, 64) each run MiMo tool loops (the originating
conversation, four tool calls, the agent keeping no thinking) against the MiMo emulator on
127.0.0.1, twice in the same run: straight to the emulator with the pipeline in the client
(the transport), and through ``python -m agent serve`` (a separate process). Printed per N:
the median and p99 latency of a call both ways and their difference, failed calls, and the
gateway's resident memory before and after. Then ``--calls`` calls (default 10,000) through
the gateway, with its memory read every 1,000.

Usage: python bench/bench_gateway.py [--clients 1 8 64] [--calls 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

from agent import Pipeline
from agent.integrations.transport import AsyncPipelineTransport
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.testing.emulators import Emulator

TOOLS = [{"name": "run", "input_schema": {"type": "object"}}]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


async def _loop(
    client: httpx2.AsyncClient, url: str, times: list[float], failed: list[int]
) -> None:
    """One MiMo tool loop, the agent keeping no thinking; each call's latency recorded."""
    messages: list[Any] = [{"role": "user", "content": "go"}]
    for _ in range(6):
        body = {"model": "mimo-v2.5-pro", "max_tokens": 100, "messages": messages, "tools": TOOLS}
        start = time.perf_counter()
        response = await client.post(url, json=body, headers={"x-api-key": "k"})
        times.append(time.perf_counter() - start)
        if response.status_code != 200:
            failed.append(response.status_code)
            return
        reply = response.json()
        kept = [b for b in reply["content"] if b["type"] != "thinking"]
        messages.append({"role": "assistant", "content": kept})
        uses = [b for b in kept if b["type"] == "tool_use"]
        if not uses:
            return
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": u["id"], "content": "ok"} for u in uses
                ],
            }
        )


async def _run(url: str, clients: int, loops: int, direct: bool) -> tuple[list[float], list[int]]:
    times: list[float] = []
    failed: list[int] = []
    transport = (
        AsyncPipelineTransport(Pipeline([ToolPairing(), ThinkingRoundTrip()])) if direct else None
    )
    limits = httpx2.Limits(max_connections=clients * 2)
    async with httpx2.AsyncClient(transport=transport, limits=limits, timeout=60) as client:

        async def worker() -> None:
            for _ in range(loops):
                await _loop(client, url, times, failed)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return times, failed


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 8, 64])
    parser.add_argument("--calls", type=int, default=10_000)
    args = parser.parse_args()
    with Emulator("mimo", rounds=4) as mimo, tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "gateway.yaml"
        config.write_text(  # a store bounded at 1,000 turns: flat memory once it is full
            "store: {memory: {max_turns: 1000}}\n"
            f"providers:\n  mimo:\n    base_url: {mimo.base_url}\n"
            "    api_mode: anthropic_messages\n"
        )
        port = _free_port()
        gateway = subprocess.Popen(
            [sys.executable, "-m", "agent", "serve", "--config", str(config), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            while True:
                try:
                    if httpx2.get(f"{base}/health").status_code == 200:
                        break
                except httpx2.HTTPError:
                    time.sleep(0.05)
            through = f"{base}/mimo/v1/messages"
            direct = f"{mimo.base_url}/v1/messages"
            print(
                f"{'N':>4} {'calls':>6} {'direct p50':>10} {'gw p50':>8} {'added p50':>9} "
                f"{'direct p99':>10} {'gw p99':>8} {'added p99':>9} {'failed':>6} {'rss KB':>13}"
            )
            for clients in args.clients:
                loops = max(1, 200 // (clients * 5))
                before = _rss_kb(gateway.pid)
                d_times, d_failed = asyncio.run(_run(direct, clients, loops, True))
                g_times, g_failed = asyncio.run(_run(through, clients, loops, False))
                after = _rss_kb(gateway.pid)
                d50, g50 = statistics.median(d_times) * 1000, statistics.median(g_times) * 1000
                d99, g99 = _ms(d_times, 0.99), _ms(g_times, 0.99)
                print(
                    f"{clients:>4} {len(g_times):>6} {d50:>9.2f}ms {g50:>6.2f}ms "
                    f"{g50 - d50:>7.2f}ms {d99:>9.2f}ms {g99:>6.2f}ms {g99 - d99:>7.2f}ms "
                    f"{len(d_failed) + len(g_failed):>6} {before:>6}->{after:<6}"
                )
            done, rss = 0, [_rss_kb(gateway.pid)]  # (the store fills in the first 1,000 calls)
            failures = 0
            while done < args.calls:
                times, failed = asyncio.run(_run(through, 8, 25, False))
                done += len(times)
                failures += len(failed)
                rss.append(_rss_kb(gateway.pid))
            print(
                f"{done} calls through the gateway, {failures} failed; resident memory KB: "
                f"{rss[0]} at start, {rss[1]} after the first batch, {rss[-1]} at the end"
            )
        finally:
            gateway.terminate()
            gateway.wait(timeout=10)


if __name__ == "__main__":
    main()
