"""What a Redis store adds to a call, by conversation length, with the memory store as the
baseline measured in the same run.

A lossy agent (it keeps no thinking, so every call restores every earlier turn) runs a MiMo
tool loop to L earlier turns (L = 1, 10, 50 by default); then the call at length L is timed
``--calls`` times, both stores in alternating rounds, the way the gateway makes it: through
``AsyncPipelineTransport`` (the store's batch read before the chain, off the event loop; the
answer's turn written before the answer is returned), the provider answering at once from the
MiMo emulator's script in process (no HTTP), so what differs between the two is the store.

Redis is a local ``redis-server`` (started here) behind a TCP relay that holds every chunk
``--rtt-ms / 2`` each way (a Redis on another host: a round trip takes ``--rtt-ms`` more); the
relay counts the round trips of each call (redis-py writes a pipeline over 6 KB in two writes:
with no delay the relay may see Redis answer the first before the second arrives, and count
two). Printed per L: the median call with each store, the Redis store's added latency (median
and p90 of the difference, per call, of paired rounds), and its round trips per call.

Then ``--clients`` conversations at once (default 8) for ``--seconds``: calls per second with
each store (the event loop never waits for Redis: the reads and writes run on the store's
threads).

Usage: python bench/bench_store.py [--lengths 1 10 50] [--rtt-ms 0 2] [--calls 40]
                                   [--clients 8] [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from typing import Any

import httpx2

from agent import Pipeline
from agent.integrations.transport import AsyncPipelineTransport
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.redis_store import RedisStore
from agent.store import MemoryStore, ThinkingStore
from agent.testing.emulators import Emulator
from agent.testing.relay import Relay

MODEL = "mimo-v2.5-pro"
TOOL = {"name": "run", "input_schema": {"type": "object"}}
HOST = "http://mimo.test"


def redis_server(folder: str) -> tuple[subprocess.Popen[bytes], int]:
    """A redis-server on a free 127.0.0.1 port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return process, port
        except OSError:
            time.sleep(0.02)
    raise SystemExit("redis-server did not start")


class Conversation:
    """A lossy MiMo agent's history, grown through a client, then called again and again."""

    def __init__(self) -> None:
        self.messages: list[Any] = [{"role": "user", "content": "go"}]

    def body(self) -> dict[str, Any]:
        return {
            "model": MODEL,
            "max_tokens": 100,
            "messages": list(self.messages),
            "tools": [TOOL],
            "thinking": {"type": "enabled", "budget_tokens": 50},
        }

    async def call(self, client: httpx2.AsyncClient, keep: bool = True) -> None:
        response = await client.post("/v1/messages", json=self.body())
        if response.status_code != 200:
            raise SystemExit(f"the call failed: {response.status_code} {response.text[:200]}")
        if not keep:
            return
        content = [b for b in response.json()["content"] if b["type"] != "thinking"]
        self.messages.append({"role": "assistant", "content": content})
        uses = [b for b in content if b["type"] == "tool_use"]
        self.messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": u["id"], "content": "ok"} for u in uses
                ],
            }
        )


def client_for(store: ThinkingStore, emulator: Emulator) -> httpx2.AsyncClient:
    """The gateway's transport, its pipeline on ``store``, the emulator answering in process."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        import json

        status, body, _ = emulator.handle(request.url.path, json.loads(request.content))
        content = json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(content))

    pipe = Pipeline([ToolPairing(), ThinkingRoundTrip(store=store)])
    transport = AsyncPipelineTransport(pipe, httpx2.MockTransport(answer), count=True)
    return httpx2.AsyncClient(transport=transport, base_url=HOST)


async def grown(client: httpx2.AsyncClient, length: int) -> Conversation:
    conversation = Conversation()
    for _ in range(length):
        await conversation.call(client)
    return conversation


async def timed(conversation: Conversation, client: httpx2.AsyncClient) -> float:
    started = time.perf_counter()
    await conversation.call(client, keep=False)
    return (time.perf_counter() - started) * 1000


async def by_length(length: int, calls: int, relay: Relay, url: str) -> dict[str, Any]:
    """Median call at ``length`` with each store, the added latency, the round trips."""
    emulator = Emulator("mimo", rounds=length + calls * 2 + 10)
    redis = RedisStore(url, prefix=f"bench{length}:{time.monotonic_ns()}:")
    async with (
        client_for(MemoryStore(), emulator) as memory_client,
        client_for(redis, emulator) as redis_client,
    ):
        on_memory = await grown(memory_client, length)
        on_redis = await grown(redis_client, length)
        for _ in range(3):  # warm both (connections, code paths)
            await timed(on_memory, memory_client)
            await timed(on_redis, redis_client)
        memory, shared, trips = [], [], []
        for _ in range(calls):
            memory.append(await timed(on_memory, memory_client))
            relay.reset()
            shared.append(await timed(on_redis, redis_client))
            trips.append(relay.round_trips)
    redis.close()
    added = sorted(r - m for r, m in zip(shared, memory, strict=True))
    return {
        "memory": statistics.median(memory),
        "redis": statistics.median(shared),
        "added": statistics.median(added),
        "added_p90": added[int(len(added) * 0.9)],
        "trips": (min(trips), max(trips)),
    }


async def throughput(store: ThinkingStore, clients: int, seconds: float) -> float:
    """Calls per second of ``clients`` lossy conversations at once (each restarted at 10)."""
    emulator = Emulator("mimo", rounds=10_000)
    done = 0
    deadline = time.monotonic() + seconds
    async with client_for(store, emulator) as client:

        async def one() -> None:
            nonlocal done
            conversation = Conversation()
            while time.monotonic() < deadline:
                if len(conversation.messages) > 21:
                    conversation = Conversation()
                await conversation.call(client)
                done += 1

        await asyncio.gather(*(one() for _ in range(clients)))
    return done / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--rtt-ms", type=float, nargs="+", default=[0.0, 2.0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, port = redis_server(folder)
        try:
            for rtt in args.rtt_ms:
                with Relay("127.0.0.1", port, delay=rtt / 2000) as relay:
                    url = f"redis://127.0.0.1:{relay.listening}/0"
                    print(f"added round-trip time {rtt:g} ms")
                    print("     L   memory ms   redis ms   added ms (p90)   round trips/call")
                    for length in args.lengths:
                        r = asyncio.run(by_length(length, args.calls, relay, url))
                        low, high = r["trips"]
                        trips = f"{low}" if low == high else f"{low}-{high}"
                        print(
                            f"{length:6d} {r['memory']:11.2f} {r['redis']:10.2f}"
                            f" {r['added']:10.2f} ({r['added_p90']:.2f}) {trips:>12}"
                        )
                    if args.clients:
                        redis = RedisStore(url, prefix=f"load:{time.monotonic_ns()}:")
                        memory = asyncio.run(throughput(MemoryStore(), args.clients, args.seconds))
                        shared = asyncio.run(throughput(redis, args.clients, args.seconds))
                        redis.close()
                        print(
                            f"{args.clients} clients at once (L up to 10): memory {memory:.0f} "
                            f"calls/s, redis {shared:.0f} calls/s ({shared / memory:.2f}x)"
                        )
                    print()
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
