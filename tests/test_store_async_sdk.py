"""The async anthropic client with a store outside the process: its event loop never waits
for the store (the chain, observing and recovering run on a worker thread), and a frozen Redis
holds up only the call that asked it."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

from agent.integrations.anthropic import async_anthropic_client
from agent.testing.emulators import Emulator
from agent.testing.relay import Relay
from tests.fleet import Agent, every_turn_restored
from tests.redis_servers import redis_server


def _config(folder: Path, mimo: Emulator, url: str) -> Path:
    path = folder / "agent.yaml"
    path.write_text(
        f"store: {{redis: {{url: '{url}', timeout_ms: 3000}}}}\n"
        f"providers:\n  mimo:\n    base_url: {mimo.base_url}\n"
        "    api_mode: anthropic_messages\n    api_key: k\n"
    )
    return path


async def _ticks(gaps: list[float], stop: asyncio.Event) -> None:
    """The event loop's longest stall while it runs: the gaps between 5 ms sleeps."""
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


def test_the_loop_goes_on_while_redis_is_frozen(tmp_path: Path) -> None:
    """Redis frozen (SIGSTOP) while a call's chain waits for it: the loop keeps turning (it
    stalled for the store's whole time limit before), the call completes once Redis is back,
    with every earlier turn restored; a streamed call after it too (its turn restored in the
    next call: the stream ends once its turn is written)."""
    with (
        Emulator("mimo", rounds=4) as mimo,
        redis_server(tmp_path / "redis") as (port, process),
        Relay("127.0.0.1", port) as relay,
    ):
        path = _config(tmp_path, mimo, f"redis://127.0.0.1:{relay.listening}/0")

        async def go() -> tuple[float, bool]:
            client = async_anthropic_client(path, "mimo", max_retries=0)
            agent = Agent()
            first = await client.messages.create(**agent.body())
            agent.take([b.model_dump() for b in first.content])
            gaps: list[float] = []
            stop = asyncio.Event()
            ticker = asyncio.create_task(_ticks(gaps, stop))
            os.kill(process.pid, signal.SIGSTOP)
            try:
                before = relay.round_trips
                call: asyncio.Task[Any] = asyncio.create_task(
                    client.messages.create(**agent.body())
                )
                waited = time.perf_counter()
                while relay.round_trips == before and time.perf_counter() - waited < 2:
                    await asyncio.sleep(0.005)  # until the call's read went to the frozen Redis
                await asyncio.sleep(0.2)
                waiting = not call.done()
            finally:
                os.kill(process.pid, signal.SIGCONT)
            second = await asyncio.wait_for(call, 60)
            stop.set()
            await ticker
            agent.take([b.model_dump() for b in second.content])
            async with client.messages.stream(**agent.body()) as events:
                third = await events.get_final_message()
            agent.take([b.model_dump() for b in third.content])
            fourth = await client.messages.create(**agent.body())  # the streamed turn restored
            agent.take([b.model_dump() for b in fourth.content])
            await client.close()
            return max(gaps), waiting

        stall, waiting = asyncio.run(go())

    assert waiting  # the call still waited for Redis when the loop was looked at
    assert stall < 1.0, f"the event loop stalled {stall:.2f} s"
    assert every_turn_restored(mimo)
    assert 4 == len(mimo.log)
