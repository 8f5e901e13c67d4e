"""The strict MiMo loop the store tests run: an agent that keeps no thinking, so every call
restores every earlier turn from the store; and the check that it did (each turn the MiMo
emulator received carries the reasoning the emulator wrote for it, never the pad)."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2

from agent import Pipeline, Request
from agent.integrations.transport import AsyncPipelineTransport
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.store import ThinkingStore
from agent.testing.emulators import Emulator

MIMO = "mimo-v2.5-pro"
TOOL: Any = {"name": "run", "input_schema": {"type": "object"}}
#: Where the in-process loops say they send (family by model; nothing listens there).
HOST = "http://mimo.test"


def thinking_of(content: Any) -> list[str]:
    return [b["thinking"] for b in content if isinstance(b, dict) and b.get("type") == "thinking"]


def every_turn_restored(emulator: Emulator) -> bool:
    """Whether every request the emulator received carried, on each earlier turn, the thinking
    the emulator wrote for it (not the pad, not nothing)."""
    written = [thinking_of(r.response["content"]) for r in emulator.log if r.status == 200]
    for received in emulator.log:
        turns = [m for m in received.body["messages"] if m["role"] == "assistant"]
        if [thinking_of(m["content"]) for m in turns] != written[: len(turns)]:
            return False
    return True


class Agent:
    """A lossy MiMo agent (it keeps text and tool calls only, or also the thinking of every
    ``keeps_every``-th turn), one call at a time."""

    def __init__(self, keeps_every: int = 0) -> None:
        self.messages: list[Any] = [{"role": "user", "content": "go"}]
        self.done = False
        self.keeps_every = keeps_every  # keep the thinking of every n-th turn (0: none)
        self.turns = 0

    def body(self) -> dict[str, Any]:
        return {
            "model": MIMO,
            "max_tokens": 100,
            "messages": list(self.messages),
            "tools": [TOOL],
            "thinking": {"type": "enabled", "budget_tokens": 50},
        }

    def take(self, content: list[Any]) -> None:
        """Keep an answer as the agent does: without its thinking, tool calls answered."""
        self.turns += 1
        keeps = self.keeps_every and self.turns % self.keeps_every == 0
        kept = [b for b in content if keeps or b["type"] != "thinking"]
        self.messages.append({"role": "assistant", "content": kept})
        uses = [b for b in kept if b["type"] == "tool_use"]
        self.done = not uses
        if uses:
            results = [
                {"type": "tool_result", "tool_use_id": u["id"], "content": "ok"} for u in uses
            ]
            self.messages.append({"role": "user", "content": results})


def _result(tool_id: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id, "content": "ok"}


def pipeline(store: ThinkingStore) -> Pipeline:
    return Pipeline([ToolPairing(), ThinkingRoundTrip(store=store)])


def call_sync(pipe: Pipeline, emulator: Emulator, agent: Agent) -> None:
    """One call the way the SDK adapters make it: the chain, the provider, observe."""
    sent = pipe(Request(api="anthropic_messages", base_url=HOST, body=agent.body()))
    status, answer, _ = emulator.handle("/v1/messages", sent.body)
    assert 200 == status, answer
    pipe.observe(sent, answer)
    agent.take(answer["content"])


def async_client(pipe: Pipeline, emulator: Emulator) -> httpx2.AsyncClient:
    """The gateway's transport around the emulator's script (no HTTP to it)."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        status, body, _ = emulator.handle(request.url.path, json.loads(request.content))
        content = json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(content))

    transport = AsyncPipelineTransport(pipe, httpx2.MockTransport(answer), count=True)
    return httpx2.AsyncClient(transport=transport, base_url=HOST)


async def call_async(client: httpx2.AsyncClient, agent: Agent) -> dict[str, Any]:
    """One call through the async transport; the transport's ``extensions["agent"]``."""
    response = await client.post("/v1/messages", json=agent.body())
    assert 200 == response.status_code, response.text
    agent.take(response.json()["content"])
    return dict(response.extensions["agent"])


def sdk_loop(urls: list[str], calls: int, stream_every: int = 0) -> list[int]:
    """The lossy agent through the anthropic SDK, call ``n`` through ``urls[n % len]`` (and
    streamed every ``stream_every``-th call); the statuses."""
    agent = Agent()
    statuses = []
    for n in range(calls):
        client = anthropic.Anthropic(base_url=urls[n % len(urls)], api_key="k", max_retries=0)
        params = agent.body()
        try:
            if stream_every and n % stream_every == stream_every - 1:
                with client.messages.stream(**params) as events:
                    reply = events.get_final_message()
            else:
                reply = client.messages.create(**params)
        except anthropic.APIStatusError as exc:
            statuses.append(exc.status_code)
            return statuses
        statuses.append(200)
        agent.take([b.model_dump() for b in reply.content])
        if agent.done:
            break
    return statuses
