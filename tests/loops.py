"""Helpers the end-to-end tests share: a tool loop through the SDK, one by hand on the chat
wire, and what to look at in the bodies a provider received."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import anthropic

from agent import Pipeline, Request
from agent.integrations.anthropic import PipelineMiddleware
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.testing.emulators import Emulator
from agent.testing.loop import Mode, Step, run_tool_loop, run_tool_loop_async
from agent.wire import for_the_wire

RELAY = "https://open.markhub.top"
TOOLS = [{"name": "run", "description": "run a step", "input_schema": {"type": "object"}}]
THINKING = {"type": "enabled", "budget_tokens": 1024}
Factory = Callable[..., Emulator]
MUST_PASS_BACK = "The reasoning_content in the thinking mode must be passed back to the API."


def LOSE(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An agent that keeps only text and tool calls (the originating agent's store)."""
    return [b for b in content if b["type"] not in ("thinking", "redacted_thinking")]


def fixed() -> Pipeline:
    return Pipeline([ToolPairing(), ThinkingRoundTrip()])


def converse(
    emulator: Emulator,
    pipeline: Pipeline | None,
    model: str,
    *,
    history: list[dict[str, Any]] | None = None,
    mode: Mode = "create",
    use_async: bool = False,
    base_url: str | None = RELAY,
    **params: Any,
) -> list[Step]:
    """One scripted tool loop through the SDK, with the pipeline installed (or none)."""
    middleware = [PipelineMiddleware(pipeline, base_url=base_url)] if pipeline else []
    history = history if history is not None else [{"role": "user", "content": "go"}]
    params = {"model": model, "max_tokens": 4096, "tools": TOOLS, **params}
    if use_async:

        async def go() -> list[Step]:
            client = anthropic.AsyncAnthropic(
                base_url=emulator.base_url, api_key="test-key", max_retries=0, middleware=middleware
            )
            async with client:
                return await run_tool_loop_async(client, history, mode=mode, **params)

        return asyncio.run(go())
    with anthropic.Anthropic(
        base_url=emulator.base_url, api_key="test-key", max_retries=0, middleware=middleware
    ) as client:
        return run_tool_loop(client, history, mode=mode, **params)


def completed(steps: list[Step], tool_calls: int) -> bool:
    return (
        steps[-1].stop_reason == "end_turn"
        and sum(s.stop_reason == "tool_use" for s in steps) == tool_calls
        and all(s.status == 200 for s in steps)
    )


