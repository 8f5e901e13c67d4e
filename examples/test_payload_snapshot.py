"""Snapshot your own payloads: pin the exact bodies your chain sends, with pytest and syrupy.

The fixtures come with the package (its pytest plugin): ``mimo_emulator`` (one per family,
and the ``agent_emulator`` factory) and ``payload_snapshot``, a syrupy snapshot stored as
plain JSON beside this file (``__snapshots__/test_payload_snapshot/<test>.json``).

    pytest examples/test_payload_snapshot.py --snapshot-update   # once: write, then review
    pytest examples/test_payload_snapshot.py                     # from then on: compare

A change to your chain, your config or this library that alters a payload fails the test
with the difference; review it, and only then update the snapshot.
"""

from typing import Any

import anthropic

from agent import Pipeline, Request
from agent.integrations.anthropic import PipelineMiddleware
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.testing import Emulator, run_tool_loop

RELAY = "https://open.markhub.top"  # where the agent's calls go in production
TOOLS = [{"name": "run_step", "description": "Run one step.", "input_schema": {"type": "object"}}]


def my_chain() -> Pipeline:
    """The chain under test: yours, as your agent builds it."""
    return Pipeline([ToolPairing(), ThinkingRoundTrip()])


def keep_text_and_tools(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the agent keeps of an answer: text and tool calls, no thinking."""
    return [b for b in content if b["type"] in ("text", "tool_use")]


def test_a_body_as_the_chain_sends_it(payload_snapshot: Any) -> None:
    """A DeepSeek chat history whose tool-call turn lost its reasoning gets the pad DeepSeek
    accepts; no server needed."""
    body = {
        "model": "deepseek-v4-pro",
        "messages": [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "run", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ],
    }
    request = Request(api="chat_completions", base_url="https://api.deepseek.com", body=body)

    assert payload_snapshot == my_chain()(request).body


def test_what_the_provider_received(mimo_emulator: Emulator, payload_snapshot: Any) -> None:
    """A whole tool loop through the SDK against the MiMo emulator: every call succeeds, and
    the bodies MiMo received are the ones pinned."""
    with anthropic.Anthropic(
        base_url=mimo_emulator.base_url,
        api_key="test-key",
        middleware=[PipelineMiddleware(my_chain(), base_url=RELAY)],
    ) as client:
        steps = run_tool_loop(
            client,
            [{"role": "user", "content": "go"}],
            model="mimo-v2.5-pro",
            max_tokens=1024,
            tools=TOOLS,
            thinking={"type": "enabled", "budget_tokens": 512},
            store=keep_text_and_tools,
        )

    assert [200] * 5 == [s.status for s in steps]
    assert payload_snapshot == [received.body for received in mimo_emulator.log]
