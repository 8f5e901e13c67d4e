"""``python -m agent demo``: the originating bug, reproduced and fixed, through the real SDK.

An agent sends ``mimo-v2.5-pro`` through a generic Anthropic-compatible relay. Its old rule,
"preserve unsigned thinking only for Kimi and DeepSeek endpoints; strip all thinking for an
unknown third-party relay", makes call 2 of every tool loop fail with MiMo's HTTP 400. The demo
runs a four-tool-call conversation against the built-in MiMo relay emulator twice: with that
rule, and with ThinkingRoundTrip.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import anthropic

from agent.body import with_messages
from agent.integrations.anthropic import PipelineMiddleware
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.pipeline import Pipeline
from agent.request import Request
from agent.testing.emulators import Emulator
from agent.testing.loop import Step, run_tool_loop
from agent.wire import host_of

MODEL = "mimo-v2.5-pro"
RELAY = "https://open.markhub.top"
TOOLS = [
    {
        "name": "bash",
        "description": "Run a shell command",
        "input_schema": {"type": "object", "properties": {"cmd": {"type": "string"}}},
    }
]
_KEEPS_UNSIGNED = ("moonshot.ai", "moonshot.cn", "api.kimi.com", "deepseek.com", "anthropic.com")


def originating_policy(request: Request) -> Request:
    """The originating agent's rule: keep unsigned thinking only for Kimi and DeepSeek
    endpoints (and Anthropic's own); any other third-party relay gets all thinking stripped."""
    host = host_of(request.base_url, request.api)
    if any(host == h or host.endswith("." + h) for h in _KEEPS_UNSIGNED):
        return request
    messages = []
    for message in request.body["messages"]:
        content = message.get("content")
        if message.get("role") == "assistant" and isinstance(content, list):
            message = {
                **message,
                "content": [
                    b for b in content if b.get("type") not in ("thinking", "redacted_thinking")
                ],
            }
        messages.append(message)
    return Request(
        api=request.api, base_url=request.base_url, body=with_messages(request.body, messages)
    )


def _sent_back(body: Mapping[str, Any]) -> str:
    """What the request that reached the provider carried as prior thinking."""
    turns = [
        m
        for m in body["messages"]
        if m.get("role") == "assistant"
        and any(b.get("type") == "tool_use" for b in m.get("content") or [])
    ]
    if not turns:
        return "nothing yet (first call)"
    with_thinking = [m for m in turns if any(b.get("type") == "thinking" for b in m["content"])]
    if not with_thinking:
        return f"stripped from all {len(turns)} tool turn(s)"
    signatures = {
        b.get("signature")
        for m in with_thinking
        for b in m["content"]
        if b.get("type") == "thinking"
    }
    form = 'signature ""' if signatures == {""} else "signed"
    return f"kept on {len(with_thinking)} of {len(turns)} tool turn(s), {form}"


def _run(
    title: str,
    middleware: Callable[[Request], Request] | Pipeline,
    relay: Emulator,
    out: TextIO,
) -> list[Step]:
    pipeline = middleware if isinstance(middleware, Pipeline) else Pipeline([middleware])
    client = anthropic.Anthropic(
        base_url=relay.base_url,
        api_key="demo-key-not-a-secret",
        max_retries=0,
        middleware=[PipelineMiddleware(pipeline, base_url=RELAY)],
    )
    relay.clear()
    print(title, file=out)
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "The build fails. Find out why and fix it."}
    ]
    steps = run_tool_loop(
        client,
        history,
        model=MODEL,
        max_tokens=2048,
        tools=TOOLS,
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    for step, received in zip(steps, relay.log, strict=True):
        result = (
            f"{step.status} {step.stop_reason}"
            if step.status == 200
            else f"{step.status} {step.error}"
        )
        print(
            f"   call {step.call}  thinking sent back: {_sent_back(received.body):<42} -> {result}",
            file=out,
        )
    client.close()
    return steps


def run_demo(out: TextIO = sys.stdout) -> int:
    """Run both conversations; 0 when the bug reproduces and the fix completes the loop."""
    with Emulator("mimo", rounds=4) as relay:
        print(
            f"{MODEL} behind an Anthropic-compatible relay ({RELAY}, emulated at "
            f"{relay.base_url}); the task needs 4 tool calls.\n",
            file=out,
        )
        before = _run(
            "1) the originating agent's rule: 'unknown third-party relay: strip all thinking'",
            originating_policy,
            relay,
            out,
        )
        failed = before[-1].status == 400 and before[-1].call == 2
        print(
            "   -> "
            + (
                "failed on call 2 with MiMo's HTTP 400, as the originating agent did"
                if failed
                else "did not fail as expected"
            ),
            file=out,
        )
        print(file=out)
        pipeline = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        match = pipeline.resolve(
            Request(api="anthropic_messages", base_url=RELAY, body={"model": MODEL, "messages": []})
        ).match
        after = _run(f"2) with ThinkingRoundTrip ({match.describe()})", pipeline, relay, out)
        tool_calls = sum(1 for s in after if s.stop_reason == "tool_use")
        completed = after[-1].status == 200 and after[-1].stop_reason == "end_turn"
        print(
            "   -> "
            + (
                f"completed: {tool_calls} tool calls and a final answer"
                if completed
                else "did not complete"
            ),
            file=out,
        )
    return 0 if failed and completed else 1