def thinking_of(body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Per assistant message of a received body, its thinking blocks."""
    return [
        [b for b in m["content"] if b["type"] in ("thinking", "redacted_thinking")]
        for m in body["messages"]
        if m["role"] == "assistant"
    ]


def post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def chat_loop(
    emulator: Emulator,
    model: str,
    pipeline: Pipeline | None,
    *,
    keep_reasoning: bool = True,
    base_url: str | None = None,
    store: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    observe: bool = True,
    sent_bodies: list[Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> list[tuple[int, Any]]:
    """An agent that builds chat payloads itself and calls pipe(req) / pipe.observe(...);
    ``store`` shapes the assistant message it keeps (default: with or without its reasoning);
    ``sent_bodies`` collects what went on the wire; ``history`` is where it goes on from."""
    url = f"{emulator.openai_base_url}/chat/completions"
    history = history if history is not None else [{"role": "user", "content": "go"}]
    results = []
    for _ in range(8):
        body = {
            "model": model,
            "messages": history,
            "tools": [{"type": "function", "function": {"name": "run", "parameters": {}}}],
            **extra,
        }
        request = Request(api="chat_completions", base_url=base_url, body=body)
        sent = pipeline(request) if pipeline else request
        if sent_bodies is not None:
            sent_bodies.append(sent.body)
        status, answer = post(url, dict(sent.body))
        results.append((status, answer))
        if status != 200:
            return results
        if pipeline and observe:
            pipeline.observe(sent, answer)
        message = dict(answer["choices"][0]["message"])
        if not keep_reasoning:
            message.pop("reasoning_content", None)
        if store is not None:
            message = store(message)
        history.append(message)
        if not message.get("tool_calls"):
            return results
        history.extend(
            {"role": "tool", "tool_call_id": c["id"], "content": "ok"}
            for c in message["tool_calls"]
        )
    return results


def responses_loop(
    emulator: Emulator,
    model: str,
    pipeline: Pipeline | None,
    *,
    store: bool | None = False,
    include: bool = False,
    keep: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
    history: list[dict[str, Any]] | None = None,
    observe: bool = True,
    base: str | None = None,
) -> list[tuple[int, Any]]:
    """An agent on the Responses API that keeps its own ``input`` (``store: false`` by
    default) and calls pipe(req) / pipe.observe(...); ``keep`` shapes the output items it
    keeps; ``base`` is the OpenAI-style base URL it posts ``/responses`` under (default: the
    emulator's)."""
    url = f"{base or emulator.openai_base_url}/responses"
    items: list[dict[str, Any]] = (
        history if history is not None else [{"role": "user", "content": "go"}]
    )
    results = []
    for _ in range(8):
        body: dict[str, Any] = {
            "model": model,
            "input": items,
            "tools": [{"type": "function", "name": "run", "parameters": {}}],
        }
        if store is not None:
            body["store"] = store
        if include:
            body["include"] = ["reasoning.encrypted_content"]
        request = Request(api="responses", body=body)
        sent = pipeline(request) if pipeline else request
        status, answer = post(url, dict(sent.body))
        results.append((status, answer))
        if status != 200:
            return results
        if pipeline and observe:
            pipeline.observe(sent, answer)
        output = answer["output"]
        items.extend(keep(output) if keep else output)
        calls = [o for o in output if o["type"] == "function_call"]
        if not calls:
            return results
        items.extend(
            {"type": "function_call_output", "call_id": c["call_id"], "output": "ok"} for c in calls
        )
    return results


def converse_loop(
    emulator: Emulator,
    model: str,
    pipeline: Pipeline | None,
    *,
    keep: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
    base: str | None = None,
) -> list[tuple[int, Any]]:
    """An agent on Bedrock Converse (thinking on) that calls pipe(req) / pipe.observe(...);
    ``keep`` shapes the content blocks it keeps of each answer; ``base`` is where it posts
    ``/model/{id}/converse`` (default: the emulator)."""
    from urllib.parse import quote

    url = f"{base or emulator.base_url}/model/{quote(model, safe='')}/converse"
    base_url = "https://bedrock-runtime.us-east-1.amazonaws.com"
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"text": "go"}]}]
    results = []
    for _ in range(8):
        body: dict[str, Any] = {
            "modelId": model,
            "messages": messages,
            "toolConfig": {"tools": [{"toolSpec": {"name": "run", "inputSchema": {"json": {}}}}]},
            "additionalModelRequestFields": {
                "thinking": {"type": "enabled", "budget_tokens": 1024}
            },
        }
        request = Request(api="bedrock_converse", base_url=base_url, body=body)
        sent = pipeline(request) if pipeline else request
        wire, in_url = for_the_wire("bedrock_converse", sent.body)  # the model is in the URL
        assert in_url == model
        status, answer = post(url, dict(wire))
        results.append((status, answer))
        if status != 200:
            return results
        if pipeline:
            pipeline.observe(sent, answer)
        content = answer["output"]["message"]["content"]
        messages.append({"role": "assistant", "content": keep(content) if keep else content})
        uses = [b["toolUse"] for b in content if "toolUse" in b]
        if not uses:
            return results
        messages.append(
            {
                "role": "user",
                "content": [
                    {"toolResult": {"toolUseId": u["toolUseId"], "content": [{"text": "ok"}]}}
                    for u in uses
                ],
            }
        )
    return results


def gemini_loop(
    emulator: Emulator,
    model: str,
    pipeline: Pipeline | None,
    *,
    keep: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
    observe: bool = True,
    base: str | None = None,
) -> list[tuple[int, Any]]:
    """An agent on Gemini's native generateContent that calls pipe(req) / pipe.observe(...);
    the model goes in the URL (the Request carries it as body["model"]); ``keep`` shapes the
    parts it keeps of each answer; ``base`` is where it posts ``/v1beta/models/...``
    (default: the emulator)."""
    url = f"{base or emulator.base_url}/v1beta/models/{model}:generateContent"
    contents: list[dict[str, Any]] = [{"role": "user", "parts": [{"text": "go"}]}]
    results = []
    for _ in range(8):
        body = {"model": model, "contents": contents, "tools": [{"functionDeclarations": []}]}
        request = Request(api="gemini", body=body)
        sent = pipeline(request) if pipeline else request
        wire, in_url = for_the_wire("gemini", sent.body)
        assert in_url == model
        status, answer = post(url, dict(wire))
        results.append((status, answer))
        if status != 200:
            return results
        if pipeline and observe:
            pipeline.observe(sent, answer)
        parts = answer["candidates"][0]["content"]["parts"]
        contents.append({"role": "model", "parts": keep(parts) if keep else parts})
        calls = [p["functionCall"] for p in parts if "functionCall" in p]
        if not calls:
            return results
        contents.append(
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": c["name"], "response": {"ok": True}}}
                    for c in calls
                ],
            }
        )
    return results
