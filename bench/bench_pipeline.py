"""How much the chain costs before each API call, as ratios against baselines from the same run.

Builds a realistic conversation of N turns (each: a user message, an assistant message with
~2 KB of thinking, some text and one or two tool calls, and 5-20 KB tool results), then times,
best of several runs:

- ``json.dumps(body)``   - the serialization every call pays anyway (the baseline);
- ``copy.deepcopy(body)`` - what a naive "copy, then edit" middleware pays;
- a bare loop that only visits every block (the floor any pass over the history costs);
- the chain ``Pipeline([ToolPairing(), ThinkingRoundTrip()])`` for two targets:
  ``claude-opus-4-6`` (keep-all; own signed blocks, nothing to change) and ``mimo-v2.5-pro``
  behind a relay with the thinking stored without a signature field (every turn rewritten).

Every assistant turn is first fed to ``observe``, as in a live agent, so provenance lookups hit.
Also timed: ``Pipeline.counted`` (the same chain counting its decisions, as the gateway's access
log does), shown as its ratio to the plain call.

Usage: python bench/bench_pipeline.py [N ...]   (default: 100 1000 5000)
"""

from __future__ import annotations

import copy
import gc
import json
import random
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from agent import Pipeline, Request
from agent.middleware import ThinkingRoundTrip, ToolPairing


def conversation(turns: int, signed: bool, seed: int = 7) -> list[dict[str, Any]]:
    """N turns of a tool-using agent conversation with realistic sizes."""
    rng = random.Random(seed)
    vocabulary = ["plan", "check", "read", "grep", "build", "test", "fix", "log", "ok"]
    words = [w * rng.randint(1, 3) for w in vocabulary]

    def prose(size: int) -> str:
        out: list[str] = []
        length = 0
        while length < size:
            word = rng.choice(words)
            out.append(word)
            length += len(word) + 1
        return " ".join(out)

    messages: list[dict[str, Any]] = []
    for t in range(turns):
        messages.append({"role": "user", "content": f"step {t}: {prose(200)}"})
        thinking: dict[str, Any] = {"type": "thinking", "thinking": prose(2048)}
        if signed:
            thinking["signature"] = "Eq" + prose(300).replace(" ", "")
        ids = [f"toolu_{t:05d}_{k}" for k in range(rng.randint(1, 2))]
        messages.append(
            {
                "role": "assistant",
                "content": [
                    thinking,
                    {"type": "text", "text": prose(300)},
                    *(
                        {"type": "tool_use", "id": i, "name": "bash", "input": {"cmd": prose(60)}}
                        for i in ids
                    ),
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": i,
                        "content": prose(rng.randint(5, 20) * 1024),
                    }
                    for i in ids
                ],
            }
        )
    return messages


def bare_loop(body: dict[str, Any]) -> int:
    """Visit every block once and look at its type: the floor of any pass over the history."""
    seen = 0
    for message in body["messages"]:
        content = message["content"]
        if isinstance(content, list):
            for block in content:
                if block["type"] == "thinking":
                    seen += 1
    return seen


def best(fn: Callable[[], object], repeat: int) -> float:
    """The best wall time of ``repeat`` runs (best-of is the least noisy on a shared machine)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(sizes: list[int]) -> None:
    print(
        f"{'N':>5} {'target':<16} {'body MB':>8} {'dumps ms':>9} {'deepcopy ms':>12} "
        f"{'bare ms':>8} {'chain ms':>9} {'chain/dumps':>12} {'chain/deepcopy':>15} "
        f"{'bare/dumps':>11} {'changed':>8} {'counted/chain':>14}"
    )
    for n in sizes:
        repeat = 15 if n <= 1000 else 3  # best of many: the machine is shared
        for target, model, base_url, signed in (
            ("claude keep-all", "claude-opus-4-6", None, True),
            ("mimo relay", "mimo-v2.5-pro", "https://open.markhub.top", False),
        ):
            messages = conversation(n, signed)
            body: dict[str, Any] = {
                "model": model,
                "max_tokens": 8192,
                "thinking": {"type": "adaptive"},
                "messages": messages,
            }
            request = Request(api="anthropic_messages", base_url=base_url, body=body)
            pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
            for message in messages:  # as a live agent would have: every turn observed
                if message["role"] == "assistant":
                    pipe.observe(request, {"type": "message", "content": message["content"]})
            size_mb = len(json.dumps(body)) / 1e6
            dumps = best(partial(json.dumps, body), repeat)
            deep = best(partial(copy.deepcopy, body), max(1, repeat // 2))
            bare = best(partial(bare_loop, body), repeat)
            chain = best(partial(pipe, request), repeat)
            changed = pipe(request) is not request
            counted = best(partial(pipe.counted, request), repeat)
            print(
                f"{n:>5} {target:<16} {size_mb:>8.1f} {dumps * 1e3:>9.2f} {deep * 1e3:>12.1f} "
                f"{bare * 1e3:>8.3f} {chain * 1e3:>9.3f} {chain / dumps:>11.2%} "
                f"{chain / deep:>14.3%} {bare / dumps:>10.2%} {changed!s:>8} "
                f"{counted / chain:>13.1f}x"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 5000])
